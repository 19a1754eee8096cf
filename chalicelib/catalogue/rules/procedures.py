"""Procedure catalogue: the administrative procedures (thủ tục hành chính) and the agencies
that handle them. Pure domain code: no AWS, no storage.

The catalogue holds procedure *types*; dossiers (hồ sơ, the cases) live elsewhere and copy
the rules they need when they are created (Open Zaak's catalogue/cases split).

Decisions
---------
* ``processing_days`` is a whole number of working days from 1 to ``MAX_PROCESSING_DAYS``.
  0 is rejected: a procedure settled "in the day" (trong ngày) is recorded as 1, because a
  same-day deadline would mark a dossier received late in the afternoon overdue the next
  morning, the very bug the public complained about.
* Money is an ``int`` number of VND. Floats are rejected even when integral (``1000.0``);
  an integral ``decimal.Decimal`` (what DynamoDB returns) is accepted and turned into ``int``.
* Strings are NFC-normalised and trimmed; empty ones and control characters are errors.
* Agency ids may hold only ASCII letters, digits, ``.`` and ``_``: the dossier code uses
  ``-`` as its separator and storage keys use ``#``.
* ``Procedure``/``Agency``/``Fee`` validate themselves, so an invalid one cannot exist.
"""
from __future__ import annotations

import csv
import io
import json
import re
import unicodedata
from dataclasses import dataclass, fields as dc_fields
from datetime import date
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any
from collections.abc import Callable, Iterable, Mapping

from chalicelib.kernel.text import hidden_character
from chalicelib.kernel.rows import (FieldErrors, RowError, RowsRejected, at_line, decode, read_csv, read_file, read_json,
                                    too_many, whole_number)

ONLINE_LEVELS = ("full", "partial")          # Decree 42/2022: toàn trình / một phần
SUPPLEMENT_RULES = ("resume", "restart")
AGENCY_LEVELS = ("province", "department", "commune")
AGENCY_STATUSES = ("active", "retired")      # retired: merged, renamed to a new code or dissolved
STEP_ROLES = ("officer", "leader")         # who handles a step of the internal process
MAX_STEPS = 20
DEFAULT_STEP_NAME = "Thụ lý và giải quyết hồ sơ"
DEFAULT_STEP_UNIT = "Bộ phận chuyên môn"

MAX_PROCESSING_DAYS = 365

CSV_COLUMNS = (
    "procedure_code", "name", "field", "field_code", "agency_id", "processing_days",
    "online_level", "fees", "required_documents", "supplement_rule", "pay_before_accept",
)

_CODE_RE = re.compile(r"[0-9]\.[0-9]{6}")
_AGENCY_ID_RE = re.compile(r"[A-Za-z0-9._]{1,64}")
_FIELD_CODE_RE = re.compile(r"[A-Za-z0-9._]{1,32}")
# Optional CSV columns: read when present, always written. "steps" holds the internal
# process as a JSON array (a list of objects does not fit in one plain CSV cell otherwise).
OPTIONAL_CSV_COLUMNS = ("result_is_document", "steps", "payment_providers")
# Online payment providers a procedure may name (docs/payments.md); the stage's setting
# MOTCUA_PAYMENT_PROVIDERS says which of them a deployment serves.
PAYMENT_PROVIDERS = ("vnpay", "paygov")
_CSV_TRUE = ("true", "1")
_CSV_FALSE = ("false", "0", "")


# --------------------------------------------------------------------------- errors

class CatalogueError(RowsRejected, ValueError):
    """Invalid catalogue data. ``errors`` lists every problem found, not just the first; the
    message sums up the first ten in Vietnamese. Line 0 is the file or a single record."""

    def __init__(self, errors: Iterable[RowError]):
        errors = list(errors)
        shown = "; ".join(
            (f"dòng {e.line}" if e.line else "tệp")
            + (f", {e.field}" if e.field else "") + f": {e.message}"
            for e in errors[:10]
        )
        more = f"; … và {len(errors) - 10} lỗi khác" if len(errors) > 10 else ""
        super().__init__(errors, f"Danh mục có {len(errors)} lỗi: {shown}{more}")


# --------------------------------------------------------------------------- model

@dataclass(frozen=True)
class Fee:
    name: str
    amount: int            # VND, integer >= 0, never float

    def __post_init__(self) -> None:
        errs: list[tuple[str | None, str]] = []
        name = _text(self.name, "tên phí", "name", errs)
        amount = _money(self.amount, False)
        if amount is None:
            errs.append(("amount", _money_message("Số tiền phí", self.amount, False)))
        if errs:
            raise CatalogueError(at_line(0, errs))
        object.__setattr__(self, "name", name)
        object.__setattr__(self, "amount", amount)

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "amount": self.amount}


