"""The IPN cannot be fooled or double-counted: VNPay's reply codes, forged and tampered
notifications, hostile query strings, and twenty identical IPNs at once."""
from __future__ import annotations

import threading
from urllib.parse import urlencode

import pytest

from chalicelib.dossiers.store import dossiers as store
from motcua import metering
from tests.api.payment_kit import SECRET, flow, resign, vnpay  # noqa: F401  (fixtures)


def state(flow, code: str, payment_id: str) -> tuple[str, int, int]:
    dossier = store.get_dossier(code)
    return flow.payment(payment_id).json["status"], dossier["version"], flow.dossier_view(code)["amount_paid"]


@pytest.fixture
def opened(flow):
    """A dossier whose payment page was opened and paid; the IPN not yet delivered."""
    code = flow.dossier()
    payment_id, params = flow.pay(code)
    return code, payment_id, params


def test_bad_signature_is_97_and_changes_nothing(flow, opened):
    code, payment_id, params = opened
    before = state(flow, code, payment_id)
    forged = {**params, "vnp_SecureHash": "0" * 128}
    assert flow.ipn(forged).json == {"RspCode": "97", "Message": "Invalid signature"}
    tampered = {**params, "vnp_Amount": "100"}                      # keeps the old checksum
    assert flow.ipn(tampered).json["RspCode"] == "97"
    unsigned = {k: v for k, v in params.items() if k != "vnp_SecureHash"}
    assert flow.ipn(unsigned).json["RspCode"] == "97"
    other_secret = resign(params)
    other_secret["vnp_SecureHash"] = other_secret["vnp_SecureHash"][::-1]
    assert flow.ipn(other_secret).json["RspCode"] == "97"
    assert state(flow, code, payment_id) == before == ("pending", 2, 0)


def test_unknown_reference_is_01(flow, opened):
    _, _, params = opened
    assert flow.ipn(resign(params, vnp_TxnRef="MC000000NOSUCHORDER")).json == {"RspCode": "01", "Message": "Order not found"}


def test_signed_amount_mismatch_is_04_kept_for_audit_and_flagged(flow, opened):
    code, payment_id, params = opened
    assert flow.ipn(resign(params, vnp_Amount="100000")).json == {"RspCode": "04", "Message": "invalid amount"}
    payment = flow.payment(payment_id, flow.api.token("finance")).json
    assert payment["status"] == "pending" and payment["finance_flags"] == ["amount_mismatch"]
    assert flow.dossier_view(code)["amount_paid"] == 0
    assert flow.ipn(params).json["RspCode"] == "00"                 # the genuine one still confirms


def test_success_needs_both_response_code_and_transaction_status_00(flow, opened):
    code, payment_id, params = opened
    assert flow.ipn(resign(params, vnp_TransactionStatus="02")).json["RspCode"] == "00"
    assert flow.payment(payment_id).json["status"] == "failed"
    assert flow.dossier_view(code)["amount_paid"] == 0


GARBAGE = [
    "",
    "garbage",
    "%zz=%%&vnp_TxnRef",
    "vnp_Amount=abc&vnp_TxnRef=x&vnp_SecureHash=00",
    "vnp_OrderInfo=" + "A" * 20_000 + "&vnp_SecureHash=ab",
    "vnp_TxnRef=a&vnp_TxnRef=b&vnp_SecureHash=ab",
    "vnp_Amount=-100&vnp_SecureHash=%00%ff",
]


def test_garbage_query_strings_get_97_or_99_never_a_500(flow):
    for query in GARBAGE:
        response = flow.ipn(query)
        assert response.status_code == 200, query
        assert response.json["RspCode"] in ("97", "99"), query


@pytest.mark.parametrize("where", ["after", "before"])
def test_duplicated_vnp_keys_fail_the_checksum_even_when_one_copy_is_signed(flow, opened, where):
    """Which copy did VNPay sign? Neither first nor last can be trusted: 97, nothing changes."""
    code, payment_id, params = opened
    signed = urlencode(params)
    polluted = f"{signed}&vnp_Amount=100" if where == "after" else f"vnp_Amount=100&{signed}"
    assert flow.ipn(polluted).json["RspCode"] == "97"
    assert state(flow, code, payment_id)[0] == "pending"


def test_a_duplicated_key_on_the_return_page_is_the_invalid_page(flow, opened):
    _, _, params = opened
    page = flow.return_page(urlencode(params) + "&vnp_ResponseCode=00")
    assert page.status_code == 400 and "Không xác thực được kết quả" in page.body.decode()


def test_signed_but_non_numeric_amount_is_99(flow, opened):
    _, payment_id, params = opened
    assert flow.ipn(resign(params, vnp_Amount="12ab00")).json["RspCode"] == "99"
    assert flow.payment(payment_id).json["status"] == "pending"


def test_a_huge_signed_order_info_is_still_a_clean_answer(flow, opened):
    _, _, params = opened
    assert flow.ipn(resign(params, vnp_OrderInfo="x" * 5000)).json["RspCode"] == "00"


def test_twenty_identical_ipns_at_once_confirm_exactly_once(flow, opened):
    code, payment_id, params = opened
    query = urlencode(params)
    replies: list[str] = []
    barrier = threading.Barrier(20)

    def deliver() -> None:
        barrier.wait()
        replies.append(flow.ipn(query).json["RspCode"])

    threads = [threading.Thread(target=deliver) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(replies) == ["00"] + ["02"] * 19
    events = [e["type"] for e in store.dossier_events(code)]
    assert events.count("PaymentSucceeded") == 1 and events.count("FeesSettled") == 1
    assert flow.dossier_view(code)["amount_paid"] == 200_000
    payment = flow.payment(payment_id, flow.api.token("finance")).json
    assert payment["status"] == "succeeded" and payment["receipt"]["number"].endswith("-01")


def test_ipn_costs_at_most_three_dynamodb_calls_and_a_replay_one(flow, opened):
    _, _, params = opened
    with metering.aws_calls() as first:
        assert flow.ipn(params).json["RspCode"] == "00"
    with metering.aws_calls() as replay:
        assert flow.ipn(params).json["RspCode"] == "02"
    assert first.service("dynamodb") <= 3 and first["dynamodb.TransactWriteItems"] == 1, first
    assert dict(replay) == {"dynamodb.GetItem": 1}


def test_create_payment_costs_at_most_three_dynamodb_calls(flow):
    code = flow.dossier()
    with metering.aws_calls() as calls:
        assert flow.create(code).status_code == 201
    with metering.aws_calls() as again:
        assert flow.create(code).status_code == 200
    assert calls.service("dynamodb") <= 3 and calls["dynamodb.TransactWriteItems"] == 1, calls
    assert dict(again) == {"dynamodb.Query": 1}      # the dossier: its open payment answers again


def test_the_raw_notification_is_stored_for_audit_and_the_secret_never_echoed(flow, opened, capsys):
    _code, payment_id, params = opened
    reply = flow.ipn(params)
    from chalicelib.payments.store import payments as payment_store
    stored = payment_store.get_payment(payment_id)["notifications"]
    assert stored[-1]["raw"] == params and stored[-1]["source"] == "ipn" and stored[-1]["outcome"] == "accepted"
    flow.ipn({**params, "vnp_SecureHash": "f" * 128})
    seen = reply.body.decode() + flow.payment(payment_id).body.decode() + capsys.readouterr().out
    assert SECRET not in seen
    assert SECRET not in repr(__import__("chalicelib.payments.adapters.providers", fromlist=["x"]).payment_settings())
