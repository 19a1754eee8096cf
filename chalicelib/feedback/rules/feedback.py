"""Citizens' feedback (phản ánh, kiến nghị): what a valid one is, how it is handled, and when
its handling is on time. Pure domain code.

A feedback is about a dossier or about an agency in general, and is classified as about the
regulations and procedures or about an officer's conduct (Decree 20/2008/NĐ-CP on receiving
and handling feedback on administrative regulations; the 766 index's group 5). It is received
online from a citizen or recorded by a desk officer who took it by phone. The agency answers
it (the answer is published unless it holds personal matters), refuses it with a reason, or
first asks for more information once (the citizen, or the officer for a call, supplies it);
the citizen may like or dislike the answer.

On time (766, 5.2; docs/index766.md): a refusal within 2 working days of receipt, a request
for more information within 5, an answer within 15 (the days waiting for the citizen's
information do not count). A feedback still open is on time while the day is not past its
answer deadline.
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any, TypedDict

from chalicelib.kernel.errors import Conflict, ValidationFailed
from chalicelib.kernel.text import is_phone

KINDS = ("procedure", "conduct")       # regulations/procedures | an officer's conduct
CHANNELS = ("online", "phone")
REACTIONS = ("like", "dislike")
REFUSE_DAYS, SUPPLEMENT_DAYS, ANSWER_DAYS = 2, 5, 15
MAX_CONTENT = 4000
_DOSSIER_CODE = re.compile(r"^[A-Za-z0-9._]{1,64}-[0-9]{6}-[0-9]{4}\Z")


class Feedback(TypedDict, total=False):
    """One feedback. Times are ISO 8601 with +07:00."""
    id: str
    version: int
    agency_id: str
    dossier_code: str | None
    kind: str
    title: str
    content: str
    channel: str                 # online | phone
    submitted_by: str            # the citizen's subject, or phone:{officer}
    recorded_by: str | None      # the desk officer who took it by phone
    contact: dict[str, str]      # full_name, phone (recorded by phone: how to answer)
    received_at: str
    status: str                  # received | supplement_requested | answered | refused
    supplement: dict[str, Any] | None
    answer: dict[str, Any] | None
    refusal: dict[str, Any] | None
    published: bool
    reaction: str | None


# What the audit record of a change may copy (chalicelib.trust.rules.audit.feedback_change):
# values about the handling, never about the person. The title, content, contact, the answer's
# text, the reasons and the citizen's further information are named in ``changed``, never copied;
# so is who filed it (a citizen's subject). ``by`` is the officer who acted.
AUDIT_VALUE_KEYS = frozenset({"status", "version", "agency_id", "dossier_code", "kind", "channel", "received_at",
                              "published", "reaction"})
AUDIT_NESTED_KEYS = frozenset({"answer", "refusal", "supplement"})      # changes named one level deep
AUDIT_MEMBER_PATHS = frozenset({"answer.answered_at", "answer.by", "refusal.at", "refusal.by",
                                "supplement.requested_at", "supplement.by", "supplement.ended_at"})


def _text(body: Mapping[str, Any], key: str, errors: dict[str, str], *, required: bool, max_len: int,
          label: str) -> str | None:
    value = body.get(key)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            errors[key] = f"{label} là bắt buộc."
        return None
    if not isinstance(value, str):
        errors[key] = f"{label} phải là chuỗi ký tự."
        return None
    if len(value.strip()) > max_len:
        errors[key] = f"{label} dài tối đa {max_len} ký tự."
        return None
    return value.strip()


def validate_submission(body: Any, *, by_phone: bool) -> dict[str, Any]:
    """A new feedback's fields; ValidationFailed names every bad one. ``by_phone``: recorded
    by an officer, who must say whom to answer."""
    if not isinstance(body, Mapping):
        raise ValidationFailed("Nội dung yêu cầu phải là một đối tượng JSON.", fields={"body": "Phải là đối tượng JSON."})
    errors: dict[str, str] = {}
    kind = body.get("kind")
    if kind not in KINDS:
        errors["kind"] = "Phân loại (kind) phải là procedure (quy định, thủ tục) hoặc conduct (hành vi của cán bộ)."
    title = _text(body, "title", errors, required=True, max_len=200, label="Tiêu đề")
    content = _text(body, "content", errors, required=True, max_len=MAX_CONTENT, label="Nội dung phản ánh")
    dossier_code = _text(body, "dossier_code", errors, required=False, max_len=90, label="Mã hồ sơ")
    if dossier_code and not _DOSSIER_CODE.match(dossier_code):
        errors["dossier_code"] = "Mã hồ sơ không đúng dạng {cơ quan}-{yyMMdd}-{NNNN}."
    agency_id = _text(body, "agency_id", errors, required=False, max_len=64, label="Mã cơ quan")
    if not dossier_code and not agency_id:
        errors["agency_id"] = "Phản ánh chung phải nêu cơ quan (agency_id); phản ánh về hồ sơ nêu dossier_code."
    contact: dict[str, str] = {}
    raw_contact = body.get("contact") or {}
    if not isinstance(raw_contact, Mapping):
        errors["contact"] = "Thông tin liên hệ (contact) phải là đối tượng JSON."
    else:
        name = _text(raw_contact, "full_name", errors, required=by_phone, max_len=200, label="Họ và tên")
        phone = _text(raw_contact, "phone", errors, required=by_phone, max_len=15, label="Số điện thoại")
        if phone and not is_phone(phone.replace(" ", "")):
            errors["contact.phone"] = "Số điện thoại không hợp lệ (ví dụ: 0912345678)."
        contact = {k: v for k, v in (("full_name", name), ("phone", phone and phone.replace(" ", ""))) if v}
        for key in ("full_name", "phone"):   # the field errors name the path
            if key in errors:
                errors[f"contact.{key}"] = errors.pop(key)
    if errors:
        raise ValidationFailed(fields=errors)
    return {"kind": kind, "title": title, "content": content, "dossier_code": dossier_code,
            "agency_id": agency_id, "contact": contact}


def new_feedback(*, feedback_id: str, fields: Mapping[str, Any], agency_id: str, channel: str,
                 submitted_by: str, recorded_by: str | None, received_at: str) -> Feedback:
    return {
        "id": feedback_id, "version": 1, "agency_id": agency_id, "dossier_code": fields.get("dossier_code"),
        "kind": fields["kind"], "title": fields["title"], "content": fields["content"], "channel": channel,
        "submitted_by": submitted_by, "recorded_by": recorded_by, "contact": dict(fields.get("contact") or {}),
        "received_at": received_at, "status": "received", "supplement": None, "answer": None, "refusal": None,
        "published": False, "reaction": None,
    }


# --- handling -----------------------------------------------------------------------------

OPEN = ("received", "supplement_requested")


def _require(feedback: Feedback, statuses: tuple[str, ...], action: str) -> None:
    if feedback["status"] not in statuses:
        raise Conflict(f"Không thể {action} phản ánh ở trạng thái {feedback['status']}.", code="invalid_transition")


def reason_of(body: Any, key: str, label: str, max_len: int = 4000) -> str:
    if not isinstance(body, Mapping):
        raise ValidationFailed(fields={"body": "Phải là đối tượng JSON."})
    errors: dict[str, str] = {}
    value = _text(body, key, errors, required=True, max_len=max_len, label=label)
    if value is None:
        raise ValidationFailed(fields=errors)
    return value


def answer(feedback: Feedback, text: str, *, publish: bool, at: str, by: str) -> None:
    """Answer it; the answer is published unless it holds personal matters (``publish`` false)."""
    _require(feedback, OPEN, "trả lời")
    feedback["status"], feedback["published"] = "answered", publish
    feedback["answer"] = {"text": text, "answered_at": at, "by": by}


def refuse(feedback: Feedback, reason: str, *, at: str, by: str) -> None:
    _require(feedback, ("received",), "từ chối")
    feedback["status"], feedback["refusal"] = "refused", {"reason": reason, "at": at, "by": by}


def request_supplement(feedback: Feedback, reason: str, *, at: str, by: str) -> None:
    _require(feedback, ("received",), "yêu cầu bổ sung")
    if feedback.get("supplement"):
        raise Conflict("Phản ánh đã được yêu cầu bổ sung một lần.", code="invalid_transition")
    feedback["status"] = "supplement_requested"
    feedback["supplement"] = {"reason": reason, "requested_at": at, "by": by}


def supply(feedback: Feedback, content: str, *, at: str, by: str) -> None:
    """The citizen's further information: the wait ends and the answer's clock runs again."""
    _require(feedback, ("supplement_requested",), "bổ sung thông tin cho")
    feedback["supplement"] = {**(feedback.get("supplement") or {}), "ended_at": at, "content": content,
                              "supplied_by": by}
    feedback["status"] = "received"


def react(feedback: Feedback, reaction: Any) -> None:
    if reaction not in REACTIONS:
        raise ValidationFailed(fields={"reaction": "Phải là like hoặc dislike."})
    _require(feedback, ("answered",), "đánh giá câu trả lời của")
    feedback["reaction"] = reaction


def public_view(feedback: Feedback) -> dict[str, Any]:
    """What the public page shows of an answered, published feedback: no contact, no author."""
    answer_ = feedback.get("answer") or {}
    return {"id": feedback["id"], "agency_id": feedback["agency_id"], "kind": feedback["kind"],
            "title": feedback["title"], "content": feedback["content"], "received_at": feedback["received_at"],
            "answer": answer_.get("text"), "answered_at": answer_.get("answered_at"),
            "reaction": feedback.get("reaction")}


# --- on time (766, 5.2) -----------------------------------------------------------------------

def _day(text: str) -> date:
    from chalicelib.kernel.working_days import parse_iso, to_local

    return to_local(parse_iso(text)).date()


def answer_deadline(feedback: Feedback, calendar: Any) -> date:
    """15 working days from receipt, plus the working days spent waiting for the citizen."""
    received = _day(feedback["received_at"])
    waited = 0
    supplement = feedback.get("supplement") or None
    if supplement and supplement.get("ended_at"):
        waited = calendar.working_days_between(_day(supplement["requested_at"]), _day(supplement["ended_at"]))
    deadline: date = calendar.add_working_days(received, ANSWER_DAYS + int(waited))
    return deadline


def on_time(feedback: Feedback, as_of: date, calendar: Any) -> tuple[bool, str]:
    """Whether its handling is on time at the end of ``as_of``, and why."""
    received = _day(feedback["received_at"])
    supplement = feedback.get("supplement") or None
    if supplement:
        limit = calendar.add_working_days(received, SUPPLEMENT_DAYS)
        asked = _day(supplement["requested_at"])
        if asked > limit:
            return False, f"information requested {asked.isoformat()}, after the 5-working-day limit {limit.isoformat()}"
    if feedback["status"] == "refused":
        limit = calendar.add_working_days(received, REFUSE_DAYS)
        at = _day((feedback.get("refusal") or {})["at"])
        return at <= limit, f"refused {at.isoformat()}, limit {limit.isoformat()} (2 working days)"
    deadline = answer_deadline(feedback, calendar)
    if feedback["status"] == "answered":
        at = _day((feedback.get("answer") or {})["answered_at"])
        return at <= deadline, f"answered {at.isoformat()}, limit {deadline.isoformat()} (15 working days)"
    if feedback["status"] == "supplement_requested":
        return True, "waiting for the citizen's information"
    return as_of <= deadline, f"open, answer due {deadline.isoformat()}"


def membership(feedback: Feedback, end: date, calendar: Any) -> dict[str, tuple[bool, bool, str]]:
    """5.1 handled, 5.2 on time, 5.3 published: (in denominator, in numerator, why) of a
    feedback received in the period ending ``end``."""
    handled = feedback["status"] in ("answered", "refused")
    timely, why = on_time(feedback, end, calendar)
    answered = feedback["status"] == "answered"
    published = answered and bool(feedback.get("published"))
    return {
        "5.1": (True, handled, feedback["status"]),
        "5.2": (True, timely, why),
        "5.3": (answered, published, "answer published" if published
                else "answer not published (personal matters)" if answered else "not answered"),
    }


def counts(feedbacks: Iterable[Feedback], start: date, end: date, calendar: Any) -> dict[str, tuple[int, int]]:
    """(numerator, denominator) of 5.1–5.3 over the feedback received in [start, end]."""
    totals = {i: [0, 0] for i in ("5.1", "5.2", "5.3")}
    for feedback in feedbacks:
        if not start <= _day(feedback["received_at"]) <= end:
            continue
        for indicator, (den, num, _why) in membership(feedback, end, calendar).items():
            totals[indicator][0] += int(num)
            totals[indicator][1] += int(den)
    return {i: (n, d) for i, (n, d) in totals.items()}


def received_day(feedback: Feedback) -> date:
    return _day(feedback["received_at"])