@dataclass(frozen=True)
class Step:
    """One step of a procedure's internal process (quy trình nội bộ).

    ``agency_id`` None means the procedure's own agency; another agency's id makes the step
    a hand-over (liên thông). ``days`` is the step's own time in working days; 0 means the
    step is done the day it starts (e.g. returning the result)."""
    name: str
    role: str              # STEP_ROLES
    unit: str              # agency unit (phòng, bộ phận) that handles the step
    days: int
    agency_id: str | None = None

    def __post_init__(self) -> None:
        errs: FieldErrors = []
        values = _check_step(self.to_dict(), 1, errs)
        if values is None:
            raise CatalogueError(at_line(0, errs))
        for key, value in values.items():
            object.__setattr__(self, key, value)

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "role": self.role, "unit": self.unit, "days": self.days,
                "agency_id": self.agency_id}


def default_steps(processing_days: int) -> tuple[Step, ...]:
    """A procedure without a declared process has one step covering the whole time."""
    return (Step(DEFAULT_STEP_NAME, "officer", DEFAULT_STEP_UNIT, processing_days),)


@dataclass(frozen=True)
class Procedure:
    procedure_code: str    # national TTHC code, e.g. "1.001234"
    name: str
    field: str             # lĩnh vực, human name
    field_code: str        # short stable code, e.g. "HT" (hộ tịch)
    agency_id: str         # competent agency
    processing_days: int   # working days, 1..MAX_PROCESSING_DAYS ("in the day" is 1)
    online_level: str      # ONLINE_LEVELS
    fees: tuple[Fee, ...]
    required_documents: tuple[str, ...]
    supplement_rule: str   # SUPPLEMENT_RULES
    pay_before_accept: bool = False   # fees must be paid before an officer may accept
    steps: tuple[Step, ...] = ()      # internal process; empty = one step (default_steps)
    # The result is a document (a licence, certificate, decision): the national index (766)
    # then expects an electronic result for it (indicators 3.3, 4.1, 4.2; docs/index766.md).
    result_is_document: bool = True
    payment_providers: tuple[str, ...] = ()   # online providers citizens may use, in order; empty = the stage's

    def __post_init__(self) -> None:
        values, errs = _check_procedure({f.name: getattr(self, f.name) for f in dc_fields(self)}, False)
        if errs:
            raise CatalogueError(at_line(0, errs))
        for key, value in values.items():
            object.__setattr__(self, key, value)

    def total_fees(self) -> int:
        return sum(fee.amount for fee in self.fees)

    def to_dict(self) -> dict[str, Any]:
        return {
            "procedure_code": self.procedure_code,
            "name": self.name,
            "field": self.field,
            "field_code": self.field_code,
            "agency_id": self.agency_id,
            "processing_days": self.processing_days,
            "online_level": self.online_level,
            "fees": [fee.to_dict() for fee in self.fees],
            "required_documents": list(self.required_documents),
            "supplement_rule": self.supplement_rule,
            "pay_before_accept": self.pay_before_accept,
            "steps": [step.to_dict() for step in self.steps],
            "result_is_document": self.result_is_document,
            "payment_providers": list(self.payment_providers),
        }


@dataclass(frozen=True)
class Agency:
    agency_id: str
    name: str
    level: str             # AGENCY_LEVELS
    parent_id: str | None = None
    status: str = "active"              # AGENCY_STATUSES
    successor: str | None = None        # who serves its procedures and dossiers once retired
    effective_date: str | None = None   # YYYY-MM-DD (local) the retirement took effect

    def __post_init__(self) -> None:
        values, errs = _check_agency({f.name: getattr(self, f.name) for f in dc_fields(self)})
        if errs:
            raise CatalogueError(at_line(0, errs))
        for key, value in values.items():
            object.__setattr__(self, key, value)

    def to_dict(self) -> dict[str, Any]:
        return {"agency_id": self.agency_id, "name": self.name, "level": self.level,
                "parent_id": self.parent_id, "status": self.status, "successor": self.successor,
                "effective_date": self.effective_date}

    def retired_on(self, day: date) -> bool:
        """Whether the agency no longer serves anyone on this local day."""
        return self.status == "retired" and (self.effective_date or "") <= day.isoformat()


# --------------------------------------------------------------------------- field checks
# Each check appends (field, message) pairs to ``errs`` and returns the clean value or None.


