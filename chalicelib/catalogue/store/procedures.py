"""Catalogue repository: procedures and agencies, cached in a warm Lambda.

The catalogue changes rarely, so what a process reads is cached for ``catalogue_cache_seconds``.
Two reads, for two needs: ``snapshot`` (one Scan of the whole catalogue) serves the lists,
searches and reports; ``procedure``/``agency`` (one GetItem each) serve a single dossier. A
province's catalogue holds one to two thousand procedures, so a cold Lambda that submits one
dossier must not scan and validate all of them first; a warm one reads neither (the snapshot,
when loaded and fresh, answers both). ``to_item``/``from_item`` are the one mapping between a
Procedure or an Agency and its item.
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass

from chalicelib.catalogue.rules.procedures import Agency, Procedure, agency_from_dict, procedure_from_dict
from chalicelib.runtime.settings import settings
from chalicelib.runtime.models import CatalogueItem


@dataclass(frozen=True)
class Snapshot:
    procedures: dict[str, Procedure]
    agencies: dict[str, Agency]
    loaded_at: float


_cache: Snapshot | None = None
# One record read by key: (when it was read, the record or None when the catalogue lacks it).
_records: dict[tuple[str, str], tuple[float, Procedure | Agency | None]] = {}


def _fresh(loaded_at: float) -> bool:
    return time.monotonic() - loaded_at <= settings().catalogue_cache_seconds


def snapshot() -> Snapshot:
    global _cache
    if _cache is None or not _fresh(_cache.loaded_at):
        procedures: dict[str, Procedure] = {}
        agencies: dict[str, Agency] = {}
        for item in CatalogueItem.scan():
            record = from_item(item)
            if isinstance(record, Procedure):
                procedures[record.procedure_code] = record
            elif isinstance(record, Agency):
                agencies[record.agency_id] = record
        _cache = Snapshot(procedures, agencies, time.monotonic())
    return _cache


def procedure(code: str) -> Procedure | None:
    """One procedure, or None when the catalogue has no such procedure."""
    if _cache is not None and _fresh(_cache.loaded_at):
        return _cache.procedures.get(code)
    record = _read("PROCEDURE", code)
    return record if isinstance(record, Procedure) else None


def agency(agency_id: str) -> Agency | None:
    """One agency, or None when the catalogue has no such agency."""
    if _cache is not None and _fresh(_cache.loaded_at):
        return _cache.agencies.get(agency_id)
    record = _read("AGENCY", agency_id)
    return record if isinstance(record, Agency) else None


def _read(kind: str, key: str) -> Procedure | Agency | None:
    cached = _records.get((kind, key))
    if cached is None or not _fresh(cached[0]):
        try:
            record = from_item(CatalogueItem.get(f"{kind}#{key}", kind))
        except CatalogueItem.DoesNotExist:
            record = None
        cached = _records[(kind, key)] = (time.monotonic(), record)
    return cached[1]


def to_item(record: Procedure | Agency) -> CatalogueItem:
    """The item of a procedure or an agency: the record as JSON in ``body``, ``kind`` saying which."""
    body = json.dumps(record.to_dict(), ensure_ascii=False)
    if isinstance(record, Procedure):
        return CatalogueItem(pk=f"PROCEDURE#{record.procedure_code}", sk="PROCEDURE", kind="procedure", body=body)
    return CatalogueItem(pk=f"AGENCY#{record.agency_id}", sk="AGENCY", kind="agency", body=body)


def from_item(item: CatalogueItem) -> Procedure | Agency | None:
    """The record an item holds (validated again), or None for an item of another kind."""
    if item.kind == "procedure":
        return procedure_from_dict(json.loads(item.body))
    if item.kind == "agency":
        return agency_from_dict(json.loads(item.body))
    return None


def agency_name(agency_id: str) -> str:
    """The agency's name for people, or its id when the catalogue does not know it."""
    found = agency(agency_id)
    return found.name if found else agency_id


def invalidate() -> None:
    global _cache
    _cache = None
    _records.clear()


def save_catalogue(agencies: list[Agency], procedures: list[Procedure]) -> int:
    """Upsert every agency and procedure in batches. Returns the number of items written."""
    with CatalogueItem.batch_write() as batch:
        records: list[Procedure | Agency] = [*agencies, *procedures]
        for record in records:
            batch.save(to_item(record))
    invalidate()
    return len(agencies) + len(procedures)
