"""PayGov through its real HTTP protocol against the loopback simulator: INIT with its
MaXacThuc, the checkout page, the confirmation POSTed to the partner's address and verified,
QUERY for reconciliation, and the faults (bad checksum, wrong token, outages, tampering)."""
from __future__ import annotations

import hashlib
import json
import threading
from datetime import datetime, timedelta, UTC
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
import requests

from payments import CallbackOutcome, PaymentError, PaymentOutcome, ProviderRejected, ProviderUnavailable, SignatureError
from payments.paygov import (
    CONFIRM_FIELDS, INIT_FIELDS, PayGovProvider, checksum, format_time, message_checksum,
    parse_time, transaction_info,
)
from payments.paygov_simulator import PayGovSimulator

PARTNER, SECRET, TOKEN = "MOTCUA-TEST", "TESTONLYPAYGOVSECRET", "test-token"


class Confirmations:
    """Stands in for the app's confirmation address: verify, then reply like the app."""

    def __init__(self, provider: PayGovProvider) -> None:
        self.provider, self.received, self.script = provider, [], []
        self.paid: set[str] = set()

    def handle(self, body: bytes) -> dict[str, Any]:
        message = json.loads(body)
        self.received.append(message)
        if self.script:
            return {"MaLoi": self.script.pop(0)}
        try:
            notification = self.provider.parse_notification(message)
        except SignatureError:
            return dict(self.provider.callback_reply(CallbackOutcome.BAD_SIGNATURE).body)
        outcome = CallbackOutcome.ALREADY_RECORDED if notification.reference in self.paid else CallbackOutcome.ACCEPTED
        self.paid.add(notification.reference)
        return dict(self.provider.callback_reply(outcome).body)


@pytest.fixture
def confirmations():
    app = Confirmations(PayGovProvider(PARTNER, SECRET, "http://unused.invalid"))

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            reply = json.dumps(app.handle(self.rfile.read(int(self.headers["Content-Length"])))).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    app.url = f"http://127.0.0.1:{server.server_address[1]}/payments/providers/paygov/ipn"
    yield app
    server.shutdown()
    server.server_close()


@pytest.fixture
def sim(confirmations):
    simulator = PayGovSimulator(PARTNER, SECRET, access_token=TOKEN, confirm_url=confirmations.url,
                                return_url="http://127.0.0.1:9/payments/providers/paygov/return",
                                retry_delays=(0.05,), timeout=1.0).start()
    yield simulator
    simulator.stop()


def session() -> requests.Session:
    s = requests.Session()
    s.trust_env = False
    return s


@pytest.fixture
def now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


@pytest.fixture
def provider(sim, now) -> PayGovProvider:
    return PayGovProvider(PARTNER, SECRET, sim.base_url, access_token=TOKEN, session=session(), clock=lambda: now,
                          timeout=(1.0, 3.0))


def start(provider: PayGovProvider, now: datetime, reference: str = "MC251204A1B2C3", amount: int = 200_000) -> str:
    created = provider.create_payment(amount, "VND", reference, "Lệ phí cấp phiếu lý lịch tư pháp", "http://x/r",
                                      "203.0.113.7", now + timedelta(minutes=15))
    page = session().get(created.redirect_url, timeout=5)
    assert page.status_code == 200 and "200.000 ₫" in page.text and "Thanh toán nhưng mất xác nhận" in page.text
    return created.redirect_url


def test_maxacthuc_is_sha256_of_the_fields_then_the_secret_joined_with_bars():
    assert checksum(["INIT", "1.0.6", "P"], "s") == hashlib.sha256(b"INIT|1.0.6|P|s").hexdigest()
    message = {"LoaiBanTin": "CONFIRM", "MaLoi": "00", "SoTien": 150000}
    assert message_checksum(message, CONFIRM_FIELDS, "k") == hashlib.sha256(
        b"CONFIRM|00|||150000||||||k").hexdigest()   # a number hashes as its digits; missing fields as ''


def test_times_are_gmt7_on_a_24_hour_clock_and_info_loses_its_diacritics():
    afternoon = datetime(2026, 12, 4, 8, 5, 9, tzinfo=UTC)
    assert format_time(afternoon) == "20261204150509" and parse_time("20261204150509") == afternoon
    assert transaction_info("Lệ phí hồ sơ <Đặc biệt>", "R") == "Le phi ho so Dac biet"
    with pytest.raises(PaymentError):
        parse_time("2026-12-04")


def test_init_sends_every_checksum_field_and_a_bearer_token(provider, sim, now):
    start(provider, now)
    sent = sim.api_requests[-1]
    assert [name for name in INIT_FIELDS if name in sent] == list(INIT_FIELDS)
    assert sent["PhienBan"] == "1.0.6" and sent["SoTien"] == "200000" and sent["ThoiGianGD"] == format_time(now)
    assert sent["MaXacThuc"] == message_checksum(sent, INIT_FIELDS, SECRET)


def test_a_paid_checkout_posts_a_signed_confirmation_and_returns_the_browser(provider, sim, confirmations, now):
    start(provider, now)
    location = sim.pay("MC251204A1B2C3", "success")
    attempts = sim.wait_for_confirm("MC251204A1B2C3")
    assert [a.code for a in attempts] == ["00"]
    notification = provider.parse_notification(confirmations.received[0])
    assert (notification.reference, notification.amount, notification.succeeded) == ("MC251204A1B2C3", 200_000, True)
    assert notification.provider_txn_id and notification.paid_at is not None
    back = provider.verify_return(dict(parse_qsl(urlsplit(location).query)))
    assert back.succeeded and back.amount == 200_000


