"""Which Python the functions run and which Node the CDK CLI runs: one pin each, read back.

Lambda runs every function on the CPython the package's wheels are built for
(infra/package.py), the one ``.python-version`` gives developers and CI; the CDK CLI runs on
the Node.js LTS that infra/package.json pins.
"""
from __future__ import annotations

import json
import re
import tomllib
from typing import Any

from chalicelib.runtime import resources
from infra.assembly import Assembly
from infra.functions import RUNTIME
from infra.package import PYTHON_VERSION
from tests.infra.conftest import ROOT

LAMBDA_PYTHON = "python3.13"


def _functions(assembly: Assembly) -> dict[str, dict[str, Any]]:
    functions = {**assembly.resources("AWS::Lambda::Function"), **assembly.resources("AWS::Serverless::Function")}
    return {f["Properties"]["FunctionName"]: f["Properties"] for f in functions.values()}


def test_every_function_the_api_included_runs_python_3_13(assembly: Assembly) -> None:
    functions = _functions(assembly)
    declared = [*resources.STREAM_CONSUMERS, *resources.QUEUE_CONSUMERS, *resources.SCHEDULES, *resources.INVOKED]
    names = ["api", *(function.name for function in declared)]
    assert set(functions) == {resources.physical_name("prod", name) for name in names}
    assert {name: props.get("Runtime") for name, props in functions.items()} == dict.fromkeys(functions, LAMBDA_PYTHON)


def test_the_package_is_built_for_the_python_lambda_developers_and_ci_run() -> None:
    assert f"python{PYTHON_VERSION}" == LAMBDA_PYTHON == RUNTIME.name
    assert (ROOT / ".python-version").read_text(encoding="utf-8").strip() == PYTHON_VERSION
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert project["requires-python"] == f">={PYTHON_VERSION}"


def test_the_cdk_cli_runs_on_the_pinned_node_22_lts_with_no_silenced_warning() -> None:
    package = json.loads((ROOT / "infra" / "package.json").read_text(encoding="utf-8"))
    assert package["engines"]["node"] == ">=22"
    assert re.fullmatch(r"22\.\d+\.\d+", package["devDependencies"]["node"])
    assert "JSII_SILENCE_WARNING" not in (ROOT / "Makefile").read_text(encoding="utf-8")
