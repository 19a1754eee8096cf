"""checkov, an independent IaC scanner, over the synthesized template, next to cdk-nag.

Every finding is fixed or skipped here with its reason. A check skipped for the whole stack
is one whose premise does not hold for MotCua's design; a check that holds in general but
not for one resource is skipped on that resource (its CloudFormation ``Metadata``, written by
``skip_on``) so that a new resource of the same kind is still checked. checkov runs from its
own virtual environment (``make .venv-checkov``, requirements-checkov.txt): its pinned
dependencies would clash with the project's.
"""
from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

from aws_cdk import CfnResource

ROOT = Path(__file__).resolve().parents[1]
CHECKOV = ROOT / ".venv-checkov" / "bin" / "checkov"

_AWS_KEYS = ("Encrypted at rest with the service's AWS-managed key. A customer-managed KMS key adds key "
             "administration and a KMS call per read, and protects against nothing the IAM policies do not "
             "already; a province whose security policy demands its own keys sets them here "
             "(docs/security.md, Encryption).")
SKIPS: dict[str, str] = {
    "CKV_AWS_116": "A function DLQ applies to asynchronous invocations only. The API is invoked synchronously, "
                   "the consumers by SQS and stream mappings whose failures go to the queue's DLQ or the "
                   "mapping's on-failure destination, and the schedules have an on-failure destination queue "
                   "(infra/functions.py); all of them are alarmed.",
    "CKV_AWS_117": "The functions reach AWS services through their public endpoints and the providers over "
                   "the internet; a VPC would add NAT gateways and endpoints and put nothing behind a private "
                   "network.",
    "CKV_AWS_120": "API answers are personal (a citizen's dossiers) or must be current (tracking, payments): "
                   "a cache would serve one caller's answer to another, or a stale state.",
    "CKV_AWS_173": "The functions' environment holds no secret (endpoints, names, the stage); credentials "
                   "are read from Secrets Manager at run time (chalicelib/runtime/credentials.py). "
                   + _AWS_KEYS,
    **dict.fromkeys(("CKV_AWS_119", "CKV_AWS_149", "CKV_AWS_158", "CKV_AWS_166", "CKV_AWS_27"), _AWS_KEYS),
}


def skip_on(resource: CfnResource, **reasons: str) -> None:
    """Skip checks ``{check id: reason}`` on this one resource, in the template itself."""
    existing = resource.cfn_options.metadata or {}
    resource.cfn_options.metadata = {**existing, "checkov": {"skip": [
        {"id": check, "comment": reason} for check, reason in reasons.items()]}}


def failed_checks(template: dict[str, Any], workdir: Path) -> list[dict[str, Any]]:
    """What checkov finds in ``template`` beyond the skips: (check id, resource, name) each."""
    path = workdir / "checkov.template.json"
    path.write_text(json.dumps(template), encoding="utf-8")
    done = subprocess.run([str(CHECKOV), "--file", str(path), "--framework", "cloudformation", "--output", "json",
                           "--quiet", "--compact", "--skip-check", ",".join(SKIPS)],
                          capture_output=True, text=True, timeout=600, check=False)
    if done.returncode not in (0, 1):
        raise RuntimeError(f"checkov failed ({done.returncode}): {done.stderr[-2000:]}")
    report = json.loads(done.stdout) if done.stdout.strip() else {}
    report = report[0] if isinstance(report, list) else report
    return [{"check": r["check_id"], "resource": r["resource"], "name": r["check_name"]}
            for r in report.get("results", {}).get("failed_checks", [])]
