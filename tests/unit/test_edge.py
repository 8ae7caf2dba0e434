"""Edge tier (WAF, CloudFront, access logs) on the synthesized JSON of every profile."""
# pylint: disable=redefined-outer-name
from __future__ import annotations

import json
import re
from typing import Any

import pytest

from tests.unit.synth import Synth
from tests.unit.variants import DOMAIN_NAMES, EDGE_CERTIFICATE

GLOBAL = "aws.global"
RETENTION = {"pr4892": 7, "dev": 30, "prod": 365}
RATE_LIMIT = {"pr4892": 1000, "dev": 2000, "prod": 2000}
ANONYMOUS_IP_ACTION = {"pr4892": "count", "dev": "count", "prod": "none"}
PRICE_CLASS = {"pr4892": "PriceClass_100", "dev": "PriceClass_100", "prod": "PriceClass_All"}
FORCE_DESTROY = {"pr4892": True, "dev": True, "prod": False}  # prod: only ALLOW_DESTROY empties
TOKEN = re.compile(r"^\$\{[a-z0-9_]+\.[\w-]+\.[\w\[\]\.]+\}$")


def web_acl(stack: Synth) -> dict:
    return stack.at("aws_wafv2_web_acl", "edge/web-acl")


def distribution(stack: Synth) -> dict:
    return stack.at("aws_cloudfront_distribution", "edge/distribution")


def test_web_acl_is_cloudfront_scoped_in_us_east_1(stacks: dict[str, Synth]) -> None:
    for suffix, stack in stacks.items():
        acl = web_acl(stack)
        assert acl["scope"] == "CLOUDFRONT"
        assert acl["provider"] == GLOBAL
        assert acl["name"] == f"tap-{suffix}-edge"
        assert acl["default_action"] == {"allow": {}}
        assert acl["visibility_config"] == {"cloudwatch_metrics_enabled": True,
                                            "metric_name": f"tap-{suffix}-edge",
                                            "sampled_requests_enabled": True}


def rules_of(stack: Synth) -> list[dict[str, Any]]:
    """The web ACL's rules: the WAFv2 API's Rule objects, as JSON (no `rule` blocks)."""
    acl = web_acl(stack)
    assert "rule" not in acl
    rules = json.loads(acl["rule_json"])
    assert isinstance(rules, list)
    return rules


def test_rules_priorities_and_actions(stacks: dict[str, Synth]) -> None:
    for suffix, stack in stacks.items():
        rules = rules_of(stack)
        assert [(r["Priority"], r["Name"]) for r in rules] == list(enumerate([
            "aws-ip-reputation", "aws-anonymous-ip", "rate-limit-per-ip", "aws-common",
            "aws-known-bad-inputs", "aws-sqli"]))
        groups = {r["Name"]: r["Statement"]["ManagedRuleGroupStatement"]
                  for r in rules if "ManagedRuleGroupStatement" in r["Statement"]}
        assert groups == {
            "aws-ip-reputation": {"Name": "AWSManagedRulesAmazonIpReputationList",
                                  "VendorName": "AWS"},
            "aws-anonymous-ip": {"Name": "AWSManagedRulesAnonymousIpList", "VendorName": "AWS"},
            "aws-common": {"Name": "AWSManagedRulesCommonRuleSet", "VendorName": "AWS"},
            "aws-known-bad-inputs": {"Name": "AWSManagedRulesKnownBadInputsRuleSet",
                                     "VendorName": "AWS"},
            "aws-sqli": {"Name": "AWSManagedRulesSQLiRuleSet", "VendorName": "AWS"},
        }
        overrides = {r["Name"]: r["OverrideAction"] for r in rules if r["Name"] in groups}
        assert overrides == {name: {"None": {}} for name in groups} | {
            "aws-anonymous-ip": {ANONYMOUS_IP_ACTION[suffix].capitalize(): {}}}
        assert not any("Action" in r for r in rules if r["Name"] in groups)
        for rule in rules:
            assert rule["VisibilityConfig"] == {"CloudWatchMetricsEnabled": True,
                                                "MetricName": rule["Name"],
                                                "SampledRequestsEnabled": True}


