"""A loopback simulator of the National Public Service Portal (DVCQG) sync API. Not the real
portal: it speaks the protocol as deployed clients do (docs/national-portal.md) and is at
least as strict as the real one.

* ``POST .../token`` (an LGSP in front of the portal, when ``lgsp`` is given): OAuth2 client
  credentials (HTTP Basic), answers ``{access_token, token_type, expires_in}``; the portal
  calls then need ``Authorization: Bearer`` with a live token, else HTTP 401.
* Every portal call needs ``Content-Type: application/json`` and, when ``dstcode`` is
  given, the ``dstcode`` header with that value (HTTP 403 otherwise).
* ``POST .../auth {username, password}`` -> ``{error_code, message, session}``.
* ``POST .../service {service, madonvi, session, ..., data: [...]}``: an unknown or expired
  session is HTTP 401; ``data`` must be an array of records. ``DongBoHoSoMC`` needs
  ``isUpdating`` ``"True"`` / ``"False"``: a create of a code it holds answers "Hồ sơ ... đã
  tồn tại" (code -3) and applies nothing, an update of a code it does not hold answers 4.
  ``CapNhatTienDoHoSoMC`` and ``DongBoDanhGia`` need a known dossier; ``TraCuuHoSo`` takes a
  top-level ``mahoso``. Every record is checked field by field against the portal's profile
  (chalicelib/sync/rules/national_profile.py: required fields, every code and number a
  string, codes, dates ``yyyyMMddHHmmss`` on a 24-hour clock, lengths, download links).
* ``error_code`` is answered as a string (``"0"``), or as a number with ``numeric_codes``:
  real deployments do both. 0 ok, 1 invalid data (``errors`` lists each field), -3 exists,
  4 not found.
* Test hooks (``POST /_control`` or ``control()``), on service calls: ``fail`` (next n answer
  HTTP 500), ``timeout`` (next n hang for ``delay`` seconds, then drop), ``lost_answer`` (next n are
  applied, then hang and drop: the client never learns), ``already_exists`` (next n
  creates answer "đã tồn tại" whatever the portal holds), ``unauthorized`` (next n service
  calls answer HTTP 401), ``malformed`` (next n answers are an HTML page), ``no_error_code`` (next n
  answer JSON without ``error_code``), ``busy`` (next n answer HTTP 200 with error_code -99 "Hệ
  thống đang bận": the portal's own fault in a JSON answer), ``session_lost`` (next n answer HTTP
  200 with error_code -2 "Phiên làm việc không hợp lệ": a session refused in the body),
  ``refuse`` (next n calls carrying records are refused for their data, as the portal refuses
  a record: ``refuse_code``, 1 by default, "Dữ liệu không hợp lệ" and ``refuse_reason`` in
  ``errors``; nothing applied), ``unknown_procedures`` (``MaTTHC`` codes the portal does not
  know: every dossier of one is refused until the list changes), ``down`` (every call 503
  until false), ``numeric_codes``, ``expire_sessions``, ``session_ttl``, ``reset``.
  ``GET /_state`` shows what it holds and every call it received.

Standalone: ``python -m motcua.simulators.national --port 8010 [--dstcode X] [--numeric-codes]``.
"""
from __future__ import annotations

import argparse
import base64
import time
import uuid
from typing import Any
from urllib.parse import parse_qs

from chalicelib.sync.rules import national_profile as profile
from motcua.simulators.loopback import LoopbackServer, Request

SERVICES = ("DongBoHoSoMC", "CapNhatTienDoHoSoMC", "TraCuuHoSo", "LayThuTuc", "DongBoDanhGia")


def validate(data: Any, service: str) -> list[str]:
    """Every field of the record against the portal's profile for ``service``
    (chalicelib/sync/rules/national_profile.py: required fields, strings only, codes, dates
    on a 24-hour clock, lengths), one message per problem."""
    return [f"{p.field}: {p.message}" for p in profile.check(data, profile.PROFILES[service])]


OK, INVALID, EXISTS, NOT_FOUND = 0, 1, -3, 4
COUNTED_HOOKS = ("fail", "timeout", "lost_answer", "already_exists", "unauthorized", "malformed", "no_error_code",
                 "refuse", "busy", "session_lost")
