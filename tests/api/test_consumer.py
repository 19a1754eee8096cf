"""The consumer base: idempotent per event id, partial batch failures, poison messages to the DLQ."""
from __future__ import annotations

import json
from typing import Any

from chalicelib.runtime import resources
from chalicelib.kernel.events import new_event
from handlers.consumer import Consumer
from motcua.dispatcher import LambdaContext, QueuePump


def sqs_record(event: dict[str, Any], message_id: str) -> dict[str, Any]:
    body = {"id": f"eb-{message_id}", "source": "motcua.dossiers", "detail-type": event["type"], "detail": event}
    return {"messageId": message_id, "receiptHandle": message_id, "body": json.dumps(body), "attributes": {},
            "messageAttributes": {}, "md5OfBody": "", "eventSource": "aws:sqs",
            "eventSourceARN": "arn:aws:sqs:local:000000000000:q", "awsRegion": "local"}


def event(version: int) -> dict[str, Any]:
    return new_event("DossierSubmitted", dossier_code="000.00.13.H50-261121-0001", version=version,
                     occurred_at="2026-11-21T10:00:00+07:00", agency_id="000.00.13.H50",
                     procedure_code="1.001023", status="submitted", data={})


def test_a_duplicated_event_is_processed_once(aws_env):
    seen: list[int] = []
    consumer = Consumer("test-consumer", lambda e: seen.append(e["version"]))
    first, second = event(1), event(2)
    batch = {"Records": [sqs_record(first, "m1"), sqs_record(second, "m2"), sqs_record(first, "m3")]}
    assert consumer.handler(batch, LambdaContext("test-consumer")) == {"batchItemFailures": []}
    # a later redelivery (publisher re-sent the outbox event under a new EventBridge id)
    assert consumer.handler({"Records": [sqs_record(second, "m4")]}, LambdaContext("test-consumer")) == {"batchItemFailures": []}
    assert seen == [1, 2]


def test_one_failing_record_fails_alone(aws_env):
    seen: list[int] = []

    def process(e: dict[str, Any]) -> None:
        if e["version"] == 2:
            raise RuntimeError("downstream refused")
        seen.append(e["version"])

    consumer = Consumer("test-partial", process)
    batch = {"Records": [sqs_record(event(1), "m1"), sqs_record(event(2), "m2"), sqs_record(event(3), "m3")]}
    assert consumer.handler(batch, LambdaContext("test-partial")) == {"batchItemFailures": [{"itemIdentifier": "m2"}]}
    assert seen == [1, 3]


def test_a_poison_message_reaches_the_dlq_without_blocking_others(aws_env, monkeypatch):
    """Through a real queue with a redrive policy, driven by the dispatcher's queue pump."""
    from chalicelib.runtime.settings import settings
    from motcua.provision import create_queue

    queue = resources.Queue(name="test-poison", max_receive_count=2)
    sqs = aws_env.client("sqs")
    url = create_queue(sqs, queue, settings())
    seen: list[int] = []
    consumer = Consumer("test-poison", lambda e: seen.append(e["version"]))
    sqs.send_message(QueueUrl=url, MessageBody="not json at all")
    good = event(1)
    sqs.send_message(QueueUrl=url, MessageBody=json.dumps({"detail": good}))
    pump = QueuePump(resources.QueueConsumer("test-poison", queue.name, "handlers.consumer:unused"),
                     settings(), aws_env, handler=consumer.handler)
    for _ in range(6):
        pump.step()
    assert seen == [1]
    dlq = sqs.get_queue_url(QueueName=settings().name(queue.dlq_name))["QueueUrl"]
    dead = sqs.receive_message(QueueUrl=dlq, MaxNumberOfMessages=10).get("Messages", [])
    assert [m["Body"] for m in dead] == ["not json at all"]


def test_only_a_batch_with_failures_makes_the_sqs_client_for_backoff(aws_env, monkeypatch):
    """Backoff delays failed records only; a batch that succeeds never builds the SQS client
    (on a cold start that would load SQS's service model for nothing)."""
    from chalicelib.runtime import aws

    made: list[str] = []
    real = aws.client
    monkeypatch.setattr(aws, "client", lambda service: made.append(service) or real(service))
    queue = resources.Queue(name="test-backoff", retry_backoff=(30, 3600))
    ok = Consumer("test-backoff-ok", lambda e: None, queue=queue)
    assert ok.handler({"Records": [sqs_record(event(1), "m1")]}, LambdaContext("ok")) == {"batchItemFailures": []}
    assert "sqs" not in made

    def fail(e: dict[str, Any]) -> None:
        raise RuntimeError("provider down")

    failing = Consumer("test-backoff-failing", fail, queue=queue)
    response = failing.handler({"Records": [sqs_record(event(2), "m2")]}, LambdaContext("failing"))
    assert response == {"batchItemFailures": [{"itemIdentifier": "m2"}]}
    assert "sqs" in made  # to delay the failed record (the test queue does not exist: logged, not raised)
