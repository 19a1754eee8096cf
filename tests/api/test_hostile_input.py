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
    "Nguyễn Văn A\u200b",
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


# --- issue 18: hidden characters, NFC, look-alike digits, non-finite numbers -----------------

@pytest.mark.parametrize("where, body_over", [
    ("applicant.full_name", {"applicant": applicant(full_name="Nguyễn\x00 Văn\x07 An\x1b[2J")}),
    ("applicant.full_name", {"applicant": applicant(full_name="Nguyễn Văn An\u202e")}),
    ("applicant.address", {"applicant": applicant(address="12 Lê Lợi\x85")}),   # C1 (NEL)
    ("summary", {"summary": "Xin cấp\x7f phiếu"}),                                # DEL
    ("form.ghi_chu", {"form": {"ghi_chu": "a\u2066b\u2069"}}),                   # bidi isolates
    ("attachments[0].name", {"attachments": [{"upload_id": "a" * 32, "name": "hồ_sơ\u202efdp.exe"}]}),
])
def test_control_and_bidi_characters_are_422_naming_the_field(api, aws_env, citizen, where, body_over):
    body = submission(seed_procedure(api)["procedure_code"], **body_over)
    response = submit(api, body, citizen, key="key-hidden-1")
    assert response.status_code == 422, response.body
    assert where in response.json["error"]["fields"], response.json
    assert dossier_count(aws_env) == 0


def test_line_breaks_are_text_in_a_summary_but_not_in_a_name(api, aws_env, citizen):
    procedure = seed_procedure(api)["procedure_code"]
    named = submit(api, submission(procedure, applicant=applicant(full_name="Nguyễn\nVăn An")), citizen, key="key-lf-1")
    assert named.status_code == 422 and "applicant.full_name" in named.json["error"]["fields"]
    summary = submit(api, submission(procedure, summary="Dòng 1\nDòng 2\tcột"), citizen, key="key-lf-2")
    assert summary.status_code == 201, summary.body


def test_vietnamese_text_is_stored_in_nfc(api, aws_env, citizen):
    import unicodedata
    decomposed = unicodedata.normalize("NFD", "Nguyễn Thị Ánh Tuyết")
    assert decomposed != "Nguyễn Thị Ánh Tuyết"
    body = submission(seed_procedure(api)["procedure_code"], applicant=applicant(full_name=decomposed),
                      form={unicodedata.normalize("NFD", "họ_tên"): decomposed})
    created = submit(api, body, citizen, key="key-nfc-1")
    assert created.status_code == 201, created.body
    stored = store.get_dossier(created.json["dossier_code"])
    assert stored["applicant"]["full_name"] == "Nguyễn Thị Ánh Tuyết"
    assert stored["form"] == {"họ_tên": "Nguyễn Thị Ánh Tuyết"}


@pytest.mark.parametrize("field, value", [
    ("id_number", "\uff10\uff15\uff11\uff10\uff19\uff15\uff10\uff10\uff11\uff12\uff13\uff14"),   # fullwidth
    ("id_number", "\u0660\u0665\u0661\u0660\u0669\u0665\u0660\u0660\u0661\u0662\u0663\u0664"),   # Arabic-Indic
    ("phone", "0\u0969\u0967\u0968\u0969\u096a\u096b\u096c\u096d\u096e"),                         # Devanagari
    ("phone", "091234567\uff18"),
])
def test_identifiers_accept_ascii_digits_only(api, aws_env, citizen, field, value):
    body = submission(seed_procedure(api)["procedure_code"], applicant=applicant(**{field: value}))
    response = submit(api, body, citizen, key="key-digits-1")
    assert response.status_code == 422 and f"applicant.{field}" in response.json["error"]["fields"], response.body
    assert dossier_count(aws_env) == 0


def test_tracking_with_look_alike_digits_is_refused(api, citizen):
    code = submit(api, submission(seed_procedure(api)["procedure_code"]), citizen, key="key-digits-2").json["dossier_code"]
    response = api.call("GET", f"/track/{code}?phone_last4={quote(chr(0xFF15) + '678')}")
    assert response.status_code in (404, 422) and "dossier_code" not in (response.json or {})


