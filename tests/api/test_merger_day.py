"""Merger day through the app against in-process moto: the shipped sample plan merges the old
Kon Tum departments (H34) into Quảng Ngãi's (H50) effective 2025-07-01."""
from __future__ import annotations

import json
from datetime import date, datetime, timedelta, timezone

import pytest

from chalicelib.catalogue.rules.merger import PlanInvalid
from chalicelib.catalogue.store import procedures as catalogue_store
from chalicelib.catalogue.use_cases import merger
from chalicelib.dossiers.store import dossiers as store
from chalicelib.dossiers.use_cases import intake, reassign
from chalicelib.reports.use_cases import reports as report_service
from chalicelib.trust.rules.identity import Identity
from motcua.cli import main
from motcua.seed import seed_path
from tests.api.test_intake import applicant
from tests.api.test_workflow import act, result_docs

TZ = timezone(timedelta(hours=7))
PLAN = seed_path().parent / "merger_plan.json"
OLD, NEW = "000.00.15.H34", "000.00.15.H50"           # Sở Xây dựng Kon Tum -> Quảng Ngãi
REPAIR = "1.009974"                                   # served by OLD before the day
JUNE = datetime(2025, 6, 16, 9, 0, tzinfo=TZ)
TODAY = datetime.now(TZ).date()


def submit(key: str, when: datetime = JUNE, sub: str = "citizen-kt") -> str:
    body = {"procedure_code": REPAIR, "applicant": applicant(), "summary": "Sửa nhà", "form": {}, "attachments": []}
    response, _ = intake.submit(body, Identity(sub, "citizen"), key, clock=lambda: when)
    return response["dossier_code"]


@pytest.fixture
def before_the_day(api):
    """At the old agency in June 2025: one accepted, one only submitted, one refused (closed)."""
    kontum = Identity("officer-kt", "officer", OLD)
    codes = {"accepted": submit("kt-1"), "submitted": submit("kt-2"), "refused": submit("kt-3")}
    intake.accept(codes["accepted"], kontum, clock=lambda: JUNE)
    intake.refuse(codes["refused"], kontum, "Không thuộc thẩm quyền", clock=lambda: JUNE)
    return codes


def events_of(code: str) -> list[str]:
    return [e["type"] for e in store.dossier_events(code)]


def test_apply_moves_open_dossiers_keeps_codes_and_due_dates_and_a_second_run_changes_nothing(api, before_the_day):
    accepted = store.get_dossier(before_the_day["accepted"])
    result = merger.apply(merger.load_plan(PLAN), TODAY, operator="cli:operator")
    assert (result["catalogue_writes"], result["dossiers_moved"]) == (4, 2)
    audit = api.call("GET", f"/audit?dossier={accepted['code']}", token=api.token("admin")).json["items"][-1]
    assert (audit["action"], audit["actor"]["sub"], audit["before"]["agency_id"], audit["after"]["agency_id"]) == \
        ("DossierReassigned", "cli:operator", OLD, NEW)
    moved = store.get_dossier(accepted["code"])
    assert (moved["agency_id"], moved["holder_agency_id"], moved["status"]) == (NEW, NEW, "accepted")
    assert moved["due_at"] == accepted["due_at"] and moved["code"].startswith(OLD)
    assert moved["decisions"][-1]["reassigned_to"] == NEW
    assert store.get_dossier(before_the_day["refused"])["agency_id"] == OLD      # closed: history stays
    history = {code: events_of(code) for code in before_the_day.values()}

    again = merger.apply(merger.load_plan(PLAN), TODAY)
    assert (again["catalogue_writes"], again["dossiers_moved"]) == (0, 0)
    assert {code: events_of(code) for code in before_the_day.values()} == history
    assert history[accepted["code"]].count("DossierReassigned") == 1
    assert "DossierReassigned" not in history[before_the_day["refused"]]


def test_a_crash_between_two_moves_resumes_with_each_move_made_once(api, before_the_day, monkeypatch):
    real, calls = reassign.reassign, []

    def crash_on_second(*args, **kwargs):
        calls.append(args[0])
        if len(calls) == 2:
            raise RuntimeError("Lambda timed out")
        return real(*args, **kwargs)

    monkeypatch.setattr(reassign, "reassign", crash_on_second)
    with pytest.raises(RuntimeError):
        merger.apply(merger.load_plan(PLAN), TODAY)
    monkeypatch.setattr(reassign, "reassign", real)
    resumed = merger.apply(merger.load_plan(PLAN), TODAY)
    assert (resumed["catalogue_writes"], resumed["dossiers_moved"]) == (0, 1)
    for key in ("accepted", "submitted"):
        assert events_of(before_the_day[key]).count("DossierReassigned") == 1
        assert store.get_dossier(before_the_day[key])["agency_id"] == NEW


