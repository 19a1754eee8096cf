"""Provider-neutral payment interface, shaped like Stripe's.

Everything here is pure Python: no Chalice, no DynamoDB, no boto3. Callers (the app's payment
handlers) only ever see these types, so a second provider can be added without touching them.

Amounts are integer VND everywhere. VND has no minor unit in practice, so an ``int`` is exact
and a ``float`` is always a bug; provider-specific scaling (VNPay's x100) happens inside the
provider that needs it.
"""
from __future__ import annotations

from dataclasses import dataclass, field
import re
from datetime import UTC, datetime, timedelta, timezone
from enum import StrEnum
from typing import Any, Protocol, runtime_checkable
from collections.abc import Mapping, Sequence

__all__ = [
    "CallbackOutcome",
    "CallbackParams",
    "CallbackReply",
    "Notification",
    "PaymentError",
    "PaymentOutcome",
    "PaymentProvider",
    "PaymentSession",
    "ProviderRejected",
    "ProviderUnavailable",
    "QueryResult",
    "RefundResult",
    "ReturnResult",
    "SignatureError",
    "check_amount",
    "check_aware",
]


# A callback's query parameters as received: a key may repeat (API Gateway's
# multiValueQueryStringParameters), and only the provider knows whether a repeat is an attack.
CallbackParams = Mapping[str, "str | Sequence[str]"]


class PaymentOutcome(StrEnum):
    """What a provider's answer means for the payment itself, in words every provider shares."""

    SUCCEEDED = "succeeded"  # the money was taken (even if a refund has been asked since)
    FAILED = "failed"        # it will not complete (cancelled, declined, reversed)
    PENDING = "pending"      # not completed yet, or the provider does not know the payment


class CallbackOutcome(StrEnum):
    """What the app made of a server-to-server notification. The provider turns it into the
    reply its gateway expects (``PaymentProvider.callback_reply``), so the app never writes a
    provider's reply codes."""

    ACCEPTED = "accepted"                  # taken into account (recorded, or nothing to record yet)
    UNKNOWN_PAYMENT = "unknown_payment"    # no payment with that reference
    ALREADY_RECORDED = "already_recorded"  # the payment was settled before; nothing changed
    AMOUNT_MISMATCH = "amount_mismatch"    # signed, but not the amount we asked for
    BAD_SIGNATURE = "bad_signature"        # checksum missing or wrong
    ERROR = "error"                        # garbage input or a fault on our side: send it again


@dataclass(frozen=True)
class CallbackReply:
    """The HTTP answer to a notification: a JSON body (VNPay: ``{"RspCode", "Message"}``)."""

    body: Mapping[str, Any]
    status: int = 200


@dataclass(frozen=True)
class PaymentSession:
    """A payment the citizen has not completed yet: send the browser to ``redirect_url``."""

    id: str  # the merchant reference (VNPay: vnp_TxnRef)
    redirect_url: str
    expires_at: datetime
    # When the provider stamped the payment (VNPay: vnp_CreateDate, whole seconds). Store it
    # with the order: query() and refund() must send exactly this time back.
    created_at: datetime | None = None


@dataclass(frozen=True)
class Notification:
    """A verified server-to-server notification (VNPay: IPN). The only thing that marks a payment paid."""

    reference: str
    provider_txn_id: str | None
    amount: int  # VND
    succeeded: bool
    response_code: str
    transaction_status: str
    paid_at: datetime | None  # aware, UTC; None unless succeeded
    raw: dict[str, str] = field(repr=False)


@dataclass(frozen=True)
class ReturnResult:
    """A verified browser return. For display only: never change state on it."""

    reference: str
    amount: int  # VND
    succeeded: bool
    response_code: str
    raw: dict[str, Any] = field(repr=False)


@dataclass(frozen=True)
class QueryResult:
    reference: str
    found: bool
    amount: int | None  # VND
    succeeded: bool
    status: str  # provider transaction status code, e.g. "00"; "" when not found
    provider_txn_id: str | None
    paid_at: datetime | None
    raw: dict[str, Any] = field(repr=False)
    # What the answer means for the payment. Left out, it is SUCCEEDED when ``succeeded`` and
    # PENDING otherwise; a provider that can tell a failure (or a payment refunded since) says so.
    outcome: PaymentOutcome | None = None
    response_code: str = ""  # the provider's answer code to the query itself
    # The provider is processing a refund of this transaction now (VNPay status 05): a refund
    # it answered "already in progress" (RefundInProgress) is decided once this is False.
    refund_processing: bool = False

    def __post_init__(self) -> None:
        if self.outcome is None:
            derived = PaymentOutcome.SUCCEEDED if self.succeeded else PaymentOutcome.PENDING
            object.__setattr__(self, "outcome", derived)


