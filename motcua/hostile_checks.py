"""The hostile run's probe tables (motcua/hostile.py): what a fair hostile client sends, one
request each, and what a correct answer is. Data first; the few functions below only cross
the tables (every route x every broken token, every POST route x every broken body, every
field x every wrong type).

Names in ``{braces}`` in a path, and string values ``"@name"`` in a body, are the run's own
dossiers, payments and uploads (motcua/hostile_scenarios.py, ``World.fixtures``).
"""
from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator, Mapping
from typing import Any

from motcua.hostile_kit import ABSENT, Expect, Probe

COMMUNE, DEPARTMENT, JUSTICE = "000.22.30.H50", "000.00.15.H50", "000.00.13.H50"
AGENCIES = {"commune": COMMUNE, "department": DEPARTMENT, "justice": JUSTICE}
HOUSE = "1.009994"   # the commune's building permit: 75,000 đ after acceptance
UNKNOWN_CODE = "000.22.30.H50-991231-9999"
APPLICANT = {"full_name": "Nguyễn Văn An", "id_number": "051095001234", "phone": "0912345678"}
SUBMISSION = {"procedure_code": HOUSE, "summary": "Xin phép xây nhà", "applicant": APPLICANT}
ALL_CRITERIA = {str(n): 2 for n in range(1, 10)}
KEY = {"Idempotency-Key": "hostile-fixed-key-0001"}   # a probe that is refused never stores its key

# --- who may not: (method, path, who, body, expected) --------------------------------------
UNAUTHENTICATED = {"none": "unauthenticated", "expired": "token_expired", "tampered": "invalid_token",
                   "unsigned": "invalid_token", "garbage": "invalid_token"}
FORBIDDEN = Expect((403,))
HIDDEN = Expect((404,))   # out of an owner's scope a dossier does not exist (docs/security.md)
ROLE_ROWS: list[tuple[str, str, str, Any, Expect]] = [
    ("POST", "/dossiers", "officer:commune", SUBMISSION, FORBIDDEN),
    ("POST", "/dossiers", "finance", SUBMISSION, FORBIDDEN),
    ("POST", "/desk/dossiers", "citizen", SUBMISSION, FORBIDDEN),
    ("GET", "/audit", "citizen", ABSENT, FORBIDDEN),
    ("GET", "/audit", "officer:commune", ABSENT, FORBIDDEN),
    ("GET", "/audit", "finance", ABSENT, FORBIDDEN),
    ("GET", "/finance/refunds/pending", "citizen", ABSENT, FORBIDDEN),
    ("GET", "/finance/refunds/pending", "officer:commune", ABSENT, FORBIDDEN),
    ("GET", "/finance/reconciliation?date=2026-01-05", "leader:commune", ABSENT, FORBIDDEN),
    ("GET", "/reports/dossiers", "citizen", ABSENT, FORBIDDEN),
    ("GET", "/reports/indicators", "citizen", ABSENT, FORBIDDEN),
    ("GET", "/feedback", "citizen", ABSENT, FORBIDDEN),
    ("POST", "/dossiers/{own}/accept", "citizen", ABSENT, FORBIDDEN),
    ("POST", "/dossiers/{own}/refuse", "citizen", {"reason": "x"}, FORBIDDEN),
    ("POST", "/dossiers/{own}/forward", "citizen", {"to_step": 2}, FORBIDDEN),
    ("POST", "/dossiers/{own}/corrections", "citizen", {"field": "finished_at"}, FORBIDDEN),
    ("POST", "/dossiers/{finished}/corrections/c-1/approve", "officer:commune", {}, FORBIDDEN),
    ("POST", "/payments/{payment}/refunds", "citizen", {"amount": 1, "reason": "x"}, FORBIDDEN),
    ("POST", "/payments/{payment}/refunds", "officer:commune", {"amount": 1, "reason": "x"}, FORBIDDEN),
    ("POST", "/feedback/{feedback}/answer", "citizen", {"answer": "x"}, FORBIDDEN),
    # another agency's officer: told it is not theirs (writes) or shown nothing (reads)
    ("POST", "/dossiers/{own}/accept", "officer:department", ABSENT, FORBIDDEN),
    ("POST", "/dossiers/{own}/refuse", "officer:department", {"reason": "Không thuộc thẩm quyền"}, FORBIDDEN),
    ("POST", "/dossiers/{accepted}/actions", "officer:department", {"action": "stop", "reason": "x"}, FORBIDDEN),
    ("POST", "/dossiers/{accepted}/forward", "officer:department", {"to_step": 2}, FORBIDDEN),
    ("GET", "/dossiers/{own}", "officer:department", ABSENT, HIDDEN),
    ("GET", "/dossiers/{own}/history", "officer:department", ABSENT, HIDDEN),
    ("GET", "/payments/{payment}", "officer:department", ABSENT, HIDDEN),
    ("GET", "/payments/{payment}/receipt", "officer:department", ABSENT, HIDDEN),
    ("GET", "/feedback/{feedback}", "officer:department", ABSENT, Expect((403, 404))),
    ("POST", "/feedback/{feedback}/answer", "officer:department", {"answer": "Không phải của tôi"}, Expect((403, 404))),
    ("GET", f"/reports/dossiers?from=2026-01-01&to=2026-01-31&group_by=agency&agency_id={COMMUNE}", "officer:department", ABSENT,
     FORBIDDEN),
    ("GET", f"/reports/indicators?from=2026-01-01&to=2026-01-31&agency_id={COMMUNE}", "leader:department", ABSENT,
     FORBIDDEN),
    ("GET", f"/dossiers?agency_id={COMMUNE}", "officer:department", ABSENT, FORBIDDEN),
    ("GET", f"/feedback?from=2026-01-01&to=2026-01-31&agency_id={COMMUNE}", "officer:department", ABSENT, FORBIDDEN),
    # another citizen: nothing of the first one's exists
    ("GET", "/dossiers/{own}", "citizen_b", ABSENT, HIDDEN),
    ("GET", "/dossiers/{own}/deadline", "citizen_b", ABSENT, HIDDEN),
    ("GET", "/dossiers/{own}/history", "citizen_b", ABSENT, HIDDEN),
    ("GET", "/dossiers/{own}/forms/receipt", "citizen_b", ABSENT, HIDDEN),
    ("GET", "/dossiers/{own}/attachments/{upload}", "citizen_b", ABSENT, HIDDEN),
    ("POST", "/dossiers/{own}/actions", "citizen_b", {"action": "withdraw"}, HIDDEN),
    ("POST", "/dossiers/{own}/payments", "citizen_b", {}, HIDDEN),
    ("POST", "/dossiers/{finished}/rating", "citizen_b", {"criteria": ALL_CRITERIA, "overall": 5}, HIDDEN),
    ("GET", "/payments/{payment}", "citizen_b", ABSENT, HIDDEN),
    ("GET", "/payments/{payment}/receipt", "citizen_b", ABSENT, HIDDEN),
    ("GET", "/feedback/{feedback}", "citizen_b", ABSENT, HIDDEN),
]

