"""The Lambda packages exactly as CDK staged them, unpacked into empty folders and run in
fresh interpreters that see only the package and the Lambda runtime's boto3 (motcua.sandbox),
against a moto server holding the prod stage's resources: POST /dossiers through an API
Gateway event with Cognito claims, the outbox stream batch through the publisher, an SQS
batch through every queue consumer and a tick through every schedule; and a paid receipt
along its whole path: payment and IPN through the API package, the outbox through the
publisher, PaymentSucceeded through the receipts package into S3, and the API's presigned
link fetched from the moto server."""
from __future__ import annotations

import json
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from collections.abc import Iterator

import pytest

from chalicelib.runtime import resources
from infra.assembly import Assembly, StagedFunction
from infra.inventory import Inventory
from motcua import sandbox
from tests.infra.conftest import ROOT


@dataclass
class Deployed:
    endpoint: str
    runtime: Path
    functions: dict[str, StagedFunction]
    unpacked: dict[Path, Path]
    environment: dict[str, dict[str, str]]
    workdir: Path
    providers: dict[str, str]          # settings pointing the consumers at loopback simulators

    def invoke(self, function: str, event: dict[str, Any]) -> sandbox.Outcome:
        name = resources.physical_name("prod", function)
        env = {**self.environment[name], **sandbox.AWS_ENV, **self.providers, "MOTCUA_AWS_ENDPOINT": self.endpoint,
               "POWERTOOLS_METRICS_NAMESPACE": "MotCuaSmoke"}
        staged = self.functions[name]
        return sandbox.invoke(self.unpacked[staged.package], self.runtime, staged.handler, event, env,
                              self.workdir / name)


def _environment(staged: StagedFunction, assembly: Assembly) -> dict[str, str]:
    """The function's environment from the template, with the reference to our bucket resolved."""
    buckets = {k for k, v in assembly.resources("AWS::S3::Bucket").items() if "CorsConfiguration" in v["Properties"]}
    env = {}
    for key, value in staged.environment.items():
        if isinstance(value, dict) and value.get("Ref") in buckets:
            value = resources.physical_name(assembly.config.stage, resources.ATTACHMENTS_BUCKET)
        elif isinstance(value, dict):
            value = sandbox.DEPLOY_TIME_VALUES[key]
        assert isinstance(value, str), (key, value)
        env[key] = value
    return env


@pytest.fixture(scope="module")
def deployed(assembly: Assembly, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployed]:
    base = tmp_path_factory.mktemp("packages")
    functions = {f.name: f for f in assembly.functions()}
    unpacked = {}
    for i, package in enumerate(sorted({f.package for f in functions.values()})):
        unpacked[package] = sandbox.unpack(package, base / f"pkg-{i}")
    from motcua.simulators import start_all
    simulators = start_all(port=0, stage_accounts=True)
    try:
        with sandbox.moto_server() as endpoint:
            sandbox.provision_stage(endpoint, assembly.config.stage, simulators.secrets())
            yield Deployed(endpoint, sandbox.runtime_dir(base / "runtime"), functions, unpacked,
                           {n: _environment(f, assembly) for n, f in functions.items()}, base / "runs",
                           simulators.environment())
    finally:
        simulators.stop()


def _repo_files(*folders: str) -> set[str]:
    found = set()
    for folder in folders:
        for path in (ROOT / folder).rglob("*"):
            if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc":
                found.add(path.relative_to(ROOT).as_posix())
    return found


BUNDLED = {resources.physical_name("prod", f.name) for f in Inventory.declared().functions if f.bundle}
RECEIPT_LIBRARIES = {"fpdf", "PIL", "fontTools", "segno", "receipt_pdf", "paper_pdf"}


def test_every_package_holds_all_the_code_and_data_and_no_runtime_provided_library(deployed: Deployed) -> None:
    shared = _repo_files("chalicelib", "handlers", "payments")
    assert {"chalicelib/edge/openapi.yaml", "chalicelib/kernel/data/calendar_extras.json"} <= shared
    for name, staged in deployed.functions.items():
        names = set(zipfile.ZipFile(staged.package).namelist())
        tops = {n.split("/")[0] for n in names}
        bundled = name in BUNDLED
        api = name == resources.physical_name("prod", "api")
        expected = shared | ({"app.py"} if api else set()) | (_repo_files("receipt_pdf", "paper_pdf") if bundled else set())
        assert expected - names == set(), name
        assert not tops & {"boto3", "botocore", "s3transfer"}, name
        assert (tops >= RECEIPT_LIBRARIES) if bundled else not tops & RECEIPT_LIBRARIES, name


@pytest.fixture(scope="module")
def submitted(deployed: Deployed) -> sandbox.Outcome:
    return deployed.invoke("api", sandbox.submit_event("package-smoke-0001"))


def test_the_api_package_answers_post_dossiers_from_an_api_gateway_event(submitted: sandbox.Outcome) -> None:
    assert submitted.result["statusCode"] == 201, submitted.result
    body = json.loads(submitted.result["body"])
    assert body["status"] == "submitted" and body["dossier_code"]
    assert submitted.outside == []


def _bus_messages(deployed: Deployed) -> list[dict[str, Any]]:
    sqs = sandbox.client(deployed.endpoint, "sqs")
    url = sqs.get_queue_url(QueueName=resources.physical_name("prod", resources.TAP_QUEUE.name))["QueueUrl"]
    messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", [])
    return [json.loads(m["Body"]) for m in messages]


