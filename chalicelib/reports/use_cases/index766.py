"""Use cases of the national service index (Decision 766): the indicator table, the items
behind a number, the at-risk list, and the audit (verify).

The table reads the index counters only (chalicelib/reports/store/index_counters.py), so its
cost depends on agencies, procedures and days, never on dossiers; 5.1–5.3 read the period's
feedback. The items, the at-risk list and verify read the dossiers and classify each one
directly (chalicelib/reports/rules/index766.membership), which is what makes verify an audit.
"""
from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Iterable
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

from chalicelib.catalogue.use_cases import procedures as catalogue
from chalicelib.dossiers.rules.records import Dossier
from chalicelib.feedback.use_cases import feedback as feedback_cases
from chalicelib.kernel.errors import ValidationFailed
from chalicelib.kernel.working_days import default_calendar
from chalicelib.reports.rules import index766 as rules
from chalicelib.reports.rules.form06 import prefix_sum
from chalicelib.reports.store import index_counters as index_store
from chalicelib.reports.use_cases.reports import (
    _decode_cursor, _encode_cursor, received_dossiers, scope_agencies, succession,
)
from chalicelib.runtime.settings import settings
from chalicelib.sync.use_cases.synced import synced_codes
from chalicelib.trust.rules.identity import Identity

PACKAGED_POINTS = Path(__file__).parents[1] / "data" / "index766_points.json"
PARTS = ("numerator", "denominator", "shortfall")


@cache
def allocation() -> dict[str, float | None]:
    """Points per indicator: MOTCUA_INDEX766_POINTS, else the packaged defaults."""
    path = settings().reports.index_points_file or PACKAGED_POINTS
    return rules.parse_allocation(json.loads(Path(path).read_text(encoding="utf-8")))


def with_subunits(agencies: list[str]) -> list[str]:
    """The agencies and every agency under them (``parent_id``, any depth): an agency's index
    covers its sub-units, and the province's agency covers the province."""
    known = catalogue.snapshot().agencies
    chosen = set(agencies)

    def under(agency_id: str) -> bool:
        seen: set[str] = set()
        while agency_id not in chosen:
            parent = known[agency_id].parent_id if agency_id in known else None
            if parent is None or parent in seen:
                return False
            seen.add(agency_id)
            agency_id = parent
        return True

    return sorted(chosen | {a for a in known if under(a)})


def _procedure_filter(procedure_code: str | None) -> str | None:
    if procedure_code and procedure_code not in catalogue.snapshot().procedures:
        raise ValidationFailed(fields={"procedure_code": "Không có thủ tục với mã này."})
    return procedure_code


# --- the table -----------------------------------------------------------------------------------

def _counter_counts(rows: list[dict[str, Any]], start: date, end: date) -> dict[str, tuple[int, int]]:
    by_period: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for row in rows:
        for name, value in row["values"].items():
            by_period[row["period"]][name] += value
    return rules.counts_from_prefix(lambda day, name: prefix_sum(by_period, day, name), start, end)


def _catalogue_35(agencies: Iterable[str], procedure_code: str | None) -> tuple[int, int]:
    """3.5: procedures with fees payable online on the national portal / procedures with fees.
    Payable there means PayGov (DVCQG's payment platform) is among the procedure's online
    providers (its ``payment_providers``, else the stage's MOTCUA_PAYMENT_PROVIDERS)."""
    chosen = set(agencies)
    stage = [p.strip() for p in settings().payments.providers.split(",") if p.strip()]
    with_fees = [p for p in catalogue.snapshot().procedures.values()
                 if p.agency_id in chosen and p.total_fees() > 0
                 and (procedure_code is None or p.procedure_code == procedure_code)]
    return sum(1 for p in with_fees if "paygov" in (p.payment_providers or stage)), len(with_fees)


def _table_for(rows: list[dict[str, Any]], agencies: list[str], start: date, end: date,
               procedure_code: str | None) -> dict[str, Any]:
    counts = _counter_counts(rows, start, end)
    counts["3.5"] = _catalogue_35(agencies, procedure_code)
    if procedure_code is None:   # feedback is about an agency, not a procedure
        counts.update(feedback_cases.counts(agencies, start, end))
    table = rules.indicator_table(counts, allocation())
    handling = next(row for row in table["indicators"] if row["id"] == "2.2")
    handling["by_procedure"] = _handling_by_procedure(rows, start, end)
    return table


