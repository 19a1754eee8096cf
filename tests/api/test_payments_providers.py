"""Provider neutrality: a provider the app has never named takes a payment end to end through
/payments/providers/{provider}/..., registered in the registry and chosen by configuration, with
no change to chalicelib; VNPay's registered paths and the templated ones are the same routes; a
provider this deployment does not serve cannot reach the ledger."""
from __future__ import annotations

from datetime import datetime, timedelta, UTC
from typing import Any
from collections.abc import Iterator
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest

import payments
from chalicelib.payments.adapters import providers as payment_config
from chalicelib.payments.use_cases import payments as payment_service
from payments.fake import FakeProvider
from tests.api.payment_kit import Flow, flow, vnpay  # noqa: F401  (fixtures)


@pytest.fixture
def second(api: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeProvider]:
    """The in-memory fake registered under a name of its own and configured as the provider."""
    fake = FakeProvider(secret="second-provider-secret", clock=lambda: datetime.now(UTC))
    monkeypatch.setattr(payments, "_REGISTRY", dict(payments._REGISTRY))   # forget it afterwards
    payments.register_provider("second", lambda: fake)
    monkeypatch.setenv("MOTCUA_PAYMENT_PROVIDER", "second")
    payment_config.reset()
    yield fake
    payment_config.reset()


def ipn(api: Any, provider: str, params: dict[str, str]) -> Any:
    return api.call("GET", f"/payments/providers/{provider}/ipn?{urlencode(params)}")


def test_a_second_provider_takes_a_payment_end_to_end_through_its_own_routes(api, second):
    flow = Flow(api, sim=None)
    code = flow.dossier()
    created = flow.create(code)
    assert created.status_code == 201 and created.json["pay_url"].startswith("https://fake-pay.invalid/pay/")
    payment_id = created.json["payment_id"]
    assert second.payments[payment_id].return_url.endswith("/payments/providers/second/return")

    params = second.complete(payment_id)
    reply = ipn(api, "second", params)
    assert (reply.status_code, reply.json) == (200, {"outcome": "accepted"})    # the provider's own format
    payment = flow.payment(payment_id).json
    assert (payment["status"], payment["provider"], payment["provider_txn_id"]) == (
        "succeeded", "second", params["txn_id"])
    view = flow.dossier_view(code)
    assert (view["amount_paid"], view["payment_status"]) == (200_000, "paid")
    page = api.client.http.request("GET", f"/payments/providers/second/return?{urlencode(params)}")
    assert page.status_code == 200 and "Thanh toán thành công" in page.body.decode()
    assert ipn(api, "second", params).json == {"outcome": "already_recorded"}


def test_a_second_providers_lost_notification_is_healed_by_the_sweep_through_its_query(api, second):
    flow = Flow(api, sim=None)
    payment_id = flow.create(flow.dossier()).json["payment_id"]
    second.complete(payment_id)                                   # the notification never arrives
    report = payment_service.sweep(min_age_minutes=0, clock=lambda: datetime.now(UTC) + timedelta(minutes=1))
    assert (report["checked"], report["succeeded"]) == (1, 1)
    assert [name for name, _ in second.calls] == ["create_payment", "query"]
    assert flow.payment(payment_id).json["status"] == "succeeded"


def test_vnpays_registered_paths_and_the_templated_ones_are_the_same_routes(flow):
    code = flow.dossier()
    payment_id, params = flow.pay(code)
    return_url = dict(parse_qsl(urlsplit(flow.payment(payment_id).json["pay_url"]).query))["vnp_ReturnUrl"]
    assert return_url.endswith("/payments/providers/vnpay/return")
    assert ipn(flow.api, "vnpay", params).json == {"RspCode": "00", "Message": "Confirm Success"}
    assert flow.ipn(params).json == {"RspCode": "02", "Message": "Order already confirmed"}   # /payments/vnpay/ipn
    for path in ("/payments/vnpay/return", "/payments/providers/vnpay/return"):
        page = flow.api.client.http.request("GET", f"{path}?{urlencode(params)}")
        assert page.status_code == 200 and "Thanh toán thành công" in page.body.decode()


def test_a_registered_provider_this_deployment_does_not_serve_cannot_reach_the_ledger(flow):
    """The fake's secret is public: were its routes served, anyone could sign a success."""
    payment_id = flow.create(flow.dossier()).json["payment_id"]
    forger = FakeProvider()
    forger.create_payment(200_000, "VND", payment_id, "x", "https://x.invalid/r", "203.0.113.9",
                          datetime.now(UTC) + timedelta(minutes=5))
    forged = ipn(flow.api, "fake", forger.complete(payment_id))
    assert forged.status_code == 404 and forged.json["error"]["code"] == "payment_provider_not_found"
    page = flow.api.client.http.request("GET", f"/payments/providers/fake/return?{urlencode(forger.complete(payment_id))}")
    assert page.status_code == 404 and page.headers["Content-Type"].startswith("text/html")
    assert flow.payment(payment_id).json["status"] == "pending"


def test_a_refund_goes_to_the_provider_that_took_the_payment_and_not_to_another(flow, monkeypatch):
    code, payment_id = flow.paid_dossier()
    finance = flow.api.token("finance", sub="finance-officer")
    monkeypatch.setattr(payments, "_REGISTRY", dict(payments._REGISTRY))
    payments.register_provider("second", FakeProvider)
    monkeypatch.setenv("MOTCUA_PAYMENT_PROVIDER", "second")      # the deployment moved on
    payment_config.reset()
    refused = flow.api.call("POST", f"/payments/{payment_id}/refunds", token=finance,
                            body={"amount": 200_000, "reason": "Từ chối hồ sơ"})
    assert refused.status_code == 409 and refused.json["error"]["code"] == "payment_provider_not_served"
    assert flow.payment(payment_id).json["status"] == "succeeded"   # nothing reserved, nothing sent
    assert flow.dossier_view(code)["amount_paid"] == 200_000
