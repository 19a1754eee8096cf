"""Use cases of online fee payment: create, IPN, return page, read, refund, the sweep.

Each function takes parsed input and an Identity (or provider parameters), applies the rules
of chalicelib.payments.rules.payments and calls the repositories and the provider. Nothing here knows
about HTTP, and nothing here knows a provider: providers come from the registry by the name the
payment stores (chalicelib.payments.adapters.providers) and are spoken to only through the
interface of ``payments``. The IPN and the reconciliation sweep share ``observe``: a missed IPN
heals through exactly the code path that would have handled it.
"""
from __future__ import annotations

import random
import time
import uuid
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta, UTC
from typing import Any, cast
from collections.abc import Callable, Mapping

from chalicelib.trust.rules import audit
from chalicelib.catalogue.use_cases import procedures as catalogue
from chalicelib.payments.rules import pages as payment_pages
from chalicelib.payments.store import payments as payment_store
from chalicelib.trust.rules import permissions
from chalicelib.payments.rules import reconciliation
from chalicelib.dossiers.use_cases import reads as dossier_reads
from chalicelib.payments.rules import ledger as payment_ledger
from chalicelib.payments.rules import payments as rules
from chalicelib.payments.rules import transitions as pt
from chalicelib.kernel.working_days import iso, parse_iso, to_local
from chalicelib.kernel.errors import Conflict, ExternalServiceFailed, NotFound, ServiceUnavailable, ValidationFailed
from chalicelib.trust.rules.identity import Identity
from chalicelib.runtime.log import logger as make_logger
from chalicelib.dossiers.rules.records import Dossier
from chalicelib.payments.rules.records import Payment
from chalicelib.payments.adapters.providers import (
    UnknownProvider, callback_provider, online_names, payment_settings, provider,
)
from chalicelib.payments.rules import choice
from payments import (
    CallbackOutcome, CallbackReply, PaymentError, PaymentOutcome, PaymentProvider, ProviderRejected,
    ProviderUnavailable, QueryResult, RefundInProgress, SignatureError,
)

Clock = Callable[[], datetime]
MAX_ATTEMPTS = 8

logger = make_logger("motcua-payments")


def utc_now() -> datetime:
    return datetime.now(UTC)


def _backoff(attempt: int) -> None:
    time.sleep(random.uniform(0, 0.005 * (attempt + 1)))


def _payment_not_found() -> NotFound:
    return NotFound("Không tìm thấy giao dịch thanh toán.", code="payment_not_found")


def callback_url(name: str, kind: str) -> str:
    """Where provider ``name`` sends its notification (``kind`` "ipn") or the browser ("return"):
    the routes /payments/providers/{provider}/ipn and /return under the portal's public URL."""
    return f"{payment_settings().public_url}/payments/providers/{name}/{kind}"


def _served(name: str) -> PaymentProvider:
    """The online provider called ``name``; 404 when this deployment does not serve its callbacks."""
    try:
        return callback_provider(name)
    except UnknownProvider:
        raise NotFound("Không có cổng thanh toán này.", code="payment_provider_not_found") from None


# --- create -----------------------------------------------------------------------------

def _allowed_online(dossier: Mapping[str, Any]) -> tuple[str, ...]:
    """The stage's online providers, narrowed by the procedure's ``payment_providers``, which the
    dossier copied at submission (older dossiers fall back to the catalogue)."""
    listed = dossier.get("payment_providers")
    if listed is None:
        procedure = catalogue.procedure(dossier["procedure_code"])
        listed = list(procedure.payment_providers) if procedure else []
    return choice.allowed_online(online_names(), listed)


def _in_scope(identity: Identity, dossier: Dossier | None) -> Dossier:
    """The dossier, if this caller may pay for it: its owner, or an officer of the competent
    agency or of the desk that received it (the ``receiving`` scope, Decree 118/2025)."""
    return permissions.check(identity, "payment.create", dossier)


