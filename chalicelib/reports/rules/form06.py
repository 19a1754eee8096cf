"""Report form 06 (results of handling dossiers) as arithmetic on daily counters.

Pure domain code. A dossier is reduced to ``Facts`` (dates in Asia/Ho_Chi_Minh). From the
facts, ``contributions`` gives the counter deltas the dossier adds per local day; the
projection stores the difference between a dossier's new and old contributions, so the
counters always equal the sum over the dossiers' *current* facts, whatever the order or
number of deliveries. The report needs only prefix sums of those counters:

* received (new) and resolved/withdrawn/refused/stopped in [from, to]: range sums;
* carried over = received before ``from`` minus closed before ``from``;
* in progress at the end of ``to`` = received up to ``to`` minus closed up to ``to``;
* overdue at the end of ``to``: the ``overdue`` delta series (+1 the day a still-open dossier
  becomes overdue, −1 the day it closes or its due date moves past that day);
* paused for supplement at the end of ``to``: the ``paused`` delta series.

``direct_report`` computes the same cells straight from the facts with a different method
(classifying each dossier at the period's edges). It is the audit behind
``motcua reports verify`` and the tests; it must never share logic with the counter path
beyond ``Facts``.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any
from collections.abc import Iterable, Mapping

from chalicelib.dossiers.rules.records import Dossier

CHANNELS = ("online", "direct", "postal")
RESOLVED = ("early", "on_time", "late")
CLOSED_OTHER = ("withdrawn", "refused", "stopped")
OUTCOMES = RESOLVED + CLOSED_OTHER
GROUPS = {"agency": "agency_id", "field": "field", "procedure": "procedure_code"}

# Counter fields kept per group and local day. ``recv_*`` and ``closed_*`` are daily counts;
# ``overdue`` and ``paused`` are deltas whose prefix sum is a level at the end of a day.
COUNTER_FIELDS = tuple(f"recv_{c}" for c in CHANNELS) + tuple(f"closed_{o}" for o in OUTCOMES) \
    + ("overdue", "paused", "corrected")

VIEWS = ("raw", "adj")   # as recorded, and with approved corrections applied
# What counters store: the raw counts, and what approved corrections change ("cor" = adj - raw).
# A report reads adj as raw + cor. Most dossiers are never corrected, so each counter holds
# its numbers once rather than twice: half the writes, and a counter item's size (what a
# report reads) grows with the distinct counts, not twice that.
STORED_VIEWS = ("raw", "cor")

CELLS = (
    "received.carried_over", "received.online", "received.direct", "received.postal", "received.total",
    "resolved.early", "resolved.on_time", "resolved.late", "resolved.total",
    "in_progress.within_deadline", "in_progress.overdue", "in_progress.total",
    "supplement_requested", "withdrawn", "refused", "stopped",
)


@dataclass(frozen=True)
class Facts:
    """What form 06 needs to know about one dossier, as local dates."""
    code: str
    agency_id: str
    procedure_code: str
    field: str
    channel: str
    received: date
    due_changes: tuple[tuple[date, date | None], ...] = ()   # (day it took effect, due day or None)
    outcome: str | None = None                               # one of OUTCOMES, None while open
    closed: date | None = None
    pauses: tuple[tuple[date, date | None], ...] = ()        # [start day, end day) of each pause
    corrected: bool = False
    receiving_agency_id: str | None = None                   # the desk that took it (Decree 118/2025)

    def due_on(self, day: date) -> date | None:
        """The due day in force at the end of ``day``."""
        due = None
        for effective, value in self.due_changes:
            if effective <= day:
                due = value
        return due

    def group(self, group_by: str) -> str:
        return getattr(self, GROUPS[group_by])


# --- counters ---------------------------------------------------------------------------

Contributions = dict[tuple[date, str], int]


def contributions(facts: Facts) -> Contributions:
    """The counter deltas this dossier adds, per (local day, counter field)."""
    out: Contributions = defaultdict(int)
    out[(facts.received, f"recv_{facts.channel}")] += 1
    if facts.outcome is not None and facts.closed is not None:
        out[(facts.closed, f"closed_{facts.outcome}")] += 1
        if facts.corrected:
            out[(facts.closed, "corrected")] += 1
    for start, end in _overdue_intervals(facts):
        out[(start, "overdue")] += 1
        if end is not None:
            out[(end, "overdue")] -= 1
    for start, end in facts.pauses:
        stop = _first_of(end, facts.closed)
        if stop is not None and stop <= start:
            continue
        out[(start, "paused")] += 1
        if stop is not None:
            out[(stop, "paused")] -= 1
    return {key: value for key, value in out.items() if value}


def _first_of(*days: date | None) -> date | None:
    present = [d for d in days if d is not None]
    return min(present) if present else None


def _overdue_intervals(facts: Facts) -> list[tuple[date, date | None]]:
    """Days [start, end) at whose end the dossier is open and past its due day.

    The due day may change (extensions, pauses); each change starts a new piece. A dossier
    is overdue at the end of day X when due(X) < X and it is not closed by X."""
    changes = sorted(facts.due_changes, key=lambda change: change[0])  # stable: same-day order kept
    pieces: list[tuple[date, date | None]] = []
    for i, (effective, due) in enumerate(changes):
        piece_end = changes[i + 1][0] if i + 1 < len(changes) else None
        if due is None:
            continue
        start = max(effective, due + timedelta(days=1), facts.received)
        end = _first_of(piece_end, facts.closed)
        if end is None or start < end:
            pieces.append((start, end))
    merged: list[tuple[date, date | None]] = []
    for start, end in pieces:
        if merged and merged[-1][1] == start:
            merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return merged


def diff(new: Contributions, old: Contributions) -> Contributions:
    keys = set(new) | set(old)
    return {k: new.get(k, 0) - old.get(k, 0) for k in keys if new.get(k, 0) != old.get(k, 0)}


def by_period(delta: Contributions) -> dict[tuple[str, str], int]:
    """Day deltas expanded to the three grains: (period key, field) -> delta."""
    out: dict[tuple[str, str], int] = defaultdict(int)
    for (day, name), value in delta.items():
        for period in grains(day):
            out[(period, name)] += value
    return {k: v for k, v in out.items() if v}


def projection_step(applied_version: int | None, applied: Contributions, version: int,
                    new: Contributions) -> tuple[Contributions, Contributions] | None:
    """What the projection does with a dossier at ``version`` whose contributions are now
    ``new``: None if it already applied this version or a newer one (duplicates and late
    deliveries change nothing), otherwise (``new``, the delta to add to the counters)."""
    if applied_version is not None and version <= applied_version:
        return None
    return new, diff(new, applied)


def stored_contributions(dossier: Dossier) -> dict[str, Contributions]:
    """The dossier's contributions per stored view (STORED_VIEWS)."""
    raw = contributions(facts_from_dossier(dossier, adjusted=False))
    return {"raw": raw, "cor": diff(contributions(facts_from_dossier(dossier, adjusted=True)), raw)}


