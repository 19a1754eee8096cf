"""The synthesized prod template: cfn-lint, cdk-nag, and the properties the issue requires."""
from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any
from collections.abc import Iterator

import pytest

from chalicelib.runtime import resources
from infra.api import load_contract
from infra import checkov
from infra.assembly import Assembly

# The API and every declared function (consumers, schedules, and those the API invokes).
FUNCTIONS = 1 + len(resources.STREAM_CONSUMERS) + len(resources.QUEUE_CONSUMERS) + len(resources.SCHEDULES) \
    + len(resources.INVOKED)

def test_cfn_lint_finds_no_errors(assembly: Assembly) -> None:
    from cfnlint.api import lint

    path = assembly.outdir / f"{assembly.stack}.template.json"
    matches = lint(path.read_text(encoding="utf-8"), regions=[assembly.config.region])
    errors = [f"{m.rule.id} {m.message}" for m in matches if m.rule.id.startswith("E")]
    assert errors == []


def test_cdk_nag_aws_solutions_has_no_unsuppressed_finding(assembly: Assembly) -> None:
    findings = [entry["data"] for entries in assembly.metadata.values() for entry in entries
                if entry["type"] in ("aws:cdk:error", "aws:cdk:warning") and "AwsSolutions-" in str(entry["data"])]
    assert findings == []


def test_cdk_nag_ran_and_every_suppression_states_a_reason(assembly: Assembly) -> None:
    [report] = assembly.outdir.glob(f"AwsSolutions-*{assembly.stack}-NagReport.csv")
    rows = list(csv.DictReader(report.open(encoding="utf-8")))
    assert sum(row["Compliance"] == "Compliant" for row in rows) >= 10  # the pack really checked the stack
    suppressed = [row for row in rows if row["Compliance"] == "Suppressed"]
    assert suppressed, "expected the justified suppressions of infra/nag.py"
    assert all(len(row["Exception Reason"]) >= 40 for row in suppressed)
    assert not [row for row in rows if row["Compliance"] == "Non-Compliant"]


def test_checkov_finds_nothing_that_is_not_fixed_or_skipped_with_a_reason(assembly: Assembly, tmp_path: Path) -> None:
    assert checkov.failed_checks(assembly.template, tmp_path) == []


def test_every_checkov_skip_states_its_reason(assembly: Assembly) -> None:
    in_template = [skip for resource in assembly.template["Resources"].values()
                   for skip in resource.get("Metadata", {}).get("checkov", {}).get("skip", [])]
    assert in_template, "the access-log bucket's skips should be in the template"
    reasons = [*checkov.SKIPS.values(), *(skip["comment"] for skip in in_template)]
    assert all(len(reason) > 40 for reason in reasons)


def test_every_table_has_point_in_time_recovery_and_prod_deletion_protection(template: Any) -> None:
    template.all_resources_properties("AWS::DynamoDB::Table", {
        "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
        "BillingMode": "PAY_PER_REQUEST",
        "DeletionProtectionEnabled": True,
    })


def test_tables_have_the_declared_keys_indexes_streams_and_ttl(assembly: Assembly) -> None:
    built = {t["Properties"]["TableName"]: t["Properties"] for t in assembly.resources("AWS::DynamoDB::Table").values()}
    assert set(built) == {resources.physical_name("prod", t.name) for t in resources.TABLES}
    for table in resources.TABLES:
        props = built[resources.physical_name("prod", table.name)]
        assert {i["IndexName"] for i in props.get("GlobalSecondaryIndexes", [])} == {i.name for i in table.indexes}
        assert props.get("StreamSpecification", {}).get("StreamViewType") == table.stream
        assert props.get("TimeToLiveSpecification", {}).get("AttributeName") == table.ttl_attribute


def _dead_letter_targets(assembly: Assembly) -> set[str]:
    targets = set()
    for queue in assembly.resources("AWS::SQS::Queue").values():
        redrive = queue["Properties"].get("RedrivePolicy")
        if redrive:
            targets.add(redrive["deadLetterTargetArn"]["Fn::GetAtt"][0])
    for mapping in assembly.resources("AWS::Lambda::EventSourceMapping").values():
        failure = mapping["Properties"].get("DestinationConfig", {}).get("OnFailure", {}).get("Destination")
        if failure:
            targets.add(failure["Fn::GetAtt"][0])
    return targets


