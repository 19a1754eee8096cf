"""Merger plans: parsing, each refusal of the validation, and the catalogue steps (pure)."""
from __future__ import annotations

import json
from datetime import date

import pytest

from chalicelib.catalogue.rules.merger import PlanInvalid, catalogue_steps, parse_plan, validate
from chalicelib.catalogue.rules.succession import predecessors
from chalicelib.catalogue.rules.procedures import Agency, Procedure, Step, load_catalogue_file
from motcua.seed import seed_path

DAY = "2025-07-01"


def agency(code: str, **extra: object) -> Agency:
    return Agency(code, f"Cơ quan {code}", "department", **extra)  # type: ignore[arg-type]


def procedure(code: str, agency_id: str, steps: tuple[Step, ...] = ()) -> Procedure:
    return Procedure(code, f"Thủ tục {code}", "Tư pháp", "TP", agency_id, 5, "full", (), (), "resume", steps=steps)


CATALOGUE = {a.agency_id: a for a in (agency("A"), agency("B"), agency("C"), agency("D"),
                                      agency("OLD", status="retired", successor="C", effective_date="2020-01-01"))}
PROCEDURES = [procedure("1.000001", "A"), procedure("1.000002", "A"), procedure("1.000003", "B")]


def plan(*changes: dict, new_agencies: list | None = None) -> str:
    return json.dumps({"plan_id": "p1", "new_agencies": new_agencies or [], "changes": list(changes)})


def codes(text: str) -> list[str]:
    return [e.code for e in validate(parse_plan(text), CATALOGUE, PROCEDURES)]


def test_a_valid_merge_has_no_error_and_retires_then_moves_procedures():
    text = plan({"kind": "merge", "agencies": ["A", "B"], "successor": "C", "effective_date": DAY})
    assert codes(text) == []
    steps = catalogue_steps(parse_plan(text), CATALOGUE, PROCEDURES)
    assert [s.key for s in steps] == ["agency:A:retire", "agency:B:retire", "procedure:1.000001:move",
                                      "procedure:1.000002:move", "procedure:1.000003:move"]
    assert {s.record.agency_id for s in steps if isinstance(s.record, Procedure)} == {"C"}


def test_unknown_codes_are_refused():
    assert codes(plan({"kind": "merge", "agencies": ["NOPE"], "successor": "C", "effective_date": DAY})) == ["unknown_agency"]
    assert codes(plan({"kind": "retire", "agency_id": "A", "successor": "NOPE", "effective_date": DAY})) == ["unknown_agency"]


def test_a_cycle_is_refused():
    found = codes(plan({"kind": "retire", "agency_id": "A", "successor": "B", "effective_date": DAY},
                       {"kind": "retire", "agency_id": "B", "successor": "A", "effective_date": DAY}))
    assert found == ["cycle", "cycle"]


def test_a_successor_that_is_itself_retired_is_refused():
    assert codes(plan({"kind": "merge", "agencies": ["A"], "successor": "OLD", "effective_date": DAY})) == ["successor_retired"]
    chained = plan({"kind": "merge", "agencies": ["A"], "successor": "B", "effective_date": DAY},
                   {"kind": "merge", "agencies": ["B"], "successor": "C", "effective_date": DAY})
    assert codes(chained) == ["successor_retired"]


def test_procedures_left_without_an_agency_are_refused():
    assert codes(plan({"kind": "retire", "agency_id": "A", "effective_date": DAY})) == ["procedures_orphaned"]
    assert codes(plan({"kind": "retire", "agency_id": "D", "effective_date": DAY})) == []   # D serves nothing


def test_a_split_maps_procedures_and_refuses_one_the_agency_does_not_serve():
    text = plan({"kind": "split", "agency_id": "A", "successor": "C",
                 "procedures": {"1.000001": "C", "1.000002": "D"}, "effective_date": DAY})
    assert codes(text) == []
    moved = {s.record.procedure_code: s.record.agency_id for s in catalogue_steps(parse_plan(text), CATALOGUE, PROCEDURES)
             if isinstance(s.record, Procedure)}
    assert moved == {"1.000001": "C", "1.000002": "D"}
    assert codes(plan({"kind": "split", "agency_id": "A", "successor": "C", "procedures": {"1.000003": "D"},
                       "effective_date": DAY})) == ["unknown_procedure"]


