"""Agency processing through the API: every path of a dossier, its due dates and its events."""
from __future__ import annotations

import json
import threading
from datetime import timedelta

import jsonschema
import pytest

from chalicelib.dossiers.store import dossiers as store
from chalicelib.dossiers.use_cases import workflow
from chalicelib.kernel.working_days import default_calendar, iso, parse_iso, to_local
from chalicelib.kernel.errors import Conflict
from chalicelib.trust.rules.identity import Identity
from chalicelib.dossiers.rules.processing import pauses_of
from motcua import metering
from tests.api.conftest import put_upload
from tests.api.test_contract import check
from tests.api.test_events import SCHEMAS, tap_events
from tests.api.test_intake import submission, submit

HOUSE = "1.009994"          # commune 000.22.30.H50, 15 working days, restart, 4 steps (step 2 at Sở Xây dựng)
MARRIAGE = "1.000894"       # commune 000.22.30.H50, 5 working days, 3 steps
COMMUNE, DEPARTMENT = "000.22.30.H50", "000.00.15.H50"
ALL_CRITERIA = {str(n): 2 for n in range(1, 10)}


def officer(api, agency=COMMUNE, sub="officer-commune"):
    return api.token("officer", agency, sub=sub)


def act(api, code, token, action, **body):
    return api.call("POST", f"/dossiers/{code}/actions", token=token, body={"action": action, **body})


def new_accepted(api, procedure=HOUSE, citizen_sub="citizen-walk", key="walk-0001", **extra):
    citizen = api.token("citizen", sub=citizen_sub)
    created = submit(api, submission(procedure, **extra), citizen, key=key)
    assert created.status_code == 201, created.json
    code = created.json["dossier_code"]
    accepted = api.call("POST", f"/dossiers/{code}/accept", token=officer(api))
    assert accepted.status_code == 200, accepted.json
    return code, citizen, accepted.json


def result_docs(aws_env, sub="officer-commune"):
    return [{"upload_id": put_upload(aws_env, sub), "name": "Giấy phép xây dựng.pdf"}]


