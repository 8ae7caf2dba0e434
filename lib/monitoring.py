"""Monitoring: alarm topics, CloudWatch alarms for every tier, and one dashboard.

Creates
- an SNS topic for the alarms, encrypted with its own customer key: the key policy lets
  CloudWatch generate data keys and decrypt, the topic policy lets CloudWatch alarms of
  this account and region publish (``aws:SourceAccount`` and ``aws:SourceArn``); an
  email subscription when ALARM_EMAIL is set (the recipient confirms it once);
- the same key, topic and subscription in ``us-east-1`` (the aliased provider), because
  CloudFront and WAF publish their metrics only there and an alarm can notify only a
  topic in its own region;
- the alarms of ``ALARMS``: each sends ALARM and OK notifications to the topic of its
  region, treats missing data as its table entry says (and why), and takes its
  threshold from the profile where environments differ. The table's ``meaning`` and
  ``action`` are the alarm's description and its runbook entry (docs/reference/alarms.md);
- a dashboard with an alarm-status row and a row per tier (load balancer, service,
  database, cache, edge).

It takes the other tiers' dimension values as plain strings (tokens), so it depends on
no other construct. Exposes ``topic_arn``, ``global_topic_arn``, ``alarm_names``
(key -> alarm name) and ``dashboard_name``.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, fields
from typing import Any, Mapping

from cdktf import TerraformProvider
from cdktf_cdktf_provider_aws.cloudwatch_dashboard import CloudwatchDashboard
from cdktf_cdktf_provider_aws.cloudwatch_metric_alarm import (
    CloudwatchMetricAlarm, CloudwatchMetricAlarmMetricQuery, CloudwatchMetricAlarmMetricQueryMetric)
from cdktf_cdktf_provider_aws.sns_topic import SnsTopic
from cdktf_cdktf_provider_aws.sns_topic_policy import SnsTopicPolicy
from cdktf_cdktf_provider_aws.sns_topic_subscription import SnsTopicSubscription
from constructs import Construct

from lib.config import GLOBAL_REGION
from lib.kms import CustomerKey, KeyProps
from lib.naming import Names
from lib.policies import document, statement

# treat_missing_data values
NOT_BREACHING = "notBreaching"
BREACHING = "breaching"
MISSING = "missing"  # keep the last state
GREATER = "GreaterThanThreshold"
LESS = "LessThanThreshold"
# Aurora PostgreSQL sets max_connections to LEAST(DBInstanceClassMemory / 9531392, 5000);
# a Serverless v2 instance has about 2 GiB per ACU, of which roughly 90% is instance-class
# memory. The connections alarm fires at alarm_capacity_percent of that estimate at max ACU.
_BYTES_PER_ACU = 2 * 1024 ** 3
_BYTES_PER_CONNECTION = 9531392
_INSTANCE_MEMORY_SHARE = 0.9
_MAX_CONNECTIONS_CAP = 5000
_BYTES_PER_GB = 10 ** 9  # ElastiCache's data-storage limit is in decimal GB


@dataclass(frozen=True, kw_only=True)
class Thresholds:  # pylint: disable=too-many-instance-attributes
    """Where the alarms fire (the profile's values) and the limits they are a share of."""

    errors_5xx: int  # load balancer or target 5XX responses per 5 minutes
    p90_latency_seconds: float  # target response time, p90 over a minute
    cpu_percent: int  # ECS service and Aurora, sustained 5 minutes
    memory_percent: int  # ECS service, sustained 5 minutes
    db_freeable_memory_mib: int  # Aurora freeable memory below this
    capacity_percent: int  # of a configured limit: max ACU, connections, ECPU/s, storage
    edge_5xx_percent: float  # CloudFront 5xxErrorRate
    waf_blocked_count: int  # WAF blocked requests per 5 minutes (a spike)
    db_max_acu: float  # the database's limit
    cache_max_storage_gb: int  # the cache's limits
    cache_max_ecpu_per_second: int


@dataclass(frozen=True, kw_only=True)
class MonitoringProps:  # pylint: disable=too-many-instance-attributes
    """Inputs of monitoring: thresholds and the other tiers' dimension values (tokens)."""

    names: Names
    account_id: str  # token of aws_caller_identity
    region: str
    provider: TerraformProvider  # the aliased us-east-1 provider (CloudFront and WAF metrics)
    thresholds: Thresholds
    kms_deletion_window_days: int  # the topics' keys
    alarm_email: str | None  # an email subscription on both topics
    alb_arn_suffix: str  # LoadBalancer dimension: app/<name>/<id>
    target_group_arn_suffix: str  # TargetGroup dimension: targetgroup/<name>/<id>
    cluster_name: str  # ECS cluster (Container Insights on)
    service_name: str
    db_cluster_identifier: str
    cache_name: str  # ElastiCache Serverless cache: the clusterId dimension
    distribution_id: str
    web_acl_name: str  # WebACL dimension: the web ACL's CloudWatch metric name
    # The scheduled jobs' dead-letter queue (lib/jobs.py); None: no jobs, no alarm.
    jobs_dead_letter_queue: str | None = None


@dataclass(frozen=True)
class Metric:
    """One CloudWatch metric with the statistic an alarm or a graph reads."""

    namespace: str
    name: str
    dimensions: Mapping[str, str]
    stat: str  # Sum, Average, Maximum, Minimum or a percentile such as p90


@dataclass(frozen=True, kw_only=True)
class Alarm:  # pylint: disable=too-many-instance-attributes
    """One row of the alarm table: what is watched, when it fires and what to do."""

    key: str  # the alarm is named f"{prefix}-{key}"
    tier: str
    meaning: str  # what it means when it fires
    action: str  # what to do first
    metrics: Mapping[str, Metric]  # query id -> metric; one metric unless ``expression``
    threshold: float
    missing: str  # treat_missing_data, with the reason in the table
    comparison: str = GREATER
    period: int = 60
    evaluation_periods: int = 5
    datapoints: int = 5
    expression: str | None = None  # metric math over ``metrics``
    in_global_region: bool = False

    @property
    def description(self) -> str:
        return f"{self.meaning} Action: {self.action}"


def db_connections_threshold(thresholds: Thresholds) -> int:
    """Alarm level for DatabaseConnections: a share of the estimated max_connections."""
    memory = thresholds.db_max_acu * _BYTES_PER_ACU * _INSTANCE_MEMORY_SHARE
    max_connections = min(memory / _BYTES_PER_CONNECTION, _MAX_CONNECTIONS_CAP)
    return int(max_connections * thresholds.capacity_percent / 100)


def alarm_table(props: MonitoringProps) -> list[Alarm]:
    """Every alarm of the stack, in dashboard order."""
    levels = props.thresholds
    capacity = levels.capacity_percent
    alb = {"LoadBalancer": props.alb_arn_suffix}
    target = {"LoadBalancer": props.alb_arn_suffix, "TargetGroup": props.target_group_arn_suffix}
    service = {"ClusterName": props.cluster_name, "ServiceName": props.service_name}
    db = {"DBClusterIdentifier": props.db_cluster_identifier}
    cache = {"clusterId": props.cache_name}
    elb, rds, ecs, redis = "AWS/ApplicationELB", "AWS/RDS", "AWS/ECS", "AWS/ElastiCache"
    insights = "ECS/ContainerInsights"
    return [
        # Load balancer. No requests means no 5XX and no latency datapoints: not breaching.
        Alarm(key="alb-5xx", tier="load balancer", missing=NOT_BREACHING,
              metrics={"m": Metric(elb, "HTTPCode_ELB_5XX_Count", alb, "Sum")},
              threshold=levels.errors_5xx, period=300, evaluation_periods=1, datapoints=1,
              meaning="The load balancer itself answered with 5XX (502/503/504: no healthy "
                      "target, target reset or timeout).",
              action="Check the service's running tasks and target health, then the task "
                     "logs for crashes; 504s point to slow requests (see target latency)."),
        Alarm(key="target-5xx", tier="load balancer", missing=NOT_BREACHING,
              metrics={"m": Metric(elb, "HTTPCode_Target_5XX_Count", target, "Sum")},
              threshold=levels.errors_5xx, period=300, evaluation_periods=1, datapoints=1,
              meaning="The application returned 5XX responses.",
              action="Read the task logs for the failing requests; check the database and "
                     "cache alarms; roll back the last deployment if it started then."),
        Alarm(key="target-p90-latency", tier="load balancer", missing=NOT_BREACHING,
              metrics={"m": Metric(elb, "TargetResponseTime", target, "p90")},
              threshold=levels.p90_latency_seconds, evaluation_periods=5, datapoints=3,
              meaning="One request in ten takes longer than the profile's latency target "
                      "(3 of 5 minutes).",
              action="Check service CPU/memory and database CPU/connections on the dashboard; "
                     "scale out (max capacity) or find the slow endpoint in the logs."),
        # Published every minute while the target group is attached: a gap is a metrics
        # outage, not a health change, so the alarm keeps its state.
        Alarm(key="unhealthy-hosts", tier="load balancer", missing=MISSING,
              metrics={"m": Metric(elb, "UnHealthyHostCount", target, "Maximum")},
              threshold=0, evaluation_periods=3, datapoints=3,
              meaning="At least one registered task has failed the health check for 3 minutes.",
              action="Look at the ECS service events and the stopped tasks' reasons; check the "
                     "health check path and the task logs."),
        # Service. No datapoints means no running task, which running-tasks reports.
        Alarm(key="ecs-cpu", tier="service", missing=NOT_BREACHING,
              metrics={"m": Metric(ecs, "CPUUtilization", service, "Average")},
              threshold=levels.cpu_percent,
              meaning="The service's average CPU stayed above the threshold for 5 minutes, "
                      "above the auto scaling target.",
              action="Check whether auto scaling is at max capacity; raise max capacity or the "
                     "task size, or find the hot code path."),
        Alarm(key="ecs-memory", tier="service", missing=NOT_BREACHING,
              metrics={"m": Metric(ecs, "MemoryUtilization", service, "Average")},
              threshold=levels.memory_percent,
              meaning="The service's average memory stayed above the threshold for 5 minutes; "
                      "tasks risk being killed out of memory.",
              action="Look for OOM-killed stopped tasks and a leak since the last deployment; "
                     "raise the task memory if the load grew."),
        # Container Insights publishes both every minute; missing data means the service
        # or Container Insights is gone, which must not look healthy.
        Alarm(key="running-tasks", tier="service", missing=BREACHING,
              metrics={"desired": Metric(insights, "DesiredTaskCount", service, "Average"),
                       "running": Metric(insights, "RunningTaskCount", service, "Average")},
              expression="desired - running", threshold=0,
              meaning="Fewer tasks are running than desired for 5 minutes (tasks crash, fail "
                      "to start, or Fargate or Spot capacity is short).",
              action="Read the ECS service events and the stopped tasks' reasons (image pull, "
                     "secrets, health checks, capacity)."),
        # Database. The ephemeral profile pauses at 0 ACU and then publishes nothing.
        Alarm(key="aurora-cpu", tier="database", missing=NOT_BREACHING,
              metrics={"m": Metric(rds, "CPUUtilization", db, "Average")},
              threshold=levels.cpu_percent,
              meaning="Aurora CPU stayed above the threshold for 5 minutes.",
              action="Find the expensive queries in Performance Insights; check that "
                     "ACU utilization is not at its maximum."),
        Alarm(key="aurora-freeable-memory", tier="database", missing=NOT_BREACHING,
              metrics={"m": Metric(rds, "FreeableMemory", db, "Minimum")},
              threshold=levels.db_freeable_memory_mib * 1024 * 1024, comparison=LESS,
              meaning="An Aurora instance has less freeable memory than the threshold for 5 "
                      "minutes.",
              action="Check ACU utilization and connections; raise the max ACU or cut "
                     "connection count and memory-hungry queries."),
        Alarm(key="aurora-connections", tier="database", missing=NOT_BREACHING,
              metrics={"m": Metric(rds, "DatabaseConnections", db, "Maximum")},
              threshold=db_connections_threshold(levels),
              meaning=f"Connections passed {capacity}% of the estimated max_connections at "
                      "max ACU for 5 minutes.",
              action="Check the tasks' connection pools and task count; raise the max ACU or "
                     "add pooling before new connections are refused."),
        Alarm(key="aurora-acu", tier="database", missing=NOT_BREACHING,
              metrics={"m": Metric(rds, "ACUUtilization", db, "Average")},
              threshold=capacity,
              meaning=f"Aurora has run above {capacity}% of its maximum ACU for 5 minutes and "
                      "cannot scale further.",
              action="Raise the profile's max ACU or reduce the load (slow queries in "
                     "Performance Insights)."),
        # Cache. An idle cache may publish nothing.
        Alarm(key="cache-ecpu", tier="cache", missing=NOT_BREACHING,
              metrics={"m": Metric(redis, "ElastiCacheProcessingUnits", cache, "Sum")},
              threshold=levels.cache_max_ecpu_per_second * 60 * capacity // 100,
              meaning=f"The cache used more than {capacity}% of its ECPU-per-second limit for 5 "
                      "minutes; beyond the limit commands are throttled.",
              action="Raise the profile's cache ECPU limit or find the hot keys and "
                     "expensive commands."),
        Alarm(key="cache-throttled", tier="cache", missing=NOT_BREACHING,
              metrics={"m": Metric(redis, "ThrottledCmds", cache, "Sum")},
              threshold=0, evaluation_periods=3, datapoints=2,
              meaning="The cache throttled commands in 2 of 3 minutes: the load grew faster "
                      "than it scales, or it hit its limits.",
              action="Compare ECPU and storage with their limits; raise the limit or smooth "
                     "the load (client retries with backoff)."),
        Alarm(key="cache-storage", tier="cache", missing=NOT_BREACHING,
              metrics={"m": Metric(redis, "BytesUsedForCache", cache, "Maximum")},
              threshold=levels.cache_max_storage_gb * _BYTES_PER_GB * capacity // 100,
              period=300, evaluation_periods=1, datapoints=1,
              meaning=f"Data stored passed {capacity}% of the cache's storage limit; at the "
                      "limit writes fail.",
              action="Check key TTLs and growth; raise the profile's cache storage limit."),
        # Edge, in us-east-1. No requests means no datapoints.
        Alarm(key="edge-5xx-rate", tier="edge", missing=NOT_BREACHING, in_global_region=True,
              metrics={"m": Metric("AWS/CloudFront", "5xxErrorRate",
                                   {"DistributionId": props.distribution_id, "Region": "Global"},
                                   "Average")},
              threshold=levels.edge_5xx_percent, evaluation_periods=5, datapoints=3,
              meaning="More viewer requests than the threshold percentage got 5XX from "
                      "CloudFront (3 of 5 minutes).",
              action="If the load balancer 5XX alarms fire too, follow them; otherwise check "
                     "the origin-verify header, the ALB listener and certificates."),
        Alarm(key="waf-blocked-spike", tier="edge", missing=NOT_BREACHING, in_global_region=True,
              metrics={"m": Metric("AWS/WAFV2", "BlockedRequests",
                                   {"WebACL": props.web_acl_name, "Rule": "ALL"}, "Sum")},
              threshold=levels.waf_blocked_count, period=300, evaluation_periods=1,
              datapoints=1,
              meaning="The web ACL blocked more requests in 5 minutes than the threshold: an "
                      "attack, a scanner, or a rule blocking real users.",
              action="Open the WAF sampled requests and logs: if real users are blocked, set "
                     "that rule to count; if it is an attack, keep blocking and watch the "
                     "origin."),
        *_jobs_alarms(props.jobs_dead_letter_queue),
    ]


def _jobs_alarms(queue: str | None) -> list[Alarm]:
    """A scheduled job whose invocation failed after its retries is a message in the jobs'
    dead-letter queue: the job did not run at all."""
    if queue is None:
        return []
    # No messages means no datapoints for an idle queue: not breaching.
    return [Alarm(key="jobs-dead-letters", tier="jobs", missing=NOT_BREACHING,
                  metrics={"m": Metric("AWS/SQS", "ApproximateNumberOfMessagesVisible",
                                       {"QueueName": queue}, "Maximum")},
                  threshold=0, period=300, evaluation_periods=1, datapoints=1,
                  meaning="A scheduled job could not be started after its retries "
                          "(EventBridge Scheduler sent the invocation to the dead-letter "
                          "queue): the job did not run.",
                  action="Read the message in the jobs' dead-letter queue (its error says why "
                         "RunTask failed: capacity, permissions, a deleted revision), fix it, "
                         "run the job by hand with make task, then purge the queue.")]


class Monitoring(Construct):
    """Alarm topics, the alarms of ``alarm_table`` and the dashboard."""

    def __init__(self, scope: Construct, construct_id: str, *, props: MonitoringProps) -> None:
        super().__init__(scope, construct_id)
        _check(props)
        names = props.names
        self.topic_arn = self._topic("alarms", props, names.alarm_topic, names.alarms_key_alias,
                                     props.region, None)
        self.global_topic_arn = self._topic("global-alarms", props, names.global_alarm_topic,
                                            names.global_alarms_key_alias, GLOBAL_REGION,
                                            props.provider)
        table = alarm_table(props)
        self.alarm_names: dict[str, str] = {alarm.key: names.alarm(alarm.key) for alarm in table}
        alarm_arns = [self._alarm(alarm, props).arn for alarm in table]
        self.dashboard_name: str = CloudwatchDashboard(
            self, "dashboard", dashboard_name=names.dashboard,
            dashboard_body=dashboard_body(table, alarm_arns, props),
        ).dashboard_name

    def _topic(self, construct_id: str, props: MonitoringProps, name: str, alias: str,
               region: str, provider: TerraformProvider | None) -> str:
        """An encrypted topic CloudWatch alarms of ``region`` may publish to; returns its ARN."""
        key = CustomerKey(self, f"{construct_id}-key", props=KeyProps(
            alias=alias,
            description=f"Alarm notifications ({name})",
            account_id=props.account_id,
            deletion_window_days=props.kms_deletion_window_days,
            service_statements=[statement(
                sid="CloudWatchAlarms", principal={"Service": "cloudwatch.amazonaws.com"},
                actions=["kms:Decrypt", "kms:GenerateDataKey*"], resources="*")],
            provider=provider,
        ))
        topic = SnsTopic(self, construct_id, name=name, kms_master_key_id=key.arn,
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
