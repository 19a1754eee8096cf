"""Form 06 as CSV and XLSX: title, period, unit, grouped column headers, rows and totals.

One column list drives both formats so they can never disagree.
"""
from __future__ import annotations

import csv
import io
from datetime import date
from typing import Any
from collections.abc import Callable

Getter = Callable[[dict[str, Any]], Any]

TITLE = "KẾT QUẢ GIẢI QUYẾT THỦ TỤC HÀNH CHÍNH (Biểu 06/VPCP/KSTT)"
GROUP_LABELS = {"agency": "Cơ quan, đơn vị", "field": "Lĩnh vực", "procedure": "Thủ tục hành chính"}

# (group header, column header, getter). Consecutive equal group headers are merged.
COLUMNS: list[tuple[str, str, Getter]] = [
    ("Số hồ sơ nhận giải quyết", "Tổng số", lambda r: r["received"]["total"]),
    ("Số hồ sơ nhận giải quyết", "Kỳ trước chuyển qua", lambda r: r["received"]["carried_over"]),
    ("Số hồ sơ nhận giải quyết", "Trực tuyến", lambda r: r["received"]["online"]),
    ("Số hồ sơ nhận giải quyết", "Trực tiếp", lambda r: r["received"]["direct"]),
    ("Số hồ sơ nhận giải quyết", "Bưu chính", lambda r: r["received"]["postal"]),
    ("Số hồ sơ đã giải quyết", "Tổng số", lambda r: r["resolved"]["total"]),
    ("Số hồ sơ đã giải quyết", "Trước hạn", lambda r: r["resolved"]["early"]),
    ("Số hồ sơ đã giải quyết", "Đúng hạn", lambda r: r["resolved"]["on_time"]),
    ("Số hồ sơ đã giải quyết", "Quá hạn", lambda r: r["resolved"]["late"]),
    ("Số hồ sơ đang giải quyết", "Tổng số", lambda r: r["in_progress"]["total"]),
    ("Số hồ sơ đang giải quyết", "Trong hạn", lambda r: r["in_progress"]["within_deadline"]),
    ("Số hồ sơ đang giải quyết", "Quá hạn", lambda r: r["in_progress"]["overdue"]),
    ("Khác", "Chờ bổ sung", lambda r: r["supplement_requested"]),
    ("Khác", "Rút hồ sơ", lambda r: r["withdrawn"]),
    ("Khác", "Từ chối tiếp nhận", lambda r: r["refused"]),
    ("Khác", "Dừng xử lý", lambda r: r["stopped"]),
    ("Tỷ lệ", "Trực tuyến (%)", lambda r: _percent(r["online_share"])),
    ("Tỷ lệ", "Đúng hạn (%)", lambda r: _percent(r["on_time_rate"])),
]


def _percent(value: float | None) -> float | None:
    return None if value is None else round(value * 100, 2)


def _dmy(text: str) -> str:
    return date.fromisoformat(text).strftime("%d/%m/%Y")


def header_lines(report: dict[str, Any], unit: str) -> list[str]:
    return [TITLE, f"Kỳ báo cáo: từ ngày {_dmy(report['from'])} đến ngày {_dmy(report['to'])}", f"Đơn vị: {unit}"]


def body_rows(report: dict[str, Any]) -> list[list[Any]]:
    key = {"agency": "agency_id", "field": "field", "procedure": "procedure_code"}[report["group_by"]]
    rows = [[i, row["name"] if row["name"] != row[key] else row[key], *[get(row) for _, _, get in COLUMNS]]
            for i, row in enumerate(report["rows"], start=1)]
    rows.append(["", "Tổng cộng", *[get(report["total"]) for _, _, get in COLUMNS]])
    return rows


def to_csv(report: dict[str, Any], unit: str) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    for line in header_lines(report, unit):
        writer.writerow([line])
    writer.writerow(["STT", GROUP_LABELS[report["group_by"]], *[f"{group} - {col}" for group, col, _ in COLUMNS]])
    writer.writerows(body_rows(report))
    return "\ufeff" + out.getvalue()  # BOM: Excel then reads the UTF-8 correctly