# --- every POST route with a body: (path, who, a valid body, headers) ---------------------------
POST_ROUTES: list[tuple[str, str | None, Any, Mapping[str, str]]] = [
    ("/uploads", "citizen", {"name": "don.pdf", "content_type": "application/pdf", "size": 9}, {}),
    ("/dossiers", "citizen", SUBMISSION, KEY),
    ("/desk/dossiers", "officer:commune", {**SUBMISSION, "channel": "direct", "consent": True}, KEY),
    ("/dossiers/{accepted}/accept", "officer:commune", {}, {}),
    ("/dossiers/{own}/refuse", "officer:commune", {"reason": "Thiếu giấy tờ"}, {}),
    ("/dossiers/{accepted}/actions", "officer:commune",
     {"action": "request_supplement", "reason": "Thiếu bản vẽ", "documents": ["Bản vẽ"]}, {}),
    ("/dossiers/{accepted}/forward", "officer:commune", {"to_step": 2}, {}),
    ("/dossiers/{own}/supplements", "citizen", {"attachments": [{"upload_id": "@upload", "name": "a.pdf"}]}, {}),
    ("/dossiers/{finished}/rating", "citizen", {"criteria": ALL_CRITERIA, "overall": 5}, {}),
    ("/dossiers/{finished}/corrections", "officer:commune",
     {"field": "finished_at", "value": "2026-01-05T09:00:00+07:00", "reason": "Ghi nhầm giờ",
      "evidence_upload_id": "@officer_upload"}, {}),
    ("/dossiers/{accepted}/payments", "citizen", {"provider": "vnpay"}, {}),
    ("/payments/{payment}/refunds", "finance", {"amount": 1000, "reason": "Hoàn phí"}, {}),
    ("/feedback", "citizen", {"kind": "procedure", "title": "Góp ý", "content": "Nội dung", "agency_id": COMMUNE}, {}),
    ("/feedback/{feedback}/answer", "officer:commune", {"answer": "Đã tiếp thu"}, {}),
    ("/feedback/{feedback}/refuse", "officer:commune", {"reason": "Không thuộc phạm vi"}, {}),
    ("/feedback/{feedback}/supplement-request", "officer:commune", {"reason": "Bổ sung"}, {}),
    ("/dashboard/sign-in", None, {"role": "officer", "agency_id": COMMUNE}, {}),
    ("/dossiers/{finished}/corrections/c-1/approve", "admin", {}, {}),
]

