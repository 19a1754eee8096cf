"""The audit log through the API: one record per state change, in the change's transaction,
one per sensitive read, readable by admins only, and never rewritten."""
from __future__ import annotations

import json
from itertools import pairwise

import pytest

from chalicelib.trust.rules import audit
from chalicelib.trust.store import audit as audit_store
from chalicelib.dossiers.store import dossiers as store
from chalicelib.runtime.settings import settings
from chalicelib.runtime.credentials import id_hash_key
from chalicelib.trust.rules.identity import Identity
from motcua import metering
from tests.api.conftest import put_upload
from tests.api.payment_kit import Flow, flow, vnpay  # noqa: F401  (fixtures)
from tests.api.test_contract import check
from tests.api.test_intake import applicant, seed_procedure, submission, submit

AGENCY = "000.00.13.H50"   # Sở Tư pháp: procedure 1.001023, 3 steps, paid before acceptance
ID_NUMBER, PHONE = applicant()["id_number"], applicant()["phone"]


def audit_log(api, admin, **query):
    """Every record for the query, following next_cursor in pages of 3 (each page contract-checked)."""
    items, cursor = [], None
    while True:
        params = "&".join(f"{k}={v}" for k, v in {**query, "limit": 3, **({"cursor": cursor} if cursor else {})}.items())
        page = api.call("GET", f"/audit?{params}", token=admin)
        assert page.status_code == 200, page.json
        check("/audit", "get", page)
        items += page.json["items"]
        cursor = page.json["next_cursor"]
        if not cursor:
            return items


def changes(api, admin, code):
    return [r for r in audit_log(api, admin, dossier=code) if r["kind"] == "change"]


def ok(response, status=200):
    assert response.status_code == status, response.json
    return response


def raw_audit_items(session):
    table = settings().name("audit")
    return session.client("dynamodb").scan(TableName=table)["Items"]


@pytest.fixture
def admin(api):
    return api.token("admin", sub="admin-audit")


def test_a_full_lifecycle_leaves_exactly_one_record_per_state_change(api, aws_env, flow: Flow, admin):
    officer = api.token("officer", AGENCY, sub="officer-tp")
    leader = api.token("leader", AGENCY, sub="leader-tp")
    expected = []  # (first event type, actor sub, role, agency, request id of the response)

    def step(response, types, sub, role, agency=None, status=200):
        ok(response, status)
        expected.append((types, sub, role, agency, response.headers["X-Request-Id"]))
        return response

    created = step(submit(api, submission("1.001023"), flow.citizen, key="audit-life-1"), "DossierSubmitted",
                   "citizen-payer", "citizen", status=201)
    code = created.json["dossier_code"]
    payment = step(flow.create(code), "PaymentCreated", "citizen-payer", "citizen", status=201)
    flow.open_page(payment.json["pay_url"])
    ipn = flow.ipn(flow.press(payment.json["payment_id"], "success"))
    assert ipn.json["RspCode"] == "00"
    step(ipn, "PaymentSucceeded", "system:payment-ipn", "system")
    step(api.call("POST", f"/dossiers/{code}/accept", token=officer), "DossierAccepted", "officer-tp", "officer", AGENCY)
    step(api.call("POST", f"/dossiers/{code}/forward", token=leader, body={"to_step": 2}),
         "DossierForwarded", "leader-tp", "leader", AGENCY)
    documents = [{"upload_id": put_upload(aws_env, "officer-tp"), "name": "Phiếu LLTP.pdf"}]
    issued = step(api.call("POST", f"/dossiers/{code}/actions", token=officer,
                           body={"action": "issue_result", "decision": "approved", "documents": documents}),
                  "DossierResultIssued", "officer-tp", "officer", AGENCY)
    step(api.call("POST", f"/dossiers/{code}/actions", token=officer, body={"action": "return_result", "method": "desk"}),
         "DossierResultReturned", "officer-tp", "officer", AGENCY)
    correction = step(api.call("POST", f"/dossiers/{code}/corrections", token=officer, body={
        "field": "finished_at", "value": issued.json["finished_at"], "reason": "Bấm nhầm giờ",
        "evidence_upload_id": put_upload(aws_env, "officer-tp")}), "DossierCorrectionRequested", "officer-tp",
        "officer", AGENCY, status=201)
    step(api.call("POST", f"/dossiers/{code}/corrections/{correction.json['id']}/approve", token=admin, body={}),
         "DossierCorrectionApproved", "admin-audit", "admin")

    records = changes(api, admin, code)
    assert [(r["action"], r["actor"]["sub"], r["actor"]["role"], r["actor"]["agency_id"], r["request_id"])
            for r in records] == expected
    # together the records cover every outbox event exactly once, in version order
    outbox = store.dossier_events(code)
    assert [e["id"] for r in records for e in r["events"]] == [e["id"] for e in outbox]
    assert records[0]["before"] is None
    for previous, record in pairwise(records):
        assert record["before"]["version"] == previous["after"]["version"]
        assert record["before"]["status"] == previous["after"]["status"]
    accepted = records[3]
    assert (accepted["before"]["status"], accepted["after"]["status"]) == ("submitted", "accepted")
    assert accepted["after"]["due_at"] and "due_at" in accepted["changed"]
    paid = records[2]
    assert paid["payment"]["before"]["status"] == "pending" and paid["payment"]["after"]["status"] == "succeeded"
    assert paid["after"]["payment.amount_paid"] == 200000
    assert "corrections" in records[-1]["changed"]
    # never the applicant's id number or phone, anywhere in the table
    stored = json.dumps(raw_audit_items(aws_env), ensure_ascii=False)
    assert ID_NUMBER not in stored and PHONE not in stored


