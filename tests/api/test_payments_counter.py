"""Counter payments (Decree 118/2025/NĐ-CP: fees taken at the one-stop desk): a desk officer
records them through the counter provider, settled at once through the same ledger, receipt,
events, reconciliation and refunds as online payments; acceptance then proceeds; wrong amounts,
second payments, citizens and other agencies are refused."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from chalicelib.dossiers.store import dossiers as store
from chalicelib.payments.use_cases import payments as payment_service
from tests.api.payment_kit import PAID_PROCEDURE, Flow, flow, vnpay  # noqa: F401  (fixtures)
from tests.api.test_intake import submission

AGENCY = "000.00.13.H50"        # Sở Tư pháp, competent for PAID_PROCEDURE (200.000 đ, pay before accept)


class Desk:
    def __init__(self, flow: Flow) -> None:
        self.flow, self.api = flow, flow.api
        self.officer = self.api.token("officer", AGENCY, sub="officer-desk")
        self._keys = 0

    def walk_in(self) -> str:
        self._keys += 1
        body = {**submission(PAID_PROCEDURE), "channel": "direct", "consent": True}
        created = self.api.call("POST", "/desk/dossiers", token=self.officer, body=body,
                                headers={"Idempotency-Key": f"counter-desk-{self._keys:05d}"})
        assert created.status_code == 201, created.json
        return created.json["dossier_code"]

    def pay(self, code: str, token: str | None = None, **body: Any) -> Any:
        fields = {"provider": "counter", "method": "cash", "amount": 200_000, **body}
        return self.api.call("POST", f"/dossiers/{code}/payments", token=token or self.officer,
                             body={k: v for k, v in fields.items() if v is not None})

    def accept(self, code: str) -> Any:
        return self.api.call("POST", f"/dossiers/{code}/accept", token=self.officer)


@pytest.fixture
def desk(flow) -> Desk:
    return Desk(flow)


def test_fees_taken_at_the_desk_settle_at_once_and_acceptance_proceeds(desk):
    code = desk.walk_in()
    assert desk.accept(code).json["error"]["code"] == "fees_unpaid"
    paid = desk.pay(code, reference="QS-0012/2026")
    assert paid.status_code == 201, paid.json
    view = paid.json
    assert (view["status"], view["provider"], view["amount"]) == ("succeeded", "counter", 200_000)
    assert view["counter"] == {"method": "cash", "reference": "QS-0012/2026", "desk_agency_id": AGENCY}
    assert view["receipt"]["number"] == f"BL-{code}-01" and view["provider_txn_id"] == "QS-0012/2026"
    events = [e["type"] for e in store.dossier_events(code)]
    assert events[-3:] == ["PaymentCreated", "PaymentSucceeded", "FeesSettled"]
    dossier = store.get_dossier(code)
    assert dossier["payment"]["amount_paid"] == 200_000 and dossier["payment"]["pending"] is None
    assert dossier["payment"]["payments"] == [{"payment_id": view["payment_id"], "status": "succeeded",
                                               "amount": 200_000, "provider": "counter"}]
    assert desk.accept(code).status_code == 200
    from chalicelib.payments.store import payments as payment_store
    stored = payment_store.get_payment(view["payment_id"])
    assert stored["counter"] == {"method": "cash", "reference": "QS-0012/2026", "recorded_by": "officer-desk",
                                 "desk_agency_id": AGENCY}
    assert stored["receipt"]["method_label"] == "Nộp trực tiếp tại bộ phận một cửa (tiền mặt)"


def test_the_amount_must_be_what_is_owed_and_a_second_payment_is_refused(desk):
    code = desk.walk_in()
    short = desk.pay(code, amount=150_000)
    assert (short.status_code, short.json["error"]["code"]) == (422, "counter_amount_mismatch")
    assert "amount" in short.json["error"]["fields"] and short.json["error"]["amount_owed"] == 200_000
    assert desk.pay(code).status_code == 201
    again = desk.pay(code)
    assert (again.status_code, again.json["error"]["code"]) == (409, "fees_already_paid")
    assert store.get_dossier(code)["payment"]["amount_paid"] == 200_000


def test_bad_fields_are_named(desk):
    code = desk.walk_in()
    bad = desk.pay(code, method="cheque", amount=200_000.0, reference=" x ")
    assert bad.status_code == 422 and set(bad.json["error"]["fields"]) == {"method", "amount", "reference"}
    card = desk.pay(code, method="card")
    assert card.status_code == 422 and set(card.json["error"]["fields"]) == {"reference"}
    assert desk.pay(code, method="transfer", reference="FT26339123456").status_code == 201


def test_citizens_and_other_agencies_cannot_record_counter_payments(desk):
    own = desk.flow.dossier()                        # the citizen's own online dossier
    citizen = desk.pay(own, token=desk.flow.citizen)
    assert (citizen.status_code, citizen.json["error"]["code"]) == (403, "counter_payment_desk_only")
    walk_in = desk.walk_in()
    stranger = desk.api.token("officer", "000.00.15.H50", sub="officer-elsewhere")
    assert desk.pay(walk_in, token=stranger).status_code == 403
    leader = desk.api.token("leader", AGENCY, sub="leader-1")
    assert desk.pay(walk_in, token=leader).status_code == 403
    assert desk.flow.api.call("GET", f"/dossiers/{walk_in}", token=desk.officer).json["amount_paid"] == 0


def test_the_receiving_desk_of_another_agency_may_record_the_fees(desk):
    other_desk = "000.00.15.H50"
    officer = desk.api.token("officer", other_desk, sub="officer-other-desk")
    body = {**submission(PAID_PROCEDURE), "channel": "direct", "consent": True}
    created = desk.api.call("POST", "/desk/dossiers", token=officer, body=body,
                            headers={"Idempotency-Key": "counter-other-desk-1"})   # intake at any desk
    assert created.status_code == 201, created.json
    code = created.json["dossier_code"]
    assert store.get_dossier(code)["receiving_agency_id"] == other_desk
    paid = desk.pay(code, token=officer)
    assert paid.status_code == 201
    assert desk.api.call("GET", f"/payments/{paid.json['payment_id']}", token=officer).status_code == 200
    receipt = desk.api.call("GET", f"/payments/{paid.json['payment_id']}/receipt", token=officer)
    assert receipt.status_code == 409 and receipt.json["error"]["code"] == "receipt_not_ready"   # theirs to print


def test_an_online_payment_in_its_window_blocks_the_counter(desk):
    code = desk.flow.dossier()                       # online, the citizen opened a VNPay payment
    assert desk.flow.create(code).status_code == 201
    busy = desk.pay(code)
    assert (busy.status_code, busy.json["error"]["code"]) == (409, "payment_in_progress")


def test_a_counter_payment_is_refunded_and_reconciled_like_any_other(desk):
    code = desk.walk_in()
    payment_id = desk.pay(code, method="card", reference="POS-778812").json["payment_id"]
    day = f"{datetime.now(timezone(timedelta(hours=7))):%Y-%m-%d}"
    report = payment_service.reconciliation_report(day)
    assert report["summary"]["discrepancies"] == 0 and report["unchecked"] == []
    assert report["counter_totals"] == [{"agency_id": AGENCY, "method": "card", "app_count": 1, "app_amount": 200_000}]
    finance = desk.api.token("finance", sub="finance-1")
    refund = desk.api.call("POST", f"/payments/{payment_id}/refunds", token=finance,
                           body={"amount": 200_000, "reason": "Công dân rút hồ sơ tại quầy"})
    assert refund.status_code == 201 and refund.json["status"] == "refunded"
    assert store.get_dossier(code)["payment"]["amount_paid"] == 0
    assert payment_service.reconciliation_report(day)["counter_totals"] == [   # the till, net of what was given back
        {"agency_id": AGENCY, "method": "card", "app_count": 1, "app_amount": 0}]
    assert desk.api.call("GET", f"/payments/{payment_id}/receipt", token=desk.officer).status_code in (200, 409)


def test_counter_answers_match_the_documented_schemas(desk):
    from tests.api.test_contract import check
    code = desk.walk_in()
    path = "/dossiers/{code}/payments"
    check(path, "post", desk.pay(code, amount=1))                                     # 422
    check(path, "post", desk.pay(code, token=desk.api.token("citizen", sub="c")))    # 404: not theirs
    check(path, "post", desk.pay(code))                                               # 201: the payment
    check(path, "post", desk.pay(code))                                               # 409: nothing owed
    day = f"{datetime.now(timezone(timedelta(hours=7))):%Y-%m-%d}"
    check("/finance/reconciliation", "get", desk.api.call("GET", f"/finance/reconciliation?date={day}",
                                                          token=desk.api.token("finance")))