def create_payment(code: str, identity: Identity, client_ip: str, body: Any = None, *,
                   clock: Clock = utc_now) -> tuple[dict[str, Any], bool]:
    """(view, created). A citizen pays online through the provider the body names (default: the
    dossier's first allowed); a desk officer records fees taken at the counter (``counter``).
    The amount is the dossier's outstanding fees from its catalogue snapshot, never the
    client's. A live pending payment is returned instead of a new one. The provider is called
    before anything is written, so a provider failure leaves nothing."""
    permissions.scope_of(identity, "payment.create")
    dossier = _in_scope(identity, dossier_reads.get_dossier(code))
    name = choice.chosen_provider(body, identity.role, _allowed_online(dossier))
    if name == choice.COUNTER:
        return record_counter_payment(code, identity, choice.counter_request(body), clock=clock, read=dossier), True
    return _create_online(dossier, identity, client_ip, name, clock)


def _create_online(dossier: Dossier, identity: Identity, client_ip: str, name: str,
                   clock: Clock) -> tuple[dict[str, Any], bool]:
    """A payment through the online provider ``name``; ``dossier`` as first read (read again
    after contention)."""
    cfg, code = payment_settings(), dossier["code"]
    for attempt in range(MAX_ATTEMPTS):
        if attempt:
            dossier = permissions.check(identity, "payment.create", dossier_reads.get_dossier(code))
        now = clock().replace(microsecond=0)
        pending = payment_ledger.live_pending(dossier, now)
        if pending and pending.get("provider", name) != name:
            choice.require_no_payment_in_progress(pending)
        if pending:
            return rules.creation_view(pending), False
        amount = payment_ledger.require_payable(dossier)
        reference = rules.payment_reference(now, uuid.uuid4().hex)
        try:
            session = provider(name).create_payment(
                amount, "VND", reference, rules.order_description(dossier),
                callback_url(name, "return"), client_ip, now + timedelta(minutes=cfg.ttl_minutes))
        except ProviderUnavailable:
            logger.warning("payment provider unavailable on create", extra={"dossier_code": code})
            raise ServiceUnavailable("Cổng thanh toán đang tạm thời không phản hồi, vui lòng thử lại sau ít phút.",
                                     code="payment_provider_unavailable", extra={"retryable": True}) from None
        except PaymentError:
            logger.exception("payment provider refused to create a payment", extra={"dossier_code": code})
            raise ExternalServiceFailed("Cổng thanh toán từ chối tạo giao dịch, vui lòng thử lại sau.",
                                        code="payment_provider_error", extra={"retryable": True}) from None
        payment = rules.new_payment(dossier, payment_id=session.id, provider=name, amount=amount,
                                    pay_url=session.redirect_url, created_at=session.created_at or now,
                                    expires_at=session.expires_at)
        expected, before = dossier["version"], audit.snapshot(dossier)
        book = _plain(dossier)
        plan = rules.Plan(payment, book, rules.start_payment(book, payment))
        try:
            payment_store.commit(plan, expected_payment_version=None, expected_dossier_version=expected,
                                 audit_record=_audit(None, before, plan, audit.Actor.of(identity)))
        except payment_store.Contention:
            _backoff(attempt)
            continue
        return rules.creation_view(payment), True
    raise ServiceUnavailable(code="payment_contention", extra={"retryable": True})


