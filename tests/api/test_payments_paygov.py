"""PayGov in the app: the citizen chooses it, INIT goes to the simulator over HTTP, its
confirmation is POSTed to /payments/providers/paygov/ipn and gets the same guarantees as VNPay's
IPN (checksum, unknown payment, wrong amount, replays, concurrent copies), QUERY heals what the
confirmation missed, and only the providers the stage and the procedure allow can be chosen."""
from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode, urlsplit

import pytest
import requests

from chalicelib.dossiers.store import dossiers as store
from chalicelib.payments.adapters import providers as payment_config
from chalicelib.payments.use_cases import payments as payment_service
from payments.paygov import CONFIRM_FIELDS, message_checksum
from payments.paygov_simulator import PayGovSimulator
from tests.api.payment_kit import Flow, flow, later, vnpay  # noqa: F401  (fixtures)

PARTNER, SECRET, TOKEN = "MOTCUA-APITEST", "TESTONLYPAYGOVAPISECRET", "api-test-token"


@pytest.fixture
def paygov(vnpay, monkeypatch) -> Iterator[PayGovSimulator]:
    """The PayGov simulator on a free port and the app configured for it (VNPay stays the default)."""
    sim = PayGovSimulator(PARTNER, SECRET, access_token=TOKEN, confirm_url=None, retry_delays=(0.05,)).start()
    monkeypatch.setenv("PAYGOV_HOST", sim.base_url)
    for name, value in (("PAYGOV_PARTNER_CODE", PARTNER), ("PAYGOV_SECRET_KEY", SECRET),
                        ("PAYGOV_ACCESS_TOKEN", TOKEN), ("MOTCUA_PAYMENT_PROVIDERS", "vnpay,paygov")):
        monkeypatch.setenv(name, value)
    from chalicelib.runtime.settings import settings
    settings.cache_clear()
    payment_config.reset()
    yield sim
    sim.stop()
    settings.cache_clear()
    payment_config.reset()


class PayGovFlow(Flow):
    def choose(self, code: str, provider: Any = "paygov", token: str | None = None) -> Any:
        return self.api.call("POST", f"/dossiers/{code}/payments", token=token or self.citizen,
                             body={"provider": provider})

    def started(self, code: str) -> str:
        created = self.choose(code)
        assert created.status_code == 201, created.json
        page = requests.get(created.json["pay_url"], timeout=5)
        assert page.status_code == 200 and "Nền tảng thanh toán" in page.text
        return created.json["payment_id"]

    def confirm(self, message: dict[str, Any] | str) -> Any:
        raw = message if isinstance(message, str) else json.dumps(message)
        return self.api.call("POST", "/payments/providers/paygov/ipn", raw=raw)


@pytest.fixture
def pg(api, paygov) -> PayGovFlow:
    return PayGovFlow(api, paygov)


def resigned(message: dict[str, Any], **changes: Any) -> dict[str, Any]:
    changed = {**message, **changes}
    changed["MaXacThuc"] = message_checksum(changed, CONFIRM_FIELDS, SECRET)
    return changed


def test_a_citizen_pays_through_paygov_end_to_end(pg):
    code = pg.dossier()
    payment_id = pg.started(code)
    location = pg.sim.pay(payment_id, "success")
    reply = pg.confirm(pg.sim.confirmation(payment_id))
    assert (reply.status_code, reply.json["MaLoi"]) == (200, "00")
    payment = pg.payment(payment_id).json
    assert (payment["status"], payment["provider"]) == ("succeeded", "paygov") and payment["provider_txn_id"]
    assert payment["receipt"]["number"] == f"BL-{code}-01"
    assert pg.dossier_view(code)["payment_status"] == "paid"
    assert store.get_dossier(code)["payment"]["payments"][-1]["provider"] == "paygov"
    page = pg.api.client.http.request("GET", f"/payments/providers/paygov/return?{urlsplit(location).query}")
    assert page.status_code == 200 and "Thanh toán thành công" in page.body.decode()
    assert pg.confirm(pg.sim.confirmation(payment_id)).json["MaLoi"] == "02"        # a replay changes nothing


