"""The Lambda packages exactly as CDK staged them, unpacked into empty folders and run in
fresh interpreters that see only the package and the Lambda runtime's boto3, against a moto
server holding the prod stage's resources: POST /dossiers through an API Gateway event with
Cognito claims, the outbox stream batch through the publisher, an SQS batch through every
queue consumer and a tick through every schedule."""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import boto3
import pytest

from chalicelib import resources
from motcua import sandbox
from motcua.dispatcher import _as_lambda_record
from tests.infra.conftest import ROOT, Assembly

CLAIMS = {"sub": "citizen-smoke", "custom:role": "citizen", "token_use": "id", "cognito:username": "smoke"}
AWS_ENV = {"AWS_ACCESS_KEY_ID": "sandbox", "AWS_SECRET_ACCESS_KEY": "sandbox", "AWS_DEFAULT_REGION": "ap-southeast-1",
           "AWS_REGION": "ap-southeast-1"}


@dataclass
class Function:
    name: str
    handler: str          # "module:function"
    package: Path         # the unpacked zip
    environment: dict[str, str]


@dataclass
class Deployed:
    endpoint: str
    runtime: Path
    functions: dict[str, Function]
    zips: dict[str, Path]
    workdir: Path

    def invoke(self, name: str, event: dict[str, Any]) -> sandbox.Outcome:
        function = self.functions[name]
        env = {**function.environment, **AWS_ENV, "MOTCUA_AWS_ENDPOINT": self.endpoint,
               "POWERTOOLS_METRICS_NAMESPACE": "MotCuaSmoke"}
        return sandbox.invoke(function.package, self.runtime, function.handler, event, env, self.workdir / name)

    def client(self, service: str) -> Any:
        return boto3.client(service, endpoint_url=self.endpoint, region_name=AWS_ENV["AWS_REGION"],
                            aws_access_key_id="sandbox", aws_secret_access_key="sandbox")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def moto_server() -> Iterator[str]:
    from moto.server import ThreadedMotoServer
    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


def _provision(endpoint: str, stage: str) -> None:
    """The stage's tables, bus, rules, queues and bucket, and the sample catalogue."""
    code = ("import boto3; from chalicelib.config import settings; from motcua.provision import provision;"
            " from motcua.seed import seed_catalogue; provision(boto3.session.Session(), settings()); seed_catalogue()")
    env = {k: v for k, v in os.environ.items() if not k.startswith("MOTCUA_")}
    env.update(AWS_ENV, MOTCUA_STAGE=stage, MOTCUA_AWS_ENDPOINT=endpoint)
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, check=True, timeout=120)


def _environment(variables: dict[str, Any], assembly: Assembly) -> dict[str, str]:
    """The function's environment from the template, with references to our bucket resolved."""
    buckets = {k for k, v in assembly.resources("AWS::S3::Bucket").items() if "CorsConfiguration" in v["Properties"]}
    env = {}
    for key, value in variables.items():
        if isinstance(value, dict) and value.get("Ref") in buckets:
            value = resources.physical_name(assembly.config.stage, resources.ATTACHMENTS_BUCKET)
        assert isinstance(value, str), (key, value)
        env[key] = value
    return env


@pytest.fixture(scope="module")
def deployed(assembly: Assembly, moto_server: str, tmp_path_factory: pytest.TempPathFactory) -> Deployed:
    base = tmp_path_factory.mktemp("packages")
    _provision(moto_server, assembly.config.stage)
    functions, zips, unpacked = {}, {}, {}
    for kind in ("AWS::Serverless::Function", "AWS::Lambda::Function"):
        for props in (r["Properties"] for r in assembly.resources(kind).values()):
            key = props["CodeUri"]["Key"] if kind.startswith("AWS::Serverless") else props["Code"]["S3Key"]
            path = assembly.asset_path(key)
            if key not in unpacked:
                unpacked[key] = sandbox.unpack(path, base / f"pkg-{len(unpacked)}")
            module, _, attribute = props["Handler"].rpartition(".")
            functions[props["FunctionName"]] = Function(props["FunctionName"], f"{module}:{attribute}", unpacked[key],
                                                        _environment(props["Environment"]["Variables"], assembly))
            zips[props["FunctionName"]] = path
    return Deployed(moto_server, sandbox.runtime_dir(base / "runtime"), functions, zips, base / "runs")