def record_counter_payment(code: str, identity: Identity, request: choice.CounterRequest, *,
                           clock: Clock = utc_now, read: Dossier | None = None) -> dict[str, Any]:
    """Fees the desk took, created and settled in one transaction through the counter provider:
    the same ledger, receipt, events, reconciliation and refunds as an online payment. The
    amount must be what is owed; nothing owed, or an online payment still in its window, is 409."""
    counter = provider(choice.COUNTER)
    record = {"method": request.method, "reference": request.reference, "recorded_by": identity.sub,
              "desk_agency_id": identity.agency_id or ""}
    for attempt in range(MAX_ATTEMPTS):
        dossier = read if read is not None and not attempt else _in_scope(identity, dossier_reads.get_dossier(code))
        now = clock().replace(microsecond=0)
        choice.require_no_payment_in_progress(payment_ledger.live_pending(dossier, now))
        choice.require_amount_owed(request, payment_ledger.require_payable(dossier))
        reference = rules.payment_reference(now, uuid.uuid4().hex)
        session = counter.create_payment(request.amount, "VND", reference, rules.order_description(dossier), "",
                                         "127.0.0.1", now)
        notification = counter.record(reference, request.amount, request.method, request.reference)  # type: ignore[attr-defined]
        payment = rules.new_payment(dossier, payment_id=session.id, provider=choice.COUNTER, amount=request.amount,
                                    pay_url="", created_at=session.created_at or now, expires_at=now)
        plan = rules.settle_at_counter(dossier, payment, rules.at_counter(notification), record, now)
        try:
            payment_store.commit(plan, expected_payment_version=None, expected_dossier_version=dossier["version"],
                                 audit_record=_audit(None, audit.snapshot(dossier), plan, audit.Actor.of(identity)))
        except payment_store.Contention:
            _backoff(attempt)
            continue
        logger.info("counter payment recorded", extra={"payment_id": reference, "dossier_code": code,
                                                       "method": request.method})
        return rules.payment_view(plan.payment)
    raise ServiceUnavailable(code="payment_contention", extra={"retryable": True})


# --- what the provider says: IPN and sweep --------------------------------------------------

def observe(observation: rules.Observation, *, clock: Clock = utc_now) -> rules.Decision:
    """Apply one provider observation; returns what was decided (its ``outcome`` is what the
    provider's reply says).
    Reads the payment (1 call); a replay stops there. A change reads the dossier and commits
    one transaction (3 calls)."""
    for attempt in range(MAX_ATTEMPTS):
        payment = payment_store.get_payment(observation.reference)
        if payment is None:
            return rules.Decision(CallbackOutcome.UNKNOWN_PAYMENT)
        now = clock()
        decision = rules.decide(payment, observation, now)
        if decision.outcome == CallbackOutcome.AMOUNT_MISMATCH:
            _note_amount_mismatch(payment, observation, now)
            return decision
        if decision.target is None:
            return decision
        dossier = dossier_reads.get_dossier(payment["dossier_code"])
        if dossier is None:
            logger.error("payment without its dossier", extra={"payment_id": payment["payment_id"]})
            return rules.Decision(CallbackOutcome.ERROR)
        plan = rules.apply(payment, dossier, decision, observation, now)
        actor = audit.Actor.system("payment-ipn" if observation.source == "ipn" else "payments-reconcile")
        try:
            payment_store.commit(plan, expected_payment_version=payment["version"],
                                 expected_dossier_version=dossier["version"],
                                 audit_record=_audit(payment, dossier, plan, actor))
        except payment_store.Contention:
            _backoff(attempt)
            continue
        logger.info("payment transition", extra={"payment_id": payment["payment_id"], "from": payment["status"],
                                                 "to": decision.target, "source": observation.source})
        return decision
    return rules.Decision(CallbackOutcome.ERROR)  # the provider sends it again; the sweep heals the rest


def _plain(record: Payment | Dossier) -> dict[str, Any]:
    """The payment rules update plain dicts in place; the store types what it reads and writes
    (chalicelib/payments/rules/records.py), so a record crosses into the rules unchanged."""
    return cast(dict[str, Any], record)


def _note_amount_mismatch(payment: Payment, observation: rules.Observation, now: datetime) -> None:
    """Keep a signed notification whose amount is wrong: finance must see it."""
    logger.warning("provider amount differs from the payment", extra={
        "payment_id": payment["payment_id"], "expected": payment["amount"], "reported": observation.amount})
    expected = payment["version"]
    rules.remember(_plain(payment), observation, CallbackOutcome.AMOUNT_MISMATCH, now)
    payment["finance_flags"] = sorted(set(payment["finance_flags"]) | {"amount_mismatch"})
    payment["version"] += 1
    try:
        payment_store.save_payment(payment, expected_version=expected)
    except payment_store.Contention:
        pass  # someone changed it meanwhile; the next notification or the sweep records it again


