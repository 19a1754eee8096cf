"""National portal sync: every dossier version reaches DVCQG once, in version order.

EventBridge rule "national-sync" -> SQS (retries with backoff for about a day, then DLQ) ->
this consumer, which hands each event to chalicelib/sync/use_cases/national_sync.py (what is
sent, in which order, and what the sync ledger says afterwards). A failed delivery raises,
so the queue retries it; ``delivery.last`` tells the use case that this was the last one
before the DLQ. Once the ledger has the version, the 766 index projection
(handlers/index_projection.py) counts the dossier as synced.

Three alarmed metrics (chalicelib/runtime/resources.py) tell an operator the sync is stuck
before the province's ranking does: ``NationalSyncLagSeconds``, the age of a change whose
delivery just failed (retries keep reporting it, older each time),
``NationalSyncConfigurationErrors``, a delivery the portal refused for who we are, and
``NationalSyncRejections``, a record the portal refused for its data. Neither of the last two
is retried, so they would otherwise show nowhere but in the dossier's ledger.
"""
from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from chalicelib.kernel.working_days import parse_iso
from chalicelib.runtime import resources
from chalicelib.runtime.metrics import emit
from chalicelib.sync.use_cases import national_sync
from handlers import index_projection
from handlers.consumer import Consumer


def process(event: dict[str, Any]) -> dict[str, Any]:
    try:
        result = national_sync.sync(event, last_delivery=consumer.delivery.last)
    except national_sync.SyncFailed:
        if event.get("occurred_at"):
            age = datetime.now(UTC) - parse_iso(event["occurred_at"])
            emit(resources.NATIONAL_SYNC_LAG, max(0.0, age.total_seconds()))
        raise
    if result.get("failed") == "configuration":
        emit(resources.NATIONAL_SYNC_CONFIGURATION_ERRORS, 1)
    if result.get("failed") == "rejected":
        emit(resources.NATIONAL_SYNC_REJECTIONS, 1)
    if "synced" in result or result.get("skipped") == "already synced":
        # 1.4 (synced share) moves without a new dossier version; a skipped duplicate may be
        # the retry of a delivery whose projection failed after the ledger advanced
        index_projection.project_code(event["dossier_code"])
    return result


consumer = Consumer("national-sync", process, queue=resources.NATIONAL_SYNC_QUEUE)
handler = consumer.handler
