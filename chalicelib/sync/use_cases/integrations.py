"""Inbound reports from ministry systems: POST /integrations/{system}/events.

A connected system (role ``integration``, body signed with its shared secret) reports
acceptance, progress, supplement requests, results and returns for the dossiers of its
procedures. Each report is applied through the same pipeline, state graph and rules as an
officer's action (workflow.act, then chalicelib/dossiers/use_cases/transition.py), so a report
cannot accept a dossier whose fees must be paid first and are not. It is recorded as
``integration:{system}`` with the report's ``event_id``; a report already applied answers
200 without changing anything, so the system may retry freely. The one-stop dossier
follows, so SMS, lookup, sync and rating work for it too.
"""
from __future__ import annotations

from typing import Any

from chalicelib.dossiers.use_cases import transition, workflow
from chalicelib.edge.web import decode_json
from chalicelib.kernel.errors import Forbidden, NotFound
from chalicelib.sync.rules import connectors
from chalicelib.trust.rules import permissions
from chalicelib.trust.rules.identity import Identity


def receive(system_name: str, identity: Identity, raw_body: bytes, signature: str | None) -> dict[str, Any]:
    """Check role, system and signature before reading the body; then apply the report.
    An integration client reports only as its own system (its token subject is the system's
    ``client_sub``), and only on dossiers of that system's procedures (permissions)."""
    permissions.scope_of(identity, "integration.report")
    system = connectors.systems().get(system_name)
    if system is None:
        raise NotFound("Hệ thống liên thông không được cấu hình.", code="unknown_system")
    if system.client_sub != identity.sub:
        raise Forbidden("Mã thông báo không thuộc hệ thống liên thông này.", code="wrong_system")
    if not connectors.verify(system.secret(), raw_body, signature):
        raise connectors.BadSignature()
    event_id, action, code, body = connectors.parse_report(decode_json(raw_body))
    actor = transition.Actor(by=f"integration:{system_name}", permission="integration.report", source_event_id=event_id)
    try:
        dossier = workflow.act(code, identity, body, action, actor=actor)
    except transition.AlreadyApplied as replay:
        return {"event_id": event_id, "applied": False, "dossier_code": code,
                "status": replay.dossier["status"], "version": replay.dossier["version"]}
    return {"event_id": event_id, "applied": True, "dossier_code": code,
            "status": dossier["status"], "version": dossier["version"]}
