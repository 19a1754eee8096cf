"""Dossier rules: what a valid submission is, how a dossier is coded, what each reader sees.

Pure domain code. A dossier is a ``Dossier`` (chalicelib.dossiers.rules.records declares its
keys); the repository persists it, this module decides everything about it, and its views
here are the one mapping of a dossier to the API.
"""
from __future__ import annotations

import re
from datetime import date, datetime, UTC
from typing import Any, cast
from collections.abc import Mapping

from chalicelib.catalogue.rules.procedures import Procedure
from chalicelib.dossiers.rules.records import (
    API_KEYS, REQUIRED_KEYS, Applicant, DecisionEntry, Dossier, FeeLine, FileRef,
)
from chalicelib.kernel.errors import ValidationFailed
from chalicelib.kernel.text import PHONE, hidden_character, is_ascii_digits, nfc, single_line_problem
from chalicelib.runtime.settings import settings
from chalicelib.payments.rules.ledger import payment_fields

CHANNELS = ("online", "direct", "postal")
NOTIFY_CHANNELS = ("sms", "zalo", "email")   # how the citizen wants to hear about the dossier
DEFAULT_NOTIFY = ("sms",)

_UPLOAD_ID = re.compile(r"^[0-9a-f]{32}$")


def dossier_code(agency_id: str, local_day: date, sequence: int) -> str:
    """``{agency}-{yyMMdd}-{NNNN}``; the sequence restarts each local day per agency."""
    return f"{agency_id}-{local_day:%y%m%d}-{sequence:04d}"



def _text(body: Mapping[str, Any], key: str, errors: dict[str, str], *, path: str, required: bool,
          max_len: int, label: str, single_line: bool = False) -> str | None:
    """A stripped string of at most ``max_len`` characters, or None with ``errors[path]`` set.
    The edge already refused hidden characters and normalised to NFC (chalicelib/kernel/text.py);
    a ``single_line`` value (a name, a code) refuses tab and line breaks too."""
    value = body.get(key)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            errors[path] = f"{label} là bắt buộc."
        return None
    if not isinstance(value, str):
        errors[path] = f"{label} phải là chuỗi ký tự."
        return None
    value = value.strip()
    if len(value) > max_len:
        errors[path] = f"{label} dài tối đa {max_len} ký tự."
        return None
    problem = single_line_problem(value) if single_line else None
    if problem:
        errors[path] = problem
        return None
    return value


text_field = _text


def validate_notify(raw: Any, applicant: Mapping[str, Any], errors: dict[str, str]) -> list[str]:
    """The citizen's notification channels (optional; SMS by default). Email needs an address."""
    if raw is None:   # SMS by default; an applicant without a phone hears by email, or by post
        return list(DEFAULT_NOTIFY) if applicant.get("phone") else ["email"] if applicant.get("email") else []
    if not isinstance(raw, list) or any(c not in NOTIFY_CHANNELS for c in raw):
        errors["notify"] = "Kênh nhận thông báo (notify) là danh sách gồm: " + ", ".join(NOTIFY_CHANNELS) + "."
        return []
    if "email" in raw and not applicant.get("email"):
        errors["notify"] = "Muốn nhận thông báo qua email thì cần khai báo email của người nộp."
    if ("sms" in raw or "zalo" in raw) and not applicant.get("phone"):
        errors["notify"] = "Muốn nhận thông báo qua SMS hoặc Zalo thì cần số điện thoại của người nộp."
    return list(dict.fromkeys(raw))


