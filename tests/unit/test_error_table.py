"""The one table at the edge (chalicelib/edge/errors.py): every domain error in chalicelib
answers with a status, the body keeps its shape, and the retryable kinds say when to retry."""
from __future__ import annotations

import importlib
import json
import pkgutil

import pytest

import chalicelib
from chalicelib.edge.errors import body_of, chalice_error_body, headers_of, status_for, status_of
from chalicelib.edge.web import error_response
from chalicelib.kernel.errors import (
    Conflict, DomainError, ExternalServiceFailed, Forbidden, InvalidTransition, MalformedJson, MalformedRequest,
    NotFound, PayloadTooLarge, RateLimited, ServiceBusy, ServiceUnavailable, TokenExpired, Unauthenticated,
    ValidationFailed,
)


def every_domain_error() -> set[type[DomainError]]:
    """Every subclass of DomainError defined anywhere in chalicelib (each module imported)."""
    for module in pkgutil.walk_packages(chalicelib.__path__, "chalicelib."):
        importlib.import_module(module.name)
    found: set[type[DomainError]] = set()
    pending = [DomainError]
    while pending:
        for sub in pending.pop().__subclasses__():
            pending.append(sub)
            if sub.__module__.startswith("chalicelib."):   # not the ones tests define
                found.add(sub)
    return found


def test_every_domain_error_in_chalicelib_maps_to_an_error_status() -> None:
    kinds = every_domain_error()
    assert {kind.__name__ for kind in kinds} >= {"BadSignature", "SecretMissing", "PaymentTransitionRefused"}
    unmapped = []
    for kind in kinds:
        try:
            assert 400 <= status_for(kind) < 600, kind
        except LookupError:
            unmapped.append(kind.__name__)
    assert unmapped == []


def test_a_kind_without_a_row_is_refused_rather_than_guessed() -> None:
    class Unheard(DomainError):
        code, message = "unheard", "Lỗi chưa được khai báo."

    with pytest.raises(LookupError, match="Unheard"):
        status_of(Unheard())
    with pytest.raises(LookupError):
        status_for(DomainError)


@pytest.mark.parametrize(("kind", "status"), [
    (MalformedRequest, 400), (MalformedJson, 400), (Unauthenticated, 401), (TokenExpired, 401),
    (Forbidden, 403), (NotFound, 404), (Conflict, 409), (InvalidTransition, 409), (PayloadTooLarge, 413),
    (ValidationFailed, 422), (RateLimited, 429), (ExternalServiceFailed, 502), (ServiceUnavailable, 503),
    (ServiceBusy, 503),
])
def test_each_kind_keeps_the_status_clients_already_see(kind: type[DomainError], status: int) -> None:
    assert status_for(kind) == status


def test_subclasses_from_other_contexts_answer_like_their_kind() -> None:
    from chalicelib.payments.rules.transitions import PaymentTransitionRefused
    from chalicelib.runtime.credentials import SecretMissing
    from chalicelib.sync.rules.connectors import BadSignature

    assert (status_for(BadSignature), status_for(PaymentTransitionRefused), status_for(SecretMissing)) == (401, 409, 503)


def test_the_body_is_code_message_fields_and_the_extra_facts() -> None:
    plain = ValidationFailed(fields={"phone": "Bắt buộc."})
    assert body_of(plain) == {"error": {
        "code": "validation_failed",
        "message": "Dữ liệu gửi lên không hợp lệ, vui lòng kiểm tra các trường được nêu.",
        "fields": {"phone": "Bắt buộc."}}}
    refused = InvalidTransition("processing", "accept")
    assert body_of(refused) == {"error": {
        "code": "invalid_transition", "message": refused.message, "fields": {}, "current_status": "processing"}}
    assert body_of(MalformedRequest("Thiếu mã.", code="missing_code"))["error"]["code"] == "missing_code"


def test_a_response_carries_status_json_and_headers_from_the_table() -> None:
    response = error_response(RateLimited(7))
    assert response.status_code == 429
    assert response.headers["Content-Type"] == "application/json; charset=utf-8"
    assert response.headers["Retry-After"] == "7"
    assert json.loads(response.body) == {"error": {
        "code": "too_many_requests", "message": RateLimited.message, "fields": {}, "retry_after": 7}}


def test_retry_after_is_sent_for_rate_limited_and_unavailable_kinds_only() -> None:
    from chalicelib.runtime.credentials import SecretMissing

    assert headers_of(RateLimited(30)) == {"Retry-After": "30"}
    for unavailable in (ServiceUnavailable(), ServiceBusy(), SecretMissing("zalo")):
        assert headers_of(unavailable) == {"Retry-After": str(ServiceUnavailable.retry_after)}
    for other in (NotFound(), Conflict(), ValidationFailed(), ExternalServiceFailed(), Unauthenticated()):
        assert headers_of(other) == {}


def test_chalices_own_errors_get_our_shape() -> None:
    assert chalice_error_body("MethodNotAllowedError")["error"]["code"] == "method_not_allowed"
    assert chalice_error_body("SomethingNew") == {"error": {
        "code": "bad_request", "message": "Yêu cầu không hợp lệ.", "fields": {}}}