def test_rate_limit_per_client_ip_per_profile(stacks: dict[str, Synth]) -> None:
    for suffix, stack in stacks.items():
        (rule,) = [r for r in rules_of(stack) if r["Name"] == "rate-limit-per-ip"]
        assert rule["Action"] == {"Block": {}}
        assert "OverrideAction" not in rule
        assert rule["Statement"] == {"RateBasedStatement": {
            "Limit": RATE_LIMIT[suffix], "AggregateKeyType": "IP",
            "EvaluationWindowSec": 300}}


def test_waf_logs_to_the_edge_log_bucket_with_redactions(stacks: dict[str, Synth]) -> None:
    for stack in stacks.values():
        logging = stack.at("aws_wafv2_web_acl_logging_configuration", "edge/waf-logging")
        assert logging["resource_arn"] == stack.ref("aws_wafv2_web_acl", "edge/web-acl", "arn")
        assert logging["log_destination_configs"] == [
            stack.ref("aws_s3_bucket", "edge/log-bucket", "arn")]
        assert logging["redacted_fields"] == [{"single_header": {"name": "x-origin-verify"}},
                                              {"single_header": {"name": "authorization"}}]
        assert logging["provider"] == GLOBAL
        policy_id = stack.logical_id("aws_s3_bucket_policy", "edge/log-bucket-policy")
        assert logging["depends_on"] == [f"aws_s3_bucket_policy.{policy_id}"]


def test_no_account_wide_log_resource_policy(stacks: dict[str, Synth]) -> None:
    """A region allows 10 CloudWatch Logs resource policies, not adjustable: none per env."""
    for stack in stacks.values():
        assert "aws_cloudwatch_log_resource_policy" not in stack.json["resource"]
        assert not [lid for lid in stack.json["resource"].get("aws_cloudwatch_log_group", {})
                    if stack.paths[lid].startswith("edge/")]


def test_waf_log_delivery_writes_only_this_accounts_logs(dev: Synth) -> None:
    account = dev.ref("aws_caller_identity", "caller", "account_id", kind="data")
    arn = dev.ref("aws_s3_bucket", "edge/log-bucket", "arn")
    _, write, acl_check = dev.policy("aws_s3_bucket_policy", "edge/log-bucket-policy")["Statement"]
    source = {"ArnLike": {"aws:SourceArn": f"arn:aws:logs:us-east-1:{account}:*"}}
    assert write == {
        "Sid": "WafLogDeliveryWrite", "Effect": "Allow",
        "Principal": {"Service": "delivery.logs.amazonaws.com"}, "Action": ["s3:PutObject"],
        "Resource": [f"{arn}/AWSLogs/{account}/*"],
        "Condition": {"StringEquals": {"aws:SourceAccount": account,
                                       "s3:x-amz-acl": "bucket-owner-full-control"}, **source}}
    assert acl_check == {
        "Sid": "WafLogDeliveryAclCheck", "Effect": "Allow",
        "Principal": {"Service": "delivery.logs.amazonaws.com"}, "Action": ["s3:GetBucketAcl"],
        "Resource": [arn],
        "Condition": {"StringEquals": {"aws:SourceAccount": account}, **source}}


