"""The audit records themselves (pure): what they say, and what they never copy."""
from __future__ import annotations

import json
from datetime import datetime, UTC

import pytest

from chalicelib.trust.rules import audit
from chalicelib.trust.rules.identity import Identity

OFFICER = Identity("officer-1", "officer", "000.00.13.H50")
AT = datetime(2026, 3, 10, 2, 30, 15, 123456, tzinfo=UTC)


def dossier(**over):
    base = {"code": "000.00.13.H50-260310-0001", "status": "submitted", "version": 1, "agency_id": "000.00.13.H50",
            "applicant": {"full_name": "Nguyễn Văn An", "id_number": "051095001234", "phone": "0912345678"},
            "summary": "Xin cấp phiếu", "form": {"so_ban": 1}, "due_at": None, "decisions": [],
            "step": None, "payment": {"amount_paid": 0, "pending": None}}
    base.update(over)
    return base


def event(version, type_="DossierAccepted", id_="evt-1"):
    return {"id": id_, "type": type_, "version": version}


def test_a_change_names_who_what_before_after_and_the_request():
    before = dossier()
    after = dossier(status="accepted", version=2, due_at="2026-03-24T17:00:00+07:00",
                    decisions=[{"action": "accept", "by": "officer-1"}])
    record = audit.change(before, after, [event(2)], OFFICER, at=AT, request_id="req-1")
    assert record["kind"] == "change" and record["id"] == "evt-1" and record["action"] == "DossierAccepted"
    assert record["actor"] == {"sub": "officer-1", "role": "officer", "agency_id": "000.00.13.H50"}
    assert record["request_id"] == "req-1" and record["dossier_code"] == before["code"]
    assert record["changed"] == ["decisions", "due_at", "status", "version"]
    assert record["before"] == {"status": "submitted", "version": 1, "due_at": None}
    assert record["after"] == {"status": "accepted", "version": 2, "due_at": "2026-03-24T17:00:00+07:00"}
    assert record["events"] == [{"id": "evt-1", "type": "DossierAccepted", "version": 2}]
    assert record["at"] == "2026-03-10T09:30:15.123+07:00"


def test_changed_personal_data_is_named_but_never_copied():
    before = dossier()
    after = dossier(version=2, summary="Tóm tắt mới 0987654321",
                    applicant={"full_name": "Nguyễn Văn Ân", "id_number": "051095009999", "phone": "0987654321"})
    record = audit.change(before, after, [event(2, "DossierCorrected")], OFFICER, at=AT, request_id="r")
    assert record["changed"] == ["applicant", "summary", "version"]
    text = json.dumps(record, ensure_ascii=False)
    for secret in ("051095001234", "051095009999", "0912345678", "0987654321", "Nguyễn Văn"):
        assert secret not in text
    assert record["after"] == {"status": "submitted", "version": 2}


def test_step_and_payment_changes_are_named_one_level_deep_with_their_values():
    before = dossier(status="accepted", version=2)
    after = dossier(status="processing", version=3, step={"index": 2, "name": "Thẩm định"},
                    payment={"amount_paid": 0, "pending": None})
    record = audit.change(before, after, [event(3, "DossierForwarded")], OFFICER, at=AT, request_id="r")
    assert record["changed"] == ["status", "step", "version"]  # None -> dict: the whole step
    paid = dossier(version=4, payment={"amount_paid": 50000, "pending": None})
    record = audit.change(after, paid, [event(4, "PaymentSucceeded")], audit.Actor.system("payment-ipn"),
                          payment_before={"payment_id": "MC1", "status": "pending", "version": 1},
                          payment_after={"payment_id": "MC1", "status": "succeeded", "version": 2}, at=AT,
                          request_id="r")
    assert "payment.amount_paid" in record["changed"]
    assert record["before"]["payment.amount_paid"] == 0 and record["after"]["payment.amount_paid"] == 50000
    assert record["payment"] == {"payment_id": "MC1", "before": {"status": "pending", "version": 1},
                                 "after": {"status": "succeeded", "version": 2}}
    assert record["actor"] == {"sub": "system:payment-ipn", "role": "system", "agency_id": None}


def test_a_creation_has_no_before_and_names_every_field():
    created = dossier()
    record = audit.change(None, created, [event(1, "DossierSubmitted")], OFFICER, at=AT, request_id="r")
    assert record["before"] is None
    assert record["changed"] == sorted(k for k, v in created.items() if v is not None)
    assert record["after"]["status"] == "submitted" and "applicant" not in record["after"]


def test_long_text_in_a_value_field_is_named_not_copied():
    after = dossier(version=2, received_by="x" * 500)
    record = audit.change(dossier(), after, [event(2)], OFFICER, at=AT, request_id="r")
    assert "received_by" in record["changed"] and "received_by" not in record["after"]


def test_a_change_without_an_event_is_refused():
    with pytest.raises(ValueError):
        audit.change(dossier(), dossier(version=2), [], OFFICER)


