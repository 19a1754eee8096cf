"""Attachments: served only through short-lived presigned GET URLs after the dossier's own
authorization check; uploads are checked for declared type, real magic bytes and size."""
from __future__ import annotations

from datetime import datetime, timedelta, UTC
from urllib.parse import parse_qs, urlsplit

import requests

from chalicelib.dossiers.store import dossiers as store
from chalicelib.kernel.working_days import parse_iso, to_local
from chalicelib.runtime.settings import settings
from motcua import metering
from tests.api.conftest import put_upload
from tests.api.test_contract import check
from tests.api.test_intake import seed_procedure, submission, submit

PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 32


def submitted_with(api, aws_env, files, sub="citizen-files"):
    citizen = api.token("citizen", sub=sub)
    uploads = [put_upload(aws_env, sub, content_type, data) for content_type, data in files]
    body = submission(seed_procedure(api)["procedure_code"],
                      attachments=[{"upload_id": u, "name": f"Giấy tờ {i}.pdf"} for i, u in enumerate(uploads)])
    return submit(api, body, citizen), citizen, uploads


def test_the_owner_gets_a_five_minute_presigned_url_that_downloads_the_file(api, aws_env):
    created, citizen, (upload,) = submitted_with(api, aws_env, [("application/pdf", b"%PDF-1.7 hello")])
    code = created.json["dossier_code"]
    with metering.aws_calls() as calls:
        response = api.call("GET", f"/dossiers/{code}/attachments/{upload}", token=citizen)
    assert response.status_code == 200, response.json
    assert dict(calls) == {"dynamodb.Query": 1}          # the dossier; signing the URL calls nothing
    check("/dossiers/{code}/attachments/{upload_id}", "get", response)
    body = response.json
    assert body["name"] == "Giấy tờ 0.pdf"
    query = parse_qs(urlsplit(body["url"]).query)
    assert query["X-Amz-Expires"] == [str(settings().download_url_ttl_seconds)] == ["300"]
    assert "attachment;" in query["response-content-disposition"][0]
    expires = parse_iso(body["expires_at"])
    assert body["expires_at"].endswith("+07:00")
    assert timedelta(minutes=4) < expires - datetime.now(UTC) <= timedelta(minutes=5)
    downloaded = requests.get(body["url"], timeout=5)    # moto answers presigned URLs in-process
    assert downloaded.status_code == 200 and downloaded.content == b"%PDF-1.7 hello"


def test_attachment_urls_follow_the_dossier_read_rules(api, aws_env):
    created, citizen, (upload,) = submitted_with(api, aws_env, [("application/pdf", b"%PDF-1.4 x")])
    code = created.json["dossier_code"]
    agency = seed_procedure(api)["agency_id"]
    path = f"/dossiers/{code}/attachments/{upload}"
    assert api.call("GET", path, token=api.token("officer", agency, sub="officer-files")).status_code == 200
    for stranger in (api.token("citizen", sub="citizen-stranger"), api.token("officer", "000.99.99.H50")):
        hidden = api.call("GET", path, token=stranger)
        assert (hidden.status_code, hidden.json["error"]["code"]) == (404, "dossier_not_found")
        check("/dossiers/{code}/attachments/{upload_id}", "get", hidden)
    assert api.call("GET", path, token=api.token("finance")).status_code == 403
    assert api.call("GET", path).status_code == 401
    other = api.call("GET", f"/dossiers/{code}/attachments/{'0' * 32}", token=citizen)
    assert (other.status_code, other.json["error"]["code"]) == (404, "attachment_not_found")


def test_desk_scans_and_result_documents_download_from_their_uploaders_space(api, aws_env):
    procedure = seed_procedure(api)
    officer = api.token("officer", procedure["agency_id"], sub="officer-desk")
    scan = put_upload(aws_env, "officer-desk", data=b"%PDF-1.4 scan")
    body = {**submission(procedure["procedure_code"], attachments=[{"upload_id": scan, "name": "scan.pdf"}]),
            "channel": "direct", "consent": True}
    created = api.call("POST", "/desk/dossiers", token=officer, body=body, headers={"Idempotency-Key": "desk-files-1"})
    assert created.status_code == 201, created.json
    code = created.json["dossier_code"]
    assert api.call("POST", f"/dossiers/{code}/accept", token=officer).status_code == 200
    result = put_upload(aws_env, "officer-result", data=b"%PDF-1.4 result")
    issued = api.call("POST", f"/dossiers/{code}/actions", token=api.token("officer", procedure["agency_id"],
                                                                           sub="officer-result"),
                      body={"action": "issue_result", "decision": "approved",
                            "documents": [{"upload_id": result, "name": "kq.pdf"}]})
    assert issued.status_code == 200, issued.json
    assert "uploaders" not in issued.json                 # where files live is not shown
    for upload, content in ((scan, b"%PDF-1.4 scan"), (result, b"%PDF-1.4 result")):
        url = api.call("GET", f"/dossiers/{code}/attachments/{upload}", token=officer).json["url"]
        assert requests.get(url, timeout=5).content == content


def test_a_file_whose_bytes_are_not_its_declared_type_is_refused_naming_the_field(api, aws_env):
    created, _, _ = submitted_with(api, aws_env, [("application/pdf", b"%PDF-1.4 ok"), ("image/png", b"%PDF-1.4 no")])
    assert created.status_code == 422
    assert set(created.json["error"]["fields"]) == {"attachments[1]"}
    assert "không đúng" in created.json["error"]["fields"]["attachments[1]"]
    today = to_local(datetime.now(UTC)).strftime("%y%m%d")
    assert store.current_sequence(seed_procedure(api)["agency_id"], today) == 0    # nothing written


def test_files_of_each_accepted_type_pass_the_magic_byte_check(api, aws_env):
    created, _, _ = submitted_with(api, aws_env, [
        ("image/png", PNG), ("image/jpeg", b"\xff\xd8\xff\xe0rest"), ("application/pdf", b"%PDF-2.0"),
        ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", b"PK\x03\x04docx"),
        ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", b"PK\x03\x04xlsx")])
    assert created.status_code == 201, created.json


def test_an_empty_or_oversized_file_is_refused(api, aws_env, monkeypatch):
    empty, _, _ = submitted_with(api, aws_env, [("application/pdf", b"")])
    assert empty.status_code == 422 and "attachments[0]" in empty.json["error"]["fields"]
    monkeypatch.setenv("MOTCUA_UPLOAD_MAX_BYTES", "16")
    settings.cache_clear()
    try:
        big, _, _ = submitted_with(api, aws_env, [("application/pdf", b"%PDF-1.4" + b"x" * 40)], sub="citizen-big")
    finally:
        monkeypatch.undo()
        settings.cache_clear()
    assert big.status_code == 422
    assert "dung lượng" in big.json["error"]["fields"]["attachments[0]"]
