"""Dossier versions -> National Public Service Portal (DVCQG) messages. Pure.

Two services carry dossiers (domain.md section 8): ``DongBoHoSoMC`` creates or updates the
dossier as a whole and ``CapNhatTienDoHoSoMC`` reports one processing step. A status change
sends the dossier as it is now (so a retried or late message never moves the portal back to
an older state); a move between internal steps sends a progress record built from the event
itself, so every step reaches the portal in order. Which event goes to which service, and
the status and channel codes, are configuration (chalicelib/sync/data/national_status.json,
replaceable with MOTCUA_NATIONAL_STATUS_MAP).

Dates are ``yyyyMMddHHmmss`` in Asia/Ho_Chi_Minh on a 24-hour clock (a 12-hour ``%I`` was a
real bug in one provincial system).
"""
from __future__ import annotations

from chalicelib.payments.rules.ledger import amount_paid

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any
from collections.abc import Mapping

from chalicelib.kernel.working_days import parse_iso, to_local
from chalicelib.dossiers.rules.records import Dossier

PACKAGED_MAP = Path(__file__).parents[1] / "data" / "national_status.json"
DOSSIER_SERVICE = "DongBoHoSoMC"
PROGRESS_SERVICE = "CapNhatTienDoHoSoMC"
LOOKUP_SERVICE = "TraCuuHoSo"
PROCEDURE_SERVICE = "LayThuTuc"
SERVICES = (DOSSIER_SERVICE, PROGRESS_SERVICE, LOOKUP_SERVICE, PROCEDURE_SERVICE)
MAX_SUMMARY, MAX_HANDLER = 1000, 50
SNAPSHOT_EVENT = "SyncRequested"          # backfill: send the dossier as it is now


@dataclass(frozen=True)
class NationalConfig:
    statuses: Mapping[str, int]            # MotCua status -> TrangThaiHoSo
    channels: Mapping[str, int]            # intake channel -> HinhThuc
    services: Mapping[str, str | None]     # event type -> service (None: nothing to send)


@cache
def national_config() -> NationalConfig:
    from chalicelib.runtime.settings import settings
    path = settings().national.status_map_file or PACKAGED_MAP
    return load_config(json.loads(Path(path).read_text(encoding="utf-8")))


def load_config(data: Mapping[str, Any]) -> NationalConfig:
    """Strict: a status without a code would silently never reach the portal."""
    from chalicelib.dossiers.rules.transitions import EVENT_TYPES, STATUSES

    statuses, channels, services = data.get("statuses", {}), data.get("channels", {}), data.get("services", {})
    if missing := sorted(set(STATUSES) - set(statuses)):
        raise ValueError(f"national status map lacks {missing}")
    if bad := sorted(k for k, v in statuses.items() if not (isinstance(v, int) and 1 <= v <= 10)):
        raise ValueError(f"TrangThaiHoSo must be 1..10 for {bad}")
    if missing := sorted(set(EVENT_TYPES.values()) - set(services)):
        raise ValueError(f"national service map lacks {missing}")
    if bad := sorted(k for k, v in services.items() if v not in (DOSSIER_SERVICE, PROGRESS_SERVICE, None)):
        raise ValueError(f"unknown service for {bad}")
    return NationalConfig(dict(statuses), dict(channels), dict(services))


def portal_time(value: str | None) -> str:
    """``yyyyMMddHHmmss`` in Asia/Ho_Chi_Minh, 24-hour; "" for no value."""
    return to_local(parse_iso(value)).strftime("%Y%m%d%H%M%S") if value else ""


def _cut(text: str | None, limit: int) -> str:
    return (text or "")[:limit]


