"""Shared wiring for the SQS consumers of bus events (EventBridge rule -> SQS -> Lambda).

Each consumer supplies one function ``process(event)`` that receives MotCua's event
envelope (the EventBridge ``detail``). This module adds what every consumer must have:

* partial batch failures (``ReportBatchItemFailures``): one poison message fails alone and
  reaches the DLQ after the queue's retries, while the rest of the batch succeeds;
* Powertools idempotency keyed on the envelope's ``id`` (not EventBridge's own id, which
  changes when the publisher re-sends the same outbox event). Records live in the
  ``idempotency`` table with a TTL; an INPROGRESS record left by a killed Lambda expires
  with the invocation's remaining time, because the Lambda context is registered;
* a JSON logger per consumer with the event id as correlation id, which is also the request
  id of any audit record the consumer writes.

Reordering is the consumer's business: it compares the envelope's per-dossier ``version``.

A consumer whose queue declares ``retry_backoff`` (chalicelib/runtime/resources.py) hides each failed
message for an exponentially growing time (ChangeMessageVisibility), so retries spread over
hours instead of the queue's fixed visibility timeout; ``delivery`` tells ``process`` which
attempt this is and whether it is the last one before the DLQ.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any
from collections.abc import Callable

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer, IdempotencyConfig, idempotent_function,
)

from chalicelib.trust.rules import audit
from chalicelib.runtime import aws, cold_start
from chalicelib.runtime import resources
from chalicelib.runtime.settings import settings
from chalicelib.runtime.log import logger as make_logger

Process = Callable[[dict[str, Any]], Any]


@dataclass(frozen=True)
class Delivery:
    attempt: int = 1
    max_attempts: int | None = None

    @property
    def last(self) -> bool:
        return self.max_attempts is not None and self.attempt >= self.max_attempts


def retry_delay(queue: resources.Queue, attempt: int) -> int:
    """Seconds to hide a message after its ``attempt``-th failed delivery. The local stack and
    tests shorten the schedule with MOTCUA_RETRY_FIRST_SECONDS / MOTCUA_RETRY_MAX_SECONDS."""
    first, longest = queue.retry_backoff or (0, 0)
    overrides = settings().retries
    first = overrides.first_seconds or first
    longest = overrides.max_seconds or longest
    return min(longest, first * 2 ** min(max(attempt - 1, 0), 20))


def envelope(record: dict[str, Any]) -> dict[str, Any]:
    """MotCua's event from an SQS record whose body is an EventBridge event."""
    body = json.loads(record["body"])
    detail = body.get("detail") if isinstance(body, dict) else None
    if not isinstance(detail, dict) or not detail.get("id"):
        raise ValueError("message is not a MotCua event envelope")
    return detail


@dataclass
class Consumer:
    name: str
    process: Process
    expires_after_seconds: int = 7 * 24 * 3600
    queue: resources.Queue | None = None
    delivery: Delivery = field(default_factory=Delivery, init=False)
    logger: Logger = field(init=False)
    _idempotent: Callable[..., Any] | None = field(default=None, init=False)
    _config: IdempotencyConfig | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        self.logger = make_logger(self.name)

    def _once(self) -> Callable[..., Any]:
        """The idempotent wrapper, built on first use so imports make no AWS client. Called as
        ``_once()(event=...)``: powertools finds the payload by its keyword."""
        if self._idempotent is None:
            self._config = IdempotencyConfig(event_key_jmespath="id", raise_on_no_idempotency_key=True,
                                             expires_after_seconds=self.expires_after_seconds)
            store = DynamoDBPersistenceLayer(table_name=settings().name(resources.IDEMPOTENCY.name),
                                             boto3_client=aws.dynamodb_connection().client)
            process = self.process

            def handle(event: dict[str, Any]) -> Any:
                return process(event)

            self._idempotent = idempotent_function(
                handle, data_keyword_argument="event", persistence_store=store, config=self._config,
                key_prefix=self.name)
        return self._idempotent

    def record_handler(self, record: dict[str, Any]) -> Any:
        self.delivery = Delivery(int(record.get("attributes", {}).get("ApproximateReceiveCount") or 1),
                                 self.queue.max_receive_count if self.queue and self.queue.has_dlq else None)
        event = envelope(record)
        self.logger.set_correlation_id(event["id"])
        with audit.bind_request(event["id"]):  # what the consumer writes is audited under the event id
            return self._once()(event=event)

    def handler(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        self._once()
        if context is not None and self._config is not None:
            self._config.register_lambda_context(context)
        failed = cold_start.partial_batch(event.get("Records", []), self.record_handler, self._failed)
        if failed and self.queue and self.queue.retry_backoff:
            self._back_off(failed)
        return {"batchItemFailures": [{"itemIdentifier": record["messageId"]} for record in failed]}

    def _failed(self, record: dict[str, Any]) -> None:
        """Log a record that failed; the rest of the batch goes on (cold_start.partial_batch)."""
        self.logger.exception("record failed", extra={"message_id": record.get("messageId")})

    def _back_off(self, failed: list[dict[str, Any]]) -> None:
        """Hide each failed record for its backoff delay. Only a batch with failures makes the
        SQS client: a cold start that succeeds does not pay for SQS's service model."""
        sqs = aws.client("sqs")
        for record in failed:
            attempt = int(record.get("attributes", {}).get("ApproximateReceiveCount") or 1)
            try:
                sqs.change_message_visibility(QueueUrl=_queue_url(record["eventSourceARN"]),
                                              ReceiptHandle=record["receiptHandle"],
                                              VisibilityTimeout=retry_delay(self.queue, attempt))  # type: ignore[arg-type]
            except Exception:  # the queue's own visibility timeout still applies
                self.logger.exception("could not delay the retry", extra={"message_id": record["messageId"]})


def _queue_url(arn: str) -> str:
    """arn:aws:sqs:{region}:{account}:{name} -> its URL (one lookup per warm Lambda)."""
    return _QUEUE_URLS.get(arn) or _QUEUE_URLS.setdefault(
        arn, aws.client("sqs").get_queue_url(QueueName=arn.rsplit(":", 1)[1])["QueueUrl"])


_QUEUE_URLS: dict[str, str] = {}
