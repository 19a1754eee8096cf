"""A randomized workload through the real API: 2,000 dossiers over a quarter (Tết included),
every path, corrections, and duplicated and reordered event deliveries. The report must
equal `reports verify`, add up, drill down to exactly its numbers, and export the same
numbers to CSV and XLSX, cell by cell."""
from __future__ import annotations

import csv
import io
import os
import random
from collections import defaultdict
from datetime import date, datetime, time, timedelta
from typing import Any

import pytest
import time_machine

from chalicelib.reports.use_cases import reports as report_service
from chalicelib.kernel.working_days import TZ, default_calendar, iso
from chalicelib.runtime.settings import settings
from chalicelib.trust.rules.identity import Identity
from chalicelib.reports.rules.form06 import CELLS, GROUPS, cell_value, check_identities
from handlers import report_projection
from motcua.dispatcher import LambdaContext
from tests.api.conftest import put_upload
from tests.api.test_consumer import sqs_record
from tests.api.test_events import tap_events

# `make test` runs the 2,000 dossiers; `make soak` runs 2,000 more on another seed
# (MOTCUA_WORKLOAD_DOSSIERS and MOTCUA_WORKLOAD_SEED set them). The cost is linear on in-process
# moto (motcua.moto_scale), most of it moto's and botocore's fixed cost per AWS call.
DOSSIERS = int(os.environ.get("MOTCUA_WORKLOAD_DOSSIERS", "2000"))
SEED = int(os.environ.get("MOTCUA_WORKLOAD_SEED", "2026"))
FIRST, LAST = date(2026, 1, 5), date(2026, 3, 27)
ADMIN = Identity("admin-w", "admin")


