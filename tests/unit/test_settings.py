"""Settings are read in one module and checked at cold start: a bad value stops the start with
the setting's name, an AWS stage must set what the local stage defaults, and no other module
of the deployed code reads the environment."""
from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

from chalicelib.runtime.settings import LOCAL_STAGE, SettingError, declared, load

ROOT = Path(__file__).resolve().parents[2]
DEPLOYED = ("chalicelib", "handlers", "payments", "receipt_pdf")
# Allowed to read the environment, and why.
READERS = {
    "chalicelib/runtime/settings.py": "the one settings module",
    "payments/simulator.py": "the VNPay simulator's own command line (python -m payments.simulator), "
                             "a local tool that no deployed function runs",
    "payments/paygov_simulator.py": "the PayGov simulator's own command line, a local tool like the VNPay one",
}
AWS_STAGE = {"MOTCUA_STAGE": "prod", "MOTCUA_ATTACHMENTS_BUCKET": "motcua-prod-attachments-1a2b",
             "MOTCUA_PUBLIC_URL": "https://dichvucong.example.vn", "VNPAY_HOST": "https://sandbox.vnpayment.vn",
             "MOTCUA_NATIONAL_URL": "https://dvcqg.example.vn/motcua", "MOTCUA_NATIONAL_MADONVI": "000.00.00.H50",
             "MOTCUA_NATIONAL_DSTCODE": "DVCQG-EXAMPLE",
             "MOTCUA_ZALO_URL": "https://business.openapi.zalo.me", "MOTCUA_ZALO_OAUTH_URL": "https://oauth.zaloapp.com",
             "MOTCUA_EMAIL_SENDER": "thongbao@dichvucong.example.vn"}


def reads_environment(tree: ast.AST) -> list[int]:
    """Lines that touch os.environ, os.getenv or os.putenv, however imported."""
    names = ("environ", "environb", "getenv", "putenv")
    return [node.lineno for node in ast.walk(tree)
            if (isinstance(node, ast.Attribute) and node.attr in names)
            or (isinstance(node, ast.ImportFrom) and node.module == "os" and any(a.name in names for a in node.names))]


def test_no_module_of_the_deployed_code_but_settings_reads_the_environment():
    offenders = []
    for package in DEPLOYED:
        for path in sorted((ROOT / package).rglob("*.py")):
            name = path.relative_to(ROOT).as_posix()
            lines = reads_environment(ast.parse(path.read_text(encoding="utf-8")))
            if lines and name not in READERS:
                offenders.append(f"{name}:{lines}")
    assert offenders == []


def test_the_scan_sees_every_way_of_reading_the_environment():
    sources = ["import os\nos.environ.get('X')", "import os\nos.getenv('X')", "from os import environ",
               "from os import getenv as g", "import os\nx = os.environ['X']"]
    assert all(reads_environment(ast.parse(source)) for source in sources)
    assert not reads_environment(ast.parse("from chalicelib.runtime.settings import settings\nsettings().stage"))


def test_the_local_stage_runs_with_no_settings_at_all():
    found = load({})
    assert found.stage == LOCAL_STAGE and found.public_url == "http://127.0.0.1:8000"
    assert found.local_credentials.vnpay_hash_secret == "LOCALSIMULATORSECRETNOTREAL"


@pytest.mark.parametrize(("name", "value", "why"), [
    ("MOTCUA_MAX_BODY_BYTES", "1MB", "must be a whole number"),
    ("MOTCUA_UPLOAD_URL_TTL", "0", "must be greater than 0"),
    ("MOTCUA_NATIONAL_TIMEOUT", "soon", "must be a number"),
    ("MOTCUA_PUBLIC_URL", "portal.example.vn", "absolute http(s) URL"),
    ("VNPAY_HOST", "https://pay.example.vn\r\nX: 1", "without spaces or line breaks"),
    ("MOTCUA_WORKDAY_END", "5pm", "HH:MM"),
    ("MOTCUA_EMAIL_SENDER", "thongbao", "e-mail address"),
    ("MOTCUA_NATIONAL_MADONVI", "H50", "unit code"),
    ("MOTCUA_STAGE", "Prod Stage", "stage name"),
])
def test_a_malformed_setting_is_refused_by_name(name, value, why):
    with pytest.raises(SettingError, match=re.escape(why)) as refused:
        load({**AWS_STAGE, name: value} if name in AWS_STAGE else {name: value})
    assert refused.value.setting == name and name in str(refused.value)


@pytest.mark.parametrize("name", sorted(spec.name for spec in declared() if spec.required_in_aws and spec.name != "MOTCUA_STAGE"))
def test_an_aws_stage_without_a_required_setting_is_refused_by_name(name):
    with pytest.raises(SettingError, match=f"{name} is required in stage 'prod'"):
        load({key: value for key, value in AWS_STAGE.items() if key != name})


def test_an_aws_stage_with_every_required_setting_loads_and_keeps_secrets_out_of_its_repr():
    found = load({**AWS_STAGE, "MOTCUA_NATIONAL_PASSWORD": "p4ss-w0rd", "MOTCUA_PUBLIC_URL": "https://dichvucong.example.vn/"})
    assert found.public_url == "https://dichvucong.example.vn" and found.attachments_bucket == AWS_STAGE["MOTCUA_ATTACHMENTS_BUCKET"]
    assert "p4ss-w0rd" not in repr(found)


def test_an_empty_value_counts_as_unset_and_the_older_region_name_is_still_read():
    found = load({"MOTCUA_AWS_ENDPOINT": "", "AWS_DEFAULT_REGION": "eu-west-1"})
    assert found.aws_endpoint_url is None and found.region == "eu-west-1"
    assert load({"AWS_REGION": "ap-southeast-2", "AWS_DEFAULT_REGION": "eu-west-1"}).region == "ap-southeast-2"


def test_connector_endpoints_are_read_by_their_configured_names():
    found = load({"MOTCUA_CONNECTOR_JUDICIAL_RECORDS_URL": "https://lltp.example.vn/events", "MOTCUA_CONNECTOR_TIMEOUT": "3"})
    assert found.connectors.endpoints == {"MOTCUA_CONNECTOR_JUDICIAL_RECORDS_URL": "https://lltp.example.vn/events"}
    assert found.connectors.timeout_seconds == 3.0


def test_a_lambda_cold_start_with_a_bad_setting_fails_naming_it():
    env = {"PATH": "/usr/bin:/bin", "AWS_DEFAULT_REGION": "ap-southeast-1", "MOTCUA_STAGE": "local",
           "MOTCUA_MAX_BODY_BYTES": "lots"}
    done = subprocess.run([sys.executable, "-c", "import handlers.notifications"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode != 0 and "setting MOTCUA_MAX_BODY_BYTES must be a whole number" in done.stderr


def test_every_group_holding_a_secret_keeps_it_out_of_its_own_repr():
    import chalicelib.runtime.settings as module

    groups = [cls for cls in vars(module).values() if isinstance(cls, type) and module._is_group(cls)]
    with_secrets = [cls for cls in groups if any(getattr(d, "secret", False) for d in cls._field_defaults.values())]
    assert with_secrets
    for cls in with_secrets:
        specs = {name: cls._field_defaults.get(name) for name in cls._fields}
        values = {name: (f"hidden-{name}" if getattr(spec, "secret", False) else spec) for name, spec in specs.items()}
        assert "hidden-" not in repr(cls(**values)), cls.__name__
