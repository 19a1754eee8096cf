"""Working-day deadlines (docs/domain.md section 4).

Every expected date below is derived by hand in a comment; holiday dates were checked against
holidays.VN 0.109 output for 2024-2026 and, where noted, against the published calendar.
"""
from __future__ import annotations

import json
from datetime import date, datetime, time, timedelta

import holidays
import pytest
from hypothesis import given, settings as hsettings, strategies as st

from chalicelib.kernel.working_days import (
    PACKAGED_EXTRAS, TZ, Pause, WorkingCalendar, classify, default_calendar, iso, load_extras,
    parse_iso, to_local,
)

CAL = WorkingCalendar()


def at(text: str) -> datetime:
    return parse_iso(text)


def due(accepted: str, n: int, cal: WorkingCalendar = CAL, **kw) -> str | None:
    result = cal.due_date(at(accepted), n, **kw)
    return None if result is None else iso(result)


def vn_names(year: int) -> dict[date, str]:
    return dict(holidays.VN(years=year, language="vi").items())


# -- time zone helpers ---------------------------------------------------------------------

def test_parse_iso_accepts_offsets_and_z():
    assert parse_iso("2025-04-25T10:30:00Z") == datetime(2025, 4, 25, 17, 30, tzinfo=TZ)
    assert parse_iso("2025-04-25T10:00:00+07:00").utcoffset() == timedelta(hours=7)


@pytest.mark.parametrize("text", ["2025-04-25T10:00:00", "2025-04-25", "yesterday", "", None])
def test_parse_iso_rejects_naive_and_garbage(text):
    with pytest.raises(ValueError):
        parse_iso(text)


def test_to_local_rejects_naive_datetime():
    with pytest.raises(ValueError, match="naive"):
        to_local(datetime(2025, 4, 25, 10, 0))


def test_iso_is_local_with_seconds_precision():
    assert iso(at("2025-04-29T10:00:00.123456Z")) == "2025-04-29T17:00:00+07:00"


# -- national calendar ---------------------------------------------------------------------

def test_swapped_working_saturday_2025_counts_and_2_may_is_off():
    # Official swap for 30/4-1/5/2025: work Sat 26/4, rest Fri 2/5.
    assert CAL.is_working_day(date(2025, 4, 26))
    kind, name = CAL.day_kind(date(2025, 4, 26))
    assert kind == "swapped_working" and "02/05/2025" in name
    assert not CAL.is_working_day(date(2025, 5, 2))
    # Fri 25/4 10:00 counts from Fri; 3 days: Sat 26/4 (swapped), [Sun 27/4 off], Mon 28, Tue 29.
    assert due("2025-04-25T10:00:00+07:00", 3) == "2025-04-29T17:00:00+07:00"


def test_due_date_skips_30_4_1_5_and_the_swapped_day_off_2025():
    # Tue 29/4 10:00: Wed 30/4, Thu 1/5 holidays, Fri 2/5 swapped off, Sat/Sun 3-4/5 -> Mon 5/5.
    assert due("2025-04-29T10:00:00+07:00", 1) == "2025-05-05T17:00:00+07:00"


def test_swap_2026_saturday_22_august_works_and_monday_31_august_is_off():
    assert CAL.day_kind(date(2026, 8, 22))[0] == "swapped_working"
    assert CAL.day_kind(date(2026, 8, 31))[0] == "holiday"
    # Fri 21/8/2026 10:00, 1 day -> Sat 22/8 (swapped working).
    assert due("2026-08-21T10:00:00+07:00", 1) == "2026-08-22T17:00:00+07:00"


