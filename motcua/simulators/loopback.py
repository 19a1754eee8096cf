"""A JSON-over-HTTP server on 127.0.0.1 in a daemon thread: the base of our simulators.

Each simulator implements ``handle(request) -> (status, body)``. Every simulator also
answers ``POST /_control`` (test hooks: fail, time out, …) and ``GET /_state`` (what it
received), so tests can drive the one inside the local stack over HTTP as well as in-process.
"""
from __future__ import annotations

import json
import logging
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

log = logging.getLogger("motcua.simulators")

HOST = "127.0.0.1"


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    headers: dict[str, str]
    raw: bytes

    def json(self) -> Any:
        try:
            return json.loads(self.raw.decode("utf-8")) if self.raw else None
        except (UnicodeDecodeError, ValueError):
            return None


class LoopbackServer:
    """Subclasses implement ``handle``, ``control`` and ``state``."""

    name = "simulator"

    def __init__(self, port: int = 0) -> None:
        self.port = port
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.lock = threading.RLock()

    # -- to implement -------------------------------------------------------------------------
    def handle(self, request: Request) -> tuple[int, Any]:
        raise NotImplementedError

    def control(self, hooks: dict[str, Any]) -> None:
        raise NotImplementedError

    def state(self) -> dict[str, Any]:
        raise NotImplementedError

    # -- plumbing ---------------------------------------------------------------------------------
    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def start(self) -> LoopbackServer:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                request = Request(self.command, self.path, {k.lower(): v for k, v in self.headers.items()},
                                  self.rfile.read(length) if length else b"")
                status, body = owner.dispatch(request)
                if status == 0:   # a simulated timeout ended: drop the connection unanswered
                    self.close_connection = True
                    return
                raw = isinstance(body, bytes)   # a simulated malformed answer: sent as it is
                payload = body if raw else json.dumps(body, ensure_ascii=False).encode("utf-8")
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "text/html" if raw else "application/json; charset=utf-8")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except OSError:   # the client gave up (its timeout) before we answered
                    pass

            do_GET = do_POST = _serve

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
                # DEBUG: shown by `motcua local --verbose` only, never in test output
                log.debug("%s %s", self.address_string(), format % args)

        self._server = ThreadingHTTPServer((HOST, self.port), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, name=self.name, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def dispatch(self, request: Request) -> tuple[int, Any]:
        if request.path == "/_control" and request.method == "POST":
            hooks = request.json()
            if not isinstance(hooks, dict):
                return 400, {"error": "expected a JSON object of hooks"}
            self.control(hooks)
            return 200, {"ok": True}
        if request.path == "/_state" and request.method == "GET":
            return 200, self.state()
        return self.handle(request)

    def __enter__(self) -> LoopbackServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
