"""The hostile run's scenarios (motcua/hostile.py): checks that take more than one request.

The races and replays a fair hostile client tries, forged provider callbacks, another site's
origin, requests no HTTP library sends; issue 18's own findings are in
motcua/hostile_issue18.py. And the order of the run.
"""
from __future__ import annotations

import socket
import threading
import unicodedata
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import requests

from motcua.hostile_kit import ABSENT, Result, broken_rule, summary
from motcua.hostile_checks import APPLICANT, SUBMISSION
from motcua.hostile_issue18 import connections, jam, logs, money, rush
from motcua.hostile_world import SetupFailed, World, answered, make_fixtures, outcome

# --- races and replays ---------------------------------------------------------------------

def at_once(calls: list[Callable[[], requests.Response]]) -> list[requests.Response]:
    together = threading.Barrier(len(calls), timeout=30)

    def go(call: Callable[[], requests.Response]) -> requests.Response:
        together.wait()
        return call()
    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(go, calls))


def races(world: World) -> list[Result]:
    results: list[Result] = []
    for label, code, who, path, body in (
            ("accept", world.dossier(), "officer:commune", "accept", ABSENT),
            ("withdraw", world.dossier(), "citizen", "actions", {"action": "withdraw"}),
            ("issue_result", world.accepted(), "officer:commune", "actions",
             {"action": "issue_result", "decision": "approved", "documents": [world.upload("officer:commune")]})):
        def twice(c: str = code, w: str = who, p: str = path, b: Any = body) -> requests.Response:
            return world.call("POST", f"/dossiers/{c}/{p}", w, body=b)
        answers = at_once([twice, twice])
        statuses = sorted(a.status_code for a in answers)
        broken = [b for b in (broken_rule(a, "") for a in answers) if b]
        results.append(outcome(f"race: the same {label} twice at once", "200 and 409",
                               " and ".join(map(summary, answers)) + (f"  <- {broken}" if broken else ""),
                               statuses == [200, 409] and not broken))
    return results


def normal_form(world: World) -> list[Result]:
    """A name typed with combining marks (NFD) is the same name as the precomposed one: stored
    and answered in NFC, so search, the national portal and SMS see one spelling."""
    typed = unicodedata.normalize("NFD", "Nguyễn Thị Ánh Tuyết")
    code = world.dossier(applicant={**APPLICANT, "full_name": typed})
    read = world.call("GET", f"/dossiers/{code}", "citizen").json()["applicant"]["full_name"]
    return [outcome("text: a name typed in NFD", "read back in NFC", "NFC" if read == unicodedata.normalize(
        "NFC", typed) else repr(read), read == unicodedata.normalize("NFC", typed))]


def replays(world: World) -> list[Result]:
    key = f"hostile-replay-{uuid.uuid4().hex}"
    first, again = world.submit(key=key), world.submit(key=key)
    same = first.status_code == again.status_code == 201 and \
        first.json()["dossier_code"] == again.json()["dossier_code"]
    results = [outcome("replay: the same Idempotency-Key and body twice", "201, 201, the same dossier",
                       f"{summary(first)}, {summary(again)}" + (", same dossier" if same else ", not the same"), same)]
    results.append(answered("replay: the same Idempotency-Key with another body", world.submit(
        key=key, summary="Một nội dung khác"), (422,)))
    together_key = f"hostile-together-{uuid.uuid4().hex}"
    both = at_once([lambda: world.submit(key=together_key)] * 2)
    codes = {a.json().get("dossier_code") for a in both if a.status_code == 201}
    fine = all(a.status_code in (201, 409) and not broken_rule(a, "") for a in both) and len(codes) == 1
    results.append(outcome("replay: the same Idempotency-Key twice at once", "one dossier (201s, or 201 and 409)",
                           " and ".join(map(summary, both)) + f", {len(codes)} dossier(s)", fine))
    desk_key = f"hostile-desk-{uuid.uuid4().hex}"
    desk_body = {**SUBMISSION, "channel": "direct", "consent": True}
    desk = [world.call("POST", "/desk/dossiers", "officer:commune", body=desk_body, headers={"Idempotency-Key": desk_key})
            for _ in range(2)]
    same_desk = all(d.status_code == 201 for d in desk) and len({d.json()["dossier_code"] for d in desk}) == 1
    results.append(outcome("replay: a desk submission twice with one key", "201, 201, the same dossier",
                           ", ".join(map(summary, desk)), same_desk))
    return results


# --- forged provider callbacks ---------------------------------------------------------------

def forged_callbacks(world: World) -> list[Result]:
    """A provider's callback is believed on its signature alone: a forged VNPay IPN for the
    run's own pending payment (its real reference and amount, "paid", a made-up signature) and
    an unsigned PayGov confirmation change nothing and are answered in the provider's format."""
    query = dict(parse_qsl(urlsplit(world.fixtures["pay_url"]).query))
    forged = {key: value for key, value in query.items() if key != "vnp_SecureHash"} | {
        "vnp_ResponseCode": "00", "vnp_TransactionStatus": "00", "vnp_TransactionNo": "14000001",
        "vnp_SecureHash": "0" * 128}
    ipn = world.call("GET", "/payments/vnpay/ipn?" + urlencode(forged))
    payment = world.call("GET", f"/payments/{world.fixtures['payment']}", "citizen").json()
    refused = ipn.status_code == 200 and ipn.json().get("RspCode") == "97" and payment.get("status") == "pending"
    results = [outcome("ipn: a forged VNPay IPN for the run's pending payment", "RspCode 97, still pending",
                       f"{ipn.status_code} {ipn.text[:60]}, payment {payment.get('status')}", refused)]
    for raw in (b'{"MaGiaoDich": "x", "TrangThai": "1"}', b"garbage"):
        confirm = world.call("POST", "/payments/providers/paygov/ipn", raw=raw, headers={"Content-Type": "application/json"})
        refused = confirm.status_code == 200 and confirm.json().get("MaLoi") == "97"
        results.append(outcome(f"ipn: an unsigned PayGov confirmation ({raw[:20].decode()})", "MaLoi 97",
                               f"{confirm.status_code} {confirm.text[:60]}", refused))
    return results