APPLICANT_TYPES = ("citizen", "business", "agency", "organization")
RESULT_DELIVERY = ("desk", "post")   # national HinhThuc "0" / "1" (docs/national-portal.md)
# What each kind of applicant must name besides a way to reach them (docs/domain.md,
# "Applicants"): a person their 12-digit personal id (Law on Identification 2023); a business
# its tax code (Law on Tax Administration 38/2019, Circular 86/2024/TT-BTC: 10 digits, a
# branch 10-3), its registered name and its legal representative.
_REQUIRED_BY_TYPE: dict[str, tuple[str, ...]] = {
    "citizen": ("full_name", "id_number"),
    "business": ("organization_name", "tax_code", "legal_representative"),
    "agency": ("organization_name",),
    "organization": ("organization_name",),
}
_APPLICANT_FIELDS = (   # key, max length, label
    ("full_name", 200, "Họ và tên"),
    ("id_number", 64, "Số định danh cá nhân"),
    ("phone", 15, "Số điện thoại"),
    ("email", 254, "Email"),
    ("address", 500, "Địa chỉ"),
    ("tax_code", 64, "Mã số thuế"),
    ("organization_name", 300, "Tên tổ chức, doanh nghiệp"),
    ("legal_representative", 200, "Người đại diện theo pháp luật"),
)
_FORMATS: dict[str, tuple[re.Pattern[str], str]] = {
    "id_number": (re.compile(r"^[0-9]{12}$"), "Số định danh cá nhân phải gồm đúng 12 chữ số."),
    "phone": (PHONE, "Số điện thoại không hợp lệ (ví dụ: 0912345678)."),
    "email": (re.compile(r"^[^@\s]{1,64}@[^@\s]{1,255}\.[^@\s]{2,}$"), "Địa chỉ email không hợp lệ."),
    "tax_code": (re.compile(r"^[0-9]{10}(?:-[0-9]{3})?$"),
                 "Mã số thuế gồm 10 chữ số, hoặc 10 chữ số, dấu gạch ngang và 3 chữ số (chi nhánh)."),
}


def validate_applicant(raw: Any, errors: dict[str, str]) -> dict[str, str]:
    """The applicant of any kind (``type``, citizen when absent). The phone is needed only
    when neither an email nor a postal address is given: a business or a walk-in citizen
    without a phone is still reachable (Decree 118/2025 lets any of them apply)."""
    if not isinstance(raw, Mapping):
        errors["applicant"] = "Thông tin người nộp (applicant) là bắt buộc và phải là đối tượng JSON."
        return {}
    kind = raw.get("type", "citizen")
    if kind not in APPLICANT_TYPES:
        errors["applicant.type"] = "Loại người nộp (type) phải là một trong: " + ", ".join(APPLICANT_TYPES) + "."
        return {}
    required = _REQUIRED_BY_TYPE[kind]
    applicant: dict[str, str] = {"type": kind}
    for key, max_len, label in _APPLICANT_FIELDS:
        path = f"applicant.{key}"
        value = _text(raw, key, errors, path=path, required=key in required, max_len=max_len, label=label,
                      single_line=True)
        if value is None:
            continue
        value = value.replace(" ", "") if key == "phone" else value
        pattern, message = _FORMATS.get(key, (None, ""))
        if pattern is not None and not pattern.fullmatch(value):
            errors[path] = message
        else:
            applicant[key] = value
    if not any(raw.get(key) for key in ("phone", "email", "address")) and "applicant.phone" not in errors:
        errors["applicant.phone"] = "Cần ít nhất một cách liên hệ: số điện thoại, email hoặc địa chỉ."
    return applicant


def validate_result_delivery(raw: Any, applicant: Mapping[str, Any], errors: dict[str, str]) -> str:
    """How the result goes back: at the desk (default) or by post, which needs the postal
    address (the public postal service, Decision 45/2016/QĐ-TTg; HinhThuc 1)."""
    if raw is None:
        return "desk"
    if raw not in RESULT_DELIVERY:
        errors["result_delivery"] = "Hình thức nhận kết quả (result_delivery) phải là desk hoặc post."
        return "desk"
    if raw == "post" and not applicant.get("address") and "applicant.address" not in errors:
        errors["applicant.address"] = "Nhận kết quả qua bưu chính thì cần địa chỉ nhận (applicant.address)."
    return str(raw)


