"""A test double of a connected ministry system (here: judicial records), on loopback.

Outbound (MotCua -> system): ``POST /motcua/events`` checks ``X-MotCua-Signature`` against the
shared secret (401 if missing or wrong), keeps each event once per ``id``, and can be told to
``fail`` the next n deliveries or be ``down``. Inbound (system -> MotCua): ``report(...)``, or
``POST /_control {"report": {...}}`` in the local stack, signs a report and POSTs it to
MotCua's ``/integrations/{system}/events`` with a local-stage integration token.
"""
from __future__ import annotations

import json
import os
import uuid
from typing import Any

import requests

from chalicelib.sync.rules.connectors import SIGNATURE_HEADER, sign, verify
from motcua.simulators.loopback import LoopbackServer, Request


class MinistrySystemDouble(LoopbackServer):
    name = "ministry-system-double"

    def __init__(self, system: str, secret: str, port: int = 0) -> None:
        super().__init__(port)
        self.system, self.secret = system, secret
        self.reset()

    def reset(self) -> None:
        with self.lock:
            self.received: dict[str, dict[str, Any]] = {}
            self.posts = 0          # signed deliveries accepted, duplicates included
            self.refused = 0
            self.hooks: dict[str, Any] = {"fail": 0, "down": False}

    def control(self, hooks: dict[str, Any]) -> None:
        if hooks.get("reset"):
            self.reset()
        with self.lock:
            self.hooks.update({k: v for k, v in hooks.items() if k in ("fail", "down")})
        if isinstance(hooks.get("report"), dict):
            report = hooks["report"]
            self.last_report = self.report(os.environ.get("MOTCUA_API_URL", "http://127.0.0.1:8000"),
                                           report["dossier_code"], report["type"], report.get("data", {}))

    def state(self) -> dict[str, Any]:
        with self.lock:
            return {"received": list(self.received.values()), "posts": self.posts, "refused": self.refused,
                    "hooks": dict(self.hooks),
                    "last_report": getattr(self, "last_report", None)}

    def handle(self, request: Request) -> tuple[int, Any]:
        if request.method != "POST" or request.path != "/motcua/events":
            return 404, {"error": "not found"}
        with self.lock:
            if self.hooks["down"]:
                return 503, {"error": "down"}
            if self.hooks["fail"] > 0:
                self.hooks["fail"] -= 1
                return 500, {"error": "internal error"}
            if not verify(self.secret, request.raw, request.headers.get(SIGNATURE_HEADER.lower())):
                self.refused += 1
                return 401, {"error": "bad signature"}
            event = request.json()
            self.posts += 1
            self.received.setdefault(event["id"], event)
        return 200, {"ok": True}

    def report(self, api_url: str, dossier_code: str, kind: str, data: dict[str, Any],
               event_id: str | None = None, token: str | None = None) -> dict[str, Any]:
        """Sign and send one report to MotCua, as the real system would."""
        if token is None:
            from chalicelib.runtime.settings import settings
            from chalicelib.trust.rules.identity import mint_local_token
            token = mint_local_token(settings().local_jwt_secret, f"integration-{self.system}", "integration")
        body = json.dumps({"event_id": event_id or uuid.uuid4().hex, "type": kind, "dossier_code": dossier_code,
                           "data": data}, ensure_ascii=False).encode("utf-8")
        response = requests.post(f"{api_url}/integrations/{self.system}/events", data=body, timeout=10, headers={
            "Authorization": f"Bearer {token}", "Content-Type": "application/json", SIGNATURE_HEADER: sign(self.secret, body)})
        return {"status": response.status_code, "body": response.json()}
