"""Procedure catalogue: validation, JSON/CSV import, seed data and search. Pure, no AWS."""
from __future__ import annotations

import json
import unicodedata
from decimal import Decimal

import pytest
from hypothesis import given, settings, strategies as st

from motcua.seed import seed_path
from chalicelib.catalogue.rules.procedures import (
    AGENCY_LEVELS, CSV_COLUMNS, ONLINE_LEVELS, SUPPLEMENT_RULES, Agency, CatalogueError, Fee,
    Procedure, RowError, agency_from_dict, catalogue_to_json, fold, load_catalogue_file,
    parse_catalogue, procedure_from_dict, procedures_to_csv, search,
)

HEADER = ",".join(CSV_COLUMNS)


def good_procedure(**overrides) -> dict:
    data = {
        "procedure_code": "2.000488",
        "name": "Cấp Phiếu lý lịch tư pháp",
        "field": "Lý lịch tư pháp",
        "field_code": "LLTP",
        "agency_id": "000.00.13.H50",
        "processing_days": 10,
        "online_level": "full",
        "fees": [{"name": "Phí cung cấp thông tin lý lịch tư pháp", "amount": 200000}],
        "required_documents": ["Tờ khai yêu cầu cấp Phiếu lý lịch tư pháp", "Bản chụp Căn cước"],
        "supplement_rule": "resume",
        "pay_before_accept": True,
    }
    data.update(overrides)
    return data


def json_file(procedures: list[dict], agencies: list[dict] | None = None) -> str:
    doc: dict = {"_note": "test"}
    if agencies is not None:
        doc["agencies"] = agencies
    doc["procedures"] = procedures
    return json.dumps(doc, ensure_ascii=False)


def csv_row(**overrides) -> str:
    cells = {
        "procedure_code": "1.001193", "name": "Đăng ký khai sinh", "field": "Hộ tịch",
        "field_code": "HT", "agency_id": "000.21.30.H50", "processing_days": "1",
        "online_level": "full", "fees": "", "required_documents": "Tờ khai;Giấy chứng sinh",
        "supplement_rule": "resume", "pay_before_accept": "",
    }
    cells.update(overrides)
    return ",".join(cells[c] for c in CSV_COLUMNS)


def errors_of(text: str, fmt: str) -> list[RowError]:
    with pytest.raises(CatalogueError) as info:
        parse_catalogue(text, fmt)
    return info.value.errors


def lines_and_fields(errors: list[RowError]) -> set[tuple[int, str | None]]:
    return {(e.line, e.field) for e in errors}


def has_vietnamese_diacritics(text: str) -> bool:
    return "đ" in text.lower() or any(unicodedata.combining(ch)
                                      for ch in unicodedata.normalize("NFD", text))


# --------------------------------------------------------------------------- seed

@pytest.fixture(scope="module")
def seed():
    return load_catalogue_file(seed_path())


def test_seed_file_is_labelled_sample_data():
    note = json.loads(seed_path().read_text(encoding="utf-8"))["_note"]
    assert "SAMPLE DATA" in note


def test_seed_parses_with_departments_a_commune_and_the_province(seed):
    agencies, _procedures = seed
    levels = [a.level for a in agencies]
    assert len(agencies) >= 3
    assert levels.count("department") >= 2
    assert levels.count("commune") >= 1
    assert levels.count("province") == 1


def test_seed_has_no_district_level_and_every_agency_reports_to_the_province(seed):
    """Except the old Kon Tum departments the shipped sample merger plan retires."""
    from chalicelib.catalogue.rules.merger import parse_plan
    from motcua.seed import seed_path
    agencies, _ = seed
    plan = parse_plan((seed_path().parent / "merger_plan.json").read_text(encoding="utf-8"))
    merged = {r.agency_id for r in plan.retirements}
    province = next(a for a in agencies if a.level == "province")
    assert province.parent_id is None and merged
    assert all(a.parent_id == province.agency_id for a in agencies if a is not province and a.agency_id not in merged)


def test_seed_agency_ids_can_prefix_a_dossier_code(seed):
    agencies, procedures = seed
    assert all("-" not in a.agency_id for a in agencies)
    assert {p.agency_id for p in procedures} <= {a.agency_id for a in agencies}


