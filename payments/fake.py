"""In-memory, deterministic provider for unit tests of callers.

>>> fake = FakeProvider()
>>> session = fake.create_payment(50_000, "VND", "REF1", "Le phi", "https://app/return", "1.2.3.4", expires)
>>> params = fake.complete("REF1")            # what the provider would POST/GET to the IPN
>>> fake.parse_notification(params).succeeded  # True; tamper with params -> SignatureError
>>> fake.fail_next(2)                          # next two calls raise ProviderUnavailable

Notification params are signed with HMAC-SHA256 over ``k=v`` pairs sorted by key, so tests of
the IPN handler exercise the same verify-then-parse path as with a real provider.
"""
from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, field
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
    PaymentOutcome,
    PaymentSession,
    ProviderRejected,
    ProviderUnavailable,
    QueryResult,
    RefundResult,
    ReturnResult,
    SignatureError,
    check_amount,
    check_aware,
)

__all__ = ["FakePayment", "FakeProvider"]

_SIGNED_KEYS = ("reference", "amount", "txn_id", "response_code", "status", "paid_at")


@dataclass
class FakePayment:
    reference: str
    amount: int
    description: str
    return_url: str
    client_ip: str
    created_at: datetime
    expires_at: datetime
    status: str = "pending"  # pending | succeeded | failed
    txn_id: str | None = None
    paid_at: datetime | None = None
    refunded: int = 0
    refunds: list[int] = field(default_factory=list)


