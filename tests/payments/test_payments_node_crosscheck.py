"""Cross-check our VNPay checksums against an implementation that is not ours: the npm package
``vnpay`` (version pinned in vectors/package.json + package-lock.json).

The package is installed on first use into tests/payments/vectors/node_modules (git-ignored,
reused afterwards). Without node/npm, or if the install fails, these tests are skipped with
the reason shown in pytest's summary; the hand-derived vectors in
test_payments_vnpay_signing.py still run.

Known differences of the npm package, avoided rather than tested as equal:
* URLSearchParams leaves '*' unencoded and encodes '~'; quote_plus does the opposite. We never
  send either (OrderInfo is cleaned, return URLs with them are refused);
  test_encoders_disagree_only_on_tilde_and_star pins the difference down.
* it drops empty values before hashing; we never send empty values and verify_params accepts
  both conventions.
* its refund() divides vnp_Amount by 100 before hashing the *response* (the same bug it fixed
  for return URLs in v1.5.1), so only its refund *request* checksum is compared.
"""
from __future__ import annotations

import fcntl
import json
import shutil
import subprocess
import tempfile
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from payments.vnpay import (
    QUERYDR_REQUEST_FIELDS,
    QUERYDR_RESPONSE_FIELDS,
    REFUND_REQUEST_FIELDS,
    VNPayProvider,
    canonical_query,
    fields_checksum,
    format_vnp_date,
    params_from_query_string,
    sign_params,
    verify_params,
)
from vnpay_testkit import FIXED_NOW, SECRET, TMN

VECTORS = Path(__file__).parent / "vectors"
HOST = "http://sandbox.example.test"


