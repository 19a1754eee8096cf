"""Processing rules over the dossier dict: steps, pauses, extensions, back-dating. Pure, no AWS.

Dates are in November 2026, a month whose only day off besides weekends is Tuesday 24
November (Ngày Văn hóa Việt Nam, a day off from 2026 in holidays 0.109): expected due dates
below are counted by hand in the comments and cross-checked with the calendar.
"""
from __future__ import annotations

from datetime import datetime

import pytest

from chalicelib.dossiers.rules import processing
from chalicelib.kernel.working_days import TZ, Pause, WorkingCalendar, iso
from chalicelib.catalogue.rules.procedures import Procedure, Step
from chalicelib.dossiers.rules.submission import decide, new_dossier
from chalicelib.kernel.errors import Conflict, ValidationFailed

CAL = WorkingCalendar(2025, 2028)
COMMUNE, DEPARTMENT = "000.22.30.H50", "000.00.15.H50"
STEPS = (Step("Thẩm định", "officer", "Phòng Kinh tế", 3),
         Step("Lấy ý kiến Sở Xây dựng", "officer", "Phòng Quản lý xây dựng", 4, DEPARTMENT),
         Step("Ký giấy phép", "leader", "Lãnh đạo", 2),
         Step("Trả kết quả", "officer", "Bộ phận Một cửa", 1))


def at(day: int, hour: int = 9, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=TZ)


def dossier(rule: str = "resume", days: int = 10, steps: tuple[Step, ...] = STEPS) -> dict:
    procedure = Procedure("1.009994", "Cấp giấy phép xây dựng", "Xây dựng", "XD", COMMUNE, days, "partial",
                          (), (), rule, False, steps)
    submission = {"applicant": {"full_name": "Lê Văn Bình", "id_number": "0" * 12, "phone": "0900000000"},
                  "summary": "", "form": {}, "attachments": []}
    return new_dossier(code=f"{COMMUNE}-261102-0001", submission=submission, procedure=procedure,
                       owner_sub="citizen-1", channel="online", submitted_at=iso(at(2, 8)))


def accepted(rule: str = "resume", when: datetime | None = None, **kw) -> dict:
    d = dossier(rule, **kw)
    processing.start_clock(d, {}, at=when or at(2), by="officer-1", calendar=CAL)
    decide(d, action="accept", status="accepted", at=iso(when or at(2)), by="officer-1")
    return d


def run(d: dict, action: str, when: datetime, status: str, **params) -> dict:
    data = getattr(processing, f"apply_{action}")(d, params, at=when, by="officer-1", calendar=CAL)
    decide(d, action=action, status=status, at=iso(when), by="officer-1")
    return data


# --- acceptance and steps ------------------------------------------------------------------

def test_acceptance_starts_the_clock_and_enters_step_one_with_its_own_due_date():
    d = accepted()
    # Monday 2 Nov 09:00: 10 working days -> Mon 16 Nov; step 1 (3 days) -> Thu 5 Nov
    assert d["due_at"] == "2026-11-16T17:00:00+07:00" == iso(CAL.due_date(at(2), 10))
    assert d["step"]["index"] == 1 and d["step"]["due_at"] == "2026-11-05T17:00:00+07:00"
    assert d["holder_agency_id"] == COMMUNE


def test_a_procedure_without_steps_gets_one_step_covering_the_whole_time():
    d = accepted(steps=())
    assert [s["days"] for s in d["steps"]] == [10]
    assert d["step"]["due_at"] == d["due_at"]


def test_forwarding_to_another_agency_hands_the_dossier_over_and_records_who_held_the_step():
    d = accepted()
    d["step"]["assignee"] = "chuyen-vien-a"
    data = run(d, "forward", at(4, 15), "processing", to_step=2, assignee="chuyen-vien-sxd", note="Xin ý kiến")
    assert d["holder_agency_id"] == DEPARTMENT and d["agencies"] == [COMMUNE, DEPARTMENT]
    held = d["step_history"][0]
    assert (held["assignee"], held["started_at"], held["ended_at"]) == ("chuyen-vien-a", iso(at(2)), iso(at(4, 15)))
    assert held["working_days"] == 2 and held["seconds"] == 2 * 86400 + 6 * 3600   # Mon, Tue
    assert held["timeliness"] == "early"
    # step 2 (4 days) from Wed 4 Nov 15:00 -> Tue 10 Nov
    assert d["step"]["due_at"] == "2026-11-10T17:00:00+07:00"
    assert data["handover"] is True and data["to_agency_id"] == DEPARTMENT


