"""Every deployed function gets every setting an AWS stage must set (chalicelib/runtime/settings.py
refuses a cold start without one), so a setting made required in the code and forgotten in
infra/ fails here, not at the first deploy."""
from __future__ import annotations

from chalicelib.runtime.settings import declared


def test_every_function_of_the_stack_gets_every_setting_an_aws_stage_requires(assembly):
    required = {spec.name for spec in declared() if spec.required_in_aws}
    missing = {function.name: sorted(required - set(function.environment)) for function in assembly.functions()}
    assert {name: gaps for name, gaps in missing.items() if gaps} == {} and missing
