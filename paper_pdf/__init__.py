"""The papers of Circular 03/2025/TT-VPCP (Annex I, forms 01–07) as PDF, from layouts kept as data.

One small renderer draws every form: a layout (``layouts/<name>.json``) lists the blocks of
the page (the heading with the national motto, the title, lines of text, lists, tables, a QR
code, the signature columns) and their texts as ``str.format`` templates over the paper's
values. The values come from the dossier as recorded (chalicelib.dossiers.rules.papers,
chalicelib.reports.rules.register), and the PDF's creation date is the paper's own date, so
drawing a paper again gives the same bytes. Changing a layout is editing its JSON
(docs/forms.md).

Beside receipt_pdf, outside chalicelib, for the same reason: fpdf2 brings fontTools and Pillow
(about 35 MB) and ships only in the PDF bundle (infra/package.py). The fonts are receipt_pdf's
DejaVu Sans subset (Vietnamese diacritics); the QR code is drawn as vector squares from segno's
matrix, so no image library is involved.
"""
from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

from receipt_pdf import FONTS

LAYOUTS = Path(__file__).with_name("layouts")
FONT = "DejaVu"
LINE = 5.5          # mm per line of body text
FORMATS = {"A4": (210, 297)}


class LayoutError(ValueError):
    """A layout names a block type, a value or a list the renderer does not know."""


@cache
def layout(name: str) -> dict[str, Any]:
    """The layout ``name`` (a JSON file in layouts/), read once per process."""
    path = LAYOUTS / f"{name}.json"
    if not path.is_file():
        raise LayoutError(f"no layout {name!r} in {LAYOUTS}")
    loaded: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return loaded


def _fill(template: str, values: Mapping[str, Any]) -> str:
    try:
        return template.format_map(values)
    except (KeyError, IndexError) as exc:
        raise LayoutError(f"template {template!r} names a value the paper does not have: {exc}") from None


def render(name: str, values: Mapping[str, Any], created_at: datetime) -> bytes:
    """The paper drawn from layout ``name`` and ``values``; ``created_at`` is the paper's own
    date (not "now"), so the same values give the same bytes."""
    from fpdf import FPDF

    spec = layout(name)
    pdf = FPDF(orientation=spec.get("orientation", "portrait"), format=FORMATS[spec.get("format", "A4")])
    pdf.set_creation_date(created_at)
    pdf.set_title(_fill(spec["title"], values))
    pdf.set_creator("MotCua")
    pdf.add_font(FONT, "", str(FONTS / "DejaVuSans.ttf"))
    pdf.add_font(FONT, "B", str(FONTS / "DejaVuSans-Bold.ttf"))
    pdf.set_margins(20, 15, 15)
    pdf.set_auto_page_break(True, margin=15)
    pdf.add_page()
    for block in spec["blocks"]:
        kind = block["type"]
        if kind not in BLOCKS:
            raise LayoutError(f"layout {name!r}: unknown block type {kind!r}")
        BLOCKS[kind](pdf, block, values)
    return bytes(pdf.output())


# --- blocks: each draws one part of the page ------------------------------------------------

def _lines(pdf: Any, x: float, width: float, lines: Sequence[Mapping[str, Any]], values: Mapping[str, Any]) -> float:
    """Centred lines in a column starting at ``x``; returns the y below them."""
    for line in lines:
        pdf.set_x(x)
        pdf.set_font(FONT, "B" if line.get("bold") else "", line.get("size", 10))
        pdf.multi_cell(width, LINE - 0.5, _fill(line["text"], values), align="C", new_x="LEFT", new_y="NEXT")
    y: float = pdf.get_y()
    return y


def _heading(pdf: Any, block: Mapping[str, Any], values: Mapping[str, Any]) -> None:
    """The agency (left) and the national motto with the place and date (right), as every
    administrative paper opens (Decree 30/2020/NĐ-CP on the form of administrative documents)."""
    if block.get("form"):
        pdf.set_font(FONT, "", 8)
        pdf.cell(0, 4, _fill(block["form"], values), align="R", new_x="LMARGIN", new_y="NEXT")
    top, left_width = pdf.get_y(), pdf.epw * 0.42
    below_left = _lines(pdf, pdf.l_margin, left_width, block["left"], values)
    pdf.set_y(top)
    below_right = _lines(pdf, pdf.l_margin + left_width, pdf.epw - left_width, block["right"], values)
    pdf.set_y(max(below_left, below_right) + 1)
    if block.get("dateline"):
        pdf.set_font(FONT, "", 10)
        pdf.set_x(pdf.l_margin + left_width)
        pdf.cell(pdf.epw - left_width, LINE, _fill(block["dateline"], values), align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)


def _title(pdf: Any, block: Mapping[str, Any], values: Mapping[str, Any]) -> None:
    pdf.set_font(FONT, "B", block.get("size", 13))
    pdf.multi_cell(0, 7, _fill(block["text"], values), align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, "", 10)
    for line in block.get("lines", ()):
        pdf.multi_cell(0, LINE, _fill(line, values), align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)


