"""The hostile run's scenarios (motcua/hostile.py): checks that take more than one request.

Issue 18's findings as the outside client saw them (the rush, simultaneous connections, a
dossier grown to every limit, money on withdrawn and stopped dossiers, the server's log), and
the races and replays a fair hostile client tries. ``World`` holds the run's own dossiers,
made over HTTP like any client's, which the probe tables name as fixtures.
"""
from __future__ import annotations

import re
import socket
import threading
import time
import unicodedata
import uuid
from collections import Counter
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit

import requests

from motcua.hostile_kit import ABSENT, Client, Result, broken_rule, error_of, summary
from motcua.hostile_checks import APPLICANT, COMMUNE, SUBMISSION

JUDICIAL = "1.001023"   # Sở Tư pháp, 200,000 đ paid before acceptance
PDF = b"%PDF-1.4\n"
RUSH_SUBMISSIONS, RUSH_CONNECTIONS = 200, 20     # issue 18's target
SIMULTANEOUS_CONNECTIONS = 100                    # issue 18's target
EMOJI = "\U0001F600"
WITHIN = "2xx, or a 4xx naming the cause"


class SetupFailed(Exception):
    """A step a scenario needs did not work: the scenario fails with this answer."""


class World:
    """The run's own dossiers, uploads and payments, made through the API."""

    def __init__(self, client: Client) -> None:
        self.client = client
        self.fixtures: dict[str, str] = {}

    def call(self, method: str, path: str, who: str | None = None, **kwargs: Any) -> requests.Response:
        return self.client.call(method, path, who, **kwargs)

    def need(self, response: requests.Response, status: int, what: str) -> Any:
        if response.status_code != status:
            raise SetupFailed(f"{what}: {summary(response)} {response.text[:200]}")
        return response.json()

    def submit(self, who: str = "citizen", key: str | None = None, **body: Any) -> requests.Response:
        return self.call("POST", "/dossiers", who, body={**SUBMISSION, **body},
                         headers={"Idempotency-Key": key or uuid.uuid4().hex})

    def dossier(self, who: str = "citizen", **body: Any) -> str:
        return str(self.need(self.submit(who, **body), 201, "submit")["dossier_code"])

    def upload(self, who: str, name: str = "don.pdf") -> dict[str, str]:
        issued = self.need(self.call("POST", "/uploads", who, body={
            "name": name, "content_type": "application/pdf", "size": len(PDF)}), 201, "upload")
        stored = requests.put(issued["upload_url"], data=PDF, headers=issued["headers"], timeout=30)
        if stored.status_code != 200:
            raise SetupFailed(f"storing an upload: {stored.status_code}")
        return {"upload_id": issued["upload_id"], "name": name}

    def uploads(self, who: str, count: int) -> list[dict[str, str]]:
        with ThreadPoolExecutor(4) as pool:
            return list(pool.map(lambda n: self.upload(who, f"tep-{n}.pdf"), range(count)))

    def act(self, code: str, who: str, action: str, **body: Any) -> requests.Response:
        return self.call("POST", f"/dossiers/{code}/actions", who, body={"action": action, **body})

    def accepted(self, officer: str = "officer:commune", **body: Any) -> str:
        code = self.dossier(**body)
        self.need(self.call("POST", f"/dossiers/{code}/accept", officer), 200, "accept")
        return code

    def finished(self) -> str:
        code = self.accepted()
        self.need(self.act(code, "officer:commune", "issue_result", decision="approved",
                           documents=[self.upload("officer:commune", "ket-qua.pdf")]), 200, "issue_result")
        return code

    def paid(self, procedure: str = JUDICIAL) -> str:
        """A dossier whose fees the citizen paid on the VNPay simulator's checkout page."""
        code = self.dossier(procedure_code=procedure)
        payment = self.need(self.call("POST", f"/dossiers/{code}/payments", "citizen", body={}), 201, "payment")
        page = requests.get(payment["pay_url"], timeout=30)
        form = re.search(r'<form method="post" action="([^"]+)"><input type="hidden" name="checkout" '
                         r'value="([0-9a-f]+)"><input type="hidden" name="outcome" value="success">', page.text)
        if form is None:
            raise SetupFailed("no success button on the VNPay simulator's checkout page")
        requests.post(urljoin(payment["pay_url"], form.group(1)), data={"checkout": form.group(2),
                      "outcome": "success"}, allow_redirects=False, timeout=30)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:   # the simulator's IPN reaches the API on its own
            if self.call("GET", f"/dossiers/{code}", "citizen").json().get("payment_status") == "paid":
                return code
            time.sleep(0.3)
        raise SetupFailed(f"{code} not paid 30 s after the simulator's IPN")