OPTIONAL_BODY = {"/dossiers/{accepted}/accept", "/dossiers/{accepted}/payments",
                 "/dossiers/{finished}/corrections/c-1/approve"}   # no body is a valid body
# Bodies that are not a JSON object a route can read: (name, raw bytes, content type, expected)
BAD_BODIES: list[tuple[str, bytes, str, Expect]] = [
    ("malformed JSON", b'{"oops', "application/json", Expect((400,), "malformed_json")),
    ("empty body", b"", "application/json", Expect((400, 422))),
    ("a JSON array", b"[]", "application/json", Expect((400, 422))),
    ("a JSON string", b'"x"', "application/json", Expect((400, 422))),
    ("invalid UTF-8", b'{"x": "\xff\xfe"}', "application/json", Expect((400,), "invalid_encoding")),
    ("NaN", b'{"x": NaN}', "application/json", Expect((400,), "non_finite_number")),
    ("1e999", b'{"x": 1e999}', "application/json", Expect((400,), "non_finite_number")),
    ("deep JSON", b"[" * 100_000 + b"]" * 100_000, "application/json", Expect((400,), "json_too_deep")),
    ("XML", b"<dossier/>", "application/xml", Expect((400, 415))),
    ("a form post", b"procedure_code=1", "application/x-www-form-urlencoded", Expect((400, 415))),
    ("text", b"hello", "text/plain", Expect((400, 415))),
    ("an image", b"\x89PNG\r\n\x1a\n", "image/png", Expect((400, 415))),
    ("over the body limit (1 MiB)", b'{"x": "' + b"a" * (1 << 20) + b'"}', "application/json",
     Expect((413,), "payload_too_large")),
]

# --- wrong types, per route and field: (route path, field, wrong values) ------------------------
STR, OBJ, ARR, INT = ("12345", 12345), ("x", [1]), ("x", {"a": 1}), ("9", 1.5)
WRONG_TYPES: list[tuple[str, str, tuple[Any, ...]]] = [
    ("/uploads", "name", (12345, None)), ("/uploads", "content_type", (7, "text/html")),
    ("/uploads", "size", ("9", -1, 10 ** 30, True)),
    ("/dossiers", "procedure_code", (12345, {"$ne": None})), ("/dossiers", "applicant", OBJ),
    ("/dossiers", "applicant.full_name", (12345, ["x"], {"$gt": ""})), ("/dossiers", "applicant.id_number", (51095001234, "x")),
    ("/dossiers", "applicant.phone", (912345678, "+84-91")), ("/dossiers", "applicant.email", (1, "not-an-email")),
    ("/dossiers", "summary", (1, ["x"])), ("/dossiers", "form", ("x", [1, 2])), ("/dossiers", "attachments", ARR),
    ("/dossiers", "notify", ("sms", ["pigeon"])), ("/dossiers", "result_delivery", ("drone", 1)),
    ("/desk/dossiers", "channel", ("online", 1)), ("/desk/dossiers", "consent", ("yes", 1)),
    ("/dossiers/{own}/refuse", "reason", (1, ["x"])),
    ("/dossiers/{accepted}/actions", "action", ("fly", 1)), ("/dossiers/{accepted}/actions", "reason", (1, {"a": 1})),
    ("/dossiers/{accepted}/actions", "documents", ("x", [1])),
    ("/dossiers/{accepted}/forward", "to_step", (*INT, -1)), ("/dossiers/{accepted}/forward", "assignee", (1,)),
    ("/dossiers/{own}/supplements", "attachments", ARR),
    ("/dossiers/{finished}/rating", "criteria", ("x", [1])), ("/dossiers/{finished}/rating", "overall", ("5", 6, 0)),
    ("/dossiers/{finished}/rating", "comment", (1,)),
    ("/dossiers/{finished}/corrections", "field", ("status", 1)), ("/dossiers/{finished}/corrections", "value", (1, "yesterday")),
    ("/dossiers/{finished}/corrections", "reason", (1,)),
    ("/dossiers/{accepted}/payments", "provider", ("bitcoin", 1)),
    ("/payments/{payment}/refunds", "amount", ("1000", -1, 1.5)), ("/payments/{payment}/refunds", "reason", (1,)),
    ("/feedback", "kind", ("rant", 1)), ("/feedback", "title", (1, ["x"])), ("/feedback", "content", (1,)),
    ("/feedback", "contact", ("x",)),
    ("/feedback/{feedback}/answer", "answer", (1, None)), ("/feedback/{feedback}/answer", "publish", ("yes",)),
    ("/dashboard/sign-in", "role", ("root", 1)), ("/dashboard/sign-in", "agency_id", ("999.99.99.H99", 1)),
]

