"""The custom bus with its archive, one SQS queue + DLQ per declared queue, and the rules."""
from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import Duration, RemovalPolicy, Stack, aws_events as events, aws_iam as iam, aws_sqs as sqs
from constructs import Construct

from chalicelib.runtime import resources
from infra.inventory import Inventory
from infra.stages import StageConfig

DLQ_RETENTION = Duration.days(14)


@dataclass(frozen=True)
class QueuePair:
    queue: sqs.Queue
    dlq: sqs.Queue | None


def bus(scope: Construct, config: StageConfig, inventory: Inventory) -> events.EventBus:
    bus = events.EventBus(scope, "Bus", event_bus_name=resources.physical_name(config.stage, inventory.event_bus))
    bus.archive("Archive", archive_name=resources.physical_name(config.stage, "archive"),
                description="Every MotCua event, for replay",
                event_pattern=events.EventPattern(account=[Stack.of(scope).account]),
                retention=Duration.days(config.event_archive_retention_days))
    return bus


def plain_queue(scope: Construct, id: str, name: str, **extra: object) -> sqs.Queue:
    """SSE, TLS only, named for the stage; queues hold no data worth keeping past a teardown."""
    return sqs.Queue(scope, id, queue_name=name, encryption=sqs.QueueEncryption.SQS_MANAGED, enforce_ssl=True,
                     removal_policy=RemovalPolicy.DESTROY, **extra)


def queues(scope: Construct, config: StageConfig, inventory: Inventory) -> dict[str, QueuePair]:
    built = {}
    for queue in inventory.deployed_queues:
        dlq = plain_queue(scope, f"Dlq-{queue.name}", resources.physical_name(config.stage, queue.dlq_name),
                          retention_period=DLQ_RETENTION) if queue.has_dlq else None
        main = plain_queue(
            scope, f"Queue-{queue.name}", resources.physical_name(config.stage, queue.name),
            visibility_timeout=Duration.seconds(inventory.visibility_timeout(queue)),
            dead_letter_queue=sqs.DeadLetterQueue(queue=dlq, max_receive_count=queue.max_receive_count) if dlq else None)
        built[queue.name] = QueuePair(main, dlq)
    return built


def rules(scope: Construct, config: StageConfig, inventory: Inventory, bus: events.EventBus,
          queues: dict[str, QueuePair]) -> dict[str, events.CfnRule]:
    """Each rule's pattern goes into the template exactly as declared (the L2 Rule would
    re-shape it), with the queue as target and the queue's DLQ for failed deliveries."""
    built = {}
    for rule in inventory.deployed_rules:
        pair = queues[rule.queue]
        target = events.CfnRule.TargetProperty(
            id=rule.queue, arn=pair.queue.queue_arn,
            dead_letter_config=events.CfnRule.DeadLetterConfigProperty(arn=pair.dlq.queue_arn) if pair.dlq else None,
            retry_policy=events.CfnRule.RetryPolicyProperty(maximum_event_age_in_seconds=86_400,
                                                            maximum_retry_attempts=185))
        cfn = events.CfnRule(scope, f"Rule-{rule.name}", name=resources.physical_name(config.stage, rule.name),
                             event_bus_name=bus.event_bus_name, event_pattern=rule.pattern, state="ENABLED",
                             targets=[target])
        for destination in filter(None, (pair.queue, pair.dlq)):
            destination.add_to_resource_policy(iam.PolicyStatement(
                principals=[iam.ServicePrincipal("events.amazonaws.com")], actions=["sqs:SendMessage"],
                resources=[destination.queue_arn], conditions={"ArnEquals": {"aws:SourceArn": cfn.attr_arn}}))
        built[rule.name] = cfn
    return built
