"""infra/stages.json checks: a bad stage file stops the synth with the setting's name."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from infra.stages import DEFAULT_FILE, PROVIDER_SETTINGS, REQUIRED, StageError, load


def write(tmp_path: Path, document: dict[str, Any]) -> Path:
    path = tmp_path / "stages.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


def shipped() -> dict[str, Any]:
    return json.loads(DEFAULT_FILE.read_text(encoding="utf-8"))


@pytest.mark.parametrize("stage", ["dev", "staging", "prod"])
def test_the_shipped_stages_are_complete(stage: str) -> None:
    config = load(stage)
    assert config.stack_name == f"motcua-{stage}"


def test_only_prod_protects_data_from_deletion() -> None:
    assert [load(s).deletion_protection for s in ("dev", "staging", "prod")] == [False, False, True]


def test_an_unknown_stage_names_the_known_ones() -> None:
    with pytest.raises(StageError, match=r"unknown stage 'qa'.*dev, prod, staging"):
        load("qa")


def test_no_stage_at_all_is_refused() -> None:
    with pytest.raises(StageError, match="no stage given"):
        load(None)


@pytest.mark.parametrize("setting", REQUIRED)
def test_every_missing_required_setting_is_named(tmp_path: Path, setting: str) -> None:
    document = shipped()
    document["defaults"].pop(setting, None)
    document["stages"]["prod"].pop(setting, None)
    with pytest.raises(StageError, match=f"stage 'prod': missing required setting '{setting}'"):
        load("prod", write(tmp_path, document))


@pytest.mark.parametrize("setting, value, why", [
    ("api_memory_mb", "512", "positive integer"),
    ("api_reserved_concurrency", 0, "null or a positive integer"),
    ("log_retention_days", 10, "CloudWatch's periods"),
    ("portal_origin", "http://insecure.example.vn", "https origin"),
    ("portal_origin", "*", "https origin"),
    ("alarm_emails", "ops@example.vn", "list of e-mail"),
    ("deletion_protection", "yes", "true or false"),
    ("api_5xx_rate_alarm", 5, "fraction"),
    ("account", "12345", "12-digit"),
    ("region", "saigon", "AWS region"),
])
def test_a_bad_value_names_the_setting_and_what_it_must_be(tmp_path: Path, setting: str, value: Any, why: str) -> None:
    document = shipped()
    document["stages"]["prod"][setting] = value
    with pytest.raises(StageError, match=f"'{setting}'.*{why}"):
        load("prod", write(tmp_path, document))


def test_a_domain_needs_its_certificate(tmp_path: Path) -> None:
    document = shipped()
    del document["stages"]["prod"]["domain"]["certificate_arn"]
    with pytest.raises(StageError, match=r"'domain\.certificate_arn' is required"):
        load("prod", write(tmp_path, document))


@pytest.mark.parametrize("setting", PROVIDER_SETTINGS)
def test_every_stage_must_say_where_each_provider_is(tmp_path: Path, setting: str) -> None:
    document = shipped()
    del document["stages"]["staging"]["provider_settings"][setting]
    with pytest.raises(StageError, match=f"'provider_settings.{setting}' is required"):
        load("staging", write(tmp_path, document))


@pytest.mark.parametrize("setting, value, why", [
    ("MOTCUA_NATIONAL_URL", "http://dvcqg.example.vn", "https URL that is not loopback"),
    ("VNPAY_HOST", "https://127.0.0.1:8089", "https URL that is not loopback"),
    ("MOTCUA_ZALO_OAUTH_URL", "https://localhost", "https URL that is not loopback"),
    ("MOTCUA_NATIONAL_MADONVI", "H50", "unit code"),
    ("MOTCUA_EMAIL_SENDER", "thongbao", "e-mail address"),
    ("MOTCUA_STAGE", "local", "not a provider setting"),
])
def test_a_provider_setting_that_would_reach_a_simulator_or_nowhere_is_refused(tmp_path: Path, setting: str, value: Any,
                                                                              why: str) -> None:
    document = shipped()
    document["stages"]["prod"]["provider_settings"][setting] = value
    with pytest.raises(StageError, match=f"'provider_settings.{setting}'.*{why}"):
        load("prod", write(tmp_path, document))


def test_paygov_needs_its_host_only_while_the_stage_offers_it(tmp_path: Path) -> None:
    document = shipped()
    del document["stages"]["staging"]["provider_settings"]["PAYGOV_HOST"]
    with pytest.raises(StageError, match=r"'provider_settings\.PAYGOV_HOST' is required while"):
        load("staging", write(tmp_path, document))
    document["stages"]["staging"]["provider_settings"]["MOTCUA_PAYMENT_PROVIDERS"] = "vnpay"
    assert load("staging", write(tmp_path, document)).provider_settings["MOTCUA_PAYMENT_PROVIDERS"] == "vnpay"
    document["stages"]["staging"]["provider_settings"]["PAYGOV_HOST"] = "https://127.0.0.1:8090"
    with pytest.raises(StageError, match="https URL that is not loopback"):
        load("staging", write(tmp_path, document))