def to_xlsx(report: dict[str, Any], unit: str) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    book = Workbook()
    sheet = book.worksheets[0]   # a new workbook's one (active) sheet
    sheet.title = "Bieu 06"
    width = 2 + len(COLUMNS)
    for row, line in enumerate(header_lines(report, unit), start=1):
        sheet.cell(row=row, column=1, value=line).font = Font(bold=row == 1)
        sheet.merge_cells(start_row=row, start_column=1, end_row=row, end_column=width)
    top, sub = 5, 6
    for col, label in ((1, "STT"), (2, GROUP_LABELS[report["group_by"]])):
        sheet.cell(row=top, column=col, value=label)
        sheet.merge_cells(start_row=top, start_column=col, end_row=sub, end_column=col)
    col = 3
    while col - 3 < len(COLUMNS):
        group = COLUMNS[col - 3][0]
        span = 1
        while col - 3 + span < len(COLUMNS) and COLUMNS[col - 3 + span][0] == group:
            span += 1
        sheet.cell(row=top, column=col, value=group)
        if span > 1:
            sheet.merge_cells(start_row=top, start_column=col, end_row=top, end_column=col + span - 1)
        for offset in range(span):
            sheet.cell(row=sub, column=col + offset, value=COLUMNS[col - 3 + offset][1])
        col += span
    for cells in sheet.iter_rows(min_row=top, max_row=sub):
        for cell in cells:
            cell.font, cell.alignment = Font(bold=True), Alignment(horizontal="center", vertical="center", wrap_text=True)
    for r, values in enumerate(body_rows(report), start=sub + 1):
        for c, value in enumerate(values, start=1):
            sheet.cell(row=r, column=c, value=value)
    sheet.cell(row=sub + len(report["rows"]) + 1, column=2).font = Font(bold=True)
    sheet.column_dimensions["B"].width = 42
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


INDEX_COLUMNS = ("Chỉ số", "Tên chỉ số", "Nhóm", "Tử số", "Mẫu số", "Tỷ lệ (%) / giá trị", "Ngưỡng (%)",
                 "Điểm", "Điểm tối đa")


def index_rows(table: dict[str, Any]) -> list[list[Any]]:
    """The 766 indicator table as spreadsheet rows: the same numbers as the JSON, cell by cell."""
    rows = [[r["id"], r["name"], r["group"], r["numerator"], r["denominator"], r["rate"], r["threshold"],
             r["points"], r["max_points"]] for r in table["indicators"]]
    rows += [[f"Nhóm {g['group']}", g["name"], g["group"], None, None, None, None, g["points"], g["max_points"]]
             for g in table["groups"]]
    rows.append(["", "Tổng điểm", "", None, None, None, None, table["points"], table["max_points"]])
    return rows


def index_to_xlsx(table: dict[str, Any], unit: str) -> bytes:
    """The indicator table (and one line per agency, ranked) as an Excel workbook."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    sheet = book.worksheets[0]
    sheet.title = "Chi so 766"
    lines = ["Bộ chỉ số phục vụ người dân, doanh nghiệp (Quyết định 766/QĐ-TTg)",
             f"Kỳ: từ ngày {_dmy(table['from'])} đến ngày {_dmy(table['to'])}", f"Đơn vị: {unit}"]
    for row, line in enumerate(lines, start=1):
        sheet.cell(row=row, column=1, value=line).font = Font(bold=row == 1)
    for c, label in enumerate(INDEX_COLUMNS, start=1):
        sheet.cell(row=5, column=c, value=label).font = Font(bold=True)
    for r, values in enumerate(index_rows(table), start=6):
        for c, value in enumerate(values, start=1):
            sheet.cell(row=r, column=c, value=value)
    sheet.column_dimensions["B"].width = 60
    ranked = book.create_sheet("Xep hang co quan")
    for c, label in enumerate(("Hạng", "Mã cơ quan", "Tên cơ quan", "Điểm"), start=1):
        ranked.cell(row=1, column=c, value=label).font = Font(bold=True)
    for r, agency in enumerate(table.get("agencies", []), start=2):
        for c, value in enumerate((r - 1, agency["agency_id"], agency["name"], agency["points"]), start=1):
            ranked.cell(row=r, column=c, value=value)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
