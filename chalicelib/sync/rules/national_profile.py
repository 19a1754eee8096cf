"""The national portal's record profile: which fields a record must carry, in which form. Pure.

One data table per record (``DOSSIER``, ``PROGRESS``, ``RATING``), read from the national
portal's protocol as real clients send it (../shared/docs/national-portal.md §3 and §4; no
official specification is public). ``check`` applies a table to a record; the loopback
simulator (motcua/simulators/national.py) refuses what it finds, and ``motcua sync check``
prints it for every open dossier before the portal sees it. ``cost`` says what a problem
costs the province on the national index (Decision 766/QĐ-TTg, national-portal.md §5).

Every code and number is a string; times are ``yyyyMMddHHmmss`` on a 24-hour clock.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from chalicelib.kernel.text import is_ascii_digits

TEXT, CODE, TIME, DIGITS, URL, LIST = "text", "code", "time", "digits", "url", "list"


@dataclass(frozen=True)
class Field:
    """One field: required (present and not empty), its form, the codes it may take, its
    longest length, the profile of its items (a list), and what a wrong value costs."""
    form: str = TEXT
    required: bool = False
    codes: tuple[str, ...] = ()
    max_length: int | None = None
    items: Mapping[str, Field] = field(default_factory=dict)
    cost: str = ""


STATUS_CODES = tuple(str(n) for n in range(1, 11))
YES_NO = ("0", "1")

IDENTIFIER = {"LoaiDinhDanh": Field(CODE, required=True, codes=("1", "2", "3")),
              "SoDinhDanh": Field(TEXT, required=True, max_length=20)}
FEE = {"TenPhiLePhi": Field(TEXT, required=True, max_length=500), "MaPhiLePhi": Field(TEXT, max_length=50),
       "HinhThucThu": Field(CODE, codes=("", "1", "2")), "Gia": Field(DIGITS, required=True),
       "LoaiPhiLePhi": Field(CODE, codes=("1", "2"))}
SUBMITTED_FILE = {
    "TepDinhKemId": Field(TEXT, required=True, max_length=100), "TenTepDinhKem": Field(TEXT, required=True, max_length=4000),
    "DuongDanTaiTepTin": Field(URL, required=True, cost="4.2 hồ sơ số hóa: thành phần không có tệp tải được"),
    "MaThanhPhanHoSo": Field(TEXT, max_length=100), "IsDeleted": Field(CODE, codes=("True", "False")),
    "DuocSoHoa": Field(CODE, codes=YES_NO), "DuocTaiSuDung": Field(CODE, codes=YES_NO),
    "DuocLayTuKhoDMQG": Field(CODE, codes=YES_NO)}
RESULT_DOCUMENT = {
    "TenGiayTo": Field(TEXT, required=True, max_length=2000), "MaThanhPhanHoSo": Field(TEXT, max_length=100),
    "GiayToId": Field(TEXT, max_length=100),
    "DuongDanTepTinKetQua": Field(URL, required=True, cost="3.3 và 4.1: kết quả không được tính là kết quả điện tử"),
    "MaGiayToKetQua": Field(TEXT, max_length=100)}
SUPPLEMENT = {
    "HoSoBoSungId": Field(TEXT, required=True), "NguoiYeuCauBoSung": Field(TEXT, max_length=200),
    "NoiDungBoSung": Field(TEXT, required=True, max_length=2000), "NgayBoSung": Field(TIME, required=True),
    "NguoiTiepNhanBoSung": Field(TEXT, max_length=200), "ThongTinTiepNhan": Field(TEXT, max_length=2000),
    "NgayTiepNhanBoSung": Field(TIME), "TrangThaiBoSung": Field(CODE, codes=YES_NO),
    "DanhSachGiayToBoSung": Field(LIST, items=SUBMITTED_FILE), "DanhSachLePhiBoSung": Field(LIST, items=FEE),
    "NgayHenTraTruoc": Field(TIME), "NgayHenTraMoi": Field(TIME)}

DOSSIER: Mapping[str, Field] = {
    "MaHoSo": Field(TEXT, required=True, max_length=50),
    "MaTTHC": Field(TEXT, required=True, max_length=50),
    "TenTTHC": Field(TEXT, required=True, max_length=1000),
    "MaLinhVuc": Field(TEXT, max_length=50),
    "TenLinhVuc": Field(TEXT, max_length=500),
    "KenhThucHien": Field(CODE, required=True, codes=("1", "2", "3"),
                          cost="3.3 tỷ lệ hồ sơ trực tuyến: hồ sơ không được tính là trực tuyến"),
    "HinhThuc": Field(CODE, required=True, codes=YES_NO),
    "ChuHoSo": Field(TEXT, required=True, max_length=200),
    "LoaiDoiTuong": Field(CODE, required=True, codes=("1", "2", "3", "4")),
    "MaDoiTuong": Field(TEXT, max_length=50),
    "DinhDanhCHS": Field(LIST, items=IDENTIFIER, cost="4.5 dữ liệu dân cư: chủ hồ sơ không có định danh"),
    "SoDienThoai": Field(TEXT, max_length=20), "Email": Field(TEXT, max_length=200), "Fax": Field(TEXT, max_length=20),
    "ThongTinKhac": Field(TEXT, max_length=2000), "GhiChu": Field(TEXT, max_length=2000),
    "TrichYeuHoSo": Field(TEXT, required=True, max_length=1000),
    "NgayNopHoSo": Field(TIME, required=True),
    "NgayTiepNhan": Field(TIME, cost="1.4 tỷ lệ đồng bộ: hồ sơ không thuộc kỳ nào"),
    "NgayHenTra": Field(TIME, cost="2.1 đúng hạn: chấm theo thời hạn luật định"),
    "NgayKetThucXuLy": Field(TIME), "NgayTra": Field(TIME), "NgayTuChoi": Field(TIME),
    "TrangThaiHoSo": Field(CODE, required=True, codes=STATUS_CODES),
    "DonViXuLy": Field(TEXT, required=True, max_length=500),
    "NoiNopHoSo": Field(TEXT, required=True, max_length=50),
    "DuocThanhToanTrucTuyen": Field(CODE, required=True, codes=("0", "1", "2"),
                                    cost="3.6 tỷ lệ thanh toán trực tuyến"),
    "TaiKhoanDuocXacThucVoiVNeID": Field(CODE, codes=YES_NO),
    "HoSoCoThanhPhanSoHoa": Field(CODE, codes=YES_NO),
    "DanhSachLePhi": Field(LIST, items=FEE),
    "TaiLieuNop": Field(LIST, items=SUBMITTED_FILE),
    "DanhSachGiayToKetQua": Field(LIST, items=RESULT_DOCUMENT),
    "DanhSachHoSoBoSung": Field(LIST, items=SUPPLEMENT),
}

PROGRESS: Mapping[str, Field] = {
    "MaHoSo": Field(TEXT, required=True, max_length=50),
    "NguoiXuLy": Field(TEXT, required=True, max_length=50),
    "ChucDanh": Field(TEXT, max_length=200),
    "ThoiDiemXuLy": Field(TIME, required=True),
    "PhongBanXuLy": Field(TEXT, required=True, max_length=500),
    "NoiDungXuLy": Field(TEXT, required=True, max_length=2000),
    "TrangThai": Field(CODE, required=True, codes=STATUS_CODES,
                       cost="2.1 đúng hạn: thời điểm kết thúc xử lý đọc từ tiến độ"),
    "NgayBatDau": Field(TIME),
    "NgayKetThucTheoQuyDinh": Field(TIME),
}

RATING: Mapping[str, Field] = {
    "MaHoSo": Field(TEXT, required=True, max_length=50),
    "MaTTHC": Field(TEXT, required=True, max_length=50),
    "DonViXuLy": Field(TEXT, required=True, max_length=500),
    "NgayDanhGia": Field(TIME, required=True),
    "MucDoHaiLong": Field(CODE, required=True, codes=("1", "2", "3", "4", "5")),
    "DanhGiaTaiQuay": Field(CODE, codes=YES_NO),
    "DanhSachTieuChi": Field(LIST, required=True, items={"MaTieuChi": Field(CODE, required=True, codes=STATUS_CODES[:9]),
                                                          "Diem": Field(CODE, required=True, codes=("0", "1", "2"))}),
    "YKien": Field(TEXT, max_length=2000),
}

PROFILES: Mapping[str, Mapping[str, Field]] = {
    "DongBoHoSoMC": DOSSIER, "CapNhatTienDoHoSoMC": PROGRESS, "DongBoDanhGia": RATING}


@dataclass(frozen=True)
class Problem:
    """A field the portal would refuse or read wrongly; ``cost`` names the index indicator."""
    field: str
    message: str
    cost: str = ""

    def __str__(self) -> str:
        return f"{self.field}: {self.message}" + (f" (mất điểm {self.cost})" if self.cost else "")


def is_portal_time(value: str) -> bool:
    """14 digits that are a real date and time on a 24-hour clock."""
    if not re.fullmatch(r"[0-9]{14}", value):
        return False
    try:
        datetime.strptime(value, "%Y%m%d%H%M%S")
    except ValueError:
        return False
    return True


def _form_error(spec: Field, value: str) -> str | None:
    if spec.form == CODE and value not in spec.codes:
        return "mã phải là một trong " + ", ".join(f'"{c}"' for c in spec.codes if c)
    if spec.form == TIME and not is_portal_time(value):
        return "phải có dạng yyyyMMddHHmmss (24 giờ)"
    if spec.form == DIGITS and not is_ascii_digits(value):
        return "phải là chuỗi chữ số"
    if spec.form == URL and not re.fullmatch(r"https?://[^\s/]+/\S*", value):
        return "phải là đường dẫn tải tệp http(s) đầy đủ"
    if spec.max_length is not None and len(value) > spec.max_length:
        return f"dài tối đa {spec.max_length} ký tự (đang có {len(value)})"
    return None


def _check_value(name: str, spec: Field, value: Any) -> list[Problem]:
    if value is None or value == "" or value == []:
        return [Problem(name, "bắt buộc", spec.cost)] if spec.required else []
    if spec.form == LIST:
        if not isinstance(value, list):
            return [Problem(name, "phải là danh sách", spec.cost)]
        return [problem for i, item in enumerate(value) for problem in check(item, spec.items, f"{name}[{i}].")]
    if not isinstance(value, str):
        return [Problem(name, "phải là chuỗi (mọi mã và số đều gửi dạng chuỗi)", spec.cost)]
    error = _form_error(spec, value)
    return [Problem(name, error, spec.cost)] if error else []


def check(record: Any, profile: Mapping[str, Field], prefix: str = "") -> list[Problem]:
    """Every problem of ``record`` against ``profile``, fields in the profile's order. A key
    the profile does not know is not a problem (the portal ignores it)."""
    if not isinstance(record, Mapping):
        return [Problem(prefix.rstrip(".") or "data", "phải là đối tượng JSON")]
    return [problem for name, spec in profile.items() for problem in _check_value(prefix + name, spec, record.get(name))]


def missing_result(record: Mapping[str, Any], *, result_is_document: bool) -> list[Problem]:
    """A finished or returned dossier of a procedure whose result is a document, synced with
    no result link: the index counts no electronic result for it (indicators 3.3, 4.1, 4.2)."""
    finished = record.get("TrangThaiHoSo") in ("9", "10")
    if not (finished and result_is_document) or record.get("DanhSachGiayToKetQua"):
        return []
    return [Problem("DanhSachGiayToKetQua", "hồ sơ đã có kết quả nhưng không gửi tệp kết quả",
                    "3.3, 4.1 và 4.2: không có kết quả điện tử")]
