"""Refunds: a conditional reservation so concurrent refunds never exceed what was paid, the
provider's answers (accepted, refused, silent), and the finance desk's to-refund list."""
from __future__ import annotations

import threading

import pytest

from chalicelib.payments.use_cases import payments as payment_service
from chalicelib.payments.store import payments as payment_store
from chalicelib.dossiers.store import dossiers as store
from handlers import refund_watch
from tests.api.payment_kit import FREE_FLOW_PROCEDURE, flow, later, vnpay  # noqa: F401  (fixtures)


@pytest.fixture
def finance(api):
    return api.token("finance", sub="finance-officer")


def refund(flow, payment_id, token, amount, reason="Hồ sơ bị từ chối tiếp nhận"):
    return flow.api.call("POST", f"/payments/{payment_id}/refunds", token=token, body={"amount": amount, "reason": reason})


def test_a_full_refund_records_pending_then_refunded_and_empties_the_ledger(flow, finance):
    code, payment_id = flow.paid_dossier()
    response = refund(flow, payment_id, finance, 200_000)
    assert response.status_code == 201, response.json
    assert response.json["status"] == "settling"               # VNPay answered 05: sent, not settled yet
    payment = response.json["payment"]
    assert payment["status"] == "refunded" and payment["refunded_amount"] == 200_000
    assert flow.sim.transactions[payment_id].refunded == 200_000
    assert flow.dossier_view(code)["amount_paid"] == 0
    events = [e["type"] for e in store.dossier_events(code)]
    assert events[-2:] == ["PaymentRefundRequested", "PaymentRefunded"]
    again = refund(flow, payment_id, finance, 1)
    assert again.status_code == 409 and again.json["error"]["current_status"] == "refunded"


def test_partial_refunds_add_up_to_the_amount_paid_and_no_further(flow, finance):
    _, payment_id = flow.paid_dossier()
    assert refund(flow, payment_id, finance, 50_000).json["payment"]["status"] == "partially_refunded"
    flow.sim.settle_refunds()
    too_much = refund(flow, payment_id, finance, 150_001)
    assert too_much.status_code == 422 and too_much.json["error"]["code"] == "refund_exceeds_paid"
    assert refund(flow, payment_id, finance, 150_000).json["payment"]["status"] == "refunded"
    assert flow.sim.transactions[payment_id].refunded == 200_000


