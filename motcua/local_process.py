"""`motcua local` as a child process on free loopback ports, for the stack tests, the load
soak and the hostile-input run.

Only the process started here is ever stopped (SIGINT to its own PID, then kill if it hangs).
"""
from __future__ import annotations

import collections
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from typing import Any

import requests


def free_ports(count: int) -> list[int]:
    """``count`` distinct free loopback ports: held open together while they are chosen, so
    none repeats (one at a time, the system may hand out a port it just closed)."""
    sockets = [socket.socket() for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


class PortTaken(RuntimeError):
    """Another process bound one of the chosen ports before the stack did."""


# Stacks start side by side (pytest workers): a port chosen free may be taken before the stack
# binds it, and the next attempt chooses others.
START_ATTEMPTS = 3


class LocalStack:
    """One `motcua local` subprocess; talk to it over HTTP (``call``) and the CLI (``cli``)."""

    def __init__(self, *, verbose: bool = False, output_lines: int = 2000, **extra_env: str) -> None:
        for attempt in range(START_ATTEMPTS):
            try:
                self._start(verbose, output_lines, extra_env)
                return
            except PortTaken:
                if attempt == START_ATTEMPTS - 1:
                    raise

    def _start(self, verbose: bool, output_lines: int, extra_env: dict[str, str]) -> None:
        from motcua.simulators import PORT_SETTINGS
        names = ["MOTCUA_MOTO_PORT", "MOTCUA_API_PORT", "MOTCUA_VNPAY_PORT", "MOTCUA_PAYGOV_PORT", *PORT_SETTINGS]
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(("MOTCUA_", "VNPAY_", "PAYGOV_"))}
        self.env.update(dict(zip(names, map(str, free_ports(len(names))), strict=True)),
                        PYTHONUNBUFFERED="1", **extra_env)
        self.api = f"http://127.0.0.1:{self.env['MOTCUA_API_PORT']}"
        self.process = subprocess.Popen([sys.executable, "-m", "motcua.cli", "local", *(["--verbose"] if verbose else [])],
                                        env=self.env,
                                        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.banner: list[str] = []
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            line = self.process.stdout.readline()
            if not line and self.process.poll() is not None:
                banner = "".join(self.banner)
                raise (PortTaken if "Address already in use" in banner else RuntimeError)("stack exited:\n" + banner)
            self.banner.append(line)
            if line.startswith("Press Ctrl-C"):
                # keep reading: a full stdout pipe would block the stack's logging, and with it the stack
                self.output: collections.deque[str] = collections.deque(maxlen=output_lines)
                threading.Thread(target=self._drain_output, name="stack-output", daemon=True).start()
                return
        self.stop()
        raise RuntimeError("stack did not start in time:\n" + "".join(self.banner))

    def _drain_output(self) -> None:
        for line in self.process.stdout:
            self.output.append(line)

    def cli(self, *args: str, timeout: float = 30) -> str:
        done = subprocess.run([sys.executable, "-m", "motcua.cli", *args], env=self.env, capture_output=True,
                              text=True, timeout=timeout)
        assert done.returncode == 0, done.stderr + done.stdout
        return done.stdout

    def token(self, role: str, agency: str | None = None, sub: str | None = None) -> str:
        args = ["token", "--role", role] + (["--agency", agency] if agency else []) + (["--sub", sub] if sub else [])
        return self.cli(*args).strip()

    def call(self, method: str, path: str, token: str | None = None, **kwargs: Any) -> requests.Response:
        headers = kwargs.pop("headers", {})
        if token:
            headers["Authorization"] = f"Bearer {token}"
        return requests.request(method, self.api + path, headers=headers, timeout=15, **kwargs)

    def stop(self, timeout: float = 30) -> int:
        """Ctrl-C to our own process; killed (exit code -9) if it does not stop in time, after
        it dumped every thread's stack into ``output`` (SIGUSR1), so a hang can be read."""
        self.process.send_signal(signal.SIGINT)
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.send_signal(signal.SIGUSR1)
            time.sleep(2)
            self.process.kill()
            return self.process.wait(timeout=10)

    def tail(self, lines: int = 300) -> str:
        """The stack's last output lines, without the per-request access and INFO log lines."""
        kept = [line for line in getattr(self, "output", []) if not line.startswith(("127.0.0.1 - -", '{"level":"INFO"'))]
        return "".join(kept[-lines:])