@pytest.mark.parametrize("year, lunar_new_year, weekdays_off, accepted, expected", [
    # Giap Thin: Lunar New Year Sat 10/2/2024; civil servants off Thu 8/2 - Wed 14/2/2024.
    # Wed 7/2 10:00, 1 day: 8-9 off, 10-11 weekend+Tet, 12-14 off -> Thu 15/2.
    (2024, date(2024, 2, 10), [date(2024, 2, d) for d in (8, 9, 12, 13, 14)],
     "2024-02-07T10:00:00+07:00", "2024-02-15T17:00:00+07:00"),
    # At Ty: Lunar New Year Wed 29/1/2025; off Sat 25/1 - Sun 2/2/2025.
    # Fri 24/1 10:00, 1 day: 25-26 weekend, Mon 27 - Fri 31 off, 1-2/2 weekend -> Mon 3/2.
    (2025, date(2025, 1, 29), [date(2025, 1, d) for d in (27, 28, 29, 30, 31)],
     "2025-01-24T10:00:00+07:00", "2025-02-03T17:00:00+07:00"),
    # Binh Ngo: Lunar New Year Tue 17/2/2026; off Sat 14/2 - Sun 22/2/2026.
    # Fri 13/2 10:00, 1 day: 14-15 weekend, Mon 16 - Fri 20 off, 21-22 weekend -> Mon 23/2.
    (2026, date(2026, 2, 17), [date(2026, 2, d) for d in (16, 17, 18, 19, 20)],
     "2026-02-13T10:00:00+07:00", "2026-02-23T17:00:00+07:00"),
])
def test_tet_is_skipped(year, lunar_new_year, weekdays_off, accepted, expected):
    names = vn_names(year)
    assert names[lunar_new_year] == "Tết Nguyên Đán"  # public knowledge agrees with the library
    tet_days = [d for d, n in names.items() if "Tết" in n and n != "Tết Dương lịch"]
    assert set(weekdays_off) <= set(tet_days)
    for day in tet_days:  # every Tet day the library knows is a day off here, with its name
        assert CAL.day_kind(day) == ("holiday", names[day])
    assert due(accepted, 1) == expected


@pytest.mark.parametrize("substitute, cause, name", [
    # Tet 2024: mung 1 fell on Sat 10/2 -> moved to the previous workday Thu 8/2 ("29 Tet");
    # mung 2 fell on Sun 11/2 -> moved after the Tet block to Wed 14/2 ("mung 5").
    (date(2024, 2, 8), date(2024, 2, 10), "29 Tết"),
    (date(2024, 2, 14), date(2024, 2, 11), "Mùng năm Tết Nguyên Đán"),
    # Tet 2025: mung 4 fell on Sat 1/2/2025 -> previous workday Mon 27/1 ("29 Tet").
    (date(2025, 1, 27), date(2025, 2, 1), "29 Tết"),
    # Hung Kings 2026 (10/3 lunar) is Sun 26/4/2026 -> observed Mon 27/4.
    (date(2026, 4, 27), date(2026, 4, 26), "Ngày Giỗ Tổ Hùng Vương (nghỉ bù)"),
])
def test_holiday_on_a_weekend_gives_a_substitute_day_off(substitute, cause, name):
    assert cause.weekday() >= 5 and substitute.weekday() < 5
    assert vn_names(substitute.year)[substitute] == name
    assert CAL.day_kind(substitute) == ("holiday", name)


def test_hung_kings_2026_substitute_pushes_the_deadline():
    # Fri 24/4/2026 10:00, 1 day: Sat 25, Sun 26 (Hung Kings), Mon 27 (observed) -> Tue 28/4.
    assert due("2026-04-24T10:00:00+07:00", 1) == "2026-04-28T17:00:00+07:00"


def test_dates_outside_the_calendar_range_raise():
    with pytest.raises(ValueError, match="outside"):
        CAL.is_working_day(date(2041, 1, 2))
    with pytest.raises(ValueError, match="outside"):
        CAL.due_date(at("2014-06-02T10:00:00+07:00"), 1)
    with pytest.raises(ValueError):
        CAL.add_working_days(date(2040, 12, 28), 10)


# -- acceptance time -----------------------------------------------------------------------
# Week of Mon 10/3/2025 has no holidays.

