"""The payment and the ledger a dossier keeps of its payments, as typed records.

Pure: types only. A payment is stored as the JSON body of its item
(chalicelib.payments.store.payments maps it to and from DynamoDB) and shown to callers by
chalicelib.payments.rules.payments.payment_view. Money is integer VND; times are ISO 8601
with +07:00. ``PAYMENT_KEYS`` is derived from ``Payment``, so the keys are written here only.
"""
from typing import Any, NotRequired, TypedDict


class FeeItem(TypedDict):
    """One line of what a payment pays (and of its receipt)."""
    name: str
    amount: int


class Refund(TypedDict):
    """One refund asked of the provider; ``status`` pending | settling | refunded | rejected.
    ``waiting_since``: the provider answered "another refund in progress" (VNPay 94), so the
    reconciliation sweep decides it (absent otherwise)."""
    refund_id: str
    amount: int
    reason: str
    requested_by: str
    requested_at: str
    status: str
    full: bool
    provider_code: str | None
    provider_txn_id: str | None
    settled_at: str | None
    waiting_since: NotRequired[str]


class Notice(TypedDict):
    """A provider observation kept for audit (the last few of them)."""
    at: str
    source: str                      # ipn | querydr | desk
    reply: str
    raw: dict[str, Any]


class Receipt(TypedDict):
    """The electronic receipt (biên lai) of one successful payment."""
    number: str
    dossier_code: str
    payment_id: str
    payer: str
    items: list[FeeItem]
    amount: int
    currency: str
    paid_at: str | None
    issued_at: str
    provider: str
    provider_txn_id: str | None
    method_label: NotRequired[str]   # how it was paid, as the receipt says it (older receipts: absent)
    agency_id: str
    procedure_code: str
    procedure_name: str


class CounterRecord(TypedDict):
    """What the desk officer recorded of fees taken at the counter."""
    method: str                      # cash | card | transfer
    reference: str | None            # receipt book, POS slip or transfer reference
    recorded_by: str                 # the officer's subject
    desk_agency_id: str              # the agency whose desk took the money


class Payment(TypedDict):
    """A payment, as stored and as the payment rules change it."""
    payment_id: str                  # also the provider reference
    provider: str
    currency: str
    amount: int
    status: str                      # chalicelib.payments.rules.transitions
    version: int
    dossier_code: str
    agency_id: str
    procedure_code: str
    procedure_name: str
    owner_sub: str
    payer_name: str
    items: list[FeeItem]
    pay_url: str
    created_at: str                  # the provider's own stamp, sent back by query and refund
    expires_at: str
    paid_at: str | None
    provider_txn_id: str | None
    late: bool
    finance_flags: list[str]
    refunded_amount: int
    refunds: list[Refund]
    status_before_refund: str | None
    notifications: list[Notice]
    receipt: Receipt | None
    updated_at: str
    counter: CounterRecord | None    # set for provider "counter" only (older payments: absent)
    # The competent agency and the desk that received the dossier: who may read the payment and
    # its receipt (chalicelib.trust.rules.permissions.involved_agencies; older payments: absent).
    agencies: list[str]


class PendingPayment(TypedDict):
    """The payment in progress, as the dossier's ledger points at it."""
    payment_id: str
    amount: int
    pay_url: str
    created_at: str
    expires_at: str
    provider: NotRequired[str]       # older entries: absent


class LedgerEntry(TypedDict):
    payment_id: str
    status: str
    amount: int
    provider: NotRequired[str]       # vnpay | paygov | counter (national DuocThanhToanTrucTuyen); older: absent


class PaymentLedger(TypedDict):
    """What a dossier keeps of its payments under ``dossier["payment"]``."""
    amount_paid: int
    pending: PendingPayment | None
    receipts_issued: int
    payments: list[LedgerEntry]


class RefundDue(TypedDict):
    """One line of the finance desk's to-refund list: a dossier holding money it must give back."""
    dossier_code: str
    agency_id: str
    procedure_code: str
    dossier_status: str
    amount_due: int
    amount_paid: int
    amount_to_refund: int
    reason: str                      # refused | withdrawn | stopped | overpaid
    payment_ids: list[str]
    dossier_version: int
    since: str


PAYMENT_KEYS: tuple[str, ...] = tuple(Payment.__annotations__)