# --- issue 18: look-alike digits, hidden characters (probes on POST /dossiers) -------------------
FULLWIDTH = "".join(chr(0xFF10 + int(d)) for d in "051095001234")
ARABIC_INDIC = "".join(chr(0x0660 + int(d)) for d in "051095001234")
DEVANAGARI = "0" + "".join(chr(0x0966 + int(d)) for d in "912345678")
LOOK_ALIKES: list[tuple[str, str, str]] = [
    ("fullwidth id_number", "applicant.id_number", FULLWIDTH),
    ("Arabic-Indic id_number", "applicant.id_number", ARABIC_INDIC),
    ("Devanagari phone", "applicant.phone", DEVANAGARI),
    ("fullwidth last digit in phone", "applicant.phone", "091234567\uff18"),
    ("fullwidth tax_code", "applicant.tax_code", "\uff10\uff11\uff10\uff11\uff12\uff13\uff14\uff15\uff16\uff17"),
    ("Arabic-Indic tax_code", "applicant.tax_code", "".join(chr(0x0660 + int(d)) for d in "0101234567")),
]
HIDDEN_CHARACTERS: list[tuple[str, str, Any]] = [
    ("NUL, BEL and a terminal escape in full_name", "applicant.full_name", "Nguyễn\x00 Văn\x07 An\x1b[2J"),
    ("right-to-left override in full_name", "applicant.full_name", "Nguyễn Văn An\u202e"),
    ("a line break in full_name", "applicant.full_name", "Nguyễn\nVăn An"),
    ("C1 control (NEL) in address", "applicant.address", "12 Lê Lợi\x85"),
    ("DEL in summary", "summary", "Xin cấp\x7f phiếu"),
    ("bidi isolates in a form value", "form.ghi_chu", {"ghi_chu": "a\u2066b\u2069"}),
    ("right-to-left override in a form key", "form", {"ghi\u202echu": "x"}),
    ("right-to-left override in an attachment name", "attachments[0].name",
     [{"upload_id": "@upload", "name": "hồ_sơ\u202efdp.exe"}]),
    ("NUL in an attachment name", "attachments[0].name", [{"upload_id": "@upload", "name": "ok.pdf\x00.exe"}]),
]
UPLOAD_NAMES: list[tuple[str, str]] = [
    ("right-to-left override", "hồ_sơ\u202efdp.exe"), ("NUL", "ok.pdf\x00.exe"), ("ESC", "a\x1b[31m.pdf"),
    ("line break", "line\r\nbreak.pdf"), ("path traversal", "../../etc/passwd"), ("backslash traversal", "..\\x.pdf"),
    ("256 bytes", "\U0001F600" * 64),
]
NON_FINITE = ("NaN", "Infinity", "-Infinity", "1e999", "-1e999")

# --- issue 18: date-times outside the working-day calendar ---------------------------------------
EDGES_OF_TIME = ("9999-12-31T23:59:59-12:00", "0001-01-01T00:00:00+14:00", "2010-01-04T09:00:00+07:00")