def _multi(params: Mapping[str, Any]) -> dict[str, list[str]]:
    getlist = getattr(params, "getlist", None)
    return {key: (getlist(key) if getlist else params[key]) for key in params}


def handle_ipn(name: str, query_params: Mapping[str, Any] | None, *, clock: Clock = utc_now,
               body: Mapping[str, Any] | None = None) -> CallbackReply:
    """/payments/providers/{provider}/ipn: the provider verifies its notification (a GET's query
    string, or the JSON ``body`` of a POST: PayGov's confirmation), then ``observe``. Always the
    provider's own reply, never a 500: an ERROR reply makes the provider send the notification
    again, and the sweep heals whatever is still pending."""
    chosen = _served(name)
    try:
        params = dict(body) if body is not None else _multi(query_params or {})
        outcome = _notification_outcome(name, chosen, params, clock)
    except Exception:
        logger.exception("IPN failed", extra={"provider": name})
        outcome = CallbackOutcome.ERROR
    return chosen.callback_reply(outcome)


def _notification_outcome(name: str, chosen: PaymentProvider, params: dict[str, Any],
                          clock: Clock) -> CallbackOutcome:
    try:
        notification = chosen.parse_notification(params)
    except SignatureError:
        logger.warning("IPN with a bad or missing checksum", extra={"provider": name})
        return CallbackOutcome.BAD_SIGNATURE
    except PaymentError as exc:
        logger.warning("IPN rejected", extra={"provider": name, "reason": str(exc)[:200]})
        return CallbackOutcome.ERROR
    return observe(rules.from_notification(name, notification), clock=clock).outcome


def return_page(name: str, query_params: Mapping[str, Any] | None) -> tuple[str, str]:
    """GET /payments/providers/{provider}/return: the provider verifies the browser's return,
    and the page tells the citizen what the ledger says. Reads, never writes. Returns the
    page's state (chalicelib/payments/rules/pages.py) and the page; the route picks the status."""
    try:
        result = callback_provider(name).verify_return(_multi(query_params or {}))
    except UnknownProvider:
        return payment_pages.UNKNOWN, payment_pages.render(payment_pages.UNKNOWN)
    except PaymentError:
        return payment_pages.INVALID, payment_pages.render(payment_pages.INVALID)
    payment = payment_store.get_payment(result.reference)
    if payment is not None and payment["provider"] != name:
        payment = None
    state = payment_pages.outcome(payment["status"] if payment else None, result.succeeded, pt.MONEY_RECEIVED)
    return state, payment_pages.render(state, payment)


@dataclass
class SweepReport:
    checked: int = 0
    provider_calls: int = 0
    succeeded: int = 0
    failed: int = 0
    expired: int = 0
    still_pending: int = 0
    refunds_released: int = 0
    errors: int = 0


def sweep(*, min_age_minutes: int | None = None, clock: Clock = utc_now) -> dict[str, int]:
    """Query its provider about every payment pending for longer than ``min_age_minutes``
    (default MOTCUA_RECONCILE_AFTER_MINUTES) and apply each answer through ``observe``; and
    about every refund left waiting because the provider was busy with another refund of the
    same transaction (``_decide_waiting_refund``)."""
    now = clock()
    age = payment_settings().reconcile_after_minutes if min_age_minutes is None else min_age_minutes
    cutoff = iso(to_local(now - timedelta(minutes=age)))
    report = SweepReport()
    for payment in payment_store.pending_created_by(cutoff):
        report.checked += 1
        report.provider_calls += 1
        try:
            result = provider(payment["provider"]).query(payment["payment_id"], parse_iso(payment["created_at"]))
        except (UnknownProvider, PaymentError) as exc:
            logger.warning("query failed; next sweep retries", extra={"payment_id": payment["payment_id"],
                                                                      "error": type(exc).__name__})
            report.errors += 1
            continue
        if payment["status"] == pt.REFUND_PENDING:
            if _decide_waiting_refund(payment, result, clock) == "refund_released":
                report.refunds_released += 1
            else:
                report.still_pending += 1
            continue
        target = observe(rules.from_query(payment["provider"], result), clock=clock).target
        if target in (pt.SUCCEEDED, pt.SUCCEEDED_LATE):
            report.succeeded += 1
        elif target == pt.FAILED:
            report.failed += 1
        elif target == pt.EXPIRED:
            report.expired += 1
        else:
            report.still_pending += 1
    logger.info("reconciliation sweep", extra=asdict(report))
    return asdict(report)


