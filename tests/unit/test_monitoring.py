"""Monitoring on the synthesized JSON of dev, pr4892 and prod: topics, alarms, dashboard.

Alarm dimensions must be the other tiers' tokens, so these tests read the full stacks;
a stack holding only the construct checks the inputs it rejects.
"""
# pylint: disable=redefined-outer-name
from __future__ import annotations

import json
from dataclasses import replace

import cdktf
import pytest
from cdktf import TerraformProvider, TerraformStack
from cdktf_cdktf_provider_aws.provider import AwsProvider

from lib.config import PROFILES, Settings, load_settings
from lib.monitoring import Monitoring, MonitoringProps, db_connections_threshold
from lib.naming import Names
from lib.service import CPU_TARGET_PERCENT, MEMORY_TARGET_PERCENT
from lib.tap_stack import alarm_thresholds
from tests.unit.synth import Synth
from tests.unit.variants import ALARM_EMAIL, VARIANT_REGION

ACCOUNT_REF = "${data.aws_caller_identity.caller.account_id}"
ALL_KEYS = ("alb-5xx", "target-5xx", "target-p90-latency", "unhealthy-hosts", "ecs-cpu",
            "ecs-memory", "running-tasks", "aurora-cpu", "aurora-freeable-memory",
            "aurora-connections", "aurora-acu", "cache-ecpu", "cache-throttled",
            "cache-storage", "edge-5xx-rate", "waf-blocked-spike")
GLOBAL_ALARMS = {"edge-5xx-rate", "waf-blocked-spike"}


def alarm(stack: Synth, key: str) -> dict:
    return stack.at("aws_cloudwatch_metric_alarm", f"monitoring/{key}")


def dimensions(stack: Synth) -> dict[str, dict[str, str]]:
    """The dimensions each metric must carry: tokens of the other tiers' resources."""
    alb = {"LoadBalancer": stack.ref("aws_lb", "lb/alb", "arn_suffix")}
    target = {**alb, "TargetGroup": stack.ref("aws_lb_target_group", "lb/web", "arn_suffix")}
    return {
        "alb": alb, "target": target,
        "service": {"ClusterName": stack.ref("aws_ecs_cluster", "app/cluster", "name"),
                    "ServiceName": stack.ref("aws_ecs_service", "app/service", "name")},
        "db": {"DBClusterIdentifier": stack.ref("aws_rds_cluster", "data/aurora",
                                                "cluster_identifier")},
        "cache": {"clusterId": stack.ref("aws_elasticache_serverless_cache", "data/cache", "name")},
        "edge": {"DistributionId": stack.ref("aws_cloudfront_distribution", "edge/distribution"),
                 "Region": "Global"},
        "waf": {"WebACL": stack.ref("aws_wafv2_web_acl", "edge/web-acl", "name"), "Rule": "ALL"},
    }