# --- unknown things are 404: (method, path, who, body) -------------------------------------------
UNKNOWN: list[tuple[str, str, str | None, Any]] = [
    ("GET", f"/dossiers/{UNKNOWN_CODE}", "citizen", ABSENT),
    ("GET", f"/dossiers/{UNKNOWN_CODE}", "officer:commune", ABSENT),
    ("GET", f"/dossiers/{UNKNOWN_CODE}", "admin", ABSENT),
    ("GET", f"/dossiers/{UNKNOWN_CODE}/deadline", "citizen", ABSENT),
    ("GET", f"/dossiers/{UNKNOWN_CODE}/history", "admin", ABSENT),
    ("GET", f"/dossiers/{UNKNOWN_CODE}/forms/receipt", "officer:commune", ABSENT),
    ("GET", f"/dossiers/{UNKNOWN_CODE}/attachments/{{upload}}", "citizen", ABSENT),
    ("POST", f"/dossiers/{UNKNOWN_CODE}/accept", "officer:commune", ABSENT),
    ("POST", f"/dossiers/{UNKNOWN_CODE}/refuse", "officer:commune", {"reason": "x"}),
    ("POST", f"/dossiers/{UNKNOWN_CODE}/actions", "officer:commune", {"action": "stop", "reason": "x"}),
    ("POST", f"/dossiers/{UNKNOWN_CODE}/actions", "citizen", {"action": "withdraw"}),
    ("POST", f"/dossiers/{UNKNOWN_CODE}/forward", "officer:commune", {"to_step": 2}),
    ("POST", f"/dossiers/{UNKNOWN_CODE}/supplements", "citizen", {"attachments": [{"upload_id": "@upload", "name": "a.pdf"}]}),
    ("POST", f"/dossiers/{UNKNOWN_CODE}/rating", "citizen", {"criteria": ALL_CRITERIA, "overall": 5}),
    ("POST", f"/dossiers/{UNKNOWN_CODE}/payments", "citizen", {}),
    ("GET", f"/track/{UNKNOWN_CODE}?phone_last4=5678", None, ABSENT),
    ("GET", "/payments/pay-unknown-0000", "finance", ABSENT),
    ("GET", "/payments/pay-unknown-0000/receipt", "admin", ABSENT),
    ("POST", "/payments/pay-unknown-0000/refunds", "finance", {"amount": 1000, "reason": "Hoàn"}),
    ("GET", "/feedback/fb-unknown-0000", "admin", ABSENT),
    ("GET", "/procedures/9.999999", None, ABSENT),
    ("GET", "/agencies/999.99.99.H99", None, ABSENT),
    ("GET", "/files/unknown-link-token", None, ABSENT),
    ("GET", "/payments/providers/bitcoin/ipn?x=1", None, ABSENT),
    ("POST", "/payments/providers/bitcoin/ipn", None, {}),
    ("GET", "/no/such/route", None, ABSENT),
    ("GET", "/no/such/route", "citizen", ABSENT),
    ("POST", "/no/such/route", "citizen", {}),
]

# --- someone else's things, and money that does not add up: (name, method, path, who, body, expected)
REFUSED = Expect((403, 404, 409, 422))
ABUSE: list[tuple[str, str, str, str | None, Any, Expect]] = [
    ("another citizen attaches the first one's upload", "POST", "/dossiers", "citizen_b",
     {**SUBMISSION, "attachments": [{"upload_id": "@upload", "name": "cccd.pdf"}]}, REFUSED),
    ("an officer's upload attached by a citizen", "POST", "/dossiers", "citizen",
     {**SUBMISSION, "attachments": [{"upload_id": "@officer_upload", "name": "cccd.pdf"}]}, REFUSED),
    ("a citizen supplies an officer's upload", "POST", "/dossiers/{asked}/supplements", "citizen",
     {"attachments": [{"upload_id": "@officer_upload", "name": "a.pdf"}]}, REFUSED),
    ("a counter payment of 1 đ for a 75,000 đ fee", "POST", "/dossiers/{timely}/payments", "officer:commune",
     {"provider": "counter", "method": "cash", "amount": 1, "reference": "PT-1"}, REFUSED),
    ("a refund of a payment not yet paid", "POST", "/payments/{payment}/refunds", "finance",
     {"amount": 75_000, "reason": "Hoàn"}, REFUSED),
    ("a refund of more than was paid", "POST", "/payments/{payment}/refunds", "finance",
     {"amount": 10 ** 12, "reason": "Hoàn"}, REFUSED),
    ("a 5,000-character dossier code", "GET", "/dossiers/" + "A" * 5000, "citizen", ABSENT, Expect((404, 422))),
    ("a code with a path inside", "GET", "/dossiers/..%2F..%2Faudit", "citizen", ABSENT, Expect((404, 422))),
]

# --- off the state graph is 409: (fixture in that status, who, action body) ----------------------
OFF_GRAPH: list[tuple[str, str, str, Any]] = [
    ("own", "officer:commune", "/actions", {"action": "issue_result", "decision": "approved",
                                             "documents": [{"upload_id": "@officer_upload", "name": "kq.pdf"}]}),
    ("own", "officer:commune", "/actions", {"action": "return_result", "method": "desk"}),
    ("own", "officer:commune", "/actions", {"action": "request_supplement", "reason": "x", "documents": ["A"]}),
    ("own", "officer:commune", "/actions", {"action": "stop", "reason": "x"}),
    ("own", "citizen", "/supplements", {"attachments": [{"upload_id": "@upload", "name": "a.pdf"}]}),
    ("own", "citizen", "/rating", {"criteria": ALL_CRITERIA, "overall": 5}),
    ("accepted", "officer:commune", "/accept", ABSENT),
    ("accepted", "officer:commune", "/refuse", {"reason": "Muộn rồi"}),
    ("accepted", "officer:commune", "/actions", {"action": "return_result", "method": "desk"}),
    ("withdrawn", "officer:commune", "/accept", ABSENT),
    ("withdrawn", "citizen", "/actions", {"action": "withdraw"}),
    ("withdrawn", "officer:commune", "/actions", {"action": "stop", "reason": "x"}),
    ("finished", "officer:commune", "/actions", {"action": "request_supplement", "reason": "x", "documents": ["A"]}),
    ("finished", "officer:commune", "/actions", {"action": "issue_result", "decision": "approved",
                                                  "documents": [{"upload_id": "@officer_upload", "name": "kq.pdf"}]}),
    ("finished", "citizen", "/actions", {"action": "withdraw"}),
]