def dossier_message(dossier: Dossier, config: NationalConfig) -> dict[str, Any]:
    """The whole dossier for DongBoHoSoMC."""
    applicant = dossier["applicant"]
    result = dossier.get("result")
    return {
        "MaHoSo": dossier["code"],
        "MaTTHC": dossier["procedure_code"],
        "TenTTHC": dossier["procedure_name"],
        "MaLinhVuc": dossier.get("field_code") or "",
        "TenLinhVuc": dossier.get("field") or "",
        "ChuHoSo": applicant.get("full_name", ""),
        "LoaiDoiTuong": 1,                                   # citizens; businesses come later
        "MaDoiTuong": "",
        "DinhDanhCHS": [{"LoaiDinhDanh": 1, "SoDinhDanh": applicant.get("id_number", "")}],
        "Email": applicant.get("email", ""),
        "SoDienThoai": applicant.get("phone", ""),
        "TrichYeuHoSo": _cut(dossier.get("summary") or dossier["procedure_name"], MAX_SUMMARY),
        "NgayTiepNhan": portal_time(dossier.get("accepted_at") or dossier["submitted_at"]),
        "NgayHenTra": portal_time(dossier.get("due_at")),
        "NgayTra": portal_time(dossier.get("returned_at")),
        "NgayKetThucXuLy": portal_time(dossier.get("finished_at")),
        "TrangThaiHoSo": config.statuses[dossier["status"]],
        "HinhThuc": config.channels.get(dossier.get("channel", "online"), 0),
        "DonViXuLy": dossier.get("holder_agency_id") or dossier["agency_id"],
        "TaiLieuNop": [{"TepDinhKemId": a["upload_id"], "TenTepDinhKem": a["name"]}
                       for a in dossier.get("attachments", [])],
        "DanhSachLePhi": [{"TenPhiLePhi": f["name"], "MucPhi": f["amount"]} for f in dossier.get("fees", [])],
        "DanhSachHoSoBoSung": [_supplement(s, p) for s, p in
                               zip(dossier.get("supplements", []), dossier.get("pauses", []), strict=False)],
        "DanhSachGiayToKetQua": [{"MaGiayTo": d["upload_id"], "TenGiayTo": d["name"]}
                                 for d in (result.get("documents", []) if result else [])],
        "DuocThanhToanTrucTuyen": 1 if amount_paid(dossier) > 0 else 0,   # every payment MotCua takes is online
    }


def _supplement(request: Mapping[str, Any], pause: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "NgayYeuCau": portal_time(request.get("requested_at")),
        "NoiDungYeuCau": request.get("reason", ""),
        "NgayBoSung": portal_time(request.get("supplied_at")),
        "NgayHenTraCu": portal_time(pause.get("due_at_before")),
        "NgayHenTraMoi": portal_time(pause.get("due_at_after")),
    }


ROLE_TITLES = {"officer": "Chuyên viên", "leader": "Lãnh đạo"}


def progress_message(event: Mapping[str, Any], dossier: Dossier, config: NationalConfig) -> dict[str, Any]:
    """One step's progress for CapNhatTienDoHoSoMC, from a DossierForwarded event."""
    data = event["data"]
    step = dossier["steps"][data["to_step"] - 1] if data["to_step"] <= len(dossier.get("steps", [])) else {}
    note = f"{data['step_name']}: {data['note']}" if data.get("note") else data["step_name"]
    return {
        "MaHoSo": event["dossier_code"],
        "NguoiXuLy": _cut(data.get("assignee") or data["forwarded_by"], MAX_HANDLER),
        "ChucDanh": ROLE_TITLES.get(step.get("role", "officer"), "Chuyên viên"),
        "ThoiDiemXuLy": portal_time(data["forwarded_at"]),
        "PhongBanXuLy": data["unit"],
        "NoiDungXuLy": _cut(note, 2000),
        "TrangThai": config.statuses[event["status"]],
        "NgayBatDau": portal_time(data["forwarded_at"]),
        "NgayKetThucTheoQuyDinh": portal_time(data.get("step_due_at")),
    }


def message_for(event: Mapping[str, Any], dossier: Dossier,
                config: NationalConfig) -> tuple[str, dict[str, Any]] | None:
    """(service, data) to send for this event, or None when the portal needs nothing."""
    if event["type"] == SNAPSHOT_EVENT:
        return DOSSIER_SERVICE, dossier_message(dossier, config)
    service = config.services.get(event["type"])
    if service == PROGRESS_SERVICE:
        return service, progress_message(event, dossier, config)
    if service == DOSSIER_SERVICE:
        return service, dossier_message(dossier, config)
    return None
