"""The load balancer on the synthesized JSON of dev, pr4892, prod and the variant.

The variant (session fixture ``variant``, tests/unit/variants.py) sets CERTIFICATE_ARN
(HTTPS), a custom port and health-check path. ``alone`` builds the load balancer by itself,
from its props only (no network, no other tier), in a region opened after August 2022.
"""
# pylint: disable=redefined-outer-name
from __future__ import annotations

from typing import Any

import cdktf
import pytest
from cdktf import TerraformStack
from cdktf_cdktf_provider_aws.provider import AwsProvider

from lib.config import load_settings
from lib.load_balancer import LoadBalancer, LoadBalancerProps
from lib.naming import Names
from tests.unit.synth import Synth, parsed
from tests.unit.variants import ACCOUNT, NEWER_REGION, REGIONAL_CERTIFICATE, WIRED


@pytest.fixture(scope="module")
def alone_tier() -> tuple[LoadBalancer, Synth]:
    """The load balancer alone for WIRED (HTTPS, a newer region): the construct, its JSON."""
    stack = TerraformStack(cdktf.Testing.app(), "alone")
    settings = load_settings(WIRED)
    AwsProvider(stack, "aws", region=settings.aws_region)
    tier = LoadBalancer(stack, "lb", props=LoadBalancerProps(
        names=Names(settings), account_id=ACCOUNT, region=settings.aws_region,
        vpc_id="vpc-0a1b2c3d4e5f60718",
        subnet_ids=("subnet-0b00000000000000a", "subnet-0b00000000000000b"),
        security_group_id="sg-0123456789abcdef0", internal=True,
        certificate_arn=settings.certificate_arn, target_port=8000,
        health_check_path="/healthz", deletion_protection=False,
        deregistration_delay_seconds=30, access_log_expiration_days=30,
        force_destroy_logs=True, secret_recovery_window_days=7))
    return tier, parsed(stack)


@pytest.fixture(scope="module")
def wired(alone_tier: tuple[LoadBalancer, Synth]) -> Synth:
    return alone_tier[1]


def forbidden() -> list[dict[str, Any]]:
    return [{"type": "fixed-response", "fixed_response": {
        "content_type": "text/plain", "message_body": "Forbidden", "status_code": "403"}}]


def assert_rule_requires_origin_header(stack: Synth, listener: str) -> None:
    rule = stack.at("aws_lb_listener_rule", "lb/origin-verify-rule")
    assert rule["listener_arn"] == stack.ref("aws_lb_listener", listener, "arn")
    header = stack.ref("aws_secretsmanager_secret_version", "lb/origin-verify-version",
                       "secret_string")
    assert rule["condition"] == [{"http_header": {"http_header_name": "X-Origin-Verify",
                                                  "values": [header]}}]
    assert rule["action"] == [{"type": "forward",
                               "target_group_arn": stack.ref("aws_lb_target_group", "lb/web", "arn")}]
    assert len(stack.resources("aws_lb_listener_rule")) == 1


def test_load_balancer(stacks: dict[str, Synth]) -> None:
    protection = {"pr4892": False, "dev": False, "prod": True}
    for suffix, stack in stacks.items():
        alb = stack.at("aws_lb", "lb/alb")
        assert alb["name"] == f"tap-{suffix}-alb"
        # Internal, in the private subnets: CloudFront reaches it through a VPC origin.
        assert alb["internal"] is True and alb["load_balancer_type"] == "application"
        assert alb["subnets"] == [stack.ref("aws_subnet", f"network/private-{i}") for i in range(3)]
        assert alb["security_groups"] == [stack.ref("aws_security_group", "network/alb-sg")]
        assert alb["drop_invalid_header_fields"] is True
        assert alb["enable_deletion_protection"] is protection[suffix]
        assert alb["idle_timeout"] == 60
        assert alb["access_logs"] == {"bucket": stack.ref("aws_s3_bucket", "lb/alb-logs"),
                                      "prefix": "alb", "enabled": True}
        assert alb["depends_on"] == [
            f"aws_s3_bucket_policy.{stack.logical_id('aws_s3_bucket_policy', 'lb/alb-logs-policy')}"]


