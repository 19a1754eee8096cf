"""MotCua's AWS CDK app: one stack per stage, built from chalicelib.runtime.resources."""

import os

# jsii (under aws-cdk-lib) prints a banner on every run for Node 20, the Node this image has.
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
