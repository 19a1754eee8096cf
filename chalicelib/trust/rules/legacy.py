"""Citizen accounts and dossiers imported from a legacy one-stop system: the file formats, their
validation and what a citizen sees of an old dossier. Pure: no AWS here.

Two UTF-8 CSV files (a header row, then one record per line):

* accounts: ``legacy_id,id_number,full_name,phone`` (phone optional);
* dossiers (optional): ``legacy_id,code,procedure_code,procedure_name,agency_id,status,
  submitted_at,closed_at,summary``; ``legacy_id`` names an account of the accounts file,
  ``status`` is a MotCua status, dates are ``YYYY-MM-DD`` or ISO 8601 with an offset, and
  only ``legacy_id``, ``code``, ``procedure_code``, ``status`` and ``submitted_at`` are required.

Every error of every line (up to 1,000) is reported in Vietnamese and then nothing is
imported, as `motcua catalogue import` does (chalicelib/kernel/rows.py reads the files). Old
dossiers stay read-only history: they are stored apart from MotCua's own dossiers, so they
never enter work queues, report counters or the national sync. (v1 dossiers that must become
live MotCua dossiers and reach the national portal are imported with `motcua legacy
import-dossiers`: chalicelib/dossiers/rules/v1_import.py.)
"""
from __future__ import annotations

from typing import Any
from collections.abc import Iterator, Mapping

from chalicelib.kernel.rows import (BLANK, DATE, ID_NUMBER, PHONE, FieldErrors, RowError, RowsRejected, at_line, at_most,
                                    duplicate_of, hidden_characters, import_date, one_of, read_csv, too_many)
from chalicelib.kernel.text import is_phone
from chalicelib.trust.rules.privacy import valid_id_number
from chalicelib.dossiers.rules.transitions import STATUSES

ACCOUNT_COLUMNS = ("legacy_id", "id_number", "full_name", "phone")
DOSSIER_COLUMNS = ("legacy_id", "code", "procedure_code", "procedure_name", "agency_id", "status",
                   "submitted_at", "closed_at", "summary")
_REQUIRED_DOSSIER = ("legacy_id", "code", "procedure_code", "status", "submitted_at")
_LIMITS = {"legacy_id": 64, "full_name": 200, "code": 60, "procedure_code": 40, "procedure_name": 500,
           "agency_id": 40, "summary": 1000}


class LegacyImportError(RowsRejected):
    """The accounts file or the dossiers file has errors; nothing of either is imported."""


def _rows(text: str, name: str, columns: tuple[str, ...], what: str,
          errors: list[RowError]) -> Iterator[tuple[int, dict[str, str]]]:
    """The file's rows as they are read, until its errors are too many; its shape errors, or
    that it has no row (a header alone: an export that went wrong), added to ``errors``."""
    empty = True
    for line, row in read_csv(text, columns, errors, file=name):
        if too_many(errors, name):
            return
        empty = False
        yield line, row
    if empty and not errors:
        errors.append(RowError(None, None, f"Tệp không có {what} nào", name))


def _too_long(row: Mapping[str, str]) -> FieldErrors:
    return [(field, at_most(limit)) for field, limit in _LIMITS.items() if len(row.get(field, "")) > limit]


def parse_accounts(text: str, name: str = "accounts") -> tuple[list[dict[str, Any]], list[RowError], set[str]]:
    """The good accounts, every error, and every legacy id the file names, even on a bad line:
    the dossiers of those then report only their own errors, not a misleading "no such account"."""
    errors: list[RowError] = []
    accounts: list[dict[str, Any]] = []
    seen_ids: dict[str, int] = {}
    seen_numbers: dict[str, int] = {}
    for line, row in _rows(text, name, ACCOUNT_COLUMNS, "tài khoản", errors):
        problems: FieldErrors = [(field, BLANK) for field in ("legacy_id", "id_number", "full_name")
                                 if not row.get(field)]
        if row.get("id_number") and not valid_id_number(row["id_number"]):
            problems.append(("id_number", ID_NUMBER))
        phone = row.get("phone", "").replace(" ", "")
        if phone and not is_phone(phone):
            problems.append(("phone", PHONE))
        problems += _too_long(row) + hidden_characters(row)
        for field, seen in (("legacy_id", seen_ids), ("id_number", seen_numbers)):
            if row.get(field) and row[field] in seen:
                problems.append((field, duplicate_of(seen[row[field]])))
            seen.setdefault(row.get(field, ""), line)
        errors += at_line(line, problems, file=name)
        if not problems:
            accounts.append({"legacy_id": row["legacy_id"], "id_number": row["id_number"],
                             "full_name": row["full_name"], "phone": phone or None})
    return accounts, errors, set(seen_ids) - {""}


def parse_dossiers(text: str, legacy_ids: set[str], name: str = "dossiers") -> tuple[list[dict[str, Any]], list[RowError]]:
    errors: list[RowError] = []
    dossiers: list[dict[str, Any]] = []
    seen: dict[str, int] = {}
    for line, row in _rows(text, name, DOSSIER_COLUMNS, "hồ sơ", errors):
        problems: FieldErrors = [(field, BLANK) for field in _REQUIRED_DOSSIER if not row.get(field)]
        if row.get("legacy_id") and row["legacy_id"] not in legacy_ids:
            problems.append(("legacy_id", "Không có tài khoản này trong tệp tài khoản"))
        if row.get("status") and row["status"] not in STATUSES:
            problems.append(("status", one_of(STATUSES)))
        dates = {field: import_date(row[field]) if row.get(field) else None for field in ("submitted_at", "closed_at")}
        for field, value in dates.items():
            if row.get(field) and value is None:
                problems.append((field, DATE))
        problems += _too_long(row) + hidden_characters(row, multiline=("summary",))
        if row.get("code") in seen:
            problems.append(("code", duplicate_of(seen[row["code"]])))
        seen.setdefault(row.get("code", ""), line)
        errors += at_line(line, problems, file=name)
        if not problems:
            dossiers.append({**{k: row.get(k) or None for k in DOSSIER_COLUMNS}, **dates, "legacy": True})
    return dossiers, errors


def parse_files(accounts_text: str, dossiers_text: str | None, *, accounts_name: str = "accounts",
                dossiers_name: str = "dossiers") -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Both files checked in full; LegacyImportError lists every bad line of both."""
    accounts, errors, legacy_ids = parse_accounts(accounts_text, accounts_name)
    dossiers: list[dict[str, Any]] = []
    if dossiers_text is not None:
        dossiers, more = parse_dossiers(dossiers_text, legacy_ids, dossiers_name)
        errors += more
    if errors:
        raise LegacyImportError(errors)
    return accounts, dossiers


def list_view(dossier: Mapping[str, Any], applicant_name: str) -> dict[str, Any]:
    """An old dossier in the citizen's list (the same keys as dossiers.list_view, plus ``legacy``)."""
    return {"dossier_code": dossier["code"], "status": dossier["status"], "procedure_code": dossier["procedure_code"],
            "procedure_name": dossier.get("procedure_name") or "", "agency_id": dossier.get("agency_id") or "",
            "applicant_name": applicant_name, "submitted_at": dossier["submitted_at"], "due_at": None, "legacy": True}


def full_view(dossier: Mapping[str, Any], applicant_name: str) -> dict[str, Any]:
    """An old dossier read by its owner: what the legacy system told us, nothing more."""
    return {**list_view(dossier, applicant_name), "closed_at": dossier.get("closed_at"),
            "summary": dossier.get("summary") or "", "legacy_id": dossier["legacy_id"]}
