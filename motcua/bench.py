"""`make bench`: MotCua's speed record.

Every figure is a count or a ratio measured in this run, printed as a table of figure,
budget and pass/fail, and written into README.md between the bench markers. Timings are
never asserted in tests; budgets are held here.
"""
from __future__ import annotations

import os
import platform
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from contextlib import contextmanager
from typing import Any, Callable, Iterator

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
BEGIN, END = "<!-- bench:begin -->", "<!-- bench:end -->"


@dataclass
class Row:
    figure: str
    value: float
    budget: float
    unit: str = ""
    higher_is_better: bool = False

    @property
    def ok(self) -> bool:
        return self.value >= self.budget if self.higher_is_better else self.value <= self.budget

    def cells(self) -> list[str]:
        sign = ">=" if self.higher_is_better else "<="
        fmt = (lambda v: f"{v:,.0f}") if max(self.value, self.budget) >= 100 else (lambda v: f"{v:.2f}".rstrip("0").rstrip("."))
        return [self.figure, f"{fmt(self.value)}{self.unit}", f"{sign} {fmt(self.budget)}{self.unit}",
                "pass" if self.ok else "FAIL"]


def _env() -> None:
    os.environ.update(MOTCUA_STAGE="local", AWS_DEFAULT_REGION="ap-southeast-1",
                      AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench",
                      POWERTOOLS_METRICS_NAMESPACE="MotCuaBench")
    os.environ.pop("MOTCUA_AWS_ENDPOINT", None)


def _median_seconds(code: str, runs: int = 7) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT, env={**os.environ})
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def cold_import() -> list[Row]:
    baseline = _median_seconds("import boto3; boto3.client('dynamodb', region_name='ap-southeast-1')")
    api = _median_seconds("import app")
    return [Row("cold import of the API module / (import boto3 + 1 client)", api / baseline, 1.5, "x")]


def deadline_throughput() -> list[Row]:
    import random
    from datetime import datetime, timedelta

    from chalicelib.calendar import TZ, WorkingCalendar

    calendar = WorkingCalendar()
    rng = random.Random(7)
    base = datetime(2016, 1, 1, tzinfo=TZ)
    inputs = [(base + timedelta(minutes=rng.randrange(0, 20 * 365 * 24 * 60)), rng.randrange(1, 31))
              for _ in range(50_000)]
    due = calendar.due_date
    start = time.perf_counter()
    for accepted, days in inputs:
        due(accepted, days)
    per_second = len(inputs) / (time.perf_counter() - start)
    return [Row("due-date computations per second (one core)", per_second, 100_000, "/s", higher_is_better=True)]


@contextmanager
def local_app() -> Iterator[tuple[Any, Any]]:
    """The API (chalice test client) over in-process moto with the sample catalogue."""
    import boto3
    from moto import mock_aws

    from motcua import metering
    metering.install()

    with mock_aws():
        from chalice.test import Client

        from app import app
        from chalicelib import aws, catalogue_store
        from chalicelib.config import settings
        from motcua.provision import provision
        from motcua.seed import seed_catalogue

        aws.reset()
        catalogue_store.invalidate()
        session = boto3.session.Session()
        provision(session, settings())
        seed_catalogue()
        with Client(app) as client:
            yield client, session


