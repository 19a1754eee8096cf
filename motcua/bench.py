"""`make bench`: MotCua's speed record.

Every figure is a count or a ratio measured in this run, printed as a table of figure,
budget and pass/fail, and written into docs/benchmarks.md between the bench markers. Timings are
never asserted in tests; budgets are held here.
"""
from __future__ import annotations

import gc
import os
import platform
import statistics
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from collections.abc import Callable, Iterator
from datetime import UTC

from motcua.bench_kit import Row

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "docs" / "benchmarks.md"
BEGIN, END = "<!-- bench:begin -->", "<!-- bench:end -->"


def _env() -> None:
    os.environ.update(MOTCUA_STAGE="local", AWS_DEFAULT_REGION="ap-southeast-1",
                      AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench",
                      POWERTOOLS_METRICS_NAMESPACE="MotCuaBench", POWERTOOLS_LOG_LEVEL="WARNING")
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

    from chalicelib.kernel.working_days import TZ, WorkingCalendar

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


def aws_calls_and_scaling() -> list[Row]:
    from moto import mock_aws

    from motcua import metering
    metering.install()

    with mock_aws():
        from chalice.test import Client

        from app import app
        from chalicelib.catalogue.store import procedures as catalogue_store
        from chalicelib.runtime.settings import settings
        from chalicelib.trust.rules.identity import mint_local_token
        from motcua.provision import fresh_local_stack

        session = fresh_local_stack()
        secret = settings().local_jwt_secret
        procedure = next(iter(catalogue_store.snapshot().procedures.values()))
        citizen = mint_local_token(secret, "bench-citizen", "citizen")
        officer = mint_local_token(secret, "bench-officer", "officer", procedure.agency_id)

        with Client(app, stage_name="local") as client:
            def call(method: str, path: str, token: str | None, body: str | None = None, key: str | None = None) -> Any:
                headers = {"Content-Type": "application/json", **({"Authorization": f"Bearer {token}"} if token else {})}
                if key:
                    headers["Idempotency-Key"] = key
                return client.http.request(method, path, headers=headers, body=body)

            def measure(fn: Callable[[], Any]) -> metering.Calls:
                with metering.aws_calls() as calls:
                    fn()
                return calls

            from chalicelib.dossiers.store.attachments import bucket, object_key
            upload = "ab" * 16
            session.client("s3").put_object(Bucket=bucket(), Key=object_key("bench-citizen", upload), Body=b"%PDF-1.4 bench",
                                            ContentType="application/pdf")
            body = ('{"procedure_code": "%s", "applicant": {"full_name": "Lê Bench", "id_number": "001099000001",'
                    ' "phone": "0900000001"}, "attachments": [{"upload_id": "%s", "name": "a.pdf"}]}'
                    % (procedure.procedure_code, upload))
            call("GET", "/procedures", citizen)  # warm the catalogue cache, as a warm Lambda has it
            submit = measure(lambda: call("POST", "/dossiers", citizen, body, key="bench-key-0001"))
            code = __import__("json").loads(call("GET", "/dossiers?limit=1", citizen).body)["items"][0]["dossier_code"]
            accept = measure(lambda: call("POST", f"/dossiers/{code}/accept", officer))
            read = measure(lambda: call("GET", f"/dossiers/{code}", citizen))
            audited_read = measure(lambda: call("GET", f"/dossiers/{code}", officer))
            listing = measure(lambda: call("GET", "/dossiers?limit=20", officer))
            download = measure(lambda: call("GET", f"/dossiers/{code}/attachments/{upload}", citizen))
            track = measure(lambda: call("GET", f"/track/{code}?phone_last4=0001", None))
            rows = [
                Row("submit: DynamoDB calls", submit.service("dynamodb"), 2),
                Row("submit: S3 ranged GET per attachment (1 attachment)", submit["s3.GetObject"], 1),
                Row("accept: DynamoDB calls", accept.service("dynamodb"), 2),
                # The dossier's items (one Query: its history is kept apart, issue 18) and its sync
                # ledger (one GetItem); one BatchGetItem read both while the history was inside.
                Row("read by code: DynamoDB calls (Query + ledger GetItem)", read.service("dynamodb"), 2),
                Row("attachment URL: DynamoDB calls (signing calls nothing)", download.service("dynamodb"), 1),
                Row("public tracking: DynamoDB calls (IP counter + one BatchGetItem)", track.service("dynamodb"), 2),
                Row("officer read by code, audited: DynamoDB calls", audited_read.service("dynamodb"), 3),
                Row("list page: DynamoDB calls (Query only, no Scan)",
                    listing.service("dynamodb") + 100 * listing["dynamodb.Scan"], 1),
            ]
            rows += _list_scaling(procedure)
    return rows