def test_topics_are_encrypted_and_only_cloudwatch_may_publish(stacks: dict[str, Synth]) -> None:
    for suffix, stack in stacks.items():
        for prefix, name in (("alarms", f"tap-{suffix}-alarms"),
                             ("global-alarms", f"tap-{suffix}-alarms-global")):
            topic = stack.at("aws_sns_topic", f"monitoring/{prefix}")
            path = stack.key_path(prefix)  # the topic's own key, or the region's one key
            assert topic["name"] == name and topic["kms_master_key_id"] == \
                stack.ref("aws_kms_key", path, "arn")
            assert stack.at("aws_kms_key", path)["enable_key_rotation"] is True
            admin, *services = stack.policy("aws_kms_key", path)["Statement"]
            assert admin["Principal"] == {"AWS": f"arn:aws:iam::{ACCOUNT_REF}:root"}
            assert {"Sid": "CloudWatchAlarms", "Effect": "Allow",
                    "Principal": {"Service": "cloudwatch.amazonaws.com"},
                    "Action": ["kms:Decrypt", "kms:GenerateDataKey*"],
                    "Resource": "*"} in services
            topic_arn = stack.ref("aws_sns_topic", f"monitoring/{prefix}", "arn")
            policy = stack.at("aws_sns_topic_policy", f"monitoring/{prefix}-policy")
            assert policy["arn"] == topic_arn
            (publish,) = json.loads(policy["policy"])["Statement"]
            assert publish == {
                "Sid": "CloudWatchAlarmsPublish", "Effect": "Allow",
                "Principal": {"Service": "cloudwatch.amazonaws.com"}, "Action": ["sns:Publish"],
                "Resource": topic_arn,
                "Condition": {"StringEquals": {"aws:SourceAccount": ACCOUNT_REF},
                              "ArnLike": {"aws:SourceArn":
                                          f"arn:aws:cloudwatch:us-east-1:{ACCOUNT_REF}:alarm:*"}},
            }
        regional = [stack.at("aws_sns_topic", "monitoring/alarms"),
                    stack.at("aws_kms_key", stack.key_path("alarms"))]
        assert all("provider" not in block for block in regional)
        for rtype, path in (("aws_sns_topic", "monitoring/global-alarms"),
                            ("aws_sns_topic_policy", "monitoring/global-alarms-policy"),
                            ("aws_kms_key", stack.key_path("global-alarms"))):
            assert stack.at(rtype, path)["provider"] == "aws.global"
        if suffix != "pr4892":  # its keys and aliases: tests/unit/test_keys.py
            assert stack.at("aws_kms_alias", "monitoring/global-alarms-key/alias")[
                "provider"] == "aws.global"
            assert stack.at("aws_kms_alias", "monitoring/alarms-key/alias")["name"] == \
                f"alias/tap-{suffix}-alarms"
        assert stack.resources("aws_sns_topic_subscription") == {}


def test_email_subscription_on_both_topics_and_region_in_source_arn(variant: Synth) -> None:
    """The variant: a standard environment outside us-east-1 with ALARM_EMAIL set."""
    emailed = variant
    for prefix in ("alarms", "global-alarms"):
        subscription = emailed.at("aws_sns_topic_subscription", f"monitoring/{prefix}-email")
        assert subscription["protocol"] == "email"
        assert subscription["endpoint"] == ALARM_EMAIL == "ops@example.com"
        assert subscription["topic_arn"] == emailed.ref("aws_sns_topic", f"monitoring/{prefix}", "arn")
    assert "provider" not in emailed.at("aws_sns_topic_subscription", "monitoring/alarms-email")
    assert emailed.at("aws_sns_topic_subscription", "monitoring/global-alarms-email")["provider"] \
        == "aws.global"
    for prefix, region in (("alarms", VARIANT_REGION), ("global-alarms", "us-east-1")):
        (publish,) = emailed.policy("aws_sns_topic_policy", f"monitoring/{prefix}-policy")["Statement"]
        assert publish["Condition"]["ArnLike"]["aws:SourceArn"] == \
            f"arn:aws:cloudwatch:{region}:{ACCOUNT_REF}:alarm:*"


EXPECTED = {  # key: (namespace, metric, statistic, dimensions key, treat_missing_data)
    "alb-5xx": ("AWS/ApplicationELB", "HTTPCode_ELB_5XX_Count", "Sum", "alb", "notBreaching"),
    "target-5xx": ("AWS/ApplicationELB", "HTTPCode_Target_5XX_Count", "Sum", "target",
                   "notBreaching"),
    "target-p90-latency": ("AWS/ApplicationELB", "TargetResponseTime", "p90", "target",
                           "notBreaching"),
    "unhealthy-hosts": ("AWS/ApplicationELB", "UnHealthyHostCount", "Maximum", "target", "missing"),
    "ecs-cpu": ("AWS/ECS", "CPUUtilization", "Average", "service", "notBreaching"),
    "ecs-memory": ("AWS/ECS", "MemoryUtilization", "Average", "service", "notBreaching"),
    "aurora-cpu": ("AWS/RDS", "CPUUtilization", "Average", "db", "notBreaching"),
    "aurora-freeable-memory": ("AWS/RDS", "FreeableMemory", "Minimum", "db", "notBreaching"),
    "aurora-connections": ("AWS/RDS", "DatabaseConnections", "Maximum", "db", "notBreaching"),
    "aurora-acu": ("AWS/RDS", "ACUUtilization", "Average", "db", "notBreaching"),
    "cache-ecpu": ("AWS/ElastiCache", "ElastiCacheProcessingUnits", "Sum", "cache", "notBreaching"),
    "cache-throttled": ("AWS/ElastiCache", "ThrottledCmds", "Sum", "cache", "notBreaching"),
    "cache-storage": ("AWS/ElastiCache", "BytesUsedForCache", "Maximum", "cache", "notBreaching"),
    "edge-5xx-rate": ("AWS/CloudFront", "5xxErrorRate", "Average", "edge", "notBreaching"),
    "waf-blocked-spike": ("AWS/WAFV2", "BlockedRequests", "Sum", "waf", "notBreaching"),
}