def _show(value: Any) -> str:
    if value is None:
        return "giá trị rỗng"
    if isinstance(value, bool):
        return "true" if value else "false"
    text = str(value)
    text = text if len(text) <= 60 else text[:60] + "…"
    return f'"{text}"' if isinstance(value, str) else text


def _cap(label: str) -> str:
    return label[:1].upper() + label[1:]


def _text(value: Any, label: str, field: str | None, errs: FieldErrors) -> str | None:
    if value is None:
        errs.append((field, f"Thiếu {label}"))
        return None
    if not isinstance(value, str):
        errs.append((field, f"{_cap(label)} phải là chuỗi ký tự, nhận được {_show(value)}"))
        return None
    value = unicodedata.normalize("NFC", value).strip()
    if not value:
        errs.append((field, f"{_cap(label)} không được để trống"))
        return None
    if any(unicodedata.category(ch) == "Cc" for ch in value) or hidden_character(value):   # bidi: Trojan Source
        errs.append((field, f"{_cap(label)} không được chứa ký tự điều khiển (xuống dòng, tab…) hay ký tự đảo "
                            "chiều văn bản"))
        return None
    return value


def _code(value: Any, pattern: re.Pattern[str], rule: str, label: str, field: str, errs: FieldErrors) -> str | None:
    """A ``_text`` that must match ``pattern`` in full; ``rule`` says what it may hold."""
    value = _text(value, label, field, errs)
    if value is not None and not pattern.fullmatch(value):
        errs.append((field, f"{_cap(label)} {_show(value)} {rule}"))
        return None
    return value


def _agency_id(value: Any, label: str, field: str, errs: FieldErrors) -> str | None:
    return _code(value, _AGENCY_ID_RE, 'chỉ được gồm chữ cái không dấu, chữ số, dấu chấm và gạch dưới (không dùng '
                 'dấu "-" vì mã hồ sơ dùng dấu này để phân tách), ví dụ 000.00.13.H50', label, field, errs)


def _choice(value: Any, allowed: tuple[str, ...], label: str, field: str, explain: str,
            errs: FieldErrors) -> str | None:
    text = _text(value, label, field, errs)
    if text is None:
        return None
    if text.lower() not in allowed:
        errs.append((field, f"{_cap(label)} phải là {explain}, nhận được {_show(value)}"))
        return None
    return text.lower()


def _int(value: Any, csv_mode: bool) -> int | None:
    """A whole number of at most 18 digits: int (not bool), integral Decimal, or in CSV a
    string of digits."""
    if csv_mode and isinstance(value, str):
        return whole_number(value.strip())
    if isinstance(value, Decimal) and value.is_finite() and value == value.to_integral_value():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or abs(value) >= 10**18:   # DynamoDB: 38 digits at most
        return None
    return value


def _money(value: Any, csv_mode: bool) -> int | None:
    amount = _int(value, csv_mode)
    return amount if amount is not None and amount >= 0 else None


def _money_message(label: str, value: Any, csv_mode: bool) -> str:
    how = ("chỉ gồm chữ số, không có phần thập phân, không dùng dấu chấm hay dấu phẩy phân cách "
           "hàng nghìn" if csv_mode else "không có phần thập phân")
    return f"{label} phải là số nguyên không âm tính bằng đồng ({how}), nhận được {_show(value)}"


def _processing_days(value: Any, csv_mode: bool, errs: FieldErrors) -> int | None:
    if value is None or (csv_mode and isinstance(value, str) and not value.strip()):
        errs.append(("processing_days", "Thiếu số ngày xử lý"))
        return None
    days = _int(value, csv_mode)
    if days is None or days < 0:
        errs.append(("processing_days", "Số ngày xử lý phải là số nguyên dương (số ngày làm việc, "
                                        f"ví dụ 10), nhận được {_show(value)}"))
        return None
    if days == 0:
        errs.append(("processing_days", "Số ngày xử lý phải là số nguyên dương: thủ tục giải quyết "
                                        "trong ngày ghi là 1"))
        return None
    if days > MAX_PROCESSING_DAYS:
        errs.append(("processing_days", f"Số ngày xử lý không được vượt quá {MAX_PROCESSING_DAYS} "
                                        f"ngày làm việc, nhận được {days}"))
        return None
    return days