def validate_attachments(raw: Any, errors: dict[str, str], *, key: str = "attachments",
                         limit: int | None = None) -> list[FileRef]:
    """At most ``limit`` file references (default: a submission's, MOTCUA_MAX_ATTACHMENTS)."""
    if raw is None:
        return []
    if not isinstance(raw, list):
        errors[key] = "Danh sách tệp đính kèm phải là mảng."
        return []
    most = limit if limit is not None else settings().dossier_limits.attachments
    if len(raw) > most:
        errors[key] = f"Tối đa {most} tệp đính kèm."
        return []
    items: list[FileRef] = []
    seen: set[str] = set()
    for i, item in enumerate(raw):
        path = f"{key}[{i}]"
        if not isinstance(item, Mapping):
            errors[path] = "Mỗi tệp đính kèm phải có upload_id và name."
            continue
        upload_id = item.get("upload_id")
        name = item.get("name")
        if not isinstance(upload_id, str) or not _UPLOAD_ID.match(upload_id):
            errors[f"{path}.upload_id"] = "Mã tệp tải lên (upload_id) không hợp lệ."
            continue
        if upload_id in seen:
            errors[f"{path}.upload_id"] = "Tệp này đã được đính kèm ở mục khác."
            continue
        safe = safe_file_name(name)
        if safe is None:
            errors[f"{path}.name"] = file_name_problem()
            continue
        seen.add(upload_id)
        ref: FileRef = {"upload_id": upload_id, "name": safe}
        ref.update(_index_marks(item, path, errors))  # type: ignore[typeddict-item]
        items.append(ref)
    return items


def file_name_problem() -> str:
    return (f"Tên tệp không hợp lệ (tối đa {settings().dossier_limits.file_name_bytes} byte UTF-8, "
            "không chứa đường dẫn, ký tự điều khiển hay ký tự đảo chiều văn bản).")


_REFERENCE = re.compile(r"^[A-Za-z0-9._:/#-]{1,120}$")


def _index_marks(item: Mapping[str, Any], path: str, errors: dict[str, str]) -> dict[str, Any]:
    """The optional marks the national index counts (766, 4.2–4.4): ``digitised``,
    ``from_citizen_store`` (booleans) and ``reused_from`` (the reference of the earlier result,
    e.g. a dossier code or result document id). Absent marks are left out, not stored false."""
    marks: dict[str, Any] = {}
    for key in ("digitised", "from_citizen_store"):
        value = item.get(key)
        if value is None:
            continue
        if not isinstance(value, bool):
            errors[f"{path}.{key}"] = "Phải là true hoặc false."
        elif value:
            marks[key] = True
    reused = item.get("reused_from")
    if reused is not None:
        if not isinstance(reused, str) or not _REFERENCE.match(reused.strip()):
            errors[f"{path}.reused_from"] = "Mã kết quả được tái sử dụng không hợp lệ (1–120 ký tự, không dấu cách)."
        else:
            marks["reused_from"] = reused.strip()
    return marks


def safe_file_name(name: Any) -> str | None:
    """A display name with no path parts, control or bidi characters, of at most
    MOTCUA_MAX_FILE_NAME_BYTES in UTF-8 (255, as most file systems), or None if unusable."""
    if not isinstance(name, str):
        return None
    name = nfc(name.strip())
    if not name or len(name.encode("utf-8")) > settings().dossier_limits.file_name_bytes or name in (".", ".."):
        return None
    if any(ch in name for ch in "/\\") or hidden_character(name, multiline=False):
        return None   # a path, a control character, or a bidi override disguising the extension
    return name