def _name(function: str) -> str:
    return resources.physical_name("prod", function)


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
    for name, path in deployed.zips.items():
        names = set(zipfile.ZipFile(path).namelist())
        assert expected - names == set(), name
        assert not {n.split("/")[0] for n in names} & {"boto3", "botocore", "s3transfer"}, name


def test_the_api_package_answers_post_dossiers_from_an_api_gateway_event(submitted: sandbox.Outcome) -> None:
    assert submitted.result["statusCode"] == 201, submitted.result
    body = json.loads(submitted.result["body"])
    assert body["status"] == "submitted" and body["dossier_code"]
    assert submitted.outside == []


@pytest.fixture(scope="module")
def submitted(deployed: Deployed) -> sandbox.Outcome:
    procedure = json.loads((ROOT / "motcua" / "seed" / "catalogue.json").read_text(encoding="utf-8"))["procedures"][0]
    body = {"procedure_code": procedure["procedure_code"], "summary": "Kiểm tra gói triển khai", "attachments": [],
            "applicant": {"full_name": "Trần Thị Gói", "id_number": "051095001234", "phone": "0912345678"}}
    event = sandbox.api_gateway_event("POST", "/dossiers", body=body, claims=CLAIMS,
                                      headers={"Idempotency-Key": "package-smoke-0001"})
    return deployed.invoke(_name("api"), event)


@pytest.fixture(scope="module")
def published(deployed: Deployed, submitted: sandbox.Outcome) -> tuple[sandbox.Outcome, list[dict[str, Any]]]:
    """The outbox records of the dossiers stream, as Lambda would hand them to the publisher."""
    ddb, streams = deployed.client("dynamodb"), deployed.client("dynamodbstreams")
    arn = ddb.describe_table(TableName=_name(resources.PUBLISHER.table))["Table"]["LatestStreamArn"]
    records = []
    for shard in streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]:
        iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard["ShardId"],
                                              ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        records += [_as_lambda_record(r, arn) for r in streams.get_records(ShardIterator=iterator)["Records"]]
    outcome = deployed.invoke(_name(resources.PUBLISHER.name), {"Records": records})
    return outcome, records


def _bus_messages(deployed: Deployed) -> list[dict[str, Any]]:
    sqs = deployed.client("sqs")
    url = sqs.get_queue_url(QueueName=_name(resources.TAP_QUEUE.name))["QueueUrl"]
    messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", [])
    return [json.loads(m["Body"]) for m in messages]


def test_the_publisher_package_puts_the_outbox_event_on_the_bus(deployed: Deployed, submitted: sandbox.Outcome,
                                                                 published: tuple[sandbox.Outcome, list]) -> None:
    outcome, records = published
    assert records and outcome.result == {"batchItemFailures": []}
    assert outcome.outside == []
    code = json.loads(submitted.result["body"])["dossier_code"]
    on_bus = _bus_messages(deployed)
    assert [(m["detail-type"], m["detail"]["dossier_code"]) for m in on_bus] == [("DossierSubmitted", code)]


@pytest.mark.parametrize("consumer", resources.QUEUE_CONSUMERS, ids=lambda c: c.name)
def test_each_queue_consumer_package_processes_an_sqs_batch(deployed: Deployed, submitted: sandbox.Outcome,
                                                            consumer: resources.QueueConsumer) -> None:
    code = json.loads(submitted.result["body"])["dossier_code"]
    envelope = {"id": "smoke-event-1", "type": "DossierSubmitted", "version": 1, "dossier_code": code}
    bridge = {"version": "0", "id": "eb-1", "source": f"{resources.EVENT_SOURCE_PREFIX}.intake",
              "detail-type": "DossierSubmitted", "detail": envelope}
    arn = f"arn:aws:sqs:ap-southeast-1:000000000000:{_name(consumer.queue)}"
    outcome = deployed.invoke(_name(consumer.name), sandbox.sqs_batch([bridge], arn))
    assert outcome.result == {"batchItemFailures": []} and outcome.outside == []


@pytest.mark.parametrize("schedule", resources.SCHEDULES, ids=lambda s: s.name)
def test_each_scheduled_package_runs_a_tick(deployed: Deployed, schedule: resources.Schedule) -> None:
    tick = {"version": "0", "id": "tick-1", "detail-type": "Scheduled Event", "source": "aws.events",
            "time": "2026-01-05T01:00:00Z", "resources": [], "detail": {}}
    outcome = deployed.invoke(_name(schedule.name), tick)
    assert outcome.outside == []
