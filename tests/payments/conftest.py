"""Fixtures for the payments tests: the loopback VNPay simulator, a stand-in for the app's IPN
endpoint, and a VNPayProvider wired to the simulator. Everything binds to 127.0.0.1 only."""
from __future__ import annotations

import itertools
from datetime import datetime, timedelta, UTC
from collections.abc import Callable

import pytest

from payments.simulator import VNPaySimulator
from payments.vnpay import VNPayProvider
from vnpay_testkit import SECRET, TMN, IpnApp, loopback_session, serve_ipn_app


@pytest.fixture
def ipn_app():
    app = IpnApp(provider=VNPayProvider(TMN, SECRET, "http://unused.invalid"))
    server = serve_ipn_app(app)
    app.url = f"http://127.0.0.1:{server.server_address[1]}/payments/vnpay/ipn"
    yield app
    server.shutdown()
    server.server_close()


@pytest.fixture
def sim(ipn_app):
    simulator = VNPaySimulator(
        TMN, SECRET, ipn_url=ipn_app.url, port=0, retry_delays=(0.05,),
        ipn_timeout=1.0, refund_settle_seconds=None,
    )
    simulator.start()
    yield simulator
    simulator.stop()


@pytest.fixture
def now() -> datetime:
    # Real time, frozen for the test: the simulator checks expiry against the real clock,
    # and querydr must send the exact create date the pay URL carried.
    return datetime.now(UTC).replace(microsecond=0)


@pytest.fixture
def provider(sim, now) -> VNPayProvider:
    return VNPayProvider(
        TMN, SECRET, sim.base_url, session=loopback_session(), clock=lambda: now,
        timeout=(1.0, 3.0), retries=2, retry_backoff=0.01,
    )


_refs = itertools.count(1)


@pytest.fixture
def checkout(provider, sim, ipn_app, now) -> Callable[..., str]:
    """Create a payment, register it with the IPN stand-in, and open its pay page over HTTP
    (as the citizen's browser would). Returns the reference."""

    def _open(amount: int = 150_000, description: str = "Lệ phí cấp bản sao trích lục hộ tịch") -> str:
        reference = f"T{next(_refs):04d}{now:%H%M%S}"
        session = provider.create_payment(
            amount, "VND", reference, description, "http://127.0.0.1:9/payments/return",
            "203.0.113.7", now + timedelta(minutes=15),
        )
        page = loopback_session().get(session.redirect_url, timeout=5)
        assert page.status_code == 200, page.text
        ipn_app.orders[reference] = amount
        return reference

    return _open
