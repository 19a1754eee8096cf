"""What protects a deployed stage beyond its resources' own settings: a web application
firewall in front of the API, and backups that last as long as the audit log must.

* **WAF.** Eight operations are public (tracking, the payment provider's callbacks, the
  catalogue...). AWS's managed common rule set and known-bad-inputs set filter what every web
  application sees; a rate-based rule blocks an address that sends more than the stage's
  ``waf_rate_limit`` requests in five minutes (infra/stages.json). The common set's body-size
  rule (8 KB) is only counted: a dossier submission is legitimately larger, and the API
  bounds bodies itself (MOTCUA_MAX_BODY_BYTES).
* **Backups.** Point-in-time recovery reaches back 35 days; the audit log must be kept for
  ``audit_retention_days`` (10 years in prod, Law 2024 on archives and Decree 45/2020 on
  electronic dossiers). A daily AWS Backup of every table, kept for that period, covers the gap.
"""
from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy, aws_backup as backup, aws_events as events, aws_wafv2 as wafv2
from constructs import Construct

from infra.functions import function_name
from infra.stages import StageConfig

MANAGED_RULE_SETS = ("AWSManagedRulesCommonRuleSet", "AWSManagedRulesKnownBadInputsRuleSet")
COUNTED_RULES = {"AWSManagedRulesCommonRuleSet": ("SizeRestrictions_BODY",)}


def _visibility(name: str) -> wafv2.CfnWebACL.VisibilityConfigProperty:
    return wafv2.CfnWebACL.VisibilityConfigProperty(cloud_watch_metrics_enabled=True, metric_name=name,
                                                    sampled_requests_enabled=True)


def _managed(priority: int, name: str) -> wafv2.CfnWebACL.RuleProperty:
    overrides = [wafv2.CfnWebACL.RuleActionOverrideProperty(
        name=rule, action_to_use=wafv2.CfnWebACL.RuleActionProperty(count={})) for rule in COUNTED_RULES.get(name, ())]
    return wafv2.CfnWebACL.RuleProperty(
        name=name, priority=priority, override_action=wafv2.CfnWebACL.OverrideActionProperty(none={}),
        statement=wafv2.CfnWebACL.StatementProperty(managed_rule_group_statement=wafv2.CfnWebACL.ManagedRuleGroupStatementProperty(
            vendor_name="AWS", name=name, rule_action_overrides=overrides or None)),
        visibility_config=_visibility(name))


def firewall(scope: Construct, config: StageConfig, api_id: str, api_stage: str) -> wafv2.CfnWebACL:
    """The stage's web ACL, associated with the API's stage."""
    rate = wafv2.CfnWebACL.RuleProperty(
        name="RatePerAddress", priority=len(MANAGED_RULE_SETS),
        action=wafv2.CfnWebACL.RuleActionProperty(block={}),
        statement=wafv2.CfnWebACL.StatementProperty(rate_based_statement=wafv2.CfnWebACL.RateBasedStatementProperty(
            limit=config.waf_rate_limit, aggregate_key_type="IP")),
        visibility_config=_visibility("RatePerAddress"))
    acl = wafv2.CfnWebACL(
        scope, "Firewall", name=function_name(config, "api"), scope="REGIONAL",
        default_action=wafv2.CfnWebACL.DefaultActionProperty(allow={}),
        rules=[*(_managed(i, name) for i, name in enumerate(MANAGED_RULE_SETS)), rate],
        visibility_config=_visibility(function_name(config, "api")))
    stage_arn = f"arn:aws:apigateway:{config.region}::/restapis/{api_id}/stages/{api_stage}"
    association = wafv2.CfnWebACLAssociation(scope, "FirewallAssociation", resource_arn=stage_arn,
                                             web_acl_arn=acl.attr_arn)
    association.add_dependency(acl)
    return acl


def backups(scope: Construct, config: StageConfig, table_arns: list[str]) -> backup.BackupPlan:
    """A daily backup of every table, kept for the audit log's retention."""
    vault = backup.BackupVault(scope, "BackupVault", backup_vault_name=function_name(config, "backups"),
                               removal_policy=RemovalPolicy.RETAIN if config.deletion_protection else RemovalPolicy.DESTROY)
    plan = backup.BackupPlan(scope, "BackupPlan", backup_plan_name=function_name(config, "backups"),
                             backup_vault=vault)
    plan.add_rule(backup.BackupPlanRule(
        rule_name="daily", schedule_expression=events.Schedule.cron(hour="19", minute="0"),   # 02:00 in Vietnam
        delete_after=Duration.days(config.audit_retention_days)))
    plan.add_selection("Tables", resources=[backup.BackupResource.from_arn(arn) for arn in table_arns])
    return plan
