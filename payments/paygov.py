"""PayGov, the national payment platform of the National Public Service Portal (DVCQG).

Everything PayGov-specific lives here: its JSON messages (``INIT`` to create a payment, the
confirmation it POSTs back, ``QUERY`` for reconciliation), the ``MaXacThuc`` checksum, its
answer codes and its times. Nothing outside this module sees a PayGov field or code.

The protocol, as ../shared national-portal.md §6 gives it and two deployed clients (OpenCPS's
PayGate integration and a .NET provincial system) send it:

* messages are JSON, calls carry ``Authorization: Bearer {access token}``;
* ``MaXacThuc`` is the lowercase hex SHA-256 of the listed fields joined with ``|``, the
  shared secret appended as the last field (a keyed hash, not an HMAC);
* amounts are plain VND (no x100), times ``yyyyMMddHHmmss`` in GMT+7, ``PhienBan`` 1.0.6,
  ``MaLoi "00"`` is success.

Decisions where the sources are silent (docs/payments.md, "PayGov"):

* the confirmation and the browser's return address are registered with PayGov for the
  partner code (INIT carries neither, in both clients), so ``create_payment`` does not send
  ``return_url``; the return carries the same signed fields as the confirmation;
* the ``QUERY`` answer is a confirmation-shaped message signed over the confirmation's fields
  (the .NET client feeds it to its confirmation handler). Its ``MaLoi``: ``00`` paid, ``09`` not
  completed yet, ``01`` no such transaction, a code of ``FAILED_CODES`` the payment failed; any
  other code is an error of the query itself and never decides a payment;
* an answer we act on must carry a valid ``MaXacThuc``; a wrong one is always SignatureError;
* PayGov publishes no refund message: ``refund`` is refused (``REFUND_UNSUPPORTED``) and finance
  refunds by hand through the treasury account.
"""
from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import re
from datetime import datetime, UTC
from types import MappingProxyType
from typing import Any
from collections.abc import Callable, Iterable, Mapping

import requests

from .base import (
    CallbackOutcome,
    CallbackParams,
    CallbackReply,
    Notification,
    PaymentError,
    PaymentOutcome,
    PaymentSession,
    ProviderRejected,
    ProviderUnavailable,
    QueryResult,
    RefundResult,
    ReturnResult,
    SignatureError,
    check_amount,
    GMT7,
    check_aware,
    format_gateway_time,
    parse_gateway_time,
)

__all__ = [
    "CONFIRM_FIELDS",
    "CONFIRM_REPLIES",
    "FAILED_CODES",
    "GMT7",
    "INIT_FIELDS",
    "INIT_PATH",
    "PHIEN_BAN",
    "QUERY_FIELDS",
    "QUERY_PATH",
    "SETTLEMENT_LAYOUT",
    "PayGovProvider",
    "callback_fields",
    "checksum",
    "format_time",
    "message_checksum",
    "parse_time",
    "transaction_info",
    "verify_message",
]

PHIEN_BAN = "1.0.6"
INIT_PATH = "/api/v1/init"
QUERY_PATH = "/api/v1/query"
MAC = "MaXacThuc"
SUCCESS = "00"
NOT_FOUND = "01"
NOT_COMPLETED = "09"
# Codes a transaction ends with when the citizen did not pay: cancelled, timed out on the
# platform, declined by the bank. Any code outside these and 00/01/09 decides nothing.
FAILED_CODES = frozenset({"24", "11", "51", "65", "79"})

# Field orders of MaXacThuc (national-portal.md §6).
INIT_FIELDS = ("LoaiBanTin", "PhienBan", "MaDoiTac", "MaThamChieu", "SoTien", "LoaiHinhThanhToan",
               "MaKenhThanhToan", "MaThietBi", "NgonNgu", "MaTienTe", "MaNganHang", "ThongTinGiaoDich",
               "ThoiGianGD", "Ip")
CONFIRM_FIELDS = ("LoaiBanTin", "MaLoi", "MaDoiTac", "MaThamChieu", "SoTien", "MaTienTe", "MaGiaoDich",
                  "MaNganHang", "ThoiGianGD", "ThongTinGiaoDich")
QUERY_FIELDS = ("LoaiBanTin", "PhienBan", "MaDoiTac", "MaThamChieu", "ThoiGianGD")

