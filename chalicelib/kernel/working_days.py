"""Working-day calendar for dossier deadlines (docs/domain.md, section 4).

Pure domain code: no AWS, no Chalice. Everything is computed in Asia/Ho_Chi_Minh because
deadlines and the early/on-time/late classification are defined in local calendar days.

Holidays, substitute days and swapped working Saturdays come from ``holidays.VN`` (>= 0.109;
older versions miss the 2025 swap). Provinces and yearly notices add their own days off and
working days, which come from a JSON extras file (see ``load_extras``).
"""
from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from functools import cache
from itertools import pairwise
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
RULES = ("resume", "restart")
# Names are shown to citizens. Pinned because holidays otherwise picks the language from
# the process locale (LANG), which would make names differ between machines.
HOLIDAY_LANGUAGE = "vi"
PACKAGED_EXTRAS = Path(__file__).parent / "data" / "calendar_extras.json"

WORKING, WEEKEND, HOLIDAY, SWAPPED = "working", "weekend", "holiday", "swapped_working"


def to_local(moment: datetime) -> datetime:
    """Convert an aware datetime to Asia/Ho_Chi_Minh. Naive input is refused: guessing its
    zone is exactly how a 10:30Z acceptance silently becomes a same-day one."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"naive datetime {moment.isoformat()} has no time zone")
    return moment.astimezone(TZ)


def parse_iso(text: str) -> datetime:
    """Parse ISO 8601 with an offset (``Z`` accepted); naive or malformed text raises ValueError."""
    if not isinstance(text, str):
        raise ValueError(f"expected an ISO 8601 string, got {type(text).__name__}")
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"not an ISO 8601 date-time: {text!r}") from None
    if moment.tzinfo is None:
        raise ValueError(f"ISO 8601 date-time without offset: {text!r}")
    return moment


def parse_local(text: str) -> datetime:
    """``parse_iso`` in Asia/Ho_Chi_Minh. A moment that exists with its own offset but not in
    local time (``0001-01-01T00:00:00+14:00`` is still year 0 in UTC, ``9999-12-31T23:59:59-12:00``
    already year 10000) raises ValueError like any other bad input, never OverflowError."""
    moment = parse_iso(text)
    try:
        return to_local(moment)
    except OverflowError:
        raise ValueError(f"date-time outside the representable range: {text!r}") from None


def iso(moment: datetime) -> str:
    """Local ISO 8601, seconds precision, e.g. ``2025-04-29T17:00:00+07:00``."""
    return to_local(moment).isoformat(timespec="seconds")


def classify(finished_at: datetime, due_at: datetime) -> str:
    """``early`` / ``on_time`` / ``late`` by calendar date in Asia/Ho_Chi_Minh, never by exact
    timestamp: anything finished on the local due day is on time (domain.md section 4), and
    23:30 UTC on the due day is already the next local day, so late."""
    finished, due = to_local(finished_at).date(), to_local(due_at).date()
    return "early" if finished < due else "on_time" if finished == due else "late"


@dataclass(frozen=True)
class Pause:
    """A supplement request: the clock stops from ``start`` until ``end`` (None = still paused)."""

    start: datetime
    end: datetime | None
    reason: str = ""


class WorkingCalendar:
    """Working days for [first_year, last_year], with O(1) day arithmetic.

    ``holidays`` has ``get_nth_working_day`` / ``get_working_days_count``, but they walk day
    by day and call ``is_working_day`` on each; deadlines are computed for every dossier in
    every list and report, so the index is built once here instead:

    * ``_working``: sorted ordinals of all working days in range;
    * ``_before[i]``: number of working days with ordinal < base + i (length span + 1), so
      ``_before[i + 1]`` is the count up to and including that day, which is also the
      position in ``_working`` of the next working day after it.
    """

    def __init__(self, first_year: int = 2015, last_year: int = 2040,
                 extra_days_off: Mapping[date, str] | None = None,
                 extra_working_days: Mapping[date, str] | None = None,
                 workday_end: time = time(17, 0)) -> None:
        if first_year > last_year:
            raise ValueError(f"first_year {first_year} > last_year {last_year}")
        self.first_year, self.last_year, self.workday_end = first_year, last_year, workday_end
        self._first, self._last = date(first_year, 1, 1), date(last_year, 12, 31)
        self._base = self._first.toordinal()
        self._span = span = self._last.toordinal() - self._base + 1
        off, extra_work = dict(extra_days_off or {}), dict(extra_working_days or {})
        for day in (*off, *extra_work):
            self._index(day)  # range check
        if clash := sorted(set(off) & set(extra_work)):
            raise ValueError(f"dates both extra day off and extra working day: {clash}")

        import holidays  # lazy: a submission never needs it, and it is ~0.07 s of every cold start

        vn = holidays.VN(years=range(first_year, last_year + 1), language=HOLIDAY_LANGUAGE)
        # Plain dict/set lookups: HolidayBase.__contains__ re-parses keys and is ~10x slower.
        national, weekend, swapped = dict(vn.items()), set(vn.weekend), set(vn.weekend_workdays)
        self._kinds: list[tuple[str, str | None]] = []
        self._working: list[int] = []
        self._before: list[int] = [0] * (span + 1)
        for i in range(span):
            day = date.fromordinal(self._base + i)
            kind: tuple[str, str | None]
            if day in extra_work:
                kind = (SWAPPED, extra_work[day])
            elif day in off:
                kind = (HOLIDAY, off[day])
            elif day in national:
                kind = (HOLIDAY, national[day])
            elif day.weekday() in weekend:
                kind = (SWAPPED, _swap_name(national, day)) if day in swapped else (WEEKEND, None)
            else:
                kind = (WORKING, None)
            self._kinds.append(kind)
            if kind[0] in (WORKING, SWAPPED):
                self._working.append(self._base + i)
            self._before[i + 1] = len(self._working)

    # -- day arithmetic (hot path) -------------------------------------------------------

    def _index(self, day: date) -> int:
        i = day.toordinal() - self._base
        if not 0 <= i < self._span:
            raise ValueError(f"{day} is outside the working-day calendar "
                             f"({self.first_year}-01-01..{self.last_year}-12-31)")
        return i

    def covers(self, day: date) -> bool:
        """Whether ``day`` is in the calendar's range: input outside it is a field error."""
        return self._first <= day <= self._last

    def range_message(self) -> str:
        """Vietnamese, for a field error: the dates this calendar can count with."""
        return (f"Thời điểm phải nằm trong khoảng lịch làm việc của hệ thống "
                f"(từ {self._first:%d/%m/%Y} đến {self._last:%d/%m/%Y}).")

    def is_working_day(self, day: date) -> bool:
        i = self._index(day)
        return self._before[i + 1] != self._before[i]

    def day_kind(self, day: date) -> tuple[str, str | None]:
        """("working"|"weekend"|"holiday"|"swapped_working", name or None)."""
        return self._kinds[self._index(day)]

    def effective_start_day(self, moment: datetime) -> date:
        """The local date if it is a working day and the local time is before workday_end,
        else the next working day (a dossier received after hours or on a day off counts
        from the next working day)."""
        local = to_local(moment)
        day = local.date()
        i = self._index(day)
        if self._before[i + 1] != self._before[i] and local.time() < self.workday_end:
            return day
        return self._nth_from_position(self._before[i + 1], 1)

    def add_working_days(self, day: date, n: int) -> date:
        """The n-th working day strictly after ``day``; ``n == 0`` returns ``day``."""
        if n < 0:
            raise ValueError(f"n must be >= 0, got {n}")
        i = self._index(day)
        return day if n == 0 else self._nth_from_position(self._before[i + 1], n)

    def _nth_from_position(self, position: int, n: int) -> date:
        k = position + n - 1
        if k >= len(self._working):
            raise ValueError(f"deadline falls after {self._last}: extend the calendar's last_year")
        return date.fromordinal(self._working[k])

    def working_days_between(self, start: date, end: date) -> int:
        """Working days d with start <= d < end (0 if end <= start). ``end`` may be the day
        after the last day in range."""
        if end <= start:
            return 0
        i, j = self._index(start), end.toordinal() - self._base
        if j > self._span:
            self._index(end)  # raises with the range message
        return self._before[j] - self._before[i]

    def paused_working_days(self, pause: Pause) -> int:
        """Working days from effective_start_day(start) inclusive to effective_start_day(end)
        exclusive: the day a pause starts is lost, the day it ends counts. 0 for an open
        pause (its length is not known yet; due_date returns None for it)."""
        if pause.end is None:
            return 0
        return self.working_days_between(self.effective_start_day(pause.start),
                                         self.effective_start_day(pause.end))

    # -- deadlines -------------------------------------------------------------------------

    def due_date(self, accepted_at: datetime, working_days: int,
                 pauses: Sequence[Pause] = (), rule: str = "resume") -> datetime | None:
        """Deadline at workday_end on the due day (Asia/Ho_Chi_Minh); None while paused."""
        if not pauses:  # hot path: two index lookups
            due = self.add_working_days(self.effective_start_day(accepted_at), working_days)
            return datetime.combine(due, self.workday_end, TZ)
        plan = self._plan(accepted_at, working_days, pauses, rule)
        return None if plan is None else datetime.combine(plan[1], self.workday_end, TZ)

    def _plan(self, accepted_at: datetime, n: int, pauses: Sequence[Pause],
              rule: str) -> tuple[date, date, list[tuple[int, int]]] | None:
        """(counting_from, due day, per-pause [first, last) positions in ``_working`` that
        shifted the due day), or None if a pause is open.

        "resume": the due day is the n-th working day after counting_from that is not paused.
        That equals "n-th + sum of paused_working_days" for pauses inside the counting window,
        but a pause's working day on counting_from itself (not counted anyway) does not shift
        it again, and a pause that starts after the due day (already late) does not move it.
        "restart": n days counted again from effective_start_day(end of the last pause).
        """
        if rule not in RULES:
            raise ValueError(f"rule must be one of {RULES}, got {rule!r}")
        if n < 0:
            raise ValueError(f"working_days must be >= 0, got {n}")
        ordered = sorted(pauses, key=lambda p: to_local(p.start))
        for prev, cur in pairwise(ordered):
            if prev.end is None or cur.start < prev.end:
                raise ValueError(f"overlapping pauses: {prev} and {cur}")
        for p in ordered:
            if p.end is not None and p.end < p.start:
                raise ValueError(f"pause ends before it starts: {p}")
        if any(p.end is None for p in ordered):
            return None
        start = self.effective_start_day(accepted_at)
        if rule == "restart" and ordered:
            start = max(start, self.effective_start_day(ordered[-1].end))  # type: ignore[arg-type]
            return start, self.add_working_days(start, n), []
        first = self._before[self._index(start) + 1]  # position of 1st working day after start
        target = first + n  # the due day is _working[target - 1]
        shifted: list[tuple[int, int]] = []
        for p in ordered:
            a = max(first, self._before[self._index(self.effective_start_day(p.start))])
            b = self._before[self._index(self.effective_start_day(p.end))]  # type: ignore[arg-type]
            if n == 0 or a >= target:  # nothing to count, or paused only after the due day
                b = a
            target += max(0, b - a)
            shifted.append((a, max(a, b)))
        if n == 0:
            return start, start, shifted
        if target > len(self._working):
            raise ValueError(f"deadline falls after {self._last}: extend the calendar's last_year")
        return start, date.fromordinal(self._working[target - 1]), shifted

    def explain(self, accepted_at: datetime, working_days: int,
                pauses: Sequence[Pause] = (), rule: str = "resume") -> dict[str, Any]:
        """JSON-ready account of how the due date was reached, for citizens and officers.

        ``days`` lists every calendar day after ``counting_from`` up to the due day. With the
        "restart" rule counting_from is the restart day, so the counted days always total N.
        Pause ``working_days`` is the number of working days that pause moved the due day
        ("resume"), or paused_working_days ("restart", informational).
        """
        plan = self._plan(accepted_at, working_days, pauses, rule)
        local = to_local(accepted_at)
        start = self.effective_start_day(accepted_at)
        after_hours = start != local.date()
        ordered = sorted(pauses, key=lambda p: to_local(p.start))
        counts = ([b - a for a, b in plan[2]] if plan and rule == "resume"
                  else [self.paused_working_days(p) for p in ordered])
        days: list[dict[str, Any]] = []
        if plan is not None:
            start, due, shifted = plan
            paused = {pos for a, b in shifted for pos in range(a, b)}
            for ordinal in range(start.toordinal() + 1, due.toordinal() + 1):
                kind, name = self._kinds[ordinal - self._base]
                if kind in (WORKING, SWAPPED) and self._before[ordinal - self._base] in paused:
                    kind = "paused"
                elif kind == WORKING:
                    kind = "counted"
                days.append({"date": date.fromordinal(ordinal).isoformat(), "kind": kind, "name": name})
        due_at = None if plan is None else datetime.combine(plan[1], self.workday_end, TZ)
        return {
            "accepted_at": iso(accepted_at),
            "counting_from": start.isoformat(),
            "working_days": working_days,
            "rule": rule,
            "workday_end": self.workday_end.strftime("%H:%M"),
            "after_hours": after_hours,
            "pauses": [{"start": iso(p.start), "end": None if p.end is None else iso(p.end),
                        "reason": p.reason, "working_days": c} for p, c in zip(ordered, counts, strict=True)],
            "paused_working_days": sum(counts),
            "days": days,
            "due_at": None if due_at is None else iso(due_at),
        }


