"""Count AWS API calls per operation with a botocore ``before-call`` hook.

The hook is added to botocore's built-in handlers, so every client created afterwards
(boto3's and pynamodb's alike) reports to it; call ``install()`` before any client exists.
Counts are deterministic, so tests may assert them and ``make bench`` reports them.
"""
from __future__ import annotations

import copy
from collections import Counter
from contextlib import contextmanager
from typing import Any
from collections.abc import Iterator

_active: list[Counter] = []
_recorders: list[list[Call]] = []
_installed = False

Call = tuple[str, str, dict]   # (service, operation, API parameters), replayable with client._make_api_call


def _before_call(model: Any, **_: Any) -> None:
    for counter in _active:
        counter[f"{model.service_model.service_name}.{model.name}"] += 1


def _before_parameter_build(params: dict, model: Any, **_: Any) -> None:
    for recorder in _recorders:
        recorder.append((model.service_model.service_name, model.name, copy.deepcopy(params)))


def install() -> None:
    global _installed
    if not _installed:
        from botocore import handlers
        handlers.BUILTIN_HANDLERS.append(("before-call", _before_call))
        handlers.BUILTIN_HANDLERS.append(("before-parameter-build", _before_parameter_build))
        _installed = True


class Calls(Counter):
    def service(self, name: str) -> int:
        return sum(count for key, count in self.items() if key.startswith(f"{name}."))


@contextmanager
def aws_calls() -> Iterator[Calls]:
    install()
    counter = Calls()
    _active.append(counter)
    try:
        yield counter
    finally:
        _active.remove(counter)


@contextmanager
def recording() -> Iterator[list[Call]]:
    """Every AWS call made inside the block, with its parameters, in order (for replays)."""
    install()
    calls: list[Call] = []
    _recorders.append(calls)
    try:
        yield calls
    finally:
        _recorders.remove(calls)