def test_seed_has_enough_procedures_spread_over_agencies_and_fields(seed):
    _, procedures = seed
    assert len(procedures) >= 8
    assert len({p.agency_id for p in procedures}) >= 3
    assert len({p.field_code for p in procedures}) >= 3


def test_seed_fees_are_integers_of_vnd(seed):
    _, procedures = seed
    for p in procedures:
        for fee in p.fees:
            assert type(fee.amount) is int and fee.amount >= 0
        assert type(p.total_fees()) is int


def test_seed_covers_both_supplement_rules_both_online_levels_and_pay_before_accept(seed):
    _, procedures = seed
    assert {p.supplement_rule for p in procedures} == set(SUPPLEMENT_RULES)
    assert {p.online_level for p in procedures} == set(ONLINE_LEVELS)
    assert any(p.pay_before_accept for p in procedures)


def test_seed_names_are_vietnamese_with_diacritics(seed):
    agencies, procedures = seed
    assert all(has_vietnamese_diacritics(p.name) for p in procedures)
    assert all(has_vietnamese_diacritics(a.name) for a in agencies)


def test_seed_known_procedures_have_their_usual_fees_and_deadlines(seed):
    _, procedures = seed
    by_name = {p.name: p for p in procedures}
    assert by_name["Đăng ký khai sinh"].total_fees() == 0
    judicial = next(p for p in procedures if "lý lịch tư pháp" in p.name)
    assert (judicial.total_fees(), judicial.processing_days) == (200000, 10)
    house = next(p for p in procedures if "giấy phép xây dựng" in p.name and "nhà ở" in p.name)
    assert house.total_fees() == 75000 and 15 <= house.processing_days <= 20


# --------------------------------------------------------------------------- round trips

def test_procedure_round_trips_through_to_dict():
    procedure = procedure_from_dict(good_procedure())
    assert procedure_from_dict(procedure.to_dict()) == procedure


def test_to_dict_is_json_ready_with_lists_and_fee_objects():
    data = procedure_from_dict(good_procedure()).to_dict()
    assert data["fees"] == [{"name": "Phí cung cấp thông tin lý lịch tư pháp", "amount": 200000}]
    assert isinstance(data["required_documents"], list)
    assert json.loads(json.dumps(data)) == data


def test_procedure_round_trips_through_a_json_file():
    procedure = procedure_from_dict(good_procedure())
    agency = Agency("000.00.13.H50", "Sở Tư pháp", "department")
    agencies, procedures = parse_catalogue(catalogue_to_json([agency], [procedure]), "json")
    assert (agencies, procedures) == ([agency], [procedure])


def test_procedure_round_trips_through_a_csv_file():
    procedure = procedure_from_dict(good_procedure(
        fees=[{"name": "Phí: bản sao", "amount": 2000}, {"name": "Lệ phí", "amount": 0}]))
    agencies, procedures = parse_catalogue(procedures_to_csv([procedure]), "csv")
    assert (agencies, procedures) == ([], [procedure])


def test_seed_round_trips_through_json_and_csv(seed):
    agencies, procedures = seed
    assert parse_catalogue(catalogue_to_json(agencies, procedures), "json") == (agencies, procedures)
    assert parse_catalogue(procedures_to_csv(procedures), "csv") == ([], procedures)


def test_agency_round_trips_through_to_dict():
    agency = Agency("000.21.30.H50", "Ủy ban nhân dân phường Cẩm Thành", "commune", "000.00.00.H50")
    assert agency_from_dict(agency.to_dict()) == agency


_words = st.text(alphabet="abcdđeêghiklmnoôơpqrstuưvxyàáảãạăằắẳẵặâấầẩẫậĐÂ 0123456789:,\"'",
                 min_size=1, max_size=30).filter(lambda s: s.strip())