def validate_submission(body: Any) -> dict[str, Any]:
    """Check a submission body; raise ValidationFailed naming every bad field."""
    if not isinstance(body, Mapping):
        raise ValidationFailed("Nội dung yêu cầu phải là một đối tượng JSON.", fields={"body": "Phải là đối tượng JSON."})
    errors: dict[str, str] = {}
    procedure_code = _text(body, "procedure_code", errors, path="procedure_code", required=True,
                           max_len=20, label="Mã thủ tục", single_line=True)
    applicant = validate_applicant(body.get("applicant"), errors)
    summary = _text(body, "summary", errors, path="summary", required=False, max_len=1000, label="Trích yếu hồ sơ")
    form = body.get("form", {})
    if form is None:
        form = {}
    if not isinstance(form, Mapping):
        errors["form"] = "Tờ khai (form) phải là đối tượng JSON."
    elif len(_compact_json(form).encode("utf-8")) > settings().dossier_limits.form_bytes:
        errors["form"] = f"Tờ khai vượt quá {settings().dossier_limits.form_bytes} byte (JSON, UTF-8)."
    attachments = validate_attachments(body.get("attachments"), errors)
    notify = validate_notify(body.get("notify"), applicant, errors)
    result_delivery = validate_result_delivery(body.get("result_delivery"), applicant, errors)
    if errors:
        raise ValidationFailed(fields=errors)
    return {
        "procedure_code": procedure_code,
        "applicant": applicant,
        "summary": summary or "",
        "form": dict(form),
        "attachments": attachments,
        "notify": notify,
        "result_delivery": result_delivery,
    }


def _compact_json(value: Any) -> str:
    import json

    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def new_dossier(*, code: str, submission: Mapping[str, Any], procedure: Procedure, owner_sub: str,
                channel: str, submitted_at: str, receiving_agency_id: str | None = None) -> Dossier:
    """The dossier as first stored. Procedure rules are copied in, so a later catalogue edit
    never changes the deadline of a dossier already in progress. ``receiving_agency_id`` is the
    desk that took it, which may be another agency's (Decree 118/2025: any one-stop desk of
    the province); online, it is the competent agency itself."""
    from chalicelib.dossiers.rules.processing import initial_steps

    fees: list[FeeLine] = [{"name": fee.name, "amount": fee.amount} for fee in procedure.fees]
    return {
        "code": code,
        "status": "submitted",
        "version": 1,
        "channel": channel,
        "owner_sub": owner_sub,
        "procedure_code": procedure.procedure_code,
        "procedure_name": procedure.name,
        "field": procedure.field,
        "field_code": procedure.field_code,
        "agency_id": procedure.agency_id,
        "processing_days": procedure.processing_days,
        "supplement_rule": procedure.supplement_rule,
        "pay_before_accept": procedure.pay_before_accept,
        "payment_providers": list(procedure.payment_providers),
        "online_level": procedure.online_level,
        "applicant": cast(Applicant, dict(submission["applicant"])),
        "summary": submission["summary"],
        "form": submission["form"],
        "attachments": list(submission["attachments"]),
        "fees": fees,
        "amount_due": sum(fee["amount"] for fee in fees),
        "submitted_at": submitted_at,
        "accepted_at": None,
        "due_at": None,
        "pauses": [],
        "decisions": [],
        "notify": list(submission.get("notify", DEFAULT_NOTIFY)),
        "consent": None,
        "received_by": None,
        "receiving_agency_id": receiving_agency_id or procedure.agency_id,
        "result_delivery": submission.get("result_delivery", "desk"),
        "steps": initial_steps(procedure),
        "step": None,
        "step_history": [],
        "holder_agency_id": procedure.agency_id,
        "agencies": [procedure.agency_id],
        "extension_days": 0,
        "extensions": [],
        "supplements": [],
        "result": None,
        "finished_at": None,
        "returned_at": None,
        "return_method": None,
        "rating": None,
        "result_is_document": procedure.result_is_document,
    }


def submission_response(dossier: Dossier) -> dict[str, Any]:
    return {
        "dossier_code": dossier["code"],
        "status": dossier["status"],
        "submitted_at": dossier["submitted_at"],
        "procedure_code": dossier["procedure_code"],
        "agency_id": dossier["agency_id"],
        "fees": dossier["fees"],
        "amount_due": dossier["amount_due"],
    }


