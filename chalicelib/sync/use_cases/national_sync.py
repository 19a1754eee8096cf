"""Sync one dossier event to the national portal: which calls, in which order, and what the
ledger says afterwards. handlers/national_sync.py feeds it the queue's events.

Per event:

1. read the dossier and its sync ledger (one BatchGetItem);
2. a version the ledger already has is a duplicate or stale: nothing is sent;
3. a version that is not the next one waits (the delivery fails and is retried later), so
   the portal receives versions in order even when the queue reorders them;
4. otherwise build its calls (chalicelib/sync/use_cases/national_records.py ``calls_for``:
   the records themselves are the pure builders of chalicelib/sync/rules/national_record.py)
   and make them in order: ``DongBoHoSoMC`` first, as a create while the portal does not have the dossier and
   as an update (``isUpdating "True"``) once it does (the ledger's ``on_portal``), then the
   progress records (``CapNhatTienDoHoSoMC``, ten a call), then anything else;
5. advance the ledger with a conditional write, or record the failure: ``retrying`` (the
   delivery fails and the queue retries it with backoff), ``dead`` on the last delivery
   before the DLQ, and ``dead`` at once for a configuration error (the portal refuses our
   account, ``dstcode`` or LGSP client even after renewing): retrying would not fix it, an
   operator must, then ``motcua sync backfill`` sends what is behind;
6. a record the portal refused itself (bad data, ``PortalRefusedRecord``) is ``rejected`` at
   once with the portal's message and the version it refused: the same record would be
   refused again, so that version is not retried (its redeliveries are skipped). The next
   version does not wait for it: it sends the dossier as it is now, whole (its whole progress
   and rating, as a backfill does), so nothing the refused version carried is lost and the
   fix, if the change carries one, reaches the portal; the ledger then moves to the
   dossier's current version. ``motcua sync resend CODE`` sends it again after a fix made
   outside the dossier (the catalogue, the status map).

A ``SyncRequested`` message (``motcua sync backfill``) sends the dossier as it is now and
moves the ledger straight to the current version: that is how imported v1 dossiers, whose
earlier versions never went through this queue, get synced.
"""
from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from chalicelib.kernel.working_days import iso
from chalicelib.sync.adapters.national_portal import (
    DOSSIER_SERVICE, PROGRESS_SERVICE, NationalPortal, PortalMisconfigured, PortalRefusedRecord, PortalRejected,
    PortalUnavailable, portal,
)
from chalicelib.sync.rules.national_mapping import SNAPSHOT_EVENT, Calls
from chalicelib.sync.store import sync_ledger as sync_store
from chalicelib.sync.use_cases.national_records import calls_for

log = logging.getLogger(__name__)
CONFIGURATION = "Lỗi cấu hình kết nối Cổng DVCQG (tài khoản, dstcode hoặc LGSP)"


class SyncFailed(Exception):
    """The delivery failed and will be retried (or reach the DLQ)."""


@dataclass
class _Progress:
    """How far the calls of one delivery went: whether the portal has the dossier now, and
    the service being called (named in the ledger's error)."""
    on_portal: bool
    service: str = ""


def _now() -> str:
    return iso(datetime.now(UTC))


def send(calls: Calls, adapter: NationalPortal, progress: _Progress) -> None:
    """Make the calls in order; ``progress.on_portal`` turns true as soon as a create or an
    update of the dossier is accepted, so a failure after it still knows."""
    for service, records in calls:
        progress.service = service
        if service == DOSSIER_SERVICE:
            adapter.sync_dossier(records, exists=progress.on_portal)
            progress.on_portal = True
        elif service == PROGRESS_SERVICE:
            adapter.send_progress(records)
        else:
            adapter.call(service, records)


def sync(event: Mapping[str, Any], *, last_delivery: bool) -> dict[str, Any]:
    """Deliver one event (see the module's docstring); raises ``SyncFailed`` to be retried."""
    code = event["dossier_code"]
    dossier, ledger = sync_store.read(code)
    if dossier is None:
        log.warning("event for an unknown dossier", extra={"dossier_code": code})
        return {"skipped": "unknown dossier"}
    have = ledger.version if ledger else 0
    snapshot = event["type"] == SNAPSHOT_EVENT
    target = dossier["version"] if snapshot else event["version"]
    if target <= have:
        return {"skipped": "already synced", "version": target}
    if not snapshot and ledger and ledger.rejected_version is not None:
        if target <= ledger.rejected_version:
            return {"skipped": "rejected", "version": target}
        snapshot, target = True, dossier["version"]       # past a refused version: the dossier whole
    if not snapshot and target != have + 1:
        # keep the error of the version being retried, if any: that is the cause
        _fail(code, ledger, f"Chờ đồng bộ phiên bản {have + 1} trước phiên bản {target}", last_delivery,
              record=ledger is None or ledger.state == "synced")
    calls = calls_for({**event, "type": SNAPSHOT_EVENT} if snapshot else event, dossier)
    progress = _Progress(on_portal=bool(ledger and ledger.on_portal))
    try:
        send(calls, portal(), progress)
    except PortalRefusedRecord as error:
        sync_store.record_rejection(code, ledger, version=target, error=f"{progress.service}: {error}", at=_now(),
                                    on_portal=progress.on_portal)
        log.error("national portal refused the record", extra={"dossier_code": code, "version": target,
                                                                "error": str(error)})
        return {"failed": "rejected", "version": target}
    except PortalMisconfigured as error:
        sync_store.record_failure(code, ledger, error=f"{CONFIGURATION}: {progress.service}: {error}", dead=True,
                                  at=_now(), on_portal=progress.on_portal)
        log.error("national portal refuses our configuration", extra={"dossier_code": code, "error": str(error)})
        return {"failed": "configuration", "version": target}
    except (PortalUnavailable, PortalRejected) as error:
        _fail(code, ledger, f"{progress.service}: {error}", last_delivery, on_portal=progress.on_portal)
    sync_store.advance(code, ledger, version=target, at=_now(), on_portal=progress.on_portal)
    return {"synced": target, "services": [service for service, _ in calls]}


def _fail(code: str, ledger: sync_store.Ledger | None, error: str, last_delivery: bool, *, record: bool = True,
          on_portal: bool = False) -> None:
    if record or last_delivery:
        sync_store.record_failure(code, ledger, error=error, dead=last_delivery, at=_now(), on_portal=on_portal)
    log.warning("sync failed", extra={"dossier_code": code, "error": error, "dead": last_delivery})
    raise SyncFailed(error)


def enter_unsynced(codes: list[str]) -> int:
    """Put dossiers the portal never had from MotCua (imported v1 dossiers) in the ledger as
    never synced; ``motcua sync backfill`` then sends them. How many were entered."""
    at = _now()
    return sum(sync_store.enter_unsynced(code, at) for code in codes)
