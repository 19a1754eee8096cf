"""The Lambda entry points: consumers (EventBridge rule -> SQS -> Lambda, streams) and schedules.

The SDK is imported first, at the call depth of a bare ``import boto3`` in a handler file: a
cold-start measure that has to live here, since only its place in the import order matters
(chalicelib/runtime/cold_start.py says what it buys). CPython releases without the fix for
python/cpython#142183 (3.11, and 3.13 before its backport, e.g. the 3.13.0 of this project's
machines) map and unmap a 16 KB frame-stack chunk on every call that crosses a chunk
boundary; loaded deeper inside our own imports, urllib3's regex compilation lands on one for
some consumers (refund-watch: 1.29x instead of 1.55x ``import boto3`` + one client).

The settings are read and checked here too, before any handler runs: a missing or malformed
one stops the cold start with a message naming it (chalicelib/runtime/settings.py).
"""
import boto3  # noqa: F401  (see above: imported for where it loads, not for a name)

from chalicelib.runtime.settings import settings

settings()   # read and checked at cold start: a missing or malformed setting stops it, by name
