"""The national service index (Decision 766) through the API: a workload of online, desk and
postal dossiers (paid online and not, with and without electronic results, one and two
supplement requests) and feedback answered on time and late. Every indicator equals a hand
computation, the drill-down lists exactly each numerator and denominator, verify finds no
difference, and duplicated, reordered events give the clean run's counters."""
from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import time_machine

from chalicelib.kernel.working_days import TZ
from chalicelib.reports.use_cases import index766
from chalicelib.runtime.settings import settings
from chalicelib.trust.rules.identity import Identity, mint_local_token
from tests.api.conftest import put_upload
from tests.api.payment_kit import flow, vnpay  # noqa: F401  (fixtures)

AGENCY = "000.22.30.H50"              # Ủy ban nhân dân phường Kon Tum
DEATH, MARRIAGE = "1.001022", "1.000894"            # 1 and 5 working days, no fees, results are documents
BUILDING, SIGNATURE = "1.009994", "2.000884"        # 75,000 đ after acceptance; 10,000 đ, result not a document
D0 = date(2026, 3, 2)                 # a Monday; the week has no holiday
PERIOD = (D0, D0 + timedelta(days=4))
ADMIN = Identity("admin-i", "admin")


def at(day: date, hour: int = 9) -> Any:
    return time_machine.travel(datetime(day.year, day.month, day.day, hour, tzinfo=TZ), tick=False)


class Workload:
    def __init__(self, api: Any, session: Any, flow: Any) -> None:
        self.api, self.session, self.flow = api, session, flow
        self.officer = self.token("officer", "officer-i", AGENCY)
        self.leader = self.token("leader", "leader-i", AGENCY)
        flow.citizen = self.citizen("citizen-payer")
        self.keys = 0
        self.codes: dict[str, str] = {}
        self.owners: dict[str, str] = {}

    @staticmethod
    def token(role: str, sub: str, agency: str | None = None, vneid: bool = False) -> str:
        """Issued the day before the workload (the clock travels to it), valid for 400 days."""
        issued = datetime(D0.year, D0.month, D0.day, tzinfo=TZ).timestamp() - 86400
        return mint_local_token(settings().local_jwt_secret, sub, role, agency, ttl_seconds=400 * 86400,
                                now=issued, vneid_verified=vneid)

    def citizen(self, sub: str, vneid: bool = False) -> str:
        return self.token("citizen", sub, vneid=vneid)

    def files(self, owner: str, **marks: Any) -> list[dict[str, Any]]:
        return [{"upload_id": put_upload(self.session, owner), "name": "to-khai.pdf", **marks}]

    def submit(self, name: str, procedure: str, channel: str, *, sub: str = "", vneid: bool = False,
               files: list[dict[str, Any]] | None = None) -> str:
        self.keys += 1
        body = {"procedure_code": procedure, "summary": "Hồ sơ chỉ số 766", "attachments": files or [],
                "applicant": {"full_name": "Trần Thị Bình", "id_number": f"{self.keys:012d}", "phone": "0912345678"}}
        headers = {"Idempotency-Key": f"index-{self.keys:06d}"}
        if channel == "online":
            token = self.citizen(sub, vneid)
            response = self.api.call("POST", "/dossiers", body=body, token=token, headers=headers)
        else:
            token = self.officer
            response = self.api.call("POST", "/desk/dossiers", body={**body, "channel": channel, "consent": True},
                                     token=token, headers=headers)
        assert response.status_code == 201, response.json
        code = response.json["dossier_code"]
        self.codes[name], self.owners[name] = code, token
        accepted = self.api.call("POST", f"/dossiers/{code}/accept", token=self.officer)
        assert accepted.status_code == 200, accepted.json
        return code

    def act(self, name: str, action: str, **body: Any) -> None:
        response = self.api.call("POST", f"/dossiers/{self.codes[name]}/actions", body={"action": action, **body},
                                 token=self.officer)
        assert response.status_code == 200, response.json

    def finish(self, name: str) -> None:
        self.act(name, "issue_result", decision="approved",
                 documents=[{"upload_id": put_upload(self.session, "officer-i"), "name": "ket-qua.pdf"}])

    def ask(self, name: str) -> None:
        self.act(name, "request_supplement", reason="Thiếu giấy tờ", documents=["Bản sao CCCD"])

    def supply(self, name: str, owner_sub: str) -> None:
        response = self.api.call("POST", f"/dossiers/{self.codes[name]}/supplements", token=self.owners[name],
                                 body={"attachments": self.files(owner_sub)})
        assert response.status_code == 200, response.json

    def feedback(self, token: str, **body: Any) -> str:
        response = self.api.call("POST", "/feedback", token=token, body={
            "kind": "procedure", "title": "Phản ánh", "content": "Nội dung phản ánh", **body})
        assert response.status_code == 201, response.json
        return str(response.json["id"])

    def handle(self, feedback_id: str, action: str, **body: Any) -> None:
        response = self.api.call("POST", f"/feedback/{feedback_id}/{action}", token=self.officer, body=body)
        assert response.status_code == 200, response.json