def _handling_by_procedure(rows: list[dict[str, Any]], start: date, end: date) -> list[dict[str, Any]]:
    """2.2 is a figure per procedure (in its time unit, working days): the same counters, by procedure."""
    names = {p: procedure.name for p, procedure in catalogue.snapshot().procedures.items()}
    by_procedure: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        by_procedure[row["procedure_code"]].append(row)
    out = []
    for code in sorted(by_procedure):
        total, finished = _counter_counts(by_procedure[code], start, end)["2.2"]
        if finished:
            out.append({"procedure_code": code, "name": names.get(code, code), "numerator": total,
                        "denominator": finished, "rate": round(total / finished, 2)})
    return out


def indicators(identity: Identity, *, start: date, end: date, agency_id: str | None = None,
               procedure_code: str | None = None, as_of: date | None = None) -> dict[str, Any]:
    """The index for the province or an agency. A retired agency's figures are its own row
    (history as it was); with ``as_of`` they count for the agency that succeeded it by that
    day, as report form 06 rolls them up (merger day)."""
    agencies = with_subunits(scope_agencies(identity, agency_id, "index.read"))
    procedure_code = _procedure_filter(procedure_code)
    rows, items_read = index_store.read_counters(agencies, start, end)
    if procedure_code:
        rows = [row for row in rows if row["procedure_code"] == procedure_code]
    grouped = _rolled_up(as_of)
    by_agency: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        by_agency[grouped(row["agency_id"])].append(row)
    names = {a: agency.name for a, agency in catalogue.snapshot().agencies.items()}
    ranked = []
    for agency in sorted(dict.fromkeys(grouped(a) for a in agencies)):
        table = _table_for(by_agency.get(agency, []), [agency], start, end, procedure_code)
        ranked.append({"agency_id": agency, "name": names.get(agency, agency), "points": table["points"],
                       "groups": table["groups"], "indicators": table["indicators"]})
    ranked.sort(key=lambda a: (-(a["points"] or 0), a["agency_id"]))
    total = _table_for(rows, agencies, start, end, procedure_code)
    return {"from": start.isoformat(), "to": end.isoformat(), "agency_id": agency_id, "procedure_code": procedure_code,
            "as_of": as_of.isoformat() if as_of else None, **total, "agencies": ranked, "items_read": items_read}


def _rolled_up(as_of: date | None) -> Callable[[str], str]:
    """The agency a figure counts for: its own, or with ``as_of`` its successor by that day."""
    if as_of is None:
        return lambda agency_id: agency_id
    rolled = succession()
    return lambda agency_id: rolled.successor(agency_id, as_of)


# --- the dossiers (or feedback) behind a number ------------------------------------------------------

def dossier_facts(dossiers: list[Dossier]) -> list[rules.IndexFacts]:
    """Index facts of these dossiers, read directly (ledgers in batches, feedback counts)."""
    codes = [d["code"] for d in dossiers]
    synced = synced_codes(codes)
    complained = feedback_cases.complained_codes(codes)
    calendar = default_calendar()
    return [rules.facts_from_dossier(d, synced=d["code"] in synced, complaint=d["code"] in complained,
                                     calendar=calendar) for d in dossiers]


def _scope_facts(agencies: list[str], end: date, procedure_code: str | None) -> list[rules.IndexFacts]:
    dossiers = [d for d in received_dossiers(agencies, end)
                if procedure_code is None or d["procedure_code"] == procedure_code]
    return dossier_facts(dossiers)


def _dossier_members(facts: list[rules.IndexFacts], indicator: str, start: date,
                     end: date) -> list[tuple[rules.IndexFacts, bool, bool, str]]:
    out: list[tuple[rules.IndexFacts, bool, bool, str]] = []
    for f in facts:
        if indicator == "2.1":
            den, num, why = rules.membership_21(f, start, end)
        elif indicator == "2.2":
            den = num = rules.membership_22(f, start, end)
            why = f"finished in {f.handling_days} working days" if den else ""
        elif start <= f.selected <= end:
            den, num, why = rules.membership(f)[indicator]
        else:
            continue
        if den:
            out.append((f, den, num, why))
    return out


