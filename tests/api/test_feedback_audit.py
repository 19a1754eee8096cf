"""Citizens' feedback in the audit log: every change of a feedback writes its record in the
change's own transaction, filed under the feedback, copying no personal data."""
from __future__ import annotations

import json

import pytest

from chalicelib.feedback.store import feedback as feedback_store
from chalicelib.trust.rules import audit
from chalicelib.trust.store import audit as audit_store
from tests.api.test_audit import audit_log, ok, raw_audit_items
from tests.api.test_intake import seed_procedure

CONTACT = {"full_name": "Trần Thị Bình", "phone": "0987654321"}
CONTENT, ANSWER = "Cán bộ hẹn ba lần chưa trả kết quả", "Đã nhắc nhở cán bộ, kết quả trả ngày mai"


@pytest.fixture
def agency(api):
    return seed_procedure(api, "1.001193")["agency_id"]


@pytest.fixture
def admin(api):
    return api.token("admin", sub="admin-feedback-audit")


def file_feedback(api, agency, sub="citizen-binh"):
    return ok(api.call("POST", "/feedback", token=api.token("citizen", sub=sub), body={
        "kind": "conduct", "title": "Chậm trả kết quả", "content": CONTENT, "agency_id": agency,
        "contact": CONTACT}), 201)


def test_a_feedback_answer_is_recorded_in_the_audit_with_actor_and_before_after(api, aws_env, agency, admin):
    filed = file_feedback(api, agency)
    feedback_id = filed.json["id"]
    officer = api.token("officer", agency, sub="officer-answers")
    answered = ok(api.call("POST", f"/feedback/{feedback_id}/answer", token=officer, body={"answer": ANSWER}))

    received, answer = audit_log(api, admin, feedback=feedback_id)
    assert (received["kind"], received["action"], received["actor"]["sub"], received["before"]) == (
        "change", "FeedbackReceived", "citizen-binh", None)
    assert received["request_id"] == filed.headers["X-Request-Id"]
    assert {"contact", "content", "title", "status"} <= set(received["changed"])
    assert (answer["action"], answer["actor"], answer["feedback_id"], answer["agency_id"]) == (
        "FeedbackAnswered", {"sub": "officer-answers", "role": "officer", "agency_id": agency}, feedback_id, agency)
    assert answer["request_id"] == answered.headers["X-Request-Id"]
    assert answer["changed"] == ["answer.answered_at", "answer.by", "answer.text", "published", "status", "version"]
    assert answer["before"] == {"status": "received", "version": 1, "published": False,
                                "answer.answered_at": None, "answer.by": None}
    assert answer["after"] == {"status": "answered", "version": 2, "published": True,
                               "answer.answered_at": answered.json["answer"]["answered_at"], "answer.by": "officer-answers"}
    assert [r["action"] for r in audit_log(api, admin, actor="officer-answers")] == ["FeedbackAnswered"]
    # named, never copied: the contact, the complaint and the answer are nowhere in the table
    stored = json.dumps(raw_audit_items(aws_env), ensure_ascii=False)
    assert all(text not in stored for text in (CONTACT["full_name"], CONTACT["phone"], CONTENT, ANSWER))


def test_every_feedback_change_writes_exactly_one_record(api, agency, admin):
    author = api.token("citizen", sub="citizen-every")
    officer = api.token("officer", agency, sub="officer-every")
    feedback_id = file_feedback(api, agency, sub="citizen-every").json["id"]
    ok(api.call("POST", f"/feedback/{feedback_id}/supplement-request", token=officer, body={"reason": "Số hồ sơ?"}))
    ok(api.call("POST", f"/feedback/{feedback_id}/supplement", token=author, body={"content": "Hồ sơ số 12"}))
    ok(api.call("POST", f"/feedback/{feedback_id}/answer", token=officer, body={"answer": ANSWER}))
    ok(api.call("POST", f"/feedback/{feedback_id}/reaction", token=author, body={"reaction": "like"}))
    refused_id = file_feedback(api, agency, sub="citizen-every").json["id"]
    ok(api.call("POST", f"/feedback/{refused_id}/refuse", token=officer, body={"reason": "Trùng phản ánh trước"}))

    records = audit_log(api, admin, feedback=feedback_id)
    assert [(r["action"], r["actor"]["sub"], r["after"]["version"]) for r in records] == [
        ("FeedbackReceived", "citizen-every", 1), ("FeedbackSupplementRequested", "officer-every", 2),
        ("FeedbackSupplied", "citizen-every", 3), ("FeedbackAnswered", "officer-every", 4),
        ("FeedbackReacted", "citizen-every", 5)]
    assert records[-1]["before"]["reaction"] is None and records[-1]["after"]["reaction"] == "like"
    assert [r["action"] for r in audit_log(api, admin, feedback=refused_id)] == ["FeedbackReceived", "FeedbackRefused"]


