"""The national portal records (national-portal.md §3, §4) built from a dossier. Pure: the
expected records below are written out by hand from the dossier each test builds."""
from __future__ import annotations

import pytest

from chalicelib.sync.rules import national_profile as profile
from chalicelib.sync.rules.national_record import (
    RecordFacts, dossier_record, progress_for, progress_records, rating_record,
)
from chalicelib.dossiers.rules.submission import decide
from chalicelib.kernel.working_days import iso
from tests.unit.test_processing import COMMUNE, DEPARTMENT, accepted, at, dossier, run

STATUSES = {"submitted": 1, "accepted": 2, "refused": 3, "processing": 4, "supplement_requested": 5,
            "withdrawn": 7, "stopped": 8, "finished": 9, "returned": 10}
CHANNELS = {"direct": 1, "online": 2, "postal": 3}
NAMES = {COMMUNE: "UBND phường Hải Châu", DEPARTMENT: "Sở Xây dựng"}
FACTS = RecordFacts(STATUSES, CHANNELS, NAMES, lambda f: f"https://motcua.example/files/T-{f['upload_id']}")
CODE = f"{COMMUNE}-261102-0001"


def whole_life() -> dict:
    """Accepted 2 Nov, moved on 3 Nov, a supplement asked 4 Nov and supplied 5 Nov, the
    result on 9 Nov, returned 10 Nov, rated."""
    d = accepted()
    d["fees"] = [{"name": "Lệ phí cấp giấy phép", "amount": 75000}]
    d["attachments"] = [{"upload_id": "u1", "name": "Đơn.pdf"}]
    run(d, "forward", at(3, 10), "processing", to_step=2, assignee="cv-sxd", note="Xin ý kiến")
    run(d, "request_supplement", at(4, 15), "supplement_requested", reason="Thiếu bản vẽ", documents=["Bản vẽ"])
    run(d, "supplement", at(5, 9), "processing", attachments=[{"upload_id": "u2", "name": "Bản vẽ.pdf"}])
    run(d, "issue_result", at(9, 16), "finished", decision="Cấp phép",
        documents=[{"upload_id": "r1", "name": "Giấy phép.pdf"}])
    run(d, "return_result", at(10, 10), "returned", method="desk")
    run(d, "rate", at(10, 11), "returned", criteria={str(i): 2 for i in range(1, 10)}, overall=5, comment="Tốt")
    return d


def submitted_file(upload_id: str, name: str) -> dict:
    return {"TepDinhKemId": upload_id, "TenTepDinhKem": name,
            "DuongDanTaiTepTin": f"https://motcua.example/files/T-{upload_id}", "MaThanhPhanHoSo": "",
            "IsDeleted": "False", "DuocSoHoa": "0", "DuocTaiSuDung": "0", "DuocLayTuKhoDMQG": "0"}


