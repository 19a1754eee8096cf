"""The one table from failures to HTTP answers.

Domain errors (chalicelib/kernel/errors.py) say what went wrong; this module alone says which
status, headers and JSON body that becomes, in the way GOV.UK Pay's connector maps its
exceptions. Every error leaves as ``{"error": {"code", "message", "fields", ...extra}}``.
A kind is looked up along its class's MRO, so a new subclass answers like its parent until it
gets a row of its own; a kind with no row at all is a bug and ends as a 500.
"""
from __future__ import annotations

from typing import Any

from chalicelib.kernel.errors import (
    Conflict, DomainError, ExternalServiceFailed, Forbidden, Gone, MalformedRequest, NotFound, PayloadTooLarge,
    RateLimited, ServiceUnavailable, Unauthenticated, ValidationFailed,
)

STATUS: dict[type[DomainError], int] = {
    MalformedRequest: 400,
    Unauthenticated: 401,
    Forbidden: 403,
    NotFound: 404,
    Conflict: 409,
    Gone: 410,
    PayloadTooLarge: 413,
    ValidationFailed: 422,
    RateLimited: 429,
    ExternalServiceFailed: 502,
    ServiceUnavailable: 503,
}

# Chalice answers some requests itself (405, 415, its own 400s) before our views run; the
# middleware gives those answers our shape with these codes and messages.
CHALICE_ERRORS: dict[str, tuple[str, str]] = {
    "MethodNotAllowedError": ("method_not_allowed", "Phương thức HTTP này không được hỗ trợ cho đường dẫn này."),
    "UnsupportedMediaType": ("unsupported_media_type",
                             "Kiểu nội dung (Content-Type) không được hỗ trợ; hãy gửi application/json."),
    "BadRequest": ("bad_request", "Yêu cầu không hợp lệ."),
    "BadRequestError": ("bad_request", "Yêu cầu không hợp lệ."),
    # Answered by the gateway in front of the API (API Gateway; `make run`'s local server),
    # for a path no route serves: 404 in our shape, not API Gateway's 403 "Missing
    # Authentication Token", which echoes the Authorization header back (issue 18's rerun).
    "RouteNotFound": ("route_not_found", "Không có đường dẫn này trong API."),
}
_CHALICE_DEFAULT = ("bad_request", "Yêu cầu không hợp lệ.")


def status_for(kind: type[DomainError]) -> int:
    """The status of a kind of failure: its own row, else its nearest ancestor's."""
    for cls in kind.__mro__:
        if cls in STATUS:
            return STATUS[cls]
    raise LookupError(f"{kind.__name__} has no HTTP status: add its kind to chalicelib/edge/errors.py STATUS")


def status_of(error: DomainError) -> int:
    return status_for(type(error))


def headers_of(error: DomainError) -> dict[str, str]:
    """Retry-After for the kinds that say when to try again (rate limited, unavailable)."""
    if isinstance(error, (RateLimited, ServiceUnavailable)):
        return {"Retry-After": str(error.retry_after)}
    return {}


def body_of(error: DomainError) -> dict[str, Any]:
    detail: dict[str, Any] = {"code": error.code, "message": error.message, "fields": error.fields}
    detail.update(error.extra)
    return {"error": detail}


def chalice_error_body(chalice_code: str) -> dict[str, Any]:
    """Our body for one of Chalice's own error answers, named by its ``Code``."""
    code, message = CHALICE_ERRORS.get(chalice_code, _CHALICE_DEFAULT)
    return {"error": {"code": code, "message": message, "fields": {}}}