def test_edge_key_is_in_us_east_1_for_its_logs(stacks: dict[str, Synth]) -> None:
    window = {"dev": 14, "prod": 30}  # pr4892's one us-east-1 key: tests/unit/test_keys.py
    for suffix, days in window.items():
        stack = stacks[suffix]
        key = stack.at("aws_kms_key", "edge/logs-key/key")
        assert key["provider"] == GLOBAL and key["enable_key_rotation"] is True
        assert key["deletion_window_in_days"] == days
        alias = stack.at("aws_kms_alias", "edge/logs-key/alias")
        assert alias["name"] == f"alias/tap-{suffix}-edge" and alias["provider"] == GLOBAL
        _, delivery = stack.policy("aws_kms_key", "edge/logs-key/key")["Statement"]
        account = stack.ref("aws_caller_identity", "caller", "account_id", kind="data")
        assert delivery == {
            "Sid": "LogDelivery", "Effect": "Allow",
            "Principal": {"Service": "delivery.logs.amazonaws.com"},
            "Action": ["kms:GenerateDataKey*"], "Resource": "*",
            "Condition": {"StringEquals": {"aws:SourceAccount": account}}}


def test_every_edge_block_uses_the_us_east_1_provider(stacks: dict[str, Synth]) -> None:
    for stack in stacks.values():
        blocks = [(lid, block) for kind in ("resource", "data")
                  for blocks_of_type in stack.json[kind].values()
                  for lid, block in blocks_of_type.items()
                  if stack.paths[lid].startswith("edge/")]
        # 13 resources (the VPC origin among them), 3 data sources; what reads or cleans the
        # VPC does it where the VPC is (the stack's region), and terraform_data has no
        # provider at all. The ephemeral profile's edge uses the environment's us-east-1 key
        # (its key and alias are not the edge's).
        regional = {stack.logical_id("aws_security_groups", "edge/vpc-origins-sg", "data"),
                    stack.logical_id("terraform_data", "edge/vpc-origin-endpoint"),
                    stack.logical_id("terraform_data", "edge/vpc-origin-leftovers")}
        assert len(blocks) == (16 if stack.key_path("edge") == "global-key/key" else 18)
        assert {lid: block.get("provider") for lid, block in blocks} == \
            {lid: None if lid in regional else GLOBAL for lid, _ in blocks}


def test_origin_is_the_load_balancer_with_the_secret_header(dev: Synth) -> None:
    (origin,) = distribution(dev)["origin"]
    assert origin["origin_id"] == "alb"
    assert origin["domain_name"] == dev.ref("aws_lb", "lb/alb", "dns_name")
    (header,) = origin["custom_header"]
    assert header["name"] == "X-Origin-Verify"
    assert TOKEN.match(header["value"])  # resolved by Terraform at apply, never a literal
    assert header["value"] == dev.ref("aws_secretsmanager_secret_version",
                                      "lb/origin-verify-version", "secret_string")
    assert (origin["connection_attempts"], origin["connection_timeout"]) == (3, 5)
    # Through the internal load balancer's VPC origin; protocol and ports are the origin's.
    assert "custom_origin_config" not in origin
    assert origin["vpc_origin_config"] == {
        "vpc_origin_id": dev.ref("aws_cloudfront_vpc_origin", "edge/vpc-origin"),
        "origin_read_timeout": 30, "origin_keepalive_timeout": 30}


def test_behaviours_use_managed_policies(stacks: dict[str, Synth]) -> None:
    for stack in stacks.values():
        dist = distribution(stack)
        default = dist["default_cache_behavior"]
        assert default == {
            "target_origin_id": "alb", "viewer_protocol_policy": "redirect-to-https",
            "allowed_methods": ["DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT"],
            "cached_methods": ["GET", "HEAD"],
            "cache_policy_id": "4135ea2d-6df8-44a3-9df3-4b5a84be39ad",
            "origin_request_policy_id": "b689b0a8-53d0-40ab-baf2-68738e2966ac",
            "response_headers_policy_id": "67f7725c-6f97-4210-82d7-5512b31e9d03"}
        (static,) = dist["ordered_cache_behavior"]
        assert static == {
            "path_pattern": "/static/*", "target_origin_id": "alb",
            "viewer_protocol_policy": "redirect-to-https",
            "allowed_methods": ["GET", "HEAD", "OPTIONS"], "cached_methods": ["GET", "HEAD"],
            "cache_policy_id": "658327ea-f89d-4fab-a63d-7e88639e58f6",
            "response_headers_policy_id": "67f7725c-6f97-4210-82d7-5512b31e9d03",
            "compress": True}
        assert "forwarded_values" not in default and "forwarded_values" not in static


