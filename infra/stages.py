"""Stage settings for the CDK app, from one file (infra/stages.json).

Every stage's settings are checked here before anything is synthesized, so an unknown stage
or a missing setting stops ``make synth`` with a message that names it. ``python -m
infra.stages STAGE`` runs the same check on its own (the Makefile does so before calling
the CDK CLI).
"""
from __future__ import annotations

import json
import os
import re
import sys
from dataclasses import dataclass, fields
from pathlib import Path
from types import MappingProxyType
from typing import Any
from collections.abc import Mapping

DEFAULT_FILE = Path(__file__).with_name("stages.json")
STAGES_FILE_ENV = "MOTCUA_STAGES_FILE"
_ORIGIN = re.compile(r"^https://[a-z0-9.-]+(:\d+)?$")
_DOMAIN_KEYS = ("name", "certificate_arn", "hosted_zone_id", "hosted_zone_name")


class StageError(ValueError):
    """A stage that cannot be synthesized; the message names the stage and the setting."""


@dataclass(frozen=True)
class Domain:
    name: str
    certificate_arn: str
    hosted_zone_id: str | None
    hosted_zone_name: str | None


@dataclass(frozen=True)
class IdentityProvider:
    """An external OIDC issuer (VNeID, the national portal's SSO) federated into the stage's
    Cognito user pool: Cognito verifies its tokens by issuer and JWKS (from the issuer's
    discovery document) and issues its own, which the API Gateway authorizer verifies."""
    name: str
    issuer: str
    client_id: str
    client_secret_name: str        # Secrets Manager name; resolved at deploy, never in the template
    id_number_claim: str           # the provider's claim holding the CCCD number


_PROVIDER_KEYS = ("name", "issuer", "client_id", "client_secret_name", "id_number_claim")


@dataclass(frozen=True)
class StageConfig:
    stage: str
    account: str | None
    region: str
    portal_origin: str
    api_memory_mb: int
    consumer_memory_mb: int
    api_reserved_concurrency: int | None
    consumer_reserved_concurrency: int | None
    log_retention_days: int
    deletion_protection: bool
    attachment_retention_days: int
    event_archive_retention_days: int
    audit_retention_days: int
    alarm_emails: tuple[str, ...]
    api_5xx_rate_alarm: float
    national_sync_lag_alarm_seconds: int
    api_throttle_rate: int
    api_throttle_burst: int
    waf_rate_limit: int                    # requests per address per 5 minutes before WAF blocks it
    manage_apigateway_account_role: bool
    domain: Domain | None
    identity_providers: tuple[IdentityProvider, ...]
    auth_domain_prefix: str | None
    provider_settings: Mapping[str, str]   # the functions' provider endpoints (PROVIDER_SETTINGS)

    @property
    def stack_name(self) -> str:
        return f"motcua-{self.stage}"


REQUIRED = tuple(f.name for f in fields(StageConfig) if f.name != "stage")
# Where a deployed function reaches the outside world. The code's defaults point at the
# loopback simulators of the local stack, so every AWS stage must set each one: an https URL
# (never loopback), the province's unit code, the sender address. Optional: VNPay's
# production pay page and merchant API, which live apart from its sandbox host; the online
# providers offered (MOTCUA_PAYMENT_PROVIDERS) and PayGov's addresses, PAYGOV_HOST being
# required while PayGov is offered (it is by default).
PROVIDER_SETTINGS = ("VNPAY_HOST", "MOTCUA_PUBLIC_URL", "MOTCUA_NATIONAL_URL", "MOTCUA_NATIONAL_MADONVI",
                     "MOTCUA_ZALO_URL", "MOTCUA_ZALO_OAUTH_URL", "MOTCUA_EMAIL_SENDER")
OPTIONAL_PROVIDER_SETTINGS = ("VNPAY_PAY_URL", "VNPAY_API_URL", "MOTCUA_PAYMENT_PROVIDERS", "PAYGOV_HOST",
                              "PAYGOV_INIT_URL", "PAYGOV_QUERY_URL")
_HTTPS_URL = re.compile(r"^https://(?!(?:127\.|localhost\b|0\.0\.0\.0))[a-z0-9.-]+(:\d+)?(/[A-Za-z0-9._~/-]*)?$")
_MADONVI = re.compile(r"^\d{3}\.\d{2}\.\d{2}\.[A-Z]\d{2}$")
_INTS = ("api_memory_mb", "consumer_memory_mb", "log_retention_days", "attachment_retention_days",
         "event_archive_retention_days", "audit_retention_days", "national_sync_lag_alarm_seconds", "api_throttle_rate",
         "api_throttle_burst", "waf_rate_limit")