def test_forwarding_again_to_the_current_step_and_assignee_is_a_conflict_not_a_second_move():
    d = accepted()
    run(d, "forward", at(4, 15), "processing", to_step=2, assignee="chuyen-vien-sxd")
    with pytest.raises(Conflict) as info:
        run(d, "forward", at(4, 16), "processing", to_step=2, assignee="chuyen-vien-sxd")
    assert info.value.code == "already_at_step" and len(d["step_history"]) == 1
    run(d, "forward", at(4, 16), "processing", to_step=2, assignee="chuyen-vien-khac")   # a reassignment
    assert d["step"]["assignee"] == "chuyen-vien-khac"


def test_forwarding_to_a_step_that_does_not_exist_names_the_field():
    d = accepted()
    with pytest.raises(ValidationFailed) as info:
        run(d, "forward", at(3), "processing", to_step=5)
    assert "to_step" in info.value.fields


# --- supplements -----------------------------------------------------------------------------

def test_a_supplement_request_stops_the_clock_and_resume_adds_the_paused_working_days():
    d = accepted("resume")
    run(d, "request_supplement", at(4, 10), "supplement_requested", reason="Thiếu bản vẽ", documents=["Bản vẽ"])
    assert d["due_at"] is None and d["step"]["due_at"] is None
    assert d["pauses"][0]["end"] is None and d["pauses"][0]["reason"] == "Thiếu bản vẽ"
    data = run(d, "supplement", at(9, 10), "processing", attachments=[{"upload_id": "a" * 32, "name": "bv.pdf"}])
    # paused Wed 4, Thu 5, Fri 6 -> due moves 3 working days: Mon 16 -> Thu 19 Nov
    assert d["due_at"] == "2026-11-19T17:00:00+07:00"
    assert d["due_at"] == iso(CAL.due_date(at(2), 10, [Pause(at(4, 10), at(9, 10))], "resume"))
    assert data["due_at_before_pause"] == "2026-11-16T17:00:00+07:00"
    assert d["attachments"] == [{"upload_id": "a" * 32, "name": "bv.pdf"}]
    assert d["supplements"][0]["supplied_at"] == iso(at(9, 10))


def test_restart_counts_the_full_time_again_from_the_supplement():
    d = accepted("restart")
    run(d, "request_supplement", at(4, 10), "supplement_requested", reason="Thiếu", documents=["Bản vẽ"])
    run(d, "supplement", at(9, 10), "processing", attachments=[{"upload_id": "b" * 32, "name": "x.pdf"}])
    # 10 working days after Mon 9 Nov: 10..13, 16..20, 23 -> Mon 23 Nov
    assert d["due_at"] == "2026-11-23T17:00:00+07:00"
    # the current step (1, three days) restarts too: Tue 10, Wed 11, Thu 12
    assert d["step"]["due_at"] == "2026-11-12T17:00:00+07:00"


# --- extension ---------------------------------------------------------------------------------

def test_extension_moves_the_due_date_and_records_old_and_new():
    d = accepted()
    data = run(d, "extend", at(13), "processing", reason="Cần xác minh thêm", new_due_date="2026-11-20")
    assert d["due_at"] == "2026-11-20T17:00:00+07:00"
    assert (data["old_due_at"], data["new_due_at"], data["added_working_days"]) == (
        "2026-11-16T17:00:00+07:00", "2026-11-20T17:00:00+07:00", 4)
    assert d["extensions"][0]["reason"] == "Cần xác minh thêm"


def test_a_pause_after_an_extension_still_moves_the_extended_date():
    d = accepted("resume")
    run(d, "extend", at(13), "processing", reason="Gia hạn", new_due_date="2026-11-20")
    run(d, "request_supplement", at(16, 10), "supplement_requested", reason="Thiếu", documents=["Bản vẽ"])
    run(d, "supplement", at(18, 10), "processing", attachments=[{"upload_id": "c" * 32, "name": "x.pdf"}])
    # paused Mon 16 and Tue 17 -> Fri 20 moves 2 working days: Mon 23, then Wed 25
    # (Tue 24 Nov is Ngày Văn hóa Việt Nam)
    assert d["due_at"] == "2026-11-25T17:00:00+07:00"


@pytest.mark.parametrize("new_date, message", [
    ("2026-11-16", "sau ngày hẹn hiện tại"),
    ("2026-11-21", "ngày làm việc"),       # a Saturday
    ("2026-11-24", "ngày làm việc"),       # Ngày Văn hóa Việt Nam
    ("20/11/2026", "YYYY-MM-DD"),
])
def test_extension_dates_must_be_later_working_days(new_date, message):
    d = accepted()
    with pytest.raises(ValidationFailed) as info:
        run(d, "extend", at(13), "processing", reason="x", new_due_date=new_date)
    assert message in info.value.fields["new_due_date"]


