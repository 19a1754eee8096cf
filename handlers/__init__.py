"""The Lambda entry points: consumers (EventBridge rule -> SQS -> Lambda, streams) and schedules.

The settings are read and checked here, before any handler runs: a missing or malformed
one stops the cold start with a message naming it (chalicelib/runtime/settings.py).
"""
from chalicelib.runtime.settings import settings

settings()   # read and checked at cold start: a missing or malformed setting stops it, by name
