"""Audited corrections of a dossier's finish or return time (pure rules).

A dossier counted late because of a software fault or a mistaken click, while the paper
dossier was resolved on time, can be corrected: an officer asks, an admin approves or
rejects. Nothing is overwritten: the original value stays in the dossier, the correction
keeps who asked, who decided and when, and reports show raw and adjusted figures.
"""
from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, cast
from collections.abc import Mapping

from chalicelib.dossiers.rules.records import Correction, Dossier
from chalicelib.kernel.working_days import default_calendar, iso, parse_iso, parse_local
from chalicelib.kernel.errors import Conflict, NotFound, ValidationFailed

FIELDS = ("finished_at", "returned_at")
PENDING, APPROVED, REJECTED = "pending", "approved", "rejected"


def validate_request(body: Any, dossier: Mapping[str, Any], now: datetime) -> Correction:
    """The correction asked for. ``dossier`` is a Mapping: the field to correct is read by name."""
    if not isinstance(body, Mapping):
        raise ValidationFailed(fields={"body": "Phải là đối tượng JSON."})
    errors: dict[str, str] = {}
    field = body.get("field")
    if field not in FIELDS:
        errors["field"] = "Chỉ điều chỉnh được finished_at (thời điểm có kết quả) hoặc returned_at (thời điểm trả kết quả)."
    value, raw = None, body.get("value")
    try:
        value = parse_local(raw) if isinstance(raw, str) else None
    except ValueError:
        pass
    calendar = default_calendar()
    if value is None:
        errors["value"] = "Thời điểm phải theo ISO 8601 có múi giờ, ví dụ 2026-03-10T15:00:00+07:00."
    elif not calendar.covers(value.date()):
        errors["value"] = calendar.range_message()
    elif value > now:
        errors["value"] = "Không được điều chỉnh sang thời điểm trong tương lai."
    elif dossier.get("accepted_at") and value < parse_iso(dossier["accepted_at"]):
        errors["value"] = "Không được sớm hơn thời điểm tiếp nhận hồ sơ."
    reason = body.get("reason")
    if not isinstance(reason, str) or not reason.strip() or len(reason) > 2000:
        errors["reason"] = "Cần nêu lý do điều chỉnh (tối đa 2000 ký tự)."
    evidence = body.get("evidence_upload_id")
    if not isinstance(evidence, str) or len(evidence) != 32:
        errors["evidence_upload_id"] = "Cần tải lên tài liệu chứng minh (upload_id)."
    if errors or not isinstance(field, str) or value is None or not isinstance(reason, str):
        raise ValidationFailed(fields=errors)
    if not dossier.get(field):
        raise Conflict(f"Hồ sơ chưa có giá trị {field} nên không thể điều chỉnh.", code="nothing_to_correct")
    if any(c["field"] == field and c["state"] == PENDING for c in dossier.get("corrections", [])):
        raise Conflict("Đã có một đề nghị điều chỉnh đang chờ duyệt cho trường này.", code="correction_pending")
    return cast(Correction, {"id": uuid.uuid4().hex, "field": field, "original": dossier[field],  # all checked above
                             "value": iso(value), "reason": reason.strip(), "evidence_upload_id": evidence,
                             "state": PENDING})


def request(dossier: Dossier, correction: Correction, *, by: str, at: str) -> Correction:
    dossier.setdefault("corrections", []).append({**correction, "requested_by": by, "requested_at": at})
    dossier["version"] += 1
    return correction


def decide(dossier: Dossier, correction_id: str, *, approve: bool, by: str, at: str,
           note: str | None) -> Correction:
    for correction in dossier.get("corrections", []):
        if correction["id"] == correction_id:
            break
    else:
        raise NotFound("Không tìm thấy đề nghị điều chỉnh.", code="correction_not_found")
    if correction["state"] != PENDING:
        raise Conflict("Đề nghị điều chỉnh này đã được xử lý.", code="correction_decided",
                       extra={"current_status": correction["state"]})
    if correction["requested_by"] == by:
        raise Conflict("Người đề nghị không được tự duyệt đề nghị của mình.", code="self_approval")
    correction["state"] = APPROVED if approve else REJECTED
    correction["decided_by"], correction["decided_at"], correction["note"] = by, at, note or ""
    dossier["version"] += 1
    return correction
