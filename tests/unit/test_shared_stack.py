"""The shared stack TapSharedmain (lib/shared_stack.py) on its synthesized JSON: the five pieces,
what makes them safe to share, its alarms and its outputs."""
from __future__ import annotations

import json
from typing import Any

from lib.outputs import SHARED_OUTPUTS
from lib.waf_rules import web_acl_rules
from tests.unit.synth import Synth

GLOBAL = "aws.global"


def at(platform: Synth, rtype: str, path: str) -> dict[str, Any]:
    return platform.at(rtype, path)


def test_its_outputs_are_exactly_the_five_pieces(platform: Synth) -> None:
    assert sorted(platform.outputs) == sorted(spec.name for spec in SHARED_OUTPUTS)
    expected = {
        "shared_web_acl_arn": platform.ref("aws_wafv2_web_acl", "edge/web-acl", "arn"),
        "shared_listener_arn": platform.ref("aws_lb_listener", "lb/http", "arn"),
        "shared_vpc_origin_arn": platform.ref("aws_cloudfront_vpc_origin", "edge/vpc-origin",
                                              "arn"),
        "shared_db_cluster_arn": platform.ref("aws_rds_cluster", "data/aurora", "arn"),
        "shared_cache_arn": platform.ref("aws_elasticache_serverless_cache", "data/cache", "arn"),
    }
    assert {name: output["value"] for name, output in platform.outputs.items()} == expected
    assert all(output["description"] for output in platform.outputs.values())


def test_its_name_tags_and_state(platform: Synth) -> None:
    (provider, global_provider) = platform.json["provider"]["aws"]
    assert provider["default_tags"][0]["tags"] == {
        "Environment": "shared-main", "Repository": "unknown", "Author": "unknown",
        "Project": "tap", "Profile": "shared", "ManagedBy": "cdktf"}
    assert global_provider["alias"] == "global"
    assert platform.json["terraform"]["backend"] == {
        "local": {"path": "terraform.TapSharedmain.tfstate"}}
    # No VPC, NAT or subnet of its own: the platform's network, read.
    assert not {"aws_vpc", "aws_subnet", "aws_nat_gateway", "aws_eip"} & set(
        platform.json["resource"])
    assert sorted(platform.paths[lid] for lid in platform.resources("aws_kms_key")) == [
        "global-key/key", "key/key"]


def test_the_web_acl_logs_to_its_own_bucket(platform: Synth) -> None:
    acl = at(platform, "aws_wafv2_web_acl", "edge/web-acl")
    assert (acl["name"], acl["scope"], acl["provider"]) == ("tap-shared-main-edge",
                                                            "CLOUDFRONT", GLOBAL)
    assert json.loads(acl["rule_json"]) == web_acl_rules(True, 1000)
    logging = at(platform, "aws_wafv2_web_acl_logging_configuration", "edge/waf-logging")
    assert logging["log_destination_configs"] == [platform.ref("aws_s3_bucket",
                                                               "edge/log-bucket", "arn")]
    bucket = at(platform, "aws_s3_bucket", "edge/log-bucket")
    assert bucket["bucket_prefix"] == "aws-waf-logs-tapshared-main-"
    sids = [s["Sid"] for s in platform.policy("aws_s3_bucket_policy",
                                              "edge/log-bucket-policy")["Statement"]]
    assert sids == ["DenyInsecureTransport", "WafLogDeliveryWrite", "WafLogDeliveryAclCheck"]


def test_the_internal_load_balancer_answers_404_unless_a_rule_matches(platform: Synth) -> None:
    alb = at(platform, "aws_lb", "lb/alb")
    assert (alb["name"], alb["internal"], alb["enable_deletion_protection"]) == (
        "tap-shared-main-alb", True, False)
    assert alb["subnets"] == [platform.ref("aws_subnet", f"network/private-{index}",
                                           kind="data") for index in range(2)]
    assert alb["access_logs"]["enabled"] is True
    listener = at(platform, "aws_lb_listener", "lb/http")
    assert (listener["port"], listener["protocol"]) == (80, "HTTP")
    assert listener["default_action"] == [{"type": "fixed-response", "fixed_response": {
        "content_type": "text/plain", "message_body": "Not Found", "status_code": "404"}}]
    assert platform.resources("aws_lb_listener_rule") == {}
    assert platform.resources("aws_lb_target_group") == {}
    origin = at(platform, "aws_cloudfront_vpc_origin", "edge/vpc-origin")
    (endpoint,) = origin["vpc_origin_endpoint_config"]
    assert (endpoint["arn"], endpoint["origin_protocol_policy"], origin["provider"]) == (
        platform.ref("aws_lb", "lb/alb", "arn"), "http-only", GLOBAL)


