"""The small Vietnamese HTML page a citizen sees when the payment provider sends the browser back.

Pure rendering: the page says what the app's ledger says (paid, failed, still confirming),
never what the browser's parameters claim, because only the IPN or the sweep change state.
"""
from __future__ import annotations

import html
from typing import Any
from collections.abc import Mapping

from chalicelib.payments.rules.ledger import vnd

PAID, FAILED, CONFIRMING, INVALID, UNKNOWN = "paid", "failed", "confirming", "invalid", "unknown"

_TEXT = {
    PAID: ("Thanh toán thành công", "Hệ thống đã ghi nhận khoản thanh toán phí, lệ phí của hồ sơ. "
                                    "Biên lai điện tử có trong trang hồ sơ."),
    FAILED: ("Thanh toán không thành công", "Giao dịch chưa được thực hiện hoặc đã bị hủy. "
                                            "Bạn có thể thanh toán lại từ trang hồ sơ."),
    CONFIRMING: ("Đang xác nhận thanh toán", "Cổng thanh toán báo giao dịch thành công; hệ thống đang chờ "
                                              "xác nhận chính thức. Vui lòng tải lại trang sau ít phút."),
    INVALID: ("Không xác thực được kết quả", "Dữ liệu trả về từ cổng thanh toán không hợp lệ (sai chữ ký "
                                             "hoặc thiếu thông tin). Trạng thái thanh toán không thay đổi."),
    UNKNOWN: ("Không tìm thấy giao dịch", "Không tìm thấy giao dịch thanh toán tương ứng trên hệ thống."),
}


def outcome(payment_status: str | None, provider_says_success: bool, money_statuses: frozenset[str]) -> str:
    """What to tell the citizen, from the ledger first and the provider's word second."""
    if payment_status is None:
        return UNKNOWN
    if payment_status in money_statuses:
        return PAID
    if payment_status == "pending" and provider_says_success:
        return CONFIRMING
    return FAILED


def render(state: str, payment: Mapping[str, Any] | None = None) -> str:
    title, message = _TEXT[state]
    e = html.escape
    details = ""
    if payment is not None:
        details = (f"<dl><dt>Mã hồ sơ</dt><dd>{e(payment['dossier_code'])}</dd>"
                   f"<dt>Mã giao dịch</dt><dd><code>{e(payment['payment_id'])}</code></dd>"
                   f"<dt>Số tiền</dt><dd>{e(vnd(payment['amount']))}</dd></dl>")
    return (
        '<!doctype html>\n<html lang="vi"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{e(title)}</title>"
        "<style>body{font-family:system-ui,sans-serif;max-width:34rem;margin:2rem auto;padding:0 1rem}"
        f".{PAID} h1{{color:#1a7f37}}.{FAILED} h1,.{INVALID} h1{{color:#c00}}.{CONFIRMING} h1{{color:#9a6700}}"
        "dt{color:#555;font-size:.85rem;margin-top:.5rem}dd{margin:0;font-weight:600}</style></head>"
        f'<body class="{state}"><main><h1>{e(title)}</h1><p>{e(message)}</p>{details}</main></body></html>\n'
    )