def test_two_concurrent_refunds_cannot_exceed_the_amount_paid(flow, finance):
    _, payment_id = flow.paid_dossier()
    results: list[int] = []
    barrier = threading.Barrier(2)

    def ask() -> None:
        barrier.wait()
        results.append(refund(flow, payment_id, finance, 120_000).status_code)

    threads = [threading.Thread(target=ask) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(results)[0] == 201 and sorted(results)[1] in (409, 422), results
    assert flow.payment(payment_id, finance).json["refunded_amount"] == 120_000
    assert flow.sim.transactions[payment_id].refunded == 120_000


def test_a_refused_refund_releases_the_reservation(flow, finance, monkeypatch):
    _, payment_id = flow.paid_dossier()
    monkeypatch.setattr(flow.sim, "_refund_locked", lambda txn, req: flow.sim._answer(
        "refund", "99", "Lỗi không xác định", req))                      # VNPay refuses
    refused = refund(flow, payment_id, finance, 50_000)
    assert refused.status_code == 409 and refused.json["error"]["code"] == "refund_rejected"
    assert refused.json["error"]["provider_code"] == "99"
    payment = flow.payment(payment_id, finance).json
    assert payment["status"] == "succeeded" and payment["refunded_amount"] == 0
    assert [r["status"] for r in payment["refunds"]] == ["rejected"]


def test_vnpay_94_keeps_the_refund_pending_until_the_sweep_finds_vnpay_done(flow, finance):
    """VNPay 94 ("a refund of this transaction is already being processed") is no refusal: the
    refund stays pending (202) and the sweep decides it once VNPay is done with the other one
    (issue 18: it was taken as a rejection that released the reservation at once)."""
    _, payment_id = flow.paid_dossier()
    assert refund(flow, payment_id, finance, 50_000).status_code == 201   # VNPay processes it (05)
    busy = refund(flow, payment_id, finance, 10_000)
    assert busy.status_code == 202, busy.json
    assert busy.json["status"] == "pending"
    payment = flow.payment(payment_id, finance).json
    assert payment["status"] == "refund_pending"
    assert [(r["status"], r["provider_code"]) for r in payment["refunds"]] == [("settling", "00"), ("pending", "94")]
    assert refund(flow, payment_id, finance, 10_000).json["error"]["code"] == "refund_in_progress"

    report = payment_service.sweep(min_age_minutes=0)                    # VNPay still processing: wait
    assert report["still_pending"] == 1 and report["refunds_released"] == 0
    assert flow.payment(payment_id, finance).json["status"] == "refund_pending"

    flow.sim.settle_refunds()                                            # the other one went to the bank
    report = payment_service.sweep(min_age_minutes=0)
    assert report["refunds_released"] == 1
    payment = flow.payment(payment_id, finance).json
    assert payment["status"] == "partially_refunded" and payment["refunded_amount"] == 50_000
    assert [r["status"] for r in payment["refunds"]] == ["settling", "rejected"]
    assert payment_service.sweep(min_age_minutes=0)["checked"] == 0       # off the sweep's index
    assert refund(flow, payment_id, finance, 10_000).status_code == 201   # finance may ask again


def test_a_silent_provider_leaves_the_refund_pending_and_blocks_another(flow, finance):
    _, payment_id = flow.paid_dossier()
    flow.sim.fail_next(1)
    response = refund(flow, payment_id, finance, 200_000)
    assert response.status_code == 202 and response.json["status"] == "pending"
    assert flow.payment(payment_id, finance).json["status"] == "refund_pending"
    blocked = refund(flow, payment_id, finance, 200_000)
    assert blocked.status_code == 409 and blocked.json["error"]["code"] == "refund_in_progress"


BAD_REQUESTS = [
    ({"amount": "100000", "reason": "x"}, "amount"),
    ({"amount": 1.5, "reason": "x"}, "amount"),
    ({"amount": True, "reason": "x"}, "amount"),
    ({"amount": 0, "reason": "x"}, "amount"),
    ({"amount": 1000}, "reason"),
    ({"amount": 1000, "reason": "x" * 501}, "reason"),
    ([], "body"),
]


def test_bad_refund_requests_are_422_naming_the_field(flow, finance):
    _, payment_id = flow.paid_dossier()
    for body, field in BAD_REQUESTS:
        response = flow.api.call("POST", f"/payments/{payment_id}/refunds", token=finance, body=body)
        assert response.status_code == 422 and field in response.json["error"]["fields"], body
    assert flow.payment(payment_id, finance).json["refunds"] == []


def test_refunds_are_for_finance_and_need_a_paid_payment(flow, finance):
    code = flow.dossier()
    pending = flow.create(code).json["payment_id"]
    assert refund(flow, pending, flow.citizen, 1).status_code == 403
    assert refund(flow, pending, flow.officer(code), 1).status_code == 403
    assert refund(flow, "MCNOSUCHPAYMENT", finance, 1).status_code == 404
    not_paid = refund(flow, pending, finance, 1)
    assert not_paid.status_code == 409 and not_paid.json["error"]["code"] == "invalid_payment_transition"
    assert flow.api.call("POST", f"/payments/{pending}/refunds", token=finance, raw=b"{nope").status_code == 400


def test_a_refused_dossier_with_paid_fees_is_on_the_to_refund_list_until_refunded(flow, finance, dispatcher):
    code, payment_id = flow.paid_dossier(FREE_FLOW_PROCEDURE)
    refused = flow.api.call("POST", f"/dossiers/{code}/refuse", token=flow.officer(code),
                            body={"reason": "Không thuộc thẩm quyền"})
    assert refused.status_code == 200
    dispatcher.drain()
    listed = flow.api.call("GET", "/finance/refunds/pending", token=finance).json
    assert [(i["dossier_code"], i["amount_to_refund"], i["reason"], i["payment_ids"]) for i in listed["items"]] \
        == [(code, 1_000_000, "refused", [payment_id])]
    assert listed["total_to_refund"] == 1_000_000
    assert refund(flow, payment_id, finance, 1_000_000).status_code == 201
    assert flow.api.call("GET", "/finance/refunds/pending", token=finance).json == {"items": [], "total_to_refund": 0}
    # A DossierRefused redelivered late, or a consumer that read the dossier before the refund,
    # must not bring it back: the record is ordered by dossier version.
    assert refund_watch.process({"dossier_code": code}) is False
    stale = listed["items"][0]
    assert payment_store.put_refund_due_if_newer(code, stale, stale["dossier_version"]) is False
    assert flow.api.call("GET", "/finance/refunds/pending", token=finance).json["items"] == []
    assert flow.api.call("GET", "/finance/refunds/pending", token=flow.citizen).status_code == 403


def test_a_late_success_on_a_paid_dossier_is_listed_as_overpaid(flow, finance):
    code = flow.dossier()
    first = flow.create(code).json
    flow.open_page(first["pay_url"])
    payment_service.sweep(clock=later(16))                  # the first expires...
    _, params = flow.pay(code)                                 # ...the citizen pays a second one...
    flow.ipn(params)
    flow.ipn(flow.press(first["payment_id"], "success"))       # ...and the first one's money arrives
    assert flow.dossier_view(code)["payment_status"] == "overpaid"
    [item] = flow.api.call("GET", "/finance/refunds/pending", token=finance).json["items"]
    assert (item["dossier_code"], item["reason"], item["amount_to_refund"]) == (code, "overpaid", 200_000)


def act(flow, code, token, action, **body):
    return flow.api.call("POST", f"/dossiers/{code}/actions", token=token, body={"action": action, **body})


def test_a_withdrawn_or_stopped_dossier_takes_no_new_payment(flow):
    """Issue 18: after `withdraw`, POST /dossiers/{code}/payments gave 201 and the citizen paid."""
    withdrawn = flow.dossier()
    assert act(flow, withdrawn, flow.citizen, "withdraw", reason="Không cần nữa").status_code == 200
    stopped = flow.dossier(FREE_FLOW_PROCEDURE)
    officer = flow.officer(stopped)
    assert flow.api.call("POST", f"/dossiers/{stopped}/accept", token=officer).status_code == 200
    assert act(flow, stopped, officer, "stop", reason="Hồ sơ giả mạo").status_code == 200
    for code, status in ((withdrawn, "withdrawn"), (stopped, "stopped")):
        refused = flow.create(code)
        assert refused.status_code == 409, refused.json
        assert refused.json["error"]["code"] == "dossier_not_payable"
        assert refused.json["error"]["current_status"] == status
        assert flow.dossier_view(code)["amount_paid"] == 0


@pytest.mark.parametrize("ending", ["withdraw", "stop"])
def test_fees_held_by_a_withdrawn_or_stopped_dossier_are_on_the_to_refund_list(flow, finance, dispatcher, ending):
    code, payment_id = flow.paid_dossier(FREE_FLOW_PROCEDURE)
    officer = flow.officer(code)
    assert flow.api.call("POST", f"/dossiers/{code}/accept", token=officer).status_code == 200
    actor = flow.citizen if ending == "withdraw" else officer
    ended = act(flow, code, actor, ending, reason="Kết thúc hồ sơ")
    assert ended.status_code == 200, ended.json
    dispatcher.drain()
    listed = flow.api.call("GET", "/finance/refunds/pending", token=finance).json
    reason = {"withdraw": "withdrawn", "stop": "stopped"}[ending]
    assert [(i["dossier_code"], i["amount_to_refund"], i["reason"], i["payment_ids"]) for i in listed["items"]] \
        == [(code, 1_000_000, reason, [payment_id])]
