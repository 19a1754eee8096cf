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
from chalicelib.sync.rules import zns

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


ELLIPSIS = "…"


def zalo_types() -> dict[str, str]:
    """Placeholder -> the ZNS parameter type its templates were registered with (the templates
    file's ``_zalo_parameter_types``). A name ZNS has no type for counts as unlisted, so it
    gets the shortest limit rather than stopping every channel's notification."""
    types = (_template_file().get("_zalo_parameter_types") or {}).items()
    return {key: str(name) for key, name in types if str(name) in zns.PARAMETER_TYPES}


def fit(value: str, limit: int) -> str:
    """``value`` in at most ``limit`` characters: cut, with an ellipsis to show it was."""
    return value if len(value) <= limit else value[:max(limit - 1, 0)].rstrip() + ELLIPSIS


def zalo_value(value: str, type_name: str) -> str:
    """One parameter as ZNS takes it for its type: a time hour first, anything cut to the
    type's limit (a longer value is refused as invalid template data)."""
    if type_name == "time":
        value = zns.as_time(value)
    return fit(value, zns.PARAMETER_TYPES[type_name].limit)


def zalo_data(context: Mapping[str, str], keys: set[str]) -> dict[str, str]:
    """The template parameters ZNS gets: each one the text uses, in its type's form."""
    types = zalo_types()
    return {key: zalo_value(context[key], types.get(key, zns.DEFAULT_TYPE)) for key in sorted(keys) if key in context}


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
