"""The hostile run's kit (motcua/hostile.py): what a check is, the rules every answer keeps,
and the client that talks to the stack over HTTP with tokens by name. No application code:
the run is a black box (pyproject.toml's import contract).
"""
from __future__ import annotations

import json
import re
import threading
import time
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import requests

ABSENT: Any = object()   # a probe that sends no JSON body
CODE_PATTERN = re.compile(r"[a-z][a-z0-9_]*")
# Answers that are pages for a person's browser, not the API's JSON: the payment return pages
# (docs/payments.md) show the citizen an HTML page whatever happened.
HTML_PAGES = re.compile(r"^/payments/(providers/[^/]+|vnpay)/return")
TIMEOUT = 30


# --- what a check is ---------------------------------------------------------------------

@dataclass(frozen=True)
class Expect:
    """A correct answer: one of ``statuses``; for an error, its ``code`` (any of them) and a
    ``field`` its ``fields`` must name (the key itself, or a key inside it)."""
    statuses: tuple[int, ...]
    code: str | tuple[str, ...] | None = None
    field: str | None = None

    def describe(self) -> str:
        codes = (self.code,) if isinstance(self.code, str) else self.code or ()
        return " ".join(filter(None, ["/".join(map(str, self.statuses)), "|".join(codes),
                                      f"[{self.field}]" if self.field else ""]))


@dataclass(frozen=True)
class Probe:
    """One request and its correct answer. ``path`` may hold ``{fixture}`` names, filled in
    from the dossiers and payments the run made; ``who`` names a token of the TokenBook."""
    name: str
    method: str
    path: str
    who: str | None
    expect: Expect
    body: Any = ABSENT
    raw: bytes | None = None
    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Result:
    check: str
    expected: str
    got: str
    passed: bool
    skipped: bool = False   # could not be checked here (say why in ``got``); not a failure


# --- the rules every answer keeps ---------------------------------------------------------

def strict_json(text: str) -> Any:
    """JSON as RFC 8259 reads it: NaN and Infinity are not numbers (issue 18)."""
    def refuse(constant: str) -> Any:
        raise ValueError(f"non-standard JSON constant {constant}")
    return json.loads(text, parse_constant=refuse)


def is_vietnamese(text: str) -> bool:
    """A message a Vietnamese reader reads: Latin letters with Vietnamese diacritics."""
    return any(ch in "đĐ" or (ord(ch) > 127 and unicodedata.normalize("NFD", ch)[0].isascii()
                              and unicodedata.normalize("NFD", ch)[0].isalpha()) for ch in text)


def broken_rule(response: requests.Response, path: str) -> str | None:
    """What this answer breaks of the rules every answer keeps, or None."""
    status, kind = response.status_code, response.headers.get("Content-Type", "")
    if status >= 500:
        return f"{status} server error"
    if status < 400 and not kind.startswith("application/json"):
        return None
    if status >= 400 and HTML_PAGES.match(path) and kind.startswith("text/html"):
        return None
    if not kind.startswith("application/json"):
        return f"{status} answered as {kind or 'no content type'}, not JSON"
    try:
        body = strict_json(response.text)
    except ValueError as problem:
        return f"{status} body is not strict JSON ({problem})"
    if status < 400:
        return None
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict) or not CODE_PATTERN.fullmatch(str(error.get("code", ""))):
        return f"{status} without an error code: {response.text[:120]}"
    if not isinstance(error.get("message"), str) or not is_vietnamese(error["message"]):
        return f"{status} {error['code']}: message not Vietnamese: {error.get('message')!r}"[:200]
    return None


def error_of(response: requests.Response) -> dict[str, Any]:
    try:
        body = strict_json(response.text)
    except ValueError:
        return {}
    error = body.get("error") if isinstance(body, dict) else None
    return error if isinstance(error, dict) else {}


def names_field(error: Mapping[str, Any], wanted: str) -> bool:
    fields = error.get("fields") or {}
    return isinstance(fields, dict) and any(
        key == wanted or key.startswith((wanted + ".", wanted + "[")) for key in fields)


def summary(response: requests.Response) -> str:
    error = error_of(response)
    if not error:
        return str(response.status_code)
    fields = ",".join(sorted(error.get("fields") or {}))
    return f"{response.status_code} {error.get('code')}" + (f" [{fields}]" if fields else "")


