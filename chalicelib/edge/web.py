"""The HTTP edge: turning requests into Python values and domain errors into JSON responses.

Chalice turns any exception raised in a view into a 500, so views are wrapped by
``guarded`` which answers a DomainError through the table in chalicelib/edge/errors.py.
Everything unexpected is still a 500, logged with the request id, and never echoes internals.
"""
from __future__ import annotations

import functools
import json
import math
import re
from typing import Any
from collections.abc import Callable

from chalice import Response

from chalicelib.edge.errors import body_of, chalice_error_body, headers_of, status_of
from chalicelib.kernel.errors import (
    DomainError, MalformedJson, MalformedRequest, PayloadTooLarge, ServiceBusy, ServiceUnavailable, Unauthenticated,
    ValidationFailed,
)
from chalicelib.kernel.text import clean_json, is_ascii_digits
from chalicelib.runtime.settings import settings
from chalicelib.trust.rules.identity import (
    AGENCY_ROLES, Identity, bearer_token, identity_from_claims, verify_local_token,
)

JSON_HEADERS = {"Content-Type": "application/json; charset=utf-8"}
# Chalice answers other content types with its own 415 body; we accept these and check
# the JSON ourselves so every error has our shape.
ACCEPTED_CONTENT_TYPES = [
    "application/json", "text/plain", "application/x-www-form-urlencoded",
    "multipart/form-data", "application/octet-stream",
]
_IDEMPOTENCY_KEY = re.compile(r"^[A-Za-z0-9_.:\-]{8,128}$")


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(body=json.dumps(body, ensure_ascii=False), status_code=status,
                    headers={**JSON_HEADERS, **(headers or {})})


def cors_headers(origin: str | None, portal_origin: str | None) -> dict[str, str]:
    """What lets the portal's browsers read an answer: only for the one configured origin
    (API Gateway answers the preflight, infra/api.py); any other origin gets nothing."""
    if not origin or origin != portal_origin:
        return {}
    return {"Access-Control-Allow-Origin": origin, "Vary": "Origin"}


def error_response(error: DomainError) -> Response:
    return json_response(body_of(error), status_of(error), headers_of(error))


