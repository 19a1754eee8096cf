"""MotCua API: routes and wiring only. Rules live in chalicelib/."""
from __future__ import annotations

import functools
import time
from typing import Any, Callable

from chalice import Chalice

from chalicelib import audit, intake, permissions
from chalicelib.log import logger as make_logger
from chalicelib.http import (
    ACCEPTED_CONTENT_TYPES, authorize, client_ip, guarded, idempotency_key, int_param, json_response,
    normalise_error, parse_json_body, query_param,
)
from chalicelib.identity import Identity

app = Chalice(app_name="motcua")
logger = make_logger("motcua-api")


@app.middleware("http")
def observe(event: Any, get_response: Callable[[Any], Any]) -> Any:
    """JSON access log with the API Gateway request id as correlation id; one error shape.
    The same id goes on every audit record the request writes, and back as X-Request-Id
    (the local server has none, so it gets a fresh one)."""
    context = event.context or {}
    started = time.perf_counter()
    with audit.bind_request(context.get("requestId")) as request_id:
        logger.set_correlation_id(request_id)
        response = normalise_error(get_response(event))
    response.headers["X-Request-Id"] = request_id
    logger.info("request", extra={"method": event.method, "path": context.get("resourcePath"),
                                  "status": response.status_code,
                                  "ms": round((time.perf_counter() - started) * 1000, 1)})
    return response


_IDENTITY = "motcua_identity"


