"""Issue 17 end to end in the local stack (`motcua local` as a subprocess): a walk-in business
dossier taken at a provincial department's desk for a commune's procedure (Decree 118/2025),
its fee paid at that counter, is processed by the commune, returned and rated at the
department's desk, which prints its papers; the consumers (national sync, notifications,
reports) take it as they take any other."""
from __future__ import annotations

import io
import uuid

from pypdf import PdfReader

import pytest
import requests

from tests.stack.test_local_stack import Stack
from tests.stack.test_workflow_stack import ALL_CRITERIA, COMMUNE, HOUSE, action, simulator, upload, wait_for

pytestmark = pytest.mark.stack
JUSTICE = "000.00.13.H50"
# The person who came to the desk for the business is named too: the national record's ChuHoSo
# reads full_name until the record follows applicant.type (the national-record mapping's work).
BUSINESS = {"type": "business", "organization_name": "Công ty TNHH Xây dựng Hồng Hà", "tax_code": "0101234567",
            "legal_representative": "Trần Thị Hà", "full_name": "Lê Văn Nam", "phone": "0912345678",
            "address": "5 Trần Phú, phường Ba Đình"}


@pytest.fixture(scope="module")
def stack():
    running = Stack(MOTCUA_RETRY_FIRST_SECONDS="1", MOTCUA_RETRY_MAX_SECONDS="1", MOTCUA_NATIONAL_TIMEOUT="2")
    yield running
    assert running.stop() == 0, running.tail()


def test_a_walk_in_business_dossier_at_another_agencys_desk_is_returned_and_rated_there(stack):
    desk, commune = stack.token("officer", JUSTICE, sub="officer-justice-desk"), stack.token("officer", COMMUNE)
    body = {"procedure_code": HOUSE, "summary": "Xây nhà xưởng", "applicant": BUSINESS, "channel": "direct",
            "consent": True, "attachments": [upload(stack, desk, "Đơn đề nghị.pdf")]}
    created = stack.call("POST", "/desk/dossiers", desk, json=body, headers={"Idempotency-Key": uuid.uuid4().hex})
    assert created.status_code == 201, created.text
    code = created.json()["dossier_code"]
    assert code.startswith(COMMUNE)
    assert code in [i["dossier_code"] for i in stack.call("GET", "/dossiers?received=here", desk).json()["items"]]
    assert code in [i["dossier_code"] for i in stack.call("GET", "/dossiers", commune).json()["items"]]

    paid = stack.call("POST", f"/dossiers/{code}/payments", desk, headers={"Idempotency-Key": uuid.uuid4().hex},
                      json={"provider": "counter", "method": "cash", "amount": 75_000, "reference": "PT-0001"})
    assert paid.status_code == 201, paid.text
    again = stack.call("POST", f"/dossiers/{code}/payments", desk, headers={"Idempotency-Key": uuid.uuid4().hex},
                       json={"provider": "counter", "method": "cash", "amount": 75_000, "reference": "PT-0002"})
    assert again.status_code == 409 and again.json()["error"]["code"] == "fees_already_paid"
    assert stack.call("GET", f"/dossiers/{code}", desk).json()["payment_status"] == "paid"

    accepted = stack.call("POST", f"/dossiers/{code}/accept", commune)
    assert accepted.status_code == 200, accepted.text
    too_far = stack.call("POST", f"/dossiers/{code}/actions", commune,
                         json={"action": "extend", "reason": "Gia hạn", "new_due_date": "2040-12-31"})
    assert too_far.status_code == 422 and too_far.json()["error"]["code"] == "extension_too_long"
    action(stack, code, commune, "issue_result", decision="approved", documents=[upload(stack, commune, "GPXD.pdf")])
    assert action(stack, code, desk, "return_result", method="desk")["status"] == "returned"
    rated = stack.call("POST", f"/dossiers/{code}/rating", desk, json={"criteria": ALL_CRITERIA, "overall": 5})
    assert rated.status_code == 200 and rated.json()["rating"]["at_desk"] is True
    for form in ("receipt", "control_sheet"):
        paper = stack.call("GET", f"/dossiers/{code}/forms/{form}", desk, headers={"Accept": "*/*"})
        assert paper.status_code == 200 and paper.headers["Content-Type"] == "application/pdf", paper.text
        text = PdfReader(io.BytesIO(paper.content)).pages[0].extract_text().replace("\n", " ")
        assert code in text and "Hồng Hà" in text, (form, text)

    synced = wait_for(lambda: (s := stack.call("GET", f"/dossiers/{code}", desk).json()["national_sync"])
                      ["state"] == "synced" and s["version"] == rated.json()["version"] and s,
                      what="the national sync to catch up")
    assert synced["last_error"] is None
    portal = requests.get(f"{simulator(stack, 'MOTCUA_NATIONAL_SIM_PORT')}/_state", timeout=5).json()
    assert portal["dossiers"][code]["TrangThaiHoSo"] == "10"   # codes are strings on the wire
