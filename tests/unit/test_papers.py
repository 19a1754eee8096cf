"""The papers' rules (chalicelib.dossiers.rules.papers) and the one renderer (paper_pdf): every
layout draws with the values its paper provides, a business applicant is named as the
business, a dossier taken at another agency's desk is received by that desk, and the values
never depend on the clock."""
from __future__ import annotations

import copy
import io
import json
from typing import Any

import pytest
from pypdf import PdfReader

import paper_pdf
from chalicelib.dossiers.rules import papers
from chalicelib.dossiers.rules.papers import Context, FormNotApplicable
from chalicelib.reports.rules import register

DESK, COMPETENT, PROVINCE = "000.00.13.H50", "000.22.30.H50", "000.00.00.H50"
CONTEXT = Context(agency_names={DESK: "Sở Tư pháp tỉnh Quảng Ngãi", COMPETENT: "Ủy ban nhân dân phường Cẩm Thành",
                                PROVINCE: "Ủy ban nhân dân tỉnh Quảng Ngãi"},
                  agency_parents={DESK: PROVINCE, COMPETENT: PROVINCE, PROVINCE: None},
                  place="Quảng Ngãi", tracking_url="https://dichvucong.example/track/X")


def dossier(**over: Any) -> dict[str, Any]:
    """A dossier that went through every paper: supplement, extension, two steps, then stopped."""
    base = {
        "code": "000.22.30.H50-261201-0007", "status": "stopped", "channel": "direct", "owner_sub": "desk:officer-a",
        "procedure_code": "1.009994", "procedure_name": "Cấp giấy phép xây dựng nhà ở riêng lẻ", "agency_id": COMPETENT,
        "receiving_agency_id": DESK, "processing_days": 15, "summary": "Xây nhà 3 tầng",
        "applicant": {"full_name": "Nguyễn Văn An", "id_number": "051095001234", "phone": "0912345678",
                      "address": "12 Lê Lợi"},
        "attachments": [{"upload_id": "u1", "name": "Đơn đề nghị cấp phép.pdf"}],
        "submitted_at": "2026-12-01T08:10:00+07:00", "accepted_at": "2026-12-01T09:00:00+07:00",
        "due_at": "2026-12-25T17:00:00+07:00", "received_by": "officer-a", "agencies": [DESK, COMPETENT],
        "supplements": [{"requested_at": "2026-12-03T10:00:00+07:00", "requested_by": "officer-b", "reason": "Thiếu bản vẽ",
                         "documents": ["Bản vẽ mặt bằng"], "supplied_at": None, "supplied_by": None, "attachments": []}],
        "extensions": [{"at": "2026-12-10T15:00:00+07:00", "by": "leader-b", "reason": "Cần kiểm tra thực địa",
                        "old_due_at": "2026-12-22T17:00:00+07:00", "new_due_at": "2026-12-25T17:00:00+07:00",
                        "added_working_days": 3}],
        "step_history": [{"index": 1, "name": "Thẩm định", "unit": "Phòng Kinh tế", "agency_id": COMPETENT,
                          "assignee": "officer-b", "entered_by": "officer-a", "started_at": "2026-12-01T09:00:00+07:00",
                          "ended_at": "2026-12-04T16:00:00+07:00", "due_at": "2026-12-11T17:00:00+07:00",
                          "working_days": 3, "seconds": 1, "timeliness": "early"}],
        "step": {"index": 2, "name": "Phê duyệt", "unit": "Lãnh đạo", "role": "leader", "days": 2, "agency_id": COMPETENT,
                 "assignee": "leader-b", "started_at": "2026-12-04T16:00:00+07:00", "entered_by": "officer-b",
                 "note": None, "due_at": "2026-12-15T17:00:00+07:00"},
        "decisions": [
            {"action": "submit", "at": "2026-12-01T08:10:00+07:00", "by": "officer-a"},
            {"action": "accept", "at": "2026-12-01T09:00:00+07:00", "by": "officer-a", "due_at": "2026-12-22T17:00:00+07:00"},
            {"action": "stop", "at": "2026-12-12T11:00:00+07:00", "by": "leader-b", "reason": "Người nộp đề nghị dừng"},
        ],
    }
    return {**base, **over}


def text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


@pytest.mark.parametrize("form", ["receipt", "supplement_request", "apology", "stop_notice", "control_sheet"])
def test_every_layout_draws_with_the_values_its_paper_provides(form: str) -> None:
    paper = papers.paper(dossier(), form, CONTEXT)
    drawn = text(paper_pdf.render(paper.layout, paper.values, paper.dated))
    assert "000.22.30.H50-261201-0007" in drawn and "Nguyễn Văn An" in drawn and "Quảng Ngãi, ngày" in drawn