def test_access_log_bucket(stacks: dict[str, Synth]) -> None:
    expiry = {"pr4892": 7, "dev": 30, "prod": 365}
    for suffix, stack in stacks.items():
        account = stack.ref("aws_caller_identity", "caller", "account_id", kind="data")
        bucket = stack.at("aws_s3_bucket", "lb/alb-logs")
        # Terraform completes the prefix once, at create: a redeploy never reuses a name.
        assert "bucket" not in bucket
        assert bucket["bucket_prefix"] == f"tap-{suffix}-alb-logs-"
        # Emptied on destroy, except production's (only its ALLOW_DESTROY teardown empties it).
        assert bucket["force_destroy"] is (suffix != "prod")
        bucket_id = stack.ref("aws_s3_bucket", "lb/alb-logs")
        block = stack.at("aws_s3_bucket_public_access_block", "lb/alb-logs-public-access")
        assert block == {"bucket": bucket_id, "block_public_acls": True, "block_public_policy": True,
                         "ignore_public_acls": True, "restrict_public_buckets": True}
        assert stack.at("aws_s3_bucket_ownership_controls", "lb/alb-logs-ownership")["rule"] == \
            {"object_ownership": "BucketOwnerEnforced"}
        encryption = stack.at("aws_s3_bucket_server_side_encryption_configuration",
                              "lb/alb-logs-encryption")
        assert encryption["rule"] == [{"apply_server_side_encryption_by_default":
                                       {"sse_algorithm": "AES256"}}]
        (rule,) = stack.at("aws_s3_bucket_lifecycle_configuration", "lb/alb-logs-lifecycle")["rule"]
        assert rule["status"] == "Enabled" and rule["filter"] == [{"prefix": ""}]
        assert rule["expiration"] == [{"days": expiry[suffix]}]
        assert rule["abort_incomplete_multipart_upload"] == [{"days_after_initiation": 1}]
        arn = stack.ref("aws_s3_bucket", "lb/alb-logs", "arn")
        deny, write = stack.policy("aws_s3_bucket_policy", "lb/alb-logs-policy")["Statement"]
        assert (deny["Effect"], deny["Principal"], deny["Action"]) == ("Deny", "*", ["s3:*"])
        assert deny["Resource"] == [arn, f"{arn}/*"]
        assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
        assert write["Effect"] == "Allow" and write["Action"] == ["s3:PutObject"]
        assert write["Principal"] == {"AWS": stack.ref("aws_elb_service_account", "lb/elb-account",
                                                       "arn", kind="data")}
        assert write["Resource"] == [f"{arn}/alb/AWSLogs/{account}/*"]


def test_log_delivery_service_principal_in_newer_regions(wired: Synth) -> None:
    assert wired.json["provider"]["aws"][0]["region"] == NEWER_REGION
    _, write = wired.policy("aws_s3_bucket_policy", "lb/alb-logs-policy")["Statement"]
    assert write["Principal"] == {"Service": "logdelivery.elasticloadbalancing.amazonaws.com"}
    assert not wired.data("aws_elb_service_account")


def test_origin_verify_secret_is_generated_by_aws(stacks: dict[str, Synth]) -> None:
    window = {"pr4892": 0, "dev": 7, "prod": 30}
    for suffix, stack in stacks.items():
        secret = stack.at("aws_secretsmanager_secret", "lb/origin-verify")
        assert "name" not in secret
        assert secret["name_prefix"] == f"tap/{suffix}/origin-verify-"
        assert secret["recovery_window_in_days"] == window[suffix]
        version = stack.at("aws_secretsmanager_secret_version", "lb/origin-verify-version")
        assert version["secret_id"] == stack.ref("aws_secretsmanager_secret", "lb/origin-verify")
        assert version["secret_string"] == stack.ref(
            "aws_secretsmanager_random_password", "lb/origin-verify-value", "random_password",
            kind="data")
        assert version["lifecycle"] == {"ignore_changes": ["secret_string"]}
        password = stack.data("aws_secretsmanager_random_password")[stack.logical_id(
            "aws_secretsmanager_random_password", "lb/origin-verify-value", "data")]
        assert password == {"password_length": 64, "exclude_punctuation": True,
                            "include_space": False}