@pytest.mark.parametrize("number", ["NaN", "Infinity", "-Infinity", "1e999", "-1e999"])
def test_non_finite_numbers_are_400(api, aws_env, citizen, number):
    procedure = seed_procedure(api)["procedure_code"]
    raw = '{"procedure_code": "%s", "applicant": %s, "form": {"x": %s}}' % (procedure, json.dumps(applicant()), number)
    response = api.call("POST", "/dossiers", raw=raw, token=citizen, headers={"Idempotency-Key": "key-nan-0001"})
    assert response.status_code == 400 and error_code(response) == "non_finite_number", response.body
    assert dossier_count(aws_env) == 0


def test_large_finite_numbers_are_still_numbers(api, citizen):
    procedure = seed_procedure(api)["procedure_code"]
    raw = '{"procedure_code": "%s", "applicant": %s, "form": {"x": 1e308, "y": -2.5e-300}}' % (procedure, json.dumps(applicant()))
    response = api.call("POST", "/dossiers", raw=raw, token=citizen, headers={"Idempotency-Key": "key-nan-0002"})
    assert response.status_code == 201, response.body
    read = api.call("GET", f"/dossiers/{response.json['dossier_code']}", token=citizen)
    json.loads(read.body, parse_constant=lambda c: pytest.fail(f"non-standard JSON {c}"))


# --- issue 18: date-times outside the working-day calendar -------------------------------------

OUT_OF_RANGE = ["9999-12-31T23:59:59-12:00", "0001-01-01T00:00:00+14:00", "2010-01-04T09:00:00+07:00"]


@pytest.mark.parametrize("effective_at", OUT_OF_RANGE)
def test_issue_result_effective_at_outside_the_calendar_is_422_naming_it(api, aws_env, effective_at):
    from tests.api.test_workflow import act, new_accepted, officer, result_docs
    code, _, _ = new_accepted(api)
    response = act(api, code, officer(api), "issue_result", decision="approved",
                   documents=result_docs(aws_env), effective_at=effective_at)
    assert response.status_code == 422, response.body
    assert "effective_at" in response.json["error"]["fields"]


# --- issue 18: a dossier can no longer grow until it jams ---------------------------------------

def long_name(i: int) -> str:
    """A file name of exactly MOTCUA_MAX_FILE_NAME_BYTES (255) UTF-8 bytes: emoji, 4 bytes each."""
    return f"{i:03d}" + "\U0001F600" * 63   # 3 + 252 bytes


