"""Run a built Lambda package the way Lambda does, on this machine.

A package is unzipped into an empty folder and imported in a fresh interpreter
(``python -I -S``: no site-packages, no PYTHONPATH, no current directory) whose path holds
only the package and a folder standing in for what the Lambda Python runtime provides
(boto3 and its dependencies). Whatever the code imports from anywhere else is reported, so
code or a dependency that works from the repository but is missing from the package fails.

Used by the package smoke test (tests/infra/test_package.py) and by ``make bench`` (cold
starts and package sizes).
"""
from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import textwrap
import zipfile
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC

# What the Lambda Python runtime provides besides the standard library: boto3 and what it needs.
RUNTIME_PROVIDED = ("boto3", "botocore", "s3transfer", "jmespath", "dateutil", "six", "urllib3")

_DRIVER = textwrap.dedent('''
    import importlib, json, sys, sysconfig, time
    package, runtime, handler, event_file = sys.argv[1:5]
    sys.path[:0] = [package, runtime]
    started, cpu_started = time.perf_counter(), time.process_time()
    module_name, _, attribute = handler.partition(":")
    function = getattr(importlib.import_module(module_name), attribute)

    class Context:
        function_name = "sandbox"
        memory_limit_in_mb = 512
        invoked_function_arn = "arn:aws:lambda:ap-southeast-1:000000000000:function:sandbox"
        aws_request_id = "00000000-0000-0000-0000-000000000000"
        @staticmethod
        def get_remaining_time_in_millis():
            return 30000

    with open(event_file, encoding="utf-8") as f:
        event = json.load(f)
    result = function(event, Context())
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    stdlib = (sysconfig.get_paths()["stdlib"], sysconfig.get_paths()["platstdlib"])
    outside = sorted(name for name, module in list(sys.modules.items())
                     if getattr(module, "__file__", None) and name not in ("__main__", "__mp_main__")
                     and not module.__file__.startswith((package, runtime) + stdlib))
    print("SANDBOX-RESULT " + json.dumps({"result": result, "seconds": seconds, "cpu": cpu, "outside": outside}))
''')


@dataclass(frozen=True)
class Outcome:
    result: Any
    seconds: float            # import + first invocation, inside the fresh interpreter (wall clock)
    cpu: float                # the same, in CPU time of that interpreter (no waiting on AWS)
    outside: list[str]        # modules loaded from outside the package and the runtime
    logs: str


def unpack(package_zip: Path, into: Path) -> Path:
    into.mkdir(parents=True, exist_ok=False)
    with zipfile.ZipFile(package_zip) as archive:
        archive.extractall(into)
    return into


def unzipped_bytes(package_zip: Path, exclude: tuple[str, ...] = RUNTIME_PROVIDED[:3]) -> int:
    """Size of the package once unzipped, leaving out what the runtime provides."""
    with zipfile.ZipFile(package_zip) as archive:
        return sum(i.file_size for i in archive.infolist() if i.filename.split("/")[0].split("-")[0] not in exclude)


def runtime_dir(into: Path) -> Path:
    """A folder with only the packages the Lambda runtime provides, linked from this venv."""
    into.mkdir(parents=True, exist_ok=True)
    for name in RUNTIME_PROVIDED:
        spec = importlib.util.find_spec(name)
        if spec is None or spec.origin is None:
            raise RuntimeError(f"{name} is not installed here")
        source = Path(spec.origin)
        source = source.parent if source.name == "__init__.py" else source
        link = into / source.name
        if not link.exists():
            link.symlink_to(source)
    return into


# What CloudFormation resolves at deploy (a Ref, an Fn::Join) in a function's environment, as
# a sandboxed prod stage has it; the attachments bucket's name is the caller's.
DEPLOY_TIME_VALUES = {"MOTCUA_DASHBOARD_CLIENT_ID": "sandbox-dashboard-client",
                      "MOTCUA_SIGNIN_AUTHORITY": "https://motcua-prod-example.auth.ap-southeast-1.amazoncognito.com"}


def invoke(package: Path, runtime: Path, handler: str, event: dict[str, Any], env: dict[str, str],
           workdir: Path, timeout: float = 120) -> Outcome:
    """Import ``handler`` ("module:function") from the package in a fresh interpreter and call it once."""
    workdir.mkdir(parents=True, exist_ok=True)
    event_file = workdir / "event.json"
    event_file.write_text(json.dumps(event), encoding="utf-8")
    driver = workdir / "driver.py"
    driver.write_text(_DRIVER, encoding="utf-8")
    base = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "TZ")}
    done = subprocess.run([sys.executable, "-I", "-S", str(driver), str(package), str(runtime), handler,
                           str(event_file)], cwd=workdir, env={**base, **env}, capture_output=True, text=True,
                          timeout=timeout)
    lines = [line for line in done.stdout.splitlines() if line.startswith("SANDBOX-RESULT ")]
    if done.returncode != 0 or not lines:
        raise RuntimeError(f"{handler} failed in the sandbox (exit {done.returncode}):\n{done.stdout}\n{done.stderr}")
    payload = json.loads(lines[-1][len("SANDBOX-RESULT "):])
    return Outcome(payload["result"], payload["seconds"], payload["cpu"], payload["outside"],
                   done.stdout + done.stderr)