def test_distribution_per_profile(stacks: dict[str, Synth]) -> None:
    for suffix, stack in stacks.items():
        dist = distribution(stack)
        assert dist["provider"] == GLOBAL
        assert dist["enabled"] is True and dist["is_ipv6_enabled"] is True
        assert dist["http_version"] == "http2and3"
        assert dist["price_class"] == PRICE_CLASS[suffix]
        assert dist["web_acl_id"] == stack.ref("aws_wafv2_web_acl", "edge/web-acl", "arn")
        assert dist["viewer_certificate"] == {"cloudfront_default_certificate": True}
        assert "aliases" not in dist
        assert dist["restrictions"] == {"geo_restriction": {"restriction_type": "none"}}
        assert dist["wait_for_deployment"] is True
        assert dist["logging_config"] == {
            "bucket": stack.ref("aws_s3_bucket", "edge/log-bucket", "bucket_domain_name"),
            "prefix": "cloudfront/", "include_cookies": False}
        acl_id = stack.logical_id("aws_s3_bucket_acl", "edge/log-bucket-acl")
        rule_id = stack.logical_id("aws_lb_listener_rule", "lb/origin-verify-rule")
        assert dist["depends_on"] == [f"aws_s3_bucket_acl.{acl_id}",
                                      f"aws_lb_listener_rule.{rule_id}"]


def test_custom_certificate_aliases_and_https_origin(variant: Synth) -> None:
    """The variant: the ALB on HTTPS and CloudFront aliases."""
    dist = distribution(variant)
    assert dist["aliases"] == list(DOMAIN_NAMES) == ["app.example.com", "www.example.com"]
    assert dist["viewer_certificate"] == {"acm_certificate_arn": EDGE_CERTIFICATE,
                                          "ssl_support_method": "sni-only",
                                          "minimum_protocol_version": "TLSv1.2_2021"}
    (origin,) = dist["origin"]
    assert origin["vpc_origin_config"]["vpc_origin_id"] == variant.ref(
        "aws_cloudfront_vpc_origin", "edge/vpc-origin")
    (endpoint,) = variant.at("aws_cloudfront_vpc_origin", "edge/vpc-origin")[
        "vpc_origin_endpoint_config"]
    assert endpoint["origin_protocol_policy"] == "https-only"
    assert endpoint["origin_ssl_protocols"] == [{"items": ["TLSv1.2"], "quantity": 1}]
    # The viewer's Host (an alias the ALB certificate covers) goes to the HTTPS origin.
    all_viewer = "216adef6-5c7f-47e4-b989-5492eafa07d3"
    assert dist["default_cache_behavior"]["origin_request_policy_id"] == all_viewer
    (static,) = dist["ordered_cache_behavior"]
    assert static["origin_request_policy_id"] == all_viewer
    assert static["cache_policy_id"] == "658327ea-f89d-4fab-a63d-7e88639e58f6"