def _install() -> None:
    node, npm = shutil.which("node"), shutil.which("npm")
    if not node or not npm:
        pytest.skip("node/npm not found: npm 'vnpay' cross-check skipped (hand vectors still checked)")
    wanted = json.loads((VECTORS / "package.json").read_text())["dependencies"]["vnpay"]
    installed = VECTORS / "node_modules" / "vnpay" / "package.json"
    finished = VECTORS / "node_modules" / ".package-lock.json"   # npm writes it when an install completes
    # One install at a time: a second `npm ci` started during the first deletes what the first
    # is writing (ENOTEMPTY), and the first then leaves a half-installed tree behind.
    with open(Path(tempfile.gettempdir()) / "motcua-vnpay-vectors.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if finished.exists() and installed.exists() and json.loads(installed.read_text()).get("version") == wanted:
            return
        try:
            subprocess.run(
                [npm, "ci", "--no-audit", "--no-fund", "--ignore-scripts", "--loglevel=error"],
                cwd=VECTORS, capture_output=True, text=True, timeout=240, check=True,
            )
        except subprocess.CalledProcessError as exc:
            pytest.skip(f"npm ci of vnpay@{wanted} failed, cross-check skipped: {(exc.stderr or exc.stdout)[-400:]}")
        except subprocess.TimeoutExpired:
            pytest.skip(f"npm ci of vnpay@{wanted} timed out, cross-check skipped")


@pytest.fixture(scope="module")
def node_vnpay():
    _install()

    def run(ops: list[dict], *, host: str = HOST, secret: str = SECRET, tmn: str = TMN) -> list[dict]:
        payload = {"config": {"tmnCode": tmn, "secureSecret": secret, "vnpayHost": host}, "ops": ops}
        out = subprocess.run(
            ["node", "crosscheck.mjs"], cwd=VECTORS, input=json.dumps(payload), capture_output=True,
            text=True, timeout=60, check=True,
        )
        results = json.loads(out.stdout)["results"]
        errors = [r["error"] for r in results if "error" in r]
        assert not errors, errors
        return results

    return run


def url_params(url: str) -> dict[str, str]:
    return params_from_query_string(urlsplit(url).query)


PAY_CASES = {
    "vietnamese order info, raw": dict(vnp_Amount=150_000, vnp_OrderInfo="Thanh toán lệ phí hộ tịch – Đà Nẵng, quận Hải Châu"),
    "many spaces": dict(vnp_Amount=5_000, vnp_OrderInfo="  nhiều   khoảng  trắng  "),
    "reserved characters": dict(vnp_Amount=1, vnp_OrderInfo="a&b=c+d/e?f%g#h'!()$,;@[]\"<>"),
    "large amount": dict(vnp_Amount=999_999_999, vnp_OrderInfo="Le phi truoc ba"),
    "return url with a query": dict(vnp_Amount=20_000, vnp_OrderInfo="x", vnp_ReturnUrl="https://dvc.example.gov.vn/r?a=1&b=2"),
    "english locale, bank code": dict(vnp_Amount=30_000, vnp_OrderInfo="Fee", vnp_Locale="en", vnp_BankCode="NCB"),
}


def node_pay_data(**overrides) -> dict:
    data = {
        "vnp_Amount": 150_000,  # the npm package multiplies by 100 itself
        "vnp_IpAddr": "203.0.113.5",
        "vnp_TxnRef": "MC251122ABCDEF",
        "vnp_OrderInfo": "Le phi",
        "vnp_OrderType": "other",
        "vnp_ReturnUrl": "https://dvc.example.gov.vn/payments/vnpay/return",
        "vnp_Locale": "vn",
        "vnp_CreateDate": int(format_vnp_date(FIXED_NOW)),
        "vnp_ExpireDate": int(format_vnp_date(FIXED_NOW + timedelta(minutes=15))),
    }
    data.update(overrides)
    return data


def test_node_pay_url_hashes_equal_ours_and_verify(node_vnpay):
    names = list(PAY_CASES)
    results = node_vnpay([{"op": "buildPaymentUrl", "data": node_pay_data(**PAY_CASES[n])} for n in names])
    for name, result in zip(names, results, strict=True):
        params = url_params(result["url"])
        ours = sign_params({k: v for k, v in params.items() if k != "vnp_SecureHash"}, SECRET)
        assert ours["vnp_SecureHash"] == params["vnp_SecureHash"], name
        assert verify_params(params, SECRET), name
        assert params["vnp_Amount"] == str(PAY_CASES[name]["vnp_Amount"] * 100)


def test_our_create_payment_url_is_identical_to_the_node_url(node_vnpay):
    provider = VNPayProvider(TMN, SECRET, HOST, clock=lambda: FIXED_NOW)
    session = provider.create_payment(
        150_000, "VND", "MC251122ABCDEF", "Thanh toán lệ phí: hồ sơ 000.00.01.H55-251122-0001",
        "https://dvc.example.gov.vn/payments/vnpay/return?lang=vi", "203.0.113.5", FIXED_NOW + timedelta(minutes=15),
    )
    ours = url_params(session.redirect_url)
    [node] = node_vnpay([{"op": "buildPaymentUrl", "data": node_pay_data(
        vnp_OrderInfo=ours["vnp_OrderInfo"], vnp_ReturnUrl=ours["vnp_ReturnUrl"],
    )}])
    assert node["url"] == session.redirect_url


def test_node_verifies_our_signed_return_and_ipn_params(node_vnpay):
    base = {
        "vnp_Amount": "15000000", "vnp_BankCode": "NCB", "vnp_BankTranNo": "VNP14000001", "vnp_CardType": "ATM",
        "vnp_OrderInfo": "Lệ phí hộ tịch (bản sao)", "vnp_PayDate": "20251122143512", "vnp_ResponseCode": "00",
        "vnp_TmnCode": TMN, "vnp_TransactionNo": "14000001", "vnp_TransactionStatus": "00", "vnp_TxnRef": "MC1",
    }
    signed = sign_params(base, SECRET)
    tampered = dict(signed, vnp_Amount="1500000")
    results = node_vnpay([
        {"op": "verifyReturnUrl", "query": signed},
        {"op": "verifyIpnCall", "query": signed},
        {"op": "verifyIpnCall", "query": tampered},
    ])
    assert [r["isVerified"] for r in results] == [True, True, False]


def test_node_verifies_the_simulators_ipn(node_vnpay, sim, checkout):
    ref = checkout(amount=42_000, description="Phí thẩm định hồ sơ đất đai")
    location = sim.pay(ref, "success")
    attempts = sim.wait_for_ipn(ref)
    ipn_params = url_params(attempts[0].url)
    results = node_vnpay([
        {"op": "verifyIpnCall", "query": ipn_params},
        {"op": "verifyReturnUrl", "query": url_params(location)},
    ])
    assert all(r["isVerified"] and r["isSuccess"] for r in results)


def test_node_querydr_and_refund_request_checksums_equal_ours(node_vnpay):
    querydr = {
        "vnp_RequestId": "4f1c0d3e9a8b4c7d", "vnp_IpAddr": "127.0.0.1", "vnp_TxnRef": "MC1",
        "vnp_OrderInfo": "Truy van giao dich MC1", "vnp_TransactionDate": 20251122143000, "vnp_CreateDate": 20251122150000,
    }
    refund = {
        "vnp_RequestId": "0a1b2c3d4e5f6071", "vnp_IpAddr": "127.0.0.1", "vnp_TxnRef": "MC1", "vnp_Amount": 30_000,
        "vnp_TransactionType": "03", "vnp_TransactionNo": "14000001", "vnp_TransactionDate": 20251122143000,
        "vnp_CreateBy": "can.bo.mot.cua", "vnp_CreateDate": 20251123090000, "vnp_OrderInfo": "Hoan tien giao dich MC1",
    }
    q, r = node_vnpay([{"op": "captureQueryDr", "data": querydr}, {"op": "captureRefund", "data": refund}])
    assert q["body"]["vnp_SecureHash"] == fields_checksum(SECRET, q["body"], QUERYDR_REQUEST_FIELDS)
    assert r["body"]["vnp_Amount"] == 3_000_000
    assert r["body"]["vnp_SecureHash"] == fields_checksum(SECRET, r["body"], REFUND_REQUEST_FIELDS)


def test_node_verifies_our_querydr_response_checksum(node_vnpay):
    response = {
        "vnp_ResponseId": "9f8e7d6c", "vnp_Command": "querydr", "vnp_ResponseCode": "00",
        "vnp_Message": "Yêu cầu thành công", "vnp_TmnCode": TMN, "vnp_TxnRef": "MC1", "vnp_Amount": "15000000",
        "vnp_BankCode": "NCB", "vnp_PayDate": "20251122143512", "vnp_TransactionNo": "14000001",
        "vnp_TransactionType": "01", "vnp_TransactionStatus": "00", "vnp_OrderInfo": "Le phi",
        "vnp_PromotionCode": "", "vnp_PromotionAmount": "",
    }
    response["vnp_SecureHash"] = fields_checksum(SECRET, response, QUERYDR_RESPONSE_FIELDS)
    data = {"vnp_RequestId": "r1", "vnp_IpAddr": "127.0.0.1", "vnp_TxnRef": "MC1", "vnp_OrderInfo": "q",
            "vnp_TransactionDate": 20251122143000, "vnp_CreateDate": 20251122150000}
    ok, bad = node_vnpay([
        {"op": "captureQueryDr", "data": data, "response": response},
        {"op": "captureQueryDr", "data": data, "response": dict(response, vnp_Amount="100")},
    ])
    assert (ok["isVerified"], bad["isVerified"]) == (True, False)


def test_node_client_live_against_the_simulator(node_vnpay, sim, checkout, now):
    """The npm client talks to our simulator over loopback: the simulator accepts its request
    checksums (else 97) and the npm client accepts the simulator's querydr response checksum."""
    ref = checkout(amount=80_000)
    sim.pay(ref, "success")
    sim.wait_for_ipn(ref)
    txn = sim.transactions[ref]
    created = int(txn.create_date)
    stamp = int(format_vnp_date(now))
    q, r = node_vnpay([
        {"op": "queryDr", "data": {"vnp_RequestId": "node-q-" + ref, "vnp_IpAddr": "127.0.0.1", "vnp_TxnRef": ref,
                                   "vnp_OrderInfo": "Truy van", "vnp_TransactionDate": created, "vnp_CreateDate": stamp}},
        {"op": "refund", "data": {"vnp_RequestId": "node-r-" + ref, "vnp_IpAddr": "127.0.0.1", "vnp_TxnRef": ref,
                                  "vnp_Amount": 20_000, "vnp_TransactionType": "03", "vnp_TransactionNo": txn.transaction_no,
                                  "vnp_TransactionDate": created, "vnp_CreateBy": "officer", "vnp_CreateDate": stamp,
                                  "vnp_OrderInfo": "Hoan tien"}},
    ], host=sim.base_url)
    assert (q["responseCode"], q["isVerified"], q["isSuccess"]) == ("00", True, True)
    assert r["responseCode"] == "00"  # node's verdict on the refund response is not checked (see module doc)
    assert sim.transactions[ref].refunded == 20_000


def test_encoders_disagree_only_on_tilde_and_star(node_vnpay):
    """Pins down why create_payment never sends '~' or '*'."""
    odd = node_vnpay([
        {"op": "buildPaymentUrl", "data": node_pay_data(vnp_OrderInfo=text)} for text in ("a~b", "a*b")
    ])
    for result in odd:
        params = url_params(result["url"])
        assert not verify_params(params, SECRET)  # same values, different encoding, different hash
    plain = node_vnpay([{"op": "buildPaymentUrl", "data": node_pay_data(vnp_OrderInfo="a-b_c.d:e")}])
    assert verify_params(url_params(plain[0]["url"]), SECRET)


def test_canonical_query_equals_node_search_string_for_unicode(node_vnpay):
    text = "Phí đăng ký – 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 😀"
    [result] = node_vnpay([{"op": "buildPaymentUrl", "data": node_pay_data(vnp_OrderInfo=text)}])
    params = url_params(result["url"])
    assert params["vnp_OrderInfo"] == text
    query = urlsplit(result["url"]).query
    assert query.rpartition("&vnp_SecureHash=")[0] == canonical_query(params)
