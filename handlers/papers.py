"""Papers: draw one Circular 03/2025 paper and answer its PDF, for the API that waits for it.

Invoked synchronously by the API (chalicelib.dossiers.adapters.papers) with the paper's layout,
values and date as recorded; it touches no data. It runs from the PDF bundle (resources
``PAPERS_RENDERER``), the only package with fpdf2, which is too big for the API's
(docs/forms.md). The PDF comes back base64-encoded in the JSON answer.
"""
from __future__ import annotations

import base64
from typing import Any

from chalicelib.kernel.working_days import parse_iso
from paper_pdf import render


def handler(event: dict[str, Any], context: Any) -> dict[str, str]:
    pdf = render(event["layout"], event["values"], parse_iso(event["dated"]))
    return {"pdf": base64.b64encode(pdf).decode("ascii")}
