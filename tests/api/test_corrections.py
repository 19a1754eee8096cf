"""Audited corrections: officer asks, admin decides, reports show raw and adjusted figures."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from chalicelib.trust.rules import audit
from chalicelib.reports.use_cases import reports as report_service
from chalicelib.dossiers.store import dossiers as store
from chalicelib.kernel.working_days import iso, parse_iso
from chalicelib.kernel.events import dossier_event
from chalicelib.trust.rules.identity import Identity
from tests.api.conftest import put_upload
from tests.api.test_reports import TZ, submit_at

ADMIN = Identity("admin-1", "admin")


def finish(code: str, finished_at: datetime) -> None:
    """Record a result on the dossier the way the workflow's issue_result does."""
    dossier = store.get_dossier(code)
    expected, before = dossier["version"], audit.snapshot(dossier)
    dossier["finished_at"] = iso(finished_at)
    dossier["version"] += 1
    event = dossier_event("DossierResultIssued", dossier, occurred_at=iso(finished_at), data={})
    store.save_transition(dossier, event, expected_version=expected,
                          audit_record=audit.change(before, dossier, [event], Identity("officer-1", "officer")))


@pytest.fixture
def late_dossier(api, dispatcher):
    """Accepted 40 days ago for a 20-working-day procedure, finished (clicked) yesterday: late."""
    from chalicelib.dossiers.use_cases import intake
    procedure = next(p for p in api.call("GET", "/procedures").json["items"] if p["procedure_code"] == "1.009972")
    accepted = datetime.now(TZ) - timedelta(days=40)
    code = submit_at(procedure["procedure_code"], accepted, "corr-0001")
    intake.accept(code, Identity("off-1", "officer", procedure["agency_id"]), clock=lambda: accepted)
    finish(code, datetime.now(TZ) - timedelta(days=1))
    dispatcher.drain()
    return {"code": code, "agency": procedure["agency_id"], "due_at": store.get_dossier(code)["due_at"]}


def period():
    today = datetime.now(TZ).date()
    return today - timedelta(days=60), today


def totals(view="total"):
    start, end = period()
    report = report_service.dossier_report(ADMIN, start=start, end=end, group_by="agency")
    return report[view] if view == "total" else report["raw"]["total"], report["corrections_applied"]


def test_approved_correction_changes_adjusted_figures_and_keeps_raw_ones(api, aws_env, dispatcher, late_dossier):
    code, agency = late_dossier["code"], late_dossier["agency"]
    officer = api.token("officer", agency, sub="officer-c")
    evidence = put_upload(aws_env, "officer-c")
    on_time = parse_iso(late_dossier["due_at"]).replace(hour=15)
    asked = api.call("POST", f"/dossiers/{code}/corrections", token=officer, body={
        "field": "finished_at", "value": iso(on_time), "reason": "Giấy tờ đã ký đúng hạn, cán bộ bấm muộn",
        "evidence_upload_id": evidence})
    assert asked.status_code == 201, asked.json
    assert asked.json["state"] == "pending" and asked.json["original"] != asked.json["value"]
    dispatcher.drain()
    assert totals()[0]["resolved"]["late"] == 1  # nothing changes before approval

    approved = api.call("POST", f"/dossiers/{code}/corrections/{asked.json['id']}/approve", token=api.token("admin"),
                        body={"note": "Đã đối chiếu sổ theo dõi"})
    assert approved.status_code == 200 and approved.json["state"] == "approved"
    dispatcher.drain()
    adjusted, applied = totals()
    raw, _ = totals("raw")
    assert adjusted["resolved"]["late"] == 0 and adjusted["resolved"]["on_time"] == 1
    assert raw["resolved"]["late"] == 1 and applied == 1
    assert report_service.verify(*period(), "agency") == []

    history = api.call("GET", f"/dossiers/{code}/history", token=officer).json
    assert [e["type"] for e in history["events"]][-2:] == ["DossierCorrectionRequested", "DossierCorrectionApproved"]
    (correction,) = history["corrections"]
    assert correction["requested_by"] == "officer-c" and correction["decided_by"] == "admin-x"
    assert store.get_dossier(code)["finished_at"] == correction["original"]  # the original is never overwritten


def test_rejected_correction_changes_nothing_and_cannot_be_decided_twice(api, aws_env, dispatcher, late_dossier):
    code, agency = late_dossier["code"], late_dossier["agency"]
    officer = api.token("officer", agency, sub="officer-c")
    asked = api.call("POST", f"/dossiers/{code}/corrections", token=officer, body={
        "field": "finished_at", "value": late_dossier["due_at"], "reason": "Thử", "evidence_upload_id": put_upload(aws_env, "officer-c")}).json
    admin = api.token("admin")
    assert api.call("POST", f"/dossiers/{code}/corrections/{asked['id']}/reject", token=admin).json["state"] == "rejected"
    again = api.call("POST", f"/dossiers/{code}/corrections/{asked['id']}/approve", token=admin)
    assert again.status_code == 409 and again.json["error"]["code"] == "correction_decided"
    dispatcher.drain()
    assert totals()[0]["resolved"]["late"] == 1


@pytest.mark.parametrize("body, field", [
    ({"field": "accepted_at", "value": "2026-01-01T10:00:00+07:00", "reason": "x", "evidence_upload_id": "a" * 32}, "field"),
    ({"field": "finished_at", "value": "yesterday", "reason": "x", "evidence_upload_id": "a" * 32}, "value"),
    ({"field": "finished_at", "value": "2999-01-01T10:00:00+07:00", "reason": "x", "evidence_upload_id": "a" * 32}, "value"),
    # outside the working-day calendar, or not even a local time (issue 18: these were 500s)
    ({"field": "finished_at", "value": "9999-12-31T23:59:59-12:00", "reason": "x", "evidence_upload_id": "a" * 32}, "value"),
    ({"field": "finished_at", "value": "0001-01-01T00:00:00+14:00", "reason": "x", "evidence_upload_id": "a" * 32}, "value"),
    ({"field": "finished_at", "value": "2026-01-01T10:00:00+07:00", "reason": "", "evidence_upload_id": "a" * 32}, "reason"),
    ({"field": "finished_at", "value": "2026-01-01T10:00:00+07:00", "reason": "x"}, "evidence_upload_id"),
])
def test_bad_correction_requests_name_the_field(api, late_dossier, body, field):
    officer = api.token("officer", late_dossier["agency"], sub="officer-c")
    response = api.call("POST", f"/dossiers/{late_dossier['code']}/corrections", token=officer, body=body)
    assert response.status_code == 422 and field in response.json["error"]["fields"]


def test_only_the_agency_officer_asks_and_only_an_admin_decides(api, aws_env, late_dossier):
    code = late_dossier["code"]
    body = {"field": "finished_at", "value": late_dossier["due_at"], "reason": "x",
            "evidence_upload_id": put_upload(aws_env, "officer-c")}
    assert api.call("POST", f"/dossiers/{code}/corrections", token=api.token("officer", "000.99.99.H50"), body=body).status_code == 403
    assert api.call("POST", f"/dossiers/{code}/corrections", token=api.token("citizen"), body=body).status_code == 403
    asked = api.call("POST", f"/dossiers/{code}/corrections", token=api.token("officer", late_dossier["agency"], sub="officer-c"),
                     body=body).json
    officer = api.token("officer", late_dossier["agency"])
    assert api.call("POST", f"/dossiers/{code}/corrections/{asked['id']}/approve", token=officer).status_code == 403
    missing = api.call("POST", f"/dossiers/{code}/corrections/nope/approve", token=api.token("admin"))
    assert missing.status_code == 404