def test_every_queue_has_a_dead_letter_queue_or_is_one(assembly: Assembly) -> None:
    queues = assembly.resources("AWS::SQS::Queue")
    dead_letters = _dead_letter_targets(assembly)
    without = [name for name, q in queues.items() if "RedrivePolicy" not in q["Properties"] and name not in dead_letters]
    assert without == []
    assert dead_letters  # there are DLQs at all


def test_every_event_source_mapping_reports_batch_item_failures(template: Any, assembly: Assembly) -> None:
    template.all_resources_properties("AWS::Lambda::EventSourceMapping",
                                      {"FunctionResponseTypes": ["ReportBatchItemFailures"]})
    mappings = assembly.resources("AWS::Lambda::EventSourceMapping")
    assert len(mappings) == len(resources.STREAM_CONSUMERS) + len(resources.QUEUE_CONSUMERS)


def test_the_stream_mapping_filters_outbox_inserts_as_declared(assembly: Assembly) -> None:
    for mapping in assembly.resources("AWS::Lambda::EventSourceMapping").values():
        props = mapping["Properties"]
        if "StartingPosition" not in props:
            continue
        patterns = [json.loads(f["Pattern"]) for f in props["FilterCriteria"]["Filters"]]
        assert patterns == [resources.PUBLISHER.filter_pattern]


def test_no_bucket_is_public(template: Any, assembly: Assembly) -> None:
    template.all_resources_properties("AWS::S3::Bucket", {"PublicAccessBlockConfiguration": {
        "BlockPublicAcls": True, "BlockPublicPolicy": True, "IgnorePublicAcls": True, "RestrictPublicBuckets": True}})
    for policy in assembly.resources("AWS::S3::BucketPolicy").values():
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            assert not (statement["Effect"] == "Allow" and statement.get("Principal") in ("*", {"AWS": "*"}))


def test_the_attachments_bucket_is_encrypted_versioned_and_open_to_the_portal_origin_only(assembly: Assembly) -> None:
    buckets = [b["Properties"] for b in assembly.resources("AWS::S3::Bucket").values() if "CorsConfiguration" in b["Properties"]]
    assert len(buckets) == 1
    bucket = buckets[0]
    assert [r["AllowedOrigins"] for r in bucket["CorsConfiguration"]["CorsRules"]] == [[assembly.config.portal_origin]]
    assert bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert bucket["VersioningConfiguration"] == {"Status": "Enabled"}
    rules = {r["Id"]: r for r in bucket["LifecycleConfiguration"]["Rules"]}
    assert rules["retention"]["ExpirationInDays"] == assembly.config.attachment_retention_days


def _statements(assembly: Assembly) -> Iterator[dict[str, Any]]:
    for resource in assembly.template["Resources"].values():
        props = resource.get("Properties", {})
        documents = [props.get("PolicyDocument")] if resource["Type"] in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy") else []
        documents += [p["PolicyDocument"] for p in props.get("Policies", [])] if resource["Type"] == "AWS::IAM::Role" else []
        for document in filter(None, documents):
            yield from document["Statement"]


def test_no_iam_statement_allows_every_action(assembly: Assembly) -> None:
    statements = list(_statements(assembly))
    assert len(statements) > 10
    for statement in statements:
        actions = statement.get("Action", [])
        actions = [actions] if isinstance(actions, str) else actions
        assert "*" not in actions and not any(a.endswith(":*") for a in actions), statement


def test_each_function_has_its_own_role(assembly: Assembly) -> None:
    functions = {**assembly.resources("AWS::Lambda::Function"), **assembly.resources("AWS::Serverless::Function")}
    roles = [json.dumps(f["Properties"]["Role"]) for f in functions.values()]
    assert len(roles) == len(set(roles)) == FUNCTIONS


def test_protected_routes_use_the_cognito_authorizer_and_public_ones_do_not(assembly: Assembly) -> None:
    api = next(iter(assembly.resources("AWS::Serverless::Api").values()))["Properties"]["DefinitionBody"]
    contract = load_contract()["paths"]
    assert api["securityDefinitions"]["cognito"]["x-amazon-apigateway-authtype"] == "cognito_user_pools"
    checked = 0
    for path, operations in api["paths"].items():
        for method, operation in operations.items():
            if method == "options":   # the CORS preflight: a mock, browsers send no token on it
                continue
            public = contract[path][method].get("security") == []
            assert operation.get("security") == (None if public else [{"cognito": []}]), (method, path)
            checked += 1
    assert checked >= 10
    assert api["paths"]["/dossiers"]["post"]["security"] == [{"cognito": []}]
    assert "security" not in api["paths"]["/track/{code}"]["get"]


