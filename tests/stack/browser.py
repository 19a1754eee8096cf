"""A headless Chromium a test can drive like a person: open a page, read it, click, wait.

Chromium's DevTools protocol over ``--remote-debugging-pipe`` (commands on fd 3, answers on
fd 4, each a JSON message ended by a NUL byte): no WebSocket library, no driver download.
Only the few commands the dashboard's tests need: navigate, evaluate JavaScript, wait until
an expression holds.
"""
from __future__ import annotations

import fcntl
import json
import os
import select
import shutil
import subprocess
import tempfile
import time
from typing import Any

CHROMIUM_ARGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--remote-debugging-pipe")


def chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


class Browser:
    """One Chromium process with one tab."""

    def __init__(self) -> None:
        to_browser_read, self._to_browser = os.pipe()
        self._from_browser, from_browser_write = os.pipe()
        # far from 3 and 4, so placing them there in the child cannot overwrite one with the other
        high = [fcntl.fcntl(fd, fcntl.F_DUPFD, 100) for fd in (to_browser_read, from_browser_write)]
        self._profile = tempfile.TemporaryDirectory()

        def wire() -> None:
            os.dup2(high[0], 3)
            os.dup2(high[1], 4)

        self._process = subprocess.Popen(
            [str(chromium()), *CHROMIUM_ARGS, f"--user-data-dir={self._profile.name}", "about:blank"],
            preexec_fn=wire, close_fds=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for fd in (to_browser_read, from_browser_write, *high):
            os.close(fd)
        self._buffer = b""
        self._next_id = 0
        target = self._command("Target.createTarget", {"url": "about:blank"})["targetId"]
        self._session = self._command("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]

    def _command(self, method: str, params: dict[str, Any] | None = None, session: str | None = None,
                 timeout: float = 30) -> dict[str, Any]:
        self._next_id += 1
        message: dict[str, Any] = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self._to_browser, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while True:
            answer = self._read(deadline)
            if answer.get("id") == self._next_id:
                if "error" in answer:
                    raise RuntimeError(f"{method}: {answer['error']}")
                result: dict[str, Any] = answer["result"]
                return result

    def _read(self, deadline: float) -> dict[str, Any]:
        while b"\0" not in self._buffer:
            if not select.select([self._from_browser], [], [], max(deadline - time.monotonic(), 0))[0]:
                raise TimeoutError("Chromium did not answer in time")
            chunk = os.read(self._from_browser, 1 << 16)
            if not chunk:
                raise RuntimeError("Chromium closed its DevTools pipe")
            self._buffer += chunk
        message, _, self._buffer = self._buffer.partition(b"\0")
        parsed: dict[str, Any] = json.loads(message)
        return parsed

    def open(self, url: str) -> None:
        self._command("Page.navigate", {"url": url}, self._session)

    def evaluate(self, expression: str) -> Any:
        """The value of a JavaScript expression in the page (promises awaited)."""
        result = self._command("Runtime.evaluate", {"expression": expression, "returnByValue": True,
                                                    "awaitPromise": True}, self._session)
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def wait_for(self, expression: str, timeout: float = 20) -> Any:
        """Evaluate until the expression is truthy (pages navigate meanwhile); its value."""
        deadline = time.monotonic() + timeout
        last: Any = None
        while time.monotonic() < deadline:
            try:
                last = self.evaluate(expression)
            except RuntimeError as error:   # the page is between two documents
                last = error
            if last and not isinstance(last, RuntimeError):
                return last
            time.sleep(0.1)
        raise TimeoutError(f"{expression} still {last!r} at {self.evaluate('location.href')}")

    def close(self) -> None:
        try:
            self._command("Browser.close", timeout=5)
        except (RuntimeError, TimeoutError, OSError):
            pass
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        os.close(self._to_browser)
        os.close(self._from_browser)
        self._profile.cleanup()
