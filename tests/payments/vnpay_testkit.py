"""Shared helpers for tests/payments (imported by conftest.py and the test modules).

The name is unique on purpose: tests/payments has no __init__.py, so its modules are
imported top-level and must not clash with modules elsewhere in tests/."""
from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from datetime import datetime, UTC
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import requests

from payments.base import Notification, PaymentError, SignatureError
from payments.vnpay import VNPayProvider, params_from_query_string

TMN = "MOTCUA01"
SECRET = "LOCALSIMULATORSECRETNOTREAL"
FIXED_NOW = datetime(2025, 11, 22, 7, 30, tzinfo=UTC)  # 14:30 in GMT+7


def loopback_session() -> requests.Session:
    """A requests session that ignores proxy settings from the environment (loopback only)."""
    s = requests.Session()
    s.trust_env = False
    return s


class CountingSession(requests.Session):
    """Counts HTTP attempts, to assert on retries."""

    def __init__(self) -> None:
        super().__init__()
        self.trust_env = False
        self.calls = 0

    def request(self, *args, **kwargs):  # type: ignore[override]
        self.calls += 1
        return super().request(*args, **kwargs)


@dataclass
class IpnApp:
    """Stands in for the app's IPN endpoint: verify -> find order -> compare amount ->
    check still pending -> update -> reply RspCode (the order of domain primer section 7).

    ``script`` holds RspCodes to force on the next replies (e.g. ["99", "99"]) before the
    real logic answers; ``sleep_first`` delays the first reply (to provoke a sim timeout)."""

    provider: VNPayProvider
    orders: dict[str, int] = field(default_factory=dict)  # reference -> amount VND
    paid: dict[str, Notification] = field(default_factory=dict)
    script: list[str] = field(default_factory=list)
    sleep_first: float = 0.0
    received: list[tuple[dict[str, str], str]] = field(default_factory=list)
    url: str = ""
    calls: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def handle(self, query: str) -> str:
        with self._lock:
            self.calls += 1
            first = self.calls == 1
            forced = self.script.pop(0) if self.script else None
        if first and self.sleep_first:
            threading.Event().wait(self.sleep_first)
        try:
            params = params_from_query_string(query)
        except PaymentError:
            params = {}
        code = forced or self._decide(params)
        with self._lock:
            self.received.append((params, code))
        return code

    def _decide(self, params: dict[str, str]) -> str:
        try:
            n = self.provider.parse_notification(params)
        except SignatureError:
            return "97"
        except PaymentError:
            return "99"
        with self._lock:
            if n.reference not in self.orders:
                return "01"
            if n.amount != self.orders[n.reference]:
                return "04"
            if n.reference in self.paid:
                return "02"
            self.paid[n.reference] = n  # a failed payment is recorded too; it is final for this order
            return "00"


def serve_ipn_app(app: IpnApp) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        disable_nagle_algorithm = True

        def log_message(self, *args):  # quiet
            pass

        def do_GET(self):
            code = app.handle(self.path.partition("?")[2])
            body = json.dumps({"RspCode": code, "Message": "test"}).encode()
            try:
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):  # the simulator gave up waiting
                pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    return server