@settings(max_examples=60, deadline=None)
@given(
    name=_words, field=_words, days=st.integers(1, 365),
    online=st.sampled_from(ONLINE_LEVELS), rule=st.sampled_from(SUPPLEMENT_RULES),
    fees=st.lists(st.tuples(_words, st.integers(0, 10**9)), max_size=3),
    docs=st.lists(_words, max_size=3), pay=st.booleans(),
)
def test_any_valid_procedure_round_trips_through_json_and_csv(name, field, days, online, rule,
                                                              fees, docs, pay):
    procedure = Procedure("1.000001", name, field, "X", "A.1", days, online,
                          tuple(Fee(n, a) for n, a in fees), tuple(docs), rule, pay)
    assert parse_catalogue(catalogue_to_json([], [procedure]), "json") == ([], [procedure])
    assert parse_catalogue(procedures_to_csv([procedure]), "csv") == ([], [procedure])


# --------------------------------------------------------------------------- CSV import

def test_csv_with_several_bad_rows_reports_every_row_with_line_and_field():
    text = "\n".join([
        HEADER,
        csv_row(procedure_code="1.000001"),
        csv_row(procedure_code="1.000002", processing_days="3.5"),
        csv_row(procedure_code="1.000003"),
        csv_row(procedure_code="1.000004", fees="Lệ phí:1000.5"),
        csv_row(procedure_code="1.000005", online_level="level4", supplement_rule=""),
    ]) + "\n"
    errors = errors_of(text, "csv")
    assert lines_and_fields(errors) == {
        (3, "processing_days"), (5, "fees"), (6, "online_level"), (6, "supplement_rule")}
    assert all(has_vietnamese_diacritics(e.message) for e in errors)


def test_csv_import_is_all_or_nothing():
    text = f"{HEADER}\n{csv_row(procedure_code='1.000001')}\n{csv_row(procedure_code='x')}\n"
    with pytest.raises(CatalogueError):
        parse_catalogue(text, "csv")


def test_good_csv_parses_with_bom_crlf_and_blank_lines():
    text = "\ufeff" + HEADER + "\r\n" + csv_row() + "\r\n\r\n" + csv_row(
        procedure_code="2.000815", fees="Phí chứng thực:2000;Phí 2:0",
        pay_before_accept="TRUE") + "\r\n"
    agencies, procedures = parse_catalogue(text, "csv")
    assert agencies == []
    assert [p.procedure_code for p in procedures] == ["1.001193", "2.000815"]
    assert procedures[0].fees == () and procedures[0].pay_before_accept is False
    assert procedures[0].required_documents == ("Tờ khai", "Giấy chứng sinh")
    assert procedures[1].fees == (Fee("Phí chứng thực", 2000), Fee("Phí 2", 0))
    assert procedures[1].pay_before_accept is True


def test_csv_line_numbers_are_physical_lines_even_after_a_multiline_cell():
    text = "\n".join([
        HEADER,
        csv_row(procedure_code="1.000001", required_documents='"Tờ khai\ndòng hai"'),
        csv_row(procedure_code="1.000002", processing_days="0"),
    ])
    errors = errors_of(text, "csv")
    assert lines_and_fields(errors) == {(2, "required_documents"), (4, "processing_days")}


def test_csv_missing_column_is_one_error_on_line_1_naming_it():
    header = ",".join(c for c in CSV_COLUMNS if c != "supplement_rule")
    errors = errors_of(header + "\n1.001193,Đăng ký khai sinh\n", "csv")
    assert len(errors) == 1
    assert (errors[0].line, errors[0].field) == (1, "supplement_rule")
    assert "supplement_rule" in errors[0].message


def test_csv_separated_by_semicolons_is_explained():
    errors = errors_of(HEADER.replace(",", ";") + "\n", "csv")
    assert len(errors) == 1 and errors[0].line == 1 and "dấu phẩy" in errors[0].message


def test_csv_extra_columns_are_ignored():
    text = f"{HEADER},ghi_chu\n{csv_row()},bất kỳ\n"
    assert len(parse_catalogue(text, "csv")[1]) == 1


def test_csv_row_with_unquoted_comma_is_reported_not_misread():
    text = f"{HEADER}\n{csv_row(name='Chứng thực chữ ký, bản sao')}\n"
    errors = errors_of(text, "csv")
    assert [(e.line, e.field) for e in errors] == [(2, None)]