class Workload:
    def __init__(self, api: Any, session: Any, seed: int = SEED) -> None:
        self.api, self.session, self.rng = api, session, random.Random(seed)
        self.tokens: dict[str, str] = {}
        self.plans: dict[date, list[tuple[str, str]]] = defaultdict(list)
        self.submitted: dict[str, dict[str, Any]] = {}   # code -> channel, agency, applicant, as submitted
        self.awaiting_supplement: set[str] = set()
        self.calls = 0

    def token(self, role: str, agency: str | None = None, sub: str | None = None) -> str:
        key = f"{role}:{agency}:{sub}"
        if key not in self.tokens:
            from chalicelib.trust.rules.identity import mint_local_token
            self.tokens[key] = mint_local_token(settings().local_jwt_secret, sub or f"{role}-{agency}", role, agency,
                                                ttl_seconds=400 * 86400)   # the clock travels for months
        return self.tokens[key]

    def call(self, method: str, path: str, token: str, body: Any = None, headers: dict | None = None) -> Any:
        self.calls += 1
        response = self.api.call(method, path, token=token, body=body, headers=headers)
        assert response.status_code < 500, (path, response.json)
        return response

    def officer(self, code: str) -> str:
        return self.token("officer", code.rsplit("-", 2)[0], sub="officer-w")

    def plan(self, day: date, code: str, step: str) -> None:
        self.plans[day].append((code, step))

    def later(self, day: date, lo: int, hi: int) -> date:
        return day + timedelta(days=self.rng.randint(lo, hi))

    def submit(self, day: date, procedure: dict[str, Any], n: int) -> None:
        body = {"procedure_code": procedure["procedure_code"], "summary": "Hồ sơ tải thử",
                "applicant": {"full_name": f"Người nộp {n}", "id_number": f"{n:012d}", "phone": f"09{n:08d}"}}
        channel = self.rng.choices(["online", "direct", "postal"], weights=[6, 3, 1])[0]
        if channel == "online":
            response = self.call("POST", "/dossiers", self.token("citizen", sub=f"citizen-{n % 50}"), body,
                                 {"Idempotency-Key": f"workload-{n:08d}"})
        else:
            response = self.call("POST", "/desk/dossiers", self.token("officer", procedure["agency_id"], sub="desk-w"),
                                 {**body, "channel": channel, "consent": True}, {"Idempotency-Key": f"workload-{n:08d}"})
        assert response.status_code == 201, response.json
        code = response.json["dossier_code"]
        self.submitted[code] = {"channel": channel, "agency_id": procedure["agency_id"], "n": n}
        fate = self.rng.random() if n >= 6 else (0.01, 0.07, 0.11, 0.5, 0.5, 0.5)[n]  # every path at least once
        if fate < 0.05:
            self.plan(self.later(day, 0, 2), code, "refuse")
            return
        self.plan(self.later(day, 0, 2), code, "accept")
        if fate < 0.10:
            self.plan(self.later(day, 3, 20), code, "withdraw")
        elif fate < 0.13:
            self.plan(self.later(day, 3, 20), code, "stop")
        else:
            if self.rng.random() < 0.15:
                start = self.later(day, 3, 6)
                self.plan(start, code, "request_supplement")
                self.plan(start + timedelta(days=self.rng.randint(1, 6)), code, "supplement")
            elif self.rng.random() < 0.1:
                self.plan(self.later(day, 3, 6), code, "extend")
            finish = self.later(day, 2, 2 + procedure["processing_days"] * 2)
            self.plan(finish, code, "issue_result")
            self.plan(finish + timedelta(days=self.rng.randint(0, 4)), code, "return_result")

    def step(self, day: date, code: str, step: str) -> None:
        """One planned action through the API. The dossier is read back only where the action
        depends on what the API decided (the due date an extension moves)."""
        officer, dossier = self.officer(code), self.submitted[code]
        if step in ("accept", "refuse"):
            body = {"reason": "Không thuộc thẩm quyền"} if step == "refuse" else None
            self.call("POST", f"/dossiers/{code}/{step}", officer, body)
            return
        if step == "supplement":
            if code not in self.awaiting_supplement:
                return
            upload = put_upload(self.session, "desk-w" if dossier["channel"] != "online" else self._owner_sub(dossier))
            self.call("POST", f"/dossiers/{code}/supplements", self._owner_token(dossier),
                      {"attachments": [{"upload_id": upload, "name": "bo-sung.pdf"}]})
            return
        body: dict[str, Any] = {"action": step}
        if step in ("withdraw", "stop", "request_supplement", "extend"):
            body["reason"] = "Lý do thử nghiệm"
        if step == "request_supplement":
            body["documents"] = ["Bản sao giấy tờ tùy thân"]
        if step == "extend":
            due_at = self.call("GET", f"/dossiers/{code}", officer).json.get("due_at")
            if not due_at:
                return
            due = datetime.fromisoformat(due_at).date()
            body["new_due_date"] = default_calendar().add_working_days(due, 3).isoformat()
        if step == "issue_result":
            upload = put_upload(self.session, "officer-w")
            body.update(documents=[{"upload_id": upload, "name": "ket-qua.pdf"}], decision="approved")
        if step == "return_result":
            body["method"] = self.rng.choice(["desk", "post", "online"])
        token = officer if step != "withdraw" else self._owner_token(dossier)
        response = self.call("POST", f"/dossiers/{code}/actions", token, body)
        if response.status_code == 200 and step == "request_supplement":
            self.awaiting_supplement.add(code)
        if response.status_code == 200 and step == "return_result" and self.rng.random() < 0.4 and dossier["channel"] == "online":
            self.call("POST", f"/dossiers/{code}/rating", self._owner_token(dossier), {
                "criteria": {str(i): self.rng.randint(0, 2) for i in range(1, 10)}, "overall": self.rng.randint(1, 5)})

    @staticmethod
    def _owner_sub(dossier: dict[str, Any]) -> str:
        return f"citizen-{dossier['n'] % 50}"

    def _owner_token(self, dossier: dict[str, Any]) -> str:
        if dossier["channel"] != "online":
            return self.token("officer", dossier["agency_id"], sub="desk-w")
        return self.token("citizen", sub=self._owner_sub(dossier))


def working_moment(day: date, minutes: int) -> datetime:
    return datetime.combine(day, time(8, 0), TZ) + timedelta(seconds=minutes * 7)


@pytest.fixture
def workload(api, aws_env, dispatcher):
    procedures = [p for p in api.call("GET", "/procedures").json["items"] if not p.get("pay_before_accept")]
    work = Workload(api, aws_env)
    work.events = []   # every event the outbox published, taken off the tap queue day by day
    n = 0
    per_day = DOSSIERS // len([d for d in range((LAST - FIRST).days + 1) if (FIRST + timedelta(days=d)).weekday() < 5]) + 1
    with time_machine.travel(working_moment(FIRST, 0), tick=False) as traveller:
        day = FIRST
        while day <= LAST:
            if day.weekday() < 5:
                ticks = 0
                for code, step in sorted(work.plans.pop(day, [])):
                    ticks += 1
                    traveller.move_to(working_moment(day, ticks))
                    work.step(day, code, step)
                for _ in range(per_day):
                    if n >= DOSSIERS:
                        break
                    ticks += 1
                    traveller.move_to(working_moment(day, ticks))
                    work.submit(day, work.rng.choice(procedures), n)
                    n += 1
                work.events += publish_and_collect(aws_env, dispatcher)
            else:  # nothing happens on weekends: move today's plans to Monday
                work.plans[day + timedelta(days=7 - day.weekday())] += work.plans.pop(day, [])
            day += timedelta(days=1)
        traveller.move_to(working_moment(LAST, 5000))
        work.corrections = correct_some_late_results(work)
        work.events += publish_and_collect(aws_env, dispatcher)
    assert n == DOSSIERS
    return work


