"""The national service index (Decision 766/QĐ-TTg) as MotCua computes it from its dossiers.

Pure domain code. The formulas are those of ../shared/docs/national-portal.md §5 (the
indicators a one-stop system's data decides), written down in docs/index766.md:

* a dossier is selected into a period by ``NgayTiepNhan`` (``accepted_at``), falling back to
  ``NgayNopHoSo`` (``submitted_at``), as a local day in Asia/Ho_Chi_Minh;
* each indicator is a numerator over a denominator; ``rate`` is a percentage with two
  decimals, ``None`` when the denominator is 0; below its threshold an indicator scores
  ``rate × max points / threshold``, at or above it the full points.

A dossier is reduced to ``IndexFacts``; ``membership`` says, for each indicator, whether the
dossier is in its denominator and numerator and why (the drill-down's reasons).
``contributions`` turns the facts into day series whose prefix sums give every count for any
period (the projection stores them as counters, so a reading costs the same whatever the
number of dossiers); ``direct_counts`` counts the same straight from the facts by a different
method (membership per dossier), which is what ``motcua reports indicators verify`` compares.

2.1 depends on the period only through dossiers with no end yet ("the end is the period's last
day"): such a dossier is on time at the end of day X while X ≤ its due day, so it adds +1 on
the day it is selected and −1 the day after its due day.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from chalicelib.dossiers.rules.records import Dossier

# --- the indicators -----------------------------------------------------------------------

# Group maxima (national-portal.md §5): transparency 18, progress 20, online service 12,
# digitisation 22, satisfaction 18, online payment 10 (total 100).
GROUPS: dict[str, tuple[str, int]] = {
    "1": ("Công khai, minh bạch", 18),
    "2": ("Tiến độ giải quyết", 20),
    "3": ("Dịch vụ công trực tuyến", 12),
    "4": ("Số hóa hồ sơ", 22),
    "5": ("Mức độ hài lòng", 18),
    "6": ("Thanh toán trực tuyến", 10),
}


@dataclass(frozen=True)
class Indicator:
    id: str
    name: str
    group: str
    threshold: float = 100.0     # percent at which the full points are reached
    unit: str = "percent"        # "percent", or "working_days" for 2.2 (an average, not a share)


INDICATORS: tuple[Indicator, ...] = (
    Indicator("1.4", "Tỷ lệ hồ sơ được đồng bộ lên Cổng DVCQG", "1"),
    Indicator("2.1", "Tỷ lệ hồ sơ giải quyết trước và đúng hạn", "2"),
    Indicator("2.2", "Thời gian giải quyết trung bình", "2", unit="working_days"),
    Indicator("3.3", "Tỷ lệ hồ sơ trực tuyến", "3", threshold=50.0),
    Indicator("3.5", "Tỷ lệ thủ tục có phí, lệ phí thanh toán trực tuyến được", "6"),
    Indicator("3.6", "Tỷ lệ hồ sơ thanh toán trực tuyến", "6"),
    Indicator("4.1", "Tỷ lệ hồ sơ cấp kết quả điện tử", "4"),
    Indicator("4.2", "Tỷ lệ hồ sơ số hóa thành phần và kết quả", "4", threshold=80.0),
    Indicator("4.3", "Tỷ lệ hồ sơ tái sử dụng dữ liệu số hóa", "4", threshold=80.0),
    Indicator("4.4", "Tỷ lệ hồ sơ lấy dữ liệu từ kho dữ liệu của công dân", "4"),
    Indicator("4.5", "Tỷ lệ hồ sơ có tài khoản xác thực VNeID", "4"),
    Indicator("5.1", "Tỷ lệ phản ánh, kiến nghị được trả lời", "5"),
    Indicator("5.2", "Tỷ lệ phản ánh, kiến nghị xử lý đúng hạn", "5"),
    Indicator("5.3", "Tỷ lệ trả lời phản ánh, kiến nghị được công khai", "5"),
    Indicator("5.4", "Mức độ hài lòng", "5", threshold=90.0),
)
BY_ID: dict[str, Indicator] = {indicator.id: indicator for indicator in INDICATORS}
# Indicators counted over dossiers selected into the period (same day series shape).
SELECTED = ("1.4", "3.3", "3.6", "4.1", "4.2", "4.3", "4.4", "4.5", "5.4")
FEEDBACK = ("5.1", "5.2", "5.3")
PAID_STATUSES = ("succeeded", "succeeded_late", "refund_pending", "refunded", "partially_refunded")
ONLINE_PROVIDERS = ("vnpay", "paygov")     # DuocThanhToanTrucTuyen "2" and "1"; "counter" is not online


def rate(numerator: int, denominator: int) -> float | None:
    """Percent with two decimals; None (N/A) when nothing is counted (§5: "0 or N/A")."""
    return None if denominator == 0 else round(100 * numerator / denominator, 2)


def points(value: float | None, max_points: float | None, threshold: float) -> float | None:
    """§5: below its threshold an indicator scores rate × max points / threshold. An unknown
    allocation (max_points None) or an indicator with nothing to count (rate None) has no points."""
    if value is None or max_points is None:
        return None
    return round(max_points if value >= threshold else value * max_points / threshold, 2)


# --- facts --------------------------------------------------------------------------------

@dataclass(frozen=True)
class IndexFacts:
    """What the index needs of one dossier (current facts, as the portal sees them in real time)."""
    code: str
    agency_id: str
    procedure_code: str
    channel: str
    selected: date                     # NgayTiepNhan, falling back to NgayNopHoSo (local day)
    synced: bool = False
    result_is_document: bool = True
    result_link: bool = False          # an electronic result: at least one result document
    has_fees: bool = False             # synced fees not all Gia "0"
    paid_online: bool = False
    has_files: bool = False
    reused: bool = False               # a component digitised or re-used (DuocSoHoa / DuocTaiSuDung)
    citizen_store: bool = False        # a component taken from the citizen's data store
    vneid: bool = False
    complaint: bool = False            # a complaint filed about it, or a dislike (rating 1–2 of 5)
    counted_21: bool = True            # False: withdrawn before acceptance (§5: not counted)
    end: date | None = None            # the fixed end of processing for 2.1, None while open
    on_time: bool | None = None        # for a fixed end
    end_reason: str = ""               # why the end is what it is (drill-down)
    due: date | None = None            # the last on-time day of a dossier still open
    handling_days: int | None = None   # 2.2: working days of a finished dossier


def facts_from_dossier(dossier: Dossier, *, synced: bool, complaint: bool, calendar: Any) -> IndexFacts:
    """Reduce a dossier to its index facts. ``calendar`` is a WorkingCalendar (2.2 and the
    statutory time of a dossier without a due date)."""
    from chalicelib.kernel.working_days import parse_iso, to_local

    def day(text: str) -> date:
        return to_local(parse_iso(text)).date()

    files = [*dossier.get("attachments", [])]
    for request in dossier.get("supplements", []) or []:
        files += request.get("attachments", []) or []
    result: Mapping[str, Any] = dossier.get("result") or {}
    end, on_time, reason, due = _end_of_processing(dossier, calendar)
    return IndexFacts(
        code=dossier["code"], agency_id=dossier["agency_id"], procedure_code=dossier["procedure_code"],
        channel=dossier.get("channel", "online"),
        selected=day(dossier.get("accepted_at") or dossier["submitted_at"]),
        synced=synced,
        result_is_document=bool(dossier.get("result_is_document", True)),
        result_link=bool(result.get("documents")),
        has_fees=any(fee.get("amount", 0) > 0 for fee in dossier.get("fees", [])),
        paid_online=_paid_online(dossier),
        has_files=bool(files),
        reused=any(f.get("digitised") or f.get("reused_from") for f in files),
        citizen_store=any(f.get("from_citizen_store") for f in files),
        vneid=bool(dossier.get("applicant", {}).get("vneid_verified")),
        complaint=complaint or _disliked(dossier),
        counted_21=not _withdrawn_before_acceptance(dossier),
        end=end, on_time=on_time, end_reason=reason, due=due,
        handling_days=_handling_days(dossier, calendar),
    )


DISLIKE_AT_MOST = 2     # an overall rating of 1–2 of 5 (dissatisfied) is a "dislike" for 5.4


def _disliked(dossier: Dossier) -> bool:
    rating: Mapping[str, Any] = dossier.get("rating") or {}
    return bool(rating) and int(rating.get("overall", 5)) <= DISLIKE_AT_MOST


def _paid_online(dossier: Dossier) -> bool:
    ledger: Mapping[str, Any] = dossier.get("payment") or {}
    entries: list[Mapping[str, Any]] = list(ledger.get("payments", []))   # providers add ``provider``
    return any(entry.get("status") in PAID_STATUSES and entry.get("amount", 0) > 0
               and entry.get("provider", "vnpay") in ONLINE_PROVIDERS for entry in entries)


def _withdrawn_before_acceptance(dossier: Dossier) -> bool:
    return dossier.get("status") == "withdrawn" and not dossier.get("accepted_at")


def _decision_time(dossier: Dossier, action: str) -> str | None:
    found = [d.get("effective_at") or d["at"] for d in dossier.get("decisions", []) if d["action"] == action]
    return found[0] if found else None


def _end_of_processing(dossier: Dossier, calendar: Any) -> tuple[date | None, bool | None, str, date | None]:
    """(end day, on time, reason, due day while open) by §5's 2.1 rules.

    The end is the first end status, preferring finished over returned over stopped/refused;
    withdrawn counts only after acceptance. MotCua moves ``due_at`` by the supplement time when
    the citizen supplies (the procedure's resume/restart rule), so "end − supplement time ≤
    NgayHenTra" is "end ≤ due_at". A dossier still waiting for a supplement ends at the request
    (compared with the due date before the pause), unless supplements were requested more than
    once: then it is late. Without a due date (never accepted) the statutory time runs from
    submission."""
    from chalicelib.kernel.working_days import parse_iso, to_local

    def day(text: str) -> date:
        return to_local(parse_iso(text)).date()

    due_text = dossier.get("due_at")
    due = day(due_text) if due_text else _statutory_due(dossier, calendar)
    for label, moment in (("finished", dossier.get("finished_at")), ("returned", dossier.get("returned_at")),
                          ("stopped", _decision_time(dossier, "stop")),
                          ("refused", _decision_time(dossier, "refuse")),
                          ("withdrawn", _decision_time(dossier, "withdraw") if dossier.get("accepted_at") else None)):
        if moment:
            end = day(moment)
            return end, end <= due, f"ended: {label} {end.isoformat()}, due {due.isoformat()}", None
    if dossier.get("status") == "supplement_requested":
        requests = dossier.get("supplements", []) or []
        pauses = dossier.get("pauses", []) or []
        asked = day(requests[-1]["requested_at"]) if requests else day(pauses[-1]["start"])
        if len(requests) > 1:
            return asked, False, f"supplement requested {len(requests)} times, still waiting", None
        before = pauses[-1].get("due_at_before") if pauses else None
        limit = day(before) if before else due
        return asked, asked <= limit, f"waiting for a supplement requested {asked.isoformat()}, due {limit.isoformat()}", None
    if dossier.get("status") == "withdrawn":
        return None, None, "withdrawn before acceptance: not counted", None
    return None, None, f"open, due {due.isoformat()}", due


def _statutory_due(dossier: Dossier, calendar: Any) -> date:
    from chalicelib.kernel.working_days import parse_iso, to_local

    start = to_local(parse_iso(dossier["submitted_at"])).date()
    due: date = calendar.add_working_days(start, int(dossier.get("processing_days", 1)))
    return due


def _handling_days(dossier: Dossier, calendar: Any) -> int | None:
    """2.2: working days from acceptance to finished, paused working days left out."""
    from chalicelib.kernel.working_days import parse_iso, to_local

    finished, accepted = dossier.get("finished_at"), dossier.get("accepted_at")
    if not finished or not accepted:
        return None
    start, end = to_local(parse_iso(accepted)).date(), to_local(parse_iso(finished)).date()
    days = calendar.working_days_between(start, end)
    for pause in dossier.get("pauses", []) or []:
        resumed = pause.get("end")
        if resumed:
            days -= calendar.working_days_between(to_local(parse_iso(pause["start"])).date(),
                                                  to_local(parse_iso(resumed)).date())
    return max(int(days), 0)


# --- membership: who counts and why --------------------------------------------------------

Member = tuple[bool, bool, str]     # (in denominator, in numerator, reason)


def membership(facts: IndexFacts) -> dict[str, Member]:
    """Per indicator counted over selected dossiers: in the denominator, in the numerator, why."""
    document = facts.result_is_document
    electronic = facts.result_link or not document
    online = facts.channel == "online"
    return {
        "1.4": (True, facts.synced, "synced to the national portal" if facts.synced else "not synced to the national portal"),
        "3.3": (True, online and electronic,
                "online" + (" with an electronic result" if document else "") if online and electronic
                else "not submitted online" if not online else "online but no electronic result link"),
        "3.6": (facts.has_fees, facts.has_fees and facts.paid_online,
                "no fees" if not facts.has_fees else "paid online" if facts.paid_online else "fees not paid online"),
        "4.1": (document, document and facts.result_link,
                "result is not a document" if not document
                else "electronic result link" if facts.result_link else "no electronic result link"),
        "4.2": (True, facts.has_files and electronic,
                "files in components" + (" and an electronic result" if document else "")
                if facts.has_files and electronic
                else "no files in the components" if not facts.has_files else "no electronic result link"),
        "4.3": (True, facts.reused, "a component digitised or re-used" if facts.reused
                else "no component digitised or re-used"),
        "4.4": (True, facts.citizen_store, "a component from the citizen's data store" if facts.citizen_store
                else "nothing taken from the citizen's data store"),
        "4.5": (True, facts.vneid, "account verified with VNeID" if facts.vneid else "account not verified with VNeID"),
        "5.4": (True, not (late_54(facts) or facts.complaint), _reason_54(facts)),
    }


def late_54(facts: IndexFacts) -> bool:
    """5.4's late share: dossiers whose processing ended late (open ones cost 2.1 instead)."""
    return facts.counted_21 and facts.end is not None and facts.on_time is False


def _reason_54(facts: IndexFacts) -> str:
    reasons = (["handled late"] if late_54(facts) else []) + (["a complaint or a dislike"] if facts.complaint else [])
    return ", ".join(reasons) or "on time, no complaint"


def membership_21(facts: IndexFacts, start: date, end: date) -> Member:
    """2.1 for the period [start, end]: received or handled in the period, on time or not."""
    if not facts.counted_21 or facts.selected > end:
        return False, False, facts.end_reason
    if facts.end is not None:
        if max(facts.end, facts.selected) < start:
            return False, False, facts.end_reason
        return True, bool(facts.on_time), ("on time, " if facts.on_time else "late, ") + facts.end_reason
    on_time = facts.due is not None and end <= facts.due
    return True, on_time, ("being handled on time, " if on_time else "being handled past its due day, ") \
        + facts.end_reason + f" (the end is the period's last day {end.isoformat()})"


def membership_22(facts: IndexFacts, start: date, end: date) -> bool:
    """2.2 averages the dossiers finished in the period."""
    return facts.handling_days is not None and facts.end is not None and start <= facts.end <= end


# --- day series (what the projection stores) -----------------------------------------------

Contributions = dict[tuple[date, str], int]


def series(indicator: str, part: str) -> str:
    """The counter name of an indicator's part: ``i1_4_n`` (numerator), ``i1_4_d`` (denominator)."""
    return f"i{indicator.replace('.', '_')}_{part}"


# 2.1: closed dossiers at their selection and end days (den and on-time num), open ones at
# their selection day (den) and over [selection, due] (num). 2.2: handling days and count at
# the end day.
SERIES_21 = ("t21_ds", "t21_de", "t21_ns", "t21_ne", "t21_os", "t21_oq")
SERIES_22 = ("t22_sum", "t22_n")
COUNTER_FIELDS: tuple[str, ...] = tuple(series(i, p) for i in SELECTED for p in ("d", "n")) + SERIES_21 + SERIES_22


def contributions(facts: IndexFacts) -> Contributions:
    """The counter deltas this dossier adds, per (local day, counter field)."""
    out: Contributions = defaultdict(int)
    day = facts.selected
    for indicator, (den, num, _why) in membership(facts).items():
        if den:
            out[(day, series(indicator, "d"))] += 1
        if num:
            out[(day, series(indicator, "n"))] += 1
    if facts.counted_21:
        if facts.end is not None:
            end = max(facts.end, day)
            out[(day, "t21_ds")] += 1
            out[(end, "t21_de")] += 1
            if facts.on_time:
                out[(day, "t21_ns")] += 1
                out[(end, "t21_ne")] += 1
        else:
            out[(day, "t21_os")] += 1
            if facts.due is not None and facts.due >= day:
                out[(day, "t21_oq")] += 1
                out[(facts.due + timedelta(days=1), "t21_oq")] -= 1
    if facts.handling_days is not None and facts.end is not None:
        out[(facts.end, "t22_sum")] += facts.handling_days
        out[(facts.end, "t22_n")] += 1
    return {key: value for key, value in out.items() if value}


def counts_from_prefix(prefix: Any, start: date, end: date) -> dict[str, tuple[int, int]]:
    """(numerator, denominator) of each dossier indicator from ``prefix(day, field)``, the sum
    of a counter field up to and including a day."""
    before = start - timedelta(days=1)

    def range_sum(name: str) -> int:
        return int(prefix(end, name) - prefix(before, name))

    out = {i: (range_sum(series(i, "n")), range_sum(series(i, "d"))) for i in SELECTED}
    den = prefix(end, "t21_ds") - prefix(before, "t21_de") + prefix(end, "t21_os")
    num = prefix(end, "t21_ns") - prefix(before, "t21_ne") + prefix(end, "t21_oq")
    out["2.1"] = (int(num), int(den))
    out["2.2"] = (range_sum("t22_sum"), range_sum("t22_n"))
    return out


def direct_counts(facts: Iterable[IndexFacts], start: date, end: date) -> dict[str, tuple[int, int]]:
    """The same counts straight from the facts, dossier by dossier (the audit behind verify)."""
    totals: dict[str, list[int]] = {i: [0, 0] for i in (*SELECTED, "2.1", "2.2")}
    for f in facts:
        if start <= f.selected <= end:
            for indicator, (den, num, _why) in membership(f).items():
                totals[indicator][0] += int(num)
                totals[indicator][1] += int(den)
        den21, num21, _why = membership_21(f, start, end)
        totals["2.1"][0] += int(num21)
        totals["2.1"][1] += int(den21)
        if membership_22(f, start, end):
            totals["2.2"][0] += f.handling_days or 0
            totals["2.2"][1] += 1
    return {i: (n, d) for i, (n, d) in totals.items()}


# --- the table -------------------------------------------------------------------------------

def indicator_value(indicator: Indicator, numerator: int, denominator: int,
                    synced_share: float | None = None) -> float | None:
    """The indicator's rate. 3.3 is online / received × the synced share (§5); 2.2 an average
    in working days; 5.4 is 100% − (late share + share with a complaint or a dislike): its
    numerator is the dossiers neither late nor complained about (a dossier that is both is
    subtracted once, so the drill-down lists exactly the numerator; docs/index766.md)."""
    if indicator.id == "2.2":
        return None if denominator == 0 else round(numerator / denominator, 2)
    value = rate(numerator, denominator)
    if indicator.id == "3.3" and value is not None:
        return round(value * (synced_share or 0) / 100, 2)
    return value


def indicator_table(counts: Mapping[str, tuple[int, int]], allocation: Mapping[str, float | None]) -> dict[str, Any]:
    """Indicators with rate, threshold and points; groups; the total. ``allocation`` maps an
    indicator id to its maximum points (None: unknown, so no points)."""
    synced = rate(*counts.get("1.4", (0, 0)))
    rows: list[dict[str, Any]] = []
    for indicator in INDICATORS:
        numerator, denominator = counts.get(indicator.id, (0, 0))
        value = indicator_value(indicator, numerator, denominator, synced)
        max_points = allocation.get(indicator.id)
        scored = None if indicator.unit != "percent" else points(value, max_points, indicator.threshold)
        rows.append({"id": indicator.id, "name": indicator.name, "group": indicator.group, "unit": indicator.unit,
                     "numerator": numerator, "denominator": denominator, "rate": value,
                     "threshold": indicator.threshold if indicator.unit == "percent" else None,
                     "points": scored, "max_points": max_points})
    groups = []
    for group, (name, maximum) in GROUPS.items():
        scored_rows = [r for r in rows if r["group"] == group and r["points"] is not None]
        groups.append({"group": group, "name": name, "max_points": maximum,
                       "points": round(sum(r["points"] for r in scored_rows), 2) if scored_rows else None,
                       "computed_max_points": sum(r["max_points"] for r in rows
                                                  if r["group"] == group and r["max_points"] is not None)})
    scored_groups = [g["points"] for g in groups if g["points"] is not None]
    return {"points": round(sum(scored_groups), 2) if scored_groups else None,
            "max_points": sum(maximum for _name, maximum in GROUPS.values()),
            "groups": groups, "indicators": rows}


def parse_allocation(raw: Mapping[str, Any]) -> dict[str, float | None]:
    """Points per indicator from the configuration file; refuses a group over its maximum or
    an unknown indicator, so a typo cannot silently score."""
    points_by_id = raw.get("points", {})
    out: dict[str, float | None] = {}
    for indicator_id, value in points_by_id.items():
        if indicator_id not in BY_ID:
            raise ValueError(f"unknown indicator {indicator_id!r} in the 766 allocation")
        if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0):
            raise ValueError(f"points of {indicator_id} must be a non-negative number or null")
        out[indicator_id] = value
    for group, (_name, maximum) in GROUPS.items():
        total = sum(v for i, v in out.items() if v is not None and BY_ID[i].group == group)
        if total > maximum:
            raise ValueError(f"group {group} allocates {total} points, more than its maximum {maximum}")
    return {indicator.id: out.get(indicator.id) for indicator in INDICATORS}


# --- the projection's stamp ---------------------------------------------------------------------

def stamp(version: int, synced: bool, complaint: bool) -> str:
    """What a projection record was computed from: the dossier's version and the two facts that
    change without a new version (the sync ledger, feedback about it). Each only grows."""
    return f"v{version:010d}s{int(synced)}c{int(complaint)}"


def newer(candidate: str, applied: str | None) -> bool:
    """Whether ``candidate`` should replace ``applied``: no part older and something newer, so
    duplicates and late, reordered deliveries change nothing."""
    if applied is None:
        return True
    def parts(text: str) -> tuple[int, int, int]:
        return int(text[1:11]), int(text[12]), int(text[14])

    return all(new >= old for new, old in zip(parts(candidate), parts(applied), strict=True)) and candidate != applied
