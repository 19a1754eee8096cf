"""Dossier versions -> national portal messages. Pure, no AWS, no HTTP."""
from __future__ import annotations

import pytest

from chalicelib.dossiers.rules import transitions
from chalicelib.sync.rules.national_mapping import (
    DOSSIER_SERVICE, PROGRESS_SERVICE, SNAPSHOT_EVENT, load_config, message_for, national_config, portal_time,
)
from tests.unit.test_processing import accepted, at, run
from chalicelib.kernel.working_days import iso
from chalicelib.kernel.events import new_event


def event(dossier, event_type, data):
    return new_event(event_type, dossier_code=dossier["code"], version=dossier["version"], occurred_at=iso(at(3)),
                     agency_id=dossier["agency_id"], procedure_code=dossier["procedure_code"],
                     status=dossier["status"], data=data)


def test_portal_times_are_local_24_hour_clock_digits():
    assert portal_time("2026-11-20T08:30:05Z") == "20261120153005"   # 15:30 in Hà Nội, never "03"
    assert portal_time("2026-11-20T23:59:59+07:00") == "20261120235959"
    assert portal_time(None) == ""


def test_every_status_and_event_type_is_configured():
    config = national_config()
    assert set(config.statuses) == set(transitions.STATUSES)
    assert sorted(config.statuses.values()) == [1, 2, 3, 4, 5, 7, 8, 9, 10]
    assert set(config.services) == set(transitions.EVENT_TYPES.values())


@pytest.mark.parametrize("broken, message", [
    ({"statuses": {"submitted": 1}}, "lacks"),
    ({"statuses": dict.fromkeys(transitions.STATUSES, 11)}, "1..10"),
])
def test_a_broken_status_map_is_refused(broken, message):
    with pytest.raises(ValueError, match=message):
        load_config(broken)


def test_a_status_change_sends_the_dossier_as_it_is_now():
    d = accepted()
    d["summary"] = "x" * 1500
    run(d, "request_supplement", at(4, 15), "supplement_requested", reason="Thiếu bản vẽ", documents=["Bản vẽ"])
    service, data = message_for(event(d, "DossierSupplementRequested", {}), d, national_config())
    assert service == DOSSIER_SERVICE
    assert (data["MaHoSo"], data["TrangThaiHoSo"], data["NgayTiepNhan"]) == (d["code"], 5, "20261102090000")
    assert data["NgayHenTra"] == "" and len(data["TrichYeuHoSo"]) == 1000
    assert data["DanhSachHoSoBoSung"][0]["NgayYeuCau"] == "20261104150000"
    assert data["DanhSachHoSoBoSung"][0]["NgayHenTraCu"] == "20261116170000"
    assert data["DinhDanhCHS"] == [{"LoaiDinhDanh": 1, "SoDinhDanh": "0" * 12}]


def test_a_step_move_sends_progress_from_the_event_with_the_handler_cut_to_50():
    d = accepted()
    data = run(d, "forward", at(4, 14), "processing", to_step=3, assignee="n" * 80, note="Trình ký")
    service, message = message_for(event(d, "DossierForwarded", data), d, national_config())
    assert service == PROGRESS_SERVICE
    assert len(message["NguoiXuLy"]) == 50 and message["ChucDanh"] == "Lãnh đạo"
    assert (message["ThoiDiemXuLy"], message["TrangThai"]) == ("20261104140000", 4)
    assert message["NoiDungXuLy"] == "Ký giấy phép: Trình ký"


def test_a_rating_sends_nothing_and_a_backfill_sends_the_dossier():
    d = accepted()
    assert message_for(event(d, "DossierRated", {}), d, national_config()) is None
    assert message_for(event(d, SNAPSHOT_EVENT, {}), d, national_config())[0] == DOSSIER_SERVICE
