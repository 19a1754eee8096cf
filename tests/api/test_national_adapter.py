"""The portal adapter against the loopback simulator: auth, token lifetime, validation, faults."""
from __future__ import annotations

import pytest

from chalicelib.sync.adapters.national_portal import NationalPortal, PortalRejected, PortalSettings, PortalUnavailable
from motcua.simulators.national import NationalPortalSimulator

GOOD = {"MaHoSo": "000.22.30.H50-261121-0001", "MaTTHC": "1.009994", "TenTTHC": "Cấp giấy phép xây dựng",
        "KenhThucHien": "2", "HinhThuc": "0", "ChuHoSo": "Nguyễn Văn An", "LoaiDoiTuong": "1",
        "TrichYeuHoSo": "Xin cấp phép", "NgayNopHoSo": "20261121150000", "NgayTiepNhan": "20261121153000",
        "NgayHenTra": "", "TrangThaiHoSo": "2", "DonViXuLy": "UBND phường Hải Châu", "NoiNopHoSo": "000.22.30.H50",
        "DuocThanhToanTrucTuyen": "0"}


@pytest.fixture
def sim():
    with NationalPortalSimulator(0) as running:
        yield running


def adapter(sim, clock=None, **over):
    settings = PortalSettings(base_url=sim.url, username="motcua-local", password="local-only-not-a-secret",
                              madonvi="000.00.00.H50", timeout_seconds=over.pop("timeout", 1.0))
    return NationalPortal(settings, **({"clock": clock} if clock else {}))


def test_the_token_is_reused_for_its_lifetime_then_renewed(sim):
    now = [0.0]
    portal = adapter(sim, clock=lambda: now[0])
    portal.call("DongBoHoSoMC", GOOD)
    portal.call("TraCuuHoSo", {"MaHoSo": GOOD["MaHoSo"]})
    assert (portal.auth_calls, sim.auth_calls) == (1, 1)
    now[0] = 3600.0            # past expires_in minus the margin
    portal.call("TraCuuHoSo", {"MaHoSo": GOOD["MaHoSo"]})
    assert sim.auth_calls == 2


def test_a_session_the_portal_forgot_is_renewed_once(sim):
    portal = adapter(sim)
    portal.call("DongBoHoSoMC", GOOD)
    sim.control({"expire_sessions": True})
    assert portal.call("TraCuuHoSo", {"MaHoSo": GOOD["MaHoSo"]})["data"]["ChuHoSo"] == "Nguyễn Văn An"
    assert sim.auth_calls == 2


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
        adapter(sim).call("DongBoHoSoMC", {**GOOD, **change})
    assert info.value.code == 1 and f"{error}:" in str(info.value)


def test_progress_needs_a_known_dossier_and_a_short_handler_name(sim):
    portal = adapter(sim)
    progress = {"MaHoSo": GOOD["MaHoSo"], "NguoiXuLy": "x" * 51, "ThoiDiemXuLy": "20261121153000",
                "PhongBanXuLy": "Phòng Kinh tế", "NoiDungXuLy": "Thẩm định", "TrangThai": "4"}
    with pytest.raises(PortalRejected) as unknown:
        portal.call("CapNhatTienDoHoSoMC", {**progress, "NguoiXuLy": "Lê Văn Bình"})
    assert unknown.value.code == 4
    portal.call("DongBoHoSoMC", GOOD)
    with pytest.raises(PortalRejected):
        portal.call("CapNhatTienDoHoSoMC", progress)
    portal.call("CapNhatTienDoHoSoMC", {**progress, "NguoiXuLy": "Lê Văn Bình"})
    assert sim.state()["progress"][GOOD["MaHoSo"]][0]["NguoiXuLy"] == "Lê Văn Bình"


def test_failures_timeouts_and_outages_are_unavailable_and_already_exists_is_success(sim):
    portal = adapter(sim, timeout=0.5)
    sim.control({"fail": 1, "timeout": 1, "delay": 1.0, "already_exists": 1})
    with pytest.raises(PortalUnavailable, match="500"):
        portal.call("DongBoHoSoMC", GOOD)
    with pytest.raises(PortalUnavailable, match="Timeout"):
        portal.call("DongBoHoSoMC", GOOD)
    assert portal.call("DongBoHoSoMC", GOOD)["error_code"] == 2
    sim.control({"down": True})
    with pytest.raises(PortalUnavailable, match="503"):
        portal.call("DongBoHoSoMC", GOOD)
    sim.stop()
    with pytest.raises(PortalUnavailable, match="ConnectionError"):
        portal.call("DongBoHoSoMC", GOOD)


def test_wrong_credentials_are_rejected(sim):
    portal = NationalPortal(PortalSettings(sim.url, "motcua-local", "000.00.00.H50", 1.0, password="wrong"))
    with pytest.raises(PortalRejected):
        portal.call("DongBoHoSoMC", GOOD)



def test_an_aws_stage_signs_in_with_the_account_in_its_national_portal_secret(prod_secrets, monkeypatch):
    monkeypatch.setenv("MOTCUA_NATIONAL_PASSWORD", "an-environment-value-is-ignored")
    prod_secrets("national-portal", {"username": "dvc-prod", "password": "from-the-secret"})
    with NationalPortalSimulator(0, username="dvc-prod", password="from-the-secret") as sim:
        monkeypatch.setenv("MOTCUA_NATIONAL_URL", sim.url)
        portal = NationalPortal(PortalSettings.from_settings())
        assert portal.call("DongBoHoSoMC", GOOD)["error_code"] == 0
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
