"""cdk-nag's AWS Solutions pack over the stack, and every suppression with its reason.

Suppressions are attached by the kind of construct, not by path, so a consumer or secret
added to resources.py gets the same, already-justified treatment. Each ``applies_to`` names
the exact wildcard it allows; anything else still fails.
"""
from __future__ import annotations

import re
from typing import Any

from aws_cdk import Aspects, Stack, aws_backup as backup, aws_cognito as cognito, aws_iam as iam, aws_lambda as lambda_
from aws_cdk import aws_secretsmanager as sm, aws_sqs as sqs
from cdk_nag import AwsSolutionsChecks, NagSuppressions

XRAY = {"id": "AwsSolutions-IAM5", "applies_to": ["Resource::*"],
        "reason": "xray:PutTraceSegments/PutTelemetryRecords and dynamodb:ListStreams have no resource-level "
                  "permissions; '*' is the only resource AWS accepts for them."}
INDEXES = {"id": "AwsSolutions-IAM5", "applies_to": [{"regex": "/^Resource::<Table.+\\.Arn>\\/index\\/\\*$/g"}],
           "reason": "Queries go to the GSIs of the tables this function declares (resources.py); index/* "
                     "covers exactly those tables' indexes, including ones added later."}
LOG_STREAMS = {"id": "AwsSolutions-IAM5", "applies_to": [
    {"regex": "/^Resource::arn:<AWS::Partition>:logs:.*:log-group:\\/aws\\/lambda\\/motcua-.+:\\*$/g"}],
    "reason": "The function writes log streams (named by Lambda at run time) in its own log group only."}


def _objects() -> dict[str, Any]:
    """Object access under the key prefixes declared in resources.py (uploads/, receipts/)."""
    from infra.inventory import Inventory
    prefixes = "|".join(re.escape(p.rstrip("/")) for p in Inventory.declared().object_prefixes)
    return {"id": "AwsSolutions-IAM5", "applies_to": [{"regex": f"/^Resource::<Attachments.+\\.Arn>\\/({prefixes})\\/\\*$/g"}],
            "reason": "Functions reach objects under the key prefixes they declare in resources.py only "
                      "(uploads/, receipts/); keys below them are random or payment ids, unknown in advance."}


RUNTIME = {"id": "AwsSolutions-L1",
           "reason": "Pinned on purpose to the CPython the package's compiled wheels are built for "
                     "(infra/package.py PYTHON_VERSION, python3.13), the version .python-version names and the "
                     "project develops and tests on; a newer runtime comes with a new pin and wheels."}
ROTATION = {"id": "AwsSolutions-SMG4",
            "reason": "Provider credentials (VNPay, national portal, Zalo) are issued by those providers and "
                      "rotated through their portals (Zalo's access token is renewed hourly by the zalo-token function); "
                      "the id-hash key must never change, since every id-number lookup key was made with it."}
FAILURES_QUEUE = {"id": "AwsSolutions-SQS3",
                  "reason": "This queue is the on-failure destination of a DynamoDB stream mapping, i.e. a "
                            "dead-letter queue itself; cdk-nag only recognises DLQs of other queues."}
APIGW_LOGS_ROLE = {"id": "AwsSolutions-IAM4", "applies_to": [
    "Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs"],
    "reason": "The AWS-maintained policy API Gateway documents for its account-level logging role."}
BACKUP_ROLE = {"id": "AwsSolutions-IAM4", "applies_to": [
    "Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForBackup"],
    "reason": "The AWS-maintained policy AWS Backup documents for the role that takes the tables' backups."}
MFA = {"id": "AwsSolutions-COG2",
       "reason": "Citizens sign in occasionally and from their own phones; TOTP MFA is offered (optional), "
                 "required MFA would lock many out. Tightening it for officers is a sign-in policy decision outside this stack."}
PLUS_TIER = {"id": "AwsSolutions-COG8",
             "reason": "The Plus feature plan is a per-province cost decision; the Essentials plan with "
                       "prevent_user_existence_errors and a strong password policy is the default."}


def _suppress(construct: Any, *rules: dict[str, Any]) -> None:
    NagSuppressions.add_resource_suppressions(construct, list(rules), apply_to_children=True)


def suppress(stack: Stack) -> None:
    objects = _objects()
    for construct in stack.node.find_all():
        if isinstance(construct, iam.Role) and construct.node.id.startswith("Role-"):
            _suppress(construct, XRAY, INDEXES, LOG_STREAMS, objects)
        elif isinstance(construct, iam.Role) and construct.node.id == "ApiGatewayLogsRole":
            _suppress(construct, APIGW_LOGS_ROLE)
        elif isinstance(construct, backup.BackupSelection):
            _suppress(construct, BACKUP_ROLE)
        elif isinstance(construct, lambda_.Function):
            _suppress(construct, RUNTIME)
        elif isinstance(construct, sm.Secret):
            _suppress(construct, ROTATION)
        elif isinstance(construct, sqs.Queue) and construct.node.id.startswith("Failures-"):
            _suppress(construct, FAILURES_QUEUE)
        elif isinstance(construct, cognito.UserPool):
            _suppress(construct, MFA, PLUS_TIER)


def check(stack: Stack) -> None:
    """Run the pack at synth; findings without a suppression become synth errors."""
    suppress(stack)
    Aspects.of(stack).add(AwsSolutionsChecks(verbose=True))
