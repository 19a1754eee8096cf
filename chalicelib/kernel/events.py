"""Event envelopes. Pure: building and shaping events, never sending them.

Every event carries a unique id, its type and schema version, the dossier code and the
dossier's version after the change, so consumers can deduplicate on ``id`` and order per
dossier on ``version``. Personal data stays out of events: consumers that need the
applicant read the dossier by code.
"""
from __future__ import annotations

import json
import uuid
from typing import Any
from collections.abc import Mapping

SOURCE = "motcua.dossiers"
SCHEMA_VERSION = 1


def new_event(event_type: str, *, dossier_code: str, version: int, occurred_at: str,
              agency_id: str, procedure_code: str, status: str, data: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": str(uuid.uuid4()),
        "type": event_type,
        "schema_version": SCHEMA_VERSION,
        "dossier_code": dossier_code,
        "version": version,
        "occurred_at": occurred_at,
        "agency_id": agency_id,
        "procedure_code": procedure_code,
        "status": status,
        "data": data,
    }


def put_events_entry(event: dict[str, Any], bus_name: str) -> dict[str, Any]:
    """The EventBridge PutEvents entry for an envelope."""
    return {
        # A context other than the dossiers' may name itself (feedback: "motcua.feedback"), so
        # the rules that want dossier changes only (national sync, notifications) skip it.
        "Source": event.get("source", SOURCE),
        "DetailType": event["type"],
        "Detail": json.dumps(event, ensure_ascii=False, separators=(",", ":")),
        "EventBusName": bus_name,
        "Resources": [],
    }


def dossier_event(event_type: str, dossier: Mapping[str, Any], *, occurred_at: str, data: dict[str, Any]) -> dict[str, Any]:
    """An event about a dossier's new version (the dossier dict after the change)."""
    return new_event(event_type, dossier_code=dossier["code"], version=dossier["version"], occurred_at=occurred_at,
                     agency_id=dossier["agency_id"], procedure_code=dossier["procedure_code"],
                     status=dossier["status"], data=data)