def full_view(dossier: Dossier) -> dict[str, Any]:
    """What the owner, the agency's officers and admins see: every key records.Dossier marks
    ``API`` (None for a later key an older dossier lacks), and its money."""
    stored: Mapping[str, Any] = dossier
    view = {key: stored[key] if key in REQUIRED_KEYS else stored.get(key) for key in API_KEYS}
    view["dossier_code"] = view.pop("code")
    view.update(payment_fields(dossier, datetime.now(UTC)))
    return view


def list_view(dossier: Dossier, desk: str | None = None) -> dict[str, Any]:
    """A list item; in an agency's list, ``received_here`` marks what its own desk took in
    (walk-in or by post), whichever agency is competent (Decree 118/2025)."""
    view: dict[str, Any] = {
        "dossier_code": dossier["code"],
        "status": dossier["status"],
        "procedure_code": dossier["procedure_code"],
        "procedure_name": dossier["procedure_name"],
        "agency_id": dossier["agency_id"],
        "receiving_agency_id": dossier.get("receiving_agency_id", dossier["agency_id"]),
        "applicant_name": applicant_name(dossier["applicant"]),
        "submitted_at": dossier["submitted_at"],
        "due_at": dossier["due_at"],
    }
    if desk is not None:
        view["received_here"] = dossier.get("channel", "online") != "online" and view["receiving_agency_id"] == desk
    return view


def applicant_name(applicant: Mapping[str, Any]) -> str | None:
    """The name a list shows: the business or body's name, else the person's."""
    return applicant.get("organization_name") or applicant.get("full_name")


def public_view(dossier: Dossier, agency_name: str) -> dict[str, Any]:
    """Anonymous progress lookup: no names, numbers, addresses or documents."""
    return {
        "dossier_code": dossier["code"],
        "status": dossier["status"],
        "procedure_name": dossier["procedure_name"],
        "agency_id": dossier["agency_id"],
        "agency_name": agency_name,
        "submitted_at": dossier["submitted_at"],
        "accepted_at": dossier["accepted_at"],
        "due_at": dossier["due_at"],
    }


def stored_file(dossier: Dossier, upload_id: str) -> FileRef | None:
    """An attachment (submitted or supplied) or result document of the dossier, by upload id."""
    result = dossier.get("result")
    for item in [*dossier.get("attachments", []), *(result.get("documents", []) if result else [])]:
        if item["upload_id"] == upload_id:
            return item
    return None


def record_uploader(dossier: Dossier, items: list[FileRef], sub: str) -> None:
    """Remember whose upload space holds each file (not shown in any view): the submitter's,
    the desk officer's, the officer's who issued a result, or the integration client's."""
    dossier.setdefault("uploaders", {}).update({item["upload_id"]: sub for item in items})


def uploader_of(dossier: Dossier, upload_id: str) -> str:
    """Whose upload space holds the file; for files recorded before ``uploaders`` existed,
    the desk officer who received the dossier, or its owner."""
    return dossier.get("uploaders", {}).get(upload_id) or dossier.get("received_by") or dossier["owner_sub"]


def phone_matches(dossier: Dossier, last4: str) -> bool:
    import hmac

    phone = dossier["applicant"].get("phone", "")
    return len(last4) == 4 and is_ascii_digits(last4) and hmac.compare_digest(phone[-4:], last4)


def decide(dossier: Dossier, *, action: str, status: str, at: str, by: str, **details: Any) -> Dossier:
    """Apply an officer decision to the dossier (status, version, decision log). ``details``
    are the use case's own DecisionEntry keys (workflow.AUDITED, due_at, effective_at…)."""
    dossier["status"] = status
    dossier["version"] += 1
    dossier["decisions"].append(cast(DecisionEntry, {"action": action, "at": at, "by": by, **details}))
    return dossier

