"""Use cases of citizens' feedback: file it, list and read it, answer, refuse, ask for more
information, react to the answer, and the counts of the 766 group 5 (5.1–5.3).

Who may do what is in chalicelib/trust/rules/permissions.py (``feedback.*``): a citizen files
and reacts to their own; an officer records one received by phone for their agency and, with
leaders, handles their agency's; admins see all. Every change is written with its audit record
(chalicelib.trust.rules.audit.feedback_change) in one transaction.
"""
from __future__ import annotations

import copy
import uuid
from collections.abc import Callable
from datetime import date, datetime, timedelta, UTC
from typing import Any

from chalicelib.catalogue.use_cases import procedures as catalogue
from chalicelib.dossiers.use_cases import reads as dossier_reads
from chalicelib.feedback.rules import feedback as rules
from chalicelib.feedback.rules.feedback import Feedback
from chalicelib.feedback.store import feedback as store
from chalicelib.kernel.errors import Forbidden, NotFound, ValidationFailed
from chalicelib.kernel.events import new_event
from chalicelib.kernel.working_days import default_calendar, iso, to_local
from chalicelib.trust.rules import audit, permissions
from chalicelib.trust.rules.identity import Identity

SOURCE = "motcua.feedback"
Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


def submit(body: Any, identity: Identity, *, clock: Clock = utc_now) -> dict[str, Any]:
    """A citizen files a feedback, or an officer records one received by phone."""
    by_phone = identity.role != "citizen"
    fields = rules.validate_submission(body, by_phone=by_phone)
    dossier = None
    if fields["dossier_code"]:
        dossier = dossier_reads.get_dossier(fields["dossier_code"])
        mine = dossier is not None and (dossier.get("owner_sub") == identity.sub if not by_phone
                                        else identity.agency_id in permissions.involved_agencies(dossier))
        if not mine:
            raise ValidationFailed(fields={"dossier_code": "Không tìm thấy hồ sơ này trong các hồ sơ của bạn."})
    agency_id = dossier["agency_id"] if dossier else fields["agency_id"]
    if by_phone and agency_id != identity.agency_id:
        raise Forbidden("Chỉ được ghi nhận phản ánh gửi cơ quan mình.", code="agency_out_of_scope")
    if agency_id not in catalogue.snapshot().agencies:
        raise ValidationFailed(fields={"agency_id": "Không có cơ quan với mã này."})
    now = iso(to_local(clock()))
    feedback = rules.new_feedback(
        feedback_id=f"PA{uuid.uuid4().hex[:16].upper()}", fields=fields, agency_id=agency_id,
        channel="phone" if by_phone else "online", submitted_by=f"phone:{identity.sub}" if by_phone else identity.sub,
        recorded_by=identity.sub if by_phone else None, received_at=now)
    event = None
    if dossier is not None:
        event = {**new_event("FeedbackReceived", dossier_code=dossier["code"], version=dossier["version"],
                             occurred_at=now, agency_id=dossier["agency_id"], procedure_code=dossier["procedure_code"],
                             status=dossier["status"], data={"feedback_id": feedback["id"], "kind": feedback["kind"]}),
                 "source": SOURCE}
    record = audit.feedback_change(None, feedback, identity, "FeedbackReceived", events=[event] if event else [])
    store.create(feedback, event, record)
    return view(feedback)


def view(feedback: Feedback) -> dict[str, Any]:
    return dict(feedback)


def _load(feedback_id: str, identity: Identity, action: str) -> Feedback:
    feedback = store.get(feedback_id) if len(feedback_id) <= 40 else None
    if feedback is None or not _in_scope(feedback, identity, action):
        raise NotFound("Không tìm thấy phản ánh.", code="feedback_not_found")
    return feedback


def _in_scope(feedback: Feedback, identity: Identity, action: str) -> bool:
    scope = permissions.scope_of(identity, action)
    if scope == permissions.OWN:
        return feedback.get("submitted_by") == identity.sub
    if scope == permissions.AGENCY:
        return feedback.get("agency_id") == identity.agency_id
    return scope == permissions.ALL


def read(feedback_id: str, identity: Identity) -> dict[str, Any]:
    return view(_load(feedback_id, identity, "feedback.read"))


def _change(feedback_id: str, identity: Identity, action: str, apply: Callable[[Feedback, str], None],
            clock: Clock, audited: str) -> dict[str, Any]:
    """Load, apply, and save the change with its audit record (``audited``: its action there)."""
    feedback = _load(feedback_id, identity, action)
    before = copy.deepcopy(feedback)
    apply(feedback, iso(to_local(clock())))
    feedback["version"] = before["version"] + 1
    store.save(feedback, before["version"], audit.feedback_change(before, feedback, identity, audited))
    return view(feedback)


