"""The operator CLI, in-process (AWS commands against in-process moto)."""
from __future__ import annotations

import json
import unicodedata

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


# --------------------------------------------------------------------------- malformed import files
# Every import refuses a broken file the same way: no traceback, each error by line (or the
# file) and field, in Vietnamese, "nothing imported", exit 1, and nothing written.

CATALOGUE_HEADER = ("procedure_code,name,field,field_code,agency_id,processing_days,online_level,fees,"
                    "required_documents,supplement_rule,pay_before_accept")
ACCOUNTS_HEADER = "legacy_id,id_number,full_name,phone"
OLD_DOSSIERS_HEADER = "legacy_id,code,procedure_code,procedure_name,agency_id,status,submitted_at,closed_at,summary"
V1_HEADER = "code,procedure_code,applicant_name,channel,status,submitted_at"
GOOD_ACCOUNT = "L-1,079301004444,Lê Văn Cũ,0912000111"


def _catalogue_imported() -> bool:
    from chalicelib.catalogue.store import procedures as catalogue_store
    catalogue_store.invalidate()
    return "1.777777" in catalogue_store.snapshot().procedures


def _account_imported() -> bool:
    from chalicelib.trust.store import legacy as legacy_store
    return legacy_store.partition("079301004444")[0] is not None


def _v1_imported() -> bool:
    from chalicelib.dossiers.store import dossiers as store
    return store.get_dossier("HS-V1-1") is not None


# importer: (header, a good row, the command for a file path, what a successful import leaves)
IMPORTERS = {
    "catalogue": (CATALOGUE_HEADER, "1.777777,Thủ tục tốt,Hộ tịch,HT,000.00.13.H50,3,full,,Tờ khai,resume,false",
                  lambda path, tmp: ["catalogue", "import", path], _catalogue_imported),
    "legacy accounts": (ACCOUNTS_HEADER, GOOD_ACCOUNT, lambda path, tmp: ["accounts", "import", path], _account_imported),
    "legacy old dossiers": (
        OLD_DOSSIERS_HEADER, "L-1,HS-2019-1,1.001193,Khai sinh,000.22.30.H50,returned,2019-05-02,2019-05-03,",
        lambda path, tmp: ["accounts", "import", _write(tmp / "accounts.csv", f"{ACCOUNTS_HEADER}\n{GOOD_ACCOUNT}\n"),
                           "--dossiers", path], _account_imported),
    "v1 dossiers": (V1_HEADER, "HS-V1-1,1.009994,Phạm Thị Cúc,direct,submitted,2024-01-05",
                    lambda path, tmp: ["legacy", "import-dossiers", path], _v1_imported),
}


def _write(path, data: str | bytes) -> str:
    path.write_bytes(data if isinstance(data, bytes) else data.encode())
    return str(path)


def _hugely(row: str) -> str:
    first, rest = row.split(",", 1)
    return f'{first},"{"x" * 140_000}{rest}"'


# case: (the file from a header and a good row, where the first error is: "line N", "line N [field]" or "file")
MALFORMED_CSV = {
    "a cell over 128 KiB": (lambda h, r: f"{h}\n{r}\n{_hugely(r)}\n", "line 3"),
    "not UTF-8 (Windows-1258)": (lambda h, r: (f"{h}\n".encode() + "Đăng,Hà".encode("cp1258")), "line 2"),
    "UTF-16 as Excel's Unicode text": (lambda h, r: f"{h}\n{r}\n".encode("utf-16"), "file"),
    "an Excel workbook": (lambda h, r: b"PK\x03\x04\x14\x00\x06\x00" + bytes(64), "file"),
    "a NUL byte": (lambda h, r: f"{h}\n{r}\x00\n", "line 2"),
    "an empty file": (lambda h, r: "", "line 1"),
    "a header missing a required column": (lambda h, r: f"{h.split(',', 1)[1]}\n{r.split(',', 1)[1]}\n",
                                           "line 1 [{first}]"),
    "a column named twice": (lambda h, r: f"{h},{h.split(',')[0]}\n{r},X\n", "line 1 [{first}]"),
    "a row with more cells than the header": (lambda h, r: f"{h}\n{r},extra\n", "line 2"),
    "columns separated by semicolons": (lambda h, r: f"{h.replace(',', ';')}\n{r.replace(',', ';')}\n", "line 1"),
    "over MOTCUA_IMPORT_MAX_BYTES": (lambda h, r: f"{h}\n{r}\n" + "\n" * 200_000, "file"),
    "a header alone": (lambda h, r: f"\ufeff{h}\r\n\r\n", "file"),
    "a terminal escape in a cell": (lambda h, r: f"{h}\n{_escaped(r)}\n", "line 2 [{third}]"),
}


def _escaped(row: str) -> str:
    """The row with its third cell starting with the escape that clears a terminal."""
    cells = row.split(",")
    return ",".join([*cells[:2], "\x1b[2J" + cells[2], *cells[3:]])