def test_the_confirmation_cannot_be_forged_misdirected_or_short_paid(pg):
    code = pg.dossier()
    payment_id = pg.started(code)
    pg.sim.pay(payment_id)
    genuine = pg.sim.confirmation(payment_id)
    assert pg.confirm({**genuine, "MaXacThuc": "0" * 64}).json["MaLoi"] == "97"
    assert pg.confirm({**genuine, "SoTien": 1000}).json["MaLoi"] == "97"            # keeps the old checksum
    assert pg.confirm(resigned(genuine, MaThamChieu="MC000000NOSUCH")).json["MaLoi"] == "01"
    assert pg.confirm(resigned(genuine, SoTien=100_000)).json["MaLoi"] == "04"
    finance = pg.api.token("finance")
    flagged = pg.payment(payment_id, finance).json
    assert flagged["status"] == "pending" and flagged["finance_flags"] == ["amount_mismatch"]
    for garbage in ("", "[]", "not json", json.dumps({"MaLoi": ["00", "00"]})):
        answer = pg.confirm(garbage)
        assert answer.status_code == 200 and answer.json["MaLoi"] in ("97", "99"), garbage
    assert pg.dossier_view(code)["amount_paid"] == 0
    assert pg.confirm(genuine).json["MaLoi"] == "00"                                # the genuine one still confirms


