"""The one-stop desk as a channel of its own (issue 17, Decree 118/2025): a dossier taken at
any desk of the province, for any agency's procedure, stays the receiving desk's to read,
hand over, supplement, return and rate, while the competent agency processes it and the
reports count it; applicants of every kind; results by post; extensions only while honest."""
from __future__ import annotations

import json
from datetime import timedelta

import jsonschema

from chalicelib.dossiers.store import dossiers as store
from chalicelib.dossiers.use_cases import workflow
from chalicelib.kernel.working_days import default_calendar, parse_iso, to_local
from tests.api.conftest import put_upload
from tests.api.test_contract import check
from tests.api.test_events import SCHEMAS
from tests.api.test_intake import applicant, submission, submit
from tests.api.test_workflow import ALL_CRITERIA, COMMUNE, HOUSE, act, new_accepted, officer

JUSTICE = "000.00.13.H50"      # Sở Tư pháp: a provincial department, not competent for HOUSE
BUSINESS = {"type": "business", "organization_name": "Công ty TNHH Xây dựng Hồng Hà", "tax_code": "0101234567-001",
            "legal_representative": "Trần Thị Hà", "phone": "0912345678", "address": "5 Trần Phú, phường Ba Đình"}


def desk_intake(api, token, key, **over):
    body = {**submission(HOUSE), "channel": "direct", "consent": True, **over}
    return api.call("POST", "/desk/dossiers", token=token, body=body, headers={"Idempotency-Key": key})


def received_at_department(api, key="desk-other-0001", **over):
    desk = officer(api, JUSTICE, "officer-justice-desk")
    created = desk_intake(api, desk, key, **over)
    assert created.status_code == 201, created.json
    return created.json["dossier_code"], desk


def test_a_department_desk_keeps_reading_tracking_and_withdrawing_a_walk_in_dossier_for_a_commune(api, aws_env):
    """The issue's finding: 201, then 404 reading, 403 withdrawing, and not in the desk's list."""
    code, desk = received_at_department(api)
    read = api.call("GET", f"/dossiers/{code}", token=desk)
    assert read.status_code == 200, read.json
    assert (read.json["agency_id"], read.json["receiving_agency_id"]) == (COMMUNE, JUSTICE)
    assert api.call("GET", f"/dossiers/{code}/deadline", token=desk).status_code == 200
    assert api.call("GET", f"/dossiers/{code}/history", token=desk).status_code == 200
    mine = api.call("GET", "/dossiers?received=here", token=desk)
    check("/dossiers", "get", mine)
    assert [(i["dossier_code"], i["received_here"], i["agency_id"]) for i in mine.json["items"]] == [
        (code, True, COMMUNE)]
    # the competent agency's queue has it at once, and says which desk took it
    queue = api.call("GET", "/dossiers", token=officer(api)).json["items"]
    assert [(i["dossier_code"], i["receiving_agency_id"], i["received_here"]) for i in queue] == [
        (code, JUSTICE, False)]
    withdrawn = act(api, code, desk, "withdraw", reason="Công dân rút tại quầy Sở Tư pháp")
    assert withdrawn.status_code == 200, withdrawn.json
    assert api.call("GET", "/dossiers?received=here&status=withdrawn", token=desk).json["items"][0][
        "dossier_code"] == code
    assert api.call("GET", "/dossiers?received=here&status=accepted", token=desk).json["items"] == []


