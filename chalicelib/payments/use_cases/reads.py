"""The payment reads other contexts make (the payments report, the privacy export). They come
here, never to the payments store, so the store stays the payments context's own (import
contracts in pyproject.toml)."""
from __future__ import annotations

from chalicelib.payments.store.payments import get_payment, payments_of_day

__all__ = ["get_payment", "payments_of_day"]