IDEMPOTENCY_KEYS: list[tuple[str, dict[str, str]]] = [
    ("missing", {}), ("too short", {"Idempotency-Key": "abc"}), ("too long", {"Idempotency-Key": "k" * 200}),
    ("with a tab", {"Idempotency-Key": "abcdefgh\tx"}),
]

# --- query strings --------------------------------------------------------------------------------
QUERIES: list[tuple[str, str | None, str]] = [   # (path and query, who, the parameter a 422 must name)
    ("/dossiers?limit=abc", "citizen", "limit"), ("/dossiers?limit=-1", "citizen", "limit"),
    ("/dossiers?limit=%EF%BC%91%EF%BC%90", "citizen", "limit"),   # fullwidth "10"
    ("/dossiers?status=lost", "officer:commune", "status"), ("/dossiers?due=someday", "officer:commune", "due"),
    ("/dossiers?cursor=not-a-cursor", "citizen", "cursor"),
    ("/audit?limit=99999999999999999999", "admin", "limit"),
    ("/reports/dossiers?from=0001-01-01&to=9999-12-31", "admin", "from"),
    ("/reports/dossiers?from=2026-02-30&to=2026-03-01", "admin", "from"),
    ("/finance/reconciliation?date=yesterday", "finance", "date"),
    ("/reports/payments?group_by=planet&from=2026-01-01&to=2026-01-31", "finance", "group_by"),
    ("/track/{own}?phone_last4=%EF%BC%95678", None, "phone_last4"),   # a fullwidth 5
]


def set_path(body: Any, dotted: str, value: Any) -> Any:
    """A copy of ``body`` with ``dotted`` (``applicant.full_name``) set to ``value``."""
    changed = copy.deepcopy(body)
    *parents, last = dotted.split(".")
    node = changed
    for key in parents:
        node = node.setdefault(key, {})
    node[last] = value
    return changed


def auth_probes(contract: Mapping[str, Any]) -> Iterator[Probe]:
    """Every operation the served contract says needs a token, with every broken token."""
    for path, operations in contract["paths"].items():
        for method, operation in operations.items():
            if method not in ("get", "post") or operation.get("security") == []:
                continue
            filled = path.replace("{code}", "{own}").replace("{payment_id}", "{payment}") \
                .replace("{feedback_id}", "{feedback}").replace("{upload_id}", "{upload}") \
                .replace("{form}", "receipt").replace("{correction_id}", "c-1").replace("{system}", "judicial-records")
            for who, code in UNAUTHENTICATED.items():
                body = {} if method == "post" else ABSENT
                yield Probe(f"auth: {method.upper()} {path} with {who} token", method.upper(), filled,
                            None if who == "none" else who, Expect((401,), code), body=body)


def public_probes(contract: Mapping[str, Any]) -> Iterator[Probe]:
    """Public reads answer anyone, a broken token included (it is not read)."""
    for path, operations in contract["paths"].items():
        get = operations.get("get")
        if get is None or get.get("security") != [] or "{" in path or "/payments/" in path:
            continue
        for who in (None, "expired"):
            yield Probe(f"public: GET {path} {'without a token' if who is None else 'with an expired token'}",
                        "GET", path, who, Expect((200,)))


# What another agency's officer or another citizen sends to each operation on one dossier: a body
# the operation would take, on a dossier in a status it would act on, so only scope can refuse it.
SCOPED_TARGETS: dict[tuple[str, str], tuple[str, Any]] = {   # (method, contract path) -> (fixture, body)
    ("post", "/dossiers/{code}/accept"): ("own", ABSENT),
    ("post", "/dossiers/{code}/refuse"): ("own", {"reason": "Thiếu giấy tờ"}),
    ("post", "/dossiers/{code}/actions"): ("accepted", {"action": "stop", "reason": "Dừng"}),
    ("post", "/dossiers/{code}/forward"): ("accepted", {"to_step": 2}),
    ("post", "/dossiers/{code}/supplements"): ("asked", {"attachments": [{"upload_id": "@upload", "name": "a.pdf"}]}),
    ("post", "/dossiers/{code}/rating"): ("finished", {"criteria": ALL_CRITERIA, "overall": 5}),
    ("post", "/dossiers/{code}/payments"): ("accepted", {}),
    ("post", "/dossiers/{code}/corrections"): ("finished", {
        "field": "finished_at", "value": "2026-01-05T09:00:00+07:00", "reason": "Ghi nhầm giờ",
        "evidence_upload_id": "@officer_upload"}),
}
OUT_OF_SCOPE = ("officer:department", "citizen_b")


