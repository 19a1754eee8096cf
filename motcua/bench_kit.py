"""What every `make bench` suite shares: a result row against its budget, and the API over
in-process moto. Its own module so the suites (motcua.bench, motcua.bench_workflow) import it
and the runner imports the suites, with no cycle between them.
"""
from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from collections.abc import Iterator


@dataclass
class Row:
    figure: str
    value: float
    budget: float
    unit: str = ""
    higher_is_better: bool = False

    @property
    def ok(self) -> bool:
        return self.value >= self.budget if self.higher_is_better else self.value <= self.budget

    def cells(self) -> list[str]:
        sign = ">=" if self.higher_is_better else "<="
        fmt = (lambda v: f"{v:,.0f}") if max(self.value, self.budget) >= 100 else (lambda v: f"{v:.2f}".rstrip("0").rstrip("."))
        return [self.figure, f"{fmt(self.value)}{self.unit}", f"{sign} {fmt(self.budget)}{self.unit}",
                "pass" if self.ok else "FAIL"]


@contextmanager
def local_app() -> Iterator[tuple[Any, Any]]:
    """The API (chalice test client) over in-process moto with the sample catalogue."""
    from chalice.test import Client
    from moto import mock_aws

    with mock_aws():
        from app import app
        from motcua.provision import fresh_local_stack
        session = fresh_local_stack()
        with Client(app, stage_name="local") as client:
            yield client, session
