"""Merger day through `make run`'s stack (`motcua local` as a subprocess): the shipped sample
plan moves an open dossier of the old Kon Tum department to Quảng Ngãi's, whose officer
finishes it; the citizen tracks it by its old code; the national portal gets the new
DonViXuLy; the report with as_of counts it at the successor and `reports verify` agrees."""
from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone

import pytest
import requests

from motcua.seed import seed_path
from tests.stack.test_local_stack import Stack
from tests.stack.test_workflow_stack import simulator, upload, wait_for

pytestmark = pytest.mark.stack
PLAN = str(seed_path().parent / "merger_plan.json")
OLD, NEW, REPAIR = "000.00.15.H34", "000.00.15.H50", "1.009974"


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    running = Stack(MOTCUA_RETRY_FIRST_SECONDS="1", MOTCUA_RETRY_MAX_SECONDS="1", MOTCUA_NATIONAL_TIMEOUT="2",
                    MOTCUA_CATALOGUE_CACHE_SECONDS="2")
    yield running
    assert running.stop() == 0, running.tail()


def test_a_merger_day_on_the_local_stack(stack: Stack) -> None:
    citizen = stack.token("citizen", sub="citizen-kontum")
    body = {"procedure_code": REPAIR, "summary": "Sửa mái nhà",
            "applicant": {"full_name": "Y Blin", "id_number": "062190000123", "phone": "0905123456"}}
    created = stack.call("POST", "/dossiers", citizen, json=body, headers={"Idempotency-Key": uuid.uuid4().hex})
    assert created.status_code == 201, created.text
    code = created.json()["dossier_code"]
    assert code.startswith(OLD)
    accepted = stack.call("POST", f"/dossiers/{code}/accept", stack.token("officer", OLD, sub="can-bo-kt"))
    assert accepted.status_code == 200, accepted.text
    due = accepted.json()["due_at"]

    assert f"dossier {code} -> {NEW}" in stack.cli("agencies", "plan", PLAN)
    assert "1 dossier(s) moved" in stack.cli("agencies", "apply", PLAN)
    assert "nothing to do" in stack.cli("agencies", "apply", PLAN)
    # The API sees the new catalogue once its cache expires (MOTCUA_CATALOGUE_CACHE_SECONDS).
    wait_for(lambda: stack.call("GET", f"/agencies/{OLD}").json()["successor"] == NEW, what="the API's catalogue")
    again = stack.call("POST", "/dossiers", citizen, json=body, headers={"Idempotency-Key": uuid.uuid4().hex})
    assert again.status_code == 201 and again.json()["dossier_code"].startswith(NEW)

    national = simulator(stack, "MOTCUA_NATIONAL_SIM_PORT")
    wait_for(lambda: requests.get(f"{national}/_state", timeout=5).json()["dossiers"].get(code, {}).get("DonViXuLy")
             in (NEW, "Sở Xây dựng tỉnh Quảng Ngãi"), what="the portal's new DonViXuLy")

    successor = stack.token("officer", NEW, sub="can-bo-qn")
    issued = stack.call("POST", f"/dossiers/{code}/actions", successor, json={
        "action": "issue_result", "decision": "approved", "documents": [upload(stack, successor, "Giấy phép.pdf")]})
    assert issued.status_code == 200, issued.text
    assert issued.json()["due_at"] == due
    tracked = stack.call("GET", f"/track/{code}?phone_last4=3456")
    assert tracked.status_code == 200 and tracked.json()["status"] == "finished"

    today = datetime.now(timezone(timedelta(hours=7))).date().isoformat()
    query = f"from={today}&to={today}&group_by=agency&as_of={today}"
    report = wait_for(lambda: (r := stack.call("GET", f"/reports/dossiers?{query}", stack.token("leader", NEW)).json())
                      and r["rows"] and r, what="the report")
    assert {row["agency_id"] for row in report["rows"]} == {NEW}
    wait_for(lambda: "OK" in stack.cli("reports", "verify", "--from", today, "--to", today), what="reports verify OK")