def test_a_whole_life_maps_to_every_field_of_section_3_as_strings():
    assert dossier_record(whole_life(), FACTS) == {
        "MaHoSo": CODE, "MaTTHC": "1.009994", "TenTTHC": "Cấp giấy phép xây dựng",
        "MaLinhVuc": "XD", "TenLinhVuc": "Xây dựng",
        "KenhThucHien": "2", "HinhThuc": "0",
        "ChuHoSo": "Lê Văn Bình", "LoaiDoiTuong": "1", "MaDoiTuong": "000000000000",
        "DinhDanhCHS": [{"LoaiDinhDanh": "1", "SoDinhDanh": "000000000000"}],
        "SoDienThoai": "0900000000", "Email": "", "Fax": "", "ThongTinKhac": "", "GhiChu": "",
        "TaiKhoanDuocXacThucVoiVNeID": "0",
        "TrichYeuHoSo": "Cấp giấy phép xây dựng",
        "NgayNopHoSo": "20261102080000", "NgayTiepNhan": "20261102090000",
        "NgayHenTra": "20261117170000",          # 16 Nov, one day later for the paused day
        "NgayKetThucXuLy": "20261109160000", "NgayTra": "20261110100000", "NgayTuChoi": "",
        "TrangThaiHoSo": "10",
        "DonViXuLy": "UBND phường Hải Châu", "NoiNopHoSo": COMMUNE,
        "DuocThanhToanTrucTuyen": "0", "HoSoCoThanhPhanSoHoa": "0",
        "DanhSachLePhi": [{"TenPhiLePhi": "Lệ phí cấp giấy phép", "MaPhiLePhi": "", "HinhThucThu": "",
                           "Gia": "75000", "LoaiPhiLePhi": "2"}],
        "TaiLieuNop": [submitted_file("u1", "Đơn.pdf"), submitted_file("u2", "Bản vẽ.pdf")],
        "DanhSachGiayToKetQua": [{"TenGiayTo": "Giấy phép.pdf", "MaThanhPhanHoSo": "", "GiayToId": "r1",
                                  "DuongDanTepTinKetQua": "https://motcua.example/files/T-r1",
                                  "MaGiayToKetQua": ""}],
        "DanhSachHoSoBoSung": [{
            "HoSoBoSungId": f"{CODE}-BS1", "NguoiYeuCauBoSung": "officer-1", "NoiDungBoSung": "Thiếu bản vẽ",
            "NgayBoSung": "20261104150000", "NguoiTiepNhanBoSung": "officer-1", "ThongTinTiepNhan": "Bản vẽ",
            "NgayTiepNhanBoSung": "20261105090000", "TrangThaiBoSung": "1",
            "DanhSachGiayToBoSung": [submitted_file("u2", "Bản vẽ.pdf")], "DanhSachLePhiBoSung": [],
            "NgayHenTraTruoc": "20261116170000", "NgayHenTraMoi": "20261117170000"}],
    }


def test_every_record_of_a_whole_life_passes_the_profile():
    d = whole_life()
    assert profile.check(dossier_record(d, FACTS), profile.DOSSIER) == []
    assert [profile.check(r, profile.PROGRESS) for r in progress_records(d, FACTS)] == [[]] * 5
    assert profile.check(rating_record(d, FACTS), profile.RATING) == []


@pytest.mark.parametrize("channel, code", [("direct", "1"), ("online", "2"), ("postal", "3"), ("fax", "")])
def test_the_intake_channel_goes_into_kenh_thuc_hien_never_hinh_thuc(channel, code):
    d = dossier()
    d["channel"] = channel
    record = dossier_record(d, FACTS)
    assert (record["KenhThucHien"], record["HinhThuc"]) == (code, "0")


@pytest.mark.parametrize("keys, code", [({}, "0"), ({"result_delivery": "desk"}, "0"), ({"result_delivery": "post"}, "1"),
                                        ({"result_delivery": None, "return_method": "post"}, "1"),   # stored before the choice existed
                                        ({"result_delivery": "desk", "return_method": "post"}, "0")])
def test_hinh_thuc_is_how_the_result_is_delivered_at_the_desk_by_default(keys, code):
    d = {**dossier(), **keys}
    assert dossier_record(d, FACTS)["HinhThuc"] == code


def applicant_record(**applicant) -> dict:
    d = dossier()
    d["applicant"] = {"full_name": "Trần Thị Cúc", "phone": "0911111111", **applicant}
    return dossier_record(d, FACTS)


def test_a_citizen_is_identified_by_a_12_digit_id_or_an_old_9_digit_card():
    new = applicant_record(id_number="079123456789", vneid_verified=True)
    assert (new["LoaiDoiTuong"], new["MaDoiTuong"], new["DinhDanhCHS"], new["TaiKhoanDuocXacThucVoiVNeID"]) == (
        "1", "079123456789", [{"LoaiDinhDanh": "1", "SoDinhDanh": "079123456789"}], "1")
    old = applicant_record(type="citizen", id_number="123456789")
    assert old["DinhDanhCHS"] == [{"LoaiDinhDanh": "2", "SoDinhDanh": "123456789"}]
    assert applicant_record()["DinhDanhCHS"] == [] and applicant_record()["MaDoiTuong"] == ""


def test_a_business_is_named_and_identified_by_its_tax_code():
    record = applicant_record(type="business", id_number="079123456789", tax_code="0312345678",
                              organization_name="Công ty TNHH Hải Châu", legal_representative="Trần Thị Cúc")
    assert (record["ChuHoSo"], record["LoaiDoiTuong"], record["MaDoiTuong"]) == (
        "Công ty TNHH Hải Châu", "2", "0312345678")
    assert record["DinhDanhCHS"] == [{"LoaiDinhDanh": "3", "SoDinhDanh": "0312345678"}]
    assert record["ThongTinKhac"] == "Người đại diện: Trần Thị Cúc"