def judge(name: str, expect: Expect, response: requests.Response, path: str) -> Result:
    """A probe's answer against its expectation and the rules every answer keeps."""
    got = summary(response)
    error = error_of(response)
    codes = (expect.code,) if isinstance(expect.code, str) else expect.code
    problems = [broken_rule(response, path)]
    if response.status_code not in expect.statuses:
        problems.append("wrong status")
    elif codes and error.get("code") not in codes:
        problems.append("wrong code")
    elif expect.field and not names_field(error, expect.field):
        problems.append(f"does not name {expect.field}")
    found = [p for p in problems if p]
    return Result(name, expect.describe(), got + ("" if not found else "  <- " + "; ".join(found)), not found)


# --- talking to the stack -----------------------------------------------------------------

class Client:
    """HTTP to the stack: one requests session per thread, and the tokens by name."""

    def __init__(self, api: str, tokens: TokenBook) -> None:
        self.api, self.tokens = api.rstrip("/"), tokens
        self._local = threading.local()

    def session(self) -> requests.Session:
        if not hasattr(self._local, "session"):
            self._local.session = requests.Session()
        return self._local.session

    def call(self, method: str, path: str, who: str | None = None, *, body: Any = ABSENT,
             raw: bytes | None = None, headers: Mapping[str, str] | None = None) -> requests.Response:
        sent = dict(headers or {})
        if who is not None:
            sent.setdefault("Authorization", f"Bearer {self.tokens.get(who)}")
        if body is not ABSENT:
            raw = json.dumps(body, ensure_ascii=False).encode()
            sent.setdefault("Content-Type", "application/json")
        url = path if path.startswith("http") else self.api + path
        return self.session().request(method, url, data=raw, headers=sent, timeout=TIMEOUT)


class TokenBook:
    """Bearer tokens by name, minted once: staff through the local sign-in page
    (POST /dashboard/sign-in), citizens with `motcua token` (what the README's tour does),
    and the broken ones a hostile client tries (none, expired, tampered, unsigned, garbage)."""

    def __init__(self, api: str, cli: Callable[..., str], agencies: Mapping[str, str]) -> None:
        self.api, self.cli, self.agencies = api, cli, agencies
        self._tokens: dict[str, str] = {}
        self._lock = threading.RLock()

    def get(self, name: str) -> str:
        with self._lock:
            if name not in self._tokens:
                self._tokens[name] = self._mint(name)
            return self._tokens[name]

    def _mint(self, name: str) -> str:
        if name in ("citizen", "citizen_b", "rush"):
            return self.cli("token", "--role", "citizen", "--sub", f"hostile-{name}-{int(time.time())}").strip()
        if name == "expired":
            return self.cli("token", "--role", "citizen", "--sub", "hostile-expired", "--ttl", "-60").strip()
        if name == "tampered":   # a valid token with its payload changed: the signature no longer fits
            head, payload, signature = self.get("citizen").split(".")
            return ".".join([head, payload[:-4] + ("AAAA" if payload[-4:] != "AAAA" else "BBBB"), signature])
        if name == "unsigned":   # alg "none": {"alg":"none"}.{"sub":"x","role":"admin"}.
            return "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJzdWIiOiJ4Iiwicm9sZSI6ImFkbWluIn0."
        if name == "garbage":
            return "not-a-token"
        role, _, agency = name.partition(":")
        answer = requests.post(self.api + "/dashboard/sign-in", timeout=TIMEOUT,
                               json={"role": role, **({"agency_id": self.agencies[agency]} if agency else {})})
        answer.raise_for_status()
        return str(answer.json()["token"])


# --- running and reporting ----------------------------------------------------------------

def fill(body: Any, fixtures: Mapping[str, str]) -> Any:
    """``body`` with each string ``"@name"`` replaced by the run's fixture of that name."""
    if isinstance(body, str) and body.startswith("@") and body[1:] in fixtures:
        return fixtures[body[1:]]
    if isinstance(body, dict):
        return {key: fill(value, fixtures) for key, value in body.items()}
    if isinstance(body, list):
        return [fill(value, fixtures) for value in body]
    return body


def run_probes(client: Client, probes: Sequence[Probe], fixtures: Mapping[str, str], workers: int = 4) -> list[Result]:
    """Each probe once, a few at a time (they are independent of each other)."""
    def one(probe: Probe) -> Result:
        path = probe.path.format_map(fixtures)
        try:
            response = client.call(probe.method, path, probe.who, body=fill(probe.body, fixtures), raw=probe.raw,
                                   headers=probe.headers)
        except requests.RequestException as error:
            return Result(probe.name, probe.expect.describe(), f"no answer: {type(error).__name__}", False)
        return judge(probe.name, probe.expect, response, path.split("?", 1)[0])
    with ThreadPoolExecutor(workers) as pool:
        return list(pool.map(one, probes))
