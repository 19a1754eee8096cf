"""Routes of fees and payments: create a payment, the provider's notification and return
page, receipts, refunds and the finance desk's reconciliation."""
from __future__ import annotations

from typing import Any

from chalicelib.edge.routing import XLSX, Routes
from chalicelib.kernel.errors import DomainError
from chalicelib.edge.web import client_ip, json_response, parse_json_body, query_param

routes = Routes(__name__)


def _download(body: bytes | str, content_type: str, filename: str) -> Any:
    from chalice import Response
    return Response(body=body, status_code=200, headers={
        "Content-Type": content_type, "Content-Disposition": f'attachment; filename="{filename}"'})


@routes.route("/dossiers/{code}/payments", "POST")
def create_payment(code: str) -> Any:
    from chalicelib.payments.use_cases import payments as payment_service
    request = routes.request()
    identity = routes.caller()
    body = parse_json_body(request, required=False)
    view, created = payment_service.create_payment(code, identity, client_ip(request), body)
    return json_response(view, 201 if created else 200)


# API Gateway allows one variable path part per level, and /payments/{payment_id} holds that
# level, so the templated callbacks live one level down. VNPay's own paths stay as literal
# routes: merchants register the IPN URL with VNPay, and browsers may still come back to the
# return URL of a payment created before the move.

@routes.route("/payments/providers/{provider}/ipn")
def provider_ipn(provider: str) -> Any:
    """A provider's server-to-server notification, answered in the provider's own reply format."""
    return _ipn(provider)


@routes.route("/payments/providers/{provider}/ipn", "POST")
def provider_ipn_post(provider: str) -> Any:
    """A provider's notification POSTed as JSON (PayGov's confirmation); never a 500 either:
    a body that is not a JSON object is the provider's ERROR reply."""
    from chalicelib.payments.use_cases import payments as payment_service
    try:
        body = parse_json_body(routes.request(), required=True)
    except DomainError:
        body = None
    reply = payment_service.handle_ipn(provider, None, body=body if isinstance(body, dict) else {})
    return json_response(dict(reply.body), reply.status)


@routes.route("/payments/vnpay/ipn")
def vnpay_ipn() -> Any:
    """The IPN URL registered with VNPay: /payments/providers/vnpay/ipn."""
    return _ipn("vnpay")


@routes.route("/payments/providers/{provider}/return")
def provider_return(provider: str) -> Any:
    """Where a provider sends the browser back: a small Vietnamese HTML page."""
    return _return_page(provider)


@routes.route("/payments/vnpay/return")
def vnpay_return() -> Any:
    """VNPay's return URL of payments created before the provider-neutral routes."""
    return _return_page("vnpay")


def _ipn(name: str) -> Any:
    from chalicelib.payments.use_cases import payments as payment_service
    reply = payment_service.handle_ipn(name, routes.request().query_params)
    return json_response(dict(reply.body), reply.status)


def _return_page(name: str) -> Any:
    from chalice import Response
    from chalicelib.payments.use_cases import payments as payment_service
    from chalicelib.payments.rules import pages
    state, page = payment_service.return_page(name, routes.request().query_params)
    status = {pages.UNKNOWN: 404, pages.INVALID: 400}.get(state, 200)
    return Response(body=page, status_code=status, headers={"Content-Type": "text/html; charset=utf-8"})


@routes.route("/payments/{payment_id}")
def read_payment(payment_id: str) -> Any:
    from chalicelib.payments.use_cases import payments as payment_service
    return json_response(payment_service.read_payment(payment_id, routes.caller()))


@routes.route("/payments/{payment_id}/receipt")
def payment_receipt(payment_id: str) -> Any:
    from chalicelib.payments.use_cases import payments as payment_service
    return json_response(payment_service.receipt_link(payment_id, routes.caller()))


@routes.route("/payments/{payment_id}/refunds", "POST")
def refund_payment(payment_id: str) -> Any:
    from chalicelib.payments.use_cases import payments as payment_service
    request = routes.request()
    body, known = payment_service.refund(payment_id, routes.caller(), parse_json_body(request))
    return json_response(body, 201 if known else 202)   # 202: the provider's answer is still awaited


@routes.route("/finance/refunds/pending")
def refunds_pending() -> Any:
    from chalicelib.payments.use_cases import payments as payment_service
    return json_response(payment_service.refunds_due())


@routes.route("/finance/reconciliation")
def finance_reconciliation() -> Any:
    from chalicelib.payments.use_cases import payments as payment_service
    from chalicelib.payments.rules import reconciliation
    from chalicelib.kernel.errors import ValidationFailed
    request = routes.request()
    fmt = query_param(request, "format", max_len=10) or "json"
    if fmt not in ("json", "csv", "xlsx"):
        raise ValidationFailed(fields={"format": "Định dạng là json, csv hoặc xlsx."})
    day = query_param(request, "date", max_len=10)
    report = payment_service.reconciliation_report(day)
    if fmt == "csv":
        return _download(reconciliation.to_csv(report), "text/csv; charset=utf-8", f"doi-soat-{day}.csv")
    if fmt == "xlsx":
        return _download(reconciliation.to_xlsx(report), XLSX, f"doi-soat-{day}.xlsx")
    return json_response(report)