@pytest.mark.parametrize("kind, code", [("agency", "3"), ("organization", "4"), ("unknown", "4")])
def test_state_agencies_and_other_organisations_have_their_own_codes(kind, code):
    assert applicant_record(type=kind, organization_name="Trường THCS Lê Lợi")["LoaiDoiTuong"] == code


def test_don_vi_xu_ly_is_the_agency_name_and_noi_nop_ho_so_the_receiving_desk():
    d = {**dossier(), "receiving_agency_id": DEPARTMENT}
    record = dossier_record(d, FACTS)
    assert (record["DonViXuLy"], record["NoiNopHoSo"]) == ("UBND phường Hải Châu", DEPARTMENT)
    unknown = RecordFacts(STATUSES, CHANNELS, {}, FACTS.link)
    assert dossier_record(dossier(), unknown)["DonViXuLy"] == COMMUNE   # no name known: the code, not nothing


def test_a_refusal_gives_ngay_tu_choi_and_an_end_status_in_progress():
    d = dossier()
    decide(d, action="refuse", status="refused", at=iso(at(2, 10)), by="officer-1", reason="Sai thủ tục")
    record = dossier_record(d, FACTS)
    assert (record["TrangThaiHoSo"], record["NgayTuChoi"], record["NgayTiepNhan"]) == ("3", "20261102100000", "")
    assert progress_records(d, FACTS) == [{
        "MaHoSo": CODE, "NguoiXuLy": "officer-1", "ChucDanh": "Cán bộ một cửa", "ThoiDiemXuLy": "20261102100000",
        "PhongBanXuLy": "Bộ phận Một cửa - UBND phường Hải Châu", "NoiDungXuLy": "Từ chối tiếp nhận hồ sơ: Sai thủ tục",
        "TrangThai": "3", "NgayBatDau": "", "NgayKetThucTheoQuyDinh": ""}]


def paid(*entries: dict) -> dict:
    d = dossier()
    d["fees"] = [{"name": "Phí thẩm định", "amount": 50000}, {"name": "Lệ phí", "amount": 25000}]
    d["payment"] = {"amount_paid": 75000, "pending": None, "receipts_issued": 1, "payments": list(entries)}
    return dossier_record(d, FACTS)


@pytest.mark.parametrize("entries, online, method", [
    ([], "0", ""),
    ([{"payment_id": "p1", "status": "succeeded", "amount": 75000, "provider": "paygov"}], "1", "1"),
    ([{"payment_id": "p1", "status": "succeeded", "amount": 75000, "provider": "vnpay"}], "2", "1"),
    ([{"payment_id": "p1", "status": "succeeded", "amount": 75000}], "2", "1"),        # before providers were named
    ([{"payment_id": "p1", "status": "succeeded", "amount": 75000, "provider": "counter"}], "0", "2"),
    ([{"payment_id": "p1", "status": "failed", "amount": 75000, "provider": "paygov"}], "0", ""),
])
def test_online_payment_is_1_on_paygov_2_on_the_provinces_gateway_else_0(entries, online, method):
    record = paid(*entries)
    assert record["DuocThanhToanTrucTuyen"] == online
    assert [f["HinhThucThu"] for f in record["DanhSachLePhi"]] == [method, method]


def test_fees_carry_their_amount_as_a_string_and_their_kind_from_their_name():
    assert paid()["DanhSachLePhi"] == [
        {"TenPhiLePhi": "Phí thẩm định", "MaPhiLePhi": "", "HinhThucThu": "", "Gia": "50000", "LoaiPhiLePhi": "1"},
        {"TenPhiLePhi": "Lệ phí", "MaPhiLePhi": "", "HinhThucThu": "", "Gia": "25000", "LoaiPhiLePhi": "2"}]


