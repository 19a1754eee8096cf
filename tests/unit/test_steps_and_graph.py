"""The internal process in the catalogue, and the dossier state graph as data. Pure, no AWS."""
from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from chalicelib.dossiers.rules import transitions
from chalicelib.catalogue.rules.procedures import (
    DEFAULT_STEP_NAME, CatalogueError, Step, parse_catalogue, procedure_from_dict, procedures_to_csv,
)
from chalicelib.edge.errors import status_of
from chalicelib.kernel.errors import InvalidTransition
from tests.unit.test_catalogue import good_procedure

SCHEMAS = Path(__file__).resolve().parents[2] / "events" / "schemas"
STEPS = [{"name": "Thẩm định", "role": "officer", "unit": "Phòng Hành chính tư pháp", "days": 6},
         {"name": "Ký phiếu", "role": "leader", "unit": "Ban Giám đốc", "days": 3, "agency_id": "000.00.00.H50"},
         {"name": "Trả kết quả", "role": "officer", "unit": "Bộ phận Một cửa", "days": 1}]


def test_a_procedure_without_steps_has_one_step_covering_its_processing_time():
    procedure = procedure_from_dict(good_procedure())
    assert [(s.name, s.days, s.agency_id) for s in procedure.steps] == [(DEFAULT_STEP_NAME, 10, None)]


def test_steps_round_trip_through_json_and_csv():
    procedure = procedure_from_dict(good_procedure(steps=STEPS))
    assert [s.days for s in procedure.steps] == [6, 3, 1] and procedure.steps[1].agency_id == "000.00.00.H50"
    assert procedure_from_dict(procedure.to_dict()) == procedure
    assert parse_catalogue(procedures_to_csv([procedure]), "csv") == ([], [procedure])


def test_a_csv_without_the_steps_column_still_imports():
    rows = list(csv.reader(io.StringIO(procedures_to_csv([procedure_from_dict(good_procedure(steps=STEPS))]))))
    at = rows[0].index("steps")
    legacy = io.StringIO()
    csv.writer(legacy).writerows([cell for i, cell in enumerate(row) if i != at] for row in rows)
    assert parse_catalogue(legacy.getvalue(), "csv")[1][0].steps[0].name == DEFAULT_STEP_NAME


@pytest.mark.parametrize("steps, message", [
    ([{**STEPS[0], "days": 11}], "vượt quá thời hạn"),
    ([{**STEPS[0], "role": "citizen"}], "vai trò"),
    ([{**STEPS[0], "unit": ""}], "đơn vị"),
    ([{**STEPS[0], "days": -1}], "bước thứ 1"),
    ([{**STEPS[0], "agency_id": "bad-id"}], "mã cơ quan của bước thứ 1"),
    ("Thẩm định", "danh sách"),
    ([STEPS[0]] * 21, "tối đa 20 bước"),
])
def test_bad_steps_are_reported_in_vietnamese_on_the_steps_field(steps, message):
    with pytest.raises(CatalogueError) as info:
        procedure_from_dict(good_procedure(steps=steps))
    assert any(e.field == "steps" and message in e.message.lower() for e in info.value.errors), info.value.errors


def test_a_step_validates_itself():
    with pytest.raises(CatalogueError):
        Step("Thẩm định", "boss", "Phòng", 1)


def test_every_action_has_an_event_type_with_a_schema():
    actions = {action for (_, action) in transitions.EDGES}
    assert actions == set(transitions.EVENT_TYPES)
    for event_type in transitions.EVENT_TYPES.values():
        assert (SCHEMAS / f"{event_type}.v1.json").exists(), event_type


def test_closed_dossiers_accept_nothing_but_a_rating_after_the_result():
    for status in transitions.CLOSED:
        allowed = transitions.allowed_actions(status)
        assert allowed == (["rate"] if status == transitions.RETURNED else []), status


def test_only_an_issued_result_can_be_returned_and_only_before_a_result_can_the_citizen_withdraw():
    assert [s for (s, a) in transitions.EDGES if a == "return_result"] == [transitions.FINISHED]
    assert transitions.FINISHED not in {s for (s, a) in transitions.EDGES if a == "withdraw"}
    with pytest.raises(InvalidTransition) as info:
        transitions.next_status(transitions.PROCESSING, "return_result")
    assert status_of(info.value) == 409 and info.value.extra == {"current_status": "processing"}


def test_every_status_is_reachable_from_submission():
    reached, frontier = {None}, [None]
    while frontier:
        current = frontier.pop()
        for (status, _), target in transitions.EDGES.items():
            if status == current and target not in reached:
                reached.add(target)
                frontier.append(target)
    assert reached - {None} == set(transitions.STATUSES)
