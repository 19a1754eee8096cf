"""Catalogue repository: procedures and agencies, cached in a warm Lambda.

The catalogue is small (hundreds of procedures) and changes rarely, so one Scan fills a
process-wide cache for ``catalogue_cache_seconds``; submissions then cost no catalogue read.
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
            data = json.loads(item.body)
            if item.kind == "procedure":
                procedures[data["procedure_code"]] = procedure_from_dict(data)
            elif item.kind == "agency":
                agencies[data["agency_id"]] = agency_from_dict(data)
        _cache = Snapshot(procedures, agencies, time.monotonic())
    return _cache


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
        for agency in agencies:
            batch.save(CatalogueItem(pk=f"AGENCY#{agency.agency_id}", sk="AGENCY", kind="agency",
                                     body=json.dumps(agency.to_dict(), ensure_ascii=False)))
        for procedure in procedures:
            batch.save(CatalogueItem(pk=f"PROCEDURE#{procedure.procedure_code}", sk="PROCEDURE",
                                     kind="procedure",
                                     body=json.dumps(procedure.to_dict(), ensure_ascii=False)))
    invalidate()
    return len(agencies) + len(procedures)
