"""Processing rules: internal steps, the clock (pauses, extensions), results and ratings.

Pure domain code over the Dossier (chalicelib.dossiers.rules.records): no AWS, no HTTP.
Each ``apply_*`` function changes the dossier for one action that the state graph
(chalicelib/dossiers/rules/transitions.py) has already allowed, and returns the event's
``data``. Field checks that need the dossier (a step that does not exist, a back-dated time
before the last transition…) raise ValidationFailed here.

Every deadline comes from ``WorkingCalendar.due_date`` with the dossier's stored pauses:
the overall one from the acceptance time, each step's from the time the step started.
An extension is stored as the working days it added, so later pauses still apply to it.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any, TypedDict, cast
from collections.abc import Mapping

from chalicelib.kernel.working_days import (
    Pause, WorkingCalendar, classify, iso, parse_iso, parse_local, to_local,
)
from chalicelib.catalogue.rules.procedures import Procedure, default_steps
from chalicelib.kernel.errors import Conflict, ValidationFailed
from chalicelib.runtime.settings import settings
from chalicelib.dossiers.rules.records import (
    CurrentStep, Dossier, Extension, HeldStep, PauseEntry, StepTemplate,
)
from chalicelib.dossiers.rules.transitions import IN_PROGRESS


def initial_steps(procedure: Procedure) -> list[StepTemplate]:
    """The internal process a new dossier carries, each step's agency filled in. Copied from
    the catalogue, like the processing days, so a later catalogue edit never changes a
    running dossier."""
    steps = procedure.steps or default_steps(procedure.processing_days)
    # Step.to_dict() holds a StepTemplate's keys.
    return [cast(StepTemplate, {**step.to_dict(), "agency_id": step.agency_id or procedure.agency_id})
            for step in steps]


# --- the clock -----------------------------------------------------------------------------

def pauses_of(dossier: Dossier) -> list[Pause]:
    return [_pause(p) for p in dossier.get("pauses", [])]


def _pause(entry: PauseEntry) -> Pause:
    end = entry.get("end")
    return Pause(parse_iso(entry["start"]), parse_iso(end) if end else None, entry.get("reason", ""))


def recompute_deadlines(dossier: Dossier, calendar: WorkingCalendar) -> None:
    """Set ``due_at`` and the current step's ``due_at`` from the calendar (None while paused)."""
    accepted_at = dossier.get("accepted_at")
    if not accepted_at:
        return
    pauses, rule = pauses_of(dossier), dossier["supplement_rule"]
    days = dossier["processing_days"] + dossier.get("extension_days", 0)
    due = calendar.due_date(parse_iso(accepted_at), days, pauses, rule)
    dossier["due_at"] = iso(due) if due else None
    step = dossier.get("step")
    if step:
        started = parse_iso(step["started_at"])
        step_due = calendar.due_date(started, step["days"], [p for p in pauses if p.start >= started], rule)
        step["due_at"] = iso(step_due) if step_due else None


def effective_time(raw: str | None, *, field: str, now: datetime, dossier: Dossier,
                   calendar: WorkingCalendar) -> datetime:
    """When an act really happened. Officers may back-date to the real signing time, by at
    most 1 working day and never before the dossier's last transition; never in the future."""
    if raw is None:
        return now
    try:
        moment = parse_local(raw)
    except ValueError:
        message = "Thời điểm phải theo ISO 8601 có múi giờ, ví dụ 2026-11-20T16:30:00+07:00."
        raise ValidationFailed(fields={field: message}) from None
    if not calendar.covers(moment.date()):
        raise ValidationFailed(fields={field: calendar.range_message()})
    if moment > now:
        raise ValidationFailed(fields={field: "Thời điểm hiệu lực không được ở tương lai."})
    if calendar.working_days_between(moment.date(), now.date()) > 1:
        raise ValidationFailed(fields={field: "Chỉ được ghi lùi thời điểm hiệu lực tối đa 1 ngày làm việc."})
    last = last_transition_at(dossier)
    if last is not None and moment < last:
        raise ValidationFailed(fields={field: "Thời điểm hiệu lực không được trước thao tác gần nhất trên hồ sơ "
                                              f"({iso(last)})."})
    return moment


def last_transition_at(dossier: Dossier) -> datetime | None:
    decisions = dossier.get("decisions") or []
    if decisions:
        last = decisions[-1]
        return parse_iso(last.get("effective_at") or last["at"])
    return parse_iso(dossier["submitted_at"]) if dossier.get("submitted_at") else None


class Backdating(TypedDict):
    """When a decision took effect, and whether that is earlier than when it was recorded."""
    effective_at: str
    backdated: bool


