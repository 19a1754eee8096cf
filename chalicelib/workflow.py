"""Use cases of agency processing: every action after acceptance, run the same way.

``act`` checks, in this order: the caller's role (403), the body (422), the dossier (404),
the caller's reach over it (403), the state graph (409), uploaded files (422), then the
processing rules (chalicelib/processing.py), and writes the dossier and its event in one
version-checked transaction (409 ``concurrent_update`` if someone else was faster).
Nothing here knows about HTTP; nothing in the rules knows about storage.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Callable, Mapping

from chalicelib import action_input, audit, processing, store, transitions
from chalicelib.attachments import missing_uploads
from chalicelib.calendar import default_calendar, iso, to_local
from chalicelib.dossiers import decide, full_view
from chalicelib.errors import ApiError, Forbidden, NotFound, ValidationFailed
from chalicelib.identity import Identity
from chalicelib.intake import _event as dossier_event

OFFICERS = ("officer", "leader")
Scope = Callable[[Mapping[str, Any], Identity], None]


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


# --- who may act on a dossier ------------------------------------------------------------------

def agency_scope(dossier: Mapping[str, Any], identity: Identity) -> None:
    """Officers of the receiving agency, or of the agency holding the current step."""
    if identity.agency_id not in (dossier["agency_id"], dossier.get("holder_agency_id")):
        if identity.agency_id in dossier.get("agencies", []):
            raise Forbidden("Hồ sơ đã được chuyển sang cơ quan khác xử lý.", code="agency_out_of_scope")
        raise Forbidden("Hồ sơ thuộc thẩm quyền của cơ quan khác.", code="agency_out_of_scope")


def owner_scope(dossier: Mapping[str, Any], identity: Identity) -> None:
    """The citizen who owns it; anyone else gets 404, as if it did not exist."""
    if identity.role != "citizen" or dossier["owner_sub"] != identity.sub:
        raise NotFound("Không tìm thấy hồ sơ.", code="dossier_not_found")


def owner_or_desk_scope(dossier: Mapping[str, Any], identity: Identity) -> None:
    """The owner online; for a dossier received at the desk, the receiving agency's officers
    act for the citizen who came in person."""
    if identity.role == "citizen":
        owner_scope(dossier, identity)
    elif dossier["channel"] == "online":
        raise Forbidden("Hồ sơ nộp trực tuyến: chỉ công dân chủ hồ sơ được thực hiện thao tác này.",
                        code="owner_only")
    elif identity.agency_id != dossier["agency_id"]:
        raise Forbidden("Hồ sơ thuộc thẩm quyền của cơ quan khác.", code="agency_out_of_scope")


@dataclass(frozen=True)
class Action:
    apply: Callable[..., dict[str, Any]]
    roles: tuple[str, ...]
    scope: Scope
    uploads: str | None = None       # key of the params holding files that must be in S3


ACTIONS: dict[str, Action] = {
    "accept": Action(processing.start_clock, (), agency_scope),       # integrations only; officers use /accept
    "forward": Action(processing.apply_forward, OFFICERS, agency_scope),
    "request_supplement": Action(processing.apply_request_supplement, OFFICERS, agency_scope),
    "supplement": Action(processing.apply_supplement, ("citizen", *OFFICERS), owner_or_desk_scope, "attachments"),
    "extend": Action(processing.apply_extend, OFFICERS, agency_scope),
    "stop": Action(processing.apply_stop, OFFICERS, agency_scope),
    "withdraw": Action(processing.apply_withdraw, ("citizen", *OFFICERS), owner_or_desk_scope),
    "issue_result": Action(processing.apply_issue_result, OFFICERS, agency_scope, "documents"),
    "return_result": Action(processing.apply_return_result, OFFICERS, agency_scope),
    "rate": Action(processing.apply_rate, ("citizen",), owner_scope),
}
# What POST /dossiers/{code}/actions accepts; supplements and ratings have their own paths.
ACTIONS_ENDPOINT = ("forward", "request_supplement", "extend", "stop", "withdraw", "issue_result", "return_result")
AUDITED = ("reason", "to_step", "assignee", "method", "decision", "backdated", "new_due_at")


@dataclass(frozen=True)
class Actor:
    """Who an act is recorded as, when it is not the token's subject (a connected system)."""
    by: str
    scope: Scope
    source_event_id: str | None = None