def items(identity: Identity, *, start: date, end: date, indicator: str | None, part: str | None,
          agency_id: str | None, procedure_code: str | None, cursor: str | None, limit: int,
          as_of: date | None = None) -> dict[str, Any]:
    """The dossiers (or feedback) behind one number, each with why it counts or misses; with
    ``as_of``, each names the agency it counts for in the rolled-up table (merger day)."""
    if indicator not in rules.BY_ID or indicator == "3.5":
        raise ValidationFailed(fields={"indicator": "Chỉ số không có danh sách hồ sơ, ví dụ 2.1."})
    if part not in PARTS:
        raise ValidationFailed(fields={"part": "Phải là numerator, denominator hoặc shortfall."})
    agencies = with_subunits(scope_agencies(identity, agency_id, "index.items"))
    procedure_code = _procedure_filter(procedure_code)
    grouped = _rolled_up(as_of)
    listed: list[dict[str, Any]]
    if indicator in rules.FEEDBACK:
        members = [(f, den, num, why) for f, den, num, why in feedback_cases.members(agencies, start, end, indicator)
                   if den]
        listed = [{"feedback_id": f["id"], "agency_id": grouped(f["agency_id"]), "dossier_code": f.get("dossier_code"),
                   "counts": num, "reason": why} for f, _den, num, why in members]
    else:
        found = _dossier_members(_scope_facts(agencies, end, procedure_code), indicator, start, end)
        listed = [{"dossier_code": f.code, "agency_id": grouped(f.agency_id), "procedure_code": f.procedure_code,
                   "channel": f.channel, "selected": f.selected.isoformat(), "counts": num, "reason": why}
                  for f, _den, num, why in found]
    if part == "numerator":
        listed = [row for row in listed if row["counts"]]
    elif part == "shortfall":
        listed = [row for row in listed if not row["counts"]]
    offset = _decode_cursor(cursor) if cursor else 0
    more = offset + limit < len(listed)
    return {"indicator": indicator, "part": part, "items": listed[offset:offset + limit],
            "next_cursor": _encode_cursor(offset + limit) if more else None, "total": len(listed)}


# --- at risk ---------------------------------------------------------------------------------------

def at_risk(identity: Identity, *, agency_id: str | None, today: date) -> dict[str, Any]:
    """Open dossiers due within N working days (they will cost 2.1 if nothing happens), and
    records whose sync data would cost points (not synced; finished with a document result but
    no electronic result), each with what to do."""
    agencies = with_subunits(scope_agencies(identity, agency_id, "index.at_risk"))
    calendar = default_calendar()
    horizon = calendar.add_working_days(today, settings().reports.index_at_risk_days)
    facts = _scope_facts(agencies, today, None)
    dossiers: list[dict[str, Any]] = []
    records: list[dict[str, Any]] = []
    for f in facts:
        if f.counted_21 and f.end is None and f.due is not None and f.due <= horizon:
            overdue = f.due < today
            dossiers.append({"dossier_code": f.code, "agency_id": f.agency_id, "due": f.due.isoformat(),
                             "overdue": overdue, "indicator": "2.1",
                             "action": "Đã quá hạn: xin lỗi và gia hạn, hoàn thành ngay." if overdue
                             else "Hoàn thành trước hạn hoặc gửi văn bản xin lỗi, gia hạn."})
        if not f.synced:
            records.append({"dossier_code": f.code, "agency_id": f.agency_id, "indicator": "1.4",
                            "problem": "not synced to the national portal",
                            "action": "Kiểm tra đồng bộ (motcua sync show) và đồng bộ lại."})
        if f.end is not None and f.result_is_document and not f.result_link and f.end_reason.startswith("ended: finished"):
            records.append({"dossier_code": f.code, "agency_id": f.agency_id, "indicator": "4.1",
                            "problem": "no electronic result link",
                            "action": "Tải lên bản điện tử của kết quả (giấy tờ) để có đường dẫn kết quả."})
    dossiers.sort(key=lambda d: (d["due"], d["dossier_code"]))
    return {"as_of": today.isoformat(), "horizon": horizon.isoformat(), "dossiers": dossiers, "records": records}


# --- verify ----------------------------------------------------------------------------------------

def verify(start: date, end: date, agencies: list[str] | None = None) -> list[str]:
    """Indicators whose counter value differs from a recount straight from the dossiers."""
    agencies = agencies or sorted(catalogue.snapshot().agencies)
    rows, _ = index_store.read_counters(agencies, start, end)
    problems = []
    facts = _scope_facts(agencies, end, None)
    for agency in agencies:
        counted = _counter_counts([r for r in rows if r["agency_id"] == agency], start, end)
        direct = rules.direct_counts([f for f in facts if f.agency_id == agency], start, end)
        for indicator in sorted(direct):
            if counted.get(indicator, (0, 0)) != direct[indicator]:
                problems.append(f"{agency} {indicator}: counters {counted.get(indicator)} != dossiers {direct[indicator]}")
    return problems
