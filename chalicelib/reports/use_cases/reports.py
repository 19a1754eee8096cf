"""Use cases of the statistics: the form-06 report, drill-down, and the audit (verify).

The report reads counters only (report_store); drill-down and verify read dossiers and
classify them directly (chalicelib.reports.rules.form06.classify_at), which is what makes verify a
real audit of the counters.
"""
from __future__ import annotations

import base64
import json
from collections import defaultdict
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any
from collections.abc import Iterable, Mapping

from chalicelib.catalogue.use_cases import procedures as catalogue
from chalicelib.catalogue.use_cases.agencies import predecessors_of, successions
from chalicelib.trust.rules import permissions
from chalicelib.reports.store import counters as report_store
from chalicelib.dossiers.use_cases import reads as dossier_reads
from chalicelib.dossiers.rules.records import Dossier
from chalicelib.kernel.errors import Forbidden, MalformedRequest, ValidationFailed
from chalicelib.runtime.settings import settings
from chalicelib.trust.rules.identity import Identity
from chalicelib.reports.rules.form06 import (
    CELLS, GROUPS, VIEWS, Facts, Succession, differences, direct_cells, facts_from_dossier, finish_row,
    members, row_from_counters,
)

MAX_RANGE_DAYS = 3 * 366
# Reports step a day past either end (prefix sums, payments paid after midnight); Python's
# dates stop at years 1 and 9999, so year 0001 gave a 500 (found by the fuzzer). No dossier
# is that old or that far ahead: outside these bounds is a 422 naming the field.
EARLIEST, LATEST = date(1900, 1, 1), date(2999, 12, 31)
PACKAGED_SUCCESSION = Path(__file__).parents[1] / "data" / "agency_succession.json"


# --- parameters -------------------------------------------------------------------------

def parse_period(raw_from: str | None, raw_to: str | None) -> tuple[date, date]:
    errors: dict[str, str] = {}
    days: dict[str, date] = {}
    for name, raw in (("from", raw_from), ("to", raw_to)):
        if not raw:
            errors[name] = "Bắt buộc, dạng YYYY-MM-DD."
            continue
        try:
            days[name] = date.fromisoformat(raw)
        except ValueError:
            errors[name] = "Ngày không hợp lệ, dạng YYYY-MM-DD."
            continue
        if not EARLIEST <= days[name] <= LATEST:
            errors[name] = f"Ngày phải từ {EARLIEST.isoformat()} đến {LATEST.isoformat()}."
    if errors:
        raise ValidationFailed("Khoảng thời gian báo cáo không hợp lệ.", fields=errors)
    start, end = days["from"], days["to"]
    if start > end:
        raise ValidationFailed("Ngày bắt đầu phải trước hoặc bằng ngày kết thúc.", code="inverted_range",
                               fields={"from": "Phải trước hoặc bằng 'to'."})
    if (end - start).days >= MAX_RANGE_DAYS:
        raise ValidationFailed("Khoảng thời gian báo cáo tối đa 3 năm.", code="range_too_long",
                               fields={"to": "Tối đa 3 năm kể từ 'from'."})
    return start, end


def parse_group_by(raw: str | None) -> str:
    if raw not in GROUPS:
        raise ValidationFailed(fields={"group_by": "Phải là một trong: agency, field, procedure."})
    return raw


def scope_agencies(identity: Identity, agency_id: str | None, action: str = "report.read") -> list[str]:
    """Agencies this caller may report on (chalicelib.trust.rules.permissions): agency staff
    only their own and the agencies retired into it (merger day: history is kept). One agency
    asked for comes with its predecessors, shown apart, or rolled into it with ``as_of``."""
    if permissions.scope_of(identity, action) == permissions.AGENCY:
        own = identity.agency_id or ""
        if agency_id and agency_id != own and agency_id not in predecessors_of(own):
            raise Forbidden("Chỉ được xem báo cáo của cơ quan mình.", code="agency_out_of_scope")
        chosen = agency_id or own
        return [chosen, *predecessors_of(chosen)]
    known = catalogue.snapshot().agencies
    if agency_id:
        if agency_id not in known:
            raise ValidationFailed(fields={"agency_id": "Không có cơ quan với mã này."})
        return [agency_id, *predecessors_of(agency_id)]
    return sorted(known)


@cache
def _succession_file() -> dict[str, tuple[str, date]]:
    path = settings().reports.agency_succession_file or PACKAGED_SUCCESSION
    raw = json.loads(Path(path).read_text(encoding="utf-8")).get("moves", {})
    return {old: (move["successor"], date.fromisoformat(move["effective"])) for old, move in raw.items()}


def succession() -> Succession:
    """Who succeeded whom: the file (agencies gone before MotCua knew them) and the catalogue's
    retired agencies (merger plans applied with ``motcua agencies apply``), the catalogue winning."""
    return Succession({**_succession_file(), **successions()})


