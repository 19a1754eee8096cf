"""The national portal records of a dossier, with the facts they need looked up.

The builders (chalicelib/sync/rules/national_record.py) are pure; this is where their facts
come from: the status and channel codes (configuration), the agencies' names (the
catalogue) and each file's public link (chalicelib/dossiers/use_cases/file_links.py, which
issues a link the first time a file is synced and gives the same one after). The sync
consumer, ``motcua sync show`` and ``motcua sync check`` all build records here, so what
they show is what is sent.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from chalicelib.catalogue.use_cases import procedures as catalogue
from chalicelib.dossiers.rules.records import Dossier
from chalicelib.dossiers.use_cases import file_links
from chalicelib.sync.rules import national_profile as profile
from chalicelib.sync.rules.national_mapping import (
    DOSSIER_SERVICE, PROGRESS_SERVICE, RATING_SERVICE, Calls, messages_for, national_config, record_facts,
)
from chalicelib.sync.rules.national_record import RecordFacts, dossier_record, progress_records, rating_record


def facts_for(dossier: Mapping[str, Any]) -> RecordFacts:
    """The names of the agencies the records name (read by key, cached per warm Lambda) and
    the dossier's file links."""
    named = {dossier["agency_id"], dossier.get("receiving_agency_id") or dossier["agency_id"]}
    return record_facts(national_config(), {agency_id: catalogue.agency_name(agency_id) for agency_id in named},
                        file_links.linker(dossier))


def calls_for(event: Mapping[str, Any], dossier: Dossier) -> Calls:
    """The calls the sync consumer makes for this event, in order."""
    return messages_for(event, dossier, national_config(), facts_for(dossier))


def records_of(dossier: Dossier) -> dict[str, list[dict[str, Any]]]:
    """Everything the portal would hold of the dossier now, by service."""
    facts = facts_for(dossier)
    rating = rating_record(dossier, facts)
    return {DOSSIER_SERVICE: [dossier_record(dossier, facts)], PROGRESS_SERVICE: progress_records(dossier, facts),
            RATING_SERVICE: [rating] if rating else []}


def problems_of(dossier: Dossier) -> list[profile.Problem]:
    """What the portal would refuse, or count against the province, in the dossier's records."""
    records = records_of(dossier)
    procedure = catalogue.procedure(dossier["procedure_code"])
    result_is_document = bool(getattr(procedure, "result_is_document", True)) if procedure else True
    found = [p for record in records[DOSSIER_SERVICE] for p in profile.check(record, profile.DOSSIER)]
    found += profile.missing_result(records[DOSSIER_SERVICE][0], result_is_document=result_is_document)
    for service in (PROGRESS_SERVICE, RATING_SERVICE):
        found += [p for i, record in enumerate(records[service])
                  for p in profile.check(record, profile.PROFILES[service], f"{service}[{i}].")]
    return found
