"""VNPay payment gateway, API 2.1.0 (pay URL, IPN, return URL, querydr, refund).

Everything VNPay-specific lives in this module: the x100 amount scaling, GMT+7 timestamps,
the form-encoded HMAC-SHA512 checksum of the pay URL and IPN, and the ``|``-joined checksums
of the merchant web API. The signing helpers at the top are pure functions so they can be
tested against independent implementations (see tests/payments/vectors/).
"""
from __future__ import annotations

import hashlib
import hmac
import ipaddress
import re
import time
import unicodedata
import uuid
from datetime import datetime, UTC
from types import MappingProxyType
from typing import Any
from collections.abc import Callable, Iterable, Mapping, Sequence
from urllib.parse import quote_plus, unquote_plus

import requests
from urllib3.exceptions import ConnectTimeoutError

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
    RefundInProgress,
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
    "API_PATH",
    "FAILED_STATUSES",
    "GMT7",
    "IPN_REPLIES",
    "PAID_STATUSES",
    "PAY_PATH",
    "QUERYDR_REQUEST_FIELDS",
    "QUERYDR_RESPONSE_FIELDS",
    "REFUND_REQUEST_FIELDS",
    "REFUND_RESPONSE_FIELDS",
    "SETTLEMENT_LAYOUT",
    "VNP_VERSION",
    "VNPayProvider",
    "canonical_query",
    "clean_order_info",
    "fields_checksum",
    "format_vnp_date",
    "make_txn_ref",
    "params_from_multi_value",
    "params_from_query_string",
    "parse_vnp_date",
    "pipe_checksum",
    "secure_hash",
    "sign_params",
    "verify_params",
]

VNP_VERSION = "2.1.0"
# Vietnam has had no DST since 1975 and VNPay specifies "GMT+7", so a fixed offset is exact
# and needs no tz database on the Lambda.
PAY_PATH = "/paymentv2/vpcpay.html"
API_PATH = "/merchant_webapi/api/transaction"

SECURE_HASH = "vnp_SecureHash"
SECURE_HASH_TYPE = "vnp_SecureHashType"

# Field orders of the merchant web API checksums (domain primer section 7).
QUERYDR_REQUEST_FIELDS = (
    "vnp_RequestId", "vnp_Version", "vnp_Command", "vnp_TmnCode", "vnp_TxnRef",
    "vnp_TransactionDate", "vnp_CreateDate", "vnp_IpAddr", "vnp_OrderInfo",
)
REFUND_REQUEST_FIELDS = (
    "vnp_RequestId", "vnp_Version", "vnp_Command", "vnp_TmnCode", "vnp_TransactionType",
    "vnp_TxnRef", "vnp_Amount", "vnp_TransactionNo", "vnp_TransactionDate", "vnp_CreateBy",
    "vnp_CreateDate", "vnp_IpAddr", "vnp_OrderInfo",
)
QUERYDR_RESPONSE_FIELDS = (
    "vnp_ResponseId", "vnp_Command", "vnp_ResponseCode", "vnp_Message", "vnp_TmnCode",
    "vnp_TxnRef", "vnp_Amount", "vnp_BankCode", "vnp_PayDate", "vnp_TransactionNo",
    "vnp_TransactionType", "vnp_TransactionStatus", "vnp_OrderInfo", "vnp_PromotionCode",
    "vnp_PromotionAmount",
)
REFUND_RESPONSE_FIELDS = QUERYDR_RESPONSE_FIELDS[:-2]

