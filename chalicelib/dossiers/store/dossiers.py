"""Dossier repository: the only module that reads and writes dossier items.

Every state change is one TransactWriteItems call that writes the dossier (conditioned on
its version), its outbox event, its audit record (chalicelib.trust.rules.audit) and, for a submission,
the idempotency record. Either all of it happens or none of it does; a submission's daily
number was taken before, with one atomic counter update (``next_sequence``). ``to_item`` is
the one place a ``Dossier`` (chalicelib.dossiers.rules.records) becomes its item;
``from_item`` reads it back with records.from_json, as every other reader of dossier items
does. The dossier key and the shared connection live in chalicelib.runtime.tables.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any
from collections.abc import Iterator

from pynamodb.exceptions import DoesNotExist, PutError, TransactWriteError
from pynamodb.transactions import TransactWrite

from chalicelib.trust.store import audit as audit_store
from chalicelib.runtime import resources
from chalicelib.runtime.settings import settings
from chalicelib.runtime.cursors import BadCursor, decode_cursor, encode_cursor  # noqa: F401 (BadCursor re-exported)
from chalicelib.runtime.tables import connection, dossier_pk
from chalicelib.kernel.errors import Conflict, DossierTooLarge, ServiceUnavailable
from chalicelib.runtime.log import logger
from chalicelib.runtime.models import ApplicantItem, DossierItem, IdempotencyItem, OutboxItem, SequenceItem
from chalicelib.trust.rules.privacy import id_number_hash, retention_index
from chalicelib.runtime.credentials import id_hash_key
from chalicelib.dossiers.rules.processing import due_index
from chalicelib.dossiers.rules.records import Dossier, from_json


_log = logger("motcua-dossiers")


def outbox_sk(version: int) -> str:
    return f"{resources.OUTBOX_PREFIX}{version:010d}"


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def to_item(dossier: Dossier) -> DossierItem:
    """The dossier as its DynamoDB item: the whole dossier as JSON in ``body``, plus the
    attributes its keys and indexes need. The one place a dossier becomes an item, so the one
    place its size is checked: a body past ``MOTCUA_MAX_DOSSIER_BYTES`` (below DynamoDB's
    400 KB item limit) is refused before any write, as a 409 that names the cause."""
    body = _dumps(dossier)
    _check_size(dossier["code"], body)
    agency, owner, status = dossier["agency_id"], dossier["owner_sub"], dossier["status"]
    open_agency, due = due_index(dossier) or (None, None)
    closed_agency, closed_at = retention_index(dossier) or (None, None)
    return DossierItem(
        pk=dossier_pk(dossier["code"]), sk="DOSSIER",
        code=dossier["code"], status=status, version=dossier["version"],
        agency_id=agency, procedure_code=dossier["procedure_code"], owner_sub=owner,
        list_sk=f"{dossier['submitted_at']}#{dossier['code']}",
        gsi_agency=agency, gsi_agency_status=f"{agency}#{status}",
        gsi_owner=owner, gsi_owner_status=f"{owner}#{status}",
        gsi_open=open_agency, gsi_due=due, gsi_closed=closed_agency, gsi_closed_at=closed_at,
        gsi_desk=desk_index(dossier), body=body,
    )


def desk_index(dossier: Dossier) -> str | None:
    """The receiving desk's agency for the sparse ``received_by_desk`` index: only dossiers
    taken at a desk (walk-in or by post) are in it."""
    if dossier.get("channel", "online") == "online":
        return None
    return dossier.get("receiving_agency_id") or dossier["agency_id"]


def _check_size(code: str, body: str) -> None:
    size, limit = len(body.encode("utf-8")), settings().dossier_limits.item_bytes
    if size > limit:
        _log.warning("dossier write refused: item too large",
                     extra={"dossier_code": code, "body_bytes": size, "limit_bytes": limit})
        raise DossierTooLarge(extra={"body_bytes": size, "limit_bytes": limit})


def too_large(exc: Exception, code: str) -> DossierTooLarge | None:
    """DynamoDB's own refusal of an item past 400 KB (a ValidationException, alone or as a
    transaction's cancellation reason): permanent, so a 409 and the cause in the log, never
    a retryable 503. None for any other failure."""
    reasons = getattr(exc, "cancellation_reasons", None) or []
    messages = [str(getattr(r, "message", "") or "") for r in reasons if getattr(r, "code", None) == "ValidationException"]
    if getattr(exc, "cause_response_code", None) == "ValidationException":
        messages.append(str(getattr(exc, "cause_response_message", "") or ""))
    if not any("size" in message.lower() for message in messages):
        return None
    _log.warning("dossier write refused by DynamoDB: item too large",
                 extra={"dossier_code": code, "cause": "; ".join(messages)[:500]})
    return DossierTooLarge()


def from_item(item: DossierItem) -> Dossier:
    """The dossier an item holds (its body is the whole dossier)."""
    return from_json(item.body)


def get_dossier(code: str) -> Dossier | None:
    """One GetItem, strongly consistent so a transition reads the latest version.
    (chalicelib.runtime.tables.get_dossier reads the same, untyped, for consumers that start light.)"""
    try:
        item = DossierItem.get(dossier_pk(code), "DOSSIER", consistent_read=True)
    except DoesNotExist:
        return None
    return from_item(item)


def applicant_pk(id_number: str) -> str:
    return f"APPLICANT#{id_number_hash(id_number, id_hash_key())}"


def _applicant_item(dossier: Dossier) -> ApplicantItem | None:
    id_number = dossier["applicant"].get("id_number")
    return ApplicantItem(pk=applicant_pk(id_number), sk=f"DOSSIER#{dossier['code']}", code=dossier["code"]) \
        if id_number else None


def _outbox_item(dossier: Dossier, event: dict[str, Any]) -> OutboxItem:
    return OutboxItem(
        pk=dossier_pk(dossier["code"]), sk=outbox_sk(event["version"]),
        event_id=event["id"], event_type=event["type"], version=event["version"], event=_dumps(event),
    )


# --- submission -------------------------------------------------------------------------

class IdempotentReplay(Exception):
    """The Idempotency-Key was used before; ``record`` holds what was stored then."""

    def __init__(self, request_hash: str, response: dict[str, Any]) -> None:
        self.request_hash = request_hash
        self.response = response


def idempotency_pk(owner_sub: str, key: str) -> str:
    return f"IDEMPOTENCY#{owner_sub}#{key}"


def sequence_key(agency_id: str, day: str) -> str:
    return f"SEQ#{agency_id}#{day}"


def current_sequence(agency_id: str, day: str) -> int:
    """The last number issued for this agency and local day (0 if none). One GetItem."""
    try:
        item = SequenceItem.get(sequence_key(agency_id, day), "SEQ", consistent_read=True)
    except DoesNotExist:
        return 0
    return int(item.value)


def next_sequence(agency_id: str, day: str) -> int:
    """Take the next number for this agency and local day: one UpdateItem ``ADD value 1``.

    DynamoDB applies concurrent ADDs one after another, so every caller gets its own number
    and a rush at one agency never retries. The number is taken before the dossier is
    written: a submission that then fails (a replayed Idempotency-Key, a crash, a refused
    write) leaves a gap in the day's codes (docs/decisions.md)."""
    counter = SequenceItem(pk=sequence_key(agency_id, day), sk="SEQ")
    counter.update(actions=[SequenceItem.value.add(1)])
    return int(counter.value)