def correct_some_late_results(work: Workload) -> int:
    """Officers ask to correct a few late results to the due day; an admin approves."""
    corrected = 0
    admin = work.token("admin", sub="admin-approver")
    agencies = sorted({p["agency_id"] for p in work.call("GET", "/procedures", admin).json["items"]})
    for agency in agencies:
        page = work.call("GET", f"/reports/dossiers/items?from={FIRST}&to={LAST}&group_by=agency&cell=resolved.late"
                                f"&agency_id={agency}&limit=3", admin).json
        for item in page["items"][:2]:
            code = item["dossier_code"]
            dossier = work.call("GET", f"/dossiers/{code}", admin).json
            officer = work.token("officer", agency, sub="officer-corrector")
            evidence = put_upload(work.session, "officer-corrector")
            due = datetime.fromisoformat(dossier["due_at"]).replace(hour=15)
            asked = work.call("POST", f"/dossiers/{code}/corrections", officer, {
                "field": "finished_at", "value": iso(due), "reason": "Bấm trả kết quả muộn so với ngày ký",
                "evidence_upload_id": evidence})
            assert asked.status_code == 201, asked.json
            assert work.call("POST", f"/dossiers/{code}/corrections/{asked.json['id']}/approve", admin).status_code == 200
            corrected += 1
    return corrected


def publish_and_collect(session: Any, dispatcher: Any) -> list[dict[str, Any]]:
    """Run the outbox publisher until the stream is empty and take every event off the tap
    queue (daily, so no queue the test reads grows with the whole workload)."""
    stream = dispatcher.pumps[0]
    while stream.step():
        pass
    return [envelope["detail"] for envelope in tap_events(session)]


def deliver_duplicated_and_shuffled(events: list[dict[str, Any]], seed: int = SEED + 7) -> int:
    rng = random.Random(seed)
    deliveries = [e for e in events for _ in range(rng.randint(1, 2))]
    rng.shuffle(deliveries)
    for start in range(0, len(deliveries), 10):
        batch = {"Records": [sqs_record(e, f"w-{start + i}") for i, e in enumerate(deliveries[start:start + 10])]}
        assert report_projection.handler(batch, LambdaContext("report-projection")) == {"batchItemFailures": []}
    return len(events)


PERIODS = [(FIRST, LAST), (date(2026, 1, 20), date(2026, 2, 10)), (date(2026, 1, 1), date(2026, 1, 31)),
           (date(2026, 2, 1), date(2026, 2, 28)), (date(2026, 3, 16), date(2026, 3, 16))]

# Form 06 columns as the exports head them ("group - column"), for reading exports back by header.
EXPORT_HEADERS = {
    "received.total": "Số hồ sơ nhận giải quyết - Tổng số",
    "received.carried_over": "Số hồ sơ nhận giải quyết - Kỳ trước chuyển qua",
    "received.online": "Số hồ sơ nhận giải quyết - Trực tuyến",
    "received.direct": "Số hồ sơ nhận giải quyết - Trực tiếp",
    "received.postal": "Số hồ sơ nhận giải quyết - Bưu chính",
    "resolved.total": "Số hồ sơ đã giải quyết - Tổng số",
    "resolved.early": "Số hồ sơ đã giải quyết - Trước hạn",
    "resolved.on_time": "Số hồ sơ đã giải quyết - Đúng hạn",
    "resolved.late": "Số hồ sơ đã giải quyết - Quá hạn",
    "in_progress.total": "Số hồ sơ đang giải quyết - Tổng số",
    "in_progress.within_deadline": "Số hồ sơ đang giải quyết - Trong hạn",
    "in_progress.overdue": "Số hồ sơ đang giải quyết - Quá hạn",
    "supplement_requested": "Khác - Chờ bổ sung",
    "withdrawn": "Khác - Rút hồ sơ",
    "refused": "Khác - Từ chối tiếp nhận",
    "stopped": "Khác - Dừng xử lý",
}


