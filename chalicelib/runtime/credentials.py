"""Provider credentials (VNPay, national portal, Zalo) and our own keys from Secrets Manager.

Each secret is a JSON object named ``motcua/{stage}/{name}`` (see chalicelib.runtime.resources.SECRETS;
infra/ creates them, operators set the values). A secret is fetched on first use in a
container and cached for ``MOTCUA_SECRETS_MAX_AGE`` seconds (settings().secrets_max_age_seconds) (default 15 min), so a warm
Lambda makes no call per request and a rotated value is picked up without a redeploy.

``stage_credentials`` is the one rule every credential follows: the local stage runs on
its settings (chalicelib.runtime.settings.LocalCredentials), with obviously fake defaults; every other stage reads its secret and
refuses those fakes and infra's ``SET-ME`` placeholder.
"""
from __future__ import annotations

import json
import logging
import time
from typing import Any
from collections.abc import Mapping

from chalicelib.runtime import aws
from chalicelib.runtime import resources
from chalicelib.runtime.settings import settings
from chalicelib.kernel.errors import ServiceUnavailable

PLACEHOLDER = "SET-ME"   # what infra/ writes into a new secret for the operator to replace


class SecretMissing(ServiceUnavailable):
    """A secret the code needs is absent, lacks a key or still holds a placeholder or a local
    fake: a deployment mistake, not bad input. Clients are told to retry later; the log
    names the secret (never its value) for the operator."""

    def __init__(self, name: str) -> None:
        super().__init__()
        self.secret = name
        logging.getLogger(__name__).error("secret %s is missing, incomplete or not set yet", name)


# secret id -> (when it was read, its JSON value). A plain cache by hand, not Powertools'
# SecretsProvider: importing aws_lambda_powertools.utilities.parameters loads every provider
# it has (SSM, AppConfig, DynamoDB...) and cost the API's first submission more CPU than the
# client and the call together (docs/benchmarks.md, API cold start); what we used of it was
# this cache and json.loads.
_cache: dict[str, tuple[float, Any]] = {}


def _fetch(secret_id: str, fresh: bool) -> Any:
    """The secret's JSON value, from the cache unless older than ``secrets_max_age_seconds``;
    any failure to read or decode it is a SecretMissing for the caller to name."""
    cached = _cache.get(secret_id)
    if cached and not fresh and time.monotonic() - cached[0] < settings().secrets_max_age_seconds:
        return cached[1]
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        value = json.loads(aws.client("secretsmanager").get_secret_value(SecretId=secret_id)["SecretString"])
    except (BotoCoreError, ClientError, KeyError, ValueError):
        raise LookupError(secret_id) from None
    _cache[secret_id] = (time.monotonic(), value)
    return value


def _declared(name: str) -> resources.Secret:
    for secret in resources.SECRETS:
        if secret.name == name:
            return secret
    raise KeyError(f"{name!r} is not in chalicelib.runtime.resources.SECRETS")


def secret(name: str, *, fresh: bool = False) -> dict[str, Any]:
    """The JSON secret ``name`` of this stage, with every key it declares; ``fresh`` skips the
    cache (for the one writer of a secret, which must not act on an old value)."""
    declared = _declared(name)
    try:
        value = _fetch(resources.secret_name(settings().stage, name), fresh)
    except LookupError:
        raise SecretMissing(name) from None
    if not isinstance(value, dict) or any(key not in value for key in declared.keys):
        raise SecretMissing(name)
    return value


def put(name: str, value: Mapping[str, Any]) -> None:
    """Write a new value of the secret ``name`` (a new version; the old one stays as
    AWSPREVIOUS). Only a secret's declared writer does this (Schedule.writes_secrets)."""
    _declared(name)
    aws.client("secretsmanager").put_secret_value(SecretId=resources.secret_name(settings().stage, name),
                                                  SecretString=json.dumps(dict(value)))
    reset()


def stage_credentials(name: str, local: Mapping[str, tuple[str, str]]) -> dict[str, str]:
    """The credentials ``name`` of this stage, ``local`` mapping each key to (its value in the
    local stage's settings, the obviously fake default of that setting).

    The local stage uses those values. Every other stage reads the secret
    ``name`` only: a credential in an environment variable would sit in plain text in the
    function's configuration. A secret still holding a local fake or the placeholder is a
    deployment mistake, refused as ``SecretMissing`` (service unavailable), never used."""
    if settings().is_local:
        return {key: value for key, (value, _) in local.items()}
    stored = secret(name)
    refused = {fake for _, fake in local.values()} | {PLACEHOLDER}
    if any(stored.get(key) in refused or not isinstance(stored.get(key), str) for key in local):
        raise SecretMissing(name)
    return {key: stored[key] for key in local}


def id_hash_key() -> str:
    """The HMAC key of the id-number lookups: MOTCUA_ID_HASH_KEY in the local stage, the
    ``id-hash`` secret elsewhere (a known key would make the 12-digit numbers guessable)."""
    from chalicelib.runtime.settings import FAKE_ID_HASH_KEY
    return stage_credentials("id-hash", {"key": (settings().local_credentials.id_hash_key, FAKE_ID_HASH_KEY)})["key"]


def reset() -> None:
    """Forget every secret read (tests switch moto instances; a writer after its write)."""
    _cache.clear()
