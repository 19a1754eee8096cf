"""Adapter to the National Public Service Portal (DVCQG), over ``requests``.

The protocol as three deployed clients speak it (docs/national-portal.md; no official
specification is public):

* two endpoints, an auth one and an integration one (``MOTCUA_NATIONAL_AUTH_URL``,
  ``MOTCUA_NATIONAL_SERVICE_URL``); every call carries the ``dstcode`` header and
  ``Content-Type: application/json; charset=utf-8``; through a province's LGSP, also an OAuth2
  client-credentials bearer token (``POST {lgsp}/token``);
* ``POST auth {username, password}`` -> ``{session, error_code}``; the session is kept for a
  fixed 10 minutes, as OpenCPS does (no client reads a lifetime from the answer);
* ``POST service {service, madonvi, session, ..., data: [...]}``: ``data`` is always an array;
* ``error_code`` arrives as a number or as a string (``0``, ``"0"``, ``"-3"``); 0 is success.

Failures are four kinds, because each asks for a different reaction:

* ``PortalUnavailable``: try again later (timeout, refused connection, HTTP 5xx or 429, a body
  that is not JSON or has no readable ``error_code``);
* ``PortalRejected``: the portal answered with a non-zero ``error_code`` that is not about the
  record: its own fault, or a dossier it does not hold (chalicelib/sync/rules/portal_answers.py).
  Tried again later;
* ``PortalRefusedRecord`` (a ``PortalRejected``): the portal refused the record itself (a
  missing or invalid field, an unknown procedure code, a bad date). The same record would be
  refused again: it is not retried, the sync ledger says ``rejected``;
* ``PortalMisconfigured``: HTTP 401/403 again after the session and the LGSP token were
  renewed once, or the account refused at sign-in. Waiting does not fix a wrong account,
  ``dstcode`` or LGSP client: an operator must, so it is not retried as an outage.

An answer whose message says the dossier "đã tồn tại" (already exists; codes 3 and -3 seen)
means a create was not applied: ``sync_dossier`` sends it again as an update.
"""
from __future__ import annotations

import json
import re
import time
import unicodedata
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from chalicelib.runtime.settings import (
    FAKE_LGSP_CLIENT_ID, FAKE_LGSP_CLIENT_SECRET, FAKE_NATIONAL_PASSWORD, FAKE_NATIONAL_USERNAME, settings,
)
from chalicelib.sync.rules import portal_answers

OK = 0
DOSSIER_SERVICE, PROGRESS_SERVICE = "DongBoHoSoMC", "CapNhatTienDoHoSoMC"
SESSION_SECONDS = 600          # OpenCPS keeps a session 10 minutes and reads no lifetime
TOKEN_MARGIN_SECONDS = 60      # an LGSP token is renewed a minute before it expires
PROGRESS_CHUNK = 10            # progress records per call, as the .NET client sends them
ALREADY_EXISTS = "đã tồn tại"
JSON_UTF8 = "application/json; charset=utf-8"


def _requests() -> Any:
    """requests, imported on first use: a consumer whose first events need no call to the
    portal (ignored types, missing dossiers) does not pay its import at cold start."""
    import requests
    return requests


class PortalUnavailable(Exception):
    """Retry later: the portal did not answer, or not sensibly."""


class PortalRejected(Exception):
    """The portal answered with an error code that a later try may not get."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(f"error_code {code}: {message}")
        self.code = code
        self.message = message


class PortalRefusedRecord(PortalRejected):
    """The portal refused the record itself: sending the same record again cannot help."""


class PortalMisconfigured(Exception):
    """The portal refuses who we are (account, dstcode, LGSP client): an operator must act."""


def error_code(answer: Any) -> int | None:
    """The answer's ``error_code`` as a number, whether it came as ``0`` or ``"0"``; None when
    there is none to read (a bool is not a code)."""
    value = answer.get("error_code") if isinstance(answer, dict) else None
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and re.fullmatch(r"\s*-?\d+\s*", value):
        return int(value)
    return None


def says_already_exists(answer: dict[str, Any]) -> bool:
    """The message says the dossier already exists (compared in NFC, any case)."""
    message = unicodedata.normalize("NFC", str(answer.get("message", ""))).lower()
    return ALREADY_EXISTS in message


def chunks(records: Sequence[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    for start in range(0, len(records), size):
        yield list(records[start:start + size])


@dataclass(frozen=True)
class LgspClient:
    """OAuth2 client credentials at the province's LGSP."""
    token_url: str
    client_id: str
    client_secret: str = field(repr=False)


