"""The row error every import reports with: how it reads, how a refusal prints, how files are read."""
from __future__ import annotations

import unicodedata
from collections.abc import Callable
from typing import Any

import pytest

from chalicelib.kernel.rows import (RowError, RowsRejected, at_line, decode, import_date, read_csv, read_file, read_json,
                                    rejection_report, MAX_ERRORS)


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


def csv_file(text: str, columns: tuple[str, ...], **options: Any) -> tuple[list[tuple[int, dict[str, str]]], list[RowError]]:
    """read_csv's rows, all read, and the errors found on the way."""
    errors: list[RowError] = []
    rows = list(read_csv(text, columns, errors, **options))
    return rows, errors


def test_csv_rows_keep_the_line_they_start_on_and_skip_blank_lines_a_bom_padding_and_unknown_columns():
    text = '\ufeff code , NAME,note\n\nA1 ,"Nguyễn\nVăn An",x\n,\nB2,Bình\nC3\n'
    assert csv_file(text, ("code", "name")) == ([(3, {"code": "A1", "name": "Nguyễn\nVăn An"}),
                                                (6, {"code": "B2", "name": "Bình"}), (7, {"code": "C3", "name": ""})], [])


def test_import_dates_are_days_at_midnight_in_vietnam_or_times_with_an_offset_and_never_guessed():
    assert import_date("2019-05-02") == "2019-05-02T00:00:00+07:00"
    assert import_date("2019-05-02T02:30:00Z") == "2019-05-02T09:30:00+07:00"
    assert import_date("2019-05-02T09:00:00") is None
    assert import_date("02/05/2019") is None


# --------------------------------------------------------------------------- malformed files
# Each refusal names the line (or the file) and the field, in Vietnamese with diacritics, as the
# rows' own errors do; none is a Python exception other than RowsRejected.

def vietnamese(errors: list[RowError]) -> bool:
    return all("đ" in e.message.lower() or any(unicodedata.combining(ch) for ch in unicodedata.normalize("NFD", e.message))
               for e in errors)


def refused(read: Callable[[], object]) -> list[RowError]:
    with pytest.raises(RowsRejected) as info:
        read()
    assert vietnamese(info.value.errors)
    return info.value.errors


@pytest.mark.parametrize("raw, by_line, where", [
    ("code\nNguyễn\n".encode("utf-16"), True, None),                          # Excel's "Unicode text"
    (b"PK\x03\x04\x14\x00\x06\x00" + bytes(40), True, None),                  # an .xlsx renamed .csv
    ("code\nHS-1\nĐăng".encode("cp1258"), True, 3),                           # a Windows code page
    ("code\nHS-1\nĐăng".encode("cp1258"), False, None),                       # JSON: the file, not a line
    (b"code\nHS-1\x00\n", True, 2),
    (b"code\n\xed\xa0\x80\n", True, 2),                                       # an encoded surrogate
], ids=["utf-16", "xlsx", "cp1258 csv", "cp1258 json", "nul", "surrogate"])
def test_a_file_that_is_not_utf8_text_is_refused_naming_where(raw, by_line, where):
    assert [e.line for e in refused(lambda: decode(raw, by_line=by_line))] == [where]


def test_a_leading_bom_is_dropped_and_utf8_is_read():
    assert decode("\ufeffcode\nĐặng\n".encode()) == "code\nĐặng\n"


def test_a_file_over_the_limit_is_refused_after_reading_no_more_than_the_limit(tmp_path):
    path = tmp_path / "big.csv"
    path.write_bytes(b"code\n" + b"A" * 1000)
    assert read_file(path, limit=1005) == "code\n" + "A" * 1000
    assert "1.004 byte" in refused(lambda: read_file(path, limit=1004))[0].message
    # a dump of gigabytes is not read at all; an endless device or pipe not to its end
    with (tmp_path / "dump.csv").open("wb") as dump:
        dump.truncate(50 << 30)                                     # 50 GiB, sparse: no disk used
    assert refused(lambda: read_file(tmp_path / "dump.csv", limit=1 << 20))[0].line is None
    assert refused(lambda: read_file("/dev/zero", limit=1 << 20))[0].line is None


