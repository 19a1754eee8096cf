"""The portal adapter against the loopback simulator, speaking the protocol of
docs/national-portal.md: endpoints, dstcode, LGSP, sessions, arrays, create then update,
string or number error codes, and each fault sorted into the right kind."""
from __future__ import annotations

import json
from typing import Any

import pytest
import requests

from chalicelib.sync.adapters.national_portal import (
    LgspClient, NationalPortal, PortalMisconfigured, PortalRejected, PortalSettings, PortalUnavailable, error_code,
)
from motcua.simulators.national import NationalPortalSimulator

CODE = "000.22.30.H50-261121-0001"
GOOD = {"MaHoSo": CODE, "MaTTHC": "1.009994", "TenTTHC": "Cấp giấy phép xây dựng",
        "KenhThucHien": "2", "HinhThuc": "0", "ChuHoSo": "Nguyễn Văn An", "LoaiDoiTuong": "1",
        "TrichYeuHoSo": "Xin cấp phép", "NgayNopHoSo": "20261121150000", "NgayTiepNhan": "20261121153000",
        "NgayHenTra": "", "TrangThaiHoSo": "2", "DonViXuLy": "UBND phường Hải Châu", "NoiNopHoSo": "000.22.30.H50",
        "DuocThanhToanTrucTuyen": "0"}
STEP = {"MaHoSo": CODE, "NguoiXuLy": "Lê Văn Bình", "ThoiDiemXuLy": "20261121153000",
        "PhongBanXuLy": "Phòng Kinh tế", "NoiDungXuLy": "Thẩm định", "TrangThai": "4"}
DST = "DVCQG-TEST"


@pytest.fixture
def sim():
    with NationalPortalSimulator(0, dstcode=DST) as running:
        yield running


def adapter(sim: NationalPortalSimulator, clock: Any = None, *, dstcode: str = DST, password: str = "local-only-not-a-secret",
            lgsp: LgspClient | None = None, timeout: float = 1.0) -> NationalPortal:
    settings = PortalSettings(auth_url=f"{sim.url}/auth", service_url=f"{sim.url}/service", username="motcua-local",
                              password=password, madonvi="000.00.00.H50", dstcode=dstcode, timeout_seconds=timeout,
                              lgsp=lgsp)
    return NationalPortal(settings, **({"clock": clock} if clock else {}))


def results(sim: NationalPortalSimulator) -> list[tuple[str, str | None, str]]:
    return [(c["service"], c["isUpdating"], c["result"]) for c in sim.state()["calls"]]


@pytest.mark.parametrize("answer, code", [({"error_code": 0}, 0), ({"error_code": "0"}, 0), ({"error_code": "-3"}, -3),
                                          ({"error_code": 3}, 3), ({"error_code": "x"}, None), ({"error_code": True}, None),
                                          ({}, None), ([], None)])
def test_error_code_is_read_from_a_number_or_a_string(answer, code):
    assert error_code(answer) == code


@pytest.mark.parametrize("numeric", [False, True])
def test_a_create_then_updates_reach_the_portal_whether_it_answers_codes_as_strings_or_numbers(sim, numeric):
    sim.control({"numeric_codes": numeric})
    portal = adapter(sim)
    assert portal.sync_dossier([GOOD], exists=False) is False
    assert portal.sync_dossier([{**GOOD, "TrangThaiHoSo": "4"}], exists=True) is True
    assert results(sim) == [("DongBoHoSoMC", "False", "ok"), ("DongBoHoSoMC", "True", "ok")]
    assert sim.state()["dossiers"][CODE]["TrangThaiHoSo"] == "4"


def test_a_create_the_portal_answers_already_exists_is_sent_again_as_an_update(sim):
    portal = adapter(sim)
    portal.sync_dossier([GOOD], exists=False)
    assert portal.sync_dossier([{**GOOD, "TrangThaiHoSo": "9"}], exists=False) is True    # the ledger did not know
    assert results(sim)[1:] == [("DongBoHoSoMC", "False", "already exists"), ("DongBoHoSoMC", "True", "ok")]
    assert sim.state()["dossiers"][CODE]["TrangThaiHoSo"] == "9"


