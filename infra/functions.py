"""The consumers and scheduled jobs as plain Lambda functions, and every function's role.

Chalice cannot express the custom bus or partial batch responses, so the consumers in
handlers/ are defined here. Every function gets its own role holding exactly what its
resources.py entry declares: named actions on named resources, never ``"*"``.
"""
from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import ArnFormat, Duration, RemovalPolicy, Stack, aws_dynamodb as ddb, aws_events as events, aws_iam as iam
from aws_cdk import aws_events_targets as targets, aws_lambda as lambda_, aws_lambda_event_sources as sources
from aws_cdk import aws_logs as logs, aws_s3 as s3, aws_secretsmanager as sm, aws_sqs as sqs
from constructs import Construct

from chalicelib.runtime import resources
from infra.inventory import Inventory
from infra.messaging import DLQ_RETENTION, QueuePair, plain_queue
from infra.stages import StageConfig

# Every function, the Chalice API included (infra/api.py), runs the CPython the package is built
# for: infra/package.py PYTHON_VERSION (tests/infra/test_runtimes.py holds the two together).
RUNTIME = lambda_.Runtime.PYTHON_3_13
ARCHITECTURE = lambda_.Architecture.X86_64
Declared = resources.StreamConsumer | resources.QueueConsumer | resources.Schedule | resources.Invoked

TABLE_ACTIONS = ("dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query", "dynamodb:PutItem",
                 "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem",
                 "dynamodb:ConditionCheckItem", "dynamodb:DescribeTable")
# HEAD and presigned GETs need GetObject; writes and presigned PUTs need PutObject.
READ_OBJECT, WRITE_OBJECT, DELETE_OBJECT = "s3:GetObject", "s3:PutObject", "s3:DeleteObject"
# An append-only table (the audit log): writers may only add items (a Put inside a transaction
# is authorised as PutItem); the functions it names in ``queried_by`` may also Query it.
APPEND_ONLY_WRITE = ("dynamodb:PutItem",)
APPEND_ONLY_READ = ("dynamodb:Query",)


@dataclass
class Shared:
    """What every function may be granted access to."""
    config: StageConfig
    tables: dict[str, ddb.Table]
    declared_tables: dict[str, resources.Table]
    bus: events.EventBus
    secrets: dict[str, sm.Secret]
    bucket: s3.Bucket
    environment: dict[str, str]


def function_name(config: StageConfig, name: str) -> str:
    return resources.physical_name(config.stage, name)


def role(scope: Construct, id: str, shared: Shared, name: str, *, tables: tuple[str, ...] | None,
         secrets: tuple[str, ...], publishes: bool, objects: tuple[resources.Objects, ...] = (),
         writes_secrets: tuple[str, ...] = (), invokes: tuple[str, ...] = ()) -> iam.Role:
    """A role for the function ``name`` with logs to its own group, X-Ray, and what it declares."""
    stack = Stack.of(scope)
    statements = [
        iam.PolicyStatement(actions=["logs:CreateLogStream", "logs:PutLogEvents"], resources=[
            stack.format_arn(service="logs", resource="log-group",
                             resource_name=f"/aws/lambda/{function_name(shared.config, name)}:*",
                             arn_format=ArnFormat.COLON_RESOURCE_NAME)]),
        iam.PolicyStatement(actions=["xray:PutTraceSegments", "xray:PutTelemetryRecords"], resources=["*"]),
    ]
    statements += _table_statements(shared, name, shared.tables if tables is None else {t: shared.tables[t] for t in tables})
    if publishes:
        statements.append(iam.PolicyStatement(actions=["events:PutEvents"], resources=[shared.bus.event_bus_arn]))
    if secrets:
        statements.append(iam.PolicyStatement(
            actions=["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"],
            resources=[shared.secrets[s].secret_arn for s in secrets]))
    if writes_secrets:
        statements.append(iam.PolicyStatement(
            actions=["secretsmanager:PutSecretValue"], resources=[shared.secrets[s].secret_arn for s in writes_secrets]))
    if invokes:
        statements.append(iam.PolicyStatement(actions=["lambda:InvokeFunction"], resources=[
            stack.format_arn(service="lambda", resource="function", resource_name=function_name(shared.config, name),
                             arn_format=ArnFormat.COLON_RESOURCE_NAME) for name in invokes]))
    for access in objects:
        actions = [action for action, wanted in ((READ_OBJECT, access.read), (WRITE_OBJECT, access.write),
                                                        (DELETE_OBJECT, access.delete)) if wanted]
        statements.append(iam.PolicyStatement(actions=actions,
                                              resources=[shared.bucket.arn_for_objects(f"{access.prefix}*")]))
    return iam.Role(scope, id, assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
                    description=f"MotCua {shared.config.stage}: {name}",
                    inline_policies={"least-privilege": iam.PolicyDocument(statements=statements)})


