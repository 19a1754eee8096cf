"""The permission matrix as data: it covers every route, and check() decides 403 or 404 by it."""
from __future__ import annotations

import pytest

from chalicelib.trust.rules import permissions
from chalicelib.dossiers.use_cases import workflow
from chalicelib.edge.contract import openapi_document
from chalicelib.kernel.errors import Forbidden, NotFound
from chalicelib.trust.rules.identity import ROLES, Identity
from chalicelib.trust.rules.permissions import RULES, SCOPES, check

A, B, C = "000.00.13.H50", "000.00.15.H50", "000.22.30.H50"


def dossier(**over):
    base = {"code": f"{A}-261121-0001", "owner_sub": "citizen-an", "agency_id": A, "agencies": [A],
            "holder_agency_id": A, "procedure_code": "1.001023", "channel": "online"}
    return {**base, **over}


def test_every_route_has_exactly_one_action_and_every_routed_action_a_route():
    from app import app
    routes = {(method, path) for path, entries in app.routes.items() for method in entries}
    assert routes == set(permissions.BY_ROUTE)
    assert len(permissions.BY_ROUTE) == sum(1 for rule in RULES.values() if rule.route)


def test_actions_without_a_route_are_the_ones_chosen_in_a_body():
    unrouted = {name for name, rule in RULES.items() if rule.route is None}
    # dossier.reassign is no route's: merger day moves dossiers through `motcua agencies apply`
    chosen = {f"dossier.{action}" for action in workflow.ACTIONS_ENDPOINT} | {"dossier.due_list", "dossier.reassign"}
    assert unrouted == chosen - {name for name, rule in RULES.items() if rule.route}


def test_grants_name_known_roles_and_scopes_and_public_routes_grant_nothing():
    for name, rule in RULES.items():
        assert set(rule.grants) <= set(ROLES) and set(rule.grants.values()) <= set(SCOPES), name
        assert rule.public == (not rule.grants), name


def test_the_contract_marks_exactly_the_public_routes_as_needing_no_token():
    for path, item in openapi_document()["paths"].items():
        for method, operation in item.items():
            rule = RULES[permissions.action_for(method, path)]
            assert (operation.get("security") == []) == rule.public, (method, path)


def test_a_route_missing_from_the_matrix_fails_at_registration():
    from chalicelib.edge.routing import Routes
    with pytest.raises(permissions.UnknownRoute, match="no action"):
        Routes(__name__).route("/not-in-the-matrix", "GET")


def test_finance_runs_no_workflow_action_and_only_admins_decide_corrections():
    workflow_actions = [n for n in RULES if n.startswith("dossier.") and RULES[n].kind == permissions.WRITE]
    assert workflow_actions and all("finance" not in RULES[n].grants for n in workflow_actions)
    assert set(RULES["correction.approve"].grants) == set(RULES["correction.reject"].grants) == {"admin"}


def test_a_citizen_sees_only_their_own_dossier_and_others_are_hidden():
    assert check(Identity("citizen-an", "citizen"), "dossier.read", dossier())
    with pytest.raises(NotFound) as hidden:
        check(Identity("citizen-bo", "citizen"), "dossier.read", dossier())
    assert hidden.value.code == "dossier_not_found"
    with pytest.raises(NotFound):    # writes too: existence is not leaked to citizens
        check(Identity("citizen-bo", "citizen"), "dossier.withdraw", dossier())


def test_another_agency_gets_404_on_reads_and_403_on_writes():
    other = Identity("officer-b", "officer", B)
    with pytest.raises(NotFound):
        check(other, "dossier.read", dossier())
    with pytest.raises(Forbidden) as denied:
        check(other, "dossier.stop", dossier())
    assert denied.value.code == "agency_out_of_scope"


def test_an_agency_that_handed_the_dossier_over_reads_it_but_no_longer_acts():
    handed = dossier(agencies=[C, B], agency_id=C, holder_agency_id=B)
    commune, department = Identity("o-c", "officer", C), Identity("o-b", "officer", B)
    assert check(Identity("o-x", "leader", B), "dossier.read", handed)
    assert check(department, "dossier.forward", handed) and check(commune, "dossier.forward", handed)
    moved = dossier(agencies=[A, B], agency_id=C, holder_agency_id=B)
    with pytest.raises(Forbidden, match="chuyển sang cơ quan khác"):
        check(Identity("o-a", "officer", A), "dossier.forward", moved)


def test_the_desk_acts_for_walk_in_citizens_only():
    officer = Identity("officer-a", "officer", A)
    assert check(officer, "dossier.withdraw", dossier(channel="direct"))
    with pytest.raises(Forbidden) as online:
        check(officer, "dossier.withdraw", dossier())
    assert online.value.code == "owner_only"
    with pytest.raises(Forbidden):
        check(Identity("officer-b", "officer", B), "dossier.supplement", dossier(channel="postal"))


def test_an_integration_client_reaches_only_its_systems_procedures():
    client = Identity("integration-judicial-records", "integration")
    assert check(client, "integration.report", dossier())
    with pytest.raises(NotFound):
        check(client, "integration.report", dossier(procedure_code="1.001756"))
    with pytest.raises(NotFound):     # a client of no configured system reaches nothing
        check(Identity("integration-unknown", "integration"), "dossier.read", dossier())


def test_payments_are_hidden_from_other_citizens_and_agencies():
    payment = {"payment_id": "MC1", "owner_sub": "citizen-an", "agency_id": A}
    assert check(Identity("f", "finance"), "payment.read", payment)
    assert check(Identity("o", "leader", A), "payment.receipt", payment)
    for stranger in (Identity("citizen-bo", "citizen"), Identity("o", "officer", B)):
        with pytest.raises(NotFound) as hidden:
            check(stranger, "payment.read", payment)
        assert hidden.value.code == "payment_not_found"
    with pytest.raises(Forbidden):
        check(Identity("citizen-an", "citizen"), "payment.refund", payment)


def test_missing_resources_are_404_and_roles_outside_the_action_403():
    with pytest.raises(NotFound):
        check(Identity("admin-1", "admin"), "dossier.read", None)
    with pytest.raises(Forbidden) as role:
        check(Identity("f", "finance"), "dossier.forward", dossier())
    assert role.value.code == "forbidden"


def test_each_connected_system_has_its_own_integration_client():
    import json

    from chalicelib.sync.rules import connectors
    raw = json.loads(connectors.PACKAGED.read_text(encoding="utf-8"))
    judicial = raw["systems"]["judicial-records"]
    assert connectors.load(raw)["judicial-records"].client_sub == "integration-judicial-records"
    twice = {"systems": {"a": {**judicial, "client_sub": "client-1"}, "b": {**judicial, "client_sub": "client-1"}}}
    with pytest.raises(ValueError, match="client_sub"):
        connectors.load(twice)
    assert connectors.system_of_client("integration-judicial-records").system == "judicial-records"
    assert connectors.system_of_client("someone-else") is None
