"""Who succeeded whom: the read side of merger day. Pure.

Apart from the merger plan (chalicelib/catalogue/rules/merger.py) because every request that
checks a successor's reach needs only this, and the plan's types are not worth importing on
the API's cold start.
"""
from __future__ import annotations

from collections.abc import Mapping

from chalicelib.catalogue.rules.procedures import Agency


def predecessors(agencies: Mapping[str, Agency], agency_id: str) -> tuple[str, ...]:
    """Every retired agency whose successors lead to ``agency_id``: its officers and leaders
    read their dossiers and reports (history kept across merger day)."""
    return predecessors_map(agencies).get(agency_id, ())


def predecessors_map(agencies: Mapping[str, Agency]) -> dict[str, tuple[str, ...]]:
    """``predecessors`` of every agency at once, from one pass over the catalogue."""
    direct: dict[str, list[str]] = {}
    for agency in agencies.values():
        if agency.status == "retired" and agency.successor:
            direct.setdefault(agency.successor, []).append(agency.agency_id)
    out: dict[str, tuple[str, ...]] = {}
    for agency_id in direct:
        found: set[str] = set()
        todo = list(direct[agency_id])
        while todo:
            old = todo.pop()
            if old not in found and old != agency_id:
                found.add(old)
                todo.extend(direct.get(old, ()))
        out[agency_id] = tuple(sorted(found))
    return out
