"""`motcua local` (what `make run` starts), driven over real HTTP on loopback.

One stack process serves the whole module: moto server, the API, the dispatcher and the
seed. The tests talk to it only the way a developer would: HTTP, presigned S3 URLs and the
`motcua` CLI.
"""
from __future__ import annotations

import json
import os
import socket
import threading
import subprocess
import time
import uuid
from pathlib import Path
from typing import Any
from collections.abc import Iterator

import pytest
import requests

from motcua.local_process import LocalStack as Stack

pytestmark = pytest.mark.stack


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    running = Stack()
    yield running
    code = running.stop()
    assert code == 0, running.tail()  # a stack killed at teardown shows its threads (SIGUSR1 dump)


def test_banner_says_where_the_api_is(stack):
    text = "".join(stack.banner)
    assert stack.api in text and "sample" in text


def test_citizen_uploads_submits_and_officer_accepts_then_events_reach_the_bus(stack):
    procedures = stack.call("GET", "/procedures").json()["items"]
    assert len(procedures) >= 8 and len({p["agency_id"] for p in procedures}) >= 3
    procedure = procedures[0]
    citizen = stack.token("citizen", sub=f"citizen-{uuid.uuid4().hex[:8]}")

    upload = stack.call("POST", "/uploads", citizen, json={"name": "cccd.pdf", "content_type": "application/pdf", "size": 9})
    assert upload.status_code == 201, upload.text
    put = requests.put(upload.json()["upload_url"], data=b"%PDF-1.4\n", headers=upload.json()["headers"], timeout=10)
    assert put.status_code == 200, put.text

    body = {"procedure_code": procedure["procedure_code"],
            "applicant": {"full_name": "Trần Thị Bình", "id_number": "045190000777", "phone": "0987654321"},
            "summary": "Nộp thử", "form": {}, "attachments": [{"upload_id": upload.json()["upload_id"], "name": "CCCD.pdf"}]}
    created = stack.call("POST", "/dossiers", citizen, json=body, headers={"Idempotency-Key": uuid.uuid4().hex})
    assert created.status_code == 201, created.text
    code = created.json()["dossier_code"]

    officer = stack.token("officer", procedure["agency_id"])
    accepted = stack.call("POST", f"/dossiers/{code}/accept", officer)
    assert accepted.status_code == 200 and accepted.json()["due_at"]
    tracked = stack.call("GET", f"/track/{code}?phone_last4=4321").json()
    assert tracked["status"] == "accepted" and "Bình" not in json.dumps(tracked, ensure_ascii=False)

    seen: list[dict[str, Any]] = []
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and len([e for e in seen if e["detail"]["dossier_code"] == code]) < 2:
        seen += [json.loads(line) for line in stack.cli("events").splitlines() if line.strip()]
        time.sleep(0.3)
    mine = [(e["detail"]["type"], e["detail"]["version"]) for e in seen if e["detail"]["dossier_code"] == code]
    assert mine == [("DossierSubmitted", 1), ("DossierAccepted", 2)]