def create_dossier(dossier: Dossier, event: dict[str, Any], *, idempotency_key: str, request_hash: str,
                   response: dict[str, Any], audit_record: dict[str, Any]) -> None:
    """Write dossier + event + idempotency record + audit record in one transaction.

    The dossier's number was taken before (``next_sequence``); the idempotency record is
    conditioned on not existing, so a retried request can never create a second dossier.
    """
    idem = IdempotencyItem(
        pk=idempotency_pk(dossier["owner_sub"], idempotency_key), sk="IDEMPOTENCY",
        request_hash=request_hash, response=_dumps(response),
        ttl=timedelta(seconds=settings().idempotency_ttl_seconds),
    )
    try:
        with TransactWrite(connection=connection()) as tx:
            tx.save(idem, condition=IdempotencyItem.pk.does_not_exist())
            tx.save(to_item(dossier), condition=DossierItem.pk.does_not_exist())
            tx.save(_outbox_item(dossier, event), condition=OutboxItem.pk.does_not_exist())
            applicant = _applicant_item(dossier)
            if applicant is not None:
                tx.save(applicant)
            audit_store.stage(tx, audit_record)
    except TransactWriteError as exc:
        reasons = [getattr(r, "code", None) for r in (exc.cancellation_reasons or [])]
        if reasons and reasons[0] == "ConditionalCheckFailed":
            record = IdempotencyItem.get(idem.pk, idem.sk, consistent_read=True)
            raise IdempotentReplay(record.request_hash, json.loads(record.response)) from None
        raise too_large(exc, dossier["code"]) or ServiceUnavailable(extra={"retryable": True}) from exc