@pytest.fixture
def workload(api, aws_env, dispatcher, flow):
    w = Workload(api, aws_env, flow)
    with at(D0):
        w.submit("d1", DEATH, "online", sub="citizen-1", vneid=True,
                 files=[{"upload_id": put_upload(aws_env, "citizen-1"), "name": "a.pdf", "digitised": True,
                         "from_citizen_store": True}])
        w.finish("d1")                                                      # on time, electronic result
        w.submit("d2", MARRIAGE, "direct",
                 files=[{"upload_id": put_upload(aws_env, "officer-i"), "name": "b.pdf",
                         "reused_from": "000.22.30.H50-260115-0001"}])
        w.submit("d3", MARRIAGE, "postal", files=w.files("officer-i"))
        w.submit("d4", BUILDING, "online", sub="citizen-payer")
        _payment, params = flow.pay(w.codes["d4"])                        # paid online (VNPay)
        assert flow.ipn(params).json["RspCode"] == "00"
        w.submit("d5", BUILDING, "online", sub="citizen-5")                 # fees not paid
        w.submit("d6", DEATH, "online", sub="citizen-6")                    # no files; finished late
        w.submit("d7", SIGNATURE, "direct", files=w.files("officer-i"))
        w.finish("d7")                                                      # result not a document
        w.submit("d8", MARRIAGE, "online", sub="citizen-8", files=w.files("citizen-8"))
        general = w.feedback(w.citizen("citizen-9"), agency_id=AGENCY)      # f2: answered late, unpublished
        phoned = w.feedback(w.officer, agency_id=AGENCY, kind="conduct",    # f3: recorded by phone, refused
                            contact={"full_name": "Lê Văn C", "phone": "0987654321"})
        w.handle(phoned, "refuse", reason="Không thuộc thẩm quyền")
    with at(D0 + timedelta(days=1)):
        for name in ("d2", "d3", "d8"):
            w.ask(name)
        about_d6 = w.feedback(w.owners["d6"], dossier_code=w.codes["d6"])  # f1: answered on time, liked
        w.feedback(w.citizen("citizen-10"), agency_id=AGENCY)              # f4: open, within its 15 days
    with at(D0 + timedelta(days=2)):
        w.supply("d2", "officer-i")
        w.supply("d3", "officer-i")
        w.handle(about_d6, "answer", answer="Đã xử lý")
        assert api.call("POST", f"/feedback/{about_d6}/reaction", token=w.owners["d6"],
                        body={"reaction": "like"}).status_code == 200
    with at(D0 + timedelta(days=3)):
        w.finish("d2")                                                      # on time after one supplement
        w.ask("d3")                                                         # asked twice, still waiting: late
        w.finish("d6")                                                      # due D0+1: late
    with at(D0 + timedelta(days=30)):
        w.handle(general, "answer", answer="Trả lời muộn", publish=False)
    dispatcher.drain()
    return w


# Hand computation for the week D0..D0+4, agency Kon Tum (8 dossiers, 4 feedbacks):
EXPECTED = {
    "1.4": (8, 8, 100.0),     # the national simulator took every dossier
    "2.1": (6, 8, 75.0),      # late: d3 (supplement asked twice), d6 (finished after its due day)
    "3.3": (2, 8, 25.0),      # online with an electronic result: d1, d6 (x synced share 100%)
    "3.5": (2, 2, 100.0),     # the ward's two procedures with fees: PayGov among the stage's providers
    "3.6": (1, 3, 33.33),     # fees: d4, d5, d7; paid online: d4
    "4.1": (3, 7, 42.86),     # documents expected of all but d7; links: d1, d2, d6
    "4.2": (3, 8, 37.5),      # files and an electronic result where required: d1, d2, d7
    "4.3": (2, 8, 25.0),      # d1 digitised, d2 re-used
    "4.4": (1, 8, 12.5),      # d1 from the citizen's data store
    "4.5": (1, 8, 12.5),      # d1's citizen verified with VNeID
    "5.1": (3, 4, 75.0),      # handled: f1, f2 answered, f3 refused; f4 open
    "5.2": (3, 4, 75.0),      # f2 answered after 15 working days
    "5.3": (1, 2, 50.0),      # f2's answer not published
    "5.4": (6, 8, 75.0),      # d3 late, d6 late and complained about: subtracted once
}
NUMERATORS = {"2.1": {"d1", "d2", "d4", "d5", "d7", "d8"}, "3.3": {"d1", "d6"}, "3.6": {"d4"},
              "4.1": {"d1", "d2", "d6"}, "4.2": {"d1", "d2", "d7"}, "4.3": {"d1", "d2"}, "4.4": {"d1"},
              "4.5": {"d1"}, "5.4": {"d1", "d2", "d4", "d5", "d7", "d8"}}