def outcome(check: str, expected: str, got: str, passed: bool) -> Result:
    return Result(check, expected, got, passed)


def answered(check: str, response: requests.Response, statuses: Iterable[int], path: str = "") -> Result:
    """One answer: its status among ``statuses`` and within the rules every answer keeps."""
    wanted = tuple(statuses)
    broken = broken_rule(response, path)
    got = summary(response) + (f"  <- {broken}" if broken else "")
    return outcome(check, "/".join(map(str, wanted)), got, response.status_code in wanted and broken is None)


def within_bounds(check: str, response: requests.Response) -> Result:
    """Taken (2xx), or refused with a 4xx that says why (a code and, for a 422, the fields)."""
    error = error_of(response)
    fine = response.status_code in (200, 201) or (
        400 <= response.status_code < 500 and bool(error.get("code"))
        and (response.status_code != 422 or bool(error.get("fields"))))
    broken = broken_rule(response, "")
    return outcome(check, WITHIN, summary(response) + (f"  <- {broken}" if broken else ""), fine and not broken)


# --- the run's own dossiers ---------------------------------------------------------------

def make_fixtures(world: World) -> list[Result]:
    """The dossiers, uploads, payment and feedback the probe tables act on."""
    f = world.fixtures
    f["upload"] = world.upload("citizen")["upload_id"]
    f["officer_upload"] = world.upload("officer:commune")["upload_id"]
    f["own"] = world.dossier()
    f["accepted"], f["timely"] = world.accepted(), world.accepted()
    f["asked"] = world.accepted()
    world.need(world.act(f["asked"], "officer:commune", "request_supplement", reason="Thiếu bản vẽ",
                         documents=["Bản vẽ"]), 200, "request_supplement")
    f["withdrawn"] = world.dossier()
    world.need(world.act(f["withdrawn"], "citizen", "withdraw"), 200, "withdraw")
    f["finished"], f["returned"] = world.finished(), world.finished()
    world.need(world.act(f["returned"], "officer:commune", "return_result", method="desk"), 200, "return_result")
    payment = world.need(world.call("POST", f"/dossiers/{f['accepted']}/payments", "citizen", body={}), 201, "payment")
    f["payment"], f["pay_url"] = payment["payment_id"], payment["pay_url"]
    feedback = world.need(world.call("POST", "/feedback", "citizen", body={
        "kind": "procedure", "title": "Góp ý", "content": "Thủ tục rườm rà", "agency_id": COMMUNE}), 201, "feedback")
    f["feedback"] = feedback.get("feedback_id") or feedback["id"]
    return [outcome("setup: the run's own dossiers, payment, feedback and uploads", "made over HTTP",
                    ", ".join(sorted(f)), True)]


# --- issue 18: busy ------------------------------------------------------------------------

def rush(world: World) -> list[Result]:
    """200 submissions to one agency over 20 connections at once: each 201, each its own code."""
    def submit(n: int) -> tuple[int, str]:
        answer = world.submit("rush", key=f"hostile-rush-{uuid.uuid4().hex[:12]}-{n}")
        return answer.status_code, str(answer.json().get("dossier_code", summary(answer)))
    started = time.monotonic()
    with ThreadPoolExecutor(RUSH_CONNECTIONS) as pool:
        answers = list(pool.map(submit, range(RUSH_SUBMISSIONS)))
    statuses = Counter(status for status, _ in answers)
    codes = {code for status, code in answers if status == 201}
    got = f"{dict(statuses)}, {len(codes)} distinct codes in {time.monotonic() - started:.0f} s"
    return [outcome(f"rush: {RUSH_SUBMISSIONS} submissions to one agency over {RUSH_CONNECTIONS} connections",
                    f"{RUSH_SUBMISSIONS} x 201, distinct codes", got,
                    statuses == {201: RUSH_SUBMISSIONS} and len(codes) == RUSH_SUBMISSIONS)]