def backdating(effective: datetime, now: datetime) -> Backdating:
    """The audit fields of a decision whose effective time may differ from when it was recorded."""
    return {"effective_at": iso(effective), "backdated": effective < now}


# --- steps ---------------------------------------------------------------------------------

def enter_step(dossier: Dossier, index: int, *, at: datetime, by: str, assignee: str | None,
               note: str | None, calendar: WorkingCalendar) -> HeldStep | None:
    """Close the current step (if any) into the history and start step ``index`` (1-based).
    A step of another agency hands the dossier over to it (liên thông). Returns the closed entry."""
    template = dossier["steps"][index - 1]
    closed = close_step(dossier, at=at, calendar=calendar)
    agency = template.get("agency_id") or dossier["agency_id"]
    dossier["step"] = {**template, "index": index, "agency_id": agency, "assignee": assignee,
                       "started_at": iso(at), "entered_by": by, "note": note, "due_at": None}
    dossier["holder_agency_id"] = agency
    if agency not in dossier["agencies"]:
        dossier["agencies"].append(agency)
    recompute_deadlines(dossier, calendar)
    return closed


def close_step(dossier: Dossier, *, at: datetime, calendar: WorkingCalendar) -> HeldStep | None:
    """Record who held the current step and for how long; the dossier then has no step."""
    step = dossier.get("step")
    if not step:
        return None
    started, due_at = parse_iso(step["started_at"]), step.get("due_at")
    entry: HeldStep = {
        "index": step["index"], "name": step["name"], "unit": step["unit"], "agency_id": step["agency_id"],
        "assignee": step.get("assignee"), "entered_by": step.get("entered_by"),
        "started_at": step["started_at"], "ended_at": iso(at), "due_at": due_at,
        "working_days": calendar.working_days_between(calendar.effective_start_day(started),
                                                      calendar.effective_start_day(at)),
        "seconds": max(0, int((at - started).total_seconds())),
        "timeliness": classify(at, parse_iso(due_at)) if due_at else None,
    }
    dossier["step_history"].append(entry)
    dossier["step"] = None
    return entry


def start_clock(dossier: Dossier, params: Mapping[str, Any], *, at: datetime, by: str,
                calendar: WorkingCalendar) -> dict[str, Any]:
    """Acceptance (tiếp nhận): the clock starts, the due date is set and the dossier enters
    step 1 with its own due date."""
    dossier["accepted_at"] = iso(at)
    recompute_deadlines(dossier, calendar)
    if dossier.get("steps"):
        enter_step(dossier, 1, at=at, by=by, assignee=None, note=None, calendar=calendar)
    return {"accepted_at": dossier["accepted_at"], "due_at": dossier["due_at"],
            "processing_days": dossier["processing_days"], "accepted_by": by}


def apply_forward(dossier: Dossier, params: Mapping[str, Any], *, at: datetime, by: str,
                  calendar: WorkingCalendar) -> dict[str, Any]:
    to_step = params["to_step"]
    if to_step > len(dossier["steps"]):
        raise ValidationFailed(fields={"to_step": f"Quy trình của thủ tục chỉ có {len(dossier['steps'])} bước."})
    before: Mapping[str, Any] = dossier.get("step") or {}
    if before.get("index") == to_step and before.get("assignee") == params.get("assignee"):
        # A retried forward (the first one's answer lost) must not move the dossier twice.
        raise Conflict(f"Hồ sơ đã ở bước {to_step} với người xử lý này.", code="already_at_step",
                       extra={"current_step": to_step})
    closed = enter_step(dossier, to_step, at=at, by=by, assignee=params.get("assignee"),
                        note=params.get("note"), calendar=calendar)
    step = cast(CurrentStep, dossier["step"])   # enter_step has just set it
    return {
        "forwarded_at": iso(at), "forwarded_by": by,
        "from_step": before.get("index"), "from_agency_id": before.get("agency_id"),
        "to_step": to_step, "step_name": step["name"], "to_agency_id": step["agency_id"], "unit": step["unit"],
        "assignee": step["assignee"], "note": step["note"], "step_due_at": step["due_at"], "due_at": dossier["due_at"],
        "handover": bool(before) and before.get("agency_id") != step["agency_id"],
        "held_working_days": closed["working_days"] if closed else None,
    }


# --- supplements, extensions ---------------------------------------------------------------

