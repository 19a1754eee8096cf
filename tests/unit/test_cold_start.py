"""The cold-start measures of chalicelib/runtime/cold_start.py do what they promise (make bench
measures what each one buys); the process-wide ones are checked in a fresh interpreter."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from chalicelib.runtime import cold_start

ROOT = Path(__file__).resolve().parents[2]


def _fresh(code: str) -> Any:
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120,
                          check=False,
                          env={"PATH": "/usr/bin:/bin", "AWS_DEFAULT_REGION": "ap-southeast-1", "MOTCUA_STAGE": "local"})
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.splitlines()[-1])


def test_every_consumer_module_loads_the_sdk_before_our_own_modules() -> None:
    """handlers/__init__ imports boto3 first, at the call depth of a bare import (CPython
    without the cpython#142183 fix thrashes frame-stack chunks in some consumers otherwise)."""
    for module in ("handlers.national_sync", "handlers.notifications", "handlers.refund_watch"):
        order = _fresh(f"import json, sys, {module}; print(json.dumps(list(sys.modules)))")
        assert order.index("boto3") < order.index("chalicelib"), module


def test_pynamodb_models_and_the_raw_connection_share_one_dynamodb_client() -> None:
    shared = _fresh(
        "import json\n"
        "from chalicelib.runtime import aws, models\n"
        "model = models.DossierItem._get_connection().connection.client\n"
        "print(json.dumps(model is aws.dynamodb_connection().client))")
    assert shared is True


def test_the_session_shares_a_client_only_between_identical_arguments_and_config() -> None:
    from botocore.config import Config

    session = cold_start.client_sharing_session()
    first = session.create_client("sqs", region_name="ap-southeast-1", config=Config(retries={"max_attempts": 4}))
    same = session.create_client("sqs", region_name="ap-southeast-1", config=Config(retries={"max_attempts": 4}))
    other_config = session.create_client("sqs", region_name="ap-southeast-1", config=Config(retries={"max_attempts": 2}))
    other_region = session.create_client("sqs", region_name="eu-west-1", config=Config(retries={"max_attempts": 4}))
    assert same is first and other_config is not first and other_region is not first


def test_a_failed_record_fails_alone_and_is_reported_while_its_exception_is_current() -> None:
    records = [{"messageId": "a"}, {"messageId": "b"}, {"messageId": "c"}]
    handled, reported = [], []

    def handle(record: dict[str, Any]) -> None:
        if record["messageId"] == "b":
            raise ValueError("poison")
        handled.append(record["messageId"])

    def on_failure(record: dict[str, Any]) -> None:
        reported.append((record["messageId"], type(sys.exc_info()[1]).__name__))

    assert cold_start.partial_batch(records, handle, on_failure) == [{"messageId": "b"}]
    assert handled == ["a", "c"] and reported == [("b", "ValueError")]


@pytest.mark.parametrize("module", ["handlers.consumer", "handlers.national_sync", "app"])
def test_no_lambda_module_imports_the_powertools_batch_utility(module: str) -> None:
    loaded = _fresh(f"import json, sys, {module}; print(json.dumps(sorted(sys.modules)))")
    assert "aws_lambda_powertools.utilities.batch" not in loaded
