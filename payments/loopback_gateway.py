"""What the payment gateways' loopback simulators share: an HTTP server on 127.0.0.1 in a
daemon thread, the threads that call the merchant back (VNPay's IPN, PayGov's confirmation),
and the fault hooks of their merchant API. Each simulator adds its own protocol."""
from __future__ import annotations

import threading
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Self


class LoopbackGateway:
    """A gateway simulator's server and lifecycle; subclasses set ``name`` and give their
    request handler and callback timeout."""

    name: str                    # names the server thread, e.g. "vnpay-sim"

    def __init__(self, port: int) -> None:
        self.port = port
        self._lock = threading.RLock()
        self._fail_next = 0
        self._tamper_next = 0
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self._callbacks: list[threading.Thread] = []
        # Never route loopback callbacks through an environment proxy.
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

    def handler_class(self) -> type[BaseHTTPRequestHandler]:
        """The handler of this gateway's pages and API; it reaches the simulator as ``simulator``."""
        raise NotImplementedError

    @property
    def callback_timeout(self) -> float:
        """How long one call back to the merchant may take (stop waits this, plus a second)."""
        raise NotImplementedError

    def start(self) -> Self:
        if self._server is not None:
            raise RuntimeError("simulator already started")
        handler = type("Handler", (self.handler_class(),), {"simulator": self})
        self._stopping.clear()
        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name=f"{self.name}-{self.port}", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        for callback in list(self._callbacks):
            callback.join(timeout=self.callback_timeout + 1)
        self._callbacks.clear()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        if self._server is None:
            raise RuntimeError("simulator not started")
        return f"http://127.0.0.1:{self.port}"

    def fail_next(self, n: int = 1) -> None:
        """Answer the next ``n`` merchant-API calls with HTTP 503."""
        with self._lock:
            self._fail_next += n

    def tamper_next(self, n: int = 1) -> None:
        """Alter the next ``n`` merchant-API answers after signing them (a checksum that fails)."""
        with self._lock:
            self._tamper_next += n
