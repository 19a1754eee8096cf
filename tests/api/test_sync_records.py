"""What reaches the national portal for a dossier's whole life, and the operator's view of
it: `motcua sync show CODE` and `motcua sync check`."""
from __future__ import annotations

import json
from urllib.parse import urlsplit

import pytest
import requests

from chalicelib.dossiers.store import dossiers as store
from chalicelib.sync.rules import national_profile as profile
from chalicelib.sync.use_cases.national_records import records_of
from motcua.cli import main
from tests.api.conftest import put_upload
from tests.api.test_workflow import ALL_CRITERIA, act, new_accepted, officer, result_docs


@pytest.fixture(autouse=True)
def keep_environment(monkeypatch):
    """The CLI fills in local-stack defaults; keep them from leaking into other tests."""
    monkeypatch.setenv("MOTCUA_AWS_ENDPOINT", "")
    monkeypatch.setenv("MOTCUA_STAGE", "local")


def returned_and_rated(api, aws_env) -> tuple[str, str]:
    upload = put_upload(aws_env, "citizen-walk", data=b"%PDF-1.4 don")
    code, citizen, _ = new_accepted(api, attachments=[{"upload_id": upload, "name": "Đơn đề nghị.pdf"}])
    commune = officer(api)
    assert act(api, code, commune, "issue_result", decision="approved", documents=result_docs(aws_env)).status_code == 200
    assert act(api, code, commune, "return_result", method="desk").status_code == 200
    rated = api.call("POST", f"/dossiers/{code}/rating", token=citizen, body={"criteria": ALL_CRITERIA, "overall": 5})
    assert rated.status_code == 200, rated.json
    return code, citizen


def download(api, link: str) -> bytes:
    redirect = api.call("GET", urlsplit(link).path)
    assert redirect.status_code == 302, redirect.json
    return requests.get(redirect.headers["Location"], timeout=5).content


def test_a_whole_life_reaches_the_portal_with_progress_rating_and_working_links(api, aws_env, dispatcher, simulators):
    code, _ = returned_and_rated(api, aws_env)
    dispatcher.drain()
    state = simulators.national.state()
    assert {c["result"] for c in state["calls"] if c["MaHoSo"] == code} == {"ok"}     # every record passed
    sent = state["dossiers"][code]
    assert (sent["TrangThaiHoSo"], sent["KenhThucHien"], sent["HinhThuc"]) == ("10", "2", "0")
    assert sent["DonViXuLy"] != sent["NoiNopHoSo"]                                     # a name, and a code
    assert [p["TrangThai"] for p in state["progress"][code]] == ["2", "4", "9", "10"]
    assert state["ratings"][code]["MucDoHaiLong"] == "5"
    assert download(api, sent["TaiLieuNop"][0]["DuongDanTaiTepTin"]) == b"%PDF-1.4 don"
    assert download(api, sent["DanhSachGiayToKetQua"][0]["DuongDanTepTinKetQua"]).startswith(b"%PDF")


def test_sync_show_prints_the_records_that_would_be_sent(api, aws_env, capsys):
    code, _ = returned_and_rated(api, aws_env)
    assert main(["sync", "show", code]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown == records_of(store.get_dossier(code))                 # the same links: shown twice, one link
    assert list(shown) == ["DongBoHoSoMC", "CapNhatTienDoHoSoMC", "DongBoDanhGia"]
    assert shown["DongBoHoSoMC"][0]["MaHoSo"] == code and len(shown["CapNhatTienDoHoSoMC"]) == 4
    assert profile.check(shown["DongBoHoSoMC"][0], profile.DOSSIER) == []
    assert main(["sync", "show", "000.22.30.H50-000000-0000"]) == 1
    assert "no dossier" in capsys.readouterr().err


def test_sync_check_prints_what_would_cost_the_province_and_fails(api, aws_env, capsys):
    good, _, _ = new_accepted(api, key="check-0001")
    bad, _, _ = new_accepted(api, key="check-0002")
    dossier = store.get_dossier(bad)
    dossier["channel"] = "kiosk"                       # a channel the national portal has no code for
    store.write_as_is(dossier)
    assert main(["sync", "check", "--agency", dossier["agency_id"]]) == 1
    out = capsys.readouterr().out
    assert f"{bad} (accepted, {dossier['agency_id']})" in out and good not in out
    assert "KenhThucHien: bắt buộc (mất điểm 3.3" in out
    assert "checked 2 open dossier(s): 1 with problems" in out
    assert "  1 dossier(s): 3.3 tỷ lệ hồ sơ trực tuyến: hồ sơ không được tính là trực tuyến" in out


def test_sync_check_flags_a_field_too_long_for_the_portal(api, aws_env, capsys):
    code, _, _ = new_accepted(api, key="check-0004")
    dossier = store.get_dossier(code)
    dossier["procedure_name"] = "Thủ tục " * 130            # 1,040 characters: TenTTHC takes 1,000
    store.write_as_is(dossier)
    assert main(["sync", "check"]) == 1
    out = capsys.readouterr().out
    assert "TenTTHC: dài tối đa 1000 ký tự (đang có 1040)" in out
    assert "1 dossier(s): Cổng DVCQG sẽ từ chối bản ghi" in out


def test_sync_check_flags_a_result_without_a_link_and_passes_when_all_is_well(api, aws_env, capsys):
    code, _, _ = new_accepted(api, key="check-0003")
    assert main(["sync", "check"]) == 0
    assert "1 open dossier(s): 0 with problems" in capsys.readouterr().out
    assert act(api, code, officer(api), "issue_result", decision="approved",
               documents=result_docs(aws_env)).status_code == 200
    dossier = store.get_dossier(code)
    dossier["result"]["documents"] = []             # as a v1 import or a ministry's report may leave it
    store.write_as_is(dossier)
    assert main(["sync", "check"]) == 1
    assert "DanhSachGiayToKetQua: hồ sơ đã có kết quả nhưng không gửi tệp kết quả" in capsys.readouterr().out
