"""The CDK app: ``cdk synth -c stage=prod`` (what ``make synth STAGE=prod`` runs).

The stage's settings are checked first, so a bad stage stops before anything is built.
"""
from __future__ import annotations

import sys

import infra  # noqa: F401  (quiets jsii before aws_cdk loads)
from infra.stages import StageError, load


def main() -> int:
    import aws_cdk as cdk

    app = cdk.App()
    try:
        config = load(app.node.try_get_context("stage"))
    except StageError as error:
        print(f"infra: {error}", file=sys.stderr)
        return 2
    from infra.nag import check
    from infra.package import stage_project
    from infra.stack import MotCuaStack

    stack = MotCuaStack(app, config, project_dir=stage_project())
    check(stack)
    app.synth()
    return 0


if __name__ == "__main__":
    sys.exit(main())