@dataclass(frozen=True)
class PortalSettings:
    auth_url: str
    service_url: str
    username: str
    madonvi: str
    dstcode: str
    timeout_seconds: float
    password: str = field(repr=False)
    lgsp: LgspClient | None = None
    retry_codes: frozenset[int] = frozenset()     # the portal's own faults (MOTCUA_NATIONAL_RETRY_CODES)

    @classmethod
    def from_settings(cls) -> PortalSettings:
        """Endpoints, unit and routing codes from the settings; the account (and the LGSP
        client) from the stage's ``national-portal`` secret (the local stage's settings only in
        the local stage, whose fakes the loopback simulator accepts and a real portal never would)."""
        from chalicelib.runtime.credentials import stage_credentials
        local, portal = settings().local_credentials, settings().national
        wanted = {"username": (local.national_username, FAKE_NATIONAL_USERNAME),
                  "password": (local.national_password, FAKE_NATIONAL_PASSWORD)}
        if portal.lgsp_url:
            wanted |= {"lgsp_client_id": (local.lgsp_client_id, FAKE_LGSP_CLIENT_ID),
                       "lgsp_client_secret": (local.lgsp_client_secret, FAKE_LGSP_CLIENT_SECRET)}
        account = stage_credentials("national-portal", wanted)
        lgsp = (LgspClient(f"{portal.lgsp_url}/token", account["lgsp_client_id"], account["lgsp_client_secret"])
                if portal.lgsp_url else None)
        return cls(auth_url=portal.auth_url or f"{portal.url}/auth",
                   service_url=portal.service_url or f"{portal.url}/service",
                   username=account["username"], password=account["password"], madonvi=portal.madonvi,
                   dstcode=portal.dstcode, timeout_seconds=portal.timeout_seconds, lgsp=lgsp,
                   retry_codes=frozenset(int(code) for code in (portal.retry_codes or "").split(",") if code.strip()))


