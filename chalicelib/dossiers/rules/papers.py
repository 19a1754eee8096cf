"""What each paper of Circular 03/2025/TT-VPCP says about a dossier: pure, from the dossier as
recorded.

Circular 03/2025/TT-VPCP (15 September 2025, guiding Decree 118/2025/NĐ-CP), Annex I, sets the
forms a one-stop desk hands out: 01 receipt and appointment slip, 02 request to supplement or
complete the dossier, 03 refusal of intake, 04 apology and request to extend the handling time,
05 notice of stopping, 06 processing control sheet, 07 dossier register (docs/forms.md). This
module decides whether a dossier has a paper yet and fills the values its layout names
(paper_pdf/layouts/<form>.json); paper_pdf draws them. Every value and the paper's date come
from what the dossier recorded (its decisions, steps, supplements, extensions), never from the
clock, so a reprint is the same paper.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from chalicelib.dossiers.rules.records import DecisionEntry, Dossier
from chalicelib.kernel.errors import Conflict
from chalicelib.kernel.working_days import classify, parse_iso, to_local

TIMELINESS = {"early": "Trước hạn", "on_time": "Đúng hạn", "late": "Quá hạn"}
DELIVERY = {"desk": "Bộ phận Một cửa", "post": "Dịch vụ bưu chính công ích (gửi về địa chỉ người nộp)"}
CHANNELS = {"online": "trực tuyến", "direct": "trực tiếp", "postal": "qua bưu chính"}
DESK_UNIT = "BỘ PHẬN MỘT CỬA"


@dataclass(frozen=True)
class Paper:
    """A paper ready to draw: its layout, its values and its own date (the PDF's creation date)."""
    layout: str
    values: dict[str, Any]
    dated: datetime


@dataclass(frozen=True)
class Context:
    """What the paper needs beyond the dossier: agency names and parents, the place printed
    before the date, and the public tracking link."""
    agency_names: Mapping[str, str]
    agency_parents: Mapping[str, str | None]
    place: str
    tracking_url: str

    def name(self, agency_id: str | None) -> str:
        return self.agency_names.get(agency_id or "", agency_id or "")

    def parent(self, agency_id: str) -> str:
        parent = self.agency_parents.get(agency_id)
        return self.name(parent) if parent else ""


class FormNotApplicable(Conflict):
    """The dossier has no such paper (yet): an apology before any extension, a refusal of an
    accepted dossier."""

    def __init__(self, form: str, why: str) -> None:
        super().__init__(f"Hồ sơ chưa có {why}.", code="form_not_applicable", extra={"form": form})


# --- formatting ----------------------------------------------------------------------------

def paper_date(text: str) -> str:
    """``ngày 05 tháng 12 năm 2026``, the way an administrative paper dates itself."""
    moment = to_local(parse_iso(text))
    return f"ngày {moment:%d} tháng {moment:%m} năm {moment:%Y}"


def when(text: str | None) -> str:
    """``08 giờ 30 phút, ngày 05/12/2026``; blank when not recorded."""
    if not text:
        return ""
    moment = to_local(parse_iso(text))
    return f"{moment:%H} giờ {moment:%M} phút, ngày {moment:%d/%m/%Y}"


def day(text: str | None) -> str:
    return f"{to_local(parse_iso(text)):%d/%m/%Y}" if text else ""


# --- values every paper shares -----------------------------------------------------------

def applicant_values(dossier: Mapping[str, Any]) -> dict[str, str]:
    """Who applied, for a citizen or an organisation (the applicant kinds of Decree 118/2025)."""
    applicant = dossier.get("applicant") or {}
    organisation = applicant.get("type", "citizen") not in ("citizen", None)
    name = applicant.get("organization_name") if organisation else None
    tax_code = applicant.get("tax_code")
    return {
        "applicant_name": name or applicant.get("full_name", ""),
        "applicant_id_label": "Mã số thuế / mã số doanh nghiệp" if tax_code else "Số định danh cá nhân",
        "applicant_id": tax_code or applicant.get("id_number", ""),
        "applicant_address": applicant.get("address", "") or "",
        "applicant_phone": applicant.get("phone", "") or "",
        "applicant_email": applicant.get("email", "") or "",
    }


def receiving_agency(dossier: Mapping[str, Any]) -> str:
    """The desk that took the dossier (Decree 118/2025: any desk of the province), or the competent agency."""
    return str(dossier.get("receiving_agency_id") or dossier["agency_id"])


def _common(dossier: Dossier, context: Context, issuer: str, unit: str, dated: str) -> dict[str, Any]:
    receiving = receiving_agency(dossier)
    return {
        "dossier_code": dossier["code"],
        "issuer": context.name(issuer).upper(),
        "issuer_parent": context.parent(issuer).upper(),
        "issuer_unit": unit,
        "place": context.place,
        "paper_date": paper_date(dated),
        "procedure_name": dossier.get("procedure_name", ""),
        "procedure_code": dossier["procedure_code"],
        "summary": dossier.get("summary", ""),
        "receiving_unit": f"Bộ phận Một cửa – {context.name(receiving)}",
        "competent_agency": context.name(dossier["agency_id"]),
        "submitted_date": day(dossier["submitted_at"]),
        "received_date": day(dossier.get("accepted_at") or dossier["submitted_at"]),
        "received_when": when(dossier.get("accepted_at") or dossier["submitted_at"]),
        "due_when": when(_appointed_due(dossier)),
        **applicant_values(dossier),
    }


def _last(dossier: Mapping[str, Any], action: str) -> DecisionEntry | None:
    return next((d for d in reversed(dossier.get("decisions") or []) if d.get("action") == action), None)


def _appointed_due(dossier: Mapping[str, Any]) -> str | None:
    """The appointment given at intake: the due date the acceptance recorded (a later
    extension or pause moves ``due_at``, not the appointment on the slip)."""
    accepted = _last(dossier, "accept")
    return (accepted or {}).get("due_at") or dossier.get("due_at")


# --- one function per paper: is there one, and what it says ---------------------------------

def receipt(dossier: Dossier, context: Context) -> Paper:
    """Form 01, handed out when the dossier is received (accepted)."""
    accepted_at = dossier.get("accepted_at")
    if not accepted_at:
        raise FormNotApplicable("receipt", "giấy tiếp nhận: hồ sơ chưa được tiếp nhận")
    accepted = _last(dossier, "accept") or {}
    receiving = receiving_agency(dossier)
    values = {
        **_common(dossier, context, receiving, DESK_UNIT, accepted_at),
        "documents": [{"name": ref["name"]} for ref in dossier.get("attachments") or []],
        "processing_days": dossier["processing_days"],
        "result_delivery": DELIVERY.get(str(dossier.get("result_delivery") or "desk"), DELIVERY["desk"]),
        "tracking_url": context.tracking_url,
        "officer": dossier.get("received_by") or accepted.get("by", ""),
    }
    return Paper("receipt", values, parse_iso(accepted_at))


def supplement_request(dossier: Dossier, context: Context) -> Paper:
    """Form 02, for the latest request to supplement."""
    requests = dossier.get("supplements") or []
    if not requests:
        raise FormNotApplicable("supplement_request", "yêu cầu bổ sung, hoàn thiện hồ sơ")
    latest = requests[-1]
    values = {
        **_common(dossier, context, receiving_agency(dossier), DESK_UNIT, latest["requested_at"]),
        "documents": [{"name": name} for name in latest.get("documents") or []],
        "reason": latest["reason"],
        "requested_when": when(latest["requested_at"]),
        "officer": latest["requested_by"],
    }
    return Paper("supplement_request", values, parse_iso(latest["requested_at"]))


def _decided(dossier: Dossier, context: Context, form: str, action: str, why: str, issuer: str,
             unit: str) -> Paper:
    decision = _last(dossier, action)
    if decision is None:
        raise FormNotApplicable(form, why)
    values = {
        **_common(dossier, context, issuer, unit, decision["at"]),
        "reason": decision.get("reason", ""),
        "decided_when": when(decision["at"]),
        "officer": decision.get("by", ""),
    }
    return Paper(form, values, parse_iso(decision["at"]))


def refusal(dossier: Dossier, context: Context) -> Paper:
    """Form 03, when the desk refused to take the dossier."""
    return _decided(dossier, context, "refusal", "refuse", "phiếu từ chối: hồ sơ không bị từ chối tiếp nhận",
                    receiving_agency(dossier), DESK_UNIT)


def stop_notice(dossier: Dossier, context: Context) -> Paper:
    """Form 05, when the agency stopped handling the dossier."""
    return _decided(dossier, context, "stop_notice", "stop", "thông báo dừng: hồ sơ không bị dừng giải quyết",
                    dossier["agency_id"], "")


def apology(dossier: Dossier, context: Context) -> Paper:
    """Form 04, for the latest extension (each extension produces its letter)."""
    extensions = dossier.get("extensions") or []
    if not extensions:
        raise FormNotApplicable("apology", "văn bản xin lỗi: hồ sơ chưa được gia hạn")
    latest = extensions[-1]
    values = {
        **_common(dossier, context, dossier["agency_id"], "", latest["at"]),
        "reason": latest["reason"],
        "old_due_when": when(latest.get("old_due_at")),
        "new_due_when": when(latest.get("new_due_at")),
        "added_working_days": latest.get("added_working_days", 0),
        "officer": latest["by"],
    }
    return Paper("apology", values, parse_iso(latest["at"]))


def _step_row(step: Mapping[str, Any], context: Context, *, held: bool) -> dict[str, str]:
    result = TIMELINESS.get(str(step.get("timeliness")), "") if held else "Đang xử lý"
    return {
        "unit": f"{context.name(step.get('agency_id'))} / {step.get('unit', '')}",
        "name": str(step.get("name", "")),
        "holder": str(step.get("assignee") or step.get("entered_by") or ""),
        "from": when(step.get("started_at")),
        "to": when(step.get("ended_at")) if held else "",
        "due": when(step.get("due_at")),
        "result": result,
        "note": f"{step.get('working_days', 0)} ngày làm việc" if held else "",
    }


ENDED_WITHOUT_RESULT = {"refused": "từ chối tiếp nhận", "withdrawn": "người nộp rút hồ sơ",
                        "stopped": "dừng giải quyết"}


def _outcome(dossier: Mapping[str, Any]) -> str:
    finished, due = dossier.get("finished_at"), dossier.get("due_at")
    if not finished:
        ended = ENDED_WITHOUT_RESULT.get(str(dossier.get("status")))
        return f"Kết thúc, không có kết quả ({ended})." if ended else "Đang giải quyết."
    label = TIMELINESS[classify(parse_iso(finished), parse_iso(due))] if due else ""
    return f"Có kết quả lúc {when(finished)}" + (f" – {label.lower()}." if label else ".")


def control_sheet(dossier: Dossier, context: Context) -> Paper:
    """Form 06: who held each step, from when to when, early / on time / late."""
    accepted_at = dossier.get("accepted_at")
    if not accepted_at:
        raise FormNotApplicable("control_sheet", "phiếu kiểm soát: hồ sơ chưa được tiếp nhận")
    history = dossier.get("step_history") or []
    current = dossier.get("step")
    rows = [_step_row(step, context, held=True) for step in history]
    if current:
        rows.append(_step_row(current, context, held=False))
    others = [a for a in dossier.get("agencies") or [] if a != dossier["agency_id"]]
    dated = max([accepted_at, *(d["at"] for d in dossier.get("decisions") or [])], key=lambda t: parse_iso(t))
    values = {
        **_common(dossier, context, dossier["agency_id"], "", dated),
        "cooperating": ", ".join(context.name(a) for a in others) or "Không có",
        "steps": rows,
        "outcome": _outcome(dossier),
    }
    return Paper("control_sheet", values, parse_iso(dated))


PAPERS = {"receipt": receipt, "supplement_request": supplement_request, "refusal": refusal, "apology": apology,
          "stop_notice": stop_notice, "control_sheet": control_sheet}
FORMS: tuple[str, ...] = tuple(PAPERS)


def paper(dossier: Dossier, form: str, context: Context) -> Paper:
    """The paper ``form`` of the dossier, or FormNotApplicable when it has none yet."""
    return PAPERS[form](dossier, context)