# --- results and back-dating -------------------------------------------------------------------

def test_result_records_finished_at_and_classifies_it_by_local_calendar_day():
    d = accepted()
    data = run(d, "issue_result", at(16, 16, 30), "finished", decision="approved",
               documents=[{"upload_id": "d" * 32, "name": "gp.pdf"}])
    assert d["finished_at"] == iso(at(16, 16, 30)) and data["timeliness"] == "on_time"
    assert d["step"] is None and d["step_history"][-1]["ended_at"] == iso(at(16, 16, 30))


def test_result_may_be_back_dated_one_working_day_and_the_decision_says_so():
    d = accepted()
    data = run(d, "issue_result", at(17, 8), "finished", decision="approved",
               documents=[{"upload_id": "d" * 32, "name": "gp.pdf"}], effective_at=iso(at(16, 16)))
    assert d["finished_at"] == iso(at(16, 16)) and data["timeliness"] == "on_time"
    assert data["backdated"] is True and d["result"]["recorded_at"] == iso(at(17, 8))


def test_friday_signing_may_be_recorded_on_monday():
    d = accepted()
    data = run(d, "issue_result", at(16, 8), "finished", decision="approved",
               documents=[{"upload_id": "d" * 32, "name": "gp.pdf"}], effective_at=iso(at(13, 16)))
    assert data["finished_at"] == iso(at(13, 16)) and data["timeliness"] == "early"


@pytest.mark.parametrize("effective, message", [
    (at(12, 16), "tối đa 1 ngày làm việc"),     # Thursday, recorded Monday: 2 working days back
    (at(16, 12), "tương lai"),
    (at(2, 8, 30), "thao tác gần nhất"),        # before the acceptance at 09:00
    ("16/11/2026", "ISO 8601"),
])
def test_back_dating_limits(effective, message):
    d = accepted()
    when = at(16, 10) if effective != at(2, 8, 30) else at(3, 9)
    with pytest.raises(ValidationFailed) as info:
        run(d, "issue_result", when, "finished", decision="approved",
            documents=[{"upload_id": "d" * 32, "name": "gp.pdf"}],
            effective_at=effective if isinstance(effective, str) else iso(effective))
    assert message in info.value.fields["effective_at"]


def test_return_result_records_returned_at_and_method():
    d = accepted()
    d["applicant"]["address"] = "12 Lê Lợi, phường Cẩm Thành"
    run(d, "issue_result", at(10), "finished", decision="rejected", documents=[{"upload_id": "e" * 32, "name": "tb.pdf"}])
    data = run(d, "return_result", at(11), "returned", method="post")
    assert (d["returned_at"], d["return_method"], data["backdated"]) == (iso(at(11)), "post", False)


def test_stopping_closes_the_open_pause_and_the_step():
    d = accepted()
    run(d, "request_supplement", at(4), "supplement_requested", reason="Thiếu", documents=["Bản vẽ"])
    run(d, "stop", at(20), "stopped", reason="Quá hạn bổ sung")
    assert d["pauses"][0]["end"] == iso(at(20)) and d["step"] is None


def test_a_dossier_is_rated_once():
    d = accepted()
    criteria = {str(n): 2 for n in range(1, 10)}
    run(d, "rate", at(20), "finished", criteria=criteria, overall=5, comment="Nhanh")
    with pytest.raises(Conflict):
        run(d, "rate", at(21), "finished", criteria=criteria, overall=1)


# --- per-step warnings -------------------------------------------------------------------------

def test_due_index_takes_the_earlier_of_step_and_overall_due_while_the_clock_runs():
    d = accepted()
    assert processing.due_index(d) == (COMMUNE, "2026-11-05T17:00:00+07:00")   # step 1
    run(d, "request_supplement", at(3), "supplement_requested", reason="x", documents=["y"])
    assert processing.due_index(d) is None
    d2 = accepted()
    run(d2, "forward", at(3), "processing", to_step=2)
    assert processing.due_index(d2) == (DEPARTMENT, iso(CAL.due_date(at(3), 4)))


def test_due_windows():
    assert processing.due_window("overdue", at(16, 10), CAL) == (None, iso(at(16, 10)))
    # Monday 10:00: within 1 working day means up to Tuesday 17:00
    assert processing.due_window("soon", at(16, 10), CAL) == (iso(at(16, 10)), "2026-11-17T17:00:00+07:00")
    # after hours on Monday 23 Nov, Tuesday 24 is a day off: up to Thursday 26
    assert processing.due_window("soon", at(23, 18), CAL)[1] == "2026-11-26T17:00:00+07:00"
