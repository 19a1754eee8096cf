"""The stack follows whatever resources.py declares: a queue, rule, consumer and schedule
added there (as later issues do) get their queue + DLQ, mapping, role, alarms and parity
with the local stack without any change to infra/. Built in-process without the API."""
from __future__ import annotations

import json
from typing import Any
from collections.abc import Iterator

import pytest

from chalicelib.runtime import resources
from infra.inventory import Inventory
from infra.stages import load

NOTIFY = resources.Queue(name="notify", visibility_timeout=30)
ON_ACCEPT = resources.Rule(name="notify-on-accept", queue=NOTIFY.name, pattern={
    "source": [{"prefix": resources.EVENT_SOURCE_PREFIX}], "detail-type": ["DossierAccepted"]})
NOTIFIER = resources.QueueConsumer(name="notifier", queue=NOTIFY.name, handler="handlers.notifier:handler",
                                   timeout=40, tables=(resources.DOSSIERS.name,), secrets=(resources.ZALO_SECRET.name,))
SWEEP = resources.Schedule(name="payment-sweep", handler="handlers.sweep:handler", expression="rate(5 minutes)",
                           tables=(resources.DOSSIERS.name,), secrets=(resources.VNPAY_SECRET.name,))
EXTENDED = dict(queues=(*resources.QUEUES, NOTIFY), rules=(*resources.RULES, ON_ACCEPT),
                queue_consumers=(NOTIFIER,), schedules=(SWEEP,), invoked=())


@pytest.fixture(scope="module")
def built() -> dict[str, Any]:
    import aws_cdk as cdk
    from aws_cdk import aws_lambda as lambda_

    from infra.main import FEATURE_FLAGS
    from infra.stack import MotCuaStack

    app = cdk.App(context=FEATURE_FLAGS)
    stack = MotCuaStack(app, load("dev"), inventory=Inventory.declared(**EXTENDED),
                        code=lambda_.Code.from_inline("def handler(event, context):\n    return {}\n"))
    return app.synth().get_stack_by_name(stack.stack_name).template


