"""The in-memory FakeProvider and the provider registry."""
from __future__ import annotations

import subprocess
import sys
from datetime import datetime, timedelta, UTC
from pathlib import Path

import pytest

import payments
from payments import (
    CallbackOutcome,
    PaymentOutcome,
    PaymentProvider,
    PaymentSession,
    ProviderRejected,
    ProviderUnavailable,
    SignatureError,
    get_provider,
    register_provider,
)
from payments.fake import FakeProvider
from payments.vnpay import VNPayProvider

NOW = datetime(2025, 11, 22, 7, 30, tzinfo=UTC)
REPO = Path(__file__).resolve().parents[2]


def fake_with_payment(amount: int = 50_000) -> FakeProvider:
    fake = FakeProvider(clock=lambda: NOW)
    fake.create_payment(amount, "VND", "REF1", "Le phi", "https://app/return", "198.51.100.1", NOW + timedelta(minutes=15))
    return fake


def test_fake_records_sessions_and_completes_with_params_its_parser_accepts():
    fake = fake_with_payment()
    assert fake.payments["REF1"].amount == 50_000
    n = fake.parse_notification(fake.complete("REF1"))
    assert (n.reference, n.amount, n.succeeded, n.paid_at) == ("REF1", 50_000, True, NOW)
    assert n.provider_txn_id == "FAKE00000001"
    assert fake.verify_return(fake.complete("REF1")).succeeded


def test_fake_failed_completion_is_not_succeeded():
    fake = fake_with_payment()
    n = fake.parse_notification(fake.complete("REF1", succeeded=False))
    assert (n.succeeded, n.response_code, n.paid_at) == (False, "24", None)
    assert fake.query("REF1", NOW).status == "02"


def test_fake_tampered_notification_raises_signature_error():
    fake = fake_with_payment()
    params = fake.complete("REF1")
    params["amount"] = "1"
    with pytest.raises(SignatureError):
        fake.parse_notification(params)


def test_fake_can_report_a_wrong_amount_for_mismatch_tests():
    fake = fake_with_payment()
    assert fake.parse_notification(fake.complete("REF1", amount=1)).amount == 1


def test_fake_is_deterministic():
    a, b = fake_with_payment(), fake_with_payment()
    assert a.complete("REF1") == b.complete("REF1")


def test_fake_fail_next_raises_provider_unavailable_then_recovers():
    fake = fake_with_payment()
    fake.fail_next(2)
    for _ in range(2):
        with pytest.raises(ProviderUnavailable):
            fake.query("REF1", NOW)
    assert fake.query("REF1", NOW).found
    assert [c[0] for c in fake.calls] == ["create_payment", "query", "query", "query"]


def test_fake_query_and_refund_rules():
    fake = fake_with_payment(100_000)
    assert fake.query("NOPE", NOW).found is False
    assert fake.query("REF1", NOW).status == "01"
    with pytest.raises(ProviderRejected):
        fake.refund("REF1", 1_000, False, "officer")  # not paid yet
    fake.complete("REF1")
    assert fake.refund("REF1", 30_000, False, "officer").accepted
    with pytest.raises(ProviderRejected):
        fake.refund("REF1", 100_000, True, "officer")
    with pytest.raises(ValueError):
        fake.refund("REF1", 1.5, False, "officer")


def test_fake_rejects_float_amounts():
    with pytest.raises(ValueError):
        FakeProvider().create_payment(1.0, "VND", "R", "d", "https://x", "1.1.1.1", NOW)


def test_both_providers_satisfy_the_protocol():
    assert isinstance(FakeProvider(), PaymentProvider)
    assert isinstance(VNPayProvider("T", "S", "http://x"), PaymentProvider)


def test_get_provider_builds_registered_providers_from_config():
    vnp = get_provider("vnpay", tmn_code="T", hash_secret="S", host="http://x")
    assert isinstance(vnp, VNPayProvider) and vnp.name == "vnpay"
    assert isinstance(get_provider("FAKE"), FakeProvider)
    assert {"vnpay", "fake"} <= set(payments.available_providers())


def test_unknown_provider_is_a_clear_error():
    with pytest.raises(ValueError, match="unknown payment provider"):
        get_provider("paypal")


def test_a_new_provider_plugs_in_without_touching_callers():
    class PayGovStub(FakeProvider):
        name = "paygov"

    register_provider("paygov_test", PayGovStub)
    try:
        p = get_provider("paygov_test")
        session = p.create_payment(10_000, "VND", "R1", "d", "https://x", "1.1.1.1", NOW + timedelta(minutes=5))
        assert isinstance(session, PaymentSession) and p.name == "paygov"
    finally:
        payments._REGISTRY.pop("paygov_test")


def test_registering_something_that_is_not_a_provider_fails_on_use():
    register_provider("broken_test", lambda **kw: object())
    try:
        with pytest.raises(TypeError):
            get_provider("broken_test")
    finally:
        payments._REGISTRY.pop("broken_test")


def test_payments_package_imports_no_aws_or_web_framework():
    code = (
        "import sys, payments, payments.vnpay, payments.fake, payments.simulator; "
        "bad = [m for m in ('chalice', 'boto3', 'botocore', 'pynamodb') if m in sys.modules]; "
        "print(','.join(bad))"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_importing_payments_is_lazy_about_requests():
    out = subprocess.run([sys.executable, "-c", "import sys, payments; print('requests' in sys.modules)"],
                         cwd=REPO, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_fake_answers_each_callback_outcome_with_its_own_reply_and_refuses_a_repeated_key():
    fake = fake_with_payment()
    params = fake.complete("REF1")
    assert fake.parse_notification({k: [v] for k, v in params.items()}).succeeded
    with pytest.raises(SignatureError):
        fake.parse_notification({**params, "amount": ["1", params["amount"]]})
    assert dict(fake.callback_reply(CallbackOutcome.ACCEPTED).body) == {"outcome": "accepted"}
    assert fake.query("REF1", NOW).outcome == PaymentOutcome.SUCCEEDED