class FakeProvider:
    name = "fake"
    settlement_layout: Mapping[str, Any] = MappingProxyType({})  # the neutral column names

    def __init__(
        self,
        secret: str = "fake-secret",
        *,
        clock: Callable[[], datetime] | None = None,
        host: str = "https://fake-pay.invalid",
    ) -> None:
        self._secret = secret
        self._clock = clock or (lambda: datetime(2025, 1, 1, 3, 0, tzinfo=UTC))
        self._host = host.rstrip("/")
        self.payments: dict[str, FakePayment] = {}
        self.calls: list[tuple[str, tuple[object, ...]]] = []
        self._failures: list[Exception] = []
        self._txn_counter = 0

    # -- test controls ----------------------------------------------------------------------

    def fail_next(self, n: int = 1, exc: Exception | None = None) -> None:
        """The next ``n`` provider calls (create/query/refund) raise ``exc`` (ProviderUnavailable)."""
        self._failures.extend([exc or ProviderUnavailable("fake provider told to fail")] * n)

    def complete(
        self,
        reference: str,
        succeeded: bool = True,
        *,
        amount: int | None = None,
        response_code: str | None = None,
    ) -> dict[str, str]:
        """Finish a payment as the provider would and return signed notification params.

        ``amount`` overrides the amount reported (to test amount-mismatch handling).
        """
        payment = self._payment(reference)
        if payment.txn_id is None:
            self._txn_counter += 1
            payment.txn_id = f"FAKE{self._txn_counter:08d}"
        now = self._clock()
        payment.status = "succeeded" if succeeded else "failed"
        payment.paid_at = now if succeeded else None
        params = {
            "reference": reference,
            "amount": str(payment.amount if amount is None else amount),
            "txn_id": payment.txn_id,
            "response_code": response_code or ("00" if succeeded else "24"),
            "status": "00" if succeeded else "02",
            "paid_at": now.isoformat() if succeeded else "",
        }
        params["signature"] = self._sign(params)
        return params

    # -- signing ----------------------------------------------------------------------------

    def _sign(self, params: Mapping[str, str]) -> str:
        data = "&".join(f"{k}={params.get(k, '')}" for k in _SIGNED_KEYS)
        return hmac.new(self._secret.encode(), data.encode(), hashlib.sha256).hexdigest()

    @staticmethod
    def _flat(params: CallbackParams) -> dict[str, str]:
        """One string per key; a key sent twice is refused like a forged signature."""
        if not isinstance(params, Mapping):
            raise PaymentError("parameters must be a mapping of strings")
        data: dict[str, str] = {}
        for key, value in params.items():
            if isinstance(value, (list, tuple)):
                if len(value) > 1:
                    raise SignatureError(f"duplicated parameter {key}")
                value = value[0] if value else ""
            if not isinstance(value, str):
                raise PaymentError("parameters must be a mapping of strings")
            data[key] = value
        return data

    def _verified(self, params: CallbackParams) -> dict[str, str]:
        data = self._flat(params)
        sig = data.get("signature")
        if not sig or not hmac.compare_digest(self._sign(data).encode(), sig.encode()):
            raise SignatureError("fake signature missing or wrong")
        if not data.get("reference") or not data.get("amount", "").isdigit():
            raise PaymentError("missing or garbage fields")
        return data

    def _payment(self, reference: str) -> FakePayment:
        try:
            return self.payments[reference]
        except KeyError:
            raise PaymentError(f"fake provider has no payment {reference!r}") from None

    def _enter(self, method: str, *args: object) -> None:
        self.calls.append((method, args))
        if self._failures:
            raise self._failures.pop(0)

    # -- PaymentProvider --------------------------------------------------------------------

    def create_payment(self, amount: int, currency: str, reference: str, description: str, return_url: str,
                       client_ip: str, expires_at: datetime) -> PaymentSession:
        check_amount(amount)
        check_aware(expires_at, "expires_at")
        if currency != "VND":
            raise ValueError("the fake provider takes VND only")
        self._enter("create_payment", amount, currency, reference)
        created = self._clock()
        self.payments[reference] = FakePayment(
            reference, amount, description, return_url, client_ip, created, expires_at
        )
        return PaymentSession(reference, f"{self._host}/pay/{reference}", expires_at, created)

    def parse_notification(self, params: CallbackParams) -> Notification:
        data = self._verified(params)
        ok = data["response_code"] == "00" and data["status"] == "00"
        return Notification(
            reference=data["reference"],
            provider_txn_id=data.get("txn_id") or None,
            amount=int(data["amount"]),
            succeeded=ok,
            response_code=data["response_code"],
            transaction_status=data["status"],
            paid_at=datetime.fromisoformat(data["paid_at"]) if ok and data.get("paid_at") else None,
            raw=data,
        )

    def verify_return(self, params: CallbackParams) -> ReturnResult:
        data = self._verified(params)
        return ReturnResult(
            data["reference"], int(data["amount"]),
            data["response_code"] == "00" and data["status"] == "00", data["response_code"], data,
        )

    def callback_reply(self, outcome: CallbackOutcome) -> CallbackReply:
        return CallbackReply({"outcome": outcome.value})

    def query(self, reference: str, created_at: datetime) -> QueryResult:
        self._enter("query", reference, created_at)
        p = self.payments.get(reference)
        if p is None:
            return QueryResult(reference, False, None, False, "", None, None, {})
        status = {"pending": "01", "succeeded": "00", "failed": "02"}[p.status]
        outcome = {"pending": PaymentOutcome.PENDING, "succeeded": PaymentOutcome.SUCCEEDED,
                   "failed": PaymentOutcome.FAILED}[p.status]
        return QueryResult(reference, True, p.amount, p.status == "succeeded", status, p.txn_id, p.paid_at,
                           {"status": status}, outcome, "00")

    def refund(self, reference: str, amount: int, full: bool, requested_by: str, *, provider_txn_id: str | None = None,
               transaction_date: datetime | None = None) -> RefundResult:
        check_amount(amount)
        self._enter("refund", reference, amount, full, requested_by)
        p = self.payments.get(reference)
        if p is None:
            raise ProviderRejected("91", "not found")
        if p.status != "succeeded":
            raise ProviderRejected("95", "original payment did not succeed")
        if p.refunded + amount > p.amount or (full and amount != p.amount):
            raise ProviderRejected("99", "refund exceeds the paid amount")
        p.refunded += amount
        p.refunds.append(amount)
        return RefundResult(reference, True, False, amount, p.txn_id, "00", {"refunded_total": str(p.refunded)})