def test_the_receiving_desk_hands_over_supplements_returns_and_rates_while_the_competent_agency_processes(
        api, aws_env):
    code, desk = received_at_department(api, "desk-other-0002")
    handed = api.call("POST", f"/dossiers/{code}/accept", token=desk)
    assert handed.status_code == 200 and handed.json["holder_agency_id"] == COMMUNE
    commune = officer(api)
    # processing stays with the competent agency
    assert api.call("POST", f"/dossiers/{code}/forward", token=desk, body={"to_step": 3}).status_code == 403
    asked = act(api, code, commune, "request_supplement", reason="Thiếu bản vẽ", documents=["Bản vẽ mặt bằng"])
    assert asked.status_code == 200, asked.json
    scan = put_upload(aws_env, "officer-justice-desk")
    supplied = api.call("POST", f"/dossiers/{code}/supplements", token=desk,
                        body={"attachments": [{"upload_id": scan, "name": "Bản vẽ.pdf"}]})
    assert supplied.status_code == 200, supplied.json
    result = [{"upload_id": put_upload(aws_env, "officer-commune"), "name": "Giấy phép.pdf"}]
    assert act(api, code, commune, "issue_result", decision="approved", documents=result).status_code == 200
    returned = act(api, code, desk, "return_result", method="desk")
    assert returned.status_code == 200 and returned.json["return_method"] == "desk"
    rated = api.call("POST", f"/dossiers/{code}/rating", token=desk, body={"criteria": ALL_CRITERIA, "overall": 5})
    assert rated.status_code == 200, rated.json
    assert rated.json["rating"]["at_desk"] is True
    again = api.call("POST", f"/dossiers/{code}/rating", token=desk, body={"criteria": ALL_CRITERIA, "overall": 1})
    assert again.status_code == 409 and again.json["error"]["code"] == "already_rated"
    events = store.dossier_events(code)
    for event in events:
        jsonschema.validate(event, json.loads((SCHEMAS / f"{event['type']}.v1.json").read_text()),
                            format_checker=jsonschema.FormatChecker())
    assert events[0]["data"]["receiving_agency_id"] == JUSTICE and events[-1]["data"]["at_desk"] is True
    # reports count it for the competent agency and show the receiving desk
    today = to_local(parse_iso(handed.json["accepted_at"])).date()
    items = api.call("GET", f"/reports/dossiers/items?from={today}&to={today}&group_by=agency&cell=received.direct",
                     token=api.token("admin"))
    check("/reports/dossiers/items", "get", items)
    assert [(i["dossier_code"], i["agency_id"], i["receiving_agency_id"]) for i in items.json["items"]] == [
        (code, COMMUNE, JUSTICE)]


def test_an_online_dossier_is_rated_by_its_owner_only(api, aws_env):
    code, citizen, _ = new_accepted(api)
    commune = officer(api)
    result = [{"upload_id": put_upload(aws_env, "officer-commune"), "name": "Giấy phép.pdf"}]
    assert act(api, code, commune, "issue_result", decision="approved", documents=result).status_code == 200
    by_officer = api.call("POST", f"/dossiers/{code}/rating", token=commune, body={"criteria": ALL_CRITERIA, "overall": 5})
    assert by_officer.status_code == 403 and by_officer.json["error"]["code"] == "owner_only"
    own = api.call("POST", f"/dossiers/{code}/rating", token=citizen, body={"criteria": ALL_CRITERIA, "overall": 5})
    assert own.status_code == 200 and own.json["rating"]["at_desk"] is False


def test_a_business_applies_by_post_and_gets_its_result_by_post(api, aws_env):
    code, desk = received_at_department(api, "desk-post-0001", channel="postal", applicant=BUSINESS,
                                        result_delivery="post")
    dossier = api.call("GET", f"/dossiers/{code}", token=desk).json
    assert (dossier["channel"], dossier["result_delivery"], dossier["applicant"]["type"],
            dossier["applicant"]["tax_code"]) == ("postal", "post", "business", "0101234567-001")
    listed = api.call("GET", "/dossiers?received=here", token=desk).json["items"]
    assert listed[0]["applicant_name"] == "Công ty TNHH Xây dựng Hồng Hà"
    no_address = {k: v for k, v in BUSINESS.items() if k != "address"}
    missing = desk_intake(api, desk, "desk-post-0002", channel="postal", applicant=no_address, result_delivery="post")
    assert missing.status_code == 422 and set(missing.json["error"]["fields"]) == {"applicant.address"}
    bad = desk_intake(api, desk, "desk-post-0003", applicant={**BUSINESS, "tax_code": "01012345"})
    assert bad.status_code == 422 and set(bad.json["error"]["fields"]) == {"applicant.tax_code"}
    citizen = api.token("citizen", sub="citizen-business")
    online = submit(api, submission(HOUSE, applicant=BUSINESS), citizen, key="business-online-1")
    assert online.status_code == 201, online.json


