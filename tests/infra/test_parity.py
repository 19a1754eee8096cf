"""The local stack (motcua.provision in moto) and the synthesized template describe the same
tables, indexes, bus, rules and queues: same names modulo the stage, keys, indexes and patterns.

Known, declared differences: queues marked ``local_only`` (and the rules feeding them) exist
only locally, and each stream consumer's failures queue exists only in AWS, where Lambda's
event source mapping needs it; the local dispatcher re-delivers instead.
"""
from __future__ import annotations

import json
from typing import Any

from chalicelib.runtime import resources
from chalicelib.runtime.settings import settings
from infra.assembly import Assembly


def _unstage(name: str, stage: str) -> str:
    prefix = resources.physical_name(stage, "")
    assert name.startswith(prefix), name
    return name[len(prefix):]


def _table_shape(description: dict[str, Any], ttl: str | None) -> dict[str, Any]:
    def keys(schema: list[dict[str, str]]) -> list[tuple[str, str]]:
        return sorted((k["AttributeName"], k["KeyType"]) for k in schema)
    return {
        "keys": keys(description["KeySchema"]),
        "attributes": sorted((a["AttributeName"], a["AttributeType"]) for a in description["AttributeDefinitions"]),
        "indexes": sorted((i["IndexName"], keys(i["KeySchema"]), i["Projection"]["ProjectionType"])
                          for i in description.get("GlobalSecondaryIndexes", [])),
        "stream": (description.get("StreamSpecification") or {}).get("StreamViewType"),
        "ttl": ttl,
    }


def local_stack(session: Any) -> dict[str, Any]:
    stage = settings().stage
    ddb, events, sqs = (session.client(s, region_name=settings().region) for s in ("dynamodb", "events", "sqs"))
    tables = {}
    for name in ddb.list_tables()["TableNames"]:
        ttl = ddb.describe_time_to_live(TableName=name)["TimeToLiveDescription"]
        tables[_unstage(name, stage)] = _table_shape(
            ddb.describe_table(TableName=name)["Table"],
            ttl.get("AttributeName") if ttl.get("TimeToLiveStatus") == "ENABLED" else None)
    arn_to_queue = {}
    queues = {}
    for url in sqs.list_queues()["QueueUrls"]:
        attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
        arn_to_queue[attrs["QueueArn"]] = _unstage(attrs["QueueArn"].rsplit(":", 1)[1], stage)
        queues[arn_to_queue[attrs["QueueArn"]]] = json.loads(attrs["RedrivePolicy"]) if "RedrivePolicy" in attrs else None
    queues = {name: (arn_to_queue[r["deadLetterTargetArn"]], int(r["maxReceiveCount"])) if r else None
              for name, r in queues.items()}
    buses = [_unstage(b["Name"], stage) for b in events.list_event_buses()["EventBuses"] if b["Name"] != "default"]
    rules = {}
    for bus in buses:
        bus_name = resources.physical_name(stage, bus)
        for rule in events.list_rules(EventBusName=bus_name)["Rules"]:
            targets = events.list_targets_by_rule(Rule=rule["Name"], EventBusName=bus_name)["Targets"]
            rules[_unstage(rule["Name"], stage)] = (bus, json.loads(rule["EventPattern"]),
                                                    sorted(arn_to_queue[t["Arn"]] for t in targets))
    return {"tables": tables, "buses": sorted(buses), "rules": rules, "queues": queues}


def template_stack(template_json: dict[str, Any], stage: str) -> dict[str, Any]:
    template = template_json["Resources"]

    def props(kind: str) -> dict[str, dict[str, Any]]:
        return {k: v["Properties"] for k, v in template.items() if v["Type"] == kind}

    tables = {_unstage(p["TableName"], stage): _table_shape(p, (p.get("TimeToLiveSpecification") or {}).get("AttributeName"))
              for p in props("AWS::DynamoDB::Table").values()}
    queue_names = {k: _unstage(p["QueueName"], stage) for k, p in props("AWS::SQS::Queue").items()}
    queues = {}
    for logical, p in props("AWS::SQS::Queue").items():
        redrive = p.get("RedrivePolicy")
        queues[queue_names[logical]] = (
            (queue_names[redrive["deadLetterTargetArn"]["Fn::GetAtt"][0]], redrive["maxReceiveCount"]) if redrive else None)
    bus_names = {k: _unstage(p["Name"], stage) for k, p in props("AWS::Events::EventBus").items()}
    rules = {}
    for p in props("AWS::Events::Rule").values():
        if "EventPattern" not in p:
            continue  # schedules: the local stack has no clock-driven jobs to compare
        bus = bus_names[p["EventBusName"]["Ref"]]
        rules[_unstage(p["Name"], stage)] = (bus, p["EventPattern"],
                                             sorted(queue_names[t["Arn"]["Fn::GetAtt"][0]] for t in p["Targets"]))
    return {"tables": tables, "buses": sorted(bus_names.values()), "rules": rules, "queues": queues}


def assert_parity(local: dict[str, Any], deployed: dict[str, Any]) -> None:
    local_only = {q.name for q in resources.QUEUES if q.local_only}
    local_only |= {q.dlq_name for q in resources.QUEUES if q.local_only and q.has_dlq}
    aws_only = {c.failures_queue for c in resources.STREAM_CONSUMERS}

    assert local["tables"] == deployed["tables"]
    assert local["buses"] == deployed["buses"] == [resources.EVENT_BUS]
    assert {n: r for n, r in local["rules"].items() if not set(r[2]) & local_only} == deployed["rules"]
    assert {n: q for n, q in local["queues"].items() if n not in local_only} == \
        {n: q for n, q in deployed["queues"].items() if n not in aws_only}
    # the exceptions are exactly the declared ones, and nothing else differs
    assert set(local["queues"]) - set(deployed["queues"]) == local_only
    assert set(deployed["queues"]) - set(local["queues"]) == aws_only
    assert len(local["tables"]) == len(resources.TABLES)


def test_local_stack_and_template_declare_the_same_resources(aws_env: Any, assembly: Assembly) -> None:
    assert_parity(local_stack(aws_env), template_stack(assembly.template, assembly.config.stage))