def _fees(value: Any, csv_mode: bool, errs: FieldErrors) -> tuple[Fee, ...] | None:
    before = len(errs)
    out: list[Fee | None] = []
    if value is None or (csv_mode and isinstance(value, str) and not value.strip()):
        return ()
    if csv_mode and isinstance(value, str):
        parts = [p.strip() for p in value.split(";") if p.strip()]
        for i, part in enumerate(parts, 1):
            if ":" not in part:
                errs.append(("fees", f"Phí thứ {i} {_show(part)} phải có dạng Tên phí:số tiền, "
                                     "ví dụ Lệ phí:100000"))
                continue
            name, amount = part.rsplit(":", 1)
            out.append(_fee(name, amount, i, True, errs))
    elif isinstance(value, (list, tuple)):
        for i, item in enumerate(value, 1):
            if isinstance(item, Fee):
                out.append(item)
            elif isinstance(item, Mapping):
                out.append(_fee(item.get("name"), item.get("amount"), i, False, errs))
            else:
                errs.append(("fees", f'Phí thứ {i} phải là một đối tượng {{"name", "amount"}}, '
                                     f"nhận được {_show(item)}"))
    else:
        errs.append(("fees", 'Phí, lệ phí phải là danh sách các mục {"name", "amount"}'
                             + (", hoặc dạng Tên phí:số tiền;Tên phí 2:số tiền" if csv_mode else "")))
    return tuple(fee for fee in out if fee is not None) if len(errs) == before else None


def _fee(name: Any, amount: Any, i: int, csv_mode: bool, errs: FieldErrors) -> Fee | None:
    name = _text(name, f"tên của phí thứ {i}", "fees", errs)
    money = _money(amount, csv_mode)
    if money is None:
        if amount is None or (isinstance(amount, str) and not amount.strip()):
            errs.append(("fees", f"Thiếu số tiền của phí thứ {i}"))
        else:
            errs.append(("fees", _money_message(f"Số tiền của phí thứ {i}", amount, csv_mode)))
    return Fee(name, money) if name is not None and money is not None else None


def _documents(value: Any, csv_mode: bool, errs: FieldErrors) -> tuple[str, ...] | None:
    if value is None:
        return ()
    if csv_mode and isinstance(value, str):
        items: Any = [p for p in value.split(";") if p.strip()]
    elif isinstance(value, (list, tuple)):
        items = value
    else:
        errs.append(("required_documents", "Thành phần hồ sơ phải là danh sách các chuỗi ký tự"
                                           + (" phân cách bằng dấu chấm phẩy" if csv_mode else "")))
        return None
    before = len(errs)
    docs = [_text(item, f"thành phần hồ sơ thứ {i}", "required_documents", errs)
            for i, item in enumerate(items, 1)]
    return tuple(docs) if len(errs) == before else None  # type: ignore[arg-type]


def _flag(value: Any, csv_mode: bool, errs: FieldErrors, *, name: str = "pay_before_accept",
          label: str = "Thu phí trước khi tiếp nhận", default: bool = False) -> bool | None:
    if value is None or (csv_mode and isinstance(value, str) and not value.strip()):
        return default
    if isinstance(value, bool):
        return value
    if csv_mode and isinstance(value, str):
        text = value.strip().lower()
        if text in _CSV_TRUE:
            return True
        if text in _CSV_FALSE:
            return False
        errs.append((name, f"{label} phải là true, false, 1, 0 hoặc để trống, nhận được {_show(value)}"))
        return None
    errs.append((name, f"{label} phải là true hoặc false, nhận được {_show(value)}"))
    return None


def _check_procedure(data: Mapping, csv_mode: bool) -> tuple[dict[str, Any], FieldErrors]:
    """Clean values of the fields that passed, and (field, message) for every one that did not."""
    errs: FieldErrors = []
    get = data.get
    v: dict[str, Any] = {}
    v["procedure_code"] = _code(get("procedure_code"), _CODE_RE, "không đúng dạng: một chữ số, dấu chấm và sáu "
                                "chữ số, ví dụ 1.001234", "mã thủ tục", "procedure_code", errs)
    v["name"] = _text(get("name"), "tên thủ tục", "name", errs)
    v["field"] = _text(get("field"), "lĩnh vực", "field", errs)
    v["field_code"] = _code(get("field_code"), _FIELD_CODE_RE, "chỉ được gồm chữ cái không dấu, chữ số, dấu chấm "
                            "và gạch dưới, ví dụ HT", "mã lĩnh vực", "field_code", errs)
    v["agency_id"] = _agency_id(get("agency_id"), "mã cơ quan", "agency_id", errs)
    v["processing_days"] = _processing_days(get("processing_days"), csv_mode, errs)
    v["online_level"] = _choice(get("online_level"), ONLINE_LEVELS, "mức độ trực tuyến",
                                "online_level", '"full" (toàn trình) hoặc "partial" (một phần)', errs)
    v["fees"] = _fees(get("fees"), csv_mode, errs)
    v["required_documents"] = _documents(get("required_documents"), csv_mode, errs)
    v["supplement_rule"] = _choice(
        get("supplement_rule"), SUPPLEMENT_RULES, "cách tính thời hạn sau khi bổ sung hồ sơ",
        "supplement_rule",
        '"resume" (tính tiếp thời gian còn lại) hoặc "restart" (tính lại từ đầu)', errs)
    v["pay_before_accept"] = _flag(get("pay_before_accept"), csv_mode, errs)
    v["steps"] = _steps(get("steps"), csv_mode, v["processing_days"], errs)
    v["result_is_document"] = _flag(get("result_is_document"), csv_mode, errs, name="result_is_document",
                                    label="Kết quả là giấy tờ (result_is_document)", default=True)
    v["payment_providers"] = _payment_providers(get("payment_providers"), csv_mode, errs)
    return {k: x for k, x in v.items() if x is not None}, errs