def test_every_alarm_watches_its_tier_and_notifies_its_regions_topic(
        stacks: dict[str, Synth]) -> None:
    for suffix, stack in stacks.items():
        dims = dimensions(stack)
        assert len(stack.resources("aws_cloudwatch_metric_alarm")) == len(ALL_KEYS)
        for key, (namespace, metric, stat, dims_key, missing) in EXPECTED.items():
            found = alarm(stack, key)
            topic = "global-alarms" if key in GLOBAL_ALARMS else "alarms"
            topic_arn = stack.ref("aws_sns_topic", f"monitoring/{topic}", "arn")
            assert found["alarm_name"] == f"tap-{suffix}-{key}"
            assert (found["namespace"], found["metric_name"], found["dimensions"]) == \
                (namespace, metric, dims[dims_key]), key
            assert found.get("statistic", found.get("extended_statistic")) == stat
            assert found["treat_missing_data"] == missing
            assert found["alarm_actions"] == found["ok_actions"] == [topic_arn]
            assert found.get("provider") == ("aws.global" if key in GLOBAL_ALARMS else None)
            assert " Action: " in found["alarm_description"]
            assert len(found["alarm_description"]) <= 1024
        latency = alarm(stack, "target-p90-latency")
        assert latency["evaluate_low_sample_count_percentiles"] == "ignore"
        assert "statistic" not in latency


def test_metric_dimensions_the_alarms_rely_on(dev: Synth) -> None:
    acl = dev.at("aws_wafv2_web_acl", "edge/web-acl")
    # The WebACL dimension is the ACL's CloudWatch metric name; it equals the ACL name.
    assert acl["visibility_config"]["metric_name"] == acl["name"] == "tap-dev-edge"
    assert acl["scope"] == "CLOUDFRONT"
    cluster = dev.at("aws_ecs_cluster", "app/cluster")
    assert {"name": "containerInsights", "value": "enabled"} in cluster["setting"]


def test_without_container_insights_running_tasks_fires_when_ecs_publishes_nothing(
        ephemeral: Synth) -> None:
    """ECS publishes a service's metrics only while a task runs: no datapoint is no task."""
    found = alarm(ephemeral, "running-tasks")
    assert (found["namespace"], found["metric_name"], found["statistic"], found["period"]) == (
        "AWS/ECS", "CPUUtilization", "SampleCount", 60)
    assert found["dimensions"] == dimensions(ephemeral)["service"]
    assert (found["comparison_operator"], found["threshold"]) == ("LessThanThreshold", 1)
    assert (found["evaluation_periods"], found["datapoints_to_alarm"]) == (5, 5)
    assert found["treat_missing_data"] == "breaching"
    assert "metric_query" not in found
    cluster = ephemeral.at("aws_ecs_cluster", "app/cluster")
    assert cluster["setting"] == [{"name": "containerInsights", "value": "disabled"}]
    assert "depends_on" not in cluster


def test_running_tasks_below_desired_uses_container_insights_math(prod: Synth) -> None:
    found = alarm(prod, "running-tasks")
    desired, running, result = found["metric_query"]
    for query, metric in ((desired, "DesiredTaskCount"), (running, "RunningTaskCount")):
        assert query["return_data"] is False
        assert query["metric"] == {"namespace": "ECS/ContainerInsights", "metric_name": metric,
                                   "dimensions": dimensions(prod)["service"], "stat": "Average",
                                   "period": 60}
    assert result == {"id": "result", "expression": "desired - running",
                      "label": "running-tasks", "return_data": True}
    assert (found["comparison_operator"], found["threshold"]) == ("GreaterThanThreshold", 0)
    assert (found["evaluation_periods"], found["datapoints_to_alarm"]) == (5, 5)
    assert found["treat_missing_data"] == "breaching"
    assert found["alarm_actions"] == [prod.ref("aws_sns_topic", "monitoring/alarms", "arn")]
    assert "metric_name" not in found and "namespace" not in found


