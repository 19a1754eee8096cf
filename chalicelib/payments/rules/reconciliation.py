"""The daily finance reconciliation: the app's ledger against the provider's records for one
local day. Pure: the caller fetches both sides (querydr answers or a settlement file).

Categories of discrepancy:

* ``provider_only``: the provider has a transaction the app does not know at all;
* ``app_only``: the app holds a payment as paid, the provider has no such transaction;
* ``status_mismatch``: both know it, one says paid and the other does not;
* ``amount_mismatch``: both say paid, with different amounts;
* ``late_success``: a success that arrived after the app had given up (failed/expired); listed
  every day it falls in, for finance to accept or refund, even when both sides agree.

A settlement CSV's layout (``SettlementLayout``: delimiter, column names, amount scale, success
codes) starts from the provider's own (its ``settlement_layout``) and a file can override it.
"""
from __future__ import annotations

import csv
import io
import json
from collections import defaultdict
from dataclasses import dataclass, fields
from typing import Any
from collections.abc import Iterable, Mapping, Sequence

from chalicelib.kernel.text import is_ascii_digits
from chalicelib.payments.rules.transitions import MONEY_RECEIVED

CATEGORIES = ("provider_only", "app_only", "status_mismatch", "amount_mismatch", "late_success")
CATEGORY_LABELS = {
    "provider_only": "Chỉ có ở cổng thanh toán",
    "app_only": "Chỉ có ở hệ thống",
    "status_mismatch": "Lệch trạng thái",
    "amount_mismatch": "Lệch số tiền",
    "late_success": "Thành công muộn (cần xử lý)",
}


@dataclass(frozen=True)
class ProviderRecord:
    reference: str
    found: bool
    paid: bool
    amount: int | None
    status: str
    provider_txn_id: str | None = None


@dataclass(frozen=True)
class SettlementLayout:
    """Where each field is in a settlement CSV. Column names, or 0-based indexes as strings
    when ``has_header`` is false. ``amount_scale`` divides the file's amount into VND."""
    delimiter: str = ","
    has_header: bool = True
    reference: str = "reference"
    amount: str = "amount"
    status: str = "status"
    provider_txn_id: str = "provider_txn_id"
    amount_scale: int = 1
    success_values: tuple[str, ...] = ("00",)

    @classmethod
    def from_json(cls, text: str, base: Mapping[str, Any] | None = None) -> SettlementLayout:
        """A layout file's keys over ``base`` (the provider's ``settlement_layout``)."""
        return cls.from_mapping({**(base or {}), **json.loads(text)})

    @classmethod
    def from_mapping(cls, given: Mapping[str, Any]) -> SettlementLayout:
        raw = dict(given)
        known = {f.name for f in fields(cls)}
        unknown = set(raw) - known
        if unknown:
            raise ValueError(f"unknown settlement layout keys: {', '.join(sorted(unknown))}")
        if "success_values" in raw:
            raw["success_values"] = tuple(raw["success_values"])
        return cls(**raw)


def counter_record(payment: Mapping[str, Any]) -> ProviderRecord:
    """A counter payment's provider side is the desk officer's record itself; what checks it is
    the desk's till, counted against ``counter_totals`` (by desk and method)."""
    method = (payment.get("counter") or {}).get("method", "")
    return ProviderRecord(payment["payment_id"], True, payment["status"] in MONEY_RECEIVED, payment["amount"],
                          f"counter_{method}", payment.get("provider_txn_id"))


