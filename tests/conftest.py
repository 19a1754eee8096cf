"""Test settings: the local stage against in-process moto, unless a test starts the stack."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any
from collections.abc import Iterator

import pytest

# Before any chalicelib import: models read the environment once.
os.environ["MOTCUA_STAGE"] = "local"
os.environ.pop("MOTCUA_AWS_ENDPOINT", None)
os.environ["AWS_DEFAULT_REGION"] = "ap-southeast-1"
os.environ["AWS_ACCESS_KEY_ID"] = "testing"
os.environ["AWS_SECRET_ACCESS_KEY"] = "testing"
os.environ.pop("AWS_PROFILE", None)
os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "MotCuaTest")
os.environ.setdefault("POWERTOOLS_DEV", "false")

from motcua import faults, metering, moto_atomic

metering.install()
faults.install()  # inert until a test opens faults.crash_at / faults.throttle
moto_atomic.install()  # concurrent tests need DynamoDB's atomic transactions from moto

ROOT = Path(__file__).resolve().parents[1]
LONGEST_FIRST = ("test_report_workload.py",)   # the 2,000-dossier workload (issue 5)


def pytest_collection_modifyitems(config: Any, items: list[Any]) -> None:
    """`make test` runs two pytest-xdist workers with ``--dist loadfile``: each file on one
    worker, so a module fixture (a local stack) starts once. Two tests/infra files may run at
    once on the two workers; their synths take turns on infra/build/ (infra.package.build_lock).
    (``--dist loadgroup`` does not group under pytest 9.2: pytest-xdist 3.8 renames a test's
    node id through an attribute pytest no longer reads.)"""
    # The longest file starts first, so one worker runs it while the other takes the rest,
    # instead of it starting last on a worker that is already busy.
    items.sort(key=lambda item: Path(str(item.fspath)).name not in LONGEST_FIRST)


class ColdStarts(pytest.MonkeyPatch):
    """A MonkeyPatch whose every change of the environment is a new cold start. The settings
    are read once per process (chalicelib/runtime/settings.py), as a Lambda reads them once
    per container; a test that sets a variable means the code to see it, and one that
    undoes its changes must leave no settings read under them behind."""

    def setenv(self, name: str, value: str, prepend: str | None = None) -> None:
        super().setenv(name, value, prepend)
        _read_settings_again()

    def delenv(self, name: str, raising: bool = True) -> None:
        super().delenv(name, raising)
        _read_settings_again()

    def undo(self) -> None:
        super().undo()
        _read_settings_again()


def _read_settings_again() -> None:
    from chalicelib.runtime.settings import settings
    settings.cache_clear()


@pytest.fixture
def monkeypatch() -> Iterator[pytest.MonkeyPatch]:
    """pytest's monkeypatch, as ColdStarts."""
    patch = ColdStarts()
    yield patch
    patch.undo()


@pytest.fixture(autouse=True)
def stays_in_the_local_stage() -> Any:
    """Every test leaves the process in the local stage it found: settings are cached and
    models bind table names on import, so a leaked stage breaks every later test in the
    worker instead of the one that leaked it. This fails the one that leaked it."""
    yield
    from chalicelib.runtime.settings import settings
    assert os.environ.get("MOTCUA_STAGE") == "local", "a test left MOTCUA_STAGE changed"
    assert settings().stage == "local", "a test left the cached settings in another stage"
