"""The dossier register (sổ theo dõi hồ sơ, form 07 of Circular 03/2025/TT-VPCP) of an agency
for a period: one line per dossier received in it, as recorded. Pure.

The columns follow the form: code, procedure, number of sets, applicant, address and phone,
the competent agency, received, appointment, result received from the competent agency,
result returned, notes. The same lines feed the PDF (paper_pdf/layouts/register.json) and the
XLSX export.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime, time
from typing import Any

from chalicelib.dossiers.rules.papers import applicant_values, day
from chalicelib.dossiers.rules.records import Dossier
from chalicelib.kernel.working_days import TZ, classify, parse_iso

COLUMNS: tuple[tuple[str, str], ...] = (
    ("n", "STT"), ("code", "Mã hồ sơ"), ("procedure", "Tên thủ tục hành chính"), ("sets", "Số lượng hồ sơ (bộ)"),
    ("applicant", "Tên cá nhân, tổ chức"), ("contact", "Địa chỉ, số điện thoại"),
    ("competent", "Cơ quan chủ trì giải quyết"), ("received", "Nhận hồ sơ"), ("due", "Hẹn trả kết quả"),
    ("finished", "Nhận kết quả từ cơ quan giải quyết"), ("returned", "Trả kết quả cho cá nhân, tổ chức"),
    ("note", "Ghi chú"),
)
STATUS_NOTES = {
    "submitted": "Chờ tiếp nhận", "accepted": "Đang giải quyết", "processing": "Đang giải quyết",
    "supplement_requested": "Chờ bổ sung hồ sơ", "refused": "Từ chối tiếp nhận", "withdrawn": "Rút hồ sơ",
    "stopped": "Dừng giải quyết", "finished": "Có kết quả, chờ trả", "returned": "Đã trả kết quả",
}
TIMELINESS = {"early": "trước hạn", "on_time": "đúng hạn", "late": "quá hạn"}


def _note(dossier: Mapping[str, Any]) -> str:
    note = STATUS_NOTES.get(dossier["status"], dossier["status"])
    finished, due = dossier.get("finished_at"), dossier.get("due_at")
    if finished and due:
        note += f" ({TIMELINESS[classify(parse_iso(finished), parse_iso(due))]})"
    if dossier.get("extensions"):
        note += f"; gia hạn {len(dossier['extensions'])} lần"
    return note


def line(dossier: Dossier, agency_names: Mapping[str, str]) -> dict[str, str]:
    """One line of the register for the dossier, as recorded."""
    who = applicant_values(dossier)
    contact = ", ".join(part for part in (who["applicant_address"], who["applicant_phone"]) if part)
    return {
        "code": dossier["code"],
        "procedure": f"{dossier.get('procedure_name', '')} ({dossier['procedure_code']})",
        "sets": "1",
        "applicant": who["applicant_name"],
        "contact": contact,
        "competent": agency_names.get(dossier["agency_id"], dossier["agency_id"]),
        "received": day(dossier["submitted_at"]),
        "due": day(dossier.get("due_at")),
        "finished": day(dossier.get("finished_at")),
        "returned": day(dossier.get("returned_at")),
        "note": _note(dossier),
    }


def lines(dossiers: Iterable[Dossier], agency_names: Mapping[str, str]) -> list[dict[str, str]]:
    """The register's lines, in order of receipt."""
    ordered = sorted(dossiers, key=lambda d: (parse_iso(d["submitted_at"]), d["code"]))
    return [line(dossier, agency_names) for dossier in ordered]


def last_change(dossiers: Iterable[Dossier], start: date) -> datetime:
    """The register's own date: the latest change recorded in its dossiers (the start of the
    period when it has none), so the same dossiers give the same document."""
    moments = [parse_iso(d["at"]) for dossier in dossiers for d in dossier.get("decisions") or []]
    return max(moments, default=datetime.combine(start, time(), TZ))


def period_label(start: date, end: date) -> str:
    return f"Từ ngày {start:%d/%m/%Y} đến ngày {end:%d/%m/%Y}"


def to_xlsx(rows: list[dict[str, str]], unit: str, start: date, end: date) -> bytes:
    """The register as a workbook: the unit and period above the form's columns."""
    import io

    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    book = Workbook()
    sheet = book.worksheets[0]
    sheet.title = "So theo doi ho so"
    for r, text in enumerate((unit, "SỔ THEO DÕI HỒ SƠ", period_label(start, end)), start=1):
        sheet.cell(row=r, column=1, value=text).font = Font(bold=r < 3)
        sheet.merge_cells(start_row=r, start_column=1, end_row=r, end_column=len(COLUMNS))
    header = 5
    for c, (_, title) in enumerate(COLUMNS, start=1):
        cell = sheet.cell(row=header, column=c, value=title)
        cell.font, cell.alignment = Font(bold=True), Alignment(horizontal="center", vertical="center", wrap_text=True)
    for n, row in enumerate(rows, start=1):
        for c, (key, _) in enumerate(COLUMNS, start=1):
            sheet.cell(row=header + n, column=c, value=n if key == "n" else row[key])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