def test_a_dossier_walks_from_acceptance_to_rating(api, aws_env, dispatcher):
    cal = default_calendar()
    code, citizen, dossier = new_accepted(api, notify=["sms", "email"])
    accepted_at = parse_iso(dossier["accepted_at"])
    assert dossier["due_at"] == iso(cal.due_date(accepted_at, 15))
    assert dossier["step"]["index"] == 1 and dossier["step"]["due_at"] == iso(cal.due_date(accepted_at, 8))
    commune = officer(api)

    # forward to step 2, held by Sở Xây dựng (liên thông)
    forwarded = api.call("POST", f"/dossiers/{code}/forward", token=commune,
                         body={"to_step": 2, "assignee": "officer-sxd", "note": "Đề nghị Sở cho ý kiến"})
    assert forwarded.status_code == 200, forwarded.json
    body = forwarded.json
    assert (body["status"], body["holder_agency_id"], body["step"]["assignee"]) == ("processing", DEPARTMENT, "officer-sxd")
    assert body["step_history"][0]["entered_by"] == "officer-commune" and body["step_history"][0]["index"] == 1
    department = officer(api, DEPARTMENT, "officer-sxd")
    assert api.call("GET", f"/dossiers/{code}", token=department).status_code == 200

    # supplement requested by the department: the clock stops
    paused = act(api, code, department, "request_supplement", reason="Thiếu bản vẽ mặt bằng",
                 documents=["Bản vẽ mặt bằng công trình"])
    assert paused.status_code == 200, paused.json
    assert (paused.json["status"], paused.json["due_at"]) == ("supplement_requested", None)

    # the citizen supplies it: restart counts 15 working days again
    upload = put_upload(aws_env, "citizen-walk")
    resumed = api.call("POST", f"/dossiers/{code}/supplements", token=citizen,
                       body={"attachments": [{"upload_id": upload, "name": "Bản vẽ.pdf"}]})
    assert resumed.status_code == 200, resumed.json
    stored = store.get_dossier(code)
    assert resumed.json["status"] == "processing"
    assert resumed.json["due_at"] == iso(cal.due_date(accepted_at, 15, pauses_of(stored), "restart"))
    assert resumed.json["pauses"][0]["end"] is not None

    # back to the commune, then an apology letter and extension
    assert api.call("POST", f"/dossiers/{code}/forward", token=department, body={"to_step": 3}).status_code == 200
    old_due = to_local(parse_iso(resumed.json["due_at"])).date()
    new_due = cal.add_working_days(old_due, 3)
    extended = act(api, code, commune, "extend", reason="Cần kiểm tra thực địa lần hai", new_due_date=new_due.isoformat())
    assert extended.status_code == 200, extended.json
    assert extended.json["due_at"] == f"{new_due.isoformat()}T17:00:00+07:00"
    assert extended.json["extensions"][0]["old_due_at"] == resumed.json["due_at"]

    # the result, then its return: the dossier is closed
    issued = act(api, code, commune, "issue_result", decision="approved", documents=result_docs(aws_env))
    assert issued.status_code == 200, issued.json
    assert issued.json["status"] == "finished" and issued.json["finished_at"]
    returned = act(api, code, commune, "return_result", method="desk")
    assert (returned.json["status"], returned.json["return_method"]) == ("returned", "desk")
    assert returned.json["returned_at"] >= issued.json["finished_at"]

    rated = api.call("POST", f"/dossiers/{code}/rating", token=citizen,
                     body={"criteria": ALL_CRITERIA, "overall": 5, "comment": "Cán bộ tận tình"})
    assert rated.status_code == 200, rated.json
    assert rated.json["rating"]["overall"] == 5
    again = api.call("POST", f"/dossiers/{code}/rating", token=citizen, body={"criteria": ALL_CRITERIA, "overall": 4})
    assert again.status_code == 409 and again.json["error"]["code"] == "already_rated"

    dispatcher.drain()
    details = [e["detail"] for e in tap_events(aws_env) if e["detail"]["dossier_code"] == code]
    assert [(d["type"], d["version"]) for d in details] == [
        ("DossierSubmitted", 1), ("DossierAccepted", 2), ("DossierForwarded", 3), ("DossierSupplementRequested", 4),
        ("DossierSupplemented", 5), ("DossierForwarded", 6), ("DossierExtended", 7), ("DossierResultIssued", 8),
        ("DossierResultReturned", 9), ("DossierRated", 10)]
    for detail in details:
        jsonschema.validate(detail, json.loads((SCHEMAS / f"{detail['type']}.v1.json").read_text()),
                            format_checker=jsonschema.FormatChecker())
    assert details[2]["data"]["handover"] is True
    assert details[7]["data"]["timeliness"] == "early"


def test_refused_withdrawn_and_stopped_dossiers_are_closed(api, aws_env):
    citizen = api.token("citizen", sub="citizen-paths")
    commune = officer(api)
    codes = [submit(api, submission(HOUSE), citizen, key=f"paths-{i:04d}").json["dossier_code"] for i in range(3)]
    refused = api.call("POST", f"/dossiers/{codes[0]}/refuse", token=commune, body={"reason": "Không thuộc thẩm quyền"})
    assert refused.json["status"] == "refused"
    withdrawn = act(api, codes[1], citizen, "withdraw", reason="Tôi không còn nhu cầu")
    assert withdrawn.status_code == 200 and withdrawn.json["status"] == "withdrawn"
    api.call("POST", f"/dossiers/{codes[2]}/accept", token=commune)
    stopped = act(api, codes[2], commune, "stop", reason="Công dân không bổ sung hồ sơ")
    assert stopped.status_code == 200 and stopped.json["status"] == "stopped" and stopped.json["step"] is None
    for code in codes:
        for action, body in (("forward", {"to_step": 2}), ("withdraw", {})):
            token = commune if action == "forward" else citizen
            response = act(api, code, token, action, **body)
            assert response.status_code == 409, (code, action, response.json)
            assert response.json["error"]["code"] == "invalid_transition"


def test_a_citizen_withdraws_an_accepted_dossier_but_not_after_the_result(api, aws_env):
    code, citizen, _ = new_accepted(api, MARRIAGE)
    assert act(api, code, citizen, "withdraw").json["status"] == "withdrawn"
    code, citizen, _ = new_accepted(api, MARRIAGE, key="walk-0002")
    act(api, code, officer(api), "issue_result", decision="rejected", documents=result_docs(aws_env))
    late = act(api, code, citizen, "withdraw")
    assert late.status_code == 409 and late.json["error"]["current_status"] == "finished"