@pytest.mark.parametrize("suffix,thresholds", [
    ("pr4892", {"alb-5xx": 25, "target-5xx": 25, "target-p90-latency": 3, "ecs-cpu": 90,
                "ecs-memory": 90, "aurora-cpu": 90, "aurora-freeable-memory": 128 * 2 ** 20,
                "aurora-connections": 364, "aurora-acu": 90, "cache-ecpu": 270000,
                "cache-storage": 900000000, "edge-5xx-rate": 10, "waf-blocked-spike": 1000}),
    ("dev", {"alb-5xx": 10, "target-5xx": 10, "target-p90-latency": 2, "ecs-cpu": 85,
             "ecs-memory": 85, "aurora-cpu": 85, "aurora-freeable-memory": 256 * 2 ** 20,
             "aurora-connections": 689, "aurora-acu": 85, "cache-ecpu": 1020000,
             "cache-storage": 4250000000, "edge-5xx-rate": 5, "waf-blocked-spike": 500}),
    ("prod", {"alb-5xx": 10, "target-5xx": 10, "target-p90-latency": 1, "ecs-cpu": 80,
              "ecs-memory": 80, "aurora-cpu": 80, "aurora-freeable-memory": 512 * 2 ** 20,
              "aurora-connections": 2595, "aurora-acu": 80, "cache-ecpu": 4800000,
              "cache-storage": 16000000000, "edge-5xx-rate": 2, "waf-blocked-spike": 500}),
])
def test_thresholds_per_profile(stacks: dict[str, Synth], suffix: str,
                                thresholds: dict[str, float]) -> None:
    stack = stacks[suffix]
    for key, threshold in thresholds.items():
        assert alarm(stack, key)["threshold"] == threshold, key
    for key in ("unhealthy-hosts", "cache-throttled"):
        assert alarm(stack, key)["threshold"] == 0
    # Without Container Insights (pr4892) running-tasks counts the datapoints: fewer than one.
    less = {"aurora-freeable-memory"} | ({"running-tasks"} if suffix == "pr4892" else set())
    assert alarm(stack, "running-tasks")["threshold"] == (1 if suffix == "pr4892" else 0)
    assert all(alarm(stack, key)["comparison_operator"] ==
               ("LessThanThreshold" if key in less else "GreaterThanThreshold")
               for key in ALL_KEYS)


def test_service_alarms_fire_only_above_the_scaling_targets() -> None:
    for profile in PROFILES.values():
        assert profile.alarm_cpu_percent > CPU_TARGET_PERCENT
        assert profile.alarm_memory_percent > MEMORY_TARGET_PERCENT


def test_connections_threshold_is_capped_by_postgres_maximum() -> None:
    profile = replace(load_settings({}).profile, db_max_acu=256.0, alarm_capacity_percent=80)
    assert db_connections_threshold(alarm_thresholds(profile)) == 4000