# --- reads ------------------------------------------------------------------------------

def load_for(payment_id: str, identity: Identity, action: str = "payment.read") -> Payment:
    """The payment if this caller may perform ``action`` on it (chalicelib.trust.rules.permissions)."""
    payment = payment_store.get_payment(payment_id) if len(payment_id) <= 100 else None
    return permissions.check(identity, action, payment)


def read_payment(payment_id: str, identity: Identity) -> dict[str, Any]:
    return rules.payment_view(load_for(payment_id, identity))


def receipt_link(payment_id: str, identity: Identity) -> dict[str, Any]:
    """A short-lived download link for the payment's receipt PDF, for whoever may read the
    payment. 404 until the payment succeeded, 409 until the receipts consumer stored the PDF."""
    from chalicelib.payments.store import receipts as receipt_files

    record = load_for(payment_id, identity, "payment.receipt").get("receipt")
    if not record:
        raise NotFound("Giao dịch chưa có biên lai (chưa thanh toán thành công).", code="receipt_not_found")
    return receipt_files.download_link(record)


def refunds_due() -> dict[str, Any]:
    items = sorted(payment_store.refund_due_list(), key=lambda r: (r["agency_id"], r["dossier_code"]))
    return {"items": items, "total_to_refund": sum(r["amount_to_refund"] for r in items)}


# --- gating -----------------------------------------------------------------------------

def check_accept_allowed(dossier: Mapping[str, Any]) -> None:
    """409 when the procedure wants fees paid before acceptance and they are not. Dossiers
    copy the setting at submission; older ones fall back to the (cached) catalogue."""
    flag = dossier.get("pay_before_accept")
    if flag is None:
        procedure = catalogue.procedure(dossier["procedure_code"])
        flag = bool(procedure and procedure.pay_before_accept)
    payment_ledger.require_paid_before_accept(dossier, bool(flag))


# --- refunds ----------------------------------------------------------------------------

def _audit(payment: Mapping[str, Any] | None, dossier: Mapping[str, Any], plan: rules.Plan,
           actor: audit.Actor) -> dict[str, Any]:
    """The audit record of a payment transition (``payment``/``dossier``: as read before it)."""
    return audit.change(dossier, plan.dossier, plan.events, actor, payment_before=payment, payment_after=plan.payment)


def _transition(payment_id: str, change: Callable[[Payment, Dossier], rules.Plan],
                actor: audit.Actor) -> rules.Plan:
    """Read payment and dossier, let ``change`` plan the transition, commit; again on contention."""
    for attempt in range(MAX_ATTEMPTS):
        payment = payment_store.get_payment(payment_id)
        if payment is None:
            raise _payment_not_found()
        dossier = dossier_reads.get_dossier(payment["dossier_code"])
        if dossier is None:
            raise ServiceUnavailable()
        plan = change(payment, dossier)
        try:
            payment_store.commit(plan, expected_payment_version=payment["version"],
                                 expected_dossier_version=dossier["version"],
                                 audit_record=_audit(payment, dossier, plan, actor))
            return plan
        except payment_store.Contention:
            _backoff(attempt)
    raise ServiceUnavailable(code="payment_contention", extra={"retryable": True})


