"""A loopback simulator of Zalo's ZNS (Zalo Notification Service) template message API.
Not Zalo: it answers like ZNS does, so the channel is exercised over real HTTP.

``POST /message/template`` with header ``access_token`` and body ``{phone, template_id,
template_data, tracking_id}``: ``phone`` is 84 followed by 9 digits. Answers ``{error: 0,
message: "Success", data: {msg_id, sent_time}}`` or an error: -124 bad access token, -108
bad phone, -1131 unknown template, -100 bad body. Hooks: ``fail`` (next n answer HTTP 500),
``down``, ``reset``; ``GET /_state`` lists the messages it accepted.
"""
from __future__ import annotations

import re
import time
import uuid
from typing import Any

from motcua.simulators.loopback import LoopbackServer, Request

PHONE = re.compile(r"^84\d{9}$")


class ZaloSimulator(LoopbackServer):
    name = "zalo-simulator"

    def __init__(self, port: int = 0, access_token: str = "local-zalo-token-not-real") -> None:
        super().__init__(port)
        self.access_token = access_token
        self.reset()

    def reset(self) -> None:
        with self.lock:
            self.messages: list[dict[str, Any]] = []
            self.hooks: dict[str, Any] = {"fail": 0, "down": False}

    def control(self, hooks: dict[str, Any]) -> None:
        with self.lock:
            if hooks.get("reset"):
                self.reset()
            self.hooks.update({k: v for k, v in hooks.items() if k in ("fail", "down")})

    def state(self) -> dict[str, Any]:
        with self.lock:
            return {"messages": list(self.messages), "hooks": dict(self.hooks)}

    def handle(self, request: Request) -> tuple[int, Any]:
        if request.method != "POST" or request.path != "/message/template":
            return 404, {"error": -404, "message": "Not found"}
        with self.lock:
            if self.hooks["down"]:
                return 503, {"error": -500, "message": "Service unavailable"}
            if self.hooks["fail"] > 0:
                self.hooks["fail"] -= 1
                return 500, {"error": -500, "message": "Internal error"}
        if request.headers.get("access_token") != self.access_token:
            return 200, {"error": -124, "message": "Access token is invalid"}
        body = request.json()
        if not isinstance(body, dict) or not isinstance(body.get("template_data"), dict):
            return 200, {"error": -100, "message": "Invalid parameter"}
        if not isinstance(body.get("phone"), str) or not PHONE.match(body["phone"]):
            return 200, {"error": -108, "message": "Phone number is invalid"}
        if not isinstance(body.get("template_id"), str) or not body["template_id"].isdigit():
            return 200, {"error": -1131, "message": "Template is invalid"}
        msg_id = uuid.uuid4().hex
        with self.lock:
            self.messages.append({**body, "msg_id": msg_id})
        return 200, {"error": 0, "message": "Success",
                     "data": {"msg_id": msg_id, "sent_time": str(int(time.time() * 1000))}}