def submission_rush(rush: int = 40, workers: int = 20) -> list[Row]:
    """DynamoDB calls per submission when ``rush`` citizens submit to one agency at once,
    ``workers`` at a time, against the same count for one submission alone. Calls are counted,
    not timed, so the row is deterministic: each submission takes its daily number with one
    atomic ADD and writes once, contended or not (issue 18)."""
    import json
    from concurrent.futures import ThreadPoolExecutor

    from motcua import metering, moto_atomic
    from motcua.bench_kit import local_app
    metering.install()
    moto_atomic.install()

    with local_app() as (client, _):
        from chalicelib.catalogue.store import procedures as catalogue_store
        from chalicelib.runtime.settings import settings
        from chalicelib.trust.rules.identity import mint_local_token

        procedure = next(iter(catalogue_store.snapshot().procedures.values()))
        body = json.dumps({"procedure_code": procedure.procedure_code,
                           "applicant": {"full_name": "Lê Bench", "id_number": "001099000001", "phone": "0900000001"}})

        def submit(n: int) -> int:
            token = mint_local_token(settings().local_jwt_secret, f"bench-rush-{n}", "citizen")
            headers = {"Content-Type": "application/json", "Authorization": f"Bearer {token}",
                       "Idempotency-Key": f"bench-rush-{n:04d}"}
            return client.http.request("POST", "/dossiers", headers=headers, body=body).status_code

        client.http.request("GET", "/procedures")   # warm the catalogue cache, as a warm Lambda has it
        with metering.aws_calls() as alone:
            statuses = [submit(0)]
        environ = os.environ   # chalice's test client swaps os.environ per request: threads may leave a copy
        try:
            with metering.aws_calls() as rushed, ThreadPoolExecutor(workers) as pool:
                statuses += list(pool.map(submit, range(1, rush + 1)))
        finally:
            os.environ = environ  # noqa: B003 (the object itself back, as chalice's client restores it)
    failures = sum(status != 201 for status in statuses)
    uncontended = alone.service("dynamodb")
    return [
        Row(f"submission rush at one agency ({rush} at once): DynamoDB calls per submission",
            rushed.service("dynamodb") / rush, uncontended + 1),
        Row(f"submission rush at one agency ({rush} at once): failed submissions", failures, 0),
    ]


def _list_scaling(procedure: Any) -> list[Row]:
    """ScannedCount of one list page at 1,000 and at 20,000 dossiers in the agency."""
    from chalicelib.dossiers.store import dossiers as store
    from chalicelib.dossiers.rules.submission import new_dossier
    from chalicelib.runtime.models import DossierItem

    def fill(start: int, stop: int) -> None:
        with DossierItem.batch_write() as batch:
            for i in range(start, stop):
                dossier = new_dossier(
                    code=f"{procedure.agency_id}-260101-{i:05d}", procedure=procedure, owner_sub=f"bench-{i % 500}",
                    channel="online", submitted_at=f"2026-01-01T08:{(i // 1000) % 60:02d}:{i % 60:02d}+07:00",
                    submission={"applicant": {"full_name": "x", "id_number": "0" * 12, "phone": "0900000000"},
                                "summary": "", "form": {}, "attachments": []})
                batch.save(store.to_item(dossier))

    def scanned() -> tuple[int, float]:
        started = time.perf_counter()
        page = store.list_dossiers(scope="agency", scope_id=procedure.agency_id, status=None, limit=20, cursor=None)
        return page.scanned_count, time.perf_counter() - started

    fill(0, 1_000)
    small, _ = scanned()
    fill(1_000, 20_000)
    large, _ = scanned()
    return [Row("list page items examined at 20,000 / at 1,000 dossiers", large / max(small, 1), 1.0, "x")]


def report_scaling(rounds: int = 3) -> list[Row]:
    """One month's form-06 report for all agencies at 2,000 and at 50,000 dossiers.

    The dossiers' contributions are aggregated in memory and written as the counter items the
    projection would have produced (projecting 50,000 dossiers one by one through moto would
    take minutes and measure moto, not the report). Both datasets populate exactly the same
    counter items, so only the number of dossiers differs; the larger one fills more of each
    item's cells (about 11 numbers on average against 5.5, of at most 13: uncorrected
    dossiers are stored once, reports.STORED_VIEWS), and every layer pays per attribute
    (moto's response, botocore's parser, our parsing).

    It runs on moto with ``motcua.moto_scale`` (through ``moto_atomic``), installed here
    rather than by whichever suite ran before, so the figure is the same run alone or in the
    full bench: a Query reads its partition, as in DynamoDB, and responses are not walked
    member by member per attribute."""
    return _scaling("report, one month, all agencies", _write_synthetic_counters, _time_report, rounds)


MONTH = (2026, 2)


