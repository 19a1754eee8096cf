"""v1 dossiers brought back as live MotCua dossiers (`motcua legacy import-dossiers`). Pure.

Why: after the upgrade to MotCua, the dossiers of the old system (v1) stopped reaching the
national portal, and the province's index counts every dossier received (national-portal.md
§5). Unlike the read-only history of chalicelib/trust/rules/legacy.py, these become ordinary
dossiers that keep their v1 code and dates, so the portal recognises them (a create the portal
already holds is answered "đã tồn tại" and resent as an update), officers can continue the
open ones, and `motcua sync backfill` sends them.

One dossier per row, as CSV (a header row) or JSON (a list of objects, or ``{"dossiers": [...]}``)
with the columns of ``COLUMNS``. Dates are ``YYYY-MM-DD`` (midnight, Vietnam time) or ISO 8601
with an offset. ``fees`` is ``name:amount;name:amount`` in CSV, a list of ``{name, amount}`` in
JSON, amounts in whole VND. Every error of every row (up to 1,000) is reported in Vietnamese
with its line (CSV; in JSON, the item's position) and its field, and then nothing is imported.

Statuses: submitted, accepted, refused, withdrawn, stopped, finished, returned. A v1 dossier in
the middle of processing is imported as ``accepted`` (the officer continues from the first
step): MotCua cannot rebuild v1's internal steps and pauses, and inventing them would put
false times in the progress records the index reads.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

from chalicelib.kernel.rows import (BLANK, DATE, ID_NUMBER, PHONE, RowError, RowsRejected, at_line, at_most, duplicate_of,
                                    hidden_characters, import_date, one_of, read_csv, read_json, too_many,
                                    whole_number)
from chalicelib.kernel.text import hidden_character, is_phone, nfc
from chalicelib.kernel.working_days import parse_iso

COLUMNS = ("code", "procedure_code", "agency_id", "applicant_name", "applicant_id_number", "applicant_phone",
           "applicant_email", "applicant_type", "channel", "status", "summary", "submitted_at", "accepted_at",
           "due_at", "finished_at", "returned_at", "closed_at", "decision", "return_method", "fees")
REQUIRED = ("code", "procedure_code", "applicant_name", "channel", "status", "submitted_at")
STATUSES = ("submitted", "accepted", "refused", "withdrawn", "stopped", "finished", "returned")
CHANNELS = ("online", "direct", "postal")
APPLICANT_TYPES = ("citizen", "business", "agency", "organization")
DECISIONS = ("approved", "rejected")
RETURN_METHODS = ("desk", "post", "online")
DATES = ("submitted_at", "accepted_at", "due_at", "finished_at", "returned_at", "closed_at")
ORDER = ("submitted_at", "accepted_at", "finished_at", "returned_at")   # each no earlier than the one before
# which dates each status needs: its own milestones, as v1 recorded them
NEEDS: Mapping[str, tuple[str, ...]] = {
    "submitted": (), "accepted": ("accepted_at", "due_at"), "refused": ("closed_at",), "withdrawn": ("closed_at",),
    "stopped": ("accepted_at", "due_at", "closed_at"), "finished": ("accepted_at", "due_at", "finished_at"),
    "returned": ("accepted_at", "due_at", "finished_at", "returned_at")}
LIMITS = {"code": 50, "applicant_name": 200, "summary": 1000, "applicant_email": 200}   # MaHoSo, ChuHoSo, TrichYeuHoSo
_CODE = re.compile(r"^[A-Za-z0-9.\-_/]+$")
IMPORTER = "system:v1-import"


class ImportRejected(RowsRejected):
    """The file has errors; nothing is imported."""


def read_rows(text: str, errors: list[RowError], *, is_json: bool) -> Iterable[tuple[int, Mapping[str, Any]]]:
    """(line or item number, raw row) of a CSV or JSON file, a CSV's read as they are iterated
    (chalicelib/kernel/rows.py reads both). ImportRejected at once, in Vietnamese, when the file
    is not one: its syntax, its header, JSON of another shape or items that are not objects; a
    CSV row's own shape errors (an unquoted comma) go to ``errors`` as it is read."""
    try:
        rows = _json_rows(read_json(text), errors) if is_json else read_csv(text, COLUMNS, errors, required=REQUIRED)
    except RowsRejected as rejected:
        raise ImportRejected(rejected.errors) from None
    if errors and not is_json and text.lstrip("\ufeff \t\r\n").startswith(("[", "{")):
        errors[:] = [RowError(None, None, "Tệp có dạng JSON: hãy dùng --json hoặc đặt đuôi .json")]
    if errors:
        raise ImportRejected(errors)
    return rows


