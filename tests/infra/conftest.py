"""One real synth of the prod stage per test session, shared by every infra test.

The synth runs ``python -m infra.main`` in a subprocess, exactly as the CDK CLI does
(``CDK_OUTDIR`` and ``CDK_CONTEXT_JSON``), so the template, the cdk-nag findings and the
staged Lambda package are the ones ``make synth STAGE=prod`` produces.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from infra.assembly import Assembly, synthesized
from tests.api.conftest import aws_env  # noqa: F401  (the local stack in moto, for parity)

ROOT = Path(__file__).resolve().parents[2]
STAGE = "prod"


@pytest.fixture(scope="session")
def assembly(tmp_path_factory: pytest.TempPathFactory) -> Assembly:
    return synthesized(STAGE, tmp_path_factory.mktemp("synth"))


@pytest.fixture(scope="session")
def template(assembly: Assembly) -> Any:
    from aws_cdk.assertions import Template
    return Template.from_json(assembly.template)