def test_every_path_answers_the_preflight_for_the_portal_origin_only_and_errors_carry_it(assembly: Assembly) -> None:
    api = next(iter(assembly.resources("AWS::Serverless::Api").values()))["Properties"]
    origin = "'https://dichvucong.example.vn'"
    for path, operations in api["DefinitionBody"]["paths"].items():
        preflight = operations["options"]
        assert preflight["security"] == [] and preflight["x-amazon-apigateway-integration"]["type"] == "mock", path
        headers = preflight["x-amazon-apigateway-integration"]["responses"]["default"]["responseParameters"]
        assert headers["method.response.header.Access-Control-Allow-Origin"] == origin, path
        allowed = set(headers["method.response.header.Access-Control-Allow-Methods"].strip("'").split(","))
        assert allowed == {m.upper() for m in operations} | {"OPTIONS"}, path
    for kind in ("DEFAULT_4XX", "DEFAULT_5XX"):
        assert api["GatewayResponses"][kind]["ResponseParameters"]["Headers"]["Access-Control-Allow-Origin"] == origin
    function = next(iter(assembly.resources("AWS::Serverless::Function").values()))["Properties"]
    assert function["Environment"]["Variables"]["MOTCUA_PORTAL_ORIGIN"] == "https://dichvucong.example.vn"


def test_no_sign_in_client_has_the_implicit_flow_the_admin_scope_or_a_foreign_callback(assembly: Assembly) -> None:
    clients = assembly.resources("AWS::Cognito::UserPoolClient").values()
    assert clients
    for client in clients:
        props = client["Properties"]
        assert "implicit" not in props.get("AllowedOAuthFlows", [])
        assert "aws.cognito.signin.user.admin" not in props.get("AllowedOAuthScopes", [])
        if not props.get("AllowedOAuthFlowsUserPoolClient"):
            assert not props.get("CallbackURLs") and not props.get("AllowedOAuthFlows"), props
        for url in props.get("CallbackURLs", []) + props.get("LogoutURLs", []):
            assert url.startswith(("https://dichvucong.example.vn/", "https://api.dichvucong.example.vn/")), url


def test_the_api_tells_the_dashboard_the_hosted_ui_and_its_own_client(assembly: Assembly) -> None:
    """prod sets auth_domain_prefix: GET /dashboard/config answers oidc with these."""
    import json
    function = next(iter(assembly.resources("AWS::Serverless::Function").values()))["Properties"]
    variables = function["Environment"]["Variables"]
    [client] = [name for name, resource in assembly.resources("AWS::Cognito::UserPoolClient").items()
                if resource["Properties"]["ClientName"].endswith("-dashboard")]
    assert variables["MOTCUA_DASHBOARD_CLIENT_ID"] == {"Ref": client}
    authority = json.dumps(variables["MOTCUA_SIGNIN_AUTHORITY"])
    assert "https://" in authority and "amazoncognito.com" in authority


def test_a_firewall_guards_the_api_with_the_managed_rules_and_a_rate_rule_per_address(assembly: Assembly) -> None:
    acl = next(iter(assembly.resources("AWS::WAFv2::WebACL").values()))["Properties"]
    managed = {r["Statement"]["ManagedRuleGroupStatement"]["Name"] for r in acl["Rules"] if "ManagedRuleGroupStatement" in r["Statement"]}
    assert {"AWSManagedRulesCommonRuleSet", "AWSManagedRulesKnownBadInputsRuleSet"} <= managed
    rate = next(r for r in acl["Rules"] if "RateBasedStatement" in r["Statement"])
    assert rate["Statement"]["RateBasedStatement"] == {"Limit": 2000, "AggregateKeyType": "IP"} and "Block" in rate["Action"]
    association = next(iter(assembly.resources("AWS::WAFv2::WebACLAssociation").values()))["Properties"]
    assert "/stages/api" in json.dumps(association["ResourceArn"])


def test_tables_are_backed_up_daily_for_as_long_as_the_audit_log_is_kept(assembly: Assembly) -> None:
    plan = next(iter(assembly.resources("AWS::Backup::BackupPlan").values()))["Properties"]["BackupPlan"]
    assert [rule["Lifecycle"]["DeleteAfterDays"] for rule in plan["BackupPlanRule"]] == [3650]
    selection = next(iter(assembly.resources("AWS::Backup::BackupSelection").values()))["Properties"]
    assert len(selection["BackupSelection"]["Resources"]) == len(assembly.resources("AWS::DynamoDB::Table"))


