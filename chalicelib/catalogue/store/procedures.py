"""Catalogue repository: procedures and agencies, cached in a warm Lambda.

The catalogue is small (hundreds of procedures) and changes rarely, so one Scan fills a
process-wide cache for ``catalogue_cache_seconds``; submissions then cost no catalogue read.
``to_item``/``from_item`` are the one mapping between a Procedure or an Agency and its item.
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


def snapshot() -> Snapshot:
    global _cache
    if _cache is None or time.monotonic() - _cache.loaded_at > settings().catalogue_cache_seconds:
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
    agency = snapshot().agencies.get(agency_id)
    return agency.name if agency else agency_id


def invalidate() -> None:
    global _cache
    _cache = None


def save_catalogue(agencies: list[Agency], procedures: list[Procedure]) -> int:
    """Upsert every agency and procedure in batches. Returns the number of items written."""
    with CatalogueItem.batch_write() as batch:
        records: list[Procedure | Agency] = [*agencies, *procedures]
        for record in records:
            batch.save(to_item(record))
    invalidate()
    return len(agencies) + len(procedures)