def apply_request_supplement(dossier: Dossier, params: Mapping[str, Any], *, at: datetime, by: str,
                             calendar: WorkingCalendar) -> dict[str, Any]:
    """Stop the clock: an open pause (start, reason) until the citizen supplies the documents.
    At most MOTCUA_MAX_SUPPLEMENT_ROUNDS requests per dossier: each round grows the dossier."""
    rounds = settings().dossier_limits.supplement_rounds
    if len(dossier["supplements"]) >= rounds:
        raise Conflict(f"Hồ sơ đã được yêu cầu bổ sung {rounds} lần, là số lần tối đa.",
                       code="supplement_rounds_exhausted", extra={"max_rounds": rounds})
    dossier["pauses"].append({"start": iso(at), "end": None, "reason": params["reason"],
                              "due_at_before": dossier["due_at"]})
    dossier["supplements"].append({"requested_at": iso(at), "requested_by": by, "reason": params["reason"],
                                   "documents": list(params["documents"]), "supplied_at": None,
                                   "supplied_by": None, "attachments": []})
    recompute_deadlines(dossier, calendar)
    return {"requested_at": iso(at), "requested_by": by, "reason": params["reason"],
            "documents": list(params["documents"])}


def apply_supplement(dossier: Dossier, params: Mapping[str, Any], *, at: datetime, by: str,
                     calendar: WorkingCalendar) -> dict[str, Any]:
    """Close the pause; the due dates follow the procedure's resume/restart rule."""
    old_due = dossier["pauses"][-1].get("due_at_before")
    _end_open_pause(dossier, at)
    known = {a["upload_id"] for a in dossier["attachments"]}
    added = [a for a in params["attachments"] if a["upload_id"] not in known]
    dossier["attachments"].extend(added)
    request = dossier["supplements"][-1]
    request["supplied_at"], request["supplied_by"] = iso(at), by
    request["attachments"] = list(params["attachments"])
    recompute_deadlines(dossier, calendar)
    dossier["pauses"][-1]["due_at_after"] = dossier["due_at"]
    return {"supplied_at": iso(at), "attachment_count": len(params["attachments"]),
            "rule": dossier["supplement_rule"], "due_at_before_pause": old_due, "due_at": dossier["due_at"],
            "step_due_at": _step_due(dossier)}


def _step_due(dossier: Dossier) -> str | None:
    step = dossier.get("step")
    return step.get("due_at") if step else None


def _end_open_pause(dossier: Dossier, at: datetime) -> None:
    for pause in dossier["pauses"]:
        if pause.get("end") is None:
            pause["end"] = iso(at)


def parse_due_day(raw: str, field: str) -> date:
    try:
        day = date.fromisoformat(raw)
    except ValueError:
        day = None
    if day is None or day.isoformat() != raw:
        raise ValidationFailed(fields={field: "Ngày hẹn trả mới phải có dạng YYYY-MM-DD, ví dụ 2026-12-15."})
    return day


def apply_extend(dossier: Dossier, params: Mapping[str, Any], *, at: datetime, by: str,
                 calendar: WorkingCalendar) -> dict[str, Any]:
    """Apology letter and extension (Decree 118/2025/NĐ-CP on the one-stop mechanism: a
    dossier that will be late gets a written apology with a new appointment date, sent
    before the due date). It is honest only while the dossier is not yet late: made at the
    latest on the working day before the due day, else 409 ``deadline_passed`` and the
    dossier stays late in form 06 (Decision 766/QĐ-TTg counts timeliness against the date
    promised at intake; only an audited correction changes a recorded figure). The new day
    is a later working day, and all extensions together add at most ``horizon_days`` working
    days (params; the procedure's statutory processing days when None). The working days it
    adds are stored, so the due date stays calendar.due_date(…) of the stored facts."""
    old_due = dossier["due_at"]
    if not old_due:
        raise Conflict("Hồ sơ chưa có ngày hẹn trả nên chưa thể gia hạn.", code="no_due_date")
    new_day = parse_due_day(params["new_due_date"], "new_due_date")
    old_day = to_local(parse_iso(old_due)).date()
    ahead = calendar.working_days_between(to_local(at).date(), old_day)
    if ahead < 1:
        raise Conflict("Đã quá thời hạn gia hạn: phải xin lỗi và hẹn lại chậm nhất vào ngày làm việc trước ngày hẹn "
                       f"trả ({old_day.isoformat()}). Hồ sơ được tính là trễ hạn.", code="deadline_passed",
                       extra={"due_at": old_due})
    try:
        working = calendar.is_working_day(new_day)
    except ValueError:
        raise ValidationFailed(fields={"new_due_date": "Ngày hẹn trả mới nằm ngoài lịch làm việc."}) from None
    if new_day <= old_day:
        raise ValidationFailed(fields={"new_due_date": f"Ngày hẹn trả mới phải sau ngày hẹn hiện tại ({old_day.isoformat()})."})
    if not working:
        raise ValidationFailed(fields={"new_due_date": "Ngày hẹn trả mới phải là ngày làm việc."})
    added = calendar.working_days_between(old_day + timedelta(days=1), new_day + timedelta(days=1))
    horizon = params.get("horizon_days") or dossier["processing_days"]
    already = dossier.get("extension_days", 0)
    if already + added > horizon:
        latest = calendar.add_working_days(old_day, horizon - already) if horizon > already else old_day
        raise ValidationFailed("Thời gian gia hạn vượt quá mức cho phép.", code="extension_too_long", fields={
            "new_due_date": f"Tổng thời gian gia hạn tối đa {horizon} ngày làm việc; ngày hẹn mới muộn nhất là "
                            f"{latest.isoformat()}."})
    dossier["extension_days"] = already + added
    recompute_deadlines(dossier, calendar)
    record: Extension = {"at": iso(at), "by": by, "reason": params["reason"], "old_due_at": old_due,
                         "new_due_at": dossier["due_at"], "added_working_days": added,
                         "new_due_date": new_day.isoformat(), "working_days_before_due": ahead}
    dossier["extensions"].append(record)
    return {"extended_at": iso(at), "extended_by": by, "reason": params["reason"], "old_due_at": old_due,
            "new_due_at": dossier["due_at"], "added_working_days": added, "new_due_date": new_day.isoformat(),
            "working_days_before_due": ahead}