@pytest.mark.parametrize("accepted, start, expected", [
    ("2025-03-11T16:59:00+07:00", date(2025, 3, 11), "2025-03-12T17:00:00+07:00"),  # Tue, in hours
    ("2025-03-11T17:00:00+07:00", date(2025, 3, 12), "2025-03-13T17:00:00+07:00"),  # 17:00 = after
    ("2025-03-11T17:30:00+07:00", date(2025, 3, 12), "2025-03-13T17:00:00+07:00"),
    ("2025-03-16T10:00:00+07:00", date(2025, 3, 17), "2025-03-18T17:00:00+07:00"),  # Sun -> Mon
    # Tue 2/9/2025 National Day -> counts from Wed 3/9, 1 day -> Thu 4/9.
    ("2025-09-02T10:00:00+07:00", date(2025, 9, 3), "2025-09-04T17:00:00+07:00"),
])
def test_after_hours_or_day_off_acceptance_counts_from_next_working_day(accepted, start, expected):
    assert CAL.effective_start_day(at(accepted)) == start
    assert due(accepted, 1) == expected


def test_input_in_other_zones_is_converted_to_local_time():
    # 10:30Z = 17:30 in Hanoi on Fri 25/4/2025 -> after hours -> counts from Sat 26/4 (swapped
    # working), 1 day -> Mon 28/4.
    assert CAL.effective_start_day(at("2025-04-25T10:30:00Z")) == date(2025, 4, 26)
    assert due("2025-04-25T10:30:00Z", 1) == "2025-04-28T17:00:00+07:00"
    # 03:00Z = 10:00 local: same as the +07:00 case.
    assert due("2025-04-25T03:00:00Z", 3) == "2025-04-29T17:00:00+07:00"
    # 11:59+01:00 on Tue 11/3/2025 = 17:59 local -> counts from Wed 12/3.
    assert CAL.effective_start_day(at("2025-03-11T11:59:00+01:00")) == date(2025, 3, 12)


def test_n_zero_is_due_on_the_counting_day():
    assert due("2025-03-11T10:00:00+07:00", 0) == "2025-03-11T17:00:00+07:00"


# -- pauses (supplement requests) ----------------------------------------------------------
# Accepted Mon 10/3/2025 09:00, 5 days, no pause: Tue 11, Wed 12, Thu 13, Fri 14, Mon 17.
ACCEPTED = "2025-03-10T09:00:00+07:00"
WED_TO_FRI = Pause(at("2025-03-12T10:00:00+07:00"), at("2025-03-14T10:00:00+07:00"), "thiếu CCCD")


def test_pause_counts_working_days_from_pause_day_to_resume_day_exclusive():
    assert CAL.paused_working_days(WED_TO_FRI) == 2  # Wed, Thu
    same_day = Pause(at("2025-03-12T10:00:00+07:00"), at("2025-03-12T15:00:00+07:00"))
    assert CAL.paused_working_days(same_day) == 0
    # Paused Wed 18:00 (after hours -> Thu) until Fri 10:00 -> only Thu.
    evening = Pause(at("2025-03-12T18:00:00+07:00"), at("2025-03-14T10:00:00+07:00"))
    assert CAL.paused_working_days(evening) == 1


def test_resume_rule_shifts_due_date_by_paused_working_days():
    assert due(ACCEPTED, 5) == "2025-03-17T17:00:00+07:00"
    # +2 paused days: Tue 11, [Wed 12, Thu 13 paused], Fri 14, Mon 17, Tue 18, Wed 19.
    assert due(ACCEPTED, 5, pauses=[WED_TO_FRI]) == "2025-03-19T17:00:00+07:00"


def test_resume_rule_adds_up_several_pauses():
    # Wed-Thu paused (2) and Tue 18 10:00 -> Wed 19 10:00 paused (1): 5 + 3 = 8th working day
    # after Mon 10/3: 11,12,13,14,17,18,19,20 -> Thu 20/3.
    second = Pause(at("2025-03-18T10:00:00+07:00"), at("2025-03-19T10:00:00+07:00"))
    assert due(ACCEPTED, 5, pauses=[second, WED_TO_FRI]) == "2025-03-20T17:00:00+07:00"


