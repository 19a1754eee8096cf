"""Fixtures for tests through the Chalice app against in-process moto."""
from __future__ import annotations

import functools
import json
import os
import uuid
from typing import Any
from collections.abc import Iterator

import pytest
from moto import mock_aws

from chalicelib.runtime import aws
from chalicelib.catalogue.store import procedures as catalogue_store
from chalicelib.runtime.settings import declared, settings
from chalicelib.trust.rules.identity import mint_local_token


class Api:
    """A thin JSON client over chalice.test.Client with tokens for each role."""

    def __init__(self, client: Any) -> None:
        self.client = client

    def token(self, role: str, agency: str | None = None, sub: str | None = None) -> str:
        return mint_local_token(settings().local_jwt_secret, sub or f"{role}-{agency or 'x'}", role, agency)

    def call(self, method: str, path: str, *, body: Any = None, token: str | None = None,
             headers: dict[str, str] | None = None, raw: bytes | str | None = None) -> Any:
        all_headers = {"Content-Type": "application/json", **(headers or {})}
        if token:
            all_headers["Authorization"] = f"Bearer {token}"
        payload = raw if raw is not None else (json.dumps(body) if body is not None else None)
        response = self.client.http.request(method, path, headers=all_headers, body=payload)
        is_json = response.headers.get("Content-Type", "").startswith("application/json")
        response.json = json.loads(response.body) if response.body and is_json else None
        return response


@pytest.fixture
def aws_env() -> Iterator[Any]:
    from motcua.provision import fresh_local_stack

    with mock_aws():
        yield fresh_local_stack()
        aws.reset()
        catalogue_store.invalidate()


@pytest.fixture
def prod_secrets() -> Iterator[Any]:
    """An AWS stage ("prod") against moto's Secrets Manager; call it to put one stage secret.

    The stage is set and restored here, not through the test's monkeypatch, so the cached
    settings are cleared after the local stage is back (a monkeypatch undone after this
    teardown would leave the next test running as prod). The stage sets every setting an AWS
    stage must set, to what the test already chose or else to the local stack's value."""
    from chalicelib.runtime import models  # noqa: F401  (see below)
    from chalicelib.runtime import resources
    from chalicelib.runtime import credentials as secrets

    # chalicelib.runtime.models binds table names to the stage when first imported: importing it here,
    # still in the local stage, keeps a test that imports it later from naming prod tables
    # for every test after it in this process.
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MOTCUA_STAGE", "prod")
        for spec in declared():
            if spec.required_in_aws and spec.name != "MOTCUA_STAGE":
                patch.setenv(spec.name, os.environ.get(spec.name) or spec.local or "motcua-prod-attachments")
        settings.cache_clear()
        with mock_aws():
            aws.reset()
            secrets.reset()
            manager = aws.client("secretsmanager")
            yield lambda name, value: manager.create_secret(Name=resources.secret_name("prod", name),
                                                            SecretString=json.dumps(value))
            secrets.reset()
            aws.reset()
    settings.cache_clear()


@pytest.fixture
def api(aws_env: Any) -> Iterator[Api]:
    from chalice.test import Client
    from app import app

    with Client(app, stage_name="local") as client:
        yield Api(client)


@pytest.fixture
def simulators(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> Iterator[Any]:
    """The providers the consumers talk to, on loopback, with short timeouts and retries;
    notifications also go to a sink file (``simulators.sink``)."""
    from motcua.simulators import start_all
    running = start_all(port=0)
    running.sink = str(tmp_path / "notifications.jsonl")
    for name, value in running.environment().items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("MOTCUA_NATIONAL_TIMEOUT", "1")
    monkeypatch.setenv("MOTCUA_RETRY_FIRST_SECONDS", "1")
    monkeypatch.setenv("MOTCUA_RETRY_MAX_SECONDS", "1")
    running.reset_clients()
    yield running
    running.stop()
    running.reset_clients()


@pytest.fixture
def dispatcher(aws_env: Any, simulators: Any) -> Any:
    from motcua.dispatcher import Dispatcher
    return Dispatcher(settings(), aws_env)


@functools.lru_cache(maxsize=4)
def _s3(session: Any) -> Any:
    """One S3 client per session (each test's stack has its own): making a client costs more
    than the upload."""
    return session.client("s3")


def put_upload(session: Any, owner_sub: str, content_type: str = "application/pdf", data: bytes = b"%PDF-1.4 test") -> str:
    """Store an object where a presigned PUT for this owner would have put it."""
    from chalicelib.dossiers.store.attachments import bucket, object_key
    upload_id = uuid.uuid4().hex
    _s3(session).put_object(Bucket=bucket(), Key=object_key(owner_sub, upload_id), Body=data,
                                    ContentType=content_type)
    return upload_id
