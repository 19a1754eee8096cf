"""create_payment: the pay URL, amounts, GMT+7 dates, OrderInfo cleaning, TxnRef helper."""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone, UTC
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from payments.vnpay import (
    VNPayProvider,
    clean_order_info,
    format_vnp_date,
    make_txn_ref,
    params_from_query_string,
    parse_vnp_date,
    verify_params,
)
from vnpay_testkit import FIXED_NOW, SECRET, TMN


class NoHttp:
    """A session that fails the test if used: create_payment must make no HTTP call."""

    def __getattr__(self, name):
        raise AssertionError(f"create_payment touched the HTTP session ({name})")


def make_provider(now: datetime = FIXED_NOW, **kw) -> VNPayProvider:
    return VNPayProvider(TMN, SECRET, "https://sandbox.example.test/", session=NoHttp(), clock=lambda: now, **kw)


def create(provider: VNPayProvider | None = None, **overrides):
    args = dict(
        amount=150_000, currency="VND", reference="MC251122ABC", description="Lệ phí hộ tịch",
        return_url="https://dvc.example.gov.vn/payments/vnpay/return", client_ip="203.0.113.5",
        expires_at=FIXED_NOW + timedelta(minutes=15),
    )
    args.update(overrides)
    return (provider or make_provider()).create_payment(**args)


def url_params(url: str) -> dict[str, str]:
    return params_from_query_string(url.partition("?")[2])


def test_pay_url_carries_every_required_parameter_and_a_valid_hash():
    session = create()
    assert session.redirect_url.startswith("https://sandbox.example.test/paymentv2/vpcpay.html?")
    p = url_params(session.redirect_url)
    assert p == {
        "vnp_Version": "2.1.0",
        "vnp_Command": "pay",
        "vnp_TmnCode": TMN,
        "vnp_Amount": "15000000",
        "vnp_CurrCode": "VND",
        "vnp_TxnRef": "MC251122ABC",
        "vnp_OrderInfo": "Le phi ho tich",
        "vnp_OrderType": "other",
        "vnp_Locale": "vn",
        "vnp_ReturnUrl": "https://dvc.example.gov.vn/payments/vnpay/return",
        "vnp_IpAddr": "203.0.113.5",
        "vnp_CreateDate": "20251122143000",
        "vnp_ExpireDate": "20251122144500",
        "vnp_SecureHash": p["vnp_SecureHash"],
    }
    assert verify_params(p, SECRET)
    assert session.id == "MC251122ABC"
    assert session.expires_at == FIXED_NOW + timedelta(minutes=15)
    assert session.created_at == FIXED_NOW


def test_session_created_at_is_the_exact_create_date_sent():
    clock = FIXED_NOW.replace(second=7, microsecond=999_999)
    session = create(make_provider(clock))
    assert session.created_at == clock.replace(microsecond=0)
    assert url_params(session.redirect_url)["vnp_CreateDate"] == format_vnp_date(session.created_at)


def test_pay_url_has_no_secure_hash_type():
    assert "vnp_SecureHashType" not in create().redirect_url


def test_pay_url_is_sorted_and_ends_with_the_hash():
    query = create().redirect_url.partition("?")[2]
    keys = [kv.split("=")[0] for kv in query.split("&")]
    assert keys[-1] == "vnp_SecureHash"
    assert keys[:-1] == sorted(keys[:-1])


def test_order_type_locale_and_urls_are_configurable():
    provider = VNPayProvider(
        TMN, SECRET, "https://unused.example.test", session=NoHttp(), clock=lambda: FIXED_NOW,
        order_type="billpayment", locale="en", pay_url="https://pay.example.test/vpcpay.html",
    )
    session = create(provider)
    assert session.redirect_url.startswith("https://pay.example.test/vpcpay.html?")
    p = url_params(session.redirect_url)
    assert (p["vnp_OrderType"], p["vnp_Locale"]) == ("billpayment", "en")


@pytest.mark.parametrize("amount,expected", [(1, "100"), (5_000, "500000"), (150_000, "15000000"), (999_999_999, "99999999900")])
def test_amount_is_vnd_times_100(amount, expected):
    assert url_params(create(amount=amount).redirect_url)["vnp_Amount"] == expected


@pytest.mark.parametrize("amount", [150000.0, 1.5, Decimal("150000"), "150000", True, None, -1, 0])
def test_non_int_negative_or_zero_amounts_are_rejected(amount):
    with pytest.raises(ValueError):
        create(amount=amount)


def test_currency_other_than_vnd_is_rejected():
    with pytest.raises(ValueError):
        create(currency="USD")


