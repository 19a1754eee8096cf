"""Shared wiring for the SQS consumers of bus events (EventBridge rule -> SQS -> Lambda).

Each consumer supplies one function ``process(event)`` that receives MotCua's event
envelope (the EventBridge ``detail``). This module adds what every consumer must have:

* Powertools batch processing with partial batch failures: one poison message fails alone
  and reaches the DLQ after the queue's retries, while the rest of the batch succeeds;
* Powertools idempotency keyed on the envelope's ``id`` (not EventBridge's own id, which
  changes when the publisher re-sends the same outbox event). Records live in the
  ``idempotency`` table with a TTL; an INPROGRESS record left by a killed Lambda expires
  with the invocation's remaining time, because the Lambda context is registered;
* a JSON logger per consumer with the event id as correlation id.

Reordering is the consumer's business: it compares the envelope's per-dossier ``version``.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Callable

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer, IdempotencyConfig, idempotent_function,
)

from chalicelib import aws, resources
from chalicelib.config import settings

Process = Callable[[dict[str, Any]], Any]


def envelope(record: SQSRecord) -> dict[str, Any]:
    """MotCua's event from an SQS record whose body is an EventBridge event."""
    body = json.loads(record.body)
    detail = body.get("detail") if isinstance(body, dict) else None
    if not isinstance(detail, dict) or not detail.get("id"):
        raise ValueError("message is not a MotCua event envelope")
    return detail


@dataclass
class Consumer:
    name: str
    process: Process
    expires_after_seconds: int = 7 * 24 * 3600
    logger: Logger = field(init=False)
    _idempotent: Process | None = field(default=None, init=False)
    _config: IdempotencyConfig | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        self.logger = Logger(service=self.name)

    def _once(self) -> Process:
        """The idempotent wrapper, built on first use so imports make no AWS client."""
        if self._idempotent is None:
            self._config = IdempotencyConfig(event_key_jmespath="id", raise_on_no_idempotency_key=True,
                                             expires_after_seconds=self.expires_after_seconds)
            store = DynamoDBPersistenceLayer(table_name=settings().name(resources.IDEMPOTENCY.name),
                                             boto3_client=aws.client("dynamodb"))
            process = self.process

            def handle(event: dict[str, Any]) -> Any:
                return process(event)

            self._idempotent = idempotent_function(
                handle, data_keyword_argument="event", persistence_store=store, config=self._config,
                key_prefix=self.name)
        return self._idempotent

    def record_handler(self, record: SQSRecord) -> Any:
        event = envelope(record)
        self.logger.set_correlation_id(event["id"])
        return self._once()(event=event)

    def handler(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        self._once()
        if context is not None and self._config is not None:
            self._config.register_lambda_context(context)
        return process_partial_response(event=event, record_handler=self.record_handler,
                                        processor=BatchProcessor(event_type=EventType.SQS), context=context)