DENOMINATORS = {"3.6": {"d4", "d5", "d7"}, "4.1": {"d1", "d2", "d3", "d4", "d5", "d6", "d8"}}


def indicators(api: Any, token: str, **extra: str) -> Any:
    query = "&".join(f"{k}={v}" for k, v in {"from": PERIOD[0], "to": PERIOD[1], **extra}.items())
    return api.call("GET", f"/reports/indicators?{query}", token=token)


def listed(api: Any, token: str, indicator: str, part: str) -> list[dict[str, Any]]:
    items, cursor = [], None
    while True:
        suffix = f"&cursor={cursor}" if cursor else ""
        page = api.call("GET", f"/reports/indicators/items?from={PERIOD[0]}&to={PERIOD[1]}&agency_id={AGENCY}"
                               f"&indicator={indicator}&part={part}&limit=3{suffix}", token=token)
        assert page.status_code == 200, page.json
        items += page.json["items"]
        cursor = page.json["next_cursor"]
        if not cursor:
            return items


def test_every_indicator_equals_the_hand_computation(api, workload):
    response = indicators(api, api.token("leader", AGENCY))
    assert response.status_code == 200, response.json
    table = {row["id"]: row for row in response.json["indicators"]}
    for indicator, (numerator, denominator, rate) in EXPECTED.items():
        row = table[indicator]
        assert (row["numerator"], row["denominator"], row["rate"]) == (numerator, denominator, rate), indicator
    # 2.2: working days from acceptance to finished, the supplement wait left out: d1 0, d2 3 - 1, d6 3, d7 0
    assert (table["2.2"]["numerator"], table["2.2"]["denominator"], table["2.2"]["rate"]) == (5, 4, 1.25)
    assert [(p["procedure_code"], p["numerator"], p["denominator"], p["rate"]) for p in table["2.2"]["by_procedure"]] \
        == [(MARRIAGE, 2, 1, 2.0), (DEATH, 3, 2, 1.5), (SIGNATURE, 0, 1, 0.0)]   # by procedure code
    assert table["2.1"]["points"] == round(75.0 * 20 / 100, 2) and table["1.4"]["points"] is None
    assert table["3.3"]["points"] == 6.0               # 25% of the 50% threshold x 12 points
    assert response.json["max_points"] == 100
    assert [a["agency_id"] for a in response.json["agencies"]] == [AGENCY]


def test_drill_down_lists_exactly_each_numerator_and_denominator(api, workload):
    token = api.token("admin")
    table = {row["id"]: row for row in indicators(api, token, agency_id=AGENCY).json["indicators"]}
    names = {code: name for name, code in workload.codes.items()}
    for indicator in ("1.4", "2.1", "2.2", "3.3", "3.6", "4.1", "4.2", "4.3", "4.4", "4.5", "5.1", "5.2", "5.3", "5.4"):
        numerator, denominator = listed(api, token, indicator, "numerator"), listed(api, token, indicator, "denominator")
        shortfall = listed(api, token, indicator, "shortfall")
        assert len(numerator) == table[indicator]["numerator"] or indicator == "2.2", indicator
        assert len(denominator) == table[indicator]["denominator"], indicator
        assert len(shortfall) == len(denominator) - len(numerator) and all(item["reason"] for item in shortfall)
        if indicator in NUMERATORS:
            assert {names[i["dossier_code"]] for i in numerator} == NUMERATORS[indicator], indicator
        if indicator in DENOMINATORS:
            assert {names[i["dossier_code"]] for i in denominator} == DENOMINATORS[indicator], indicator
    late = {names[i["dossier_code"]]: i["reason"] for i in listed(api, token, "2.1", "shortfall")}
    assert set(late) == {"d3", "d6"} and "supplement requested 2 times" in late["d3"]


