"""Citizen and officer flows through the Chalice app, against in-process moto."""
from __future__ import annotations

import json
import os
import re
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone

import pytest

from chalicelib.dossiers.store import dossiers as store
from chalicelib.runtime.settings import settings
from chalicelib.trust.rules.identity import mint_local_token
from tests.api.conftest import put_upload



def seed_procedure(api, code=None):
    items = api.call("GET", "/procedures").json["items"]
    return next(p for p in items if p["procedure_code"] == code) if code else items[0]


def applicant(**over):
    base = {"full_name": "Nguyễn Văn An", "id_number": "051095001234", "phone": "0912345678",
            "email": "an@example.com", "address": "12 Lê Lợi, phường Cẩm Thành"}
    base.update(over)
    return base


def submission(procedure_code, **over):
    body = {"procedure_code": procedure_code, "applicant": applicant(), "summary": "Xin cấp phiếu",
            "form": {"so_ban": 1}, "attachments": []}
    body.update(over)
    return body


def submit(api, body, token, key="key-00000001"):
    return api.call("POST", "/dossiers", body=body, token=token, headers={"Idempotency-Key": key})


@pytest.fixture
def citizen(api):
    return api.token("citizen", sub="citizen-an")


@pytest.fixture
def procedure(api):
    return seed_procedure(api)


def officer_for(api, procedure):
    return api.token("officer", procedure["agency_id"], sub="officer-1")


# --- catalogue ---------------------------------------------------------------------------

def test_catalogue_lists_procedures_with_integer_fees_and_rules(api):
    items = api.call("GET", "/procedures").json["items"]
    assert len(items) >= 8
    for p in items:
        assert {"procedure_code", "name", "field", "agency_id", "processing_days", "online_level", "fees",
                "required_documents", "supplement_rule"} <= set(p)
        assert all(isinstance(fee["amount"], int) for fee in p["fees"])


def test_catalogue_filters_by_agency_and_accent_free_text(api, procedure):
    by_agency = api.call("GET", f"/procedures?agency_id={procedure['agency_id']}").json["items"]
    assert by_agency and all(p["agency_id"] == procedure["agency_id"] for p in by_agency)
    found = api.call("GET", "/procedures?q=ly%20lich%20tu%20phap").json["items"]
    assert any("lý lịch tư pháp" in p["name"].lower() for p in found)


def test_unknown_procedure_is_404_with_vietnamese_message(api):
    response = api.call("GET", "/procedures/9.999999")
    assert response.status_code == 404
    assert response.json["error"]["code"] == "unknown_procedure"
    assert "thủ tục" in response.json["error"]["message"]


# --- submit ------------------------------------------------------------------------------

def test_submit_returns_code_status_fees_at_once(api, citizen, procedure):
    response = submit(api, submission(procedure["procedure_code"]), citizen)
    assert response.status_code == 201, response.json
    body = response.json
    today = datetime.now(timezone(timedelta(hours=7))).strftime("%y%m%d")
    assert body["dossier_code"] == f"{procedure['agency_id']}-{today}-0001"
    assert body["status"] == "submitted"
    assert body["submitted_at"].endswith("+07:00")
    assert body["amount_due"] == sum(fee["amount"] for fee in procedure["fees"])
    assert body["fees"] == procedure["fees"]


def test_daily_sequence_counts_per_agency(api, citizen):
    procedures = api.call("GET", "/procedures").json["items"]
    first, other = procedures[0], next(p for p in procedures if p["agency_id"] != procedures[0]["agency_id"])
    codes = [submit(api, submission(p["procedure_code"]), citizen, key=f"key-seq-{i:04d}").json["dossier_code"]
             for i, p in enumerate([first, first, other])]
    assert [c.rsplit("-", 1)[1] for c in codes] == ["0001", "0002", "0001"]


def test_a_rush_of_concurrent_submissions_to_one_agency_all_succeed_with_unique_codes(api, procedure):
    """Fifty citizens submit to one agency at once, twenty at a time (issue 18: gap-free
    numbering gave up with 503 sequence_contention). Each takes its number with one atomic
    ADD, so none fails and no two share a code."""
    rush, workers = 50, 20
    start = threading.Barrier(workers)

    def one(n: int):
        if n < workers:
            start.wait(10)
        token = api.token("citizen", sub=f"citizen-rush-{n}")
        return submit(api, submission(procedure["procedure_code"]), token, key=f"rush-{n:04d}")

    environ = os.environ   # chalice's test client swaps os.environ per request: threads may leave a copy
    try:
        with ThreadPoolExecutor(workers) as pool:
            answers = list(pool.map(one, range(rush)))
    finally:
        os.environ = environ  # noqa: B003 (the object itself back, as chalice's client restores it)
    assert [a.status_code for a in answers] == [201] * rush, [a.json for a in answers if a.status_code != 201][:3]
    codes = {a.json["dossier_code"] for a in answers}
    assert len(codes) == rush
    assert sorted(int(c.rsplit("-", 1)[1]) for c in codes) == list(range(1, rush + 1))


