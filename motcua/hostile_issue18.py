"""Issue 18's findings as the outside client saw them (motcua/hostile.py): the rush,
simultaneous connections, a dossier grown to every limit, money on withdrawn and stopped
dossiers, and the server's log.
"""
from __future__ import annotations

import re
import socket
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

import requests

from motcua.hostile_kit import Result, error_of, summary
from motcua.hostile_checks import APPLICANT

from motcua.hostile_world import EMOJI, JUDICIAL, World, answered, outcome, within_bounds

RUSH_SUBMISSIONS, RUSH_CONNECTIONS = 200, 20     # issue 18's target
SIMULTANEOUS_CONNECTIONS = 100                    # issue 18's target

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
