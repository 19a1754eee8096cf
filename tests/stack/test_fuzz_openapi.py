"""Schemathesis against the contract the local stack serves at /openapi.json.

Stateless: every operation, generated inputs (valid and invalid), each answer checked for no
5xx, a documented status code, the documented content type and a body matching the schema.
Stateful: the contract's OpenAPI links (submit -> read / accept / pay -> act -> ...) chain
real dossiers through their lifecycle. Examples per operation: MOTCUA_FUZZ_EXAMPLES (small in
`make test`; `make soak` sets 200); stateful scenarios MOTCUA_FUZZ_SCENARIOS of up to
MOTCUA_FUZZ_STEPS calls each.
"""
from __future__ import annotations

import json
import os
import uuid
from typing import Any
from collections.abc import Iterator

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance, response_schema_conformance, status_code_conformance,
)

from chalicelib.edge.contract import openapi_document
from motcua.local_process import LocalStack

pytestmark = pytest.mark.stack

EXAMPLES = int(os.environ.get("MOTCUA_FUZZ_EXAMPLES", "2"))
# The stateful run's size is its own: each scenario is up to STEPS calls that create and move
# real dossiers (whose events the consumers then work through), so its cost is SCENARIOS x
# STEPS, not one call per example; `make soak` bounds it separately (README, Load).
SCENARIOS = int(os.environ.get("MOTCUA_FUZZ_SCENARIOS", EXAMPLES))
STEPS = int(os.environ.get("MOTCUA_FUZZ_STEPS", "5"))
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
AGENCY = "000.21.30.H50"            # 1.001193: no fees, no internal steps; officers of this agency act on it
PROCEDURE = "1.001193"
SETTINGS = dict(deadline=None, derandomize=True, database=None, suppress_health_check=list(HealthCheck))


@pytest.fixture(scope="module")
def fuzz_stack() -> Iterator[LocalStack]:
    running = LocalStack()
    yield running
    assert running.stop() == 0, running.tail()


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


# The contract as the package ships it; the first test shows the stack serves exactly this.
SCHEMA = schemathesis.openapi.from_dict(openapi_document())
OPERATIONS = {op.label: op for op in (result.ok() for result in SCHEMA.get_all_operations())}
# Negative data needs something to break: operations without parameters or a body get positive only.
CASES = [(label, mode) for label, op in sorted(OPERATIONS.items())
         for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
         if mode == GenerationMode.POSITIVE or any(op.iter_parameters()) or op.body]


def test_the_stack_serves_the_contract_being_fuzzed(fuzz_stack: LocalStack) -> None:
    assert fuzz_stack.call("GET", "/openapi.json").json() == json.loads(json.dumps(openapi_document()))


@pytest.mark.parametrize(("label", "mode"), CASES, ids=[f"{label} {mode}" for label, mode in CASES])
def test_every_operation_answers_within_its_contract(label: str, mode: GenerationMode, fuzz_stack: LocalStack,
                                                     tokens: dict[str, str]) -> None:
    operation = OPERATIONS[label]
    headers = {"Authorization": f"Bearer {tokens[role_for(operation.method.upper(), operation.path)]}"}

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(max_examples=EXAMPLES, phases=[Phase.explicit, Phase.generate], **SETTINGS)
    def one(case: Any) -> None:
        case.call_and_validate(base_url=fuzz_stack.api, headers=headers, checks=CHECKS)

    try:
        one()
    except Unsatisfiable:
        if mode != GenerationMode.NEGATIVE:
            raise
        pytest.skip("the schema leaves nothing to make invalid (free-form strings only)")


def test_dossier_lifecycle_through_the_contract_links(fuzz_stack: LocalStack, tokens: dict[str, str]) -> None:
    """Submit -> read / accept / refuse / pay / deadline / history -> actions -> ... with the
    same checks on every step. A submission is pointed at a real procedure (the rest of the
    body stays generated), so links have dossiers to follow."""

    class Lifecycle(SCHEMA.as_state_machine()):  # type: ignore[misc]
        def before_call(self, case: Any) -> None:
            if case.operation.label == "POST /dossiers" and isinstance(case.body, dict):
                # attachments need real uploads and email notices an email: not the point here
                case.body.update(procedure_code=PROCEDURE, attachments=[], notify=["sms"])
                case.headers = {**(case.headers or {}), "Idempotency-Key": uuid.uuid4().hex}

        def get_call_kwargs(self, case: Any) -> dict[str, Any]:
            role = role_for(case.method, case.path)
            return {"base_url": fuzz_stack.api, "headers": {"Authorization": f"Bearer {tokens[role]}"}}

        def validate_response(self, response: Any, case: Any, additional_checks: Any = None, **kwargs: Any) -> None:
            if os.environ.get("MOTCUA_FUZZ_TRACE"):
                print("step", case.operation.label, response.status_code, response.text[:80])
            case.validate_response(response, checks=CHECKS)

    Lifecycle.run(settings=settings(max_examples=SCENARIOS, stateful_step_count=STEPS, **SETTINGS))
