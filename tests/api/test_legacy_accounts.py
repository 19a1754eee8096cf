"""Legacy accounts: `motcua accounts import` and the link made at the citizen's first login,
after which their old dossiers appear in their list and can be read."""
from __future__ import annotations

import pytest

from chalicelib.trust.store import legacy as legacy_store
from chalicelib.runtime.settings import settings
from chalicelib.trust.rules.identity import mint_local_token
from motcua.cli import main
from tests.api.test_contract import check
from tests.api.test_intake import applicant, submission, submit
from tests.api.test_workflow import HOUSE

KNOWN, NEW = "079301004444", "079301005555"
ACCOUNTS = f"""legacy_id,id_number,full_name,phone
L-001,{KNOWN},Lê Văn Cũ,0912000111
L-002,{NEW},Phạm Thị Mới,
"""
DOSSIERS = """legacy_id,code,procedure_code,procedure_name,agency_id,status,submitted_at,closed_at,summary
L-001,HS-2019-0001,1.001193,Đăng ký khai sinh,000.22.30.H50,returned,2019-05-02,2019-05-03,Khai sinh cho con
L-001,HS-2020-0042,1.009994,Cấp giấy phép xây dựng,000.22.30.H50,refused,2020-01-10T09:00:00+07:00,,
L-002,HS-2021-0007,1.001193,Đăng ký khai sinh,000.22.30.H50,returned,2021-07-01,2021-07-02,
"""


@pytest.fixture(autouse=True)
def cli_environment(monkeypatch):
    monkeypatch.setenv("MOTCUA_AWS_ENDPOINT", "")
    monkeypatch.setenv("MOTCUA_STAGE", "local")


def citizen(sub: str, id_number: str | None) -> str:
    return mint_local_token(settings().local_jwt_secret, sub, "citizen", id_number=id_number)


def files(tmp_path, accounts=ACCOUNTS, dossiers=DOSSIERS):
    (tmp_path / "accounts.csv").write_text(accounts, encoding="utf-8")
    (tmp_path / "dossiers.csv").write_text(dossiers, encoding="utf-8")
    return str(tmp_path / "accounts.csv"), str(tmp_path / "dossiers.csv")


def test_import_reports_matches_and_the_citizen_sees_old_dossiers_after_first_login(api, aws_env, tmp_path, capsys):
    existing = submission(HOUSE, applicant={**applicant(), "id_number": KNOWN})
    current = submit(api, existing, api.token("citizen", sub="citizen-le"), key="legacy-0001").json["dossier_code"]
    accounts, dossiers = files(tmp_path)
    assert main(["accounts", "import", accounts, "--dossiers", dossiers]) == 0
    out = capsys.readouterr().out
    assert "matched L-001: 1 MotCua dossier(s) with the same id number, 2 old dossier(s)" in out
    assert "not matched L-002" in out and "imported 2 account(s) and 3 old dossier(s): 1 matched, 1 not matched" in out

    token = citizen("citizen-le", KNOWN)
    listed = api.call("GET", "/dossiers", token=token)
    assert listed.status_code == 200, listed.json
    assert [d["dossier_code"] for d in listed.json["items"]] == [current]
    assert [d["dossier_code"] for d in listed.json["legacy_items"]] == ["HS-2020-0042", "HS-2019-0001"]
    assert all(d["legacy"] and d["applicant_name"] == "Lê Văn Cũ" for d in listed.json["legacy_items"])
    check("/dossiers", "get", listed)
    old = api.call("GET", "/dossiers/HS-2019-0001", token=token)
    check("/dossiers/{code}", "get", old)
    assert old.status_code == 200 and old.json["status"] == "returned"
    assert old.json["closed_at"] == "2019-05-03T00:00:00+07:00" and old.json["summary"] == "Khai sinh cho con"
    assert legacy_store.partition(KNOWN)[0]["linked_sub"] == "citizen-le"

    # the next login finds it linked; another account with the same number is not given it
    assert api.call("GET", "/dossiers", token=token).json["legacy_items"]
    intruder = citizen("citizen-other", KNOWN)
    assert "legacy_items" not in api.call("GET", "/dossiers", token=intruder).json
    assert api.call("GET", "/dossiers/HS-2019-0001", token=intruder).status_code == 404
    assert api.call("GET", "/dossiers/HS-2021-0007", token=token).status_code == 404    # L-002's
    assert legacy_store.partition(KNOWN)[0]["linked_sub"] == "citizen-le"
    # no claim: nothing looked up; re-importing keeps the link
    assert "legacy_items" not in api.call("GET", "/dossiers", token=citizen("citizen-le", None)).json
    assert main(["accounts", "import", accounts, "--dossiers", dossiers]) == 0
    assert legacy_store.partition(KNOWN)[0]["linked_sub"] == "citizen-le"


def test_a_bad_file_imports_nothing_and_names_every_bad_line(api, aws_env, tmp_path, capsys):
    accounts, dossiers = files(tmp_path, ACCOUNTS + "L-003,12345,Ai Đó,0912\nL-001,079301006666,,\n",
                               DOSSIERS + "L-404,HS-X,1.001193,,,returned,2021-13-01,,\n")
    assert main(["accounts", "import", accounts, "--dossiers", dossiers]) == 1
    err = capsys.readouterr().err
    assert f"{accounts}: line 4 [id_number]" in err and f"{accounts}: line 4 [phone]" in err
    assert f"{accounts}: line 5 [legacy_id]: Trùng với dòng 2" in err and f"{accounts}: line 5 [full_name]" in err
    assert f"{dossiers}: line 5 [legacy_id]: Không có tài khoản này" in err and f"{dossiers}: line 5 [submitted_at]" in err
    assert "nothing imported: 6 error(s)" in err
    assert legacy_store.partition(KNOWN) == (None, [])


def test_the_cli_mints_a_citizen_token_with_the_id_number_claim(capsys):
    assert main(["token", "--role", "citizen", "--sub", "citizen-le", "--id-number", KNOWN]) == 0
    from chalicelib.trust.rules.identity import identity_from_claims, verify_local_token
    claims = verify_local_token(capsys.readouterr().out.strip(), settings().local_jwt_secret)
    assert identity_from_claims(claims).id_number == KNOWN


def test_a_token_with_a_malformed_id_number_is_refused(api, aws_env):
    token = mint_local_token(settings().local_jwt_secret, "citizen-x", "citizen")
    import jwt
    claims = jwt.decode(token, settings().local_jwt_secret, algorithms=["HS256"])
    bad = jwt.encode({**claims, "id_number": "12AB"}, settings().local_jwt_secret, algorithm="HS256")
    response = api.call("GET", "/dossiers", token=bad)
    assert response.status_code == 401 and response.json["error"]["code"] == "invalid_token"