def _table_statements(shared: Shared, name: str, chosen: dict[str, ddb.Table]) -> list[iam.PolicyStatement]:
    """Full item access to ordinary tables; PutItem (and Query for its readers) on append-only ones."""
    def arns(names: list[str], indexes: bool = True) -> list[str]:
        return [arn for t in names for arn in (chosen[t].table_arn, *([f"{chosen[t].table_arn}/index/*"] * indexes))]

    append_only = [t for t in chosen if shared.declared_tables[t].append_only]
    ordinary = [t for t in chosen if t not in append_only]
    readers = [t for t in append_only if name in shared.declared_tables[t].queried_by]
    statements = [iam.PolicyStatement(actions=list(TABLE_ACTIONS), resources=arns(ordinary))] if ordinary else []
    if append_only:
        statements.append(iam.PolicyStatement(actions=list(APPEND_ONLY_WRITE), resources=arns(append_only, False)))
    if readers:
        statements.append(iam.PolicyStatement(actions=list(APPEND_ONLY_READ), resources=arns(readers)))
    return statements


def logs_removal(config: StageConfig) -> RemovalPolicy:
    """A stage that protects its data from deletion (prod) keeps its logs when the stack goes:
    they are the evidence of what the functions did."""
    return RemovalPolicy.RETAIN if config.deletion_protection else RemovalPolicy.DESTROY


def log_group(scope: Construct, id: str, config: StageConfig, name: str) -> logs.LogGroup:
    """The function's log group, created up front so that it has the stage's retention."""
    group = logs.LogGroup(scope, id, log_group_name=f"/aws/lambda/{name}", removal_policy=logs_removal(config))
    group.node.default_child.retention_in_days = config.log_retention_days  # any value CloudWatch allows
    return group


def _tables(declared: Declared) -> tuple[str, ...] | None:
    """Queue consumers run handlers.consumer.Consumer, which records processed event ids in
    the idempotency table, so they always get that table besides what they list."""
    if declared.tables is None or not isinstance(declared, resources.QueueConsumer):
        return declared.tables
    return tuple(dict.fromkeys((*declared.tables, resources.IDEMPOTENCY.name)))


def _function(scope: Construct, shared: Shared, code: lambda_.Code, declared: Declared) -> lambda_.Function:
    config = shared.config
    name = function_name(config, declared.name)
    module, _, attribute = declared.handler.partition(":")
    return lambda_.Function(
        scope, f"Fn-{declared.name}", function_name=name, code=code, handler=f"{module}.{attribute}",
        runtime=RUNTIME, architecture=ARCHITECTURE,
        memory_size=declared.memory or config.consumer_memory_mb, timeout=Duration.seconds(declared.timeout),
        reserved_concurrent_executions=1 if _single(declared) else config.consumer_reserved_concurrency,
        tracing=lambda_.Tracing.ACTIVE, log_group=log_group(scope, f"Logs-{declared.name}", config, name),
        environment={**shared.environment, "POWERTOOLS_SERVICE_NAME": declared.name},
        role=role(scope, f"Role-{declared.name}", shared, declared.name, tables=_tables(declared),
                  secrets=declared.secrets, publishes=declared.publishes, objects=declared.objects,
                  writes_secrets=declared.writes_secrets if isinstance(declared, resources.Schedule) else ()),
    )


def _single(declared: Declared) -> bool:
    return isinstance(declared, resources.Schedule) and declared.single


@dataclass
class Consumers:
    functions: dict[str, lambda_.Function]
    failures: dict[str, sqs.Queue]          # where a stream consumer's hopeless batches are reported


def consumers(scope: Construct, shared: Shared, code: lambda_.Code, inventory: Inventory,
              queues: dict[str, QueuePair], bundles: dict[str, lambda_.Code] | None = None) -> Consumers:
    """Stream consumers, queue consumers, schedules and the functions the API invokes, each
    wired to what feeds it. Each runs
    ``code`` (the shared package), or its bundle's package when ``bundles`` holds them."""
    built: dict[str, lambda_.Function] = {}
    failed: dict[str, sqs.Queue] = {}

    def package(declared: Declared) -> lambda_.Code:
        return code if bundles is None or declared.bundle is None else bundles[declared.bundle]

    for consumer in inventory.stream_consumers:
        function = built[consumer.name] = _function(scope, shared, package(consumer), consumer)
        failures = failed[consumer.failures_queue] = plain_queue(scope, f"Failures-{consumer.name}",
                               function_name(shared.config, consumer.failures_queue), retention_period=DLQ_RETENTION)
        function.add_event_source(sources.DynamoEventSource(
            shared.tables[consumer.table], starting_position=lambda_.StartingPosition.TRIM_HORIZON,
            batch_size=consumer.batch_size, report_batch_item_failures=True, bisect_batch_on_error=True,
            retry_attempts=consumer.retry_attempts, on_failure=sources.SqsDlq(failures),
            filters=[lambda_.FilterCriteria.filter(consumer.filter_pattern)] if consumer.filter_pattern else None))
    for consumer in inventory.queue_consumers:
        function = built[consumer.name] = _function(scope, shared, package(consumer), consumer)
        function.add_event_source(sources.SqsEventSource(
            queues[consumer.queue].queue, batch_size=consumer.batch_size, report_batch_item_failures=True))
    for schedule in inventory.schedules:
        function = built[schedule.name] = _function(scope, shared, package(schedule), schedule)
        events.Rule(scope, f"Schedule-{schedule.name}", rule_name=function_name(shared.config, schedule.name),
                    schedule=events.Schedule.expression(schedule.expression),
                    targets=[targets.LambdaFunction(function, retry_attempts=2)])
    for invoked in inventory.invoked:          # called by the API (infra/api.py grants it), nothing feeds it
        built[invoked.name] = _function(scope, shared, package(invoked), invoked)
    return Consumers(built, failed)
