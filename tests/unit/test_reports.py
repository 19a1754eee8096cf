"""Form 06 arithmetic: counters and the direct audit agree, identities hold, drill-down adds up."""
from __future__ import annotations

import random
from collections import defaultdict
from datetime import date, timedelta

import pytest
from hypothesis import given, settings as hsettings, strategies as st

from chalicelib.reports.rules.form06 import (
    CELLS, Facts, OUTCOMES, Succession, by_period, cell_value, check_identities, contributions,
    differences, direct_cells, finish_row, members, projection_step, row_from_counters,
)

D0 = date(2024, 11, 1)


def counters_for(facts_list, group_by="agency"):
    """What the projection's counter items hold, summed per group: period -> field -> value."""
    groups = defaultdict(lambda: defaultdict(lambda: defaultdict(int)))
    for facts in facts_list:
        for (period, name), value in by_period(contributions(facts)).items():
            groups[facts.group(group_by)][period][name] += value
    return groups


def random_facts(rng: random.Random, i: int) -> Facts:
    received = D0 + timedelta(days=rng.randrange(0, 800))
    due0 = received + timedelta(days=rng.randrange(1, 40))
    due_changes = [(received, due0)]
    if rng.random() < 0.3:  # an extension or a pause moved the due day later
        changed = received + timedelta(days=rng.randrange(0, 30))
        due_changes.append((changed, due0 + timedelta(days=rng.randrange(1, 20))))
    pauses = []
    if rng.random() < 0.3:
        start = received + timedelta(days=rng.randrange(0, 20))
        pauses.append((start, None if rng.random() < 0.3 else start + timedelta(days=rng.randrange(1, 15))))
    outcome = closed = None
    if rng.random() < 0.75:
        outcome = rng.choice(OUTCOMES)
        closed = received + timedelta(days=rng.randrange(0, 60))
    return Facts(code=f"A{i % 3}-{i:05d}", agency_id=f"A{i % 3}", procedure_code=f"1.00000{i % 5}",
                 field=f"F{i % 2}", channel=rng.choice(("online", "direct", "postal")), received=received,
                 due_changes=tuple(due_changes), outcome=outcome, closed=closed, pauses=tuple(pauses),
                 corrected=outcome is not None and rng.random() < 0.1)


@hsettings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 10_000), span=st.integers(0, 400), offset=st.integers(-30, 830),
       group_by=st.sampled_from(["agency", "field", "procedure"]))
def test_counters_and_direct_audit_agree_and_identities_hold(seed, span, offset, group_by):
    rng = random.Random(seed)
    facts = [random_facts(rng, i) for i in range(120)]
    start = D0 + timedelta(days=offset)
    end = start + timedelta(days=span)
    direct = direct_cells(facts, start, end, group_by)
    for group, counters in counters_for(facts, group_by).items():
        from_counters = finish_row(row_from_counters(counters, start, end))
        from_facts = finish_row(direct.get(group, {}))
        assert differences(from_counters, from_facts) == []
        assert check_identities(from_counters) == []
        group_facts = [f for f in facts if f.group(group_by) == group]
        for cell in CELLS:
            assert len(members(group_facts, start, end, cell)) == cell_value(from_counters, cell), cell


def test_backlog_from_earlier_years_is_carried_over_not_new():
    old = Facts("X-1", "A", "1.000001", "F", "online", date(2024, 12, 20), ((date(2024, 12, 20), date(2025, 1, 10)),))
    row = finish_row(direct_cells([old], date(2025, 1, 1), date(2025, 1, 31), "agency")["A"])
    assert row["received"]["carried_over"] == 1 and row["received"]["online"] == 0
    assert row["in_progress"]["overdue"] == 1


def test_finished_on_the_due_day_is_on_time_in_both_paths():
    f = Facts("X-2", "A", "1.000001", "F", "direct", date(2025, 3, 3), ((date(2025, 3, 3), date(2025, 3, 10)),),
              outcome="on_time", closed=date(2025, 3, 10))
    counters = counters_for([f])["A"]
    row = finish_row(row_from_counters(counters, date(2025, 3, 1), date(2025, 3, 31)))
    assert row["resolved"] == {"early": 0, "on_time": 1, "late": 0, "total": 1}
    assert row["on_time_rate"] == 1.0 and row["online_share"] == 0.0


def test_extension_moves_a_dossier_out_of_overdue():
    due_changes = ((date(2025, 3, 3), date(2025, 3, 10)), (date(2025, 3, 9), date(2025, 3, 20)))
    f = Facts("X-3", "A", "1.000001", "F", "online", date(2025, 3, 3), due_changes)
    counters = counters_for([f])["A"]
    assert row_from_counters(counters, date(2025, 3, 1), date(2025, 3, 15))["in_progress.overdue"] == 0
    assert row_from_counters(counters, date(2025, 3, 1), date(2025, 3, 25))["in_progress.overdue"] == 1


