"""Routes of dossiers: submission (online and at the desk), reading, tracking, acceptance,
processing actions, corrections and history."""
from __future__ import annotations

from typing import Any

from chalicelib.dossiers.use_cases import intake
from chalicelib.edge.routing import PDF, Routes
from chalicelib.edge.web import (
    client_ip, idempotency_key, int_param, json_response, parse_json_body, parse_json_object, query_param,
)
from chalicelib.kernel.text import is_ascii_digits

routes = Routes(__name__)


@routes.route("/uploads", "POST")
def create_upload() -> Any:
    from chalicelib.dossiers.store.attachments import presign_upload, validate_upload_request
    request = routes.request()
    identity = routes.caller()
    upload = validate_upload_request(parse_json_body(request))
    return json_response(presign_upload(identity.sub, upload), 201)


@routes.route("/dossiers", "POST")
def submit_dossier() -> Any:
    request = routes.request()
    identity = routes.caller()
    key = idempotency_key(request)
    response, replayed = intake.submit(parse_json_body(request), identity, key)
    return json_response(response, 201, {"Idempotent-Replayed": "true" if replayed else "false"})


@routes.route("/dossiers")
def list_dossiers() -> Any:
    from chalicelib.dossiers.rules.transitions import STATUSES
    from chalicelib.kernel.errors import ValidationFailed
    request = routes.request()
    identity = routes.caller()
    status = query_param(request, "status", max_len=40)
    if status is not None and status not in STATUSES:
        raise ValidationFailed(fields={"status": "Trạng thái phải là một trong: " + ", ".join(STATUSES) + "."})
    due = query_param(request, "due", max_len=20)
    if due is not None:  # per-step warnings (workflow)
        from chalicelib.dossiers.use_cases.workflow import due_list
        return json_response(due_list(identity, due, limit=int_param(request, "limit", 20, 1, 100),
                                      cursor=query_param(request, "cursor", max_len=2000)))
    return json_response(intake.list_for(
        identity, agency_id=query_param(request, "agency_id", max_len=40), status=status,
        limit=int_param(request, "limit", 20, 1, 100), cursor=query_param(request, "cursor", max_len=2000),
        received=query_param(request, "received", max_len=10)))


@routes.route("/dossiers/{code}")
def read_dossier(code: str) -> Any:
    return json_response(intake.read(code, routes.caller()))


@routes.route("/dossiers/{code}/deadline")
def explain_deadline(code: str) -> Any:
    return json_response(intake.deadline(code, routes.caller()))


@routes.route("/dossiers/{code}/attachments/{upload_id}")
def attachment_download(code: str, upload_id: str) -> Any:
    return json_response(intake.attachment_url(code, upload_id, routes.caller()))


@routes.route("/dossiers/{code}/forms/{form}")
def dossier_form(code: str, form: str) -> Any:
    from chalice import Response
    from chalicelib.dossiers.use_cases.papers import print_form
    body, name = print_form(code, form, routes.caller())
    return Response(body=body, status_code=200,
                    headers={"Content-Type": PDF, "Content-Disposition": f'attachment; filename="{name}"'})
@routes.route("/files/{token}")
def public_file(token: str) -> Any:
    """A file through its public link (chalicelib/dossiers/use_cases/file_links.py): 302 to a
    URL made for this request, so the link itself never expires with the presigned URL."""
    from chalicelib.dossiers.use_cases.file_links import open_link
    url = open_link(token)
    return json_response({"url": url}, 302, {"Location": url, "Cache-Control": "no-store",
                                            "Referrer-Policy": "no-referrer"})


@routes.route("/dossiers/{code}/accept", "POST")
def accept_dossier(code: str) -> Any:
    request = routes.request()
    identity = routes.caller()
    parse_json_object(request, required=False)
    return json_response(intake.accept(code, identity))


@routes.route("/dossiers/{code}/refuse", "POST")
def refuse_dossier(code: str) -> Any:
    request = routes.request()
    identity = routes.caller()
    body = parse_json_body(request)
    reason = body.get("reason") if isinstance(body, dict) else None
    return json_response(intake.refuse(code, identity, reason))


@routes.route("/track/{code}")
def track_dossier(code: str) -> Any:
    from chalicelib.kernel.errors import ValidationFailed
    last4 = query_param(routes.request(), "phone_last4", max_len=4)
    if last4 is None or not (len(last4) == 4 and is_ascii_digits(last4)):
        raise ValidationFailed(fields={"phone_last4": "Nhập đúng 4 chữ số cuối của số điện thoại người nộp."})
    return json_response(intake.track(code, last4, client_ip(routes.request())))


@routes.route("/dossiers/{code}/corrections", "POST")
def request_correction(code: str) -> Any:
    from chalicelib.dossiers.use_cases.corrections import request_correction as request_it
    request = routes.request()
    identity = routes.caller()
    return json_response(request_it(code, identity, parse_json_body(request)), 201)


def _decide_correction(code: str, correction_id: str, approve: bool) -> Any:
    from chalicelib.dossiers.use_cases.corrections import decide_correction
    request = routes.request()
    identity = routes.caller()
    note = parse_json_object(request, required=False).get("note")
    return json_response(decide_correction(code, correction_id, identity, approve=approve, note=note))


@routes.route("/dossiers/{code}/corrections/{correction_id}/approve", "POST")
def approve_correction(code: str, correction_id: str) -> Any:
    return _decide_correction(code, correction_id, True)


@routes.route("/dossiers/{code}/corrections/{correction_id}/reject", "POST")
def reject_correction(code: str, correction_id: str) -> Any:
    return _decide_correction(code, correction_id, False)


@routes.route("/dossiers/{code}/history")
def dossier_history(code: str) -> Any:
    from chalicelib.dossiers.use_cases.corrections import history
    return json_response(history(code, routes.caller()))


def _act(code: str, action: str | None = None) -> Any:
    from chalicelib.dossiers.use_cases import workflow
    request = routes.request()
    identity = routes.caller()
    body = parse_json_body(request)
    return json_response(workflow.act(code, identity, body, action or workflow.action_from(body)))


@routes.route("/desk/dossiers", "POST")
def submit_at_desk() -> Any:
    from chalicelib.dossiers.use_cases.desk import submit_at_desk as desk_submit
    request = routes.request()
    identity = routes.caller()
    response, replayed = desk_submit(parse_json_body(request), identity, idempotency_key(request))
    return json_response(response, 201, {"Idempotent-Replayed": "true" if replayed else "false"})


@routes.route("/dossiers/{code}/actions", "POST")
def dossier_action(code: str) -> Any:
    return _act(code)


@routes.route("/dossiers/{code}/forward", "POST")
def forward_dossier(code: str) -> Any:
    return _act(code, "forward")


@routes.route("/dossiers/{code}/supplements", "POST")
def supplement_dossier(code: str) -> Any:
    return _act(code, "supplement")


@routes.route("/dossiers/{code}/rating", "POST")
def rate_dossier(code: str) -> Any:
    return _act(code, "rate")
