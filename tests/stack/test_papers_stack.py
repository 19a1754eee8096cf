"""The papers over HTTP from the local stack (`make run`): a receipt and a control sheet come
back as PDF to a plain download (curl's ``Accept: */*``), the register as PDF and XLSX."""
from __future__ import annotations

import io
from collections.abc import Iterator

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader

from chalicelib.kernel.working_days import parse_iso, to_local
from tests.stack.test_local_stack import Stack
from tests.stack.test_workflow_stack import COMMUNE, submit

pytestmark = pytest.mark.stack


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    running = Stack()
    yield running
    assert running.stop() == 0, running.tail()


def test_every_paper_of_an_accepted_dossier_downloads_from_the_stack(stack: Stack) -> None:
    citizen = stack.token("citizen", sub="stack-papers")
    officer = stack.token("officer", COMMUNE, sub="stack-officer")
    code = submit(stack, citizen)
    accepted = stack.call("POST", f"/dossiers/{code}/accept", officer)
    assert accepted.status_code == 200, accepted.text
    for form, token in (("receipt", citizen), ("control_sheet", officer)):
        paper = stack.call("GET", f"/dossiers/{code}/forms/{form}", token, headers={"Accept": "*/*"})
        assert paper.status_code == 200 and paper.headers["Content-Type"] == "application/pdf", paper.text
        text = PdfReader(io.BytesIO(paper.content)).pages[0].extract_text()
        assert code in text and "Trần Thị Bình" in text
    day = to_local(parse_iso(accepted.json()["accepted_at"])).date().isoformat()
    pdf, xlsx = (stack.call("GET", f"/reports/register?from={day}&to={day}&format={fmt}", officer, headers={"Accept": "*/*"})
                 for fmt in ("pdf", "xlsx"))
    assert pdf.status_code == 200 and xlsx.status_code == 200, (pdf.text, xlsx.text)
    assert code in PdfReader(io.BytesIO(pdf.content)).pages[0].extract_text().replace("\n", "")
    assert code in [row[1].value for row in load_workbook(io.BytesIO(xlsx.content)).active.iter_rows(min_row=6)]
