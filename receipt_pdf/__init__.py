"""The electronic receipt (biên lai) as a one-page PDF.

fpdf2 lays the page out; PDF's built-in fonts cannot show Vietnamese diacritics, so a subset
of DejaVu Sans ships in ``fonts/`` beside this file (see the README there). The receipt
record itself is built by chalicelib.payments.rules.payments.receipt when the payment succeeds; this
package only draws it, byte for byte the same each time (the PDF's dates are the receipt's
own), so drawing it again is harmless.

A package of its own, outside chalicelib, because fpdf2 brings fontTools and Pillow (about
35 MB): only the receipts consumer (handlers/receipts.py) ships it, in its own deployment
package (infra/package.py), and the API package stays small.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any
from collections.abc import Mapping

from chalicelib.kernel.working_days import parse_iso, to_local
from chalicelib.payments.rules.payments import vnd

FONTS = Path(__file__).with_name("fonts")


def _when(text: str | None) -> str:
    return f"{to_local(parse_iso(text)):%H:%M:%S ngày %d/%m/%Y}" if text else ""


def render_pdf(record: Mapping[str, Any], agency_name: str) -> bytes:
    """The receipt as PDF bytes; ``agency_name`` heads the page (the record holds its id)."""
    from fpdf import FPDF

    pdf = FPDF(format=(148, 210))  # A5, in millimetres
    pdf.set_creation_date(parse_iso(record["issued_at"]))  # not "now": the same record, the same bytes
    pdf.set_title(f"Biên lai {record['number']}")
    pdf.set_creator("MotCua")
    pdf.add_font("DejaVu", "", str(FONTS / "DejaVuSans.ttf"))
    pdf.add_font("DejaVu", "B", str(FONTS / "DejaVuSans-Bold.ttf"))
    pdf.set_auto_page_break(True, margin=12)
    pdf.add_page()
    width = pdf.epw

    pdf.set_font("DejaVu", "B", 10)
    pdf.multi_cell(width, 5, agency_name.upper(), align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    pdf.set_font("DejaVu", "B", 14)
    pdf.cell(width, 8, "BIÊN LAI THU PHÍ, LỆ PHÍ", align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", "", 9)
    pdf.cell(width, 5, "(Biên lai điện tử)", align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.cell(width, 5, f"Số: {record['number']}", align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)

    pdf.set_font("DejaVu", "", 9)
    for label, value in (
        ("Người nộp", record.get("payer") or ""),
        ("Hồ sơ", record["dossier_code"]),
        ("Thủ tục", f"{record['procedure_code']} – {record.get('procedure_name', '')}"),
        ("Thời điểm thanh toán", _when(record.get("paid_at"))),
        ("Hình thức", record.get("method_label") or f"Trực tuyến qua {str(record['provider']).upper()}"),
        ("Số chứng từ" if record["provider"] == "counter" else "Mã giao dịch cổng thanh toán",
         record.get("provider_txn_id") or ""),
        ("Mã thanh toán", record["payment_id"]),
    ):
        pdf.multi_cell(width, 5, f"{label}: {value}", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)

    with pdf.table(col_widths=(10, 60, 30), text_align=("CENTER", "LEFT", "RIGHT"), line_height=6) as table:
        pdf.set_font("DejaVu", "B", 9)
        table.row(("STT", "Khoản thu", "Số tiền"))
        pdf.set_font("DejaVu", "", 9)
        for i, item in enumerate(record["items"], 1):
            table.row((str(i), item["name"], vnd(item["amount"])))
        pdf.set_font("DejaVu", "B", 9)
        table.row(("", "Tổng cộng", vnd(record["amount"])))
    pdf.ln(3)
    pdf.set_font("DejaVu", "", 8)
    made = ("khi cán bộ bộ phận một cửa ghi nhận khoản thu" if record["provider"] == "counter"
            else "tự động khi cổng thanh toán xác nhận giao dịch thành công")
    pdf.multi_cell(width, 4, f"Lập lúc {_when(record.get('issued_at'))}. Biên lai được lập {made}.",
                   new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())
