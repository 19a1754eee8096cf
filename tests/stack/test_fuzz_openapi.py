"""Schemathesis against the contract the local stack serves at /openapi.json.

Stateless: every operation, generated inputs (valid and invalid), each answer checked for no
5xx, a documented status code, the documented content type and a body matching the schema.
Stateful: the contract's OpenAPI links (submit -> read / accept / pay -> act -> ...) chain
real dossiers through their lifecycle. Examples per operation: MOTCUA_FUZZ_EXAMPLES (small in
`make test`; `make soak` sets 200).
"""
from __future__ import annotations

import os
from typing import Any, Iterator

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, settings
from schemathesis.checks import not_a_server_error
from schemathesis.openapi.checks import (
    content_type_conformance, response_schema_conformance, status_code_conformance,
)

from motcua.local_process import LocalStack

pytestmark = pytest.mark.stack

EXAMPLES = int(os.environ.get("MOTCUA_FUZZ_EXAMPLES", "3"))
STEPS = int(os.environ.get("MOTCUA_FUZZ_STEPS", "4"))
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
AGENCY = "000.21.30.H50"            # 1.001193: no fees, no internal steps; officers of this agency act on it
PROCEDURE = "1.001193"
SETTINGS = dict(deadline=None, derandomize=True, database=None, suppress_health_check=list(HealthCheck))


@pytest.fixture(scope="module")
def fuzz_stack() -> Iterator[LocalStack]:
    running = LocalStack()
    yield running
    assert running.stop() == 0


@pytest.fixture(scope="module")
def tokens(fuzz_stack: LocalStack) -> dict[str, str]:
    return {"citizen": fuzz_stack.token("citizen", sub="fuzz-citizen"),
            "officer": fuzz_stack.token("officer", AGENCY, sub="fuzz-officer"),
            "finance": fuzz_stack.token("finance", sub="fuzz-finance"),
            "admin": fuzz_stack.token("admin", sub="fuzz-admin")}


def role_for(method: str, path: str) -> str:
    """The role that can reach the operation's business logic, so the fuzzer gets past 403."""
    if path.startswith(("/finance", "/reports/payments", "/payments/{payment_id}/refunds")):
        return "finance"
    if path.startswith(("/reports", "/dossiers/{code}/corrections/{correction_id}")):
        return "admin"
    if path.startswith("/desk") or path.endswith(("/accept", "/refuse", "/actions", "/forward", "/corrections")):
        return "officer"
    if method == "GET" and path == "/dossiers":
        return "officer"
    return "citizen"


@pytest.fixture(scope="module")
def api_schema(fuzz_stack: LocalStack) -> Any:
    loaded = schemathesis.openapi.from_url(fuzz_stack.api + "/openapi.json")
    loaded.config.update(base_url=fuzz_stack.api)
    return loaded


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(max_examples=EXAMPLES, phases=[Phase.explicit, Phase.generate], **SETTINGS)
def test_every_operation_answers_within_its_contract(case: Any, tokens: dict[str, str]) -> None:
    role = role_for(case.method, case.path)
    case.call_and_validate(headers={"Authorization": f"Bearer {tokens[role]}"}, checks=CHECKS)
