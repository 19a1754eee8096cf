"""Personal data through the app: no id number, phone, e-mail or address in any log line of a
whole workflow (errors included); the citizen's data export; the retention purge, which leaves
form 06 exactly as it was."""
from __future__ import annotations

import json
import logging
from datetime import datetime, timedelta, timezone

import pytest
import time_machine

from chalicelib.trust.use_cases import privacy as privacy_service
from chalicelib.dossiers.store import dossiers as store
from chalicelib.dossiers.store.attachments import bucket
from chalicelib.runtime.log import RedactingFormatter
from chalicelib.trust.rules.privacy import EXPORT_FORMAT
from handlers import retention
from motcua.cli import main
from motcua.dispatcher import LambdaContext
from tests.api.conftest import put_upload
from tests.api.payment_kit import PAID_PROCEDURE, flow, vnpay  # noqa: F401  (fixtures)
from tests.api.test_contract import check
from tests.api.test_intake import submission, submit
from tests.api.test_workflow import ALL_CRITERIA, COMMUNE, HOUSE, act, officer, result_docs

TZ = timezone(timedelta(hours=7))
ID_NUMBER, PHONE, EMAIL = "079301009876", "0987001234", "rieng.tu@example.vn"
ADDRESS = "Số 77 Nguyễn Huệ, phường Kon Tum, tỉnh Quảng Ngãi"
# every form in which the applicant's data could surface (SMS and Zalo use +84 / 84 forms)
SECRETS = (ID_NUMBER, PHONE, "+84987001234", "84987001234", EMAIL, "Nguyễn Huệ")


def applicant() -> dict:
    return {"full_name": "Trịnh Thị Riêng", "id_number": ID_NUMBER, "phone": PHONE, "email": EMAIL,
            "address": ADDRESS}


@pytest.fixture(autouse=True)
def cli_environment(monkeypatch):
    monkeypatch.setenv("MOTCUA_AWS_ENDPOINT", "")
    monkeypatch.setenv("MOTCUA_STAGE", "local")


def test_no_log_line_of_a_whole_workflow_holds_the_applicants_personal_data(
        api, aws_env, dispatcher, simulators, flow, caplog, monkeypatch):
    from chalicelib.payments.use_cases import payments as payment_service
    simulators.zalo.control({"fail": 1})        # a consumer failure is logged too
    caplog.set_level(logging.INFO)
    citizen = flow.citizen
    body = submission(PAID_PROCEDURE, applicant=applicant(), notify=["sms", "zalo", "email"],
                      summary=f"Liên hệ {PHONE}, {EMAIL}, {ADDRESS}")
    code = submit(api, body, citizen, key="private-0001").json["dossier_code"]
    payment_id, params = flow.pay(code)
    assert flow.ipn(params).json["RspCode"] == "00"
    agency = code.rsplit("-", 2)[0]
    sxd = api.token("officer", agency, sub="officer-private")
    assert api.call("POST", f"/dossiers/{code}/accept", token=sxd).status_code == 200
    issued = act(api, code, sxd, "issue_result", decision="approved",
                 documents=result_docs(aws_env, "officer-private"))
    assert issued.status_code == 200, issued.json
    assert act(api, code, sxd, "return_result", method="desk").status_code == 200
    assert api.call("POST", f"/dossiers/{code}/rating", token=citizen,
                    body={"criteria": ALL_CRITERIA, "overall": 5}).status_code == 200
    dispatcher.drain()   # the consumers run, the receipts one included (it draws the PDF)
    assert api.call("GET", f"/payments/{payment_id}/receipt", token=citizen).status_code == 200

    def explode(observation, **_):  # a forced failure whose message and traceback carry the data
        raise RuntimeError(f"cannot handle {ID_NUMBER} / {PHONE} / {EMAIL} at {ADDRESS}")
    monkeypatch.setattr(payment_service, "observe", explode)
    assert flow.ipn(params).json["RspCode"] == "99"
    privacy_service.logger.info("context check", extra={"applicant": applicant(), "note": f"gọi {PHONE}"})

    out = "\n".join(as_written(caplog.records))
    lines = [json.loads(line) for line in out.splitlines()]
    services = {line.get("service") for line in lines}
    assert {"motcua-api", "motcua-payments", "notifications", "motcua-privacy"} <= services
    assert any(line.get("exception_name") == "RuntimeError" for line in lines)
    assert "[REDACTED]" in out and code in out
    for secret in SECRETS:
        assert secret not in out, secret


def as_written(records: list[logging.LogRecord]) -> list[str]:
    """Each record as its logger's own handler writes it to stdout (CloudWatch). Records of
    loggers without a handler (libraries) reach CloudWatch only through the runtime's root
    logger, at WARNING and above: there must be none of those."""
    lines = []
    for record in records:
        handlers = logging.getLogger(record.name).handlers
        if not handlers:
            assert record.levelno < logging.WARNING, (record.name, record.getMessage())
            continue
        assert isinstance(handlers[0].formatter, RedactingFormatter), record.name
        lines.append(handlers[0].formatter.format(record))
    return lines


