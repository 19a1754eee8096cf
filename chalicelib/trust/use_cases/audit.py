"""Use cases of the audit log: admins read it (GET /audit); other contexts record a sensitive
read through ``append_read``. Nothing updates or deletes it."""
from __future__ import annotations

from typing import Any

from chalicelib.trust.store import audit as audit_store
from chalicelib.trust.store.audit import append_read  # noqa: F401 (other contexts record reads here)
from chalicelib.trust.rules import permissions
from chalicelib.runtime.cursors import BadCursor
from chalicelib.kernel.errors import MalformedRequest, ValidationFailed
from chalicelib.trust.rules.identity import Identity


def records(identity: Identity, *, dossier: str | None, actor: str | None, limit: int,
            cursor: str | None, feedback: str | None = None) -> dict[str, Any]:
    """One page of a dossier's, a feedback's or one actor's records, oldest first. Admins only."""
    permissions.scope_of(identity, "audit.read")
    if [dossier, feedback, actor].count(None) != 2:
        message = "Chọn đúng một trong ba: mã hồ sơ (dossier), mã phản ánh (feedback) hoặc người thực hiện (actor)."
        raise ValidationFailed(fields={"dossier": message, "feedback": message, "actor": message})
    try:
        if dossier is not None:
            page = audit_store.records_of_dossier(dossier, limit=limit, cursor=cursor)
        elif feedback is not None:
            page = audit_store.records_of_feedback(feedback, limit=limit, cursor=cursor)
        else:
            page = audit_store.records_of_actor(actor or "", limit=limit, cursor=cursor)
    except BadCursor:
        raise MalformedRequest("Con trỏ phân trang (cursor) không hợp lệ.", code="invalid_cursor",
                               fields={"cursor": "Không hợp lệ hoặc thuộc danh sách khác."}) from None
    return {"items": page.items, "next_cursor": page.next_cursor}
