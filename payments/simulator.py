"""A loopback VNPay (API 2.1.0) simulator for tests and local runs. Not a real gateway.

In tests::

    sim = VNPaySimulator("MOTCUA01", "LOCALSIMULATORSECRETNOTREAL",
                         ipn_url="http://127.0.0.1:8000/payments/vnpay/ipn", port=0,
                         retry_delays=(0.05,))
    sim.start()
    provider = VNPayProvider(sim.tmn_code, sim.hash_secret, sim.base_url)
    ...  # open the pay URL (requests.get), then sim.pay(reference, "success")
    sim.stop()

Standalone::

    python -m payments.simulator --port 8089 --ipn-url http://127.0.0.1:8000/payments/vnpay/ipn

What it does:

* ``GET /paymentv2/vpcpay.html`` verifies the pay URL (TmnCode, checksum, version, amount,
  currency, order info, dates, expiry) and shows a small Vietnamese checkout page with three
  buttons: "Thanh toán" (pay), "Hủy" (cancel, response code 24) and "Thanh toán nhưng mất IPN"
  (paid, but the IPN is never delivered, so only querydr knows). Errors are a 400 HTML page.
* A button records the transaction, sends the signed IPN (server-to-server GET) in a
  background thread, retrying like VNPay while the reply is not RspCode 00/02 (or times out),
  at most ``max_ipn_attempts`` times with ``retry_delays`` between tries (VNPay: 10 times, 5
  minutes apart; here compressed), then 302-redirects the browser to vnp_ReturnUrl.
* ``POST /merchant_webapi/api/transaction`` answers querydr and refund from its records with
  signed responses: 02 wrong TmnCode, 03 bad data, 97 bad checksum, 94 duplicate request id,
  91 unknown transaction, 95 refund of an unsuccessful payment, 94 refund while another is
  still processing (status 05), 99 refund beyond the paid amount. A refund is 05 (processing)
  and becomes 06 (sent to the bank) after ``refund_settle_seconds`` or ``settle_refunds()``.

It is stricter than VNPay in two places on purpose, to catch regressions in our client:
vnp_SecureHashType and non-ASCII vnp_OrderInfo are refused. The pay-page error codes (70 bad
checksum, 71 unknown TmnCode, 03 bad data, 11 expired, 01 duplicate) are modelled on VNPay's
error page, not taken from a specification.
"""
from __future__ import annotations

import argparse
import dataclasses
import html
import json
import logging
import os
import re
import threading
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass, field
from datetime import datetime, UTC
from http.server import BaseHTTPRequestHandler
from typing import Any
from collections.abc import Callable, Sequence

from .base import PaymentError
from .loopback_gateway import LoopbackGateway
from .vnpay import (
    API_PATH,
    GMT7,
    PAY_PATH,
    QUERYDR_REQUEST_FIELDS,
    QUERYDR_RESPONSE_FIELDS,
    REFUND_REQUEST_FIELDS,
    REFUND_RESPONSE_FIELDS,
    SECURE_HASH,
    SECURE_HASH_TYPE,
    VNP_VERSION,
    canonical_query,
    fields_checksum,
    format_vnp_date,
    params_from_query_string,
    parse_vnp_date,
    sign_params,
    verify_params,
)

__all__ = ["IpnAttempt", "SimRefund", "SimTransaction", "VNPaySimulator", "main"]

log = logging.getLogger("payments.simulator")

DEFAULT_TMN_CODE = "MOTCUA01"
DEFAULT_HASH_SECRET = "LOCALSIMULATORSECRETNOTREAL"
DEFAULT_RETRY_DELAYS: tuple[float, ...] = (5.0,)  # VNPay's 5 minutes, compressed 60x
CONFIRM_PATH = "/paymentv2/sim/confirm"
OUTCOMES = {  # outcome -> (vnp_ResponseCode, vnp_TransactionStatus, deliver IPN)
    "success": ("00", "00", True),
    "cancel": ("24", "02", True),
    "lose_ipn": ("00", "00", False),
}
MAX_BODY = 64 * 1024
_TXN_REF_RE = re.compile(r"[A-Za-z0-9_-]{1,100}")
_PRINTABLE_ASCII = re.compile(r"[\x20-\x7e]{1,255}")


