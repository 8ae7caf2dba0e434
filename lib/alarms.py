"""The alarm table: every CloudWatch alarm of the stack, what it means and what to do.

No jsii here: ``tools/docs.py`` renders the runbook (docs/reference/alarms.md) from it without
starting the jsii kernel, and ``lib/monitoring.py`` builds the alarms and the dashboard from it.
Exposes ``Thresholds`` (the profile's alarm levels, ``alarm_thresholds(profile)``),
``MonitoringProps`` (the monitoring tier's inputs), ``Metric`` and ``Alarm`` (one row), and
``alarm_table(props)`` (every alarm, in dashboard order).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Mapping

from lib.config import Profile
from lib.naming import Names

if TYPE_CHECKING:  # tools/docs.py imports this module: it must not start jsii
    from cdktf import TerraformProvider

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
    # The dimensions of each tier's alarms; None: the tier is not this stack's (a pull-request
    # environment on shared pieces leaves the load balancer's own, the database's, the cache's
    # and the web ACL's alarms to the shared stack, which has no service or distribution).
    target_group_arn_suffix: str | None  # TargetGroup dimension: targetgroup/<name>/<id>
    cluster_name: str | None  # ECS cluster
    service_name: str | None
    db_cluster_identifier: str | None
    cache_name: str | None  # ElastiCache Serverless cache: the clusterId dimension
    distribution_id: str | None
    web_acl_name: str | None  # WebACL dimension: the web ACL's CloudWatch metric name
    # The scheduled jobs' dead-letter queue (lib/jobs.py); None: no jobs, no alarm.
    jobs_dead_letter_queue: str | None = None
    load_balancer_alarms: bool = True  # the load balancer's own 5XX (False: not its owner)
    # Container Insights on the cluster: running-tasks compares its task counts; without it,
    # running-tasks fires when ECS publishes no metric of the service (no running task).
    container_insights: bool = True
    dashboard: bool = True  # the dashboard; off in the ephemeral profile
    # The topics' keys when the stack gives them (one key per region: the ephemeral profile);
    # None: each topic gets its own key.
    topic_key_arn: str | None = None
    global_topic_key_arn: str | None = None


@dataclass(frozen=True)
class Metric:
    """One CloudWatch metric with the statistic an alarm or a graph reads."""

    namespace: str
    name: str
    # None values only while alarm_table leaves out the tiers that are not the stack's.
    dimensions: Mapping[str, str | None]
    stat: str  # Sum, Average, Maximum, Minimum, SampleCount or a percentile such as p90


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
    """Every alarm of the stack, in dashboard order: those whose dimensions it has (a tier
    whose dimension value is None is not the stack's, and neither are its alarms)."""
    return [alarm for alarm in _every_alarm(props)
            if all(value is not None for metric in alarm.metrics.values()
                   for value in metric.dimensions.values())]


def _running_tasks(props: MonitoringProps, service: Mapping[str, str | None]) -> Alarm:
    """Fewer tasks than desired: from Container Insights' counts, or, without it, from the
    absence of AWS/ECS metrics, which ECS publishes only for a service with a task RUNNING
    ("If a cluster, service, or other resource has no running tasks, no metrics will be
    reported", Amazon ECS CloudWatch metrics): then it fires when none runs, which is fewer
    than desired for a profile whose minimum is one task (the ephemeral profile's)."""
    action = ("Read the ECS service events and the stopped tasks' reasons (image pull, "
              "secrets, health checks, capacity).")
    if props.container_insights:
        # Container Insights publishes both every minute; missing data means the service
        # or Container Insights is gone, which must not look healthy.
        insights = "ECS/ContainerInsights"
        return Alarm(key="running-tasks", tier="service", missing=BREACHING,
                     metrics={"desired": Metric(insights, "DesiredTaskCount", service, "Average"),
                              "running": Metric(insights, "RunningTaskCount", service,
                                                "Average")},
                     expression="desired - running", threshold=0,
                     meaning="Fewer tasks are running than desired for 5 minutes (tasks crash, "
                             "fail to start, or Fargate or Spot capacity is short).",
                     action=action)
    return Alarm(key="running-tasks", tier="service", missing=BREACHING,
                 metrics={"m": Metric("AWS/ECS", "CPUUtilization", service, "SampleCount")},
                 threshold=1, comparison=LESS,
                 meaning="No task of the service has run for 5 minutes (tasks crash, fail to "
                         "start, or Fargate Spot capacity is short); without Container Insights "
                         "a shortfall above zero is not seen.",
                 action=action)


def _every_alarm(props: MonitoringProps) -> list[Alarm]:
    """The alarm table of a stack with every tier."""
    levels = props.thresholds
    capacity = levels.capacity_percent
    alb = {"LoadBalancer": props.alb_arn_suffix if props.load_balancer_alarms else None}
    target = {"LoadBalancer": props.alb_arn_suffix, "TargetGroup": props.target_group_arn_suffix}
    service = {"ClusterName": props.cluster_name, "ServiceName": props.service_name}
    db = {"DBClusterIdentifier": props.db_cluster_identifier}
    cache = {"clusterId": props.cache_name}
    elb, rds, ecs, redis = "AWS/ApplicationELB", "AWS/RDS", "AWS/ECS", "AWS/ElastiCache"
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
        _running_tasks(props, service),
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


def alarm_thresholds(profile: Profile) -> Thresholds:
    """The alarms' thresholds and the limits they are a share of, from a profile."""
    return Thresholds(
        errors_5xx=profile.alarm_5xx_count, p90_latency_seconds=profile.alarm_p90_latency_seconds,
        cpu_percent=profile.alarm_cpu_percent, memory_percent=profile.alarm_memory_percent,
        db_freeable_memory_mib=profile.alarm_db_freeable_memory_mib,
        capacity_percent=profile.alarm_capacity_percent,
        edge_5xx_percent=profile.alarm_edge_5xx_percent,
        waf_blocked_count=profile.alarm_waf_blocked_count, db_max_acu=profile.db_max_acu,
        cache_max_storage_gb=profile.cache_max_storage_gb,
        cache_max_ecpu_per_second=profile.cache_max_ecpu_per_second)