def closed_dossiers(api, aws_env, dispatcher, prefix: str,
                    names=("returned", "refused", "withdrawn", "open")) -> dict[str, str]:
    """A returned, a refused and a withdrawn dossier with files, and one still processing."""
    citizen = api.token("citizen", sub="citizen-old")
    commune = officer(api)
    codes = {}
    for i, name in enumerate(names):
        upload = put_upload(aws_env, "citizen-old")
        body = submission(HOUSE, applicant=applicant(), attachments=[{"upload_id": upload, "name": "Đơn.pdf"}])
        codes[name] = submit(api, body, citizen, key=f"{prefix}-{i:04d}").json["dossier_code"]
    assert api.call("POST", f"/dossiers/{codes['refused']}/refuse", token=commune,
                    body={"reason": "Sai thẩm quyền"}).status_code == 200
    if "returned" in codes:
        assert act(api, codes["withdrawn"], citizen, "withdraw", reason="Không cần nữa").status_code == 200
        for name in ("returned", "open"):
            assert api.call("POST", f"/dossiers/{codes[name]}/accept", token=commune).status_code == 200
        assert act(api, codes["returned"], commune, "issue_result", decision="approved",
                   documents=result_docs(aws_env)).status_code == 200
        assert act(api, codes["returned"], commune, "return_result", method="desk").status_code == 200
    dispatcher.drain()
    return codes


def objects(aws_env) -> set[str]:
    listing = aws_env.client("s3").list_objects_v2(Bucket=bucket())
    return {item["Key"] for item in listing.get("Contents", [])}


def test_purge_deletes_old_closed_files_and_form_06_stays_identical(api, aws_env, dispatcher, capsys):
    with time_machine.travel(datetime(2020, 3, 2, 9, 0, tzinfo=TZ), tick=True):
        old = closed_dossiers(api, aws_env, dispatcher, "old")
    recent = closed_dossiers(api, aws_env, dispatcher, "new", names=("refused",))   # closed today
    admin = api.token("admin", sub="admin-1")
    query = f"/reports/dossiers?from=2020-01-01&to=2020-12-31&group_by=agency&agency_id={COMMUNE}"
    before = api.call("GET", query, token=admin)
    assert before.status_code == 200, before.json
    held = objects(aws_env)

    assert main(["privacy", "purge", "--dry-run"]) == 0
    dry = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert sorted(dry["codes"]) == sorted(old[n] for n in ("returned", "refused", "withdrawn"))
    assert objects(aws_env) == held and dry["files"] == 4           # 3 submissions + 1 result

    versions = {code: store.get_dossier(code)["version"] for code in old.values()}
    assert main(["privacy", "purge"]) == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert summary["dossiers"] == 3 and summary["files"] == 4
    assert len(held - objects(aws_env)) == 4
    for name, code in old.items():
        dossier = store.get_dossier(code)
        assert dossier["version"] == versions[code]
        assert bool(dossier.get("attachments_purged_at")) is (name != "open")
    for code in recent.values():
        assert not store.get_dossier(code).get("attachments_purged_at")
    view = api.call("GET", f"/dossiers/{old['returned']}", token=admin)
    assert view.json["attachments_purged_at"] and view.json["attachments"]   # names kept, files gone
    check("/dossiers/{code}", "get", view)
    dispatcher.drain()

    after = api.call("GET", query, token=admin)
    assert after.json == before.json
    assert main(["reports", "verify", "--from", "2020-01-01", "--to", "2020-12-31"]) == 0
    assert "OK" in capsys.readouterr().out
    again = retention.handler({}, LambdaContext("attachments-retention"))   # the daily schedule
    assert again["dossiers"] == 0                                        # purged ones left the index


def test_export_gathers_everything_held_about_one_citizen(api, aws_env, dispatcher, flow, capsys, tmp_path):
    citizen = flow.citizen
    upload = put_upload(aws_env, "citizen-payer", data=b"%PDF-1.4 mine")
    body = submission(PAID_PROCEDURE, applicant=applicant(), notify=["sms"],
                      attachments=[{"upload_id": upload, "name": "CCCD.pdf"}])
    code = submit(api, body, citizen, key="export-0001").json["dossier_code"]
    payment_id, params = flow.pay(code)
    assert flow.ipn(params).json["RspCode"] == "00"
    other = submission(PAID_PROCEDURE, applicant={**applicant(), "id_number": "079301000001"})
    other_code = submit(api, other, api.token("citizen", sub="someone-else"), key="export-0002").json["dossier_code"]
    dispatcher.drain()

    out = tmp_path / "export.json"
    assert main(["privacy", "export", "--id-number", ID_NUMBER, "--out", str(out), "--with-files"]) == 0
    document = json.loads(out.read_text(encoding="utf-8"))
    assert document["format"] == EXPORT_FORMAT and document["subject"] == {"id_number": ID_NUMBER}
    assert [d["dossier"]["code"] for d in document["dossiers"]] == [code]
    record = document["dossiers"][0]
    assert record["dossier"]["applicant"]["email"] == EMAIL
    assert [e["type"] for e in record["events"]][:2] == ["DossierSubmitted", "PaymentCreated"]
    assert [p["payment_id"] for p in record["payments"]] == [payment_id]
    assert record["payments"][0]["status"] == "succeeded"
    assert {n["channel"] for n in record["notifications"]} == {"sms"} and record["notifications"][0]["state"] == "sent"
    [attachment] = record["attachments"]
    assert attachment["name"] == "CCCD.pdf" and attachment["key"].endswith(upload)
    assert attachment["content_base64"] == "JVBERi0xLjQgbWluZQ=="
    assert other_code not in out.read_text(encoding="utf-8")
    assert main(["privacy", "export", "--id-number", "12345"]) == 2
    assert "id_number" in capsys.readouterr().err