# The reply to a confirmation, for each outcome the app reports. PayGov sends the confirmation
# again unless the reply's MaLoi is 00 or 02 (our simulator; VNPay's IPN rule).
CONFIRM_REPLIES: dict[CallbackOutcome, tuple[str, str]] = {
    CallbackOutcome.ACCEPTED: ("00", "Xác nhận thành công"),
    CallbackOutcome.UNKNOWN_PAYMENT: ("01", "Không tìm thấy giao dịch"),
    CallbackOutcome.ALREADY_RECORDED: ("02", "Giao dịch đã được xác nhận trước đó"),
    CallbackOutcome.AMOUNT_MISMATCH: ("04", "Số tiền không khớp"),
    CallbackOutcome.BAD_SIGNATURE: ("97", "Mã xác thực không hợp lệ"),
    CallbackOutcome.ERROR: ("99", "Lỗi không xác định, gửi lại sau"),
}
SETTLEMENT_LAYOUT: Mapping[str, Any] = MappingProxyType({
    "reference": "MaThamChieu", "amount": "SoTien", "status": "MaLoi", "provider_txn_id": "MaGiaoDich",
    "amount_scale": 1, "success_values": [SUCCESS],
})

INFO_MAX = 210
_REFERENCE_RE = re.compile(r"[A-Za-z0-9]{1,50}")
_DIGITS_RE = re.compile(r"[0-9]{1,15}")
_INFO_DISALLOWED = re.compile(r"[^A-Za-z0-9 _.,:-]")


# --------------------------------------------------------------------------------------------
# Pure functions
# --------------------------------------------------------------------------------------------

def checksum(values: Iterable[str], secret: str) -> str:
    """``MaXacThuc``: lowercase hex SHA-256 of ``values`` then ``secret``, joined with ``|``."""
    return hashlib.sha256("|".join([*values, secret]).encode("utf-8")).hexdigest()


def _text(value: Any) -> str:
    """A field as it is hashed: strings as they are, whole numbers as their decimal text
    (clients send SoTien as a JSON number), a missing field as ''."""
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise PaymentError(f"field must be a string or a whole number, got {type(value).__name__}")
    return str(value)


def message_checksum(message: Mapping[str, Any], fields: Iterable[str], secret: str) -> str:
    """:func:`checksum` over ``message[f]`` for ``f`` in ``fields``."""
    return checksum([_text(message.get(name)) for name in fields], secret)


def verify_message(message: Mapping[str, Any], fields: Iterable[str], secret: str) -> bool:
    """True if ``message[MaXacThuc]`` matches (constant time, case-insensitive hex). Garbage
    returns False rather than raising."""
    received = message.get(MAC)
    if not isinstance(received, str) or not received:
        return False
    try:
        expected = message_checksum(message, fields, secret)
    except PaymentError:
        return False
    return hmac.compare_digest(expected.encode("ascii"), received.lower().encode("utf-8", "surrogatepass"))


format_time = format_gateway_time


def parse_time(value: str) -> datetime:
    """PayGov's ``yyyyMMddHHmmss`` (GMT+7) as an aware UTC datetime; PaymentError if garbage."""
    return parse_gateway_time(value, "PayGov")


def transaction_info(text: str, reference: str) -> str:
    """``ThongTinGiaoDich``: ASCII without diacritics (both clients send it so), at most
    INFO_MAX characters; the checksum then cannot depend on how a side encodes Vietnamese."""
    import unicodedata

    text = text.replace("đ", "d").replace("Đ", "D")
    text = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    text = " ".join(_INFO_DISALLOWED.sub(" ", text).split())[:INFO_MAX].rstrip()
    return text or f"Thanh toan {reference}"


def callback_fields(params: CallbackParams | Mapping[str, Any]) -> dict[str, str]:
    """A confirmation's fields as strings: from a JSON body (SoTien may be a number) or a query
    string (a value may be a list when a key repeats). A repeated field is refused like a forged
    checksum: which copy did PayGov sign?"""
    if not isinstance(params, Mapping):
        raise PaymentError("the confirmation must be a JSON object")
    out: dict[str, str] = {}
    for key, value in params.items():
        if not isinstance(key, str):
            raise PaymentError("field names must be strings")
        if isinstance(value, (list, tuple)):
            if len(value) > 1:
                raise SignatureError(f"duplicated field {key}")
            value = value[0] if value else ""
        out[key] = _text(value)
    return out


def _amount(value: str) -> int:
    if not _DIGITS_RE.fullmatch(value):
        raise PaymentError(f"SoTien is not a whole number of VND: {value!r}")
    return int(value)


def _utcnow() -> datetime:
    return datetime.now(UTC)


# --------------------------------------------------------------------------------------------
# Provider
# --------------------------------------------------------------------------------------------

