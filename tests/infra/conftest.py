"""One real synth of the prod stage per test session, shared by every infra test.

The synth runs ``python -m infra.main`` in a subprocess, exactly as the CDK CLI does
(``CDK_OUTDIR`` and ``CDK_CONTEXT_JSON``), so the template, the cdk-nag findings and the
staged Lambda package are the ones ``make synth STAGE=prod`` produces.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from infra.stages import StageConfig, load
from tests.api.conftest import aws_env  # noqa: F401  (the local stack in moto, for parity)

ROOT = Path(__file__).resolve().parents[2]
STAGE = "prod"


@dataclass
class Assembly:
    outdir: Path
    config: StageConfig

    @property
    def stack(self) -> str:
        return self.config.stack_name

    @property
    def template(self) -> dict[str, Any]:
        return json.loads((self.outdir / f"{self.stack}.template.json").read_text(encoding="utf-8"))

    @property
    def metadata(self) -> dict[str, Any]:
        return json.loads((self.outdir / f"{self.stack}.metadata.json").read_text(encoding="utf-8"))

    def resources(self, kind: str) -> dict[str, dict[str, Any]]:
        return {k: v for k, v in self.template["Resources"].items() if v["Type"] == kind}

    def asset_path(self, object_key: str) -> Path:
        """The staged file behind an asset's S3 key, as the CDK CLI would upload it."""
        assets = json.loads((self.outdir / f"{self.stack}.assets.json").read_text(encoding="utf-8"))
        for asset in assets["files"].values():
            if any(d["objectKey"] == object_key for d in asset["destinations"].values()):
                return self.outdir / asset["source"]["path"]
        raise KeyError(object_key)


def synth(stage: str, outdir: Path, workdir: Path, **env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("MOTCUA_")}
    clean.update(CDK_OUTDIR=str(outdir), CDK_CONTEXT_JSON=json.dumps({"stage": stage}), **env)
    return subprocess.run([sys.executable, "-m", "infra.main"], cwd=workdir, env=clean, capture_output=True,
                          text=True, timeout=600)


@pytest.fixture(scope="session")
def assembly(tmp_path_factory: pytest.TempPathFactory) -> Assembly:
    base = tmp_path_factory.mktemp("synth")
    done = synth(STAGE, base / "cdk.out", base)
    assert done.returncode == 0, done.stdout + done.stderr
    return Assembly(base / "cdk.out", load(STAGE))


@pytest.fixture(scope="session")
def template(assembly: Assembly) -> Any:
    from aws_cdk.assertions import Template
    return Template.from_json(assembly.template)