def test_an_already_exists_the_update_then_contradicts_is_rejected_and_the_retry_creates(sim):
    portal = adapter(sim)
    sim.control({"already_exists": 1})                     # the portal says it has it, then that it does not
    with pytest.raises(PortalRejected) as info:
        portal.sync_dossier([GOOD], exists=False)
    assert info.value.code == 4
    assert portal.sync_dossier([GOOD], exists=False) is False and CODE in sim.state()["dossiers"]


def test_an_update_of_a_dossier_the_portal_does_not_have_is_rejected(sim):
    with pytest.raises(PortalRejected) as info:
        adapter(sim).sync_dossier([GOOD], exists=True)
    assert info.value.code == 4 and CODE not in sim.state()["dossiers"]


def test_data_is_always_an_array_and_the_simulator_refuses_anything_else(sim):
    with pytest.raises(TypeError):
        adapter(sim).call("DongBoHoSoMC", GOOD, isUpdating="False")  # type: ignore[arg-type]
    session = adapter(sim).session()
    headers = {"Content-Type": "application/json; charset=utf-8", "dstcode": DST}
    answer = requests.post(f"{sim.url}/service", headers=headers, timeout=2, data=json.dumps(
        {"service": "DongBoHoSoMC", "madonvi": "000.00.00.H50", "session": session, "isUpdating": "False",
         "data": GOOD})).json()
    assert answer["error_code"] == "1" and "mảng" in answer["message"]
    answer = requests.post(f"{sim.url}/service", headers=headers, timeout=2, data=json.dumps(
        {"service": "DongBoHoSoMC", "madonvi": "000.00.00.H50", "session": session, "data": [GOOD]})).json()
    assert answer["error_code"] == "1" and "isUpdating" in answer["message"]


def test_every_call_carries_dstcode_and_json_utf8_and_a_wrong_dstcode_is_a_configuration_error(sim):
    sent: list[dict[str, Any]] = []

    class Recording(requests.Session):
        def post(self, url: str, **kwargs: Any) -> Any:   # type: ignore[override]
            sent.append({"url": url, **kwargs})
            return super().post(url, **kwargs)

    portal = adapter(sim)
    portal.http = Recording()
    portal.sync_dossier([GOOD], exists=False)
    assert [s["url"].rsplit("/", 1)[1] for s in sent] == ["auth", "service"]
    for call in sent:
        assert call["headers"]["dstcode"] == DST
        assert call["headers"]["Content-Type"] == "application/json; charset=utf-8"
        assert "Nguyễn".encode() in call["data"] or b"username" in call["data"]   # UTF-8, not \\u escapes
    with pytest.raises(PortalMisconfigured, match="403"):
        adapter(sim, dstcode="WRONG").sync_dossier([GOOD], exists=True)
    assert sim.state()["auth_calls"] == 1                 # refused before signing in, twice, then given up


def test_progress_goes_ten_records_a_call(sim):
    portal = adapter(sim)
    portal.sync_dossier([GOOD], exists=False)
    portal.send_progress([{**STEP, "NoiDungXuLy": f"Bước {i}"} for i in range(23)])
    counts = [c["count"] for c in sim.state()["calls"] if c["service"] == "CapNhatTienDoHoSoMC"]
    assert counts == [10, 10, 3] and len(sim.state()["progress"][CODE]) == 23


def test_the_session_is_kept_ten_minutes_then_renewed(sim):
    now = [0.0]
    portal = adapter(sim, clock=lambda: now[0])
    portal.sync_dossier([GOOD], exists=False)
    now[0] = 599.0
    portal.call("TraCuuHoSo", [], mahoso=CODE)
    assert sim.state()["auth_calls"] == 1
    now[0] = 600.0
    assert portal.call("TraCuuHoSo", [], mahoso=CODE)["result"]["ChuHoSo"] == "Nguyễn Văn An"
    assert sim.state()["auth_calls"] == 2