def test_intake_at_a_retired_agency_answers_409_naming_the_successor(api, monkeypatch):
    real_save = catalogue_store.save_catalogue

    def crash_at_procedures(agencies, procedures):
        if procedures:
            raise RuntimeError("crash before the procedures moved")
        return real_save(agencies, procedures)

    monkeypatch.setattr(catalogue_store, "save_catalogue", crash_at_procedures)
    with pytest.raises(RuntimeError):
        merger.apply(merger.load_plan(PLAN), TODAY)
    citizen = api.token("citizen", sub="citizen-kt")
    body = {"procedure_code": REPAIR, "applicant": applicant(), "summary": "Sửa nhà"}
    refused = api.call("POST", "/dossiers", body=body, token=citizen, headers={"Idempotency-Key": "kt-after-1"})
    assert refused.status_code == 409
    error = refused.json["error"]
    assert (error["code"], error["successor"]) == ("agency_retired", NEW)
    assert "Sở Xây dựng tỉnh Quảng Ngãi" in error["message"]

    monkeypatch.setattr(catalogue_store, "save_catalogue", real_save)
    merger.apply(merger.load_plan(PLAN), TODAY)
    served = api.call("POST", "/dossiers", body=body, token=citizen, headers={"Idempotency-Key": "kt-after-2"})
    assert served.status_code == 201 and served.json["dossier_code"].startswith(NEW)


def test_the_successor_officer_finishes_a_moved_dossier_and_the_citizen_tracks_it_by_its_old_code(
        api, aws_env, before_the_day):
    code = before_the_day["accepted"]
    merger.apply(merger.load_plan(PLAN), TODAY)
    successor = api.token("officer", NEW, sub="officer-qn")
    issued = act(api, code, successor, "issue_result", decision="approved", documents=result_docs(aws_env, "officer-qn"))
    assert issued.status_code == 200, issued.json
    old_officer = api.token("officer", OLD, sub="officer-kt")
    assert act(api, code, old_officer, "return_result", method="desk").json["error"]["code"] == "agency_out_of_scope"
    tracked = api.call("GET", f"/track/{code}?phone_last4=5678")
    assert tracked.status_code == 200
    assert tracked.json["agency_id"] == NEW and tracked.json["agency_name"] == "Sở Xây dựng tỉnh Quảng Ngãi"


def test_successor_staff_read_the_predecessors_closed_dossiers_and_agencies_show_the_succession(api, before_the_day):
    merger.apply(merger.load_plan(PLAN), TODAY)
    refused = before_the_day["refused"]
    assert api.call("GET", f"/dossiers/{refused}", token=api.token("leader", NEW)).status_code == 200
    assert api.call("GET", f"/dossiers/{refused}", token=api.token("officer", "000.00.13.H50")).status_code == 404
    listed = api.call("GET", f"/dossiers?agency_id={OLD}", token=api.token("officer", NEW)).json
    assert refused in [item["dossier_code"] for item in listed["items"]]
    agencies = {a["agency_id"]: a for a in api.call("GET", "/agencies").json["items"]}
    assert (agencies[OLD]["status"], agencies[OLD]["successor"], agencies[OLD]["effective_date"]) == \
        ("retired", NEW, "2025-07-01")
    one = api.call("GET", f"/agencies/{NEW}")
    assert one.json["status"] == "active" and one.json["predecessors"] == [OLD]
    from tests.api.test_contract import check
    check("/agencies", "get", api.call("GET", "/agencies"))
    check("/agencies/{agency_id}", "get", one)
    assert api.call("GET", "/agencies/nope").json["error"]["code"] == "unknown_agency"