_OPTIONAL_INTS = ("api_reserved_concurrency", "consumer_reserved_concurrency")
_BOOLS = ("deletion_protection", "manage_apigateway_account_role")
# The retention periods CloudWatch Logs accepts.
LOG_RETENTION_DAYS = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557,
                      2922, 3288, 3653)


def stages_file() -> Path:
    return Path(os.environ.get(STAGES_FILE_ENV) or DEFAULT_FILE)


def load(stage: str | None, path: Path | None = None) -> StageConfig:
    """The checked settings of one stage. Raises StageError naming what is wrong."""
    path = path or stages_file()
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise StageError(f"cannot read stage settings from {path}: {exc}") from None
    known = sorted(document.get("stages", {}))
    if not stage:
        raise StageError(f"no stage given: use STAGE=<one of {', '.join(known)}>")
    if stage not in known:
        raise StageError(f"unknown stage {stage!r} in {path}: known stages are {', '.join(known)}")
    merged: dict[str, Any] = {**document.get("defaults", {}), **document["stages"][stage]}
    missing = [key for key in REQUIRED if key not in merged]
    if missing:
        raise StageError(f"stage {stage!r}: missing required setting {missing[0]!r} in {path}"
                         + (f" (also missing: {', '.join(missing[1:])})" if missing[1:] else ""))
    return _check(stage, merged)


def _fail(stage: str, key: str, why: str) -> StageError:
    return StageError(f"stage {stage!r}: setting {key!r} {why}")


