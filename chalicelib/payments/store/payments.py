"""Payment repository: the only module that reads and writes payment items.

Payments live in their own table (``payments``): the payment item (JSON body, keyed by the
provider reference, which is also the payment id), the refund-due records of the finance
desk, and three indexes (pending payments, one local day's ledger, the to-refund list).
Every transition is ONE TransactWriteItems: the payment (version-checked), the dossier
(version-checked) with its outbox events and audit record, and the dossier's refund-due record
when it changed.
"""
from __future__ import annotations

import json
from typing import Any, cast
from collections.abc import Iterator

from pynamodb.exceptions import DoesNotExist, PutError, TransactWriteError

from chalicelib.dossiers.rules.records import Dossier
from chalicelib.dossiers.store import dossiers as store
from chalicelib.kernel.working_days import parse_iso, to_local
from chalicelib.kernel.errors import ServiceUnavailable
from chalicelib.runtime.models import PaymentItem, RefundDueItem
from chalicelib.payments.rules.payments import Plan, waiting_refund
from chalicelib.payments.rules.records import Payment, RefundDue
from chalicelib.payments.rules.transitions import PENDING, REFUND_PENDING

CONDITION_FAILED = "ConditionalCheckFailedException"
PENDING_KEY = "PENDING"
DUE_KEY = "DUE"


class Contention(Exception):
    """Someone changed the payment or the dossier first: read again and decide again."""


def payment_pk(payment_id: str) -> str:
    return f"PAYMENT#{payment_id}"


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def to_item(payment: Payment) -> PaymentItem:
    """The payment as its DynamoDB item: the whole payment as JSON in ``body``, plus the
    attributes its key, version check and indexes need. The one place a payment becomes an item."""
    created = payment["created_at"]
    # On the sweep's index: a pending payment, and a refund left waiting for the provider
    # (chalicelib.payments.rules.payments.waiting_refund).
    pending = payment["status"] == PENDING or (
        payment["status"] == REFUND_PENDING and waiting_refund(payment) is not None)
    return PaymentItem(
        pk=payment_pk(payment["payment_id"]), sk="PAYMENT", status=payment["status"], version=payment["version"],
        dossier_code=payment["dossier_code"],
        gsi_pending=PENDING_KEY if pending else None,
        gsi_pending_sk=f"{created}#{payment['payment_id']}" if pending else None,
        gsi_day=f"{to_local(parse_iso(created)):%Y-%m-%d}", gsi_day_sk=f"{created}#{payment['payment_id']}",
        body=_dumps(payment),
    )


def from_item(item: PaymentItem) -> Payment:
    """The payment an item holds: the one place an item becomes a payment."""
    payment: Payment = json.loads(item.body)
    return payment


def _refund_due_item(dossier_code: str, record: RefundDue | None, version: int) -> RefundDueItem:
    """A listed record, or a tombstone (no index key) that still remembers the version."""
    return RefundDueItem(
        pk=f"REFUND_DUE#{dossier_code}", sk="REFUND_DUE", dossier_version=version,
        gsi_refund_due=DUE_KEY if record else None,
        gsi_refund_due_sk=f"{record['agency_id']}#{dossier_code}" if record else None,
        body=_dumps(record or {}),
    )


# --- reads ------------------------------------------------------------------------------

def get_payment(payment_id: str) -> Payment | None:
    """One GetItem, strongly consistent: the IPN decides on the latest status."""
    try:
        item = PaymentItem.get(payment_pk(payment_id), "PAYMENT", consistent_read=True)
    except DoesNotExist:
        return None
    return from_item(item)


def pending_created_by(cutoff_iso: str) -> Iterator[Payment]:
    """Pending payments created at or before ``cutoff_iso`` (+07:00), oldest first: a Query on
    the sparse pending index, so settled payments are never read."""
    query = PaymentItem.pending.query(PENDING_KEY, PaymentItem.gsi_pending_sk <= f"{cutoff_iso}#~")
    for item in query:
        yield from_item(item)


def payments_of_day(day: str) -> list[Payment]:
    """Every payment created on local day ``day`` (YYYY-MM-DD)."""
    return [from_item(item) for item in PaymentItem.by_day.query(day)]


def refund_due_list() -> list[RefundDue]:
    records: list[RefundDue] = [json.loads(item.body) for item in RefundDueItem.due.query(DUE_KEY)]
    return records


# --- writes -----------------------------------------------------------------------------

def commit(plan: Plan, *, expected_payment_version: int | None, expected_dossier_version: int,
           audit_record: dict[str, Any]) -> None:
    """Write a transition in one transaction. ``expected_payment_version`` None creates the
    payment (it must not exist). Contention if either version moved; 503 on anything else."""
    # The payment rules' Plan still carries plain dicts; they are a Payment and a Dossier.
    payment, dossier = cast(Payment, plan.payment), cast(Dossier, plan.dossier)
    payment_item = to_item(payment)
    condition = (PaymentItem.pk.does_not_exist() if expected_payment_version is None
                 else PaymentItem.version == expected_payment_version)
    try:
        with store.transaction() as tx:
            tx.save(payment_item, condition=condition)
            store.stage_dossier_change(tx, dossier, plan.events, expected_version=expected_dossier_version,
                                       audit_record=audit_record)
            if plan.refund_due_changed:
                tx.save(_refund_due_item(dossier["code"], plan.refund_due, dossier["version"]))
    except TransactWriteError as exc:
        if any(code in ("ConditionalCheckFailed", "TransactionConflict") for code in store.cancellation_codes(exc)):
            raise Contention() from None
        raise store.too_large(exc, dossier["code"]) or ServiceUnavailable(extra={"retryable": True}) from exc


def save_payment(payment: Payment, *, expected_version: int) -> None:
    """Write the payment alone (an audit note that changes no status), version-checked."""
    try:
        to_item(payment).save(condition=PaymentItem.version == expected_version)
    except PutError as exc:
        if exc.cause_response_code == CONDITION_FAILED:
            raise Contention() from None
        raise ServiceUnavailable(extra={"retryable": True}) from exc


def put_refund_due_if_newer(dossier_code: str, record: RefundDue | None, version: int) -> bool:
    """Record what a consumer saw of the dossier, unless a newer view is already stored."""
    item = _refund_due_item(dossier_code, record, version)
    try:
        item.save(condition=RefundDueItem.pk.does_not_exist() | (RefundDueItem.dossier_version < version))
    except PutError as exc:
        if exc.cause_response_code == CONDITION_FAILED:
            return False
        raise
    return True