def test_submitted_files_carry_their_link_and_digitisation_flags():
    d = dossier()
    d["attachments"] = [{"upload_id": "u1", "name": "CCCD.pdf", "digitised": True, "reused_from": "KQ-1",
                         "from_citizen_store": True}, {"upload_id": "u2", "name": "Đơn.pdf"}]
    record = dossier_record(d, FACTS)
    assert record["TaiLieuNop"][0] == {**submitted_file("u1", "CCCD.pdf"), "DuocSoHoa": "1", "DuocTaiSuDung": "1",
                                       "DuocLayTuKhoDMQG": "1"}
    assert record["TaiLieuNop"][1] == submitted_file("u2", "Đơn.pdf")
    assert record["HoSoCoThanhPhanSoHoa"] == "1"


def test_the_summary_is_cut_to_1000_characters():
    d = dossier()
    d["summary"] = "x" * 1500
    assert len(dossier_record(d, FACTS)["TrichYeuHoSo"]) == 1000


def progress(handler: str, title: str, when: str, unit: str, content: str, status: str, start: str, due: str) -> dict:
    return {"MaHoSo": CODE, "NguoiXuLy": handler, "ChucDanh": title, "ThoiDiemXuLy": when, "PhongBanXuLy": unit,
            "NoiDungXuLy": content, "TrangThai": status, "NgayBatDau": start, "NgayKetThucTheoQuyDinh": due}


DESK = "Bộ phận Một cửa - UBND phường Hải Châu"


def test_progress_covers_acceptance_every_step_the_end_of_processing_and_the_return():
    assert progress_records(whole_life(), FACTS) == [
        progress("officer-1", "Cán bộ một cửa", "20261102090000", DESK, "Tiếp nhận hồ sơ", "2",
                 "20261102090000", "20261117170000"),
        progress("officer-1", "Chuyên viên", "20261102090000", "Phòng Kinh tế", "Thẩm định", "4",
                 "20261102090000", "20261105170000"),
        progress("cv-sxd", "Chuyên viên", "20261103100000", "Phòng Quản lý xây dựng", "Lấy ý kiến Sở Xây dựng", "4",
                 "20261103100000", "20261110170000"),
        progress("officer-1", "Chuyên viên", "20261109160000", DESK, "Đã xử lý xong, có kết quả", "9",
                 "20261102090000", "20261117170000"),
        progress("officer-1", "Cán bộ một cửa", "20261110100000", DESK, "Đã trả kết quả", "10",
                 "20261102090000", "20261117170000"),
    ]


def test_progress_for_a_transition_is_only_what_it_produced():
    d = whole_life()
    assert [r["TrangThai"] for r in progress_for(d, FACTS, "accept", iso(at(2)))] == ["2", "4"]   # enters step 1
    assert [r["NguoiXuLy"] for r in progress_for(d, FACTS, "forward", iso(at(3, 10)))] == ["cv-sxd"]
    assert [r["TrangThai"] for r in progress_for(d, FACTS, "issue_result", iso(at(9, 16)))] == ["9"]
    assert progress_for(d, FACTS, "request_supplement", iso(at(4, 15))) == []    # a supplement: in the record
    assert progress_for(d, FACTS, "submit", iso(at(2))) == []                    # same second, other transition


def test_a_step_note_is_in_the_content_and_the_handler_is_cut_to_50():
    d = accepted()
    run(d, "forward", at(4, 14), "processing", to_step=3, assignee="n" * 80, note="Trình ký")
    last = progress_records(d, FACTS)[-1]
    assert (len(last["NguoiXuLy"]), last["ChucDanh"], last["NoiDungXuLy"]) == (50, "Lãnh đạo", "Ký giấy phép: Trình ký")


def test_a_rating_is_its_nine_criteria_and_overall_as_strings():
    assert rating_record(whole_life(), FACTS) == {
        "MaHoSo": CODE, "MaTTHC": "1.009994", "DonViXuLy": "UBND phường Hải Châu", "NgayDanhGia": "20261110110000",
        "MucDoHaiLong": "5", "DanhGiaTaiQuay": "0",
        "DanhSachTieuChi": [{"MaTieuChi": str(i), "Diem": "2"} for i in range(1, 10)], "YKien": "Tốt"}
    assert rating_record(dossier(), FACTS) is None


def test_a_rating_at_the_desk_says_so():
    d = whole_life()
    d["rating"]["at_desk"] = True
    assert rating_record(d, FACTS)["DanhGiaTaiQuay"] == "1"
