"""The payment state machine as data.

``EDGES`` is the only place that says which status a payment may move to from which. The
domain (chalicelib.payments.rules.payments) works out the target of an observation or a request and
``check`` refuses anything outside the graph with a 409; nothing is silently ignored.

    pending ──▶ succeeded | failed | expired
    failed, expired ──▶ succeeded_late            (money arrived after we gave up: kept, flagged)
    succeeded, succeeded_late, partially_refunded ──▶ refund_pending
    refund_pending ──▶ refunded | partially_refunded
    refund_pending ──▶ succeeded | succeeded_late | partially_refunded   (provider refused the refund)

Every edge emits exactly one event, named by ``EVENT_TYPES`` for its target (a refused refund
emits ``PaymentRefundRejected`` whatever status it restores).
"""
from __future__ import annotations

from chalicelib.kernel.errors import Conflict

PENDING = "pending"
SUCCEEDED = "succeeded"
FAILED = "failed"
EXPIRED = "expired"
SUCCEEDED_LATE = "succeeded_late"
REFUND_PENDING = "refund_pending"
REFUNDED = "refunded"
PARTIALLY_REFUNDED = "partially_refunded"

STATUSES: tuple[str, ...] = (PENDING, SUCCEEDED, FAILED, EXPIRED, SUCCEEDED_LATE, REFUND_PENDING, REFUNDED,
                             PARTIALLY_REFUNDED)

EDGES: dict[str, frozenset[str]] = {
    PENDING: frozenset({SUCCEEDED, FAILED, EXPIRED}),
    FAILED: frozenset({SUCCEEDED_LATE}),
    EXPIRED: frozenset({SUCCEEDED_LATE}),
    SUCCEEDED: frozenset({REFUND_PENDING}),
    SUCCEEDED_LATE: frozenset({REFUND_PENDING}),
    PARTIALLY_REFUNDED: frozenset({REFUND_PENDING}),
    REFUND_PENDING: frozenset({REFUNDED, PARTIALLY_REFUNDED, SUCCEEDED, SUCCEEDED_LATE}),
    REFUNDED: frozenset(),
}

# Statuses in which the provider holds (or held, before a refund) the citizen's money.
MONEY_RECEIVED: frozenset[str] = frozenset({SUCCEEDED, SUCCEEDED_LATE, REFUND_PENDING, REFUNDED, PARTIALLY_REFUNDED})

EVENT_TYPES: dict[str, str] = {
    SUCCEEDED: "PaymentSucceeded",
    SUCCEEDED_LATE: "PaymentSucceeded",      # with data.late = true
    FAILED: "PaymentFailed",
    EXPIRED: "PaymentExpired",
    REFUND_PENDING: "PaymentRefundRequested",
    REFUNDED: "PaymentRefunded",
    PARTIALLY_REFUNDED: "PaymentRefunded",
}
REFUND_REJECTED_EVENT = "PaymentRefundRejected"
CREATED_EVENT = "PaymentCreated"
FEES_SETTLED_EVENT = "FeesSettled"


class PaymentTransitionRefused(Conflict):
    code = "invalid_payment_transition"

    def __init__(self, current: str, target: str) -> None:
        super().__init__(
            f"Không thể chuyển giao dịch thanh toán từ trạng thái '{current}' sang '{target}'.",
            extra={"current_status": current},
        )


def check(current: str, target: str) -> str:
    """``target`` if the graph has the edge current → target; PaymentTransitionRefused (409) otherwise."""
    if target not in EDGES.get(current, frozenset()):
        raise PaymentTransitionRefused(current, target)
    return target


def allowed(current: str, target: str) -> bool:
    return target in EDGES.get(current, frozenset())