def test_reports_roll_the_predecessor_into_the_successor_as_of_the_day_and_verify_agrees(
        api, before_the_day, dispatcher):
    from chalicelib.reports.store.counters import projection_pk
    from chalicelib.runtime.models import ProjectionItem
    dispatcher.drain()
    for code in before_the_day.values():   # projected before merger day: the record names no agency
        ProjectionItem.get(projection_pk(code), "P").update(actions=[ProjectionItem.agency_id.remove()])
    merger.apply(merger.load_plan(PLAN), TODAY)
    dispatcher.drain()
    june = {"from": "2025-06-01", "to": "2025-06-30", "group_by": "agency"}
    token = api.token("leader", NEW)

    def rows(**params):
        query = "&".join(f"{k}={v}" for k, v in {**june, **params}.items())
        body = api.call("GET", f"/reports/dossiers?{query}", token=token).json
        return {row["agency_id"]: row["received"]["total"] for row in body["rows"]}

    assert rows(as_of="2025-07-01") == {NEW: 3}
    assert rows() == {NEW: 2, OLD: 1}                     # apart: moved dossiers went with the work
    assert rows(as_of="2025-06-30") == {NEW: 2, OLD: 1}   # before the day, the agencies as they were
    query = "&".join(f"{k}={v}" for k, v in june.items())
    items = api.call("GET", f"/reports/dossiers/items?{query}&cell=received.total&group={NEW}&as_of=2025-07-01",
                     token=token).json
    assert sorted(i["dossier_code"] for i in items["items"]) == sorted(before_the_day.values())
    for group_by in ("agency", "field", "procedure"):
        assert report_service.verify(date(2025, 6, 1), TODAY, group_by) == []


def test_the_national_index_rolls_the_predecessor_into_the_successor_as_of_the_day(api, before_the_day, dispatcher):
    dispatcher.drain()
    merger.apply(merger.load_plan(PLAN), TODAY)
    dispatcher.drain()
    token = api.token("leader", NEW)

    def received(**params: str) -> tuple[dict[str, int], int]:
        query = "&".join(f"{k}={v}" for k, v in {"from": "2025-06-01", "to": "2025-06-30", **params}.items())
        body = api.call("GET", f"/reports/indicators?{query}", token=token).json

        def online_share(indicators: list[dict]) -> int:
            return next(i["denominator"] for i in indicators if i["id"] == "3.3")
        return ({a["agency_id"]: online_share(a["indicators"]) for a in body["agencies"]},
                online_share(body["indicators"]))

    apart, total = received()
    assert set(apart) == {NEW, OLD} and sum(apart.values()) == total == 3   # each agency's own history
    rolled, rolled_total = received(as_of="2025-07-01")
    assert rolled == {NEW: 3} and rolled_total == 3
    assert received(as_of="2025-06-30")[0] == apart                          # before the day, as they were


def test_plan_cli_prints_what_moves_and_refuses_a_bad_plan(api, before_the_day, capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("MOTCUA_AWS_ENDPOINT", "")
    assert main(["agencies", "plan", str(PLAN)]) == 0
    out = capsys.readouterr().out
    assert f"dossier {before_the_day['accepted']} -> {NEW}" in out and f"procedure {REPAIR} -> {NEW}" in out
    assert store.get_dossier(before_the_day["accepted"])["agency_id"] == OLD     # plan writes nothing
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"plan_id": "bad", "changes": [
        {"kind": "merge", "agencies": [OLD], "successor": "000.99.99.H50", "effective_date": "2025-07-01"}]}))
    assert main(["agencies", "plan", str(bad)]) == 1
    assert "unknown_agency" in capsys.readouterr().err
    with pytest.raises(PlanInvalid):
        merger.apply(merger.load_plan(bad), TODAY)


def test_each_move_reaches_the_national_portal_and_the_citizen(api, before_the_day, dispatcher, simulators):
    from tests.api.test_national_sync import drain_until
    from tests.api.test_notifications import sink

    code = before_the_day["accepted"]
    dispatcher.drain()
    merger.apply(merger.load_plan(PLAN), TODAY)

    def portal_has_successor() -> bool:
        sent = simulators.national.state()["dossiers"].get(code, {})
        return sent.get("DonViXuLy") in (NEW, "Sở Xây dựng tỉnh Quảng Ngãi")

    drain_until(dispatcher, portal_has_successor)
    assert portal_has_successor()
    assert simulators.national.state()["dossiers"][code]["MaHoSo"] == code
    told = [line for line in sink(simulators) if "được chuyển cho Sở Xây dựng tỉnh Quảng Ngãi" in json.dumps(line, ensure_ascii=False)]
    assert len([line for line in told if code in json.dumps(line, ensure_ascii=False)]) == 1


def test_the_reassign_event_matches_its_published_schema(api, before_the_day):
    import jsonschema
    from tests.api.test_events import SCHEMAS

    merger.apply(merger.load_plan(PLAN), TODAY)
    event = store.dossier_events(before_the_day["accepted"])[-1]
    assert event["type"] == "DossierReassigned" and event["data"]["from_agency_id"] == OLD
    schema = json.loads((SCHEMAS / "DossierReassigned.v1.json").read_text())
    jsonschema.validate(event, schema, format_checker=jsonschema.FormatChecker())