def test_a_401_renews_the_session_once_and_a_second_401_is_a_configuration_error(sim):
    portal = adapter(sim)
    portal.sync_dossier([GOOD], exists=False)
    sim.control({"expire_sessions": True})                 # the portal forgot the session: 401
    portal.sync_dossier([GOOD], exists=True)
    assert sim.state()["auth_calls"] == 2
    sim.control({"unauthorized": 2})
    with pytest.raises(PortalMisconfigured, match="401"):
        portal.sync_dossier([GOOD], exists=True)
    assert [r for _, _, r in results(sim)][-2:] == ["http 401", "http 401"]
    portal.sync_dossier([GOOD], exists=True)               # nothing stuck: the next call goes through


@pytest.mark.parametrize("change, error", [
    ({"NgayTiepNhan": "2026112103300"}, "NgayTiepNhan"),
    ({"NgayTiepNhan": "20261121253000"}, "NgayTiepNhan"),          # hour 25: not a 24-hour time
    ({"TrichYeuHoSo": "a" * 1001}, "TrichYeuHoSo"),
    ({"TrangThaiHoSo": "11"}, "TrangThaiHoSo"),
    ({"TrangThaiHoSo": 2}, "TrangThaiHoSo"),                       # codes are strings
    ({"KenhThucHien": ""}, "KenhThucHien"),
    ({"MaTTHC": ""}, "MaTTHC"),
])
def test_the_simulator_validates_required_fields_formats_and_lengths(sim, change, error):
    with pytest.raises(PortalRejected) as info:
        adapter(sim).sync_dossier([{**GOOD, **change}], exists=False)
    assert info.value.code == 1 and f"{error}:" in str(info.value)


def test_progress_needs_a_known_dossier_and_a_short_handler_name(sim):
    portal = adapter(sim)
    with pytest.raises(PortalRejected) as unknown:
        portal.send_progress([STEP])
    assert unknown.value.code == 4
    portal.sync_dossier([GOOD], exists=False)
    with pytest.raises(PortalRejected):
        portal.send_progress([{**STEP, "NguoiXuLy": "x" * 51}])
    portal.send_progress([STEP])
    assert sim.state()["progress"][CODE][0]["NguoiXuLy"] == "Lê Văn Bình"


@pytest.mark.parametrize("hooks, kind, match", [
    ({"fail": 1}, PortalUnavailable, "500"),
    ({"malformed": 1}, PortalUnavailable, "not JSON"),
    ({"no_error_code": 1}, PortalUnavailable, "no readable error_code"),
    ({"down": True}, PortalUnavailable, "503"),
    ({"timeout": 1, "delay": 1.0}, PortalUnavailable, "Timeout"),
])
def test_outages_timeouts_and_malformed_answers_are_unavailable(sim, hooks, kind, match):
    portal = adapter(sim, timeout=0.5)
    portal.session()
    sim.control(hooks)
    with pytest.raises(kind, match=match):
        portal.sync_dossier([GOOD], exists=False)


def test_a_portal_that_is_not_there_is_unavailable(sim):
    portal = adapter(sim)
    sim.stop()
    with pytest.raises(PortalUnavailable, match="ConnectionError"):
        portal.sync_dossier([GOOD], exists=False)


def test_wrong_credentials_are_a_configuration_error(sim):
    with pytest.raises(PortalMisconfigured, match="Sai tên đăng nhập"):
        adapter(sim, password="wrong").sync_dossier([GOOD], exists=False)


