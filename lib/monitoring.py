"""Monitoring: alarm topics, CloudWatch alarms for every tier, and one dashboard.

Creates
- an SNS topic for the alarms, encrypted with its own customer key (or the key the stack
  gives: one key per region in the ephemeral profile): the key policy lets CloudWatch generate
  data keys and decrypt (``alarms_key_statement``; CloudWatch cannot publish to a topic
  encrypted with the AWS managed key, whose policy cannot admit it), the topic policy lets
  CloudWatch alarms of this account and region publish (``aws:SourceAccount`` and
  ``aws:SourceArn``); an email subscription when ALARM_EMAIL is set (the recipient confirms
  it once);
- the same key, topic and subscription in ``us-east-1`` (the aliased provider), because
  CloudFront and WAF publish their metrics only there and an alarm can notify only a
  topic in its own region;
- the alarms of ``ALARMS``: each sends ALARM and OK notifications to the topic of its
  region, treats missing data as its table entry says (and why), and takes its
  threshold from the profile where environments differ. The table's ``meaning`` and
  ``action`` are the alarm's description and its runbook entry (docs/reference/alarms.md);
- a dashboard with an alarm-status row and a row per tier (load balancer, service,
  database, cache, edge), where the profile asks for one.

It takes the other tiers' dimension values as plain strings (tokens), so it depends on
no other construct; a tier given as None has no alarms here (lib/alarms.py). Exposes
``topic_arn``, ``global_topic_arn``, ``alarm_names`` (key -> alarm name) and
``dashboard_name`` ("" without a dashboard).
"""
from __future__ import annotations

import json
from dataclasses import fields
from typing import Any

from cdktf import TerraformProvider
from cdktf_cdktf_provider_aws.cloudwatch_dashboard import CloudwatchDashboard
from cdktf_cdktf_provider_aws.cloudwatch_metric_alarm import (
    CloudwatchMetricAlarm, CloudwatchMetricAlarmMetricQuery, CloudwatchMetricAlarmMetricQueryMetric)
from cdktf_cdktf_provider_aws.sns_topic import SnsTopic
from cdktf_cdktf_provider_aws.sns_topic_policy import SnsTopicPolicy
from cdktf_cdktf_provider_aws.sns_topic_subscription import SnsTopicSubscription
from constructs import Construct

# The alarm table is lib/alarms.py's (jsii-free, for tools/docs.py); its props and thresholds
# are also read from here by the stack.
from lib.alarms import (Alarm, MonitoringProps, Thresholds,  # noqa: F401  # pylint: disable=unused-import
                        alarm_table, db_connections_threshold)
from lib.config import GLOBAL_REGION
from lib.kms import CustomerKey, KeyProps
from lib.policies import document, statement



class Monitoring(Construct):
    """Alarm topics, the alarms of ``alarm_table`` and the dashboard."""

    def __init__(self, scope: Construct, construct_id: str, *, props: MonitoringProps) -> None:
        super().__init__(scope, construct_id)
        _check(props)
        names = props.names
        self.topic_arn = self._topic(
            "alarms", props, name=names.alarm_topic, alias=names.alarms_key_alias,
            region=props.region, provider=None, key_arn=props.topic_key_arn)
        self.global_topic_arn = self._topic(
            "global-alarms", props, name=names.global_alarm_topic,
            alias=names.global_alarms_key_alias, region=GLOBAL_REGION, provider=props.provider,
            key_arn=props.global_topic_key_arn)
        table = alarm_table(props)
        self.alarm_names: dict[str, str] = {alarm.key: names.alarm(alarm.key) for alarm in table}
        alarm_arns = [self._alarm(alarm, props).arn for alarm in table]
        self.dashboard_name: str = CloudwatchDashboard(
            self, "dashboard", dashboard_name=names.dashboard,
            dashboard_body=dashboard_body(table, alarm_arns, props),
        ).dashboard_name if props.dashboard else ""

    def _topic(self, construct_id: str, props: MonitoringProps, *,  # pylint: disable=too-many-arguments
               name: str, alias: str, region: str, provider: TerraformProvider | None,
               key_arn: str | None) -> str:
        """An encrypted topic CloudWatch alarms of ``region`` may publish to, with its own key
        unless ``key_arn`` is given; returns its ARN."""
        if key_arn is None:
            key_arn = CustomerKey(self, f"{construct_id}-key", props=KeyProps(
                alias=alias,
                description=f"Alarm notifications ({name})",
                account_id=props.account_id,
                deletion_window_days=props.kms_deletion_window_days,
                service_statements=[alarms_key_statement()],
                provider=provider,
            )).arn
        topic = SnsTopic(self, construct_id, name=name, kms_master_key_id=key_arn,
                         provider=provider)
        SnsTopicPolicy(self, f"{construct_id}-policy", arn=topic.arn, provider=provider,
                       policy=document(statement(
                           sid="CloudWatchAlarmsPublish",
                           principal={"Service": "cloudwatch.amazonaws.com"},
                           actions=["sns:Publish"], resources=topic.arn,
                           condition={
                               "StringEquals": {"aws:SourceAccount": props.account_id},
                               "ArnLike": {"aws:SourceArn":
                                           f"arn:aws:cloudwatch:{region}:{props.account_id}:alarm:*"},
                           })))
        if props.alarm_email is not None:
            SnsTopicSubscription(self, f"{construct_id}-email", topic_arn=topic.arn,
                                 protocol="email", endpoint=props.alarm_email,
                                 provider=provider)
        return topic.arn

    def _alarm(self, alarm: Alarm, props: MonitoringProps) -> CloudwatchMetricAlarm:
        topic = self.global_topic_arn if alarm.in_global_region else self.topic_arn
        common: dict[str, Any] = {
            "alarm_name": props.names.alarm(alarm.key),
            "alarm_description": alarm.description,
            "comparison_operator": alarm.comparison,
            "threshold": alarm.threshold,
            "evaluation_periods": alarm.evaluation_periods,
            "datapoints_to_alarm": alarm.datapoints,
            "treat_missing_data": alarm.missing,
            "alarm_actions": [topic],
            "ok_actions": [topic],
            "provider": props.provider if alarm.in_global_region else None,
        }
        if alarm.expression is not None:
            queries = [
                CloudwatchMetricAlarmMetricQuery(
                    id=query_id, return_data=False,
                    metric=CloudwatchMetricAlarmMetricQueryMetric(
                        namespace=metric.namespace, metric_name=metric.name,
                        dimensions=dict(metric.dimensions), stat=metric.stat,
                        period=alarm.period))
                for query_id, metric in alarm.metrics.items()
            ]
            queries.append(CloudwatchMetricAlarmMetricQuery(
                id="result", expression=alarm.expression, label=alarm.key, return_data=True))
            return CloudwatchMetricAlarm(self, alarm.key, metric_query=queries, **common)
        (metric,) = alarm.metrics.values()
        # Percentiles of a few requests are noise: keep the state while samples are few.
        statistic = ({"extended_statistic": metric.stat,
                      "evaluate_low_sample_count_percentiles": "ignore"}
                     if metric.stat.startswith("p") else {"statistic": metric.stat})
        return CloudwatchMetricAlarm(
            self, alarm.key, namespace=metric.namespace, metric_name=metric.name,
            dimensions=dict(metric.dimensions), period=alarm.period, **statistic, **common)


