"""Form 06 through the API: counters from the projection, verify, drill-down, exports."""
from __future__ import annotations

import csv
import io
import json
from datetime import datetime, timedelta, timezone

import pytest

from chalicelib.dossiers.use_cases import intake
from chalicelib.reports.use_cases import reports as report_service
from chalicelib.trust.rules.identity import Identity
from handlers import report_projection
from motcua import metering
from tests.api.test_consumer import sqs_record
from tests.api.test_intake import applicant

TZ = timezone(timedelta(hours=7))
TODAY = datetime.now(TZ).date()
ADMIN = Identity("admin-1", "admin")


def submit_at(procedure_code: str, when: datetime, key: str, sub: str = "citizen-r") -> str:
    body = {"procedure_code": procedure_code, "applicant": applicant(), "summary": "", "form": {}, "attachments": []}
    response, _ = intake.submit(body, Identity(sub, "citizen"), key, clock=lambda: when)
    return response["dossier_code"]


@pytest.fixture
def world(api, aws_env, dispatcher):
    """Six dossiers in two agencies: new, accepted on time, overdue, refused, carried over."""
    procedures = {p["procedure_code"]: p for p in api.call("GET", "/procedures").json["items"]}
    judicial = procedures["1.009972"]          # Sở Xây dựng, 20 working days, fees paid on the result
    birth = procedures["1.001193"]             # a commune, 1 working day
    now = datetime.now(TZ)
    old = now - timedelta(days=40)
    codes = {
        "new": submit_at(judicial["procedure_code"], now, "rep-0001"),
        "accepted": submit_at(judicial["procedure_code"], now, "rep-0002"),
        "refused": submit_at(birth["procedure_code"], now, "rep-0003"),
        "overdue": submit_at(birth["procedure_code"], old, "rep-0004"),
        "carried": submit_at(judicial["procedure_code"], old, "rep-0005"),
    }
    officer_j = Identity("off-j", "officer", judicial["agency_id"])
    officer_b = Identity("off-b", "officer", birth["agency_id"])
    intake.accept(codes["accepted"], officer_j, clock=lambda: now)
    intake.refuse(codes["refused"], officer_b, "Sai thẩm quyền", clock=lambda: now)
    intake.accept(codes["overdue"], officer_b, clock=lambda: old)
    intake.accept(codes["carried"], officer_j, clock=lambda: old)
    dispatcher.drain()
    return {"codes": codes, "judicial": judicial, "birth": birth}


def report(api, token, **params):
    query = "&".join(f"{k}={v}" for k, v in params.items())
    return api.call("GET", f"/reports/dossiers?{query}", token=token)


def test_report_counts_what_happened_and_adds_up(api, world):
    response = report(api, api.token("admin"), **{"from": TODAY.replace(day=1) if TODAY.day > 1 else TODAY,
                                                   "to": TODAY, "group_by": "agency"})
    assert response.status_code == 200, response.json
    body = response.json
    rows = {row["agency_id"]: row for row in body["rows"]}
    judicial, birth = rows[world["judicial"]["agency_id"]], rows[world["birth"]["agency_id"]]
    assert judicial["received"] == {"carried_over": 1, "online": 2, "direct": 0, "postal": 0, "total": 3}
    assert judicial["in_progress"] == {"within_deadline": 2, "overdue": 1, "total": 3}
    assert birth["refused"] == 1 and birth["in_progress"]["overdue"] == 1
    assert birth["received"]["carried_over"] == 1 and birth["received"]["online"] == 1
    assert body["total"]["received"]["total"] == 5
    for row in body["rows"] + [body["total"]]:
        assert report_service_identities(row) == []
    assert judicial["name"].startswith("Sở Xây dựng")


def report_service_identities(row):
    from chalicelib.reports.rules.form06 import check_identities
    return check_identities(row)


def test_verify_recounts_from_dossiers_and_finds_no_difference(world):
    for group_by in ("agency", "field", "procedure"):
        assert report_service.verify(TODAY - timedelta(days=60), TODAY, group_by) == []


def test_drill_down_lists_exactly_the_dossiers_behind_each_cell(api, world):
    token = api.token("admin")
    start = TODAY - timedelta(days=10)
    body = report(api, token, **{"from": start, "to": TODAY, "group_by": "agency"}).json
    for cell, path in (("in_progress.overdue", ("in_progress", "overdue")), ("refused", ("refused",)),
                       ("received.total", ("received", "total")), ("received.carried_over", ("received", "carried_over"))):
        expected = body["total"]
        for part in path:
            expected = expected[part]
        listed, cursor = [], None
        while True:
            suffix = f"&cursor={cursor}" if cursor else ""
            page = api.call("GET", f"/reports/dossiers/items?from={start}&to={TODAY}&group_by=agency&cell={cell}&limit=2{suffix}",
                            token=token).json
            listed += page["items"]
            cursor = page["next_cursor"]
            if not cursor:
                break
        assert len(listed) == expected, cell
    overdue = api.call("GET", f"/reports/dossiers/items?from={start}&to={TODAY}&group_by=agency&cell=in_progress.overdue",
                       token=token).json["items"]
    assert {i["dossier_code"] for i in overdue} == {world["codes"]["overdue"], world["codes"]["carried"]}