def _swap_name(national: Mapping[date, str], saturday: date) -> str:
    """Name a swapped working weekend day after the day off it pays for. holidays only labels
    the day off ("Ngày nghỉ (thay cho ngày 26/04/2025)"), so find that label."""
    stamp = saturday.strftime("%d/%m/%Y")
    for day, name in national.items():
        if stamp in name:
            return f"Ngày làm việc bù (cho ngày nghỉ {day:%d/%m/%Y})"
    return "Ngày làm việc bù"


def load_extras(path: str | Path) -> tuple[dict[date, str], dict[date, str]]:
    """Read ``{"_note": ..., "days_off": {"YYYY-MM-DD": reason}, "working_days": {...}}``.

    Strict on purpose: a typo in a province's file would otherwise silently move deadlines.
    Errors name the file and the bad entry.
    """
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path}: not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a JSON object")
    if unknown := sorted(set(data) - {"_note", "days_off", "working_days"}):
        raise ValueError(f"{path}: unknown keys {unknown}")
    result: list[dict[date, str]] = []
    for section in ("days_off", "working_days"):
        table = data.get(section, {})
        if not isinstance(table, dict):
            raise ValueError(f"{path}: {section} must be an object of date -> reason")
        parsed: dict[date, str] = {}
        for key, reason in table.items():
            try:
                day = date.fromisoformat(key)
            except ValueError:
                day = None
            if day is None or day.isoformat() != key:
                raise ValueError(f"{path}: {section} entry {key!r} is not a YYYY-MM-DD date")
            if not isinstance(reason, str) or not reason.strip():
                raise ValueError(f"{path}: {section} entry {key!r} needs a non-empty reason")
            parsed[day] = reason
        result.append(parsed)
    if clash := sorted(set(result[0]) & set(result[1])):
        raise ValueError(f"{path}: dates in both days_off and working_days: {clash}")
    return result[0], result[1]


def _parse_hhmm(text: str) -> time:
    try:
        hours, minutes = text.split(":")
        return time(int(hours), int(minutes))
    except ValueError:
        raise ValueError(f"workday_end must be HH:MM, got {text!r}") from None


@cache
def default_calendar() -> WorkingCalendar:
    """The process-wide calendar, built on first use (about 0.2 s, mostly holidays.VN) from
    settings(): MOTCUA_WORKDAY_END and MOTCUA_CALENDAR_EXTRAS, else the packaged extras."""
    from chalicelib.runtime.settings import settings

    cfg = settings()
    configured = cfg.calendar_extras_file
    if configured:
        off, work = load_extras(configured)
    elif PACKAGED_EXTRAS.exists():  # may be absent from a wheel without package data
        off, work = load_extras(PACKAGED_EXTRAS)
    else:
        off, work = {}, {}
    return WorkingCalendar(extra_days_off=off, extra_working_days=work,
                           workday_end=_parse_hhmm(cfg.workday_end))