def test_returning_by_post_needs_the_applicants_address(api, aws_env):
    code, _, _ = new_accepted(api, applicant=applicant(address=None))
    commune = officer(api)
    result = [{"upload_id": put_upload(aws_env, "officer-commune"), "name": "Giấy phép.pdf"}]
    assert act(api, code, commune, "issue_result", decision="approved", documents=result).status_code == 200
    refused = act(api, code, commune, "return_result", method="post")
    assert refused.status_code == 422 and set(refused.json["error"]["fields"]) == {"method"}
    assert act(api, code, commune, "return_result", method="desk").status_code == 200


def test_an_extension_after_the_due_date_is_refused_and_the_dossier_stays_late(api, aws_env, monkeypatch):
    """The issue's finding: due weeks ago, extended (200), then counted early; and an
    extension to 2040-12-31 accepted."""
    code, _, accepted = new_accepted(api)
    commune = officer(api)
    far = act(api, code, commune, "extend", reason="Cần xác minh", new_due_date="2040-12-31")
    assert far.status_code == 422 and far.json["error"]["code"] == "extension_too_long"
    assert set(far.json["error"]["fields"]) == {"new_due_date"}
    due = parse_iso(accepted["due_at"])
    weeks_late = due + timedelta(days=21)
    monkeypatch.setattr(workflow, "utc_now", lambda: weeks_late)
    late = act(api, code, commune, "extend", reason="Chậm do xác minh", new_due_date=str(
        default_calendar().add_working_days(to_local(weeks_late).date(), 5)))
    assert late.status_code == 409 and late.json["error"]["code"] == "deadline_passed"
    result = [{"upload_id": put_upload(aws_env, "officer-commune"), "name": "Giấy phép.pdf"}]
    assert act(api, code, commune, "issue_result", decision="approved", documents=result).status_code == 200
    start, end = to_local(parse_iso(accepted["accepted_at"])).date(), to_local(weeks_late).date()
    query = f"from={start}&to={end}&group_by=agency"
    admin = api.token("admin")
    late_items = api.call("GET", f"/reports/dossiers/items?{query}&cell=resolved.late", token=admin).json["items"]
    assert [i["dossier_code"] for i in late_items] == [code]
    early = api.call("GET", f"/reports/dossiers/items?{query}&cell=resolved.early", token=admin).json["items"]
    assert early == []


def test_an_extension_before_the_due_date_is_recorded_as_the_apology(api, aws_env):
    code, _, accepted = new_accepted(api)
    old_day = to_local(parse_iso(accepted["due_at"])).date()
    new_day = default_calendar().add_working_days(old_day, 3)
    extended = act(api, code, officer(api), "extend", reason="Cần lấy ý kiến cơ quan liên quan",
                   new_due_date=new_day.isoformat())
    assert extended.status_code == 200, extended.json
    apology = extended.json["extensions"][0]
    assert (apology["reason"], apology["old_due_at"], apology["new_due_date"]) == (
        "Cần lấy ý kiến cơ quan liên quan", accepted["due_at"], new_day.isoformat())
    assert apology["working_days_before_due"] >= 1


def test_the_desk_list_pages_through_what_the_desk_took_in_and_only_officers_ask_for_it(api, aws_env):
    codes = [received_at_department(api, f"desk-page-{i:04d}")[0] for i in range(3)]
    desk = officer(api, JUSTICE, "officer-justice-desk")
    first = api.call("GET", "/dossiers?received=here&limit=2", token=desk).json
    second = api.call("GET", f"/dossiers?received=here&limit=2&cursor={first['next_cursor']}", token=desk).json
    assert [i["dossier_code"] for i in first["items"] + second["items"]] == list(reversed(codes))
    # the agency's own queue is the competent agency's: the department is competent for none
    assert api.call("GET", "/dossiers", token=desk).json["items"] == []
    foreign = api.call("GET", f"/dossiers?cursor={first['next_cursor']}", token=desk)
    assert foreign.status_code == 400 and foreign.json["error"]["code"] == "invalid_cursor"
    admin = api.call("GET", f"/dossiers?received=here&agency_id={JUSTICE}", token=api.token("admin")).json["items"]
    assert len(admin) == 3
    citizen = api.call("GET", "/dossiers?received=here", token=api.token("citizen"))
    assert citizen.status_code == 422 and set(citizen.json["error"]["fields"]) == {"received"}
    assert api.call("GET", "/dossiers?received=there", token=desk).status_code == 422
