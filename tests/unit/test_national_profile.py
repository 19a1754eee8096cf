"""The profile of the portal's records: what ``motcua sync check`` and the simulator refuse."""
from __future__ import annotations

import pytest

from chalicelib.sync.rules import national_profile as profile
from chalicelib.sync.rules.national_record import dossier_record
from tests.unit.test_national_record import FACTS, whole_life


def good() -> dict:
    return dossier_record(whole_life(), FACTS)


def problems(record: dict) -> list[str]:
    return [str(p) for p in profile.check(record, profile.DOSSIER)]


@pytest.mark.parametrize("change, expected", [
    ({"TrangThaiHoSo": 10}, "TrangThaiHoSo: phải là chuỗi (mọi mã và số đều gửi dạng chuỗi)"),
    ({"TrangThaiHoSo": "11"}, 'TrangThaiHoSo: mã phải là một trong "1", "2", "3", "4", "5", "6", "7", "8", "9", "10"'),
    ({"KenhThucHien": ""}, "KenhThucHien: bắt buộc (mất điểm 3.3 tỷ lệ hồ sơ trực tuyến: hồ sơ không được tính là trực tuyến)"),
    ({"HinhThuc": "2"}, 'HinhThuc: mã phải là một trong "0", "1"'),
    ({"NgayNopHoSo": "20261102200000"[:12]}, "NgayNopHoSo: phải có dạng yyyyMMddHHmmss (24 giờ)"),
    ({"NgayTra": "20261110250000"}, "NgayTra: phải có dạng yyyyMMddHHmmss (24 giờ)"),
    ({"TrichYeuHoSo": "x" * 1001}, "TrichYeuHoSo: dài tối đa 1000 ký tự (đang có 1001)"),
    ({"DonViXuLy": ""}, "DonViXuLy: bắt buộc"),
])
def test_a_wrong_field_is_named_with_what_is_wrong(change, expected):
    assert problems({**good(), **change}) == [expected]


def test_nested_lists_are_checked_item_by_item():
    record = good()
    record["DanhSachGiayToKetQua"][0]["DuongDanTepTinKetQua"] = ""
    record["DanhSachLePhi"][0]["Gia"] = 75000
    record["TaiLieuNop"][1]["DuongDanTaiTepTin"] = "s3://motcua-prod-attachments/uploads/x"
    assert problems(record) == [
        "DanhSachLePhi[0].Gia: phải là chuỗi (mọi mã và số đều gửi dạng chuỗi)",
        "TaiLieuNop[1].DuongDanTaiTepTin: phải là đường dẫn tải tệp http(s) đầy đủ "
        "(mất điểm 4.2 hồ sơ số hóa: thành phần không có tệp tải được)",
        "DanhSachGiayToKetQua[0].DuongDanTepTinKetQua: bắt buộc "
        "(mất điểm 3.3 và 4.1: kết quả không được tính là kết quả điện tử)"]


def test_a_record_that_is_not_an_object_is_one_problem():
    assert [str(p) for p in profile.check([good()], profile.DOSSIER)] == ["data: phải là đối tượng JSON"]


def test_progress_records_need_a_short_handler_and_a_string_status():
    record = {"MaHoSo": "X", "NguoiXuLy": "n" * 51, "ThoiDiemXuLy": "20261102090000", "PhongBanXuLy": "Một cửa",
              "NoiDungXuLy": "Tiếp nhận", "TrangThai": 2}
    assert [p.field for p in profile.check(record, profile.PROGRESS)] == ["NguoiXuLy", "TrangThai"]


def test_a_finished_dossier_without_result_link_costs_the_electronic_result():
    record = {**good(), "DanhSachGiayToKetQua": []}
    assert [p.field for p in profile.missing_result(record, result_is_document=True)] == ["DanhSachGiayToKetQua"]
    assert profile.missing_result(record, result_is_document=False) == []
    assert profile.missing_result(good(), result_is_document=True) == []
    assert profile.missing_result({**record, "TrangThaiHoSo": "4"}, result_is_document=True) == []


def test_portal_times_must_be_real_dates_on_a_24_hour_clock():
    assert profile.is_portal_time("20261231235959")
    assert not profile.is_portal_time("20260230120000") and not profile.is_portal_time("2026123123595")