def _payment_providers(value: Any, csv_mode: bool, errs: FieldErrors) -> tuple[str, ...] | None:
    """The online providers a procedure allows, in order (CSV: "paygov;vnpay"). Missing or
    empty: every provider the stage offers."""
    if value is None:
        return ()
    if csv_mode and isinstance(value, str):
        value = [part.strip() for part in value.split(";") if part.strip()]
    if not isinstance(value, (list, tuple)) or any(name not in PAYMENT_PROVIDERS for name in value) \
            or len(set(value)) != len(value):
        errs.append(("payment_providers", "Cổng thanh toán (payment_providers) là danh sách không trùng lặp gồm "
                                          f"{', '.join(PAYMENT_PROVIDERS)}, nhận được {_show(value)}"))
        return None
    return tuple(value)


def _steps(value: Any, csv_mode: bool, processing_days: int | None, errs: FieldErrors) -> tuple[Step, ...] | None:
    """The internal process. Missing or empty: one step covering the whole processing time.
    The steps' days may not add up to more than the procedure's processing days."""
    if csv_mode and isinstance(value, str):
        if not value.strip():
            value = None
        else:
            try:
                value = json.loads(value)
            except (ValueError, RecursionError):   # RecursionError: arrays nested deeper than Python recurses
                errs.append(("steps", 'Cột "steps" phải là một mảng JSON các bước, ví dụ '
                                      '[{"name": "Thẩm định", "role": "officer", "unit": "Phòng Hộ tịch", "days": 3}]'))
                return None
    if value is None or (isinstance(value, (list, tuple)) and not value):
        return default_steps(processing_days) if processing_days is not None else None
    if not isinstance(value, (list, tuple)):
        errs.append(("steps", "Quy trình nội bộ (steps) phải là danh sách các bước"))
        return None
    if len(value) > MAX_STEPS:
        errs.append(("steps", f"Quy trình nội bộ có tối đa {MAX_STEPS} bước, nhận được {len(value)}"))
        return None
    before = len(errs)
    checked = [_step(item, i, errs) for i, item in enumerate(value, 1)]
    steps = [step for step in checked if step is not None]
    if len(errs) != before:
        return None
    total = sum(step.days for step in steps)
    if processing_days is not None and total > processing_days:
        errs.append(("steps", f"Tổng thời gian các bước ({total} ngày làm việc) vượt quá thời hạn "
                              f"giải quyết của thủ tục ({processing_days} ngày làm việc)"))
        return None
    return tuple(steps)


def _step(item: Any, i: int, errs: FieldErrors) -> Step | None:
    if isinstance(item, Step):
        return item
    values = _check_step(item, i, errs)
    return None if values is None else Step(**values)


