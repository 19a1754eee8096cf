"""What each workflow action accepts: body checks with Vietnamese field messages. Pure.

``parse(action, body)`` returns clean parameters or raises ValidationFailed naming every bad
field. Checks that need the dossier (does step 3 exist? is the back-dated time after the
last transition?) live in chalicelib/dossiers/rules/processing.py.
"""
from __future__ import annotations

from typing import Any
from collections.abc import Callable, Mapping

from chalicelib.dossiers.rules.records import FileRef
from chalicelib.dossiers.rules.submission import text_field, validate_attachments
from chalicelib.kernel.errors import ValidationFailed
from chalicelib.runtime.settings import settings

DECISIONS = ("approved", "rejected")
RETURN_METHODS = ("desk", "post", "online")
RATING_CRITERIA = tuple(str(n) for n in range(1, 10))   # the national index's 9 criteria (domain.md §6)
MAX_REQUESTED_DOCUMENTS = 30

Errors = dict[str, str]


def _reason(body: Mapping[str, Any], errors: Errors, *, required: bool, label: str = "Lý do") -> str | None:
    return text_field(body, "reason", errors, path="reason", required=required, max_len=2000, label=label)


def _choice(body: Mapping[str, Any], key: str, allowed: tuple[str, ...], errors: Errors, label: str) -> str | None:
    value = body.get(key)
    if value not in allowed:
        errors[key] = f"{label} phải là một trong: {', '.join(allowed)}."
        return None
    return value


def _int(value: Any, lo: int, hi: int) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and lo <= value <= hi else None


def _effective_at(body: Mapping[str, Any], errors: Errors) -> str | None:
    value = body.get("effective_at")
    if value is not None and not isinstance(value, str):
        errors["effective_at"] = "Thời điểm hiệu lực phải là chuỗi ISO 8601 có múi giờ."
    return value


def _forward(body: Mapping[str, Any], errors: Errors) -> dict[str, Any]:
    to_step = _int(body.get("to_step"), 1, 1000)
    if to_step is None:
        errors["to_step"] = "Bước chuyển đến (to_step) là bắt buộc và là số thứ tự bước, bắt đầu từ 1."
    assignee = text_field(body, "assignee", errors, path="assignee", required=False, max_len=128,
                          label="Người được giao xử lý", single_line=True)
    note = text_field(body, "note", errors, path="note", required=False, max_len=2000, label="Ghi chú")
    return {"to_step": to_step, "assignee": assignee, "note": note}


def _request_supplement(body: Mapping[str, Any], errors: Errors) -> dict[str, Any]:
    reason = _reason(body, errors, required=True, label="Lý do yêu cầu bổ sung")
    raw = body.get("documents")
    documents: list[str] = []
    if not isinstance(raw, list) or not raw:
        errors["documents"] = "Cần liệt kê ít nhất một giấy tờ công dân phải bổ sung."
    elif len(raw) > MAX_REQUESTED_DOCUMENTS:
        errors["documents"] = f"Tối đa {MAX_REQUESTED_DOCUMENTS} giấy tờ."
    else:
        for i, item in enumerate(raw):
            if not isinstance(item, str) or not item.strip() or len(item) > 500:
                errors[f"documents[{i}]"] = "Tên giấy tờ phải là chuỗi 1–500 ký tự."
            else:
                documents.append(item.strip())
    _bound_request(reason, documents, errors)
    return {"reason": reason, "documents": documents}


def _bound_request(reason: str | None, documents: list[str], errors: Errors) -> None:
    """A request is kept three times (the supplement, its pause, the decision log) in each of
    up to MOTCUA_MAX_SUPPLEMENT_ROUNDS rounds, so its size is bounded in bytes, not characters."""
    limit = settings().dossier_limits.supplement_request_bytes
    if reason is not None and len((reason + "".join(documents)).encode("utf-8")) > limit:
        errors["documents" if documents else "reason"] = (
            f"Lý do và danh sách giấy tờ cần bổ sung dài tối đa {limit} byte (UTF-8) cộng lại.")


