"""Dossier repository: the only module that writes dossier items.

Every state change is one TransactWriteItems call that writes the dossier (conditioned on
its version), the new or changed entries of its history, its outbox event, its audit record
(chalicelib.trust.rules.audit) and, for a submission, the idempotency record. Either all of
it happens or none of it does; a submission's daily number was taken before, with one atomic
counter update (``next_sequence``). ``to_items`` is the one place a ``Dossier``
(chalicelib.dossiers.rules.records) becomes its items: the dossier item holds its state, and
each entry of a growing history list is an item of its own (chalicelib.runtime.tables
explains the collection and reads it back). The dossier key and the shared connection live
in chalicelib.runtime.tables.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, NamedTuple, cast
from collections.abc import Iterable, Iterator, Mapping

from pynamodb.exceptions import DoesNotExist, PutError, TransactWriteError
from pynamodb.transactions import TransactWrite

from chalicelib.trust.store import audit as audit_store
from chalicelib.runtime import resources
from chalicelib.runtime.settings import settings
from chalicelib.runtime.cursors import BadCursor, decode_cursor, encode_cursor  # noqa: F401 (BadCursor re-exported)
from chalicelib.runtime import tables
from chalicelib.runtime.tables import connection, dossier_pk
from chalicelib.kernel.errors import Conflict, DossierTooLarge, ServiceUnavailable
from chalicelib.runtime.log import logger
from chalicelib.runtime.models import (
    ApplicantItem, DossierItem, HistoryEntryItem, IdempotencyItem, OutboxItem, SequenceItem,
)
from chalicelib.trust.rules.privacy import id_number_hash, retention_index
from chalicelib.runtime.credentials import id_hash_key
from chalicelib.dossiers.rules.processing import due_index
from chalicelib.dossiers.rules.records import HISTORY_KEYS, Dossier, from_json


_log = logger("motcua-dossiers")


def outbox_sk(version: int) -> str:
    return f"{resources.OUTBOX_PREFIX}{version:010d}"


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


class _Read(dict[str, Any]):
    """A dossier as read from the table, remembering its history entries as stored, so that a
    write puts only the entries that are new or changed (a transition adds one or two)."""
    __slots__ = ("stored",)

    def __init__(self, dossier: dict[str, Any], stored: dict[str, str]) -> None:
        super().__init__(dossier)
        self.stored = stored


def _read(stored: tables.StoredDossier) -> Dossier:
    return cast(Dossier, _Read(tables.assemble(stored), dict(stored.entries)))


class Items(NamedTuple):
    """A dossier as items: the dossier item, and the history entries a write must put. No
    entry is ever deleted: readers take only as many entries as the dossier item counts."""
    dossier: DossierItem
    changed: list[HistoryEntryItem]


def to_items(dossier: Dossier) -> Items:
    """The dossier as its DynamoDB items: its state as JSON in the dossier item's ``body``,
    plus the attributes its keys and indexes need, and each history entry as an item of its
    own (only those new or changed since the dossier was read; all of them for a dossier
    built here). The one place a dossier becomes items, so the one place sizes are checked:
    a body past ``MOTCUA_MAX_DOSSIER_BYTES`` (below DynamoDB's 400 KB item limit) is refused
    before any write, as a 409 that names the cause."""
    core, entries = _split(dossier)
    code = dossier["code"]
    for body in (core, *entries.values()):
        _check_size(code, body)
    stored = dossier.stored if isinstance(dossier, _Read) else {}
    pk = dossier_pk(code)
    changed = [HistoryEntryItem(pk=pk, sk=sk, body=body) for sk, body in entries.items() if stored.get(sk) != body]
    if isinstance(dossier, _Read):
        dossier.stored = entries   # a caller whose write fails reads the dossier again (409)
    return Items(_dossier_item(dossier, core), changed)


def to_item(dossier: Dossier) -> DossierItem:
    """The dossier item alone, for a dossier with no history yet (a new one: seeding, benches)."""
    items = to_items(dossier)
    assert not items.changed, "a dossier with history is written with to_items"
    return items.dossier


def write_as_is(dossier: Dossier) -> None:
    """Write a dossier's items unconditionally, with no event and no audit record: fixtures,
    seeding and benches that put a dossier in a given state."""
    items = to_items(dossier)
    with TransactWrite(connection=connection()) as tx:
        _stage(tx, items, None)


def _split(dossier: Dossier) -> tuple[str, dict[str, str]]:
    """The dossier item's body (the state, with how many entries each history list has) and
    the history entries' bodies by sort key."""
    held: Mapping[str, Any] = dossier
    lists: dict[str, list[Any]] = {key: held.get(key) or [] for key in HISTORY_KEYS if key in held}
    state = {key: value for key, value in dossier.items() if key not in lists}
    state[tables.HISTORY_COUNTS] = {key: len(entries) for key, entries in lists.items()}
    entries = {tables.history_sk(key, index): _dumps(entry)
               for key, values in lists.items() for index, entry in enumerate(values)}
    return _dumps(state), entries


def _dossier_item(dossier: Dossier, body: str) -> DossierItem:
    agency, owner, status = dossier["agency_id"], dossier["owner_sub"], dossier["status"]
    open_agency, due = due_index(dossier) or (None, None)
    closed_agency, closed_at = retention_index(dossier) or (None, None)
    return DossierItem(
        pk=dossier_pk(dossier["code"]), sk=tables.CORE_SK,
        code=dossier["code"], status=status, version=dossier["version"],
        agency_id=agency, procedure_code=dossier["procedure_code"], owner_sub=owner,
        list_sk=f"{dossier['submitted_at']}#{dossier['code']}",
        gsi_agency=agency, gsi_agency_status=f"{agency}#{status}",
        gsi_owner=owner, gsi_owner_status=f"{owner}#{status}",
        gsi_open=open_agency, gsi_due=due, gsi_closed=closed_agency, gsi_closed_at=closed_at,
        gsi_desk=desk_index(dossier), body=body,
    )


# A transaction holds at most 100 items; the rest of a change (event, audit, payment…) needs a few.
_ENTRIES_PER_TRANSACTION = 80


def _stage(tx: TransactWrite, items: Items, condition: Any) -> None:
    """Add the dossier item and its history entries to ``tx``. Only a dossier stored before
    histories were kept apart has more entries to write than a transaction holds (it moves
    them all out at once): the earliest are written ahead, which no reader sees until the
    transaction commits, because readers take only the entries the dossier item counts."""
    ahead, staged = items.changed[:-_ENTRIES_PER_TRANSACTION], items.changed[-_ENTRIES_PER_TRANSACTION:]
    if ahead:
        with HistoryEntryItem.batch_write() as batch:
            for entry in ahead:
                batch.save(entry)
    tx.save(items.dossier, condition=condition)
    for entry in staged:
        tx.save(entry)


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
    """The dossier item alone, as a list page reads it from an index: its state, without its
    history lists (``history`` counts them). Lists show only state; whoever needs the
    history reads whole dossiers (``whole_dossiers``)."""
    return from_json(item.body)


def get_dossier(code: str) -> Dossier | None:
    """The whole dossier, strongly consistent so a transition reads the latest version: one
    Query of its items. (chalicelib.runtime.tables.get_dossier reads the same, untyped, for
    consumers that start light.)"""
    stored = tables.read_items(code)
    return _read(stored) if stored else None


def whole_dossiers(items: Iterable[DossierItem]) -> Iterator[Dossier]:
    """The whole dossiers of items read from an index, in their order: each read again from
    the table with its history (strongly consistent, a few at a time)."""
    for stored in tables.read_many(item.code for item in items):
        if stored is not None:
            yield _read(stored)


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
            _stage(tx, to_items(dossier), DossierItem.pk.does_not_exist())
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
            _stage(tx, to_items(dossier), DossierItem.pk.does_not_exist())
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
    yield from whole_dossiers(DossierItem.by_agency.query(agency_id, DossierItem.list_sk >= since))


def dossiers_in_status(agency_id: str, status: str) -> Iterator[Dossier]:
    """Every dossier of the agency in this status, page by page on the agency-status index
    (merger day: the open dossiers of a retired agency; never a Scan)."""
    yield from whole_dossiers(DossierItem.by_agency_status.query(f"{agency_id}#{status}"))


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
    """Every whole dossier of an agency submitted on or before ``last_day`` (local), for
    audits and drill-down. One paginated Query on the agency index, then ``whole_dossiers``."""
    bound = (last_day + timedelta(days=1)).isoformat()
    yield from whole_dossiers(DossierItem.by_agency.query(agency_id, DossierItem.list_sk < bound))


def dossiers_received_between(agency_id: str, first_day: date, last_day: date) -> Iterator[Dossier]:
    """Every dossier of an agency submitted on a local day within [first_day, last_day], in
    order of receipt (the dossier register). One paginated Query on the agency index (its
    sort key starts with the local submission time), then ``whole_dossiers``."""
    low, high = first_day.isoformat(), (last_day + timedelta(days=1)).isoformat()
    yield from whole_dossiers(DossierItem.by_agency.query(agency_id, DossierItem.list_sk.between(low, high)))


def _changed_meanwhile() -> Conflict:
    """The 409 of a change that is not a state change, when a transition landed first."""
    return Conflict("Hồ sơ vừa được người khác cập nhật. Vui lòng thử lại.", code="concurrent_update")


def put_unversioned_change(dossier: Dossier) -> None:
    """Write a change that is not a state change (no new version, no event), conditioned on
    the version read: a concurrent transition wins and the caller reads again (409)."""
    items = to_items(dossier)
    if items.changed:
        _write_with_history(dossier, items)
        return
    try:
        items.dossier.save(condition=DossierItem.version == dossier["version"])
    except PutError as exc:
        if exc.cause_response_code == "ConditionalCheckFailedException":
            raise _changed_meanwhile() from None
        refused = too_large(exc, dossier["code"])
        if refused is not None:
            raise refused from exc
        raise


def _write_with_history(dossier: Dossier, items: Items) -> None:
    """``put_unversioned_change`` for a change that touched history entries too: one transaction."""
    try:
        with TransactWrite(connection=connection()) as tx:
            _stage(tx, items, DossierItem.version == dossier["version"])
    except TransactWriteError as exc:
        if "ConditionalCheckFailed" in cancellation_codes(exc):
            raise _changed_meanwhile() from None
        raise too_large(exc, dossier["code"]) or ServiceUnavailable(extra={"retryable": True}) from exc


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
    _stage(tx, to_items(dossier), DossierItem.version == expected_version)
    for event in events:
        tx.save(_outbox_item(dossier, event), condition=OutboxItem.pk.does_not_exist())
    audit_store.stage(tx, audit_record)


def cancellation_codes(exc: TransactWriteError) -> list[str | None]:
    return [getattr(r, "code", None) for r in (exc.cancellation_reasons or [])]
