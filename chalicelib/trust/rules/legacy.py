"""Citizen accounts and dossiers imported from a legacy one-stop system: the file formats, their
validation and what a citizen sees of an old dossier. Pure: no AWS here.

Two UTF-8 CSV files (a header row, then one record per line):

* accounts: ``legacy_id,id_number,full_name,phone`` (phone optional);
* dossiers (optional): ``legacy_id,code,procedure_code,procedure_name,agency_id,status,
  submitted_at,closed_at,summary``; ``legacy_id`` names an account of the accounts file,
  ``status`` is a MotCua status, dates are ``YYYY-MM-DD`` or ISO 8601 with an offset, and
  only ``legacy_id``, ``code``, ``procedure_code``, ``status`` and ``submitted_at`` are required.

Every error of every line is reported and then nothing is imported, as `motcua catalogue
import` does. Old dossiers stay read-only history: they are stored apart from MotCua's own
dossiers, so they never enter work queues, report counters or the national sync. (v1 dossiers
that must become live MotCua dossiers and reach the national portal are imported with
`motcua legacy import-dossiers`: chalicelib/dossiers/rules/v1_import.py.)
"""
from __future__ import annotations

from typing import Any
from collections.abc import Mapping

from chalicelib.kernel.rows import FieldErrors, RowError, RowsRejected, at_line, csv_rows, import_date
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


def _rows(text: str, name: str, columns: tuple[str, ...], errors: list[RowError]) -> list[tuple[int, dict[str, str]]]:
    header, rows = csv_rows(text)
    missing = [c for c in columns if c not in header]
    if missing:
        errors.append(RowError(None, None, f"header must be {','.join(columns)}; missing {', '.join(missing)}", name))
        return []
    return list(rows)


def _too_long(row: Mapping[str, str]) -> FieldErrors:
    return [(field, f"at most {limit} characters") for field, limit in _LIMITS.items() if len(row.get(field, "")) > limit]


def parse_accounts(text: str, name: str = "accounts") -> tuple[list[dict[str, Any]], list[RowError]]:
    errors: list[RowError] = []
    accounts: list[dict[str, Any]] = []
    seen_ids: dict[str, int] = {}
    seen_numbers: dict[str, int] = {}
    for line, row in _rows(text, name, ACCOUNT_COLUMNS, errors):
        problems: FieldErrors = [(field, "required") for field in ("legacy_id", "id_number", "full_name")
                                 if not row.get(field)]
        if row.get("id_number") and not valid_id_number(row["id_number"]):
            problems.append(("id_number", "must be 12 digits (CCCD) or 9 digits (CMND)"))
        phone = row.get("phone", "").replace(" ", "")
        if phone and not is_phone(phone):
            problems.append(("phone", "not a Vietnamese phone number (0912345678 or +84912345678)"))
        problems += _too_long(row)
        for field, seen in (("legacy_id", seen_ids), ("id_number", seen_numbers)):
            if row.get(field) and row[field] in seen:
                problems.append((field, f"duplicate of line {seen[row[field]]}"))
            seen.setdefault(row.get(field, ""), line)
        errors += at_line(line, problems, file=name)
        if not problems:
            accounts.append({"legacy_id": row["legacy_id"], "id_number": row["id_number"],
                             "full_name": row["full_name"], "phone": phone or None})
    return accounts, errors


def parse_dossiers(text: str, legacy_ids: set[str], name: str = "dossiers") -> tuple[list[dict[str, Any]], list[RowError]]:
    errors: list[RowError] = []
    dossiers: list[dict[str, Any]] = []
    seen: dict[str, int] = {}
    for line, row in _rows(text, name, DOSSIER_COLUMNS, errors):
        problems: FieldErrors = [(field, "required") for field in _REQUIRED_DOSSIER if not row.get(field)]
        if row.get("legacy_id") and row["legacy_id"] not in legacy_ids:
            problems.append(("legacy_id", "no such account in the accounts file"))
        if row.get("status") and row["status"] not in STATUSES:
            problems.append(("status", "one of " + ", ".join(STATUSES)))
        dates = {field: import_date(row[field]) if row.get(field) else None for field in ("submitted_at", "closed_at")}
        for field, value in dates.items():
            if row.get(field) and value is None:
                problems.append((field, "a date YYYY-MM-DD or ISO 8601 with an offset"))
        problems += _too_long(row)
        if row.get("code") in seen:
            problems.append(("code", f"duplicate of line {seen[row['code']]}"))
        seen.setdefault(row.get("code", ""), line)
        errors += at_line(line, problems, file=name)
        if not problems:
            dossiers.append({**{k: row.get(k) or None for k in DOSSIER_COLUMNS}, **dates, "legacy": True})
    return dossiers, errors


def parse_files(accounts_text: str, dossiers_text: str | None, *, accounts_name: str = "accounts",
                dossiers_name: str = "dossiers") -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Both files checked in full; LegacyImportError lists every bad line of both."""
    accounts, errors = parse_accounts(accounts_text, accounts_name)
    dossiers: list[dict[str, Any]] = []
    if dossiers_text is not None:
        dossiers, more = parse_dossiers(dossiers_text, {a["legacy_id"] for a in accounts} | _ids_with_errors(
            accounts_text), dossiers_name)
        errors += more
    if not accounts and not errors:
        errors.append(RowError(None, None, "no accounts", accounts_name))
    if errors:
        raise LegacyImportError(errors)
    return accounts, dossiers


def _ids_with_errors(accounts_text: str) -> set[str]:
    """Legacy ids present in the accounts file even on bad lines: their dossiers then report
    only their own errors, not a misleading 'no such account'."""
    return {row.get("legacy_id", "") for _, row in csv_rows(accounts_text)[1]} - {""}


def list_view(dossier: Mapping[str, Any], applicant_name: str) -> dict[str, Any]:
    """An old dossier in the citizen's list (the same keys as dossiers.list_view, plus ``legacy``)."""
    return {"dossier_code": dossier["code"], "status": dossier["status"], "procedure_code": dossier["procedure_code"],
            "procedure_name": dossier.get("procedure_name") or "", "agency_id": dossier.get("agency_id") or "",
            "applicant_name": applicant_name, "submitted_at": dossier["submitted_at"], "due_at": None, "legacy": True}


def full_view(dossier: Mapping[str, Any], applicant_name: str) -> dict[str, Any]:
    """An old dossier read by its owner: what the legacy system told us, nothing more."""
    return {**list_view(dossier, applicant_name), "closed_at": dossier.get("closed_at"),
            "summary": dossier.get("summary") or "", "legacy_id": dossier["legacy_id"]}
