"""Load on the local stack: `python -m motcua.soak --duration 120 --citizens 8` (`make soak`).

N citizen threads each loop, until the duration is up: submit a dossier whose fees are due
before acceptance, open a payment, pay on the VNPay simulator's checkout page (the simulator
then sends the IPN to the API), wait until the dossier is paid, and look it up on the public
tracking page (code + last 4 phone digits). Officer threads take the
paid dossiers: accept, upload the result, issue_result, return_result. Everything is HTTP on
loopback, against a `motcua local` this script starts (and stops, by its own PID) or an
already running one (`--api`, e.g. `make run`'s).

Then it checks that nothing was lost: every dossier's events 1..version reached the bus (the
local tap queue), the report's received/resolved counts equal what was done, and
`motcua reports verify` recounts the same report from the dossiers. Exit 1 on any 5xx, any
unexpected status, any lost event or any report mismatch. Bounded: the duration, a cap on
dossiers per citizen, and fixed waits for draining.
"""
from __future__ import annotations

import argparse
import json
import os
import queue
import re
import signal
import statistics
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from collections.abc import Callable
from urllib.parse import urljoin
from zoneinfo import ZoneInfo

import requests

# Fees due before acceptance, no internal steps, three agencies: the whole citizen + officer path.
PROCEDURES = ("2.000635", "1.011612", "2.001610", "1.009982")
DRAIN_SECONDS = 90          # the citizens' and officers' threads finish within this after the duration
STALL_SECONDS = 60          # the backlog check gives up when nothing moved for this long ...
MAX_CATCH_UP_SECONDS = 900  # ... or at the latest after this
PDF = b"%PDF-1.4\n%soak\n"
LOCAL = ZoneInfo("Asia/Ho_Chi_Minh")
PHONE = "0900000001"
# Public tracking is limited per client IP (MOTCUA_TRACK_PER_IP, 10 a minute by default) and every
# soak citizen is 127.0.0.1: the stack this script starts allows this many a minute instead.
TRACK_PER_IP = 100_000


class Progress:
    """Waiting for the stack to catch up: on while the watched value changes, until it has
    stood still for STALL_SECONDS or MAX_CATCH_UP_SECONDS have passed. A backlog that is
    still shrinking is slow, not lost; one that stopped moving is lost."""

    def __init__(self) -> None:
        self.started = self.moved = time.monotonic()
        self.last: Any = None

    def keep_waiting(self, value: Any) -> bool:
        now = time.monotonic()
        if value != self.last:
            self.last, self.moved = value, now
        return now - self.moved < STALL_SECONDS and now - self.started < MAX_CATCH_UP_SECONDS


@dataclass
class Metrics:
    """Latencies and statuses per operation name; thread-safe."""
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    statuses: dict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))
    errors: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, op: str, seconds: float, status: int, expected: tuple[int, ...], detail: str) -> None:
        with self.lock:
            self.latencies[op].append(seconds)
            self.statuses[op][status] += 1
            if status not in expected:
                self.errors.append(f"{op}: {status} {detail[:300]}")

    def server_errors(self) -> int:
        return sum(n for counts in self.statuses.values() for status, n in counts.items() if status >= 500)

    def unexpected(self) -> int:
        return len(self.errors)


def percentile(values: list[float], q: float) -> float:
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


def table(metrics: Metrics, elapsed: float) -> str:
    lines = [f"{'operation':<16}{'count':>7}{'req/s':>8}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}"
             f"{'5xx':>6}{'other errors':>14}"]
    for op in sorted(metrics.latencies):
        values = metrics.latencies[op]
        fives = sum(n for s, n in metrics.statuses[op].items() if s >= 500)
        other = sum(1 for e in metrics.errors if e.startswith(op + ":")) - fives
        ms = [percentile(values, q) * 1000 for q in (50, 95, 99)]
        lines.append(f"{op:<16}{len(values):>7}{len(values) / elapsed:>8.1f}{ms[0]:>9.0f}{ms[1]:>9.0f}{ms[2]:>9.0f}"
                     f"{fives:>6}{other:>14}")
    return "\n".join(lines)


