"""The loopback VNPay simulator itself: pay page, browser buttons, API error codes, IPN
retry schedule, and the standalone entry point."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from payments.simulator import VNPaySimulator
from payments.vnpay import (
    API_PATH,
    PAY_PATH,
    QUERYDR_REQUEST_FIELDS,
    canonical_query,
    fields_checksum,
    format_vnp_date,
    params_from_query_string,
    sign_params,
)
from vnpay_testkit import SECRET, TMN, loopback_session

REPO = Path(__file__).resolve().parents[2]


def pay_params(now: datetime, **overrides) -> dict[str, str]:
    params = {
        "vnp_Version": "2.1.0", "vnp_Command": "pay", "vnp_TmnCode": TMN, "vnp_Amount": "15000000",
        "vnp_CurrCode": "VND", "vnp_TxnRef": "SIMTEST1", "vnp_OrderInfo": "Le phi <b>ho tich</b>",
        "vnp_OrderType": "other", "vnp_Locale": "vn", "vnp_ReturnUrl": "http://127.0.0.1:9/return",
        "vnp_IpAddr": "203.0.113.9", "vnp_CreateDate": format_vnp_date(now),
        "vnp_ExpireDate": format_vnp_date(now + timedelta(minutes=15)),
    }
    params.update(overrides)
    return {k: v for k, v in params.items() if v is not None}


def pay_url(sim: VNPaySimulator, params: dict[str, str], secret: str = SECRET) -> str:
    signed = sign_params(params, secret)
    return f"{sim.base_url}{PAY_PATH}?{canonical_query(signed)}&vnp_SecureHash={signed['vnp_SecureHash']}"


def test_pay_page_is_vietnamese_utf8_html_with_three_buttons(sim, now):
    page = loopback_session().get(pay_url(sim, pay_params(now)), timeout=5)
    assert page.status_code == 200
    assert page.headers["Content-Type"] == "text/html; charset=utf-8"
    text = page.content.decode("utf-8")
    assert '<html lang="vi">' in text and '<meta charset="utf-8">' in text
    for needle in ("Thanh toán", "Hủy", "Thanh toán nhưng mất IPN", "150.000 ₫", "Số tiền", TMN, "SIMTEST1"):
        assert needle in text
    assert "Le phi &lt;b&gt;ho tich&lt;/b&gt;" in text  # order info is escaped
    assert text.count('<form method="post"') == 3


@pytest.mark.parametrize(
    "mutate,needle",
    [
        (lambda p: p.update(vnp_Amount="1"), "vnp_Amount"),  # signed, but not a multiple of 100
        (lambda p: p.update(vnp_Version="2.0.1"), "vnp_Version"),
        (lambda p: p.update(vnp_TmnCode="OTHER001"), "vnp_TmnCode"),
        (lambda p: p.update(vnp_CurrCode="USD"), "VND"),
        (lambda p: p.update(vnp_OrderInfo="Lệ phí"), "không dấu"),
        (lambda p: p.update(vnp_ExpireDate="20200101000000", vnp_CreateDate="20191231235000"), "quá thời gian"),
        (lambda p: p.update(vnp_CreateDate="2025-11-22"), "yyyyMMddHHmmss"),
    ],
)
def test_pay_page_refuses_bad_requests_with_a_400_page(sim, now, mutate, needle):
    params = pay_params(now)
    mutate(params)
    page = loopback_session().get(pay_url(sim, params), timeout=5)
    assert page.status_code == 400
    assert needle in page.content.decode("utf-8")


def test_pay_page_refuses_a_tampered_amount(sim, now):
    url = pay_url(sim, pay_params(now)).replace("vnp_Amount=15000000", "vnp_Amount=100")
    page = loopback_session().get(url, timeout=5)
    assert page.status_code == 400 and "Sai chữ ký" in page.content.decode("utf-8")


def test_pay_page_refuses_secure_hash_type_and_duplicated_keys(sim, now):
    url = pay_url(sim, pay_params(now))
    assert loopback_session().get(url + "&vnp_SecureHashType=HmacSHA512", timeout=5).status_code == 400
    assert loopback_session().get(url + "&vnp_Amount=100", timeout=5).status_code == 400


@pytest.mark.parametrize("return_url", ["http://127.0.0.1:9/r\r\nSet-Cookie: sid=evil", "http://127.0.0.1:9/r\nX: y",
                                        "http://127.0.0.1:9/a b", "javascript:alert(1)", "//127.0.0.1:9/r"])
def test_a_signed_return_url_with_cr_lf_or_no_http_scheme_is_refused_before_any_redirect(sim, now, return_url):
    """Even a merchant that signs a bad vnp_ReturnUrl never gets a header injected into the 302."""
    page = loopback_session().get(pay_url(sim, pay_params(now, vnp_ReturnUrl=return_url)), timeout=5)
    assert page.status_code == 400 and "vnp_ReturnUrl" in page.content.decode("utf-8")
    assert "Set-Cookie" not in page.headers and "X" not in page.headers


def test_browser_cancel_button_redirects_to_return_url_with_code_24(sim, now, ipn_app):
    ipn_app.orders["SIMTEST1"] = 150_000
    s = loopback_session()
    page = s.get(pay_url(sim, pay_params(now)), timeout=5).content.decode("utf-8")
    checkout_id = page.split('name="checkout" value="')[1].split('"')[0]
    resp = s.post(f"{sim.base_url}/paymentv2/sim/confirm", data={"checkout": checkout_id, "outcome": "cancel"},
                  allow_redirects=False, timeout=5)
    assert resp.status_code == 302
    back = params_from_query_string(urlsplit(resp.headers["Location"]).query)
    assert resp.headers["Location"].startswith("http://127.0.0.1:9/return?")
    assert (back["vnp_ResponseCode"], back["vnp_TransactionStatus"], back["vnp_TransactionNo"]) == ("24", "02", "0")
    assert [a.rsp_code for a in sim.wait_for_ipn("SIMTEST1")] == ["00"]
    assert sim.transactions["SIMTEST1"].outcome == "cancel"
    # Pressing a button twice, or opening the page again, is refused.
    again = s.post(f"{sim.base_url}/paymentv2/sim/confirm", data={"checkout": checkout_id, "outcome": "success"},
                   allow_redirects=False, timeout=5)
    assert again.status_code == 400
    assert s.get(pay_url(sim, pay_params(now)), timeout=5).status_code == 400


def test_pay_requires_the_page_to_have_been_opened(sim):
    with pytest.raises(KeyError):
        sim.pay("NEVEROPENED")


def test_ipn_timeouts_are_retried(ipn_app, now):
    ipn_app.sleep_first = 0.6
    with VNPaySimulator(TMN, SECRET, ipn_url=ipn_app.url, retry_delays=(0.05,), ipn_timeout=0.3) as sim:
        loopback_session().get(pay_url(sim, pay_params(now)), timeout=5)
        ipn_app.orders["SIMTEST1"] = 150_000
        sim.pay("SIMTEST1")
        attempts = sim.wait_for_ipn("SIMTEST1")
    assert attempts[0].error and "timed out" in attempts[0].error.lower()
    assert attempts[-1].rsp_code in ("00", "02")  # the slow first reply may have been recorded as paid


def test_ipn_gives_up_after_max_attempts(ipn_app, now):
    ipn_app.script = ["99"] * 10
    with VNPaySimulator(TMN, SECRET, ipn_url=ipn_app.url, retry_delays=(0.01, 0.02), max_ipn_attempts=4) as sim:
        loopback_session().get(pay_url(sim, pay_params(now)), timeout=5)
        sim.pay("SIMTEST1")
        attempts = sim.wait_for_ipn("SIMTEST1")
    assert [a.attempt for a in attempts] == [1, 2, 3, 4]
    assert {a.rsp_code for a in attempts} == {"99"}


def test_ipn_to_a_dead_endpoint_records_connection_errors(now):
    with VNPaySimulator(TMN, SECRET, ipn_url="http://127.0.0.1:9/ipn", retry_delays=(0.01,), max_ipn_attempts=2) as sim:
        loopback_session().get(pay_url(sim, pay_params(now)), timeout=5)
        sim.pay("SIMTEST1")
        attempts = sim.wait_for_ipn("SIMTEST1")
    assert len(attempts) == 2 and all(a.error and a.status is None for a in attempts)


# -- merchant API ---------------------------------------------------------------------

def querydr_body(now: datetime, **overrides) -> dict[str, str]:
    body = {
        "vnp_RequestId": "req-" + str(time.monotonic_ns()), "vnp_Version": "2.1.0", "vnp_Command": "querydr",
        "vnp_TmnCode": TMN, "vnp_TxnRef": "NOPE", "vnp_OrderInfo": "Truy van", "vnp_TransactionDate": format_vnp_date(now),
        "vnp_CreateDate": format_vnp_date(now), "vnp_IpAddr": "127.0.0.1",
    }
    body.update(overrides)
    body["vnp_SecureHash"] = fields_checksum(SECRET, body, QUERYDR_REQUEST_FIELDS)
    return body


def api(sim, body) -> dict:
    resp = loopback_session().post(sim.base_url + API_PATH, json=body, timeout=5)
    assert resp.status_code == 200
    return resp.json()


def test_api_answers_97_to_a_bad_request_checksum(sim, now):
    body = querydr_body(now)
    body["vnp_TxnRef"] = "CHANGED"
    assert api(sim, body)["vnp_ResponseCode"] == "97"


def test_api_answers_94_to_a_reused_request_id(sim, now):
    body = querydr_body(now)
    assert api(sim, body)["vnp_ResponseCode"] == "91"
    assert api(sim, body)["vnp_ResponseCode"] == "94"


def test_api_answers_02_to_a_foreign_terminal_and_03_to_garbage(sim, now):
    assert api(sim, querydr_body(now, vnp_TmnCode="OTHER001"))["vnp_ResponseCode"] == "02"
    resp = loopback_session().post(sim.base_url + API_PATH, data=b"not json", timeout=5)
    assert resp.json()["vnp_ResponseCode"] == "03"


def test_refund_settles_from_05_to_06_after_the_configured_delay(now):
    from payments.vnpay import VNPayProvider

    with VNPaySimulator(TMN, SECRET, ipn_url=None, refund_settle_seconds=0.1) as sim:
        loopback_session().get(pay_url(sim, pay_params(now)), timeout=5)
        sim.pay("SIMTEST1")
        provider = VNPayProvider(TMN, SECRET, sim.base_url, session=loopback_session())
        refund = provider.refund("SIMTEST1", 10_000, False, "officer", transaction_date=now)
        assert refund.pending and refund.raw["vnp_TransactionStatus"] == "05"
        time.sleep(0.15)
        assert [r.status for r in sim.transactions["SIMTEST1"].refunds] == ["06"]
        assert provider.refund("SIMTEST1", 10_000, False, "officer", transaction_date=now).accepted


def test_standalone_simulator_serves_the_pay_page(now):
    env = dict(os.environ, VNPAY_TMN_CODE="STANDALN", VNPAY_HASH_SECRET="STANDALONESECRET", PYTHONUNBUFFERED="1")
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    proc = subprocess.Popen(
        [sys.executable, "-m", "payments.simulator", "--port", "0", "--ipn-url", "http://127.0.0.1:9/ipn"],
        cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        banner = proc.stdout.readline()
        assert "NOT a real gateway" in banner and "TMN=STANDALN" in banner, banner
        base = banner.split(" on ")[1].split()[0]
        assert base.startswith("http://127.0.0.1:")
        s = loopback_session()
        assert s.get(base + "/healthz", timeout=5).status_code == 200
        params = pay_params(now, vnp_TmnCode="STANDALN")
        signed = sign_params(params, "STANDALONESECRET")
        url = f"{base}{PAY_PATH}?{canonical_query(signed)}&vnp_SecureHash={signed['vnp_SecureHash']}"
        assert s.get(url, timeout=5).status_code == 200
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        proc.stdout.close()


def test_transactions_snapshot_is_not_live_state(sim, now):
    loopback_session().get(pay_url(sim, pay_params(now)), timeout=5)
    snap = sim.transactions["SIMTEST1"]
    snap.refunds.append(None)
    assert sim.transactions["SIMTEST1"].refunds == []
    assert json.dumps(snap.amount) == "150000"