def test_retried_requests_do_not_duplicate_records(api, flow: Flow, admin):
    body = submission("1.001023")
    first = ok(submit(api, body, flow.citizen, key="audit-retry-1"), 201)
    again = ok(submit(api, body, flow.citizen, key="audit-retry-1"), 201)
    assert again.headers["Idempotent-Replayed"] == "true"
    code = first.json["dossier_code"]
    _payment_id, params = flow.pay(code)
    assert flow.ipn(params).json["RspCode"] == "00"
    assert flow.ipn(params).json["RspCode"] == "02"  # VNPay's retry of the same IPN: already confirmed
    assert [r["action"] for r in changes(api, admin, code)] == ["DossierSubmitted", "PaymentCreated", "PaymentSucceeded"]


def test_a_transaction_whose_condition_fails_leaves_no_record(api, admin, monkeypatch):
    procedure = seed_procedure(api, "1.001193")   # no fees
    code = ok(submit(api, submission(procedure["procedure_code"]), api.token("citizen"), key="audit-cond-1"),
              201).json["dossier_code"]
    officer = api.token("officer", procedure["agency_id"], sub="officer-cond")
    stale = store.get_dossier(code)
    ok(api.call("POST", f"/dossiers/{code}/accept", token=officer))
    monkeypatch.setattr(store, "get_dossier", lambda c: json.loads(json.dumps(stale)))  # read before the accept
    lost = api.call("POST", f"/dossiers/{code}/refuse", token=officer, body={"reason": "Thiếu giấy tờ"})
    assert lost.status_code == 409 and lost.json["error"]["code"] == "concurrent_update"
    monkeypatch.undo()
    assert [r["action"] for r in changes(api, admin, code)] == ["DossierSubmitted", "DossierAccepted"]
    assert all(r["request_id"] != lost.headers["X-Request-Id"] for r in audit_log(api, admin, dossier=code))


def test_reading_someone_elses_dossier_is_recorded_before_it_is_shown(api, admin):
    procedure = seed_procedure(api, "1.001193")
    citizen = api.token("citizen", sub="citizen-read")
    code = ok(submit(api, submission(procedure["procedure_code"]), citizen, key="audit-read-1"), 201).json["dossier_code"]
    officer = api.token("officer", procedure["agency_id"], sub="officer-read")
    ok(api.call("GET", f"/dossiers/{code}", token=citizen))                       # the owner: not recorded
    assert api.call("GET", f"/dossiers/{code}", token=api.token("officer", AGENCY)).status_code == 404  # not recorded
    with metering.aws_calls() as calls:
        seen = ok(api.call("GET", f"/dossiers/{code}", token=officer))
    assert dict(calls) == {"dynamodb.Query": 1, "dynamodb.GetItem": 1, "dynamodb.PutItem": 1}
    assert seen.json["applicant"]["id_number"] == ID_NUMBER
    ok(api.call("GET", f"/dossiers/{code}", token=admin))
    reads = [r for r in audit_log(api, admin, dossier=code) if r["kind"] == "read"]
    assert [(r["action"], r["actor"]["sub"], r["actor"]["role"]) for r in reads] == [
        ("dossier.read", "officer-read", "officer"), ("dossier.read", "admin-audit", "admin")]
    assert reads[0]["request_id"] == seen.headers["X-Request-Id"]
    assert reads[0]["actor"]["agency_id"] == procedure["agency_id"]
    by_actor = audit_log(api, admin, actor="officer-read")
    assert [(r["kind"], r["dossier_code"]) for r in by_actor] == [("read", code)]


