"""The permission matrix, tested from the table itself through the real API.

For every route x role x situation (own/another's dossier, same/other agency, desk dossier,
own/other procedure) the expected outcome is derived from chalicelib.trust.rules.permissions.RULES, not
written per case: allowed (whatever the call then answers, it is not an authorization error),
or denied with the exact status and an authorization error code. One set of dossiers is built
once for the module; they are refused at the end of setup so that every allowed write stops at
the state graph (409) after authorization and no case changes what the next one sees.
"""
from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any
from collections.abc import Iterator

import pytest
from moto import mock_aws

from chalicelib.runtime import aws
from chalicelib.catalogue.store import procedures as catalogue_store
from chalicelib.sync.rules import connectors
from chalicelib.trust.rules import permissions
from chalicelib.dossiers.use_cases import workflow
from chalicelib.trust.rules.permissions import ALL, OWN, PROCEDURES, READ, RULES
from tests.api.conftest import Api, put_upload
from tests.api.test_intake import submission

JUDICIAL = "1.001023"        # Sở Tư pháp (agency A); the judicial-records system's procedure
NOTARY = "1.001756"          # also agency A; not a procedure of any connected system
AGENCY_A, AGENCY_B = "000.00.13.H50", "000.00.15.H50"
SYSTEM = "judicial-records"
AUTHZ_CODES = {"unauthenticated", "forbidden", "agency_out_of_scope", "owner_only",
               "dossier_not_found", "payment_not_found"}
FAKE_UPLOAD = {"upload_id": "f" * 32, "name": "tep.pdf"}
# Bodies that pass each route's body checks (which run before the scope check), so a denial is
# the matrix's and an allowed call goes on to the state graph.
BODIES: dict[str, Any] = {
    "dossier.refuse": {"reason": "Thiếu giấy tờ"},
    "dossier.forward": {"to_step": 2},
    "dossier.supplement": {"attachments": [FAKE_UPLOAD]},
    "dossier.rate": {"criteria": {str(n): 2 for n in range(1, 10)}, "overall": 5},
    "payment.refund": {"amount": 1000, "reason": "Hoàn phí"},
    "correction.request": {"field": "received_at"},
    "upload.create": {"name": "a.pdf", "content_type": "application/pdf", "size": 10},
}
ACT_BODIES: dict[str, dict[str, Any]] = {
    "forward": {"to_step": 2},
    "request_supplement": {"reason": "Thiếu", "documents": ["Bản sao CCCD"]},
    "extend": {"reason": "Cần thêm thời gian", "new_due_date": "2030-01-02"},
    "stop": {"reason": "Dừng"},
    "withdraw": {"reason": "Rút"},
    "issue_result": {"decision": "approved", "documents": [FAKE_UPLOAD]},
    "return_result": {"method": "desk"},
}


@dataclass(frozen=True)
class Case:
    """A caller and the dossier it calls about, with the scopes that dossier satisfies for it."""
    label: str
    role: str
    sub: str
    agency: str | None
    dossier: str                 # key into World.dossiers
    satisfied: frozenset[str]


CASES = (
    Case("citizen-own", "citizen", "citizen-own", None, "online", frozenset({OWN})),
    Case("citizen-other", "citizen", "citizen-other", None, "online", frozenset()),
    *(c for role in ("officer", "leader") for c in (
        Case(f"{role}-same-agency", role, f"{role}-a", AGENCY_A, "online", frozenset({"agency", "receiving"})),
        Case(f"{role}-same-agency-desk", role, f"{role}-a", AGENCY_A, "desk",
             frozenset({"agency", "receiving", "desk"})),
        # agency B's desk took a dossier for agency A's procedure (Decree 118/2025): B reads it
        # as an agency that took part, and acts as its receiving desk, but does not process it
        Case(f"{role}-receiving-desk", role, f"{role}-b", AGENCY_B, "desk_other",
             frozenset({"agency:read", "receiving", "desk"})),
        Case(f"{role}-other-agency", role, f"{role}-b", AGENCY_B, "online", frozenset()))),
    Case("finance", "finance", "finance-1", None, "online", frozenset()),
    Case("admin", "admin", "admin-1", None, "online", frozenset()),
    Case("integration-own-procedure", "integration", f"integration-{SYSTEM}", None, "online", frozenset({PROCEDURES})),
    Case("integration-other-procedure", "integration", f"integration-{SYSTEM}", None, "notary", frozenset()),
)


def expected(rule: permissions.Rule, role: str, satisfied: frozenset[str]) -> int | None:
    """The matrix's answer: None (allowed) or the status of the denial."""
    scope = rule.grants.get(role)
    if rule.public:
        return None
    if scope is None:
        return 403
    if scope == ALL or rule.resource is None or scope in satisfied or f"{scope}:{rule.kind}" in satisfied:
        return None
    return 404 if rule.kind == READ or scope in (OWN, PROCEDURES) else 403


@dataclass
class World:
    api: Api
    dossiers: dict[str, str]
    attachments: dict[str, str]
    payment_id: str

    def token(self, case: Case) -> str:
        return self.api.token(case.role, case.agency, sub=case.sub)


@pytest.fixture(scope="module")
def world() -> Iterator[World]:
    """The app on one in-process moto for the whole module, with the dossiers the cases need."""
    from chalice.test import Client

    from app import app
    from motcua.provision import fresh_local_stack

    with mock_aws():
        session = fresh_local_stack()
        with Client(app, stage_name="local") as client:
            api = Api(client)
            yield build_world(api, session)
        aws.reset()
        catalogue_store.invalidate()


