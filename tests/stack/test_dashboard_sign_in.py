"""The dashboard signs people in the way a leader would, in a real Chromium
(docs/security.md#sign-in).

Local stage, against `motcua local`: the dashboard sends the leader to the local sign-in page,
the leader picks the role and an agency, comes back signed in and sees the report; signing out
forgets the token. The OIDC path (AWS stages) against a loopback identity provider that is as
strict as Cognito's hosted UI about PKCE: the page sends the browser to the authorize endpoint
with an S256 code challenge, state and nonce, trades the code with the verifier, refuses a
forged state or a token for another nonce, and signs out at the provider.
"""
from __future__ import annotations

import base64
import hashlib
import json
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from collections.abc import Iterator
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest

from motcua.local_process import LocalStack as Stack
from tests.stack.browser import Browser, chromium

pytestmark = pytest.mark.stack

TOKEN = "sessionStorage.getItem('motcua-token')"


@pytest.fixture
def browser() -> Iterator[Browser]:
    if chromium() is None:
        pytest.skip("headless Chromium is not installed (Debian package 'chromium'); `make test` installs it when apt can")
    running = Browser()
    yield running
    running.close()


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    running = Stack()
    yield running
    assert running.stop() == 0, running.tail()


def a_dossier_at(stack: Stack, agency_id: str) -> None:
    """Something for the leader's report: a dossier of the agency, accepted."""
    procedure = next(p for p in stack.call("GET", "/procedures").json()["items"] if p["agency_id"] == agency_id)
    citizen = stack.token("citizen", sub=f"citizen-{uuid.uuid4().hex[:8]}")
    created = stack.call("POST", "/dossiers", citizen, headers={"Idempotency-Key": uuid.uuid4().hex}, json={
        "procedure_code": procedure["procedure_code"], "summary": "Nộp thử", "form": {},
        "applicant": {"full_name": "Lê Văn Cường", "id_number": "045190000888", "phone": "0987654322"}})
    assert created.status_code == 201, created.text
    accepted = stack.call("POST", f"/dossiers/{created.json()['dossier_code']}/accept", stack.token("officer", agency_id))
    assert accepted.status_code == 200, accepted.text


def counted(stack: Stack, agency_id: str, seconds: float = 20) -> None:
    """Wait until the dispatcher has projected the dossier into the agency's report counters."""
    from datetime import datetime, timedelta, timezone
    today = datetime.now(timezone(timedelta(hours=7))).date()
    path = f"/reports/dossiers?from={today.replace(day=1)}&to={today}&group_by=agency"
    deadline = time.monotonic() + seconds
    while not stack.call("GET", path, stack.token("leader", agency_id)).json().get("rows"):
        assert time.monotonic() < deadline, "the report never counted the dossier"
        time.sleep(0.3)


def test_a_leader_signs_in_on_the_local_page_sees_the_report_and_signs_out(stack: Stack, browser: Browser) -> None:
    agency = stack.call("GET", "/procedures").json()["items"][0]["agency_id"]
    a_dossier_at(stack, agency)
    counted(stack, agency)

    assert f"{stack.api}/dashboard" in "".join(stack.banner)                  # where `make run` says it is
    browser.open(f"{stack.api}/dashboard")
    browser.wait_for("location.pathname === '/dashboard/sign-in' && document.readyState === 'complete'")
    assert browser.evaluate(TOKEN) is None
    browser.evaluate(f"""(() => {{
        const role = document.getElementById('role');
        role.value = 'leader';
        role.dispatchEvent(new Event('change'));
        document.getElementById('agency').value = {json.dumps(agency)};
        document.getElementById('submit').click();
    }})()""")

    state = browser.wait_for("location.pathname === '/dashboard' && ['rendered', 'error'].includes(document.body.dataset.state)"
                             " && document.body.dataset.state")
    assert state == "rendered", browser.evaluate("document.getElementById('error').textContent")
    claims = browser.evaluate(f"JSON.parse(atob({TOKEN}.split('.')[1]))")
    assert (claims["role"], claims["agency_id"]) == ("leader", agency)
    assert browser.evaluate("localStorage.length") == 0                     # never kept beyond the tab
    assert browser.evaluate("document.getElementById('who').textContent").endswith(f"leader · {agency}")
    overdue = browser.evaluate("document.getElementById('overdue').textContent")
    assert overdue.isdigit(), overdue                                           # the report, for this agency
    bars = browser.evaluate("document.getElementById('overdue-chart').dataset.bars")
    assert int(bars) >= 1

    browser.evaluate("document.getElementById('sign-out').click()")
    browser.wait_for("location.pathname === '/dashboard/sign-in'")
    assert browser.evaluate(TOKEN) is None
    browser.open(f"{stack.api}/dashboard")                                      # signed out: signs in again
    browser.wait_for("location.pathname === '/dashboard/sign-in'")


# --- the OIDC path, against a loopback identity provider -------------------------------------