def test_twenty_copies_of_a_confirmation_at_once_confirm_exactly_once(pg):
    code = pg.dossier()
    payment_id = pg.started(code)
    pg.sim.pay(payment_id)
    message = pg.sim.confirmation(payment_id)
    replies: list[str] = []
    barrier = threading.Barrier(20)

    def deliver() -> None:
        # Through the route's use case, not chalice.test.Client: the test client swaps
        # os.environ per request, which threads interleave, leaving a copy behind for later tests.
        barrier.wait()
        replies.append(payment_service.handle_ipn("paygov", None, body=dict(message)).body["MaLoi"])

    threads = [threading.Thread(target=deliver) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(replies) == ["00"] + ["02"] * 19
    events = [e["type"] for e in store.dossier_events(code)]
    assert events.count("PaymentSucceeded") == 1 and events.count("FeesSettled") == 1


def test_a_lost_confirmation_is_healed_by_the_sweep_through_query(pg):
    code = pg.dossier()
    payment_id = pg.started(code)
    pg.sim.pay(payment_id, "lose_confirm")
    report = payment_service.sweep(min_age_minutes=0, clock=later(1))
    assert (report["checked"], report["succeeded"]) == (1, 1)
    assert pg.sim.api_requests[-1]["LoaiBanTin"] == "QUERY"
    assert pg.payment(payment_id).json["status"] == "succeeded"
    assert pg.confirm(pg.sim.confirmation(payment_id)).json["MaLoi"] == "02"       # a late confirmation is a replay


def test_the_sweep_fails_a_cancelled_payment_and_expires_an_abandoned_one(pg):
    cancelled = pg.started(pg.dossier())
    pg.sim.pay(cancelled, "cancel")
    abandoned = pg.started(pg.dossier())
    report = payment_service.sweep(clock=later(16))
    assert (report["checked"], report["failed"], report["expired"]) == (2, 1, 1)
    assert pg.payment(cancelled).json["status"] == "failed"
    assert pg.payment(abandoned).json["status"] == "expired"


def test_the_daily_report_asks_paygov_with_query(pg):
    from datetime import datetime, timedelta, timezone
    code = pg.dossier()
    payment_id = pg.started(code)
    pg.sim.pay(payment_id)
    pg.confirm(pg.sim.confirmation(payment_id))
    day = f"{datetime.now(timezone(timedelta(hours=7))):%Y-%m-%d}"
    report = payment_service.reconciliation_report(day)
    assert report["summary"]["discrepancies"] == 0 and report["summary"]["provider_paid_amount"] == 200_000


def test_only_the_providers_the_stage_allows_can_be_chosen(pg, monkeypatch):
    code = pg.dossier()
    for bad in ("stripe", "fake", 7, ""):
        refused = pg.choose(code, bad)
        assert refused.status_code == 422 and "provider" in refused.json["error"]["fields"], bad
    counter = pg.choose(code, "counter")
    assert (counter.status_code, counter.json["error"]["code"]) == (403, "counter_payment_desk_only")
    default = pg.api.call("POST", f"/dossiers/{code}/payments", token=pg.citizen)
    assert default.status_code == 201 and not default.json["pay_url"].startswith(pg.sim.base_url)
    assert pg.payment(default.json["payment_id"]).json["provider"] == "vnpay"      # the stage's first
    busy = pg.choose(code, "paygov")
    assert (busy.status_code, busy.json["error"]["code"]) == (409, "payment_in_progress")
    monkeypatch.setenv("MOTCUA_PAYMENT_PROVIDERS", "vnpay")
    from chalicelib.runtime.settings import settings
    settings.cache_clear()
    payment_config.reset()
    other = pg.dossier()
    assert pg.choose(other, "paygov").status_code == 422
    assert pg.confirm({"MaThamChieu": "x"}).status_code == 404                       # its routes are gone too


def test_query_string_confirmations_and_the_counter_have_no_callback(pg):
    code = pg.dossier()
    payment_id = pg.started(code)
    pg.sim.pay(payment_id)
    message = pg.sim.confirmation(payment_id)
    via_get = pg.api.call("GET", f"/payments/providers/paygov/ipn?{urlencode(message)}")
    assert via_get.json["MaLoi"] == "00"                                           # the same checks either way
    assert pg.api.call("GET", "/payments/providers/counter/ipn?x=1").status_code == 404


def test_a_procedure_narrows_the_stage_s_providers_and_orders_them(pg):
    from dataclasses import replace
    from chalicelib.catalogue.store import procedures as catalogue_store
    procedure = catalogue_store.snapshot().procedures["1.001756"]          # 1.000.000 đ, paid after acceptance
    catalogue_store.save_catalogue([], [replace(procedure, payment_providers=("paygov",))])
    shown = pg.api.call("GET", "/procedures/1.001756").json
    assert shown["payment_providers"] == ["paygov"]
    code = pg.dossier("1.001756")
    assert pg.choose(code, "vnpay").status_code == 422
    default = pg.api.call("POST", f"/dossiers/{code}/payments", token=pg.citizen)
    assert default.status_code == 201 and default.json["pay_url"].startswith(pg.sim.base_url)
    assert pg.payment(default.json["payment_id"]).json["provider"] == "paygov"


def test_paygov_answers_match_the_documented_schemas(pg):
    from tests.api.test_contract import check
    code = pg.dossier()
    check("/dossiers/{code}/payments", "post", pg.choose(code, "nope"))            # 422
    payment_id = pg.started(code)
    pg.sim.pay(payment_id)
    check("/payments/providers/{provider}/ipn", "post", pg.confirm(pg.sim.confirmation(payment_id)))
    check("/payments/providers/{provider}/ipn", "post", pg.confirm("garbage"))


def test_a_confirmation_costs_at_most_three_dynamodb_calls_and_a_replay_one(pg):
    from motcua import metering
    payment_id = pg.started(pg.dossier())
    pg.sim.pay(payment_id)
    message = pg.sim.confirmation(payment_id)
    with metering.aws_calls() as first:
        assert pg.confirm(message).json["MaLoi"] == "00"
    with metering.aws_calls() as replay:
        assert pg.confirm(message).json["MaLoi"] == "02"
    assert first.service("dynamodb") <= 3 and first["dynamodb.TransactWriteItems"] == 1, first
    assert dict(replay) == {"dynamodb.GetItem": 1}


def test_a_paygov_refund_is_refused_and_the_payment_is_left_as_it_was(pg):
    code = pg.dossier()
    payment_id = pg.started(code)
    pg.sim.pay(payment_id)
    pg.confirm(pg.sim.confirmation(payment_id))
    finance = pg.api.token("finance", sub="finance-paygov")
    refused = pg.api.call("POST", f"/payments/{payment_id}/refunds", token=finance,
                          body={"amount": 200_000, "reason": "Từ chối hồ sơ"})
    assert (refused.status_code, refused.json["error"]["code"]) == (409, "refund_rejected")
    assert pg.payment(payment_id).json["status"] == "succeeded" and pg.dossier_view(code)["amount_paid"] == 200_000