def api_gateway_event(method: str, path: str, *, body: Any = None, headers: dict[str, str] | None = None,
                      claims: dict[str, str] | None = None, resource: str | None = None,
                      path_parameters: dict[str, str] | None = None,
                      query: dict[str, str] | None = None) -> dict[str, Any]:
    """An API Gateway REST proxy event, as the Cognito-authorized API stage sends it."""
    all_headers = {"Content-Type": "application/json", **(headers or {})}
    context: dict[str, Any] = {"resourcePath": resource or path, "httpMethod": method, "stage": "api",
                               "requestId": "sandbox-request", "path": f"/api{path}",
                               "identity": {"sourceIp": "127.0.0.1"}}
    if claims is not None:
        context["authorizer"] = {"claims": claims}
    return {
        "resource": resource or path, "path": path, "httpMethod": method,
        "headers": all_headers, "multiValueHeaders": {k: [v] for k, v in all_headers.items()},
        "queryStringParameters": query, "multiValueQueryStringParameters": {k: [v] for k, v in query.items()} if query else None,
        "pathParameters": path_parameters, "stageVariables": None, "requestContext": context,
        "body": json.dumps(body, ensure_ascii=False) if body is not None else None, "isBase64Encoded": False,
    }


def sqs_batch(bodies: list[dict[str, Any]], queue_arn: str) -> dict[str, Any]:
    return {"Records": [{
        "messageId": f"sandbox-{i}", "receiptHandle": f"sandbox-{i}", "body": json.dumps(body),
        "attributes": {"ApproximateReceiveCount": "1"}, "messageAttributes": {}, "md5OfBody": "",
        "eventSource": "aws:sqs", "eventSourceARN": queue_arn, "awsRegion": "ap-southeast-1",
    } for i, body in enumerate(bodies)]}


# --- a moto server holding one stage's resources -----------------------------------------

AWS_ENV = {"AWS_ACCESS_KEY_ID": "sandbox", "AWS_SECRET_ACCESS_KEY": "sandbox",
           "AWS_DEFAULT_REGION": "ap-southeast-1", "AWS_REGION": "ap-southeast-1"}
ROOT = Path(__file__).resolve().parents[1]


@contextmanager
def moto_server() -> Iterator[str]:
    """A moto server on a free loopback port; yields its endpoint."""
    import socket

    import logging

    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one line per request otherwise

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


def provision_stage(endpoint: str, stage: str, secrets: Mapping[str, Mapping[str, str]] | None = None) -> None:
    """The stage's tables, bus, rules, queues and bucket (motcua.provision), the sample
    catalogue, and its secrets: ``secrets`` (the accounts the simulators accept), fakes for
    the rest. The provisioning process has the settings infra/ gives the stage's functions,
    which an AWS stage cannot start without."""
    from chalicelib.runtime.resources import ATTACHMENTS_BUCKET, physical_name
    from infra.stages import load

    code = ("import boto3; from chalicelib.runtime.settings import settings; from motcua.provision import provision;"
            " from motcua.seed import seed_catalogue; provision(boto3.session.Session(), settings()); seed_catalogue()")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MOTCUA_", "VNPAY_"))}
    env.update(AWS_ENV, **load(stage).provider_settings, MOTCUA_STAGE=stage, MOTCUA_AWS_ENDPOINT=endpoint,
               MOTCUA_ATTACHMENTS_BUCKET=physical_name(stage, ATTACHMENTS_BUCKET))
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, check=True, timeout=120)
    put_fake_secrets(endpoint, stage, secrets or {})


def fake_secret(name: str, key: str) -> str:
    return f"sandbox-fake-{name}-{key}"


def put_fake_secrets(endpoint: str, stage: str, given: Mapping[str, Mapping[str, str]]) -> None:
    """Every declared secret, as an operator would fill them in: ``given`` values, obviously
    fake ones for the rest."""
    from chalicelib.runtime import resources
    manager = client(endpoint, "secretsmanager")
    for declared in resources.SECRETS:
        value = {key: fake_secret(declared.name, key) for key in declared.keys} | dict(given.get(declared.name, {}))
        manager.create_secret(Name=resources.secret_name(stage, declared.name), SecretString=json.dumps(value))


