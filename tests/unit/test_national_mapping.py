"""Dossier events -> national portal calls, and the configuration behind them. Pure."""
from __future__ import annotations

import pytest

from chalicelib.dossiers.rules import transitions
from chalicelib.kernel.events import new_event
from chalicelib.kernel.working_days import iso
from chalicelib.sync.rules.national_mapping import (
    DOSSIER_SERVICE, PROGRESS_SERVICE, RATING_SERVICE, SNAPSHOT_EVENT, load_config, messages_for, national_config,
    portal_time,
)
from tests.unit.test_national_record import FACTS, whole_life
from tests.unit.test_processing import accepted, at, run


def event(dossier, event_type, when):
    return new_event(event_type, dossier_code=dossier["code"], version=dossier["version"], occurred_at=iso(when),
                     agency_id=dossier["agency_id"], procedure_code=dossier["procedure_code"],
                     status=dossier["status"], data={})


def calls(d, event_type, when):
    return [(service, len(records)) for service, records in messages_for(event(d, event_type, when), d,
                                                                         national_config(), FACTS)]


def test_portal_times_are_local_24_hour_clock_digits():
    assert portal_time("2026-11-20T08:30:05Z") == "20261120153005"   # 15:30 in Hà Nội, never "03"
    assert portal_time("2026-11-20T23:59:59+07:00") == "20261120235959"
    assert portal_time(None) == ""


def test_every_status_and_event_type_is_configured():
    config = national_config()
    assert set(config.statuses) == set(transitions.STATUSES)
    assert sorted(config.statuses.values()) == [1, 2, 3, 4, 5, 7, 8, 9, 10]
    assert set(config.services) == set(transitions.EVENT_TYPES.values())
    assert config.services["DossierRated"] == RATING_SERVICE


@pytest.mark.parametrize("broken, message", [
    ({"statuses": {"submitted": 1}}, "lacks"),
    ({"statuses": dict.fromkeys(transitions.STATUSES, 11)}, "1..10"),
])
def test_a_broken_status_map_is_refused(broken, message):
    with pytest.raises(ValueError, match=message):
        load_config(broken)


def test_acceptance_sends_the_dossier_then_its_acceptance_and_first_step_progress():
    assert calls(accepted(), "DossierAccepted", at(2)) == [(DOSSIER_SERVICE, 1), (PROGRESS_SERVICE, 2)]


def test_a_status_change_with_no_progress_of_its_own_sends_the_dossier_only():
    d = accepted()
    run(d, "request_supplement", at(4, 15), "supplement_requested", reason="Thiếu bản vẽ", documents=["Bản vẽ"])
    assert calls(d, "DossierSupplementRequested", at(4, 15)) == [(DOSSIER_SERVICE, 1)]


def test_a_step_move_sends_its_progress_only():
    d = accepted()
    run(d, "forward", at(4, 14), "processing", to_step=3, assignee="lanh-dao", note="Trình ký")
    assert calls(d, "DossierForwarded", at(4, 14)) == [(PROGRESS_SERVICE, 1)]


def test_the_end_of_processing_and_the_return_send_their_progress():
    d = whole_life()
    assert calls(d, "DossierResultIssued", at(9, 16)) == [(DOSSIER_SERVICE, 1), (PROGRESS_SERVICE, 1)]
    assert calls(d, "DossierResultReturned", at(10, 10)) == [(DOSSIER_SERVICE, 1), (PROGRESS_SERVICE, 1)]


def test_a_rating_sends_the_rating_and_a_backfill_sends_everything():
    d = whole_life()
    assert calls(d, "DossierRated", at(10, 11)) == [(RATING_SERVICE, 1)]
    assert calls(d, SNAPSHOT_EVENT, at(12)) == [(DOSSIER_SERVICE, 1), (PROGRESS_SERVICE, 5), (RATING_SERVICE, 1)]
    assert calls(accepted(), SNAPSHOT_EVENT, at(12)) == [(DOSSIER_SERVICE, 1), (PROGRESS_SERVICE, 2)]