def _check(stage: str, raw: dict[str, Any]) -> StageConfig:
    for key in _INTS:
        if not isinstance(raw[key], int) or isinstance(raw[key], bool) or raw[key] <= 0:
            raise _fail(stage, key, "must be a positive integer")
    for key in _OPTIONAL_INTS:
        if raw[key] is not None and (not isinstance(raw[key], int) or isinstance(raw[key], bool) or raw[key] < 1):
            raise _fail(stage, key, "must be null or a positive integer")
    if raw["log_retention_days"] not in LOG_RETENTION_DAYS:
        raise _fail(stage, "log_retention_days", "must be one of CloudWatch's periods: "
                    + ", ".join(map(str, LOG_RETENTION_DAYS)))
    for key in _BOOLS:
        if not isinstance(raw[key], bool):
            raise _fail(stage, key, "must be true or false")
    if not isinstance(raw["region"], str) or not re.fullmatch(r"[a-z]{2}(-[a-z]+)+-\d", raw["region"]):
        raise _fail(stage, "region", "must be an AWS region such as ap-southeast-1")
    if raw["account"] is not None and not re.fullmatch(r"\d{12}", str(raw["account"])):
        raise _fail(stage, "account", "must be null or a 12-digit AWS account id")
    if not isinstance(raw["portal_origin"], str) or not _ORIGIN.match(raw["portal_origin"]):
        raise _fail(stage, "portal_origin", "must be an https origin such as https://dichvucong.example.vn")
    emails = raw["alarm_emails"]
    if not isinstance(emails, list) or not all(isinstance(e, str) and "@" in e for e in emails):
        raise _fail(stage, "alarm_emails", "must be a list of e-mail addresses (may be empty)")
    rate = raw["api_5xx_rate_alarm"]
    if not isinstance(rate, (int, float)) or isinstance(rate, bool) or not 0 < rate < 1:
        raise _fail(stage, "api_5xx_rate_alarm", "must be a fraction between 0 and 1")
    if not 100 <= raw["waf_rate_limit"] <= 2_000_000_000:
        raise _fail(stage, "waf_rate_limit", "must be between 100 and 2,000,000,000 (AWS WAF's rate-based rule limits)")
    values = {key: raw[key] for key in REQUIRED}
    values.update(alarm_emails=tuple(emails), domain=_domain(stage, raw["domain"]),
                  api_5xx_rate_alarm=float(rate), identity_providers=_providers(stage, raw["identity_providers"]),
                  provider_settings=_provider_settings(stage, raw["provider_settings"]))
    prefix = raw["auth_domain_prefix"]
    if (values["identity_providers"] or prefix is not None) and not (
            isinstance(prefix, str) and re.fullmatch(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?", prefix)):
        raise _fail(stage, "auth_domain_prefix", "must be a lowercase Cognito domain prefix "
                    "(required when identity_providers are set)")
    return StageConfig(stage=stage, **values)


def _domain(stage: str, raw: Any) -> Domain | None:
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise _fail(stage, "domain", "must be null or an object with " + ", ".join(_DOMAIN_KEYS))
    for key in _DOMAIN_KEYS:
        if key not in raw:
            raise _fail(stage, f"domain.{key}", "is required when a domain is set")
    for key in ("name", "certificate_arn"):
        if not isinstance(raw[key], str) or not raw[key]:
            raise _fail(stage, f"domain.{key}", "must be a non-empty string")
    if (raw["hosted_zone_id"] is None) != (raw["hosted_zone_name"] is None):
        raise _fail(stage, "domain.hosted_zone_id", "and domain.hosted_zone_name must be set together")
    return Domain(**{key: raw[key] for key in _DOMAIN_KEYS})


def _provider_settings(stage: str, raw: Any) -> Mapping[str, str]:
    if not isinstance(raw, dict):
        raise _fail(stage, "provider_settings", "must be an object with " + ", ".join(PROVIDER_SETTINGS))
    for key in PROVIDER_SETTINGS:
        if key not in raw:
            raise _fail(stage, f"provider_settings.{key}", "is required: the code's default is a local simulator")
    for key, value in raw.items():
        if key not in PROVIDER_SETTINGS + OPTIONAL_PROVIDER_SETTINGS:
            raise _fail(stage, f"provider_settings.{key}", "is not a provider setting: "
                        + ", ".join(PROVIDER_SETTINGS + OPTIONAL_PROVIDER_SETTINGS))
        if key.endswith(("_URL", "_HOST")) and not (isinstance(value, str) and _HTTPS_URL.match(value)):
            raise _fail(stage, f"provider_settings.{key}", "must be an https URL that is not loopback")
    offered = str(raw.get("MOTCUA_PAYMENT_PROVIDERS") or "vnpay,paygov").split(",")
    if "paygov" in (name.strip() for name in offered) and "PAYGOV_HOST" not in raw:
        raise _fail(stage, "provider_settings.PAYGOV_HOST", "is required while MOTCUA_PAYMENT_PROVIDERS offers paygov "
                    "(the default): the code's default is a local simulator")
    if not isinstance(raw["MOTCUA_NATIONAL_MADONVI"], str) or not _MADONVI.match(raw["MOTCUA_NATIONAL_MADONVI"]):
        raise _fail(stage, "provider_settings.MOTCUA_NATIONAL_MADONVI", "must be a unit code such as 000.00.00.H50")
    if not isinstance(raw["MOTCUA_EMAIL_SENDER"], str) or "@" not in raw["MOTCUA_EMAIL_SENDER"]:
        raise _fail(stage, "provider_settings.MOTCUA_EMAIL_SENDER", "must be an e-mail address")
    return MappingProxyType(dict(raw))


def _providers(stage: str, raw: Any) -> tuple[IdentityProvider, ...]:
    if not isinstance(raw, list):
        raise _fail(stage, "identity_providers", "must be a list (may be empty)")
    providers = []
    for i, entry in enumerate(raw):
        if not isinstance(entry, dict):
            raise _fail(stage, f"identity_providers[{i}]", "must be an object with " + ", ".join(_PROVIDER_KEYS))
        for key in _PROVIDER_KEYS:
            if not isinstance(entry.get(key), str) or not entry[key]:
                raise _fail(stage, f"identity_providers[{i}].{key}", "must be a non-empty string")
        if not entry["issuer"].startswith("https://"):
            raise _fail(stage, f"identity_providers[{i}].issuer", "must be an https URL")
        if not re.fullmatch(r"[A-Za-z0-9_-]{3,32}", entry["name"]):
            raise _fail(stage, f"identity_providers[{i}].name", "must be 3-32 letters, digits, '-' or '_'")
        providers.append(IdentityProvider(**{key: entry[key] for key in _PROVIDER_KEYS}))
    return tuple(providers)


def main(argv: list[str]) -> int:
    try:
        config = load(argv[0] if argv else None)
    except StageError as error:
        print(f"infra: {error}", file=sys.stderr)
        return 2
    print(f"infra: stage {config.stage!r} settings OK ({config.stack_name}, {config.region})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