def test_same_idempotency_key_and_body_replays_the_first_response(api, citizen, procedure):
    body = submission(procedure["procedure_code"])
    first = submit(api, body, citizen, key="replay-key-1")
    again = submit(api, body, citizen, key="replay-key-1")
    assert again.status_code == 201
    assert again.json == first.json
    assert again.headers["Idempotent-Replayed"] == "true"
    listed = api.call("GET", "/dossiers", token=citizen).json["items"]
    assert len(listed) == 1


def test_same_idempotency_key_with_another_body_is_422(api, citizen, procedure):
    submit(api, submission(procedure["procedure_code"]), citizen, key="replay-key-2")
    other = submit(api, submission(procedure["procedure_code"], summary="khác"), citizen, key="replay-key-2")
    assert other.status_code == 422
    assert other.json["error"]["code"] == "idempotency_key_reused"
    assert "Idempotency-Key" in other.json["error"]["fields"]


def test_idempotency_keys_are_per_citizen(api, procedure):
    body = submission(procedure["procedure_code"])
    a = submit(api, body, api.token("citizen", sub="citizen-a"), key="shared-key-1")
    b = submit(api, body, api.token("citizen", sub="citizen-b"), key="shared-key-1")
    assert a.json["dossier_code"] != b.json["dossier_code"]


def test_missing_idempotency_key_is_400(api, citizen, procedure):
    response = api.call("POST", "/dossiers", body=submission(procedure["procedure_code"]), token=citizen)
    assert response.status_code == 400
    assert response.json["error"]["code"] == "missing_idempotency_key"


def _dossier_items(aws_env):
    ddb = aws_env.client("dynamodb")
    return ddb.scan(TableName=settings().name("dossiers"))["Items"]


@pytest.mark.parametrize("case, mutate, status, code, field", [
    ("id number not 12 digits", lambda b: b["applicant"].update(id_number="12345"), 422, "validation_failed", "applicant.id_number"),
    ("id number with letters", lambda b: b["applicant"].update(id_number="05109500123A"), 422, "validation_failed", "applicant.id_number"),
    ("phone not a number", lambda b: b["applicant"].update(phone="call me"), 422, "validation_failed", "applicant.phone"),
    ("name missing", lambda b: b["applicant"].pop("full_name"), 422, "validation_failed", "applicant.full_name"),
    ("applicant wrong type", lambda b: b.update(applicant="An"), 422, "validation_failed", "applicant"),
    ("form wrong type", lambda b: b.update(form=[1, 2]), 422, "validation_failed", "form"),
    ("summary too long", lambda b: b.update(summary="x" * 1001), 422, "validation_failed", "summary"),
    ("procedure code wrong type", lambda b: b.update(procedure_code=123), 422, "validation_failed", "procedure_code"),
    ("unknown procedure", lambda b: b.update(procedure_code="9.999999"), 422, "unknown_procedure", "procedure_code"),
    ("attachment not uploaded", lambda b: b.update(attachments=[{"upload_id": "0" * 32, "name": "a.pdf"}]), 422, "validation_failed", "attachments[0].upload_id"),
    ("attachment name with path", lambda b: b.update(attachments=[{"upload_id": "0" * 32, "name": "../etc/passwd"}]), 422, "validation_failed", "attachments[0].name"),
])
def test_bad_submission_gets_a_named_field_error_and_writes_nothing(api, aws_env, citizen, procedure, case, mutate, status, code, field):
    body = submission(procedure["procedure_code"])
    mutate(body)
    response = submit(api, body, citizen)
    assert response.status_code == status, case
    error = response.json["error"]
    assert error["code"] == code
    assert field in error["fields"]
    assert re.search(r"[àáảãạăâđèéêìíòóôơùúưỳýộệếữịọớờừ]", error["fields"][field] + error["message"])
    assert [i for i in _dossier_items(aws_env) if not i["pk"]["S"].startswith("SEQ#")] == []