def build_world(api: Api, session: Any) -> World:
    citizen = api.token("citizen", sub="citizen-own")
    officer = api.token("officer", AGENCY_A, sub="officer-a")
    dossiers, attachments = {}, {}
    for key, procedure, token, uploader, path, extra in (
            ("online", JUDICIAL, citizen, "citizen-own", "/dossiers", {}),
            ("notary", NOTARY, citizen, "citizen-own", "/dossiers", {}),
            ("desk", JUDICIAL, officer, "officer-a", "/desk/dossiers", {"channel": "direct", "consent": True}),
            ("desk_other", JUDICIAL, api.token("officer", AGENCY_B, sub="officer-b"), "officer-b", "/desk/dossiers",
             {"channel": "direct", "consent": True})):
        upload_id = put_upload(session, uploader)
        body = submission(procedure, attachments=[{"upload_id": upload_id, "name": "don.pdf"}], **extra)
        created = api.call("POST", path, body=body, token=token, headers={"Idempotency-Key": f"matrix-{key}"})
        assert created.status_code == 201, created.json
        dossiers[key], attachments[key] = created.json["dossier_code"], upload_id
    payment = api.call("POST", f"/dossiers/{dossiers['online']}/payments", token=citizen)
    assert payment.status_code == 201, payment.json
    for code in dossiers.values():   # closed: every allowed write now stops at the graph (409)
        refused = api.call("POST", f"/dossiers/{code}/refuse", token=officer, body={"reason": "Đóng để kiểm thử"})
        assert refused.status_code == 200, refused.json
    return World(api, dossiers, attachments, payment.json["payment_id"])


def _route_cases() -> Iterator[Any]:
    """(action, sub-action, case) for every routed action; /actions once per body action."""
    for action, rule in RULES.items():
        if rule.route is None:
            continue
        if rule.public:
            yield pytest.param(action, None, None, id=f"{action}-anonymous")
            continue
        subs = list(workflow.ACTIONS_ENDPOINT) if action == "dossier.act" else [None]
        for sub in subs:
            seen: set[tuple[str, str]] = set()
            for case in CASES:
                if rule.resource is None and (case.role, case.sub) in seen:
                    continue                      # no resource: one call per caller is enough
                if rule.resource == "payment" and case.dossier != "online":
                    continue                      # the payment belongs to the online dossier
                seen.add((case.role, case.sub))
                yield pytest.param(action, sub, case, id=f"{action}{'.' + sub if sub else ''}-{case.label}")


def _request(world: World, action: str, sub: str | None, case: Case | None) -> dict[str, Any]:
    method, path = RULES[action].route  # type: ignore[misc]
    dossier = world.dossiers[case.dossier if case else "online"]
    values = {"code": dossier, "procedure_code": JUDICIAL, "payment_id": world.payment_id,
              "upload_id": world.attachments[case.dossier if case else "online"],
              "correction_id": "c-unknown", "system": SYSTEM, "provider": "vnpay", "form": "refusal",
              "token": "A" * 43, "agency_id": "000.00.13.H50", "feedback_id": "PAUNKNOWN"}
    path = path.format(**values)
    body: Any = ACT_BODIES[sub] | {"action": sub} if sub else BODIES.get(action)
    headers = {"Idempotency-Key": f"k-{uuid.uuid4().hex}"}
    raw = None
    if action == "dossier.track":
        path += "?phone_last4=5678"
    if action == "integration.report":
        raw = json.dumps({"event_id": uuid.uuid4().hex, "type": "progress", "dossier_code": dossier,
                          "data": {"to_step": 2}}).encode()
        headers[connectors.SIGNATURE_HEADER] = connectors.sign(connectors.systems()[SYSTEM].secret(), raw)
    return {"method": method, "path": path, "body": body, "raw": raw, "headers": headers}


@pytest.mark.parametrize(("action", "sub", "case"), list(_route_cases()))
def test_every_route_role_and_scope_answers_as_the_matrix_says(world, action, sub, case):
    rule = RULES[action]
    request = _request(world, action, sub, case)
    token = world.token(case) if case else None
    response = world.api.call(request["method"], request["path"], body=request["body"], raw=request["raw"],
                              token=token, headers=request["headers"])
    if case is None:
        want = None
    elif sub is None:
        want = expected(rule, case.role, case.satisfied)
    else:   # /actions: the route lets the role in, then the body's action decides
        want = expected(rule, case.role, case.satisfied) if case.role not in rule.grants \
            else expected(RULES[f"dossier.{sub}"], case.role, case.satisfied)
    code = (response.json or {}).get("error", {}).get("code") if isinstance(response.json, dict) else None
    if want is None:
        assert not (response.status_code in (401, 403, 404) and code in AUTHZ_CODES), \
            (response.status_code, response.json)
    else:
        assert (response.status_code, code in AUTHZ_CODES) == (want, True), (response.status_code, response.json)


def test_calls_without_a_token_are_401_on_every_protected_route(world):
    for action, rule in RULES.items():
        if rule.route and not rule.public:
            request = _request(world, action, None, None)
            response = world.api.call(request["method"], request["path"], body=request["body"], raw=request["raw"],
                                      headers=request["headers"])
            assert response.status_code == 401, (action, response.status_code)