def action_from(body: Any) -> str:
    action = body.get("action") if isinstance(body, Mapping) else None
    if action not in ACTIONS_ENDPOINT:
        raise ValidationFailed(fields={"action": "Thao tác (action) phải là một trong: " + ", ".join(ACTIONS_ENDPOINT) + "."})
    return action


def act(code: str, identity: Identity, body: Any, action: str, *, actor: Actor | None = None,
        clock: Callable[[], datetime] | None = None) -> dict[str, Any]:
    spec = ACTIONS[action]
    if actor is None and identity.role not in spec.roles:
        raise Forbidden()
    params = action_input.parse(action, body) if action in action_input.PARSERS else {}
    dossier = store.get_dossier(code)
    if dossier is None:
        raise NotFound("Không tìm thấy hồ sơ.", code="dossier_not_found")
    (actor.scope if actor else spec.scope)(dossier, identity)
    expected, before = dossier["version"], audit.snapshot(dossier)
    status = transitions.next_status(dossier["status"], action)
    if spec.uploads:
        errors = missing_uploads(identity.sub, params[spec.uploads], key=spec.uploads)
        if errors:
            raise ValidationFailed(fields=errors)
    now = to_local((clock or utc_now)())
    by = actor.by if actor else identity.sub
    due_before = dossier.get("due_at")
    data = spec.apply(dossier, params, at=now, by=by, calendar=default_calendar())
    noted = _decision_details(data, actor)
    if dossier.get("due_at") != due_before:  # the report needs the due date in force over time
        noted["due_at"] = dossier.get("due_at")
    decide(dossier, action=action, status=status, at=iso(now), by=by, **noted)
    event = dossier_event(action, dossier, occurred_at=iso(now), data=data)
    store.save_transition(dossier, event, expected_version=expected,
                          audit_record=audit.change(before, dossier, [event], identity))
    return full_view(dossier)


def _decision_details(data: Mapping[str, Any], actor: Actor | None) -> dict[str, Any]:
    """What the decision log keeps besides action, time and author."""
    details = {key: data[key] for key in AUDITED if data.get(key) is not None}
    effective = data.get("finished_at") or data.get("returned_at")
    if effective:
        details["effective_at"] = effective
    if actor and actor.source_event_id:
        details["source_event_id"] = actor.source_event_id
    return details


# --- warnings ----------------------------------------------------------------------------------

def due_list(identity: Identity, kind: str, *, limit: int, cursor: str | None,
             clock: Callable[[], datetime] | None = None) -> dict[str, Any]:
    """Open dossiers of the caller's agency whose step or overall due date is within 1 working
    day (``soon``) or past (``overdue``); soonest first."""
    if kind not in processing.DUE_FILTERS:
        raise ValidationFailed(fields={"due": "Bộ lọc hạn xử lý (due) phải là soon hoặc overdue."})
    identity.require(*OFFICERS)
    now = to_local((clock or utc_now)())
    after, before = processing.due_window(kind, now, default_calendar())
    try:
        page = store.list_due(agency_id=identity.agency_id or "", after=after, before=before, limit=limit, cursor=cursor)
    except store.BadCursor:
        raise ApiError("Con trỏ phân trang (cursor) không hợp lệ.", code="invalid_cursor",
                       fields={"cursor": "Không hợp lệ hoặc thuộc danh sách khác."}) from None
    return {"items": [processing.due_view(item, now) for item in page.items], "next_cursor": page.next_cursor,
            "window": {"from": after, "to": before}}
