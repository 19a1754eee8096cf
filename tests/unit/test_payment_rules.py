"""The payment state graph and rules, without AWS: every edge outside the graph is refused,
observations decide the IPN reply, refunds never exceed what was paid."""
from __future__ import annotations

from datetime import datetime, timedelta, UTC

import pytest

from chalicelib.payments.rules import ledger as ledger_rules
from chalicelib.payments.rules import payments as rules
from chalicelib.payments.rules import transitions as pt
from chalicelib.edge.errors import status_of
from chalicelib.kernel.errors import Conflict, ValidationFailed
from payments import CallbackOutcome, PaymentOutcome, QueryResult

NOW = datetime(2026, 11, 21, 3, 0, tzinfo=UTC)   # 10:00 in Hà Nội


def dossier(amount_due: int = 200_000, status: str = "submitted", paid: int = 0) -> dict:
    return {"code": "000.00.13.H50-261121-0001", "status": status, "version": 1, "agency_id": "000.00.13.H50",
            "procedure_code": "1.001023", "procedure_name": "Cấp Phiếu lý lịch tư pháp", "owner_sub": "c1",
            "applicant": {"full_name": "Nguyễn Văn An"}, "amount_due": amount_due,
            "fees": [{"name": "Phí", "amount": amount_due}],
            "payment": {"amount_paid": paid, "pending": None, "receipts_issued": 0, "payments": []}}


def payment(d: dict, status: str = "pending", amount: int = 200_000) -> dict:
    p = rules.new_payment(d, payment_id="MC261121AAAA", provider="vnpay", amount=amount, pay_url="http://x/pay",
                          created_at=NOW, expires_at=NOW + timedelta(minutes=15))
    p["status"] = status
    return p


def observed(outcome: str, amount: int | None = 200_000, provider: str = "vnpay") -> rules.Observation:
    return rules.Observation("MC261121AAAA", provider, "ipn", PaymentOutcome(outcome), amount, "14000001", NOW,
                             "00", "00", {"k": "v"})


def test_every_pair_outside_the_graph_is_refused_with_409():
    for current in pt.STATUSES:
        for target in pt.STATUSES:
            if target in pt.EDGES.get(current, ()):
                assert pt.check(current, target) == target
            else:
                with pytest.raises(pt.PaymentTransitionRefused) as refused:
                    pt.check(current, target)
                assert status_of(refused.value) == 409 and refused.value.extra["current_status"] == current


def test_every_target_status_has_an_event():
    assert set(pt.STATUSES) - {pt.PENDING} <= set(pt.EVENT_TYPES)


ACCEPTED, ALREADY = CallbackOutcome.ACCEPTED, CallbackOutcome.ALREADY_RECORDED


@pytest.mark.parametrize("status,outcome,expected", [
    ("pending", "succeeded", (ACCEPTED, "succeeded")),
    ("pending", "failed", (ACCEPTED, "failed")),
    ("failed", "succeeded", (ACCEPTED, "succeeded_late")),
    ("expired", "succeeded", (ACCEPTED, "succeeded_late")),
    ("succeeded", "succeeded", (ALREADY, None)),
    ("succeeded_late", "succeeded", (ALREADY, None)),
    ("refunded", "succeeded", (ALREADY, None)),
    ("failed", "failed", (ALREADY, None)),
    ("succeeded", "failed", (ALREADY, None)),
    ("pending", "pending", (ACCEPTED, None)),
])
def test_decide_names_a_provider_neutral_outcome_and_the_target(status, outcome, expected):
    decision = rules.decide(payment(dossier(), status), observed(outcome), NOW)
    assert (decision.outcome, decision.target) == expected


def test_amount_is_checked_before_anything_else():
    decision = rules.decide(payment(dossier(), "succeeded"), observed("succeeded", 1), NOW)
    assert decision.outcome == CallbackOutcome.AMOUNT_MISMATCH


def test_a_provider_cannot_settle_another_providers_payment():
    decision = rules.decide(payment(dossier()), observed("succeeded", provider="fake"), NOW)
    assert (decision.outcome, decision.target) == (CallbackOutcome.UNKNOWN_PAYMENT, None)


def test_pending_means_expired_only_after_the_window():
    p = payment(dossier())
    assert rules.decide(p, observed("pending", None), NOW + timedelta(minutes=14)).target is None
    assert rules.decide(p, observed("pending", None), NOW + timedelta(minutes=15)).target == "expired"


@pytest.mark.parametrize("outcome,found,expected", [
    (PaymentOutcome.SUCCEEDED, True, "succeeded"), (PaymentOutcome.FAILED, True, "failed"),
    (PaymentOutcome.PENDING, True, "pending"), (PaymentOutcome.SUCCEEDED, False, "pending"),
])
def test_a_query_answer_is_read_through_the_outcome_its_provider_gives(outcome, found, expected):
    result = QueryResult("MC1", found, 200_000, False, "any", None, None, {}, outcome, "xx")
    observation = rules.from_query("vnpay", result)
    assert (observation.outcome, observation.provider, observation.source) == (expected, "vnpay", "querydr")
    assert observation.amount == (200_000 if found else None)


