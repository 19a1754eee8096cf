"""Payment rules: what a payment is, what a provider observation does to it, what the dossier
and the finance desk see. Pure domain code: no AWS, no HTTP, no provider calls.

A payment is a plain dict (stored as JSON by chalicelib.payments.store.payments). The dossier keeps a
small ledger under ``dossier["payment"]``: the money it holds (``amount_paid``), the payment
in progress (``pending``), the receipts issued and a short history. Every payment transition
rewrites the dossier under its version check and emits its event(s) keyed to the dossier, so
the existing outbox publisher carries payment events to the bus in dossier order.

Money is integer VND throughout; times are ISO 8601 with +07:00.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast
from collections.abc import Mapping

from chalicelib.payments.rules import transitions as pt
from chalicelib.payments.rules.choice import method_label
from chalicelib.payments.rules.records import Payment, RefundDue
from chalicelib.kernel.working_days import iso, parse_iso, to_local
from chalicelib.kernel.errors import Conflict, ValidationFailed
from chalicelib.kernel.events import new_event
from chalicelib.payments.rules.ledger import NOT_SERVED, ledger, outstanding, refund_owed, vnd
from payments import CallbackOutcome, Notification, PaymentOutcome, QueryResult

NOTIFICATIONS_KEPT = 20
REFUND_REASON_MAX = 500

# --- events keyed to the dossier ------------------------------------------------------------

def _emit(dossier: dict[str, Any], event_type: str, at: str, data: dict[str, Any]) -> dict[str, Any]:
    """Bump the dossier's version and build the event that carries it."""
    dossier["version"] += 1
    return new_event(event_type, dossier_code=dossier["code"], version=dossier["version"], occurred_at=at,
                     agency_id=dossier["agency_id"], procedure_code=dossier["procedure_code"],
                     status=dossier["status"], data=data)


def _history(book: dict[str, Any], payment: Mapping[str, Any]) -> None:
    entry = {"payment_id": payment["payment_id"], "status": payment["status"], "amount": payment["amount"],
             "provider": payment["provider"]}
    book["payments"] = [p for p in book.get("payments", []) if p["payment_id"] != payment["payment_id"]] + [entry]


# --- creating a payment ---------------------------------------------------------------------

def fee_items(dossier: Mapping[str, Any], amount: int) -> list[dict[str, Any]]:
    """Receipt lines: the dossier's fees when paying them all, else one line for the balance."""
    if amount == int(dossier["amount_due"]):
        return [{"name": fee["name"], "amount": fee["amount"]} for fee in dossier["fees"]]
    return [{"name": f"Phí, lệ phí còn thiếu của hồ sơ {dossier['code']}", "amount": amount}]


def order_description(dossier: Mapping[str, Any]) -> str:
    """What the citizen sees on the pay page; a provider cleans it to what its gateway takes."""
    return f"Thanh toan phi le phi ho so {dossier['code']}"


def payment_reference(now: datetime, random_hex: str) -> str:
    """A new payment's id, which is also the reference the provider knows it by:
    ``MC{yyMMdd, Vietnam's day}{16 random hex, upper}``. Letters and digits only and 24
    characters, so every provider can carry it; 64 random bits make a same-day clash negligible."""
    return f"MC{to_local(now):%y%m%d}{random_hex[:16].upper()}"


