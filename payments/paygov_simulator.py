"""A loopback PayGov (1.0.6) simulator for tests and local runs. Not the real platform.

In tests::

    sim = PayGovSimulator("MOTCUA-LOCAL", "LOCALPAYGOVSECRETNOTREAL", access_token="tok",
                          confirm_url="http://127.0.0.1:8000/payments/providers/paygov/ipn",
                          return_url="http://127.0.0.1:8000/payments/providers/paygov/return", port=0)
    sim.start()
    provider = PayGovProvider(sim.partner_code, sim.secret_key, sim.base_url, access_token="tok")
    ...  # GET the UrlThanhToan (requests.get), then sim.pay(reference, "success")
    sim.stop()

Standalone: ``python -m payments.paygov_simulator --port 8090 --confirm-url ... --return-url ...``
(the secret and the token from PAYGOV_SECRET_KEY / PAYGOV_ACCESS_TOKEN, never the command line).

What it does, as strictly as the platform or more:

* ``POST /api/v1/init`` and ``/api/v1/query`` need ``Authorization: Bearer {token}`` (401
  otherwise) and a JSON object. INIT checks every field of its checksum list (present, a
  string, the fixed values PhienBan 1.0.6 / MaTienTe VND, SoTien a positive whole number of
  VND, ThoiGianGD ``yyyyMMddHHmmss`` within a day of now, Ip an address, ThongTinGiaoDich ASCII)
  and ``MaXacThuc``; it answers ``{"MaLoi": "00", "UrlThanhToan"}`` or an error code: 02 unknown
  MaDoiTac, 03 bad data, 97 bad MaXacThuc, 01 a MaThamChieu already paid or cancelled.
* ``GET /thanh-toan?ma=...`` is the checkout page: "Thanh toán" (00), "Hủy" (24) and "Thanh
  toán nhưng mất xác nhận" (paid, the confirmation never sent: only QUERY knows).
* A button POSTs the signed confirmation (JSON) to the registered confirmation address in a
  background thread, again while the reply's MaLoi is not 00/02 (or it times out), at most
  ``max_attempts`` times ``retry_delays`` apart, then redirects the browser to the registered
  return address with the same signed fields as its query string.
* QUERY answers with a confirmation-shaped message signed over the confirmation's fields:
  MaLoi 00 paid, 09 not completed, 24 cancelled, 01 unknown (or a ThoiGianGD that is not
  INIT's); 97 for a bad request checksum, 02 for a foreign MaDoiTac (both unsigned).

Test hooks: ``pay``, ``confirmation``, ``fail_next`` (HTTP 503), ``tamper_next`` (answers altered after signing),
``transactions``, ``confirm_attempts``, ``wait_for_confirm``, ``api_requests``.
"""
from __future__ import annotations

import argparse
import dataclasses
import html
import ipaddress
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
from datetime import datetime, timedelta, UTC
from http.server import BaseHTTPRequestHandler
from typing import Any
from collections.abc import Callable, Sequence
from urllib.parse import parse_qs, urlencode, urlsplit

from .base import PaymentError
from .loopback_gateway import LoopbackGateway
from .paygov import (
    CONFIRM_FIELDS, INIT_FIELDS, INIT_PATH, PHIEN_BAN, QUERY_FIELDS, QUERY_PATH, GMT7, format_time,
    message_checksum, parse_time, verify_message,
)

__all__ = ["ConfirmAttempt", "PayGovSimulator", "SimPayment", "main"]

log = logging.getLogger("payments.paygov_simulator")

DEFAULT_PARTNER_CODE = "MOTCUA-LOCAL"
DEFAULT_SECRET_KEY = "LOCALPAYGOVSECRETNOTREAL"
DEFAULT_ACCESS_TOKEN = "local-paygov-token-not-real"
CHECKOUT_PATH = "/thanh-toan"
CONFIRM_PATH = "/thanh-toan/xac-nhan"
OUTCOMES = {"success": ("00", True), "cancel": ("24", True), "lose_confirm": ("00", False)}
MAX_BODY = 64 * 1024
_REFERENCE_RE = re.compile(r"[A-Za-z0-9]{1,50}")
_ASCII_INFO = re.compile(r"[\x20-\x7e]{1,210}")


@dataclass
class ConfirmAttempt:
    attempt: int
    at: datetime
    status: int | None
    body: str
    code: str | None      # MaLoi of the JSON reply, if any
    error: str | None