def test_pause_counts_as_supplement_requested_until_it_ends():
    f = Facts("X-4", "A", "1.000001", "F", "online", date(2025, 3, 3), ((date(2025, 3, 3), None),),
              pauses=((date(2025, 3, 5), date(2025, 3, 12)),))
    counters = counters_for([f])["A"]
    assert row_from_counters(counters, date(2025, 3, 1), date(2025, 3, 6))["supplement_requested"] == 1
    assert row_from_counters(counters, date(2025, 3, 1), date(2025, 3, 12))["supplement_requested"] == 0


def test_projection_ignores_duplicates_and_stale_versions_and_converges():
    rng = random.Random(3)
    versions = [random_facts(rng, 7) for _ in range(5)]   # successive states of one dossier
    deliveries = [(v + 1, facts) for v, facts in enumerate(versions)]
    deliveries = deliveries + rng.sample(deliveries, 3)  # duplicates
    rng.shuffle(deliveries)
    applied_version, applied, totals = None, {}, defaultdict(int)
    for version, facts in deliveries:
        step = projection_step(applied_version, applied, version, contributions(facts))
        if step is None:
            continue
        applied, delta = step
        applied_version = version
        for key, value in delta.items():
            totals[key] += value
    assert {k: v for k, v in totals.items() if v} == contributions(versions[-1])


@pytest.mark.parametrize("cell, expected", [("resolved.total", ["B"]), ("received.total", ["A", "B"]),
                                            ("in_progress.total", ["A"])])
def test_total_cells_drill_down_to_their_parts(cell, expected):
    start, end = date(2025, 1, 1), date(2025, 1, 31)
    a = Facts("A", "X", "1.000001", "F", "online", date(2025, 1, 2), ((date(2025, 1, 2), date(2025, 1, 9)),))
    b = Facts("B", "X", "1.000001", "F", "postal", date(2025, 1, 2), ((date(2025, 1, 2), date(2025, 1, 9)),),
              outcome="late", closed=date(2025, 1, 12))
    assert members([a, b], start, end, cell) == expected


def test_identity_check_names_what_does_not_add_up():
    row = finish_row({"received.online": 2, "resolved.early": 1})
    assert check_identities(row) == ["received 2 != resolved+in progress+withdrawn+refused+stopped 1"]


def test_succession_rolls_merged_agencies_up_as_of_a_date():
    succession = Succession({"KONTUM": ("QUANGNGAI", date(2025, 7, 1)), "OLD": ("KONTUM", date(2020, 1, 1))})
    assert succession.successor("OLD", date(2025, 8, 1)) == "QUANGNGAI"
    assert succession.successor("OLD", date(2025, 6, 30)) == "KONTUM"
    assert succession.successor("OTHER", date(2025, 8, 1)) == "OTHER"


def test_satisfaction_averages_each_criterion_and_counts_overall_ratings():
    from chalicelib.reports.rules.form06 import satisfaction_rows

    def rated(agency, scores, overall, when="2026-03-10T09:00:00+07:00"):
        return {"agency_id": agency, "procedure_code": "1.000001",
                "rating": {"criteria": {str(i): s for i, s in enumerate(scores, start=1)}, "overall": overall,
                           "rated_at": when}}
    dossiers = [rated("A", [2] * 9, 5), rated("A", [1] * 8 + [0], 3), rated("B", [0] * 9, 1),
                rated("A", [2] * 9, 5, when="2026-04-01T09:00:00+07:00"), {"agency_id": "A", "rating": None}]
    rows = satisfaction_rows(dossiers, date(2026, 3, 1), date(2026, 3, 31), "agency")
    assert rows["A"]["ratings"] == 2 and rows["A"]["criteria"]["1"] == 1.5 and rows["A"]["criteria"]["9"] == 1.0
    assert rows["A"]["overall"] == {"1": 0, "2": 0, "3": 1, "4": 0, "5": 1}
    assert rows["B"]["criteria"]["5"] == 0.0


def test_counters_store_an_uncorrected_dossier_once_and_a_correction_as_its_difference():
    from chalicelib.reports.rules.form06 import stored_contributions, viewed
    dossier = {"code": "X-9", "agency_id": "A", "procedure_code": "1.000001", "field": "F", "channel": "online",
               "submitted_at": "2025-03-03T09:00:00+07:00", "due_at": "2025-03-07T17:00:00+07:00",
               "finished_at": "2025-03-10T10:00:00+07:00",
               "decisions": [{"action": "accept", "at": "2025-03-03T09:00:00+07:00", "due_at": "2025-03-07T17:00:00+07:00"}]}
    plain = stored_contributions(dossier)
    assert plain["cor"] == {} and plain["raw"]
    corrected = stored_contributions({**dossier, "corrections": [
        {"state": "approved", "field": "finished_at", "value": "2025-03-06T10:00:00+07:00"}]})
    assert corrected["raw"] == plain["raw"]
    assert corrected["cor"][(date(2025, 3, 10), "closed_late")] == -1
    assert corrected["cor"][(date(2025, 3, 6), "closed_early")] == 1   # before its due day
    assert viewed({"raw": {"closed_late": 3}, "cor": {"closed_late": -1, "closed_on_time": 1}}) == {
        "raw": {"closed_late": 3}, "adj": {"closed_late": 2, "closed_on_time": 1}}