def new_payment(dossier: Mapping[str, Any], *, payment_id: str, provider: str, amount: int, pay_url: str,
                created_at: datetime, expires_at: datetime) -> dict[str, Any]:
    """The payment as first stored. ``provider`` is the registry name its callbacks come back
    under; ``created_at`` is the provider's own stamp: query and refund send exactly this back."""
    return {
        "payment_id": payment_id, "provider": provider, "currency": "VND", "amount": amount,
        "status": pt.PENDING, "version": 1,
        "dossier_code": dossier["code"], "agency_id": dossier["agency_id"],
        "procedure_code": dossier["procedure_code"], "procedure_name": dossier.get("procedure_name", ""),
        "owner_sub": dossier["owner_sub"], "payer_name": dossier["applicant"].get("full_name", ""),
        "items": fee_items(dossier, amount), "pay_url": pay_url,
        "created_at": iso(to_local(created_at)), "expires_at": iso(to_local(expires_at)),
        "paid_at": None, "provider_txn_id": None, "late": False, "finance_flags": [],
        "refunded_amount": 0, "refunds": [], "status_before_refund": None,
        "notifications": [], "receipt": None, "updated_at": iso(to_local(created_at)), "counter": None,
        "agencies": sorted({dossier["agency_id"], dossier.get("receiving_agency_id", dossier["agency_id"])}),
    }


