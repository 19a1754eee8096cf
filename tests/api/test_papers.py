"""The Circular 03/2025/TT-VPCP papers through the API: each one downloads as a PDF whose text
names the dossier, the applicant and the dates, a reprint is byte-identical, a paper the
dossier does not have yet is 409 form_not_applicable, and only the owner and the agencies of
the dossier get them."""
from __future__ import annotations

import io

import pytest
from pypdf import PdfReader

from chalicelib.kernel.working_days import default_calendar, parse_iso, to_local
from tests.api.test_intake import submission, submit
from tests.api.test_workflow import COMMUNE, DEPARTMENT, act, new_accepted, officer

APPLICANT = "Nguyễn Văn An"


def text_of(response) -> str:
    assert response.status_code == 200, response.json
    assert response.headers["Content-Type"] == "application/pdf"
    reader = PdfReader(io.BytesIO(response.body))
    return "\n".join(page.extract_text() for page in reader.pages)


def form(api, code, name, token):
    return api.call("GET", f"/dossiers/{code}/forms/{name}", token=token, headers={"Accept": "application/pdf"})


def long_date(text: str) -> str:
    moment = to_local(parse_iso(text))
    return f"ngày {moment:%d} tháng {moment:%m} năm {moment:%Y}"


def short_date(text: str) -> str:
    return f"{to_local(parse_iso(text)):%d/%m/%Y}"


def test_the_receipt_names_the_dossier_the_applicant_the_dates_and_carries_the_tracking_link(api):
    code, citizen, accepted = new_accepted(api)
    text = text_of(form(api, code, "receipt", citizen))
    assert "GIẤY TIẾP NHẬN HỒ SƠ VÀ HẸN TRẢ KẾT QUẢ" in text and "Mẫu số 01" in text
    assert code in text and APPLICANT in text
    assert long_date(accepted["accepted_at"]) in text
    assert short_date(accepted["accepted_at"]) in text and short_date(accepted["due_at"]) in text
    assert f"/track/{code}" in text.replace("\n", "")
    assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in text and "Độc lập - Tự do - Hạnh phúc" in text


def test_a_reprint_is_byte_identical(api):
    code, citizen, _ = new_accepted(api)
    first, second = form(api, code, "receipt", citizen), form(api, code, "receipt", citizen)
    assert first.status_code == 200 and first.body == second.body
    sheet = officer(api)
    assert form(api, code, "control_sheet", sheet).body == form(api, code, "control_sheet", sheet).body


def test_the_supplement_request_lists_what_is_asked_and_why(api):
    code, citizen, _ = new_accepted(api)
    paused = act(api, code, officer(api), "request_supplement", reason="Thiếu bản vẽ mặt bằng",
                 documents=["Bản vẽ mặt bằng công trình"])
    assert paused.status_code == 200, paused.json
    text = text_of(form(api, code, "supplement_request", citizen))
    assert "PHIẾU YÊU CẦU BỔ SUNG, HOÀN THIỆN HỒ SƠ" in text and code in text and APPLICANT in text
    assert "Bản vẽ mặt bằng công trình" in text and "Thiếu bản vẽ mặt bằng" in text
    assert long_date(paused.json["supplements"][-1]["requested_at"]) in text


def test_the_refusal_gives_the_reason(api):
    citizen = api.token("citizen", sub="citizen-refused")
    code = submit(api, submission("1.009994"), citizen, key="refused-0001").json["dossier_code"]
    refused = api.call("POST", f"/dossiers/{code}/refuse", token=officer(api), body={"reason": "Hồ sơ không đúng thẩm quyền"})
    assert refused.status_code == 200, refused.json
    text = text_of(form(api, code, "refusal", citizen))
    assert "PHIẾU TỪ CHỐI TIẾP NHẬN GIẢI QUYẾT HỒ SƠ" in text and code in text and APPLICANT in text
    assert "Hồ sơ không đúng thẩm quyền" in text
    assert long_date(store_decision(code, "refuse")["at"]) in text


