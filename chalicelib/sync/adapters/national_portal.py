"""Adapter to the National Public Service Portal (DVCQG), over ``requests``.

Protocol as open-source provincial systems use it (domain.md section 8; there is no public
official spec): ``POST {base}/auth {username, password}`` returns a session token with
``error_code == 0``; every service call is ``POST {base}/service {service, madonvi, session,
data}``. The token is cached for its lifetime (``expires_in``, renewed a minute early), so a
warm Lambda pays one auth call per token lifetime and one call per message.

Errors: ``PortalUnavailable`` (timeout, connection refused, 5xx, a body that is not JSON) and
``PortalRejected`` (the portal answered with an error code). "Already exists" is success:
a create that is retried after a lost answer must not count as a failure.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from functools import cache
from typing import Any
from collections.abc import Callable

from chalicelib.runtime.settings import FAKE_NATIONAL_PASSWORD, FAKE_NATIONAL_USERNAME, settings

OK, INVALID, ALREADY_EXISTS, BAD_SESSION = 0, 1, 2, 3


def _requests() -> Any:
    """requests, imported on first use: a consumer whose first events need no call to the
    portal (ignored types, missing dossiers) does not pay its import at cold start."""
    import requests
    return requests

TOKEN_MARGIN_SECONDS = 60


class PortalUnavailable(Exception):
    """Retry later: the portal did not answer, or not sensibly."""


class PortalRejected(Exception):
    def __init__(self, code: int, message: str) -> None:
        super().__init__(f"error_code {code}: {message}")
        self.code = code


@dataclass(frozen=True)
class PortalSettings:
    base_url: str
    username: str
    madonvi: str
    timeout_seconds: float
    password: str = field(repr=False)

    @classmethod
    def from_settings(cls) -> PortalSettings:
        """Endpoint and unit code from the settings; the account from the stage's
        ``national-portal`` secret (the local stage's settings only in the local stage, whose
        fake account the loopback simulator accepts and a real portal never would)."""
        from chalicelib.runtime.credentials import stage_credentials
        local, portal = settings().local_credentials, settings().national
        account = stage_credentials("national-portal", {"username": (local.national_username, FAKE_NATIONAL_USERNAME),
                                                        "password": (local.national_password, FAKE_NATIONAL_PASSWORD)})
        return cls(base_url=portal.url, username=account["username"], password=account["password"],
                   madonvi=portal.madonvi, timeout_seconds=portal.timeout_seconds)


@dataclass
class NationalPortal:
    settings: PortalSettings
    clock: Callable[[], float] = time.monotonic
    http: Any = field(default_factory=lambda: _requests().Session())
    auth_calls: int = 0
    service_calls: int = 0
    _token: str | None = None
    _expires: float = 0.0

    def _post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        try:
            response = self.http.post(f"{self.settings.base_url}/{path}", json=body,
                                      timeout=(min(3.0, self.settings.timeout_seconds), self.settings.timeout_seconds))
        except _requests().RequestException as exc:
            raise PortalUnavailable(f"{type(exc).__name__}: {exc}") from None
        if response.status_code >= 500 or response.status_code == 429:
            raise PortalUnavailable(f"HTTP {response.status_code}")
        try:
            answer = response.json()
        except ValueError:
            raise PortalUnavailable(f"HTTP {response.status_code}, body is not JSON") from None
        if not isinstance(answer, dict) or not isinstance(answer.get("error_code"), int):
            raise PortalUnavailable(f"HTTP {response.status_code}, no error_code in the answer")
        return answer

    def session(self) -> str:
        if self._token and self.clock() < self._expires:
            return self._token
        self.auth_calls += 1
        answer = self._post("auth", {"username": self.settings.username, "password": self.settings.password})
        if answer["error_code"] != OK or not answer.get("session"):
            raise PortalRejected(answer["error_code"], str(answer.get("message", "auth failed")))
        expires_in = answer.get("expires_in")
        lifetime = expires_in if isinstance(expires_in, int) else 3600
        self._token, self._expires = answer["session"], self.clock() + max(0, lifetime - TOKEN_MARGIN_SECONDS)
        return self._token

    def call(self, service: str, data: dict[str, Any]) -> dict[str, Any]:
        """One service call; a session the portal no longer knows is renewed once."""
        for attempt in (1, 2):
            self.service_calls += 1
            answer = self._post("service", {"service": service, "madonvi": self.settings.madonvi,
                                            "session": self.session(), "data": data})
            code = answer["error_code"]
            if code == BAD_SESSION and attempt == 1:
                self._token = None
                continue
            if code in (OK, ALREADY_EXISTS):
                return answer
            errors = answer.get("errors")
            details = errors if isinstance(errors, list) else []
            raise PortalRejected(code, "; ".join([str(answer.get("message", ""))] + [str(d) for d in details]))
        raise PortalRejected(BAD_SESSION, "session refused twice")


@cache
def portal() -> NationalPortal:
    """One adapter (and one cached token) per warm Lambda."""
    return NationalPortal(PortalSettings.from_settings())
