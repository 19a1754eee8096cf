"""Problems in an uploaded file, by line and field: the one record every import reports with.

Why one: the catalogue import (chalicelib/catalogue/rules/procedures.py), the legacy accounts
import (chalicelib/trust/rules/legacy.py) and the v1 dossier import
(chalicelib/dossiers/rules/v1_import.py) all check a whole file, report every error of every
line (up to MAX_ERRORS), and then import nothing. An operator fixing a file reads the same shape from each
``motcua ... import`` command, ``accounts.csv: line 4 [phone]: Không phải số điện thoại Việt Nam``,
so the record, its rendering and the refusal that carries them live here once; what makes a
row wrong stays with each import's own rules. Pure: no AWS, no HTTP.

The files are read here too, so that no file makes one import crash where another reports:
``read_file`` (a size bound, UTF-8 or a Vietnamese reason why not: UTF-16, an Excel workbook,
a Windows code page, a NUL byte), ``read_csv`` (the header, the rows by their line, every
error in the file's shape) and ``read_json`` (syntax, depth, repeated keys). Each problem is a
RowError in Vietnamese, like the rows' own, and the command prints it and exits 1: an operator
never sees a Python traceback for a file, however broken.
"""
from __future__ import annotations

import codecs
import csv
import io
import json
import os
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from pathlib import Path
from typing import Any, NoReturn

from chalicelib.kernel.text import hidden_character, is_ascii_digits, nfc, problem_message
from chalicelib.kernel.working_days import iso, to_local

# One record's problems as its checks find them, (field or None, message), before the caller
# knows (or says) which line of which file the record came from.
FieldErrors = list[tuple[str | None, str]]
_ZIP = b"PK\x03\x04"   # an .xlsx workbook is a zip file
MAX_ERRORS = 1000     # a file's errors reported before its check stops (too_many)
_STOPPED = f"Dừng kiểm tra sau {MAX_ERRORS} lỗi: sửa các lỗi trên rồi nhập lại"

# What the legacy and v1 imports say of the same problem, in the same Vietnamese words.
BLANK = "Không được để trống"   # a required value left empty
DATE = "Phải là ngày YYYY-MM-DD hoặc thời điểm ISO 8601 có múi giờ (như +07:00)"
ID_NUMBER = "Phải gồm 12 chữ số (CCCD) hoặc 9 chữ số (CMND)"
PHONE = "Không phải số điện thoại Việt Nam (0912345678 hoặc +84912345678)"


def at_most(limit: int) -> str:
    return f"Tối đa {limit} ký tự"


def duplicate_of(line: int) -> str:
    return f"Trùng với dòng {line}"


def one_of(allowed: Iterable[str]) -> str:
    return "Phải là một trong: " + ", ".join(allowed)


def hidden_characters(row: Mapping[str, Any], *, multiline: Collection[str] = ()) -> FieldErrors:
    """Each text value holding a control or bidi character (chalicelib/kernel/text.py): from a
    file it would be stored as is and sent on, to the national portal or in an SMS. Line breaks
    and tabs only in the ``multiline`` columns."""
    return [(key, problem_message(found)) for key, value in row.items()
            if isinstance(value, str) and (found := hidden_character(value, multiline=key in multiline))]


@dataclass(frozen=True)
class RowError:
    """One problem in an uploaded file. ``line``: a CSV file's physical line (the header is 1)
    or a JSON item's position in its list (1-based); 0 or None: the file (or a single record)
    as a whole. ``file`` names the file where one import reads several (accounts and dossiers);
    otherwise whoever prints the error names it."""
    line: int | None
    field: str | None
    message: str
    file: str | None = None

    def __str__(self) -> str:
        where = f"line {self.line}" if self.line else "file"
        return f"{f'{self.file}: ' if self.file else ''}{where}{f' [{self.field}]' if self.field else ''}: {self.message}"


def at_line(line: int | None, problems: FieldErrors, *, file: str | None = None, prefix: str = "") -> list[RowError]:
    """A record's problems placed at its line; ``prefix`` starts each message (a JSON item
    says which item it is, as its line number alone would not)."""
    return [RowError(line, field, prefix + message, file) for field, message in problems]