@dataclass
class IpnAttempt:
    attempt: int
    url: str
    at: datetime
    status: int | None  # HTTP status, None if no answer
    body: str
    rsp_code: str | None  # RspCode of the JSON reply, if any
    error: str | None  # timeout / connection error


@dataclass
class SimRefund:
    request_id: str
    transaction_no: str
    transaction_type: str  # 02 full, 03 partial
    amount: int  # VND
    created_by: str
    created_at: float  # time.monotonic()
    status: str = "05"  # 05 processing -> 06 sent to the bank


@dataclass
class SimTransaction:
    txn_ref: str
    amount: int  # VND
    vnp_amount: str  # exactly as received
    order_info: str
    create_date: str  # vnp_CreateDate as received (GMT+7)
    expire_date: str
    return_url: str
    ip_addr: str
    locale: str
    checkout_id: str
    outcome: str | None = None
    bank_code: str = ""
    bank_tran_no: str = ""
    card_type: str = ""
    transaction_no: str = "0"
    pay_date: str = ""
    response_code: str = ""
    transaction_status: str = "01"  # not completed until a button is pressed
    refunds: list[SimRefund] = field(default_factory=list)
    ipn_attempts: list[IpnAttempt] = field(default_factory=list)
    ipn_done: threading.Event = field(default_factory=threading.Event, repr=False, compare=False)

    @property
    def refunded(self) -> int:
        return sum(r.amount for r in self.refunds)


