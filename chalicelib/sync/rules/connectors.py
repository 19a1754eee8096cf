"""Ministry-system connectors (judicial records, business registration…): configuration,
HMAC signatures, and what an inbound report means. Pure: no AWS, no HTTP.

A connected system is configuration (chalicelib/sync/data/connectors.json, or the file named by
MOTCUA_CONNECTORS): the procedures it handles, the events it receives, and the settings
holding its endpoint and shared secret. Both directions sign the raw JSON body with
HMAC-SHA256 and send ``X-MotCua-Signature: sha256=<lowercase hex>``.
"""
from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any
from collections.abc import Mapping

from chalicelib.kernel.errors import Unauthenticated, ValidationFailed

PACKAGED = Path(__file__).parents[1] / "data" / "connectors.json"
SIGNATURE_HEADER = "X-MotCua-Signature"
# inbound report type -> workflow action (applied through the same state graph)
REPORTS: dict[str, str] = {
    "accepted": "accept",
    "progress": "forward",
    "supplement_requested": "request_supplement",
    "result": "issue_result",
    "returned": "return_result",
}


@dataclass(frozen=True)
class System:
    system: str
    name: str
    procedures: tuple[str, ...]
    events: tuple[str, ...]
    url_setting: str
    secret_setting: str
    local_url: str
    local_secret: str
    client_sub: str     # the token subject of this system's integration client


    def url(self) -> str:
        return self._setting(self.url_setting, self.local_url)

    def secret(self) -> str:
        return self._setting(self.secret_setting, self.local_secret)

    @staticmethod
    def _setting(name: str, local: str) -> str:
        """The setting ``name`` (chalicelib.runtime.settings.Connectors.endpoints). Local
        defaults are obviously fake and refused anywhere but the local stage."""
        from chalicelib.runtime.settings import SettingError, settings
        found = settings().connectors.endpoints.get(name)
        if found:
            return found
        if not settings().is_local:
            raise SettingError(name, "must be set outside the local stage")
        return local


def load(data: Mapping[str, Any]) -> dict[str, System]:
    systems = {}
    for key, raw in data["systems"].items():
        systems[key] = System(system=key, name=raw["name"], procedures=tuple(raw["procedures"]),
                              events=tuple(raw["events"]), url_setting=raw["url_setting"],
                              secret_setting=raw["secret_setting"], local_url=raw["local_url"],
                              local_secret=raw["local_secret"],
                              client_sub=raw.get("client_sub") or f"integration-{key}")
    clients = [system.client_sub for system in systems.values()]
    if len(set(clients)) != len(clients):   # one client per system, or a token would speak for two
        raise ValueError("connectors: each system needs its own client_sub")
    return systems


@cache
def systems() -> dict[str, System]:
    from chalicelib.runtime.settings import settings
    path = settings().connectors.config_file or PACKAGED
    return load(json.loads(Path(path).read_text(encoding="utf-8")))


def system_of_client(sub: str) -> System | None:
    """The connected system an integration token speaks for: one client per system."""
    return next((system for system in systems().values() if system.client_sub == sub), None)


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify(secret: str, body: bytes, signature: str | None) -> bool:
    """Constant-time check of ``sha256=<hex>`` over the raw body."""
    return bool(signature) and hmac.compare_digest(sign(secret, body), signature.strip().lower())  # type: ignore[union-attr]


class BadSignature(Unauthenticated):
    """The body is not signed with the system's shared secret: we cannot tell who sent it."""
    code = "bad_signature"
    message = "Chữ ký HMAC (X-MotCua-Signature) thiếu hoặc không đúng."


def parse_report(body: Any) -> tuple[str, str, str, dict[str, Any]]:
    """(event_id, action, dossier_code, action body) of an inbound report."""
    if not isinstance(body, Mapping):
        raise ValidationFailed(fields={"body": "Phải là đối tượng JSON."})
    errors: dict[str, str] = {}
    event_id, kind, code, data = body.get("event_id"), body.get("type"), body.get("dossier_code"), body.get("data", {})
    if not isinstance(event_id, str) or not 1 <= len(event_id) <= 100:
        errors["event_id"] = "Mã sự kiện (event_id) là bắt buộc, 1–100 ký tự, duy nhất cho mỗi báo cáo."
    if kind not in REPORTS:
        errors["type"] = "Loại báo cáo (type) phải là một trong: " + ", ".join(REPORTS) + "."
    if not isinstance(code, str) or not code:
        errors["dossier_code"] = "Mã hồ sơ (dossier_code) là bắt buộc."
    if not isinstance(data, Mapping):
        errors["data"] = "Dữ liệu (data) phải là đối tượng JSON."
    if errors or not isinstance(event_id, str) or not isinstance(kind, str) or not isinstance(code, str):
        raise ValidationFailed(fields=errors)
    return event_id, REPORTS[kind], code, dict(data)
