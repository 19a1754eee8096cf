"""National portal sync: every dossier version reaches DVCQG once, in version order.

EventBridge rule "national-sync" -> SQS (retries with backoff for about a day, then DLQ) ->
this consumer. Per event:

1. read the dossier and its sync ledger (one BatchGetItem);
2. a version the ledger already has is a duplicate or stale: nothing is sent;
3. a version that is not the next one waits (the delivery fails and is retried later), so
   the portal receives versions in order even when the queue reorders them;
4. otherwise build its calls (chalicelib/sync/use_cases/national_records.py: the dossier record,
   then the progress records its transition produced; a rating; see national_mapping.py) and
   make them in order; the adapter caches its auth token for the token's lifetime;
5. advance the ledger with a conditional write, or record the failure (state ``retrying``,
   or ``dead`` on the last delivery before the DLQ) and fail the record.

A ``SyncRequested`` message (``motcua sync backfill``) sends the dossier as it is now and
moves the ledger straight to the current version: that is how imported legacy dossiers,
whose earlier versions never went through this queue, get synced.
"""
from __future__ import annotations

from datetime import datetime, UTC
from typing import Any

from chalicelib.runtime import resources
from chalicelib.sync.store import sync_ledger as sync_store
from chalicelib.kernel.working_days import iso
from chalicelib.sync.adapters.national_portal import PortalRejected, PortalUnavailable, portal
from chalicelib.sync.rules.national_mapping import SNAPSHOT_EVENT
from chalicelib.sync.use_cases.national_records import calls_for
from handlers import index_projection
from handlers.consumer import Consumer


class SyncFailed(Exception):
    """The record failed and will be retried (or reach the DLQ)."""


def _now() -> str:
    return iso(datetime.now(UTC))


def process(event: dict[str, Any]) -> dict[str, Any]:
    code = event["dossier_code"]
    dossier, ledger = sync_store.read(code)
    if dossier is None:
        consumer.logger.warning("event for an unknown dossier", extra={"dossier_code": code})
        return {"skipped": "unknown dossier"}
    have = ledger.version if ledger else 0
    snapshot = event["type"] == SNAPSHOT_EVENT
    target = dossier["version"] if snapshot else event["version"]
    if target <= have:
        index_projection.project_code(code)   # a retry after the index projection failed
        return {"skipped": "already synced", "version": target}
    if not snapshot and target != have + 1:
        # keep the error of the version being retried, if any: that is the cause
        _fail(code, ledger, f"Chờ đồng bộ phiên bản {have + 1} trước phiên bản {target}",
              record=ledger is None or ledger.state == "synced")
    calls = calls_for(event, dossier)
    for service, records in calls:
        for record in records:
            try:
                portal().call(service, record)
            except (PortalUnavailable, PortalRejected) as error:
                _fail(code, ledger, f"{service}: {error}")
    sync_store.advance(code, ledger, version=target, at=_now())
    index_projection.project_code(code)   # 1.4 (synced share) moves without a new dossier version
    return {"synced": target, "service": calls[0][0] if calls else None}


def _fail(code: str, ledger: sync_store.Ledger | None, error: str, *, record: bool = True) -> None:
    dead = consumer.delivery.last
    if record or dead:
        sync_store.record_failure(code, ledger, error=error, dead=dead, at=_now())
    consumer.logger.warning("sync failed", extra={"dossier_code": code, "error": error, "dead": dead,
                                                  "attempt": consumer.delivery.attempt})
    raise SyncFailed(error)


consumer = Consumer("national-sync", process, queue=resources.NATIONAL_SYNC_QUEUE)
handler = consumer.handler
