"""Import v1 dossiers as live dossiers (`motcua legacy import-dossiers FILE`): all or nothing.

The rows are checked in full first (chalicelib/dossiers/rules/v1_import.py): the catalogue,
the codes MotCua already holds, dates and statuses; a file with any error imports nothing.
Each dossier is then written with its applicant lookup and an audit record, and no event:
it is the old system's history, not a change made here, so nothing is notified and form 06
(which v1 already reported) does not count it again. The national sync learns of them from
the caller (chalicelib/sync/use_cases/national_sync.py ``enter_unsynced``).
"""
from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from chalicelib.catalogue.use_cases.procedures import snapshot
from chalicelib.dossiers.rules import v1_import as rules
from chalicelib.dossiers.rules.processing import enter_step
from chalicelib.dossiers.rules.records import Dossier
from chalicelib.dossiers.rules.submission import new_dossier
from chalicelib.dossiers.store import dossiers as store
from chalicelib.kernel.rows import RowError
from chalicelib.kernel.working_days import default_calendar, parse_iso
from chalicelib.trust.rules import audit
from chalicelib.trust.rules.privacy import valid_id_number


def build(row: dict[str, Any]) -> Dossier:
    """The live dossier of one checked row: its procedure's rules, v1's code, dates and status.
    An accepted one stands at the first step from its acceptance, with v1's due date."""
    procedure = row["procedure"]
    dossier = new_dossier(code=row["code"], procedure=procedure, owner_sub=rules.IMPORTER, channel=row["channel"],
                          submitted_at=row["submitted_at"],
                          submission={"applicant": {}, "summary": row["summary"], "form": {}, "attachments": []})
    dossier.update(rules.dossier_fields(row))  # type: ignore[typeddict-item]
    if dossier["status"] == "accepted" and dossier.get("steps"):
        enter_step(dossier, 1, at=parse_iso(row["accepted_at"]), by=rules.IMPORTER, assignee=None, note=None,
                   calendar=default_calendar())
        dossier["due_at"] = row["due_at"]
    return dossier


def import_file(text: str, *, is_json: bool) -> list[Dossier]:
    """Check the whole file, then write every dossier; the dossiers written. ImportRejected
    (rules.ImportRejected) lists every error and nothing is written."""
    errors: list[RowError] = []
    rows = rules.read_rows(text, errors, is_json=is_json)   # a file that is not one is refused before any table is read
    catalogue = snapshot()
    calendar = default_calendar()
    known = rules.Known(procedures=catalogue.procedures, agencies=frozenset(catalogue.agencies),
                        exists=lambda code: store.get_dossier(code) is not None, valid_id_number=valid_id_number,
                        calendar_years=(calendar.first_year, calendar.last_year))
    dossiers = [build(row) for row in rules.check_file(rows, known, errors)]
    actor = audit.Actor.system("v1-import")
    written = []
    for dossier in dossiers:
        event = {"id": str(uuid.uuid4()), "type": "DossierImported", "version": dossier["version"]}
        record = audit.change(None, dossier, [event], actor, at=datetime.now(UTC))
        if store.create_imported(dossier, record):
            written.append(dossier)
    return written