def _scaling(label: str, write: Callable[[int], None], read: Callable[[], tuple[int, float]],
             rounds: int) -> list[Row]:
    """Items read and wall time of ``read`` at 2,000 and at 50,000 dossiers written by ``write``,
    each size in a fresh moto holding the provisioned stage and the sample catalogue; the
    wall-time figure is the median of per-round ratios (one slow stretch moves one round)."""
    import boto3
    from moto import mock_aws

    from motcua import moto_atomic
    moto_atomic.install()

    items: dict[int, int] = {}
    ratios = []
    for _ in range(rounds):
        seconds = {}
        for size in (2_000, 50_000):
            with mock_aws():
                from chalicelib.runtime import aws
                from chalicelib.catalogue.store import procedures as catalogue_store
                from chalicelib.runtime.settings import settings
                from motcua.provision import provision
                from motcua.seed import seed_catalogue
                aws.reset()
                catalogue_store.invalidate()
                provision(boto3.session.Session(), settings())
                seed_catalogue()
                write(size)
                items[size], seconds[size] = read()
        ratios.append(seconds[50_000] / seconds[2_000])
    return [
        Row(f"{label}: items read at 50,000 / at 2,000 dossiers", items[50_000] / items[2_000], 1.0, "x"),
        Row(f"{label}: wall time at 50,000 / at 2,000 dossiers", statistics.median(ratios), 1.3, "x"),
    ]


def _synthetic_facts(size: int) -> list[Any]:
    """Dossiers that populate every (procedure, shard, day) of the report month and every
    (procedure, shard) of the month and year before it at both sizes; the rest fall at
    random inside the same periods, so only the number of dossiers differs."""
    import random
    from datetime import date, timedelta

    from chalicelib.catalogue.store import procedures as catalogue_store
    from chalicelib.reports.store import counters as report_store
    from chalicelib.reports.rules.form06 import OUTCOMES, Facts

    rng = random.Random(size)
    procedures = sorted(catalogue_store.snapshot().procedures.values(), key=lambda p: p.procedure_code)
    first = date(*MONTH, 1)
    month_days = [first + timedelta(days=i) for i in range(28)]
    history = [date(MONTH[0], MONTH[1] - 1, 15), date(MONTH[0] - 1, 6, 15)]
    shards = range(report_store.shards())
    combos = [(p, s, d) for p in procedures for s in shards for d in month_days + history]
    assert len(combos) <= size, "the small dataset must still populate every counter item"
    facts, serial = [], 0
    for i in range(size):
        procedure, shard, day = combos[i] if i < len(combos) else rng.choice(combos)
        while True:
            serial += 1
            code = f"{procedure.agency_id}-{day:%y%m%d}-{serial:06d}"
            if report_store.shard_of(code) == shard:
                break
        if day in history:  # overdue from its receiving day; closes (if at all) inside the report month
            due = day - timedelta(days=1)
            closed = rng.choice(month_days) if rng.random() < 0.5 else None
        else:  # due and closing stay inside the month, so no counter item falls outside the set above
            last = month_days[-1]
            due = min(day + timedelta(days=rng.randrange(1, 20)), last - timedelta(days=1))
            closed = min(day + timedelta(days=rng.randrange(0, 40)), last) if rng.random() < 0.7 else None
        facts.append(Facts(code, procedure.agency_id, procedure.procedure_code, procedure.field,
                           rng.choice(("online", "direct", "postal")), day, ((day, due),),
                           rng.choice(OUTCOMES) if closed else None, closed))
    return facts


def _write_synthetic_counters(size: int) -> None:
    from collections import defaultdict

    from chalicelib.reports.store import counters as report_store
    from chalicelib.reports.store.counters import CounterItem
    from chalicelib.reports.rules.form06 import by_period, contributions

    totals: dict[tuple[str, str, str, str], dict[str, int]] = defaultdict(lambda: dict(report_store.RAW_SHAPE))
    fields: dict[str, str] = {}
    for facts in _synthetic_facts(size):
        fields[facts.procedure_code] = facts.field
        shard = report_store.shard_of(facts.code)
        for (period, name), value in by_period(contributions(facts)).items():
            pk = report_store.counter_pk(facts.agency_id, shard, period)
            # uncorrected dossiers: their counts are stored once, as raw (reports.STORED_VIEWS)
            totals[(pk, period, facts.procedure_code, facts.agency_id)][f"raw_{name}"] += value
    with CounterItem.batch_write() as batch:
        for (pk, period, procedure, agency), values in totals.items():
            batch.save(CounterItem(pk=pk, sk=f"{period}#{procedure}", agency_id=agency, procedure_code=procedure,
                                   field=fields[procedure], period=period, **values))


def _time_report() -> tuple[int, float]:
    from datetime import date

    from chalicelib.reports.use_cases import reports as report_service
    from chalicelib.trust.rules.identity import Identity

    admin = Identity("bench-admin", "admin")
    start, end = date(*MONTH, 1), date(*MONTH, 28)
    report_service.dossier_report(admin, start=start, end=end, group_by="agency")  # warm caches
    runs = []
    # As timeit does: collect, then time with the collector off. Otherwise a full collection
    # over everything earlier suites left alive (moto backends, 50,000 synthetic facts)
    # lands in whichever run allocates at the wrong moment and measures the harness.
    gc.collect()
    gc.disable()
    try:
        for _ in range(7):
            started = time.perf_counter()
            report = report_service.dossier_report(admin, start=start, end=end, group_by="agency")
            runs.append(time.perf_counter() - started)
    finally:
        gc.enable()
    return report["items_read"], statistics.median(runs)