def test_a_bidi_override_in_a_name_is_refused_as_a_control_character_is():
    errors = errors_of(f"{HEADER}\n{csv_row(name='Chứng thực\u202efdp.exe')}\n", "csv")
    assert lines_and_fields(errors) == {(2, "name")} and "đảo chiều" in errors[0].message


def test_csv_steps_nested_deeper_than_python_recurses_are_a_steps_error_not_a_crash():
    text = f'{HEADER},steps\n{csv_row()},"{"[" * 60_000 + "]" * 60_000}"\n'
    assert lines_and_fields(errors_of(text, "csv")) == {(2, "steps")}


@pytest.mark.parametrize("days", ["3.5", "-1", "0", "ba", "", "1e1", "366", "9" * 5000])
def test_csv_rejects_days_that_are_not_a_positive_whole_number(days):
    errors = errors_of(f"{HEADER}\n{csv_row(processing_days=days)}\n", "csv")
    assert lines_and_fields(errors) == {(2, "processing_days")}


@pytest.mark.parametrize("fees", ["Lệ phí:1000.5", "Lệ phí:-5", "Lệ phí:200.000", "Lệ phí:",
                                  "Lệ phí", ":100", "Lệ phí:1e3", "Lệ phí:" + "9" * 5000])
def test_csv_rejects_bad_fees(fees):
    errors = errors_of(f"{HEADER}\n{csv_row(fees=fees)}\n", "csv")
    assert lines_and_fields(errors) == {(2, "fees")}


@pytest.mark.parametrize("flag", ["yes", "có", "2"])
def test_csv_rejects_bad_pay_before_accept(flag):
    errors = errors_of(f"{HEADER}\n{csv_row(pay_before_accept=flag)}\n", "csv")
    assert lines_and_fields(errors) == {(2, "pay_before_accept")}


def test_csv_duplicate_code_is_an_error_on_the_second_occurrence():
    text = "\n".join([HEADER, csv_row(), csv_row(name="Khác"), csv_row(procedure_code="1.000002")])
    errors = errors_of(text, "csv")
    assert lines_and_fields(errors) == {(3, "procedure_code")}
    assert "dòng 2" in errors[0].message


def test_csv_accepts_any_well_formed_agency_because_it_declares_none():
    text = f"{HEADER}\n{csv_row(agency_id='999.99.99.H99')}\n"
    assert parse_catalogue(text, "csv")[1][0].agency_id == "999.99.99.H99"


def test_empty_csv_is_an_error():
    assert errors_of("", "csv")[0].line == 1


def test_a_csv_of_a_header_alone_is_an_error_for_the_file():
    assert [(e.line, e.field) for e in errors_of(f"\ufeff{HEADER}\r\n\r\n", "csv")] == [(None, None)]


# --------------------------------------------------------------------------- JSON import

AGENCY = {"agency_id": "000.00.13.H50", "name": "Sở Tư pháp", "level": "department"}


def test_json_errors_use_the_item_position_and_say_so():
    text = json_file([good_procedure(procedure_code="1.000001"),
                      good_procedure(procedure_code="1.000002", processing_days=2.5)], [AGENCY])
    errors = errors_of(text, "json")
    assert lines_and_fields(errors) == {(2, "processing_days")}
    assert 'Thủ tục thứ 2 trong "procedures"' in errors[0].message


@pytest.mark.parametrize("days", [2.5, 3.0, True, False, "3", "3.5", -1, 0, None, 366])
def test_rejects_days_that_are_float_bool_string_negative_or_zero(days):
    with pytest.raises(CatalogueError) as info:
        procedure_from_dict(good_procedure(processing_days=days))
    assert lines_and_fields(info.value.errors) == {(0, "processing_days")}


@pytest.mark.parametrize("amount", [1000.5, 1000.0, -1, True, "1000", None, Decimal("1000.5"), 10**60])
def test_rejects_fee_amounts_that_are_float_negative_bool_or_string(amount):
    with pytest.raises(CatalogueError) as info:
        procedure_from_dict(good_procedure(fees=[{"name": "Lệ phí", "amount": amount}]))
    assert lines_and_fields(info.value.errors) == {(0, "fees")}