def viewed(stored: Mapping[str, Mapping[str, int]]) -> dict[str, dict[str, int]]:
    """A counter item's numbers per report view, from its stored views."""
    raw = dict(stored.get("raw", {}))
    adjusted = dict(raw)
    for name, value in stored.get("cor", {}).items():
        adjusted[name] = adjusted.get(name, 0) + value
    return {"raw": raw, "adj": adjusted}


# Counters are kept at three grains so that any prefix sum reads a bounded number of items:
# whole years before the year, whole months before the month, then days of the month.
def grains(day: date) -> tuple[str, str, str]:
    return f"Y#{day:%Y}", f"M#{day:%Y-%m}", f"D#{day:%Y-%m-%d}"


def prefix_periods(day: date) -> list[tuple[str, str]]:
    """Inclusive (low, high) period-key ranges whose sum is the prefix up to ``day``."""
    ranges = [("Y#0000", f"Y#{day.year - 1:04d}")]
    if day.month > 1:
        ranges.append((f"M#{day.year:04d}-01", f"M#{day.year:04d}-{day.month - 1:02d}"))
    ranges.append((f"D#{day:%Y-%m}-01", f"D#{day:%Y-%m-%d}"))
    return ranges


def prefix_sum(counters: Mapping[str, Mapping[str, int]], day: date, field_name: str) -> int:
    """Sum of one field up to and including ``day``, from counters keyed by period key."""
    ranges = prefix_periods(day)
    return sum(values.get(field_name, 0) for period, values in counters.items()
               if any(low <= period <= high for low, high in ranges))


