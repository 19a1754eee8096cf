"""Test settings: the local stage against in-process moto, unless a test starts the stack."""
from __future__ import annotations

import os

# Before any chalicelib import: models read the environment once.
os.environ["MOTCUA_STAGE"] = "local"
os.environ.pop("MOTCUA_AWS_ENDPOINT", None)
os.environ["AWS_DEFAULT_REGION"] = "ap-southeast-1"
os.environ["AWS_ACCESS_KEY_ID"] = "testing"
os.environ["AWS_SECRET_ACCESS_KEY"] = "testing"
os.environ.pop("AWS_PROFILE", None)
os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "MotCuaTest")
os.environ.setdefault("POWERTOOLS_DEV", "false")

from motcua import faults, metering, moto_atomic  # noqa: E402  (must hook botocore before any client exists)

metering.install()
faults.install()  # inert until a test opens faults.crash_at / faults.throttle
moto_atomic.install()  # concurrent tests need DynamoDB's atomic transactions from moto