def test_the_api_accepts_a_hundred_simultaneous_connections_without_a_reset(stack):
    """Chalice's local server listened with socketserver's backlog of 5: of 20 clients
    connecting at once one was reset, and of 100 many waited out their timeout (issue 18)."""
    host, port = "127.0.0.1", int(stack.api.rsplit(":", 1)[1])
    clients = 100
    together = threading.Barrier(clients, timeout=30)
    statuses: list[bytes] = []
    failures: list[str] = []

    def connect() -> None:
        try:
            together.wait()
            with socket.create_connection((host, port), timeout=10) as conn:
                conn.sendall(b"GET /openapi.json HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                statuses.append(conn.recv(64).split(b"\r\n", 1)[0])
        except OSError as exc:
            failures.append(repr(exc))

    threads = [threading.Thread(target=connect) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert failures == []
    assert len(statuses) == clients and all(b" 200" in status for status in statuses), set(statuses)


def test_a_rush_of_submissions_to_one_agency_through_make_run_all_succeed(stack):
    """Issue 18's black-box check: 100 submissions to one agency over 20 connections gave 29
    answers 503 sequence_contention. Now 200 of them: every one 201, each with its own code."""
    from concurrent.futures import ThreadPoolExecutor
    procedure = stack.call("GET", "/procedures").json()["items"][0]["procedure_code"]
    citizen = stack.token("citizen", sub="citizen-rush")
    body = {"procedure_code": procedure, "summary": "Nộp cùng lúc",
            "applicant": {"full_name": "Trần Thị Bình", "id_number": "045190000777", "phone": "0987654321"}}

    def submit(n: int) -> tuple[int, str]:
        answer = stack.call("POST", "/dossiers", citizen, json=body, headers={"Idempotency-Key": f"rush-{n:06d}"})
        return answer.status_code, answer.json().get("dossier_code", answer.text)

    with ThreadPoolExecutor(20) as pool:
        answers = list(pool.map(submit, range(200)))
    assert [status for status, _ in answers] == [201] * 200, [a for a in answers if a[0] != 201][:3]
    assert len({code for _, code in answers}) == 200


def test_errors_over_http_are_json_with_vietnamese_messages(stack):
    citizen = stack.token("citizen")
    response = stack.call("POST", "/dossiers", citizen, data=b"{oops", headers={
        "Idempotency-Key": uuid.uuid4().hex, "Content-Type": "application/json"})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "malformed_json"
    assert stack.call("GET", "/dossiers").json()["error"]["code"] == "unauthenticated"


def test_due_date_cli_needs_no_stack(stack):
    assert stack.cli("due-date", "--accepted", "2025-04-25T10:00:00+07:00", "--working-days", "3").strip() \
        == "2025-04-29T17:00:00+07:00"


def chromium() -> str | None:
    import shutil
    return shutil.which("chromium") or shutil.which("chromium-browser")


def headless(url: str, *extra: str) -> subprocess.CompletedProcess:
    import tempfile
    with tempfile.TemporaryDirectory() as profile:
        return subprocess.run(
            [chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             f"--user-data-dir={profile}", "--virtual-time-budget=15000", *extra, url],
            capture_output=True, text=True, timeout=90)


def test_dashboard_renders_its_charts_in_a_browser(stack, tmp_path):
    if chromium() is None:
        pytest.skip("headless Chromium is not installed (Debian package 'chromium'); `make test` installs it when apt can")
    stack.test_flow = test_citizen_uploads_submits_and_officer_accepts_then_events_reach_the_bus(stack)  # data to chart
    time.sleep(1.0)  # let the dispatcher project the events into the report counters
    url = f"{stack.api}/dashboard#token={stack.token('admin')}"
    dom = headless(url, "--dump-dom").stdout
    assert 'data-state="rendered"' in dom, dom[-2000:]
    import re
    for chart in ("on-time-chart", "overdue-chart", "index-agencies-chart"):
        tag = re.search(rf'<canvas[^>]*id="{chart}"[^>]*>', dom).group(0)
        assert int(re.search(r'data-bars="(\d+)"', tag).group(1)) >= 1, tag
    # the 766 index: the total and each of the six groups as a gauge, and the at-risk list
    assert 'id="index-gauges" data-gauges="7"' in dom and dom.count('class="gauge"') == 7, dom[-2000:]
    assert re.search(r'<table id="at-risk" data-rows="\d+"', dom), dom[-2000:]
    shot = Path(os.environ.get("MOTCUA_SCREENSHOT_DIR", tmp_path)) / "dashboard.png"
    headless(url, f"--screenshot={shot}", "--window-size=1280,900")
    assert shot.exists() and shot.stat().st_size > 10_000


def test_a_stack_started_with_sigint_ignored_still_stops_on_sigint():
    """A background job of a non-interactive shell (`make test &`, CI) starts with SIGINT
    ignored, and its children inherit that; Ctrl-C (SIGINT) must still stop the stack."""
    import signal
    import sys
    script = ("from motcua.local_process import LocalStack\n"
              "stack = LocalStack()\n"
              "print('stopped with', stack.stop(timeout=20))\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120,
                          cwd=Path(__file__).resolve().parents[2],
                          preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN))
    assert done.stdout.strip().endswith("stopped with 0"), done.stdout[-2000:] + done.stderr[-2000:]


MOTO_ACCESS_LINE = '"POST / HTTP/1.1" 200'   # the dispatcher polling moto, ~45 lines a second


def wait_for_line(stack: Stack, seen: Any, seconds: float = 15) -> list[str]:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        lines = stack.banner + list(stack.output)
        if any(seen(line) for line in lines):
            return lines
        time.sleep(0.2)
    return stack.banner + list(stack.output)


def api_logged(path: str) -> Any:
    return lambda line: '"message":"request"' in line and f'"path":"{path}"' in line


def test_the_terminal_shows_the_banner_and_the_apis_request_log_but_not_the_emulators_traffic(stack):
    assert stack.call("GET", "/procedures").status_code == 200
    lines = wait_for_line(stack, api_logged("/procedures"))
    assert any(api_logged("/procedures")(line) for line in lines), "".join(lines[-50:])
    assert stack.api in "".join(stack.banner) and "--verbose" in stack.banner[-1]
    assert not [line for line in lines if MOTO_ACCESS_LINE in line or line.startswith("127.0.0.1 - -")]


def test_local_verbose_shows_the_emulators_traffic_too():
    running = Stack(verbose=True)
    try:
        assert running.call("GET", "/procedures").status_code == 200
        lines = wait_for_line(running, lambda line: "GET /procedures HTTP/1.1" in line)
    finally:
        code = running.stop()
    assert code == 0, running.tail()
    assert sum(MOTO_ACCESS_LINE in line for line in lines) > 10 and any("GET /procedures HTTP/1.1" in line for line in lines)
    assert any(api_logged("/procedures")(line) for line in lines) and running.api in "".join(running.banner)


def test_free_ports_are_distinct():
    from motcua.local_process import free_ports
    ports = free_ports(40)
    assert len(set(ports)) == 40