def test_a_read_that_cannot_be_recorded_is_refused(api, aws_env):
    procedure = seed_procedure(api, "1.001193")
    code = ok(submit(api, submission(procedure["procedure_code"]), api.token("citizen"), key="audit-down-1"),
              201).json["dossier_code"]
    aws_env.client("dynamodb").delete_table(TableName=settings().name("audit"))
    refused = api.call("GET", f"/dossiers/{code}", token=api.token("officer", procedure["agency_id"]))
    assert refused.status_code == 503 and ID_NUMBER not in refused.body.decode()


def test_read_records_for_other_features_are_filed_by_dossier_or_subject(aws_env):
    officer = Identity("officer-dl", "officer", AGENCY)
    download = audit_store.append_read(officer, "attachment.download", dossier_code="C-9", detail={"upload_id": "u1"})
    subject = audit.subject_key(ID_NUMBER, id_hash_key())
    export = audit_store.append_read(Identity("admin-x", "admin"), "privacy.export", subject=subject)
    assert audit_store.records_of_dossier("C-9", limit=10, cursor=None).items == [download]
    assert [r["id"] for r in audit_store.records_of_actor("admin-x", limit=10, cursor=None).items] == [export["id"]]
    assert ID_NUMBER not in json.dumps(raw_audit_items(aws_env))


def test_the_writer_never_overwrites_a_record(aws_env):
    record = audit.read(Identity("officer-w", "officer", AGENCY), "dossier.read", dossier_code="C-1")
    audit_store.append(record)
    with pytest.raises(audit_store.AlreadyRecorded):
        audit_store.append({**record, "actor": {"sub": "someone-else", "role": "admin", "agency_id": None}})
    assert audit_store.records_of_dossier("C-1", limit=10, cursor=None).items == [record]


def test_no_route_updates_or_deletes_the_audit_log(api, admin):
    from app import app
    audit_routes = {path: set(entries) for path, entries in app.routes.items() if path.startswith("/audit")}
    assert audit_routes == {"/audit": {"GET"}}
    for method in ("PUT", "PATCH", "DELETE", "POST"):
        assert api.call(method, "/audit?dossier=X", token=admin, body={}).status_code == 405


@pytest.mark.parametrize("role", ["citizen", "officer", "leader", "finance", "integration"])
def test_only_admins_read_the_audit_log(api, role):
    token = api.token(role, AGENCY if role in ("officer", "leader") else None)
    denied = api.call("GET", "/audit?dossier=X", token=token)
    assert denied.status_code == 403
    check("/audit", "get", denied)


@pytest.mark.parametrize("query, field", [("", "dossier"), ("dossier=A&actor=B", "actor"), ("dossier=A&limit=0", "limit")])
def test_the_audit_query_names_its_bad_parameter(api, admin, query, field):
    response = api.call("GET", f"/audit?{query}", token=admin)
    assert response.status_code == 422 and field in response.json["error"]["fields"]
    check("/audit", "get", response)


def test_a_cursor_of_another_list_is_refused(api, admin):
    audit_store.append(audit.read(Identity("a", "admin"), "dossier.read", dossier_code="C-1"))
    audit_store.append(audit.read(Identity("a", "admin"), "dossier.read", dossier_code="C-1"))
    cursor = api.call("GET", "/audit?dossier=C-1&limit=1", token=admin).json["next_cursor"]
    assert cursor
    wrong = api.call("GET", f"/audit?dossier=C-2&cursor={cursor}", token=admin)
    assert wrong.status_code == 400 and wrong.json["error"]["code"] == "invalid_cursor"
    check("/audit", "get", wrong)


def test_a_consumer_writes_its_records_under_the_event_id(aws_env):
    from handlers.consumer import Consumer
    from motcua.dispatcher import LambdaContext
    from tests.api.test_consumer import event, sqs_record

    def process(e):
        audit_store.append_read(audit.Actor.system("test-consumer"), "dossier.read", dossier_code=e["dossier_code"])

    delivered = event(1)
    consumer = Consumer("test-audit-consumer", process)
    assert consumer.handler({"Records": [sqs_record(delivered, "m1")]}, LambdaContext("c")) == {"batchItemFailures": []}
    [record] = audit_store.records_of_dossier(delivered["dossier_code"], limit=10, cursor=None).items
    assert record["request_id"] == delivered["id"] and record["actor"]["role"] == "system"
