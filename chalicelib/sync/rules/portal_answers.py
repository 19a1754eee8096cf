"""What a national portal (DVCQG) answer with a non-zero ``error_code`` means for the sync. Pure.

No official table of the portal's codes is public, and the deployed clients do not keep one
(docs/national-portal.md#what-a-refusal-means): OpenCPS v2 retries any non-zero answer up to
ten times and then parks the record with the portal's answer; the .NET provincial client
trusts only ``"0"`` with "thành công", turns "đã tồn tại" (3 / -3) into an update and logs
anything else with the whole answer for an operator. So the portal's own words decide, and
the reading protects the national statistics: a record the portal refused is recorded,
alarmed and resent whole with the dossier's next change, never retried blindly for a day
and then lost in a DLQ; but a portal that says the fault is its own, that our session is
gone, or that it lacks a dossier it should have, is retried as before.

Verdicts (``verdict``), checked in this order:

* ``exists``: "đã tồn tại", a create not applied: sent again as an update (adapter);
* ``session``: the message speaks of the session or the token: renewed once like HTTP 401,
  then a configuration error;
* ``portal_fault``: the portal says it failed ("lỗi hệ thống", "bảo trì", "quá tải", "thử
  lại", a timeout), or the code is one the stage lists in ``MOTCUA_NATIONAL_RETRY_CODES``:
  retried like an outage;
* ``missing``: the portal does not hold the dossier the call refers to ("không tìm thấy hồ
  sơ"): a disagreement about what it holds, not about the record; retried (the retry creates
  when no create went through);
* ``refused``: anything else: the record itself was refused (a missing or invalid field, an
  unknown procedure code, a bad date). Not retried.

Only an answer the portal processed can refuse a record: HTTP 2xx, 400 or 422. Another HTTP
status with a non-zero code stays a transient failure.
"""
from __future__ import annotations

import unicodedata
from collections.abc import Collection
from typing import Literal

Verdict = Literal["exists", "session", "portal_fault", "missing", "refused"]
REFUSING_STATUSES = frozenset({400, 422})        # besides 2xx: the portal read the request and said no
ALREADY_EXISTS = ("đã tồn tại",)
SESSION = ("phiên làm việc", "phiên đăng nhập", "session", "token")
PORTAL_FAULT = ("lỗi hệ thống", "hệ thống đang", "bảo trì", "quá tải", "thử lại", "timeout", "time out",
                "hết thời gian", "gián đoạn")
MISSING_DOSSIER = ("không tìm thấy hồ sơ", "hồ sơ không tồn tại", "hồ sơ chưa tồn tại")


def normalized(message: object) -> str:
    """The message as compared: NFC (Vietnamese arrives composed or not), lower case."""
    return unicodedata.normalize("NFC", str(message or "")).lower()


def _says(message: str, phrases: tuple[str, ...]) -> bool:
    return any(phrase in message for phrase in phrases)


def verdict(code: int, message: object, *, retry_codes: Collection[int] = ()) -> Verdict:
    """What a non-zero ``error_code`` answer with this message means (see the module)."""
    text = normalized(message)
    if _says(text, ALREADY_EXISTS):
        return "exists"
    if _says(text, SESSION):
        return "session"
    if code in retry_codes or _says(text, PORTAL_FAULT):
        return "portal_fault"
    if _says(text, MISSING_DOSSIER):
        return "missing"
    return "refused"


def may_refuse(http_status: int) -> bool:
    """Whether an answer with this HTTP status can refuse a record (the portal processed it)."""
    return 200 <= http_status < 300 or http_status in REFUSING_STATUSES