def test_a_feedback_about_a_dossier_is_recorded_under_its_outbox_event(api, agency, admin):
    from tests.api.test_intake import submission, submit
    citizen = api.token("citizen", sub="citizen-dossier")
    code = ok(submit(api, submission("1.001193"), citizen, key="fb-audit-1"), 201).json["dossier_code"]
    filed = ok(api.call("POST", "/feedback", token=citizen, body={
        "kind": "procedure", "title": "Hồ sơ chậm", "content": CONTENT, "dossier_code": code}), 201)
    [record] = audit_log(api, admin, feedback=filed.json["id"])
    [event] = record["events"]
    assert (record["id"], event["type"], record["after"]["dossier_code"]) == (event["id"], "FeedbackReceived", code)


def test_a_failed_feedback_write_leaves_neither_change_nor_record(api, agency, admin, monkeypatch):
    feedback_id = file_feedback(api, agency).json["id"]
    officer = api.token("officer", agency, sub="officer-race")
    stale = feedback_store.get(feedback_id)
    ok(api.call("POST", f"/feedback/{feedback_id}/supplement-request", token=officer, body={"reason": "Số hồ sơ?"}))
    monkeypatch.setattr(feedback_store, "get", lambda _id: json.loads(json.dumps(stale)))   # read before that
    lost = api.call("POST", f"/feedback/{feedback_id}/answer", token=officer, body={"answer": ANSWER})
    assert lost.status_code == 409 and lost.json["error"]["code"] == "concurrent_update"
    monkeypatch.undo()
    assert feedback_store.get(feedback_id)["status"] == "supplement_requested"
    records = audit_log(api, admin, feedback=feedback_id)
    assert [r["action"] for r in records] == ["FeedbackReceived", "FeedbackSupplementRequested"]
    assert all(r["request_id"] != lost.headers["X-Request-Id"] for r in records)


def test_a_change_whose_record_cannot_be_written_is_not_made(api, agency, admin, monkeypatch):
    feedback_id = file_feedback(api, agency).json["id"]
    officer = api.token("officer", agency, sub="officer-blocked")
    before = feedback_store.get(feedback_id)
    written = audit.feedback_change(before, before, audit.Actor("officer-blocked", "officer", agency), "FeedbackAnswered")
    audit_store.append(written)   # the same key as the record the answer will try to write
    monkeypatch.setattr(audit, "feedback_change", lambda *_args, **_kw: written)
    refused = api.call("POST", f"/feedback/{feedback_id}/answer", token=officer, body={"answer": ANSWER})
    assert refused.status_code == 503
    monkeypatch.undo()
    assert feedback_store.get(feedback_id)["status"] == "received"
    assert feedback_store.get(feedback_id)["version"] == 1
    assert [r["id"] for r in audit_log(api, admin, feedback=feedback_id)][1:] == [written["id"]]


@pytest.mark.parametrize("query", ["feedback=PA1&dossier=C-1", "feedback=PA1&actor=a"])
def test_the_audit_log_is_of_one_dossier_feedback_or_actor(api, admin, query):
    response = api.call("GET", f"/audit?{query}", token=admin)
    assert response.status_code == 422 and "feedback" in response.json["error"]["fields"]
