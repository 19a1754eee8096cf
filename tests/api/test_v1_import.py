"""v1 dossiers back in sync: `motcua legacy import-dossiers FILE` makes live dossiers that keep
their v1 code and dates, enter the sync ledger as never synced, and reach the national portal
with `motcua sync backfill`; a file with any bad row imports nothing."""
from __future__ import annotations

import json

import pytest

from chalicelib.dossiers.store import dossiers as store
from chalicelib.sync.store import sync_ledger as sync_store
from motcua import sync_ops
from motcua.cli import main
from tests.api.test_national_sync import drain_until

RETURNED = "000.22.30.H50-240105-0007"
OPEN = "000.22.30.H50-240210-0012"
CSV = f"""code,procedure_code,applicant_name,applicant_id_number,applicant_phone,channel,status,summary,submitted_at,accepted_at,due_at,finished_at,returned_at,fees
{RETURNED},1.009994,Phạm Thị Cúc,051095001234,0905000111,direct,returned,Xin phép xây nhà,2024-01-05T09:00:00+07:00,2024-01-05T09:30:00+07:00,2024-01-26T17:00:00+07:00,2024-01-24T15:00:00+07:00,2024-01-25T10:00:00+07:00,Lệ phí cấp giấy phép:75000
{OPEN},1.009994,Trần Văn Dũng,,0905000222,online,accepted,,2024-02-10,2024-02-12T08:00:00+07:00,2024-03-04T17:00:00+07:00,,,
"""


@pytest.fixture(autouse=True)
def cli_environment(monkeypatch):
    monkeypatch.setenv("MOTCUA_AWS_ENDPOINT", "")
    monkeypatch.setenv("MOTCUA_STAGE", "local")


def test_imported_v1_dossiers_keep_code_and_dates_and_backfill_sends_them(api, aws_env, dispatcher, simulators,
                                                                         tmp_path, capsys):
    path = tmp_path / "v1.csv"
    path.write_text(CSV, encoding="utf-8")
    assert main(["legacy", "import-dossiers", str(path)]) == 0
    assert "imported 2 v1 dossier(s), not yet sent to the national portal; send them with: " \
           "motcua sync backfill --since 2024-01-05" in capsys.readouterr().out
    returned = store.get_dossier(RETURNED)
    assert returned is not None and returned["imported_from"] == "v1"
    assert (returned["status"], returned["submitted_at"], returned["returned_at"], returned["amount_due"]) == (
        "returned", "2024-01-05T09:00:00+07:00", "2024-01-25T10:00:00+07:00", 75000)
    opened = store.get_dossier(OPEN)
    assert opened is not None and opened["step"]["index"] == 1 and opened["due_at"] == "2024-03-04T17:00:00+07:00"
    assert store.dossier_events(RETURNED) == []                     # history, not a change: nothing notified
    for code in (RETURNED, OPEN):
        ledger = sync_store.read(code)[1]
        assert (ledger.version, ledger.state, ledger.on_portal) == (0, "pending", False)
    assert simulators.national.state()["calls"] == []
    assert sync_ops.backfill("2024-01-01", ["000.22.30.H50"]) == 2
    drain_until(dispatcher, lambda: all(sync_store.read(c)[1].state == "synced" for c in (RETURNED, OPEN)))
    portal = simulators.national.state()
    assert portal["dossiers"][RETURNED]["NgayTra"] == "20240125100000"
    assert portal["dossiers"][OPEN]["NgayHenTra"] == "20240304170000"
    assert {c["isUpdating"] for c in portal["calls"] if c["service"] == "DongBoHoSoMC"} == {"False"}
    assert sync_ops.backfill("2024-01-01", ["000.22.30.H50"]) == 0    # nothing behind any more


def test_a_file_with_any_bad_row_imports_nothing_and_names_each_line_and_field(api, aws_env, tmp_path, capsys):
    rows = [{"code": "HS-1", "procedure_code": "1.009994", "applicant_name": "A", "channel": "online",
             "status": "submitted", "submitted_at": "2024-01-05"},
            {"code": "HS-2", "procedure_code": "9.999999", "applicant_name": "B", "channel": "fax",
             "status": "returned", "submitted_at": "2024-13-01", "fees": [{"name": "Lệ phí", "amount": -5}]},
            {"code": "HS-1", "procedure_code": "1.009994", "applicant_name": "C", "channel": "online",
             "status": "processing", "submitted_at": "2024-01-05", "accepted_at": "2024-01-04"}]
    path = tmp_path / "v1.json"
    path.write_text(json.dumps(rows, ensure_ascii=False), encoding="utf-8")
    assert main(["legacy", "import-dossiers", str(path)]) == 1
    err = capsys.readouterr().err
    for expected in ("line 2 [procedure_code]: Không có trong danh mục thủ tục", "line 2 [channel]: Phải là một trong",
                     "line 2 [submitted_at]: Phải là ngày", "line 2 [fees]:", "line 2 [returned_at]: Bắt buộc",
                     "line 3 [status]: Hồ sơ v1 còn đang xử lý được nhập với trạng thái accepted",
                     "line 3 [accepted_at]: Sớm hơn submitted_at", "line 3 [code]: Trùng với dòng 1"):
        assert expected in err
    assert "nothing imported" in err
    assert store.get_dossier("HS-1") is None


def test_a_v1_code_motcua_already_holds_is_refused(api, aws_env, tmp_path, capsys):
    path = tmp_path / "v1.csv"
    path.write_text(CSV, encoding="utf-8")
    assert main(["legacy", "import-dossiers", str(path)]) == 0
    assert main(["legacy", "import-dossiers", str(path)]) == 1
    assert "line 2 [code]: MotCua đã có hồ sơ mang mã này" in capsys.readouterr().err