def _check_step(item: Any, i: int, errs: FieldErrors) -> dict[str, Any] | None:
    """Clean values of step number ``i``, or None after adding its errors to ``errs``."""
    if not isinstance(item, Mapping):
        errs.append(("steps", f'Bước thứ {i} phải là một đối tượng {{"name", "role", "unit", "days"}}'))
        return None
    name = _text(item.get("name"), f"tên bước thứ {i}", "steps", errs)
    role = _choice(item.get("role"), STEP_ROLES, f"vai trò xử lý bước thứ {i}", "steps",
                   '"officer" (chuyên viên) hoặc "leader" (lãnh đạo)', errs)
    unit = _text(item.get("unit"), f"đơn vị xử lý bước thứ {i}", "steps", errs)
    days = _int(item.get("days"), False)
    if days is None or not 0 <= days <= MAX_PROCESSING_DAYS:
        errs.append(("steps", f"Số ngày làm việc của bước thứ {i} phải là số nguyên từ 0 đến "
                              f"{MAX_PROCESSING_DAYS}, nhận được {_show(item.get('days'))}"))
    agency = item.get("agency_id")
    if agency is not None:
        agency = _agency_id(agency, f"mã cơ quan của bước thứ {i}", "steps", errs)
        if agency is None:
            return None
    if None in (name, role, unit) or days is None or not 0 <= days <= MAX_PROCESSING_DAYS:
        return None
    return {"name": name, "role": role, "unit": unit, "days": days, "agency_id": agency}


def _check_agency(data: Mapping) -> tuple[dict[str, Any], FieldErrors]:
    errs: FieldErrors = []
    get = data.get
    v: dict[str, Any] = {}
    v["agency_id"] = _agency_id(get("agency_id"), "mã cơ quan", "agency_id", errs)
    v["name"] = _text(get("name"), "tên cơ quan", "name", errs)
    v["level"] = _choice(get("level"), AGENCY_LEVELS, "cấp cơ quan", "level",
                         '"province" (tỉnh), "department" (sở, ngành) hoặc "commune" (xã, phường)',
                         errs)
    parent = get("parent_id")
    if parent is None or (isinstance(parent, str) and not parent.strip()):
        v["parent_id"] = None
    else:
        v["parent_id"] = _agency_id(parent, "mã cơ quan cấp trên", "parent_id", errs)
        if v["parent_id"] is not None and v["parent_id"] == v["agency_id"]:
            errs.append(("parent_id", "Mã cơ quan cấp trên không được trùng với chính mã cơ quan"))
    _check_retirement(data, v, errs)
    clean = {k: x for k, x in v.items() if x is not None or k in ("parent_id", "successor", "effective_date")}
    return clean, errs


def _check_retirement(data: Mapping, v: dict[str, Any], errs: FieldErrors) -> None:
    """``status``, ``successor`` and ``effective_date``: absent in catalogues older than merger
    day, so an agency without them is active. A retired agency names the day it retired."""
    status = data.get("status") or "active"
    v["status"] = _choice(status, AGENCY_STATUSES, "trạng thái cơ quan", "status",
                          '"active" (đang hoạt động) hoặc "retired" (đã sáp nhập, giải thể)', errs)
    successor = data.get("successor")
    v["successor"] = _agency_id(successor, "mã cơ quan kế thừa", "successor", errs) if successor else None
    if v["successor"] is not None and v["successor"] == v.get("agency_id"):
        errs.append(("successor", "Cơ quan kế thừa không được trùng với chính cơ quan"))
    effective = data.get("effective_date")
    v["effective_date"] = None
    if effective:
        try:
            v["effective_date"] = date.fromisoformat(str(effective)).isoformat()
        except ValueError:
            errs.append(("effective_date", "Ngày hiệu lực phải có dạng YYYY-MM-DD"))
    elif status == "retired":
        errs.append(("effective_date", "Cơ quan đã ngừng hoạt động phải có ngày hiệu lực (YYYY-MM-DD)"))


# --------------------------------------------------------------------------- single records

def procedure_from_dict(data: Mapping) -> Procedure:
    """A Procedure from a mapping (e.g. ``to_dict()`` output). Raises CatalogueError with one
    RowError (line 0) per bad field. Unknown keys are ignored."""
    if not isinstance(data, Mapping):
        raise CatalogueError([RowError(0, None, "Thủ tục phải là một đối tượng (dict)")])
    values, errs = _check_procedure(data, False)
    if errs:
        raise CatalogueError(at_line(0, errs))
    return Procedure(**values)


def agency_from_dict(data: Mapping) -> Agency:
    if not isinstance(data, Mapping):
        raise CatalogueError([RowError(0, None, "Cơ quan phải là một đối tượng (dict)")])
    values, errs = _check_agency(data)
    if errs:
        raise CatalogueError(at_line(0, errs))
    return Agency(**values)


# --------------------------------------------------------------------------- files