def guarded(view: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return view(*args, **kwargs)
        except DomainError as error:
            if isinstance(error, ServiceUnavailable) and aws_throttled(error.__cause__):
                error = ServiceBusy()
            return error_response(error)
        except Exception as exc:
            if not aws_throttled(exc):
                raise
            return error_response(ServiceBusy())
    return wrapper


# Error codes AWS answers when we exceed a rate or capacity; botocore retried them already.
THROTTLING_CODES = frozenset({
    "ProvisionedThroughputExceededException", "ThrottlingException", "Throttling", "RequestLimitExceeded",
    "TooManyRequestsException", "ThrottlingError", "LimitExceededException", "SlowDown",
})


def aws_throttled(exc: BaseException | None) -> bool:
    """Whether ``exc`` is, or was caused by, AWS throttling that outlasted botocore's retries:
    a botocore ClientError with a throttling code, or pynamodb's error wrapping one (its
    ``cause``), or a transaction cancelled for throttling. The one place that decides it, so
    every route answers 503 ``service_busy`` instead of a 500."""
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        response = getattr(exc, "response", None)
        code = (response or {}).get("Error", {}).get("Code") if isinstance(response, dict) else None
        if code in THROTTLING_CODES:
            return True
        reasons = getattr(exc, "cancellation_reasons", None) or []
        if any(getattr(reason, "code", None) in THROTTLING_CODES for reason in reasons):
            return True
        exc = getattr(exc, "cause", None) or exc.__cause__ or exc.__context__
    return False


def normalise_error(response: Response) -> Response:
    """Give Chalice's own 4xx answers (405, 415…) our error shape, so clients see one format."""
    if not 400 <= response.status_code < 500 or not isinstance(response.body, dict):
        return response
    chalice_code = response.body.get("Code")
    if chalice_code is None:
        return response
    normalised = json_response(chalice_error_body(chalice_code), response.status_code)
    normalised.headers.update({k: v for k, v in response.headers.items() if k.lower() == "allow"})
    return normalised


def parse_json_body(request: Any, *, required: bool = True) -> Any:
    return decode_json(request.raw_body or b"", required=required)


def parse_json_object(request: Any, *, required: bool = True) -> dict[str, Any]:
    """A body that must be a JSON object; an optional body left out is ``{}``. A route that
    reads no field of its body still refuses ``[]``, ``"x"`` or ``5``, as every other route
    does, rather than acting as if it had read something (issue 18's rerun: accept did)."""
    body = parse_json_body(request, required=required)
    if not isinstance(body, dict):
        raise ValidationFailed("Nội dung yêu cầu phải là một đối tượng JSON.", fields={"body": "Phải là đối tượng JSON."})
    return body


def decode_json(raw: bytes, *, required: bool = True) -> Any:
    """A request body as JSON, with our error shapes (size, encoding, syntax)."""
    if len(raw) > settings().max_body_bytes:
        raise PayloadTooLarge(extra={"max_bytes": settings().max_body_bytes})
    if not raw.strip():
        if required:
            raise MalformedJson("Thiếu nội dung yêu cầu (JSON).", code="missing_body")
        return {}
    try:
        value = json.loads(raw.decode("utf-8"), parse_constant=_non_finite, parse_float=_finite_float)
    except NonFiniteNumber:
        raise MalformedJson("JSON không được chứa NaN, Infinity hay số vượt quá giới hạn số thực.",
                            code="non_finite_number") from None
    except UnicodeDecodeError:
        raise MalformedJson("Nội dung yêu cầu phải được mã hóa UTF-8.", code="invalid_encoding") from None
    except RecursionError:
        raise MalformedJson("Nội dung JSON lồng nhau quá sâu.", code="json_too_deep") from None
    except ValueError:
        raise MalformedJson() from None
    if _nesting_exceeds(value, MAX_JSON_DEPTH):
        raise MalformedJson("Nội dung JSON lồng nhau quá sâu.", code="json_too_deep")
    value, problems = clean_json(value)
    if problems:
        raise ValidationFailed(fields=problems)
    return value


class NonFiniteNumber(ValueError):
    """NaN, Infinity or a number beyond a double (``1e999``): Python's json reads them, no
    strict JSON parser (RFC 8259 §6) reads them back, so a body holding one is refused."""


def _non_finite(constant: str) -> Any:
    raise NonFiniteNumber(constant)


def _finite_float(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):
        raise NonFiniteNumber(text)
    return number


# The depth CPython 3.11's json decoder stopped at (its recursion limit). Since 3.12 the C
# decoder goes far deeper, so the limit is ours, and code that walks a body recursively is safe.
MAX_JSON_DEPTH = 990


def _nesting_exceeds(value: Any, limit: int) -> bool:
    """Whether arrays and objects nest more than ``limit`` deep (walked without recursion)."""
    stack = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        children = node.values() if isinstance(node, dict) else node if isinstance(node, list) else None
        if children is None:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False


def identity_of(request: Any) -> Identity:
    """The caller. Local stage: verify our HS256 token. Elsewhere: trust only the claims the
    API Gateway authorizer already verified; a bearer token alone is never enough."""
    cfg = settings()
    if cfg.is_local:
        claims = verify_local_token(bearer_token(request.headers.get("authorization")), cfg.local_jwt_secret)
        return _with_predecessors(identity_from_claims(claims))
    authorizer = (request.context or {}).get("authorizer") or {}
    claims = authorizer.get("claims") or authorizer.get("jwt", {}).get("claims")
    if not claims:
        raise Unauthenticated()
    return _with_predecessors(identity_from_claims(claims))


def _with_predecessors(identity: Identity) -> Identity:
    """Agency staff inherit the read reach of the agencies retired into theirs (merger day):
    the catalogue's lookup, asked only when their own agency is not enough."""
    if identity.role not in AGENCY_ROLES:
        return identity
    from dataclasses import replace

    from chalicelib.catalogue.use_cases.agencies import predecessors_of
    return replace(identity, successions=predecessors_of)


def authorize(request: Any, action: str) -> Identity | None:
    """The edge half of authorization: public actions need no token; any other needs one
    (401) whose role may perform the action at all (403). Scope is checked later, on the
    loaded resource (chalicelib.trust.rules.permissions.check)."""
    from chalicelib.trust.rules import permissions
    if permissions.is_public(action):
        return None
    return permissions.allow(identity_of(request), action)


def client_ip(request: Any) -> str:
    """The caller's address as API Gateway saw it (never a client-sent header such as
    X-Forwarded-For, which anyone can set)."""
    import ipaddress

    source = ((request.context or {}).get("identity") or {}).get("sourceIp") or ""
    try:
        return str(ipaddress.ip_address(source))
    except ValueError:
        return "127.0.0.1"


def idempotency_key(request: Any) -> str:
    key = request.headers.get("idempotency-key")
    if key is None:
        raise MalformedRequest("Thiếu tiêu đề Idempotency-Key.", code="missing_idempotency_key",
                               fields={"Idempotency-Key": "Bắt buộc: một chuỗi ngẫu nhiên 8–128 ký tự cho mỗi lần nộp."})
    if not _IDEMPOTENCY_KEY.match(key):
        raise MalformedRequest("Idempotency-Key không hợp lệ.", code="invalid_idempotency_key",
                               fields={"Idempotency-Key": "Chỉ gồm chữ, số, '-', '_', '.', ':' và dài 8–128 ký tự."})
    return key


def query_param(request: Any, name: str, *, max_len: int = 200) -> str | None:
    value = (request.query_params or {}).get(name)
    if value is None or value == "":
        return None
    if len(value) > max_len:
        raise ValidationFailed(fields={name: f"Dài tối đa {max_len} ký tự."})
    return value


def int_param(request: Any, name: str, default: int, lo: int, hi: int) -> int:
    raw = query_param(request, name, max_len=10)
    if raw is None:
        return default
    if not is_ascii_digits(raw) or not lo <= int(raw) <= hi:
        raise ValidationFailed(fields={name: f"Phải là số nguyên từ {lo} đến {hi}."})
    return int(raw)
