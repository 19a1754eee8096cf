"""Paying fees through the real local stack (`motcua local`), as a person would in a browser:
the app's pay URL, the simulator's checkout page and its buttons, VNPay's IPN over HTTP to the
local API, the return page, the receipt drawn by its consumer; and a lost IPN healed by `motcua payments reconcile`."""
from __future__ import annotations

import json
import re
import time
import uuid
from typing import Any
from collections.abc import Iterator
from urllib.parse import urljoin

import pytest
import requests

from tests.stack.test_local_stack import Stack

pytestmark = pytest.mark.stack

PROCEDURE = "1.001023"   # Sở Tư pháp, 200.000 đ, fees before acceptance


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    running = Stack()
    yield running
    assert running.stop() == 0, running.tail()  # a stack killed at teardown shows its threads (SIGUSR1 dump)


def new_dossier(stack: Stack, citizen: str) -> str:
    body = {"procedure_code": PROCEDURE, "applicant": {"full_name": "Lê Thị Cúc", "id_number": "038190000123",
                                                        "phone": "0911222333"}, "summary": "Xin phiếu LLTP"}
    created = stack.call("POST", "/dossiers", citizen, json=body, headers={"Idempotency-Key": uuid.uuid4().hex})
    assert created.status_code == 201, created.text
    return created.json()["dossier_code"]


def press(pay_url: str, outcome: str) -> requests.Response:
    """Open the checkout page and press one of its buttons, like a browser would."""
    page = requests.get(pay_url, timeout=10)
    assert page.status_code == 200 and "Cổng thanh toán VNPAY" in page.text
    form = re.search(r'<form method="post" action="([^"]+)"><input type="hidden" name="checkout" value="([0-9a-f]+)">'
                     rf'<input type="hidden" name="outcome" value="{outcome}">', page.text)
    assert form, page.text
    return requests.post(urljoin(pay_url, form.group(1)), data={"checkout": form.group(2), "outcome": outcome},
                         allow_redirects=False, timeout=10)


def wait_for(stack: Stack, path: str, token: str, ready: Any, seconds: float = 20) -> dict[str, Any]:
    deadline = time.monotonic() + seconds
    while True:
        body = stack.call("GET", path, token).json()
        if ready(body) or time.monotonic() > deadline:
            return body
        time.sleep(0.2)


def test_banner_says_where_the_simulator_is(stack):
    assert f"http://127.0.0.1:{stack.env['MOTCUA_VNPAY_PORT']}" in "".join(stack.banner)


def test_a_citizen_pays_through_the_simulator_page_and_the_ipn_marks_the_dossier_paid(stack):
    citizen = stack.token("citizen", sub=f"payer-{uuid.uuid4().hex[:8]}")
    code = new_dossier(stack, citizen)
    created = stack.call("POST", f"/dossiers/{code}/payments", citizen)
    assert created.status_code == 201, created.text
    payment = created.json()
    assert payment["pay_url"].startswith(f"http://127.0.0.1:{stack.env['MOTCUA_VNPAY_PORT']}/paymentv2/vpcpay.html?")

    redirect = press(payment["pay_url"], "success")
    assert redirect.status_code == 302 and redirect.headers["Location"].startswith(stack.api + "/payments/providers/vnpay/return?")
    paid = wait_for(stack, f"/payments/{payment['payment_id']}", citizen, lambda p: p["status"] == "succeeded")
    assert paid["status"] == "succeeded" and paid["receipt"]["number"] == f"BL-{code}-01"
    page = requests.get(redirect.headers["Location"], timeout=10)
    assert page.status_code == 200 and "Thanh toán thành công" in page.text

    dossier = stack.call("GET", f"/dossiers/{code}", citizen).json()
    assert (dossier["amount_due"], dossier["amount_paid"], dossier["payment_status"]) == (200_000, 200_000, "paid")
    link = wait_for(stack, paid["receipt"]["download_url"], citizen, lambda body: "url" in body)
    receipt = requests.get(link["url"], timeout=10)   # the receipts consumer stored it in the local moto S3
    assert receipt.status_code == 200 and receipt.content.startswith(b"%PDF")
    officer = stack.token("officer", dossier["agency_id"])
    assert stack.call("POST", f"/dossiers/{code}/accept", officer).status_code == 200

    seen: list[str] = []
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and "FeesSettled" not in seen:
        seen += [json.loads(line)["detail"]["type"] for line in stack.cli("events").splitlines()
                 if line.strip() and json.loads(line)["detail"]["dossier_code"] == code]
        time.sleep(0.3)
    assert seen[:4] == ["DossierSubmitted", "PaymentCreated", "PaymentSucceeded", "FeesSettled"]