def store_decision(code, action):
    from chalicelib.dossiers.store import dossiers as store
    return next(d for d in reversed(store.get_dossier(code)["decisions"]) if d["action"] == action)


def test_the_apology_gives_the_old_and_the_new_appointment(api):
    code, citizen, accepted = new_accepted(api)
    due = to_local(parse_iso(accepted["due_at"])).date()
    new_due = default_calendar().add_working_days(due, 3)
    extended = act(api, code, officer(api), "extend", reason="Cần kiểm tra thực địa", new_due_date=new_due.isoformat())
    assert extended.status_code == 200, extended.json
    text = text_of(form(api, code, "apology", citizen))
    assert "VĂN BẢN XIN LỖI VÀ ĐỀ NGHỊ GIA HẠN THỜI GIAN GIẢI QUYẾT" in text and code in text and APPLICANT in text
    assert "Cần kiểm tra thực địa" in text
    assert short_date(accepted["due_at"]) in text and new_due.strftime("%d/%m/%Y") in text


def test_the_stop_notice_gives_the_reason(api):
    code, citizen, _ = new_accepted(api)
    stopped = act(api, code, officer(api), "stop", reason="Người nộp đề nghị dừng giải quyết")
    assert stopped.status_code == 200, stopped.json
    text = text_of(form(api, code, "stop_notice", citizen))
    assert "THÔNG BÁO DỪNG GIẢI QUYẾT HỒ SƠ" in text and code in text and APPLICANT in text
    assert "Người nộp đề nghị dừng giải quyết" in text


def test_the_control_sheet_shows_who_held_each_step_and_how_timely(api):
    code, _, accepted = new_accepted(api)
    forwarded = api.call("POST", f"/dossiers/{code}/forward", token=officer(api),
                         body={"to_step": 2, "assignee": "officer-sxd"})
    assert forwarded.status_code == 200, forwarded.json
    text = text_of(form(api, code, "control_sheet", officer(api, DEPARTMENT, "officer-sxd")))
    assert "PHIẾU KIỂM SOÁT QUÁ TRÌNH GIẢI QUYẾT HỒ SƠ" in text and code in text and APPLICANT in text
    assert "Trước hạn" in text and "Đang xử lý" in text and "officer-sxd" in text
    assert short_date(accepted["accepted_at"]) in text


@pytest.mark.parametrize("name", ["apology", "refusal", "stop_notice", "supplement_request"])
def test_a_paper_the_dossier_does_not_have_yet_is_not_applicable(api, name):
    code, citizen, _ = new_accepted(api)
    answer = form(api, code, name, citizen)
    assert answer.status_code == 409 and answer.json["error"]["code"] == "form_not_applicable", answer.json
    assert answer.json["error"]["message"].startswith("Hồ sơ chưa có")


def test_no_receipt_before_the_dossier_is_received(api):
    citizen = api.token("citizen", sub="citizen-early")
    code = submit(api, submission("1.009994"), citizen, key="early-0001").json["dossier_code"]
    assert form(api, code, "receipt", citizen).json["error"]["code"] == "form_not_applicable"


def test_an_unknown_form_is_not_found(api):
    code, citizen, _ = new_accepted(api)
    answer = form(api, code, "invoice", citizen)
    assert answer.status_code == 404 and answer.json["error"]["code"] == "form_not_found"


def test_the_owner_and_the_agencies_of_the_dossier_get_its_papers_and_nobody_else(api):
    code, citizen, _ = new_accepted(api)
    assert form(api, code, "receipt", citizen).status_code == 200
    assert form(api, code, "receipt", officer(api, COMMUNE)).status_code == 200
    stranger = api.token("citizen", sub="citizen-other")
    assert form(api, code, "receipt", stranger).json["error"]["code"] == "dossier_not_found"
    assert form(api, code, "receipt", officer(api, DEPARTMENT, "officer-sxd")).status_code == 404   # not involved yet
    assert form(api, code, "receipt", api.token("finance", sub="finance-1")).status_code == 403
    assert api.call("POST", f"/dossiers/{code}/forward", token=officer(api), body={"to_step": 2}).status_code == 200
    assert form(api, code, "receipt", officer(api, DEPARTMENT, "officer-sxd")).status_code == 200