def test_an_agency_changed_twice_or_already_retired_is_refused():
    assert "changed_twice" in codes(plan({"kind": "merge", "agencies": ["A"], "successor": "C", "effective_date": DAY},
                                         {"kind": "retire", "agency_id": "A", "successor": "D", "effective_date": DAY}))
    assert codes(plan({"kind": "retire", "agency_id": "OLD", "successor": "D", "effective_date": DAY})) == ["already_retired"]


def test_malformed_plans_name_each_bad_change():
    with pytest.raises(PlanInvalid) as refused:
        parse_plan(json.dumps({"plan_id": "bad id!", "changes": [{"kind": "explode"}, {"kind": "merge",
                                                                               "effective_date": "1/7/2025"}]}))
    assert [(e.change, e.code) for e in refused.value.errors] == [(0, "invalid_plan"), (1, "invalid_plan"),
                                                                 (2, "invalid_plan")]


def test_a_rename_with_a_new_code_creates_it_and_retires_the_old_one():
    text = plan({"kind": "rename", "agency_id": "A", "name": "Sở mới", "new_agency_id": "A2", "effective_date": DAY})
    parsed = parse_plan(text)
    assert validate(parsed, CATALOGUE, PROCEDURES) == []
    steps = catalogue_steps(parsed, CATALOGUE, PROCEDURES)
    assert steps[0].key == "agency:A2:rename" and steps[0].record == Agency("A2", "Sở mới", "department")
    assert steps[1].key == "agency:A:retire"


def test_a_plan_already_applied_validates_and_has_no_step_left():
    text = plan({"kind": "merge", "agencies": ["A"], "successor": "C", "effective_date": DAY})
    parsed = parse_plan(text)
    agencies, procedures = dict(CATALOGUE), list(PROCEDURES)
    for step in catalogue_steps(parsed, agencies, procedures):
        if isinstance(step.record, Agency):
            agencies[step.record.agency_id] = step.record
        else:
            procedures = [step.record if p.procedure_code == step.record.procedure_code else p for p in procedures]
    assert validate(parsed, agencies, procedures) == []
    assert catalogue_steps(parsed, agencies, procedures) == []


def test_a_moved_procedure_hands_over_to_the_successor_where_it_handed_over_to_the_old_agency():
    handover = procedure("1.000009", "B", steps=(Step("Thẩm định", "officer", "Phòng", 2, "A"),
                                                Step("Trả kết quả", "officer", "Một cửa", 1)))
    text = plan({"kind": "merge", "agencies": ["A"], "successor": "C", "effective_date": DAY})
    steps = catalogue_steps(parse_plan(text), CATALOGUE, [*PROCEDURES, handover])
    assert all(s.record.procedure_code != "1.000009" for s in steps if isinstance(s.record, Procedure))
    from chalicelib.catalogue.rules.merger import moved
    assert moved(handover, "A", "C").steps[0].agency_id == "C"


def test_later_changes_wait_for_their_day():
    text = plan({"kind": "merge", "agencies": ["A"], "successor": "C", "effective_date": "2030-01-01"})
    assert parse_plan(text).due(date(2029, 12, 31)).retirements == ()
    assert len(parse_plan(text).due(date(2030, 1, 1)).retirements) == 1


def test_predecessors_follow_successions_transitively():
    agencies = {**CATALOGUE, "A": agency("A", status="retired", successor="OLD", effective_date=DAY)}
    assert predecessors(agencies, "C") == ("A", "OLD")
    assert predecessors(agencies, "B") == ()


def test_the_shipped_example_plan_is_valid_against_the_sample_catalogue():
    agencies, procedures = load_catalogue_file(seed_path())
    text = (seed_path().parent / "merger_plan.json").read_text(encoding="utf-8")
    assert validate(parse_plan(text), {a.agency_id: a for a in agencies}, procedures) == []
    assert "SAMPLE DATA" in json.loads(text)["_note"]
    assert "SAMPLE DATA" in json.loads(seed_path().read_text(encoding="utf-8"))["_sample_merger"]


def test_importing_an_old_catalogue_file_does_not_undo_merger_day():
    from chalicelib.catalogue.rules.merger import keep_retirements
    retired = agency("A", status="retired", successor="C", effective_date=DAY)
    served = procedure("1.000001", "C")
    agencies, procedures, kept = keep_retirements(
        [agency("A"), agency("B")], [procedure("1.000001", "A"), procedure("1.000003", "B")],
        {"A": retired, "B": agency("B")}, {"1.000001": served})
    assert agencies == [retired, agency("B")] and procedures == [served, procedure("1.000003", "B")]
    assert kept == ["A", "1.000001"]