def _collect_procedures(rows: Iterable[tuple[int, Mapping]], csv_mode: bool,
                        known_agencies: set[str] | None, prefix: Callable[[int], str],
                        ref: Callable[[int], str], errors: list[RowError]) -> list[Procedure]:
    """Validate every row, adding its errors to ``errors``; the procedures if none at all.
    ``prefix(line)`` starts each message; ``ref(line)`` names an earlier row."""
    first_line: dict[str, int] = {}
    out: list[Procedure] = []
    for line, data in rows:
        if too_many(errors):
            break
        values, errs = _check_procedure(data, csv_mode)
        code = values.get("procedure_code")
        if code is not None:
            if code in first_line:
                errs.append(("procedure_code",
                             f"Mã thủ tục {code} bị trùng với {ref(first_line[code])}"))
            else:
                first_line[code] = line
        agency = values.get("agency_id")
        if known_agencies is not None and agency is not None and agency not in known_agencies:
            errs.append(("agency_id", f'Mã cơ quan {agency} không có trong danh sách "agencies" '
                                      "của tệp"))
        if errs:
            errors += at_line(line, errs, prefix=prefix(line))
        elif not errors:
            out.append(Procedure(**values))
    return out


def _parse_json(text: str) -> tuple[list[Agency], list[Procedure]]:
    try:
        doc = read_json(text)
    except RowsRejected as rejected:
        raise CatalogueError(rejected.errors) from None
    if not isinstance(doc, dict):
        raise CatalogueError([RowError(0, None, 'Tệp JSON phải là một đối tượng có khóa '
                                                '"agencies" và "procedures"')])
    errors: list[RowError] = []
    raw_agencies = doc.get("agencies")
    raw_procedures = doc.get("procedures")
    if raw_agencies is None:
        raw_agencies = []
    if not isinstance(raw_agencies, list):
        errors.append(RowError(0, "agencies", '"agencies" phải là một danh sách'))
        raw_agencies = []
    if not isinstance(raw_procedures, list):
        errors.append(RowError(0, "procedures", 'Thiếu danh sách "procedures"' if raw_procedures
                               is None else '"procedures" phải là một danh sách'))
        raw_procedures = []

    agencies: list[Agency] = []
    first_agency: dict[str, int] = {}
    for n, item in enumerate(raw_agencies, 1):
        if too_many(errors):
            break
        prefix = f'Cơ quan thứ {n} trong "agencies": '
        if not isinstance(item, dict):
            errors.append(RowError(n, None, prefix + "phải là một đối tượng JSON"))
            continue
        values, errs = _check_agency(item)
        agency_id = values.get("agency_id")
        if agency_id is not None:
            if agency_id in first_agency:
                errs.append(("agency_id", f"Mã cơ quan {agency_id} bị trùng với cơ quan thứ "
                                          f"{first_agency[agency_id]}"))
            else:
                first_agency[agency_id] = n
        if errs:
            errors += at_line(n, errs, prefix=prefix)
        else:
            agencies.append(Agency(**values))

    # Every id the file names counts as declared, even in a bad row, so a typo in an agency
    # is reported once (on the agency), not again on each of its procedures.
    known = {item["agency_id"].strip() for item in raw_agencies
             if isinstance(item, dict) and isinstance(item.get("agency_id"), str)} or None
    rows: list[tuple[int, Mapping]] = []
    for n, item in enumerate(raw_procedures, 1):
        if too_many(errors):
            break
        if isinstance(item, dict):
            rows.append((n, item))
        else:
            errors.append(RowError(n, None, f'Thủ tục thứ {n} trong "procedures": phải là một '
                                            "đối tượng JSON"))
    procedures = _collect_procedures(rows, False, known,
                                     lambda n: f'Thủ tục thứ {n} trong "procedures": ',
                                     lambda n: f"thủ tục thứ {n}", errors)
    if errors:
        raise CatalogueError(errors)
    return agencies, procedures


def _parse_csv(text: str) -> list[Procedure]:
    errors: list[RowError] = []
    rows = read_csv(text, CSV_COLUMNS + OPTIONAL_CSV_COLUMNS, errors, required=CSV_COLUMNS)
    procedures = _collect_procedures(rows, True, None, lambda n: "", lambda n: f"dòng {n}", errors)
    if not procedures and not errors:   # a header alone: an export that went wrong, not an empty catalogue
        errors.append(RowError(None, None, "Tệp không có thủ tục nào"))
    if errors:
        raise CatalogueError(errors)   # in line order: the rows are checked as they are read
    return procedures