def _note_refund_waiting(payment_id: str, refund_id: str, provider_code: str, now: datetime) -> Payment:
    """Record on the pending refund that the provider is busy with another refund of the
    transaction (a note, no status change): the sweep then finds the payment and decides."""
    for attempt in range(MAX_ATTEMPTS):
        payment = payment_store.get_payment(payment_id)
        if payment is None:
            raise _payment_not_found()
        expected = payment["version"]
        noted = rules.note_refund_waiting(payment, refund_id, provider_code=provider_code, now=now)
        try:
            payment_store.save_payment(noted, expected_version=expected)
            return noted
        except payment_store.Contention:
            _backoff(attempt)
    raise ServiceUnavailable(code="payment_contention", extra={"retryable": True})


def _decide_waiting_refund(payment: Payment, result: QueryResult, clock: Clock) -> str:
    """A refund the provider answered "another refund in progress" (VNPay 94): while it still
    processes a refund of the transaction, wait; once it does not, it holds no refund of ours
    (MotCua never sends a refund twice), so the reservation is released and finance may ask
    again. Returns what the sweep counts: ``still_pending`` or ``refund_released``."""
    if result.refund_processing:
        return "still_pending"
    waiting = rules.waiting_refund(payment)
    if waiting is None:
        return "still_pending"
    _transition(payment["payment_id"], lambda p, d: rules.reject_refund(
        p, d, refund_id=waiting["refund_id"], provider_code=waiting["provider_code"] or "", now=clock()),
        audit.Actor.system("payments-reconcile"))
    logger.info("refund left pending by 'another refund in progress' released: the provider holds none of ours",
                extra={"payment_id": payment["payment_id"], "refund_id": waiting["refund_id"]})
    return "refund_released"


def _provider_of(payment: Mapping[str, Any]) -> PaymentProvider:
    """The provider that took ``payment``; a conflict when this deployment no longer serves it
    (finance gives the money back by hand)."""
    try:
        return provider(payment["provider"])
    except UnknownProvider:
        raise Conflict("Cổng thanh toán của giao dịch này không còn được kết nối; không thể hoàn tiền trực tuyến.",
                       code="payment_provider_not_served", extra={"provider": payment["provider"]}) from None


def refund(payment_id: str, identity: Identity, body: Any, *, clock: Clock = utc_now) -> tuple[dict[str, Any], bool]:
    """Reserve (refund_pending, conditional write), call the provider, record the outcome.
    Returns (body, known): known is False when the provider did not answer, so the refund
    stays pending for finance to reconcile."""
    permissions.scope_of(identity, "payment.refund")
    amount, reason = rules.validate_refund_request(body)
    chosen = _provider_of(load_for(payment_id, identity, "payment.refund"))
    refund_id = uuid.uuid4().hex[:16]
    actor = audit.Actor.of(identity)
    reserved = _transition(payment_id, lambda p, d: rules.request_refund(
        p, d, refund_id=refund_id, amount=amount, reason=reason, by=identity.sub, now=clock()), actor)
    payment = reserved.payment
    try:
        result = chosen.refund(
            payment_id, amount, amount == payment["amount"], identity.sub,
            provider_txn_id=payment["provider_txn_id"], transaction_date=parse_iso(payment["created_at"]))
    except RefundInProgress as exc:   # VNPay 94: not a refusal; the sweep decides it later
        waiting = _note_refund_waiting(payment_id, refund_id, exc.code, clock())
        logger.warning("refund answered 'another refund in progress'; left refund_pending for the sweep",
                       extra={"payment_id": payment_id, "refund_id": refund_id, "provider_code": exc.code})
        return {"refund_id": refund_id, "status": "pending", "payment": rules.payment_view(waiting),
                "message": "Cổng thanh toán đang xử lý một yêu cầu hoàn tiền khác của giao dịch này; yêu cầu "
                           "giữ trạng thái chờ và được đối soát tự động khi cổng xử lý xong."}, False
    except ProviderRejected as exc:
        provider_code = exc.code
        rejected = _transition(payment_id, lambda p, d: rules.reject_refund(
            p, d, refund_id=refund_id, provider_code=provider_code, now=clock()), actor)
        raise Conflict(f"Cổng thanh toán từ chối hoàn tiền (mã {exc.code}).", code="refund_rejected",
                       extra={"provider_code": exc.code, "current_status": rejected.payment["status"]}) from None
    except PaymentError as exc:  # no answer, or one we cannot trust: the money may have moved
        logger.error("refund outcome unknown; left refund_pending for finance",
                     extra={"payment_id": payment_id, "refund_id": refund_id, "error": type(exc).__name__})
        return {"refund_id": refund_id, "status": "pending", "payment": rules.payment_view(payment),
                "message": "Chưa nhận được kết quả hoàn tiền từ cổng thanh toán; giao dịch giữ trạng thái "
                           "chờ hoàn tiền để bộ phận tài chính đối soát."}, False
    done = _transition(payment_id, lambda p, d: rules.complete_refund(
        p, d, refund_id=refund_id, provider_code=result.response_code, provider_txn_id=result.provider_txn_id,
        settling=result.pending, now=clock()), actor)
    record = next(r for r in done.payment["refunds"] if r["refund_id"] == refund_id)
    return {"refund_id": refund_id, "status": record["status"], "payment": rules.payment_view(done.payment)}, True


