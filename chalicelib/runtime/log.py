"""Every log line MotCua writes, through one Powertools Logger factory that erases personal data.

``logger(service)`` is the only way the app, the handlers and the CLI make a logger. Its
formatter subclasses Powertools' own ``LambdaPowertoolsFormatter`` and cleans the finished
record (message, ``extra`` keys, exception text and stack trace, nested dicts and lists) just
before it is serialised, so nothing reaches CloudWatch unscrubbed, whoever wrote the call.

Two rules, both here and nowhere else:

* keys that name personal data (``id_number``, ``phone``, ``email``, ``address``,
  ``full_name`` and their Vietnamese/national-portal spellings) have their whole value
  replaced, whatever it is;
* query parameters that unlock something (``phone_last4``, which with the dossier code opens
  the public tracking page; tokens, signatures) have their value replaced in any text, such
  as an access log's request line (issue 18);
* every other string is scrubbed by pattern: e-mail addresses, id numbers (CMND 9 digits,
  CCCD 12 digits), Vietnamese phone numbers (0xxxxxxxxx, +84…, 84…) and addresses (a
  street or administrative-unit word followed by a comma-separated administrative unit,
  e.g. "Số 12 Lê Lợi, phường Kon Tum, tỉnh Quảng Ngãi").

Hand-written because Powertools' data masking utility masks JSON paths you must list in
advance and does not look inside free text or tracebacks, which is where leaks happen. A
9-digit number that is not a CMND (an amount of 100,000,000 đ) is erased too: we prefer
losing a number in a log to leaking an identity.
"""
from __future__ import annotations

import re
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter

REDACTED = "[REDACTED]"

# Compared after lower-casing and dropping "_", "-" and ":" (so "custom:id_number",
# "SoDienThoai" and "phone-number" all match).
PERSONAL_KEYS = frozenset({
    "idnumber", "customidnumber", "cmnd", "cccd", "socmnd", "socccd", "sodinhdanh", "madinhdanh",
    "phone", "phonenumber", "sodienthoai", "dienthoai", "mobile",
    "email", "emailaddress", "thudientu",
    "address", "diachi", "diachithuongtru", "diachilienhe", "noicutru",
    "fullname", "hoten", "hovaten", "tennguoinop", "chuhoso",
    "phonelast4",
})
# Query parameters whose value is a secret, wherever a URL or request line is logged.
SECRET_QUERY_KEYS = ("phone_last4", "token", "access_token", "id_token", "code_verifier", "signature",
                     "x-amz-signature", "x-amz-security-token", "vnp_securehash")
_SECRET_QUERY = re.compile(rf"(?i)([?&;](?:{'|'.join(re.escape(k) for k in SECRET_QUERY_KEYS)})=)[^&#\s\"']*")

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# Not inside a longer run of letters/digits, and not the last group of a UUID ("…-446655440000").
_ID_NUMBER = re.compile(r"(?<![\w-])(?:\d{12}|\d{9})(?!\w)")
_PHONE = re.compile(r"(?<![\w+])(?:\+84|84|0)(?:[ .-]?\d){8,10}(?!\w)")
_ADMIN = r"(?:phường|xã|thị trấn|thị xã|quận|huyện|tỉnh|thành phố|tp\.?)"
_STREET = r"(?:số nhà|số|đường|phố|ngõ|ngách|hẻm|kiệt|thôn|xóm|ấp|tổ dân phố|tổ|khu phố|khu vực|khóm)"
_PART = r"[^,;\n\"'{}\[\]<>]{1,60}?"
_ADDRESS = re.compile(
    rf"(?<!\w)(?:{_STREET}|{_ADMIN})\s+{_PART}(?:,\s*{_PART})*?,\s*{_ADMIN}\s*[^,;\n\"'{{}}\[\]<>]{{0,60}}"
    rf"(?:,\s*{_ADMIN}\s*[^,;\n\"'{{}}\[\]<>]{{0,60}})*",
    re.IGNORECASE,
)


def scrub_text(text: str) -> str:
    """``text`` with e-mails, id numbers, phone numbers and addresses replaced by REDACTED.
    Secret query values first, addresses next (they contain house numbers), e-mails before
    numbers (they may contain digits)."""
    text = _SECRET_QUERY.sub(rf"\g<1>{REDACTED}", text)
    for pattern in (_ADDRESS, _EMAIL, _ID_NUMBER, _PHONE):
        text = pattern.sub(REDACTED, text)
    return text


def is_personal_key(key: Any) -> bool:
    return isinstance(key, str) and re.sub(r"[_\-: ]", "", key.lower()) in PERSONAL_KEYS


def scrub(value: Any, _depth: int = 0) -> Any:
    """A copy of ``value`` safe to log: personal keys erased by name, strings by pattern,
    containers walked, any other object logged as its scrubbed ``str``."""
    if _depth > 20:
        return REDACTED
    if isinstance(value, str):
        return scrub_text(value)
    if value is None or isinstance(value, (bool, float)):
        return value
    if isinstance(value, int):   # a CMND/CCCD stored as a number
        return REDACTED if _ID_NUMBER.fullmatch(str(value)) else value
    if isinstance(value, dict):
        return {key: REDACTED if is_personal_key(key) and item not in (None, "") else scrub(item, _depth + 1)
                for key, item in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [scrub(item, _depth + 1) for item in value]
    return scrub_text(str(value))


class RedactingFormatter(LambdaPowertoolsFormatter):
    """Powertools' JSON formatter, scrubbing the whole record right before serialisation."""

    def serialize(self, log: dict[str, Any]) -> str:  # type: ignore[override]
        return super().serialize(log=scrub(log))


def logger(service: str) -> Logger:
    """The Powertools Logger for ``service``, with the redacting formatter."""
    return Logger(service=service, logger_formatter=RedactingFormatter())