def test_duplicated_and_reordered_deliveries_change_no_counter(api, world, aws_env):
    start = TODAY - timedelta(days=60)
    before = report_service.dossier_report(ADMIN, start=start, end=TODAY, group_by="procedure")
    from tests.api.test_events import tap_events
    events = [e["detail"] for e in tap_events(aws_env)]
    assert events, "the tap saw the events"
    records = [sqs_record(e, f"dup-{i}") for i, e in enumerate(reversed(events + events))]
    from motcua.dispatcher import LambdaContext
    assert report_projection.handler({"Records": records[:10]}, LambdaContext("report-projection"))["batchItemFailures"] == []
    after = report_service.dossier_report(ADMIN, start=start, end=TODAY, group_by="procedure")
    assert after["rows"] == before["rows"]


def test_projection_costs_three_dynamodb_calls_per_event(api, aws_env, dispatcher):
    procedure = api.call("GET", "/procedures").json["items"][0]
    code = submit_at(procedure["procedure_code"], datetime.now(TZ), "rep-calls-1")
    event = {"id": "e-calls-1", "dossier_code": code}
    with metering.aws_calls() as calls:
        assert report_projection.project(event) == "projected"
    # the dossier's items (one Query), its projection record (one GetItem), the write
    assert dict(calls) == {"dynamodb.Query": 1, "dynamodb.GetItem": 1, "dynamodb.TransactWriteItems": 1}, calls


@pytest.mark.parametrize("query, status, field", [
    ("to=2026-01-31&group_by=agency", 422, "from"),
    ("from=2026-02-01&to=2026-01-31&group_by=agency", 422, "from"),
    ("from=2020-01-01&to=2026-01-31&group_by=agency", 422, "to"),
    ("from=2026-01-01&to=2026-01-31&group_by=district", 422, "group_by"),
    ("from=2026-13-01&to=2026-01-31&group_by=agency", 422, "from"),
    ("from=2026-01-01&to=2026-01-31&group_by=agency&format=pdf", 422, "format"),
    ("from=0001-01-01&to=0001-01-07&group_by=agency", 422, "from"),     # once a 500 (date underflow)
    ("from=9999-12-25&to=9999-12-31&group_by=agency", 422, "to"),
])
def test_bad_report_parameters_get_a_clear_4xx(api, query, status, field):
    response = api.call("GET", f"/reports/dossiers?{query}", token=api.token("admin"))
    assert response.status_code == status
    assert field in response.json["error"]["fields"]


def test_officers_only_see_their_own_agency_and_citizens_none(api):
    query = "from=2026-01-01&to=2026-01-31&group_by=agency"
    officer = api.token("officer", "000.00.13.H50")
    assert api.call("GET", f"/reports/dossiers?{query}&agency_id=000.00.15.H50", token=officer).status_code == 403
    assert api.call("GET", f"/reports/dossiers?{query}", token=officer).status_code == 200
    assert api.call("GET", f"/reports/dossiers?{query}", token=api.token("citizen")).status_code == 403
    bad_cell = api.call("GET", f"/reports/dossiers/items?{query}&cell=resolved.maybe", token=officer)
    assert bad_cell.status_code == 422 and "cell" in bad_cell.json["error"]["fields"]


def test_csv_export_has_the_form_06_layout(api, world):
    token = api.token("admin")
    response = report(api, token, **{"from": TODAY - timedelta(days=60), "to": TODAY, "group_by": "agency", "format": "csv"})
    assert response.status_code == 200 and response.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.body.decode("utf-8-sig"))))
    assert rows[0][0].startswith("KẾT QUẢ GIẢI QUYẾT") and "Kỳ báo cáo" in rows[1][0]
    assert rows[3][:3] == ["STT", "Cơ quan, đơn vị", "Số hồ sơ nhận giải quyết - Tổng số"]
    assert rows[-1][1] == "Tổng cộng" and rows[-1][2] == "5"


