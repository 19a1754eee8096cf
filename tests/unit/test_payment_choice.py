"""Which provider a payment request may use, and what the desk's record must say (pure rules)."""
from __future__ import annotations

import pytest

from chalicelib.kernel.errors import Conflict, Forbidden, ValidationFailed
from chalicelib.payments.rules import choice


def test_a_procedure_narrows_the_stage_s_providers_in_its_own_order():
    assert choice.allowed_online(("vnpay", "paygov"), ()) == ("vnpay", "paygov")
    assert choice.allowed_online(("vnpay", "paygov"), ("paygov", "vnpay")) == ("paygov", "vnpay")
    assert choice.allowed_online(("vnpay",), ("paygov",)) == ()


def test_citizens_default_to_the_first_allowed_and_officers_to_the_counter():
    assert choice.chosen_provider(None, "citizen", ("paygov", "vnpay")) == "paygov"
    assert choice.chosen_provider({}, "officer", ()) == "counter"
    assert choice.chosen_provider({"provider": "vnpay"}, "citizen", ("paygov", "vnpay")) == "vnpay"
    with pytest.raises(Conflict):
        choice.chosen_provider(None, "citizen", ())


@pytest.mark.parametrize(("body", "role", "error"), [
    ({"provider": "stripe"}, "citizen", ValidationFailed),
    ({"provider": 1}, "citizen", ValidationFailed),
    ([], "citizen", ValidationFailed),
    ({"provider": "counter"}, "citizen", Forbidden),
    ({"provider": "vnpay"}, "officer", Forbidden),
])
def test_a_provider_out_of_reach_is_refused_naming_the_field(body, role, error):
    with pytest.raises(error) as refused:
        choice.chosen_provider(body, role, ("vnpay",))
    if error is ValidationFailed:
        assert set(refused.value.fields) <= {"provider", "body"} and refused.value.fields


def test_the_desk_s_record_needs_a_method_a_whole_amount_and_a_slip_for_card_or_transfer():
    assert choice.counter_request({"method": "cash", "amount": 5}) == choice.CounterRequest("cash", 5, None)
    with pytest.raises(ValidationFailed) as bad:
        choice.counter_request({"method": "card", "amount": True})
    assert set(bad.value.fields) == {"amount", "reference"}
    with pytest.raises(ValidationFailed) as mismatch:
        choice.require_amount_owed(choice.CounterRequest("cash", 5, None), 7)
    assert mismatch.value.code == "counter_amount_mismatch" and mismatch.value.extra["amount_owed"] == 7


def test_receipts_say_how_the_fees_were_paid():
    assert choice.method_label("counter", "transfer") == "Nộp trực tiếp tại bộ phận một cửa (chuyển khoản)"
    assert "PayGov" in choice.method_label("paygov")

