"""Fault injection at the botocore layer, for the crash-point and throttling suites.

Hooks are added to botocore's built-in handlers (like ``motcua.metering``), so every client
made afterwards — boto3's, pynamodb's, Powertools' — passes through them; call ``install()``
before any client exists. With no plan active they do nothing.

* ``crash_at(n, when)``: the n-th AWS call inside the block dies ``"before"`` it is sent or
  ``"after"`` AWS applied it (botocore's ``before-call`` / ``after-call`` events). The
  exception is a BaseException, as a Lambda killed by its timeout or an OOM: no ``except
  Exception`` and no cleanup in our code or in Powertools runs.
* ``throttle(rate, seed)``: each attempt of a DynamoDB or EventBridge call is answered, with
  probability ``rate``, by an HTTP 400 ``ProvisionedThroughputExceededException`` /
  ``ThrottlingException`` instead of reaching AWS (botocore's ``before-send`` event, ahead
  of moto's stub), so botocore's own retry mode sees a real throttling response and retries.

Written here because botocore's Stubber replaces a client's responses wholesale and cannot
pass the other calls through to moto.
"""
from __future__ import annotations

import json
import random
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from collections.abc import Iterator

THROTTLED_SERVICES = ("dynamodb", "events")
_THROTTLE_CODES = {
    "dynamodb": ("ProvisionedThroughputExceededException", "ThrottlingException"),
    "events": ("ThrottlingException",),
}
_JSON_VERSION = {"dynamodb": "1.0", "events": "1.1"}
_NOWHERE = "http://fault-injected.invalid/"   # no stub matches it, so moto leaves the request alone


class InjectedCrash(BaseException):
    """The process dies here (not an Exception: nothing may catch it and carry on)."""


@dataclass
class CrashPlan:
    n: int
    when: str                      # "before" | "after"
    calls: list[str] = field(default_factory=list)
    fired: str | None = None

    def on_call(self, name: str, when: str) -> None:
        if when == "before":
            self.calls.append(name)
        if self.fired is None and len(self.calls) == self.n and when == self.when:
            self.fired = name
            raise InjectedCrash(f"crash {when} call {self.n} ({name})")


@dataclass
class ThrottlePlan:
    rate: float
    rng: random.Random
    services: tuple[str, ...] = THROTTLED_SERVICES
    attempts: int = 0
    throttled: int = 0

    def response(self, service: str, request: Any) -> Any:
        if service not in self.services:
            return None
        self.attempts += 1
        if self.rng.random() >= self.rate:
            return None
        self.throttled += 1
        code = self.rng.choice(_THROTTLE_CODES[service])
        request.url = _NOWHERE
        return _error_response(service, code)


_crashes: list[CrashPlan] = []
_throttles: list[ThrottlePlan] = []
_installed = False


class _Raw:
    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self._body


def _error_response(service: str, code: str) -> Any:
    from botocore.awsrequest import AWSResponse
    body = json.dumps({"__type": code, "message": "Rate exceeded (injected)"}).encode()
    headers = {"Content-Type": f"application/x-amz-json-{_JSON_VERSION[service]}",
               "x-amzn-RequestId": "fault-injected"}
    return AWSResponse(_NOWHERE, 400, headers, _Raw(body))


def _service_of(event_name: str) -> str:
    """``before-send.dynamodb.GetItem`` -> ``dynamodb``; botocore names EventBridge by its
    service id (``eventbridge``), the clients by ``events``."""
    service_id = event_name.split(".")[1]
    return "events" if service_id == "eventbridge" else service_id


def _before_call(model: Any, **_: Any) -> None:
    for plan in list(_crashes):
        plan.on_call(f"{model.service_model.service_name}.{model.name}", "before")


def _after_call(model: Any, **_: Any) -> None:
    for plan in list(_crashes):
        plan.on_call(f"{model.service_model.service_name}.{model.name}", "after")


def _before_send(request: Any, event_name: str, **_: Any) -> Any:
    service = _service_of(event_name)
    for plan in list(_throttles):
        response = plan.response(service, request)
        if response is not None:
            return response
    return None


def install() -> None:
    global _installed
    if not _installed:
        from botocore import handlers
        handlers.BUILTIN_HANDLERS.append(("before-call", _before_call))
        handlers.BUILTIN_HANDLERS.append(("after-call", _after_call))
        handlers.BUILTIN_HANDLERS.append(("before-send", _before_send, handlers.REGISTER_FIRST))
        _installed = True


@contextmanager
def crash_at(n: int, when: str) -> Iterator[CrashPlan]:
    """The n-th AWS call made inside the block raises InjectedCrash ``when`` it is made."""
    install()
    plan = CrashPlan(n, when)
    _crashes.append(plan)
    try:
        yield plan
    finally:
        _crashes.remove(plan)


@contextmanager
def throttle(rate: float, seed: int, *, services: tuple[str, ...] = THROTTLED_SERVICES,
             instant_retries: bool = True) -> Iterator[ThrottlePlan]:
    """Throttle ``rate`` of the DynamoDB/EventBridge attempts made inside the block.
    ``instant_retries`` sets botocore's backoff delay to zero (jitter up to seconds per retry
    would make a 100-operation run take minutes); the retry decisions are botocore's own."""
    install()
    plan = ThrottlePlan(rate, random.Random(seed), services)
    _throttles.append(plan)
    from botocore.retries import standard
    original = standard.ExponentialBackoff.delay_amount
    if instant_retries:
        standard.ExponentialBackoff.delay_amount = lambda self, context: 0   # type: ignore[method-assign]
    try:
        yield plan
    finally:
        standard.ExponentialBackoff.delay_amount = original   # type: ignore[method-assign]
        _throttles.remove(plan)
