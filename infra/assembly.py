"""A synthesized cloud assembly, read back: the template and the Lambda packages as CDK
staged them. Used by the infra tests and by ``make bench``."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from infra.stages import StageConfig, load


@dataclass(frozen=True)
class StagedFunction:
    name: str
    handler: str                  # "module:function"
    package: Path                 # the zip CDK would upload
    environment: dict[str, Any]   # as in the template (may hold references)


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

    def functions(self) -> list[StagedFunction]:
        """Every Lambda function of the stack: the Chalice API and the plain consumers."""
        found = []
        for kind, code in (("AWS::Serverless::Function", "CodeUri"), ("AWS::Lambda::Function", "Code")):
            for props in (r["Properties"] for r in self.resources(kind).values()):
                key = props[code]["Key"] if code == "CodeUri" else props[code]["S3Key"]
                module, _, attribute = props["Handler"].rpartition(".")
                found.append(StagedFunction(props["FunctionName"], f"{module}:{attribute}", self.asset_path(key),
                                            props["Environment"]["Variables"]))
        return found


# The Node.js infra/package.json pins, once `make synth` (npm ci) has installed it.
PINNED_NODE = Path(__file__).resolve().parent / "node_modules" / ".bin" / "node"


def synth(stage: str, outdir: Path, workdir: Path, **env: str) -> subprocess.CompletedProcess:
    """Run the CDK app as the CDK CLI does (CDK_OUTDIR, CDK_CONTEXT_JSON), in a subprocess; its
    jsii runs on the pinned Node.js when it is installed, else on the machine's ``node``."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("MOTCUA_")}
    if PINNED_NODE.exists():
        clean["JSII_NODE"] = str(PINNED_NODE)
    clean.update(CDK_OUTDIR=str(outdir), CDK_CONTEXT_JSON=json.dumps({"stage": stage}), **env)
    return subprocess.run([sys.executable, "-m", "infra.main"], cwd=workdir, env=clean, capture_output=True,
                          text=True, timeout=600)


def synthesized(stage: str, base: Path) -> Assembly:
    base.mkdir(parents=True, exist_ok=True)
    done = synth(stage, base / "cdk.out", base)
    if done.returncode != 0:
        raise RuntimeError(f"synth of {stage} failed:\n{done.stdout}\n{done.stderr}")
    return Assembly(base / "cdk.out", load(stage))