@dataclass
class NationalPortal:
    settings: PortalSettings
    clock: Callable[[], float] = time.monotonic
    http: Any = field(default_factory=lambda: _requests().Session())
    auth_calls: int = 0
    token_calls: int = 0
    service_calls: int = 0
    _session: str | None = None
    _session_until: float = 0.0
    _token: str | None = None
    _token_until: float = 0.0

    # -- transport -----------------------------------------------------------------------------
    def _send(self, url: str, **request: Any) -> Any:
        timeout = (min(3.0, self.settings.timeout_seconds), self.settings.timeout_seconds)
        try:
            return self.http.post(url, timeout=timeout, **request)
        except _requests().RequestException as exc:
            raise PortalUnavailable(f"{type(exc).__name__}: {exc}") from None

    def _headers(self) -> dict[str, str]:
        headers = {"Content-Type": JSON_UTF8, "Accept": "application/json", "dstcode": self.settings.dstcode}
        if self.settings.lgsp:
            headers["Authorization"] = f"Bearer {self._bearer()}"
        return headers

    def _post(self, url: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        """(HTTP status, answer) of one portal call. 401/403, and an answer that says the session
        or token is no longer valid, are returned as 401 for the caller to renew; anything not
        worth reading is ``PortalUnavailable``."""
        response = self._send(url, data=json.dumps(body, ensure_ascii=False).encode("utf-8"), headers=self._headers())
        status = response.status_code
        if status in (401, 403):
            return status, {}
        if status >= 500 or status == 429:
            raise PortalUnavailable(f"HTTP {status}")
        try:
            answer = response.json()
        except ValueError:
            raise PortalUnavailable(f"HTTP {status}, body is not JSON") from None
        code = error_code(answer)
        if code is None:
            raise PortalUnavailable(f"HTTP {status}, no readable error_code in the answer")
        if code != OK and portal_answers.verdict(code, answer.get("message")) == "session":
            return 401, {}
        return status, answer

    # -- credentials ---------------------------------------------------------------------------
    def _bearer(self) -> str:
        """The LGSP access token, kept until a minute before it expires."""
        lgsp = self.settings.lgsp
        assert lgsp is not None
        if self._token and self.clock() < self._token_until:
            return self._token
        self.token_calls += 1
        response = self._send(lgsp.token_url, data={"grant_type": "client_credentials"},
                              auth=(lgsp.client_id, lgsp.client_secret), headers={"Accept": "application/json"})
        if response.status_code in (400, 401, 403):
            raise PortalMisconfigured(f"LGSP token: HTTP {response.status_code} (kiểm tra client của LGSP)")
        if response.status_code >= 300:
            raise PortalUnavailable(f"LGSP token: HTTP {response.status_code}")
        try:
            answer = response.json()
        except ValueError:
            raise PortalUnavailable("LGSP token: body is not JSON") from None
        answer = answer if isinstance(answer, dict) else {}
        token, lifetime = answer.get("access_token"), answer.get("expires_in")
        if not isinstance(token, str) or not token:
            raise PortalUnavailable("LGSP token: no access_token in the answer")
        seconds = lifetime if isinstance(lifetime, int) and not isinstance(lifetime, bool) else 3600
        self._token, self._token_until = token, self.clock() + max(0, seconds - TOKEN_MARGIN_SECONDS)
        return token

    def _renewing(self, what: str, post: Callable[[], tuple[int, dict[str, Any]]]) -> tuple[int, dict[str, Any]]:
        """``post``; on HTTP 401/403 forget the session and the LGSP token and post once more
        (``post`` signs in again); refused twice is ``PortalMisconfigured``."""
        status, answer = post()
        if status in (401, 403):
            self._session = self._token = None
            status, answer = post()
            if status in (401, 403):
                raise PortalMisconfigured(f"{what}: HTTP {status} twice, after renewing the session and token")
        return status, answer

    def session(self) -> str:
        if self._session and self.clock() < self._session_until:
            return self._session
        account = {"username": self.settings.username, "password": self.settings.password}

        def post() -> tuple[int, dict[str, Any]]:
            self.auth_calls += 1
            return self._post(self.settings.auth_url, account)

        _, answer = self._renewing("auth", post)
        if error_code(answer) != OK or not isinstance(answer.get("session"), str) or not answer["session"]:
            raise PortalMisconfigured(f"auth: error_code {answer.get('error_code')!r}: "
                                      f"{answer.get('message', 'đăng nhập bị từ chối')}")
        self._session, self._session_until = answer["session"], self.clock() + SESSION_SECONDS
        return self._session

    # -- services ------------------------------------------------------------------------------
    def call(self, service: str, data: list[dict[str, Any]], **top: str) -> dict[str, Any]:
        """One service call with ``data`` as an array; ``top`` adds top-level fields
        (``isUpdating``). Returns the answer of an ``error_code`` 0, or the answer saying "đã
        tồn tại" (for ``sync_dossier`` to act on); raises ``PortalRefusedRecord`` when the
        portal refused the records themselves, ``PortalRejected`` for any other error code."""
        if not isinstance(data, list):
            raise TypeError("data is always an array")

        def post() -> tuple[int, dict[str, Any]]:
            self.service_calls += 1
            body = {"service": service, "madonvi": self.settings.madonvi, "session": self.session(), **top,
                    "data": data}
            return self._post(self.settings.service_url, body)

        status, answer = self._renewing(service, post)
        code = error_code(answer)
        if code == OK or says_already_exists(answer):
            return answer
        raise self._refusal(status, code or 0, answer)

    def _refusal(self, status: int, code: int, answer: dict[str, Any]) -> PortalRejected:
        """The error of a non-zero answer: the record refused, or something a later try may fix."""
        errors = answer.get("errors")
        details = errors if isinstance(errors, list) else []
        message = "; ".join([str(answer.get("message", ""))] + [str(d) for d in details])
        verdict = portal_answers.verdict(code, answer.get("message"), retry_codes=self.settings.retry_codes)
        refused = verdict == "refused" and portal_answers.may_refuse(status)
        return (PortalRefusedRecord if refused else PortalRejected)(code, message)

    def sync_dossier(self, records: list[dict[str, Any]], *, exists: bool) -> bool:
        """``DongBoHoSoMC`` as a create (``isUpdating "False"``) or, when the portal already
        has the dossier, an update (``"True"``); a create answered "đã tồn tại" is sent again
        as an update. Returns whether it went as an update in the end."""
        answer = self.call(DOSSIER_SERVICE, records, isUpdating="True" if exists else "False")
        if not exists and says_already_exists(answer):
            answer, exists = self.call(DOSSIER_SERVICE, records, isUpdating="True"), True
        if error_code(answer) != OK:
            raise PortalRejected(error_code(answer) or 0, str(answer.get("message", "")))
        return exists

    def send_progress(self, records: list[dict[str, Any]]) -> None:
        """``CapNhatTienDoHoSoMC``, ten records per call."""
        for chunk in chunks(records, PROGRESS_CHUNK):
            self.call(PROGRESS_SERVICE, chunk)


@cache
def portal() -> NationalPortal:
    """One adapter (and one cached session and token) per warm Lambda."""
    return NationalPortal(PortalSettings.from_settings())