def row_from_counters(counters: Mapping[str, Mapping[str, int]], start: date, end: date) -> dict[str, int]:
    """All cells of one group from its counters (period key -> field -> value)."""
    before = start - timedelta(days=1)

    def range_sum(name: str) -> int:
        return prefix_sum(counters, end, name) - prefix_sum(counters, before, name)

    def closed_by(day: date) -> int:
        return sum(prefix_sum(counters, day, f"closed_{o}") for o in OUTCOMES)

    def received_by(day: date) -> int:
        return sum(prefix_sum(counters, day, f"recv_{c}") for c in CHANNELS)

    cells = {f"received.{c}": range_sum(f"recv_{c}") for c in CHANNELS}
    cells["received.carried_over"] = received_by(before) - closed_by(before)
    cells.update({f"resolved.{o}": range_sum(f"closed_{o}") for o in RESOLVED})
    cells.update({o: range_sum(f"closed_{o}") for o in CLOSED_OTHER})
    open_at_end = received_by(end) - closed_by(end)
    overdue = prefix_sum(counters, end, "overdue")
    cells["in_progress.overdue"] = overdue
    cells["in_progress.within_deadline"] = open_at_end - overdue
    cells["supplement_requested"] = prefix_sum(counters, end, "paused")
    cells["corrections_applied"] = range_sum("corrected")
    return cells


# --- the audit path ---------------------------------------------------------------------

def classify_at(facts: Facts, start: date, end: date) -> dict[str, int]:
    """The cells one dossier counts in, decided directly from its dates."""
    cells: dict[str, int] = defaultdict(int)
    if facts.received > end:
        return cells
    closed_before = facts.closed is not None and facts.closed < start
    if facts.received < start:
        if closed_before:
            return cells
        cells["received.carried_over"] += 1
    else:
        cells[f"received.{facts.channel}"] += 1
    if facts.closed is not None and facts.closed <= end:
        key = f"resolved.{facts.outcome}" if facts.outcome in RESOLVED else str(facts.outcome)
        cells[key] += 1
        if facts.corrected:
            cells["corrections_applied"] += 1
        return cells
    due = facts.due_on(end)
    cells["in_progress.overdue" if due is not None and due < end else "in_progress.within_deadline"] += 1
    if any(s <= end and (e is None or e > end) for s, e in facts.pauses):
        cells["supplement_requested"] += 1
    return cells


def finish_row(cells: Mapping[str, int]) -> dict[str, Any]:
    """Nested ROW shape with totals and rates from flat cells."""
    get = lambda key: int(cells.get(key, 0))  # noqa: E731
    received = {k: get(f"received.{k}") for k in ("carried_over", *CHANNELS)}
    received["total"] = received["carried_over"] + sum(received[c] for c in CHANNELS)
    resolved = {k: get(f"resolved.{k}") for k in RESOLVED}
    resolved["total"] = sum(resolved.values())
    in_progress = {k: get(f"in_progress.{k}") for k in ("within_deadline", "overdue")}
    in_progress["total"] = sum(in_progress.values())
    new = sum(received[c] for c in CHANNELS)
    return {
        "received": received, "resolved": resolved, "in_progress": in_progress,
        "supplement_requested": get("supplement_requested"),
        "withdrawn": get("withdrawn"), "refused": get("refused"), "stopped": get("stopped"),
        "online_share": round(received["online"] / new, 4) if new else None,
        "on_time_rate": round((resolved["early"] + resolved["on_time"]) / resolved["total"], 4)
        if resolved["total"] else None,
        "corrections_applied": get("corrections_applied"),
    }