def route(path: str, method: str = "GET") -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register a view. Its action comes from the permission matrix (chalicelib/permissions.py
    RULES); a route missing there fails at import. The caller is authenticated and the role
    checked against the action before the view runs; the view reads it with ``caller()``."""
    action = permissions.action_for(method, path)

    def register(view: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(view)
        def authorized(*args: Any, **kwargs: Any) -> Any:
            request = _request()
            if request.context is None:
                request.context = {}
            request.context[_IDENTITY] = authorize(request, action)
            return view(*args, **kwargs)
        return app.route(path, methods=[method], content_types=ACCEPTED_CONTENT_TYPES)(guarded(authorized))
    return register


def _request() -> Any:
    return app.current_request


def caller() -> Identity:
    """The identity ``route`` authenticated for this (non-public) request."""
    return _request().context[_IDENTITY]


@route("/openapi.json")
def openapi() -> Any:
    from chalicelib.contract import openapi_document
    return json_response(openapi_document())


@route("/procedures")
def list_procedures() -> Any:
    from chalicelib.catalogue import search
    from chalicelib.catalogue_store import snapshot
    request = _request()
    found = search(snapshot().procedures.values(), agency_id=query_param(request, "agency_id"),
                   q=query_param(request, "q"))
    return json_response({"items": [procedure.to_dict() for procedure in found]})


@route("/procedures/{procedure_code}")
def get_procedure(procedure_code: str) -> Any:
    return json_response(intake.get_procedure(procedure_code).to_dict())


@route("/uploads", "POST")
def create_upload() -> Any:
    from chalicelib.attachments import presign_upload, validate_upload_request
    request = _request()
    identity = caller()
    upload = validate_upload_request(parse_json_body(request))
    return json_response(presign_upload(identity.sub, upload), 201)


@route("/dossiers", "POST")
def submit_dossier() -> Any:
    request = _request()
    identity = caller()
    key = idempotency_key(request)
    response, replayed = intake.submit(parse_json_body(request), identity, key)
    return json_response(response, 201, {"Idempotent-Replayed": "true" if replayed else "false"})


@route("/dossiers")
def list_dossiers() -> Any:
    from chalicelib.transitions import STATUSES
    from chalicelib.errors import ValidationFailed
    request = _request()
    identity = caller()
    status = query_param(request, "status", max_len=40)
    if status is not None and status not in STATUSES:
        raise ValidationFailed(fields={"status": "Trạng thái phải là một trong: " + ", ".join(STATUSES) + "."})
    due = query_param(request, "due", max_len=20)
    if due is not None:  # per-step warnings (workflow)
        from chalicelib.workflow import due_list
        return json_response(due_list(identity, due, limit=int_param(request, "limit", 20, 1, 100),
                                      cursor=query_param(request, "cursor", max_len=2000)))
    return json_response(intake.list_for(
        identity, agency_id=query_param(request, "agency_id", max_len=40), status=status,
        limit=int_param(request, "limit", 20, 1, 100), cursor=query_param(request, "cursor", max_len=2000)))


@route("/dossiers/{code}")
def read_dossier(code: str) -> Any:
    return json_response(intake.read(code, caller()))


@route("/dossiers/{code}/deadline")
def explain_deadline(code: str) -> Any:
    return json_response(intake.deadline(code, caller()))


@route("/dossiers/{code}/attachments/{upload_id}")
def attachment_download(code: str, upload_id: str) -> Any:
    return json_response(intake.attachment_url(code, upload_id, caller()))


@route("/dossiers/{code}/accept", "POST")
def accept_dossier(code: str) -> Any:
    request = _request()
    identity = caller()
    parse_json_body(request, required=False)
    return json_response(intake.accept(code, identity))


@route("/dossiers/{code}/refuse", "POST")
def refuse_dossier(code: str) -> Any:
    request = _request()
    identity = caller()
    body = parse_json_body(request)
    reason = body.get("reason") if isinstance(body, dict) else None
    return json_response(intake.refuse(code, identity, reason))


@route("/track/{code}")
def track_dossier(code: str) -> Any:
    from chalicelib.errors import ValidationFailed
    last4 = query_param(_request(), "phone_last4", max_len=4)
    if last4 is None or not (len(last4) == 4 and last4.isdigit()):
        raise ValidationFailed(fields={"phone_last4": "Nhập đúng 4 chữ số cuối của số điện thoại người nộp."})
    return json_response(intake.track(code, last4, client_ip(_request())))


@route("/audit")
def audit_log() -> Any:
    """The audit log, for admins; read-only (no route updates or deletes it)."""
    from chalicelib.audit_service import records
    request = _request()
    return json_response(records(
        caller(), dossier=query_param(request, "dossier", max_len=60),
        actor=query_param(request, "actor", max_len=128), limit=int_param(request, "limit", 50, 1, 200),
        cursor=query_param(request, "cursor", max_len=2000)))


# --- reports ---

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
app.api.binary_types.append(XLSX)


def _report_params(request: Any) -> dict[str, Any]:
    from datetime import date
    from chalicelib import report_service
    from chalicelib.errors import ValidationFailed
    start, end = report_service.parse_period(query_param(request, "from", max_len=10), query_param(request, "to", max_len=10))
    as_of_raw = query_param(request, "as_of", max_len=10)
    try:
        as_of = date.fromisoformat(as_of_raw) if as_of_raw else None
    except ValueError:
        raise ValidationFailed(fields={"as_of": "Ngày không hợp lệ, dạng YYYY-MM-DD."}) from None
    return {"start": start, "end": end, "as_of": as_of,
            "group_by": report_service.parse_group_by(query_param(request, "group_by", max_len=20)),
            "agency_id": query_param(request, "agency_id", max_len=40)}


@route("/reports/dossiers")
def dossier_report() -> Any:
    from chalice import Response
    from chalicelib import report_export, report_service
    from chalicelib.errors import ValidationFailed
    request = _request()
    identity = caller()
    params = _report_params(request)
    fmt = query_param(request, "format", max_len=10) or "json"
    if fmt not in ("json", "csv", "xlsx"):
        raise ValidationFailed(fields={"format": "Phải là json, csv hoặc xlsx."})
    report = report_service.dossier_report(identity, **params)
    if fmt == "json":
        return json_response(report)
    unit = report_service.unit_name(identity, params["agency_id"])
    name = f"bieu06_{params['start']}_{params['end']}.{fmt}"
    body, mime = (report_export.to_csv(report, unit), "text/csv; charset=utf-8") if fmt == "csv" \
        else (report_export.to_xlsx(report, unit), XLSX)
    return Response(body=body, status_code=200,
                    headers={"Content-Type": mime, "Content-Disposition": f'attachment; filename="{name}"'})


@route("/reports/dossiers/items")
def dossier_report_items() -> Any:
    from chalicelib import report_service
    request = _request()
    identity = caller()
    params = _report_params(request)
    params.pop("as_of")
    return json_response(report_service.drill_down(
        identity, **params, cell=query_param(request, "cell", max_len=40), group=query_param(request, "group", max_len=60),
        cursor=query_param(request, "cursor", max_len=200), limit=int_param(request, "limit", 50, 1, 500)))


@route("/dashboard")
def dashboard() -> Any:
    from chalice import Response
    from chalicelib.static import read_static
    return Response(body=read_static("dashboard.html"), status_code=200,
                    headers={"Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-store"})


@route("/dashboard/chart.umd.min.js")
def dashboard_chart_library() -> Any:
    from chalice import Response
    from chalicelib.static import read_static
    return Response(body=read_static("chart.umd.min.js"), status_code=200,
                    headers={"Content-Type": "application/javascript; charset=utf-8",
                             "Cache-Control": "public, max-age=86400"})


# --- corrections and history ---

@route("/dossiers/{code}/corrections", "POST")
def request_correction(code: str) -> Any:
    from chalicelib.correction_service import request_correction as request_it
    request = _request()
    identity = caller()
    return json_response(request_it(code, identity, parse_json_body(request)), 201)


def _decide_correction(code: str, correction_id: str, approve: bool) -> Any:
    from chalicelib.correction_service import decide_correction
    request = _request()
    identity = caller()
    body = parse_json_body(request, required=False)
    note = body.get("note") if isinstance(body, dict) else None
    return json_response(decide_correction(code, correction_id, identity, approve=approve, note=note))


@route("/dossiers/{code}/corrections/{correction_id}/approve", "POST")
def approve_correction(code: str, correction_id: str) -> Any:
    return _decide_correction(code, correction_id, True)


@route("/dossiers/{code}/corrections/{correction_id}/reject", "POST")
def reject_correction(code: str, correction_id: str) -> Any:
    return _decide_correction(code, correction_id, False)


@route("/dossiers/{code}/history")
def dossier_history(code: str) -> Any:
    from chalicelib.correction_service import history
    return json_response(history(code, caller()))


# --- payments ----------------------------------------------------------------------------
# Online fee payment (issue 3). Logic lives in chalicelib/payment_service.py and friends.

def _download(body: bytes | str, content_type: str, filename: str) -> Any:
    from chalice import Response
    return Response(body=body, status_code=200, headers={
        "Content-Type": content_type, "Content-Disposition": f'attachment; filename="{filename}"'})


@route("/dossiers/{code}/payments", "POST")
def create_payment(code: str) -> Any:
    from chalicelib import payment_service
    request = _request()
    identity = caller()
    parse_json_body(request, required=False)
    view, created = payment_service.create_payment(code, identity, client_ip(request))
    return json_response(view, 201 if created else 200)


@route("/payments/vnpay/ipn")
def vnpay_ipn() -> Any:
    """VNPay's server-to-server notification. Always answers {"RspCode", "Message"}."""
    from chalicelib import payment_service
    from chalicelib.payment_rules import ipn_reply
    try:
        return json_response(payment_service.handle_ipn(_request().query_params))
    except Exception:  # never a 500 to VNPay: 99 makes it retry, and the sweep heals the rest
        logger.exception("IPN failed")
        return json_response(ipn_reply("99"))


