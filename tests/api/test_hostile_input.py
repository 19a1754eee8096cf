"""Hand-written hostile input: what a fuzzer is unlikely to stumble on, said explicitly.

Oversized bodies, deep JSON, invalid UTF-8, injection strings in every text field of a
submission, path traversal in upload names, CR/LF in redirect URLs, VNPay parameters with
duplicated keys. Each answer is a clean 4xx in our error shape (or VNPay's reply), never a
500, and leaves nothing written.
"""
from __future__ import annotations

import json
from urllib.parse import parse_qsl, quote, urlencode, urlsplit

import pytest

from chalicelib.dossiers.store import dossiers as store
from chalicelib.runtime.settings import settings
from tests.api.conftest import put_upload
from tests.api.test_intake import applicant, seed_procedure, submission, submit

INJECTIONS = [
    "' OR '1'='1' --",
    "\"; DROP TABLE dossiers; --",
    "1; DELETE FROM dossiers WHERE 1=1",
    '{"$gt": ""}',
    "'; return db.dossiers.find(); var x='",
    "attribute_not_exists(pk) OR #s = :v",
    "${jndi:ldap://127.0.0.1/x}",
    "{{7*7}} <%= 7*7 %>",
    "<script>alert('xss')</script>",
    "Nguyễn Văn A\u202e\u200b",
]
POST_ROUTES = ["/dossiers", "/uploads", "/desk/dossiers", "/dossiers/X-1/actions", "/dossiers/X-1/refuse"]


def error_code(response) -> str:
    return response.json["error"]["code"]


def dossier_count(aws_env) -> int:
    from chalicelib.runtime.models import DossierItem
    return sum(1 for _ in DossierItem.scan())


@pytest.fixture
def citizen(api):
    return api.token("citizen", sub="citizen-hostile")


def test_a_body_over_the_limit_is_413_on_every_post_route_and_nothing_is_written(api, aws_env, citizen):
    too_big = b'{"summary": "' + b"a" * settings().max_body_bytes + b'"}'
    for path in POST_ROUTES:
        token = citizen if path in ("/dossiers", "/uploads") else api.token("officer", "000.00.13.H50")
        response = api.call("POST", path, raw=too_big, token=token, headers={"Idempotency-Key": "key-toolarge"})
        assert response.status_code == 413, (path, response.body[:300])
        assert error_code(response) == "payload_too_large"
    assert dossier_count(aws_env) == 0


def test_deeply_nested_json_is_a_clean_400_or_stored_as_sent(api, aws_env, citizen):
    procedure = seed_procedure(api)
    for depth in (30, 100, 5_000, 200_000):
        nested = "[" * depth + "]" * depth
        raw = ('{"procedure_code": "%s", "applicant": %s, "form": {"x": %s}}'
               % (procedure["procedure_code"], json.dumps(applicant()), nested)).encode()
        check_deep_submission(api, citizen, raw, depth)
    response = api.call("POST", "/dossiers", raw="[" * 300_000, token=citizen, headers={"Idempotency-Key": "key-deep-x"})
    assert response.status_code == 400 and error_code(response) == "json_too_deep"


def check_deep_submission(api, citizen, raw: bytes, depth: int) -> None:
    response = api.call("POST", "/dossiers", raw=raw, token=citizen, headers={"Idempotency-Key": f"key-deep-{depth}"})
    assert response.status_code in (201, 400, 422), response.body[:300]
    if response.status_code == 400:
        assert error_code(response) == "json_too_deep"
    if response.status_code == 201:   # accepted: then it reads back exactly as sent
        code = response.json["dossier_code"]
        read = api.call("GET", f"/dossiers/{code}", token=citizen).json
        assert read["form"] == json.loads(raw)["form"]


def test_invalid_utf8_is_400_invalid_encoding(api, aws_env, citizen):
    for raw in (b'{"summary": "\xff\xfe"}', b"\xc3\x28", b'{"a": "\xed\xa0\x80"}', b"\x80" * 10):
        response = api.call("POST", "/dossiers", raw=raw, token=citizen, headers={"Idempotency-Key": "key-utf8-bad"})
        assert response.status_code == 400 and error_code(response) == "invalid_encoding", raw
    assert dossier_count(aws_env) == 0


def test_injection_strings_in_free_text_are_stored_and_returned_verbatim(api, aws_env):
    for n, text in enumerate(INJECTIONS):
        check_stored_verbatim(api, aws_env, api.token("citizen", sub=f"citizen-hostile-{n}"), f"citizen-hostile-{n}", text)


def check_stored_verbatim(api, aws_env, citizen: str, sub: str, text: str) -> None:
    procedure = seed_procedure(api)
    upload_id = put_upload(aws_env, sub)
    body = submission(procedure["procedure_code"], applicant=applicant(full_name=text, address=text), summary=text,
                      form={text: text, "nested": [text, {"k": text}]},
                      attachments=[{"upload_id": upload_id, "name": text.replace("/", "")}])
    created = submit(api, body, citizen, key=f"key-inj-{abs(hash(text))}")
    assert created.status_code == 201, created.body
    code = created.json["dossier_code"]
    read = api.call("GET", f"/dossiers/{code}", token=citizen).json
    assert read["applicant"]["full_name"] == text and read["applicant"]["address"] == text
    assert read["summary"] == text and read["form"] == body["form"]
    assert read["attachments"][0]["name"] == text.replace("/", "")
    listed = api.call("GET", "/dossiers", token=citizen).json["items"]
    assert [d["dossier_code"] for d in listed] == [code]     # interpreted as a filter, it would list more or fewer
    assert store.get_dossier(code)["summary"] == text