def create_imported(dossier: Dossier, audit_record: dict[str, Any]) -> bool:
    """Write a dossier brought over from the old system (no event: it is not a change MotCua
    made) with its applicant lookup and audit record, in one transaction. False if MotCua
    already holds the code (another import got there first)."""
    try:
        with TransactWrite(connection=connection()) as tx:
            tx.save(to_item(dossier), condition=DossierItem.pk.does_not_exist())
            applicant = _applicant_item(dossier)
            if applicant is not None:
                tx.save(applicant)
            audit_store.stage(tx, audit_record)
    except TransactWriteError as exc:
        if "ConditionalCheckFailed" in cancellation_codes(exc):
            return False
        raise ServiceUnavailable(extra={"retryable": True}) from exc
    return True


# --- reads ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Page:
    items: list[Dossier]
    next_cursor: str | None
    scanned_count: int


_LIST_INDEXES = {
    ("agency", False): (DossierItem.by_agency, "gsi_agency"),
    ("agency", True): (DossierItem.by_agency_status, "gsi_agency_status"),
    ("owner", False): (DossierItem.by_owner, "gsi_owner"),
    ("owner", True): (DossierItem.by_owner_status, "gsi_owner_status"),
    ("desk", False): (DossierItem.received_by_desk, "gsi_desk"),
    ("desk", True): (DossierItem.received_by_desk, "gsi_desk"),
}


def list_dossiers(*, scope: str, scope_id: str, status: str | None, limit: int, cursor: str | None) -> Page:
    """One Query on the matching index, newest first. Never a Scan. The desk's list filters
    on the status (a page may then hold fewer than ``limit`` items and still have a cursor):
    one sparse index rather than two, since a table gains one index per deployment."""
    index, key_name = _LIST_INDEXES[(scope, status is not None)]
    key_value = f"{scope_id}#{status}" if status and scope != "desk" else scope_id
    start_key = decode_cursor(cursor, key_name, key_value) if cursor else None
    condition = DossierItem.status == status if status and scope == "desk" else None
    result = index.query(key_value, scan_index_forward=False, limit=limit, last_evaluated_key=start_key,
                         filter_condition=condition)
    items = [from_item(item) for item in result]
    last = result.last_evaluated_key
    return Page(items=items, next_cursor=encode_cursor(last) if last else None,
                scanned_count=result.total_count)


def list_due(*, agency_id: str, after: str | None, before: str, limit: int, cursor: str | None) -> Page:
    """Open dossiers held by the agency whose earliest due date is in [after, before]
    (or < before when ``after`` is None), soonest first. One Query on the sparse index."""
    index = DossierItem.open_by_agency_due
    condition = (DossierItem.gsi_due < before if after is None
                 else DossierItem.gsi_due.between(after, before))
    start_key = decode_cursor(cursor, "gsi_open", agency_id, "gsi_due") if cursor else None
    result = index.query(agency_id, condition, limit=limit, last_evaluated_key=start_key)
    items = [from_item(item) for item in result]
    last = result.last_evaluated_key
    return Page(items=items, next_cursor=encode_cursor(last) if last else None, scanned_count=result.total_count)


def dossiers_since(agency_id: str, since: str) -> Iterator[Dossier]:
    """Every dossier of the agency submitted on or after ``since`` (ISO), oldest first.
    Queries on the agency index, page by page (operator backfills; never a Scan)."""
    for item in DossierItem.by_agency.query(agency_id, DossierItem.list_sk >= since):
        yield from_item(item)