def test_a_payment_reference_is_short_alphanumeric_and_dated_in_vietnam():
    late_evening_utc = datetime(2026, 11, 21, 18, 0, tzinfo=UTC)   # 01:00 on the 22nd in Hà Nội
    assert rules.payment_reference(late_evening_utc, "a1b2c3d4e5f60718ffff") == "MC261122A1B2C3D4E5F60718"


def test_success_credits_the_dossier_issues_a_receipt_and_settles_fees():
    d = dossier()
    plan = rules.apply(payment(d), d, rules.Decision(ACCEPTED, pt.SUCCEEDED), observed("succeeded"), NOW)
    assert plan.payment["status"] == "succeeded" and plan.payment["version"] == 2
    assert plan.payment["receipt"]["number"] == "BL-000.00.13.H50-261121-0001-01"
    assert plan.payment["receipt"]["paid_at"] == "2026-11-21T10:00:00+07:00"
    assert plan.dossier["payment"]["amount_paid"] == 200_000 and plan.dossier["version"] == 3
    assert [(e["type"], e["version"]) for e in plan.events] == [("PaymentSucceeded", 2), ("FeesSettled", 3)]
    assert plan.payment["notifications"][-1]["raw"] == {"k": "v"}
    assert d["version"] == 1 and d["payment"]["amount_paid"] == 0   # inputs untouched


def test_a_late_success_on_a_refused_dossier_is_owed_back():
    d = dossier(status="refused")
    plan = rules.apply(payment(d, "expired"), d, rules.Decision(ACCEPTED, pt.SUCCEEDED_LATE), observed("succeeded"), NOW)
    assert plan.payment["late"] and plan.payment["finance_flags"] == ["late_success"]
    assert plan.refund_due_changed and plan.refund_due["reason"] == "refused"
    assert plan.refund_due["amount_to_refund"] == 200_000


@pytest.mark.parametrize("paid,pending,expected", [
    (0, False, "unpaid"), (0, True, "pending"), (100_000, False, "partially_paid"),
    (200_000, False, "paid"), (300_000, False, "overpaid"),
])
def test_payment_status_of_a_dossier(paid, pending, expected):
    d = dossier(paid=paid)
    if pending:
        d["payment"]["pending"] = {"expires_at": "2026-11-21T10:15:00+07:00"}
    assert ledger_rules.payment_status(d, NOW) == expected
    assert ledger_rules.payment_status(dossier(amount_due=0), NOW) == "not_required"


def test_gating_names_the_missing_amount_in_vietnamese():
    with pytest.raises(Conflict) as refused:
        ledger_rules.require_paid_before_accept(dossier(paid=50_000), True)
    assert refused.value.code == "fees_unpaid" and "150.000 đ" in refused.value.message
    ledger_rules.require_paid_before_accept(dossier(), False)
    ledger_rules.require_paid_before_accept(dossier(paid=200_000), True)


def test_a_refund_reserves_then_completes_and_never_exceeds_what_is_left():
    d = dossier(paid=200_000)
    p = payment(d, "succeeded")
    reserved = rules.request_refund(p, d, refund_id="r1", amount=80_000, reason="x", by="f", now=NOW)
    assert reserved.payment["status"] == "refund_pending" and reserved.payment["refunded_amount"] == 0
    with pytest.raises(Conflict):
        rules.request_refund(reserved.payment, reserved.dossier, refund_id="r2", amount=1, reason="x", by="f", now=NOW)
    done = rules.complete_refund(reserved.payment, reserved.dossier, refund_id="r1", provider_code="00",
                                 provider_txn_id="9", settling=False, now=NOW)
    assert done.payment["status"] == "partially_refunded" and done.dossier["payment"]["amount_paid"] == 120_000
    with pytest.raises(ValidationFailed):
        rules.request_refund(done.payment, done.dossier, refund_id="r3", amount=120_001, reason="x", by="f", now=NOW)


def test_a_rejected_refund_restores_the_status_it_came_from():
    d = dossier(paid=200_000)
    late = payment(d, "succeeded_late")
    reserved = rules.request_refund(late, d, refund_id="r1", amount=200_000, reason="x", by="f", now=NOW)
    back = rules.reject_refund(reserved.payment, reserved.dossier, refund_id="r1", provider_code="95", now=NOW)
    assert back.payment["status"] == "succeeded_late" and back.events[0]["type"] == "PaymentRefundRejected"
    assert back.dossier["payment"]["amount_paid"] == 200_000
