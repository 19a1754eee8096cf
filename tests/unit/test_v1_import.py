"""The v1 dossier file: every error of every row, by line and field; the dossier a row makes."""
from __future__ import annotations

from types import SimpleNamespace

import pytest

from chalicelib.dossiers.rules import v1_import as rules
from chalicelib.kernel import rows
from chalicelib.kernel.text import problem_message

PROCEDURE = SimpleNamespace(agency_id="000.22.30.H50")
KNOWN = rules.Known(procedures={"1.009994": PROCEDURE}, agencies=frozenset({"000.22.30.H50", "000.00.15.H50"}),
                    exists=lambda code: code == "TAKEN", valid_id_number=lambda v: len(v) in (9, 12) and v.isdigit(),
                    calendar_years=(2015, 2040))
ROW = {"code": "HS-1", "procedure_code": "1.009994", "applicant_name": "Phạm Thị Cúc", "channel": "direct",
       "status": "returned", "submitted_at": "2024-01-05T09:00:00+07:00", "accepted_at": "2024-01-05",
       "due_at": "2024-01-26T17:00:00+07:00", "finished_at": "2024-01-24T15:00:00+07:00",
       "returned_at": "2024-01-25T10:00:00+07:00", "fees": "Lệ phí cấp phép:75000;Phí thẩm định:0"}


def errors_of(**change):
    _, found = rules.check_row(7, {**ROW, **change}, KNOWN)
    return {(e.field, e.message) for e in found}


def test_a_good_row_makes_a_returned_dossier_with_its_v1_dates_fees_and_decision_log():
    clean, found = rules.check_row(2, ROW, KNOWN)
    assert found == []
    fields = rules.dossier_fields(clean)
    assert (fields["status"], fields["accepted_at"], fields["returned_at"], fields["amount_due"]) == (
        "returned", "2024-01-05T00:00:00+07:00", "2024-01-25T10:00:00+07:00", 75000)
    assert [entry["action"] for entry in fields["decisions"]] == ["accept", "issue_result", "return_result"]
    assert fields["result"]["decision"] == "approved" and fields["return_method"] == "desk"


@pytest.mark.parametrize("change, field, message", [
    ({"code": ""}, "code", "Không được để trống"),
    ({"code": "TAKEN"}, "code", "MotCua đã có hồ sơ mang mã này"),
    ({"code": "HS 1"}, "code", "Chỉ gồm chữ cái không dấu, chữ số và . - _ /"),
    ({"procedure_code": "9.9"}, "procedure_code", "Không có trong danh mục thủ tục"),
    ({"agency_id": "nowhere"}, "agency_id", "Không phải cơ quan trong danh mục"),
    ({"channel": "fax"}, "channel", "Phải là một trong: online, direct, postal"),
    ({"status": "processing"}, "status",
     "Hồ sơ v1 còn đang xử lý được nhập với trạng thái accepted (xem docs/national-portal.md)"),
    ({"returned_at": ""}, "returned_at", "Bắt buộc với trạng thái returned"),
    ({"returned_at": "25/01/2024"}, "returned_at", rows.DATE),
    ({"returned_at": "2024-01-25T10:00:00"}, "returned_at", rows.DATE),
    ({"finished_at": "2024-01-04T15:00:00+07:00"}, "finished_at", "Sớm hơn accepted_at"),
    ({"due_at": "2024-01-04"}, "due_at", "Sớm hơn accepted_at"),
    ({"applicant_id_number": "1234"}, "applicant_id_number", rows.ID_NUMBER),
    ({"fees": "Lệ phí"}, "fees", "Phải có dạng tên phí:số tiền;tên phí:số tiền (số tiền là số nguyên VND)"),
    ({"fees": "Lệ phí:²"}, "fees", "Mỗi khoản phí cần tên trên một dòng, không ký tự điều khiển, và số tiền là số nguyên VND từ 0, tối đa 18 chữ số"),
    ({"fees": "Lệ phí:١٢"}, "fees", "Mỗi khoản phí cần tên trên một dòng, không ký tự điều khiển, và số tiền là số nguyên VND từ 0, tối đa 18 chữ số"),
    ({"accepted_at": "9999-12-31"}, "accepted_at", "Phải trong các năm 2015–2040 của lịch ngày làm việc"),
    ({"submitted_at": "2010-05-02T09:00:00+07:00"}, "submitted_at", "Phải trong các năm 2015–2040 của lịch ngày làm việc"),
    ({"fees": "Lệ phí:" + "9" * 5000}, "fees", "Mỗi khoản phí cần tên trên một dòng, không ký tự điều khiển, và số tiền là số nguyên VND từ 0, tối đa 18 chữ số"),
    ({"fees": "Lệ phí\x1b[2J:1000"}, "fees", "Mỗi khoản phí cần tên trên một dòng, không ký tự điều khiển, và số tiền là số nguyên VND từ 0, tối đa 18 chữ số"),
    ({"fees": [{"name": "Lệ phí", "amount": 10**60}]}, "fees", "Mỗi khoản phí cần tên trên một dòng, không ký tự điều khiển, và số tiền là số nguyên VND từ 0, tối đa 18 chữ số"),
    ({"applicant_phone": "0９１２３４５６７８"}, "applicant_phone",
     rows.PHONE),
    ({"summary": "a" * 1001}, "summary", "Tối đa 1000 ký tự"),
    ({"applicant_name": "Phạm Thị\u202eCúc"}, "applicant_name", problem_message("U+202E")),    # Trojan Source
    ({"applicant_name": "Phạm\nCúc"}, "applicant_name", problem_message("U+000A")),            # a line break
])
def test_each_bad_value_is_named_by_its_field(change, field, message):
    assert (field, message) in errors_of(**change)


def test_a_file_with_one_bad_row_is_rejected_whole_with_every_error_and_duplicates_named():
    rows = [(2, ROW), (3, {**ROW, "code": "HS-2", "channel": "fax"}), (4, ROW)]
    with pytest.raises(rules.ImportRejected) as info:
        rules.check_file(rows, KNOWN)
    assert [str(e) for e in info.value.errors] == ["line 3 [channel]: Phải là một trong: online, direct, postal",
                                                    "line 4 [code]: Trùng với dòng 2"]


def test_csv_and_json_files_are_read_and_a_wrong_shape_is_refused():
    assert list(rules.read_rows('{"dossiers": [{"code": "A"}]}', [], is_json=True)) == [(1, {"code": "A"})]
    with pytest.raises(rules.ImportRejected, match="1 error"):
        rules.read_rows('{"code": "A"}', [], is_json=True)
    with pytest.raises(rules.ImportRejected) as info:
        rules.read_rows("code,status\nA,returned\n", [], is_json=False)
    assert str(info.value.errors[0]) == 'line 1 [procedure_code]: Thiếu cột "procedure_code" trong dòng tiêu đề'
