"""Outbox publisher: DynamoDB stream of the dossiers table -> the custom EventBridge bus.

At least once: entries go out in PutEvents batches of at most 10, entries that EventBridge
reports as failed are re-sent, and whatever still fails is returned as a batch item failure
so Lambda re-delivers the stream records from that point. A crash anywhere before that
return means the whole batch is delivered again; consumers deduplicate on the event id.

Powertools' BatchProcessor handles one record at a time, which would defeat the 10-entry
PutEvents batching, so the partial-failure response is built here by hand.
"""
from __future__ import annotations

import json
import time
from typing import Any
from collections.abc import Callable, Iterable

from aws_lambda_powertools import Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord

from chalicelib.runtime import aws
from chalicelib.runtime import resources
from chalicelib.runtime.settings import settings
from chalicelib.kernel.events import put_events_entry
from chalicelib.runtime.log import logger as make_logger

logger = make_logger("outbox-publisher")
metrics = Metrics(namespace="MotCua", service="outbox-publisher")

MAX_ENTRIES = 10
ATTEMPTS = 3


def outbox_events(records: Iterable[dict[str, Any]]) -> list[tuple[str, dict[str, Any]]]:
    """(stream sequence number, event) for every outbox INSERT in the batch."""
    found = []
    for raw in records:
        record = DynamoDBRecord(raw)
        if record.event_name is None or record.event_name.name != "INSERT":
            continue
        stream = record.dynamodb
        if stream is None or stream.sequence_number is None:
            continue
        keys = stream.keys or {}
        if not str(keys.get("sk", "")).startswith(resources.OUTBOX_PREFIX):
            continue
        image = stream.new_image or {}
        found.append((stream.sequence_number, json.loads(image["event"])))
    return found


def publish(events: list[tuple[str, dict[str, Any]]], *, sleep: Callable[[float], None] = time.sleep) -> list[str]:
    """Put every event on the bus; return the sequence numbers that could not be published."""
    bus = settings().name(resources.EVENT_BUS)
    client = aws.client("events")
    pending = list(events)
    for attempt in range(ATTEMPTS):
        failed: list[tuple[str, dict[str, Any]]] = []
        for start in range(0, len(pending), MAX_ENTRIES):
            chunk = pending[start:start + MAX_ENTRIES]
            try:
                result = client.put_events(Entries=[put_events_entry(event, bus) for _, event in chunk])
            except Exception:  # throttling, network, service errors: the whole chunk is retried
                logger.exception("PutEvents failed", extra={"attempt": attempt + 1, "entries": len(chunk)})
                failed.extend(chunk)
                continue
            failed.extend(item for item, entry in zip(chunk, result["Entries"], strict=True) if entry.get("ErrorCode"))
        metrics.add_metric(name="EventsPublished", unit=MetricUnit.Count, value=len(pending) - len(failed))
        if not failed:
            return []
        pending = failed
        if attempt + 1 < ATTEMPTS:
            sleep(0.1 * 2 ** attempt)
    logger.error("Events left unpublished; the stream will redeliver them",
                 extra={"event_ids": [event["id"] for _, event in pending]})
    return [sequence for sequence, _ in pending]


@metrics.log_metrics
@logger.inject_lambda_context
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    failed = publish(outbox_events(event.get("Records", [])))
    return {"batchItemFailures": [{"itemIdentifier": sequence} for sequence in failed]}
