"""What the citizen is told, and where. Pure: templates, rendering, addresses; no sending.

One Vietnamese template per event type (chalicelib/sync/data/notification_templates.json, or
MOTCUA_NOTIFICATION_TEMPLATES). The text is built from the event's own data, so a
notification delivered late still tells what happened then; the dossier supplies only the
code, procedure and addresses. Channels come from the dossier's ``notify`` preferences.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any
from collections.abc import Mapping

from chalicelib.kernel.working_days import parse_iso, to_local

PACKAGED_TEMPLATES = Path(__file__).parents[1] / "data" / "notification_templates.json"
DECISIONS = {"approved": "chấp thuận", "rejected": "không chấp thuận"}
RETURN_METHODS = {"desk": "tại Bộ phận Một cửa", "post": "qua bưu chính", "online": "trực tuyến"}
_PLACEHOLDER = re.compile(r"{(\w+)}")


@dataclass(frozen=True)
class Template:
    subject: str
    text: str
    zalo_template: str


@dataclass(frozen=True)
class Message:
    event_type: str
    subject: str
    text: str
    zalo_template: str
    zalo_data: dict[str, str]


@cache
def _template_file() -> dict[str, Any]:
    from chalicelib.runtime.settings import settings
    path = settings().notifications.templates_file or PACKAGED_TEMPLATES
    raw: dict[str, Any] = json.loads(Path(path).read_text(encoding="utf-8"))
    return raw


def templates() -> dict[str, Template]:
    return {name: Template(t["subject"], t["text"], t["zalo_template"])
            for name, t in _template_file().items() if not name.startswith("_")}


# ZNS takes at most so many characters in each template parameter: the limit of the parameter
# type chosen when the template was registered (e.g. "Tên khách hàng (30)"; Zalo Cloud, "Các
# định dạng dữ liệu khi truyền vào tham số trên nội dung ZNS",
# https://zalo.cloud/zns/guidelines/en/cac-dinh-dang-du-lieu-khi-truyen-vao-tham-so-tren-noi-dung-zns).
# A longer value is refused by ZNS ("Template data invalid"), so it is cut. The province states
# its templates' limits in the templates file (``_zalo_parameter_limits``); a parameter it does
# not list gets the shortest type's, a custom label's 30.
DEFAULT_ZALO_LIMIT = 30
ELLIPSIS = "…"


def zalo_limits() -> dict[str, int]:
    return {key: int(limit) for key, limit in (_template_file().get("_zalo_parameter_limits") or {}).items()}


def fit(value: str, limit: int) -> str:
    """``value`` in at most ``limit`` characters: cut, with an ellipsis to show it was."""
    return value if len(value) <= limit else value[:max(limit - 1, 0)].rstrip() + ELLIPSIS


def zalo_data(context: Mapping[str, str], keys: set[str]) -> dict[str, str]:
    """The template parameters ZNS gets: each one the text uses, cut to its limit."""
    limits = zalo_limits()
    return {key: fit(context[key], limits.get(key, DEFAULT_ZALO_LIMIT)) for key in sorted(keys) if key in context}


# ZNS answers that no retry will change (Zalo Cloud, "Cách xử lý mã lỗi",
# https://zalo.cloud/zns/guidelines/handle-error-code): about the recipient -108 phone number
# invalid, -118 Zalo account not existed, -119 account cannot receive ZNS; about the message
# -109 template id invalid, -111 template data empty, -112 template data invalid. Anything
# else (an unknown error, a token being renewed, quota, HTTP 5xx) may pass later.
ZNS_RECIPIENT_ERRORS = frozenset({-108, -118, -119})
ZNS_MESSAGE_ERRORS = frozenset({-109, -111, -112})


def zns_permanent(error: Any) -> bool:
    """Whether a ZNS error code means the message will never be delivered by retrying."""
    return isinstance(error, int) and error in ZNS_RECIPIENT_ERRORS | ZNS_MESSAGE_ERRORS


def fallback_channel(dossier: Mapping[str, Any], failed: str) -> str | None:
    """Where to tell the citizen when ``failed`` can never reach them: SMS, when Zalo failed
    for good, the citizen gave a phone and did not choose SMS already."""
    if failed != "zalo" or "sms" in channels(dossier) or not address("sms", dossier):
        return None
    return "sms"


def local_time(value: str | None) -> str:
    """``dd/mm/yyyy HH:MM`` in Asia/Ho_Chi_Minh, as Vietnamese readers expect."""
    return to_local(parse_iso(value)).strftime("%d/%m/%Y %H:%M") if value else "chưa xác định"


def _context(event: Mapping[str, Any], dossier: Mapping[str, Any], agency: str) -> dict[str, str]:
    data = event.get("data") or {}
    at = next((data[k] for k in ("accepted_at", "forwarded_at", "supplied_at", "stopped_at", "withdrawn_at",
                                  "finished_at", "returned_at", "refused_at", "submitted_at", "rated_at",
                                  "requested_at", "extended_at", "reassigned_at") if data.get(k)), event.get("occurred_at"))
    return {
        "code": dossier["code"], "procedure": dossier["procedure_name"], "agency": agency,
        "at": local_time(at), "due": local_time(data.get("due_at", dossier.get("due_at"))),
        "reason": data.get("reason") or "", "documents": ", ".join(data.get("documents") or []),
        "step": data.get("step_name") or "", "old_due": local_time(data.get("old_due_at")),
        "new_due": local_time(data.get("new_due_at")), "method": RETURN_METHODS.get(data.get("method", ""), ""),
        "decision": DECISIONS.get(data.get("decision", ""), ""),
    }


def render(event: Mapping[str, Any], dossier: Mapping[str, Any], agency: str) -> Message | None:
    template = templates().get(event["type"])
    if template is None:
        return None
    context = _context(event, dossier, agency)
    fill = lambda text: _PLACEHOLDER.sub(lambda m: context.get(m.group(1), ""), text)  # noqa: E731
    used = set(_PLACEHOLDER.findall(template.text))
    return Message(event["type"], fill(template.subject), fill(template.text), template.zalo_template,
                   zalo_data(context, used))


def address(channel: str, dossier: Mapping[str, Any]) -> str | None:
    """Where a channel reaches the applicant: the phone for SMS and Zalo, the email address."""
    applicant = dossier.get("applicant") or {}
    return applicant.get("email") if channel == "email" else applicant.get("phone")


def channels(dossier: Mapping[str, Any]) -> list[str]:
    return list(dossier.get("notify") or ["sms"])


def e164(phone: str) -> str:
    """Vietnamese mobile number in E.164 (+84…), as SNS wants it."""
    digits = phone.replace(" ", "")
    return "+84" + digits[1:] if digits.startswith("0") else digits if digits.startswith("+") else "+" + digits