def scope_probes(contract: Mapping[str, Any]) -> Iterator[Probe]:
    """Every operation of the contract on one dossier, by another agency's officer and by
    another citizen: refused (403), or nothing there (404); never done, never a 422 or 409
    that tells what the dossier holds."""
    for path, operations in contract["paths"].items():
        if not path.startswith("/dossiers/{code}") or "{correction_id}" in path:
            continue
        for method in ("get", "post"):
            if method not in operations:
                continue
            fixture, body = SCOPED_TARGETS.get((method, path), ("own", ABSENT))
            filled = path.replace("{code}", "{" + fixture + "}").replace("{form}", "receipt").replace(
                "{upload_id}", "{upload}")
            for who in OUT_OF_SCOPE:
                yield Probe(f"scope: {who} {method.upper()} {path}", method.upper(), filled, who,
                            Expect((403, 404)), body=body)


def method_probes(contract: Mapping[str, Any]) -> Iterator[Probe]:
    """A method no route of the path serves: 405 in the API's shape."""
    for path, operations in contract["paths"].items():
        filled = re.sub(r"\{[a-z_]+\}", "x-1", path)
        for method in ("PUT", "DELETE"):
            if method.lower() not in operations:
                yield Probe(f"method: {method} {path}", method, filled, None, Expect((405,), "method_not_allowed"))


# Query values a hostile client tries in every parameter of every list and report: the answer is
# a page, a 4xx naming what is wrong, another agency's refused, or nothing found; never a 5xx.
QUERY_VALUES: dict[str, str] = {
    "5,000 characters": "A" * 5000, "NUL": "%00", "invalid UTF-8": "%ff%fe", "fullwidth digits": "%EF%BC%91%EF%BC%90",
    "an injection": "%27%20OR%20%271%27%3D%271", "an empty value": "", "a negative number": "-1",
    "a huge number": "9" * 40,
}
READER_OF = (("/reports", "admin"), ("/finance", "finance"), ("/audit", "admin"), ("/feedback/published", None),
             ("/feedback", "admin"), ("/dossiers", "officer:commune"), ("/procedures", None))


def query_fuzz_probes(contract: Mapping[str, Any]) -> Iterator[Probe]:
    for path, operations in contract["paths"].items():
        get = operations.get("get") or {}
        reader = next((who for prefix, who in READER_OF if path.startswith(prefix)), "none")
        if "{" in path or reader == "none":
            continue
        for parameter in (p for p in get.get("parameters", []) if p.get("in") == "query"):
            for label, value in QUERY_VALUES.items():
                yield Probe(f"query: GET {path} {parameter['name']}= {label}", "GET", f"{path}?{parameter['name']}={value}",
                            reader, Expect((200, 400, 403, 404, 422)))


PATH_VALUES: dict[str, str] = {"NUL": "%00", "a traversal": "..%2F..%2Faudit", "invalid UTF-8": "%ff%fe",
                               "2,000 characters": "A" * 2000, "fullwidth digits": "%EF%BC%91%EF%BC%90"}
PATH_READERS = (("/dossiers", "citizen"), ("/payments/{payment_id}", "finance"), ("/feedback", "admin"),
                ("/procedures", None), ("/agencies", None), ("/files", None))


def path_fuzz_probes(contract: Mapping[str, Any]) -> Iterator[Probe]:
    """Hostile values in every path parameter of every read: nothing found, or a 4xx saying why."""
    for path, operations in contract["paths"].items():
        reader = next((who for prefix, who in PATH_READERS if path.startswith(prefix)), "none")
        if "get" not in operations or "{" not in path or reader == "none":
            continue
        for label, value in PATH_VALUES.items():
            yield Probe(f"path: GET {path} with {label}", "GET", re.sub(r"\{[a-z_]+\}", value, path), reader,
                        Expect((400, 403, 404, 410, 422)))


def role_probes() -> Iterator[Probe]:
    for method, path, who, body, expect in ROLE_ROWS:
        yield Probe(f"role: {who} {method} {path}", method, path, who, expect, body=body)


