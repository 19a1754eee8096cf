"""National portal sync: every dossier version reaches DVCQG once, in version order.

EventBridge rule "national-sync" -> SQS (retries with backoff for about a day, then DLQ) ->
this consumer, which hands each event to chalicelib/sync/use_cases/national_sync.py (what is
sent, in which order, and what the sync ledger says afterwards). A failed delivery raises,
so the queue retries it; ``delivery.last`` tells the use case that this was the last one
before the DLQ.
"""
from __future__ import annotations

from typing import Any

from chalicelib.runtime import resources
from chalicelib.sync.use_cases import national_sync
from handlers.consumer import Consumer


def process(event: dict[str, Any]) -> dict[str, Any]:
    return national_sync.sync(event, last_delivery=consumer.delivery.last)


consumer = Consumer("national-sync", process, queue=resources.NATIONAL_SYNC_QUEUE)
handler = consumer.handler