def test_injection_strings_in_checked_fields_are_422_naming_the_field(api, aws_env, citizen):
    for field in ("id_number", "phone", "email"):
        for n, text in enumerate(INJECTIONS):
            body = submission(seed_procedure(api)["procedure_code"], applicant=applicant(**{field: text}))
            response = submit(api, body, citizen, key=f"key-chk-{field}-{n}")
            assert response.status_code == 422 and f"applicant.{field}" in response.json["error"]["fields"], text
    assert dossier_count(aws_env) == 0


def test_injection_strings_as_procedure_code_or_path_find_nothing(api, aws_env, citizen):
    for n, text in enumerate(INJECTIONS):
        response = submit(api, submission(text[:20]), citizen, key=f"key-proc-{n}")
        assert response.status_code in (404, 422), response.body
        assert api.call("GET", f"/dossiers/{quote(text, safe='')}", token=citizen).status_code in (404, 422)
        assert api.call("GET", f"/track/{quote(text, safe='')}?phone_last4=1234").status_code in (404, 422)
    assert dossier_count(aws_env) == 0


def test_operator_objects_in_text_fields_are_type_errors(api, aws_env, citizen):
    for operator in ({"$ne": None}, {"$gt": ""}, ["x"], 1, True):
        body = submission(seed_procedure(api)["procedure_code"], applicant=applicant(full_name=operator), summary=operator)
        response = submit(api, body, citizen, key="key-operator")
        assert response.status_code == 422
        assert {"applicant.full_name", "summary"} <= set(response.json["error"]["fields"])
    assert dossier_count(aws_env) == 0


TRAVERSALS = ["../../etc/passwd", "..\\..\\windows\\win.ini", "a/../../b.pdf", "/abs.pdf", "..", ".",
              "ok.pdf\x00.exe", "line\r\nbreak.pdf", "uploads/other/x.pdf"]


def test_path_traversal_in_upload_and_attachment_names_is_422_naming_the_field(api, aws_env, citizen):
    upload_id = put_upload(aws_env, "citizen-hostile")
    for name in TRAVERSALS:
        response = api.call("POST", "/uploads", body={"name": name, "content_type": "application/pdf", "size": 10},
                            token=citizen)
        assert response.status_code == 422 and "name" in response.json["error"]["fields"], name
        body = submission(seed_procedure(api)["procedure_code"], attachments=[{"upload_id": upload_id, "name": name}])
        response = submit(api, body, citizen, key="key-traversal")
        assert response.status_code == 422 and "attachments[0].name" in response.json["error"]["fields"], name
    assert dossier_count(aws_env) == 0


def test_the_storage_key_never_contains_the_client_name_nor_walks_out_of_its_prefix(api, aws_env, citizen):
    response = api.call("POST", "/uploads", body={"name": "..%2F..%2Fx.pdf", "content_type": "application/pdf",
                                                   "size": 10}, token=citizen)
    assert response.status_code == 201
    path = urlsplit(response.json["upload_url"]).path
    assert path.endswith("/" + response.json["upload_id"]) and "x.pdf" not in path and ".." not in path
    body = submission(seed_procedure(api)["procedure_code"], attachments=[{"upload_id": "../" + "a" * 29, "name": "a.pdf"}])
    response = submit(api, body, citizen, key="key-upload-id")
    assert response.status_code == 422 and "attachments[0].upload_id" in response.json["error"]["fields"]


# --- redirects and VNPay parameters ------------------------------------------------------

from tests.api.payment_kit import flow, resign, vnpay  # noqa: E402,F401  (fixtures)


def test_the_pay_url_the_api_hands_out_has_no_raw_cr_lf_or_spaces(flow):
    code = flow.dossier()
    pay_url = flow.create(code).json["pay_url"]
    assert not any(ch in pay_url for ch in "\r\n \t")
    return_url = dict(parse_qsl(urlsplit(pay_url).query))["vnp_ReturnUrl"]
    assert return_url.endswith("/payments/providers/vnpay/return") and not any(ord(ch) < 33 for ch in return_url)


def test_cr_lf_in_signed_return_parameters_reaches_no_response_header(flow):
    code = flow.dossier()
    _, params = flow.pay(code)
    page = flow.return_page(urlencode(resign(params, vnp_OrderInfo="x\r\nSet-Cookie: sid=evil\r\n\r\n<h1>")))
    assert page.status_code in (200, 400)
    assert set(page.headers) <= {"Content-Type", "content-type", "Content-Length", "content-length", "X-Request-Id"}
    assert "Set-Cookie" not in page.body.decode() and "<h1>\r" not in page.body.decode()
