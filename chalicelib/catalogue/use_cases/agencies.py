"""Use cases of the agencies: the list and one agency (GET /agencies), who succeeded whom
(read reach of a successor's staff, report roll-up) and whether an agency still takes dossiers.
Other contexts ask here, never the catalogue store."""
from __future__ import annotations

from datetime import date
from typing import Any

from chalicelib.catalogue.rules.succession import predecessors_map
from chalicelib.catalogue.rules.procedures import Agency
from chalicelib.catalogue.store import procedures as catalogue_store
from chalicelib.kernel.errors import Conflict, NotFound


def successions() -> dict[str, tuple[str, date]]:
    """Retired agency -> (successor, effective day), as the catalogue holds them."""
    return {a.agency_id: (a.successor, date.fromisoformat(a.effective_date))
            for a in catalogue_store.snapshot().agencies.values()
            if a.status == "retired" and a.successor and a.effective_date}


def agency_views() -> list[dict[str, Any]]:
    """Every agency as GET /agencies shows it, by code."""
    known = catalogue_store.snapshot().agencies
    before = predecessors_map(known)
    return [{**known[code].to_dict(), "predecessors": list(before.get(code, ()))} for code in sorted(known)]


def get_agency(agency_id: str) -> Agency:
    agency = catalogue_store.agency(agency_id)
    if agency is None:
        raise NotFound("Không tìm thấy cơ quan với mã đã cho.", code="unknown_agency")
    return agency


def agency_view(agency: Agency) -> dict[str, Any]:
    """An agency as GET /agencies shows it, with the agencies it succeeded."""
    return {**agency.to_dict(), "predecessors": list(predecessors_of(agency.agency_id))}


_by_snapshot: tuple[float, dict[str, tuple[str, ...]]] | None = None


def predecessors_of(agency_id: str) -> tuple[str, ...]:
    """The retired agencies whose history ``agency_id`` inherited (read reach of its staff).
    Asked on every staff request, so computed once per catalogue snapshot."""
    global _by_snapshot
    snapshot = catalogue_store.snapshot()
    if _by_snapshot is None or _by_snapshot[0] != snapshot.loaded_at:
        _by_snapshot = (snapshot.loaded_at, predecessors_map(snapshot.agencies))
    return _by_snapshot[1].get(agency_id, ())


def check_serving(agency_id: str, day: date) -> None:
    """409 ``agency_retired`` naming the successor when the agency no longer takes dossiers."""
    agency = catalogue_store.agency(agency_id)   # by key: a cold submission scans no catalogue
    if agency is None or not agency.retired_on(day):
        return
    successor = catalogue_store.agency(agency.successor) if agency.successor else None
    name = successor.name if successor else None
    message = (f"{agency.name} đã ngừng tiếp nhận hồ sơ từ ngày {agency.effective_date}; "
               + (f"vui lòng nộp hồ sơ tới {name} ({agency.successor})." if name else "cơ quan không có đơn vị kế thừa."))
    raise Conflict(message, code="agency_retired",
                   extra={"agency_id": agency.agency_id, "successor": agency.successor, "successor_name": name,
                          "effective_date": agency.effective_date})
