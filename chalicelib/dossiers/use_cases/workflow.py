"""Use cases of agency processing: every action after acceptance, run the same way.

``act`` checks, in this order: the caller's role (403), the body (422), the dossier (404),
the caller's reach over it (403), the state graph (409), uploaded files (422), then the
processing rules (chalicelib/dossiers/rules/processing.py), and writes the dossier and its event in one
version-checked transaction (409 ``concurrent_update`` if someone else was faster).
Nothing here knows about HTTP; nothing in the rules knows about storage.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, UTC
from typing import Any
from collections.abc import Callable, Mapping

from chalicelib.dossiers.rules import actions as action_input
from chalicelib.trust.rules import audit
from chalicelib.trust.rules import permissions
from chalicelib.dossiers.rules import processing
from chalicelib.dossiers.store import dossiers as store
from chalicelib.dossiers.rules import transitions
from chalicelib.dossiers.store.attachments import missing_uploads
from chalicelib.kernel.working_days import default_calendar, iso, to_local
from chalicelib.dossiers.rules.submission import decide, full_view, record_uploader
from chalicelib.kernel.errors import MalformedRequest, ValidationFailed
from chalicelib.trust.rules.identity import Identity
from chalicelib.dossiers.use_cases.intake import _event as dossier_event


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Action:
    """A processing action. Who may run it, and on which dossiers, is the permission matrix's
    ``dossier.<name>`` (chalicelib/trust/rules/permissions.py)."""
    apply: Callable[..., dict[str, Any]]
    uploads: str | None = None       # key of the params holding files that must be in S3


ACTIONS: dict[str, Action] = {
    "accept": Action(processing.start_clock),       # integrations only; officers use /accept
    "forward": Action(processing.apply_forward),
    "request_supplement": Action(processing.apply_request_supplement),
    "supplement": Action(processing.apply_supplement, "attachments"),
    "extend": Action(processing.apply_extend),
    "stop": Action(processing.apply_stop),
    "withdraw": Action(processing.apply_withdraw),
    "issue_result": Action(processing.apply_issue_result, "documents"),
    "return_result": Action(processing.apply_return_result),
    "rate": Action(processing.apply_rate),
}
# What POST /dossiers/{code}/actions accepts; supplements and ratings have their own paths.
ACTIONS_ENDPOINT = ("forward", "request_supplement", "extend", "stop", "withdraw", "issue_result", "return_result")
AUDITED = ("reason", "to_step", "assignee", "method", "decision", "backdated", "new_due_at")


@dataclass(frozen=True)
class Actor:
    """Who an act is recorded as, when it is not the token's subject (a connected system),
    the permission it acts under, and the report it applies (applied at most once)."""
    by: str
    permission: str
    source_event_id: str | None = None


class AlreadyApplied(Exception):
    """The actor's report is already in the dossier's decisions: nothing to do."""

    def __init__(self, dossier: Mapping[str, Any]) -> None:
        self.dossier = dossier


def action_from(body: Any) -> str:
    action = body.get("action") if isinstance(body, Mapping) else None
    if action not in ACTIONS_ENDPOINT:
        raise ValidationFailed(fields={"action": "Thao tác (action) phải là một trong: " + ", ".join(ACTIONS_ENDPOINT) + "."})
    return action


def act(code: str, identity: Identity, body: Any, action: str, *, actor: Actor | None = None,
        clock: Callable[[], datetime] | None = None) -> dict[str, Any]:
    spec = ACTIONS[action]
    permission = actor.permission if actor else f"dossier.{action}"
    permissions.scope_of(identity, permission)
    params = action_input.parse(action, body) if action in action_input.PARSERS else {}
    dossier = permissions.check(identity, permission, store.get_dossier(code))
    if actor and actor.source_event_id and any(
            d.get("source_event_id") == actor.source_event_id for d in dossier.get("decisions", [])):
        raise AlreadyApplied(dossier)
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
    if spec.uploads:
        record_uploader(dossier, params[spec.uploads], identity.sub)
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
    permissions.scope_of(identity, "dossier.due_list")
    now = to_local((clock or utc_now)())
    after, before = processing.due_window(kind, now, default_calendar())
    try:
        page = store.list_due(agency_id=identity.agency_id or "", after=after, before=before, limit=limit, cursor=cursor)
    except store.BadCursor:
        raise MalformedRequest("Con trỏ phân trang (cursor) không hợp lệ.", code="invalid_cursor",
                               fields={"cursor": "Không hợp lệ hoặc thuộc danh sách khác."}) from None
    return {"items": [processing.due_view(item, now) for item in page.items], "next_cursor": page.next_cursor,
            "window": {"from": after, "to": before}}