def test_integral_decimal_from_dynamodb_becomes_int():
    procedure = procedure_from_dict(good_procedure(
        processing_days=Decimal("10"), fees=[{"name": "Lệ phí", "amount": Decimal("200000")}]))
    assert type(procedure.processing_days) is int and type(procedure.fees[0].amount) is int


def test_constructing_a_fee_or_procedure_directly_is_validated_too():
    with pytest.raises(CatalogueError):
        Fee("Lệ phí", 1000.5)  # type: ignore[arg-type]
    with pytest.raises(CatalogueError):
        Fee("Lệ phí", -1)
    with pytest.raises(CatalogueError):
        Procedure("1.000001", "Tên", "Lĩnh vực", "LV", "A", 0, "full", (), (), "resume")


def test_from_dict_lists_every_bad_field_not_just_the_first():
    data = good_procedure(procedure_code="1-001234", name="  ", field=None, agency_id="so-tu-phap",
                          processing_days=1.5, online_level="level4", supplement_rule="pause",
                          fees=[{"name": "", "amount": -1}], required_documents="Tờ khai",
                          pay_before_accept="yes")
    with pytest.raises(CatalogueError) as info:
        procedure_from_dict(data)
    fields = {e.field for e in info.value.errors}
    assert fields == {"procedure_code", "name", "field", "agency_id", "processing_days",
                      "online_level", "supplement_rule", "fees", "required_documents",
                      "pay_before_accept"}
    assert all(e.line == 0 and has_vietnamese_diacritics(e.message) for e in info.value.errors)


def test_days_message_is_vietnamese():
    with pytest.raises(CatalogueError) as info:
        procedure_from_dict(good_procedure(processing_days="3.5"))
    assert info.value.errors[0].message.startswith("Số ngày xử lý phải là số nguyên dương")


def test_strings_are_trimmed_and_unknown_keys_ignored():
    procedure = procedure_from_dict(good_procedure(name="  Cấp Phiếu lý lịch tư pháp ",
                                                   online_level="FULL", ghi_chu="bỏ qua"))
    assert procedure.name == "Cấp Phiếu lý lịch tư pháp" and procedure.online_level == "full"


def test_json_duplicate_code_is_an_error_on_the_second_occurrence():
    text = json_file([good_procedure(), good_procedure(name="Khác")], [AGENCY])
    errors = errors_of(text, "json")
    assert lines_and_fields(errors) == {(2, "procedure_code")}
    assert "thủ tục thứ 1" in errors[0].message


def test_unknown_agency_is_rejected_when_the_file_declares_agencies():
    text = json_file([good_procedure(), good_procedure(procedure_code="1.000002",
                                                       agency_id="000.00.99.H50")], [AGENCY])
    errors = errors_of(text, "json")
    assert lines_and_fields(errors) == {(2, "agency_id")}


def test_any_agency_is_accepted_when_the_file_declares_none():
    _, procedures = parse_catalogue(json_file([good_procedure(agency_id="000.00.99.H50")]), "json")
    assert procedures[0].agency_id == "000.00.99.H50"


def test_a_bad_agency_row_is_reported_once_not_again_on_its_procedures():
    bad_agency = dict(AGENCY, level="district")
    errors = errors_of(json_file([good_procedure()], [bad_agency]), "json")
    assert lines_and_fields(errors) == {(1, "level")}
    assert 'Cơ quan thứ 1 trong "agencies"' in errors[0].message


@pytest.mark.parametrize("agency, field", [
    ({"agency_id": "000-00-13-H50", "name": "Sở", "level": "department"}, "agency_id"),
    ({"agency_id": "A", "name": "Sở", "level": "district"}, "level"),
    ({"agency_id": "A", "name": " ", "level": "commune"}, "name"),
    ({"agency_id": "A", "name": "Sở", "level": "department", "parent_id": "A"}, "parent_id"),
])
def test_agency_validation(agency, field):
    with pytest.raises(CatalogueError) as info:
        agency_from_dict(agency)
    assert {e.field for e in info.value.errors} == {field}


