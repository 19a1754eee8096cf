"""One stage of MotCua as one CloudFormation stack, built from chalicelib.runtime.resources."""
from __future__ import annotations

from pathlib import Path

from aws_cdk import CfnOutput, Environment, Stack, Tags, aws_lambda as lambda_
from constructs import Construct

from chalicelib.runtime import resources
from infra import api, data, messaging, monitoring, protection
from infra.functions import Shared, consumers, function_name
from infra.inventory import Inventory
from infra.stages import StageConfig


class MotCuaStack(Stack):
    """Tables, bucket, secrets, bus, queues, rules, consumers, schedules, the API and alarms.

    ``project_dir`` is the staged Chalice project (infra.package.stage_project): the API is
    packaged from it and every consumer runs the same zip, except those with a ``bundle``,
    which run the zip ``bundles`` maps it to (infra.package.stage_bundle). Without it
    (tests of the resource wiring) the consumers run ``code`` and there is no API.
    """

    def __init__(self, scope: Construct, config: StageConfig, *, inventory: Inventory | None = None,
                 project_dir: Path | None = None, bundles: dict[str, Path] | None = None,
                 code: lambda_.Code | None = None) -> None:
        super().__init__(scope, config.stack_name, env=Environment(account=config.account, region=config.region),
                         description=f"MotCua ({config.stage}): public service dossiers API and its consumers",
                         termination_protection=config.deletion_protection)
        inventory = inventory or Inventory.declared()
        inventory.check()
        Tags.of(self).add("project", "motcua")
        Tags.of(self).add("stage", config.stage)

        tables = data.tables(self, config, inventory)
        protection.backups(self, config, [table.table_arn for table in tables.values()])
        bucket, _ = data.attachments_bucket(self, config)
        secrets = data.secrets(self, config, inventory)
        bus = messaging.bus(self, config, inventory)
        queues = messaging.queues(self, config, inventory)
        messaging.rules(self, config, inventory, bus, queues)
        shared = Shared(config=config, tables=tables, declared_tables={t.name: t for t in inventory.tables},
                        bus=bus, secrets=secrets, bucket=bucket, environment={
            "MOTCUA_STAGE": config.stage,
            "MOTCUA_ATTACHMENTS_BUCKET": bucket.bucket_name,
            "MOTCUA_AUDIT_RETENTION_DAYS": str(config.audit_retention_days),
            **config.provider_settings,
            "POWERTOOLS_METRICS_NAMESPACE": resources.METRICS_NAMESPACE,
            "POWERTOOLS_LOG_LEVEL": "INFO",
        })

        watched_functions: dict[str, str] = {}
        if project_dir is not None:
            pool, client, sign_in = api.user_pool(self, config)
            chalice = api.chalice_api(self, shared, project_dir, pool, inventory.api_secrets, inventory.api_objects,
                                      inventory.invoked, sign_in)
            code = lambda_.Code.from_asset(str(Path(chalice._sam_package_dir) / "deployment.zip"))
            watched_functions["api"] = function_name(config, "api")
            protection.firewall(self, config, chalice.get_resource("RestAPI").ref, api.API_STAGE)
            CfnOutput(self, "ApiUrl", value=chalice.sam_template.get_output("EndpointURL").value)
            CfnOutput(self, "UserPoolId", value=pool.user_pool_id)
            CfnOutput(self, "UserPoolClientId", value=client.user_pool_client_id)
        if code is None:
            raise ValueError("MotCuaStack needs project_dir (the API package) or code for the consumers")
        packages = None
        if project_dir is not None:
            missing = sorted(set(inventory.bundles) - set(bundles or {}))
            if missing:
                raise ValueError(f"MotCuaStack needs the staged bundles {missing} (infra.package.stage_bundle)")
            packages = {name: lambda_.Code.from_asset(str(path)) for name, path in (bundles or {}).items()}
        built = consumers(self, shared, code, inventory, queues, packages)
        watched_functions.update({name: function_name(config, name) for name in built.functions})
        CfnOutput(self, "AttachmentsBucket", value=bucket.bucket_name)

        dead_letters = {name: pair.dlq for name, pair in queues.items() if pair.dlq is not None}
        dead_letters.update(built.failures)
        watched = monitoring.Watched(api_name=function_name(config, "api"), api_stage=api.API_STAGE,
                                     functions=watched_functions, dead_letters=dead_letters)
        alarms = monitoring.alarms(self, config, watched, inventory.alarmed_metrics)
        monitoring.dashboard(self, config, watched, inventory.alarmed_metrics, alarms)