def _text(pdf: Any, block: Mapping[str, Any], values: Mapping[str, Any]) -> None:
    pdf.set_font(FONT, "B" if block.get("bold") else "", block.get("size", 10.5))
    pdf.set_x(pdf.l_margin + block.get("indent", 0))
    pdf.multi_cell(0, LINE, _fill(block["text"], values), align=block.get("align", "J"), new_x="LMARGIN", new_y="NEXT")


def _items(pdf: Any, block: Mapping[str, Any], values: Mapping[str, Any]) -> None:
    """One line per entry of the list ``source`` (``{n}`` numbers them), or ``empty``."""
    entries = _rows(values, block["source"])
    pdf.set_font(FONT, "", 10.5)
    if not entries and block.get("empty"):
        entries = [{"n": "", "empty": _fill(block["empty"], values)}]
        template = "{empty}"
    else:
        template = block["text"]
    for n, entry in enumerate(entries, 1):
        pdf.set_x(pdf.l_margin + block.get("indent", 6))
        pdf.multi_cell(0, LINE, _fill(template, {**values, "n": n, **entry}), new_x="LMARGIN", new_y="NEXT")


def _rows(values: Mapping[str, Any], source: str) -> list[Mapping[str, Any]]:
    rows = values.get(source)
    if not isinstance(rows, list):
        raise LayoutError(f"the paper has no list {source!r}")
    return rows


def _table(pdf: Any, block: Mapping[str, Any], values: Mapping[str, Any]) -> None:
    """A bordered table: a header row of column titles, one row per entry of ``source``."""
    columns = block["columns"]
    rows = _rows(values, block["source"])
    aligns = tuple(column.get("align", "LEFT") for column in columns)
    with pdf.table(col_widths=tuple(column["width"] for column in columns), text_align=aligns,
                   line_height=block.get("line_height", 4.5), first_row_as_headings=False) as table:
        pdf.set_font(FONT, "B", block.get("size", 8.5))
        table.row(tuple(column["title"] for column in columns))
        pdf.set_font(FONT, "", block.get("size", 8.5))
        for n, row in enumerate(rows, 1):
            table.row(tuple(_fill(column["value"], {**values, "n": n, **row}) for column in columns))
        if not rows and block.get("empty"):
            table.row((_fill(block["empty"], values), *("" for _ in columns[1:])))
    pdf.ln(3)


def _qr(pdf: Any, block: Mapping[str, Any], values: Mapping[str, Any]) -> None:
    """A QR code of ``value`` drawn as filled squares (vector, no image), with a caption."""
    import segno

    matrix = segno.make(_fill(block["value"], values), error="m").matrix
    module = block.get("module", 0.9)
    size = module * (len(matrix) + 8)       # four modules of quiet zone each side
    if pdf.get_y() + size + 10 > pdf.page_break_trigger:
        pdf.add_page()
    left, top = pdf.l_margin + block.get("indent", 0), pdf.get_y()
    pdf.set_fill_color(0, 0, 0)
    for r, row in enumerate(matrix):
        for c, dark in enumerate(row):
            if dark:
                pdf.rect(left + (c + 4) * module, top + (r + 4) * module, module, module, style="F")
    pdf.set_xy(left + size + 2, top + 4 * module)
    pdf.set_font(FONT, "", 9)
    pdf.multi_cell(pdf.epw - size - 2 - block.get("indent", 0), 4.5, _fill(block["caption"], values),
                   new_x="LMARGIN", new_y="NEXT")
    pdf.set_y(max(pdf.get_y(), top + size) + 2)


def _signatures(pdf: Any, block: Mapping[str, Any], values: Mapping[str, Any]) -> None:
    """Side-by-side signature columns: title, "(Ký và ghi rõ họ tên)", room to sign, the name."""
    columns = block["columns"]
    width = pdf.epw / len(columns)
    if pdf.get_y() + 40 > pdf.page_break_trigger:
        pdf.add_page()
    top = pdf.get_y() + 3
    for i, column in enumerate(columns):
        pdf.set_xy(pdf.l_margin + i * width, top)
        pdf.set_font(FONT, "B", 10)
        pdf.multi_cell(width, LINE, _fill(column["title"], values), align="C", new_x="LEFT", new_y="NEXT")
        pdf.set_font(FONT, "", 9)
        pdf.multi_cell(width, LINE, _fill(column.get("note", "(Ký và ghi rõ họ tên)"), values), align="C",
                       new_x="LEFT", new_y="NEXT")
        pdf.set_y(pdf.get_y() + 18)
        pdf.set_x(pdf.l_margin + i * width)
        pdf.set_font(FONT, "B", 10)
        pdf.multi_cell(width, LINE, _fill(column.get("name", ""), values), align="C", new_x="LEFT", new_y="NEXT")
    pdf.set_xy(pdf.l_margin, top + 40)


def _space(pdf: Any, block: Mapping[str, Any], values: Mapping[str, Any]) -> None:
    pdf.ln(block.get("height", 3))


BLOCKS = {"heading": _heading, "title": _title, "text": _text, "items": _items, "table": _table, "qr": _qr,
          "signatures": _signatures, "space": _space}
