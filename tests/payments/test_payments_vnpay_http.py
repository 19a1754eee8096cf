"""VNPayProvider over real HTTP on loopback against payments.simulator, with a stand-in for
the app's IPN endpoint (tests/payments/vnpay_testkit.py: IpnApp)."""
from __future__ import annotations

import json
import socket
import time
from datetime import timedelta, UTC
from urllib.parse import urlsplit

import pytest
import requests

from payments import (
    PaymentError, PaymentOutcome, ProviderRejected, ProviderUnavailable, RefundInProgress, SignatureError,
)
from payments.vnpay import QUERYDR_RESPONSE_FIELDS, VNPayProvider, fields_checksum, params_from_query_string
from vnpay_testkit import SECRET, TMN, CountingSession, loopback_session


def return_params(location: str) -> dict[str, str]:
    return params_from_query_string(urlsplit(location).query)


# -- pay -> IPN -> return -------------------------------------------------------------------

def test_paid_ipn_is_retried_until_the_app_confirms(sim, provider, ipn_app, checkout):
    ipn_app.script = ["99", "99"]  # the app fails twice, then its real logic answers 00
    ref = checkout(amount=150_000)
    location = sim.pay(ref, "success")

    attempts = sim.wait_for_ipn(ref, timeout=10)
    assert [a.rsp_code for a in attempts] == ["99", "99", "00"]
    assert all(a.url.startswith(ipn_app.url + "?") for a in attempts)
    notification = ipn_app.paid[ref]
    assert notification.succeeded and notification.amount == 150_000
    assert notification.provider_txn_id == sim.transactions[ref].transaction_no

    # The browser comes back with the same signed params; verified for display only.
    result = provider.verify_return(return_params(location))
    assert (result.reference, result.amount, result.succeeded) == (ref, 150_000, True)
    assert location.startswith("http://127.0.0.1:9/payments/return?")


def test_duplicate_ipn_after_confirmation_is_answered_02_and_stops(sim, ipn_app, checkout):
    ref = checkout()
    ipn_app.script = []
    sim.pay(ref, "success")
    assert [a.rsp_code for a in sim.wait_for_ipn(ref)] == ["00"]
    # Replaying the same IPN (VNPay may resend) is "already confirmed".
    params, _ = ipn_app.received[0]
    assert ipn_app._decide(params) == "02"


def test_lost_ipn_is_healed_by_querydr(sim, provider, ipn_app, checkout, now):
    ref = checkout(amount=75_000)
    sim.pay(ref, "lose_ipn")
    assert sim.wait_for_ipn(ref) == []
    assert ref not in ipn_app.paid

    result = provider.query(ref, now)
    assert result.found and result.succeeded and result.outcome == PaymentOutcome.SUCCEEDED
    assert (result.amount, result.status, result.response_code) == (75_000, "00", "00")
    assert result.provider_txn_id == sim.transactions[ref].transaction_no
    assert result.paid_at is not None and abs(result.paid_at - now) < timedelta(minutes=1)


def test_cancel_sends_ipn_with_code_24_and_not_succeeded(sim, provider, ipn_app, checkout, now):
    ref = checkout()
    location = sim.pay(ref, "cancel")
    attempts = sim.wait_for_ipn(ref)
    assert [a.rsp_code for a in attempts] == ["00"]
    n = ipn_app.paid[ref]
    assert (n.succeeded, n.response_code, n.provider_txn_id) == (False, "24", None)
    assert provider.verify_return(return_params(location)).succeeded is False
    q = provider.query(ref, now)
    assert q.found and not q.succeeded and q.status == "02" and q.outcome == PaymentOutcome.FAILED


def test_session_created_at_is_what_querydr_and_refund_need(sim, ipn_app):
    """With the real (unfrozen) clock, the caller stores session.created_at and uses it later."""
    from datetime import datetime

    provider = VNPayProvider(TMN, SECRET, sim.base_url, session=loopback_session())
    session = provider.create_payment(
        90_000, "VND", "REALCLOCK1", "Phí", "http://127.0.0.1:9/r", "203.0.113.7",
        datetime.now(UTC) + timedelta(minutes=15),
    )
    assert loopback_session().get(session.redirect_url, timeout=5).status_code == 200
    sim.pay("REALCLOCK1", "lose_ipn")
    assert provider.query("REALCLOCK1", session.created_at).succeeded
    assert provider.refund("REALCLOCK1", 90_000, True, "officer", transaction_date=session.created_at).accepted