def test_verify_recounts_from_the_dossiers_and_finds_no_difference(workload, capsys, monkeypatch):
    from motcua.cli import main

    monkeypatch.setenv("MOTCUA_AWS_ENDPOINT", "")   # the CLI fills in local-stack defaults: keep them here
    monkeypatch.setenv("MOTCUA_STAGE", "local")
    assert index766.verify(*PERIOD) == []
    assert index766.verify(D0 - timedelta(days=40), D0 + timedelta(days=40)) == []
    assert main(["reports", "indicators", "verify", "--from", str(PERIOD[0]), "--to", str(PERIOD[1])]) == 0
    assert capsys.readouterr().out.strip().endswith("equal the recount from dossiers")


def test_duplicated_and_reordered_events_give_the_clean_runs_counters(api, aws_env, workload):
    from handlers import index_projection
    from tests.api.test_events import tap_events
    from chalicelib.runtime import aws, resources

    before = index766.indicators(ADMIN, start=PERIOD[0], end=PERIOD[1], agency_id=AGENCY)
    reports = aws.client("dynamodb")
    table = settings().name(resources.REPORTS.name)
    for item in reports.scan(TableName=table)["Items"]:            # forget the index projection
        if item["pk"]["S"].startswith(("I#", "IX#")):
            reports.delete_item(TableName=table, Key={"pk": item["pk"], "sk": item["sk"]})
    assert index766.verify(*PERIOD) != []
    tapped = tap_events(aws_env)
    events = [e["detail"] for e in tapped if "dossier_code" in e["detail"]]
    feedback_events = [e for e in events if e["type"] == "FeedbackReceived"]
    assert len(feedback_events) == 1 and feedback_events[0]["dossier_code"] == workload.codes["d6"]
    assert {e["source"] for e in tapped if e["detail"]["type"] == "FeedbackReceived"} == {"motcua.feedback"}
    schema = json.loads((Path(__file__).resolve().parents[2] / "events" / "schemas" / "FeedbackReceived.v1.json").read_text())
    jsonschema.validate(feedback_events[0], schema, format_checker=jsonschema.FormatChecker())
    for event in reversed(events + events):
        index_projection.project_code(event["dossier_code"])
    after = index766.indicators(ADMIN, start=PERIOD[0], end=PERIOD[1], agency_id=AGENCY)
    assert after["indicators"] == before["indicators"] and index766.verify(*PERIOD) == []


def test_an_officer_sees_only_their_agency_and_the_at_risk_list_says_what_to_do(api, workload):
    other = api.token("officer", "000.21.30.H50")
    assert indicators(api, other, agency_id=AGENCY).status_code == 403
    with at(D0 + timedelta(days=19)):    # a Saturday; d4 and d5 (15 working days) are due on Monday
        risk = api.call("GET", f"/reports/indicators/at-risk?agency_id={AGENCY}", token=workload.leader)
    assert risk.status_code == 200, risk.json
    names = {code: name for name, code in workload.codes.items()}
    listed = {names[d["dossier_code"]]: d for d in risk.json["dossiers"]}
    assert set(listed) == {"d4", "d5"} and not any(d["overdue"] for d in listed.values())
    assert all(d["action"] and d["indicator"] == "2.1" for d in listed.values())
    assert risk.json["records"] == []     # every dossier reached the national portal


def test_the_indicator_table_exports_to_excel_with_the_same_numbers(api, workload):
    from io import BytesIO
    from openpyxl import load_workbook

    response = api.client.http.request("GET", f"/reports/indicators?from={PERIOD[0]}&to={PERIOD[1]}&format=xlsx",
                                       headers={"Authorization": f"Bearer {api.token('leader', AGENCY)}",
                                                "Accept": "*/*"})
    assert response.status_code == 200
    sheet = load_workbook(BytesIO(response.body)).worksheets[0]
    rows = {row[0]: row for row in sheet.iter_rows(min_row=6, values_only=True) if row[0]}
    for indicator, (numerator, denominator, rate) in EXPECTED.items():
        assert rows[indicator][3:6] == (numerator, denominator, rate), indicator


def test_the_index_projection_costs_three_dynamodb_calls_per_event_and_two_when_up_to_date(api, workload):
    from handlers import index_projection
    from motcua import metering

    code = workload.codes["d5"]
    workload.api.call("POST", f"/dossiers/{code}/actions", token=workload.officer,
                      body={"action": "stop", "reason": "Công dân đề nghị dừng"})
    with metering.aws_calls() as calls:
        assert index_projection.project({"id": "e-calls", "dossier_code": code}) == "projected"
    # the dossier's items (one Query), what sits next to it (one BatchGetItem), the write
    assert calls.service("dynamodb") == 3, calls
    with metering.aws_calls() as calls:
        assert index_projection.project({"id": "e-calls", "dossier_code": code}) == "up-to-date"
    assert calls.service("dynamodb") == 2, calls