def _json_rows(document: Any, errors: list[RowError]) -> Iterable[tuple[int, Mapping[str, Any]]]:
    items = document.get("dossiers") if isinstance(document, dict) else document
    if not isinstance(items, list):
        errors.append(RowError(None, None, 'Tệp JSON phải là một danh sách hồ sơ, hoặc {"dossiers": [...]}'))
        return ()
    for n, item in enumerate(items, 1):
        if too_many(errors):
            break
        if not isinstance(item, dict):
            errors.append(RowError(n, None, f"Hồ sơ thứ {n}: phải là một đối tượng JSON"))
    return enumerate(items, start=1)   # numbered as read: a list of millions costs no copy


def _fees(value: Any) -> list[dict[str, Any]] | str:
    """The fee lines, or why they are wrong."""
    if value in (None, "", []):
        return []
    pairs: list[tuple[Any, Any]]
    if isinstance(value, str):
        parts = [part.rsplit(":", 1) for part in value.split(";") if part.strip()]
        if any(len(part) != 2 for part in parts):
            return "Phải có dạng tên phí:số tiền;tên phí:số tiền (số tiền là số nguyên VND)"
        pairs = [(name.strip(), amount.strip()) for name, amount in parts]
    elif isinstance(value, list) and all(isinstance(item, dict) for item in value):
        pairs = [(item.get("name"), item.get("amount")) for item in value]
    else:
        return "Phải là danh sách các {name, amount}"
    fees = []
    for name, amount in pairs:
        number = whole_number(amount)
        if not isinstance(name, str) or not name or hidden_character(name, multiline=False) or number is None:
            return ("Mỗi khoản phí cần tên trên một dòng, không ký tự điều khiển, và số tiền là số nguyên VND "
                    "từ 0, tối đa 18 chữ số")
        fees.append({"name": name, "amount": number})
    return fees


@dataclass(frozen=True)
class Known:
    """What the rows are checked against: the catalogue and the codes MotCua already holds."""
    procedures: Mapping[str, Any]                  # procedure_code -> catalogue Procedure
    agencies: frozenset[str]
    exists: Callable[[str], bool]
    valid_id_number: Callable[[str], bool]
    # The working-day calendar's first and last year: a live dossier's dates are counted in it
    # (its steps, its deadline, the 766 index), and a date outside it cannot be.
    calendar_years: tuple[int, int] | None = None


def _text(row: Mapping[str, Any], key: str) -> str:
    """A value as trimmed text in NFC (chalicelib/kernel/text.py: one spelling of each name)."""
    value = row.get(key)
    return nfc(value.strip()) if isinstance(value, str) else "" if value is None else str(value)


def check_row(line: int, row: Mapping[str, Any], known: Known) -> tuple[dict[str, Any], list[RowError]]:
    """One row, cleaned, and every error in it."""
    errors: list[RowError] = []
    clean: dict[str, Any] = {key: _text(row, key) for key in COLUMNS if key != "fees"}

    def bad(field: str, message: str) -> None:
        errors.append(RowError(line, field, message))

    for key in REQUIRED:
        if not clean[key]:
            bad(key, BLANK)
    for key, limit in LIMITS.items():
        if len(clean[key]) > limit:
            bad(key, at_most(limit))
    errors += at_line(line, hidden_characters(clean, multiline=("summary",)))
    if clean["code"] and not _CODE.match(clean["code"]):
        bad("code", "Chỉ gồm chữ cái không dấu, chữ số và . - _ /")
    elif clean["code"] and known.exists(clean["code"]):
        bad("code", "MotCua đã có hồ sơ mang mã này")
    procedure = known.procedures.get(clean["procedure_code"])
    if clean["procedure_code"] and procedure is None:
        bad("procedure_code", "Không có trong danh mục thủ tục")
    if clean["agency_id"] and clean["agency_id"] not in known.agencies:
        bad("agency_id", "Không phải cơ quan trong danh mục")
    for key, allowed in (("channel", CHANNELS), ("applicant_type", APPLICANT_TYPES), ("decision", DECISIONS),
                         ("return_method", RETURN_METHODS)):
        if clean[key] and clean[key] not in allowed:
            bad(key, one_of(allowed))
    if clean["status"] in ("processing", "supplement_requested"):
        bad("status", "Hồ sơ v1 còn đang xử lý được nhập với trạng thái accepted (xem docs/national-portal.md)")
    elif clean["status"] and clean["status"] not in STATUSES:
        bad("status", one_of(STATUSES))
    if clean["applicant_id_number"] and not known.valid_id_number(clean["applicant_id_number"]):
        bad("applicant_id_number", ID_NUMBER)
    clean["applicant_phone"] = clean["applicant_phone"].replace(" ", "")
    if clean["applicant_phone"] and not is_phone(clean["applicant_phone"]):
        bad("applicant_phone", PHONE)
    _check_dates(clean, bad, known.calendar_years)
    fees = _fees(row.get("fees"))
    if isinstance(fees, str):
        bad("fees", fees)
    clean["fees"] = fees if isinstance(fees, list) else []
    clean["procedure"] = procedure
    return clean, errors