def test_a_lost_ipn_is_healed_by_motcua_payments_reconcile(stack):
    citizen = stack.token("citizen", sub=f"payer-{uuid.uuid4().hex[:8]}")
    code = new_dossier(stack, citizen)
    payment = stack.call("POST", f"/dossiers/{code}/payments", citizen).json()
    assert press(payment["pay_url"], "lose_ipn").status_code == 302
    time.sleep(1.0)   # an IPN, had one been sent, would have arrived by now
    assert stack.call("GET", f"/payments/{payment['payment_id']}", citizen).json()["status"] == "pending"
    report = json.loads(stack.cli("payments", "reconcile", "--min-age-minutes", "0").splitlines()[-1])
    assert report["succeeded"] >= 1 and report["errors"] == 0
    assert stack.call("GET", f"/payments/{payment['payment_id']}", citizen).json()["status"] == "succeeded"
    assert stack.call("GET", f"/dossiers/{code}", citizen).json()["payment_status"] == "paid"


def test_a_citizen_pays_through_paygov_and_a_desk_records_fees_at_the_counter(stack):
    """PayGov's simulator runs in the stack too: INIT over HTTP, its checkout page, its signed
    confirmation POSTed to the local API. A walk-in dossier is paid at the counter and accepted."""
    assert f"http://127.0.0.1:{stack.env['MOTCUA_PAYGOV_PORT']}" in "".join(stack.banner)
    citizen = stack.token("citizen", sub=f"payer-{uuid.uuid4().hex[:8]}")
    code = new_dossier(stack, citizen)
    created = stack.call("POST", f"/dossiers/{code}/payments", citizen, json={"provider": "paygov"})
    assert created.status_code == 201, created.text
    payment = created.json()
    page = requests.get(payment["pay_url"], timeout=10)
    assert page.status_code == 200 and "Nền tảng thanh toán" in page.text
    form = re.search(r'<form method="post" action="([^"]+)"><input type="hidden" name="ma" value="([0-9a-f]+)">',
                     page.text)
    assert form, page.text
    redirect = requests.post(urljoin(payment["pay_url"], form.group(1)), data={"ma": form.group(2), "outcome": "success"},
                             allow_redirects=False, timeout=10)
    assert redirect.headers["Location"].startswith(stack.api + "/payments/providers/paygov/return?")
    paid = wait_for(stack, f"/payments/{payment['payment_id']}", citizen, lambda p: p["status"] == "succeeded")
    assert (paid["status"], paid["provider"]) == ("succeeded", "paygov")
    assert "Thanh toán thành công" in requests.get(redirect.headers["Location"], timeout=10).text

    desk = stack.token("officer", "000.00.13.H50", sub="desk-officer")
    walk_in = stack.call("POST", "/desk/dossiers", desk, headers={"Idempotency-Key": uuid.uuid4().hex}, json={
        "procedure_code": PROCEDURE, "summary": "Xin phiếu LLTP", "channel": "direct", "consent": True,
        "applicant": {"full_name": "Trần Văn Bình", "id_number": "038190000456", "phone": "0911222444"}})
    assert walk_in.status_code == 201, walk_in.text
    walk_code = walk_in.json()["dossier_code"]
    counter = stack.call("POST", f"/dossiers/{walk_code}/payments", desk,
                         json={"provider": "counter", "method": "cash", "amount": 200_000, "reference": "QS-01"})
    assert counter.status_code == 201 and counter.json()["status"] == "succeeded", counter.text
    assert stack.call("POST", f"/dossiers/{walk_code}/accept", desk).status_code == 200
