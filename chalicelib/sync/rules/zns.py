"""What Zalo's ZNS takes in a template parameter and what its error codes mean. Pure data
and two look-ups; docs/notifications.md shows both tables with their sources.

ZNS checks each ``template_data`` value against the parameter type ("cài đặt kỹ thuật")
chosen when the template was registered: a value longer than the type's limit, or a time in
another format, is refused as invalid template data. The templates file says which type each
placeholder was registered with (``_zalo_parameter_types``); a placeholder it does not name
gets ``DEFAULT_TYPE``.
"""
from __future__ import annotations

import re
from typing import Any, NamedTuple

# Where the values come from (docs/notifications.md quotes them):
# ZBS: Zalo's guideline "Các định dạng dữ liệu khi truyền vào tham số trên nội dung tin nhắn ZBS
#   Template", table 2a (ZNS is now "ZBS Template Message"); read in two public copies of it.
# ZNS: Zalo Cloud, "Các định dạng dữ liệu khi truyền vào tham số trên nội dung ZNS",
#   https://zalo.cloud/zns/guidelines/en/cac-dinh-dang-du-lieu-khi-truyen-vao-tham-so-tren-noi-dung-zns
#   (its example: "Tên khách hàng (30)" takes at most 30 characters).
# API: the parameter types of Zalo's create-template API as SDKs copy them
#   (@warriorteam/redai-zalo-sdk, dist/types/zns.d.ts, enum ZNSParamType). It gives 200 for
#   the address and the product name where ZBS gives 80 and 100: the smaller is kept.
ZBS, ZNS, API = "ZBS", "ZNS", "API"


class ParameterType(NamedTuple):
    label: str                  # as Zalo's template editor names it
    limit: int                  # most characters ZNS takes
    sources: tuple[str, ...]    # which of ZBS / ZNS / API state this limit
    confirmed: bool             # False: a Zalo page was not seen to state it; kept conservative


PARAMETER_TYPES: dict[str, ParameterType] = {
    "customer_name": ParameterType("Tên khách hàng", 30, (ZNS, ZBS, API), True),
    "phone_number": ParameterType("Số điện thoại", 15, (ZBS, API), True),
    "address": ParameterType("Địa chỉ", 80, (ZBS,), True),
    "code": ParameterType("Mã số", 30, (ZBS, API), True),
    "custom_label": ParameterType("Nhãn tùy chỉnh", 30, (ZBS, API), True),
    "transaction_status": ParameterType("Trạng thái giao dịch", 30, (ZBS, API), True),
    "contact": ParameterType("Thông tin liên hệ", 50, (ZBS, API), True),
    "personal_title": ParameterType("Giới tính / Danh xưng", 5, (ZBS, API), True),
    "product_name": ParameterType("Tên sản phẩm / Thương hiệu", 100, (ZBS,), True),
    "amount": ParameterType("Số lượng / Số tiền", 20, (ZBS, API), True),
    "time": ParameterType("Thời gian", 20, (ZBS, API), True),
    "bank_transfer_note": ParameterType("Bank Transfer Note", 90, (ZBS, API), True),
    "url": ParameterType("URL", 200, (ZBS, API), True),
    "otp": ParameterType("OTP", 10, (API,), False),
    "currency": ParameterType("Tiền tệ (VNĐ)", 12, (API,), False),
}
DEFAULT_TYPE = "custom_label"   # the shortest free-text type: a placeholder nobody typed is cut to 30

# ZBS: a "Thời gian" value is one of hh:mm:ss, hh:mm, hh:mm:ss dd/mm/yyyy, hh:mm dd/mm/yyyy,
# dd/mm/yyyy, mm/yyyy. Readers are shown dd/mm/yyyy HH:MM elsewhere; ZNS wants the hour first.
_D = "[0-9]"   # ASCII digits only: Python's \d also takes fullwidth and other scripts' digits
TIME_VALUE = re.compile(rf"(?:{_D}{{2}}:{_D}{{2}}(?::{_D}{{2}})?(?: {_D}{{2}}/{_D}{{2}}/{_D}{{4}})?"
                        rf"|{_D}{{2}}/{_D}{{2}}/{_D}{{4}}|{_D}{{2}}/{_D}{{4}})")
_DATE_THEN_HOUR = re.compile(rf"({_D}{{2}}/{_D}{{2}}/{_D}{{4}}) ({_D}{{2}}:{_D}{{2}})")


def fits(type_name: str, value: Any) -> bool:
    """Whether ZNS takes ``value`` for a parameter of this type (the simulator's check)."""
    kind = PARAMETER_TYPES[type_name]
    return (isinstance(value, str) and len(value) <= kind.limit
            and (type_name != "time" or TIME_VALUE.fullmatch(value) is not None))


def as_time(value: str) -> str:
    """``dd/mm/yyyy HH:MM`` as ZNS's ``HH:MM dd/mm/yyyy``; any other text unchanged."""
    return _DATE_THEN_HOUR.sub(r"\2 \1", value) if _DATE_THEN_HOUR.fullmatch(value) else value