def _refused(argv: list[str], path: str, where: str, capsys) -> None:
    assert main(argv) == 1                                                  # and no exception
    err = capsys.readouterr().err.splitlines()
    assert err[0].startswith(f"{path}: {where}: ")
    assert all(line.startswith(f"{path}: ") for line in err[:-1]) and err[-1].startswith("nothing imported: ")
    message = err[0].split("]: ", 1)[-1].split(": ", 2)[-1]
    assert unicodedata.normalize("NFD", message) != message or "đ" in message.lower()    # Vietnamese, with diacritics


@pytest.mark.parametrize("case", MALFORMED_CSV)
@pytest.mark.parametrize("importer", IMPORTERS)
def test_a_malformed_csv_file_is_reported_by_line_and_field_in_vietnamese_and_imports_nothing(
        importer, case, aws_env, tmp_path, monkeypatch, capsys):
    header, row, argv, imported = IMPORTERS[importer]
    make, where = MALFORMED_CSV[case]
    monkeypatch.setenv("MOTCUA_IMPORT_MAX_BYTES", "200000")
    path = _write(tmp_path / "import.csv", make(header, row))
    _refused(argv(path, tmp_path), path, where.format(first=header.split(",")[0], third=header.split(",")[2]), capsys)
    assert not imported()


def test_the_good_files_of_the_malformed_cases_import(aws_env, tmp_path, capsys):
    """The cases above differ from a good file only by what is wrong in them."""
    for header, row, argv, imported in IMPORTERS.values():
        assert main(argv(_write(tmp_path / "good.csv", f"\ufeff{header}\r\n{row}\r\n"), tmp_path)) == 0
        assert imported()


# case: (the JSON text, where the first error is)
MALFORMED_JSON = {
    "invalid JSON": ('{"procedures": [{"code": "A",}]}', "file"),
    "an empty file": ("", "file"),
    "not UTF-8 (Windows-1258)": ('{"procedures": [{"name": "Đăng"}]}'.encode("cp1258"), "file"),
    "nested too deep": ("[" * 100_000 + "]" * 100_000, "file"),
    "a number too long to read": ('{"procedures": [{"processing_days": ' + "9" * 5000 + "}]}", "file"),
    "half a surrogate pair": ('{"procedures": [{"name": "T\\ud800"}], "dossiers": [{"code": "HS-V1-1\\udfff"}]}', "file"),
    "a key given twice": ('{"procedures": [{"procedure_code": "1.777777", "procedure_code": "1.888888"}]}', "file"),
    "not an object or a list of objects": ('"dossiers"', "file"),
    "items that are not objects": ('{"procedures": [1, "x"], "dossiers": [1, "x"]}', "line 1"),
}


@pytest.mark.parametrize("case", MALFORMED_JSON)
@pytest.mark.parametrize("importer", ["catalogue", "v1 dossiers"])
def test_a_malformed_json_file_is_reported_in_vietnamese_and_imports_nothing(importer, case, aws_env, tmp_path, capsys):
    _, _, argv, imported = IMPORTERS[importer]
    text, where = MALFORMED_JSON[case]
    path = _write(tmp_path / "import.json", text)
    _refused(argv(path, tmp_path), path, where, capsys)
    assert not imported()


def test_an_accepted_v1_dossier_outside_the_working_day_calendar_is_a_row_error_not_a_traceback(
        aws_env, tmp_path, capsys):
    path = _write(tmp_path / "v1.csv", f"{V1_HEADER},accepted_at,due_at\n"
                                       "HS-V1-1,1.009994,Phạm Thị Cúc,direct,accepted,2999-01-05,2999-01-06,2999-02-06\n")
    assert main(["legacy", "import-dossiers", path]) == 1
    err = capsys.readouterr().err
    assert all(f"{path}: line 2 [{field}]: Phải trong các năm" in err for field in ("submitted_at", "accepted_at", "due_at"))
    assert not _v1_imported()


def test_a_v1_date_past_the_calendar_s_end_is_a_row_error_not_a_traceback(aws_env, tmp_path, capsys):
    path = _write(tmp_path / "v1.csv", f"{V1_HEADER}\nHS-V1-1,1.009994,Phạm Thị Cúc,direct,submitted,0001-01-01T00:00:00+14:00\n")
    assert main(["legacy", "import-dossiers", path]) == 1
    assert f"{path}: line 2 [submitted_at]: " in capsys.readouterr().err and not _v1_imported()


@pytest.mark.parametrize("importer", IMPORTERS)
def test_a_file_of_endless_bad_rows_is_checked_until_a_thousand_errors_and_says_it_stopped(
        importer, aws_env, tmp_path, capsys):
    header, _, argv, imported = IMPORTERS[importer]
    path = _write(tmp_path / "import.csv", f"{header}\n" + "x\n" * 500_000)
    assert main(argv(path, tmp_path)) == 1
    err = capsys.readouterr().err.splitlines()
    assert 1000 < len(err) < 1020 and err[-2] == f"{path}: file: Dừng kiểm tra sau 1000 lỗi: sửa các lỗi trên rồi nhập lại"
    assert not imported()