# --- the daily finance report -------------------------------------------------------------

QUERY_WORKERS = 8


def settlement_layout(overrides_json: str | None = None) -> reconciliation.SettlementLayout:
    """How this deployment's provider's settlement file reads, with a layout file's overrides."""
    return reconciliation.SettlementLayout.from_json(overrides_json or "{}", provider().settlement_layout)


def _day(text: str | None) -> str:
    import re
    from datetime import date

    if text is None or not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", text):
        raise ValidationFailed(fields={"date": "Ngày đối soát có dạng YYYY-MM-DD (giờ Việt Nam)."})
    try:
        date.fromisoformat(text)
    except ValueError:
        raise ValidationFailed(fields={"date": "Ngày không tồn tại."}) from None
    return text


def _query_all(ledger: list[Payment]) -> tuple[dict[str, reconciliation.ProviderRecord], list[str]]:
    """Query every payment of the day, a few at a time; the ones that fail are listed unchecked."""
    from concurrent.futures import ThreadPoolExecutor

    def ask(payment: dict[str, Any]) -> reconciliation.ProviderRecord | None:
        if payment["provider"] == choice.COUNTER:   # nobody to ask: the desk's record is the provider's
            return reconciliation.counter_record(payment)
        try:
            result = provider(payment["provider"]).query(payment["payment_id"], parse_iso(payment["created_at"]))
        except (UnknownProvider, PaymentError):
            return None
        return reconciliation.ProviderRecord(result.reference, result.found,
                                             result.found and result.outcome == PaymentOutcome.SUCCEEDED,
                                             result.amount, result.status, result.provider_txn_id)

    with ThreadPoolExecutor(max_workers=QUERY_WORKERS) as pool:
        answers = list(pool.map(ask, ledger))
    records = {p["payment_id"]: a for p, a in zip(ledger, answers, strict=True) if a is not None}
    return records, [p["payment_id"] for p, a in zip(ledger, answers, strict=True) if a is None]


def reconciliation_report(day_text: str | None,
                          settlement: list[reconciliation.ProviderRecord] | None = None) -> dict[str, Any]:
    """Day T's ledger against the provider: querydr for each payment, or the settlement file's
    rows when given (a row whose payment was created on another day is still matched)."""
    day = _day(day_text)
    ledger = payment_store.payments_of_day(day)
    if settlement is None:
        records, unchecked = _query_all(ledger)
        source = "querydr"
    else:
        records, unchecked, source = {r.reference: r for r in settlement}, [], "settlement"
        known = {p["payment_id"] for p in ledger}
        ledger += [p for p in (payment_store.get_payment(ref) for ref in records if ref not in known) if p]
    snapshot = catalogue.snapshot()
    report = reconciliation.compare(
        day, ledger, records, source=source,
        agency_names={a.agency_id: a.name for a in snapshot.agencies.values()},
        procedure_names={p.procedure_code: p.name for p in snapshot.procedures.values()})
    report["unchecked"] = unchecked
    return report