def test_restart_rule_counts_full_time_again_from_resumption():
    # Resumed Fri 14/3 10:00 -> counts from Fri 14; 5 days: Mon 17 .. Fri 21/3.
    assert due(ACCEPTED, 5, pauses=[WED_TO_FRI], rule="restart") == "2025-03-21T17:00:00+07:00"


def test_open_pause_stops_the_clock():
    open_pause = Pause(at("2025-03-12T10:00:00+07:00"), None)
    assert CAL.due_date(at(ACCEPTED), 5, pauses=[open_pause]) is None
    assert CAL.due_date(at(ACCEPTED), 5, pauses=[WED_TO_FRI, Pause(at("2025-03-17T09:00:00+07:00"), None)],
                        rule="restart") is None


def test_same_day_pause_does_not_shift():
    same_day = Pause(at("2025-03-12T10:00:00+07:00"), at("2025-03-12T15:00:00+07:00"))
    assert due(ACCEPTED, 5, pauses=[same_day]) == "2025-03-17T17:00:00+07:00"


def test_pause_starting_on_the_uncounted_acceptance_day_only_shifts_by_later_days():
    # Paused Mon 10/3 10:00 (acceptance day, which is not counted anyway) until Wed 12/3 10:00:
    # paused_working_days says 2 (Mon, Tue) but only Tue was a counted day. Counted: Wed 12,
    # Thu 13, Fri 14, Mon 17, Tue 18 -> Tue 18/3.
    pause = Pause(at("2025-03-10T10:00:00+07:00"), at("2025-03-12T10:00:00+07:00"))
    assert CAL.paused_working_days(pause) == 2
    assert due(ACCEPTED, 5, pauses=[pause]) == "2025-03-18T17:00:00+07:00"


def test_pause_requested_after_the_due_day_does_not_move_it():
    # 1 day from Mon 10/3 -> Tue 11/3. A pause Thu 13 -> Mon 17 comes when already late.
    pause = Pause(at("2025-03-13T10:00:00+07:00"), at("2025-03-17T10:00:00+07:00"))
    assert due(ACCEPTED, 1, pauses=[pause]) == "2025-03-11T17:00:00+07:00"
    # A pause starting on the due day itself (before hours end) does move it: Tue 11 paused,
    # resumed Wed 12 -> Wed 12 counted.
    on_due_day = Pause(at("2025-03-11T10:00:00+07:00"), at("2025-03-12T10:00:00+07:00"))
    assert due(ACCEPTED, 1, pauses=[on_due_day]) == "2025-03-12T17:00:00+07:00"


def test_bad_pauses_and_rules_are_rejected():
    backwards = Pause(at("2025-03-14T10:00:00+07:00"), at("2025-03-12T10:00:00+07:00"))
    overlapping = Pause(at("2025-03-13T10:00:00+07:00"), at("2025-03-17T10:00:00+07:00"))
    with pytest.raises(ValueError, match="before it starts"):
        CAL.due_date(at(ACCEPTED), 5, pauses=[backwards])
    with pytest.raises(ValueError, match="overlapping"):
        CAL.due_date(at(ACCEPTED), 5, pauses=[WED_TO_FRI, overlapping])
    with pytest.raises(ValueError, match="rule"):
        CAL.due_date(at(ACCEPTED), 5, pauses=[WED_TO_FRI], rule="pause")


# -- configurable extras -------------------------------------------------------------------

def test_extra_day_off_pushes_the_due_date():
    cal = WorkingCalendar(2024, 2026, extra_days_off={date(2025, 3, 17): "Ngày thành lập tỉnh"})
    assert cal.day_kind(date(2025, 3, 17)) == ("holiday", "Ngày thành lập tỉnh")
    # Fri 14/3 10:00, 1 day: Sat, Sun, Mon 17 (extra off) -> Tue 18/3 (Mon 17 without extras).
    assert due("2025-03-14T10:00:00+07:00", 1) == "2025-03-17T17:00:00+07:00"
    assert due("2025-03-14T10:00:00+07:00", 1, cal=cal) == "2025-03-18T17:00:00+07:00"