def dossiers_in_status(agency_id: str, status: str) -> Iterator[Dossier]:
    """Every dossier of the agency in this status, page by page on the agency-status index
    (merger day: the open dossiers of a retired agency; never a Scan)."""
    for item in DossierItem.by_agency_status.query(f"{agency_id}#{status}"):
        yield from_item(item)


# --- transitions ------------------------------------------------------------------------

def save_transition(dossier: Dossier, event: dict[str, Any], *, expected_version: int,
                    audit_record: dict[str, Any]) -> None:
    """Write the changed dossier, its event and its audit record; fail with 409 if someone
    else changed it first."""
    try:
        with TransactWrite(connection=connection()) as tx:
            stage_dossier_change(tx, dossier, [event], expected_version=expected_version, audit_record=audit_record)
    except TransactWriteError as exc:
        reasons = [getattr(r, "code", None) for r in (exc.cancellation_reasons or [])]
        if any(code in ("ConditionalCheckFailed", "TransactionConflict") for code in reasons):
            raise Conflict(
                "Hồ sơ vừa được người khác cập nhật. Vui lòng tải lại hồ sơ và thử lại.",
                code="concurrent_update",
            ) from None
        raise too_large(exc, dossier["code"]) or ServiceUnavailable(extra={"retryable": True}) from exc


def dossiers_received_until(agency_id: str, last_day: date) -> Iterator[Dossier]:
    """Every dossier of an agency submitted on or before ``last_day`` (local), for audits and
    drill-down. One paginated Query on the agency index."""
    bound = (last_day + timedelta(days=1)).isoformat()
    for item in DossierItem.by_agency.query(agency_id, DossierItem.list_sk < bound):
        yield from_item(item)


def dossiers_received_between(agency_id: str, first_day: date, last_day: date) -> Iterator[Dossier]:
    """Every dossier of an agency submitted on a local day within [first_day, last_day], in
    order of receipt (the dossier register). One paginated Query on the agency index: its
    sort key starts with the local submission time."""
    low, high = first_day.isoformat(), (last_day + timedelta(days=1)).isoformat()
    for item in DossierItem.by_agency.query(agency_id, DossierItem.list_sk.between(low, high)):
        yield from_item(item)


def put_unversioned_change(dossier: Dossier) -> None:
    """Write a change that is not a state change (no new version, no event), conditioned on
    the version read: a concurrent transition wins and the caller reads again (409)."""
    try:
        to_item(dossier).save(condition=DossierItem.version == dossier["version"])
    except PutError as exc:
        if exc.cause_response_code == "ConditionalCheckFailedException":
            raise Conflict("Hồ sơ vừa được người khác cập nhật. Vui lòng thử lại.", code="concurrent_update") from None
        refused = too_large(exc, dossier["code"])
        if refused is not None:
            raise refused from exc
        raise


def dossier_events(code: str) -> list[dict[str, Any]]:
    """The dossier's outbox events in version order: its history."""
    query = OutboxItem.query(dossier_pk(code), OutboxItem.sk.startswith(resources.OUTBOX_PREFIX))
    return [json.loads(item.event) for item in query]


# --- shared with other repositories (payments) -----------------------------------------

def transaction() -> TransactWrite:
    """A TransactWrite on the shared connection, for repositories that write a dossier change
    together with their own items (chalicelib.payments.store.payments)."""
    return TransactWrite(connection=connection())


def stage_dossier_change(tx: TransactWrite, dossier: Dossier, events: list[dict[str, Any]], *,
                         expected_version: int, audit_record: dict[str, Any]) -> None:
    """Add the changed dossier (version-checked), its outbox events and its audit record to ``tx``."""
    tx.save(to_item(dossier), condition=DossierItem.version == expected_version)
    for event in events:
        tx.save(_outbox_item(dossier, event), condition=OutboxItem.pk.does_not_exist())
    audit_store.stage(tx, audit_record)


def cancellation_codes(exc: TransactWriteError) -> list[str | None]:
    return [getattr(r, "code", None) for r in (exc.cancellation_reasons or [])]