def test_dashboard_has_alarm_status_and_a_row_per_tier(stacks: dict[str, Synth]) -> None:
    assert stacks["pr4892"].resources("aws_cloudwatch_dashboard") == {}  # the ephemeral cut
    assert stacks["pr4892"].outputs["dashboard_name"]["value"] == ""
    for suffix in ("dev", "prod"):
        stack = stacks[suffix]
        dashboard = stack.at("aws_cloudwatch_dashboard", "monitoring/dashboard")
        assert dashboard["dashboard_name"] == f"tap-{suffix}"
        status, *graphs = json.loads(dashboard["dashboard_body"])["widgets"]
        assert status["type"] == "alarm"
        assert (status["x"], status["y"], status["width"]) == (0, 0, 24)
        assert status["properties"]["alarms"] == [
            stack.ref("aws_cloudwatch_metric_alarm", f"monitoring/{key}", "arn") for key in ALL_KEYS]
        rows: dict[int, list[dict]] = {}
        for widget in graphs:
            rows.setdefault(widget["y"], []).append(widget)
        assert [{w["properties"]["title"].split(":")[0] for w in row} for row in rows.values()] \
            == [{"load balancer"}, {"service"}, {"database"}, {"cache"}, {"edge"}]
        for row in rows.values():
            assert sum(w["width"] for w in row) <= 24
            assert [w["x"] for w in row] == sorted({w["x"] for w in row})
    graphs = json.loads(stacks["dev"].at("aws_cloudwatch_dashboard", "monitoring/dashboard")[
        "dashboard_body"])["widgets"][1:]
    by_title = {w["properties"]["title"]: w["properties"] for w in graphs}
    waf = by_title["edge: waf-blocked-spike"]
    assert waf["region"] == by_title["edge: edge-5xx-rate"]["region"] == "us-east-1"
    acl = stacks["dev"].ref("aws_wafv2_web_acl", "edge/web-acl", "name")
    assert waf["metrics"] == [["AWS/WAFV2", "BlockedRequests", "WebACL", acl, "Rule", "ALL",
                               {"stat": "Sum", "label": "BlockedRequests (Sum)"}]]
    assert waf["annotations"] == {"horizontal": [{"label": "alarm", "value": 500}]}
    tasks = by_title["service: running-tasks"]
    assert len(tasks["metrics"]) == 2 and "annotations" not in tasks


def test_dashboard_regional_widgets_follow_the_stack_region(variant: Synth) -> None:
    body = json.loads(variant.at("aws_cloudwatch_dashboard", "monitoring/dashboard")["dashboard_body"])
    regions = {w["properties"]["title"].split(":")[0]: w["properties"]["region"]
               for w in body["widgets"][1:]}
    assert VARIANT_REGION != "us-east-1"
    assert regions == {"load balancer": VARIANT_REGION, "service": VARIANT_REGION,
                       "database": VARIANT_REGION, "cache": VARIANT_REGION, "edge": "us-east-1"}


def props_for(settings: Settings, provider: TerraformProvider, **overrides: str) -> MonitoringProps:
    """Props with fixed dimension strings, for a stack holding only the construct."""
    values = {"alb_arn_suffix": "app/a/1", "target_group_arn_suffix": "targetgroup/t/2",
              "cluster_name": "c", "service_name": "s", "db_cluster_identifier": "d",
              "cache_name": "k", "distribution_id": "E1", "web_acl_name": "w", **overrides}
    return MonitoringProps(names=Names(settings), account_id="111122223333",
                           region=settings.aws_region, provider=provider,
                           thresholds=alarm_thresholds(settings.profile),
                           kms_deletion_window_days=settings.profile.kms_deletion_window_days,
                           alarm_email=settings.alarm_email, **values)


def test_construct_exposes_alarm_names_and_tokens() -> None:
    settings = load_settings({"ENVIRONMENT_SUFFIX": "dev"})
    stack = TerraformStack(cdktf.Testing.app(), "exposed")
    global_provider = AwsProvider(stack, "aws-global", region="us-east-1", alias="global")
    monitoring = Monitoring(stack, "monitoring", props=props_for(settings, global_provider))
    assert list(monitoring.alarm_names) == list(ALL_KEYS)
    assert monitoring.alarm_names["waf-blocked-spike"] == "tap-dev-waf-blocked-spike"
    for token in (monitoring.topic_arn, monitoring.global_topic_arn, monitoring.dashboard_name):
        assert cdktf.Token.is_unresolved(token)


def test_provider_must_be_the_global_one() -> None:
    settings = load_settings({})
    stack = TerraformStack(cdktf.Testing.app(), "wrong-provider")
    regional = AwsProvider(stack, "aws", region="eu-west-1")
    with pytest.raises(ValueError, match="must be the us-east-1 provider"):
        Monitoring(stack, "monitoring", props=props_for(settings, regional))


def test_empty_dimension_is_rejected() -> None:
    settings = load_settings({})
    stack = TerraformStack(cdktf.Testing.app(), "empty-dimension")
    provider = AwsProvider(stack, "aws-global", region="us-east-1", alias="global")
    with pytest.raises(ValueError, match="empty dimension value.*cache_name"):
        Monitoring(stack, "monitoring", props=props_for(settings, provider, cache_name=""))
