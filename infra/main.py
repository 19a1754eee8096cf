"""The CDK app: ``cdk synth -c stage=prod`` (what ``make synth STAGE=prod`` runs).

The stage's settings are checked first, so a bad stage stops before anything is built.
"""
from __future__ import annotations

import sys

import infra  # noqa: F401  (quiets jsii before aws_cdk loads)
from infra.stages import StageError, load


# Feature flags the stack is written for (cdk.json would not reach in-process synths in tests).
FEATURE_FLAGS = {
    "@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy": True,
}


def main() -> int:
    import aws_cdk as cdk

    app = cdk.App(context=FEATURE_FLAGS)
    try:
        config = load(app.node.try_get_context("stage"))
    except StageError as error:
        print(f"infra: {error}", file=sys.stderr)
        return 2
    from infra.inventory import Inventory
    from infra.nag import check
    from infra.package import build_lock, stage_bundle, stage_project
    from infra.stack import MotCuaStack

    with build_lock():
        bundles = {name: stage_bundle(name) for name in Inventory.declared().bundles}
        stack = MotCuaStack(app, config, project_dir=stage_project(), bundles=bundles)
        check(stack)
        app.synth()
    return 0


if __name__ == "__main__":
    sys.exit(main())
