"""A loopback simulator of the National Public Service Portal (DVCQG) sync API. Not the real
portal: it speaks the protocol of chalicelib/sync/adapters/national_portal.py and is stricter than needed.

* ``POST /auth {username, password}`` -> ``{error_code: 0, session, expires_in}``.
* ``POST /service {service, madonvi, session, data}`` for DongBoHoSoMC, CapNhatTienDoHoSoMC,
  DongBoDanhGia, TraCuuHoSo and LayThuTuc. It checks every field of a record against the
  portal's profile (chalicelib/sync/rules/national_profile.py: required fields, every code
  and number a string, codes, dates ``yyyyMMddHHmmss`` on a 24-hour clock, lengths such as
  TrichYeuHoSo <= 1000 and NguoiXuLy <= 50, download links), and answers ``error_code``
  0 ok, 1 invalid data (``errors`` lists each field), 2 already exists, 3 unknown or expired session, 4 not found.
* Test hooks (``POST /_control`` or ``control()``): ``fail`` (next n calls answer HTTP 500),
  ``timeout`` (next n calls hang for ``delay`` seconds, then drop), ``already_exists`` (next n
  DongBoHoSoMC answer 2 after storing), ``down`` (every call 503 until false),
  ``expire_sessions``, ``token_ttl``, ``reset``. ``GET /_state`` shows what it holds.

Standalone: ``python -m motcua.simulators.national --port 8010``.
"""
from __future__ import annotations

import argparse
import time
import uuid
from typing import Any

from chalicelib.sync.rules import national_profile as profile
from motcua.simulators.loopback import LoopbackServer, Request

SERVICES = ("DongBoHoSoMC", "CapNhatTienDoHoSoMC", "TraCuuHoSo", "LayThuTuc", "DongBoDanhGia")


def validate(data: Any, service: str) -> list[str]:
    """Every field of the record against the portal's profile for ``service``
    (chalicelib/sync/rules/national_profile.py: required fields, strings only, codes, dates
    on a 24-hour clock, lengths), one message per problem."""
    return [f"{p.field}: {p.message}" for p in profile.check(data, profile.PROFILES[service])]