# --- the report -------------------------------------------------------------------------

def _names(group_by: str) -> dict[str, str]:
    snapshot = catalogue.snapshot()
    if group_by == "agency":
        return {a: agency.name for a, agency in snapshot.agencies.items()}
    if group_by == "procedure":
        return {p: procedure.name for p, procedure in snapshot.procedures.items()}
    return {}


def _rows(cells_by_group: Mapping[str, Mapping[str, int]], group_by: str) -> tuple[list[dict], dict]:
    names = _names(group_by)
    key = GROUPS[group_by]
    rows: list[dict] = []
    total: defaultdict[str, int] = defaultdict(int)
    for group in sorted(cells_by_group):
        cells = cells_by_group[group]
        rows.append({key: group, "name": names.get(group, group), **finish_row(cells)})
        for cell, value in cells.items():
            total[cell] += value
    return rows, finish_row(total)


def counter_cells(counter_rows: list[dict[str, Any]], start: date, end: date, group_by: str, view: str,
                  as_of: date | None = None) -> dict[str, dict[str, int]]:
    grouped: dict[str, dict[str, dict[str, int]]] = defaultdict(lambda: defaultdict(lambda: defaultdict(int)))
    rolled = succession() if group_by == "agency" and as_of is not None else None
    for row in counter_rows:
        group = row[GROUPS[group_by]]
        if rolled and as_of:
            group = rolled.successor(group, as_of)
        for name, value in row["values"][view].items():
            grouped[group][row["period"]][name] += value
    cells = {g: row_from_counters(c, start, end) for g, c in grouped.items()}
    return {g: c for g, c in cells.items() if any(c.values())}


def dossier_report(identity: Identity, *, start: date, end: date, group_by: str, agency_id: str | None = None,
                   as_of: date | None = None) -> dict[str, Any]:
    agencies = scope_agencies(identity, agency_id)
    counter_rows, items_read = report_store.read_counters(agencies, start, end)
    adjusted = counter_cells(counter_rows, start, end, group_by, "adj", as_of)
    raw = counter_cells(counter_rows, start, end, group_by, "raw", as_of)
    rows, total = _rows(adjusted, group_by)
    raw_rows, raw_total = _rows(raw, group_by)
    return {
        "from": start.isoformat(), "to": end.isoformat(), "group_by": group_by,
        "as_of": as_of.isoformat() if as_of else None,
        "rows": rows, "total": total,
        "raw": {"rows": raw_rows, "total": raw_total},
        "corrections_applied": total["corrections_applied"],
        "items_read": items_read,
    }


# --- dossiers behind the numbers ----------------------------------------------------------

def received_dossiers(agencies: Iterable[str], end: date) -> list[Dossier]:
    """Every dossier of these agencies received up to ``end``."""
    return [dossier for agency in agencies for dossier in dossier_reads.dossiers_received_until(agency, end)]


def scope_facts(agencies: Iterable[str], end: date, *, adjusted: bool = True) -> list[Facts]:
    """Facts of every dossier of these agencies received up to ``end``."""
    return [facts_from_dossier(dossier, adjusted=adjusted) for dossier in received_dossiers(agencies, end)]


def drill_down(identity: Identity, *, start: date, end: date, group_by: str, cell: str | None, group: str | None,
               agency_id: str | None, cursor: str | None, limit: int, as_of: date | None = None) -> dict[str, Any]:
    """The dossiers behind one cell; with ``as_of``, grouped as the report with ``as_of`` is
    (predecessors rolled into their successors), so every row's number can be opened."""
    if cell not in CELLS:
        raise ValidationFailed(fields={"cell": "Ô báo cáo không tồn tại, ví dụ resolved.late."})
    agencies = scope_agencies(identity, agency_id, "report.items")
    rolled = succession() if group_by == "agency" and as_of is not None else None

    def group_of(fact: Facts) -> str:
        return rolled.successor(fact.agency_id, as_of) if rolled and as_of else fact.group(group_by)

    facts = [f for f in scope_facts(agencies, end) if group is None or group_of(f) == group]
    codes = members(facts, start, end, cell)
    offset = _decode_cursor(cursor) if cursor else 0
    page = codes[offset:offset + limit]
    by_code = {f.code: f for f in facts}
    items = [{"dossier_code": code, "agency_id": by_code[code].agency_id,
              "receiving_agency_id": by_code[code].receiving_agency_id, "channel": by_code[code].channel,
              "procedure_code": by_code[code].procedure_code, "received": by_code[code].received.isoformat(),
              "closed": closed.isoformat() if (closed := by_code[code].closed) else None,
              "outcome": by_code[code].outcome} for code in page]
    more = offset + limit < len(codes)
    return {"items": items, "next_cursor": _encode_cursor(offset + limit) if more else None, "total": len(codes)}


