"""The audit log's records (pure): who did what to which dossier or feedback, and who read what.

One record per state change of a dossier or of a citizen's feedback (written in the state
change's own transaction by the repositories, so a change never exists without its record) and
one per sensitive read (chalicelib.trust.store.audit.append_read). Records say *what* changed, never the personal data
itself: ``changed`` names every changed field, and ``before``/``after`` carry values only for
fields in ``VALUE_FIELDS`` (status, version, dates, amounts, agencies…) or, for a feedback,
``FEEDBACK`` (status, dates, published…). Applicant data, contacts, free text and documents are
named, never copied.

The request id is ambient, like Powertools' correlation id: the API middleware binds API
Gateway's requestId, queue consumers the event id, scheduled jobs the Lambda request id
(``bind_request``). Nothing here calls AWS.
"""
from __future__ import annotations

import copy
import uuid
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime, UTC
from typing import Any
from collections.abc import Iterator, Mapping, Sequence

from chalicelib.dossiers.rules.records import AUDIT_MEMBER_KEYS, AUDIT_VALUE_KEYS, Dossier
from chalicelib.feedback.rules import feedback as feedback_rules
from chalicelib.kernel.working_days import to_local

CHANGE, READ = "change", "read"
# Values copied into before/after: scalars that are about the procedure, never about the person
# (the dossier keys chalicelib.dossiers.rules.records marks AUDIT).
VALUE_FIELDS = AUDIT_VALUE_KEYS
# Dict fields whose changed scalar members are named one level deep (``step.index``), with
# their values: a step and the payment ledger hold no personal data (marked AUDIT_MEMBERS).
NESTED_VALUE_FIELDS = AUDIT_MEMBER_KEYS
MAX_VALUE_CHARS = 200
_request_id: ContextVar[str | None] = ContextVar("motcua_audit_request_id", default=None)


@dataclass(frozen=True)
class Copyable:
    """What a record may copy of one kind of thing: the scalar ``values`` of top-level keys;
    the dict keys whose changes are named one level deep (``nested``); of their members, the
    ``members`` paths copied (None: every scalar member, as for a dossier's step and ledger)."""
    values: frozenset[str]
    nested: frozenset[str]
    members: frozenset[str] | None = None


DOSSIER = Copyable(VALUE_FIELDS, NESTED_VALUE_FIELDS)
FEEDBACK = Copyable(feedback_rules.AUDIT_VALUE_KEYS, feedback_rules.AUDIT_NESTED_KEYS,
                    feedback_rules.AUDIT_MEMBER_PATHS)


@dataclass(frozen=True)
class Actor:
    """Who acted: a token's subject with its role and agency, or one of our own jobs."""
    sub: str
    role: str
    agency_id: str | None = None

    @classmethod
    def of(cls, identity: Any) -> Actor:
        return cls(identity.sub, identity.role, identity.agency_id)

    @classmethod
    def system(cls, job: str) -> Actor:
        """A job acting on its own (the IPN handler, the reconciliation sweep)."""
        return cls(f"system:{job}", "system")

    def to_dict(self) -> dict[str, Any]:
        return {"sub": self.sub, "role": self.role, "agency_id": self.agency_id}


# --- the request id ------------------------------------------------------------------------

@contextmanager
def bind_request(request_id: str | None) -> Iterator[str]:
    """Every record written inside carries ``request_id`` (a fresh one if None)."""
    token = _request_id.set(request_id or f"internal-{uuid.uuid4()}")
    try:
        yield _request_id.get()  # type: ignore[misc]
    finally:
        _request_id.reset(token)


def current_request_id() -> str | None:
    return _request_id.get()


# --- state changes -------------------------------------------------------------------------

def snapshot(dossier: Dossier) -> Dossier:
    """A copy of the dossier before a use case changes it in place: the record's ``before``."""
    return copy.deepcopy(dossier)


def changed_fields(before: Mapping[str, Any] | None, after: Mapping[str, Any], copyable: Copyable = DOSSIER) -> list[str]:
    """Sorted paths of what differs: top-level keys, and ``key.member`` inside the nested keys
    (a dossier's step and payment)."""
    before = before or {}
    paths = []
    for key in sorted(set(before) | set(after)):
        old, new = before.get(key), after.get(key)
        if old == new:
            continue
        if key in copyable.nested and isinstance(old, Mapping) and isinstance(new, Mapping):
            paths += [f"{key}.{member}" for member in sorted(set(old) | set(new)) if old.get(member) != new.get(member)]
        else:
            paths.append(key)
    return paths


def _value(record: Mapping[str, Any], path: str, copyable: Copyable) -> tuple[bool, Any]:
    """(copyable, value) of a changed path: only scalars of non-personal fields are copied."""
    top, _, member = path.partition(".")
    if member:
        if copyable.members is not None and path not in copyable.members:
            return False, None
        container = record.get(top)
        value = container.get(member) if top in copyable.nested and isinstance(container, Mapping) else None
    elif top in copyable.values:
        value = record.get(top)
    else:
        return False, None
    if value is None or isinstance(value, (bool, int)) or (isinstance(value, str) and len(value) <= MAX_VALUE_CHARS):
        return True, value
    return False, None


def _state(record: Mapping[str, Any] | None, paths: Sequence[str],
           copyable: Copyable = DOSSIER) -> dict[str, Any] | None:
    if record is None:
        return None
    state = {"status": record.get("status"), "version": record.get("version")}
    for path in paths:
        copied, value = _value(record, path, copyable)
        if copied:
            state[path] = value
    return state


def _payment_state(payment: Mapping[str, Any] | None) -> dict[str, Any] | None:
    return None if payment is None else {"status": payment["status"], "version": payment["version"]}