def test_the_refusal_draws_for_a_refused_dossier() -> None:
    refused = dossier(status="refused", accepted_at=None, decisions=[
        {"action": "refuse", "at": "2026-12-01T09:30:00+07:00", "by": "officer-a", "reason": "Sai thẩm quyền"}])
    paper = papers.paper(refused, "refusal", CONTEXT)
    assert "Sai thẩm quyền" in text(paper_pdf.render(paper.layout, paper.values, paper.dated))
    with pytest.raises(FormNotApplicable):
        papers.paper(refused, "receipt", CONTEXT)


def test_the_receipt_is_issued_by_the_receiving_desk_and_names_the_competent_agency() -> None:
    values = papers.paper(dossier(), "receipt", CONTEXT).values
    assert values["issuer"] == "SỞ TƯ PHÁP TỈNH QUẢNG NGÃI" and values["issuer_parent"] == "ỦY BAN NHÂN DÂN TỈNH QUẢNG NGÃI"
    assert values["competent_agency"] == "Ủy ban nhân dân phường Cẩm Thành"
    assert values["due_when"] == "17 giờ 00 phút, ngày 22/12/2026"     # the appointment made at acceptance
    assert values["paper_date"] == "ngày 01 tháng 12 năm 2026"


def test_a_dossier_without_a_receiving_desk_is_received_by_its_competent_agency() -> None:
    old = dossier()
    del old["receiving_agency_id"]
    assert papers.paper(old, "receipt", CONTEXT).values["issuer"] == "ỦY BAN NHÂN DÂN PHƯỜNG CẨM THÀNH"


def test_a_business_applicant_is_named_as_the_business_with_its_tax_code() -> None:
    business = dossier(applicant={"type": "business", "organization_name": "Công ty TNHH Ánh Dương",
                                  "tax_code": "4300123456", "legal_representative": "Lê Văn Bảo",
                                  "email": "info@anhduong.example"})
    values = papers.paper(business, "receipt", CONTEXT).values
    assert (values["applicant_name"], values["applicant_id"]) == ("Công ty TNHH Ánh Dương", "4300123456")
    assert values["applicant_id_label"].startswith("Mã số thuế")


def test_the_control_sheet_has_the_held_steps_and_the_open_one() -> None:
    rows = papers.paper(dossier(), "control_sheet", CONTEXT).values["steps"]
    assert [(r["name"], r["holder"], r["result"]) for r in rows] == [
        ("Thẩm định", "officer-b", "Trước hạn"), ("Phê duyệt", "leader-b", "Đang xử lý")]
    assert rows[0]["to"] == "16 giờ 00 phút, ngày 04/12/2026"
    assert papers.paper(dossier(), "control_sheet", CONTEXT).values["outcome"] == "Kết thúc, không có kết quả (dừng giải quyết)."


def test_a_paper_is_the_same_whenever_it_is_drawn(time_machine: Any) -> None:
    paper = papers.paper(dossier(), "control_sheet", CONTEXT)
    first = paper_pdf.render(paper.layout, paper.values, paper.dated)
    time_machine.move_to("2031-06-01T00:00:00+07:00")
    again = papers.paper(copy.deepcopy(dossier()), "control_sheet", CONTEXT)
    assert again == paper and paper_pdf.render(again.layout, again.values, again.dated) == first


@pytest.mark.parametrize(("form", "missing"), [("apology", "extensions"), ("supplement_request", "supplements")])
def test_no_letter_without_the_act_it_answers(form: str, missing: str) -> None:
    with pytest.raises(FormNotApplicable) as raised:
        papers.paper(dossier(**{missing: []}), form, CONTEXT)
    assert raised.value.code == "form_not_applicable"


def test_a_layout_naming_a_value_the_paper_lacks_fails_loudly() -> None:
    paper = papers.paper(dossier(), "receipt", CONTEXT)
    with pytest.raises(paper_pdf.LayoutError, match="tracking_url"):
        paper_pdf.render("receipt", {k: v for k, v in paper.values.items() if k != "tracking_url"}, paper.dated)


def test_every_layout_file_is_json_with_known_blocks() -> None:
    for path in paper_pdf.LAYOUTS.glob("*.json"):
        spec = json.loads(path.read_text(encoding="utf-8"))
        assert {block["type"] for block in spec["blocks"]} <= set(paper_pdf.BLOCKS), path.name


def test_the_register_line_follows_the_dossier() -> None:
    line = register.line(dossier(status="returned", finished_at="2026-12-20T10:00:00+07:00",
                                 returned_at="2026-12-21T10:00:00+07:00"), CONTEXT.agency_names)
    assert line["received"] == "01/12/2026" and line["due"] == "25/12/2026" and line["returned"] == "21/12/2026"
    assert line["note"] == "Đã trả kết quả (trước hạn); gia hạn 1 lần"
    assert line["competent"] == "Ủy ban nhân dân phường Cẩm Thành" and line["contact"] == "12 Lê Lợi, 0912345678"
