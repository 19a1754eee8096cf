"""MotCua's AWS CDK app: one stack per stage, built from chalicelib.resources."""