@dataclass
class SimPayment:
    reference: str
    amount: int
    info: str
    init_time: str          # ThoiGianGD as received
    checkout_id: str
    outcome: str | None = None
    code: str = "09"        # not completed until a button is pressed
    transaction_no: str = ""
    bank_code: str = ""
    paid_time: str = ""
    attempts: list[ConfirmAttempt] = field(default_factory=list)
    done: threading.Event = field(default_factory=threading.Event, repr=False, compare=False)


class PayGovSimulator(LoopbackGateway):
    name = "paygov-sim"

    def __init__(self, partner_code: str = DEFAULT_PARTNER_CODE, secret_key: str = DEFAULT_SECRET_KEY, *,
                 access_token: str = DEFAULT_ACCESS_TOKEN, confirm_url: str | None = None,
                 return_url: str = "http://127.0.0.1:8000/payments/providers/paygov/return", port: int = 0,
                 retry_delays: Sequence[float] = (5.0,), max_attempts: int = 10, timeout: float = 5.0,
                 clock: Callable[[], datetime] | None = None) -> None:
        if not retry_delays:
            raise ValueError("retry_delays needs at least one delay")
        super().__init__(port)
        self.partner_code, self.secret_key, self.access_token = partner_code, secret_key, access_token
        self.confirm_url, self.return_url = confirm_url, return_url
        self.retry_delays = tuple(float(d) for d in retry_delays)
        self.max_attempts, self.timeout = max_attempts, timeout
        self._clock = clock or (lambda: datetime.now(UTC))
        self._payments: dict[str, SimPayment] = {}
        self._checkouts: dict[str, str] = {}
        self._counter = 880_000
        self.api_requests: list[dict[str, Any]] = []

    def handler_class(self) -> type[BaseHTTPRequestHandler]:
        return _Handler

    @property
    def callback_timeout(self) -> float:
        return self.timeout

    # -- test hooks -------------------------------------------------------------------------

    @property
    def transactions(self) -> dict[str, SimPayment]:
        with self._lock:
            return {ref: dataclasses.replace(p, attempts=list(p.attempts)) for ref, p in self._payments.items()}

    def confirm_attempts(self, reference: str) -> list[ConfirmAttempt]:
        with self._lock:
            found = self._payments.get(reference)
            return list(found.attempts) if found else []

    def wait_for_confirm(self, reference: str, timeout: float = 10.0) -> list[ConfirmAttempt]:
        """Block until the confirmation of ``reference`` is delivered or given up (or never due)."""
        with self._lock:
            found = self._payments.get(reference)
        if found is None:
            raise KeyError(reference)
        if not found.done.wait(timeout):
            raise TimeoutError(f"confirmation of {reference} still running after {timeout}s")
        return self.confirm_attempts(reference)

    def pay(self, reference: str, outcome: str = "success") -> str:
        """Press a button on the checkout page of ``reference`` (INIT must have happened).
        Returns where the browser is sent: the return address with the signed fields."""
        with self._lock:
            found = self._payments.get(reference)
            if found is None:
                raise KeyError(f"no INIT for {reference!r}")
            return self._complete(found, outcome)

    def confirmation(self, reference: str) -> dict[str, Any]:
        """The signed confirmation of a completed payment, as PayGov POSTs it (tests deliver it
        to an in-process app, which has no port to be called back on)."""
        with self._lock:
            found = self._payments[reference]
            if found.outcome is None:
                raise ValueError(f"{reference} is not completed")
            return self._signed(found, "CONFIRM")

    # -- messages ---------------------------------------------------------------------------

    def _signed(self, payment: SimPayment, kind: str, code: str | None = None) -> dict[str, Any]:
        message: dict[str, Any] = {
            "LoaiBanTin": kind, "MaLoi": code or payment.code, "MaDoiTac": self.partner_code,
            "MaThamChieu": payment.reference, "SoTien": payment.amount, "MaTienTe": "VND",
            "MaGiaoDich": payment.transaction_no, "MaNganHang": payment.bank_code,
            "ThoiGianGD": payment.paid_time or payment.init_time, "ThongTinGiaoDich": payment.info,
        }
        message["MaXacThuc"] = message_checksum(message, CONFIRM_FIELDS, self.secret_key)
        return message

    def _error(self, code: str, text: str) -> dict[str, Any]:
        return {"MaLoi": code, "MoTaLoi": text}

    def _init(self, body: dict[str, Any]) -> dict[str, Any]:
        if body.get("MaDoiTac") != self.partner_code:
            return self._error("02", "Mã đối tác (MaDoiTac) không hợp lệ")
        if any(not isinstance(body.get(name), str) or not body.get(name) for name in INIT_FIELDS):
            return self._error("03", "Thiếu trường hoặc trường không phải chuỗi ký tự")
        if not verify_message(body, INIT_FIELDS, self.secret_key):
            return self._error("97", "Mã xác thực (MaXacThuc) không hợp lệ")
        why = self._init_fault(body)
        if why:
            return self._error("03", why)
        with self._lock:
            known = self._payments.get(body["MaThamChieu"])
            if known is not None and known.outcome is not None:
                return self._error("01", "Giao dịch đã tồn tại (MaThamChieu đã được thanh toán hoặc hủy)")
            if known is not None:
                self._checkouts.pop(known.checkout_id, None)
            payment = SimPayment(body["MaThamChieu"], int(body["SoTien"]), body["ThongTinGiaoDich"],
                                 body["ThoiGianGD"], uuid.uuid4().hex)
            self._payments[payment.reference] = payment
            self._checkouts[payment.checkout_id] = payment.reference
        return {"MaLoi": "00", "MoTaLoi": "Khởi tạo giao dịch thành công", "MaThamChieu": payment.reference,
                "UrlThanhToan": f"{self.base_url}{CHECKOUT_PATH}?ma={payment.checkout_id}"}

    def _init_fault(self, body: dict[str, Any]) -> str | None:
        fixed = {"LoaiBanTin": "INIT", "PhienBan": PHIEN_BAN, "MaTienTe": "VND"}
        wrong = [name for name, value in fixed.items() if body[name] != value]
        if wrong:
            return f"Giá trị không hợp lệ: {', '.join(wrong)}"
        if not body["SoTien"].isascii() or not body["SoTien"].isdigit() or int(body["SoTien"]) <= 0:
            return "Số tiền (SoTien) phải là số nguyên dương tính bằng đồng"
        if not _REFERENCE_RE.fullmatch(body["MaThamChieu"]):
            return "Mã tham chiếu (MaThamChieu) chỉ gồm chữ cái không dấu và chữ số, tối đa 50 ký tự"
        if not _ASCII_INFO.fullmatch(body["ThongTinGiaoDich"]):
            return "Thông tin giao dịch phải là tiếng Việt không dấu, tối đa 210 ký tự"
        try:
            ipaddress.ip_address(body["Ip"])
            sent = parse_time(body["ThoiGianGD"])
        except (ValueError, PaymentError):
            return "Ip hoặc ThoiGianGD (yyyyMMddHHmmss, GMT+7) không hợp lệ"
        if abs(self._clock() - sent) > timedelta(days=1):
            return "Thời gian giao dịch (ThoiGianGD) lệch quá một ngày"
        return None

    def _query(self, body: dict[str, Any]) -> dict[str, Any]:
        if body.get("MaDoiTac") != self.partner_code:
            return self._error("02", "Mã đối tác (MaDoiTac) không hợp lệ")
        if not verify_message(body, QUERY_FIELDS, self.secret_key) or body.get("LoaiBanTin") != "QUERY":
            return self._error("97", "Mã xác thực (MaXacThuc) không hợp lệ")
        with self._lock:
            found = self._payments.get(str(body.get("MaThamChieu")))
            if found is None or found.init_time != body.get("ThoiGianGD"):
                ghost = SimPayment(str(body.get("MaThamChieu", "")), 0, "", str(body.get("ThoiGianGD", "")), "")
                return self._signed(ghost, "QUERY", "01")
            return self._signed(found, "QUERY")

    def _api(self, path: str, auth: str | None, raw: bytes) -> tuple[int, dict[str, Any] | None]:
        with self._lock:
            if self._fail_next > 0:
                self._fail_next -= 1
                return 503, None
        if auth != f"Bearer {self.access_token}":
            return 401, {"MaLoi": "401", "MoTaLoi": "Access token không hợp lệ"}
        try:
            body = json.loads(raw.decode("utf-8"))
        except (ValueError, UnicodeDecodeError):
            body = None
        if not isinstance(body, dict):
            return 200, self._error("03", "Dữ liệu không phải đối tượng JSON")
        with self._lock:
            self.api_requests.append(dict(body))
        answer = self._init(body) if path == INIT_PATH else self._query(body)
        with self._lock:
            if self._tamper_next > 0:
                self._tamper_next -= 1
                answer["SoTien"] = int(answer.get("SoTien") or 1) * 10
        return 200, answer

    # -- the checkout and the confirmation ----------------------------------------------------

    def _complete(self, payment: SimPayment, outcome: str) -> str:
        if outcome not in OUTCOMES:
            raise ValueError(f"outcome must be one of {sorted(OUTCOMES)}")
        if payment.outcome is not None:
            raise ValueError(f"{payment.reference} was already completed ({payment.outcome})")
        code, deliver = OUTCOMES[outcome]
        payment.outcome, payment.code = outcome, code
        payment.paid_time = format_time(self._clock())
        self._counter += 1
        payment.transaction_no = f"PG{self._counter}" if code == "00" else ""
        payment.bank_code = "NAPAS" if code == "00" else ""
        message = self._signed(payment, "CONFIRM")
        if deliver and self.confirm_url:
            sender = threading.Thread(target=self._deliver, args=(payment, message), daemon=True,
                                      name=f"paygov-confirm-{payment.reference}")
            self._callbacks.append(sender)
            sender.start()
        else:
            payment.done.set()
        query = urlencode({k: str(v) for k, v in message.items()})
        return f"{self.return_url}{'&' if '?' in self.return_url else '?'}{query}"

    def _deliver(self, payment: SimPayment, message: dict[str, Any]) -> None:
        try:
            for i in range(self.max_attempts):
                if self._stopping.is_set():
                    return
                attempt = self._post_confirm(i + 1, message)
                with self._lock:
                    payment.attempts.append(attempt)
                log.info("confirm %s attempt %d: %s", payment.reference, i + 1, attempt.code or attempt.error)
                if attempt.code in ("00", "02"):
                    return
                if i + 1 < self.max_attempts and self._stopping.wait(
                        self.retry_delays[min(i, len(self.retry_delays) - 1)]):
                    return
        finally:
            payment.done.set()

    def _post_confirm(self, n: int, message: dict[str, Any]) -> ConfirmAttempt:
        at = datetime.now(UTC)
        data = json.dumps(message, ensure_ascii=False).encode("utf-8")
        request = urllib.request.Request(str(self.confirm_url), data=data, method="POST",
                                         headers={"Content-Type": "application/json; charset=utf-8"})
        status, body, error = None, "", None
        try:
            with self._opener.open(request, timeout=self.timeout) as resp:
                status, body = resp.status, resp.read(MAX_BODY).decode("utf-8", "replace")
        except urllib.error.HTTPError as exc:
            status, body = exc.code, exc.read(MAX_BODY).decode("utf-8", "replace")
        except Exception as exc:  # timeouts, refused connections, resets
            error = f"{type(exc).__name__}: {exc}"
        code = None
        try:
            reply = json.loads(body) if body else None
            if isinstance(reply, dict) and isinstance(reply.get("MaLoi"), str):
                code = reply["MaLoi"]
        except ValueError:
            pass
        return ConfirmAttempt(n, at, status, body, code, error)

    def _page(self, checkout_id: str) -> tuple[int, str]:
        e = html.escape
        with self._lock:
            reference = self._checkouts.get(checkout_id)
            payment = self._payments.get(reference or "")
        if payment is None:
            return 404, _PAGE.format(title="PayGov (mô phỏng)", body="<h1>Không tìm thấy giao dịch</h1>")
        if payment.outcome is not None:
            return 400, _PAGE.format(title="PayGov (mô phỏng)", body="<h1>Giao dịch đã kết thúc</h1>")
        amount = f"{payment.amount:,}".replace(",", ".")
        buttons = "".join(
            f'<form method="post" action="{CONFIRM_PATH}"><input type="hidden" name="ma" value="{e(checkout_id)}">'
            f'<input type="hidden" name="outcome" value="{outcome}"><button class="{outcome}">{label}</button></form>'
            for outcome, label in (("success", "Thanh toán"), ("cancel", "Hủy"),
                                   ("lose_confirm", "Thanh toán nhưng mất xác nhận")))
        when = parse_time(payment.init_time).astimezone(GMT7).strftime("%d/%m/%Y %H:%M:%S")
        return 200, _PAGE.format(title="Nền tảng thanh toán PayGov (mô phỏng)", body=(
            "<h1>Nền tảng thanh toán trên Cổng Dịch vụ công quốc gia <small>mô phỏng, không phải tiền thật</small></h1>"
            f"<dl><dt>Đối tác</dt><dd>{e(self.partner_code)}</dd>"
            f"<dt>Mã tham chiếu</dt><dd><code>{e(payment.reference)}</code></dd>"
            f'<dt>Số tiền</dt><dd class="amount">{amount} ₫</dd>'
            f"<dt>Nội dung</dt><dd>{e(payment.info)}</dd><dt>Khởi tạo lúc</dt><dd>{when}</dd></dl>"
            f'<div class="buttons">{buttons}</div>'))