def test_actions_answer_404_403_409_and_422_with_vietnamese_field_messages(api, aws_env):
    code, citizen, _ = new_accepted(api)
    commune = officer(api)
    missing = act(api, f"{COMMUNE}-261121-9999", commune, "stop", reason="x")
    assert missing.status_code == 404
    assert act(api, code, citizen, "forward", to_step=2).status_code == 403           # wrong role
    other = officer(api, "000.00.13.H50", "officer-justice")
    assert act(api, code, other, "stop", reason="x").json["error"]["code"] == "agency_out_of_scope"
    stranger = api.token("citizen", sub="someone-else")
    assert act(api, code, stranger, "withdraw").status_code == 404                      # hidden existence
    assert act(api, code, commune, "return_result", method="desk").status_code == 409   # no result yet
    no_docs = act(api, code, commune, "issue_result", decision="approved", documents=[])
    assert no_docs.status_code == 422 and "documents" in no_docs.json["error"]["fields"]
    assert "văn bản kết quả" in no_docs.json["error"]["fields"]["documents"]
    bad = act(api, code, commune, "issue_result", decision="maybe",
              documents=[{"upload_id": "f" * 32, "name": "kq.pdf"}])
    assert bad.status_code == 422 and set(bad.json["error"]["fields"]) == {"decision"}
    not_uploaded = act(api, code, commune, "issue_result", decision="approved",
                       documents=[{"upload_id": "f" * 32, "name": "kq.pdf"}])
    assert not_uploaded.status_code == 422 and "documents[0].upload_id" in not_uploaded.json["error"]["fields"]
    unknown = act(api, code, commune, "approve")
    assert unknown.status_code == 422 and "action" in unknown.json["error"]["fields"]
    step = api.call("POST", f"/dossiers/{code}/forward", token=commune, body={"to_step": 9})
    assert step.status_code == 422 and "bước" in step.json["error"]["fields"]["to_step"]
    rating = api.call("POST", f"/dossiers/{code}/rating", token=citizen, body={"criteria": {"1": 3}, "overall": 9})
    assert rating.status_code == 422
    assert {"criteria.1", "criteria.9", "overall"} <= set(rating.json["error"]["fields"])
    assert api.call("POST", f"/dossiers/{code}/rating", token=citizen,
                    body={"criteria": ALL_CRITERIA, "overall": 5}).status_code == 409  # no result yet
    assert store.get_dossier(code)["version"] == 2                                       # nothing written


def test_back_dating_is_limited_and_audited(api, aws_env, monkeypatch):
    code, _, dossier = new_accepted(api)
    commune = officer(api)
    accepted_at = parse_iso(dossier["accepted_at"])
    before = act(api, code, commune, "issue_result", decision="approved", documents=result_docs(aws_env),
                 effective_at=iso(accepted_at - timedelta(minutes=5)))
    assert before.status_code == 422 and "thao tác gần nhất" in before.json["error"]["fields"]["effective_at"]
    later = to_local(accepted_at) + timedelta(days=14)   # two weeks always hold 2+ working days, even at Tết
    monkeypatch.setattr(workflow, "utc_now", lambda: later)
    too_early = act(api, code, commune, "issue_result", decision="approved", documents=result_docs(aws_env),
                    effective_at=iso(accepted_at + timedelta(minutes=1)))
    assert too_early.status_code == 422 and "1 ngày làm việc" in too_early.json["error"]["fields"]["effective_at"]
    signed = later - timedelta(minutes=30)
    issued = act(api, code, commune, "issue_result", decision="approved", documents=result_docs(aws_env),
                 effective_at=iso(signed))
    assert issued.status_code == 200, issued.json
    decision = issued.json["decisions"][-1]
    assert (decision["effective_at"], decision["at"], decision["backdated"]) == (iso(signed), iso(later), True)
    assert issued.json["finished_at"] == iso(signed)


