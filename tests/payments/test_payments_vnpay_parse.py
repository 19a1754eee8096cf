"""IPN / return parsing: verify first, then parse; hostile query strings."""
from __future__ import annotations

from datetime import datetime, UTC

import pytest

from payments import CallbackOutcome, PaymentError, SignatureError
from payments.vnpay import (
    VNPayProvider,
    params_from_multi_value,
    params_from_query_string,
    sign_params,
)
from vnpay_testkit import SECRET, TMN

PROVIDER = VNPayProvider(TMN, SECRET, "http://unused.invalid")


def ipn(**overrides: str) -> dict[str, str]:
    params = {
        "vnp_Amount": "15000000",
        "vnp_BankCode": "NCB",
        "vnp_BankTranNo": "VNP14000001",
        "vnp_CardType": "ATM",
        "vnp_OrderInfo": "Le phi ho tich",
        "vnp_PayDate": "20251122143512",
        "vnp_ResponseCode": "00",
        "vnp_TmnCode": TMN,
        "vnp_TransactionNo": "14000001",
        "vnp_TransactionStatus": "00",
        "vnp_TxnRef": "MC251122ABC",
    }
    params.update(overrides)
    return sign_params({k: v for k, v in params.items() if v is not None}, SECRET)


def test_successful_ipn_is_parsed():
    n = PROVIDER.parse_notification(ipn())
    assert n.reference == "MC251122ABC"
    assert n.amount == 150_000 and isinstance(n.amount, int)
    assert n.succeeded is True
    assert (n.response_code, n.transaction_status) == ("00", "00")
    assert n.provider_txn_id == "14000001"
    assert n.paid_at == datetime(2025, 11, 22, 7, 35, 12, tzinfo=UTC)
    assert n.raw["vnp_BankCode"] == "NCB"


def test_success_needs_both_response_code_and_transaction_status():
    n = PROVIDER.parse_notification(ipn(vnp_TransactionStatus="01"))
    assert n.succeeded is False and n.paid_at is None


def test_cancelled_payment_is_not_succeeded_and_has_no_transaction_number():
    n = PROVIDER.parse_notification(ipn(vnp_ResponseCode="24", vnp_TransactionStatus="02", vnp_TransactionNo="0", vnp_BankTranNo=None))
    assert (n.succeeded, n.response_code, n.provider_txn_id, n.paid_at) == (False, "24", None, None)


def test_tampered_amount_raises_signature_error():
    params = ipn()
    params["vnp_Amount"] = "1500000"
    with pytest.raises(SignatureError):
        PROVIDER.parse_notification(params)


def test_missing_hash_raises_signature_error():
    params = ipn()
    del params["vnp_SecureHash"]
    with pytest.raises(SignatureError):
        PROVIDER.parse_notification(params)
    with pytest.raises(SignatureError):
        PROVIDER.verify_return(params)


def test_wrong_secret_raises_signature_error():
    other = VNPayProvider(TMN, "ANOTHERSECRET", "http://unused.invalid")
    with pytest.raises(SignatureError):
        other.parse_notification(ipn())


@pytest.mark.parametrize("amount", ["abc", "", "150", "-15000000", "1e7", "15000000.0", " 15000000", "+15000000", "1_500_000_00", "١٥٠٠٠٠٠٠"])
def test_garbage_amount_with_a_valid_signature_raises_payment_error(amount):
    with pytest.raises(PaymentError) as info:
        PROVIDER.parse_notification(ipn(vnp_Amount=amount))
    assert not isinstance(info.value, SignatureError)


@pytest.mark.parametrize("field", ["vnp_TxnRef", "vnp_Amount", "vnp_ResponseCode", "vnp_TransactionStatus", "vnp_PayDate"])
def test_missing_required_field_raises_payment_error(field):
    with pytest.raises(PaymentError):
        PROVIDER.parse_notification(ipn(**{field: None}))


@pytest.mark.parametrize("pay_date", ["2025112214351", "20251322143512", "2025-11-22 14:35", "20251122253512"])
def test_garbage_pay_date_raises_payment_error(pay_date):
    with pytest.raises(PaymentError):
        PROVIDER.parse_notification(ipn(vnp_PayDate=pay_date))


def test_notification_for_another_terminal_is_refused():
    with pytest.raises(PaymentError):
        PROVIDER.parse_notification(ipn(vnp_TmnCode="OTHER001"))


