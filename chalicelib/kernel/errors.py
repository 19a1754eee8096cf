"""What went wrong, in the domain's words.

Each class names a kind of failure (bad input, not found, not allowed, a state conflict, rate
limited, temporarily unavailable…) and carries what a person needs to fix it: a stable English
``code`` clients may branch on, a Vietnamese ``message`` with diacritics, the bad ``fields``
and any ``extra`` facts (``current_status``, ``retry_after``…). None of them knows HTTP: the one
table in chalicelib/edge/errors.py turns a kind into a status, headers and the JSON body, so
rules and use cases stay usable from the CLI and the Lambda handlers too.
"""
from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """The base of every failure meant for people. Not raised itself: raise the kind that says
    what went wrong, which the edge knows how to answer (a kind it does not know is a bug)."""
    code: str
    message: str

    def __init__(self, message: str | None = None, *, code: str | None = None,
                 fields: dict[str, str] | None = None, extra: dict[str, Any] | None = None) -> None:
        super().__init__(message or self.message)
        self.message = message or self.message
        self.code = code or self.code
        self.fields = fields or {}
        self.extra = extra or {}


class MalformedRequest(DomainError):
    """The request itself cannot be read: a missing header, an unreadable cursor or body."""
    code = "bad_request"
    message = "Yêu cầu không hợp lệ."


class MalformedJson(MalformedRequest):
    code = "malformed_json"
    message = "Nội dung yêu cầu không phải JSON hợp lệ."


class ValidationFailed(DomainError):
    """The request reads fine but its values break a rule; ``fields`` says which and why."""
    code = "validation_failed"
    message = "Dữ liệu gửi lên không hợp lệ, vui lòng kiểm tra các trường được nêu."


class PayloadTooLarge(DomainError):
    code = "payload_too_large"
    message = "Nội dung yêu cầu vượt quá dung lượng cho phép."


class Unauthenticated(DomainError):
    """We do not know who is asking (no token, a bad token, a bad signature)."""
    code = "unauthenticated"
    message = "Bạn cần đăng nhập để thực hiện thao tác này."


class TokenExpired(Unauthenticated):
    code = "token_expired"
    message = "Phiên đăng nhập đã hết hạn, vui lòng đăng nhập lại."


class Forbidden(DomainError):
    """We know who is asking, and they may not do this."""
    code = "forbidden"
    message = "Bạn không có quyền thực hiện thao tác này."


class NotFound(DomainError):
    code = "not_found"
    message = "Không tìm thấy dữ liệu yêu cầu."


class Gone(DomainError):
    """It existed and is no longer served (a revoked or expired link): asking again will not help."""
    code = "gone"
    message = "Dữ liệu này không còn được cung cấp."


class Conflict(DomainError):
    """The action does not fit the current state (or someone changed it meanwhile)."""
    code = "conflict"
    message = "Thao tác xung đột với trạng thái hiện tại, vui lòng tải lại và thử lại."


class DossierTooLarge(Conflict):
    """Writing the change would take the dossier past the size its store can hold (DynamoDB's
    400 KB item): a permanent refusal, never worth a retry (issue 18)."""
    code = "dossier_too_large"
    message = ("Hồ sơ đã đạt dung lượng tối đa nên không thể ghi thêm thay đổi này; "
               "hãy rút gọn nội dung hoặc liên hệ bộ phận một cửa.")


class InvalidTransition(Conflict):
    code = "invalid_transition"

    def __init__(self, current: str, action: str) -> None:
        super().__init__(
            f"Không thể thực hiện thao tác '{action}' khi hồ sơ đang ở trạng thái '{current}'.",
            extra={"current_status": current},
        )


class RateLimited(DomainError):
    """Too many attempts in a window; the caller may try again after ``retry_after`` seconds."""
    code = "too_many_requests"
    message = "Bạn đã tra cứu quá nhiều lần, vui lòng thử lại sau."

    def __init__(self, retry_after: int, message: str | None = None) -> None:
        super().__init__(message, extra={"retry_after": retry_after})
        self.retry_after = retry_after


class ExternalServiceFailed(DomainError):
    """A service we depend on (a payment provider…) answered with a failure: not the caller's
    fault, and not known to be temporary."""
    code = "external_service_failed"
    message = "Hệ thống liên kết trả lời lỗi, vui lòng thử lại sau."


class ServiceUnavailable(DomainError):
    """Temporarily unavailable and retryable: clients may send the same request again (the
    same Idempotency-Key for a submission) after ``retry_after`` seconds."""
    code = "temporarily_unavailable"
    message = "Hệ thống đang bận, vui lòng thử lại sau ít phút."
    retry_after = 2


class ServiceBusy(ServiceUnavailable):
    """AWS kept throttling us (DynamoDB capacity, EventBridge rate) after botocore's retries."""
    code = "service_busy"
    message = "Hệ thống đang quá tải, vui lòng thử lại sau vài giây."

    def __init__(self) -> None:
        super().__init__(extra={"retryable": True})