def test_a_split_sends_each_open_dossier_to_the_agency_now_serving_its_procedure(api, before_the_day, tmp_path):
    justice = "000.00.13.H50"
    split = tmp_path / "split.json"
    split.write_text(json.dumps({"plan_id": "split-1", "changes": [
        {"kind": "split", "agency_id": OLD, "successor": NEW, "procedures": {REPAIR: justice},
         "effective_date": "2025-07-01"}]}))
    result = merger.apply(merger.load_plan(split), TODAY)
    assert result["dossiers_moved"] == 2
    assert store.get_dossier(before_the_day["accepted"])["agency_id"] == justice
    assert catalogue_store.snapshot().procedures[REPAIR].agency_id == justice
    assert catalogue_store.snapshot().agencies[OLD].successor == NEW


def test_a_retirement_without_successor_is_refused_while_dossiers_are_open(api, before_the_day, tmp_path):
    from dataclasses import replace
    procedure = catalogue_store.snapshot().procedures[REPAIR]
    catalogue_store.save_catalogue([], [replace(procedure, agency_id=NEW)])   # no procedure left at OLD
    dissolve = tmp_path / "dissolve.json"
    dissolve.write_text(json.dumps({"plan_id": "dissolve-1", "changes": [
        {"kind": "retire", "agency_id": OLD, "effective_date": "2025-07-01"}]}))
    with pytest.raises(PlanInvalid) as refused:
        merger.apply(merger.load_plan(dissolve), TODAY)
    assert [e.code for e in refused.value.errors] == ["dossiers_orphaned"]
    assert catalogue_store.snapshot().agencies[OLD].status == "active"


def test_a_move_racing_an_officer_loads_the_dossier_again_and_moves_it(api, before_the_day, monkeypatch):
    from chalicelib.kernel.errors import Conflict
    real, raced = store.save_transition, []

    def officer_first(dossier, *args, **kwargs):
        if not raced:
            raced.append(dossier["code"])
            raise Conflict("Hồ sơ vừa được người khác cập nhật.", code="concurrent_update")
        return real(dossier, *args, **kwargs)

    monkeypatch.setattr(store, "save_transition", officer_first)
    assert merger.apply(merger.load_plan(PLAN), TODAY)["dossiers_moved"] == 2
    assert events_of(raced[0]).count("DossierReassigned") == 1


def test_a_rename_to_a_new_code_creates_the_agency_and_moves_everything_to_it(api, before_the_day, tmp_path):
    renamed = tmp_path / "rename.json"
    renamed.write_text(json.dumps({"plan_id": "rename-1", "changes": [
        {"kind": "rename", "agency_id": OLD, "new_agency_id": "000.00.16.H50", "name": "Sở Xây dựng và Đô thị",
         "effective_date": "2025-07-01"}]}))
    result = merger.apply(merger.load_plan(renamed), TODAY)
    assert (result["catalogue_writes"], result["dossiers_moved"]) == (3, 2)   # create, retire, one procedure
    created = api.call("GET", "/agencies/000.00.16.H50").json
    assert (created["name"], created["level"], created["predecessors"]) == ("Sở Xây dựng và Đô thị", "department", [OLD])
    assert store.get_dossier(before_the_day["submitted"])["agency_id"] == "000.00.16.H50"
    assert merger.apply(merger.load_plan(renamed), TODAY)["catalogue_writes"] == 0


def test_a_retired_desk_takes_no_dossier_and_a_moved_dossier_is_at_the_successors_counter(api):
    def at_desk(agency: str, key: str) -> object:
        body = {"procedure_code": REPAIR, "applicant": applicant(), "summary": "Sửa nhà", "channel": "direct",
                "consent": True}
        return api.call("POST", "/desk/dossiers", token=api.token("officer", agency, sub=f"desk-{agency}"),
                        body=body, headers={"Idempotency-Key": key})

    walked_in = at_desk(OLD, "desk-kt-1")
    assert walked_in.status_code == 201, walked_in.json
    merger.apply(merger.load_plan(PLAN), TODAY)
    assert store.get_dossier(walked_in.json["dossier_code"])["receiving_agency_id"] == NEW
    refused = at_desk(OLD, "desk-kt-2")
    assert refused.status_code == 409 and refused.json["error"]["successor"] == NEW