def _check_dates(clean: dict[str, Any], bad: Callable[[str, str], None], years: tuple[int, int] | None) -> None:
    """Readable, within the calendar's ``years``, present where the status needs them, and in
    order. A date given without a time (v1 exports often have only days) is compared by its day."""
    unreadable, day_only = set(), set()
    for key in DATES:
        raw = clean[key]
        parsed = import_date(raw) if raw else None
        if raw and parsed is None:
            bad(key, DATE)
            unreadable.add(key)
        elif parsed and years and not years[0] <= int(parsed[:4]) <= years[1]:
            bad(key, f"Phải trong các năm {years[0]}–{years[1]} của lịch ngày làm việc")
            unreadable.add(key)
            parsed = None
        if raw and len(raw) == 10:
            day_only.add(key)
        clean[key] = parsed
    for key in NEEDS.get(clean["status"], ()):
        if clean[key] is None and key not in unreadable:
            bad(key, f"Bắt buộc với trạng thái {clean['status']}")

    def before(first: str, second: str) -> bool:
        """``second`` is earlier than ``first`` (by day when either has no time)."""
        if {first, second} & day_only:
            return clean[second][:10] < clean[first][:10]
        return parse_iso(clean[second]) < parse_iso(clean[first])

    present = [key for key in ORDER if clean[key]]
    for earlier, later in pairwise(present):
        if before(earlier, later):
            bad(later, f"Sớm hơn {earlier}")
    if clean["due_at"] and clean["accepted_at"] and before("accepted_at", "due_at"):
        bad("due_at", "Sớm hơn accepted_at")


def check_file(rows: Iterable[tuple[int, Mapping[str, Any]]], known: Known,
               errors: list[RowError] | None = None) -> list[dict[str, Any]]:
    """Every row checked (until the errors are too many), added to ``errors`` (those found as
    the file was read); ImportRejected lists them all, and then nothing is imported."""
    errors = [] if errors is None else errors
    clean_rows: list[dict[str, Any]] = []
    seen: dict[str, int] = {}
    for line, row in rows:
        if too_many(errors):
            break
        clean, found = check_row(line, row, known)
        if clean["code"] in seen:
            found.append(RowError(line, "code", duplicate_of(seen[clean["code"]])))
        seen.setdefault(clean["code"], line)
        errors += found
        clean_rows.append(clean)
    if not clean_rows and not errors:
        errors.append(RowError(None, None, "Tệp không có hồ sơ nào"))
    if errors:
        raise ImportRejected(errors)
    return clean_rows


def _log(row: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The decision log as v1 recorded it: one entry per milestone, by the importer."""
    entries: list[tuple[str, str | None, dict[str, str]]] = [("accept", row["accepted_at"], {})]
    ending = {"refused": "refuse", "withdrawn": "withdraw", "stopped": "stop"}.get(row["status"])
    if ending:
        entries.append((ending, row["closed_at"], {"reason": "Theo dữ liệu hệ thống một cửa cũ (v1)"}))
    entries.append(("issue_result", row["finished_at"], {"decision": row["decision"] or "approved"}))
    entries.append(("return_result", row["returned_at"], {"method": row["return_method"] or "desk"}))
    return [{"action": action, "at": at, "by": IMPORTER, "effective_at": at, **extra}
            for action, at, extra in entries if at]


def dossier_fields(row: Mapping[str, Any]) -> dict[str, Any]:
    """What a v1 row sets on a dossier made by ``new_dossier`` from its procedure."""
    applicant = {"full_name": row["applicant_name"], "type": row["applicant_type"] or "citizen",
                 **{key: row[f"applicant_{key}"] for key in ("id_number", "phone", "email") if row[f"applicant_{key}"]}}
    agency = row["agency_id"] or row["procedure"].agency_id
    closed = row["status"] in ("finished", "returned")
    fees = row["fees"]
    return {
        "status": row["status"], "imported_from": "v1", "applicant": applicant, "agency_id": agency,
        "holder_agency_id": agency, "agencies": [agency], "fees": fees,
        "amount_due": sum(fee["amount"] for fee in fees), "accepted_at": row["accepted_at"], "due_at": row["due_at"],
        "finished_at": row["finished_at"], "returned_at": row["returned_at"],
        "return_method": (row["return_method"] or "desk") if row["returned_at"] else None,
        "result": {"decision": row["decision"] or "approved", "documents": [], "issued_by": IMPORTER,
                   "recorded_at": row["finished_at"], "effective_at": row["finished_at"], "backdated": False}
        if closed else None,
        "decisions": _log(row),
    }