HEADER = "code,name,phone"


@pytest.mark.parametrize("text, expected", [
    ("", [(1, None)]),
    ("\ufeff\n \n,,\n", [(1, None)]),                                          # only a BOM and blank lines
    ("code;name;phone\nA;B;C\n", [(1, None)]),                                 # separated by semicolons
    ("code,phone\nA,0912\n", [(1, "name")]),
    ("code,name,phone,name\nA,B,C,D\n", [(1, "name")]),
    (f"{HEADER}\nA,Nguyễn, Văn An,0912\nB,Bình,0913\n", [(2, None)]),          # an unquoted comma
    (f'{HEADER}\nA,B,C\nB,"{"x" * 140_000}",C\nC,D,E\n', [(3, None)]),          # a cell over csv's limit
    (f'{HEADER}\nA,B,C\nB,"never closed,C\n' + "C,D,E\n" * 30_000, [(3, None)]),
], ids=["empty", "blank", "semicolons", "missing column", "column twice", "unquoted comma", "huge cell",
        "unclosed quote"])
def test_a_csv_file_s_shape_errors_are_reported_by_line_and_column(text, expected):
    _, errors = csv_file(text, ("code", "name", "phone"))
    assert [(e.line, e.field) for e in errors] == expected and vietnamese(errors)


def test_a_csv_header_is_read_whatever_its_case_spaces_or_line_endings():
    rows, errors = csv_file("\ufeff Code ,NAME\r\nA,Bình\rB,An\r\n", ("code", "name"))
    assert (rows, errors) == ([(2, {"code": "A", "name": "Bình"}), (3, {"code": "B", "name": "An"})], [])


def test_csv_values_are_read_in_nfc_whatever_spelling_the_file_used():
    decomposed = unicodedata.normalize("NFD", "Nguyễn Thị Ánh")
    assert csv_file(f"code,name\nA,{decomposed}\n", ("code", "name"))[0] == [(2, {"code": "A", "name": "Nguyễn Thị Ánh"})]


def test_only_the_required_columns_must_be_in_the_header_and_shape_errors_name_the_file():
    assert csv_file("code\nA\n", ("code", "name"), required=("code",)) == ([(2, {"code": "A"})], [])
    assert csv_file("name\nA\n", ("code", "name"), required=("code",), file="v1.csv")[1] == [
        RowError(1, "code", 'Thiếu cột "code" trong dòng tiêu đề', "v1.csv")]


@pytest.mark.parametrize("text", [
    "", "{not json", '[{"code": "A"},]', '[{"code": "A"}] x', "[" * 100_000 + "]" * 100_000,
    '[{"amount": ' + "9" * 5000 + "}]", '[{"code": "A", "name": "B", "code": "C"}]', '[{"name": "An\\ud800"}]'],
    ids=["empty", "syntax", "trailing comma", "extra data", "nested too deep", "number too long", "key twice",
         "half a surrogate pair"])
def test_a_json_file_that_cannot_be_read_is_one_error_for_the_file(text):
    errors = refused(lambda: read_json(text))
    assert [(e.line, e.field) for e in errors] == [(None, None)]


def test_a_json_file_may_start_with_a_bom_and_escape_any_character():
    assert read_json('\ufeff[{"code": "A", "name": "\\u0110\\u1ea1t \\ud83d\\ude00"}]') == [{"code": "A", "name": "Đạt 😀"}]


def test_a_date_past_the_calendar_s_end_once_moved_to_vietnam_time_is_unreadable_not_a_crash():
    assert import_date("0001-01-01T00:00:00+14:00") is None and import_date("9999-12-31T23:00:00-10:00") is None


def test_a_file_of_millions_of_bad_rows_is_checked_until_a_thousand_errors_then_says_it_stopped():
    errors: list[RowError] = []
    rows = read_csv("code,name\n" + "a,b,c\n" * 2_000_000, ("code", "name"), errors)
    assert next(rows, None) is None
    assert len(errors) == MAX_ERRORS + 1 and errors[-1].line is None and "Dừng kiểm tra sau 1000 lỗi" in errors[-1].message