def test_xlsx_export_opens_with_merged_headers_and_matching_cells(api, world):
    from openpyxl import load_workbook
    token = api.token("admin")
    params = {"from": TODAY - timedelta(days=60), "to": TODAY, "group_by": "agency"}
    data = report(api, token, **params).json
    response = api.client.http.get(
        "/reports/dossiers?" + "&".join(f"{k}={v}" for k, v in {**params, "format": "xlsx"}.items()),
        headers={"Authorization": f"Bearer {token}", "Accept": "*/*"})
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.body)).active
    merged = {str(r) for r in sheet.merged_cells.ranges}
    assert "C5:G5" in merged and "H5:K5" in merged and "A5:A6" in merged
    assert sheet["C5"].value == "Số hồ sơ nhận giải quyết" and sheet["D6"].value == "Kỳ trước chuyển qua"
    total_row = 6 + len(data["rows"]) + 1
    assert sheet.cell(row=total_row, column=2).value == "Tổng cộng"
    assert sheet.cell(row=total_row, column=3).value == data["total"]["received"]["total"]
    assert sheet.cell(row=total_row, column=14).value == data["total"]["in_progress"]["overdue"]
    for i, row in enumerate(data["rows"], start=7):
        assert sheet.cell(row=i, column=2).value == row["name"]
        assert sheet.cell(row=i, column=4).value == row["received"]["carried_over"]


def test_merged_agencies_roll_up_into_their_successor_as_of_a_date(api, world, monkeypatch, tmp_path):
    judicial, birth = world["judicial"]["agency_id"], world["birth"]["agency_id"]
    table = tmp_path / "succession.json"
    table.write_text(json.dumps({"moves": {birth: {"successor": judicial, "effective": "2025-07-01"}}}))
    monkeypatch.setenv("MOTCUA_AGENCY_SUCCESSION", str(table))
    report_service._succession_file.cache_clear()
    try:
        start = TODAY - timedelta(days=60)
        merged = report(api, api.token("admin"), **{"from": start, "to": TODAY, "group_by": "agency",
                                                     "as_of": TODAY}).json
        as_was = report(api, api.token("admin"), **{"from": start, "to": TODAY, "group_by": "agency"}).json
    finally:
        report_service._succession_file.cache_clear()
    assert birth in {r["agency_id"] for r in as_was["rows"]}
    rolled = {r["agency_id"]: r for r in merged["rows"]}
    assert birth not in rolled
    assert rolled[judicial]["received"]["total"] == as_was["total"]["received"]["total"]


def test_report_responses_match_the_contract(api, world):
    from tests.api.test_contract import check
    token = api.token("admin")
    start = TODAY - timedelta(days=30)
    check("/reports/dossiers", "get", api.call("GET", f"/reports/dossiers?from={start}&to={TODAY}&group_by=field", token=token))
    check("/reports/dossiers", "get", api.call("GET", f"/reports/dossiers?from={TODAY}&to={start}&group_by=field", token=token))
    check("/reports/dossiers/items", "get", api.call(
        "GET", f"/reports/dossiers/items?from={start}&to={TODAY}&group_by=field&cell=received.total", token=token))


def test_reports_verify_cli_says_ok_when_counters_match_and_names_cells_when_not(world, capsys, monkeypatch):
    from motcua.cli import main
    monkeypatch.setenv("MOTCUA_AWS_ENDPOINT", "")
    args = ["reports", "verify", "--from", str(TODAY - timedelta(days=60)), "--to", str(TODAY)]
    assert main(args) == 0
    assert "OK" in capsys.readouterr().out
    # Tamper with one counter behind the projection's back: verify must notice.
    from chalicelib.reports.store.counters import CounterItem
    item = next(i for i in CounterItem.scan() if i.period == f"D#{TODAY}")
    item.update(actions=[CounterItem.raw_recv_online.add(1)])   # adjusted figures read raw + corrections
    assert main(args) == 1
    out = capsys.readouterr().out
    assert "MISMATCH" in out and "received.online" in out


def test_verify_over_every_group_by_reads_counters_and_dossiers_once(world):
    start, end = TODAY - timedelta(days=60), TODAY
    with metering.aws_calls() as one:
        assert report_service.verify(start, end, "agency") == []
    with metering.aws_calls() as every:
        assert report_service.verify_each(start, end, ["agency", "field", "procedure"]) == {
            "agency": [], "field": [], "procedure": []}
    assert dict(every) == dict(one) and one["dynamodb.Query"] > 0, (one, every)


def test_every_counter_item_holds_every_raw_column_whatever_the_volume(world, aws_env):
    """A report reads the same bytes per counter item at 2,000 dossiers as at 50,000."""
    from chalicelib.runtime import resources
    from chalicelib.runtime.settings import settings
    from chalicelib.reports.store.counters import RAW_SHAPE
    client = aws_env.client("dynamodb")
    items = client.scan(TableName=settings().name(resources.REPORTS.name))["Items"]
    counters = [item for item in items if item["pk"]["S"].startswith("C#")]
    assert counters and all(set(RAW_SHAPE) <= set(item) for item in counters)
    assert not any(name.startswith("cor_") for item in counters for name in item)   # nothing was corrected here