@pytest.mark.parametrize("raw, code", [
    (b"{not json", "malformed_json"),
    (b"\xff\xfe\x00bad", "invalid_encoding"),
    (b"", "missing_body"),
    (b"[" * 5000 + b"]" * 5000, "json_too_deep"),
])
def test_malformed_bodies_get_a_clear_400(api, citizen, raw, code):
    response = api.call("POST", "/dossiers", raw=raw, token=citizen, headers={"Idempotency-Key": "key-malformed"})
    assert response.status_code == 400
    assert response.json["error"]["code"] == code


def test_oversized_body_is_413(api, citizen, procedure):
    body = submission(procedure["procedure_code"], form={"blob": "x" * (settings().max_body_bytes + 10)})
    response = submit(api, body, citizen)
    assert response.status_code == 413
    assert response.json["error"]["code"] == "payload_too_large"


@pytest.mark.parametrize("auth, code", [
    (None, "unauthenticated"),
    ("Basic abc", "invalid_token"),
    ("Bearer not-a-jwt", "invalid_token"),
])
def test_missing_or_bad_token_is_401(api, procedure, auth, code):
    headers = {"Idempotency-Key": "key-auth-0001"}
    if auth:
        headers["Authorization"] = auth
    response = api.call("POST", "/dossiers", body=submission(procedure["procedure_code"]), headers=headers)
    assert response.status_code == 401
    assert response.json["error"]["code"] == code


def test_expired_token_is_401_token_expired(api, procedure):
    expired = mint_local_token(settings().local_jwt_secret, "citizen-old", "citizen", now=0, ttl_seconds=60)
    response = submit(api, submission(procedure["procedure_code"]), expired)
    assert response.status_code == 401
    assert response.json["error"]["code"] == "token_expired"


def test_token_signed_with_another_secret_is_401(api, procedure):
    forged = mint_local_token("another-secret-that-is-long-enough-for-hs256", "citizen-x", "citizen")
    assert submit(api, submission(procedure["procedure_code"]), forged).status_code == 401


def test_only_citizens_submit_online(api, procedure):
    response = submit(api, submission(procedure["procedure_code"]), officer_for(api, procedure))
    assert response.status_code == 403


# --- attachments -------------------------------------------------------------------------

def test_upload_returns_presigned_put_url(api, citizen):
    response = api.call("POST", "/uploads", token=citizen,
                        body={"name": "cccd.pdf", "content_type": "application/pdf", "size": 2048})
    assert response.status_code == 201
    assert re.fullmatch(r"[0-9a-f]{32}", response.json["upload_id"])
    assert "X-Amz-Signature" in response.json["upload_url"]
    assert response.json["method"] == "PUT"


@pytest.mark.parametrize("body, field", [
    ({"name": "a.exe", "content_type": "application/x-msdownload", "size": 10}, "content_type"),
    ({"name": "a.pdf", "content_type": "application/pdf", "size": 10**10}, "size"),
    ({"name": "a.pdf", "content_type": "application/pdf", "size": "10"}, "size"),
    ({"name": "a.pdf", "content_type": {"a": 1}, "size": 10}, "content_type"),   # once a 500 (fuzzer)
    ({"name": "a.pdf", "content_type": ["application/pdf"], "size": 10}, "content_type"),
    ({"name": "../../a.pdf", "content_type": "application/pdf", "size": 10}, "name"),
])
def test_upload_rejects_bad_type_size_and_names(api, citizen, body, field):
    response = api.call("POST", "/uploads", token=citizen, body=body)
    assert response.status_code == 422
    assert field in response.json["error"]["fields"]


def test_submit_with_uploaded_attachment_keeps_it(api, aws_env, citizen, procedure):
    upload_id = put_upload(aws_env, "citizen-an")
    body = submission(procedure["procedure_code"], attachments=[{"upload_id": upload_id, "name": "CCCD.pdf"}])
    code = submit(api, body, citizen).json["dossier_code"]
    dossier = api.call("GET", f"/dossiers/{code}", token=citizen).json
    assert dossier["attachments"] == [{"upload_id": upload_id, "name": "CCCD.pdf"}]


def test_another_citizens_upload_cannot_be_attached(api, aws_env, citizen, procedure):
    upload_id = put_upload(aws_env, "someone-else")
    body = submission(procedure["procedure_code"], attachments=[{"upload_id": upload_id, "name": "x.pdf"}])
    response = submit(api, body, citizen)
    assert response.status_code == 422
    assert "attachments[0].upload_id" in response.json["error"]["fields"]


