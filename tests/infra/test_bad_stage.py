"""`make synth` with an unknown stage or a missing setting stops before anything is built."""
from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from infra.stages import DEFAULT_FILE
from infra.assembly import synth
from tests.infra.conftest import ROOT


def make_synth(stage: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(["make", "--no-print-directory", "synth", f"STAGE={stage}"], cwd=ROOT, capture_output=True,
                          text=True, timeout=120, env={**os.environ, **env})


def test_make_synth_refuses_an_unknown_stage_before_synthesizing() -> None:
    done = make_synth("qa-unknown")
    assert done.returncode != 0
    assert "unknown stage 'qa-unknown'" in done.stderr and "dev, prod, staging" in done.stderr
    assert not (ROOT / "infra" / "cdk.out" / "qa-unknown").exists()
    assert "cdk synth" not in done.stdout


def test_make_synth_names_a_missing_required_setting(tmp_path: Path) -> None:
    document = json.loads(DEFAULT_FILE.read_text(encoding="utf-8"))
    document["stages"]["qa-missing"] = {k: v for k, v in document["stages"]["staging"].items() if k != "portal_origin"}
    stages = tmp_path / "stages.json"
    stages.write_text(json.dumps(document), encoding="utf-8")
    done = make_synth("qa-missing", MOTCUA_STAGES_FILE=str(stages))
    assert done.returncode != 0
    assert "stage 'qa-missing': missing required setting 'portal_origin'" in done.stderr
    assert not (ROOT / "infra" / "cdk.out" / "qa-missing").exists()


def test_the_cdk_app_itself_refuses_a_bad_stage_and_writes_nothing(tmp_path: Path) -> None:
    """What `cdk synth -c stage=…` runs, for anyone calling the CDK CLI directly."""
    done = synth("qa-unknown", tmp_path / "out", tmp_path)
    assert done.returncode == 2
    assert "unknown stage 'qa-unknown'" in done.stderr
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())