# The exact IPN replies VNPay expects ({"RspCode", "Message"}), for each outcome the app reports.
IPN_REPLIES: dict[CallbackOutcome, tuple[str, str]] = {
    CallbackOutcome.ACCEPTED: ("00", "Confirm Success"),
    CallbackOutcome.UNKNOWN_PAYMENT: ("01", "Order not found"),
    CallbackOutcome.ALREADY_RECORDED: ("02", "Order already confirmed"),
    CallbackOutcome.AMOUNT_MISMATCH: ("04", "invalid amount"),
    CallbackOutcome.BAD_SIGNATURE: ("97", "Invalid signature"),
    CallbackOutcome.ERROR: ("99", "Unknown error"),  # VNPay sends the IPN again
}
# querydr vnp_TransactionStatus -> what it says about the payment itself.
# Refund answer 94: "Giao dịch đã được gửi yêu cầu hoàn tiền trước đó. Yêu cầu này VNPAY đang
# xử lý" (a refund of this transaction was requested before and VNPay is processing it): no
# refusal, the outcome is learnt from querydr (RefundInProgress).
REFUND_IN_PROGRESS = "94"
REFUND_PROCESSING_STATUS = "05"   # querydr vnp_TransactionStatus: VNPay is processing a refund
PAID_STATUSES = frozenset({"00", "05", "06", "09"})  # paid (05/06/09: paid, then a refund was asked)
FAILED_STATUSES = frozenset({"02", "04"})            # error, reversed
# VNPay publishes no settlement file format; by default one reads like its API: vnp_* columns,
# amounts x100, status 00 for paid. A deployment's layout file overrides any of it.
SETTLEMENT_LAYOUT: Mapping[str, Any] = MappingProxyType({
    "reference": "vnp_TxnRef", "amount": "vnp_Amount", "status": "vnp_TransactionStatus",
    "provider_txn_id": "vnp_TransactionNo", "amount_scale": 100, "success_values": ["00"],
})

ORDER_INFO_MAX = 255
TXN_REF_MAX = 100
_ORDER_INFO_DISALLOWED = re.compile(r"[^A-Za-z0-9 _.:-]")
_TXN_REF_RE = re.compile(r"[A-Za-z0-9_-]{1,%d}" % TXN_REF_MAX)
_PREFIX_RE = re.compile(r"[A-Za-z0-9]{0,20}")
_DIGITS_RE = re.compile(r"[0-9]{1,20}")
_BAD_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")
_RAW_QS_OK = re.compile(r"[\x21-\x7e]*")  # printable ASCII, no spaces or controls
# Characters whose form-encoding differs between VNPay's reference implementations
# (PHP urlencode / Python quote_plus / Java URLEncoder / WHATWG URLSearchParams): '~' and '*'.
# A value containing them may hash differently on VNPay's side, so we never send one.
_AMBIGUOUS_ENCODING = re.compile(r"[~*]")


# --------------------------------------------------------------------------------------------
# Pure signing functions
# --------------------------------------------------------------------------------------------

def _hashed_items(params: Mapping[str, str], include_empty: bool) -> list[tuple[str, str]]:
    items = []
    for key, value in params.items():
        if not key.startswith("vnp_") or key in (SECURE_HASH, SECURE_HASH_TYPE):
            continue
        if not isinstance(value, str):
            raise TypeError(f"{key} must be a str, got {type(value).__name__}")
        if value == "" and not include_empty:
            continue
        items.append((key, value))
    items.sort(key=lambda kv: kv[0])
    return items


def canonical_query(params: Mapping[str, str], *, include_empty: bool = True) -> str:
    """The string VNPay hashes: vnp_* params minus the hash fields, sorted by key,
    each key and value ``quote_plus``-encoded (UTF-8, space -> '+'), joined ``k=v`` with '&'.

    ``include_empty=False`` drops empty values, as VNPay's Java sample and the npm ``vnpay``
    package do; the PHP and Python samples keep them. We never *send* empty values, so both
    conventions agree on what we sign; :func:`verify_params` accepts either.
    """
    return "&".join(
        f"{quote_plus(k, encoding='utf-8')}={quote_plus(v, encoding='utf-8')}"
        for k, v in _hashed_items(params, include_empty)
    )


def secure_hash(secret: str, data: str) -> str:
    """Lowercase hex HMAC-SHA512 of ``data`` (UTF-8) keyed with ``secret`` (UTF-8)."""
    return hmac.new(secret.encode("utf-8"), data.encode("utf-8"), hashlib.sha512).hexdigest()


def sign_params(params: Mapping[str, str], secret: str) -> dict[str, str]:
    """Copy of ``params`` without any vnp_SecureHashType (not sent in 2.1.0), plus vnp_SecureHash."""
    out = {k: v for k, v in params.items() if k not in (SECURE_HASH, SECURE_HASH_TYPE)}
    out[SECURE_HASH] = secure_hash(secret, canonical_query(out))
    return out


def _digest_equal(expected_hex: str, received: str) -> bool:
    # compare_digest on str refuses non-ASCII (TypeError); compare bytes instead.
    return hmac.compare_digest(
        expected_hex.encode("ascii"), received.lower().encode("utf-8", "surrogatepass")
    )