def answer(feedback_id: str, body: Any, identity: Identity, *, clock: Clock = utc_now) -> dict[str, Any]:
    text = rules.reason_of(body, "answer", "Nội dung trả lời")
    publish = body.get("publish", True)
    if not isinstance(publish, bool):
        raise ValidationFailed(fields={"publish": "Phải là true hoặc false."})
    return _change(feedback_id, identity, "feedback.answer",
                   lambda f, at: rules.answer(f, text, publish=publish, at=at, by=identity.sub), clock,
                   "FeedbackAnswered")


def refuse(feedback_id: str, body: Any, identity: Identity, *, clock: Clock = utc_now) -> dict[str, Any]:
    reason = rules.reason_of(body, "reason", "Lý do từ chối", 1000)
    return _change(feedback_id, identity, "feedback.refuse",
                   lambda f, at: rules.refuse(f, reason, at=at, by=identity.sub), clock, "FeedbackRefused")


def request_supplement(feedback_id: str, body: Any, identity: Identity, *, clock: Clock = utc_now) -> dict[str, Any]:
    reason = rules.reason_of(body, "reason", "Nội dung cần bổ sung", 1000)
    return _change(feedback_id, identity, "feedback.request_supplement",
                   lambda f, at: rules.request_supplement(f, reason, at=at, by=identity.sub), clock,
                   "FeedbackSupplementRequested")


def supply(feedback_id: str, body: Any, identity: Identity, *, clock: Clock = utc_now) -> dict[str, Any]:
    """The author supplies the information asked for (an officer, for one recorded by phone)."""
    content = rules.reason_of(body, "content", "Thông tin bổ sung")
    feedback = _load(feedback_id, identity, "feedback.supply")
    if identity.role != "citizen" and feedback.get("channel") != "phone":
        raise Forbidden("Chỉ người gửi phản ánh trực tuyến được bổ sung thông tin.", code="owner_only")
    return _change(feedback_id, identity, "feedback.supply",
                   lambda f, at: rules.supply(f, content, at=at, by=identity.sub), clock, "FeedbackSupplied")


def react(feedback_id: str, body: Any, identity: Identity, *, clock: Clock = utc_now) -> dict[str, Any]:
    reaction = body.get("reaction") if isinstance(body, dict) else None
    return _change(feedback_id, identity, "feedback.react", lambda f, _at: rules.react(f, reaction), clock,
                   "FeedbackReacted")


# --- lists and the 766 counts -------------------------------------------------------------------

def received_between(agencies: list[str], start: date, end: date) -> list[Feedback]:
    """The feedback these agencies received in [start, end] (local days)."""
    low, high = start.isoformat(), (end + timedelta(days=1)).isoformat()
    return [f for agency in agencies for f in store.of_agency(agency, low, high)
            if start <= rules.received_day(f) <= end]


def listing(identity: Identity, *, agency_id: str | None, start: date, end: date) -> dict[str, Any]:
    scope = permissions.scope_of(identity, "feedback.list")
    if scope == permissions.AGENCY:
        if agency_id and agency_id != identity.agency_id:
            raise Forbidden("Chỉ được xem phản ánh của cơ quan mình.", code="agency_out_of_scope")
        agencies = [identity.agency_id or ""]
    else:
        agencies = [agency_id] if agency_id else sorted(catalogue.snapshot().agencies)
    items = received_between(agencies, start, end)
    calendar = default_calendar()
    return {"items": [{**view(f), "on_time": rules.on_time(f, end, calendar)[0]} for f in items]}


def published(agency_id: str | None) -> dict[str, Any]:
    """The public page: answered, published feedback of the last year, newest first."""
    today = to_local(utc_now()).date()
    agencies = [agency_id] if agency_id else sorted(catalogue.snapshot().agencies)
    items = [f for f in received_between(agencies, today - timedelta(days=366), today)
             if f["status"] == "answered" and f.get("published")]
    items.sort(key=lambda f: (f.get("answer") or {}).get("answered_at", ""), reverse=True)
    return {"items": [rules.public_view(f) for f in items[:200]]}


def counts(agencies: list[str], start: date, end: date) -> dict[str, tuple[int, int]]:
    return rules.counts(received_between(agencies, start, end), start, end, default_calendar())


def members(agencies: list[str], start: date, end: date, indicator: str) -> list[tuple[Feedback, bool, bool, str]]:
    """Each feedback received in the period: (feedback, in denominator, in numerator, why)."""
    calendar = default_calendar()
    out = []
    for feedback in received_between(agencies, start, end):
        den, num, why = rules.membership(feedback, end, calendar)[indicator]
        out.append((feedback, den, num, why))
    return out


def complained_codes(codes: list[str]) -> set[str]:
    """Dossiers with a complaint (766, 5.4), for the index's direct recount and drill-down."""
    return store.complained(codes)
