"""MotCua API: routes and wiring only. Rules live in chalicelib/."""
from __future__ import annotations

import time
from typing import Any, Callable

from aws_lambda_powertools import Logger
from chalice import Chalice

from chalicelib import intake
from chalicelib.http import (
    ACCEPTED_CONTENT_TYPES, guarded, identity_of, idempotency_key, int_param, json_response,
    normalise_error, parse_json_body, query_param,
)

app = Chalice(app_name="motcua")
logger = Logger(service="motcua-api")


@app.middleware("http")
def observe(event: Any, get_response: Callable[[Any], Any]) -> Any:
    """JSON access log with the API Gateway request id as correlation id; one error shape."""
    context = event.context or {}
    logger.set_correlation_id(context.get("requestId"))
    started = time.perf_counter()
    response = normalise_error(get_response(event))
    logger.info("request", extra={"method": event.method, "path": context.get("resourcePath"),
                                  "status": response.status_code,
                                  "ms": round((time.perf_counter() - started) * 1000, 1)})
    return response


def route(path: str, method: str = "GET") -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    def register(view: Callable[..., Any]) -> Callable[..., Any]:
        return app.route(path, methods=[method], content_types=ACCEPTED_CONTENT_TYPES)(guarded(view))
    return register


def _request() -> Any:
    return app.current_request


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
    identity = identity_of(request)
    upload = validate_upload_request(parse_json_body(request))
    return json_response(presign_upload(identity.sub, upload), 201)


@route("/dossiers", "POST")
def submit_dossier() -> Any:
    request = _request()
    identity = identity_of(request).require("citizen")
    key = idempotency_key(request)
    response, replayed = intake.submit(parse_json_body(request), identity, key)
    return json_response(response, 201, {"Idempotent-Replayed": "true" if replayed else "false"})


@route("/dossiers")
def list_dossiers() -> Any:
    from chalicelib.transitions import STATUSES
    from chalicelib.errors import ValidationFailed
    request = _request()
    identity = identity_of(request)
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
    return json_response(intake.read(code, identity_of(_request())))


@route("/dossiers/{code}/deadline")
def explain_deadline(code: str) -> Any:
    return json_response(intake.deadline(code, identity_of(_request())))


@route("/dossiers/{code}/accept", "POST")
def accept_dossier(code: str) -> Any:
    request = _request()
    identity = identity_of(request)
    parse_json_body(request, required=False)
    return json_response(intake.accept(code, identity))


@route("/dossiers/{code}/refuse", "POST")
def refuse_dossier(code: str) -> Any:
    request = _request()
    identity = identity_of(request)
    body = parse_json_body(request)
    reason = body.get("reason") if isinstance(body, dict) else None
    return json_response(intake.refuse(code, identity, reason))


@route("/track/{code}")
def track_dossier(code: str) -> Any:
    from chalicelib.errors import ValidationFailed
    last4 = query_param(_request(), "phone_last4", max_len=4)
    if last4 is None or not (len(last4) == 4 and last4.isdigit()):
        raise ValidationFailed(fields={"phone_last4": "Nhập đúng 4 chữ số cuối của số điện thoại người nộp."})
    return json_response(intake.track(code, last4))


# --- workflow ---------------------------------------------------------------------------
# Agency processing after acceptance (issue 4). Rules: chalicelib/workflow.py, processing.py.

def _act(code: str, action: str | None = None) -> Any:
    from chalicelib import workflow
    request = _request()
    identity = identity_of(request)
    body = parse_json_body(request)
    return json_response(workflow.act(code, identity, body, action or workflow.action_from(body)))


@route("/desk/dossiers", "POST")
def submit_at_desk() -> Any:
    from chalicelib.desk import submit_at_desk as desk_submit
    request = _request()
    identity = identity_of(request)
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
    identity = identity_of(request)
    return json_response(receive(system, identity, request.raw_body or b"", request.headers.get("x-motcua-signature")))