def verify_params(params: Mapping[str, str], secret: str) -> bool:
    """True if ``params[vnp_SecureHash]`` matches. Values are hashed exactly as received
    (``vnp_Amount`` is not normalised). The hex digest is compared in constant time and
    case-insensitively. Garbage input returns False rather than raising."""
    received = params.get(SECURE_HASH)
    if not isinstance(received, str) or not received:
        return False
    try:
        if _digest_equal(secure_hash(secret, canonical_query(params)), received):
            return True
        if any(v == "" for k, v in params.items() if k.startswith("vnp_") and k not in (SECURE_HASH, SECURE_HASH_TYPE)):
            return _digest_equal(secure_hash(secret, canonical_query(params, include_empty=False)), received)
    except (TypeError, UnicodeError):
        return False
    return False


def pipe_checksum(secret: str, fields: Sequence[str]) -> str:
    """HMAC-SHA512 (lowercase hex) over ``fields`` joined with '|' (querydr / refund API)."""
    return secure_hash(secret, "|".join(fields))


def _s(value: Any) -> str:
    return "" if value is None else str(value)


def fields_checksum(secret: str, body: Mapping[str, Any], order: Iterable[str]) -> str:
    """:func:`pipe_checksum` over ``body[k]`` for ``k`` in ``order``; a missing field counts as ''."""
    return pipe_checksum(secret, [_s(body.get(k)) for k in order])


# --------------------------------------------------------------------------------------------
# Field helpers
# --------------------------------------------------------------------------------------------

def clean_order_info(text: str, max_len: int = ORDER_INFO_MAX) -> str:
    """ASCII order info as VNPay wants it: no diacritics, no special characters, <= 255 chars.

    Vietnamese letters lose their marks (NFKD), 'đ'/'Đ' become 'd'/'D' (they do not decompose),
    every character outside ``[A-Za-z0-9 _.:-]`` becomes a space, runs of whitespace collapse.
    The kept punctuation is unreserved (or, for ':', encoded identically) in every form-encoder
    VNPay's samples use, so the checksum cannot depend on the encoder.
    """
    if not isinstance(text, str):
        raise ValueError("order info must be a str")
    text = text.replace("đ", "d").replace("Đ", "D")
    text = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    text = _ORDER_INFO_DISALLOWED.sub(" ", text)
    text = " ".join(text.split())
    return text[:max_len].rstrip()


format_vnp_date = format_gateway_time


def parse_vnp_date(value: str) -> datetime:
    """VNPay's ``yyyyMMddHHmmss`` (GMT+7) as an aware UTC datetime; PaymentError if garbage."""
    return parse_gateway_time(value, "VNPay")


def make_txn_ref(prefix: str, now: datetime) -> str:
    """A vnp_TxnRef unique per day: ``{prefix}{yyMMdd in GMT+7}{16 random hex, upper}``.

    Alphanumeric only (safe in every encoder), at most 42 characters. 64 random bits make a
    same-day collision negligible; VNPay only requires uniqueness within a day.
    """
    if not isinstance(prefix, str) or not _PREFIX_RE.fullmatch(prefix):
        raise ValueError("prefix must be 0-20 ASCII letters or digits")
    check_aware(now, "now")
    return f"{prefix}{now.astimezone(GMT7):%y%m%d}{uuid.uuid4().hex[:16].upper()}"


def _decode_component(raw: str) -> str:
    if _BAD_PERCENT.search(raw):
        raise PaymentError("invalid percent-encoding in query string")
    try:
        return unquote_plus(raw, encoding="utf-8", errors="strict")
    except UnicodeDecodeError as exc:
        raise PaymentError("query string is not valid UTF-8") from exc