def test_the_request_id_is_the_bound_one_or_a_fresh_internal_one():
    with audit.bind_request("apigw-123"):
        assert audit.change(None, dossier(), [event(1)], OFFICER)["request_id"] == "apigw-123"
        with audit.bind_request(None) as inner:
            assert inner.startswith("internal-")
        assert audit.current_request_id() == "apigw-123"
    assert audit.current_request_id() is None
    assert audit.change(None, dossier(), [event(1)], OFFICER)["request_id"].startswith("internal-")


def test_reads_are_about_a_dossier_or_a_subject_and_filed_under_it():
    record = audit.read(OFFICER, "dossier.read", dossier_code="C-1", at=AT, request_id="r")
    assert record["kind"] == "read" and record["action"] == "dossier.read" and record["subject"] is None
    assert audit.partition(record) == "DOSSIER#C-1"
    assert audit.sort_key(record) == f"2026-03-10T09:30:15.123+07:00#{record['id']}"
    subject = audit.subject_key("051095001234", "a-test-id-hash-key")
    export = audit.read(audit.Actor("admin-1", "admin"), "privacy.export", subject=subject, detail={"dossiers": 3})
    assert audit.partition(export) == f"SUBJECT#{subject}" and "051095001234" not in json.dumps(export)
    assert export["detail"] == {"dossiers": 3}


@pytest.mark.parametrize("kwargs", [{}, {"dossier_code": "C-1", "subject": "sha256:x"}])
def test_a_read_is_about_exactly_one_thing(kwargs):
    with pytest.raises(ValueError):
        audit.read(OFFICER, "dossier.read", **kwargs)


def test_an_unknown_read_action_is_refused():
    with pytest.raises(ValueError):
        audit.read(OFFICER, "dossier.peek", dossier_code="C-1")


def test_a_snapshot_does_not_follow_later_changes():
    live = dossier()
    before = audit.snapshot(live)
    live["decisions"].append({"action": "accept"})
    live["status"] = "accepted"
    assert before["decisions"] == [] and before["status"] == "submitted"


def feedback(**over):
    from chalicelib.feedback.rules.feedback import new_feedback
    base = new_feedback(feedback_id="PA0001", fields={
        "kind": "conduct", "title": "Chậm trả kết quả", "content": "Cán bộ Lê Văn Cường hẹn ba lần",
        "dossier_code": None, "contact": {"full_name": "Trần Thị Bình", "phone": "0987654321"}},
        agency_id="000.00.13.H50", channel="online", submitted_by="citizen-binh", recorded_by=None,
        received_at="2026-03-10T09:00:00.000+07:00")
    base.update(over)
    return base


def test_a_feedback_change_is_filed_under_the_feedback_and_copies_only_its_handling():
    from chalicelib.feedback.rules import feedback as rules
    before = feedback()
    after = feedback()
    rules.refuse(after, "Trần Thị Bình đã gửi trùng", at="2026-03-11T08:00:00.000+07:00", by="officer-1")
    after["version"] = 2
    record = audit.feedback_change(before, after, OFFICER, "FeedbackRefused", at=AT, request_id="r")
    assert (record["kind"], record["action"], record["feedback_id"]) == ("change", "FeedbackRefused", "PA0001")
    assert audit.partition(record) == "FEEDBACK#PA0001" and "events" not in record
    assert record["changed"] == ["refusal.at", "refusal.by", "refusal.reason", "status", "version"]
    assert record["before"] == {"status": "received", "version": 1, "refusal.at": None, "refusal.by": None}
    assert record["after"] == {"status": "refused", "version": 2, "refusal.at": "2026-03-11T08:00:00.000+07:00",
                               "refusal.by": "officer-1"}


def test_a_filed_feedback_names_its_personal_fields_but_never_copies_them():
    record = audit.feedback_change(None, feedback(), audit.Actor("citizen-binh", "citizen"), "FeedbackReceived",
                                   events=[event(4, "FeedbackReceived", "evt-9")], at=AT, request_id="r")
    assert record["id"] == "evt-9" and record["before"] is None
    assert {"contact", "content", "title", "submitted_by"} <= set(record["changed"])
    assert "answer" not in record["changed"]       # unset parts of a new feedback are not changes
    text = json.dumps(record, ensure_ascii=False)
    assert all(secret not in text for secret in ("0987654321", "Trần Thị Bình", "Lê Văn Cường", "Chậm trả"))
    assert record["after"] == {"status": "received", "version": 1, "agency_id": "000.00.13.H50", "kind": "conduct",
                               "channel": "online", "received_at": "2026-03-10T09:00:00.000+07:00", "published": False}


def test_an_unknown_feedback_action_is_refused():
    with pytest.raises(ValueError):
        audit.feedback_change(None, feedback(), OFFICER, "FeedbackDeleted")