def test_log_bucket_accepts_cloudfront_log_delivery(stacks: dict[str, Synth]) -> None:
    for suffix, stack in stacks.items():
        bucket = stack.at("aws_s3_bucket", "edge/log-bucket")
        assert "bucket" not in bucket
        # WAF logs here too, so the name starts with aws-waf-logs-
        assert bucket["bucket_prefix"] == f"aws-waf-logs-tap{suffix}-"
        assert bucket["force_destroy"] is FORCE_DESTROY[suffix]
        bucket_id = stack.ref("aws_s3_bucket", "edge/log-bucket")
        ownership = stack.at("aws_s3_bucket_ownership_controls", "edge/log-bucket-ownership")
        assert ownership["bucket"] == bucket_id
        assert ownership["rule"] == {"object_ownership": "BucketOwnerPreferred"}
        acl = stack.at("aws_s3_bucket_acl", "edge/log-bucket-acl")
        owner = stack.ref("aws_canonical_user_id", "edge/canonical-user", kind="data")
        delivery = stack.ref("aws_cloudfront_log_delivery_canonical_user_id",
                             "edge/log-delivery-user", kind="data")
        assert acl["bucket"] == bucket_id
        assert acl["access_control_policy"] == {"owner": {"id": owner}, "grant": [
            {"permission": "FULL_CONTROL", "grantee": {"type": "CanonicalUser", "id": owner}},
            {"permission": "FULL_CONTROL", "grantee": {"type": "CanonicalUser", "id": delivery}},
        ]}
        ownership_id = stack.logical_id("aws_s3_bucket_ownership_controls",
                                        "edge/log-bucket-ownership")
        assert acl["depends_on"] == [f"aws_s3_bucket_ownership_controls.{ownership_id}"]


def test_log_bucket_is_private_encrypted_expiring_and_tls_only(stacks: dict[str, Synth]) -> None:
    for suffix, stack in stacks.items():
        bucket_id = stack.ref("aws_s3_bucket", "edge/log-bucket")
        block = stack.at("aws_s3_bucket_public_access_block", "edge/log-bucket-public-access")
        assert block == {"bucket": bucket_id, "block_public_acls": True,
                         "block_public_policy": True, "ignore_public_acls": True,
                         "restrict_public_buckets": True, "provider": GLOBAL}
        encryption = stack.at("aws_s3_bucket_server_side_encryption_configuration",
                              "edge/log-bucket-encryption")
        assert encryption["rule"] == [
            {"apply_server_side_encryption_by_default": {
                "sse_algorithm": "aws:kms",
                "kms_master_key_id": stack.key_ref("edge")},
             "bucket_key_enabled": True}]
        (rule,) = stack.at("aws_s3_bucket_lifecycle_configuration",
                           "edge/log-bucket-lifecycle")["rule"]
        assert rule["status"] == "Enabled"
        assert rule["filter"] == [{"prefix": ""}]
        assert rule["expiration"] == [{"days": RETENTION[suffix]}]
        assert rule["abort_incomplete_multipart_upload"] == [{"days_after_initiation": 1}]
        bucket_arn = stack.ref("aws_s3_bucket", "edge/log-bucket", "arn")
        deny, _, _ = stack.policy("aws_s3_bucket_policy", "edge/log-bucket-policy")["Statement"]
        assert deny == {"Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*",
                        "Action": ["s3:*"], "Resource": [bucket_arn, f"{bucket_arn}/*"],
                        "Condition": {"Bool": {"aws:SecureTransport": "false"}}}


def test_unknown_origin_protocol_is_rejected() -> None:
    # pylint: disable=import-outside-toplevel
    from cdktf import Testing, TerraformStack
    from cdktf_cdktf_provider_aws.provider import AwsProvider

    from lib.config import load_settings
    from lib.edge import Edge, EdgeProps, Origin
    from lib.naming import Names
    settings = load_settings({"ENVIRONMENT_SUFFIX": "dev"})
    stack = TerraformStack(Testing.app(), "edge-only")
    props = EdgeProps(names=Names(settings), account_id="123456789012",
                      provider=AwsProvider(stack, "aws", region="us-east-1"),
                      origin=Origin(domain_name="alb.example.com", verify_value="x",
                                    protocol="tcp"),
                      price_class="PriceClass_100", waf_rate_limit=1000,
                      waf_anonymous_ip_count_only=True, access_log_expiration_days=7,
                      force_destroy_logs=True, kms_deletion_window_days=7)
    with pytest.raises(ValueError, match="origin protocol must be one of"):
        Edge(stack, "edge", props=props)


