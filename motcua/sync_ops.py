"""Operator commands for the national portal sync: `motcua sync redrive`, `backfill`, `resend`,
`rejected`, `show`, `check`.

* redrive: move every message of the sync DLQ back to the sync queue (oldest first); the
  consumer's ordering and ledger checks make replaying safe, duplicates included.
* backfill: for every dossier submitted since a date whose ledger is behind its current
  version (or missing: dossiers imported from a legacy system), queue a ``SyncRequested``
  message; the consumer sends the dossier as it is now and moves the ledger to its version.
  Dossiers are found with Queries on the agency index (never a Scan).
* resend: queue a ``SyncRequested`` for one dossier, whatever its ledger says: after the data
  of a record the portal refused was fixed outside the dossier (the catalogue's procedure
  code, the status map), the dossier goes again as it is now.
* rejected: every dossier submitted since a date whose record the portal refused for its
  data (ledger ``rejected_version``), with the portal's message.
* show: the records the portal would receive for one dossier now (the dossier, its progress,
  its rating), built exactly as the sync consumer builds them; its files' public links are
  issued if they were not yet (a file keeps its link, so showing twice changes nothing).
* check: every open dossier's records against the portal's profile
  (chalicelib/sync/rules/national_profile.py), with what each problem costs the province on
  the national index; found per agency and status on the agency-status index.
"""
from __future__ import annotations

import json
import uuid
from typing import Any
from collections.abc import Iterable, Iterator

from chalicelib.runtime import aws
from chalicelib.runtime import resources
from chalicelib.dossiers.store import dossiers as store
from chalicelib.sync.store import sync_ledger as sync_store
from chalicelib.runtime.settings import settings
from chalicelib.dossiers.rules.records import Dossier
from chalicelib.dossiers.rules.transitions import CLOSED, STATUSES
from chalicelib.sync.rules.national_mapping import SNAPSHOT_EVENT
from chalicelib.sync.rules.national_profile import Problem
from chalicelib.sync.use_cases import national_records


def _queue_urls(queue: resources.Queue) -> tuple[str, str]:
    sqs, cfg = aws.client("sqs"), settings()
    return (sqs.get_queue_url(QueueName=cfg.name(queue.name))["QueueUrl"],
            sqs.get_queue_url(QueueName=cfg.name(queue.dlq_name))["QueueUrl"])


def redrive(queue: resources.Queue = resources.NATIONAL_SYNC_QUEUE, limit: int = 100_000) -> int:
    """Move up to ``limit`` messages from the DLQ back to the queue. Returns how many moved."""
    sqs = aws.client("sqs")
    source, dlq = _queue_urls(queue)
    moved = 0
    while moved < limit:
        messages = sqs.receive_message(QueueUrl=dlq, MaxNumberOfMessages=10, WaitTimeSeconds=0).get("Messages", [])
        if not messages:
            break
        for message in messages:
            sqs.send_message(QueueUrl=source, MessageBody=message["Body"])
            sqs.delete_message(QueueUrl=dlq, ReceiptHandle=message["ReceiptHandle"])
            moved += 1
    return moved


def sync_request(dossier: dict[str, Any]) -> dict[str, Any]:
    """An EventBridge-shaped message asking the consumer to send the dossier as it is now."""
    detail = {"id": str(uuid.uuid4()), "type": SNAPSHOT_EVENT, "schema_version": 1,
              "dossier_code": dossier["code"], "version": dossier["version"], "agency_id": dossier["agency_id"],
              "procedure_code": dossier["procedure_code"], "status": dossier["status"], "data": {}}
    return {"source": "motcua.operator", "detail-type": SNAPSHOT_EVENT, "detail": detail}


def behind(dossiers: list[dict[str, Any]]) -> list[dict[str, Any]]:
    ledgers = sync_store.ledgers([d["code"] for d in dossiers])
    return [d for d in dossiers if d["code"] not in ledgers or ledgers[d["code"]].version < d["version"]]


def _chunks[T](items: Iterable[T], size: int) -> Iterator[list[T]]:
    chunk: list[T] = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def backfill(since: str, agencies: Iterable[str]) -> int:
    """Queue a SyncRequested for every dossier of ``agencies`` submitted on or after ``since``
    (ISO date or date-time) whose ledger is behind. Returns how many were queued."""
    sqs = aws.client("sqs")
    source, _ = _queue_urls(resources.NATIONAL_SYNC_QUEUE)
    queued = 0
    for agency in agencies:
        for chunk in _chunks(store.dossiers_since(agency, since), 100):
            for dossier in behind(chunk):
                sqs.send_message(QueueUrl=source, MessageBody=json.dumps(sync_request(dossier), ensure_ascii=False))
                queued += 1
    return queued


def resend(code: str) -> bool:
    """Queue the dossier to be sent as it is now; False when there is no such dossier."""
    dossier = store.get_dossier(code)
    if dossier is None:
        return False
    source, _ = _queue_urls(resources.NATIONAL_SYNC_QUEUE)
    aws.client("sqs").send_message(QueueUrl=source, MessageBody=json.dumps(sync_request(dossier), ensure_ascii=False))
    return True


def rejected(since: str, agencies: Iterable[str]) -> Iterator[tuple[dict[str, Any], sync_store.Ledger]]:
    """Dossiers of ``agencies`` submitted since ``since`` whose record the portal refused, with
    their ledger (its ``last_error`` holds the portal's message)."""
    for agency in agencies:
        for chunk in _chunks(store.dossiers_since(agency, since), 100):
            ledgers = sync_store.ledgers([d["code"] for d in chunk])
            yield from ((d, ledgers[d["code"]]) for d in chunk if d["code"] in ledgers and ledgers[d["code"]].rejected)


def ledger_of(code: str) -> sync_store.Ledger | None:
    return sync_store.ledgers([code]).get(code)


def rejection_problem(ledger: sync_store.Ledger | None) -> Problem | None:
    """The portal's refusal of the dossier's record, as ``check`` prints a problem."""
    if ledger is None or not ledger.rejected:
        return None
    return Problem("Cổng DVCQG", f"đã từ chối phiên bản {ledger.rejected_version}: {ledger.last_error or ''}",
                   REJECTION_COST)


REJECTION_COST = "1.4 tỷ lệ hồ sơ đồng bộ: Cổng DVCQG không có phiên bản mới nhất của hồ sơ"


def show(code: str) -> dict[str, list[dict[str, Any]]] | None:
    """The records of the dossier as the portal would receive them now (None: no such dossier)."""
    dossier = store.get_dossier(code)
    return national_records.records_of(dossier) if dossier else None


OPEN_STATUSES = tuple(status for status in STATUSES if status not in CLOSED)


def open_dossiers(agency_id: str) -> Iterator[Dossier]:
    """The agency's dossiers that have not reached an end, one Query per status."""
    for status in OPEN_STATUSES:
        yield from store.dossiers_in_status(agency_id, status)


def check(agencies: Iterable[str]) -> Iterator[tuple[Dossier, list[Problem]]]:
    """Every open dossier of ``agencies`` with the problems of its records (maybe none), the
    portal's refusal of its last record first."""
    for agency in agencies:
        for chunk in _chunks(open_dossiers(agency), 100):
            ledgers = sync_store.ledgers([d["code"] for d in chunk])
            for dossier in chunk:
                refused = rejection_problem(ledgers.get(dossier["code"]))
                yield dossier, ([refused] if refused else []) + national_records.problems_of(dossier)
