"""The contract's Terraform outputs: names, descriptions, values and sensitivity, per profile."""
from __future__ import annotations

import json

import pytest

from tests.unit.synth import Synth

CONTRACT_OUTPUTS = frozenset({
    "vpc_id", "public_subnet_ids", "private_subnet_ids", "alb_arn", "alb_dns_name",
    "target_group_arn", "ecs_cluster_name", "ecs_service_name", "cloudfront_distribution_id",
    "cloudfront_domain_name", "waf_web_acl_arn", "aurora_cluster_identifier",
    "aurora_cluster_endpoint", "aurora_reader_endpoint", "db_secret_arn", "redis_cache_name",
    "redis_endpoint", "redis_secret_arn", "alarm_topic_arn", "environment_suffix", "aws_region",
})
# No output is sensitive: none carries a secret. Credentials stay in Secrets Manager and the
# outputs name the secrets by ARN; endpoints and names are addresses, reachable only from the
# VPC's security groups. Marking them sensitive would also drop them from
# `cdktf deploy --outputs-file`, which the integration suite reads.
SENSITIVE_OUTPUTS: frozenset[str] = frozenset()
# Attributes whose values are secret: no output may reference them.
SECRET_ATTRIBUTES = (".secret_string", ".password", ".master_password", ".auth_token", ".result}",
                     "random_password.", ".secret_binary")

# output -> (resource type, construct path, attribute) of the value's token
RESOURCE_OUTPUTS = {
    "vpc_id": ("aws_vpc", "network/vpc", "id"),
    "alb_arn": ("aws_lb", "lb/alb", "arn"),
    "alb_dns_name": ("aws_lb", "lb/alb", "dns_name"),
    "target_group_arn": ("aws_lb_target_group", "lb/web", "arn"),
    "ecs_cluster_name": ("aws_ecs_cluster", "app/cluster", "name"),
    "ecs_service_name": ("aws_ecs_service", "app/service", "name"),
    "cloudfront_distribution_id": ("aws_cloudfront_distribution", "edge/distribution", "id"),
    "cloudfront_domain_name": ("aws_cloudfront_distribution", "edge/distribution", "domain_name"),
    "waf_web_acl_arn": ("aws_wafv2_web_acl", "edge/web-acl", "arn"),
    "aurora_cluster_identifier": ("aws_rds_cluster", "data/aurora", "cluster_identifier"),
    "aurora_cluster_endpoint": ("aws_rds_cluster", "data/aurora", "endpoint"),
    "aurora_reader_endpoint": ("aws_rds_cluster", "data/aurora", "reader_endpoint"),
    "db_secret_arn": ("aws_rds_cluster", "data/aurora", "master_user_secret[0].secret_arn"),
    "redis_cache_name": ("aws_elasticache_serverless_cache", "data/cache", "name"),
    "redis_endpoint": ("aws_elasticache_serverless_cache", "data/cache", "endpoint[0].address"),
    "alarm_topic_arn": ("aws_sns_topic", "monitoring/alarms", "arn"),
    "global_alarm_topic_arn": ("aws_sns_topic", "monitoring/global-alarms", "arn"),
    "dashboard_name": ("aws_cloudwatch_dashboard", "monitoring/dashboard", "dashboard_name"),
    "origin_verify_secret_arn": ("aws_secretsmanager_secret", "lb/origin-verify", "arn"),
    "alb_log_bucket": ("aws_s3_bucket", "lb/alb-logs", "id"),
    "edge_log_bucket": ("aws_s3_bucket", "edge/log-bucket", "bucket"),
}


def test_every_profile_declares_the_contract_outputs_with_descriptions(
        stacks: dict[str, Synth]) -> None:
    for suffix, stack in stacks.items():
        missing = CONTRACT_OUTPUTS - set(stack.outputs)
        assert not missing, f"{suffix} lacks outputs {sorted(missing)}"
        for name, output in stack.outputs.items():
            assert output.get("description", "").strip(), f"{suffix}: {name} has no description"


def test_sensitive_outputs_are_exactly_the_declared_set(stacks: dict[str, Synth]) -> None:
    for stack in stacks.values():
        assert {name for name, output in stack.outputs.items()
                if output.get("sensitive")} == SENSITIVE_OUTPUTS
        for name, output in stack.outputs.items():
            value = json.dumps(output["value"])
            assert not any(attribute in value for attribute in SECRET_ATTRIBUTES), name


@pytest.mark.parametrize("name", sorted(RESOURCE_OUTPUTS))
def test_output_values_reference_the_right_resources(stacks: dict[str, Synth], name: str) -> None:
    rtype, path, attribute = RESOURCE_OUTPUTS[name]
    for suffix, stack in stacks.items():
        if name == "dashboard_name" and suffix == "pr4892":  # no dashboard: the ephemeral cut
            assert stack.outputs[name]["value"] == ""
            continue
        assert stack.outputs[name]["value"] == stack.ref(rtype, path, attribute)


def test_subnet_and_plain_outputs(stacks: dict[str, Synth]) -> None:
    for suffix, stack in stacks.items():
        for tier in ("public", "private"):
            assert stack.outputs[f"{tier}_subnet_ids"]["value"] == [
                stack.ref("aws_subnet", f"network/{tier}-{index}") for index in range(3)]
        assert stack.outputs["environment_suffix"]["value"] == suffix
        assert stack.outputs["aws_region"]["value"] == "us-east-1"
        secret = stack.outputs["redis_secret_arn"]["value"]
        assert secret.startswith("${aws_secretsmanager_secret.") and secret.endswith(".arn}")