class RowsRejected(Exception):
    """A file with errors: ``errors`` lists every one of them, and nothing of it is imported."""

    def __init__(self, errors: Iterable[RowError], message: str | None = None) -> None:
        self.errors: list[RowError] = list(errors)
        super().__init__(message or f"{len(self.errors)} error(s)")


def rejection_report(errors: list[RowError], file: str | None = None) -> str:
    """What an import command prints when it refuses a file: each error on its line, named by
    its own file or else by ``file``, then how many there were."""
    lines = [str(error if error.file or not file else replace(error, file=file)) for error in errors]
    return "\n".join([*lines, f"nothing imported: {len(errors)} error(s)"])


def read_file(path: str | Path, *, limit: int, by_line: bool = True) -> str:
    """An import file's text, or RowsRejected saying in Vietnamese why it is not one: larger
    than ``limit`` bytes (not read, or from a pipe no further than the limit, so a stray dump of
    gigabytes costs nothing), an Excel workbook or a zip, UTF-16 (Excel's "Unicode text"), bytes
    that are not UTF-8 (a file saved in a Windows code page or TCVN3), or a NUL byte.
    ``by_line``: name the line where it breaks (a CSV file), else the file (a JSON file's
    "lines" are its items). OSError (no such file, a directory) is the caller's: that is not a
    file's content."""
    with open(path, "rb") as source:
        # A file's size is known unread; a pipe's (or a device's) by reading one byte past the limit.
        too_large = os.fstat(source.fileno()).st_size > limit
        raw = b"" if too_large else source.read(limit + 1)
    if too_large or len(raw) > limit:
        _reject(None, f"Tệp lớn hơn giới hạn {_number(limit)} byte (MOTCUA_IMPORT_MAX_BYTES): chia nhỏ tệp "
                      "hoặc nâng giới hạn")
    return decode(raw, by_line=by_line)


def decode(raw: bytes, *, by_line: bool = True) -> str:
    """UTF-8 bytes (one leading BOM allowed) as text; RowsRejected otherwise (see read_file)."""
    if raw.startswith(_ZIP):
        _reject(None, "Tệp là bảng tính Excel (.xlsx) hoặc tệp nén, không phải văn bản: hãy lưu lại "
                      "dạng CSV UTF-8")
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        _reject(None, 'Tệp được lưu dạng UTF-16 ("Unicode Text" của Excel): hãy lưu lại dạng CSV UTF-8')
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = raw.count(b"\n", 0, error.start) + 1
        _reject(line if by_line else None, f"Tệp phải được mã hóa UTF-8 (lỗi ở dòng {line} của tệp: có thể "
                                           "tệp được lưu bằng bảng mã Windows hoặc TCVN3)")
    if (nul := text.find("\0")) >= 0:
        line = text.count("\n", 0, nul) + 1
        _reject(line if by_line else None, f"Tệp chứa ký tự NUL ở dòng {line} của tệp: không phải tệp văn bản "
                                           "(có thể là tệp UTF-16 hoặc tệp nhị phân)")
    return text


def read_json(text: str) -> Any:
    """A JSON document, or RowsRejected saying in Vietnamese what is wrong and where: a syntax
    error, a document nested too deep, a number too long to read, a key given twice in one
    object (JSON keeps only the last one silently: a value the operator wrote would be lost), or
    half a surrogate pair (``"\\ud800"``, which no store or terminal takes)."""
    repeated: list[str] = []
    try:
        document = json.loads(text.lstrip("\ufeff"), object_pairs_hook=lambda pairs: _object(pairs, repeated))
    except json.JSONDecodeError as error:
        _reject(None, f"Tệp JSON không hợp lệ: {_json_reason(error.msg)} (dòng {error.lineno}, cột {error.colno} "
                      "của tệp)")
    except RecursionError:
        _reject(None, "Tệp JSON không hợp lệ: lồng danh sách hoặc đối tượng quá sâu")
    except ValueError:   # an integer of more digits than Python converts (sys.get_int_max_str_digits)
        _reject(None, "Tệp JSON không hợp lệ: có số quá dài")
    if repeated:
        _reject(None, "Tệp JSON có khóa bị lặp lại trong cùng một đối tượng: "
                      + ", ".join(f'"{key}"' for key in dict.fromkeys(repeated)))
    if "\\u" in text and _lone_surrogate(document):
        _reject(None, "Tệp JSON có mã \\uD800–\\uDFFF đứng một mình: không phải ký tự Unicode")
    return document