class _PageError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class VNPaySimulator(LoopbackGateway):
    name = "vnpay-sim"

    def __init__(
        self,
        tmn_code: str = DEFAULT_TMN_CODE,
        hash_secret: str = DEFAULT_HASH_SECRET,
        *,
        ipn_url: str | None = None,
        port: int = 0,
        retry_delays: Sequence[float] = DEFAULT_RETRY_DELAYS,
        max_ipn_attempts: int = 10,
        ipn_timeout: float = 5.0,
        refund_settle_seconds: float | None = 2.0,
        merchant_name: str = "Cổng Dịch vụ công MotCua (mô phỏng)",
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        if not retry_delays:
            raise ValueError("retry_delays needs at least one delay")
        super().__init__(port)
        self.tmn_code = tmn_code
        self.hash_secret = hash_secret
        self.ipn_url = ipn_url
        self.retry_delays = tuple(float(d) for d in retry_delays)
        self.max_ipn_attempts = max_ipn_attempts
        self.ipn_timeout = ipn_timeout
        self.refund_settle_seconds = refund_settle_seconds
        self.merchant_name = merchant_name
        self._clock = clock or (lambda: datetime.now(UTC))
        self._txns: dict[str, SimTransaction] = {}
        self._checkouts: dict[str, str] = {}  # checkout id -> txn ref
        self._request_ids: set[str] = set()
        self._txn_counter = 14_000_000
        self._stall: list[float] = []
        self.api_requests: list[dict[str, Any]] = []

    def handler_class(self) -> type[BaseHTTPRequestHandler]:
        return _Handler

    @property
    def callback_timeout(self) -> float:
        return max(self.ipn_timeout, 1.0)

    # -- test hooks -------------------------------------------------------------------------

    def stall_next(self, seconds: float, n: int = 1) -> None:
        """Sleep ``seconds`` before answering the next ``n`` merchant-API calls (read timeouts)."""
        with self._lock:
            self._stall.extend([seconds] * n)

    def settle_refunds(self, reference: str | None = None) -> None:
        """Move refunds still processing (05) to sent-to-bank (06)."""
        with self._lock:
            for txn in self._txns.values():
                if reference is None or txn.txn_ref == reference:
                    for r in txn.refunds:
                        r.status = "06"

    @property
    def transactions(self) -> dict[str, SimTransaction]:
        """A snapshot of every transaction seen, by vnp_TxnRef."""
        with self._lock:
            self._settle_due()
            return {ref: self._snapshot(t) for ref, t in self._txns.items()}

    def ipn_attempts(self, reference: str) -> list[IpnAttempt]:
        with self._lock:
            txn = self._txns.get(reference)
            return list(txn.ipn_attempts) if txn else []

    def wait_for_ipn(self, reference: str, timeout: float = 10.0) -> list[IpnAttempt]:
        """Block until IPN delivery for ``reference`` has finished (or was never due)."""
        with self._lock:
            txn = self._txns.get(reference)
        if txn is None:
            raise KeyError(reference)
        if not txn.ipn_done.wait(timeout):
            raise TimeoutError(f"IPN delivery for {reference} still running after {timeout}s")
        return self.ipn_attempts(reference)

    def pay(self, reference: str, outcome: str = "success") -> str:
        """Press a button on the checkout page of ``reference`` without a browser.

        The pay URL must have been opened first (GET it with requests), exactly as a browser
        would. Returns the URL the browser would be redirected to (vnp_ReturnUrl + params).
        """
        with self._lock:
            txn = self._txns.get(reference)
            if txn is None:
                raise KeyError(f"no checkout for {reference!r}: GET the pay URL first")
            return self._complete(txn, outcome)

    # -- internals --------------------------------------------------------------------------

    @staticmethod
    def _snapshot(txn: SimTransaction) -> SimTransaction:
        return dataclasses.replace(
            txn,
            refunds=[dataclasses.replace(r) for r in txn.refunds],
            ipn_attempts=list(txn.ipn_attempts),
            ipn_done=txn.ipn_done,
        )

    def _settle_due(self) -> None:
        if self.refund_settle_seconds is None:
            return
        now = time.monotonic()
        for txn in self._txns.values():
            for r in txn.refunds:
                if r.status == "05" and now - r.created_at >= self.refund_settle_seconds:
                    r.status = "06"

    def _next_txn_no(self) -> str:
        self._txn_counter += 1
        return str(self._txn_counter)

    def _now_vnp(self) -> str:
        return format_vnp_date(self._clock())

    # pay page

    def _checkout(self, qs: str) -> SimTransaction:
        try:
            p = params_from_query_string(qs)
        except PaymentError as exc:
            raise _PageError("03", f"Dữ liệu gửi sang không đúng định dạng: {exc}") from None
        if p.get("vnp_TmnCode") != self.tmn_code:
            raise _PageError("71", "Website (vnp_TmnCode) chưa được đăng ký với cổng thanh toán")
        if not p.get(SECURE_HASH) or not verify_params(p, self.hash_secret):
            raise _PageError("70", "Sai chữ ký (vnp_SecureHash không hợp lệ)")
        if SECURE_HASH_TYPE in p:
            raise _PageError("03", "Phiên bản 2.1.0 không gửi vnp_SecureHashType")
        if p.get("vnp_Version") != VNP_VERSION or p.get("vnp_Command") != "pay":
            raise _PageError("03", "Sai phiên bản (vnp_Version) hoặc lệnh (vnp_Command)")
        amount = p.get("vnp_Amount", "")
        if not amount.isascii() or not amount.isdigit() or int(amount) <= 0 or int(amount) % 100:
            raise _PageError("03", "Số tiền (vnp_Amount) không hợp lệ: phải là số nguyên VND nhân 100")
        if p.get("vnp_CurrCode") != "VND":
            raise _PageError("03", "Loại tiền tệ (vnp_CurrCode) phải là VND")
        ref = p.get("vnp_TxnRef", "")
        if not _TXN_REF_RE.fullmatch(ref):
            raise _PageError("03", "Mã giao dịch (vnp_TxnRef) không hợp lệ")
        order_info = p.get("vnp_OrderInfo", "")
        if not _PRINTABLE_ASCII.fullmatch(order_info):
            raise _PageError("03", "Nội dung (vnp_OrderInfo) phải là tiếng Việt không dấu, tối đa 255 ký tự")
        # printable ASCII only: the URL becomes a Location header, where CR/LF would inject headers
        if not re.fullmatch(r"https?://[\x21-\x7e]+", p.get("vnp_ReturnUrl", "")):
            raise _PageError("03", "vnp_ReturnUrl không hợp lệ")
        if not p.get("vnp_IpAddr") or not p.get("vnp_OrderType") or p.get("vnp_Locale") not in ("vn", "en"):
            raise _PageError("03", "Thiếu vnp_IpAddr, vnp_OrderType hoặc vnp_Locale")
        try:
            created = parse_vnp_date(p.get("vnp_CreateDate", ""))
            expires = parse_vnp_date(p.get("vnp_ExpireDate", ""))
        except PaymentError:
            raise _PageError("03", "vnp_CreateDate / vnp_ExpireDate phải có dạng yyyyMMddHHmmss (GMT+7)") from None
        if expires <= created:
            raise _PageError("03", "vnp_ExpireDate phải sau vnp_CreateDate")
        if self._clock() >= expires:
            raise _PageError("11", "Giao dịch đã quá thời gian chờ thanh toán")
        with self._lock:
            existing = self._txns.get(ref)
            if existing is not None and existing.outcome is not None:
                raise _PageError("01", "Giao dịch đã tồn tại (vnp_TxnRef đã được thanh toán hoặc hủy)")
            if existing is not None and existing.create_date == p["vnp_CreateDate"] and existing.vnp_amount == amount:
                return existing  # the citizen reloaded the page
            if existing is not None:  # a new pay URL for a ref never completed: the old page is dead
                self._checkouts.pop(existing.checkout_id, None)
            checkout_id = uuid.uuid4().hex
            txn = SimTransaction(
                txn_ref=ref, amount=int(amount) // 100, vnp_amount=amount, order_info=order_info,
                create_date=p["vnp_CreateDate"], expire_date=p["vnp_ExpireDate"],
                return_url=p["vnp_ReturnUrl"], ip_addr=p["vnp_IpAddr"], locale=p["vnp_Locale"],
                checkout_id=checkout_id,
            )
            self._txns[ref] = txn
            self._checkouts[checkout_id] = ref
            return txn

    def _result_params(self, txn: SimTransaction) -> dict[str, str]:
        params = {
            "vnp_Amount": txn.vnp_amount,
            "vnp_BankCode": txn.bank_code,
            "vnp_CardType": txn.card_type,
            "vnp_OrderInfo": txn.order_info,
            "vnp_PayDate": txn.pay_date,
            "vnp_ResponseCode": txn.response_code,
            "vnp_TmnCode": self.tmn_code,
            "vnp_TransactionNo": txn.transaction_no,
            "vnp_TransactionStatus": txn.transaction_status,
            "vnp_TxnRef": txn.txn_ref,
        }
        if txn.bank_tran_no:
            params["vnp_BankTranNo"] = txn.bank_tran_no
        return sign_params(params, self.hash_secret)

    @staticmethod
    def _with_params(url: str, signed: dict[str, str]) -> str:
        query = canonical_query(signed) + f"&{SECURE_HASH}={signed[SECURE_HASH]}"
        return f"{url}{'&' if '?' in url else '?'}{query}"

    def _complete(self, txn: SimTransaction, outcome: str) -> str:
        if outcome not in OUTCOMES:
            raise ValueError(f"outcome must be one of {sorted(OUTCOMES)}")
        if txn.outcome is not None:
            raise ValueError(f"{txn.txn_ref} was already completed ({txn.outcome})")
        code, status, deliver = OUTCOMES[outcome]
        txn.outcome = outcome
        txn.response_code, txn.transaction_status = code, status
        txn.pay_date = self._now_vnp()
        txn.card_type = "ATM"
        if code == "00":
            txn.bank_code = "NCB"
            txn.transaction_no = self._next_txn_no()
            txn.bank_tran_no = f"VNP{txn.transaction_no}"
        else:
            txn.bank_code = "VNPAY"
            txn.transaction_no = "0"
        signed = self._result_params(txn)
        if deliver and self.ipn_url:
            ipn = self._with_params(self.ipn_url, signed)
            t = threading.Thread(target=self._deliver_ipn, args=(txn, ipn), name=f"ipn-{txn.txn_ref}", daemon=True)
            self._callbacks.append(t)
            t.start()
        else:
            txn.ipn_done.set()
        return self._with_params(txn.return_url, signed)

    def _deliver_ipn(self, txn: SimTransaction, url: str) -> None:
        try:
            for i in range(self.max_ipn_attempts):
                if self._stopping.is_set():
                    return
                attempt = self._ipn_once(i + 1, url)
                with self._lock:
                    txn.ipn_attempts.append(attempt)
                log.info("IPN %s attempt %d: %s", txn.txn_ref, i + 1, attempt.rsp_code or attempt.error or attempt.status)
                if attempt.rsp_code in ("00", "02"):
                    return
                if i + 1 < self.max_ipn_attempts:
                    delay = self.retry_delays[min(i, len(self.retry_delays) - 1)]
                    if self._stopping.wait(delay):
                        return
        finally:
            txn.ipn_done.set()

    def _ipn_once(self, n: int, url: str) -> IpnAttempt:
        at = datetime.now(UTC)
        req = urllib.request.Request(url, method="GET", headers={"User-Agent": "VNPAY-Simulator/1.0"})
        status: int | None = None
        body = ""
        error: str | None = None
        try:
            with self._opener.open(req, timeout=self.ipn_timeout) as resp:
                status = resp.status
                body = resp.read(MAX_BODY).decode("utf-8", "replace")
        except urllib.error.HTTPError as exc:  # 4xx/5xx still carry a body
            status = exc.code
            body = exc.read(MAX_BODY).decode("utf-8", "replace")
        except Exception as exc:  # timeouts, refused connections, resets
            error = f"{type(exc).__name__}: {exc}"
        rsp_code = None
        if body:
            try:
                reply = json.loads(body)
                if isinstance(reply, dict) and isinstance(reply.get("RspCode"), str):
                    rsp_code = reply["RspCode"]
            except ValueError:
                pass
        return IpnAttempt(n, url, at, status, body, rsp_code, error)

    # merchant web API

    def _api(self, raw: bytes) -> tuple[int, dict[str, Any] | None]:
        with self._lock:
            if self._fail_next > 0:
                self._fail_next -= 1
                return 503, None
            stall = self._stall.pop(0) if self._stall else 0.0
        if stall:
            time.sleep(stall)
        try:
            req = json.loads(raw.decode("utf-8"))
        except (ValueError, UnicodeDecodeError):
            req = None
        if not isinstance(req, dict):
            return 200, self._answer("querydr", "03", "Dữ liệu gửi sang không đúng định dạng", {})
        # Clients (e.g. the npm `vnpay` package) send dates and amounts as JSON numbers; the
        # checksum covers their decimal text either way.
        req = {k: str(v) if isinstance(v, int) and not isinstance(v, bool) else v for k, v in req.items()}
        with self._lock:
            self.api_requests.append(dict(req))
            self._settle_due()
            resp = self._api_locked(req)
            if self._tamper_next > 0:
                self._tamper_next -= 1
                if resp.get("vnp_Amount"):
                    resp["vnp_Amount"] = str(int(resp["vnp_Amount"]) * 10)
                else:
                    resp["vnp_Message"] = f"{resp.get('vnp_Message', '')} (tampered)"
        return 200, resp

    def _answer(self, command: str, code: str, message: str, req: dict[str, Any], **fields: str) -> dict[str, Any]:
        resp: dict[str, Any] = {
            "vnp_ResponseId": uuid.uuid4().hex,
            "vnp_Command": command,
            "vnp_ResponseCode": code,
            "vnp_Message": message,
            "vnp_TmnCode": self.tmn_code,
            "vnp_TxnRef": str(req.get("vnp_TxnRef", "")),
            **fields,
        }
        order = REFUND_RESPONSE_FIELDS if command == "refund" else QUERYDR_RESPONSE_FIELDS
        resp[SECURE_HASH] = fields_checksum(self.hash_secret, resp, order)
        return resp

    def _api_locked(self, req: dict[str, Any]) -> dict[str, Any]:
        command = req.get("vnp_Command")
        if command not in ("querydr", "refund"):
            return self._answer(str(command or "querydr"), "03", "Lệnh (vnp_Command) không hợp lệ", req)
        if req.get("vnp_TmnCode") != self.tmn_code:
            return self._answer(command, "02", "Mã định danh kết nối không hợp lệ (vnp_TmnCode)", req)
        order = QUERYDR_REQUEST_FIELDS if command == "querydr" else REFUND_REQUEST_FIELDS
        received = req.get(SECURE_HASH)
        if not isinstance(received, str) or received.lower() != fields_checksum(self.hash_secret, req, order):
            return self._answer(command, "97", "Checksum không hợp lệ", req)
        required = [k for k in order if k != "vnp_TransactionNo"]
        if any(not isinstance(req.get(k), str) or not req.get(k) for k in required):
            return self._answer(command, "03", "Dữ liệu gửi sang không đúng định dạng (thiếu trường)", req)
        if req["vnp_Version"] != VNP_VERSION:
            return self._answer(command, "03", "Sai phiên bản (vnp_Version)", req)
        if req["vnp_RequestId"] in self._request_ids:
            return self._answer(command, "94", "Yêu cầu trùng lặp (vnp_RequestId đã dùng)", req)
        self._request_ids.add(req["vnp_RequestId"])
        txn = self._txns.get(req["vnp_TxnRef"])
        if txn is None or txn.create_date != req["vnp_TransactionDate"]:
            return self._answer(command, "91", "Không tìm thấy giao dịch yêu cầu", req)
        if command == "querydr":
            # Once refunds were asked, querydr reports the latest one's type and status, as VNPay
            # does: 05 while VNPay processes it, 06 once sent to the bank.
            latest = txn.refunds[-1] if txn.refunds else None
            return self._answer(
                command, "00", "Yêu cầu thành công", req,
                vnp_Amount=txn.vnp_amount, vnp_OrderInfo=txn.order_info, vnp_BankCode=txn.bank_code,
                vnp_PayDate=txn.pay_date, vnp_TransactionNo=txn.transaction_no,
                vnp_TransactionType=latest.transaction_type if latest else "01",
                vnp_TransactionStatus=latest.status if latest else txn.transaction_status,
                vnp_PromotionCode="", vnp_PromotionAmount="",
            )
        return self._refund_locked(txn, req)

    def _refund_locked(self, txn: SimTransaction, req: dict[str, Any]) -> dict[str, Any]:
        if txn.transaction_status != "00" or txn.response_code != "00":
            return self._answer("refund", "95", "Giao dịch không thành công bên VNPAY, từ chối hoàn tiền", req)
        ttype, amount_s = req["vnp_TransactionType"], req["vnp_Amount"]
        if ttype not in ("02", "03"):
            return self._answer("refund", "03", "vnp_TransactionType phải là 02 hoặc 03", req)
        if not amount_s.isascii() or not amount_s.isdigit() or int(amount_s) <= 0 or int(amount_s) % 100:
            return self._answer("refund", "03", "Số tiền hoàn (vnp_Amount) không hợp lệ", req)
        if req.get("vnp_TransactionNo") not in (None, "", txn.transaction_no):
            return self._answer("refund", "91", "vnp_TransactionNo không khớp giao dịch", req)
        if any(r.status == "05" for r in txn.refunds):
            return self._answer("refund", "94", "Giao dịch đã được gửi yêu cầu hoàn tiền trước đó, VNPAY đang xử lý", req)
        amount = int(amount_s) // 100
        if txn.refunded + amount > txn.amount:
            return self._answer("refund", "99", "Số tiền hoàn vượt quá số tiền còn lại của giao dịch", req)
        if ttype == "02" and amount != txn.amount:
            return self._answer("refund", "03", "Hoàn toàn phần phải bằng số tiền giao dịch", req)
        refund = SimRefund(req["vnp_RequestId"], self._next_txn_no(), ttype, amount, req["vnp_CreateBy"], time.monotonic())
        txn.refunds.append(refund)
        return self._answer(
            "refund", "00", "Yêu cầu thành công", req,
            vnp_Amount=amount_s, vnp_OrderInfo=str(req["vnp_OrderInfo"]), vnp_BankCode=txn.bank_code,
            vnp_PayDate=self._now_vnp(), vnp_TransactionNo=refund.transaction_no, vnp_TransactionType=ttype,
            vnp_TransactionStatus=refund.status,
        )

    # HTML

    def _page(self, txn: SimTransaction) -> str:
        e = html.escape
        amount = f"{txn.amount:,}".replace(",", ".")
        expires = parse_vnp_date(txn.expire_date).astimezone(GMT7).strftime("%d/%m/%Y %H:%M:%S")
        buttons = "\n".join(
            f'<form method="post" action="{CONFIRM_PATH}">'
            f'<input type="hidden" name="checkout" value="{e(txn.checkout_id)}">'
            f'<input type="hidden" name="outcome" value="{outcome}">'
            f'<button type="submit" class="{outcome}">{label}</button></form>'
            for outcome, label in (
                ("success", "Thanh toán"), ("cancel", "Hủy"), ("lose_ipn", "Thanh toán nhưng mất IPN"),
            )
        )
        return _PAGE.format(
            title="Cổng thanh toán VNPAY (mô phỏng)",
            body=(
                "<h1>Cổng thanh toán VNPAY <small>mô phỏng, không phải tiền thật</small></h1>"
                "<dl>"
                f"<dt>Đơn vị chấp nhận thanh toán</dt><dd>{e(self.merchant_name)} ({e(self.tmn_code)})</dd>"
                f"<dt>Mã giao dịch</dt><dd><code>{e(txn.txn_ref)}</code></dd>"
                f'<dt>Số tiền</dt><dd class="amount">{amount} ₫</dd>'
                f"<dt>Nội dung thanh toán</dt><dd>{e(txn.order_info)}</dd>"
                f"<dt>Hết hạn lúc</dt><dd>{expires} (GMT+7)</dd>"
                "</dl>"
                f'<div class="buttons">{buttons}</div>'
            ),
        )

    @staticmethod
    def _error_page(code: str, message: str) -> str:
        e = html.escape
        return _PAGE.format(
            title="Lỗi giao dịch - VNPAY (mô phỏng)",
            body=(
                "<h1>Giao dịch không thành công</h1>"
                f'<p class="error">{e(message)}</p><p>Mã lỗi: <code>{e(code)}</code></p>'
            ),
        )


_PAGE = """<!doctype html>
<html lang="vi">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>
body {{ font-family: system-ui, sans-serif; background: #f3f6fa; margin: 0; }}
main {{ max-width: 34rem; margin: 2rem auto; background: #fff; padding: 1.5rem 2rem; border-radius: 8px;
        box-shadow: 0 1px 4px rgba(0,0,0,.15); }}
h1 {{ color: #005baa; font-size: 1.4rem; }} h1 small {{ display: block; color: #c00; font-size: .8rem; }}
dt {{ color: #555; font-size: .85rem; margin-top: .6rem; }} dd {{ margin: 0; font-weight: 600; }}
.amount {{ font-size: 1.5rem; color: #c00; }} .error {{ color: #c00; font-weight: 600; }}
.buttons {{ display: flex; flex-wrap: wrap; gap: .5rem; margin-top: 1.5rem; }}
button {{ padding: .6rem 1rem; border: 0; border-radius: 4px; cursor: pointer; font-size: 1rem; }}
.success {{ background: #005baa; color: #fff; }} .cancel {{ background: #ddd; }}
.lose_ipn {{ background: #f0ad4e; }}
</style>
</head>
<body><main>
{body}
</main></body>
</html>
"""


class _Handler(BaseHTTPRequestHandler):
    simulator: VNPaySimulator
    server_version = "VNPaySimulator/1.0"
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out as separate writes

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        log.debug("%s %s", self.address_string(), format % args)

    def _send(self, status: int, body: bytes, content_type: str, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _html(self, status: int, text: str) -> None:
        self._send(status, text.encode("utf-8"), "text/html; charset=utf-8")

    def _body(self) -> bytes | None:
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if length < 0 or length > MAX_BODY:
            self._send(413, b"payload too large", "text/plain; charset=utf-8")
            return None
        return self.rfile.read(length)

    def do_GET(self) -> None:
        sim = self.simulator
        path, _, qs = self.path.partition("?")
        if path == PAY_PATH:
            try:
                txn = sim._checkout(qs)
            except _PageError as exc:
                self._html(400, sim._error_page(exc.code, exc.message))
                return
            self._html(200, sim._page(txn))
        elif path in ("/", "/healthz"):
            self._send(200, b"VNPay simulator (not a real gateway)\n", "text/plain; charset=utf-8")
        else:
            self._send(404, b"not found", "text/plain; charset=utf-8")

    def do_POST(self) -> None:
        sim = self.simulator
        path = self.path.partition("?")[0]
        raw = self._body()
        if raw is None:
            return
        if path == API_PATH:
            status, resp = sim._api(raw)
            if resp is None:
                self._send(status, b"Service Unavailable (simulated)", "text/plain; charset=utf-8")
            else:
                self._send(status, json.dumps(resp, ensure_ascii=False).encode("utf-8"), "application/json; charset=utf-8")
        elif path == CONFIRM_PATH:
            try:
                form = params_from_query_string(raw.decode("ascii"))
                with sim._lock:
                    ref = sim._checkouts[form["checkout"]]
                    location = sim._complete(sim._txns[ref], form.get("outcome", ""))
            except (PaymentError, UnicodeDecodeError, KeyError, ValueError) as exc:
                self._html(400, sim._error_page("03", f"Yêu cầu không hợp lệ: {exc}"))
                return
            self._send(302, b"", "text/plain; charset=utf-8", {"Location": location})
        else:
            self._send(404, b"not found", "text/plain; charset=utf-8")


def main(argv: Sequence[str] | None = None) -> int:
    env = os.environ
    parser = argparse.ArgumentParser(prog="python -m payments.simulator", description="Loopback VNPay 2.1.0 simulator")
    parser.add_argument("--port", type=int, default=int(env.get("VNPAY_SIM_PORT", "8089")))
    parser.add_argument("--ipn-url", default=env.get("VNPAY_IPN_URL"), help="the app's IPN endpoint")
    parser.add_argument("--tmn-code", default=env.get("VNPAY_TMN_CODE", DEFAULT_TMN_CODE))
    parser.add_argument("--retry-delays", default="5",
                        help="comma-separated seconds between IPN attempts; the last repeats (default 5)")
    parser.add_argument("--max-ipn-attempts", type=int, default=10)
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO, format="%(asctime)s %(message)s")
    secret = env.get("VNPAY_HASH_SECRET", DEFAULT_HASH_SECRET)  # env only: keep it out of `ps`
    sim = VNPaySimulator(
        args.tmn_code, secret, ipn_url=args.ipn_url, port=args.port,
        retry_delays=[float(x) for x in args.retry_delays.split(",") if x.strip()],
        max_ipn_attempts=args.max_ipn_attempts,
    )
    sim.start()
    print(f"VNPay simulator (NOT a real gateway) on {sim.base_url}  TMN={sim.tmn_code}  IPN -> {sim.ipn_url or '(none)'}",
          flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        sim.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
