"""The Lambda consumers (EventBridge rule -> SQS -> Lambda, streams, schedules).

The SDK is imported here, before any handler module's own imports, so that it loads at the
same call depth as a bare ``import boto3`` in a handler file. Under CPython 3.11 the depth
matters: a call that repeatedly crosses a 16 KB frame-stack chunk boundary maps and unmaps a
chunk each time (python/cpython#142183, fixed in 3.13 and 3.14). Loaded from deeper inside
our own imports, urllib3's regex compilation landed on such a boundary for some consumers:
about 5,000 mmap/munmap pairs and 90 ms more CPU on every cold start (``make bench``,
cold-start rows; count them with ``strace -c -e trace=memory``).

The settings are read and checked here too, before any handler runs: a missing or malformed
one stops the cold start with a message naming it (chalicelib/runtime/settings.py).
"""
import boto3  # noqa: F401  (see above: imported for where it loads, not for a name)

from chalicelib.runtime.settings import settings

settings()   # read and checked at cold start: a missing or malformed setting stops it, by name