def test_a_maximal_dossier_with_every_supplement_round_still_gets_its_result(api, aws_env):
    """The largest valid submission (the form at its byte limit, in emoji; 30 files with
    255-byte names) and the most supplement rounds allowed, each with the most files: every
    write succeeds and the result is issued (issue 18: past 400 KB every write was a 503)."""
    from tests.api.test_workflow import HOUSE, act, officer, result_docs
    limits = settings().dossier_limits
    citizen_sub = "citizen-maximal"
    citizen = api.token("citizen", sub=citizen_sub)
    form = {"x": "\U0001F600" * ((limits.form_bytes - len('{"x":""}')) // 4)}
    files = [{"upload_id": put_upload(aws_env, citizen_sub), "name": long_name(i)} for i in range(limits.attachments)]
    created = submit(api, submission(HOUSE, form=form, summary="\U0001F600" * 1000, attachments=files),
                     citizen, key="key-maximal-1")
    assert created.status_code == 201, created.body
    code = created.json["dossier_code"]
    commune = officer(api)
    assert api.call("POST", f"/dossiers/{code}/accept", token=commune).status_code == 200
    for round_ in range(limits.supplement_rounds):
        asked = act(api, code, commune, "request_supplement", reason="\U0001F600" * 500,
                    documents=["\U0001F600" * 17] * 30)   # 2,000 + 2,040 bytes: the largest request
        assert asked.status_code == 200, (round_, asked.body[:300])
        extra = [{"upload_id": put_upload(aws_env, citizen_sub), "name": long_name(i)}
                 for i in range(limits.supplement_attachments)]
        supplied = api.call("POST", f"/dossiers/{code}/supplements", token=citizen, body={"attachments": extra})
        assert supplied.status_code == 200, (round_, supplied.body[:300])
    again = act(api, code, commune, "request_supplement", reason="Lần nữa", documents=["A"])
    assert again.status_code == 409 and error_code(again) == "supplement_rounds_exhausted"
    issued = act(api, code, commune, "issue_result", decision="approved", documents=result_docs(aws_env))
    assert issued.status_code == 200, issued.body[:300]


def test_a_form_over_its_byte_limit_is_422_naming_form(api, aws_env, citizen):
    limit = settings().dossier_limits.form_bytes
    form = {"x": "\U0001F600" * (limit // 4)}   # fewer characters than bytes: the limit is in bytes
    response = submit(api, submission(seed_procedure(api)["procedure_code"], form=form), citizen, key="key-form-big")
    assert response.status_code == 422 and "form" in response.json["error"]["fields"]


def test_a_file_name_over_255_bytes_is_422_naming_it(api, aws_env, citizen):
    name = "\U0001F600" * 64   # 64 characters, 256 bytes
    body = submission(seed_procedure(api)["procedure_code"],
                      attachments=[{"upload_id": put_upload(aws_env, "citizen-hostile"), "name": name}])
    response = submit(api, body, citizen, key="key-name-big")
    assert response.status_code == 422 and "attachments[0].name" in response.json["error"]["fields"]


def test_a_supplement_request_over_its_byte_limit_is_422_naming_documents(api, aws_env):
    from tests.api.test_workflow import act, new_accepted, officer
    code, _, _ = new_accepted(api)
    response = act(api, code, officer(api), "request_supplement", reason="\U0001F600" * 2000, documents=["A"])
    assert response.status_code == 422 and "documents" in response.json["error"]["fields"]


def test_a_supplement_over_its_file_limit_is_422_naming_attachments(api, aws_env):
    from tests.api.test_workflow import act, new_accepted, officer
    code, citizen, _ = new_accepted(api)
    assert act(api, code, officer(api), "request_supplement", reason="Thiếu", documents=["A"]).status_code == 200
    too_many = [{"upload_id": put_upload(aws_env, "citizen-walk"), "name": f"{i}.pdf"}
                for i in range(settings().dossier_limits.supplement_attachments + 1)]
    response = api.call("POST", f"/dossiers/{code}/supplements", token=citizen, body={"attachments": too_many})
    assert response.status_code == 422 and "attachments" in response.json["error"]["fields"]


def dossier_item_bytes(code: str) -> int:
    """The size of the dossier item's body as stored (its state, without the history kept apart)."""
    from chalicelib.runtime.models import DossierItem
    return len(DossierItem.get(store.dossier_pk(code), "DOSSIER", consistent_read=True).body.encode())


def test_a_dossier_worked_on_hundreds_of_times_keeps_its_item_the_same_size_and_reads_its_whole_history(api, aws_env):
    """Issue 18: growing histories stay out of the dossier item. An officer hands a dossier
    from one colleague to another 150 times (nothing bounds that): before, each hand-over
    added a decision and a held step to the item until it passed 400 KB."""
    from tests.api.test_workflow import act, new_accepted, officer
    code, citizen, _ = new_accepted(api)
    commune = officer(api)
    assert act(api, code, commune, "forward", to_step=1, assignee="officer-0").status_code == 200
    first = dossier_item_bytes(code)
    for i in range(1, 151):
        assert act(api, code, commune, "forward", to_step=1, assignee=f"officer-{i % 2}").status_code == 200
    assert dossier_item_bytes(code) <= first + 16          # a few more digits in version and counts
    whole = api.call("GET", f"/dossiers/{code}", token=citizen).json
    assert len(whole["decisions"]) == 152 and len(whole["step_history"]) == 151
    assert [d["assignee"] for d in whole["decisions"][-3:]] == ["officer-0", "officer-1", "officer-0"]
    assert whole["version"] == 153


def test_a_write_past_the_item_limit_is_409_dossier_too_large_with_its_cause_logged(api, aws_env, monkeypatch, caplog):
    """The last guard: whatever grew the dossier, a write that would pass the limit is a
    permanent 409 (never a retryable 503) and the log says why."""
    from tests.api.test_workflow import act, new_accepted, officer
    code, _, _ = new_accepted(api)
    monkeypatch.setenv("MOTCUA_MAX_DOSSIER_BYTES", str(dossier_item_bytes(code) + 100))   # a pause is more
    response = act(api, code, officer(api), "request_supplement", reason="Lý do " * 50, documents=["A"])
    assert response.status_code == 409, response.body
    assert error_code(response) == "dossier_too_large" and "retryable" not in response.json["error"]
    assert "Retry-After" not in response.headers
    assert "dossier write refused: item too large" in caplog.text
    assert store.get_dossier(code)["status"] == "accepted"


def test_a_history_entry_past_the_item_limit_is_409_dossier_too_large(api, aws_env, monkeypatch):
    from tests.api.test_workflow import act, new_accepted, officer
    code, _, _ = new_accepted(api)
    monkeypatch.setenv("MOTCUA_MAX_DOSSIER_BYTES", str(dossier_item_bytes(code) + 400))   # the pause fits; the request does not
    response = act(api, code, officer(api), "request_supplement", reason="Lý do " * 60, documents=["A"])
    assert response.status_code == 409 and error_code(response) == "dossier_too_large", response.body
    assert store.get_dossier(code)["supplements"] == []


def test_dynamodbs_own_item_size_refusal_is_dossier_too_large_and_other_failures_are_not():
    from types import SimpleNamespace

    from chalicelib.kernel.errors import DossierTooLarge
    reason = SimpleNamespace(code="ValidationException", message="Item size has exceeded the maximum allowed size")
    cancelled = SimpleNamespace(cancellation_reasons=[SimpleNamespace(code="None", message=None), reason])
    assert isinstance(store.too_large(cancelled, "X-1"), DossierTooLarge)
    whole_call = SimpleNamespace(cause_response_code="ValidationException",
                                 cause_response_message="Item size to update has exceeded the maximum allowed size")
    assert isinstance(store.too_large(whole_call, "X-1"), DossierTooLarge)
    other = SimpleNamespace(cause_response_code="ValidationException", cause_response_message="One or more parameter values were invalid")
    assert store.too_large(other, "X-1") is None


# --- issue 18's black-box rerun (motcua/hostile.py) ----------------------------------------------

@pytest.mark.parametrize("raw", ["[]", '"x"', "5", "null"])
def test_accept_with_a_body_that_is_not_a_json_object_is_422_and_accepts_nothing(api, aws_env, citizen, raw):
    """Accept reads no field of its body, but a body that is no object is refused as on every
    other route, not taken as an empty one (the rerun's hostile client got 200 accepted)."""
    from tests.api.test_workflow import officer
    code = submit(api, submission(seed_procedure(api)["procedure_code"]), citizen, key="key-accept-body").json["dossier_code"]
    response = api.call("POST", f"/dossiers/{code}/accept", token=officer(api, seed_procedure(api)["agency_id"]), raw=raw)
    assert response.status_code == 422 and "body" in response.json["error"]["fields"], response.body
    assert store.get_dossier(code)["status"] == "submitted"
    assert api.call("POST", f"/dossiers/{code}/accept", token=officer(api, seed_procedure(api)["agency_id"])).status_code == 200


def test_deciding_a_correction_with_a_body_that_is_not_a_json_object_is_422(api, aws_env):
    response = api.call("POST", "/dossiers/X-1/corrections/c-1/approve", token=api.token("admin"), raw="[1]")
    assert response.status_code == 422 and "body" in response.json["error"]["fields"], response.body