def test_edge_outputs(stacks: dict[str, Synth]) -> None:
    for stack in stacks.values():
        outputs = stack.outputs
        assert outputs["cloudfront_distribution_id"]["value"] == \
            stack.ref("aws_cloudfront_distribution", "edge/distribution")
        assert outputs["cloudfront_domain_name"]["value"] == \
            stack.ref("aws_cloudfront_distribution", "edge/distribution", "domain_name")
        assert outputs["waf_web_acl_arn"]["value"] == \
            stack.ref("aws_wafv2_web_acl", "edge/web-acl", "arn")
        for name in ("cloudfront_distribution_id", "cloudfront_domain_name", "waf_web_acl_arn"):
            assert outputs[name]["description"]


def test_vpc_origin_of_the_internal_load_balancer(stacks: dict[str, Synth]) -> None:
    for suffix, stack in stacks.items():
        origin = stack.at("aws_cloudfront_vpc_origin", "edge/vpc-origin")
        assert origin["provider"] == "aws.global"
        assert origin["vpc_origin_endpoint_config"] == [{
            "name": f"tap-{suffix}-alb", "arn": stack.ref("aws_lb", "lb/alb", "arn"),
            "http_port": 80, "https_port": 443, "origin_protocol_policy": "http-only",
            "origin_ssl_protocols": [{"items": ["TLSv1.2"], "quantity": 1}]}]
        assert origin["timeouts"] == {"create": "30m", "update": "30m", "delete": "30m"}
        # A protocol or port change replaces the origin, the new one first (never an
        # UpdateVpcOrigin of an origin in use).
        endpoint_id = stack.logical_id("terraform_data", "edge/vpc-origin-endpoint")
        assert origin["lifecycle"] == {"create_before_destroy": True,
                                       "replace_triggered_by": [f"terraform_data.{endpoint_id}"]}
        assert stack.at("terraform_data", "edge/vpc-origin-endpoint")["triggers_replace"] == {
            "protocol": "http-only", "http_port": 80, "https_port": 443}
        # CloudFront creates this group with the VPC's first VPC origin: read after it, as a
        # list that may be empty (a destroy run again after CloudFront removed the group).
        origin_id = stack.logical_id("aws_cloudfront_vpc_origin", "edge/vpc-origin")
        groups = stack.data("aws_security_groups")[stack.logical_id(
            "aws_security_groups", "edge/vpc-origins-sg", "data")]
        assert groups == {"depends_on": [f"aws_cloudfront_vpc_origin.{origin_id}"], "filter": [
            {"name": "group-name", "values": ["CloudFront-VPCOrigins-Service-SG"]},
            {"name": "vpc-id", "values": [stack.ref("aws_vpc", "network/vpc")]}]}


def test_cloudfronts_leftovers_go_before_the_vpc(stacks: dict[str, Synth]) -> None:
    for stack in stacks.values():
        cleanup = stack.at("terraform_data", "edge/vpc-origin-leftovers")
        cleanup_id = stack.logical_id("terraform_data", "edge/vpc-origin-leftovers")
        # created after the VPC and its private subnets, before the VPC origin: destroyed
        # after the origin and before them
        assert cleanup["input"]["vpc_id"] == stack.ref("aws_vpc", "network/vpc")
        for index in range(3):
            assert stack.ref("aws_subnet", f"network/private-{index}").strip("${}") in \
                cleanup["input"]["subnets"]
        assert stack.at("aws_cloudfront_vpc_origin", "edge/vpc-origin")["depends_on"] == [
            f"terraform_data.{cleanup_id}"]
        (provisioner,) = cleanup["provisioner"]
        command = provisioner["local-exec"]
        assert command["when"] == "destroy"
        assert command["command"].startswith('"$${TAP_PYTHON:-python3}" "assets/')
        assert command["command"].endswith('/vpc_origin_leftovers.py"')
        assert command["environment"] == {"TAP_VPC_ID": "${self.input.vpc_id}",
                                          "TAP_REGION": "${self.input.region}"}
