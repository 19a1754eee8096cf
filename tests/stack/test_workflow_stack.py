"""Issue 4 end to end in the local stack (`motcua local` as a subprocess): the API calls are
all the test makes; the dispatcher drives sync, notifications and connectors by itself."""
from __future__ import annotations

import json
import time
import uuid
from typing import Any
from collections.abc import Callable, Iterator

import pytest
import requests

from chalicelib.kernel.working_days import default_calendar, parse_iso, to_local
from tests.stack.test_local_stack import Stack
from tests.stack.test_payments_stack import press

pytestmark = pytest.mark.stack
HOUSE, COMMUNE, DEPARTMENT = "1.009994", "000.22.30.H50", "000.00.15.H50"
ALL_CRITERIA = {str(n): 2 for n in range(1, 10)}


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    running = Stack(MOTCUA_RETRY_FIRST_SECONDS="1", MOTCUA_RETRY_MAX_SECONDS="1", MOTCUA_NATIONAL_TIMEOUT="2")
    yield running
    assert running.stop() == 0, running.tail()  # a stack killed at teardown shows its threads (SIGUSR1 dump)


def simulator(stack: Stack, setting: str) -> str:
    return f"http://127.0.0.1:{stack.env[setting]}"


def wait_for(check: Callable[[], Any], timeout: float = 45, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(0.3)
    raise AssertionError(f"timed out waiting for {what}")


def upload(stack: Stack, token: str, name: str) -> dict[str, str]:
    issued = stack.call("POST", "/uploads", token, json={"name": name, "content_type": "application/pdf", "size": 9})
    assert issued.status_code == 201, issued.text
    put = requests.put(issued.json()["upload_url"], data=b"%PDF-1.4\n", headers=issued.json()["headers"], timeout=10)
    assert put.status_code == 200
    return {"upload_id": issued.json()["upload_id"], "name": name}


def submit(stack: Stack, citizen: str, **extra: Any) -> str:
    body = {"procedure_code": HOUSE, "summary": "Xây nhà ở riêng lẻ 3 tầng",
            "applicant": {"full_name": "Trần Thị Bình", "id_number": "045190000777", "phone": "0987654321",
                          "email": "binh@example.com"}, **extra}
    created = stack.call("POST", "/dossiers", citizen, json=body, headers={"Idempotency-Key": uuid.uuid4().hex})
    assert created.status_code == 201, created.text
    return created.json()["dossier_code"]


def action(stack: Stack, code: str, token: str, name: str, **body: Any) -> dict[str, Any]:
    response = stack.call("POST", f"/dossiers/{code}/actions", token, json={"action": name, **body})
    assert response.status_code == 200, response.text
    return response.json()


def test_a_dossier_walks_every_step_and_reaches_the_portal_through_an_outage(stack):
    national = simulator(stack, "MOTCUA_NATIONAL_SIM_PORT")
    citizen = stack.token("citizen", sub=f"citizen-{uuid.uuid4().hex[:8]}")
    commune, department = stack.token("officer", COMMUNE), stack.token("officer", DEPARTMENT)
    code = submit(stack, citizen, notify=["sms", "zalo", "email"])
    accepted = stack.call("POST", f"/dossiers/{code}/accept", commune).json()
    cal = default_calendar()
    assert accepted["due_at"] == cal.due_date(parse_iso(accepted["accepted_at"]), 15).isoformat()

    requests.post(f"{national}/_control", json={"down": True}, timeout=5)            # the portal goes down
    assert stack.call("POST", f"/dossiers/{code}/forward", commune, json={"to_step": 2}).status_code == 200
    action(stack, code, department, "request_supplement", reason="Thiếu bản vẽ", documents=["Bản vẽ mặt bằng"])
    supplied = stack.call("POST", f"/dossiers/{code}/supplements", citizen,
                          json={"attachments": [upload(stack, citizen, "Bản vẽ.pdf")]})
    assert supplied.status_code == 200 and supplied.json()["status"] == "processing"
    outage = wait_for(lambda: (s := stack.call("GET", f"/dossiers/{code}", citizen).json()["national_sync"])
                      ["state"] == "retrying" and s, what="a retrying ledger")
    assert "503" in outage["last_error"]
    requests.post(f"{national}/_control", json={"down": False}, timeout=5)           # and recovers

    stack.call("POST", f"/dossiers/{code}/forward", department, json={"to_step": 3})
    due = to_local(parse_iso(supplied.json()["due_at"])).date()
    new_due = cal.add_working_days(due, 2)
    extended = action(stack, code, commune, "extend", reason="Cần thẩm tra thêm", new_due_date=new_due.isoformat())
    assert extended["due_at"].startswith(new_due.isoformat())
    action(stack, code, commune, "issue_result", decision="approved", documents=[upload(stack, commune, "GPXD.pdf")])
    action(stack, code, commune, "return_result", method="desk")
    rated = stack.call("POST", f"/dossiers/{code}/rating", citizen, json={"criteria": ALL_CRITERIA, "overall": 5})
    assert rated.status_code == 200 and rated.json()["version"] == 10

    synced = wait_for(lambda: (s := stack.call("GET", f"/dossiers/{code}", citizen).json()["national_sync"])
                      ["state"] == "synced" and s["version"] == 10 and s, what="the sync to catch up")
    assert synced["last_error"] is None
    portal = requests.get(f"{national}/_state", timeout=5).json()
    sent = portal["dossiers"][code]
    assert (sent["TrangThaiHoSo"], sent["KenhThucHien"]) == ("10", "2")
    # acceptance, steps 1-3, the result, the return. Delivery is at least once: a delivery the
    # outage cut after some of its calls is retried whole, so the portal may get a record twice.
    progress = list({json.dumps(p, sort_keys=True): p for p in portal["progress"][code]}.values())
    assert [p["TrangThai"] for p in progress] == ["2", "4", "4", "4", "9", "10"]
    assert [p["PhongBanXuLy"] for p in progress[2:4]] == ["Phòng Quản lý hoạt động xây dựng", "Lãnh đạo Ủy ban nhân dân"]
    assert portal["ratings"][code]["MucDoHaiLong"] == "5"
    result = requests.get(sent["DanhSachGiayToKetQua"][0]["DuongDanTepTinKetQua"], timeout=5)   # no token
    assert result.status_code == 200 and result.content.startswith(b"%PDF")

    def notified() -> list[dict[str, Any]] | None:
        lines = [json.loads(x) for x in stack.cli("notifications", "tail", "--json").splitlines() if x.strip()]
        mine = [r for r in lines if r["dossier_code"] == code]
        return mine if len(mine) == 3 * 10 else None     # one event per version, three channels each

    sent = wait_for(notified, what="every notification")
    assert {r["channel"] for r in sent} == {"sms", "zalo", "email"} and len({r["event_type"] for r in sent}) == 9
    apology = next(r for r in sent if r["event_type"] == "DossierExtended" and r["channel"] == "email")
    assert apology["subject"].startswith("Thư xin lỗi") and f"{new_due:%d/%m/%Y}" in apology["text"]
    printed = stack.cli("notifications", "tail")
    assert f"sms   -> 0987654321: Hồ sơ {code} đã được" in printed


def test_the_judicial_records_system_is_connected_both_ways(stack):
    judicial = simulator(stack, "MOTCUA_JUDICIAL_SIM_PORT")
    citizen = stack.token("citizen", sub=f"citizen-{uuid.uuid4().hex[:8]}")
    created = stack.call("POST", "/dossiers", citizen, headers={"Idempotency-Key": uuid.uuid4().hex}, json={
        "procedure_code": "1.001023", "summary": "Xin cấp Phiếu lý lịch tư pháp số 1",
        "applicant": {"full_name": "Lê Văn Cường", "id_number": "051095001999", "phone": "0905123456"}})
    code = created.json()["dossier_code"]
    received = wait_for(lambda: [e for e in requests.get(f"{judicial}/_state", timeout=5).json()["received"]
                                 if e["dossier_code"] == code], what="the signed event at the ministry system")
    assert received[0]["type"] == "DossierSubmitted"
    payment = stack.call("POST", f"/dossiers/{code}/payments", citizen)        # fees first, then acceptance
    assert payment.status_code == 201 and press(payment.json()["pay_url"], "success").status_code == 302
    wait_for(lambda: stack.call("GET", f"/dossiers/{code}", citizen).json()["payment_status"] == "paid",
             what="the fees paid (VNPay's IPN)")
    requests.post(f"{judicial}/_control", timeout=15, json={"report": {"dossier_code": code, "type": "accepted"}})
    assert requests.get(f"{judicial}/_state", timeout=5).json()["last_report"]["status"] == 200
    dossier = stack.call("GET", f"/dossiers/{code}", citizen).json()
    assert dossier["status"] == "accepted" and dossier["decisions"][0]["by"] == "integration:judicial-records"
    wait_for(lambda: [e for e in requests.get(f"{judicial}/_state", timeout=5).json()["received"]
                      if e["dossier_code"] == code and e["type"] == "DossierAccepted"], what="the acceptance echo")


def test_refused_withdrawn_and_stopped_dossiers_reach_the_portal_with_their_codes(stack):
    citizen = stack.token("citizen", sub=f"citizen-{uuid.uuid4().hex[:8]}")
    commune = stack.token("officer", COMMUNE)
    refused, withdrawn, stopped = (submit(stack, citizen) for _ in range(3))
    assert stack.call("POST", f"/dossiers/{refused}/refuse", commune, json={"reason": "Sai thẩm quyền"}).status_code == 200
    action(stack, withdrawn, citizen, "withdraw", reason="Không còn nhu cầu")
    stack.call("POST", f"/dossiers/{stopped}/accept", commune)
    action(stack, stopped, commune, "stop", reason="Quá hạn bổ sung")
    national = simulator(stack, "MOTCUA_NATIONAL_SIM_PORT")

    def codes() -> dict[str, str] | None:
        held = requests.get(f"{national}/_state", timeout=5).json()["dossiers"]
        found = {code: held[code]["TrangThaiHoSo"] for code in (refused, withdrawn, stopped) if code in held}
        return found if found == {refused: "3", withdrawn: "7", stopped: "8"} else None

    wait_for(codes, what="the portal to hold the final statuses")