def change(before: Mapping[str, Any] | None, after: Mapping[str, Any], events: Sequence[Mapping[str, Any]],
           actor: Any, *, payment_before: Mapping[str, Any] | None = None,
           payment_after: Mapping[str, Any] | None = None, at: datetime | None = None,
           request_id: str | None = None) -> dict[str, Any]:
    """The record of one state change of a dossier (``before`` None: its creation).

    ``actor`` is an Actor or the caller's Identity. Its id is the first outbox event's id, so
    the record and the change share one identity and a second write of the same change is
    refused by the table's condition."""
    if not events:
        raise ValueError("a state change has at least one event")
    paths = changed_fields(before, after)
    record = _base(CHANGE, events[0]["id"], _actor(actor), events[0]["type"], at, request_id)
    record.update(
        dossier_code=after["code"], agency_id=after.get("agency_id"),
        before=_state(before, paths), after=_state(after, paths), changed=paths,
        events=[{"id": e["id"], "type": e["type"], "version": e["version"]} for e in events],
    )
    if payment_after is not None:
        record["payment"] = {"payment_id": payment_after["payment_id"], "before": _payment_state(payment_before),
                             "after": _payment_state(payment_after)}
    return record


# --- citizens' feedback --------------------------------------------------------------------

FEEDBACK_ACTIONS = ("FeedbackReceived", "FeedbackAnswered", "FeedbackRefused", "FeedbackSupplementRequested",
                    "FeedbackSupplied", "FeedbackReacted")


def _opened(feedback: Mapping[str, Any]) -> dict[str, Any]:
    """The feedback with its unset answer, refusal and supplement as {}, so that a change that
    sets one names it member by member (``answer.text``, ``answer.answered_at``)."""
    return {k: ({} if v is None and k in FEEDBACK.nested else v) for k, v in feedback.items()}


def feedback_change(before: Mapping[str, Any] | None, after: Mapping[str, Any], actor: Any, action: str, *,
                    events: Sequence[Mapping[str, Any]] = (), at: datetime | None = None,
                    request_id: str | None = None) -> dict[str, Any]:
    """The record of one state change of a citizen's feedback (``before`` None: it was filed),
    filed under the feedback. Most feedback changes write no outbox event; one that does (a
    feedback about a dossier is filed) gives the record its id, as for a dossier's change."""
    if action not in FEEDBACK_ACTIONS:
        raise ValueError(f"unknown feedback action {action!r}; add it to FEEDBACK_ACTIONS")
    old, new = (None, after) if before is None else (_opened(before), _opened(after))
    paths = changed_fields(old, new, FEEDBACK)
    record = _base(CHANGE, events[0]["id"] if events else str(uuid.uuid4()), _actor(actor), action, at, request_id)
    record.update(feedback_id=after["id"], agency_id=after.get("agency_id"),
                  before=_state(old, paths, FEEDBACK), after=_state(new, paths, FEEDBACK), changed=paths)
    if events:
        record["events"] = [{"id": e["id"], "type": e["type"], "version": e["version"]} for e in events]
    return record


# --- sensitive reads -----------------------------------------------------------------------

READ_ACTIONS = ("dossier.read", "attachment.download", "privacy.export", "dossier.form", "file_link.download")


def subject_key(id_number: str, key: str) -> str:
    """How a read about a person (not a dossier) is filed: a keyed digest (HMAC with ``key``,
    the id-hash key of the id-number lookups, chalicelib.runtime.credentials.id_hash_key),
    never the raw id number. A plain hash of 12 digits could be reversed by trying them all."""
    from chalicelib.trust.rules.privacy import id_number_hash
    return "hmac:" + id_number_hash(id_number, key)[:32]


def read(actor: Any, action: str, *, dossier_code: str | None = None, subject: str | None = None,
         detail: Mapping[str, Any] | None = None, at: datetime | None = None,
         request_id: str | None = None) -> dict[str, Any]:
    """The record of one sensitive read: of a dossier (``dossier_code``) or of everything held
    about one person (``subject``, from ``subject_key``). ``detail`` must hold no personal data
    (an attachment's upload id, how many dossiers an export held…)."""
    if action not in READ_ACTIONS:
        raise ValueError(f"unknown read action {action!r}; add it to READ_ACTIONS")
    if (dossier_code is None) == (subject is None):
        raise ValueError("a read is about a dossier or about a subject, exactly one")
    record = _base(READ, str(uuid.uuid4()), _actor(actor), action, at, request_id)
    record.update(dossier_code=dossier_code, subject=subject, detail=dict(detail or {}))
    return record


def _actor(who: Any) -> Actor:
    return who if isinstance(who, Actor) else Actor.of(who)


def _base(kind: str, record_id: str, actor: Actor, action: str, at: datetime | None,
          request_id: str | None) -> dict[str, Any]:
    moment = to_local(at or datetime.now(UTC))
    return {"id": record_id, "kind": kind, "at": moment.isoformat(timespec="milliseconds"),
            "actor": actor.to_dict(), "action": action,
            "request_id": request_id or current_request_id() or f"internal-{uuid.uuid4()}"}


def partition(record: Mapping[str, Any]) -> str:
    """The key records are filed under: the dossier, the feedback, or the person a read was about."""
    if record.get("feedback_id"):
        return feedback_partition(record["feedback_id"])
    return f"DOSSIER#{record['dossier_code']}" if record.get("dossier_code") else f"SUBJECT#{record['subject']}"


def feedback_partition(feedback_id: str) -> str:
    return f"FEEDBACK#{feedback_id}"


def sort_key(record: Mapping[str, Any]) -> str:
    """Time order (milliseconds, +07:00 throughout), made unique by the record id."""
    return f"{record['at']}#{record['id']}"
