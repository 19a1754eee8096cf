"""Counter payments: fees taken at the one-stop desk (Decree 118/2025/NĐ-CP lets the citizen
pay at the one-stop section as well as online), behind the same interface as the gateways.

The desk is its own provider: the officer who takes the money is what a gateway's
confirmation is elsewhere, so a counter payment is settled the moment it is recorded
(``record`` returns the verified ``Notification``) and goes through the app's ledger, receipt,
reconciliation and refund paths like any other. There is nobody to ask afterwards: ``query``
knows nothing, no callback ever arrives, and a refund is money the desk or finance gives back
by hand, recorded when it is done (accepted at once).
"""
from __future__ import annotations

import re
from datetime import datetime, UTC
from types import MappingProxyType
from typing import Any
from collections.abc import Callable, Mapping

from .base import (
    CallbackOutcome,
    CallbackParams,
    CallbackReply,
    Notification,
    PaymentError,
    PaymentSession,
    QueryResult,
    RefundResult,
    ReturnResult,
    check_amount,
    check_aware,
)

__all__ = ["METHODS", "SLIP_MAX", "CounterProvider", "check_slip"]

METHODS = ("cash", "card", "transfer")   # tiền mặt, thẻ (POS), chuyển khoản
SLIP_MAX = 64
_SLIP_RE = re.compile(r"[\x21-\x7e](?:[\x20-\x7e]*[\x21-\x7e])?")


def check_slip(method: str, slip: str | None) -> str | None:
    """The desk's reference (receipt-book number, POS slip, bank transfer reference): required
    for a card or a transfer, which a bank statement must match; optional for cash."""
    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(METHODS)}")
    if slip is None or slip == "":
        if method != "cash":
            raise ValueError("a card or transfer payment needs the slip or transfer reference")
        return None
    if not isinstance(slip, str) or len(slip) > SLIP_MAX or not _SLIP_RE.fullmatch(slip):
        raise ValueError(f"reference must be 1-{SLIP_MAX} printable ASCII characters")
    return slip


class CounterProvider:
    name = "counter"
    settlement_layout: Mapping[str, Any] = MappingProxyType({})   # the desk's cash book uses the neutral names

    def __init__(self, *, clock: Callable[[], datetime] | None = None) -> None:
        self._clock = clock or (lambda: datetime.now(UTC))

    def create_payment(self, amount: int, currency: str, reference: str, description: str, return_url: str,
                       client_ip: str, expires_at: datetime) -> PaymentSession:
        """A payment taken at the desk has no page to send anyone to."""
        check_amount(amount)
        check_aware(expires_at, "expires_at")
        if currency != "VND":
            raise ValueError("the desk takes VND only")
        return PaymentSession(reference, "", expires_at, check_aware(self._clock(), "clock()").replace(microsecond=0))

    def record(self, reference: str, amount: int, method: str, slip: str | None) -> Notification:
        """The officer's record of money received: final, like a verified confirmation."""
        check_amount(amount)
        slip = check_slip(method, slip)
        now = check_aware(self._clock(), "clock()").replace(microsecond=0)
        return Notification(reference=reference, provider_txn_id=slip, amount=amount, succeeded=True,
                            response_code=method, transaction_status="settled", paid_at=now,
                            raw={"method": method, "reference": slip or ""})

    def parse_notification(self, params: CallbackParams) -> Notification:
        raise PaymentError("counter payments have no notification")

    def verify_return(self, params: CallbackParams) -> ReturnResult:
        raise PaymentError("counter payments have no return page")

    def callback_reply(self, outcome: CallbackOutcome) -> CallbackReply:
        return CallbackReply({"outcome": outcome.value}, status=404)

    def query(self, reference: str, created_at: datetime) -> QueryResult:
        """Nobody to ask: the desk's record is the provider's record."""
        return QueryResult(reference, False, None, False, "", None, None, {})

    def refund(self, reference: str, amount: int, full: bool, requested_by: str, *,
               provider_txn_id: str | None = None, transaction_date: datetime | None = None) -> RefundResult:
        """Money given back at the desk or by transfer, recorded by whoever gave it."""
        check_amount(amount)
        return RefundResult(reference, True, False, amount, None, "recorded", {"requested_by": requested_by})