def test_an_officers_print_is_an_audited_read(api):
    from chalicelib.trust.store import audit as audit_store
    code, citizen, _ = new_accepted(api)
    form(api, code, "receipt", citizen)
    form(api, code, "control_sheet", officer(api))
    records = audit_store.records_of_dossier(code, limit=100, cursor=None).items
    reads = [r for r in records if r.get("action") == "dossier.form"]
    assert [(r["detail"]["form"], r["actor"]["sub"]) for r in reads] == [("control_sheet", "officer-commune")]


# --- the dossier register (form 07) -----------------------------------------------------------

def register(api, token, fmt="pdf", **params):
    query = "&".join(f"{k}={v}" for k, v in {"format": fmt, **params}.items())
    return api.call("GET", f"/reports/register?{query}", token=token, headers={"Accept": "*/*"})


def received_day(code):
    from chalicelib.dossiers.store import dossiers as store
    return to_local(parse_iso(store.get_dossier(code)["submitted_at"])).date()


def test_the_register_lists_the_agencys_dossiers_of_the_period_as_pdf_and_xlsx(api):
    from openpyxl import load_workbook
    code, _, accepted = new_accepted(api)
    other = api.token("citizen", sub="citizen-binh")
    refused = submit(api, submission("1.009994", applicant={"full_name": "Trần Thị Bình", "id_number": "051095009999",
                                                            "phone": "0987654321"}), other, key="binh-0001").json["dossier_code"]
    assert api.call("POST", f"/dossiers/{refused}/refuse", token=officer(api), body={"reason": "Sai thẩm quyền"}).status_code == 200
    today = received_day(code).isoformat()

    pdf = register(api, officer(api), "pdf", **{"from": today, "to": today})
    text = text_of(pdf).replace("\n", " ")
    assert "SỔ THEO DÕI HỒ SƠ" in text and "Mẫu số 07" in text
    assert code in text.replace(" ", "") and refused in text.replace(" ", "")
    assert APPLICANT in text and "Trần Thị Bình" in text and "Từ chối tiếp nhận" in text
    assert short_date(accepted["due_at"]) in text
    assert register(api, officer(api), "pdf", **{"from": today, "to": today}).body == pdf.body   # reprint identical

    xlsx = register(api, officer(api), "xlsx", **{"from": today, "to": today})
    assert xlsx.status_code == 200 and xlsx.headers["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(io.BytesIO(xlsx.body)).active
    rows = [[cell.value for cell in row] for row in sheet.iter_rows(min_row=5)]
    assert rows[0][:3] == ["STT", "Mã hồ sơ", "Tên thủ tục hành chính"]
    assert [(r[0], r[1], r[4]) for r in rows[1:]] == [(1, code, APPLICANT), (2, refused, "Trần Thị Bình")]
    assert rows[1][8] == short_date(accepted["due_at"]) and rows[2][11] == "Từ chối tiếp nhận"


def register_codes(response) -> list[str]:
    from openpyxl import load_workbook
    assert response.status_code == 200, response.json
    return [row[1].value for row in load_workbook(io.BytesIO(response.body)).active.iter_rows(min_row=6)]


def test_the_register_holds_only_the_period_and_the_agency_asked_for(api):
    from datetime import timedelta
    code, _, _ = new_accepted(api)
    day = received_day(code)
    admin = api.token("admin")
    assert register_codes(register(api, admin, "xlsx", **{"from": day, "to": day, "agency_id": COMMUNE})) == [code]
    yesterday = day - timedelta(days=1)
    assert register_codes(register(api, admin, "xlsx", **{"from": yesterday, "to": yesterday, "agency_id": COMMUNE})) == []
    assert register_codes(register(api, admin, "xlsx", **{"from": day, "to": day, "agency_id": DEPARTMENT})) == []


def test_the_register_is_for_agency_staff_of_their_own_agency(api):
    today = "2026-01-05"
    answer = register(api, officer(api, DEPARTMENT, "officer-sxd"), **{"from": today, "to": today, "agency_id": COMMUNE})
    assert answer.status_code == 403 and answer.json["error"]["code"] == "agency_out_of_scope"
    assert register(api, api.token("citizen", sub="citizen-an"), **{"from": today, "to": today}).status_code == 403
    bad = register(api, officer(api), "docx", **{"from": today, "to": today})
    assert bad.status_code == 422 and "format" in bad.json["error"]["fields"]


# --- in AWS: the papers function draws them (the API package has no PDF library) -------------

class FakeLambda:
    """Lambda's Invoke for the papers function, run in-process (moto would need Docker)."""

    def __init__(self, fail: bool = False) -> None:
        self.calls: list[str] = []
        self.fail = fail

    def invoke(self, FunctionName: str, Payload: bytes) -> dict:
        import json

        from handlers import papers as papers_function
        self.calls.append(FunctionName)
        if self.fail:
            answer = {"errorMessage": "boom", "errorType": "RuntimeError"}
            return {"StatusCode": 200, "FunctionError": "Unhandled", "Payload": io.BytesIO(json.dumps(answer).encode())}
        answer = papers_function.handler(json.loads(Payload), None)
        return {"StatusCode": 200, "Payload": io.BytesIO(json.dumps(answer).encode())}


@pytest.fixture
def papers_function(monkeypatch):
    from chalicelib.runtime import aws
    from chalicelib.runtime.settings import settings
    fake = FakeLambda()
    real = aws.client
    monkeypatch.setenv("MOTCUA_PAPERS_FUNCTION", "motcua-prod-papers")
    monkeypatch.setattr(aws, "client", lambda service: fake if service == "lambda" else real(service))
    settings.cache_clear()
    yield fake
    monkeypatch.undo()
    settings.cache_clear()


def test_with_a_papers_function_the_api_has_it_draw_the_same_pdf(api, papers_function):
    code, citizen, _ = new_accepted(api)
    remote = form(api, code, "receipt", citizen)
    assert remote.status_code == 200 and papers_function.calls == ["motcua-prod-papers"]
    import paper_pdf
    from chalicelib.dossiers.use_cases import papers as use_case
    from chalicelib.dossiers.store import dossiers as store
    from chalicelib.runtime.settings import settings
    paper = use_case.papers.paper(store.get_dossier(code), "receipt", use_case.context(f"{settings().public_url}/track/{code}"))
    assert remote.body == paper_pdf.render(paper.layout, paper.values, paper.dated)


def test_a_failing_papers_function_is_a_retryable_503(api, papers_function):
    code, citizen, _ = new_accepted(api)
    papers_function.fail = True
    answer = form(api, code, "receipt", citizen)
    assert answer.status_code == 503 and answer.json["error"]["code"] == "papers_unavailable"


def test_a_register_too_long_for_a_pdf_is_asked_for_as_xlsx(api, monkeypatch):
    from chalicelib.reports.use_cases import register as register_use_case
    code, _, _ = new_accepted(api)
    new_accepted(api, citizen_sub="citizen-second", key="walk-0002")
    monkeypatch.setattr(register_use_case, "MAX_PDF_LINES", 1)
    day = received_day(code)
    answer = register(api, officer(api), "pdf", **{"from": day, "to": day})
    assert answer.status_code == 422 and answer.json["error"]["code"] == "register_too_large"
    assert "xlsx" in answer.json["error"]["message"]
    assert register(api, officer(api), "xlsx", **{"from": day, "to": day}).status_code == 200