def params_from_query_string(qs: str | bytes) -> dict[str, str]:
    """Parse a raw query string strictly: SignatureError on a duplicated ``vnp_*`` key (a
    parameter-pollution attempt: which copy was signed? Taking the first or the last would
    let two parsers on the path, a proxy's and ours, disagree about what was paid, so the
    checksum counts as failed: IPN 97), PaymentError on malformed percent-escapes, on
    invalid UTF-8 and on raw characters that can't appear in a URL. For other keys the first
    occurrence wins."""
    if isinstance(qs, bytes):
        try:
            qs = qs.decode("ascii")
        except UnicodeDecodeError as exc:
            raise PaymentError("query string must be ASCII") from exc
    if not isinstance(qs, str):
        raise PaymentError("query string must be a str")
    if qs.startswith("?"):
        qs = qs[1:]
    if not _RAW_QS_OK.fullmatch(qs):
        raise PaymentError("query string contains characters that are not URL-safe")
    out: dict[str, str] = {}
    for part in qs.split("&"):
        if not part:
            continue
        raw_key, _, raw_value = part.partition("=")
        key = _decode_component(raw_key)
        value = _decode_component(raw_value)
        if key in out:
            if key.startswith("vnp_"):
                raise SignatureError(f"duplicated parameter {key}")
            continue
        out[key] = value
    return out


def params_from_multi_value(params: Mapping[str, Sequence[str] | str]) -> dict[str, str]:
    """Same rule for an already-decoded multi-value mapping (API Gateway's
    ``multiValueQueryStringParameters``, a Chalice MultiDict's lists)."""
    out: dict[str, str] = {}
    for key, values in params.items():
        if isinstance(values, str):
            values = [values]
        values = list(values or [])
        if not values:
            continue
        if key.startswith("vnp_") and len(values) > 1:
            raise SignatureError(f"duplicated parameter {key}")
        if not isinstance(values[0], str):
            raise PaymentError(f"{key} must be a string")
        out[key] = values[0]
    return out


def _as_str_params(params: CallbackParams) -> dict[str, str]:
    """Plain string values as they are; a repeated key (a list of values) by the rule of
    :func:`params_from_multi_value`, so the app can hand over the request's parameters raw."""
    if not isinstance(params, Mapping):
        raise PaymentError("parameters must be a mapping")
    repeated = {k: v for k, v in params.items() if isinstance(v, (list, tuple))}
    out = params_from_multi_value(repeated)
    for k, v in params.items():
        if k in repeated:
            continue
        if not isinstance(k, str) or not isinstance(v, str):
            raise PaymentError(f"parameter {k!r} must be a string")
        out[k] = v
    return out


def _query_outcome(status: str) -> PaymentOutcome:
    if status in PAID_STATUSES:
        return PaymentOutcome.SUCCEEDED
    return PaymentOutcome.FAILED if status in FAILED_STATUSES else PaymentOutcome.PENDING


def _amount_from_vnp(value: Any, field_name: str = "vnp_Amount") -> int:
    """VNPay x100 amount (str or int as received) -> int VND; PaymentError if garbage."""
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise PaymentError(f"{field_name} missing or not a number")
    text = str(value)
    if not _DIGITS_RE.fullmatch(text):  # int() would accept '+5', ' 5', '5_0', other scripts' digits
        raise PaymentError(f"{field_name} is not a non-negative integer: {text!r}")
    scaled = int(text)
    if scaled % 100:
        raise PaymentError(f"{field_name} {text} is not a whole number of VND")
    return scaled // 100


def _txn_no(value: str | None) -> str | None:
    # VNPay sends vnp_TransactionNo=0 for transactions that never reached a bank (e.g. cancelled).
    return None if value in (None, "", "0") else value


def _is_connect_failure(exc: BaseException) -> bool:
    """True only when the request cannot have reached the server: connection refused, DNS
    failure, connect timeout. A read timeout or a connection dropped mid-answer is not one."""
    if isinstance(exc, requests.ConnectTimeout):
        return True
    if isinstance(exc, requests.ConnectionError) and not isinstance(exc, requests.exceptions.SSLError):
        reason = exc.args[0] if exc.args else None
        reason = getattr(reason, "reason", reason)  # urllib3 MaxRetryError wraps the cause
        return isinstance(reason, ConnectTimeoutError)  # includes NewConnectionError, NameResolutionError
    return False


def _utcnow() -> datetime:
    return datetime.now(UTC)


# --------------------------------------------------------------------------------------------
# Provider
# --------------------------------------------------------------------------------------------