def test_feedback_is_private_until_answered_and_published_without_its_author(api, workload):
    stranger = workload.citizen("citizen-stranger")
    listed_ids = [f["id"] for f in api.call("GET", f"/feedback?from={PERIOD[0]}&to={PERIOD[1]}",
                                            token=workload.leader).json["items"]]
    assert len(listed_ids) == 4
    assert all(api.call("GET", f"/feedback/{i}", token=stranger).status_code == 404 for i in listed_ids)
    published = api.call("GET", f"/feedback/published?agency_id={AGENCY}").json["items"]
    assert [p["answer"] for p in published] == ["Đã xử lý"]              # f2's answer was kept private
    assert "contact" not in published[0] and "submitted_by" not in published[0]


def test_a_call_recorded_without_whom_to_answer_is_refused_naming_the_fields(api, workload):
    response = api.call("POST", "/feedback", token=workload.officer,
                        body={"kind": "conduct", "title": "Gọi điện", "content": "Cán bộ chậm", "agency_id": AGENCY})
    assert response.status_code == 422
    assert set(response.json["error"]["fields"]) == {"contact.full_name", "contact.phone"}


def test_an_agency_covers_its_sub_units_and_the_province_agency_the_province(api, workload):
    province = index766.indicators(ADMIN, start=PERIOD[0], end=PERIOD[1], agency_id="000.00.00.H50")
    everything = index766.indicators(ADMIN, start=PERIOD[0], end=PERIOD[1])
    # every dossier of the workload is under the province; 3.5 counts the catalogue's procedures,
    # and the catalogue may hold an agency outside the province's tree
    assert [r for r in province["indicators"] if r["id"] != "3.5"] == \
        [r for r in everything["indicators"] if r["id"] != "3.5"]
    assert {a["agency_id"] for a in province["agencies"]} == set(index766.with_subunits(["000.00.00.H50"]))
    assert {AGENCY, "000.00.13.H50", "000.21.30.H50"} <= {a["agency_id"] for a in province["agencies"]}
    ward = index766.indicators(ADMIN, start=PERIOD[0], end=PERIOD[1], agency_id=AGENCY)
    assert [a["agency_id"] for a in ward["agencies"]] == [AGENCY]


def test_a_citizen_supplies_the_information_asked_for_and_the_agency_then_answers(api, workload):
    author = workload.citizen("citizen-asks")
    feedback_id = workload.feedback(author, agency_id=AGENCY)
    workload.handle(feedback_id, "supplement-request", reason="Xin cho biết số hồ sơ")
    stranger = api.call("POST", f"/feedback/{feedback_id}/supplement", token=workload.citizen("citizen-other"),
                        body={"content": "Không phải của tôi"})
    assert stranger.status_code == 404
    supplied = api.call("POST", f"/feedback/{feedback_id}/supplement", token=author, body={"content": "Hồ sơ số 12"})
    assert supplied.status_code == 200 and supplied.json["status"] == "received"
    assert supplied.json["supplement"]["content"] == "Hồ sơ số 12"
    workload.handle(feedback_id, "answer", answer="Đã giải quyết")
    again = api.call("POST", f"/feedback/{feedback_id}/supplement-request", token=workload.officer,
                     body={"reason": "Lần nữa"})
    assert again.status_code == 409 and again.json["error"]["code"] == "invalid_transition"


def test_a_dossier_reassigned_on_merger_day_takes_its_counts_to_its_new_agency(api, workload, dispatcher):
    from chalicelib.dossiers.use_cases.reassign import reassign

    successor = "000.21.30.H50"
    before = index766.indicators(ADMIN, start=PERIOD[0], end=PERIOD[1])
    moved = reassign(workload.codes["d5"], successor, plan_id="plan-766", reason="Sáp nhập",
                     identity=Identity("admin-merger", "admin"))
    assert moved is not None and moved["agency_id"] == successor
    dispatcher.drain()
    assert index766.verify(*PERIOD) == []
    after = index766.indicators(ADMIN, start=PERIOD[0], end=PERIOD[1])
    ward = index766.indicators(ADMIN, start=PERIOD[0], end=PERIOD[1], agency_id=AGENCY)
    assert {r["id"]: r["denominator"] for r in ward["indicators"]}["3.6"] == 2      # d5 left with its fees
    assert [(r["numerator"], r["denominator"]) for r in after["indicators"]] == \
        [(r["numerator"], r["denominator"]) for r in before["indicators"]]         # the province's counts are unchanged
