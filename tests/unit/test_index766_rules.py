"""The 766 indicator rules and the feedback on-time rules, by hand computation (no AWS)."""
from __future__ import annotations

import random
from collections import defaultdict
from datetime import date, timedelta
from typing import Any

import pytest

from chalicelib.feedback.rules import feedback as fb
from chalicelib.kernel.working_days import default_calendar
from chalicelib.reports.rules import index766 as rules
from chalicelib.reports.rules.index766 import IndexFacts

MON = date(2026, 3, 2)            # a Monday; the week has no holiday


def dossier(**over: Any) -> dict[str, Any]:
    base = {"code": "A-260302-0001", "agency_id": "A", "procedure_code": "1.000001", "channel": "online",
            "status": "processing", "version": 3, "submitted_at": "2026-03-02T08:00:00+07:00",
            "accepted_at": "2026-03-02T09:00:00+07:00", "due_at": "2026-03-04T17:00:00+07:00",
            "processing_days": 2, "decisions": [], "pauses": [], "supplements": [], "attachments": [],
            "fees": [], "result": None, "finished_at": None, "returned_at": None, "result_is_document": True}
    base.update(over)
    return base


def facts(**over: Any) -> IndexFacts:
    return rules.facts_from_dossier(dossier(**over), synced=True, complaint=False, calendar=default_calendar())  # type: ignore[arg-type]


def test_rates_have_two_decimals_and_none_when_nothing_is_counted():
    assert rules.rate(1, 3) == 33.33 and rules.rate(2, 3) == 66.67 and rules.rate(0, 0) is None


def test_below_its_threshold_an_indicator_scores_rate_times_points_over_threshold():
    assert rules.points(40.0, 6, 80.0) == 3.0          # 40 x 6 / 80
    assert rules.points(25.0, 12, 50.0) == 6.0
    assert rules.points(95.0, 10, 90.0) == 10          # at or over the threshold: full points
    assert rules.points(None, 5, 100.0) is None        # nothing counted: no points, not 0
    assert rules.points(50.0, None, 100.0) is None     # allocation unknown: no points, not 0


def test_an_allocation_over_a_groups_maximum_or_naming_an_unknown_indicator_is_refused():
    with pytest.raises(ValueError, match="group 4"):
        rules.parse_allocation({"points": {"4.1": 20, "4.2": 5}})
    with pytest.raises(ValueError, match="unknown indicator"):
        rules.parse_allocation({"points": {"9.9": 1}})
    assert rules.parse_allocation({"points": {"2.1": 20}})["3.3"] is None


def test_the_end_of_processing_prefers_finished_over_returned():
    f = facts(status="returned", finished_at="2026-03-04T10:00:00+07:00", returned_at="2026-03-06T10:00:00+07:00")
    assert f.end == MON + timedelta(days=2) and f.on_time is True and "finished" in f.end_reason


def test_a_dossier_finished_after_its_due_day_is_late_and_counts_in_5_4():
    f = facts(status="finished", finished_at="2026-03-05T08:00:00+07:00", result={"documents": [{"upload_id": "x"}]})
    assert f.on_time is False and rules.late_54(f)
    assert rules.membership(f)["5.4"][1] is False


def test_a_dossier_waiting_for_a_second_supplement_is_late_and_for_a_first_ends_at_the_request():
    asked = {"requested_at": "2026-03-03T10:00:00+07:00", "supplied_at": None, "attachments": []}
    pause = {"start": "2026-03-03T10:00:00+07:00", "end": None, "due_at_before": "2026-03-04T17:00:00+07:00"}
    once = facts(status="supplement_requested", due_at=None, supplements=[asked], pauses=[pause])
    assert (once.end, once.on_time) == (MON + timedelta(days=1), True)
    twice = facts(status="supplement_requested", due_at=None, supplements=[asked, asked], pauses=[pause, pause])
    assert twice.on_time is False and "2 times" in twice.end_reason


def test_an_open_dossier_ends_on_the_periods_last_day():
    f = facts()
    assert rules.membership_21(f, MON, MON + timedelta(days=2))[:2] == (True, True)     # due day: on time
    assert rules.membership_21(f, MON, MON + timedelta(days=3))[:2] == (True, False)    # a day after: late


def test_withdrawn_before_acceptance_is_not_counted_in_2_1():
    f = facts(status="withdrawn", accepted_at=None, due_at=None,
              decisions=[{"action": "withdraw", "at": "2026-03-02T10:00:00+07:00"}])
    assert rules.membership_21(f, MON, MON + timedelta(days=5))[0] is False