@pytest.fixture(scope="module")
def published(deployed: Deployed, submitted: sandbox.Outcome) -> tuple[sandbox.Outcome, list[dict[str, Any]]]:
    batch = sandbox.stream_batch(deployed.endpoint, resources.physical_name("prod", resources.PUBLISHER.table))
    return deployed.invoke(resources.PUBLISHER.name, batch), _bus_messages(deployed)


def test_the_publisher_package_puts_the_outbox_event_on_the_bus(submitted: sandbox.Outcome,
                                                                 published: tuple[sandbox.Outcome, list]) -> None:
    outcome, on_bus = published
    assert outcome.result == {"batchItemFailures": []} and outcome.outside == []
    code = json.loads(submitted.result["body"])["dossier_code"]
    assert [(m["detail-type"], m["detail"]["dossier_code"]) for m in on_bus] == [("DossierSubmitted", code)]


@pytest.mark.parametrize("consumer", resources.QUEUE_CONSUMERS, ids=lambda c: c.name)
def test_each_queue_consumer_package_processes_an_sqs_batch(deployed: Deployed, published: tuple[sandbox.Outcome, list],
                                                            consumer: resources.QueueConsumer) -> None:
    arn = f"arn:aws:sqs:ap-southeast-1:000000000000:{resources.physical_name('prod', consumer.queue)}"
    batch = sandbox.sqs_batch([sandbox.bus_envelope(m["detail"]) for m in published[1]], arn)
    outcome = deployed.invoke(consumer.name, batch)
    assert outcome.result == {"batchItemFailures": []} and outcome.outside == [], outcome.logs[-3000:]


@pytest.mark.parametrize("schedule", resources.SCHEDULES, ids=lambda s: s.name)
def test_each_scheduled_package_runs_a_tick(deployed: Deployed, schedule: resources.Schedule) -> None:
    tick = {"version": "0", "id": "tick-1", "detail-type": "Scheduled Event", "source": "aws.events",
            "time": "2026-01-05T01:00:00Z", "resources": [], "detail": {}}
    assert deployed.invoke(schedule.name, tick).outside == []


@pytest.fixture(scope="module")
def receipt(deployed: Deployed, published: tuple[sandbox.Outcome, list]) -> tuple[str, sandbox.Outcome, list]:
    """A payment confirmed through the API package, its events published, the receipts
    package run on the bus's PaymentSucceeded."""
    payment_id = sandbox.pay(lambda event: deployed.invoke("api", event), "package-smoke-paid")
    batch = sandbox.stream_batch(deployed.endpoint, resources.physical_name("prod", resources.PUBLISHER.table))
    assert deployed.invoke(resources.PUBLISHER.name, batch).result == {"batchItemFailures": []}
    succeeded = [m["detail"] for m in _bus_messages(deployed) if m["detail-type"] == "PaymentSucceeded"]
    arn = f"arn:aws:sqs:ap-southeast-1:000000000000:{resources.physical_name('prod', resources.RECEIPTS_QUEUE.name)}"
    outcome = deployed.invoke("receipts", sandbox.sqs_batch([sandbox.bus_envelope(d) for d in succeeded], arn))
    return payment_id, outcome, succeeded


def test_the_receipts_package_stores_the_pdf_that_the_api_package_links_to(deployed: Deployed, receipt: tuple) -> None:
    import io

    import requests
    from pypdf import PdfReader

    payment_id, outcome, succeeded = receipt
    assert [d["data"]["payment_id"] for d in succeeded] == [payment_id]
    assert outcome.result == {"batchItemFailures": []} and outcome.outside == []
    link = deployed.invoke("api", sandbox.api_gateway_event(
        "GET", f"/payments/{payment_id}/receipt", claims=sandbox.CITIZEN_CLAIMS, resource="/payments/{payment_id}/receipt",
        path_parameters={"payment_id": payment_id}))
    assert link.result["statusCode"] == 200, link.result
    download = requests.get(json.loads(link.result["body"])["url"], timeout=10)
    assert download.status_code == 200 and download.headers["Content-Type"] == "application/pdf"
    text = PdfReader(io.BytesIO(download.content)).pages[0].extract_text()
    assert "BIÊN LAI THU PHÍ, LỆ PHÍ" in text and "Trần Thị Gói" in text and "200.000 đ" in text


def test_the_papers_package_draws_a_paper_for_the_api(deployed: Deployed) -> None:
    """The function the API invokes for a Circular 03/2025 paper (handlers/papers.py), from its
    bundle: the register layout with one line, back as base64 PDF."""
    import base64
    import io

    from pypdf import PdfReader

    line = {"code": "000.22.30.H50-261201-0001", "procedure": "Cấp phép (1.009994)", "applicant": "Trần Thị Gói",
            "contact": "", "competent": "UBND phường", "received": "01/12/2026", "due": "", "finished": "",
            "returned": "", "note": "Đang giải quyết"}
    event = {"layout": "register", "dated": "2026-12-01T08:00:00+07:00",
             "values": {"issuer": "UBND PHƯỜNG", "issuer_parent": "", "unit": "UBND phường",
                        "period": "Từ ngày 01/12/2026 đến ngày 01/12/2026", "rows": [line]}}
    outcome = deployed.invoke(resources.PAPERS_RENDERER.name, event)
    assert outcome.outside == [], outcome.logs[-3000:]
    text = PdfReader(io.BytesIO(base64.b64decode(outcome.result["pdf"]))).pages[0].extract_text()
    assert "SỔ THEO DÕI HỒ SƠ" in text and "Trần Thị Gói" in text