class Client:
    """HTTP calls with timing: one session per thread (requests.Session is not thread-safe)."""

    def __init__(self, api: str, metrics: Metrics) -> None:
        self.api, self.metrics, self.http = api, metrics, requests.Session()

    def call(self, op: str, method: str, url: str, token: str | None = None, expected: tuple[int, ...] = (200,),
             **kwargs: Any) -> requests.Response:
        headers = kwargs.pop("headers", {})
        if token:
            headers["Authorization"] = f"Bearer {token}"
        started = time.perf_counter()
        response = self.http.request(method, url if url.startswith("http") else self.api + url,
                                     headers=headers, timeout=30, **kwargs)
        self.metrics.record(op, time.perf_counter() - started, response.status_code, expected, response.text)
        return response


class Soak:
    def __init__(self, api: str, token: Callable[..., str], citizens: int, officers: int, duration: float,
                 max_per_citizen: int) -> None:
        self.api, self.token = api, token
        self.citizens, self.officers, self.duration, self.max_per_citizen = citizens, officers, duration, max_per_citizen
        self.metrics = Metrics()
        self.paid: queue.Queue[tuple[str, str] | None] = queue.Queue()   # (dossier code, procedure)
        self.done: dict[str, str] = {}          # dossier code -> final status seen by the script
        self.submitted: list[str] = []
        self.lock = threading.Lock()
        self.catalogue: dict[str, str] = {}     # procedure code -> agency id

    # --- citizens ---

    def citizen(self, index: int, deadline: float) -> None:
        client = Client(self.api, self.metrics)
        token = self.token("citizen", sub=f"soak-citizen-{index}-{uuid.uuid4().hex[:6]}")
        for n in range(self.max_per_citizen):
            if time.monotonic() >= deadline:
                return
            try:
                self.one_citizen_dossier(client, token, PROCEDURES[(index + n) % len(PROCEDURES)])
            except Exception as exc:
                with self.metrics.lock:
                    self.metrics.errors.append(f"citizen: {type(exc).__name__}: {exc}"[:300])

    def one_citizen_dossier(self, client: Client, token: str, procedure: str) -> None:
        body = {"procedure_code": procedure, "summary": "Hồ sơ thử tải",
                "applicant": {"full_name": "Phạm Văn Tải", "id_number": "001090000001", "phone": PHONE}}
        created = client.call("submit", "POST", "/dossiers", token, expected=(201,), json=body,
                              headers={"Idempotency-Key": uuid.uuid4().hex})
        if created.status_code != 201:
            return
        code = created.json()["dossier_code"]
        with self.lock:
            self.submitted.append(code)
        payment = client.call("create_payment", "POST", f"/dossiers/{code}/payments", token, expected=(201,))
        if payment.status_code != 201:
            return
        page = client.call("sim_checkout", "GET", payment.json()["pay_url"])
        form = re.search(r'<form method="post" action="([^"]+)"><input type="hidden" name="checkout" '
                         r'value="([0-9a-f]+)"><input type="hidden" name="outcome" value="success">', page.text)
        if not form:
            raise RuntimeError("no success button on the simulator's checkout page")
        client.call("sim_pay", "POST", urljoin(payment.json()["pay_url"], form.group(1)), expected=(302,),
                    data={"checkout": form.group(2), "outcome": "success"}, allow_redirects=False)
        wait_until = time.monotonic() + 30
        while time.monotonic() < wait_until:   # the IPN arrives asynchronously from the simulator
            dossier = client.call("read_dossier", "GET", f"/dossiers/{code}", token)
            if dossier.status_code == 200 and dossier.json().get("payment_status") == "paid":
                self.paid.put((code, procedure))
                client.call("track", "GET", f"/track/{code}?phone_last4={PHONE[-4:]}")
                return
            time.sleep(0.2)
        raise RuntimeError(f"{code}: not paid 30 s after the simulator's IPN")

    # --- officers ---

    def officer(self) -> None:
        client = Client(self.api, self.metrics)
        tokens: dict[str, str] = {}
        while (item := self.paid.get()) is not None:
            code, procedure = item
            try:
                agency = self.catalogue[procedure]
                token = tokens.setdefault(agency, self.token("officer", agency=agency))
                self.process(client, token, code)
            except Exception as exc:
                with self.metrics.lock:
                    self.metrics.errors.append(f"officer: {type(exc).__name__}: {exc}"[:300])

    def process(self, client: Client, token: str, code: str) -> None:
        if client.call("accept", "POST", f"/dossiers/{code}/accept", token).status_code != 200:
            return
        upload = client.call("upload", "POST", "/uploads", token, expected=(201,),
                             json={"name": "ket-qua.pdf", "content_type": "application/pdf", "size": len(PDF)}).json()
        client.call("s3_put", "PUT", upload["upload_url"], data=PDF, headers=upload["headers"])
        issued = client.call("issue_result", "POST", f"/dossiers/{code}/actions", token, json={
            "action": "issue_result", "decision": "approved",
            "documents": [{"upload_id": upload["upload_id"], "name": "Kết quả.pdf"}]})
        if issued.status_code != 200:
            return
        returned = client.call("return_result", "POST", f"/dossiers/{code}/actions", token,
                               json={"action": "return_result", "method": "online"})
        if returned.status_code == 200:
            with self.lock:
                self.done[code] = returned.json()["status"]

    # --- run ---

    def run(self) -> float:
        procedures = requests.get(self.api + "/procedures", timeout=30).json()["items"]
        self.catalogue = {p["procedure_code"]: p["agency_id"] for p in procedures}
        started = time.monotonic()
        deadline = started + self.duration
        citizens = [threading.Thread(target=self.citizen, args=(i, deadline), name=f"citizen-{i}")
                    for i in range(self.citizens)]
        officers = [threading.Thread(target=self.officer, name=f"officer-{i}") for i in range(self.officers)]
        for thread in citizens + officers:
            thread.start()
        for thread in citizens:
            thread.join(timeout=self.duration + DRAIN_SECONDS)
        for _ in officers:
            self.paid.put(None)
        for thread in officers:
            thread.join(timeout=DRAIN_SECONDS)
        return time.monotonic() - started