def connections(world: World) -> list[Result]:
    """100 clients connect at the same moment: every one is answered, none reset."""
    where = urlsplit(world.client.api)
    together = threading.Barrier(SIMULTANEOUS_CONNECTIONS, timeout=30)
    lines: list[bytes] = []
    failures: list[str] = []

    def connect() -> None:
        try:
            together.wait()
            with socket.create_connection((where.hostname, where.port or 80), timeout=20) as conn:
                conn.sendall(b"GET /openapi.json HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                answer = b""
                while chunk := conn.recv(65536):   # the whole answer, as a client does
                    answer += chunk
                lines.append(answer.split(b"\r\n", 1)[0])
        except (OSError, threading.BrokenBarrierError) as error:
            failures.append(type(error).__name__)

    threads = [threading.Thread(target=connect) for _ in range(SIMULTANEOUS_CONNECTIONS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    ok = sum(b" 200" in line for line in lines)
    return [outcome(f"connections: {SIMULTANEOUS_CONNECTIONS} simultaneous connects", "all 200, none reset",
                    f"{ok} x 200, failures {dict(Counter(failures))}", ok == SIMULTANEOUS_CONNECTIONS and not failures)]


# --- issue 18: a dossier grown to every limit ----------------------------------------------

def named(response: requests.Response, prefix: str) -> bool:
    return any(key == prefix or key.startswith((prefix + ".", prefix + "[")) for key in error_of(response).get("fields") or {})


def jam(world: World) -> list[Result]:
    """Issue 18's maximal submission, then the largest the API takes, then supplement rounds
    until the API says no more: never a 5xx, every refusal names its cause, and the dossier
    still gets its result."""
    results: list[Result] = []
    files = world.uploads("citizen", 30)
    form_chars, summary_chars, name_chars, count = 64_000, 1000, 255, 30

    def attempt() -> requests.Response:
        attached = [{"upload_id": f["upload_id"], "name": f"{n:03d}" + EMOJI * (name_chars - 3)}
                    for n, f in enumerate(files[:count])]
        return world.submit(form={"x": EMOJI * form_chars}, summary=EMOJI * summary_chars, attachments=attached)

    answer = attempt()
    results.append(within_bounds("jam: issue 18's submission (64,000 emoji in form, 30 files, 255-character names)",
                                 answer))
    for _ in range(12):   # a fair client shrinks what the API named, until it is taken
        if answer.status_code != 422:
            break
        fields = error_of(answer).get("fields") or {}
        form_chars = form_chars // 2 if named(answer, "form") else form_chars
        summary_chars = summary_chars // 2 if "summary" in fields else summary_chars
        name_chars = max(4, name_chars // 2) if any(re.fullmatch(r"attachments\[\d+\]\.name", k) for k in fields) \
            else name_chars
        count = count // 2 if "attachments" in fields else count
        answer = attempt()
    results.append(answered(f"jam: the largest submission taken (form {form_chars} emoji, {count} files, "
                            f"names {name_chars} characters)", answer, (201,)))
    if answer.status_code != 201:
        return results
    code = answer.json()["dossier_code"]
    world.need(world.call("POST", f"/dossiers/{code}/accept", "officer:commune"), 200, "accept")
    results += supplement_rounds(world, code)
    issued = world.act(code, "officer:commune", "issue_result", decision="approved",
                       documents=[world.upload("officer:commune", "ket-qua.pdf")])
    results.append(answered("jam: the grown dossier still gets its result", issued, (200,)))
    return results


def supplement_rounds(world: World, code: str) -> list[Result]:
    """Supplement rounds with the largest request and the most files the API takes, until it
    refuses another round (409/422 naming the cause) or eight rounds passed."""
    results: list[Result] = []
    reason_chars, documents, files = 500, 30, 30
    for round_ in range(1, 9):
        asked = world.act(code, "officer:commune", "request_supplement", reason=EMOJI * reason_chars,
                          documents=[EMOJI * 17] * documents)
        while asked.status_code == 422 and (named(asked, "reason") or named(asked, "documents")) and reason_chars > 1:
            reason_chars, documents = reason_chars // 2, max(1, documents // 2)
            asked = world.act(code, "officer:commune", "request_supplement", reason=EMOJI * reason_chars,
                              documents=[EMOJI * 17] * documents)
        if asked.status_code != 200:
            results.append(within_bounds(f"jam: supplement round {round_} refused once past the limit", asked))
            return results
        uploaded = world.uploads("citizen", files)
        supplied = world.call("POST", f"/dossiers/{code}/supplements", "citizen", body={"attachments": [
            {"upload_id": f["upload_id"], "name": f"{n:03d}" + EMOJI * 63} for n, f in enumerate(uploaded)]})
        while supplied.status_code == 422 and named(supplied, "attachments") and files > 1:
            files -= 1   # one at a time: the most files a supplement takes
            supplied = world.call("POST", f"/dossiers/{code}/supplements", "citizen", body={"attachments": [
                {"upload_id": f["upload_id"], "name": f"{n:03d}" + EMOJI * 63} for n, f in enumerate(uploaded[:files])]})
        results.append(answered(f"jam: supplement round {round_} ({reason_chars}-emoji reason, {files} files)",
                                supplied, (200,)))
        if supplied.status_code != 200:
            return results
    results.append(outcome("jam: supplement rounds end", "refused within 8 rounds", "8 rounds taken", False))
    return results


# --- issue 18: money on withdrawn and stopped dossiers -------------------------------------

def money(world: World) -> list[Result]:
    results: list[Result] = []
    withdrawn = world.paid()
    world.need(world.act(withdrawn, "citizen", "withdraw"), 200, "withdraw a paid dossier")
    stopped = world.paid()
    world.need(world.call("POST", f"/dossiers/{stopped}/accept", "officer:justice"), 200, "accept a paid dossier")
    world.need(world.act(stopped, "officer:justice", "stop", reason="Hồ sơ giả mạo"), 200, "stop")
    unpaid = world.dossier(procedure_code=JUDICIAL)
    world.need(world.act(unpaid, "citizen", "withdraw"), 200, "withdraw an unpaid dossier")
    for label, code in (("withdrawn paid", withdrawn), ("stopped paid", stopped), ("withdrawn unpaid", unpaid)):
        results.append(answered(f"money: online payment on a {label} dossier", world.call(
            "POST", f"/dossiers/{code}/payments", "citizen", body={}), (409,)))
        results.append(answered(f"money: counter payment on a {label} dossier", world.call(
            "POST", f"/dossiers/{code}/payments", "officer:justice", body={
                "provider": "counter", "method": "cash", "amount": 200_000, "reference": "PT-HOSTILE"}), (409,)))
    pending = world.call("GET", "/finance/refunds/pending", "finance")
    for label, code in (("withdrawn", withdrawn), ("stopped", stopped)):
        listed = pending.status_code == 200 and code in pending.text
        results.append(outcome(f"money: the {label} paid dossier is on /finance/refunds/pending",
                               "listed", "listed" if listed else f"{summary(pending)}, not listed", listed))
    results.append(outcome("money: the unpaid withdrawn dossier is not on the to-refund list", "not listed",
                           "listed" if unpaid in pending.text else "not listed", unpaid not in pending.text))
    return results


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


# --- issue 18: the server's log keeps no secret --------------------------------------------

SECRETS_IN_LOGS = {
    "phone_last4 with digits": re.compile(r"phone_last4=[0-9]"),
    "bearer token": re.compile(r"eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}"),
    "applicant's id number": re.compile(APPLICANT["id_number"]),   # every dossier of the run has it
    "applicant's phone": re.compile(APPLICANT["phone"]),
}
TRACKING_LOGGED = re.compile(r"/track/[^ ?\"]+\?phone_last4=")   # the access log's line of a tracking request


def logs(world: World, log: Callable[[], str] | None) -> list[Result]:
    code, last4 = world.fixtures["own"], APPLICANT["phone"][-4:]
    results = [answered("track: the code with the right digits", world.call("GET", f"/track/{code}?phone_last4={last4}"),
                        (200,)),
               answered("track: the code with other digits", world.call("GET", f"/track/{code}?phone_last4=0000"),
                        (404,))]
    if log is None:
        return results + [Result(f"log: no {name} in the server's output", "none", "skipped: no log (--log FILE)",
                                 True, skipped=True) for name in SECRETS_IN_LOGS]
    time.sleep(1.0)   # the stack prints the requests above
    text = log()
    seen = len(TRACKING_LOGGED.findall(text))
    results.append(Result("log: the tracking requests are in the log (so the checks below see them)", "logged",
                          f"{seen} lines" if seen else "skipped: the access log is off (motcua local --verbose)",
                          True, skipped=not seen))
    for name, pattern in SECRETS_IN_LOGS.items():
        found = pattern.findall(text)
        results.append(outcome(f"log: no {name} in the server's output ({len(text.splitlines())} lines)", "none",
                               f"{len(found)} found" + (f", e.g. {found[0][:40]}" if found else ""), not found))
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