def aws_calls_and_scaling() -> list[Row]:
    with local_app() as (client, session):
        from chalicelib import catalogue_store
        from chalicelib.config import settings
        from chalicelib.identity import mint_local_token
        from motcua import metering

        secret = settings().local_jwt_secret
        procedure = next(iter(catalogue_store.snapshot().procedures.values()))
        citizen = mint_local_token(secret, "bench-citizen", "citizen")
        officer = mint_local_token(secret, "bench-officer", "officer", procedure.agency_id)

        def call(method: str, path: str, token: str, body: str | None = None, key: str | None = None) -> Any:
            headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
            if key:
                headers["Idempotency-Key"] = key
            return client.http.request(method, path, headers=headers, body=body)

        def measure(fn: Callable[[], Any]) -> metering.Calls:
            with metering.aws_calls() as calls:
                fn()
            return calls

        from chalicelib.attachments import bucket, object_key
        upload = "ab" * 16
        session.client("s3").put_object(Bucket=bucket(), Key=object_key("bench-citizen", upload), Body=b"%PDF",
                                        ContentType="application/pdf")
        body = ('{"procedure_code": "%s", "applicant": {"full_name": "Lê Bench", "id_number": "001099000001",'
                ' "phone": "0900000001"}, "attachments": [{"upload_id": "%s", "name": "a.pdf"}]}'
                % (procedure.procedure_code, upload))
        call("GET", "/procedures", citizen)  # warm the catalogue cache, as a warm Lambda has it
        submit = measure(lambda: call("POST", "/dossiers", citizen, body, key="bench-key-0001"))
        code = __import__("json").loads(call("GET", "/dossiers?limit=1", citizen).body)["items"][0]["dossier_code"]
        accept = measure(lambda: call("POST", f"/dossiers/{code}/accept", officer))
        read = measure(lambda: call("GET", f"/dossiers/{code}", citizen))
        listing = measure(lambda: call("GET", "/dossiers?limit=20", officer))
        rows = [
            Row("submit: DynamoDB calls", submit.service("dynamodb"), 2),
            Row("submit: S3 HEAD per attachment (1 attachment)", submit["s3.HeadObject"], 1),
            Row("accept: DynamoDB calls", accept.service("dynamodb"), 2),
            Row("read by code: DynamoDB calls", read.service("dynamodb"), 1),
            Row("list page: DynamoDB calls (Query only, no Scan)",
                listing.service("dynamodb") + 100 * listing["dynamodb.Scan"], 1),
        ]
        rows += _list_scaling(procedure)
    return rows


def _list_scaling(procedure: Any) -> list[Row]:
    """ScannedCount of one list page at 1,000 and at 20,000 dossiers in the agency."""
    from chalicelib import store
    from chalicelib.dossiers import new_dossier
    from chalicelib.models import DossierItem

    def fill(start: int, stop: int) -> None:
        with DossierItem.batch_write() as batch:
            for i in range(start, stop):
                dossier = new_dossier(
                    code=f"{procedure.agency_id}-260101-{i:05d}", procedure=procedure, owner_sub=f"bench-{i % 500}",
                    channel="online", submitted_at=f"2026-01-01T08:{(i // 1000) % 60:02d}:{i % 60:02d}+07:00",
                    submission={"applicant": {"full_name": "x", "id_number": "0" * 12, "phone": "0900000000"},
                                "summary": "", "form": {}, "attachments": []})
                batch.save(store._dossier_item(dossier))

    def scanned() -> tuple[int, float]:
        started = time.perf_counter()
        page = store.list_dossiers(scope="agency", scope_id=procedure.agency_id, status=None, limit=20, cursor=None)
        return page.scanned_count, time.perf_counter() - started

    fill(0, 1_000)
    small, _ = scanned()
    fill(1_000, 20_000)
    large, _ = scanned()
    return [Row("list page items examined at 20,000 / at 1,000 dossiers", large / max(small, 1), 1.0, "x")]


def workflow() -> list[Row]:
    from motcua.bench_workflow import workflow_budgets
    return workflow_budgets()


SUITES: list[Callable[[], list[Row]]] = [aws_calls_and_scaling, workflow, deadline_throughput, cold_import]


def render(rows: list[Row]) -> str:
    header = ["figure", "measured", "budget", "result"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row.cells()) + " |" for row in rows]
    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    return "\n".join(lines) + f"\n\nMeasured on {machine}, {time.strftime('%Y-%m-%d')}, by `make bench`.\n"


def write_readme(table: str) -> None:
    if not README.exists():
        return
    text = README.read_text(encoding="utf-8")
    if BEGIN in text and END in text:
        head, rest = text.split(BEGIN, 1)
        _, tail = rest.split(END, 1)
        README.write_text(f"{head}{BEGIN}\n{table}{END}{tail}", encoding="utf-8")


def main() -> int:
    _env()
    sys.path.insert(0, str(ROOT))
    rows: list[Row] = []
    for suite in SUITES:
        rows += suite()
    table = render(rows)
    print(table)
    write_readme(table)
    return 0 if all(row.ok for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
