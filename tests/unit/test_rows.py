"""The row error every import reports with: how it reads, how a refusal prints, how files are read."""
from __future__ import annotations

from chalicelib.kernel.rows import RowError, RowsRejected, at_line, csv_rows, import_date, rejection_report


def test_an_error_names_its_line_and_field_or_else_the_whole_file():
    assert str(RowError(4, "phone", "not a phone number")) == "line 4 [phone]: not a phone number"
    assert str(RowError(None, None, "no accounts", "accounts.csv")) == "accounts.csv: file: no accounts"
    assert str(RowError(0, "agencies", "must be a list")) == "file [agencies]: must be a list"


def test_a_record_s_problems_are_placed_at_its_line_with_the_prefix_that_names_the_item():
    placed = at_line(2, [("name", "Thiếu tên"), (None, "phải là một đối tượng")], prefix="Thủ tục thứ 2: ")
    assert placed == [RowError(2, "name", "Thủ tục thứ 2: Thiếu tên"), RowError(2, None, "Thủ tục thứ 2: phải là một đối tượng")]


def test_a_refusal_prints_every_error_named_by_its_own_file_or_the_one_imported_then_the_count():
    errors = [RowError(3, "code", "required"), RowError(5, "status", "one of a, b", "dossiers.csv")]
    assert rejection_report(errors, "v1.csv").splitlines() == [
        "v1.csv: line 3 [code]: required", "dossiers.csv: line 5 [status]: one of a, b", "nothing imported: 2 error(s)"]
    assert str(RowsRejected(errors)) == "2 error(s)" and RowsRejected(iter(errors)).errors == errors


def test_csv_rows_keep_physical_lines_and_skip_blank_lines_a_bom_and_padding():
    text = '\ufeff code , name\n\nA1 ,"Nguyễn\nVăn An"\n,\nB2,Bình,extra\nC3\n'
    header, rows = csv_rows(text)
    assert header == ["code", "name"]
    assert list(rows) == [(4, {"code": "A1", "name": "Nguyễn\nVăn An"}), (6, {"code": "B2", "name": "Bình"}),
                          (7, {"code": "C3", "name": ""})]


def test_import_dates_are_days_at_midnight_in_vietnam_or_times_with_an_offset_and_never_guessed():
    assert import_date("2019-05-02") == "2019-05-02T00:00:00+07:00"
    assert import_date("2019-05-02T02:30:00Z") == "2019-05-02T09:30:00+07:00"
    assert import_date("2019-05-02T09:00:00") is None
    assert import_date("02/05/2019") is None