RECORD_SERVICES = ("DongBoHoSoMC", "CapNhatTienDoHoSoMC", "DongBoDanhGia")
REFUSE_REASON = "MaTTHC: mã thủ tục hành chính không có trong Cơ sở dữ liệu quốc gia về TTHC"
MALFORMED = b"<html><body><h1>502 Bad Gateway</h1></body></html>"


class NationalPortalSimulator(LoopbackServer):
    name = "national-portal-simulator"

    def __init__(self, port: int = 0, username: str = "motcua-local", password: str = "local-only-not-a-secret",
                 session_ttl: int = 3600, *, dstcode: str | None = None, numeric_codes: bool = False,
                 lgsp: tuple[str, str] | None = None) -> None:
        super().__init__(port)
        self.username, self.password, self.session_ttl = username, password, session_ttl
        self.dstcode, self.lgsp, self.default_numeric = dstcode, lgsp, numeric_codes
        self.reset()

    def reset(self) -> None:
        with self.lock:
            self.sessions: dict[str, float] = {}
            self.tokens: dict[str, float] = {}
            self.dossiers: dict[str, dict[str, Any]] = {}
            self.progress: dict[str, list[dict[str, Any]]] = {}
            self.ratings: dict[str, dict[str, Any]] = {}
            self.calls: list[dict[str, Any]] = []
            self.auth_calls = 0
            self.token_calls = 0
            self.numeric_codes = self.default_numeric
            self.hooks: dict[str, Any] = {**dict.fromkeys(COUNTED_HOOKS, 0), "down": False, "delay": 3.0,
                                          "refuse_code": INVALID, "refuse_reason": REFUSE_REASON,
                                          "unknown_procedures": []}

    # -- test hooks --------------------------------------------------------------------------------
    def control(self, hooks: dict[str, Any]) -> None:
        with self.lock:
            if hooks.get("reset"):
                self.reset()
            if hooks.get("expire_sessions"):
                self.sessions.clear()
                self.tokens.clear()
            if "session_ttl" in hooks:
                self.session_ttl = int(hooks["session_ttl"])
            if "numeric_codes" in hooks:
                self.numeric_codes = bool(hooks["numeric_codes"])
            for key in (*COUNTED_HOOKS, "down", "delay", "refuse_code", "refuse_reason", "unknown_procedures"):
                if key in hooks:
                    self.hooks[key] = hooks[key]

    def state(self) -> dict[str, Any]:
        with self.lock:
            return {"dossiers": dict(self.dossiers), "progress": {k: list(v) for k, v in self.progress.items()},
                    "ratings": dict(self.ratings),
                    "calls": list(self.calls), "auth_calls": self.auth_calls, "token_calls": self.token_calls,
                    "hooks": dict(self.hooks)}

    def _take(self, hook: str) -> bool:
        with self.lock:
            if self.hooks[hook] > 0:
                self.hooks[hook] -= 1
                return True
            return False

    def _answer(self, code: int, message: str, **more: Any) -> dict[str, Any]:
        """An answer with ``error_code`` as a string, or a number with ``numeric_codes``."""
        return {"error_code": code if self.numeric_codes else str(code), "message": message, **more}

    # -- protocol ------------------------------------------------------------------------------------
    def handle(self, request: Request) -> tuple[int, Any]:
        endpoint = request.path.rstrip("/").rsplit("/", 1)[-1]
        if request.method != "POST" or endpoint not in ("auth", "service", "token"):
            return 404, self._answer(NOT_FOUND, "Không có dịch vụ này")
        if self.hooks["down"]:
            return 503, self._answer(-99, "Hệ thống đang bảo trì")
        if endpoint == "token":
            return self._token(request)
        refused = self._refuse_headers(request)
        if refused:
            return refused
        body = request.json()
        if endpoint == "auth":
            return self._auth(body)
        if self._take("unauthorized"):
            self._record(body, "http 401")
            return 401, self._answer(-2, "Không có quyền truy cập")
        if self._take("malformed"):
            self._record(body, "malformed")
            return 200, MALFORMED
        if self._take("no_error_code"):
            self._record(body, "no error_code")
            return 200, {"message": "Thành công", "status": "OK"}
        if self._take("fail"):
            self._record(body, "http 500")
            return 500, self._answer(-99, "Lỗi hệ thống")
        if self._take("session_lost"):
            self._record(body, "session lost")
            return 200, self._answer(-2, "Phiên làm việc không hợp lệ hoặc đã hết hạn")
        if self._take("busy"):
            self._record(body, "busy")
            return 200, self._answer(-99, "Hệ thống đang bận, vui lòng thử lại sau")
        if self._take("timeout"):
            self._record(body, "timeout")
            time.sleep(float(self.hooks["delay"]))
            return 0, None
        if self._take("lost_answer"):
            self._service(body)
            with self.lock:
                self.calls[-1]["result"] += ", answer lost"
            time.sleep(float(self.hooks["delay"]))
            return 0, None
        return self._service(body)

    def _refuse_headers(self, request: Request) -> tuple[int, Any] | None:
        """The transport checks: JSON content, the routing code, the LGSP bearer token."""
        body = request.json()
        if not request.headers.get("content-type", "").startswith("application/json"):
            self._record(body, "http 415")
            return 415, self._answer(INVALID, "Content-Type phải là application/json; charset=utf-8")
        if self.dstcode is not None and request.headers.get("dstcode") != self.dstcode:
            self._record(body, "http 403")
            return 403, self._answer(-1, "Thiếu hoặc sai dstcode")
        if self.lgsp is not None:
            token = request.headers.get("authorization", "").removeprefix("Bearer ")
            with self.lock:
                expiry = self.tokens.get(token)
            if expiry is None or expiry < time.monotonic():
                self._record(body, "http 401")
                return 401, {"fault": "Invalid or expired access token"}
        return None

    def _token(self, request: Request) -> tuple[int, Any]:
        with self.lock:
            self.token_calls += 1
        given = request.headers.get("authorization", "")
        expected = "Basic " + base64.b64encode(":".join(self.lgsp or ("", "")).encode()).decode()
        form = parse_qs(request.raw.decode("utf-8", "replace"))
        if self.lgsp is None or given != expected or form.get("grant_type") != ["client_credentials"]:
            return 401, {"error": "invalid_client"}
        token = uuid.uuid4().hex
        with self.lock:
            self.tokens[token] = time.monotonic() + 3600
        return 200, {"access_token": token, "token_type": "Bearer", "expires_in": 3600}

    def _auth(self, body: Any) -> tuple[int, Any]:
        with self.lock:
            self.auth_calls += 1
        if not isinstance(body, dict) or (body.get("username"), body.get("password")) != (self.username, self.password):
            return 200, self._answer(INVALID, "Sai tên đăng nhập hoặc mật khẩu")
        token = uuid.uuid4().hex
        with self.lock:
            self.sessions[token] = time.monotonic() + self.session_ttl
        return 200, self._answer(OK, "Thành công", session=token)

    def _record(self, body: Any, result: str) -> None:
        body = body if isinstance(body, dict) else {}
        data = body.get("data")
        first = data[0] if isinstance(data, list) and data and isinstance(data[0], dict) else {}
        with self.lock:
            self.calls.append({"service": body.get("service"), "MaHoSo": first.get("MaHoSo", body.get("mahoso")),
                               "isUpdating": body.get("isUpdating"),
                               "count": len(data) if isinstance(data, list) else None,
                               "TrangThai": first.get("TrangThaiHoSo", first.get("TrangThai")),
                               "result": result})

    def _service(self, body: Any) -> tuple[int, Any]:
        if not isinstance(body, dict):
            return 200, self._answer(INVALID, "Yêu cầu phải là JSON")
        session = body.get("session")
        with self.lock:
            expiry = self.sessions.get(session) if isinstance(session, str) else None
        if expiry is None or expiry < time.monotonic():
            self._record(body, "http 401")
            return 401, self._answer(-2, "Phiên làm việc không hợp lệ hoặc đã hết hạn")
        answer = self._serve(body)
        code = int(answer["error_code"])
        self._record(body, {OK: "ok", INVALID: "invalid", EXISTS: "already exists", NOT_FOUND: "not found"}
                     .get(code, f"error {code}"))
        return 200, answer

    def _serve(self, body: dict[str, Any]) -> dict[str, Any]:
        service, data = body.get("service"), body.get("data")
        if service not in SERVICES or not body.get("madonvi"):
            return self._answer(INVALID, "Thiếu service hoặc madonvi", errors=["service", "madonvi"])
        if not isinstance(data, list) or not all(isinstance(record, dict) for record in data):
            return self._answer(INVALID, "data phải là một mảng bản ghi", errors=["data: phải là mảng"])
        if service == "DongBoHoSoMC" and body.get("isUpdating") not in ("True", "False"):
            return self._answer(INVALID, 'isUpdating phải là "True" hoặc "False"', errors=["isUpdating"])
        if service in ("TraCuuHoSo", "LayThuTuc"):
            return getattr(self, f"_{service}")(body)
        if not data:
            return self._answer(INVALID, "data không có bản ghi nào", errors=["data: rỗng"])
        if service in RECORD_SERVICES and self._take("refuse"):
            return self._answer(int(self.hooks["refuse_code"]), "Dữ liệu không hợp lệ",
                                errors=[str(self.hooks["refuse_reason"])])
        for record in data:
            answer = getattr(self, f"_{service}")(record, body)
            if int(answer["error_code"]) != OK:
                return answer
        return self._answer(OK, "Thành công")

    def _DongBoHoSoMC(self, data: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
        errors = validate(data, "DongBoHoSoMC")
        if errors:
            return self._answer(INVALID, "Dữ liệu không hợp lệ", errors=errors)
        if data["MaTTHC"] in self.hooks["unknown_procedures"]:
            return self._answer(INVALID, "Dữ liệu không hợp lệ",
                                errors=[f"MaTTHC: thủ tục {data['MaTTHC']} không có trong Cơ sở dữ liệu quốc gia"])
        updating = body["isUpdating"] == "True"
        with self.lock:
            known = data["MaHoSo"] in self.dossiers
            if not updating and (known or self._take("already_exists")):
                return self._answer(EXISTS, f"Hồ sơ {data['MaHoSo']} đã tồn tại")
            if updating and not known:
                return self._answer(NOT_FOUND, f"Không tìm thấy hồ sơ {data['MaHoSo']} để cập nhật")
            self.dossiers[data["MaHoSo"]] = data
        return self._answer(OK, "Thành công")

    def _CapNhatTienDoHoSoMC(self, data: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
        errors = validate(data, "CapNhatTienDoHoSoMC")
        if errors:
            return self._answer(INVALID, "Dữ liệu không hợp lệ", errors=errors)
        with self.lock:
            if data["MaHoSo"] not in self.dossiers:
                return self._answer(NOT_FOUND, "Không tìm thấy hồ sơ")
            self.progress.setdefault(data["MaHoSo"], []).append(data)
        return self._answer(OK, "Thành công")

    def _DongBoDanhGia(self, data: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
        errors = validate(data, "DongBoDanhGia")
        if errors:
            return self._answer(INVALID, "Dữ liệu không hợp lệ", errors=errors)
        with self.lock:
            if data["MaHoSo"] not in self.dossiers:
                return self._answer(NOT_FOUND, "Không tìm thấy hồ sơ")
            self.ratings[data["MaHoSo"]] = data
        return self._answer(OK, "Thành công")

    def _TraCuuHoSo(self, body: dict[str, Any]) -> dict[str, Any]:
        with self.lock:
            found = self.dossiers.get(body.get("mahoso"))  # type: ignore[arg-type]
            progress = list(self.progress.get(body.get("mahoso"), []))  # type: ignore[arg-type]
        if found is None:
            return self._answer(NOT_FOUND, "Không tìm thấy hồ sơ")
        return self._answer(OK, "Thành công", result={**found, "TienDo": progress})

    def _LayThuTuc(self, body: dict[str, Any]) -> dict[str, Any]:
        code = body.get("maTTHC")
        with self.lock:
            found = {d["MaTTHC"]: d for d in self.dossiers.values()}.get(code)  # type: ignore[arg-type]
        if found is None:
            return self._answer(NOT_FOUND, "Không tìm thấy thủ tục")
        return self._answer(OK, "Thành công", result={"MATTHC": code, "TENTTHC": found["TenTTHC"],
                                                        "LINHVUCTHUCHIEN": [{"MALINHVUC": found.get("MaLinhVuc", "")}]})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--port", type=int, default=8010)
    parser.add_argument("--dstcode", help="require this dstcode header on every call")
    parser.add_argument("--numeric-codes", action="store_true", help="answer error_code as a number")
    args = parser.parse_args()
    sim = NationalPortalSimulator(args.port, dstcode=args.dstcode, numeric_codes=args.numeric_codes).start()
    print(f"national portal simulator on {sim.url}", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        sim.stop()


if __name__ == "__main__":
    main()
