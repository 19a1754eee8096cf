"""Use cases of agency processing: every action after acceptance, run the same way.

``act`` checks, in this order: the caller's role (403), the body (422), then hands over to the
one pipeline (chalicelib/dossiers/use_cases/transition.py): the dossier (404), the caller's
reach over it (403), the state graph and the action's preconditions (409), uploaded files
(422), the processing rules (chalicelib/dossiers/rules/processing.py), and one version-checked
transaction for the dossier and its event (409 ``concurrent_update`` if someone else was
faster). Nothing here knows about HTTP; nothing in the rules knows about storage.
"""
from __future__ import annotations

from datetime import datetime, UTC
from typing import Any
from collections.abc import Callable, Mapping

from chalicelib.dossiers.rules import actions as action_input
from chalicelib.dossiers.rules import processing
from chalicelib.dossiers.rules.submission import full_view
from chalicelib.dossiers.store import dossiers as store
from chalicelib.dossiers.use_cases import transition
from chalicelib.kernel.errors import MalformedRequest, ValidationFailed
from chalicelib.kernel.working_days import default_calendar, to_local
from chalicelib.runtime.settings import settings
from chalicelib.trust.rules import permissions
from chalicelib.trust.rules.identity import Identity


def utc_now() -> datetime:
    return datetime.now(UTC)


# What POST /dossiers/{code}/actions accepts; supplements and ratings have their own paths.
ACTIONS_ENDPOINT = ("forward", "request_supplement", "extend", "stop", "withdraw", "issue_result", "return_result")


def action_from(body: Any) -> str:
    action = body.get("action") if isinstance(body, Mapping) else None
    if action not in ACTIONS_ENDPOINT:
        raise ValidationFailed(fields={"action": "Thao tác (action) phải là một trong: " + ", ".join(ACTIONS_ENDPOINT) + "."})
    return action


def act(code: str, identity: Identity, body: Any, action: str, *, actor: transition.Actor | None = None,
        clock: Callable[[], datetime] | None = None) -> dict[str, Any]:
    """Check the caller's role (403) and the body (422) before anything is read, then run the
    action through the pipeline (chalicelib/dossiers/use_cases/transition.py)."""
    permissions.scope_of(identity, transition.permission_for(action, actor))
    params = action_input.parse(action, body) if action in action_input.PARSERS else {}
    params.update(_context(action, identity))
    dossier = transition.run(code, identity, action, params, actor=actor, clock=clock or utc_now)
    return full_view(dossier)


def _context(action: str, identity: Identity) -> dict[str, Any]:
    """What an action's rule needs besides the body: the province's extension horizon
    (None: the procedure's statutory days), and whether a rating is recorded at a desk."""
    if action == "extend":
        return {"horizon_days": settings().extension_max_days}
    if action == "rate":
        return {"at_desk": identity.role != "citizen"}
    return {}


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
