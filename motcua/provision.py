"""Create every resource of chalicelib.runtime.resources in an AWS endpoint (moto, locally).

This is the local stack's half of the single resource list; infra/ is the other half.
"""
from __future__ import annotations

import json
from typing import Any

from chalicelib.runtime import resources
from chalicelib.runtime.settings import Settings


def create_table(ddb: Any, table: resources.Table, name: str) -> None:
    keys = [{"AttributeName": table.pk, "KeyType": "HASH"}]
    if table.sk:
        keys.append({"AttributeName": table.sk, "KeyType": "RANGE"})
    params: dict[str, Any] = {
        "TableName": name,
        "KeySchema": keys,
        "AttributeDefinitions": [{"AttributeName": a, "AttributeType": "S"} for a in table.key_attributes()],
        "BillingMode": "PAY_PER_REQUEST",
    }
    if table.indexes:
        params["GlobalSecondaryIndexes"] = [
            {
                "IndexName": index.name,
                "KeySchema": [{"AttributeName": index.pk, "KeyType": "HASH"}]
                + ([{"AttributeName": index.sk, "KeyType": "RANGE"}] if index.sk else []),
                "Projection": {"ProjectionType": "ALL"},
            }
            for index in table.indexes
        ]
    if table.stream:
        params["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": table.stream}
    ddb.create_table(**params)
    if table.ttl_attribute:
        ddb.update_time_to_live(TableName=name, TimeToLiveSpecification={
            "Enabled": True, "AttributeName": table.ttl_attribute})


def create_queue(sqs: Any, queue: resources.Queue, cfg: Settings) -> str:
    attributes = {"VisibilityTimeout": str(resources.visibility_timeout(queue))}
    if queue.has_dlq:
        dlq_url = sqs.create_queue(QueueName=cfg.name(queue.dlq_name))["QueueUrl"]
        dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        attributes["RedrivePolicy"] = json.dumps(
            {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": str(queue.max_receive_count)})
    return sqs.create_queue(QueueName=cfg.name(queue.name), Attributes=attributes)["QueueUrl"]


def provision(session: Any, cfg: Settings) -> None:
    """Create tables, bucket, bus, queues and rules. Fails if any already exists."""
    def client(service: str) -> Any:
        return session.client(service, region_name=cfg.region, endpoint_url=cfg.aws_endpoint_url)

    ddb, sqs, events, s3 = client("dynamodb"), client("sqs"), client("events"), client("s3")
    for table in resources.TABLES:
        create_table(ddb, table, cfg.name(table.name))
    for bucket in resources.BUCKETS:
        kwargs: dict[str, Any] = {"Bucket": cfg.name(bucket)}
        if cfg.region != "us-east-1":
            kwargs["CreateBucketConfiguration"] = {"LocationConstraint": cfg.region}
        s3.create_bucket(**kwargs)
    bus = cfg.name(resources.EVENT_BUS)
    events.create_event_bus(Name=bus)
    queue_arns = {}
    for queue in resources.QUEUES:
        url = create_queue(sqs, queue, cfg)
        queue_arns[queue.name] = sqs.get_queue_attributes(
            QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    from chalicelib.sync.adapters.channels import email_sender
    client("ses").verify_email_identity(EmailAddress=email_sender())  # SES sends only from verified senders
    for rule in resources.RULES:
        name = cfg.name(rule.name)
        events.put_rule(Name=name, EventBusName=bus, EventPattern=json.dumps(rule.pattern), State="ENABLED")
        events.put_targets(Rule=name, EventBusName=bus, Targets=[{"Id": rule.queue, "Arn": queue_arns[rule.queue]}])


def fresh_local_stack() -> Any:
    """Inside mock_aws: forget cached clients and the cached catalogue, create every resource
    and load the sample catalogue. Returns the boto3 session (tests and ``make bench``)."""
    import boto3

    from chalicelib.runtime import aws
    from chalicelib.catalogue.store import procedures as catalogue_store
    from chalicelib.runtime.settings import settings
    from motcua.seed import seed_catalogue

    aws.reset()
    catalogue_store.invalidate()
    session = boto3.session.Session()
    provision(session, settings())
    seed_catalogue()
    return session