def test_the_cluster_takes_iam_and_the_data_api(platform: Synth) -> None:
    cluster = at(platform, "aws_rds_cluster", "data/aurora")
    assert (cluster["cluster_identifier"], cluster["enable_http_endpoint"],
            cluster["iam_database_authentication_enabled"],
            cluster["manage_master_user_password"]) == (
        "tap-shared-main-aurora", True, True, True)
    assert cluster["serverlessv2_scaling_configuration"] == {
        "min_capacity": 0, "max_capacity": 8, "seconds_until_auto_pause": 600}
    assert cluster["kms_key_id"] == platform.ref("aws_kms_key", "key/key", "arn")


def test_the_cache_admits_only_its_group_s_users(platform: Synth) -> None:
    cache = at(platform, "aws_elasticache_serverless_cache", "data/cache")
    group = at(platform, "aws_elasticache_user_group", "cache-users/group")
    default = at(platform, "aws_elasticache_user", "cache-users/default-user")
    assert cache["engine"] == group["engine"] == default["engine"] == "valkey"
    assert cache["user_group_id"] == platform.ref("aws_elasticache_user_group",
                                                  "cache-users/group", "user_group_id")
    assert group == {"user_group_id": "tap-shared-main-users", "engine": "valkey",
                     "user_ids": [platform.ref("aws_elasticache_user",
                                               "cache-users/default-user", "user_id")],
                     "lifecycle": {"ignore_changes": ["user_ids"]}}
    assert (default["user_id"], default["user_name"], default["access_string"]) == (
        "tap-shared-main-default", "default", "off -@all")
    assert default["authentication_mode"]["type"] == "password"
    assert default["lifecycle"] == {"ignore_changes": ["authentication_mode"]}
    # The environments' users carry their own secrets: no connection secret here.
    assert platform.resources("aws_secretsmanager_secret") == {}


def test_its_groups_admit_cloudfront_and_the_workload_subnets(platform: Synth) -> None:
    rules = {platform.paths[lid]: rule for rtype in ("aws_vpc_security_group_ingress_rule",
                                                     "aws_vpc_security_group_egress_rule")
             for lid, rule in platform.resources(rtype).items()}
    ids = platform.ref("aws_security_groups", "edge/vpc-origins-sg", "ids", kind="data")
    cloudfront = f"${{element({ids[2:-1]}, 0)}}"
    for key, port in (("alb-from-vpc-origin", 80), ("alb-from-vpc-origin-https", 443)):
        assert rules[f"firewall/{key}"]["referenced_security_group_id"] == cloudfront
        assert rules[f"firewall/{key}"]["from_port"] == rules[f"firewall/{key}"]["to_port"] == port
    subnets = [f"public-{i}" for i in range(2)] + [f"private-{i}" for i in range(2)]
    groups = {"alb": platform.ref("aws_security_group", "network/alb-sg"),
              "db": platform.ref("aws_security_group", "data/db-sg"),
              "cache": platform.ref("aws_security_group", "data/cache-sg")}
    for index, subnet in enumerate(subnets):
        cidr = platform.ref("aws_subnet", f"network/{subnet}", "cidr_block", kind="data")
        for key, group, ports in (("alb-to-workloads", "alb", (0, 65535)),
                                  ("db-from-workloads", "db", (5432, 5432)),
                                  ("cache-from-workloads", "cache", (6379, 6380))):
            rule = rules[f"firewall/{key}-{index}"]
            assert (rule["security_group_id"], rule["cidr_ipv4"], rule["from_port"],
                    rule["to_port"]) == (groups[group], cidr, *ports)
    assert len(rules) == 2 + 3 * len(subnets)
    assert platform.resources("aws_security_group").keys() == {
        platform.logical_id("aws_security_group", path)
        for path in ("network/alb-sg", "data/db-sg", "data/cache-sg")}


def test_its_alarms_watch_its_own_pieces(platform: Synth) -> None:
    alarms = {alarm["alarm_name"].removeprefix("tap-shared-main-"): alarm
              for alarm in platform.resources("aws_cloudwatch_metric_alarm").values()}
    assert sorted(alarms) == ["alb-5xx", "aurora-acu", "aurora-connections", "aurora-cpu",
                              "aurora-freeable-memory", "cache-ecpu", "cache-storage",
                              "cache-throttled", "waf-blocked-spike"]
    assert alarms["alb-5xx"]["dimensions"] == {
        "LoadBalancer": platform.ref("aws_lb", "lb/alb", "arn_suffix")}
    assert alarms["waf-blocked-spike"]["provider"] == GLOBAL
    assert alarms["aurora-connections"]["threshold"] == 1297  # 80% of max_connections at 8 ACU
    assert platform.resources("aws_cloudwatch_dashboard") == {}