class PayGovProvider:
    """PayGov 1.0.6. ``host`` is the platform's root; ``init_url`` and ``query_url`` override
    ``{host}/api/v1/init`` and ``{host}/api/v1/query`` (deployments receive both addresses
    separately). ``server_ip`` is not sent: INIT's ``Ip`` is the citizen's address."""

    name = "paygov"
    settlement_layout = SETTLEMENT_LAYOUT

    def __init__(
        self,
        partner_code: str,
        secret_key: str,
        host: str,
        *,
        access_token: str = "",
        init_url: str | None = None,
        query_url: str | None = None,
        session: requests.Session | None = None,
        timeout: float | tuple[float, float] = (3.05, 10),
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        if not partner_code or not secret_key:
            raise ValueError("partner_code and secret_key are required")
        self.partner_code = partner_code
        self._secret = secret_key
        self._token = access_token
        host = host.rstrip("/")
        self.init_url = init_url or f"{host}{INIT_PATH}"
        self.query_url = query_url or f"{host}{QUERY_PATH}"
        self._session = session or requests.Session()
        self._timeout = timeout
        self._clock = clock or _utcnow

    def __repr__(self) -> str:  # never the secret or the token
        return f"PayGovProvider(partner_code={self.partner_code!r}, init_url={self.init_url!r})"

    # -- INIT -----------------------------------------------------------------------------

    def create_payment(self, amount: int, currency: str, reference: str, description: str, return_url: str,
                       client_ip: str, expires_at: datetime) -> PaymentSession:
        check_amount(amount)
        if currency != "VND":
            raise ValueError(f"PayGov takes VND only, got {currency!r}")
        if not isinstance(reference, str) or not _REFERENCE_RE.fullmatch(reference):
            raise ValueError("reference must be 1-50 ASCII letters or digits")
        try:
            ipaddress.ip_address(client_ip)
        except ValueError:
            raise ValueError(f"client_ip is not an IP address: {client_ip!r}") from None
        check_aware(expires_at, "expires_at")
        now = check_aware(self._clock(), "clock()").replace(microsecond=0)
        info = transaction_info(description, reference)
        body: dict[str, Any] = {
            "LoaiBanTin": "INIT", "PhienBan": PHIEN_BAN, "MaDoiTac": self.partner_code, "MaThamChieu": reference,
            "SoTien": str(amount), "LoaiHinhThanhToan": "PAY", "MaKenhThanhToan": "1", "MaThietBi": "1",
            "NgonNgu": "vi-VN", "MaTienTe": "VND", "MaNganHang": "PAYMENT", "ThongTinGiaoDich": info,
            "ThoiGianGD": format_time(now), "Ip": client_ip,
        }
        body[MAC] = message_checksum(body, INIT_FIELDS, self._secret)
        body["ThongTinBienLai"] = {"NoiDungThanhToan": info, "DSKhoanNop": [{"NoiDung": info, "SoTien": str(amount)}]}
        answer = self._init_answer(self._post(self.init_url, body))
        url = answer.get("UrlThanhToan")
        if not isinstance(url, str) or not re.fullmatch(r"https?://[\x21-\x7e]+", url):
            raise PaymentError("PayGov INIT answered without a usable UrlThanhToan")
        return PaymentSession(reference, url, expires_at, now)

    @staticmethod
    def _init_answer(data: Mapping[str, Any]) -> Mapping[str, Any]:
        """INIT's answer, direct (``{"MaLoi": "00", "UrlThanhToan"}``, OpenCPS) or wrapped by a
        provincial platform (``{"error_code": "0", "message": "{...}"}``, the .NET client)."""
        if "error_code" in data and "MaLoi" not in data:
            if str(data.get("error_code")) != "0":
                raise ProviderRejected(str(data.get("error_code")), str(data.get("message", ""))[:200])
            try:
                inner = json.loads(data["message"]) if isinstance(data.get("message"), str) else data.get("message")
            except ValueError:
                raise PaymentError("PayGov INIT message is not JSON") from None
            if not isinstance(inner, Mapping):
                raise PaymentError("PayGov INIT message is not an object")
            return inner
        code = _text(data.get("MaLoi"))
        if code != SUCCESS:
            raise ProviderRejected(code or "?", _text(data.get("MoTaLoi"))[:200])
        return data

    # -- confirmation and return ----------------------------------------------------------

    def _verified(self, params: CallbackParams) -> dict[str, str]:
        data = callback_fields(params)
        if not data.get(MAC):
            raise SignatureError("MaXacThuc missing")
        if not verify_message(data, CONFIRM_FIELDS, self._secret):
            raise SignatureError("MaXacThuc does not match")
        if data.get("MaDoiTac") != self.partner_code:
            raise PaymentError(f"MaDoiTac {data.get('MaDoiTac')!r} is not ours")
        missing = [name for name in ("MaLoi", "MaThamChieu", "SoTien") if not data.get(name)]
        if missing:
            raise PaymentError(f"missing fields: {', '.join(missing)}")
        if data.get("MaTienTe", "VND") != "VND":
            raise PaymentError("MaTienTe is not VND")
        return data

    def parse_notification(self, params: CallbackParams) -> Notification:
        """The confirmation PayGov POSTs (JSON) to the partner's registered address."""
        data = self._verified(params)
        succeeded = data["MaLoi"] == SUCCESS
        return Notification(
            reference=data["MaThamChieu"], provider_txn_id=data.get("MaGiaoDich") or None,
            amount=_amount(data["SoTien"]), succeeded=succeeded, response_code=data["MaLoi"],
            transaction_status=data["MaLoi"],
            paid_at=parse_time(data.get("ThoiGianGD", "")) if succeeded else None, raw=data)

    def verify_return(self, params: CallbackParams) -> ReturnResult:
        data = self._verified(params)
        return ReturnResult(data["MaThamChieu"], _amount(data["SoTien"]), data["MaLoi"] == SUCCESS,
                            data["MaLoi"], data)

    def callback_reply(self, outcome: CallbackOutcome) -> CallbackReply:
        code, message = CONFIRM_REPLIES[outcome]
        return CallbackReply({"MaLoi": code, "MoTaLoi": message})

    # -- QUERY ----------------------------------------------------------------------------

    def query(self, reference: str, created_at: datetime) -> QueryResult:
        """``QUERY``; ``created_at`` is INIT's ThoiGianGD (``PaymentSession.created_at``)."""
        check_aware(created_at, "created_at")
        body: dict[str, Any] = {"LoaiBanTin": "QUERY", "PhienBan": PHIEN_BAN, "MaDoiTac": self.partner_code,
                                "MaThamChieu": reference, "ThoiGianGD": format_time(created_at)}
        body[MAC] = message_checksum(body, QUERY_FIELDS, self._secret)
        data = callback_fields({k: v for k, v in self._post(self.query_url, body).items()
                                if isinstance(v, (str, int)) and not isinstance(v, bool)})
        code = data.get("MaLoi", "")
        if code not in (SUCCESS, NOT_FOUND, NOT_COMPLETED) and code not in FAILED_CODES:
            raise ProviderRejected(code or "?", data.get("MoTaLoi", "")[:200])
        if not verify_message(data, CONFIRM_FIELDS, self._secret):
            raise SignatureError("PayGov QUERY answer checksum does not match")
        if data.get("MaThamChieu") != reference:
            raise PaymentError("QUERY answered about another transaction")
        if code == NOT_FOUND:
            return QueryResult(reference, False, None, False, "", None, None, data, response_code=code)
        outcome = {SUCCESS: PaymentOutcome.SUCCEEDED, NOT_COMPLETED: PaymentOutcome.PENDING}.get(
            code, PaymentOutcome.FAILED)
        paid = outcome == PaymentOutcome.SUCCEEDED
        return QueryResult(
            reference=reference, found=True, amount=_amount(data.get("SoTien", "")), succeeded=paid, status=code,
            provider_txn_id=data.get("MaGiaoDich") or None,
            paid_at=parse_time(data.get("ThoiGianGD", "")) if paid else None, raw=data, outcome=outcome,
            response_code=code)

    def refund(self, reference: str, amount: int, full: bool, requested_by: str, *,
               provider_txn_id: str | None = None, transaction_date: datetime | None = None) -> RefundResult:
        """PayGov has no refund message: refused, so the app restores the payment and finance
        refunds by hand (docs/payments.md)."""
        check_amount(amount)
        raise ProviderRejected("REFUND_UNSUPPORTED", "PayGov has no refund message; refund by hand")

    # -- HTTP -----------------------------------------------------------------------------

    def _post(self, url: str, body: Mapping[str, Any]) -> dict[str, Any]:
        headers = {"Content-Type": "application/json; charset=utf-8"}
        if self._token:
            headers["Authorization"] = f"Bearer {self._token}"
        try:
            resp = self._session.post(url, data=json.dumps(body, ensure_ascii=False).encode("utf-8"),
                                      headers=headers, timeout=self._timeout)
        except requests.RequestException as exc:
            raise ProviderUnavailable(f"PayGov {body.get('LoaiBanTin')}: {type(exc).__name__}") from exc
        if resp.status_code >= 500 or resp.status_code == 429:
            raise ProviderUnavailable(f"PayGov answered HTTP {resp.status_code}")
        if resp.status_code in (401, 403):
            raise PaymentError(f"PayGov refused the access token (HTTP {resp.status_code}): a configuration error")
        if resp.status_code != 200:
            raise PaymentError(f"PayGov answered HTTP {resp.status_code}")
        try:
            data = resp.json()
        except ValueError as exc:
            raise ProviderUnavailable("PayGov answered with a body that is not JSON") from exc
        if not isinstance(data, dict):
            raise PaymentError("PayGov answered with JSON that is not an object")
        return data