def test_duplicate_agency_is_rejected():
    errors = errors_of(json_file([], [AGENCY, AGENCY]), "json")
    assert lines_and_fields(errors) == {(2, "agency_id")}


@pytest.mark.parametrize("text", ["{", "[]", '{"agencies": []}', '{"procedures": {}}'])
def test_malformed_json_files_are_file_level_errors(text):
    assert not errors_of(text, "json")[0].line


def test_unsupported_format_is_rejected():
    with pytest.raises(CatalogueError):
        parse_catalogue("", "xlsx")


def test_load_catalogue_file_picks_the_format_from_the_extension(tmp_path):
    csv_path = tmp_path / "danh_muc.CSV"
    csv_path.write_bytes(("\ufeff" + HEADER + "\n" + csv_row() + "\n").encode("utf-8"))
    assert len(load_catalogue_file(csv_path)[1]) == 1
    with pytest.raises(CatalogueError):
        load_catalogue_file(tmp_path / "danh_muc.xlsx")


def test_load_catalogue_file_reports_a_non_utf8_file_with_its_line(tmp_path):
    path = tmp_path / "danh_muc.csv"
    path.write_bytes((HEADER + "\n").encode() + "Đăng".encode("cp1258"))
    errors = errors_of_file(path)
    assert errors[0].line == 2 and "UTF-8" in errors[0].message


def errors_of_file(path) -> list[RowError]:
    with pytest.raises(CatalogueError) as info:
        load_catalogue_file(path)
    return info.value.errors


# --------------------------------------------------------------------------- search

@pytest.fixture(scope="module")
def procedures(seed):
    return seed[1]


def codes(found: list[Procedure]) -> list[str]:
    return [p.procedure_code for p in found]


def test_search_by_agency(procedures):
    found = search(procedures, agency_id="000.00.13.H50")
    assert found and all(p.agency_id == "000.00.13.H50" for p in found)
    assert codes(found) == sorted(codes(found))


def test_search_without_filters_returns_everything_sorted_by_code(procedures):
    assert codes(search(procedures)) == sorted(p.procedure_code for p in procedures)


def test_search_by_accent_free_text_finds_the_field(procedures):
    found = search(procedures, q="ho tich")
    assert found and all(p.field == "Hộ tịch" for p in found)


@pytest.mark.parametrize("q", ["đăng ký", "dang ky", "ĐĂNG KÝ", "DANG   KY"])
def test_search_folds_d_stroke_case_and_spaces(procedures, q):
    found = search(procedures, q=q)
    assert "1.001193" in codes(found)
    assert all("dang ky" in fold(p.name) for p in found)


def test_search_by_code(procedures):
    assert codes(search(procedures, q="1.001193")) == ["1.001193"]


def test_search_combines_agency_and_text(procedures):
    found = search(procedures, agency_id="000.00.15.H50", q="giay phep xay dung")
    assert [p.agency_id for p in found] == ["000.00.15.H50"]


def test_search_with_no_match_is_empty(procedures):
    assert search(procedures, q="không có thủ tục này") == []


def test_fold_handles_d_stroke_which_nfd_does_not_decompose():
    assert unicodedata.normalize("NFD", "Đ") == "Đ"
    assert fold("Đăng ký Hộ tịch") == "dang ky ho tich"
    assert fold("ĐƯỜNG ĐI") == "duong di"


@given(st.text())
def test_fold_is_idempotent_and_strips_combining_marks(text):
    folded = fold(text)
    assert fold(folded) == folded
    assert not any(unicodedata.category(ch) == "Mn" for ch in folded)


@given(st.text(alphabet="aăâbcdđeêghiklmnoôơpqrstuưvxyàảãáạằẳẵắặầẩẫấậèẻẽéẹềểễếệìỉĩíịòỏõóọ"
                        "ồổỗốộờởỡớợùủũúụừửữứựỳỷỹýỵ ", max_size=40))
def test_fold_turns_vietnamese_into_plain_ascii(text):
    assert fold(text).isascii() and fold(text.upper()) == fold(text)


def test_agency_levels_are_province_department_commune():
    assert AGENCY_LEVELS == ("province", "department", "commune")
