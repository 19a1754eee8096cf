"""Stateful resources: DynamoDB tables, the attachments bucket and the secrets."""
from __future__ import annotations

import json

from aws_cdk import Duration, RemovalPolicy, SecretValue, aws_dynamodb as ddb, aws_s3 as s3
from aws_cdk import aws_secretsmanager as sm
from constructs import Construct

from chalicelib.runtime import resources
from infra.checkov import skip_on
from infra.inventory import Inventory
from infra.stages import StageConfig

_STREAM_VIEWS = {view.value: view for view in ddb.StreamViewType}


def removal_policy(config: StageConfig) -> RemovalPolicy:
    """Data outlives a stack wherever deletion protection is on; dev can be torn down."""
    return RemovalPolicy.RETAIN if config.deletion_protection else RemovalPolicy.DESTROY


def _key(name: str) -> ddb.Attribute:
    return ddb.Attribute(name=name, type=ddb.AttributeType.STRING)


def tables(scope: Construct, config: StageConfig, inventory: Inventory) -> dict[str, ddb.Table]:
    """One on-demand table per declared Table: PITR on, keys, GSIs, stream and TTL as modelled."""
    built = {}
    for table in inventory.tables:
        construct = ddb.Table(
            scope, f"Table-{table.name}",
            table_name=resources.physical_name(config.stage, table.name),
            partition_key=_key(table.pk), sort_key=_key(table.sk) if table.sk else None,
            billing_mode=ddb.BillingMode.PAY_PER_REQUEST,
            point_in_time_recovery_specification=ddb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True),
            deletion_protection=config.deletion_protection,
            removal_policy=removal_policy(config),
            stream=_STREAM_VIEWS[table.stream] if table.stream else None,
            time_to_live_attribute=table.ttl_attribute,
        )
        for index in table.indexes:
            construct.add_global_secondary_index(
                index_name=index.name, partition_key=_key(index.pk),
                sort_key=_key(index.sk) if index.sk else None, projection_type=ddb.ProjectionType.ALL)
        built[table.name] = construct
    return built


def attachments_bucket(scope: Construct, config: StageConfig) -> tuple[s3.Bucket, s3.Bucket]:
    """Private, encrypted, TLS-only; browsers may PUT/GET only from the portal's origin.

    The name is left to CloudFormation (S3 names are global) and handed to the code as
    MOTCUA_ATTACHMENTS_BUCKET. Returns (attachments, access-log bucket)."""
    private = dict(block_public_access=s3.BlockPublicAccess.BLOCK_ALL, encryption=s3.BucketEncryption.S3_MANAGED,
                   enforce_ssl=True, object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
                   removal_policy=removal_policy(config), auto_delete_objects=False)
    logs = s3.Bucket(scope, "AccessLogs", **private,
                     lifecycle_rules=[s3.LifecycleRule(expiration=Duration.days(max(config.log_retention_days, 1)))])
    skip_on(logs.node.default_child,
            CKV_AWS_18="This is the access-log bucket: logging its own access would log the logging.",
            CKV_AWS_21="Access logs are written once by S3 and expire with the stage's log retention; "
                       "no object is ever replaced, so versions would keep nothing.")
    bucket = s3.Bucket(
        scope, "Attachments", **private, versioned=True,
        server_access_logs_bucket=logs, server_access_logs_prefix="attachments/",
        cors=[s3.CorsRule(allowed_origins=[config.portal_origin],
                          allowed_methods=[s3.HttpMethods.PUT, s3.HttpMethods.GET],
                          allowed_headers=["Content-Type", "Content-Length", "Content-MD5"],
                          exposed_headers=["ETag"], max_age=3000)],
        lifecycle_rules=[
            s3.LifecycleRule(id="abort-incomplete-uploads", abort_incomplete_multipart_upload_after=Duration.days(1)),
            s3.LifecycleRule(id="old-versions", noncurrent_version_expiration=Duration.days(30)),
            s3.LifecycleRule(id="retention", expiration=Duration.days(config.attachment_retention_days)),
        ],
    )
    return bucket, logs


def secrets(scope: Construct, config: StageConfig, inventory: Inventory) -> dict[str, sm.Secret]:
    """One JSON secret per declared Secret. Values start as obvious placeholders, set by
    operators (or, for keys we own such as the id-hash key, random); a deploy never
    overwrites them."""
    built = {}
    for secret in inventory.secrets:
        ours = secret.generated
        template = dict.fromkeys(secret.keys, "SET-ME")
        generated = sm.SecretStringGenerator(
            secret_string_template=json.dumps({k: v for k, v in template.items() if k != secret.keys[-1]}),
            generate_string_key=secret.keys[-1], password_length=64, exclude_punctuation=True,
        ) if ours else None
        built[secret.name] = sm.Secret(
            scope, f"Secret-{secret.name}", secret_name=resources.secret_name(config.stage, secret.name),
            description=f"MotCua {config.stage}: {secret.description} (keys: {', '.join(secret.keys)})",
            generate_secret_string=generated,
            secret_object_value=None if ours else {k: SecretValue.unsafe_plain_text(v) for k, v in template.items()},
            removal_policy=removal_policy(config),
        )
    return built