def drilled(api: Any, token: str, query: str, cell: str) -> int:
    """How many dossiers the drill-down lists behind one cell, over all its pages."""
    listed, cursor = 0, None
    while True:
        suffix = f"&cursor={cursor}" if cursor else ""
        page = api.call("GET", f"/reports/dossiers/items?{query}&cell={cell}&limit=500{suffix}", token=token).json
        listed += len(page["items"])
        cursor = page["next_cursor"]
        if not cursor:
            return listed


def exported_tables(api: Any, token: str, query: str) -> list[list[list[Any]]]:
    """The body rows (groups, then the total) of the CSV and the XLSX export, each cell keyed
    by its column header, with the group name first."""
    from openpyxl import load_workbook

    csv_rows = list(csv.reader(io.StringIO(api.call("GET", f"/reports/dossiers?{query}&format=csv",
                                                    token=token).body.decode("utf-8-sig"))))
    csv_table = [dict(zip(csv_rows[3], row, strict=False)) for row in csv_rows[4:]]
    response = api.client.http.get(f"/reports/dossiers?{query}&format=xlsx",
                                   headers={"Authorization": f"Bearer {token}", "Accept": "*/*"})
    sheet = load_workbook(io.BytesIO(response.body)).active
    headers, group = [], ""
    for top, sub in zip(sheet[5], sheet[6], strict=False):   # a merged group header holds its text in its first cell
        group = top.value if top.value and sub.value else group
        headers.append(f"{group} - {sub.value}" if sub.value else top.value)
    xlsx_table = [dict(zip(headers, (c.value for c in row), strict=False)) for row in sheet.iter_rows(min_row=7)]
    return [csv_table, xlsx_table]


def test_randomized_workload_report_equals_verify_adds_up_and_drills_down(api, workload):
    published = deliver_duplicated_and_shuffled(workload.events)
    assert len({e["id"] for e in workload.events}) == published   # each published event taken once
    assert published >= DOSSIERS * 2   # submitted plus at least one decision for nearly every dossier
    assert workload.corrections >= 2

    reports: dict[tuple[date, date, str], dict[str, Any]] = {}
    for start, end in PERIODS:
        assert report_service.verify_each(start, end, GROUPS) == {g: [] for g in GROUPS}, (start, end)
        for group_by in GROUPS:
            report = reports[start, end, group_by] = report_service.dossier_report(
                ADMIN, start=start, end=end, group_by=group_by)
            for row in report["rows"] + [report["total"]]:
                assert check_identities(row) == [], (start, end, group_by, row)

    whole = reports[FIRST, LAST, "agency"]
    total = whole["total"]
    assert total["received"]["total"] == DOSSIERS
    assert min(total["resolved"]["early"], total["resolved"]["on_time"], total["resolved"]["late"],
               total["withdrawn"], total["refused"], total["stopped"], total["in_progress"]["total"]) > 0
    assert whole["corrections_applied"] == workload.corrections
    assert whole["raw"]["total"]["resolved"]["late"] - total["resolved"]["late"] == workload.corrections

    # Every cell of every agency row drills down to exactly its number (each agency's dossiers
    # read once per cell), so the total's cells do too.
    admin, query = api.token("admin"), f"from={FIRST}&to={LAST}&group_by=agency"
    for cell in CELLS:
        rows = [drilled(api, admin, f"{query}&agency_id={row['agency_id']}", cell) for row in whole["rows"]]
        assert rows == [cell_value(row, cell) for row in whole["rows"]], cell
        assert sum(rows) == cell_value(total, cell), cell

    # The exports hold the same numbers, cell by cell, for each report of the whole quarter.
    for group_by in GROUPS:
        report = reports[FIRST, LAST, group_by]
        for table in exported_tables(api, admin, f"from={FIRST}&to={LAST}&group_by={group_by}"):
            assert len(table) == len(report["rows"]) + 1, group_by
            for row, exported in zip([*report["rows"], report["total"]], table, strict=False):
                assert {c: int(exported[h]) for c, h in EXPORT_HEADERS.items()} == \
                       {c: cell_value(row, c) for c in EXPORT_HEADERS}, (group_by, row.get("name"))