def test_through_an_lgsp_every_call_carries_a_bearer_token_renewed_after_a_401():
    client = ("motcua-lgsp", "lgsp-secret-not-real")
    with NationalPortalSimulator(0, dstcode=DST, lgsp=client) as sim:
        portal = adapter(sim, lgsp=LgspClient(f"{sim.url}/lgsp/token", *client))
        portal.sync_dossier([GOOD], exists=False)
        portal.sync_dossier([GOOD], exists=True)
        assert (portal.token_calls, sim.state()["token_calls"]) == (1, 1)
        sim.control({"expire_sessions": True})             # tokens and sessions forgotten: 401
        portal.sync_dossier([GOOD], exists=True)
        assert sim.state()["token_calls"] == 2
        wrong = adapter(sim, lgsp=LgspClient(f"{sim.url}/lgsp/token", client[0], "wrong"))
        with pytest.raises(PortalMisconfigured, match="LGSP"):
            wrong.sync_dossier([GOOD], exists=True)


def test_the_endpoints_default_from_the_portal_url_and_each_can_be_set(monkeypatch):
    monkeypatch.setenv("MOTCUA_NATIONAL_URL", "https://portal.example.vn/api")
    found = PortalSettings.from_settings()
    assert (found.auth_url, found.service_url) == ("https://portal.example.vn/api/auth",
                                                   "https://portal.example.vn/api/service")
    assert found.dstcode == "MOTCUA-LOCAL" and found.lgsp is None
    monkeypatch.setenv("MOTCUA_NATIONAL_AUTH_URL", "https://lgsp.example.vn/dvcqg/xacthuc")
    monkeypatch.setenv("MOTCUA_NATIONAL_SERVICE_URL", "https://lgsp.example.vn/dvcqg/tichhop")
    monkeypatch.setenv("MOTCUA_NATIONAL_DSTCODE", "VPCP-DVCQG")
    monkeypatch.setenv("MOTCUA_NATIONAL_LGSP_URL", "https://lgsp.example.vn")
    monkeypatch.setenv("MOTCUA_NATIONAL_LGSP_CLIENT_ID", "tinh-x")
    found = PortalSettings.from_settings()
    assert (found.auth_url, found.service_url, found.dstcode) == (
        "https://lgsp.example.vn/dvcqg/xacthuc", "https://lgsp.example.vn/dvcqg/tichhop", "VPCP-DVCQG")
    assert found.lgsp is not None and (found.lgsp.token_url, found.lgsp.client_id) == ("https://lgsp.example.vn/token",
                                                                                      "tinh-x")


def test_an_aws_stage_signs_in_with_the_account_in_its_national_portal_secret(prod_secrets, monkeypatch):
    monkeypatch.setenv("MOTCUA_NATIONAL_PASSWORD", "an-environment-value-is-ignored")
    prod_secrets("national-portal", {"username": "dvc-prod", "password": "from-the-secret"})
    with NationalPortalSimulator(0, username="dvc-prod", password="from-the-secret", dstcode="MOTCUA-LOCAL") as sim:
        monkeypatch.setenv("MOTCUA_NATIONAL_URL", sim.url)
        portal = NationalPortal(PortalSettings.from_settings())
        assert portal.sync_dossier([GOOD], exists=False) is False
        assert "from-the-secret" not in repr(portal.settings)


@pytest.mark.parametrize("password", ["local-only-not-a-secret", "SET-ME"])
def test_an_aws_stage_refuses_a_secret_that_still_holds_the_local_fake_or_the_placeholder(prod_secrets, password):
    from chalicelib.runtime.credentials import SecretMissing
    prod_secrets("national-portal", {"username": "dvc-prod", "password": password})
    with pytest.raises(SecretMissing):
        PortalSettings.from_settings()


def test_the_local_stage_reads_the_account_from_its_settings(monkeypatch):
    monkeypatch.setenv("MOTCUA_NATIONAL_USERNAME", "someone-local")
    monkeypatch.delenv("MOTCUA_NATIONAL_PASSWORD", raising=False)
    found = PortalSettings.from_settings()
    assert (found.username, found.password) == ("someone-local", "local-only-not-a-secret")