# --- browsers of another site ---------------------------------------------------------------

FOREIGN_ORIGIN = "https://evil.example"


def foreign_origin(world: World) -> list[Result]:
    """A page on another site may not read the API's answers: no Access-Control-Allow-Origin
    for its origin, nor ``*`` (the API admits the stage's portal_origin only)."""
    results = []
    for label, method, path, extra in (
            ("a read", "GET", "/procedures", {}),
            ("a citizen's read", "GET", "/dossiers", {"Authorization": f"Bearer {world.client.tokens.get('citizen')}"}),
            ("a preflight", "OPTIONS", "/dossiers", {"Access-Control-Request-Method": "POST",
                                                    "Access-Control-Request-Headers": "authorization"})):
        answer = world.call(method, path, headers={"Origin": FOREIGN_ORIGIN, **extra})
        allowed = answer.headers.get("Access-Control-Allow-Origin")
        results.append(outcome(f"cors: {label} from {FOREIGN_ORIGIN}", "not admitted",
                               f"{answer.status_code}, Access-Control-Allow-Origin: {allowed}",
                               answer.status_code < 500 and allowed not in (FOREIGN_ORIGIN, "*")))
    return results


# --- what reaches the server before the API: the gateway's answers -------------------------

RAW_REQUESTS: list[tuple[str, bytes, int]] = [   # (what, the request's bytes up to the body, expected status)
    ("a Content-Length that is no number", b"POST /dossiers HTTP/1.1\r\nContent-Length: abc\r\n", 400),
    ("a path no route serves", b"GET /no/such/route HTTP/1.1\r\n", 404),
    ("a path no route serves, with a token", b"GET /no/such/route HTTP/1.1\r\nAuthorization: Bearer secret-abc\r\n", 404),
    ("a path no route serves, with a token that is not ASCII",
     b"GET /no/such/route HTTP/1.1\r\nAuthorization: Bearer \xff\xfe\r\n", 404),
    ("a token that is not ASCII", b"GET /dossiers HTTP/1.1\r\nAuthorization: Bearer \xff\xfe\r\n", 401),
    ("a tracking code that is not UTF-8", b"GET /track/%ff?phone_last4=1234 HTTP/1.1\r\n", 404),
]


def raw_answer(api: str, request: bytes) -> tuple[int, str]:
    """Send ``request`` as it is (what no HTTP library sends) and read the whole answer."""
    where = urlsplit(api)
    with socket.create_connection((where.hostname, where.port or 80), timeout=20) as conn:
        conn.sendall(request + b"Host: x\r\nConnection: close\r\n\r\n")
        answer = b""
        while chunk := conn.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1]) if head.startswith(b"HTTP/") else 0
    return status, body.decode("utf-8", "replace")


def raw_requests(world: World) -> list[Result]:
    """Requests no HTTP library sends: each answered in the API's error shape, none dropped,
    and no answer repeats the caller's token."""
    results = []
    for what, request, expected in RAW_REQUESTS:
        try:
            status, body = raw_answer(world.client.api, request)
        except OSError as error:
            status, body = 0, f"no answer: {type(error).__name__}"
        response = requests.Response()
        response.status_code, response._content = status, body.encode()
        response.headers["Content-Type"] = "application/json" if body.startswith("{") else "text/plain"
        row = answered(f"raw: {what}", response, (expected,) if status else ())
        leaked = "secret-abc" in body
        results.append(Result(row.check, row.expected, row.got + ("  <- repeats the token" if leaked else "")
                              if status else body, row.passed and not leaked and status != 0))
    return results


# --- the order of the run ------------------------------------------------------------------

def guarded(name: str, scenario: Callable[[], list[Result]]) -> list[Result]:
    """A scenario's rows, or one failed row saying where it broke (the run goes on)."""
    try:
        return scenario()
    except SetupFailed as error:
        return [outcome(f"{name}: setup", "each step answered", str(error)[:300], False)]
    except (requests.RequestException, ValueError, KeyError) as error:
        return [outcome(f"{name}: setup", "each step answered", f"{type(error).__name__}: {error}"[:300], False)]


def run_before_probes(world: World) -> list[Result]:
    """The fixtures first (the probes need them), then the load checks on a quiet stack."""
    results = guarded("fixtures", lambda: make_fixtures(world))
    if results and not results[0].passed:
        raise SystemExit("the hostile run could not make its own dossiers:\n" + results[0].got)
    return results + guarded("rush", lambda: rush(world)) + guarded("connections", lambda: connections(world))


def run_after_probes(world: World, log: Callable[[], str] | None) -> list[Result]:
    return [*guarded("jam", lambda: jam(world)), *guarded("money", lambda: money(world)),
            *guarded("race", lambda: races(world)), *guarded("replay", lambda: replays(world)),
            *guarded("text", lambda: normal_form(world)),
            *guarded("raw", lambda: raw_requests(world)), *guarded("ipn", lambda: forged_callbacks(world)),
            *guarded("cors", lambda: foreign_origin(world)),
            *guarded("log", lambda: logs(world, log))]