@pytest.mark.parametrize("params", [None, "vnp_TxnRef=1", {"vnp_TxnRef": ["a", "b"]}, {"vnp_Amount": 15000000}])
def test_non_string_mappings_raise_payment_error(params):
    with pytest.raises(PaymentError):
        PROVIDER.parse_notification(params)


def test_verify_return_reports_result_for_display():
    result = PROVIDER.verify_return(ipn())
    assert (result.reference, result.amount, result.succeeded, result.response_code) == ("MC251122ABC", 150_000, True, "00")
    cancelled = PROVIDER.verify_return(ipn(vnp_ResponseCode="24", vnp_TransactionStatus="02"))
    assert cancelled.succeeded is False


def test_query_string_round_trip_with_foreign_params():
    signed = ipn(vnp_OrderInfo="Lệ phí & thuế")
    from payments.vnpay import canonical_query

    qs = f"lang=vi&{canonical_query(signed)}&vnp_SecureHash={signed['vnp_SecureHash']}"
    params = params_from_query_string("?" + qs)
    assert params["vnp_OrderInfo"] == "Lệ phí & thuế"
    assert PROVIDER.parse_notification(params).amount == 150_000


def test_duplicated_vnp_key_is_rejected():
    with pytest.raises(PaymentError, match="duplicated"):
        params_from_query_string("vnp_Amount=100&vnp_TxnRef=A&vnp_Amount=99900")


def test_duplicated_key_is_rejected_even_when_encoded_differently():
    with pytest.raises(PaymentError, match="duplicated"):
        params_from_query_string("vnp_Amount=100&vnp%5FAmount=200")


def test_duplicated_non_vnp_key_keeps_the_first():
    assert params_from_query_string("x=1&x=2&vnp_TxnRef=A") == {"x": "1", "vnp_TxnRef": "A"}


@pytest.mark.parametrize(
    "qs",
    [
        "vnp_OrderInfo=%E1%BB",  # truncated UTF-8
        "vnp_OrderInfo=%FF",  # not UTF-8
        "vnp_OrderInfo=50%",  # dangling percent
        "vnp_OrderInfo=%zz",  # not hex
        "vnp_OrderInfo=Lệ",  # raw non-ASCII in a raw query string
        "vnp_OrderInfo=a b",  # raw space
        "vnp_OrderInfo=a\nb",
    ],
)
def test_invalid_encodings_are_rejected(qs):
    with pytest.raises(PaymentError):
        params_from_query_string(qs)


def test_bytes_query_strings_are_accepted_if_ascii():
    assert params_from_query_string(b"vnp_TxnRef=A+B") == {"vnp_TxnRef": "A B"}
    with pytest.raises(PaymentError):
        params_from_query_string("vnp_TxnRef=Ä".encode())


def test_multi_value_mapping_rejects_duplicated_vnp_keys():
    assert params_from_multi_value({"vnp_TxnRef": ["A"], "x": ["1", "2"]}) == {"vnp_TxnRef": "A", "x": "1"}
    with pytest.raises(PaymentError):
        params_from_multi_value({"vnp_Amount": ["100", "200"]})


@pytest.mark.parametrize("outcome,reply", [
    (CallbackOutcome.ACCEPTED, {"RspCode": "00", "Message": "Confirm Success"}),
    (CallbackOutcome.UNKNOWN_PAYMENT, {"RspCode": "01", "Message": "Order not found"}),
    (CallbackOutcome.ALREADY_RECORDED, {"RspCode": "02", "Message": "Order already confirmed"}),
    (CallbackOutcome.AMOUNT_MISMATCH, {"RspCode": "04", "Message": "invalid amount"}),
    (CallbackOutcome.BAD_SIGNATURE, {"RspCode": "97", "Message": "Invalid signature"}),
    (CallbackOutcome.ERROR, {"RspCode": "99", "Message": "Unknown error"}),
])
def test_each_outcome_is_answered_with_vnpays_exact_ipn_reply(outcome, reply):
    answer = PROVIDER.callback_reply(outcome)
    assert (dict(answer.body), answer.status) == (reply, 200)


def test_parameters_as_received_may_come_as_lists_and_a_repeated_vnp_key_fails_the_checksum():
    signed = ipn()
    as_lists = {key: [value] for key, value in signed.items()}
    assert PROVIDER.parse_notification(as_lists) == PROVIDER.parse_notification(signed)
    with pytest.raises(SignatureError, match="duplicated"):
        PROVIDER.parse_notification({**as_lists, "vnp_Amount": ["100", signed["vnp_Amount"]]})