def start_payment(dossier: dict[str, Any], payment: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Point the dossier at its new payment in progress; returns the PaymentCreated event."""
    book = ledger(dossier)
    book["pending"] = {key: payment[key] for key in ("payment_id", "amount", "pay_url", "created_at", "expires_at",
                                                     "provider")}
    _history(book, payment)
    dossier["payment"] = book
    return [_emit(dossier, pt.CREATED_EVENT, payment["created_at"], {
        "payment_id": payment["payment_id"], "amount": payment["amount"], "provider": payment["provider"],
        "expires_at": payment["expires_at"]})]


# --- what the provider tells us -------------------------------------------------------------

@dataclass(frozen=True)
class Observation:
    """One thing a provider said about a payment, from a notification or a query answer. Both
    go through ``decide`` and the same transition, so a missed notification heals itself.
    The codes are the provider's own, kept opaque for finance and the PaymentFailed event."""
    reference: str
    provider: str                    # the registry name of the provider that said it
    source: str                      # "ipn" | "querydr" | "desk" (an officer recorded money taken at the counter)
    outcome: PaymentOutcome
    amount: int | None               # VND; None when the provider did not say
    provider_txn_id: str | None
    paid_at: datetime | None
    response_code: str
    transaction_status: str
    raw: dict[str, Any] = field(default_factory=dict, repr=False)


def from_notification(provider: str, notification: Notification) -> Observation:
    """A verified notification is final: the payment succeeded or it did not."""
    outcome = PaymentOutcome.SUCCEEDED if notification.succeeded else PaymentOutcome.FAILED
    return Observation(notification.reference, provider, "ipn", outcome, notification.amount,
                       notification.provider_txn_id, notification.paid_at, notification.response_code,
                       notification.transaction_status, dict(notification.raw))


def at_counter(notification: Notification) -> Observation:
    """Money the desk took, as the counter provider records it: final, like a notification."""
    return Observation(notification.reference, "counter", "desk", PaymentOutcome.SUCCEEDED, notification.amount,
                       notification.provider_txn_id, notification.paid_at, notification.response_code,
                       notification.transaction_status, dict(notification.raw))


def from_query(provider: str, result: QueryResult) -> Observation:
    """A query answer; a payment the provider does not know tells us nothing yet."""
    outcome = result.outcome if result.found and result.outcome else PaymentOutcome.PENDING
    return Observation(result.reference, provider, "querydr", outcome, result.amount if result.found else None,
                       result.provider_txn_id, result.paid_at, result.response_code, result.status,
                       dict(result.raw))


@dataclass(frozen=True)
class Decision:
    outcome: CallbackOutcome         # what the provider is told (its reply says it in its own codes)
    target: str | None = None        # the status to move to, None when nothing changes


def decide(payment: Mapping[str, Any], observation: Observation, now: datetime) -> Decision:
    """The primer's order after the checksum: the provider, the amount, still pending, update.
    A success after failed/expired is recorded as succeeded_late, never dropped."""
    if observation.provider != payment["provider"]:
        return Decision(CallbackOutcome.UNKNOWN_PAYMENT)   # another provider's payment is not its to settle
    if observation.amount is not None and observation.amount != payment["amount"]:
        return Decision(CallbackOutcome.AMOUNT_MISMATCH)
    status = payment["status"]
    if observation.outcome == PaymentOutcome.SUCCEEDED:
        if status == pt.PENDING:
            return Decision(CallbackOutcome.ACCEPTED, pt.SUCCEEDED)
        if pt.allowed(status, pt.SUCCEEDED_LATE):
            return Decision(CallbackOutcome.ACCEPTED, pt.SUCCEEDED_LATE)
        return Decision(CallbackOutcome.ALREADY_RECORDED)
    if observation.outcome == PaymentOutcome.FAILED:
        if status == pt.PENDING:
            return Decision(CallbackOutcome.ACCEPTED, pt.FAILED)
        return Decision(CallbackOutcome.ALREADY_RECORDED)
    if status == pt.PENDING and now >= parse_iso(payment["expires_at"]):
        return Decision(CallbackOutcome.ACCEPTED, pt.EXPIRED)
    return Decision(CallbackOutcome.ACCEPTED if status == pt.PENDING else CallbackOutcome.ALREADY_RECORDED)


def remember(payment: dict[str, Any], observation: Observation, outcome: CallbackOutcome, now: datetime) -> None:
    """Keep the raw notification for audit (the last NOTIFICATIONS_KEPT of them)."""
    entry = {"at": iso(to_local(now)), "source": observation.source, "outcome": outcome.value,
             "raw": observation.raw}
    payment["notifications"] = [*(payment.get("notifications") or [])[-(NOTIFICATIONS_KEPT - 1):], entry]


@dataclass
class Plan:
    """Everything one transaction writes: the payment, the dossier, their events, and the
    dossier's refund-due record when it changed."""
    payment: dict[str, Any]
    dossier: dict[str, Any]
    events: list[dict[str, Any]]
    refund_due: RefundDue | None = None
    refund_due_changed: bool = False


def _finish(payment: dict[str, Any], dossier: dict[str, Any], events: list[dict[str, Any]], owed_before: int,
            at: str) -> Plan:
    book = ledger(dossier)
    if book.get("pending") and book["pending"]["payment_id"] == payment["payment_id"] \
            and payment["status"] != pt.PENDING:
        book["pending"] = None
    _history(book, payment)
    dossier["payment"] = book
    payment["version"] += 1
    payment["updated_at"] = at
    owed_after = refund_owed(dossier)
    return Plan(payment, dossier, events, refund_due_record(dossier, at) if owed_after else None,
                owed_after != owed_before)


def apply(payment: Mapping[str, Any], dossier: Mapping[str, Any], decision: Decision, observation: Observation,
          now: datetime) -> Plan:
    """The transition a provider observation causes, with its events and, on success, the receipt."""
    target = pt.check(payment["status"], decision.target or "")
    payment, dossier = _copy(payment), _copy(dossier)
    at = iso(to_local(now))
    owed_before = refund_owed(dossier)
    remember(payment, observation, decision.outcome, now)
    payment["status"] = target
    data: dict[str, Any] = {"payment_id": payment["payment_id"], "amount": payment["amount"],
                            "source": observation.source}
    events: list[dict[str, Any]] = []
    if target in (pt.SUCCEEDED, pt.SUCCEEDED_LATE):
        due_before = outstanding(dossier)
        book = ledger(dossier)
        book["amount_paid"] = int(book["amount_paid"]) + payment["amount"]
        book["receipts_issued"] = int(book.get("receipts_issued", 0)) + 1
        dossier["payment"] = book
        payment["paid_at"] = iso(to_local(observation.paid_at or now))
        payment["provider_txn_id"] = observation.provider_txn_id
        if target == pt.SUCCEEDED_LATE:
            payment["late"] = True
            payment["finance_flags"] = sorted(set(payment["finance_flags"]) | {"late_success"})
        payment["receipt"] = receipt(payment, dossier, book["receipts_issued"], at)
        events.append(_emit(dossier, pt.EVENT_TYPES[target], at, {
            **data, "late": target == pt.SUCCEEDED_LATE, "provider_txn_id": payment["provider_txn_id"],
            "paid_at": payment["paid_at"], "receipt_number": payment["receipt"]["number"],
            "amount_paid": book["amount_paid"], "amount_due": dossier["amount_due"]}))
        if due_before > 0 and outstanding(dossier) == 0:
            events.append(_emit(dossier, pt.FEES_SETTLED_EVENT, at, {
                "amount_due": dossier["amount_due"], "amount_paid": book["amount_paid"],
                "payment_ids": [p["payment_id"] for p in book["payments"] if p["status"] in pt.MONEY_RECEIVED]
                + [payment["payment_id"]]}))
    elif target == pt.FAILED:
        events.append(_emit(dossier, pt.EVENT_TYPES[target], at, {
            **data, "response_code": observation.response_code,
            "transaction_status": observation.transaction_status}))
    else:
        events.append(_emit(dossier, pt.EVENT_TYPES[target], at, {**data, "expires_at": payment["expires_at"]}))
    return _finish(payment, dossier, events, owed_before, at)


def settle_at_counter(dossier: Mapping[str, Any], payment: dict[str, Any], observation: Observation,
                      counter: Mapping[str, Any], now: datetime) -> Plan:
    """A counter payment, created and settled in one transaction: PaymentCreated, then the
    success's own transition (ledger, receipt, PaymentSucceeded, FeesSettled) as any provider's."""
    book = _copy(dossier)
    payment["counter"] = dict(counter)
    created = start_payment(book, payment)
    plan = apply(payment, book, Decision(CallbackOutcome.ACCEPTED, pt.SUCCEEDED), observation, now)
    plan.events = created + plan.events
    return plan


def _copy(value: Mapping[str, Any]) -> dict[str, Any]:
    import copy

    return copy.deepcopy(dict(value))


# --- receipts (biên lai) --------------------------------------------------------------------

def receipt(payment: Mapping[str, Any], dossier: Mapping[str, Any], ordinal: int, at: str) -> dict[str, Any]:
    """The electronic receipt record of one successful payment.

    Numbered ``BL-{dossier code}-{nn}``: unique without a counter read (the dossier's version
    check guards ``receipts_issued``), and it tells a clerk at once which dossier it belongs to.
    """
    return {
        "number": f"BL-{dossier['code']}-{ordinal:02d}",
        "dossier_code": dossier["code"], "payment_id": payment["payment_id"],
        "payer": payment.get("payer_name", ""), "items": payment["items"], "amount": payment["amount"],
        "currency": "VND", "paid_at": payment["paid_at"], "issued_at": at,
        "provider": payment["provider"], "provider_txn_id": payment["provider_txn_id"],
        "method_label": method_label(payment["provider"], (payment.get("counter") or {}).get("method")),
        "agency_id": dossier["agency_id"],
        "procedure_code": dossier["procedure_code"], "procedure_name": dossier.get("procedure_name", ""),
    }


# --- refunds --------------------------------------------------------------------------------

def validate_refund_request(body: Any) -> tuple[int, str]:
    """(amount, reason) from the request body, or 422 naming each bad field."""
    if not isinstance(body, Mapping):
        raise ValidationFailed(fields={"body": "Phải là đối tượng JSON có amount và reason."})
    errors: dict[str, str] = {}
    amount, reason = body.get("amount"), body.get("reason")
    if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
        errors["amount"] = "Số tiền hoàn phải là số nguyên dương tính bằng đồng (không có phần thập phân)."
    if not isinstance(reason, str) or not reason.strip():
        errors["reason"] = "Cần nêu lý do hoàn tiền."
    elif len(reason.strip()) > REFUND_REASON_MAX:
        errors["reason"] = f"Lý do dài tối đa {REFUND_REASON_MAX} ký tự."
    if errors or not isinstance(amount, int) or not isinstance(reason, str):
        raise ValidationFailed(fields=errors)
    return amount, reason.strip()


def refundable(payment: Mapping[str, Any]) -> int:
    return int(payment["amount"]) - int(payment.get("refunded_amount", 0))


def request_refund(payment: Mapping[str, Any], dossier: Mapping[str, Any], *, refund_id: str, amount: int,
                   reason: str, by: str, now: datetime) -> Plan:
    """Reserve the refund: the payment moves to refund_pending under its version check, so a
    second refund racing this one fails its condition and can never exceed the amount paid."""
    if payment["status"] == pt.REFUND_PENDING:
        raise Conflict("Giao dịch đang có một yêu cầu hoàn tiền chờ xử lý; vui lòng chờ kết quả rồi thử lại.",
                       code="refund_in_progress", extra={"current_status": pt.REFUND_PENDING})
    pt.check(payment["status"], pt.REFUND_PENDING)
    left = refundable(payment)
    if amount > left:
        raise ValidationFailed(
            f"Số tiền hoàn vượt quá số tiền còn có thể hoàn ({vnd(left)}).", code="refund_exceeds_paid",
            fields={"amount": f"Tối đa {left} đồng."})
    payment, dossier = _copy(payment), _copy(dossier)
    at = iso(to_local(now))
    owed_before = refund_owed(dossier)
    payment["status_before_refund"] = payment["status"]
    payment["status"] = pt.REFUND_PENDING
    payment["refunds"].append({"refund_id": refund_id, "amount": amount, "reason": reason, "requested_by": by,
                               "requested_at": at, "status": "pending", "full": amount == payment["amount"],
                               "provider_code": None, "provider_txn_id": None, "settled_at": None})
    events = [_emit(dossier, pt.EVENT_TYPES[pt.REFUND_PENDING], at,
                    {"payment_id": payment["payment_id"], "refund_id": refund_id, "amount": amount})]
    return _finish(payment, dossier, events, owed_before, at)


def note_refund_waiting(payment: Mapping[str, Any], refund_id: str, *, provider_code: str,
                        now: datetime) -> Payment:
    """The provider is busy with another refund of this transaction (VNPay 94): the refund
    stays pending, noted with the code, for the reconciliation sweep to decide."""
    payment = _copy(payment)
    refund = _open_refund(payment, refund_id)
    refund.update(provider_code=provider_code, waiting_since=iso(to_local(now)))
    payment["version"] += 1
    return cast(Payment, payment)


def waiting_refund(payment: Mapping[str, Any]) -> dict[str, Any] | None:
    """The pending refund the provider answered "another refund in progress", if any."""
    return next((r for r in payment.get("refunds", []) if r["status"] == "pending" and r.get("waiting_since")), None)


def _open_refund(payment: dict[str, Any], refund_id: str) -> dict[str, Any]:
    found = next((r for r in payment["refunds"] if r["refund_id"] == refund_id), None)
    if found is None or found["status"] != "pending":
        raise Conflict("Yêu cầu hoàn tiền này không còn chờ xử lý.", code="refund_not_pending")
    return found


def complete_refund(payment: Mapping[str, Any], dossier: Mapping[str, Any], *, refund_id: str,
                    provider_code: str, provider_txn_id: str | None, settling: bool, now: datetime) -> Plan:
    """The provider accepted the refund: the money leaves the dossier's ledger."""
    payment, dossier = _copy(payment), _copy(dossier)
    at = iso(to_local(now))
    owed_before = refund_owed(dossier)
    refund = _open_refund(payment, refund_id)
    refund.update(status="settling" if settling else "refunded", provider_code=provider_code,
                  provider_txn_id=provider_txn_id, settled_at=at)
    payment["refunded_amount"] = int(payment["refunded_amount"]) + refund["amount"]
    target = pt.REFUNDED if payment["refunded_amount"] >= payment["amount"] else pt.PARTIALLY_REFUNDED
    payment["status"] = pt.check(payment["status"], target)
    payment["status_before_refund"] = None
    book = ledger(dossier)
    book["amount_paid"] = int(book["amount_paid"]) - refund["amount"]
    dossier["payment"] = book
    events = [_emit(dossier, pt.EVENT_TYPES[target], at, {
        "payment_id": payment["payment_id"], "refund_id": refund_id, "amount": refund["amount"],
        "refunded_total": payment["refunded_amount"], "full": target == pt.REFUNDED,
        "amount_paid": book["amount_paid"]})]
    return _finish(payment, dossier, events, owed_before, at)


def reject_refund(payment: Mapping[str, Any], dossier: Mapping[str, Any], *, refund_id: str, provider_code: str,
                  now: datetime) -> Plan:
    """The provider refused the refund: the reservation is released, the status restored."""
    payment, dossier = _copy(payment), _copy(dossier)
    at = iso(to_local(now))
    owed_before = refund_owed(dossier)
    refund = _open_refund(payment, refund_id)
    refund.update(status="rejected", provider_code=provider_code, settled_at=at)
    payment["status"] = pt.check(payment["status"], payment.get("status_before_refund") or pt.SUCCEEDED)
    payment["status_before_refund"] = None
    events = [_emit(dossier, pt.REFUND_REJECTED_EVENT, at, {
        "payment_id": payment["payment_id"], "refund_id": refund_id, "amount": refund["amount"],
        "provider_code": provider_code})]
    return _finish(payment, dossier, events, owed_before, at)


# --- the finance desk's to-refund list ------------------------------------------------------

def refund_due_record(dossier: Mapping[str, Any], at: str) -> RefundDue:
    """One line of the "to refund" list: a dossier holding money it must give back."""
    book = ledger(dossier)
    return {
        "dossier_code": dossier["code"], "agency_id": dossier["agency_id"],
        "procedure_code": dossier["procedure_code"], "dossier_status": dossier["status"],
        "amount_due": dossier["amount_due"], "amount_paid": book["amount_paid"],
        "amount_to_refund": refund_owed(dossier),
        "reason": dossier["status"] if dossier["status"] in NOT_SERVED else "overpaid",
        "payment_ids": [p["payment_id"] for p in book.get("payments", []) if p["status"] in pt.MONEY_RECEIVED],
        "dossier_version": dossier["version"], "since": at,
    }


# --- what callers see -----------------------------------------------------------------------

def payment_view(payment: Mapping[str, Any]) -> dict[str, Any]:
    """GET /payments/{id}: no raw provider data, the pay URL only while it can be used."""
    receipt_ = payment.get("receipt")
    return {
        "payment_id": payment["payment_id"], "dossier_code": payment["dossier_code"],
        "status": payment["status"], "amount": payment["amount"], "currency": payment["currency"],
        "provider": payment["provider"],
        "pay_url": payment["pay_url"] if payment["status"] == pt.PENDING else None,
        "created_at": payment["created_at"], "expires_at": payment["expires_at"], "paid_at": payment["paid_at"],
        "provider_txn_id": payment["provider_txn_id"], "late": payment["late"],
        "finance_flags": payment["finance_flags"], "refunded_amount": payment["refunded_amount"],
        "refunds": [{k: r[k] for k in ("refund_id", "amount", "reason", "status", "requested_at", "settled_at",
                                       "provider_code")} for r in payment["refunds"]],
        "receipt": ({"number": receipt_["number"], "download_url": f"/payments/{payment['payment_id']}/receipt"}
                    if receipt_ else None),
        "counter": ({key: payment["counter"][key] for key in ("method", "reference", "desk_agency_id")}
                    if payment.get("counter") else None),
    }


def creation_view(payment: Mapping[str, Any]) -> dict[str, Any]:
    """POST /dossiers/{code}/payments: where to send the browser."""
    return {"payment_id": payment["payment_id"], "status": payment.get("status", pt.PENDING),
            "amount": payment["amount"], "pay_url": payment["pay_url"], "expires_at": payment["expires_at"]}
