"""Helpers for payment tests through the Chalice app (in-process moto) and the loopback VNPay
simulator. The app talks to the simulator over real HTTP (pay page, querydr, refund); the
simulator's signed result parameters (the same ones VNPay puts on the IPN) are delivered to
the in-process IPN route, since the in-process app has no port to call back.

Import the fixtures into a test module: ``from tests.api.payment_kit import vnpay, flow``.
"""
from __future__ import annotations

from datetime import datetime, timedelta, UTC
from typing import Any
from collections.abc import Iterator
from urllib.parse import urlencode, urlsplit

import pytest
import requests

from chalicelib.payments.adapters import providers as payment_config
from payments.simulator import VNPaySimulator
from payments.vnpay import params_from_query_string, sign_params
from tests.api.test_intake import submission, submit

TMN = "MOTCUA01"
SECRET = "TESTONLYSECRETFORPAYMENTAPITESTS"
PAID_PROCEDURE = "1.001023"      # 200.000 đ, pay_before_accept: true   (Sở Tư pháp)
FREE_FLOW_PROCEDURE = "1.001756"  # 1.000.000 đ, pay_before_accept: false
NO_FEE_PROCEDURE = "1.001193"    # no fees


@pytest.fixture
def vnpay(monkeypatch) -> Iterator[VNPaySimulator]:
    """The simulator on a free loopback port, and the app configured to use it."""
    sim = VNPaySimulator(TMN, SECRET, port=0, ipn_url=None, retry_delays=(0.05,), refund_settle_seconds=None)
    sim.start()
    monkeypatch.setenv("VNPAY_HOST", sim.base_url)
    monkeypatch.setenv("VNPAY_TMN_CODE", TMN)
    monkeypatch.setenv("VNPAY_HASH_SECRET", SECRET)
    payment_config.reset()
    yield sim
    sim.stop()
    payment_config.reset()


class Flow:
    """A citizen with a dossier, paying through the simulator."""

    def __init__(self, api: Any, sim: VNPaySimulator) -> None:
        self.api, self.sim = api, sim
        self.citizen = api.token("citizen", sub="citizen-payer")
        self._keys = 0

    def dossier(self, procedure: str = PAID_PROCEDURE, token: str | None = None) -> str:
        self._keys += 1
        response = submit(self.api, submission(procedure), token or self.citizen, key=f"pay-key-{self._keys:06d}")
        assert response.status_code == 201, response.json
        return response.json["dossier_code"]

    def officer(self, code: str) -> str:
        return self.api.token("officer", code.rsplit("-", 2)[0], sub="officer-pay")

    def create(self, code: str, token: str | None = None) -> Any:
        return self.api.call("POST", f"/dossiers/{code}/payments", token=token or self.citizen)

    def open_page(self, pay_url: str) -> None:
        page = requests.get(pay_url, timeout=5)
        assert page.status_code == 200, page.text

    def pay(self, code: str, outcome: str = "success") -> tuple[str, dict[str, str]]:
        """Create (or reuse) the payment, open its page, press a button. Returns the payment id
        and the signed result parameters VNPay sends to the IPN and the return URL."""
        created = self.create(code)
        assert created.status_code in (200, 201), created.json
        self.open_page(created.json["pay_url"])
        payment_id = created.json["payment_id"]
        return payment_id, self.press(payment_id, outcome)

    def press(self, payment_id: str, outcome: str) -> dict[str, str]:
        return params_from_query_string(urlsplit(self.sim.pay(payment_id, outcome)).query)

    def ipn(self, params: dict[str, str] | str) -> Any:
        query = params if isinstance(params, str) else urlencode(params)
        return self.api.call("GET", f"/payments/vnpay/ipn?{query}")

    def return_page(self, params: dict[str, str] | str) -> Any:
        """The browser coming back from VNPay (an HTML answer, so no JSON decoding)."""
        query = params if isinstance(params, str) else urlencode(params)
        return self.api.client.http.request("GET", f"/payments/vnpay/return?{query}")

    def download(self, path: str, accept: str, token: str | None = None) -> Any:
        return self.api.client.http.request("GET", path, headers={
            "Authorization": f"Bearer {token or self.citizen}", "Accept": accept})

    def payment(self, payment_id: str, token: str | None = None) -> Any:
        return self.api.call("GET", f"/payments/{payment_id}", token=token or self.citizen)

    def dossier_view(self, code: str) -> dict[str, Any]:
        return self.api.call("GET", f"/dossiers/{code}", token=self.citizen).json

    def paid_dossier(self, procedure: str = PAID_PROCEDURE) -> tuple[str, str]:
        code = self.dossier(procedure)
        payment_id, params = self.pay(code)
        assert self.ipn(params).json == {"RspCode": "00", "Message": "Confirm Success"}
        return code, payment_id


@pytest.fixture
def flow(api, vnpay) -> Flow:
    return Flow(api, vnpay)


def resign(params: dict[str, str], **changes: str) -> dict[str, str]:
    """The notification as VNPay would sign it with these changes (tests of the app's checks
    after the checksum)."""
    changed = {k: v for k, v in params.items() if k != "vnp_SecureHash"}
    changed.update(changes)
    return sign_params(changed, SECRET)


def later(minutes: int) -> Any:
    return lambda: datetime.now(UTC) + timedelta(minutes=minutes)
