"""Provider credentials (VNPay, national portal, Zalo, our JWT key) from Secrets Manager.

Each secret is a JSON object named ``motcua/{stage}/{name}`` (see chalicelib.resources.SECRETS;
infra/ creates them, operators set the values). A secret is fetched on first use in a
container and cached for ``MOTCUA_SECRETS_MAX_AGE`` seconds (default 15 min), so a warm
Lambda makes no call per request and a rotated value is picked up without a redeploy.
Powertools' SecretsProvider does the caching and JSON decoding.
"""
from __future__ import annotations

import os
from functools import cache
from typing import Any

from chalicelib import aws, resources
from chalicelib.config import settings
from chalicelib.errors import ServiceUnavailable

DEFAULT_MAX_AGE_SECONDS = 900


class SecretMissing(ServiceUnavailable):
    """A secret the code needs is absent or lacks a key: a deployment mistake, not bad input.
    Clients see a plain 503; ``secret`` (for logs) names it."""

    def __init__(self, name: str) -> None:
        super().__init__()
        self.secret = name


@cache
def _provider() -> Any:
    from aws_lambda_powertools.utilities.parameters import SecretsProvider
    return SecretsProvider(boto3_client=aws.client("secretsmanager"))


def _declared(name: str) -> resources.Secret:
    for secret in resources.SECRETS:
        if secret.name == name:
            return secret
    raise KeyError(f"{name!r} is not in chalicelib.resources.SECRETS")


def secret(name: str) -> dict[str, Any]:
    """The JSON secret ``name`` of this stage, with every key it declares."""
    from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError, TransformParameterError

    declared = _declared(name)
    max_age = int(os.environ.get("MOTCUA_SECRETS_MAX_AGE") or DEFAULT_MAX_AGE_SECONDS)
    try:
        value = _provider().get(resources.secret_name(settings().stage, name), max_age=max_age, transform="json")
    except (GetParameterError, TransformParameterError):
        raise SecretMissing(name) from None
    if not isinstance(value, dict) or any(key not in value for key in declared.keys):
        raise SecretMissing(name)
    return value


def reset() -> None:
    """Forget the provider and its cache (tests switch moto instances)."""
    _provider.cache_clear()