# --- what must hold afterwards ---

def lost_events(api: str, admin: str, codes: list[str], events: Callable[[], list[dict[str, Any]]]) -> list[str]:
    """Each dossier's versions 1..N must all have reached the bus (tap queue), each at least once."""
    expected = {}
    for code in codes:
        expected[code] = requests.get(f"{api}/dossiers/{code}", headers={"Authorization": f"Bearer {admin}"},
                                      timeout=30).json()["version"]
    seen: dict[str, set[int]] = defaultdict(set)
    progress = Progress()
    while True:
        for event in events():
            seen[event["detail"]["dossier_code"]].add(event["detail"]["version"])
        missing = [f"{code}: versions {sorted(set(range(1, v + 1)) - seen[code])} never reached the bus"
                   for code, v in expected.items() if seen[code] != set(range(1, v + 1))]
        if not missing or not progress.keep_waiting(sum(map(len, seen.values()))):
            return missing
        time.sleep(1.0)


def report_problems(api: str, admin: str, day: str, submitted: int, returned: int,
                    verify: Callable[[str, str], tuple[int, str]]) -> list[str]:
    """The report (counters fed by the projection consumer) counts what was done, and equals
    the independent recount of `motcua reports verify`."""
    progress = Progress()
    while True:
        total = requests.get(f"{api}/reports/dossiers?from={day}&to={day}&group_by=agency",
                             headers={"Authorization": f"Bearer {admin}"}, timeout=30).json()["total"]
        counted = (total["received"]["total"], total["resolved"]["total"])
        if counted == (submitted, returned) or not progress.keep_waiting(counted):
            break
        time.sleep(1.0)
    problems = [] if counted == (submitted, returned) else \
        [f"report counts received/resolved {counted}, the soak did {(submitted, returned)}"]
    code, output = verify(day, day)
    if code != 0:
        problems.append("motcua reports verify: " + output.strip()[-2000:])
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m motcua.soak", description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=120, help="seconds of submitting (default 120)")
    parser.add_argument("--citizens", type=int, default=8, help="concurrent citizens (default 8)")
    parser.add_argument("--officers", type=int, default=None, help="concurrent officers (default citizens/2)")
    parser.add_argument("--max-per-citizen", type=int, default=500, help="cap on dossiers per citizen")
    parser.add_argument("--api", help="use this running local stack (its CLI settings come from the environment) "
                                      "instead of starting one; it must be fresh, its tap queue is drained, and "
                                      f"it needs MOTCUA_TRACK_PER_IP={TRACK_PER_IP} (every citizen is 127.0.0.1)")
    args = parser.parse_args(argv)
    if not (1 <= args.citizens <= 64 and 1 <= args.duration <= 3600):
        parser.error("--citizens must be 1-64 and --duration 1-3600 seconds")

    from chalicelib.runtime.settings import FAKE_LOCAL_JWT_SECRET
    from chalicelib.trust.rules.identity import mint_local_token
    from motcua.local_process import LocalStack
    stack = None if args.api else LocalStack(MOTCUA_TRACK_PER_IP=str(TRACK_PER_IP))
    api = args.api or stack.api
    env = None if stack is None else stack.env

    def cli(*cli_args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "motcua.cli", *cli_args], env=env, capture_output=True,
                              text=True, timeout=300)

    def token(role: str, agency: str | None = None, sub: str | None = None) -> str:
        """Minted here, as `motcua token` does, with the stack's local-stage secret."""
        secret = (env or os.environ).get("MOTCUA_LOCAL_JWT_SECRET", FAKE_LOCAL_JWT_SECRET)
        return mint_local_token(secret, sub or f"soak-{role}-{agency or 'all'}", role, agency, ttl_seconds=3 * 3600)

    def events() -> list[dict[str, Any]]:
        return [json.loads(line) for line in cli("events").stdout.splitlines() if line.strip()]

    def verify(start: str, end: str) -> tuple[int, str]:
        done = cli("reports", "verify", "--from", start, "--to", end)
        return done.returncode, done.stdout + done.stderr

    try:
        day = datetime.now(LOCAL).date().isoformat()
        soak = Soak(api, token, args.citizens, args.officers or max(1, args.citizens // 2), args.duration,
                    args.max_per_citizen)
        elapsed = soak.run()
        checking = time.monotonic()
        admin = token("admin")
        lost = lost_events(api, admin, soak.submitted, events)
        returned = sum(1 for status in soak.done.values() if status == "returned")
        report = report_problems(api, admin, day, len(soak.submitted), returned, verify)
        checked = time.monotonic() - checking
        if stack is not None and lost:
            stack.process.send_signal(signal.SIGUSR1)   # the stack dumps its threads' stacks (diagnosis)
            time.sleep(1.0)
    finally:
        stack_log = stack.tail() if stack is not None else ""
        if stack is not None:
            stack.stop()

    print(f"\nmotcua soak: {args.citizens} citizens, {soak.officers} officers, {elapsed:.0f} s, "
          f"{len(soak.submitted)} dossiers submitted, {returned} returned; drained and checked in {checked:.0f} s\n")
    print(table(soak.metrics, elapsed))
    print(f"\n5xx: {soak.metrics.server_errors()}   unexpected statuses/errors: {soak.metrics.unexpected()}   "
          f"lost events: {len(lost)} dossier(s)   report vs verify: {'OK' if not report else 'MISMATCH'}")
    for line in (soak.metrics.errors[:20] + lost[:20] + report):
        print("  " + line)
    ok = not soak.metrics.errors and not lost and not report and soak.submitted and returned == len(soak.submitted)
    if not ok and stack_log:
        print("\nlast lines of the stack's output:\n" + stack_log)
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