# --- reading -----------------------------------------------------------------------------

def test_dossier_is_readable_by_owner_agency_officers_and_admin_only(api, citizen, procedure):
    code = submit(api, submission(procedure["procedure_code"]), citizen).json["dossier_code"]
    assert api.call("GET", f"/dossiers/{code}", token=citizen).json["applicant"]["full_name"] == "Nguyễn Văn An"
    assert api.call("GET", f"/dossiers/{code}", token=officer_for(api, procedure)).status_code == 200
    assert api.call("GET", f"/dossiers/{code}", token=api.token("admin")).status_code == 200
    stranger = api.call("GET", f"/dossiers/{code}", token=api.token("citizen", sub="citizen-b"))
    assert stranger.status_code == 404
    other_agency = api.call("GET", f"/dossiers/{code}", token=api.token("officer", "000.99.99.H50"))
    assert other_agency.status_code == 404


def test_public_tracking_needs_phone_last4_and_shows_no_personal_data(api, citizen, procedure):
    code = submit(api, submission(procedure["procedure_code"]), citizen).json["dossier_code"]
    ok = api.call("GET", f"/track/{code}?phone_last4=5678")
    assert ok.status_code == 200
    assert set(ok.json) == {"dossier_code", "status", "procedure_name", "agency_id", "agency_name",
                            "submitted_at", "accepted_at", "due_at"}
    text = json.dumps(ok.json, ensure_ascii=False)
    for secret in ("Nguyễn Văn An", "051095001234", "0912345678", "an@example.com", "Lê Lợi"):
        assert secret not in text
    assert api.call("GET", f"/track/{code}?phone_last4=0000").status_code == 404
    assert api.call("GET", f"/track/{code}").status_code == 422
    assert api.call("GET", "/track/NOPE-000000-0001?phone_last4=5678").status_code == 404


# --- officer decisions ---------------------------------------------------------------------

def test_accept_starts_the_clock_and_sets_the_due_date(api, citizen, procedure):
    code = submit(api, submission(procedure["procedure_code"]), citizen).json["dossier_code"]
    response = api.call("POST", f"/dossiers/{code}/accept", token=officer_for(api, procedure))
    assert response.status_code == 200, response.json
    body = response.json
    assert body["status"] == "accepted"
    assert body["accepted_at"].endswith("+07:00") and body["due_at"].endswith("T17:00:00+07:00")
    assert body["version"] == 2
    deadline = api.call("GET", f"/dossiers/{code}/deadline", token=citizen).json
    assert deadline["due_at"] == body["due_at"]
    counted = [d for d in deadline["explanation"]["days"] if d["kind"] in ("counted", "swapped_working")]
    assert len(counted) == procedure["processing_days"]


def test_deadline_before_acceptance_says_the_clock_has_not_started(api, citizen, procedure):
    code = submit(api, submission(procedure["procedure_code"]), citizen).json["dossier_code"]
    body = api.call("GET", f"/dossiers/{code}/deadline", token=citizen).json
    assert body["due_at"] is None and "chưa" in body["message"]


def test_accepting_twice_is_409_with_current_status(api, citizen, procedure):
    code = submit(api, submission(procedure["procedure_code"]), citizen).json["dossier_code"]
    officer = officer_for(api, procedure)
    api.call("POST", f"/dossiers/{code}/accept", token=officer)
    again = api.call("POST", f"/dossiers/{code}/accept", token=officer)
    assert again.status_code == 409
    assert again.json["error"]["code"] == "invalid_transition"
    assert again.json["error"]["current_status"] == "accepted"


def test_refuse_needs_a_reason_and_then_refuses(api, citizen, procedure):
    code = submit(api, submission(procedure["procedure_code"]), citizen).json["dossier_code"]
    officer = officer_for(api, procedure)
    missing = api.call("POST", f"/dossiers/{code}/refuse", token=officer, body={})
    assert missing.status_code == 422 and "reason" in missing.json["error"]["fields"]
    refused = api.call("POST", f"/dossiers/{code}/refuse", token=officer, body={"reason": "Hồ sơ thiếu bản sao CCCD"})
    assert refused.status_code == 200 and refused.json["status"] == "refused"
    assert refused.json["decisions"][-1]["reason"] == "Hồ sơ thiếu bản sao CCCD"
    assert api.call("POST", f"/dossiers/{code}/accept", token=officer).status_code == 409