def test_extra_working_sunday_pulls_the_due_date():
    cal = WorkingCalendar(2024, 2026, extra_working_days={date(2025, 3, 16): "Làm bù"})
    assert cal.day_kind(date(2025, 3, 16)) == ("swapped_working", "Làm bù")
    # Fri 14/3 10:00, 1 day: Sat 15 off, Sun 16 working -> Sun 16/3.
    assert due("2025-03-14T10:00:00+07:00", 1, cal=cal) == "2025-03-16T17:00:00+07:00"


def test_extras_outside_range_or_in_both_tables_are_rejected():
    with pytest.raises(ValueError, match="outside"):
        WorkingCalendar(2024, 2026, extra_days_off={date(2030, 1, 2): "x"})
    with pytest.raises(ValueError, match="both"):
        WorkingCalendar(2024, 2026, extra_days_off={date(2025, 3, 16): "x"},
                        extra_working_days={date(2025, 3, 16): "y"})


def test_load_extras_reads_the_file_format(tmp_path):
    path = tmp_path / "extras.json"
    path.write_text(json.dumps({"_note": "n", "days_off": {"2025-03-17": "Lễ tỉnh"},
                                "working_days": {"2025-03-16": "Làm bù"}}), encoding="utf-8")
    assert load_extras(path) == ({date(2025, 3, 17): "Lễ tỉnh"}, {date(2025, 3, 16): "Làm bù"})


@pytest.mark.parametrize("content, bad", [
    ({"days_off": {"2025-02-30": "x"}}, "2025-02-30"),
    ({"working_days": {"16/03/2025": "x"}}, "16/03/2025"),
    ({"days_off": {"2025-03-17": ""}}, "2025-03-17"),
    ({"days-off": {}}, "days-off"),
])
def test_load_extras_rejects_bad_entries_naming_them(tmp_path, content, bad):
    path = tmp_path / "extras.json"
    path.write_text(json.dumps(content), encoding="utf-8")
    with pytest.raises(ValueError, match=bad):
        load_extras(path)


def test_packaged_extras_file_is_valid_and_empty():
    assert load_extras(PACKAGED_EXTRAS) == ({}, {})
    assert "_note" in json.loads(PACKAGED_EXTRAS.read_text(encoding="utf-8"))


def test_default_calendar_is_cached_and_uses_settings():
    cal = default_calendar()
    assert cal is default_calendar()
    assert cal.workday_end == time(17, 0)


# -- classification ------------------------------------------------------------------------
DUE = at("2025-04-29T17:00:00+07:00")


@pytest.mark.parametrize("finished, expected", [
    ("2025-04-28T09:00:00+07:00", "early"),
    ("2025-04-29T15:00:00+07:00", "on_time"),   # before 17:00 on the due day
    ("2025-04-29T23:30:00+07:00", "on_time"),   # after 17:00, still the due date
    ("2025-04-29T16:30:00Z", "on_time"),        # = 23:30 local on 29/4
    ("2025-04-29T23:30:00Z", "late"),           # = 06:30 local on 30/4
    ("2025-04-30T08:00:00+07:00", "late"),
])
def test_classify_compares_local_calendar_dates(finished, expected):
    assert classify(at(finished), DUE) == expected


# -- index vs naive walk -------------------------------------------------------------------

def naive_add(cal: WorkingCalendar, day: date, n: int) -> date:
    while n:
        day += timedelta(days=1)
        n -= cal.is_working_day(day)
    return day


