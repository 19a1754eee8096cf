"""The one-stop desk's rules (issue 17, Decree 118/2025): applicants of every kind, results by
post, extensions only while the dossier is not yet late, ratings recorded at the desk. Pure."""
from __future__ import annotations

from typing import Any

import pytest

from chalicelib.dossiers.rules.submission import list_view, validate_submission
from chalicelib.kernel.errors import Conflict, ValidationFailed
from chalicelib.kernel.working_days import iso
from tests.unit.test_processing import CAL, accepted, at, dossier, run

CITIZEN = {"full_name": "Nguyễn Văn An", "id_number": "051095001234", "phone": "0912345678"}
BUSINESS = {"type": "business", "organization_name": "Công ty TNHH Xây dựng Hồng Hà", "tax_code": "0101234567",
            "legal_representative": "Trần Thị Hà", "email": "hongha@example.com"}


def body(applicant: dict[str, Any], **over: Any) -> dict[str, Any]:
    return {"procedure_code": "1.009994", "applicant": applicant, **over}


def field_errors(raw: dict[str, Any]) -> dict[str, str]:
    with pytest.raises(ValidationFailed) as info:
        validate_submission(raw)
    return info.value.fields


# --- applicants --------------------------------------------------------------------------------

def test_an_applicant_without_a_type_is_a_citizen_as_before():
    assert validate_submission(body(CITIZEN))["applicant"]["type"] == "citizen"


@pytest.mark.parametrize("tax_code", ["0101234567", "0101234567-001"])
def test_a_business_applies_with_its_tax_code_name_and_legal_representative(tax_code):
    applicant = validate_submission(body({**BUSINESS, "tax_code": tax_code}))["applicant"]
    assert (applicant["type"], applicant["tax_code"], applicant["organization_name"]) == (
        "business", tax_code, "Công ty TNHH Xây dựng Hồng Hà")
    assert "id_number" not in applicant


@pytest.mark.parametrize("tax_code", ["010123456", "01012345678", "0101234567-01", "0101234567/001", "０１０１２３４５６７"])
def test_a_bad_tax_code_is_named(tax_code):
    assert "Mã số thuế" in field_errors(body({**BUSINESS, "tax_code": tax_code}))["applicant.tax_code"]


def test_a_business_must_name_itself_and_its_legal_representative():
    errors = field_errors(body({"type": "business", "phone": "0912345678"}))
    assert set(errors) == {"applicant.organization_name", "applicant.tax_code", "applicant.legal_representative"}


@pytest.mark.parametrize("kind", ["agency", "organization"])
def test_agencies_and_organizations_need_their_name(kind):
    assert set(field_errors(body({"type": kind, "phone": "0912345678"}))) == {"applicant.organization_name"}
    assert validate_submission(body({"type": kind, "organization_name": "Hội Nông dân xã",
                                     "address": "Thôn 1, xã Quảng Phú"}))["applicant"]["type"] == kind


def test_an_unknown_applicant_type_is_named():
    assert "citizen" in field_errors(body({**CITIZEN, "type": "robot"}))["applicant.type"]


def test_a_personal_id_is_twelve_ascii_digits():
    # Arabic-Indic and full-width digits are digits to Python's \d, not to the national registry
    for id_number in ("٠٥١٠٩٥٠٠١٢٣٤", "０５１０９５００１２３４", "05109500123"):
        assert "12 chữ số" in field_errors(body({**CITIZEN, "id_number": id_number}))["applicant.id_number"]


def test_the_phone_is_optional_when_an_email_or_a_postal_address_reaches_the_applicant():
    no_phone = {k: v for k, v in CITIZEN.items() if k != "phone"}
    by_email = validate_submission(body({**no_phone, "email": "an@example.com"}))
    assert by_email["notify"] == ["email"]
    assert validate_submission(body({**no_phone, "address": "12 Lê Lợi"}))["notify"] == []
    assert "liên hệ" in field_errors(body(no_phone))["applicant.phone"]
    assert "SMS" in field_errors(body({**no_phone, "address": "12 Lê Lợi"}, notify=["sms"]))["notify"]


def test_a_list_shows_the_organization_name_for_a_business():
    d = dossier()
    d["applicant"] = {"type": "business", "organization_name": "Công ty Hồng Hà", "full_name": "Trần Thị Hà"}
    assert list_view(d)["applicant_name"] == "Công ty Hồng Hà"


