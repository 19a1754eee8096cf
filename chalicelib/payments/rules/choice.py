"""Who pays through which provider: the citizen online through a gateway the stage and the
procedure allow, the one-stop desk at the counter. Pure: no AWS, no HTTP, no provider calls.

The request is ``POST /dossiers/{code}/payments`` with an optional body
``{"provider": "paygov" | "vnpay"}`` from a citizen, or ``{"provider": "counter", "method",
"amount", "reference"}`` from a desk officer (Decree 118/2025/NĐ-CP: fees may be taken at
the one-stop section). Which online providers a citizen may choose is the stage's list
(MOTCUA_PAYMENT_PROVIDERS, first = default), narrowed by the procedure's ``payment_providers``
when it names any; the procedure's order then wins, so a province can put PayGov first for
the procedures the national portal counts.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from collections.abc import Mapping, Sequence

from chalicelib.kernel.errors import Conflict, Forbidden, ValidationFailed

COUNTER = "counter"
METHODS = ("cash", "card", "transfer")
METHOD_LABELS = {"cash": "tiền mặt", "card": "thẻ", "transfer": "chuyển khoản"}
DESK_ROLES = frozenset({"officer"})
REFERENCE_MAX = 64
PROVIDER_LABELS = {
    "vnpay": "Trực tuyến qua cổng thanh toán VNPAY",
    "paygov": "Trực tuyến qua Nền tảng thanh toán trên Cổng Dịch vụ công quốc gia (PayGov)",
}


@dataclass(frozen=True)
class CounterRequest:
    """Fees the desk took: how, how much, and the desk's own reference (receipt book, POS slip,
    transfer reference; required for card and transfer, which a bank statement must match)."""
    method: str
    amount: int
    reference: str | None


def allowed_online(stage: Sequence[str], procedure: Sequence[str]) -> tuple[str, ...]:
    """The online providers a citizen may choose for a dossier, the default first."""
    if not procedure:
        return tuple(stage)
    return tuple(name for name in procedure if name in stage)


def _body(body: Any) -> Mapping[str, Any]:
    if body in (None, {}):
        return {}
    if not isinstance(body, Mapping):
        raise ValidationFailed(fields={"body": "Phải là đối tượng JSON, ví dụ {\"provider\": \"paygov\"}."})
    return body


def chosen_provider(body: Any, role: str, allowed: Sequence[str]) -> str:
    """The provider the request asks for, checked against who asks and what the dossier allows.
    A desk officer records counter payments only; a citizen pays online only (403 either way);
    a provider the dossier does not allow is 422 naming the field."""
    given = _body(body).get("provider")
    desk = role in DESK_ROLES
    if given is None:
        if desk:
            return COUNTER
        if not allowed:
            raise Conflict("Thủ tục này không nhận thanh toán trực tuyến; vui lòng nộp phí tại bộ phận một cửa.",
                           code="no_online_payment")
        return allowed[0]
    if not isinstance(given, str) or not given:
        raise ValidationFailed(fields={"provider": "Cổng thanh toán phải là chuỗi ký tự, ví dụ \"paygov\"."})
    if desk and given != COUNTER:
        raise Forbidden("Cán bộ một cửa chỉ ghi nhận khoản phí thu trực tiếp (provider \"counter\"); "
                        "thanh toán trực tuyến do người nộp hồ sơ thực hiện.", code="online_payment_citizen_only")
    if not desk and given == COUNTER:
        raise Forbidden("Chỉ cán bộ bộ phận một cửa được ghi nhận khoản phí nộp trực tiếp.",
                        code="counter_payment_desk_only")
    if not desk and given not in allowed:
        choices = ", ".join(allowed) or "không có (nộp tại bộ phận một cửa)"
        raise ValidationFailed(f"Hồ sơ này không thanh toán được qua \"{given[:30]}\".",
                               fields={"provider": f"Chọn một trong: {choices}."})
    return given


def counter_request(body: Any) -> CounterRequest:
    """The desk's record from the body, or 422 naming each bad field."""
    data = _body(body)
    errors: dict[str, str] = {}
    method, amount, reference = data.get("method"), data.get("amount"), data.get("reference")
    if method not in METHODS:
        errors["method"] = "Hình thức nộp là cash (tiền mặt), card (thẻ) hoặc transfer (chuyển khoản)."
    if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
        errors["amount"] = "Số tiền là số nguyên dương tính bằng đồng (không có phần thập phân)."
    if reference in (None, ""):
        reference = None
        if method in ("card", "transfer"):
            errors["reference"] = "Cần số chứng từ: số hóa đơn POS hoặc mã giao dịch chuyển khoản."
    elif not isinstance(reference, str) or len(reference) > REFERENCE_MAX or not reference.isprintable() \
            or not reference.isascii() or reference != reference.strip():
        errors["reference"] = f"Số chứng từ gồm 1 đến {REFERENCE_MAX} ký tự không dấu, không có khoảng trắng ở hai đầu."
    if errors:
        raise ValidationFailed(fields=errors)
    return CounterRequest(str(method), int(amount), reference)   # type: ignore[arg-type]


def require_amount_owed(request: CounterRequest, owed: int) -> None:
    """The desk takes exactly what is owed: less leaves the dossier unpayable at acceptance,
    more would be a refund before the dossier even starts."""
    if request.amount != owed:
        raise ValidationFailed(
            f"Số tiền phải bằng số phí, lệ phí còn phải nộp của hồ sơ ({owed:,} đồng).".replace(",", "."),
            code="counter_amount_mismatch", fields={"amount": f"Hồ sơ còn phải nộp {owed} đồng."},
            extra={"amount_owed": owed})


def require_no_payment_in_progress(pending: Mapping[str, Any] | None) -> None:
    """An online payment still in its window may yet be paid: taking cash now could collect twice."""
    if pending:
        raise Conflict("Hồ sơ đang có giao dịch thanh toán trực tuyến chưa kết thúc; vui lòng chờ giao dịch "
                       "hết hạn hoặc hoàn tất rồi ghi nhận.", code="payment_in_progress",
                       extra={"payment_id": pending["payment_id"], "expires_at": pending["expires_at"]})


def method_label(provider: str, method: str | None = None) -> str:
    """How the receipt says the fees were paid."""
    if provider == COUNTER:
        return f"Nộp trực tiếp tại bộ phận một cửa ({METHOD_LABELS.get(method or '', method or '')})"
    return PROVIDER_LABELS.get(provider, f"Trực tuyến qua {provider.upper()}")
