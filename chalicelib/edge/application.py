"""The Chalice application object, safe to serve from several threads at once.

Chalice keeps the request being served (and the Lambda context) in attributes of the one app
object, and each blueprint reads them from there. A Lambda serves one request at a time, so
that is sound in AWS, and Chalice's local server swaps in a thread-local request itself; but
the test client (``chalice.test.Client``, used by tests/api and ``make bench``) does not, so
two requests sent from two threads read each other's body and caller (a rush of concurrent
submissions came back with other citizens' dossier codes). Here both live per thread, the
same wherever the app runs.
"""
from __future__ import annotations

import threading
from typing import Any

from chalice import Chalice


class ThreadSafeChalice(Chalice):
    """A Chalice app whose ``current_request`` and ``lambda_context`` belong to the thread."""

    _per_thread = threading.local()

    @property
    def current_request(self) -> Any:
        return getattr(self._per_thread, "request", None)

    @current_request.setter
    def current_request(self, value: Any) -> None:
        self._per_thread.request = value

    @property
    def lambda_context(self) -> Any:
        return getattr(self._per_thread, "context", None)

    @lambda_context.setter
    def lambda_context(self, value: Any) -> None:
        self._per_thread.context = value