def test_two_officers_at_once_get_one_success_and_one_409(api, aws_env, monkeypatch):
    code, _, _ = new_accepted(api)
    read_both = threading.Barrier(2, timeout=10)
    real_get = store.get_dossier

    def get_then_wait(c):
        found = real_get(c)
        read_both.wait()  # both have read the same version before either writes
        return found

    # DynamoDB applies a transaction atomically; moto's in-process rollback is not thread-safe,
    # so the two writes are serialised here (the reads above are not).
    atomic, real_save = threading.Lock(), store.save_transition

    def save_atomically(*args, **kwargs):
        with atomic:
            return real_save(*args, **kwargs)

    monkeypatch.setattr(store, "get_dossier", get_then_wait)
    monkeypatch.setattr(store, "save_transition", save_atomically)
    outcomes: list[str] = []

    def forward(sub: str, step: int) -> None:
        try:
            workflow.act(code, Identity(sub, "officer", COMMUNE), {"to_step": step}, "forward")
            outcomes.append("ok")
        except Conflict as error:
            outcomes.append(error.code)

    threads = [threading.Thread(target=forward, args=(f"officer-{n}", n)) for n in (2, 3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["concurrent_update", "ok"]
    saved = real_get(code)
    assert saved["version"] == 3 and len(saved["step_history"]) == 1


def test_desk_intake_records_walk_in_dossiers_through_the_same_path(api, aws_env):
    desk = officer(api, sub="officer-desk")
    scan = put_upload(aws_env, "officer-desk")
    body = {**submission(HOUSE, attachments=[{"upload_id": scan, "name": "Đơn.pdf"}]), "channel": "direct", "consent": True}
    created = api.call("POST", "/desk/dossiers", token=desk, body=body, headers={"Idempotency-Key": "desk-00000001"})
    assert created.status_code == 201, created.json
    again = api.call("POST", "/desk/dossiers", token=desk, body=body, headers={"Idempotency-Key": "desk-00000001"})
    assert again.json == created.json and again.headers["Idempotent-Replayed"] == "true"
    code = created.json["dossier_code"]
    dossier = api.call("GET", f"/dossiers/{code}", token=desk).json
    assert (dossier["channel"], dossier["consent"], dossier["received_by"]) == ("direct", True, "officer-desk")
    assert api.call("GET", f"/track/{code}?phone_last4=5678").status_code == 200
    # the desk acts for the walk-in citizen
    assert act(api, code, desk, "withdraw", reason="Công dân rút tại quầy").json["status"] == "withdrawn"
    bad = api.call("POST", "/desk/dossiers", token=desk, body={**body, "channel": "online", "consent": "yes"},
                   headers={"Idempotency-Key": "desk-00000002"})
    assert bad.status_code == 422 and set(bad.json["error"]["fields"]) == {"channel", "consent"}
    citizen = api.call("POST", "/desk/dossiers", token=api.token("citizen"), body=body,
                       headers={"Idempotency-Key": "desk-00000003"})
    assert citizen.status_code == 403


def test_an_online_dossier_may_only_be_withdrawn_by_its_owner(api, aws_env):
    code, _, _ = new_accepted(api)
    response = act(api, code, officer(api), "withdraw")
    assert response.status_code == 403 and response.json["error"]["code"] == "owner_only"


def test_due_soon_and_overdue_lists_are_one_query_on_the_agency_index(api, aws_env, monkeypatch):
    soon_code, _, soon = new_accepted(api, "1.001022", key="due-0001")      # 1 working day
    later_code, _, _ = new_accepted(api, HOUSE, key="due-0002")             # step 1: 8 working days
    commune = officer(api)
    with metering.aws_calls() as calls:
        listed = api.call("GET", "/dossiers?due=soon", token=commune)
    assert listed.status_code == 200 and dict(calls) == {"dynamodb.Query": 1}
    assert [item["dossier_code"] for item in listed.json["items"]] == [soon_code]
    assert api.call("GET", "/dossiers?due=overdue", token=commune).json["items"] == []
    after = parse_iso(soon["due_at"]) + timedelta(hours=1)
    monkeypatch.setattr(workflow, "utc_now", lambda: after)
    overdue = api.call("GET", "/dossiers?due=overdue", token=commune).json["items"]
    assert [(i["dossier_code"], i["overdue"], i["deadline"]) for i in overdue] == [(soon_code, True, "dossier")]
    check("/dossiers", "get", listed)     # the due list's own item shape (it once failed the contract)
    assert later_code not in [i["dossier_code"] for i in overdue]
    # held by another agency: its officers see the warning, the receiving agency does not
    api.call("POST", f"/dossiers/{later_code}/forward", token=commune, body={"to_step": 2})
    far = parse_iso(store.get_dossier(later_code)["step"]["due_at"]) + timedelta(hours=1)
    monkeypatch.setattr(workflow, "utc_now", lambda: far)
    department = api.call("GET", "/dossiers?due=overdue", token=officer(api, DEPARTMENT, "o")).json["items"]
    assert [(i["dossier_code"], i["deadline"]) for i in department] == [(later_code, "step")]
    assert api.call("GET", "/dossiers?due=later", token=commune).status_code == 422
    assert api.call("GET", "/dossiers?due=soon", token=api.token("citizen")).status_code == 403


@pytest.mark.parametrize("action, body", [
    ("forward", {"to_step": 2}),
    ("request_supplement", {"reason": "Thiếu", "documents": ["Bản vẽ"]}),
    ("extend", None),
    ("stop", {"reason": "Dừng"}),
])
def test_a_transition_costs_at_most_two_dynamodb_calls(api, aws_env, action, body):
    code, _, dossier = new_accepted(api)
    if body is None:
        due = to_local(parse_iso(dossier["due_at"])).date()
        body = {"reason": "Gia hạn", "new_due_date": default_calendar().add_working_days(due, 1).isoformat()}
    with metering.aws_calls() as calls:
        assert act(api, code, officer(api), action, **body).status_code == 200
    assert calls.service("dynamodb") <= 2, calls


def test_workflow_responses_match_the_documented_schemas(api, aws_env):
    from tests.api.test_contract import check
    desk = officer(api, sub="officer-desk")
    body = {**submission(HOUSE), "channel": "postal", "consent": False}
    check("/desk/dossiers", "post", api.call("POST", "/desk/dossiers", token=desk, body=body,
                                             headers={"Idempotency-Key": "contract-desk-1"}))
    check("/desk/dossiers", "post", api.call("POST", "/desk/dossiers", token=desk, body={},
                                             headers={"Idempotency-Key": "contract-desk-2"}))
    code, citizen, _ = new_accepted(api, key="contract-wf-1")
    commune = officer(api)
    check("/dossiers/{code}/forward", "post", api.call("POST", f"/dossiers/{code}/forward", token=commune, body={"to_step": 3}))
    check("/dossiers/{code}/forward", "post", api.call("POST", f"/dossiers/{code}/forward", token=commune, body={}))
    check("/dossiers/{code}/actions", "post", act(api, code, commune, "request_supplement", reason="Thiếu", documents=["A"]))
    check("/dossiers/{code}/actions", "post", act(api, code, commune, "stop"))
    check("/dossiers/{code}/supplements", "post", api.call("POST", f"/dossiers/{code}/supplements", token=citizen, body={
        "attachments": [{"upload_id": put_upload(aws_env, "citizen-walk"), "name": "a.pdf"}]}))
    check("/dossiers/{code}/rating", "post", api.call("POST", f"/dossiers/{code}/rating", token=citizen,
                                                     body={"criteria": ALL_CRITERIA, "overall": 3}))
    check("/dossiers/{code}/actions", "post", act(api, code, commune, "issue_result", decision="approved",
                                                  documents=result_docs(aws_env)))
    check("/dossiers/{code}/rating", "post", api.call("POST", f"/dossiers/{code}/rating", token=citizen,
                                                     body={"criteria": ALL_CRITERIA, "overall": 3}))
    check("/dossiers/{code}/actions", "post", act(api, f"{COMMUNE}-261121-9999", commune, "stop", reason="x"))
    check("/dossiers/{code}/actions", "post", act(api, code, citizen, "stop", reason="x"))
    check("/dossiers", "get", api.call("GET", "/dossiers?due=soon", token=commune))
    check("/dossiers/{code}", "get", api.call("GET", f"/dossiers/{code}", token=citizen))
    check("/procedures/{procedure_code}", "get", api.call("GET", f"/procedures/{HOUSE}"))