class NationalPortalSimulator(LoopbackServer):
    name = "national-portal-simulator"

    def __init__(self, port: int = 0, username: str = "motcua-local", password: str = "local-only-not-a-secret",
                 token_ttl: int = 3600) -> None:
        super().__init__(port)
        self.username, self.password, self.token_ttl = username, password, token_ttl
        self.reset()

    def reset(self) -> None:
        with self.lock:
            self.sessions: dict[str, float] = {}
            self.dossiers: dict[str, dict[str, Any]] = {}
            self.progress: dict[str, list[dict[str, Any]]] = {}
            self.ratings: dict[str, dict[str, Any]] = {}
            self.calls: list[dict[str, Any]] = []
            self.auth_calls = 0
            self.hooks: dict[str, Any] = {"fail": 0, "timeout": 0, "already_exists": 0, "down": False, "delay": 3.0}

    # -- test hooks --------------------------------------------------------------------------------
    def control(self, hooks: dict[str, Any]) -> None:
        with self.lock:
            if hooks.get("reset"):
                self.reset()
            if hooks.get("expire_sessions"):
                self.sessions.clear()
            if "token_ttl" in hooks:
                self.token_ttl = int(hooks["token_ttl"])
            for key in ("fail", "timeout", "already_exists", "down", "delay"):
                if key in hooks:
                    self.hooks[key] = hooks[key]

    def state(self) -> dict[str, Any]:
        with self.lock:
            return {"dossiers": dict(self.dossiers), "progress": {k: list(v) for k, v in self.progress.items()},
                    "ratings": dict(self.ratings),
                    "calls": list(self.calls), "auth_calls": self.auth_calls, "hooks": dict(self.hooks)}

    def _take(self, hook: str) -> bool:
        with self.lock:
            if self.hooks[hook] > 0:
                self.hooks[hook] -= 1
                return True
            return False

    # -- protocol ------------------------------------------------------------------------------------
    def handle(self, request: Request) -> tuple[int, Any]:
        if request.method != "POST" or request.path not in ("/auth", "/service"):
            return 404, {"error_code": 4, "message": "Không có dịch vụ này"}
        if self.hooks["down"]:
            return 503, {"error_code": 99, "message": "Hệ thống đang bảo trì"}
        body = request.json()
        if request.path == "/auth":
            return self._auth(body)
        if self._take("fail"):
            self._record(body, "http 500")
            return 500, {"error_code": 99, "message": "Lỗi hệ thống"}
        if self._take("timeout"):
            self._record(body, "timeout")
            time.sleep(float(self.hooks["delay"]))
            return 0, None
        return self._service(body)

    def _auth(self, body: Any) -> tuple[int, Any]:
        with self.lock:
            self.auth_calls += 1
        if not isinstance(body, dict) or (body.get("username"), body.get("password")) != (self.username, self.password):
            return 200, {"error_code": 1, "message": "Sai tên đăng nhập hoặc mật khẩu"}
        token = uuid.uuid4().hex
        with self.lock:
            self.sessions[token] = time.monotonic() + self.token_ttl
        return 200, {"error_code": 0, "session": token, "expires_in": self.token_ttl}

    def _record(self, body: Any, result: str) -> None:
        data = body.get("data") if isinstance(body, dict) else None
        with self.lock:
            self.calls.append({"service": body.get("service") if isinstance(body, dict) else None,
                               "MaHoSo": data.get("MaHoSo") if isinstance(data, dict) else None,
                               "TrangThai": (data or {}).get("TrangThaiHoSo", (data or {}).get("TrangThai"))
                               if isinstance(data, dict) else None,
                               "result": result})

    def _service(self, body: Any) -> tuple[int, Any]:
        if not isinstance(body, dict):
            return 200, {"error_code": 1, "message": "Yêu cầu phải là JSON"}
        session = body.get("session")
        with self.lock:
            expiry = self.sessions.get(session) if isinstance(session, str) else None
        if expiry is None or expiry < time.monotonic():
            self._record(body, "bad session")
            return 200, {"error_code": 3, "message": "Phiên làm việc không hợp lệ hoặc đã hết hạn"}
        service, data = body.get("service"), body.get("data")
        if service not in SERVICES or not body.get("madonvi"):
            self._record(body, "invalid")
            return 200, {"error_code": 1, "message": "Thiếu service hoặc madonvi", "errors": ["service", "madonvi"]}
        answer = getattr(self, f"_{service}")(data)
        self._record(body, {0: "ok", 1: "invalid", 2: "already exists", 4: "not found"}[answer["error_code"]])
        return 200, answer

    def _DongBoHoSoMC(self, data: Any) -> dict[str, Any]:
        errors = validate(data, "DongBoHoSoMC")
        if errors:
            return {"error_code": 1, "message": "Dữ liệu không hợp lệ", "errors": errors}
        with self.lock:
            self.dossiers[data["MaHoSo"]] = data
        if self._take("already_exists"):
            return {"error_code": 2, "message": "Hồ sơ đã tồn tại"}
        return {"error_code": 0, "message": "Thành công"}

    def _CapNhatTienDoHoSoMC(self, data: Any) -> dict[str, Any]:
        errors = validate(data, "CapNhatTienDoHoSoMC")
        if errors:
            return {"error_code": 1, "message": "Dữ liệu không hợp lệ", "errors": errors}
        with self.lock:
            if data["MaHoSo"] not in self.dossiers:
                return {"error_code": 4, "message": "Không tìm thấy hồ sơ"}
            self.progress.setdefault(data["MaHoSo"], []).append(data)
        return {"error_code": 0, "message": "Thành công"}

    def _DongBoDanhGia(self, data: Any) -> dict[str, Any]:
        errors = validate(data, "DongBoDanhGia")
        if errors:
            return {"error_code": 1, "message": "Dữ liệu không hợp lệ", "errors": errors}
        with self.lock:
            if data["MaHoSo"] not in self.dossiers:
                return {"error_code": 4, "message": "Không tìm thấy hồ sơ"}
            self.ratings[data["MaHoSo"]] = data
        return {"error_code": 0, "message": "Thành công"}

    def _TraCuuHoSo(self, data: Any) -> dict[str, Any]:
        with self.lock:
            found = self.dossiers.get((data or {}).get("MaHoSo")) if isinstance(data, dict) else None
        if found is None:
            return {"error_code": 4, "message": "Không tìm thấy hồ sơ"}
        return {"error_code": 0, "data": found, "tien_do": self.progress.get(found["MaHoSo"], [])}

    def _LayThuTuc(self, data: Any) -> dict[str, Any]:
        code = (data or {}).get("MaTTHC") if isinstance(data, dict) else None
        with self.lock:
            names = {d["MaTTHC"]: d["TenTTHC"] for d in self.dossiers.values()}
        if code not in names:
            return {"error_code": 4, "message": "Không tìm thấy thủ tục"}
        return {"error_code": 0, "data": {"MaTTHC": code, "TenTTHC": names[code]}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--port", type=int, default=8010)
    args = parser.parse_args()
    sim = NationalPortalSimulator(args.port).start()
    print(f"national portal simulator on {sim.url}", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        sim.stop()


if __name__ == "__main__":
    main()