@dataclass(frozen=True)
class RefundResult:
    reference: str
    accepted: bool
    pending: bool  # accepted but not settled with the bank yet
    amount: int  # VND
    provider_txn_id: str | None
    response_code: str
    raw: dict[str, Any] = field(repr=False)


class PaymentError(Exception):
    """Base class. Also raised for missing or garbage fields in provider input (a 4xx, not a 500)."""


class SignatureError(PaymentError):
    """A checksum was missing or did not match."""


class ProviderUnavailable(PaymentError):
    """Timeouts, connection errors, 5xx. Retryable later (the reconciliation sweep heals it)."""


class ProviderRejected(PaymentError):
    """The provider answered with an error code."""

    def __init__(self, code: str, message: str = "") -> None:
        self.code = code
        self.message = message
        super().__init__(f"provider rejected the request: code {code}" + (f" ({message})" if message else ""))


class RefundInProgress(PaymentError):
    """The provider is already processing a refund of this transaction and took no new one
    (VNPay 94). Not a refusal: the app keeps the refund pending and decides it by querying the
    transaction once the provider is done (a PaymentError, so a caller that does not know it
    treats it as an unknown outcome, the safe reading)."""

    def __init__(self, code: str, message: str = "") -> None:
        self.code = code
        self.message = message
        super().__init__(f"a refund of this transaction is already being processed: code {code}")


@runtime_checkable
class PaymentProvider(Protocol):
    name: str
    # How its settlement file reads, in the keys of the app's SettlementLayout (column names,
    # amount_scale, success_values...); empty when it has no file or the neutral names fit.
    settlement_layout: Mapping[str, Any]

    def create_payment(
        self,
        amount: int,
        currency: str,
        reference: str,
        description: str,
        return_url: str,
        client_ip: str,
        expires_at: datetime,
    ) -> PaymentSession: ...

    def verify_return(self, params: CallbackParams) -> ReturnResult: ...

    def parse_notification(self, params: CallbackParams) -> Notification: ...

    def callback_reply(self, outcome: CallbackOutcome) -> CallbackReply: ...

    def query(self, reference: str, created_at: datetime) -> QueryResult: ...

    def refund(
        self,
        reference: str,
        amount: int,
        full: bool,
        requested_by: str,
        *,
        provider_txn_id: str | None = None,
        transaction_date: datetime | None = None,
    ) -> RefundResult: ...


def check_amount(amount: object, *, allow_zero: bool = False) -> int:
    """Return ``amount`` if it is a non-negative ``int`` of VND (positive unless ``allow_zero``).

    ``bool`` is rejected although it subclasses ``int``; floats, Decimals and strings are
    rejected outright rather than rounded, because a silently rounded fee is a wrong fee.
    """
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise ValueError(f"amount must be an int number of VND, got {type(amount).__name__}")
    if amount < 0 or (amount == 0 and not allow_zero):
        raise ValueError(f"amount must be {'non-negative' if allow_zero else 'positive'}, got {amount}")
    return amount


def check_aware(value: object, name: str) -> datetime:
    if not isinstance(value, datetime):
        raise ValueError(f"{name} must be a datetime, got {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware (the Lambda clock is UTC; naive times are ambiguous)")
    return value


GMT7 = timezone(timedelta(hours=7), "GMT+7")   # Vietnam: no DST since 1975
_GATEWAY_TIME = re.compile(r"[0-9]{14}")


def format_gateway_time(value: datetime) -> str:
    """``yyyyMMddHHmmss`` in GMT+7 (24-hour clock) from an aware datetime: how Vietnam's
    gateways (VNPay, PayGov) write every time they sign."""
    check_aware(value, "datetime")
    return value.astimezone(GMT7).strftime("%Y%m%d%H%M%S")


def parse_gateway_time(value: str, gateway: str) -> datetime:
    """A gateway's ``yyyyMMddHHmmss`` (GMT+7) as an aware UTC datetime; PaymentError if garbage."""
    if not isinstance(value, str) or not _GATEWAY_TIME.fullmatch(value):
        raise PaymentError(f"invalid {gateway} time {value!r}")
    try:
        return datetime.strptime(value, "%Y%m%d%H%M%S").replace(tzinfo=GMT7).astimezone(UTC)
    except ValueError as exc:
        raise PaymentError(f"invalid {gateway} time {value!r}") from exc