def body_probes() -> Iterator[Probe]:
    for path, who, _, headers in POST_ROUTES:
        for name, raw, kind, expect in BAD_BODIES:
            if not raw and path in OPTIONAL_BODY:
                continue
            yield Probe(f"body: POST {path} {name}", "POST", path, who, expect, raw=raw,
                        headers={**headers, "Content-Type": kind})


def type_probes() -> Iterator[Probe]:
    bases = {path: (who, body, headers) for path, who, body, headers in POST_ROUTES}
    for path, dotted, values in WRONG_TYPES:
        who, base, headers = bases[path]
        for value in values:
            yield Probe(f"type: POST {path} {dotted}={json.dumps(value)[:30]}", "POST", path, who,
                        Expect((422,), field=dotted), body=set_path(base, dotted, value), headers=headers)


def issue18_input_probes() -> Iterator[Probe]:
    for name, dotted, value in LOOK_ALIKES:
        yield Probe(f"digits: {name}", "POST", "/dossiers", "citizen", Expect((422,), field=dotted),
                    body=set_path(SUBMISSION, dotted, value), headers=KEY)
    for name, dotted, value in HIDDEN_CHARACTERS:
        top = dotted.split("[")[0].split(".")[0] if dotted.startswith(("form", "attachments")) else dotted
        yield Probe(f"hidden: {name}", "POST", "/dossiers", "citizen", Expect((422,), field=dotted),
                    body=set_path(SUBMISSION, top, value), headers=KEY)
    for name, file_name in UPLOAD_NAMES:
        yield Probe(f"hidden: upload name with {name}", "POST", "/uploads", "citizen", Expect((422,), field="name"),
                    body={"name": file_name, "content_type": "application/pdf", "size": 9})
    for number in NON_FINITE:
        for path, who, base, headers in POST_ROUTES[:3]:
            raw = json.dumps({**base, "form": {"x": "N"}}, ensure_ascii=False).replace('"N"', number).encode()
            yield Probe(f"numbers: POST {path} with {number}", "POST", path, who, Expect((400,), "non_finite_number"),
                        raw=raw, headers={**headers, "Content-Type": "application/json"})
    for value in EDGES_OF_TIME:
        yield Probe(f"time: issue_result effective_at {value}", "POST", "/dossiers/{timely}/actions", "officer:commune",
                    Expect((422,), field="effective_at"), body={
                        "action": "issue_result", "decision": "approved", "effective_at": value,
                        "documents": [{"upload_id": "@officer_upload", "name": "kq.pdf"}]})
    for value in EDGES_OF_TIME[:2]:
        for field in ("finished_at", "returned_at"):
            yield Probe(f"time: correction of {field} to {value}", "POST", "/dossiers/{returned}/corrections",
                        "officer:commune", Expect((422,), field="value"), body={
                            "field": field, "value": value, "reason": "Ghi nhầm", "evidence_upload_id": "@officer_upload"})


def other_probes() -> Iterator[Probe]:
    for name, method, path, who, body, expect in ABUSE:
        yield Probe(f"abuse: {name}", method, path, who, expect, body=body, headers=KEY if path == "/dossiers" else {})
    for method, path, who, body in UNKNOWN:
        yield Probe(f"unknown: {method} {path} as {who or 'anyone'}", method, path, who, Expect((404,)), body=body)
    for fixture, who, suffix, body in OFF_GRAPH:
        action = body.get("action", suffix.strip("/")) if isinstance(body, dict) else suffix.strip("/")
        yield Probe(f"graph: {action} on a {fixture} dossier", "POST", f"/dossiers/{{{fixture}}}{suffix}", who,
                    Expect((409,)), body=body)
    for path, who, param in QUERIES:
        tracking = path.startswith("/track")   # tracking tells nothing apart: a wrong code or digits is 404
        yield Probe(f"query: GET {path}", "GET", path, who,
                    Expect((404, 422) if tracking else (400, 422), field=None if tracking else param))
    for name, headers in IDEMPOTENCY_KEYS:
        yield Probe(f"idempotency: POST /dossiers with the key {name}", "POST", "/dossiers", "citizen",
                    Expect((400, 422)), body=SUBMISSION, headers=headers)


def probes(contract: Mapping[str, Any]) -> list[Probe]:
    """Every probe of every table, in a fixed order."""
    return [*auth_probes(contract), *public_probes(contract), *role_probes(), *scope_probes(contract),
            *method_probes(contract), *query_fuzz_probes(contract),
            *path_fuzz_probes(contract), *body_probes(), *type_probes(),
            *issue18_input_probes(), *other_probes()]
