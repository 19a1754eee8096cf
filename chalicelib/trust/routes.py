"""Routes of trust: the audit log (read-only, admins)."""
from __future__ import annotations

from typing import Any

from chalicelib.edge.routing import Routes
from chalicelib.edge.web import int_param, json_response, query_param

routes = Routes(__name__)


@routes.route("/audit")
def audit_log() -> Any:
    """The audit log, for admins; read-only (no route updates or deletes it)."""
    from chalicelib.trust.use_cases.audit import records
    request = routes.request()
    return json_response(records(
        routes.caller(), dossier=query_param(request, "dossier", max_len=60),
        actor=query_param(request, "actor", max_len=128), limit=int_param(request, "limit", 50, 1, 200),
        cursor=query_param(request, "cursor", max_len=2000)))