def _encode_cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"o": offset}).encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> int:
    try:
        offset = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))["o"]
        if not isinstance(offset, int) or offset < 0:
            raise ValueError
        return offset
    except (ValueError, KeyError, TypeError, UnicodeDecodeError):
        raise MalformedRequest("Con trỏ phân trang (cursor) không hợp lệ.", code="invalid_cursor",
                               fields={"cursor": "Không hợp lệ."}) from None


def verify(start: date, end: date, group_by: str, agencies: list[str] | None = None) -> list[str]:
    """Cells where the counter report differs from a recount straight from the dossiers."""
    return verify_each(start, end, [group_by], agencies)[group_by]


def verify_each(start: date, end: date, group_bys: Iterable[str],
                agencies: list[str] | None = None) -> dict[str, list[str]]:
    """``verify`` for several group_bys at once: the counters and the dossiers are read once
    for all of them and for both views (raw and adjusted), not once per group_by and view."""
    agencies = agencies or sorted(catalogue.snapshot().agencies)
    problems: dict[str, list[str]] = {group_by: [] for group_by in group_bys}
    counter_rows, _ = report_store.read_counters(agencies, start, end)
    dossiers = received_dossiers(agencies, end)
    for view in VIEWS:
        facts = [facts_from_dossier(dossier, adjusted=view == "adj") for dossier in dossiers]
        for group_by, found in problems.items():
            direct = direct_cells(facts, start, end, group_by)
            counted = counter_cells(counter_rows, start, end, group_by, view)
            for group in sorted(set(direct) | set(counted)):
                for problem in differences(finish_row(counted.get(group, {})), finish_row(direct.get(group, {}))):
                    found.append(f"{view} {group} {problem}")
    return problems


def unit_name(identity: Identity, agency_id: str | None) -> str:
    """The reporting unit printed on exports: the agency, or the province for all agencies."""
    agencies = catalogue.snapshot().agencies
    own = permissions.scope_of(identity, "report.read") == permissions.AGENCY
    chosen = agency_id or (identity.agency_id if own else None)
    if chosen:
        return agencies[chosen].name if chosen in agencies else chosen
    province = next((a for a in agencies.values() if a.level == "province"), None)
    return province.name if province else "Toàn tỉnh"


def payment_report(identity: Identity, *, start: date, end: date, group_by: str,
                   agency_id: str | None = None) -> dict[str, Any]:
    """Fees collected, refunded and outstanding per agency or procedure (integer VND)."""
    from datetime import timedelta

    from chalicelib.payments.use_cases import reads as payment_reads
    from chalicelib.payments.rules.ledger import outstanding
    from chalicelib.reports.rules.form06 import payment_cells

    if group_by not in ("agency", "procedure"):
        raise ValidationFailed(fields={"group_by": "Phải là agency hoặc procedure."})
    agencies = set(scope_agencies(identity, agency_id, "report.payments"))
    payments, day = [], start - timedelta(days=1)   # a payment created just before midnight may be paid after
    while day <= end:
        payments += [p for p in payment_reads.payments_of_day(day.isoformat()) if p["agency_id"] in agencies]
        day += timedelta(days=1)
    dossiers = [d for agency in sorted(agencies) for d in dossier_reads.dossiers_received_until(agency, end)]
    cells = payment_cells(payments, dossiers, start, end, group_by, outstanding)
    names = _names(group_by)
    key = GROUPS[group_by]
    rows: list[dict[str, Any]] = [{key: g, "name": names.get(g, g), **cells[g]} for g in sorted(cells)]
    total = {k: sum(r[k] for r in rows) for k in ("collected", "refunded", "outstanding", "payments")}
    return {"from": start.isoformat(), "to": end.isoformat(), "group_by": group_by, "currency": "VND",
            "rows": rows, "total": total}


def satisfaction_report(identity: Identity, *, start: date, end: date, group_by: str,
                        agency_id: str | None = None) -> dict[str, Any]:
    from chalicelib.reports.rules.form06 import satisfaction_rows

    if group_by not in ("agency", "procedure"):
        raise ValidationFailed(fields={"group_by": "Phải là agency hoặc procedure."})
    agencies = scope_agencies(identity, agency_id, "report.satisfaction")
    # Ratings arrive after the result, so any dossier received up to ``end`` may carry one.
    dossiers = [d for agency in agencies for d in dossier_reads.dossiers_received_until(agency, end)]
    rows = satisfaction_rows(dossiers, start, end, group_by)
    total = satisfaction_rows([{**d, "agency_id": "*", "procedure_code": "*"} for d in dossiers], start, end, group_by)
    names = _names(group_by)
    key = GROUPS[group_by]
    return {"from": start.isoformat(), "to": end.isoformat(), "group_by": group_by,
            "rows": [{key: g, "name": names.get(g, g), **rows[g]} for g in sorted(rows)],
            "total": total.get("*", {"ratings": 0, "criteria": {}, "overall": {}})}
