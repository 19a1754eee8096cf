"""Fixed-window rate limits as data. Pure: the counting is chalicelib/trust/store/rate_limits.py.

Public tracking (GET /track/{code}) answers anyone holding a code and four phone digits, so it
is limited two ways: every lookup counts against the client IP (``MOTCUA_TRACK_PER_IP``, 10 per
minute by default), and every failed lookup (unknown code or wrong digits) counts against the
code (``MOTCUA_TRACK_FAILURES_PER_CODE``, 5 per ``MOTCUA_TRACK_FAILURE_WINDOW`` = 15 minutes).
Once a code's failures are used up, even the right digits are RateLimited until the window ends,
so the 10,000 possible digit combinations cannot be walked from many IPs.

Windows are fixed (aligned to multiples of their length since the epoch): one counter item
per key and window, incremented atomically with a condition that it is below the limit.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Limit:
    name: str
    limit: int
    seconds: int

    def window(self, now: float) -> int:
        """Start (epoch seconds) of the window holding ``now``."""
        return int(now) // self.seconds * self.seconds

    def retry_after(self, now: float) -> int:
        """Whole seconds until the window holding ``now`` ends (at least 1)."""
        return max(1, self.window(now) + self.seconds - int(now))

    def key(self, subject: str, now: float) -> str:
        return f"RATE#{self.name}#{subject}#{self.window(now)}"

    def expires(self, now: float) -> int:
        """When the counter item may be deleted (TTL): a minute after its window ends."""
        return self.window(now) + self.seconds + 60


def track_limits() -> tuple[Limit, Limit]:
    """(per IP, per code failures) for public tracking, from the settings."""
    from chalicelib.runtime.settings import settings
    cfg = settings()
    return (Limit("track-ip", cfg.track_per_ip, 60),
            Limit("track-code", cfg.track_failures_per_code, cfg.track_failure_window_seconds))
