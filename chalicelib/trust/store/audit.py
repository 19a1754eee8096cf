"""Audit repository: the only module that writes or reads the ``audit`` table.

Append-only. There is no update and no delete here, every write is conditioned on the item
not existing (a record is never overwritten), and infra/ grants the functions PutItem and
Query on this table and nothing else. A state change's record goes into the state change's
own TransactWriteItems (``stage``, called by chalicelib.dossiers.store.dossiers and chalicelib.payments.store.payments;
``put_action`` for chalicelib.feedback.store.feedback, which builds its transaction on the low-level client),
so a change can never exist without its record; a sensitive read appends its record with one
PutItem before the data leaves (``append_read``).
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from collections.abc import Mapping

from pynamodb.exceptions import PutError
from pynamodb.transactions import TransactWrite

from chalicelib.trust.rules import audit
from chalicelib.runtime.cursors import decode_cursor, encode_cursor
from chalicelib.runtime.settings import settings
from chalicelib.kernel.errors import ServiceUnavailable
from chalicelib.runtime.models import AuditItem


class AlreadyRecorded(Exception):
    """A record with this key exists: the table refuses to overwrite it."""


def _item(record: Mapping[str, Any]) -> AuditItem:
    return AuditItem(
        pk=audit.partition(record), sk=audit.sort_key(record), actor_sub=record["actor"]["sub"],
        kind=record["kind"], body=json.dumps(record, ensure_ascii=False, separators=(",", ":")),
        expires_at=timedelta(days=settings().audit_retention_days),
    )


def stage(tx: TransactWrite, record: Mapping[str, Any]) -> None:
    """Add the record to a state change's transaction (one more Put, no extra call)."""
    tx.save(_item(record), condition=AuditItem.pk.does_not_exist())


def put_action(record: Mapping[str, Any]) -> dict[str, Any]:
    """The record as one ``{"Put": …}`` of a TransactWriteItems built on the low-level client,
    with the same item and condition as ``stage``."""
    return {"Put": _item(record).get_save_kwargs_from_instance(condition=AuditItem.pk.does_not_exist())}


def append(record: Mapping[str, Any]) -> None:
    """Write one record on its own (PutItem); refuses to overwrite an existing record."""
    try:
        _item(record).save(condition=AuditItem.pk.does_not_exist())
    except PutError as exc:
        if exc.cause_response_code == "ConditionalCheckFailedException":
            raise AlreadyRecorded(audit.sort_key(record)) from None
        raise ServiceUnavailable(extra={"retryable": True}) from exc


def append_read(identity: Any, action: str, *, dossier_code: str | None = None, subject: str | None = None,
                detail: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Record a sensitive read BEFORE returning the data; if this fails the read fails (503).

    ``identity`` is the caller (chalicelib.trust.rules.identity.Identity or an audit.Actor); ``action`` one
    of audit.READ_ACTIONS; the read is about ``dossier_code`` or about ``subject``
    (``audit.subject_key(id_number)`` for a privacy export). One PutItem."""
    record = audit.read(identity, action, dossier_code=dossier_code, subject=subject, detail=detail)
    append(record)
    return record


# --- reads (admins: GET /audit) ------------------------------------------------------------

@dataclass(frozen=True)
class Page:
    items: list[dict[str, Any]]
    next_cursor: str | None


def records_of_dossier(code: str, *, limit: int, cursor: str | None) -> Page:
    """A dossier's records, oldest first. One Query."""
    key = f"DOSSIER#{code}"
    start = decode_cursor(cursor, "pk", key, "sk") if cursor else None
    return _page(AuditItem.query(key, limit=limit, last_evaluated_key=start))


def records_of_feedback(feedback_id: str, *, limit: int, cursor: str | None) -> Page:
    """A citizen's feedback's records, oldest first. One Query."""
    key = audit.feedback_partition(feedback_id)
    start = decode_cursor(cursor, "pk", key, "sk") if cursor else None
    return _page(AuditItem.query(key, limit=limit, last_evaluated_key=start))


def records_of_actor(sub: str, *, limit: int, cursor: str | None) -> Page:
    """One actor's records, oldest first. One Query on the by_actor index."""
    start = decode_cursor(cursor, "actor_sub", sub, "sk") if cursor else None
    return _page(AuditItem.by_actor.query(sub, limit=limit, last_evaluated_key=start))


def _page(result: Any) -> Page:
    items = [json.loads(item.body) for item in result]
    last = result.last_evaluated_key
    return Page(items=items, next_cursor=encode_cursor(last) if last else None)