def client(endpoint: str, service: str) -> Any:
    import boto3
    return boto3.client(service, endpoint_url=endpoint, region_name=AWS_ENV["AWS_REGION"],
                        aws_access_key_id="sandbox", aws_secret_access_key="sandbox")


def stream_batch(endpoint: str, table: str) -> dict[str, Any]:
    """Every record of the table's stream, shaped as Lambda hands them to a stream consumer."""
    from motcua.dispatcher import _as_lambda_record

    streams = client(endpoint, "dynamodbstreams")
    arn = client(endpoint, "dynamodb").describe_table(TableName=table)["Table"]["LatestStreamArn"]
    records = []
    for shard in streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]:
        iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard["ShardId"],
                                              ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        records += [_as_lambda_record(r, arn) for r in streams.get_records(ShardIterator=iterator)["Records"]]
    return {"Records": records}


def sample_submission() -> dict[str, Any]:
    """A valid POST /dossiers body for the first procedure of the sample catalogue."""
    catalogue = json.loads((ROOT / "motcua" / "seed" / "catalogue.json").read_text(encoding="utf-8"))
    return {"procedure_code": catalogue["procedures"][0]["procedure_code"], "summary": "Kiểm tra gói triển khai",
            "attachments": [], "applicant": {"full_name": "Trần Thị Gói", "id_number": "051095001234",
                                             "phone": "0912345678"}}


CITIZEN_CLAIMS = {"sub": "citizen-sandbox", "custom:role": "citizen", "token_use": "id"}


def submit_event(key: str) -> dict[str, Any]:
    """POST /dossiers as API Gateway sends it after the Cognito authorizer accepted a citizen."""
    return api_gateway_event("POST", "/dossiers", body=sample_submission(), claims=CITIZEN_CLAIMS,
                             headers={"Idempotency-Key": key})


def bus_envelope(detail: dict[str, Any]) -> dict[str, Any]:
    """An EventBridge event as a rule delivers it to an SQS queue."""
    from chalicelib.kernel.events import SOURCE
    return {"version": "0", "id": f"eb-{detail['id']}", "source": SOURCE, "detail-type": detail["type"],
            "detail": detail}


# --- a paid receipt, through the API package ------------------------------------------------

PAID_PROCEDURE = "1.001023"   # a sample procedure with fees (200.000 đ)


def _body(outcome: Outcome, status: int) -> dict[str, Any]:
    if outcome.result.get("statusCode") != status:
        raise RuntimeError(f"expected {status}: {outcome.result}")
    return json.loads(outcome.result["body"])


def pay(invoke_api: Callable[[dict[str, Any]], Outcome], key: str) -> str:
    """A dossier with fees submitted, its payment created and confirmed by VNPay's IPN (signed
    with the stage's fake secret, put_fake_secrets), each as an API Gateway event to the API
    package. Returns the payment id; its outbox now holds PaymentSucceeded."""
    from datetime import datetime

    from payments.vnpay import format_vnp_date, sign_params

    code = _body(invoke_api(api_gateway_event(
        "POST", "/dossiers", body={**sample_submission(), "procedure_code": PAID_PROCEDURE}, claims=CITIZEN_CLAIMS,
        headers={"Idempotency-Key": key})), 201)["dossier_code"]
    payment = _body(invoke_api(api_gateway_event(
        "POST", f"/dossiers/{code}/payments", claims=CITIZEN_CLAIMS, resource="/dossiers/{code}/payments",
        path_parameters={"code": code})), 201)
    params = sign_params({
        "vnp_Amount": str(payment["amount"] * 100), "vnp_ResponseCode": "00", "vnp_TransactionStatus": "00",
        "vnp_PayDate": format_vnp_date(datetime.now(UTC)), "vnp_TransactionNo": "14000001",
        "vnp_TmnCode": fake_secret("vnpay", "tmn_code"), "vnp_TxnRef": payment["payment_id"],
    }, fake_secret("vnpay", "hash_secret"))
    answer = _body(invoke_api(api_gateway_event("GET", "/payments/vnpay/ipn", query=params)), 200)
    if answer.get("RspCode") != "00":
        raise RuntimeError(f"IPN refused: {answer}")
    return payment["payment_id"]


def receipt_event(payment_id: str, event_id: str) -> dict[str, Any]:
    """The PaymentSucceeded envelope the receipts consumer acts on (what it reads of it)."""
    return {"id": event_id, "type": "PaymentSucceeded", "version": 3, "dossier_code": "sandbox",
            "data": {"payment_id": payment_id}}
