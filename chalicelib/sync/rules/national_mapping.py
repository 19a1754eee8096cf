"""Dossier versions -> National Public Service Portal (DVCQG) calls. Pure.

Three services carry what MotCua knows (national-portal.md §2): ``DongBoHoSoMC`` creates or
updates the dossier as a whole, ``CapNhatTienDoHoSoMC`` takes progress records and
``DongBoDanhGia`` ratings. A status change sends the dossier as it is now (so a retried or
late message never moves the portal back to an older state), then the progress records its
transition produced; which event goes to which service, and the status and channel codes,
are configuration (chalicelib/sync/data/national_status.json, replaceable with
MOTCUA_NATIONAL_STATUS_MAP). The records themselves are built in national_record.py.
"""
from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from chalicelib.dossiers.rules.records import Dossier
from chalicelib.dossiers.rules.transitions import EVENT_TYPES
from chalicelib.sync.rules.national_record import (
    RecordFacts, dossier_record, portal_time, progress_for, progress_records, rating_record,
)

__all__ = ["portal_time"]   # re-exported: callers format portal times from here
PACKAGED_MAP = Path(__file__).parents[1] / "data" / "national_status.json"
DOSSIER_SERVICE = "DongBoHoSoMC"
PROGRESS_SERVICE = "CapNhatTienDoHoSoMC"
LOOKUP_SERVICE = "TraCuuHoSo"
PROCEDURE_SERVICE = "LayThuTuc"
RATING_SERVICE = "DongBoDanhGia"
SERVICES = (DOSSIER_SERVICE, PROGRESS_SERVICE, LOOKUP_SERVICE, PROCEDURE_SERVICE, RATING_SERVICE)
SNAPSHOT_EVENT = "SyncRequested"          # backfill: send the dossier as it is now
EVENT_ACTIONS = {event_type: action for action, event_type in EVENT_TYPES.items()}


@dataclass(frozen=True)
class NationalConfig:
    statuses: Mapping[str, int]            # MotCua status -> TrangThaiHoSo
    channels: Mapping[str, int]            # intake channel -> KenhThucHien
    services: Mapping[str, str | None]     # event type -> service (None: nothing to send)


@cache
def national_config() -> NationalConfig:
    from chalicelib.runtime.settings import settings
    path = settings().national.status_map_file or PACKAGED_MAP
    return load_config(json.loads(Path(path).read_text(encoding="utf-8")))


def load_config(data: Mapping[str, Any]) -> NationalConfig:
    """Strict: a status without a code would silently never reach the portal."""
    from chalicelib.dossiers.rules.transitions import EVENT_TYPES, STATUSES

    statuses, channels, services = data.get("statuses", {}), data.get("channels", {}), data.get("services", {})
    if missing := sorted(set(STATUSES) - set(statuses)):
        raise ValueError(f"national status map lacks {missing}")
    if bad := sorted(k for k, v in statuses.items() if not (isinstance(v, int) and 1 <= v <= 10)):
        raise ValueError(f"TrangThaiHoSo must be 1..10 for {bad}")
    if missing := sorted(set(EVENT_TYPES.values()) - set(services)):
        raise ValueError(f"national service map lacks {missing}")
    if bad := sorted(k for k, v in services.items() if v not in (DOSSIER_SERVICE, PROGRESS_SERVICE, RATING_SERVICE, None)):
        raise ValueError(f"unknown service for {bad}")
    return NationalConfig(dict(statuses), dict(channels), dict(services))


def record_facts(config: NationalConfig, agency_names: Mapping[str, str],
                 link: Callable[[Mapping[str, Any]], str]) -> RecordFacts:
    """The facts the record builders need (chalicelib/sync/rules/national_record.py)."""
    return RecordFacts(statuses=config.statuses, channels=config.channels, agency_names=agency_names, link=link)


Calls = list[tuple[str, list[dict[str, Any]]]]


def messages_for(event: Mapping[str, Any], dossier: Dossier, config: NationalConfig, facts: RecordFacts) -> Calls:
    """The calls to make for this event, in order, each (service, records). A status change
    sends the dossier as it is now, then the progress records its transition produced; a
    step move sends its progress; a rating sends the rating; a backfill (SyncRequested) sends
    the dossier, its whole progress and its rating. Empty when the portal needs nothing."""
    if event["type"] == SNAPSHOT_EVENT:
        rating = rating_record(dossier, facts)
        return _non_empty([(DOSSIER_SERVICE, [dossier_record(dossier, facts)]),
                           (PROGRESS_SERVICE, progress_records(dossier, facts)),
                           (RATING_SERVICE, [rating] if rating else [])])
    service = config.services.get(event["type"])
    progress = progress_for(dossier, facts, EVENT_ACTIONS.get(event["type"], ""), event.get("occurred_at", ""))
    if service == DOSSIER_SERVICE:
        return _non_empty([(DOSSIER_SERVICE, [dossier_record(dossier, facts)]), (PROGRESS_SERVICE, progress)])
    if service == PROGRESS_SERVICE:
        return _non_empty([(PROGRESS_SERVICE, progress)])
    if service == RATING_SERVICE:
        rating = rating_record(dossier, facts)
        return _non_empty([(RATING_SERVICE, [rating] if rating else [])])
    return []


def _non_empty(calls: Calls) -> Calls:
    return [(service, records) for service, records in calls if records]