def counter_totals(ledger: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Money each desk took at the counter, by method: what the desk's till must hold."""
    sums: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    for payment in ledger:
        record = payment.get("counter")
        if payment.get("provider") == "counter" and record and payment["status"] in MONEY_RECEIVED:
            total = sums[(record.get("desk_agency_id", ""), record.get("method", ""))]
            total[0] += 1
            total[1] += int(payment["amount"]) - int(payment.get("refunded_amount", 0))
    return [{"agency_id": desk, "method": method, "app_count": count, "app_amount": amount}
            for (desk, method), (count, amount) in sorted(sums.items())]


def parse_settlement(text: str, layout: SettlementLayout) -> list[ProviderRecord]:
    """Provider records from a settlement CSV; ValueError naming the line of the first bad row."""
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")), delimiter=layout.delimiter)
    rows = list(reader)
    if layout.has_header:
        if not rows:
            raise ValueError("settlement file is empty")
        header = [h.strip() for h in rows[0]]
        missing = [c for c in (layout.reference, layout.amount, layout.status) if c not in header]
        if missing:
            raise ValueError(f"line 1: missing columns {', '.join(missing)}")
        index = {name: header.index(name) for name in header}
        body, first_line = rows[1:], 2
    else:
        index = {}
        body, first_line = rows, 1

    def column(row: list[str], name: str) -> str:
        position = index.get(name) if layout.has_header else int(name)
        return row[position].strip() if position is not None and position < len(row) else ""

    records = []
    for line, row in enumerate(body, first_line):
        if not any(cell.strip() for cell in row):
            continue
        reference, amount_text, status = (column(row, layout.reference), column(row, layout.amount),
                                          column(row, layout.status))
        if not reference or not is_ascii_digits(amount_text) or int(amount_text) % layout.amount_scale:
            raise ValueError(f"line {line}: needs a reference and a whole amount, got {reference!r}, {amount_text!r}")
        txn = column(row, layout.provider_txn_id) if layout.provider_txn_id else ""
        records.append(ProviderRecord(reference, True, status in layout.success_values,
                                      int(amount_text) // layout.amount_scale, status, txn or None))
    return records


def _line(category: str, payment: Mapping[str, Any] | None, record: ProviderRecord | None,
          note: str) -> dict[str, Any]:
    return {
        "category": category, "category_label": CATEGORY_LABELS[category],
        "payment_id": payment["payment_id"] if payment else (record.reference if record else ""),
        "dossier_code": payment["dossier_code"] if payment else "",
        "agency_id": payment["agency_id"] if payment else "",
        "procedure_code": payment["procedure_code"] if payment else "",
        "app_status": payment["status"] if payment else "",
        "app_amount": payment["amount"] if payment else None,
        "provider_status": record.status if record and record.found else "not_found",
        "provider_amount": record.amount if record and record.found else None,
        "note": note,
    }


def _discrepancies(payment: Mapping[str, Any], record: ProviderRecord | None) -> list[dict[str, Any]]:
    app_paid = payment["status"] in MONEY_RECEIVED
    provider_paid = bool(record and record.found and record.paid)
    lines = []
    if payment.get("late"):
        lines.append(_line("late_success", payment, record, "Tiền về sau khi giao dịch đã hết hạn hoặc thất bại."))
    if app_paid and not (record and record.found):
        lines.append(_line("app_only", payment, record, "Cổng thanh toán không có giao dịch này."))
    elif record and record.found and app_paid != provider_paid:
        lines.append(_line("status_mismatch", payment, record,
                           "Hệ thống ghi nhận đã thu nhưng cổng thanh toán báo chưa thu." if app_paid
                           else "Cổng thanh toán báo đã thu nhưng hệ thống chưa ghi nhận."))
    elif app_paid and provider_paid and record is not None and record.amount != payment["amount"]:
        lines.append(_line("amount_mismatch", payment, record, "Số tiền hai bên khác nhau."))
    return lines


def _totals(rows: Iterable[tuple[tuple[str, ...], bool, int, bool, int]], keys: tuple[str, ...],
            names: Mapping[tuple[str, ...], Mapping[str, str]]) -> list[dict[str, Any]]:
    sums: dict[tuple[str, ...], list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for key, app_paid, app_amount, provider_paid, provider_amount in rows:
        total = sums[key]
        if app_paid:
            total[0] += 1
            total[1] += app_amount
        if provider_paid:
            total[2] += 1
            total[3] += provider_amount
    return [{**dict(zip(keys, key, strict=True)), **names.get(key, {}), "app_count": t[0], "app_amount": t[1],
             "provider_count": t[2], "provider_amount": t[3], "difference": t[1] - t[3]}
            for key, t in sorted(sums.items())]


def compare(day: str, ledger: Sequence[Mapping[str, Any]], provider: Mapping[str, ProviderRecord], *, source: str,
            agency_names: Mapping[str, str] | None = None,
            procedure_names: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The report for local day ``day``: every discrepancy with its category, and totals of what
    each side counts as paid, by agency and by procedure."""
    agency_names, procedure_names = agency_names or {}, procedure_names or {}
    known = {p["payment_id"] for p in ledger}
    lines: list[dict[str, Any]] = []
    rows = []
    for payment in sorted(ledger, key=lambda p: p["payment_id"]):
        record = provider.get(payment["payment_id"])
        lines += _discrepancies(payment, record)
        provider_paid = bool(record and record.found and record.paid)
        rows.append(((payment["agency_id"], payment["procedure_code"]), payment["status"] in MONEY_RECEIVED,
                     payment["amount"], provider_paid, (record.amount or 0) if provider_paid and record else 0))
    for reference in sorted(set(provider) - known):
        record = provider[reference]
        if record.found:
            lines.append(_line("provider_only", None, record, "Hệ thống không có giao dịch với mã này."))
            rows.append((("", ""), False, 0, record.paid, (record.amount or 0) if record.paid else 0))
    by_agency = _totals((((a,), *rest) for (a, _), *rest in rows), ("agency_id",),
                        {(a,): {"agency_name": n} for a, n in {**agency_names, "": "(không xác định)"}.items()})
    by_procedure = _totals(rows, ("agency_id", "procedure_code"),
                           {(p["agency_id"], p["procedure_code"]):
                            {"procedure_name": procedure_names.get(p["procedure_code"], "")} for p in ledger})
    return {
        "date": day, "source": source,
        "summary": {
            "app_payments": len(ledger),
            "app_paid_count": sum(r[1] for r in rows), "app_paid_amount": sum(r[2] for r in rows if r[1]),
            "provider_paid_count": sum(r[3] for r in rows), "provider_paid_amount": sum(r[4] for r in rows),
            "discrepancies": len(lines),
            "by_category": {c: sum(1 for line in lines if line["category"] == c) for c in CATEGORIES},
        },
        "discrepancies": lines,
        "totals_by_agency": by_agency,
        "totals_by_procedure": by_procedure,
        "counter_totals": counter_totals(ledger),
    }


# --- exports ----------------------------------------------------------------------------

DISCREPANCY_COLUMNS = ("category", "category_label", "payment_id", "dossier_code", "agency_id", "procedure_code",
                       "app_status", "app_amount", "provider_status", "provider_amount", "note")
TOTAL_COLUMNS = ("agency_id", "agency_name", "procedure_code", "procedure_name", "app_count", "app_amount",
                 "provider_count", "provider_amount", "difference")
CSV_COLUMNS = ("section", "date", *tuple(dict.fromkeys(DISCREPANCY_COLUMNS + TOTAL_COLUMNS)), "method")


def to_csv(report: Mapping[str, Any]) -> str:
    """One flat table; ``section`` says whether a row is a discrepancy or a total."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for section, key in (("discrepancy", "discrepancies"), ("agency_total", "totals_by_agency"),
                         ("procedure_total", "totals_by_procedure"), ("counter_total", "counter_totals")):
        for row in report.get(key, []):
            writer.writerow({"section": section, "date": report["date"], **row})
    return out.getvalue()


def to_xlsx(report: Mapping[str, Any]) -> bytes:
    from openpyxl import Workbook  # lazy: only the export needs it
    from openpyxl.styles import Font

    book = Workbook()
    summary = book.worksheets[0]   # a new workbook's one (active) sheet
    summary.title = "Tổng quan"
    summary.append(["Ngày đối soát", report["date"]])
    summary.append(["Nguồn dữ liệu cổng thanh toán", report["source"]])
    for key, value in report["summary"].items():
        if key != "by_category":
            summary.append([key, value])
    for category, count in report["summary"]["by_category"].items():
        summary.append([CATEGORY_LABELS[category], count])
    for title, key, columns in (("Chênh lệch", "discrepancies", DISCREPANCY_COLUMNS),
                                ("Theo cơ quan", "totals_by_agency", ("agency_id", "agency_name", *TOTAL_COLUMNS[4:])),
                                ("Theo thủ tục", "totals_by_procedure", TOTAL_COLUMNS[:1] + TOTAL_COLUMNS[2:])):
        sheet = book.create_sheet(title)
        sheet.append(list(columns))
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        for row in report[key]:
            sheet.append([row.get(column) for column in columns])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