@hsettings(max_examples=300, deadline=None)
@given(day=st.dates(date(2016, 1, 1), date(2039, 12, 31)), n=st.integers(1, 60))
def test_index_matches_a_naive_day_by_day_walk(day, n):
    result = CAL.add_working_days(day, n)
    assert result == naive_add(CAL, day, n)
    one = timedelta(days=1)
    # Exactly n working days in (day, result]; [day, result] has one more if day is working.
    assert CAL.working_days_between(day + one, result + one) == n
    assert CAL.working_days_between(day, result + one) == n + CAL.is_working_day(day)


# -- explanation ---------------------------------------------------------------------------

def test_explain_lists_skipped_days_with_names_and_counts_n_days():
    accepted = at("2025-04-25T10:00:00+07:00")
    out = CAL.explain(accepted, 3)
    assert json.loads(json.dumps(out)) == out  # JSON-ready
    assert out["counting_from"] == "2025-04-25" and out["after_hours"] is False
    assert out["due_at"] == iso(CAL.due_date(accepted, 3)) == "2025-04-29T17:00:00+07:00"
    assert [(d["date"], d["kind"]) for d in out["days"]] == [
        ("2025-04-26", "swapped_working"), ("2025-04-27", "weekend"),
        ("2025-04-28", "counted"), ("2025-04-29", "counted")]
    assert "02/05/2025" in out["days"][0]["name"]

    # Tue 29/4 10:00, 2 days: holidays 30/4, 1/5, 2/5 named; weekend; Mon 5/5, Tue 6/5 counted.
    out = CAL.explain(at("2025-04-29T10:00:00+07:00"), 2)
    names = {d["date"]: d["name"] for d in out["days"] if d["kind"] == "holiday"}
    assert names == {"2025-04-30": "Ngày Chiến thắng", "2025-05-01": "Ngày Quốc tế Lao động",
                     "2025-05-02": "Ngày nghỉ (thay cho ngày 26/04/2025)"}
    assert sum(d["kind"] in ("counted", "swapped_working") for d in out["days"]) == 2
    assert out["due_at"] == "2025-05-06T17:00:00+07:00"


def test_explain_marks_paused_days_and_after_hours():
    out = CAL.explain(at("2025-03-09T20:00:00+07:00"), 5, pauses=[WED_TO_FRI])
    # Sunday evening -> counts from Mon 10/3, same as ACCEPTED: due Wed 19/3.
    assert out["after_hours"] is True and out["counting_from"] == "2025-03-10"
    assert out["due_at"] == "2025-03-19T17:00:00+07:00"
    assert out["paused_working_days"] == 2
    assert out["pauses"] == [{"start": "2025-03-12T10:00:00+07:00", "end": "2025-03-14T10:00:00+07:00",
                              "reason": "thiếu CCCD", "working_days": 2}]
    kinds = {d["date"]: d["kind"] for d in out["days"]}
    assert kinds["2025-03-12"] == kinds["2025-03-13"] == "paused"
    assert sum(k == "counted" for k in kinds.values()) == 5


def test_explain_restart_counts_from_resumption_and_open_pause_has_no_due():
    out = CAL.explain(at(ACCEPTED), 5, pauses=[WED_TO_FRI], rule="restart")
    assert out["counting_from"] == "2025-03-14"
    assert out["days"][0]["date"] == "2025-03-15" and out["due_at"] == "2025-03-21T17:00:00+07:00"
    stopped = CAL.explain(at(ACCEPTED), 5, pauses=[Pause(at("2025-03-12T10:00:00+07:00"), None)])
    assert stopped["due_at"] is None and stopped["days"] == []
    assert stopped["pauses"][0]["end"] is None


def test_restart_rule_without_pauses_is_the_plain_due_date():
    cal = WorkingCalendar()
    accepted = datetime(2025, 4, 25, 10, 0, tzinfo=TZ)
    assert cal.due_date(accepted, 3, (), "restart") == cal.due_date(accepted, 3)
    explained = cal.explain(accepted, 3, (), "restart")
    assert explained["due_at"] == "2025-04-29T17:00:00+07:00"