def test_query_before_payment_reports_not_completed(provider, checkout, now):
    ref = checkout()
    result = provider.query(ref, now)
    assert result.found and not result.succeeded and result.status == "01"
    assert result.outcome == PaymentOutcome.PENDING
    assert result.paid_at is None


def test_query_unknown_reference_is_not_found(provider, now):
    result = provider.query("NEVERSEEN", now)
    assert (result.found, result.succeeded, result.amount, result.status) == (False, False, None, "")


def test_query_with_a_different_create_date_is_not_found(provider, checkout, now):
    ref = checkout()
    assert provider.query(ref, now + timedelta(seconds=1)).found is False


# -- refunds ------------------------------------------------------------------------------

def paid(sim, checkout, amount=150_000) -> str:
    ref = checkout(amount=amount)
    sim.pay(ref, "success")
    sim.wait_for_ipn(ref)
    return ref


def test_partial_refund_then_full_refund_beyond_amount_is_rejected(sim, provider, checkout, now):
    ref = paid(sim, checkout, 150_000)
    txn_no = sim.transactions[ref].transaction_no

    partial = provider.refund(ref, 50_000, False, "can.bo.mot.cua", provider_txn_id=txn_no, transaction_date=now)
    assert (partial.accepted, partial.pending, partial.amount, partial.response_code) == (True, True, 50_000, "00")
    assert partial.raw["vnp_TransactionType"] == "03"

    with pytest.raises(RefundInProgress) as in_progress:  # the first refund is still processing (05)
        provider.refund(ref, 10_000, False, "can.bo.mot.cua", transaction_date=now)
    assert in_progress.value.code == "94" and not isinstance(in_progress.value, ProviderRejected)
    assert provider.query(ref, now).refund_processing        # querydr shows VNPay processing a refund

    sim.settle_refunds(ref)
    assert not provider.query(ref, now).refund_processing
    assert [r.status for r in sim.transactions[ref].refunds] == ["06"]
    with pytest.raises(ProviderRejected) as beyond:
        provider.refund(ref, 150_000, True, "can.bo.mot.cua", transaction_date=now)
    assert beyond.value.code == "99"

    rest = provider.refund(ref, 100_000, False, "can.bo.mot.cua", transaction_date=now)
    assert rest.accepted and sim.transactions[ref].refunded == 150_000


def test_full_refund_of_a_paid_transaction_is_accepted(sim, provider, checkout, now):
    ref = paid(sim, checkout, 60_000)
    result = provider.refund(ref, 60_000, True, "officer", transaction_date=now)
    assert result.accepted and result.raw["vnp_TransactionType"] == "02"
    assert result.provider_txn_id and result.provider_txn_id != sim.transactions[ref].transaction_no


def test_refund_of_a_cancelled_payment_is_rejected_95(sim, provider, checkout, now):
    ref = checkout()
    sim.pay(ref, "cancel")
    with pytest.raises(ProviderRejected) as info:
        provider.refund(ref, 1_000, False, "officer", transaction_date=now)
    assert info.value.code == "95"


def test_refund_needs_the_transaction_date_and_an_int_amount(provider):
    with pytest.raises(ValueError):
        provider.refund("X", 1_000, False, "officer")
    with pytest.raises(ValueError):
        provider.refund("X", 1_000.0, False, "officer", transaction_date=provider._now())


# -- failures -----------------------------------------------------------------------------

def counting_provider(base_url: str, now, **kw) -> tuple[VNPayProvider, CountingSession]:
    session = CountingSession()
    kw.setdefault("timeout", (1.0, 3.0))
    provider = VNPayProvider(TMN, SECRET, base_url, session=session, clock=lambda: now, retries=2, retry_backoff=0.01, **kw)
    return provider, session


def test_503_raises_provider_unavailable_without_retry(sim, now):
    provider, session = counting_provider(sim.base_url, now)
    sim.fail_next(1)
    with pytest.raises(ProviderUnavailable):
        provider.query("ANY", now)
    assert session.calls == 1
    assert provider.query("ANY", now).found is False  # the next call goes through


def test_connection_refused_is_retried_then_unavailable(now):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again when the block ends: nothing listens there
    provider, session = counting_provider(f"http://127.0.0.1:{port}", now)
    with pytest.raises(ProviderUnavailable):
        provider.query("ANY", now)
    assert session.calls == 3  # 1 + retries=2