# --- endings ---------------------------------------------------------------------------------

def _end(dossier: Dossier, at: datetime, calendar: WorkingCalendar) -> None:
    _end_open_pause(dossier, at)
    close_step(dossier, at=at, calendar=calendar)


def apply_refuse(dossier: Dossier, params: Mapping[str, Any], *, at: datetime, by: str,
                 calendar: WorkingCalendar) -> dict[str, Any]:
    """Từ chối tiếp nhận: the clock never started, so only the reason the citizen will read."""
    return {"refused_at": iso(at), "reason": params["reason"], "refused_by": by}


def apply_stop(dossier: Dossier, params: Mapping[str, Any], *, at: datetime, by: str,
               calendar: WorkingCalendar) -> dict[str, Any]:
    _end(dossier, at, calendar)
    return {"stopped_at": iso(at), "stopped_by": by, "reason": params["reason"]}


def apply_withdraw(dossier: Dossier, params: Mapping[str, Any], *, at: datetime, by: str,
                   calendar: WorkingCalendar) -> dict[str, Any]:
    _end(dossier, at, calendar)
    return {"withdrawn_at": iso(at), "withdrawn_by": by, "reason": params.get("reason")}


def apply_issue_result(dossier: Dossier, params: Mapping[str, Any], *, at: datetime, by: str,
                       calendar: WorkingCalendar) -> dict[str, Any]:
    """The result (đã xử lý xong). ``finished_at`` is the effective time, which reports
    classify against ``due_at`` with calendar.classify."""
    effective = effective_time(params.get("effective_at"), field="effective_at", now=at, dossier=dossier,
                               calendar=calendar)
    close_step(dossier, at=effective, calendar=calendar)
    dossier["finished_at"] = iso(effective)
    dossier["result"] = {"decision": params["decision"], "documents": list(params["documents"]),
                         "issued_by": by, "recorded_at": iso(at), **backdating(effective, at)}
    return {"finished_at": dossier["finished_at"], "decision": params["decision"],
            "document_count": len(params["documents"]), "due_at": dossier["due_at"],
            "timeliness": classify(effective, parse_iso(dossier["due_at"])) if dossier["due_at"] else None,
            "issued_by": by, "recorded_at": iso(at), "backdated": effective < at}


def apply_return_result(dossier: Dossier, params: Mapping[str, Any], *, at: datetime, by: str,
                        calendar: WorkingCalendar) -> dict[str, Any]:
    """The result handed over: at a desk, online, or by post, which needs the applicant's
    postal address (the public postal service, Decision 45/2016/QĐ-TTg)."""
    if params["method"] == "post" and not dossier["applicant"].get("address"):
        raise ValidationFailed(fields={"method": "Hồ sơ không có địa chỉ nhận (applicant.address) để gửi kết quả qua "
                                                 "bưu chính."})
    effective = effective_time(params.get("effective_at"), field="effective_at", now=at, dossier=dossier,
                               calendar=calendar)
    dossier["returned_at"] = iso(effective)
    dossier["return_method"] = params["method"]
    return {"returned_at": dossier["returned_at"], "method": params["method"], "returned_by": by,
            "recorded_at": iso(at), "backdated": effective < at}


