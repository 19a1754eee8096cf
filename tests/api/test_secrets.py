"""chalicelib.runtime.credentials against moto's Secrets Manager: fetched once, cached, checked."""
from __future__ import annotations

import json
from typing import Any
from collections.abc import Iterator

import boto3
import pytest
from moto import mock_aws

from chalicelib.edge.errors import body_of, status_of
from chalicelib.runtime import aws
from chalicelib.runtime import resources
from chalicelib.runtime import credentials as secrets
from chalicelib.runtime.settings import settings
from motcua import metering


@pytest.fixture
def manager() -> Iterator[Any]:
    with mock_aws():
        aws.reset()
        secrets.reset()
        yield boto3.client("secretsmanager", region_name=settings().region)
        aws.reset()
        secrets.reset()


def put(client: Any, name: str, value: dict[str, Any]) -> None:
    client.create_secret(Name=resources.secret_name(settings().stage, name), SecretString=json.dumps(value))


def test_a_secret_is_read_once_then_served_from_the_cache(manager: Any) -> None:
    put(manager, "vnpay", {"tmn_code": "DEMO0001", "hash_secret": "fake-hash-secret"})
    with metering.aws_calls() as calls:
        first = secrets.secret("vnpay")
        second = secrets.secret("vnpay")
    assert first == second == {"tmn_code": "DEMO0001", "hash_secret": "fake-hash-secret"}
    assert calls["secretsmanager.GetSecretValue"] == 1


def test_a_rotated_secret_is_read_again_once_the_cache_is_older_than_its_max_age(manager: Any, monkeypatch: Any) -> None:
    put(manager, "vnpay", {"tmn_code": "DEMO0001", "hash_secret": "old"})
    assert secrets.secret("vnpay")["hash_secret"] == "old"
    manager.put_secret_value(SecretId=resources.secret_name(settings().stage, "vnpay"),
                             SecretString=json.dumps({"tmn_code": "DEMO0001", "hash_secret": "new"}))
    assert secrets.secret("vnpay")["hash_secret"] == "old"           # within the max age: the cache
    assert secrets.secret("vnpay", fresh=True)["hash_secret"] == "new"   # the writer's read skips it
    secrets.reset()
    put_back = {"tmn_code": "DEMO0001", "hash_secret": "newer"}
    manager.put_secret_value(SecretId=resources.secret_name(settings().stage, "vnpay"), SecretString=json.dumps(put_back))
    assert secrets.secret("vnpay")["hash_secret"] == "newer"
    later = secrets.time.monotonic() + settings().secrets_max_age_seconds + 1
    manager.put_secret_value(SecretId=resources.secret_name(settings().stage, "vnpay"),
                             SecretString=json.dumps({**put_back, "hash_secret": "newest"}))
    monkeypatch.setattr(secrets.time, "monotonic", lambda: later)
    assert secrets.secret("vnpay")["hash_secret"] == "newest"


def test_the_secret_name_carries_the_stage(manager: Any) -> None:
    manager.create_secret(Name="motcua/other-stage/id-hash", SecretString=json.dumps({"key": "x"}))
    with pytest.raises(secrets.SecretMissing):
        secrets.secret("id-hash")


def test_a_secret_missing_a_declared_key_is_refused_with_a_503(manager: Any) -> None:
    put(manager, "zalo", {"app_id": "1"})
    with pytest.raises(secrets.SecretMissing) as raised:
        secrets.secret("zalo")
    assert status_of(raised.value) == 503 and raised.value.secret == "zalo"
    assert "zalo" not in json.dumps(body_of(raised.value))  # clients never learn which secret


def test_a_secret_that_is_not_json_is_refused(manager: Any) -> None:
    manager.create_secret(Name=resources.secret_name(settings().stage, "id-hash"), SecretString="not json")
    with pytest.raises(secrets.SecretMissing):
        secrets.secret("id-hash")


def test_an_undeclared_secret_is_a_programming_error() -> None:
    with pytest.raises(KeyError):
        secrets.secret("no-such-secret")


def test_an_aws_stage_keys_id_number_lookups_with_its_id_hash_secret(prod_secrets: Any) -> None:
    from chalicelib.dossiers.store import dossiers as store
    from chalicelib.trust.rules.privacy import id_number_hash
    prod_secrets("id-hash", {"key": "generated-by-infra-once"})
    assert store.applicant_pk("051095001234") == f"APPLICANT#{id_number_hash('051095001234', 'generated-by-infra-once')}"
    assert audit_subject("051095001234") == "hmac:" + id_number_hash("051095001234", "generated-by-infra-once")[:32]


def test_an_aws_stage_refuses_to_key_lookups_with_the_local_fake_or_without_its_secret(prod_secrets: Any) -> None:
    from chalicelib.dossiers.store import dossiers as store
    from chalicelib.runtime.settings import FAKE_ID_HASH_KEY
    with pytest.raises(secrets.SecretMissing):
        store.applicant_pk("051095001234")
    prod_secrets("id-hash", {"key": FAKE_ID_HASH_KEY})
    with pytest.raises(secrets.SecretMissing):
        store.applicant_pk("051095001234")


def audit_subject(id_number: str) -> str:
    from chalicelib.trust.rules.audit import subject_key
    from chalicelib.runtime.credentials import id_hash_key
    return subject_key(id_number, id_hash_key())


def test_a_refused_secret_is_named_in_the_log_and_its_value_is_not(prod_secrets: Any, caplog: Any) -> None:
    from chalicelib.dossiers.store import dossiers as store
    prod_secrets("id-hash", {"key": "SET-ME"})
    with pytest.raises(secrets.SecretMissing):
        store.applicant_pk("051095001234")
    assert "secret id-hash is missing, incomplete or not set yet" in caplog.text and "SET-ME" not in caplog.text