def test_prod_keeps_its_log_groups_when_the_stack_is_deleted(assembly: Assembly) -> None:
    groups = assembly.resources("AWS::Logs::LogGroup").values()
    assert groups and all(group.get("DeletionPolicy") == "Retain" for group in groups)


def test_functions_trace_and_name_their_powertools_service(assembly: Assembly) -> None:
    functions = {**assembly.resources("AWS::Lambda::Function"), **assembly.resources("AWS::Serverless::Function")}
    for function in functions.values():
        props = function["Properties"]
        assert props.get("Tracing") == "Active" or props.get("TracingConfig") == {"Mode": "Active"}
        env = props["Environment"]["Variables"]
        assert env["MOTCUA_STAGE"] == "prod" and env["POWERTOOLS_METRICS_NAMESPACE"] == resources.METRICS_NAMESPACE
        assert env["POWERTOOLS_SERVICE_NAME"]


def test_alarms_cover_dead_letters_errors_throttles_5xx_and_the_custom_metrics(assembly: Assembly) -> None:
    alarms = [a["Properties"] for a in assembly.resources("AWS::CloudWatch::Alarm").values()]
    names = {a.get("MetricName") for a in alarms}
    assert {"ApproximateNumberOfMessagesVisible", "Errors", "Throttles", "5XXError"} <= names
    assert {m.name for m in resources.ALARMED_METRICS} <= names
    functions = FUNCTIONS
    assert sum(a.get("MetricName") == "Errors" for a in alarms) == functions
    dead_letters = len(_dead_letter_targets(assembly))
    assert sum(a.get("MetricName") == "ApproximateNumberOfMessagesVisible" for a in alarms) == dead_letters
    assert all(a["AlarmActions"] for a in alarms)
    assert assembly.resources("AWS::CloudWatch::Dashboard")


def test_every_declared_secret_exists_for_the_stage(assembly: Assembly) -> None:
    names = {s["Properties"]["Name"] for s in assembly.resources("AWS::SecretsManager::Secret").values()}
    assert names == {resources.secret_name("prod", s.name) for s in resources.SECRETS}


@pytest.mark.parametrize("queue", [q for q in resources.QUEUES if not q.local_only], ids=lambda q: q.name)
def test_queue_visibility_covers_six_consumer_timeouts(assembly: Assembly, queue: resources.Queue) -> None:
    built = {q["Properties"]["QueueName"]: q["Properties"] for q in assembly.resources("AWS::SQS::Queue").values()}
    consumers = [c for c in resources.QUEUE_CONSUMERS if c.queue == queue.name]
    timeout = built[resources.physical_name("prod", queue.name)]["VisibilityTimeout"]
    assert all(timeout >= 6 * c.timeout for c in consumers)


def _object_access(assembly: Assembly, function: str) -> dict[str, set[str]]:
    """S3 action -> the key prefixes (``uploads/*``…) the function's role allows it on."""
    props = next(p for p in (r["Properties"] for kind in ("AWS::Lambda::Function", "AWS::Serverless::Function")
                             for r in assembly.resources(kind).values())
                 if p["FunctionName"] == resources.physical_name(assembly.config.stage, function))
    role = props["Role"]["Fn::GetAtt"][0] if "Fn::GetAtt" in props["Role"] else next(iter(props["Role"].values()))[0]
    access: dict[str, set[str]] = {}
    for policy in assembly.template["Resources"][role]["Properties"].get("Policies", []):
        for statement in policy["PolicyDocument"]["Statement"]:
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            for action in (a for a in actions if a.startswith("s3:")):
                arn = statement["Resource"]
                access.setdefault(action, set()).add(arn["Fn::Join"][1][-1].lstrip("/"))
    return access


def test_only_the_receipts_consumer_writes_receipts_and_the_api_only_reads_them(assembly: Assembly) -> None:
    assert _object_access(assembly, "receipts") == {"s3:PutObject": {"receipts/*"}}
    assert _object_access(assembly, "api") == {"s3:GetObject": {"uploads/*", "receipts/*"},
                                               "s3:PutObject": {"uploads/*"}}


def _roles_granting_on(assembly: Assembly, logical_id: str) -> dict[str, set[str]]:
    """Role logical id -> every action its policies allow on the resource ``logical_id``."""
    granted: dict[str, set[str]] = {}
    for name, resource in assembly.resources("AWS::IAM::Role").items():
        for policy in resource["Properties"].get("Policies", []):
            for statement in policy["PolicyDocument"]["Statement"]:
                if logical_id in json.dumps(statement.get("Resource")):
                    actions = statement["Action"]
                    granted.setdefault(name, set()).update([actions] if isinstance(actions, str) else actions)
    return granted