def payments_calls_and_sweep() -> list[Row]:
    """DynamoDB calls of create / IPN / replayed IPN, and querydr calls of a sweep over 10,000
    payments of which 100 are pending, against the loopback VNPay simulator."""
    import json
    from urllib.parse import urlencode, urlsplit

    import boto3
    import requests
    from moto import mock_aws

    from motcua import metering, moto_atomic
    from payments.simulator import VNPaySimulator
    from payments.vnpay import params_from_query_string
    metering.install()
    moto_atomic.install()

    sim = VNPaySimulator("MOTCUA01", "BENCHONLYSECRET", port=0, refund_settle_seconds=None).start()
    os.environ.update(VNPAY_HOST=sim.base_url, VNPAY_TMN_CODE="MOTCUA01", VNPAY_HASH_SECRET="BENCHONLYSECRET")
    from chalicelib.runtime.settings import settings as read_settings
    read_settings.cache_clear()   # settings are read once per process: read these
    try:
        with mock_aws():
            from chalice.test import Client

            from app import app
            from chalicelib.runtime import aws
            from chalicelib.catalogue.store import procedures as catalogue_store
            from chalicelib.payments.adapters import providers as payment_config
            from chalicelib.payments.use_cases import payments as payment_service
            from chalicelib.runtime.settings import settings
            from chalicelib.trust.rules.identity import mint_local_token
            from motcua.provision import provision
            from motcua.seed import seed_catalogue

            aws.reset()
            catalogue_store.invalidate()
            payment_config.reset()
            provision(boto3.session.Session(), settings())
            seed_catalogue()
            citizen = mint_local_token(settings().local_jwt_secret, "bench-payer", "citizen")
            headers = {"Authorization": f"Bearer {citizen}", "Content-Type": "application/json"}
            with Client(app, stage_name="local") as client:
                client.http.get("/procedures")   # a warm Lambda has the catalogue cached
                body = json.dumps({"procedure_code": "1.001023", "applicant": {
                    "full_name": "Lê Bench", "id_number": "001099000001", "phone": "0900000001"}})
                code = json.loads(client.http.post("/dossiers", headers={**headers, "Idempotency-Key": "bench-pay-1"},
                                                   body=body).body)["dossier_code"]
                with metering.aws_calls() as create:
                    payment = json.loads(client.http.post(f"/dossiers/{code}/payments", headers=headers).body)
                requests.get(payment["pay_url"], timeout=5)
                query = urlencode(params_from_query_string(urlsplit(sim.pay(payment["payment_id"])).query))
                with metering.aws_calls() as first:
                    client.http.get(f"/payments/vnpay/ipn?{query}")
                with metering.aws_calls() as replay:
                    client.http.get(f"/payments/vnpay/ipn?{query}")
            asked = _sweep_over(10_000, 100, sim, payment_service)
    finally:
        sim.stop()
        for name in ("VNPAY_HOST", "VNPAY_TMN_CODE", "VNPAY_HASH_SECRET"):
            os.environ.pop(name, None)
        read_settings.cache_clear()
    return [
        Row("create payment: DynamoDB calls", create.service("dynamodb"), 3),
        Row("IPN, first confirmation: DynamoDB calls", first.service("dynamodb"), 3),
        Row("IPN, replayed: DynamoDB calls", replay.service("dynamodb"), 1),
        Row("sweep over 10,000 payments, 100 pending: querydr calls", asked, 100),
    ]


