"""Problems in an uploaded file, by line and field: the one record every import reports with.

Why one: the catalogue import (chalicelib/catalogue/rules/procedures.py), the legacy accounts
import (chalicelib/trust/rules/legacy.py) and the v1 dossier import
(chalicelib/dossiers/rules/v1_import.py) all check a whole file, report every error of every
line, and then import nothing. An operator fixing a file reads the same shape from each
``motcua ... import`` command, ``accounts.csv: line 4 [phone]: not a Vietnamese phone number``,
so the record, its rendering and the refusal that carries them live here once; what makes a
row wrong stays with each import's own rules. Pure: no AWS, no HTTP.
"""
from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import date, datetime

from chalicelib.kernel.working_days import iso, to_local

# One record's problems as its checks find them, (field or None, message), before the caller
# knows (or says) which line of which file the record came from.
FieldErrors = list[tuple[str | None, str]]


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


def csv_rows(text: str) -> tuple[list[str], Iterator[tuple[int, dict[str, str]]]]:
    """A CSV text's header (names trimmed) and its rows as (line, {column: trimmed value}), read
    as they are iterated. The line is the physical line a row ends on (a quoted cell may span
    lines); blank rows are skipped and a leading BOM (what Excel's "CSV UTF-8" writes) ignored.
    Cells beyond the header are dropped, missing ones are ""."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = [name.strip() for name in reader.fieldnames or ()]
    rows = ((reader.line_num, {key.strip(): (value or "").strip() for key, value in row.items() if key})
            for row in reader if any((value or "").strip() for value in row.values() if isinstance(value, str)))
    return header, rows


def import_date(value: str) -> str | None:
    """A date as import files write it, ``YYYY-MM-DD`` (midnight, Vietnam time) or ISO 8601 with
    an offset, as ISO 8601 +07:00; None when it is neither (a time without an offset is refused:
    guessing its zone could move it to another day)."""
    try:
        if len(value) == 10:
            return f"{date.fromisoformat(value).isoformat()}T00:00:00+07:00"
        moment = datetime.fromisoformat(value)
        return iso(to_local(moment)) if moment.tzinfo else None
    except ValueError:
        return None
