"""Errors meant for people.

Every 4xx leaves the API as ``{"error": {"code", "message", "fields"}}``: ``code`` is a
stable English identifier that clients may branch on, ``message`` is Vietnamese with
diacritics for the person in front of the screen, and ``fields`` names each bad field.
"""
from __future__ import annotations

from typing import Any


class ApiError(Exception):
    status = 400
    code = "bad_request"
    message = "Yêu cầu không hợp lệ."

    def __init__(self, message: str | None = None, *, code: str | None = None,
                 fields: dict[str, str] | None = None, status: int | None = None,
                 extra: dict[str, Any] | None = None) -> None:
        super().__init__(message or self.message)
        self.message = message or self.message
        self.code = code or self.code
        self.status = status or self.status
        self.fields = fields or {}
        self.extra = extra or {}

    @property
    def headers(self) -> dict[str, str]:
        return {}

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {"code": self.code, "message": self.message, "fields": self.fields}
        error.update(self.extra)
        return {"error": error}


class ValidationFailed(ApiError):
    status = 422
    code = "validation_failed"
    message = "Dữ liệu gửi lên không hợp lệ, vui lòng kiểm tra các trường được nêu."


class MalformedJson(ApiError):
    status = 400
    code = "malformed_json"
    message = "Nội dung yêu cầu không phải JSON hợp lệ."


class PayloadTooLarge(ApiError):
    status = 413
    code = "payload_too_large"
    message = "Nội dung yêu cầu vượt quá dung lượng cho phép."


class Unauthenticated(ApiError):
    status = 401
    code = "unauthenticated"
    message = "Bạn cần đăng nhập để thực hiện thao tác này."


class TokenExpired(Unauthenticated):
    code = "token_expired"
    message = "Phiên đăng nhập đã hết hạn, vui lòng đăng nhập lại."


class Forbidden(ApiError):
    status = 403
    code = "forbidden"
    message = "Bạn không có quyền thực hiện thao tác này."


class NotFound(ApiError):
    status = 404
    code = "not_found"
    message = "Không tìm thấy dữ liệu yêu cầu."


class Conflict(ApiError):
    status = 409
    code = "conflict"
    message = "Thao tác xung đột với trạng thái hiện tại, vui lòng tải lại và thử lại."


class InvalidTransition(Conflict):
    code = "invalid_transition"

    def __init__(self, current: str, action: str) -> None:
        super().__init__(
            f"Không thể thực hiện thao tác '{action}' khi hồ sơ đang ở trạng thái '{current}'.",
            extra={"current_status": current},
        )


class TooManyRequests(ApiError):
    status = 429
    code = "too_many_requests"
    message = "Bạn đã tra cứu quá nhiều lần, vui lòng thử lại sau."

    def __init__(self, retry_after: int, message: str | None = None) -> None:
        super().__init__(message, extra={"retry_after": retry_after})
        self.retry_after = retry_after

    @property
    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)}


class ServiceUnavailable(ApiError):
    """Retryable: clients may send the same request again (the same Idempotency-Key for a
    submission) after ``retry_after`` seconds, which the response carries as Retry-After."""
    status = 503
    code = "temporarily_unavailable"
    message = "Hệ thống đang bận, vui lòng thử lại sau ít phút."
    retry_after = 2

    @property
    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)}


class ServiceBusy(ServiceUnavailable):
    """AWS kept throttling us (DynamoDB capacity, EventBridge rate) after botocore's retries."""
    code = "service_busy"
    message = "Hệ thống đang quá tải, vui lòng thử lại sau vài giây."

    def __init__(self) -> None:
        super().__init__(extra={"retryable": True})