def test_handling_days_leave_the_supplement_wait_out():
    f = facts(status="finished", finished_at="2026-03-05T10:00:00+07:00",
              pauses=[{"start": "2026-03-03T10:00:00+07:00", "end": "2026-03-04T10:00:00+07:00"}])
    assert f.handling_days == 3 - 1


def test_online_share_needs_an_electronic_result_when_the_result_is_a_document():
    assert rules.membership(facts())["3.3"][1] is False
    assert rules.membership(facts(result_is_document=False))["3.3"][1] is True
    assert rules.membership(facts(result={"documents": [{"upload_id": "x"}]}))["3.3"][1] is True
    assert rules.membership(facts(channel="direct", result_is_document=False))["3.3"][1] is False


def test_online_share_is_scaled_by_the_synced_share():
    table = rules.indicator_table({"1.4": (1, 2), "3.3": (1, 2)}, {"3.3": 12})
    row = {r["id"]: r for r in table["indicators"]}["3.3"]
    assert row["rate"] == 25.0 and row["points"] == 6.0


def test_only_online_payments_count_for_3_6():
    paid = {"payments": [{"payment_id": "p", "status": "succeeded", "amount": 1000}]}
    counter = {"payments": [{"payment_id": "p", "status": "succeeded", "amount": 1000, "provider": "counter"}]}
    fees = [{"name": "Lệ phí", "amount": 1000}]
    assert rules.membership(facts(fees=fees, payment=paid))["3.6"][:2] == (True, True)
    assert rules.membership(facts(fees=fees, payment=counter))["3.6"][:2] == (True, False)
    assert rules.membership(facts(fees=[{"name": "Miễn", "amount": 0}]))["3.6"][0] is False


def test_component_marks_decide_4_3_and_4_4_and_the_claim_4_5():
    f = facts(attachments=[{"upload_id": "a", "name": "a.pdf", "reused_from": "X-1"},
                           {"upload_id": "b", "name": "b.pdf", "from_citizen_store": True}],
              applicant={"vneid_verified": True})
    m = rules.membership(f)
    assert m["4.3"][1] and m["4.4"][1] and m["4.5"][1]
    assert not any(rules.membership(facts())[i][1] for i in ("4.3", "4.4", "4.5"))


def test_counters_and_the_direct_recount_agree_for_any_period():
    """The day series' prefix sums equal counting dossier by dossier, whatever the period."""
    rng = random.Random(766)
    all_facts = []
    for n in range(300):
        selected = MON + timedelta(days=rng.randint(0, 40))
        closed = rng.random() < 0.6
        end = selected + timedelta(days=rng.randint(0, 15)) if closed else None
        all_facts.append(IndexFacts(
            code=f"C{n}", agency_id="A", procedure_code="P", channel=rng.choice(["online", "direct", "postal"]),
            selected=selected, synced=rng.random() < 0.9, result_is_document=rng.random() < 0.8,
            result_link=rng.random() < 0.5, has_fees=rng.random() < 0.5, paid_online=rng.random() < 0.5,
            has_files=rng.random() < 0.7, reused=rng.random() < 0.3, citizen_store=rng.random() < 0.2,
            vneid=rng.random() < 0.4, complaint=rng.random() < 0.1, counted_21=rng.random() < 0.95,
            end=end, on_time=(rng.random() < 0.7) if closed else None,
            due=None if closed else selected + timedelta(days=rng.randint(-3, 20)),
            handling_days=rng.randint(0, 9) if closed else None))
    series: dict[str, dict[date, int]] = defaultdict(lambda: defaultdict(int))
    for f in all_facts:
        for (day, name), value in rules.contributions(f).items():
            series[name][day] += value

    def prefix(day: date, name: str) -> int:
        return sum(v for d, v in series[name].items() if d <= day)

    for _ in range(40):
        start = MON + timedelta(days=rng.randint(-5, 45))
        end = start + timedelta(days=rng.randint(0, 30))
        assert rules.counts_from_prefix(prefix, start, end) == rules.direct_counts(all_facts, start, end)


def test_a_stamp_replaces_another_only_when_nothing_in_it_is_older():
    assert rules.newer(rules.stamp(3, False, False), None)
    assert rules.newer(rules.stamp(3, True, False), rules.stamp(3, False, False))
    assert not rules.newer(rules.stamp(3, False, False), rules.stamp(3, False, False))   # a duplicate
    assert not rules.newer(rules.stamp(2, True, True), rules.stamp(3, False, False))     # a late delivery


# --- feedback (5.1–5.3) ------------------------------------------------------------------------