def direct_cells(facts: Iterable[Facts], start: date, end: date, group_by: str) -> dict[str, dict[str, int]]:
    groups: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for item in facts:
        for key, value in classify_at(item, start, end).items():
            groups[item.group(group_by)][key] += value
    return {g: dict(c) for g, c in groups.items() if any(c.values())}


def cell_value(row: Mapping[str, Any], cell: str) -> int:
    value: Any = row
    for part in cell.split("."):
        value = value[part]
    return int(value)


def members(facts: Iterable[Facts], start: date, end: date, cell: str) -> list[str]:
    """Codes of the dossiers behind one cell (drill-down), sorted."""
    if cell.endswith(".total"):
        prefix = cell.rsplit(".", 1)[0]
        if prefix == "received":
            wanted = {f"received.{k}" for k in ("carried_over", *CHANNELS)}
        else:
            wanted = {c for c in CELLS if c.startswith(prefix + ".") and not c.endswith(".total")}
    else:
        wanted = {cell}
    return sorted(f.code for f in facts if wanted & set(classify_at(f, start, end)))


def check_identities(row: Mapping[str, Any]) -> list[str]:
    """The form-06 identities that fail for a row (empty when the row adds up)."""
    problems = []
    received, resolved, in_progress = row["received"], row["resolved"], row["in_progress"]
    right = resolved["total"] + in_progress["total"] + row["withdrawn"] + row["refused"] + row["stopped"]
    if received["total"] != right:
        problems.append(f"received {received['total']} != resolved+in progress+withdrawn+refused+stopped {right}")
    if resolved["total"] != resolved["early"] + resolved["on_time"] + resolved["late"]:
        problems.append("resolved != early + on time + late")
    if in_progress["total"] != in_progress["within_deadline"] + in_progress["overdue"]:
        problems.append("in progress != within deadline + overdue")
    return problems


def differences(a: Mapping[str, Any], b: Mapping[str, Any], path: str = "") -> list[str]:
    """Cells (by path) where two rows differ."""
    out = []
    for key in sorted(set(a) | set(b)):
        here = f"{path}.{key}" if path else key
        left, right = a.get(key), b.get(key)
        if isinstance(left, Mapping) and isinstance(right, Mapping):
            out += differences(left, right, here)
        elif left != right:
            out.append(f"{here}: {left} != {right}")
    return out


@dataclass
class Succession:
    """Agency mergers and renames: old id -> (successor id, effective day)."""
    moves: dict[str, tuple[str, date]] = field(default_factory=dict)

    def successor(self, agency_id: str, as_of: date) -> str:
        seen = set()
        while agency_id in self.moves and agency_id not in seen:
            seen.add(agency_id)
            target, effective = self.moves[agency_id]
            if effective > as_of:
                break
            agency_id = target
        return agency_id


# --- from a stored dossier --------------------------------------------------------------

def facts_from_dossier(dossier: Dossier, *, adjusted: bool) -> Facts:
    """Reduce a dossier to its form-06 facts; ``adjusted`` applies approved corrections.

    Decisions carry the day they happened (``at``, or the audited ``effective_at``) and, when
    they set or clear the deadline, the resulting ``due_at``. The outcome of a finished
    dossier comes from calendar.classify, the one early/on-time/late rule."""
    from chalicelib.kernel.working_days import classify, parse_iso, to_local

    def on(text: str) -> date:
        return to_local(parse_iso(text)).date()

    def day(text: str | None) -> date | None:
        return on(text) if text else None

    decisions = list(dossier.get("decisions", []))
    # The due date in force over time: set by decisions that record it, cleared while paused
    # (the clock is stopped, so a paused dossier is never overdue). Chronological order.
    timeline = [(parse_iso(d.get("effective_at") or d["at"]), d["due_at"]) for d in decisions if "due_at" in d]
    timeline += [(parse_iso(p["start"]), None) for p in dossier.get("pauses", [])]
    timeline.sort(key=lambda change: change[0])
    due_changes = tuple((to_local(moment).date(), day(due)) for moment, due in timeline)
    pauses = tuple((on(p["start"]), day(p.get("end"))) for p in dossier.get("pauses", []))
    finished_at = dossier.get("finished_at")
    corrected = False
    if adjusted:
        for correction in dossier.get("corrections", []):
            if correction.get("state") == "approved" and correction.get("field") == "finished_at":
                finished_at, corrected = correction["value"], True
    outcome = closed = None
    closing = {"refuse": "refused", "withdraw": "withdrawn", "stop": "stopped"}
    for decision in decisions:
        if decision["action"] in closing:
            outcome, closed = closing[decision["action"]], day(decision.get("effective_at") or decision["at"])
    if finished_at and outcome is None:
        due = dossier.get("due_at")
        finished = parse_iso(finished_at)
        outcome = classify(finished, parse_iso(due)) if due else "on_time"
        closed = to_local(finished).date()
    return Facts(
        code=dossier["code"], agency_id=dossier["agency_id"], procedure_code=dossier["procedure_code"],
        field=dossier.get("field", ""), channel=dossier.get("channel", "online"),
        received=on(dossier["submitted_at"]), due_changes=due_changes, outcome=outcome, closed=closed,
        pauses=pauses, corrected=corrected and outcome is not None,
        receiving_agency_id=dossier.get("receiving_agency_id") or dossier["agency_id"],
    )