def test_the_confirmation_is_sent_again_until_the_partner_accepts_it(provider, sim, confirmations, now):
    confirmations.script = ["99", "99"]
    start(provider, now)
    sim.pay("MC251204A1B2C3")
    assert [a.code for a in sim.wait_for_confirm("MC251204A1B2C3")] == ["99", "99", "00"]


def test_a_tampered_or_foreign_confirmation_fails_its_checksum(provider, sim, confirmations, now):
    start(provider, now)
    sim.pay("MC251204A1B2C3")
    sim.wait_for_confirm("MC251204A1B2C3")
    genuine = confirmations.received[0]
    for forged in ({**genuine, "SoTien": 20}, {**genuine, "MaXacThuc": "0" * 64},
                   {k: v for k, v in genuine.items() if k != "MaXacThuc"}, {**genuine, "MaLoi": ["00", "00"]}):
        with pytest.raises(SignatureError):
            provider.parse_notification(forged)
    other = PayGovProvider("OTHER", SECRET, "http://x")
    with pytest.raises(PaymentError):
        other.parse_notification(genuine)          # signed, but not for this partner


def test_query_tells_paid_pending_cancelled_and_unknown(provider, sim, now):
    for reference, outcome in (("PAID1", "success"), ("CANCEL1", "cancel"), ("LOST1", "lose_confirm")):
        start(provider, now, reference)
        sim.pay(reference, outcome)
    start(provider, now, "OPEN1")
    answers = {ref: provider.query(ref, now) for ref in ("PAID1", "CANCEL1", "LOST1", "OPEN1", "NEVER1")}
    assert answers["PAID1"].outcome == PaymentOutcome.SUCCEEDED and answers["PAID1"].amount == 200_000
    assert answers["LOST1"].outcome == PaymentOutcome.SUCCEEDED          # only QUERY knows it was paid
    assert answers["CANCEL1"].outcome == PaymentOutcome.FAILED
    assert answers["OPEN1"].outcome == PaymentOutcome.PENDING
    assert not answers["NEVER1"].found
    assert not provider.query("PAID1", now - timedelta(seconds=1)).found   # QUERY needs INIT's own time


def test_faults_are_typed_errors_never_a_guess(provider, sim, now):
    start(provider, now, "FAULT1")
    sim.pay("FAULT1")
    sim.tamper_next()
    with pytest.raises(SignatureError):
        provider.query("FAULT1", now)
    sim.fail_next()
    with pytest.raises(ProviderUnavailable):
        provider.query("FAULT1", now)
    wrong_token = PayGovProvider(PARTNER, SECRET, sim.base_url, access_token="stolen", session=session())
    with pytest.raises(PaymentError) as refused:
        wrong_token.query("FAULT1", now)
    assert not isinstance(refused.value, ProviderUnavailable)             # a configuration error, not an outage
    wrong_secret = PayGovProvider(PARTNER, "WRONG", sim.base_url, access_token=TOKEN, session=session())
    with pytest.raises(ProviderRejected) as rejected:
        wrong_secret.create_payment(1000, "VND", "BADSIG1", "x", "http://x", "203.0.113.7", now + timedelta(minutes=5))
    assert rejected.value.code == "97"


def test_the_simulator_refuses_a_reference_already_paid_and_a_skewed_time(provider, sim, now):
    start(provider, now, "ONCE1")
    sim.pay("ONCE1")
    with pytest.raises(ProviderRejected) as again:
        start(provider, now, "ONCE1")
    assert again.value.code == "01"
    skewed = PayGovProvider(PARTNER, SECRET, sim.base_url, access_token=TOKEN, session=session(),
                            clock=lambda: now - timedelta(days=2))
    with pytest.raises(ProviderRejected):
        skewed.create_payment(1000, "VND", "OLD1", "x", "http://x", "203.0.113.7", now + timedelta(minutes=5))


def test_a_wrapped_init_answer_of_a_provincial_platform_is_read_too():
    answer = PayGovProvider._init_answer({"error_code": "0", "message": json.dumps({"UrlThanhToan": "https://p/x"})})
    assert answer["UrlThanhToan"] == "https://p/x"
    with pytest.raises(ProviderRejected):
        PayGovProvider._init_answer({"error_code": -1, "message": "lỗi"})


def test_refunds_are_refused_for_finance_to_do_by_hand(provider):
    with pytest.raises(ProviderRejected):
        provider.refund("PAID1", 1000, True, "finance")
    assert SECRET not in repr(provider) and TOKEN not in repr(provider)


def test_the_standalone_simulator_takes_an_init_with_the_key_and_token_from_its_environment(now):
    import os
    import subprocess
    import sys
    from pathlib import Path
    repo = Path(__file__).resolve().parents[2]
    env = dict(os.environ, PAYGOV_SECRET_KEY="STANDALONEKEY", PAYGOV_ACCESS_TOKEN="standalone-token",
               PYTHONUNBUFFERED="1")
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(repo), env.get("PYTHONPATH")]))
    proc = subprocess.Popen([sys.executable, "-m", "payments.paygov_simulator", "--port", "0", "--partner-code", "SOLO"],
                            cwd=repo, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        banner = proc.stdout.readline()
        assert "NOT the real platform" in banner, banner
        base = banner.split(" on ")[1].split()[0]
        solo = PayGovProvider("SOLO", "STANDALONEKEY", base, access_token="standalone-token", session=session())
        created = solo.create_payment(5000, "VND", "SOLO1", "Le phi", "http://x", "203.0.113.7",
                                      now + timedelta(minutes=5))
        assert session().get(created.redirect_url, timeout=5).status_code == 200
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        proc.stdout.close()