_PAGE = """<!doctype html>
<html lang="vi"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>
body {{ font-family: system-ui, sans-serif; background: #f4f1ea; margin: 0; }}
main {{ max-width: 34rem; margin: 2rem auto; background: #fff; padding: 1.5rem 2rem; border-radius: 8px; }}
h1 {{ color: #a31d1d; font-size: 1.3rem; }} h1 small {{ display: block; color: #555; font-size: .8rem; }}
dt {{ color: #555; font-size: .85rem; margin-top: .6rem; }} dd {{ margin: 0; font-weight: 600; }}
.amount {{ font-size: 1.5rem; color: #a31d1d; }} .buttons {{ display: flex; gap: .5rem; margin-top: 1.5rem; }}
button {{ padding: .6rem 1rem; border: 0; border-radius: 4px; cursor: pointer; }}
.success {{ background: #a31d1d; color: #fff; }} .lose_confirm {{ background: #f0ad4e; }}
</style></head>
<body><main>
{body}
</main></body></html>
"""


class _Handler(BaseHTTPRequestHandler):
    simulator: PayGovSimulator
    server_version = "PayGovSimulator/1.0"
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        log.debug("%s %s", self.address_string(), format % args)

    def _send(self, status: int, body: bytes, content_type: str, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(body)

    def _json(self, status: int, body: dict[str, Any]) -> None:
        self._send(status, json.dumps(body, ensure_ascii=False).encode("utf-8"), "application/json; charset=utf-8")

    def _html(self, status: int, text: str) -> None:
        self._send(status, text.encode("utf-8"), "text/html; charset=utf-8")

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        if parts.path == CHECKOUT_PATH:
            status, page = self.simulator._page((parse_qs(parts.query).get("ma") or [""])[0])
            self._html(status, page)
        elif parts.path in ("/", "/healthz"):
            self._send(200, b"PayGov simulator (not the real platform)\n", "text/plain; charset=utf-8")
        else:
            self._send(404, b"not found", "text/plain; charset=utf-8")

    def do_POST(self) -> None:
        sim = self.simulator
        path = urlsplit(self.path).path
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if length < 0 or length > MAX_BODY:
            self._send(413, b"payload too large", "text/plain; charset=utf-8")
            return
        raw = self.rfile.read(length)
        if path in (INIT_PATH, QUERY_PATH):
            status, answer = sim._api(path, self.headers.get("Authorization"), raw)
            if answer is None:
                self._send(status, b"Service Unavailable (simulated)", "text/plain; charset=utf-8")
            else:
                self._json(status, answer)
        elif path == CONFIRM_PATH:
            form = parse_qs(raw.decode("ascii", "replace"))
            try:
                with sim._lock:
                    reference = sim._checkouts[(form.get("ma") or [""])[0]]
                    location = sim._complete(sim._payments[reference], (form.get("outcome") or [""])[0])
            except (KeyError, ValueError) as exc:
                self._html(400, _PAGE.format(title="PayGov (mô phỏng)", body=f"<h1>{html.escape(str(exc))}</h1>"))
                return
            self._send(302, b"", "text/plain; charset=utf-8", {"Location": location})
        else:
            self._send(404, b"not found", "text/plain; charset=utf-8")


def main(argv: Sequence[str] | None = None) -> int:
    env = os.environ
    parser = argparse.ArgumentParser(prog="python -m payments.paygov_simulator",
                                     description="Loopback PayGov 1.0.6 simulator")
    parser.add_argument("--port", type=int, default=int(env.get("PAYGOV_SIM_PORT", "8090")))
    parser.add_argument("--confirm-url", default=env.get("PAYGOV_CONFIRM_URL"), help="the app's confirmation address")
    parser.add_argument("--return-url", default=env.get("PAYGOV_RETURN_URL",
                                                        "http://127.0.0.1:8000/payments/providers/paygov/return"))
    parser.add_argument("--partner-code", default=env.get("PAYGOV_PARTNER_CODE", DEFAULT_PARTNER_CODE))
    parser.add_argument("--retry-delays", default="5", help="comma-separated seconds between confirmation attempts")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    sim = PayGovSimulator(args.partner_code, env.get("PAYGOV_SECRET_KEY", DEFAULT_SECRET_KEY),
                          access_token=env.get("PAYGOV_ACCESS_TOKEN", DEFAULT_ACCESS_TOKEN),
                          confirm_url=args.confirm_url, return_url=args.return_url, port=args.port,
                          retry_delays=[float(x) for x in args.retry_delays.split(",") if x.strip()]).start()
    print(f"PayGov simulator (NOT the real platform) on {sim.base_url}  confirm -> {sim.confirm_url or '(none)'}",
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