def feedback(**over: Any) -> fb.Feedback:
    base = fb.new_feedback(feedback_id="PA1", fields={"kind": "procedure", "title": "T", "content": "C"},
                           agency_id="A", channel="online", submitted_by="c", recorded_by=None,
                           received_at="2026-03-02T09:00:00+07:00")
    base.update(over)  # type: ignore[typeddict-item]
    return base


def test_a_refusal_is_on_time_within_two_working_days():
    calendar = default_calendar()
    on_time = feedback(status="refused", refusal={"reason": "r", "at": "2026-03-04T16:00:00+07:00"})
    late = feedback(status="refused", refusal={"reason": "r", "at": "2026-03-05T08:00:00+07:00"})
    assert fb.on_time(on_time, MON, calendar)[0] and not fb.on_time(late, MON, calendar)[0]


def test_a_request_for_information_after_five_working_days_is_late():
    late = feedback(status="supplement_requested",
                    supplement={"reason": "r", "requested_at": "2026-03-10T09:00:00+07:00"})   # 6 working days
    assert not fb.on_time(late, MON + timedelta(days=10), default_calendar())[0]


def test_an_answer_is_on_time_within_fifteen_working_days():
    calendar = default_calendar()
    limit = calendar.add_working_days(MON, 15)
    answered = feedback(status="answered", answer={"text": "t", "answered_at": f"{limit}T16:00:00+07:00"},
                        published=True)
    late = feedback(status="answered", answer={"text": "t", "answered_at": f"{limit + timedelta(days=1)}T08:00:00+07:00"})
    assert fb.on_time(answered, limit, calendar)[0] and not fb.on_time(late, limit, calendar)[0]
    assert fb.counts([answered, late], MON, MON, calendar) == {"5.1": (2, 2), "5.2": (1, 2), "5.3": (1, 2)}


def test_an_open_feedback_is_on_time_until_its_answer_deadline():
    calendar = default_calendar()
    deadline = fb.answer_deadline(feedback(), calendar)
    assert fb.on_time(feedback(), deadline, calendar)[0] and not fb.on_time(feedback(), deadline + timedelta(days=1), calendar)[0]


def test_feedback_recorded_by_phone_must_say_whom_to_answer():
    from chalicelib.kernel.errors import ValidationFailed

    with pytest.raises(ValidationFailed) as error:
        fb.validate_submission({"kind": "conduct", "title": "T", "content": "C", "agency_id": "A"}, by_phone=True)
    assert set(error.value.fields) == {"contact.full_name", "contact.phone"}


# --- the facts where they arise ------------------------------------------------------------------

def test_file_marks_are_validated_and_only_true_marks_are_kept():
    from chalicelib.dossiers.rules.submission import validate_attachments

    errors: dict[str, str] = {}
    items = validate_attachments([{"upload_id": "a" * 32, "name": "a.pdf", "digitised": True, "from_citizen_store": False,
                                   "reused_from": " 000.22.30.H50-260115-0001 "}], errors)
    assert errors == {} and items == [{"upload_id": "a" * 32, "name": "a.pdf", "digitised": True,
                                       "reused_from": "000.22.30.H50-260115-0001"}]
    validate_attachments([{"upload_id": "b" * 32, "name": "b.pdf", "digitised": "yes", "reused_from": "a b"}], errors)
    assert set(errors) == {"attachments[0].digitised", "attachments[0].reused_from"}


def test_vneid_verification_comes_only_from_an_explicit_true_claim():
    from chalicelib.trust.rules.identity import identity_from_claims

    assert identity_from_claims({"sub": "c", "role": "citizen", "custom:vneid_verified": "true"}).vneid_verified
    assert identity_from_claims({"sub": "c", "role": "citizen", "vneid_verified": True}).vneid_verified
    assert not identity_from_claims({"sub": "c", "role": "citizen", "vneid_verified": "yes"}).vneid_verified
    assert not identity_from_claims({"sub": "c", "role": "citizen"}).vneid_verified


def test_the_days_waiting_for_the_citizens_information_do_not_count_towards_the_answer():
    calendar = default_calendar()
    waiting = feedback()
    fb.request_supplement(waiting, "Cần thêm thông tin", at="2026-03-03T09:00:00+07:00", by="o")
    fb.supply(waiting, "Thông tin thêm", at="2026-03-06T09:00:00+07:00", by="c")   # Tue -> Fri: 3 working days
    assert waiting["status"] == "received"
    assert fb.answer_deadline(waiting, calendar) == calendar.add_working_days(MON, 15 + 3)
    never_supplied = feedback()
    fb.request_supplement(never_supplied, "Cần thêm thông tin", at="2026-03-03T09:00:00+07:00", by="o")
    assert fb.answer_deadline(never_supplied, calendar) == calendar.add_working_days(MON, 15)
