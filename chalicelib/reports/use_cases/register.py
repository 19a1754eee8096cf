"""The dossier register (sổ theo dõi hồ sơ, form 07 of Circular 03/2025/TT-VPCP) of an agency for
a period, as PDF or XLSX.

Agency staff get their own agency's register; finance and admins any agency's, or every
agency's in one register when they name none (chalicelib.trust.rules.permissions
``report.register``). The lines come from the dossiers as recorded, and the PDF's date is the
latest change among them, so the same dossiers print the same register.
"""
from __future__ import annotations

from datetime import date

from chalicelib.catalogue.use_cases import procedures as catalogue
from chalicelib.dossiers.rules.papers import Paper
from chalicelib.dossiers.use_cases import papers as dossier_papers
from chalicelib.dossiers.use_cases import reads as dossier_reads
from chalicelib.reports.rules import register as register_rules
from chalicelib.reports.use_cases.reports import scope_agencies, unit_name
from chalicelib.kernel.errors import ValidationFailed
from chalicelib.trust.rules.identity import Identity

ACTION = "report.register"
# fpdf2 lays a register line out in about 20-50 ms (12 wrapped cells), and the API answers
# within API Gateway's 29 s: a longer register is asked for as XLSX or a shorter period.
MAX_PDF_LINES = 500


def register(identity: Identity, *, start: date, end: date, agency_id: str | None, fmt: str) -> bytes:
    """The register's bytes in ``fmt`` (``pdf`` or ``xlsx``)."""
    agencies = scope_agencies(identity, agency_id, ACTION)
    dossiers = [d for agency in agencies for d in dossier_reads.dossiers_received_between(agency, start, end)]
    known = catalogue.snapshot().agencies
    rows = register_rules.lines(dossiers, {a: agency.name for a, agency in known.items()})
    unit = unit_name(identity, agency_id)
    if fmt == "xlsx":
        return register_rules.to_xlsx(rows, unit, start, end)
    if len(rows) > MAX_PDF_LINES:
        raise ValidationFailed(
            f"Sổ có {len(rows)} hồ sơ, quá {MAX_PDF_LINES} hồ sơ để in PDF: chọn khoảng thời gian ngắn hơn hoặc định dạng xlsx.",
            code="register_too_large", fields={"to": f"Tối đa {MAX_PDF_LINES} hồ sơ mỗi sổ PDF."})
    issuer = agencies[0] if len(agencies) == 1 else None
    parent = known[issuer].parent_id if issuer and issuer in known else None
    parent_name = known[parent].name if parent and parent in known else ""
    values = {"issuer": unit.upper(), "issuer_parent": parent_name.upper(),
              "unit": unit, "period": register_rules.period_label(start, end), "rows": rows}
    return dossier_papers.draw(Paper("register", values, register_rules.last_change(dossiers, start)))