CLIENT_ID = "dashboard-client"
CODE = "one-time-code"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class IdentityProvider(ThreadingHTTPServer):
    """Serves the dashboard as the API would (its config in oidc mode) and a hosted UI at /idp
    that checks PKCE S256 as Cognito does; it records what the browser sent."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.server_address[1]}"
        self.authorize: list[dict[str, str]] = []
        self.token_requests: list[dict[str, str]] = []
        self.api_calls: list[str | None] = []
        self.logouts: list[dict[str, str]] = []
        self.wrong_nonce = False
        self.forged_state = False   # as if an attacker's own authorization response reached the page
        self.id_token = ""

    def config(self) -> dict[str, str]:
        return {"mode": "oidc", "authority": f"{self.base}/idp", "client_id": CLIENT_ID,
                "redirect_uri": f"{self.base}/dashboard", "scope": "openid email profile"}

    def exchange(self, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        self.token_requests.append(form)
        asked = self.authorize[-1]
        challenge = b64url(hashlib.sha256(form.get("code_verifier", "").encode()).digest())
        if (form.get("grant_type"), form.get("code"), form.get("client_id"), form.get("redirect_uri")) != \
                ("authorization_code", CODE, CLIENT_ID, asked["redirect_uri"]) or challenge != asked["code_challenge"]:
            return 400, {"error": "invalid_grant"}
        claims = {"sub": "lanh-dao-1", "aud": CLIENT_ID, "email": "lanhdao@example.vn", "custom:role": "leader",
                  "custom:agency_id": "000.22.30.H50", "exp": int(time.time()) + 3600,
                  "nonce": "another-sign-in" if self.wrong_nonce else asked["nonce"]}
        self.id_token = ".".join(b64url(json.dumps(part).encode()) for part in ({"alg": "RS256"}, claims)) + ".c2ln"
        return 200, {"id_token": self.id_token, "access_token": "opaque", "token_type": "Bearer", "expires_in": 3600}


class Handler(BaseHTTPRequestHandler):
    server: IdentityProvider

    def log_message(self, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        from chalicelib.reports.static import read_static
        url = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        files = {"/dashboard": ("dashboard.html", "text/html"), "/dashboard/signin.js": ("signin.js", "text/javascript"),
                 "/dashboard/chart.umd.min.js": ("chart.umd.min.js", "text/javascript")}
        if url.path in files:
            name, mime = files[url.path]
            self.answer(200, read_static(name).encode(), mime)
        elif url.path == "/dashboard/config":
            self.answer(200, json.dumps(self.server.config()).encode(), "application/json")
        elif url.path == "/idp/oauth2/authorize":
            self.server.authorize.append(query)
            self.send_response(302)
            self.send_header("Location", f"{query['redirect_uri']}?{urlencode({'code': CODE, 'state': 'forged' if self.server.forged_state else query['state']})}")
            self.end_headers()
        elif url.path == "/idp/logout":
            self.server.logouts.append(query)
            self.answer(200, b"<p id='signed-out'>signed out</p>", "text/html")
        else:   # the report API: who called, and nothing to show
            self.server.api_calls.append(self.headers.get("Authorization"))
            self.answer(200, b"{}", "application/json")

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", "0"))
        form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
        status, body = self.server.exchange(form) if self.path == "/idp/oauth2/token" else (404, {})
        self.answer(status, json.dumps(body).encode(), "application/json")

    def answer(self, status: int, body: bytes, mime: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", mime)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def provider() -> Iterator[IdentityProvider]:
    server = IdentityProvider()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def test_an_aws_stage_signs_in_with_the_code_flow_and_pkce_s256(provider: IdentityProvider, browser: Browser) -> None:
    browser.open(f"{provider.base}/dashboard")
    browser.wait_for(f"{TOKEN} !== null && location.search === ''")
    [asked] = provider.authorize
    assert asked["response_type"] == "code" and asked["client_id"] == CLIENT_ID
    assert asked["code_challenge_method"] == "S256" and len(asked["code_challenge"]) == 43   # SHA-256, base64url
    assert asked["redirect_uri"] == f"{provider.base}/dashboard" and "openid" in asked["scope"].split()
    assert len(asked["state"]) >= 20 and len(asked["nonce"]) >= 20 and asked["state"] != asked["nonce"]
    [traded] = provider.token_requests
    assert len(traded["code_verifier"]) >= 43                                  # RFC 7636: 43 to 128 characters
    assert browser.evaluate(TOKEN) == provider.id_token                       # the ID token is the bearer
    browser.wait_for("document.body.dataset.state !== 'loading'")
    assert f"Bearer {provider.id_token}" in provider.api_calls
    assert browser.evaluate("localStorage.length") == 0
    assert browser.evaluate("sessionStorage.getItem('motcua-signin-pending')") is None   # one use

    browser.evaluate("document.getElementById('sign-out').click()")
    browser.wait_for("document.getElementById('signed-out') !== null")
    assert provider.logouts == [{"client_id": CLIENT_ID, "logout_uri": f"{provider.base}/dashboard"}]
    assert browser.evaluate("sessionStorage.length") == 0


def test_a_forged_state_or_a_token_for_another_sign_in_is_refused(provider: IdentityProvider, browser: Browser) -> None:
    provider.forged_state = True
    browser.open(f"{provider.base}/dashboard")
    assert "state" in browser.wait_for("document.getElementById('error').textContent")
    assert len(provider.authorize) == 1 and provider.token_requests == []    # the code was never traded
    assert browser.evaluate(TOKEN) is None

    browser.open(f"{provider.base}/dashboard?{urlencode({'code': CODE, 'state': 'no-sign-in-started-here'})}")
    assert "state" in browser.wait_for("document.getElementById('error').textContent")
    assert provider.token_requests == []

    provider.forged_state, provider.wrong_nonce = False, True
    browser.open(f"{provider.base}/dashboard")
    assert "nonce" in browser.wait_for("document.getElementById('error').textContent")
    assert len(provider.token_requests) == 1 and browser.evaluate(TOKEN) is None
    assert not [call for call in provider.api_calls if call]                  # no token ever reached the API