@route("/payments/vnpay/return")
def vnpay_return() -> Any:
    from chalice import Response
    from chalicelib import payment_service
    status, page = payment_service.return_page(_request().query_params)
    return Response(body=page, status_code=status, headers={"Content-Type": "text/html; charset=utf-8"})


@route("/payments/{payment_id}")
def read_payment(payment_id: str) -> Any:
    from chalicelib import payment_service
    return json_response(payment_service.read_payment(payment_id, caller()))


@route("/payments/{payment_id}/receipt")
def payment_receipt(payment_id: str) -> Any:
    from chalicelib import payment_service
    return json_response(payment_service.receipt_link(payment_id, caller()))


@route("/payments/{payment_id}/refunds", "POST")
def refund_payment(payment_id: str) -> Any:
    from chalicelib import payment_service
    request = _request()
    body, status = payment_service.refund(payment_id, caller(), parse_json_body(request))
    return json_response(body, status)


@route("/finance/refunds/pending")
def refunds_pending() -> Any:
    from chalicelib import payment_service
    return json_response(payment_service.refunds_due())


@route("/finance/reconciliation")
def finance_reconciliation() -> Any:
    from chalicelib import payment_service, reconciliation
    from chalicelib.errors import ValidationFailed
    request = _request()
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


def _period_report(name: str) -> Any:
    from chalicelib import report_service
    request = _request()
    identity = caller()
    params = _report_params(request)
    params.pop("as_of")
    return json_response(getattr(report_service, name)(identity, **params))


@route("/reports/payments")
def payment_report() -> Any:
    return _period_report("payment_report")


@route("/reports/satisfaction")
def satisfaction_report() -> Any:
    return _period_report("satisfaction_report")


# --- workflow ---------------------------------------------------------------------------
# Agency processing after acceptance (issue 4). Rules: chalicelib/workflow.py, processing.py.

def _act(code: str, action: str | None = None) -> Any:
    from chalicelib import workflow
    request = _request()
    identity = caller()
    body = parse_json_body(request)
    return json_response(workflow.act(code, identity, body, action or workflow.action_from(body)))


@route("/desk/dossiers", "POST")
def submit_at_desk() -> Any:
    from chalicelib.desk import submit_at_desk as desk_submit
    request = _request()
    identity = caller()
    response, replayed = desk_submit(parse_json_body(request), identity, idempotency_key(request))
    return json_response(response, 201, {"Idempotent-Replayed": "true" if replayed else "false"})


@route("/dossiers/{code}/actions", "POST")
def dossier_action(code: str) -> Any:
    return _act(code)


@route("/dossiers/{code}/forward", "POST")
def forward_dossier(code: str) -> Any:
    return _act(code, "forward")


@route("/dossiers/{code}/supplements", "POST")
def supplement_dossier(code: str) -> Any:
    return _act(code, "supplement")


@route("/dossiers/{code}/rating", "POST")
def rate_dossier(code: str) -> Any:
    return _act(code, "rate")


@route("/integrations/{system}/events", "POST")
def integration_event(system: str) -> Any:
    from chalicelib.integrations import receive
    request = _request()
    identity = caller()
    return json_response(receive(system, identity, request.raw_body or b"", request.headers.get("x-motcua-signature")))