def test_read_timeout_after_the_request_arrived_is_not_retried(sim, now):
    provider, session = counting_provider(sim.base_url, now, timeout=(1.0, 0.3))
    sim.stall_next(1.0)
    before = len(sim.api_requests)
    with pytest.raises(ProviderUnavailable):
        provider.query("ANY", now)
    assert session.calls == 1
    time.sleep(0.8)  # let the stalled handler finish
    assert len(sim.api_requests) == before + 1


def test_bad_response_checksum_raises_signature_error(sim, provider, checkout, now):
    ref = paid(sim, checkout)
    sim.tamper_next(1)
    with pytest.raises(SignatureError):
        provider.query(ref, now)
    sim.tamper_next(1)
    with pytest.raises(SignatureError):
        provider.refund(ref, 1_000, False, "officer", transaction_date=now)


def test_not_found_with_a_bad_checksum_is_not_trusted(sim, provider, now):
    sim.tamper_next(1)
    with pytest.raises(SignatureError):
        provider.query("NEVERSEEN", now)


def test_wrong_secret_is_refused_by_the_gateway(sim, now):
    provider = VNPayProvider(TMN, "WRONGSECRET", sim.base_url, session=loopback_session(), clock=lambda: now)
    with pytest.raises(PaymentError):  # answered 97, signed with the real secret -> SignatureError
        provider.query("ANY", now)
    assert sim.api_requests[-1]["vnp_TxnRef"] == "ANY"


# -- transport edge cases, with a stub adapter -------------------------------------------

class StubAdapter(requests.adapters.BaseAdapter):
    def __init__(self, status: int, body: bytes, content_type: str = "application/json") -> None:
        super().__init__()
        self.status, self.body, self.content_type = status, body, content_type

    def send(self, request, **kwargs):
        resp = requests.Response()
        resp.status_code = self.status
        resp._content = self.body
        resp.headers["Content-Type"] = self.content_type
        resp.url = request.url
        resp.request = request
        return resp

    def close(self):
        pass


def stubbed(status: int, body: bytes, content_type: str = "application/json") -> VNPayProvider:
    session = requests.Session()
    session.mount("http://stub.invalid/", StubAdapter(status, body, content_type))
    return VNPayProvider(TMN, SECRET, "http://stub.invalid", session=session)


@pytest.mark.parametrize("status", [500, 502, 504, 429])
def test_5xx_and_429_raise_provider_unavailable(status, now):
    with pytest.raises(ProviderUnavailable):
        stubbed(status, b"oops", "text/plain").query("X", now)


def test_html_maintenance_page_raises_provider_unavailable(now):
    with pytest.raises(ProviderUnavailable):
        stubbed(200, b"<html>Bao tri</html>", "text/html").query("X", now)


def test_4xx_raises_payment_error_not_unavailable(now):
    with pytest.raises(PaymentError) as info:
        stubbed(404, b"not found", "text/plain").query("X", now)
    assert not isinstance(info.value, ProviderUnavailable)


def test_success_without_a_checksum_is_refused(now):
    with pytest.raises(SignatureError):
        stubbed(200, b'{"vnp_ResponseCode": "00", "vnp_TxnRef": "X", "vnp_Amount": "100"}').query("X", now)


def test_error_code_without_a_checksum_is_still_a_rejection(now):
    with pytest.raises(ProviderRejected) as info:
        stubbed(200, b'{"vnp_ResponseCode": "99", "vnp_Message": "loi"}').query("X", now)
    assert info.value.code == "99"


@pytest.mark.parametrize("status,outcome", [
    ("00", PaymentOutcome.SUCCEEDED), ("05", PaymentOutcome.SUCCEEDED), ("06", PaymentOutcome.SUCCEEDED),
    ("09", PaymentOutcome.SUCCEEDED), ("02", PaymentOutcome.FAILED), ("04", PaymentOutcome.FAILED),
    ("01", PaymentOutcome.PENDING),
])
def test_querydr_transaction_status_becomes_a_neutral_outcome(status, outcome, now):
    """05/06/09: paid, then a refund was asked; the money was taken all the same."""
    body = {"vnp_ResponseId": "r", "vnp_Command": "querydr", "vnp_ResponseCode": "00", "vnp_Message": "ok",
            "vnp_TmnCode": TMN, "vnp_TxnRef": "X", "vnp_Amount": "10000", "vnp_TransactionStatus": status,
            "vnp_PayDate": "20251122143512", "vnp_TransactionNo": "1"}
    body["vnp_SecureHash"] = fields_checksum(SECRET, body, QUERYDR_RESPONSE_FIELDS)
    result = stubbed(200, json.dumps(body).encode()).query("X", now)
    assert (result.outcome, result.response_code, result.amount) == (outcome, "00", 100)