def apply_rate(dossier: Dossier, params: Mapping[str, Any], *, at: datetime, by: str,
               calendar: WorkingCalendar) -> dict[str, Any]:
    """The rating on the national index's nine criteria, once per dossier: by the owner
    online, or recorded by a desk for a walk-in citizen (``at_desk``, from the use case)."""
    if dossier.get("rating"):
        raise Conflict("Hồ sơ này đã được đánh giá; mỗi hồ sơ chỉ đánh giá một lần.", code="already_rated")
    at_desk = bool(params.get("at_desk"))
    dossier["rating"] = {"criteria": dict(params["criteria"]), "overall": params["overall"],
                         "comment": params.get("comment"), "rated_at": iso(at), "at_desk": at_desk,
                         "recorded_by": by}
    return {"rated_at": iso(at), "criteria": dict(params["criteria"]), "overall": params["overall"],
            "has_comment": bool(params.get("comment")), "at_desk": at_desk}


def apply_reassign(dossier: Dossier, params: Mapping[str, Any], *, at: datetime, by: str,
                   calendar: WorkingCalendar) -> dict[str, Any]:
    """Merger day: the successor becomes the dossier's agency, and holder (and receiving desk)
    wherever the retired agency was. Nothing about time changes: the due dates, pauses and the current step's
    clock stay as they were, so the move itself never makes a dossier late, and the code (with
    the old agency's prefix) stays the dossier's key for tracking."""
    old, new = dossier["agency_id"], params["to_agency_id"]
    if old == new:
        raise Conflict("Hồ sơ đã thuộc cơ quan này.", code="already_reassigned")
    dossier["agency_id"] = new
    if (dossier.get("holder_agency_id") or old) == old:
        dossier["holder_agency_id"] = new
    if dossier.get("receiving_agency_id") == old:   # the retired desk's counter is the successor's now
        dossier["receiving_agency_id"] = new
    dossier["agencies"] = [*(a for a in dossier.get("agencies", [old]) if a != new), new]
    for template in dossier.get("steps", []):
        if template.get("agency_id") == old:
            template["agency_id"] = new
    step = dossier.get("step")
    if step and step.get("agency_id") == old:
        step["agency_id"] = new
    return {"reassigned_at": iso(at), "reassigned_by": by, "from_agency_id": old, "to_agency_id": new,
            "reassigned_to": new, "plan_id": params["plan_id"], "reason": params["reason"],
            "due_at": dossier.get("due_at")}


# --- warnings --------------------------------------------------------------------------------

def due_index(dossier: Dossier) -> tuple[str, str] | None:
    """(holding agency, earliest of the step and overall due dates) while the clock runs;
    None otherwise, which keeps the dossier out of the sparse due-date index."""
    if dossier.get("status") not in IN_PROGRESS:
        return None
    dues = [parse_iso(d) for d in (dossier.get("due_at"), _step_due(dossier)) if d]
    if not dues:
        return None
    return dossier.get("holder_agency_id") or dossier["agency_id"], iso(min(dues))


DUE_FILTERS = ("soon", "overdue")


def due_window(kind: str, now: datetime, calendar: WorkingCalendar) -> tuple[str | None, str]:
    """ISO bounds on the earliest due date: overdue is before now; soon is from now to the
    end of the next working day (within 1 working day)."""
    if kind == "overdue":
        return None, iso(now)
    return iso(now), iso(calendar.due_date(now, 1))  # type: ignore[arg-type]


def due_view(dossier: Dossier, now: datetime) -> dict[str, Any]:
    step: Mapping[str, Any] = dossier.get("step") or {}
    overall, step_due = dossier.get("due_at"), step.get("due_at")
    which = "step" if step_due and (not overall or parse_iso(step_due) < parse_iso(overall)) else "dossier"
    chosen = step_due if which == "step" else overall
    assert chosen is not None, "due_view is asked only about dossiers with a due date (the due index)"
    earliest = parse_iso(chosen)
    return {
        "dossier_code": dossier["code"], "status": dossier["status"], "procedure_code": dossier["procedure_code"],
        "procedure_name": dossier["procedure_name"], "holder_agency_id": dossier.get("holder_agency_id"),
        "step": {k: step.get(k) for k in ("index", "name", "unit", "assignee", "due_at")} if step else None,
        "due_at": overall, "deadline": which, "overdue": earliest < now,
    }