def _lone_surrogate(document: Any) -> bool:
    """Whether a string of ``document`` holds half of a UTF-16 pair (written as a \\u escape,
    the only way UTF-8 text can carry one): it could be neither stored nor printed."""
    try:
        json.dumps(document, ensure_ascii=False).encode()
    except UnicodeEncodeError:
        return True
    return False


def _object(pairs: list[tuple[str, Any]], repeated: list[str]) -> dict[str, Any]:
    """One JSON object; its repeated keys added to ``repeated`` (in linear time: an object may
    hold millions of keys)."""
    document = dict(pairs)
    if len(document) < len(pairs):
        repeated += _repeated([key for key, _ in pairs])
    return document


def _repeated(names: list[str]) -> list[str]:
    """Each name that occurs again, at its later occurrences."""
    seen: set[str] = set()
    again = []
    for name in names:
        if name in seen:
            again.append(name)
        seen.add(name)
    return again


_JSON_REASONS = {
    "Expecting value": "thiếu giá trị",
    "Expecting ',' delimiter": 'thiếu dấu ","',
    "Expecting ':' delimiter": 'thiếu dấu ":"',
    "Expecting property name enclosed in double quotes": "tên khóa phải đặt trong dấu ngoặc kép",
    "Unterminated string starting at": "chuỗi chưa đóng dấu ngoặc kép",
    "Extra data": "còn nội dung sau khi tài liệu JSON đã kết thúc",
    "Invalid control character at": "ký tự điều khiển trong chuỗi",
    "Invalid \\escape": "chuỗi thoát (\\) không hợp lệ",
    "Invalid \\uXXXX escape": "chuỗi thoát \\uXXXX không hợp lệ",
    "Illegal trailing comma before end of array": 'thừa dấu "," trước "]"',
    "Illegal trailing comma before end of object": 'thừa dấu "," trước "}"',
}


def _json_reason(message: str) -> str:
    return _JSON_REASONS.get(message, f"sai cú pháp ({message})")


def read_csv(text: str, columns: Sequence[str], errors: list[RowError], *, required: Sequence[str] | None = None,
             file: str | None = None) -> Iterator[tuple[int, dict[str, str]]]:
    """A CSV text's rows as (line, {column: trimmed value in NFC}), read as they are iterated,
    each error in the file's shape added to ``errors`` in Vietnamese by line and column (the
    header is line 1; its errors are there on return). The line is the physical line a row
    starts on (a quoted cell may span lines); blank rows are skipped, header names are trimmed
    and lowercased and a leading BOM (what Excel's "CSV UTF-8" writes) is ignored. Only
    ``columns`` are kept (others are ignored); ``required`` (default: all of them) must be in
    the header, and none of ``columns`` twice.

    Shape errors: no header, one separated by ";" or tab, a column named twice or missing (then
    there is no row), a row with more cells than the header has columns (an unquoted comma: its
    cells would land in the wrong columns, so it is reported, not misread), a syntax error or a
    cell over csv's 131,072 characters (usually a quote never closed), named by the line its row
    starts on; reading stops there, and once ``errors`` holds MAX_ERRORS."""
    before = len(errors)
    cells = _cells(text, errors, file)
    first = next(cells, None)
    if first is None:
        if len(errors) == before:
            errors.append(RowError(1, None, f"Tệp CSV trống: thiếu dòng tiêu đề ({','.join(columns)})", file))
        return iter(())
    line, names = first
    header = [name.strip().lower() for name in names]
    if problems := _header_errors(header, line, columns, required or columns, file):
        errors += problems
        return iter(())
    return _rows(cells, header, columns, errors, file)