# --- results by post ---------------------------------------------------------------------------

def test_a_result_by_post_needs_the_postal_address():
    assert validate_submission(body({**CITIZEN, "address": "12 Lê Lợi"}, result_delivery="post"))[
        "result_delivery"] == "post"
    assert validate_submission(body(CITIZEN))["result_delivery"] == "desk"
    assert "địa chỉ" in field_errors(body(CITIZEN, result_delivery="post"))["applicant.address"]
    assert "result_delivery" in field_errors(body(CITIZEN, result_delivery="courier"))


def test_returning_a_result_by_post_without_an_address_names_the_method():
    d = accepted()
    run(d, "issue_result", at(10), "finished", decision="approved", documents=[{"upload_id": "e" * 32, "name": "gp.pdf"}])
    with pytest.raises(ValidationFailed) as info:
        run(d, "return_result", at(11), "returned", method="post")
    assert "applicant.address" in info.value.fields["method"]


# --- extensions (accepted Mon 2 Nov 2026, 10 working days: due Mon 16 Nov) -------------------

def test_an_extension_on_the_working_day_before_the_due_day_is_allowed_and_recorded_for_the_apology():
    d = accepted()
    data = run(d, "extend", at(13, 16), "processing", reason="Cần xác minh thực địa", new_due_date="2026-11-20")
    assert (data["working_days_before_due"], data["new_due_date"]) == (1, "2026-11-20")
    record = d["extensions"][0]
    assert (record["reason"], record["old_due_at"], record["new_due_at"], record["by"]) == (
        "Cần xác minh thực địa", "2026-11-16T17:00:00+07:00", "2026-11-20T17:00:00+07:00", "officer-1")


@pytest.mark.parametrize("when", [at(14, 10), at(15, 10), at(16, 9), at(16, 18), at(30, 10)],
                         ids=["saturday-before", "sunday-before", "due-day", "due-day-evening", "two-weeks-late"])
def test_an_extension_on_or_after_the_due_day_or_after_the_last_working_day_before_it_is_refused(when):
    d = accepted()
    with pytest.raises(Conflict) as info:
        run(d, "extend", when, "processing", reason="Chậm", new_due_date="2026-12-04")
    assert info.value.code == "deadline_passed"
    assert d["due_at"] == "2026-11-16T17:00:00+07:00" and d["extensions"] == [] and d["extension_days"] == 0


def test_extensions_add_at_most_the_procedures_own_days_in_all():
    d = accepted()   # 10 working days
    with pytest.raises(ValidationFailed) as info:
        run(d, "extend", at(4), "processing", reason="Gia hạn", new_due_date="2027-06-30")
    assert info.value.code == "extension_too_long" and "2026-12-01" in info.value.fields["new_due_date"]
    run(d, "extend", at(4), "processing", reason="Gia hạn", new_due_date="2026-11-20")       # +4
    with pytest.raises(ValidationFailed):
        run(d, "extend", at(5), "processing", reason="Gia hạn lần 2", new_due_date="2026-12-02")   # +7: 11
    run(d, "extend", at(5), "processing", reason="Gia hạn lần 2", new_due_date="2026-12-01")       # +6: 10
    assert d["extension_days"] == 10 and d["due_at"] == iso(CAL.due_date(at(2), 20))


def test_the_province_may_set_a_shorter_horizon():
    d = accepted()
    with pytest.raises(ValidationFailed):
        run(d, "extend", at(4), "processing", reason="Gia hạn", new_due_date="2026-11-20", horizon_days=3)
    run(d, "extend", at(4), "processing", reason="Gia hạn", new_due_date="2026-11-19", horizon_days=3)


# --- ratings at the desk -----------------------------------------------------------------------

def test_a_rating_recorded_at_the_desk_is_marked_and_a_second_one_refused():
    d = accepted()
    criteria = {str(n): 2 for n in range(1, 10)}
    data = run(d, "rate", at(20), "finished", criteria=criteria, overall=4, at_desk=True)
    assert data["at_desk"] is True and d["rating"]["at_desk"] is True and d["rating"]["recorded_by"] == "officer-1"
    with pytest.raises(Conflict) as info:
        run(d, "rate", at(20, 10), "finished", criteria=criteria, overall=5, at_desk=True)
    assert info.value.code == "already_rated"