def alarms_key_statement() -> dict[str, Any]:
    """Lets CloudWatch alarms use a topic's key: "CloudWatch alarms ... to an encrypted SNS
    topic ... the key policy must allow cloudwatch.amazonaws.com kms:Decrypt and
    kms:GenerateDataKey*" (Amazon SNS developer guide, key management)."""
    return statement(sid="CloudWatchAlarms", principal={"Service": "cloudwatch.amazonaws.com"},
                     actions=["kms:Decrypt", "kms:GenerateDataKey*"], resources="*")


def _check(props: MonitoringProps) -> None:
    """Raise on inputs that would build alarms watching nothing."""
    region = getattr(props.provider, "region", None)
    if region != GLOBAL_REGION:
        raise ValueError(f"MonitoringProps.provider must be the {GLOBAL_REGION} provider "
                         f"(CloudFront and WAF metrics live there), got region {region!r}")
    empty = [f.name for f in fields(props) if isinstance(getattr(props, f.name), str)
             and not getattr(props, f.name)]
    if empty:
        raise ValueError(f"MonitoringProps: empty dimension value(s): {', '.join(empty)}")


def _graph(alarm: Alarm, region: str) -> dict[str, Any]:
    """A time series of the alarm's metrics, with its threshold where it applies to them."""
    properties: dict[str, Any] = {
        "title": f"{alarm.tier}: {alarm.key}", "region": region, "view": "timeSeries",
        "stacked": False, "period": alarm.period,
        "metrics": [[metric.namespace, metric.name,
                     *[part for item in metric.dimensions.items() for part in item],
                     {"stat": metric.stat, "label": f"{metric.name} ({metric.stat})"}]
                    for metric in alarm.metrics.values()],
    }
    if alarm.expression is None:
        properties["annotations"] = {"horizontal": [{"label": "alarm", "value": alarm.threshold}]}
    return {"type": "metric", "properties": properties}


def dashboard_body(table: list[Alarm], alarm_arns: list[str], props: MonitoringProps) -> str:
    """The dashboard JSON: alarm status on top, then a row per tier graphing its alarms."""
    rows: list[tuple[int, list[dict[str, Any]]]] = [(3, [{"type": "alarm", "properties": {
        "title": "Alarms", "alarms": alarm_arns, "sortBy": "stateUpdatedTimestamp"}}])]
    tiers: dict[str, list[Alarm]] = {}
    for alarm in table:
        tiers.setdefault(alarm.tier, []).append(alarm)
    for alarms in tiers.values():
        rows.append((6, [_graph(alarm, GLOBAL_REGION if alarm.in_global_region
                                else props.region) for alarm in alarms]))
    widgets, y = [], 0
    for height, row in rows:  # the grid is 24 columns wide
        width = 24 // len(row)
        widgets += [{**widget, "x": index * width, "y": y, "width": width, "height": height}
                    for index, widget in enumerate(row)]
        y += height
    return json.dumps({"widgets": widgets})
