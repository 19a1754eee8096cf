"""Routes of trust: the audit log (read-only, admins) and the dashboard's sign-in."""
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
        cursor=query_param(request, "cursor", max_len=2000), feedback=query_param(request, "feedback", max_len=40)))


# --- the leaders' dashboard's sign-in (docs/security.md#sign-in); the page is reports' own

@routes.route("/dashboard/config")
def dashboard_sign_in_config() -> Any:
    """Public: where the page signs people in (the identity provider, or the local page)."""
    from chalicelib.trust.use_cases.sign_in import dashboard_config
    return json_response(dashboard_config(), headers={"Cache-Control": "no-store"})


@routes.route("/dashboard/signin.js")
def dashboard_sign_in_script() -> Any:
    return _static("signin.js", "application/javascript; charset=utf-8")


@routes.route("/dashboard/sign-in")
def local_sign_in_page() -> Any:
    """The local stage's sign-in page: pick a role and an agency (404 in every other stage)."""
    from html import escape
    from chalicelib.reports.static import read_static
    from chalicelib.trust.use_cases.sign_in import agencies, require_local_stage
    require_local_stage()
    options = "".join(f'<option value="{escape(a["agency_id"])}">{escape(a["name"])} ({escape(a["agency_id"])})</option>'
                      for a in agencies())
    return _page(read_static("signin.html").replace("<!--agencies-->", options))


@routes.route("/dashboard/sign-in", method="POST")
def local_sign_in() -> Any:
    """Mint a local token for the chosen role and agency (local stage only, 404 elsewhere)."""
    from chalicelib.edge.web import parse_json_body
    from chalicelib.trust.use_cases.sign_in import mint_local, require_local_stage
    require_local_stage()
    return json_response(mint_local(parse_json_body(routes.request())), 201, headers={"Cache-Control": "no-store"})


def _static(name: str, mime: str) -> Any:
    from chalice import Response
    from chalicelib.reports.static import read_static
    return Response(body=read_static(name), status_code=200, headers={"Content-Type": mime, "Cache-Control": "no-cache"})


def _page(body: str) -> Any:
    from chalice import Response
    return Response(body=body, status_code=200, headers={"Content-Type": "text/html; charset=utf-8",
                                                         "Cache-Control": "no-store"})