def _attachments(body: Mapping[str, Any], errors: Errors, key: str, message: str,
                 limit: int | None = None) -> list[FileRef]:
    items = validate_attachments(body.get(key), errors, key=key, limit=limit)
    if not items and key not in errors and not any(k.startswith(f"{key}[") for k in errors):
        errors[key] = message
    return items


def _supplement(body: Mapping[str, Any], errors: Errors) -> dict[str, Any]:
    return {"attachments": _attachments(body, errors, "attachments", "Cần đính kèm ít nhất một tệp bổ sung.",
                                        limit=settings().dossier_limits.supplement_attachments)}


def _extend(body: Mapping[str, Any], errors: Errors) -> dict[str, Any]:
    reason = _reason(body, errors, required=True, label="Lý do gia hạn")
    new_due = body.get("new_due_date")
    if not isinstance(new_due, str) or not new_due.strip():
        errors["new_due_date"] = "Ngày hẹn trả mới (new_due_date) là bắt buộc, dạng YYYY-MM-DD."
    return {"reason": reason, "new_due_date": new_due}


def _stop(body: Mapping[str, Any], errors: Errors) -> dict[str, Any]:
    return {"reason": _reason(body, errors, required=True, label="Lý do dừng xử lý")}


def _withdraw(body: Mapping[str, Any], errors: Errors) -> dict[str, Any]:
    return {"reason": _reason(body, errors, required=False, label="Lý do rút hồ sơ")}


def _issue_result(body: Mapping[str, Any], errors: Errors) -> dict[str, Any]:
    documents = _attachments(body, errors, "documents",
                             "Cần đính kèm ít nhất một văn bản kết quả giải quyết (documents).")
    decision = _choice(body, "decision", DECISIONS, errors, "Quyết định (decision)")
    return {"documents": documents, "decision": decision, "effective_at": _effective_at(body, errors)}


def _return_result(body: Mapping[str, Any], errors: Errors) -> dict[str, Any]:
    method = _choice(body, "method", RETURN_METHODS, errors, "Hình thức trả kết quả (method)")
    return {"method": method, "effective_at": _effective_at(body, errors)}


def _rate(body: Mapping[str, Any], errors: Errors) -> dict[str, Any]:
    raw = body.get("criteria")
    criteria: dict[str, int] = {}
    if not isinstance(raw, Mapping):
        errors["criteria"] = 'Cần chấm đủ 9 tiêu chí, dạng {"1": 2, …, "9": 1}.'
    else:
        for key in raw:
            if key not in RATING_CRITERIA:
                errors[f"criteria.{key}"] = "Chỉ có các tiêu chí từ 1 đến 9."
        for key in RATING_CRITERIA:
            score = _int(raw.get(key), 0, 2)
            if score is None:
                errors[f"criteria.{key}"] = f"Tiêu chí {key} phải được chấm 0, 1 hoặc 2 điểm."
            else:
                criteria[key] = score
    overall = _int(body.get("overall"), 1, 5)
    if overall is None:
        errors["overall"] = "Mức hài lòng chung (overall) phải là số nguyên từ 1 đến 5."
    comment = text_field(body, "comment", errors, path="comment", required=False, max_len=1000, label="Góp ý")
    return {"criteria": criteria, "overall": overall, "comment": comment}


PARSERS: dict[str, Callable[[Mapping[str, Any], Errors], dict[str, Any]]] = {
    "forward": _forward,
    "request_supplement": _request_supplement,
    "supplement": _supplement,
    "extend": _extend,
    "stop": _stop,
    "withdraw": _withdraw,
    "issue_result": _issue_result,
    "return_result": _return_result,
    "rate": _rate,
}


def parse(action: str, body: Any) -> dict[str, Any]:
    if not isinstance(body, Mapping):
        raise ValidationFailed("Nội dung yêu cầu phải là một đối tượng JSON.", fields={"body": "Phải là đối tượng JSON."})
    errors: Errors = {}
    params = PARSERS[action](body, errors)
    if errors:
        raise ValidationFailed(fields=errors)
    return params