def test_officer_of_another_agency_cannot_decide(api, citizen, procedure):
    code = submit(api, submission(procedure["procedure_code"]), citizen).json["dossier_code"]
    response = api.call("POST", f"/dossiers/{code}/accept", token=api.token("officer", "000.99.99.H50"))
    assert response.status_code == 403
    assert api.call("POST", f"/dossiers/{code}/accept", token=citizen).status_code == 403
    assert api.call("POST", "/dossiers/NOPE-000000-0001/accept", token=officer_for(api, procedure)).status_code == 404


def test_concurrent_accepts_give_one_success_and_one_conflict(api, citizen, procedure):
    """Two officers read version 1; the second write loses the optimistic lock."""
    from chalicelib.dossiers.use_cases import intake
    from chalicelib.trust.rules.identity import Identity

    code = submit(api, submission(procedure["procedure_code"]), citizen).json["dossier_code"]
    officer = Identity("officer-2", "officer", procedure["agency_id"])
    stale = store.get_dossier(code)
    intake.accept(code, officer)
    from chalicelib.kernel.errors import Conflict
    import chalicelib.dossiers.use_cases.intake as module
    original = module.store.get_dossier
    module.store.get_dossier = lambda _code: json.loads(json.dumps(stale))
    try:
        with pytest.raises(Conflict) as lost:
            intake.accept(code, officer)
    finally:
        module.store.get_dossier = original
    assert lost.value.code == "concurrent_update"
    assert store.get_dossier(code)["version"] == 2


# --- listing -----------------------------------------------------------------------------

def test_lists_are_newest_first_paginated_and_scoped(api, citizen, procedure):
    codes = [submit(api, submission(procedure["procedure_code"]), citizen, key=f"list-key-{i:04d}").json["dossier_code"]
             for i in range(5)]
    officer = officer_for(api, procedure)
    page1 = api.call("GET", "/dossiers?limit=2", token=officer).json
    page2 = api.call("GET", f"/dossiers?limit=2&cursor={page1['next_cursor']}", token=officer).json
    page3 = api.call("GET", f"/dossiers?limit=2&cursor={page2['next_cursor']}", token=officer).json
    seen = [d["dossier_code"] for d in page1["items"] + page2["items"] + page3["items"]]
    assert seen == list(reversed(codes))
    mine = api.call("GET", "/dossiers", token=citizen).json["items"]
    assert len(mine) == 5
    assert api.call("GET", "/dossiers", token=api.token("citizen", sub="nobody")).json["items"] == []


def test_list_filters_by_status(api, citizen, procedure):
    codes = [submit(api, submission(procedure["procedure_code"]), citizen, key=f"status-key-{i:04d}").json["dossier_code"]
             for i in range(3)]
    officer = officer_for(api, procedure)
    api.call("POST", f"/dossiers/{codes[1]}/accept", token=officer)
    accepted = api.call("GET", "/dossiers?status=accepted", token=officer).json["items"]
    assert [d["dossier_code"] for d in accepted] == [codes[1]]
    submitted = api.call("GET", "/dossiers?status=submitted", token=citizen).json["items"]
    assert {d["dossier_code"] for d in submitted} == {codes[0], codes[2]}
    assert api.call("GET", "/dossiers?status=bogus", token=officer).status_code == 422


def test_list_rejects_foreign_agency_bad_cursor_and_unscoped_admin(api, procedure):
    officer = officer_for(api, procedure)
    assert api.call("GET", "/dossiers?agency_id=000.99.99.H50", token=officer).status_code == 403
    bad = api.call("GET", "/dossiers?cursor=abc", token=officer)
    assert bad.status_code == 400 and bad.json["error"]["code"] == "invalid_cursor"
    assert api.call("GET", "/dossiers", token=api.token("admin")).status_code == 422
    scoped = api.call("GET", f"/dossiers?agency_id={procedure['agency_id']}", token=api.token("admin"))
    assert scoped.status_code == 200


def test_chalice_own_errors_get_our_shape(api):
    wrong_method = api.call("DELETE", "/dossiers")
    assert wrong_method.status_code == 405
    assert wrong_method.json["error"]["code"] == "method_not_allowed"
    media = api.call("POST", "/uploads", raw=b"<x/>", headers={"Content-Type": "application/xml"})
    assert media.status_code == 415
    assert media.json["error"]["code"] == "unsupported_media_type"