class VNPayProvider:
    """VNPay API 2.1.0.

    ``host`` is the gateway root (sandbox: https://sandbox.vnpayment.vn). Production serves the
    pay page and the merchant API from different hosts/paths, so ``pay_url`` and ``api_url``
    override ``{host}/paymentv2/vpcpay.html`` and ``{host}/merchant_webapi/api/transaction``.
    ``server_ip`` is sent as vnp_IpAddr on querydr/refund (the caller's server, not a citizen).
    """

    name = "vnpay"
    settlement_layout = SETTLEMENT_LAYOUT

    def __init__(
        self,
        tmn_code: str,
        hash_secret: str,
        host: str,
        *,
        session: requests.Session | None = None,
        timeout: float | tuple[float, float] = (3.05, 10),
        retries: int = 2,
        clock: Callable[[], datetime] | None = None,
        order_type: str = "other",
        locale: str = "vn",
        pay_url: str | None = None,
        api_url: str | None = None,
        server_ip: str = "127.0.0.1",
        retry_backoff: float = 0.2,
    ) -> None:
        if not tmn_code or not hash_secret:
            raise ValueError("tmn_code and hash_secret are required")
        if retries < 0:
            raise ValueError("retries must be >= 0")
        self.tmn_code = tmn_code
        self._secret = hash_secret
        host = host.rstrip("/")
        self.pay_url = pay_url or f"{host}{PAY_PATH}"
        self.api_url = api_url or f"{host}{API_PATH}"
        self._session = session or requests.Session()
        self._timeout = timeout
        self._retries = retries
        self._retry_backoff = retry_backoff
        self._clock = clock or _utcnow
        self.order_type = order_type
        self.locale = locale
        self.server_ip = server_ip

    def __repr__(self) -> str:  # never print the secret
        return f"VNPayProvider(tmn_code={self.tmn_code!r}, pay_url={self.pay_url!r}, api_url={self.api_url!r})"

    def _now(self) -> datetime:
        return check_aware(self._clock(), "clock()")

    # -- pay URL --------------------------------------------------------------------------

    def create_payment(
        self,
        amount: int,
        currency: str,
        reference: str,
        description: str,
        return_url: str,
        client_ip: str,
        expires_at: datetime,
    ) -> PaymentSession:
        check_amount(amount)
        if currency != "VND":
            raise ValueError(f"VNPay only takes VND, got {currency!r}")
        if not isinstance(reference, str) or not _TXN_REF_RE.fullmatch(reference):
            raise ValueError("reference must be 1-100 characters of [A-Za-z0-9_-]")
        if not isinstance(return_url, str) or not re.fullmatch(r"https?://[\x21-\x7e]+", return_url):
            raise ValueError("return_url must be an absolute http(s) URL of printable ASCII")
        if _AMBIGUOUS_ENCODING.search(return_url):
            raise ValueError("return_url must not contain '~' or '*' (VNPay's encoders disagree on them)")
        try:
            ipaddress.ip_address(client_ip)
        except ValueError:
            raise ValueError(f"client_ip is not an IP address: {client_ip!r}") from None
        check_aware(expires_at, "expires_at")
        now = self._now().replace(microsecond=0)  # VNPay dates have whole seconds
        if expires_at <= now:
            raise ValueError("expires_at must be in the future")

        order_info = clean_order_info(description) or f"Thanh toan {reference}"
        params = {
            "vnp_Version": VNP_VERSION,
            "vnp_Command": "pay",
            "vnp_TmnCode": self.tmn_code,
            "vnp_Amount": str(amount * 100),
            "vnp_CurrCode": "VND",
            "vnp_TxnRef": reference,
            "vnp_OrderInfo": order_info,
            "vnp_OrderType": self.order_type,
            "vnp_Locale": self.locale,
            "vnp_ReturnUrl": return_url,
            "vnp_IpAddr": client_ip,
            "vnp_CreateDate": format_vnp_date(now),
            "vnp_ExpireDate": format_vnp_date(expires_at),
        }
        query = canonical_query(params)
        url = f"{self.pay_url}?{query}&{SECURE_HASH}={secure_hash(self._secret, query)}"
        return PaymentSession(id=reference, redirect_url=url, expires_at=expires_at, created_at=now)

    # -- IPN and return URL ---------------------------------------------------------------

    def _verified(self, params: CallbackParams) -> dict[str, str]:
        data = _as_str_params(params)
        if not data.get(SECURE_HASH):
            raise SignatureError("vnp_SecureHash missing")
        if not verify_params(data, self._secret):
            raise SignatureError("vnp_SecureHash does not match")
        tmn = data.get("vnp_TmnCode")
        if tmn is not None and tmn != self.tmn_code:
            raise PaymentError(f"vnp_TmnCode {tmn!r} is not ours")
        return data

    @staticmethod
    def _required(data: Mapping[str, str], *keys: str) -> None:
        missing = [k for k in keys if not data.get(k)]
        if missing:
            raise PaymentError(f"missing parameters: {', '.join(missing)}")

    def parse_notification(self, params: CallbackParams) -> Notification:
        data = self._verified(params)
        self._required(data, "vnp_TxnRef", "vnp_Amount", "vnp_ResponseCode", "vnp_TransactionStatus")
        amount = _amount_from_vnp(data["vnp_Amount"])
        succeeded = data["vnp_ResponseCode"] == "00" and data["vnp_TransactionStatus"] == "00"
        paid_at = None
        if succeeded:
            self._required(data, "vnp_PayDate")
            paid_at = parse_vnp_date(data["vnp_PayDate"])
        return Notification(
            reference=data["vnp_TxnRef"],
            provider_txn_id=_txn_no(data.get("vnp_TransactionNo")),
            amount=amount,
            succeeded=succeeded,
            response_code=data["vnp_ResponseCode"],
            transaction_status=data["vnp_TransactionStatus"],
            paid_at=paid_at,
            raw=data,
        )

    def verify_return(self, params: CallbackParams) -> ReturnResult:
        data = self._verified(params)
        self._required(data, "vnp_TxnRef", "vnp_Amount", "vnp_ResponseCode")
        return ReturnResult(
            reference=data["vnp_TxnRef"],
            amount=_amount_from_vnp(data["vnp_Amount"]),
            succeeded=data["vnp_ResponseCode"] == "00" and data.get("vnp_TransactionStatus") == "00",
            response_code=data["vnp_ResponseCode"],
            raw=data,
        )

    def callback_reply(self, outcome: CallbackOutcome) -> CallbackReply:
        """The IPN answer VNPay expects: always HTTP 200 with its RspCode and Message."""
        code, message = IPN_REPLIES[outcome]
        return CallbackReply({"RspCode": code, "Message": message})

    # -- merchant web API -----------------------------------------------------------------

    def _post(self, body: dict[str, str]) -> dict[str, Any]:
        attempt = 0
        while True:
            attempt += 1
            try:
                resp = self._session.post(self.api_url, json=body, timeout=self._timeout)
                break
            except requests.RequestException as exc:
                if _is_connect_failure(exc) and attempt <= self._retries:
                    time.sleep(self._retry_backoff * attempt)
                    continue
                raise ProviderUnavailable(f"VNPay {body.get('vnp_Command')}: {type(exc).__name__}: {exc}") from exc
        if resp.status_code >= 500 or resp.status_code == 429:
            raise ProviderUnavailable(f"VNPay answered HTTP {resp.status_code}")
        if resp.status_code != 200:
            raise PaymentError(f"VNPay answered HTTP {resp.status_code}")
        try:
            data = resp.json()
        except ValueError as exc:  # e.g. an HTML maintenance page
            raise ProviderUnavailable("VNPay answered with a body that is not JSON") from exc
        if not isinstance(data, dict):
            raise PaymentError("VNPay answered with JSON that is not an object")
        return data

    def _check_response(self, data: Mapping[str, Any], order: Sequence[str], trusted_codes: set[str]) -> str:
        """Return the response code after verifying the response checksum.

        A code we act on (``trusted_codes``: success, not-found) must carry a valid checksum.
        An error code without any checksum is still an error; a wrong checksum never passes.
        """
        code = _s(data.get("vnp_ResponseCode"))
        received = data.get(SECURE_HASH)
        if received:
            if not isinstance(received, str) or not _digest_equal(fields_checksum(self._secret, data, order), received):
                raise SignatureError(f"VNPay {data.get('vnp_Command') or 'API'} response checksum does not match")
        elif code in trusted_codes:
            raise SignatureError("VNPay response has no vnp_SecureHash")
        return code

    def _api_body(self, command: str, reference: str, order_info: str) -> dict[str, str]:
        return {
            "vnp_RequestId": uuid.uuid4().hex,  # 32 chars, unique per request
            "vnp_Version": VNP_VERSION,
            "vnp_Command": command,
            "vnp_TmnCode": self.tmn_code,
            "vnp_TxnRef": reference,
            "vnp_OrderInfo": clean_order_info(order_info),
            "vnp_CreateDate": format_vnp_date(self._now()),
            "vnp_IpAddr": self.server_ip,
        }

    def query(self, reference: str, created_at: datetime) -> QueryResult:
        """querydr. ``created_at`` is the pay URL's vnp_CreateDate: ``PaymentSession.created_at``."""
        check_aware(created_at, "created_at")
        body = self._api_body("querydr", reference, f"Truy van giao dich {reference}")
        body["vnp_TransactionDate"] = format_vnp_date(created_at)
        body[SECURE_HASH] = fields_checksum(self._secret, body, QUERYDR_REQUEST_FIELDS)
        data = self._post(body)
        code = self._check_response(data, QUERYDR_RESPONSE_FIELDS, {"00", "91"})
        if code == "91":
            return QueryResult(reference, False, None, False, "", None, None, dict(data), response_code=code)
        if code != "00":
            raise ProviderRejected(code, _s(data.get("vnp_Message")))
        if _s(data.get("vnp_TxnRef")) != reference:
            raise PaymentError("querydr answered about another transaction")
        status = _s(data.get("vnp_TransactionStatus"))
        succeeded = status == "00"
        paid_at = parse_vnp_date(_s(data.get("vnp_PayDate"))) if succeeded else None
        return QueryResult(
            reference=reference,
            found=True,
            amount=_amount_from_vnp(data.get("vnp_Amount")),
            succeeded=succeeded,
            status=status,
            provider_txn_id=_txn_no(_s(data.get("vnp_TransactionNo"))),
            paid_at=paid_at,
            raw=dict(data),
            outcome=_query_outcome(status),
            response_code=code,
            refund_processing=status == REFUND_PROCESSING_STATUS,
        )

    def refund(
        self,
        reference: str,
        amount: int,
        full: bool,
        requested_by: str,
        *,
        provider_txn_id: str | None = None,
        transaction_date: datetime | None = None,
    ) -> RefundResult:
        """Refund ``amount`` VND (``full``: TransactionType 02, else 03 partial).

        VNPay locates the payment by TxnRef and its create date, so ``transaction_date`` (the
        payment's vnp_CreateDate, ``PaymentSession.created_at``) is required.
        ``provider_txn_id`` (vnp_TransactionNo) is optional; when absent it is not sent and
        counts as '' in the checksum.
        """
        check_amount(amount)
        if transaction_date is None:
            raise ValueError("VNPay refunds need transaction_date (the payment's create date)")
        check_aware(transaction_date, "transaction_date")
        if not isinstance(requested_by, str) or not requested_by.strip():
            raise ValueError("requested_by is required (vnp_CreateBy)")
        body = self._api_body("refund", reference, f"Hoan tien giao dich {reference}")
        body.update({
            "vnp_TransactionType": "02" if full else "03",
            "vnp_Amount": str(amount * 100),
            "vnp_TransactionDate": format_vnp_date(transaction_date),
            "vnp_CreateBy": requested_by.strip(),
        })
        if provider_txn_id:
            body["vnp_TransactionNo"] = provider_txn_id
        body[SECURE_HASH] = fields_checksum(self._secret, body, REFUND_REQUEST_FIELDS)
        data = self._post(body)
        code = self._check_response(data, REFUND_RESPONSE_FIELDS, {"00", REFUND_IN_PROGRESS})
        if code == REFUND_IN_PROGRESS:
            raise RefundInProgress(code, _s(data.get("vnp_Message")))
        if code != "00":
            raise ProviderRejected(code, _s(data.get("vnp_Message")))
        if _s(data.get("vnp_TxnRef")) != reference:
            raise PaymentError("refund answered about another transaction")
        status = _s(data.get("vnp_TransactionStatus"))
        answered = data.get("vnp_Amount")
        return RefundResult(
            reference=reference,
            accepted=True,
            pending=status in ("05", "06"),
            amount=_amount_from_vnp(answered) if answered not in (None, "") else amount,
            provider_txn_id=_txn_no(_s(data.get("vnp_TransactionNo"))),
            response_code=code,
            raw=dict(data),
        )