# --- payments report --------------------------------------------------------------------

PAID_STATUSES = ("succeeded", "succeeded_late", "refund_pending", "refunded", "partially_refunded")


def payment_cells(payments: Iterable[Mapping[str, Any]], dossiers: Iterable[Mapping[str, Any]], start: date,
                  end: date, group_by: str, outstanding: Any) -> dict[str, dict[str, int]]:
    """Fees collected (paid in the period), refunded (settled in the period) and outstanding
    (still owed on dossiers received in the period), in integer VND per group."""
    from chalicelib.kernel.working_days import parse_iso, to_local

    key = GROUPS[group_by]
    groups: dict[str, dict[str, int]] = defaultdict(lambda: {"collected": 0, "refunded": 0, "outstanding": 0,
                                                             "payments": 0})

    def in_period(text: str | None) -> bool:
        return text is not None and text != "" and start <= to_local(parse_iso(text)).date() <= end

    for payment in payments:
        row = groups[payment[key]]
        if payment["status"] in PAID_STATUSES and in_period(payment.get("paid_at")):
            row["collected"] += int(payment["amount"])
            row["payments"] += 1
        row["refunded"] += sum(int(r["amount"]) for r in payment.get("refunds", [])
                               if r.get("status") == "refunded" and in_period(r.get("settled_at")))
    for dossier in dossiers:
        if in_period(dossier["submitted_at"]) and dossier["status"] not in ("refused", "withdrawn"):
            groups[dossier[key]]["outstanding"] += int(outstanding(dossier))
    return {g: dict(v) for g, v in groups.items() if any(v.values())}


# --- satisfaction -----------------------------------------------------------------------

CRITERIA = tuple(str(i) for i in range(1, 10))


def satisfaction_rows(dossiers: Iterable[Mapping[str, Any]], start: date, end: date,
                      group_by: str) -> dict[str, dict[str, Any]]:
    """Average score (0–2) per national criterion and the distribution of the overall
    rating (1–5), over ratings given in the period."""
    from chalicelib.kernel.working_days import parse_iso, to_local

    sums: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    overall: dict[str, dict[str, int]] = defaultdict(lambda: {str(i): 0 for i in range(1, 6)})
    rated: dict[str, int] = defaultdict(int)
    for dossier in dossiers:
        rating = dossier.get("rating")
        if not rating or not start <= to_local(parse_iso(rating["rated_at"])).date() <= end:
            continue
        group = dossier[GROUPS[group_by]]
        rated[group] += 1
        overall[group][str(rating["overall"])] += 1
        for criterion, score in rating["criteria"].items():
            sums[group][criterion] += int(score)
            counts[group][criterion] += 1
    return {group: {
        "ratings": rated[group],
        "criteria": {c: round(sums[group][c] / counts[group][c], 3) if counts[group][c] else None for c in CRITERIA},
        "overall": overall[group],
    } for group in rated}
