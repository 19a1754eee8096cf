"""Alarms to an SNS topic, and one CloudWatch dashboard.

Alarms: any message in a DLQ or failures queue, any handler error or throttle, the API's
5xx rate, and the custom metrics of chalicelib.runtime.resources.ALARMED_METRICS (payments pending
for over 30 minutes, national sync lag). Custom metrics treat missing data as fine: a job
that has not reported yet is not an outage.
"""
from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import Duration, aws_cloudwatch as cw, aws_cloudwatch_actions as actions, aws_iam as iam
from aws_cdk import aws_kms as kms, aws_sns as sns, aws_sns_subscriptions as subs
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from chalicelib.runtime import resources
from infra.stages import StageConfig

PERIOD = Duration.minutes(5)


@dataclass
class Watched:
    api_name: str
    api_stage: str
    functions: dict[str, str]              # logical name -> function name
    dead_letters: dict[str, sqs.IQueue]    # logical name -> queue


def alarm_topic(scope: Construct, config: StageConfig) -> sns.Topic:
    key = kms.Key(scope, "AlarmTopicKey", enable_key_rotation=True,
                  description=f"MotCua {config.stage}: encrypts the alarm topic")
    key.add_to_resource_policy(iam.PolicyStatement(
        principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
        actions=["kms:Decrypt", "kms:GenerateDataKey*"], resources=["*"]))
    topic = sns.Topic(scope, "Alarms", topic_name=f"motcua-{config.stage}-alarms", master_key=key, enforce_ssl=True)
    for email in config.alarm_emails:
        topic.add_subscription(subs.EmailSubscription(email))
    return topic


def _alarm(scope: Construct, id: str, topic: sns.Topic, metric: cw.IMetric, threshold: float, description: str,
           missing: cw.TreatMissingData = cw.TreatMissingData.NOT_BREACHING) -> cw.Alarm:
    alarm = metric.create_alarm(scope, id, threshold=threshold, evaluation_periods=1, alarm_description=description,
                                comparison_operator=cw.ComparisonOperator.GREATER_THAN_THRESHOLD,
                                treat_missing_data=missing)
    alarm.add_alarm_action(actions.SnsAction(topic))
    return alarm


def custom_metric(metric: resources.CustomMetric, statistic: str = "Maximum") -> cw.Metric:
    return cw.Metric(namespace=resources.METRICS_NAMESPACE, metric_name=metric.name,
                     dimensions_map={"service": metric.service}, statistic=statistic, period=PERIOD)


def api_metric(watched: Watched, name: str, statistic: str) -> cw.Metric:
    return cw.Metric(namespace="AWS/ApiGateway", metric_name=name, statistic=statistic, period=PERIOD,
                     dimensions_map={"ApiName": watched.api_name, "Stage": watched.api_stage})


def function_metric(function_name: str, name: str, statistic: str = "Sum") -> cw.Metric:
    return cw.Metric(namespace="AWS/Lambda", metric_name=name, statistic=statistic, period=PERIOD,
                     dimensions_map={"FunctionName": function_name})


def alarms(scope: Construct, config: StageConfig, watched: Watched,
           metrics: tuple[resources.CustomMetric, ...]) -> list[cw.Alarm]:
    topic = alarm_topic(scope, config)
    made = []
    for name, queue in watched.dead_letters.items():
        made.append(_alarm(scope, f"Alarm-dlq-{name}", topic,
                           queue.metric_approximate_number_of_messages_visible(period=Duration.minutes(1),
                                                                               statistic="Maximum"),
                           0, f"{queue.node.id}: messages that could not be processed"))
    for name, function in watched.functions.items():
        made.append(_alarm(scope, f"Alarm-errors-{name}", topic, function_metric(function, "Errors"), 0,
                           f"{name}: the handler raised or timed out"))
        made.append(_alarm(scope, f"Alarm-throttles-{name}", topic, function_metric(function, "Throttles"), 0,
                           f"{name}: invocations throttled (concurrency limit)"))
    made.append(_alarm(scope, "Alarm-api-5xx-rate", topic, api_metric(watched, "5XXError", "Average"),
                       config.api_5xx_rate_alarm,
                       f"API: more than {config.api_5xx_rate_alarm:.1%} of requests answered 5xx"))
    thresholds = {resources.NATIONAL_SYNC_LAG.name: config.national_sync_lag_alarm_seconds}
    for metric in metrics:
        made.append(_alarm(scope, f"Alarm-{metric.name}", topic, custom_metric(metric),
                           thresholds.get(metric.name, 0), metric.description))
    return made


def dashboard(scope: Construct, config: StageConfig, watched: Watched, metrics: tuple[resources.CustomMetric, ...],
              alarms: list[cw.Alarm]) -> cw.Dashboard:
    board = cw.Dashboard(scope, "Dashboard", dashboard_name=f"motcua-{config.stage}")
    board.add_widgets(
        cw.GraphWidget(title="API requests and errors", width=12, left=[api_metric(watched, "Count", "Sum")],
                       right=[api_metric(watched, "4XXError", "Sum"), api_metric(watched, "5XXError", "Sum")]),
        cw.GraphWidget(title="API latency (p50, p99)", width=12,
                       left=[api_metric(watched, "Latency", "p50"), api_metric(watched, "Latency", "p99")]))
    board.add_widgets(
        cw.GraphWidget(title="Invocations", width=8,
                       left=[function_metric(f, "Invocations") for f in watched.functions.values()]),
        cw.GraphWidget(title="Errors and throttles", width=8,
                       left=[function_metric(f, "Errors") for f in watched.functions.values()],
                       right=[function_metric(f, "Throttles") for f in watched.functions.values()]),
        cw.GraphWidget(title="Duration p99", width=8,
                       left=[function_metric(f, "Duration", "p99") for f in watched.functions.values()]))
    board.add_widgets(
        cw.GraphWidget(title="Dead letters", width=12, left=[
            q.metric_approximate_number_of_messages_visible(statistic="Maximum") for q in watched.dead_letters.values()]),
        cw.GraphWidget(title="Payments and national sync", width=12, left=[custom_metric(m) for m in metrics]))
    board.add_widgets(cw.AlarmStatusWidget(title="Alarms", width=24, alarms=alarms))
    return board