def test_the_audit_log_is_append_only_and_kept_for_the_stage_retention(assembly: Assembly) -> None:
    tables = assembly.resources("AWS::DynamoDB::Table")
    [(logical_id, audit)] = [(k, t) for k, t in tables.items()
                             if t["Properties"]["TableName"] == resources.physical_name("prod", resources.AUDIT.name)]
    assert audit["Properties"]["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert audit["Properties"]["DeletionProtectionEnabled"] is True and audit["DeletionPolicy"] == "Retain"
    assert audit["Properties"]["TimeToLiveSpecification"] == {"AttributeName": "expires_at", "Enabled": True}
    granted = _roles_granting_on(assembly, logical_id)
    declared = (*resources.STREAM_CONSUMERS, *resources.QUEUE_CONSUMERS, *resources.SCHEDULES, *resources.INVOKED)
    writers = ["api", *(f.name for f in declared if f.tables is None or resources.AUDIT.name in f.tables)]
    assert len(granted) == len(writers)  # the API and functions declaring every table or this one
    assert all(actions <= {"dynamodb:PutItem", "dynamodb:Query"} for actions in granted.values()), granted
    assert sum("dynamodb:Query" in actions for actions in granted.values()) == 1  # only the API reads it
    functions = {**assembly.resources("AWS::Lambda::Function"), **assembly.resources("AWS::Serverless::Function")}
    for function in functions.values():
        env = function["Properties"]["Environment"]["Variables"]
        assert env["MOTCUA_AUDIT_RETENTION_DAYS"] == str(assembly.config.audit_retention_days)


def test_only_the_zalo_token_schedule_writes_a_secret_and_it_runs_one_at_a_time(assembly: Assembly) -> None:
    secrets = {s["Properties"]["Name"]: k for k, s in assembly.resources("AWS::SecretsManager::Secret").items()}
    writers = {role for role, actions in _roles_granting_on(assembly, secrets["motcua/prod/zalo"]).items()
               if "secretsmanager:PutSecretValue" in actions}
    every_writer = {json.dumps(s.get("Resource")) for s in _statements(assembly)
                    if "secretsmanager:PutSecretValue" in json.dumps(s.get("Action"))}
    assert len(writers) == 1 and len(every_writer) == 1 and secrets["motcua/prod/zalo"] in every_writer.pop()
    functions = {**assembly.resources("AWS::Lambda::Function"), **assembly.resources("AWS::Serverless::Function")}
    [token] = [f["Properties"] for f in functions.values()
               if f["Properties"].get("FunctionName") == resources.physical_name("prod", resources.ZALO_TOKEN_SCHEDULE.name)]
    assert token["Role"]["Fn::GetAtt"][0] in writers and token["ReservedConcurrentExecutions"] == 1


def test_every_function_reaches_the_providers_the_stage_names_never_a_local_simulator(assembly: Assembly) -> None:
    functions = {**assembly.resources("AWS::Lambda::Function"), **assembly.resources("AWS::Serverless::Function")}
    assert len(functions) == FUNCTIONS
    for function in functions.values():
        env = function["Properties"]["Environment"]["Variables"]
        assert {k: env.get(k) for k in assembly.config.provider_settings} == dict(assembly.config.provider_settings)
        assert not any("127.0.0.1" in str(value) for value in env.values())


def test_api_gateways_own_answers_are_in_the_apis_error_shape(assembly: Assembly) -> None:
    """Issue 18's black-box rerun: a path no route serves got API Gateway's 403 "Missing
    Authentication Token" (repeating the Authorization header), a refused token its
    {"message": "Unauthorized"}; both now answer like the API, with the portal's CORS header."""
    api = next(iter(assembly.resources("AWS::Serverless::Api").values()))["Properties"]
    for kind, status, code in (("MISSING_AUTHENTICATION_TOKEN", "404", "route_not_found"),
                               ("UNAUTHORIZED", "401", "unauthenticated")):
        answer = api["GatewayResponses"][kind]
        body = json.loads(answer["ResponseTemplates"]["application/json"])
        assert answer["StatusCode"] == status and body["error"]["code"] == code, kind
        assert "Không" in body["error"]["message"] or "đăng nhập" in body["error"]["message"], kind
        assert answer["ResponseParameters"]["Headers"]["Access-Control-Allow-Origin"] == "'https://dichvucong.example.vn'"
