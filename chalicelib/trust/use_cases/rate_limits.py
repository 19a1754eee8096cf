"""Rate limits as the dossier tracking page applies them: count a request against a limit,
or read a dossier together with its count. Other contexts ask here, never the rate-limit
store (import contracts in pyproject.toml)."""
from __future__ import annotations

from chalicelib.trust.store.rate_limits import dossier_and_hits, hit

__all__ = ["dossier_and_hits", "hit"]
