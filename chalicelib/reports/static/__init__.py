"""Static files served by the API: the dashboard page and its pinned, vendored Chart.js
(v4.6.1 from the npm registry, MIT licence in chart.js.LICENSE.md)."""
from __future__ import annotations

from functools import cache
from pathlib import Path


@cache
def read_static(name: str) -> str:
    return (Path(__file__).parent / name).read_text(encoding="utf-8")