# What an error code in a ZNS answer means for the message (Zalo Cloud, "Cách xử lý mã lỗi",
# https://zalo.cloud/zns/guidelines/handle-error-code). Only TRANSIENT may pass by retrying
# within the queue's ~3.5 h of retries; every other kind is final for this message, and the
# citizen is told by SMS instead. A code not listed here is treated as TRANSIENT.
RECIPIENT = "recipient"   # this phone cannot get ZNS: no account, refused, cannot receive
MESSAGE = "message"       # this template or its data is refused: retrying sends the same
ACCOUNT = "account"       # our OA, app or balance: an operator must act, which takes longer than the retries
TRANSIENT = "transient"   # Zalo's fault or a token being renewed: retried with the queue's backoff

ERRORS: dict[int, tuple[str, str]] = {
    -100: (TRANSIENT, "Unknown error; try again later"),
    -101: (ACCOUNT, "Application invalid"),
    -102: (ACCOUNT, "Application not existed"),
    -103: (ACCOUNT, "Application not activated"),
    -104: (ACCOUNT, "App secret key invalid"),
    -105: (ACCOUNT, "Application not linked to any OA"),
    -106: (MESSAGE, "Method unsupported"),
    -107: (MESSAGE, "Message ID invalid"),
    -108: (RECIPIENT, "Phone number invalid"),
    -109: (MESSAGE, "Template ID invalid"),
    -110: (RECIPIENT, "Zalo version unsupported: the user must update Zalo"),
    -111: (MESSAGE, "Template data empty"),
    -112: (MESSAGE, "Template data invalid"),
    -1121: (MESSAGE, "A parameter is longer than its limit"),
    -1122: (MESSAGE, "Template data lacks a parameter"),
    -1123: (MESSAGE, "QR code cannot be generated"),
    -1124: (MESSAGE, "A parameter is not in its type's format"),
    -113: (MESSAGE, "Button invalid"),
    -114: (RECIPIENT, "User cannot receive ZNS (account state, ZNS settings, old Zalo)"),
    -115: (ACCOUNT, "Out of quota: the ZNS balance is spent"),
    -116: (MESSAGE, "Content invalid"),
    -117: (ACCOUNT, "OA or app not permitted to use this template"),
    -118: (RECIPIENT, "Zalo account not existed or disabled"),
    -119: (RECIPIENT, "Account cannot receive ZNS"),
    -120: (ACCOUNT, "OA not permitted to use this feature"),
    -121: (MESSAGE, "Template has no content"),
    -122: (MESSAGE, "Body is not JSON"),
    -124: (TRANSIENT, "Access token invalid: renewed by the zalo-token schedule"),
    -125: (ACCOUNT, "Official Account ID invalid"),
    -126: (ACCOUNT, "Development-mode wallet has no balance"),
    -127: (ACCOUNT, "A test template goes to the OA's administrators only"),
    -129: (TRANSIENT, "RSA key cannot be created; try again later"),
    -130: (MESSAGE, "Template content exceeds its character limit"),
    -131: (MESSAGE, "Template not approved"),
    -132: (MESSAGE, "Parameter invalid"),
    -133: (MESSAGE, "Template may not be sent at night (22:00-06:00), beyond the retries' reach"),
    -134: (RECIPIENT, "User has not answered the OA's offer to receive ZNS"),
    -135: (ACCOUNT, "OA not permitted to send ZNS (not verified, free plan)"),
    -1351: (ACCOUNT, "OA blocked from sending ZNS for a violation"),
    -136: (ACCOUNT, "A Zalo Cloud Account (ZCA) must be linked"),
    -137: (ACCOUNT, "ZCA payment failed (balance)"),
    -138: (ACCOUNT, "App not permitted to use this feature"),
    -139: (RECIPIENT, "User refused this kind of ZNS"),
    -140: (RECIPIENT, "OA not permitted to send after-sales ZNS to this user"),
    -141: (RECIPIENT, "User refused ZNS from this Official Account"),
    -144: (ACCOUNT, "OA's daily ZNS limit reached"),
    -1441: (ACCOUNT, "OA's monthly promotion quota reached"),
    -145: (MESSAGE, "OA may not send this kind of content"),
    -146: (MESSAGE, "Template disabled for low quality"),
    -147: (ACCOUNT, "Template's daily limit reached"),
    -1471: (RECIPIENT, "Monthly after-sales limit for this user reached"),
    -153: (MESSAGE, "Data against the rules"),
}


def error_kind(error: Any) -> str:
    """The kind of a ZNS error code (an int, as ZNS sends it); TRANSIENT when unknown."""
    if not isinstance(error, int) or isinstance(error, bool):
        return TRANSIENT
    return ERRORS.get(error, (TRANSIENT, ""))[0]


def permanent(error: Any) -> bool:
    """Whether no retry of this message can succeed."""
    return error_kind(error) != TRANSIENT
