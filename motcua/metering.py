"""Count AWS API calls per operation with a botocore ``before-call`` hook.

The hook is added to botocore's built-in handlers, so every client created afterwards
(boto3's and pynamodb's alike) reports to it; call ``install()`` before any client exists.
Counts are deterministic, so tests may assert them and ``make bench`` reports them.
"""
from __future__ import annotations

from collections import Counter
from contextlib import contextmanager
from typing import Any, Iterator

_active: list[Counter] = []
_installed = False


def _before_call(model: Any, **_: Any) -> None:
    for counter in _active:
        counter[f"{model.service_model.service_name}.{model.name}"] += 1


def install() -> None:
    global _installed
    if not _installed:
        from botocore import handlers
        handlers.BUILTIN_HANDLERS.append(("before-call", _before_call))
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