def _sweep_over(total: int, pending: int, sim: Any, payment_service: Any) -> int:
    """Store ``total`` payments (``pending`` of them pending for 20 minutes, the rest settled)
    and count the provider calls of one sweep."""
    from datetime import datetime, timedelta

    from chalicelib.kernel.working_days import iso, to_local
    from chalicelib.runtime.models import PaymentItem
    from chalicelib.payments.store.payments import to_item

    created = datetime.now(UTC) - timedelta(minutes=20)
    with PaymentItem.batch_write() as batch:
        for i in range(total):
            batch.save(to_item({
                "payment_id": f"MCBENCH{i:08d}", "provider": "vnpay",
                "dossier_code": f"000.00.13.H50-260101-{i:05d}",
                "status": "pending" if i % (total // pending) == 0 else "succeeded", "version": 1,
                "created_at": iso(to_local(created)), "amount": 200_000,
                "expires_at": iso(to_local(created + timedelta(hours=1)))}))
    before = len(sim.api_requests)
    payment_service.sweep()
    return len(sim.api_requests) - before


OVERHEAD_OPERATIONS = ("submit", "accept", "IPN", "report")


def request_overhead(runs: int = 25, rounds: int = 3) -> list[Row]:
    """Submit, accept, IPN and report in-process against moto, each divided by the same AWS
    calls replayed alone.

    Pass 1 runs the operations through the Chalice app and records every AWS call with its
    parameters; pass 2 starts from the same state in a fresh moto and replays the calls in
    the same order with plain boto3 clients. What remains in the ratio is our own overhead:
    routing, validation, the domain, pynamodb and JSON. Both passes count this process's CPU
    time (moto runs in it too, and nothing waits on a network), so other processes on a
    shared machine do not move the figure; the ratio is the median of ``rounds`` pairs of
    passes. The IPN is VNPay's signed GET for a payment the citizen just created; the report
    is one month's form 06 for the officer's agency."""
    ratios: dict[str, list[float]] = {label: [] for label in OVERHEAD_OPERATIONS}
    for _ in range(rounds):
        timeline = _operations_timeline(runs)
        replayed = _replayed(timeline)
        for label in OVERHEAD_OPERATIONS:
            inside = [elapsed for name, _, elapsed in timeline if name == label]
            ratios[label].append(statistics.median(inside) / statistics.median(replayed[label]))
    return [Row(f"{label}: in-process CPU / same AWS calls replayed (moto)", statistics.median(ratios[label]), 1.5, "x")
            for label in OVERHEAD_OPERATIONS]


Timeline = list[tuple[str | None, list[Any], float]]


def _operations_timeline(runs: int) -> Timeline:
    """Pass 1: each operation through the app, with its AWS calls and its CPU time."""
    import json
    from datetime import datetime
    from urllib.parse import urlencode

    from moto import mock_aws

    from motcua import metering
    from payments.vnpay import format_vnp_date, sign_params
    metering.install()
    timeline: Timeline = []
    with mock_aws():
        client, citizen, officer = _app_client()
        from chalicelib.payments.adapters import providers as payment_config
        payment_config.reset()
        vnpay = payment_config.payment_settings()
        with client:
            def timed(label: str | None, method: str, path: str, token: str | None, **kwargs: Any) -> Any:
                with metering.recording() as calls:
                    started = time.process_time()
                    response = _request(client, method, path, token, **kwargs)
                    timeline.append((label, calls, time.process_time() - started))
                if response.status_code >= 400:
                    raise RuntimeError(f"{method} {path}: {response.status_code} {response.body!r}")
                return json.loads(response.body)

            timed(None, "GET", "/procedures", citizen)  # a warm Lambda has the catalogue cached
            body = json.dumps(_bench_submission())
            today = datetime.now(UTC).date()
            month = f"from={today.replace(day=1)}&to={today}&group_by=procedure"
            for i in range(runs):
                code = timed("submit", "POST", "/dossiers", citizen, body=body, key=f"overhead-key-{i:04d}")["dossier_code"]
                payment = timed(None, "POST", f"/dossiers/{code}/payments", citizen)
                ipn = sign_params({
                    "vnp_Amount": str(payment["amount"] * 100), "vnp_ResponseCode": "00",
                    "vnp_TransactionStatus": "00", "vnp_PayDate": format_vnp_date(datetime.now(UTC)),
                    "vnp_TransactionNo": f"{14000000 + i}", "vnp_TmnCode": vnpay.tmn_code,
                    "vnp_TxnRef": payment["payment_id"]}, vnpay.hash_secret)
                if timed("IPN", "GET", f"/payments/vnpay/ipn?{urlencode(ipn)}", None).get("RspCode") != "00":
                    raise RuntimeError("the bench's IPN was refused")
                timed("accept", "POST", f"/dossiers/{code}/accept", officer)
                timed("report", "GET", f"/reports/dossiers?{month}", officer)
    return timeline


def _replayed(timeline: Timeline) -> dict[str, list[float]]:
    """Pass 2: the same AWS calls, in order, from the same starting state, with plain clients."""
    from botocore.exceptions import ClientError
    from moto import mock_aws

    from motcua.provision import fresh_local_stack
    replayed: dict[str, list[float]] = {label: [] for label in OVERHEAD_OPERATIONS}
    with mock_aws():
        session = fresh_local_stack()
        clients: dict[str, Any] = {}
        for label, calls, _ in timeline:
            for service, _, _ in calls:
                if service not in clients:
                    clients[service] = session.client(service, region_name="ap-southeast-1")
            started = time.process_time()
            for service, operation, params in calls:
                try:
                    clients[service]._make_api_call(operation, params)
                except ClientError:
                    pass  # a conditional failure replays as it happened
            if label:
                replayed[label].append(time.process_time() - started)
    return replayed


def _app_client() -> tuple[Any, str, str]:
    """A Chalice test client over a fresh local stack, with a citizen's and an officer's token."""
    from chalice.test import Client

    from app import app
    from chalicelib.catalogue.store import procedures as catalogue_store
    from chalicelib.runtime.settings import settings
    from chalicelib.trust.rules.identity import mint_local_token
    from motcua.provision import fresh_local_stack

    fresh_local_stack()
    procedure = catalogue_store.snapshot().procedures[_bench_submission()["procedure_code"]]
    secret = settings().local_jwt_secret
    return (Client(app, stage_name="local"), mint_local_token(secret, "bench-citizen", "citizen"),
            mint_local_token(secret, "bench-officer", "officer", procedure.agency_id))


def _bench_submission() -> dict[str, Any]:
    """The sandbox's sample submission, for the sample procedure with fees (so it can be paid)."""
    from motcua.sandbox import PAID_PROCEDURE, sample_submission
    return {**sample_submission(), "procedure_code": PAID_PROCEDURE}


def _request(client: Any, method: str, path: str, token: str | None, body: str | None = None,
             key: str | None = None) -> Any:
    headers = {"Content-Type": "application/json", **({"Authorization": f"Bearer {token}"} if token else {})}
    if key:
        headers["Idempotency-Key"] = key
    return client.http.request(method, path, headers=headers, body=body)


def deployment(runs: int = 15) -> list[Row]:
    """Package sizes and cold starts of the packages exactly as `make synth STAGE=prod` stages them."""
    import tempfile

    from chalicelib.runtime import resources
    from infra.assembly import synthesized
    from motcua import sandbox

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        assembly = synthesized("prod", base / "synth")
        functions = {f.name: f for f in assembly.functions()}
        api = functions[resources.physical_name("prod", "api")]
        rows.append(Row("API package unzipped, without boto3/botocore (MB)",
                        sandbox.unzipped_bytes(api.package) / 1_000_000, 10, " MB"))
        for name, function in functions.items():
            if function.package != api.package:
                # Lambda's own limit (code and layers, unzipped): these packages only have to deploy.
                rows.append(Row(f"{name.removeprefix('motcua-prod-')} package unzipped, without boto3/botocore (MB)",
                                sandbox.unzipped_bytes(function.package) / 1_000_000, 250, " MB"))
        packages = sorted({f.package for f in functions.values()})
        unpacked = {package: sandbox.unpack(package, base / f"package-{i}") for i, package in enumerate(packages)}
        runtime = sandbox.runtime_dir(base / "runtime")
        rows += _cold_starts(functions, unpacked, runtime, base, runs)
    return rows


# The PDF library a bundle exists for, imported by that bundle's reference run: like boto3,
# its import is the platform's cost, not MotCua's (fpdf2 alone imports fontTools and Pillow,
# about 0.5 s of CPU, and no Python PDF library fits in the 1.5x left over boto3).
BUNDLE_LIBRARIES = {"receipts": "fpdf"}
_REFERENCE = "import boto3\nclient = boto3.client('dynamodb')\n{extra}\n\ndef handler(event, context):\n    return None\n"
# Each measure of chalicelib/runtime/cold_start.py undone, for one function it serves: the
# function's cold start without it, minus with it, is the CPU the measure buys.
_POWERTOOLS_BATCH = """
def _powertools_partial_batch(records, handle, on_failure):
    from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
    response = process_partial_response({"Records": records}, lambda record: handle(record.raw_event),
                                        BatchProcessor(EventType.SQS))
    failed = {item["itemIdentifier"] for item in response["batchItemFailures"]}
    return [record for record in records if record["messageId"] in failed]
cold_start.partial_batch = _powertools_partial_batch
"""
WITHOUT = {
    "the shared botocore session": ("api", ("from botocore.session import Session\n"
                                            "cold_start.client_sharing_session = Session\n"
                                            "cold_start.share_session_with_pynamodb = lambda get_session: None")),
    "the partial batch loop (vs Powertools BatchProcessor)": ("report-projection", _POWERTOOLS_BATCH),
}
_WITHOUT_SHIM = "from chalicelib.runtime import cold_start\n{undo}\nfrom {module} import {attribute} as handler\n"


def _cold_starts(functions: dict[str, Any], unpacked: dict[Path, Path], runtime: Path, base: Path,
                 runs: int) -> list[Row]:
    """Each deployed module's import + first invocation in a fresh sandboxed interpreter,
    against ``import boto3`` + one client in the same sandbox (plus, for a bundle, the import
    of the library it exists for). CPU time of that interpreter: waiting on the moto server
    (far slower than DynamoDB) and other processes on a shared machine are not the module's
    cost. Runs are interleaved with the references'. The receipts consumer draws a real
    receipt each time (a payment confirmed through the API package), the connector delivers
    to the ministry-system double; the others get an event for a dossier they have nothing to
    do for. Every measured invocation must succeed."""
    from chalicelib.runtime import resources
    from motcua import sandbox

    references = {"": base / "baseline"}
    references[""].mkdir()
    (references[""] / "bench_reference.py").write_text(_REFERENCE.format(extra=""))
    from motcua.simulators import start_all

    bucket = resources.physical_name("prod", resources.ATTACHMENTS_BUCKET)
    unresolved = {**sandbox.DEPLOY_TIME_VALUES, "MOTCUA_ATTACHMENTS_BUCKET": bucket}
    with sandbox.moto_server() as endpoint, _started(start_all(port=0, stage_accounts=True)) as simulators:
        sandbox.provision_stage(endpoint, "prod", simulators.secrets())
        env = {**sandbox.AWS_ENV, "MOTCUA_AWS_ENDPOINT": endpoint, "POWERTOOLS_METRICS_NAMESPACE": "MotCuaBench",
               **simulators.environment()}

        def deployed(name: str, label: str, event_for: Callable[[int], dict], library: str = "") -> tuple:
            function = functions[resources.physical_name("prod", name)]
            function_env = {k: (v if isinstance(v, str) else unresolved[k]) for k, v in function.environment.items()}
            if library and library not in references:
                references[library] = unpacked[function.package]   # the reference must see the bundle's library
                (references[library] / "bench_reference.py").write_text(_REFERENCE.format(extra=f"import {library}"))
            by_name[name] = (label, function.handler, event_for, unpacked[function.package],
                             {**function_env, **env}, library)
            return by_name[name]

        by_name: dict[str, tuple] = {}

        api = deployed("api", "API, import + POST /dossiers", lambda i: sandbox.submit_event(f"bench-cold-{i:04d}"))
        # warm-up (writes the API's bytecode); leaves outbox records, and a payment to draw receipts of
        paid = sandbox.pay(lambda event: sandbox.invoke(api[3], runtime, api[1], event, api[4], base / "runs"), "bench-paid")
        modules = [api]
        for consumer in resources.STREAM_CONSUMERS:
            batch = sandbox.stream_batch(endpoint, resources.physical_name("prod", consumer.table))
            modules.append(deployed(consumer.name, f"{consumer.name}, import + stream batch", lambda i, b=batch: b))
        for consumer in resources.QUEUE_CONSUMERS:
            arn = f"arn:aws:sqs:ap-southeast-1:000000000000:{resources.physical_name('prod', consumer.queue)}"
            if consumer.queue == resources.RECEIPTS_QUEUE.name:
                detail = sandbox.receipt_event(paid, "bench-event")
            else:
                detail = {"id": "bench-event", "type": "DossierSubmitted", "version": 1, "dossier_code": "bench"}
            modules.append(deployed(consumer.name, f"{consumer.name}, import + SQS batch",
                                    lambda i, a=arn, d=detail: sandbox.sqs_batch(
                                        [sandbox.bus_envelope({**d, "id": f"bench-event-{i}"})], a),
                                    BUNDLE_LIBRARIES.get(consumer.bundle or "", "")))
        tick = {"version": "0", "id": "bench-tick", "detail-type": "Scheduled Event", "source": "aws.events",
                "time": "2026-01-05T01:00:00Z", "resources": [], "detail": {}}
        for schedule in resources.SCHEDULES:
            modules.append(deployed(schedule.name, f"{schedule.name}, import + scheduled run", lambda i: tick))
        undone = [_without(n, measure, *by_name[name], undo) for n, (measure, (name, undo)) in enumerate(WITHOUT.items())]
        reference_cpu: dict[str, list[float]] = {key: [] for key in references}
        cpu: dict[str, list[float]] = {module[0]: [] for module in [*modules, *undone]}

        def reference(key: str) -> float:
            return sandbox.invoke(references[key], runtime, "bench_reference:handler", {}, env, base / "runs").cpu

        # Warm-up: the first run of each writes its bytecode into the unpacked folder (the
        # package ships none); every measured run then starts equal. See docs/benchmarks.md.
        for key in references:
            reference(key)
        for _label, handler, event_for, pkg, module_env, _ in [*modules[1:], *undone]:
            sandbox.invoke(pkg, runtime, handler, event_for(runs), module_env, base / "runs")
        for i in range(runs):
            for key in references:
                reference_cpu[key].append(reference(key))
            for label, handler, event_for, pkg, module_env, _ in [*modules, *undone]:
                outcome = sandbox.invoke(pkg, runtime, handler, event_for(i), module_env, base / "runs")
                _require_success(label, outcome.result)
                cpu[label].append(outcome.cpu)
    rows = []
    for label, _handler, _event_for, _pkg, _module_env, library in modules:
        against = "import boto3 + 1 client" + (f" + import {library}" if library else "")
        rows.append(Row(f"cold start CPU: {label} / ({against})",
                        statistics.median(cpu[label]) / statistics.median(reference_cpu[library]), 1.5, "x"))
    for (measure, (name, _)), (label, *_) in zip(WITHOUT.items(), undone, strict=True):
        kept = by_name[name][0]
        rows.append(Row(f"cold start CPU that {measure} saves: {kept} (ms)",
                        (statistics.median(cpu[label]) - statistics.median(cpu[kept])) * 1000, 0, " ms",
                        higher_is_better=True))
    return rows


def _without(n: int, measure: str, label: str, handler: str, event_for: Callable[[int], dict], package: Path,
             env: dict[str, str], library: str, undo: str) -> tuple:
    """The function ``handler`` with one cold-start measure undone, through a module written
    into its unpacked package; its events get ids of their own (submissions and consumers are
    idempotent: a repeated id would measure a replay)."""
    module, _, attribute = handler.partition(":")
    shim = f"bench_without_{n}"
    (package / f"{shim}.py").write_text(_WITHOUT_SHIM.format(undo=undo, module=module, attribute=attribute))
    return (f"{label}, without {measure}", f"{shim}:handler", lambda i: event_for(i + 1000 * (n + 1)), package,
            env, library)


def _require_success(label: str, result: Any) -> None:
    """A cold start is measured on the path that succeeds: a failed record would add the
    retry's SQS client and hide a broken package behind a plausible figure."""
    if result.get("batchItemFailures") or result.get("statusCode", 200) >= 400:
        raise RuntimeError(f"{label}: the measured invocation failed: {result}")


@contextmanager
def _started(simulators: Any) -> Iterator[Any]:
    try:
        yield simulators
    finally:
        simulators.stop()

def index_scaling(rounds: int = 3) -> list[Row]:
    """One month's 766 indicator table for all agencies at 2,000 and at 50,000 dossiers.

    As ``report_scaling``: the synthetic dossiers' index contributions are aggregated in memory
    and written as the counter items the index projection would have produced, both datasets
    populating the same items (the form-06 dossiers' days, procedures and shards), so only
    the number of dossiers differs."""
    return _scaling("766 indicators, one month, all agencies", _write_synthetic_index_counters, _time_indicators,
                    rounds)


def _write_synthetic_index_counters(size: int) -> None:
    """Index facts of the form-06 synthetic dossiers (same codes, days and procedures), with
    every other fact drawn at random, aggregated into the index counter items."""
    import random
    from collections import defaultdict
    from datetime import date, timedelta

    from chalicelib.reports.rules.form06 import by_period
    from chalicelib.reports.rules.index766 import IndexFacts, contributions
    from chalicelib.reports.store import index_counters
    from chalicelib.reports.store.counters import shard_of
    from chalicelib.runtime import aws, resources
    from chalicelib.runtime.settings import settings

    rng = random.Random(size)
    last = date(*MONTH, 28)
    totals: dict[tuple[str, str, str, str], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for f in _synthetic_facts(size):
        closed = f.closed is not None
        # an open dossier's on-time run ends the day after its due day: inside the month (or,
        # received before it, already over), so no counter item exists at one size only
        due = f.received - timedelta(days=1) if f.received.month != MONTH[1] \
            else min(f.received + timedelta(days=rng.randrange(0, 10)), last - timedelta(days=1))
        facts = IndexFacts(
            code=f.code, agency_id=f.agency_id, procedure_code=f.procedure_code, channel=f.channel,
            selected=f.received, synced=rng.random() < 0.95, result_link=rng.random() < 0.6,
            has_fees=rng.random() < 0.5, paid_online=rng.random() < 0.4, has_files=rng.random() < 0.8,
            reused=rng.random() < 0.3, citizen_store=rng.random() < 0.2, vneid=rng.random() < 0.5,
            end=f.closed, on_time=(rng.random() < 0.8) if closed else None,
            due=None if closed else due,
            handling_days=rng.randrange(0, 10) if closed else None)
        for (period, name), value in by_period(contributions(facts)).items():
            pk = index_counters.counter_pk(f.agency_id, shard_of(f.code), period)
            totals[(pk, period, f.procedure_code, f.agency_id)][name] += value
    client, table = aws.client("dynamodb"), settings().name(resources.REPORTS.name)
    requests = [{"PutRequest": {"Item": {
        "pk": {"S": pk}, "sk": {"S": f"{period}#{procedure}"}, "agency_id": {"S": agency},
        "procedure_code": {"S": procedure}, "period": {"S": period},
        **{name: {"N": str(value)} for name, value in values.items()}}}}
        for (pk, period, procedure, agency), values in totals.items()]
    for start in range(0, len(requests), 25):
        client.batch_write_item(RequestItems={table: requests[start:start + 25]})


def _time_indicators() -> tuple[int, float]:
    from datetime import date

    from chalicelib.reports.use_cases import index766
    from chalicelib.trust.rules.identity import Identity

    admin = Identity("bench-admin", "admin")
    start, end = date(*MONTH, 1), date(*MONTH, 28)
    index766.indicators(admin, start=start, end=end)  # warm caches
    runs = []
    gc.collect()
    gc.disable()
    try:
        for _ in range(7):
            started = time.perf_counter()
            table = index766.indicators(admin, start=start, end=end)
            runs.append(time.perf_counter() - started)
    finally:
        gc.enable()
    return table["items_read"], statistics.median(runs)


def workflow() -> list[Row]:
    from motcua.bench_workflow import workflow_budgets
    return workflow_budgets()


SUITES: list[Callable[[], list[Row]]] = [aws_calls_and_scaling, submission_rush, workflow, payments_calls_and_sweep,
                                         report_scaling, index_scaling, deadline_throughput, cold_import,
                                         request_overhead, deployment]


def render(rows: list[Row], load: float) -> str:
    header = ["figure", "measured", "budget", "result"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row.cells()) + " |" for row in rows]
    machine = f"{_cpu_model()} ({platform.machine()}), {os.cpu_count()} cores, Python {platform.python_version()}"
    return "\n".join(lines) + (f"\n\nMeasured on {machine}, {time.strftime('%Y-%m-%d')}, by `make bench`"
                                f" (load average {load:.1f} when it started).\n")


def _cpu_model() -> str:
    """The processor's name as Linux reports it (``platform.processor()`` is empty there)."""
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


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
    load = os.getloadavg()[0]  # a shared machine's timings are only comparable when it is quiet
    rows: list[Row] = []
    for suite in SUITES:
        rows += suite()
    table = render(rows, load)
    print(table)
    write_readme(table)
    return 0 if all(row.ok for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
