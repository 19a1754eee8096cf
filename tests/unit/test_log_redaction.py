"""The log scrubber: personal keys erased by name, free text by pattern, nothing else touched."""
from __future__ import annotations

import json
import logging

import pytest

from chalicelib.runtime.log import REDACTED, RedactingFormatter, logger, scrub, scrub_text


@pytest.mark.parametrize("text, secret", [
    ("CCCD 051095001234 đã nộp", "051095001234"),
    ("CMND cũ: 212345678.", "212345678"),
    ("gọi 0912345678 nhé", "0912345678"),
    ("gọi 091 234 5678 nhé", "091 234 5678"),
    ("sms to +84912345678 failed", "+84912345678"),
    ("zalo 84912345678", "84912345678"),
    ("mail an.nguyen+hs@example.com.vn bounced", "an.nguyen+hs@example.com.vn"),
    ("ở Số 12 Lê Lợi, phường Kon Tum, tỉnh Quảng Ngãi thì", "Lê Lợi"),
    ("Thôn 3, xã Đăk Hà, tỉnh Quảng Ngãi", "Đăk Hà"),
    ("Phường Bến Nghé, Quận 1, TP. Hồ Chí Minh", "Bến Nghé"),
])
def test_free_text_loses_its_personal_data(text, secret):
    cleaned = scrub_text(text)
    assert secret not in cleaned and REDACTED in cleaned


@pytest.mark.parametrize("text", [
    "dossier 000.22.30.H50-240105-0007 accepted at 2026-11-22T09:30:00+07:00 in 12.5 ms",
    "event 550e8400-e29b-41d4-a716-446655440000 version 7",
    "PutEvents failed after 3 attempts; 10 entries",
    "amount 200000 VND, status 200",
    "Số điện thoại không hợp lệ",
])
def test_operational_text_is_left_alone(text):
    assert scrub_text(text) == text


def test_personal_keys_are_erased_by_name_at_any_depth():
    record = {"extra": {"applicant": {"full_name": "Nguyễn Văn An", "id_number": "x", "custom:id_number": 1,
                                      "SoDienThoai": "whatever", "Email": "e", "dia_chi": "d"}},
              "items": [{"phone": "0912345678", "status": "ok"}], "email": None}
    cleaned = scrub(record)
    applicant = cleaned["extra"]["applicant"]
    assert set(applicant.values()) == {REDACTED}
    assert cleaned["items"] == [{"phone": REDACTED, "status": "ok"}] and cleaned["email"] is None


def test_objects_and_numbers_are_scrubbed_through_their_text():
    assert scrub({"error": ValueError("bad id 051095001234"), "n": 51095001234 * 10, "ms": 1.5, "ok": True}) == {
        "error": f"bad id {REDACTED}", "n": REDACTED, "ms": 1.5, "ok": True}


def test_the_formatter_scrubs_message_extra_and_traceback(capsys):
    log = logger("redaction-unit")
    try:
        raise RuntimeError("applicant 051095001234 phone 0912345678 mail an@example.com")
    except RuntimeError:
        log.exception("failed for %s", "0987654321", extra={"who": {"email": "an@example.com"},
                                                           "note": "Số 5 Trần Phú, phường Kon Tum, tỉnh Quảng Ngãi"})
    line = capsys.readouterr().out.strip().splitlines()[-1]
    record = json.loads(line)
    for secret in ("051095001234", "0912345678", "an@example.com", "0987654321", "Trần Phú"):
        assert secret not in line
    assert record["message"] == f"failed for {REDACTED}" and record["exception_name"] == "RuntimeError"
    assert record["service"] == "redaction-unit" and "Traceback" in record["exception"]


def test_the_formatter_is_a_powertools_formatter():
    assert isinstance(logger("x").registered_formatter, RedactingFormatter)
    assert isinstance(logger("x").registered_formatter, logging.Formatter)


@pytest.mark.parametrize("line, secret", [
    ('"GET /track/000.22.30.H50-261205-0001?phone_last4=5770 HTTP/1.1" 200 -', "5770"),
    ("GET /track/x?lang=vi&Phone_Last4=5770#top", "5770"),
    ("PUT https://bucket.s3/x?X-Amz-Signature=0a1b2c3d&X-Amz-Expires=300", "0a1b2c3d"),
])
def test_secret_query_values_are_redacted_in_any_text(line, secret):
    cleaned = scrub_text(line)
    assert secret not in cleaned and REDACTED in cleaned