def _cells(text: str, errors: list[RowError], file: str | None) -> Iterator[tuple[int, list[str]]]:
    """The non-blank rows' cells with the line each starts on; a syntax error ends them."""
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff"), newline=""))
    previous = 0
    try:
        for cells in reader:
            line, previous = previous + 1, reader.line_num
            if any(cell.strip() for cell in cells):
                yield line, cells
    except csv.Error as error:
        errors.append(RowError(previous + 1, None, _csv_reason(error), file))   # where the broken row starts


def _rows(cells: Iterator[tuple[int, list[str]]], header: list[str], columns: Sequence[str], errors: list[RowError],
          file: str | None) -> Iterator[tuple[int, dict[str, str]]]:
    for line, row in cells:
        if too_many(errors, file):
            return
        if len(row) > len(header):
            errors.append(RowError(line, None, f"Dòng có {len(row)} ô nhưng tiêu đề có {len(header)} cột (nội "
                                               "dung có dấu phẩy phải đặt trong dấu ngoặc kép)", file))
            continue
        row += [""] * (len(header) - len(row))
        yield line, {name: nfc(cell.strip()) for name, cell in zip(header, row, strict=True) if name in columns}


def too_many(errors: list[RowError], file: str | None = None) -> bool:
    """Whether to stop checking a file: ``errors`` holds MAX_ERRORS (then, once, an error saying
    so). A file of millions of bad rows would otherwise hold millions of errors in memory for a
    report no one reads past its first page; the operator fixes these and runs it again."""
    if len(errors) < MAX_ERRORS:
        return False
    if errors[-1].message != _STOPPED:
        errors.append(RowError(None, None, _STOPPED, file))
    return True


def _header_errors(header: list[str], line: int, columns: Sequence[str], required: Sequence[str],
                   file: str | None) -> list[RowError]:
    if len(header) == 1 and (";" in header[0] or "\t" in header[0]):
        return [RowError(line, None, 'Tệp CSV phải phân cách các cột bằng dấu phẩy (","), không phải dấu chấm '
                                     "phẩy hay tab", file)]
    errors = [RowError(line, name, f'Cột "{name}" bị lặp lại trong dòng tiêu đề', file)
              for name in _repeated(header) if name in columns]
    return errors + [RowError(line, name, f'Thiếu cột "{name}" trong dòng tiêu đề', file)
                     for name in required if name not in header]


def _csv_reason(error: csv.Error) -> str:
    if "field larger than field limit" in str(error):
        return (f"Có ô dài hơn {_number(csv.field_size_limit())} ký tự: thường là một dấu ngoặc kép mở ở "
                "dòng này mà không đóng")
    return f"Lỗi cú pháp CSV ({error})"


def _number(value: int) -> str:
    """1.048.576: thousands grouped with dots, as Vietnamese writes them."""
    return f"{value:,}".replace(",", ".")


def _reject(line: int | None, message: str) -> NoReturn:
    raise RowsRejected([RowError(line, None, message)])


def whole_number(value: object) -> int | None:
    """A cell of ASCII digits or a JSON integer (not a bool) as an int from 0 to 18 digits, else
    None. No amount in VND or count comes near 10^18; DynamoDB stores no more than 38 digits
    (a refused write halfway through an import), and Python converts no more than 4,300 (a
    ValueError, not an error of the row)."""
    if isinstance(value, str):
        return int(value) if is_ascii_digits(value) and len(value) <= 18 else None
    return value if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 10**18 else None


def import_date(value: str) -> str | None:
    """A date as import files write it, ``YYYY-MM-DD`` (midnight, Vietnam time) or ISO 8601 with
    an offset, as ISO 8601 +07:00; None when it is neither (a time without an offset is refused:
    guessing its zone could move it to another day)."""
    try:
        if len(value) == 10:
            return f"{date.fromisoformat(value).isoformat()}T00:00:00+07:00"
        moment = datetime.fromisoformat(value)
        return iso(to_local(moment)) if moment.tzinfo else None
    except (ValueError, OverflowError):   # OverflowError: year 1 or 9999 moved past the calendar's end
        return None