def test_http_listener_answers_403_without_the_origin_header(stacks: dict[str, Synth]) -> None:
    for stack in stacks.values():
        (listener,) = stack.resources("aws_lb_listener").values()
        assert listener == stack.at("aws_lb_listener", "lb/http")
        assert listener["load_balancer_arn"] == stack.ref("aws_lb", "lb/alb", "arn")
        assert (listener["port"], listener["protocol"]) == (80, "HTTP")
        assert listener["default_action"] == forbidden()
        assert_rule_requires_origin_header(stack, "lb/http")


def test_https_listener_when_a_certificate_is_set(variant: Synth) -> None:
    https = variant.at("aws_lb_listener", "lb/https")
    assert (https["port"], https["protocol"]) == (443, "HTTPS")
    assert https["ssl_policy"] == "ELBSecurityPolicy-TLS13-1-2-2021-06"
    assert https["certificate_arn"] == REGIONAL_CERTIFICATE
    assert https["default_action"] == forbidden()
    http = variant.at("aws_lb_listener", "lb/http")
    assert http["port"] == 80 and http["default_action"] == [{"type": "redirect", "redirect": {
        "port": "443", "protocol": "HTTPS", "status_code": "HTTP_301"}}]
    assert_rule_requires_origin_header(variant, "lb/https")


def test_target_group(stacks: dict[str, Synth]) -> None:
    delay = {"pr4892": "5", "dev": "30", "prod": "60"}
    for suffix, stack in stacks.items():
        group = stack.at("aws_lb_target_group", "lb/web")
        assert group["name"] == f"tap-{suffix}-tg80"
        assert (group["target_type"], group["protocol"], group["port"]) == ("ip", "HTTP", 80)
        # a port change makes the new group first: the listener rule never lacks one
        assert group["lifecycle"] == {"create_before_destroy": True}
        assert group["vpc_id"] == stack.ref("aws_vpc", "network/vpc")
        assert group["deregistration_delay"] == delay[suffix]
        assert group["health_check"] == {
            "enabled": True, "path": "/", "protocol": "HTTP", "port": "traffic-port",
            "matcher": "200-299", "interval": 15, "timeout": 5, "healthy_threshold": 2,
            "unhealthy_threshold": 3}


def test_target_group_uses_the_configured_port_and_path(variant: Synth) -> None:
    group = variant.at("aws_lb_target_group", "lb/web")
    assert group["port"] == 8080 and group["health_check"]["path"] == "/healthz"
    assert group["name"] == "tap-qa-tg8080"


def test_alone_it_uses_only_its_props(alone_tier: tuple[LoadBalancer, Synth]) -> None:
    tier, stack = alone_tier
    alb = stack.at("aws_lb", "lb/alb")
    assert alb["subnets"] == ["subnet-0b00000000000000a", "subnet-0b00000000000000b"]
    assert alb["security_groups"] == ["sg-0123456789abcdef0"]
    group = stack.at("aws_lb_target_group", "lb/web")
    assert (group["port"], group["vpc_id"]) == (8000, "vpc-0a1b2c3d4e5f60718")
    assert group["health_check"]["path"] == "/healthz"
    assert (tier.origin_protocol, tier.origin_port) == ("https", 443)
    for attribute in ("arn", "arn_suffix", "dns_name", "target_group_arn",
                      "target_group_arn_suffix", "origin_verify_secret_arn",
                      "origin_verify_value", "log_bucket_name"):
        value = getattr(tier, attribute)
        assert isinstance(value, str) and "${" in value, attribute  # a token, never a literal


def test_an_origin_protocol_change_keeps_a_forwarding_rule(stacks: dict[str, Synth],
                                                          variant: Synth) -> None:
    """The rule is made on its new listener before the old one goes, and under HTTPS port 80
    turns into a redirect only after the distribution moved to the HTTPS origin."""
    for stack in (*stacks.values(), variant):
        rule = stack.at("aws_lb_listener_rule", "lb/origin-verify-rule")
        assert rule["lifecycle"] == {"create_before_destroy": True}
    distribution = variant.logical_id("aws_cloudfront_distribution", "edge/distribution")
    assert variant.at("aws_lb_listener", "lb/http")["depends_on"] == [
        f"aws_cloudfront_distribution.{distribution}"]
    assert "depends_on" not in variant.at("aws_lb_listener", "lb/https")
    for stack in stacks.values():  # HTTP: port 80 is the origin, nothing to wait for
        assert "depends_on" not in stack.at("aws_lb_listener", "lb/http")