def parse_catalogue(text: str, fmt: str) -> tuple[list[Agency], list[Procedure]]:
    """Validate a whole catalogue file. Returns (agencies, procedures) only if every row is
    good; otherwise raises CatalogueError listing every bad row. A CSV holds procedures only.

    A procedure whose agency is not among the file's agencies is an error when the file
    declares agencies (a non-empty "agencies" list); otherwise the importer checks agencies.
    """
    if not isinstance(text, str):
        raise CatalogueError([RowError(0, None, "Nội dung tệp phải là văn bản (str)")])
    text = text.removeprefix("\ufeff")
    kind = (fmt or "").strip().lower().lstrip(".")
    if kind == "json":
        return _parse_json(text)
    if kind == "csv":
        return [], _parse_csv(text)
    raise CatalogueError([RowError(0, None, f'Định dạng {_show(fmt)} không được hỗ trợ: chỉ '
                                            'nhận "json" hoặc "csv"')])


def load_catalogue_file(path: str | Path, *, limit: int | None = None) -> tuple[list[Agency], list[Procedure]]:
    """Parse a .json or .csv catalogue file (UTF-8, optional BOM) of at most ``limit`` bytes
    (None: the packaged seed, read whole)."""
    path = Path(path)
    fmt = path.suffix.lower().lstrip(".")
    if fmt not in ("json", "csv"):
        raise CatalogueError([RowError(0, None, f"Tệp {path.name} phải có đuôi .json hoặc .csv")])
    try:
        text = read_file(path, limit=limit, by_line=fmt == "csv") if limit else decode(path.read_bytes())
    except RowsRejected as rejected:
        raise CatalogueError(rejected.errors) from None
    return parse_catalogue(text, fmt)


def catalogue_to_json(agencies: Iterable[Agency], procedures: Iterable[Procedure],
                      note: str | None = None) -> str:
    """The JSON file shape that ``parse_catalogue(..., "json")`` reads."""
    doc: dict[str, Any] = {"_note": note} if note else {}
    doc["agencies"] = [a.to_dict() for a in agencies]
    doc["procedures"] = [p.to_dict() for p in procedures]
    return json.dumps(doc, ensure_ascii=False, indent=2) + "\n"


def procedures_to_csv(procedures: Iterable[Procedure]) -> str:
    """The CSV shape that ``parse_catalogue(..., "csv")`` reads. Raises CatalogueError when a
    fee name or document contains ";" (the CSV list separator), which CSV cannot carry."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS + OPTIONAL_CSV_COLUMNS)
    errors: list[RowError] = []
    for line, p in enumerate(procedures, 2):
        bad = [f.name for f in p.fees if ";" in f.name] + [d for d in p.required_documents if ";" in d]
        if bad:
            errors.append(RowError(line, None, f"Thủ tục {p.procedure_code}: {_show(bad[0])} chứa "
                                               'dấu ";" nên không ghi được ra CSV'))
            continue
        writer.writerow([
            p.procedure_code, p.name, p.field, p.field_code, p.agency_id, p.processing_days,
            p.online_level, ";".join(f"{f.name}:{f.amount}" for f in p.fees),
            ";".join(p.required_documents), p.supplement_rule,
            "true" if p.pay_before_accept else "false",
            "true" if p.result_is_document else "false",
            json.dumps([step.to_dict() for step in p.steps], ensure_ascii=False),
            ";".join(p.payment_providers),
        ])
    if errors:
        raise CatalogueError(errors)
    return out.getvalue()


# --------------------------------------------------------------------------- search

_D_STROKE = str.maketrans({"đ": "d", "Đ": "D", "Ð": "D", "ð": "d"})  # Ð/ð: legacy lookalikes


@lru_cache(maxsize=8192)
def fold(text: str) -> str:
    """Case- and diacritic-insensitive form: "Đăng ký Hộ tịch" -> "dang ky ho tich".

    NFD/NFKD does not decompose đ/Đ (a letter of its own), so it is mapped first."""
    decomposed = unicodedata.normalize("NFKD", text.translate(_D_STROKE))
    return "".join(ch for ch in decomposed if unicodedata.category(ch) != "Mn").casefold()


def _squash(text: str) -> str:
    return " ".join(fold(text).split())


def search(procedures: Iterable[Procedure], agency_id: str | None = None,
           q: str | None = None) -> list[Procedure]:
    """Procedures of ``agency_id`` (if given) whose code, name or field contains ``q`` (if
    given), ignoring case, diacritics and repeated spaces. Sorted by procedure_code."""
    needle = _squash(q) if q else ""
    found = [
        p for p in procedures
        if (not agency_id or p.agency_id == agency_id)
        and (not needle or any(needle in _squash(s) for s in (p.procedure_code, p.name, p.field)))
    ]
    return sorted(found, key=lambda p: (p.procedure_code, p.agency_id))
