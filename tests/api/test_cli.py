"""The operator CLI, in-process (AWS commands against in-process moto)."""
from __future__ import annotations

import json

import pytest

from chalicelib.runtime.settings import settings
from chalicelib.trust.rules.identity import verify_local_token
from motcua.cli import main


@pytest.fixture(autouse=True)
def keep_environment(monkeypatch):
    """The CLI fills in local-stack defaults; keep them from leaking into other tests."""
    monkeypatch.setenv("MOTCUA_AWS_ENDPOINT", "")
    monkeypatch.setenv("MOTCUA_STAGE", "local")


def test_token_mints_a_verifiable_officer_token(capsys):
    assert main(["token", "--role", "officer", "--agency", "000.00.13.H50"]) == 0
    claims = verify_local_token(capsys.readouterr().out.strip(), settings().local_jwt_secret)
    assert claims["role"] == "officer" and claims["agency_id"] == "000.00.13.H50" and claims["exp"] > claims["iat"]


def test_token_refuses_an_officer_without_agency(capsys):
    assert main(["token", "--role", "officer"]) == 2
    assert "agency_id" in capsys.readouterr().err


def test_due_date_prints_iso_with_offset_across_the_2025_swap(capsys):
    assert main(["due-date", "--accepted", "2025-04-25T10:00:00+07:00", "--working-days", "3"]) == 0
    assert capsys.readouterr().out.strip() == "2025-04-29T17:00:00+07:00"


def test_due_date_applies_pauses(capsys):
    args = ["due-date", "--accepted", "2025-03-03T09:00:00+07:00", "--working-days", "5",
            "--pause", "2025-03-05T10:00:00+07:00/2025-03-07T10:00:00+07:00"]
    assert main(args) == 0
    # Mon 3/3 accepted: counts 4,5,6,7,10 -> 10/3; paused Wed 5 and Thu 6 -> two more: 12/3
    assert capsys.readouterr().out.strip() == "2025-03-12T17:00:00+07:00"
    assert main([*args, "--rule", "restart"]) == 0
    # restart: 5 working days after Fri 7/3 -> 10,11,12,13,14 -> 14/3
    assert capsys.readouterr().out.strip() == "2025-03-14T17:00:00+07:00"


def test_due_date_rejects_naive_times(capsys):
    assert main(["due-date", "--accepted", "2025-04-25T10:00:00", "--working-days", "3"]) == 2
    assert "error" in capsys.readouterr().err


def test_catalogue_import_reports_every_bad_row_and_imports_nothing(aws_env, tmp_path, capsys):
    from chalicelib.catalogue.store import procedures as catalogue_store
    before = len(catalogue_store.snapshot().procedures)
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "procedure_code,name,field,field_code,agency_id,processing_days,online_level,fees,required_documents,supplement_rule,pay_before_accept\n"
        "1.111111,Thủ tục tốt,Hộ tịch,HT,000.00.13.H50,3,full,,Tờ khai,resume,false\n"
        "1.222222,Thủ tục lỗi,Hộ tịch,HT,000.00.13.H50,ba,full,,Tờ khai,resume,false\n"
        "1.333333,Thủ tục lỗi 2,Hộ tịch,HT,000.00.13.H50,3,full,Lệ phí:12.5,Tờ khai,resume,false\n",
        encoding="utf-8")
    assert main(["catalogue", "import", str(bad)]) == 1
    err = capsys.readouterr().err
    assert "line 3 [processing_days]" in err and "line 4 [fees]" in err and "nothing imported" in err
    catalogue_store.invalidate()
    assert len(catalogue_store.snapshot().procedures) == before


def test_catalogue_import_loads_a_good_file(aws_env, tmp_path, capsys):
    from chalicelib.catalogue.store import procedures as catalogue_store
    good = tmp_path / "good.json"
    good.write_text(json.dumps({"procedures": [{
        "procedure_code": "1.444444", "name": "Thủ tục mới", "field": "Hộ tịch", "field_code": "HT",
        "agency_id": "000.00.13.H50", "processing_days": 2, "online_level": "partial",
        "fees": [{"name": "Lệ phí", "amount": 5000}], "required_documents": ["Tờ khai"],
        "supplement_rule": "restart"}]}, ensure_ascii=False), encoding="utf-8")
    assert main(["catalogue", "import", str(good)]) == 0
    assert "imported 0 agencies and 1 procedures" in capsys.readouterr().out
    assert catalogue_store.snapshot().procedures["1.444444"].total_fees() == 5000


def test_catalogue_import_refuses_procedures_of_unknown_agencies(aws_env, tmp_path, capsys):
    good = tmp_path / "x.json"
    good.write_text(json.dumps({"procedures": [{
        "procedure_code": "1.555555", "name": "Thủ tục", "field": "Hộ tịch", "field_code": "HT",
        "agency_id": "999.99.99.H99", "processing_days": 2, "online_level": "partial", "fees": [],
        "required_documents": [], "supplement_rule": "restart"}]}), encoding="utf-8")
    assert main(["catalogue", "import", str(good)]) == 1
    assert "999.99.99.H99" in capsys.readouterr().err