def _props(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {k: v["Properties"] for k, v in template["Resources"].items() if v["Type"] == kind}


def _by_name(template: dict[str, Any], kind: str, key: str, name: str) -> tuple[str, dict[str, Any]]:
    return next((k, p) for k, p in _props(template, kind).items() if p.get(key) == resources.physical_name("dev", name))


def _policy_of(template: dict[str, Any], function: str) -> list[dict[str, Any]]:
    _, fn = _by_name(template, "AWS::Lambda::Function", "FunctionName", function)
    role = template["Resources"][fn["Role"]["Fn::GetAtt"][0]]["Properties"]
    statements = [s for p in role.get("Policies", []) for s in p["PolicyDocument"]["Statement"]]
    for policy in _props(template, "AWS::IAM::Policy").values():
        if {"Ref": fn["Role"]["Fn::GetAtt"][0]} in policy["Roles"]:
            statements += policy["PolicyDocument"]["Statement"]
    return statements


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _actions(statement: dict[str, Any]) -> list[str]:
    return _listed(statement["Action"])


def test_a_new_consumer_gets_a_queue_with_dlq_and_a_partial_batch_mapping(built: dict[str, Any]) -> None:
    queue_id, queue = _by_name(built, "AWS::SQS::Queue", "QueueName", NOTIFY.name)
    dlq_id, _ = _by_name(built, "AWS::SQS::Queue", "QueueName", NOTIFY.dlq_name)
    assert queue["RedrivePolicy"] == {"deadLetterTargetArn": {"Fn::GetAtt": [dlq_id, "Arn"]},
                                      "maxReceiveCount": NOTIFY.max_receive_count}
    assert queue["VisibilityTimeout"] == 6 * NOTIFIER.timeout
    [mapping] = [m for m in _props(built, "AWS::Lambda::EventSourceMapping").values()
                 if m["EventSourceArn"] == {"Fn::GetAtt": [queue_id, "Arn"]}]
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert mapping["BatchSize"] == NOTIFIER.batch_size


def test_a_new_rule_carries_its_pattern_to_its_queue_with_the_dlq_for_failed_deliveries(built: dict[str, Any]) -> None:
    queue_id, _ = _by_name(built, "AWS::SQS::Queue", "QueueName", NOTIFY.name)
    dlq_id, _ = _by_name(built, "AWS::SQS::Queue", "QueueName", NOTIFY.dlq_name)
    _, rule = _by_name(built, "AWS::Events::Rule", "Name", ON_ACCEPT.name)
    assert rule["EventPattern"] == ON_ACCEPT.pattern
    assert rule["Targets"][0]["Arn"] == {"Fn::GetAtt": [queue_id, "Arn"]}
    assert rule["Targets"][0]["DeadLetterConfig"] == {"Arn": {"Fn::GetAtt": [dlq_id, "Arn"]}}
    policies = [p for p in _props(built, "AWS::SQS::QueuePolicy").values() if {"Ref": queue_id} in p["Queues"]]
    assert any(s["Principal"] == {"Service": "events.amazonaws.com"} for p in policies
               for s in p["PolicyDocument"]["Statement"])


def test_a_schedule_runs_its_handler_at_its_rate(built: dict[str, Any]) -> None:
    fn_id, fn = _by_name(built, "AWS::Lambda::Function", "FunctionName", SWEEP.name)
    _, rule = _by_name(built, "AWS::Events::Rule", "Name", SWEEP.name)
    assert rule["ScheduleExpression"] == SWEEP.expression
    assert rule["Targets"][0]["Arn"] == {"Fn::GetAtt": [fn_id, "Arn"]}
    assert fn["Handler"] == "handlers.sweep.handler" and fn["Timeout"] == SWEEP.timeout


def test_roles_hold_only_what_each_function_declares(built: dict[str, Any]) -> None:
    tables = {name: _by_name(built, "AWS::DynamoDB::Table", "TableName", name)[0]
              for name in (t.name for t in resources.TABLES)}
    notifier = _policy_of(built, NOTIFIER.name)
    data = [s for s in notifier if any(a.startswith("dynamodb:") for a in _actions(s))]
    touched = {json.dumps(r) for s in data for r in _listed(s["Resource"])}
    assert any(tables["dossiers"] in r for r in touched)
    assert any(tables["idempotency"] in r for r in touched)  # the Consumer base always records there
    assert not any(tables["catalogue"] in r for r in touched)
    secrets = [r for s in notifier if "secretsmanager:GetSecretValue" in _actions(s) for r in _listed(s["Resource"])]
    assert len(secrets) == 1 and "zalo" in json.dumps(secrets)
    assert not any("events:PutEvents" in _actions(s) for s in notifier)

    publisher = {a for s in _policy_of(built, resources.PUBLISHER.name) for a in _actions(s)}
    assert not publisher & {"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:Query"}
    assert "events:PutEvents" in publisher and "dynamodb:GetRecords" in publisher  # the stream, nothing more


def test_every_function_is_alarmed_on_errors_and_throttles(built: dict[str, Any]) -> None:
    watched = {a["Dimensions"][0]["Value"] for a in _props(built, "AWS::CloudWatch::Alarm").values()
               if a.get("MetricName") in ("Errors", "Throttles")}
    assert watched == {resources.physical_name("dev", n) for n in (NOTIFIER.name, SWEEP.name, resources.PUBLISHER.name)}


def test_dev_tables_can_be_deleted_with_the_stack(built: dict[str, Any]) -> None:
    for table in _props(built, "AWS::DynamoDB::Table").values():
        assert table["DeletionProtectionEnabled"] is False
        assert table["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}


def test_references_to_undeclared_resources_are_refused_before_building() -> None:
    bad = NOTIFIER._replace(queue="nope", tables=("ghost",), secrets=("unknown",))
    with pytest.raises(ValueError) as raised:
        Inventory.declared(queue_consumers=(bad,)).check()
    message = str(raised.value)
    assert "'nope'" in message and "'ghost'" in message and "'unknown'" in message


@pytest.fixture
def extended_resources(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name, value in EXTENDED.items():
        monkeypatch.setattr(resources, name.upper(), value)
    yield


def test_parity_holds_for_queues_and_rules_added_later(extended_resources: None, aws_env: Any,
                                                       built: dict[str, Any]) -> None:
    from tests.infra.test_parity import assert_parity, local_stack, template_stack

    local, deployed = local_stack(aws_env), template_stack(built, "dev")
    assert_parity(local, deployed)
    assert ON_ACCEPT.name in deployed["rules"] and NOTIFY.name in deployed["queues"]
