"""A loopback simulator of Zalo's ZNS (Zalo Notification Service) template message API.
Not Zalo: it answers like ZNS does, so the channel is exercised over real HTTP.

``POST /message/template`` with header ``access_token`` and body ``{phone, template_id,
template_data, tracking_id}``: ``phone`` is 84 followed by 9 digits. Answers ``{error: 0,
message: "Success", data: {msg_id, sent_time}}`` or an error, with ZNS's codes
(https://zalo.cloud/zns/guidelines/handle-error-code): -124 bad access token, -108 bad phone,
-109 unknown template, -112 template data invalid (a parameter that is not a string, longer
than the limit of the ZNS type its placeholder was registered with, the templates file's
``_zalo_parameter_types``, or a time not in one of ZNS's formats; chalicelib/sync/rules/zns.py),
-118 Zalo account not existed (a phone listed in the ``no_account`` hook), -100 bad body.
Hooks: ``fail`` (next n answer HTTP 500), ``down``, ``no_account`` (phones, 84…, with no Zalo
account), ``refuse`` (ZNS error codes: the next requests answer each in turn, HTTP 200, as
ZNS does: -131 template not approved, -115 out of quota...), ``reset``; ``GET /_state``
lists the messages it accepted.

It is also the Official Account OAuth server: ``POST /v4/oa/access_token`` with header
``secret_key`` and the form ``app_id, refresh_token, grant_type=refresh_token`` answers
``{access_token, refresh_token, expires_in}`` (seconds, as a string, as Zalo sends it). As at
Zalo, a refresh token is spent by its use: the new access token replaces the old one and
only the new refresh token works next time. Errors: ``{error, error_name, error_description}``.
"""
from __future__ import annotations

import re
import time
import uuid
from typing import Any
from urllib.parse import parse_qs

from motcua.simulators.loopback import LoopbackServer, Request

PHONE = re.compile(r"84[0-9]{9}")
TOKEN_SECONDS = 90_000   # an OA access token lives 25 hours


def _data_fits(data: dict[str, Any]) -> bool:
    """Every parameter as its registered type takes it, as ZNS checks it against the template."""
    from chalicelib.sync.rules import zns
    from chalicelib.sync.rules.notifications import zalo_types
    types = zalo_types()
    return all(zns.fits(types.get(key, zns.DEFAULT_TYPE), value) for key, value in data.items())


class ZaloSimulator(LoopbackServer):
    name = "zalo-simulator"

    def __init__(self, port: int = 0, access_token: str = "local-zalo-token-not-real", app_id: str = "local-zalo-app",
                 secret_key: str = "local-zalo-secret-key-not-real",
                 refresh_token: str = "local-zalo-refresh-token-not-real") -> None:
        super().__init__(port)
        self.access_token, self.app_id, self.secret_key, self.refresh_token = access_token, app_id, secret_key, refresh_token
        self.refreshes = 0
        self.reset()

    def reset(self) -> None:
        with self.lock:
            self.messages: list[dict[str, Any]] = []
            self.hooks: dict[str, Any] = {"fail": 0, "down": False, "no_account": [], "refuse": []}

    def control(self, hooks: dict[str, Any]) -> None:
        with self.lock:
            if hooks.get("reset"):
                self.reset()
            self.hooks.update({k: v for k, v in hooks.items() if k in ("fail", "down", "no_account", "refuse")})

    def state(self) -> dict[str, Any]:
        with self.lock:
            return {"messages": list(self.messages), "hooks": dict(self.hooks)}

    def _refresh(self, request: Request) -> tuple[int, Any]:
        form = {k: v[0] for k, v in parse_qs(request.raw.decode("utf-8", "replace")).items()}
        if form.get("grant_type") != "refresh_token" or form.get("app_id") != self.app_id:
            return 200, {"error": -14002, "error_name": "Invalid app_id", "error_description": "app_id is invalid"}
        if request.headers.get("secret_key") != self.secret_key:
            return 200, {"error": -14003, "error_name": "Invalid secret_key", "error_description": "secret_key is invalid"}
        with self.lock:
            if form.get("refresh_token") != self.refresh_token:
                return 200, {"error": -14014, "error_name": "Invalid refresh_token",
                             "error_description": "refresh_token is invalid or has been used"}
            self.refreshes += 1
            self.access_token = f"zalo-access-{uuid.uuid4().hex}"
            self.refresh_token = f"zalo-refresh-{uuid.uuid4().hex}"
            return 200, {"access_token": self.access_token, "refresh_token": self.refresh_token,
                         "expires_in": str(TOKEN_SECONDS)}

    def handle(self, request: Request) -> tuple[int, Any]:
        if request.method == "POST" and request.path == "/v4/oa/access_token":
            return self._refresh(request)
        if request.method != "POST" or request.path != "/message/template":
            return 404, {"error": -404, "message": "Not found"}
        with self.lock:
            if self.hooks["down"]:
                return 503, {"error": -500, "message": "Service unavailable"}
            if self.hooks["fail"] > 0:
                self.hooks["fail"] -= 1
                return 500, {"error": -500, "message": "Internal error"}
            if self.hooks["refuse"]:
                code = self.hooks["refuse"].pop(0)
                return 200, {"error": code, "message": f"Refused ({code})"}
        if request.headers.get("access_token") != self.access_token:
            return 200, {"error": -124, "message": "Access token is invalid"}
        body = request.json()
        if not isinstance(body, dict) or not isinstance(body.get("template_data"), dict):
            return 200, {"error": -100, "message": "Invalid parameter"}
        if not isinstance(body.get("phone"), str) or not PHONE.fullmatch(body["phone"]):
            return 200, {"error": -108, "message": "Phone number is invalid"}
        if not isinstance(body.get("template_id"), str) or not (body["template_id"].isascii()
                                                                and body["template_id"].isdigit()):
            return 200, {"error": -109, "message": "Template ID invalid"}
        if not _data_fits(body["template_data"]):
            return 200, {"error": -112, "message": "Template data invalid"}
        with self.lock:
            if body["phone"] in self.hooks["no_account"]:
                return 200, {"error": -118, "message": "Zalo account not existed"}
        msg_id = uuid.uuid4().hex
        with self.lock:
            self.messages.append({**body, "msg_id": msg_id})
        return 200, {"error": 0, "message": "Success",
                     "data": {"msg_id": msg_id, "sent_time": str(int(time.time() * 1000))}}
