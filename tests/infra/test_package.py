"""The Lambda packages exactly as CDK staged them, unpacked into empty folders and run in
fresh interpreters that see only the package and the Lambda runtime's boto3 (motcua.sandbox),
against a moto server holding the prod stage's resources: POST /dossiers through an API
Gateway event with Cognito claims, the outbox stream batch through the publisher, an SQS
batch through every queue consumer and a tick through every schedule."""
from __future__ import annotations

import json
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import pytest

from chalicelib import resources
from infra.assembly import Assembly, StagedFunction
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
    simulators = start_all(port=0)
    try:
        with sandbox.moto_server() as endpoint:
            sandbox.provision_stage(endpoint, assembly.config.stage)
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


def test_every_package_holds_all_the_code_and_data_and_no_runtime_provided_library(deployed: Deployed) -> None:
    expected = _repo_files("chalicelib", "handlers", "payments") | {"app.py"}
    assert {"chalicelib/openapi.yaml", "chalicelib/data/calendar_extras.json"} <= expected
    for name, staged in deployed.functions.items():
        names = set(zipfile.ZipFile(staged.package).namelist())
        assert expected - names == set(), name
        assert not {n.split("/")[0] for n in names} & {"boto3", "botocore", "s3transfer"}, name


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
    assert outcome.result == {"batchItemFailures": []} and outcome.outside == []


@pytest.mark.parametrize("schedule", resources.SCHEDULES, ids=lambda s: s.name)
def test_each_scheduled_package_runs_a_tick(deployed: Deployed, schedule: resources.Schedule) -> None:
    tick = {"version": "0", "id": "tick-1", "detail-type": "Scheduled Event", "source": "aws.events",
            "time": "2026-01-05T01:00:00Z", "resources": [], "detail": {}}
    assert deployed.invoke(schedule.name, tick).outside == []
