"""Print a dossier's papers (Circular 03/2025/TT-VPCP forms) as PDF.

The owner gets their own papers; the agencies that took part in the dossier (the receiving
desk and the competent agency, and any agency that held a step) get all of them
(chalicelib.trust.rules.permissions ``dossier.form``). A paper names the applicant, so an
officer's print is an audited read like reading the dossier.

The PDF is drawn where the PDF library is: in AWS by the papers function the API invokes (the
API package cannot carry fpdf2), locally in this process, importing it only when a paper is
printed, so it stays out of the API's cold start and every other request.
"""
from __future__ import annotations

import re

from chalicelib.catalogue.use_cases import procedures as catalogue
from chalicelib.dossiers.rules import papers
from chalicelib.dossiers.rules.papers import Context, Paper
from chalicelib.dossiers.use_cases.intake import load_for
from chalicelib.kernel.errors import NotFound
from chalicelib.runtime.settings import settings
from chalicelib.trust.rules.identity import Identity



def context(tracking_url: str) -> Context:
    """Agency names, the place and the tracking link, as printed on the papers."""
    agencies = catalogue.snapshot().agencies
    return Context(agency_names={a: agency.name for a, agency in agencies.items()},
                   agency_parents={a: agency.parent_id for a, agency in agencies.items()},
                   place=place(), tracking_url=tracking_url)


def place() -> str:
    """The place printed before a paper's date: the setting, else the province's name as the
    catalogue's province agency spells it (``Ủy ban nhân dân tỉnh Quảng Ngãi`` → ``Quảng Ngãi``)."""
    configured = settings().papers_place
    if configured:
        return configured
    province = next((a for a in catalogue.snapshot().agencies.values() if a.level == "province"), None)
    if province is None:
        return ""
    return re.sub(r"^.*?\b(tỉnh|thành phố)\s+", "", province.name, flags=re.IGNORECASE)


def draw(paper: Paper) -> bytes:
    """The paper as PDF bytes: drawn by the papers function where one is set (AWS: the API
    package has no PDF library), else here, with paper_pdf imported only now (local stack, tests)."""
    function = settings().papers_function
    if function:
        from chalicelib.dossiers.adapters import papers as renderer
        return renderer.render(function, paper)
    import paper_pdf
    return paper_pdf.render(paper.layout, paper.values, paper.dated)


def print_form(code: str, form: str, identity: Identity) -> tuple[bytes, str]:
    """The PDF of the dossier's paper ``form`` and its file name."""
    from chalicelib.trust.use_cases import audit as audit_log
    if form not in papers.FORMS:
        raise NotFound("Không có mẫu giấy tờ này. Mẫu hợp lệ: " + ", ".join(papers.FORMS) + ".", code="form_not_found")
    dossier = load_for(code, identity, "dossier.form")
    paper = papers.paper(dossier, form, context(f"{settings().public_url}/track/{code}"))
    if dossier["owner_sub"] != identity.sub:
        audit_log.append_read(identity, "dossier.form", dossier_code=code, detail={"form": form})
    return draw(paper), f"{form}-{code}.pdf"