def test_dates_are_gmt7_from_a_utc_clock_across_midnight():
    late_utc = datetime(2025, 11, 22, 17, 30, 5, tzinfo=UTC)  # 00:30:05 next day in Hanoi
    session = create(make_provider(late_utc), expires_at=late_utc + timedelta(minutes=15))
    p = url_params(session.redirect_url)
    assert p["vnp_CreateDate"] == "20251123003005"
    assert p["vnp_ExpireDate"] == "20251123004505"


def test_expiry_in_any_timezone_is_converted_to_gmt7():
    tokyo = timezone(timedelta(hours=9))
    expires = datetime(2025, 11, 22, 16, 45, tzinfo=tokyo)  # = 14:45 GMT+7
    assert url_params(create(expires_at=expires).redirect_url)["vnp_ExpireDate"] == "20251122144500"


def test_format_vnp_date_uses_a_24_hour_clock():
    assert format_vnp_date(datetime(2025, 1, 2, 8, 4, 5, tzinfo=UTC)) == "20250102150405"


def test_parse_vnp_date_reads_gmt7_into_utc():
    assert parse_vnp_date("20251123003005") == datetime(2025, 11, 22, 17, 30, 5, tzinfo=UTC)


def test_naive_expiry_is_rejected():
    with pytest.raises(ValueError, match="timezone-aware"):
        create(expires_at=datetime(2025, 11, 22, 15, 0))


def test_expiry_in_the_past_is_rejected():
    with pytest.raises(ValueError):
        create(expires_at=FIXED_NOW - timedelta(seconds=1))


@pytest.mark.parametrize("reference", ["", "has space", "x" * 101, "bad/ref", "dấu"])
def test_bad_references_are_rejected(reference):
    with pytest.raises(ValueError):
        create(reference=reference)


@pytest.mark.parametrize("url", ["/relative", "ftp://x", "https://x/~user", "https://x/a*b", "https://x/ä",
                                 "https://x/r\r\nSet-Cookie: a=b", "https://x/r\nLocation: //evil"])
def test_return_urls_that_are_not_safe_to_sign_are_rejected(url):
    with pytest.raises(ValueError):
        create(return_url=url)


def test_client_ip_must_be_an_ip_address():
    with pytest.raises(ValueError):
        create(client_ip="not-an-ip")
    assert url_params(create(client_ip="2001:db8::1").redirect_url)["vnp_IpAddr"] == "2001:db8::1"


@pytest.mark.parametrize(
    "raw,expected",
    [
        ("Lệ phí đăng ký hộ kinh doanh", "Le phi dang ky ho kinh doanh"),
        ("ĐỒNG THÁP Đà Nẵng", "DONG THAP Da Nang"),
        ("Thanh toán: hồ sơ 000.00.01.H55-251122-0001", "Thanh toan: ho so 000.00.01.H55-251122-0001"),
        ("Phí #1 (50%) & lệ phí/“khác”!", "Phi 1 50 le phi khac"),
        ("  nhiều\tkhoảng\n trắng  ", "nhieu khoang trang"),
        ("Ưu tiên ơ ư", "Uu tien o u"),
        ("a_b*c~d", "a_b c d"),
    ],
)
def test_order_info_loses_diacritics_and_special_characters(raw, expected):
    assert clean_order_info(raw) == expected


def test_order_info_is_capped_at_255_characters():
    cleaned = clean_order_info("Lệ phí " * 100)
    assert len(cleaned) <= 255
    assert cleaned == cleaned.strip()
    assert cleaned.startswith("Le phi Le phi")


def test_description_that_cleans_to_nothing_falls_back_to_the_reference():
    assert url_params(create(description="“”!!!").redirect_url)["vnp_OrderInfo"] == "Thanh toan MC251122ABC"


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=400))
def test_cleaned_order_info_is_always_safe_ascii(text):
    cleaned = clean_order_info(text)
    assert re.fullmatch(r"[A-Za-z0-9 _.:-]{0,255}", cleaned)
    assert "  " not in cleaned and cleaned == cleaned.strip()


def test_make_txn_ref_is_alphanumeric_dated_in_gmt7_and_unique():
    late_utc = datetime(2025, 11, 22, 17, 30, tzinfo=UTC)  # already 23 Nov in Vietnam
    refs = {make_txn_ref("MC", late_utc) for _ in range(2000)}
    assert len(refs) == 2000
    for ref in refs:
        assert re.fullmatch(r"MC251123[0-9A-F]{16}", ref)


@pytest.mark.parametrize("prefix", ["has-dash", "x" * 21, "dấu"])
def test_make_txn_ref_rejects_unsafe_prefixes(prefix):
    with pytest.raises(ValueError):
        make_txn_ref(prefix, FIXED_NOW)


def test_make_txn_ref_rejects_naive_datetimes():
    with pytest.raises(ValueError):
        make_txn_ref("MC", datetime(2025, 11, 22))


def test_provider_repr_does_not_leak_the_secret():
    assert SECRET not in repr(make_provider())
