"""Application tier on the synthesized JSON of dev, pr4892, prod and the variant.

The variant (session fixture ``variant``, tests/unit/variants.py) sets CERTIFICATE_ARN
(HTTPS), ARM64, a private ECR image, a custom port and health-check path.
``wired`` builds the tier alone, in a region opened after August 2022 with HTTPS, with
container environment, secrets and keys the way the stack passes the data tier's values.
"""
# pylint: disable=redefined-outer-name
from __future__ import annotations

import dataclasses
import json
from typing import Any, cast

import pytest
import cdktf
from cdktf import TerraformStack
from cdktf_cdktf_provider_aws.provider import AwsProvider

from lib.app_tier import (
    AppTier, AppTierProps, capacity_strategy, ecr_repository_arn, is_nginx_alpine,
)
from lib.config import PROFILES, load_settings
from lib.naming import Names
from lib.network import Network, NetworkProps
from lib.tap_stack import TapStack
from tests.unit.synth import Synth, parsed
from tests.unit.variants import (ACCOUNT, ECR_IMAGE, NEWER_REGION, REGIONAL_CERTIFICATE,
                                 VARIANT_REGION, WIRED)

DB_SECRET = f"arn:aws:secretsmanager:{NEWER_REGION}:{ACCOUNT}:secret:rds!cluster-abc-AbCdEf"
CACHE_SECRET = \
    f"arn:aws:secretsmanager:{NEWER_REGION}:{ACCOUNT}:secret:tap/qa/redis-connection-XyZ123"
DATA_KEY = f"arn:aws:kms:{NEWER_REGION}:{ACCOUNT}:key/0123abcd-0123-4567-89ab-0123456789ab"
PUBLIC_IP = {"pr4892": True, "dev": False, "prod": False}
EXEC = {"pr4892": True, "dev": True, "prod": False}


@pytest.fixture(scope="module")
def wired_tier() -> tuple[AppTier, AppTierProps, Synth]:
    """The tier alone (with its network) for WIRED: the construct, its props, its JSON."""
    stack = TerraformStack(cdktf.Testing.app(), "wired")
    settings = load_settings(WIRED)
    AwsProvider(stack, "aws", region=settings.aws_region)
    global_provider = AwsProvider(stack, "aws-global", region="us-east-1", alias="global")
    names = Names(settings)
    network = Network(stack, "network", props=NetworkProps(settings=settings, names=names,
                                                           account_id=ACCOUNT))
    props = AppTierProps(
        settings=settings, names=names, account_id=ACCOUNT, network=network,
        container_environment={"REDIS_HOST": "cache.example", "DB_HOST": "db.example"},
        container_secrets={"DB_PASSWORD": f"{DB_SECRET}:password::",
                           "REDIS_URL": f"{CACHE_SECRET}:url::"},
        readable_secret_arns=[DB_SECRET, CACHE_SECRET], decrypt_key_arns=[DATA_KEY],
        global_provider=global_provider)
    return AppTier(stack, "app", props=props), props, parsed(stack)


@pytest.fixture(scope="module")
def wired(wired_tier: tuple[AppTier, AppTierProps, Synth]) -> Synth:
    return wired_tier[2]


def container_of(stack: Synth) -> dict[str, Any]:
    (container,) = json.loads(stack.at("aws_ecs_task_definition", "app/task")["container_definitions"])
    return container


def statements(stack: Synth, path: str) -> dict[str, dict[str, Any]]:
    return {s["Sid"]: s for s in stack.policy("aws_iam_role_policy", path)["Statement"]}


def test_helpers() -> None:
    assert ecr_repository_arn(ECR_IMAGE) == \
        f"arn:aws:ecr:{VARIANT_REGION}:{ACCOUNT}:repository/tap/web"
    assert ecr_repository_arn(f"{ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com/web@sha256:{'a' * 64}") \
        == f"arn:aws:ecr:us-east-1:{ACCOUNT}:repository/web"
    assert ecr_repository_arn("public.ecr.aws/nginx/nginx:1.27-alpine") is None
    assert ecr_repository_arn("nginx:latest") is None
    for image in ("public.ecr.aws/nginx/nginx:1.27-alpine", "nginx:alpine",
                  "docker.io/library/nginx:1.27.3-alpine-slim"):
        assert is_nginx_alpine(image), image
    for image in ("nginx:1.27", "public.ecr.aws/docker/library/httpd:alpine", ECR_IMAGE):
        assert not is_nginx_alpine(image), image
    assert capacity_strategy(PROFILES["standard"], "X86_64") == [
        ("FARGATE", 1, 1), ("FARGATE_SPOT", 0, 1)]
    assert capacity_strategy(PROFILES["standard"], "ARM64") == [("FARGATE", 1, 1)]
    assert capacity_strategy(PROFILES["production"], "X86_64") == [("FARGATE", 3, 1)]


def test_load_balancer(stacks: dict[str, Synth]) -> None:
    protection = {"pr4892": False, "dev": False, "prod": True}
    for suffix, stack in stacks.items():
        alb = stack.at("aws_lb", "app/alb")
        assert alb["name"] == f"tap-{suffix}-alb"
        # Internal, in the private subnets: CloudFront reaches it through a VPC origin.
        assert alb["internal"] is True and alb["load_balancer_type"] == "application"
        assert alb["subnets"] == [stack.ref("aws_subnet", f"network/private-{i}") for i in range(3)]
        assert alb["security_groups"] == [stack.ref("aws_security_group", "network/alb-sg")]
        assert alb["drop_invalid_header_fields"] is True
        assert alb["enable_deletion_protection"] is protection[suffix]
        assert alb["idle_timeout"] == 60
        assert alb["access_logs"] == {"bucket": stack.ref("aws_s3_bucket", "app/alb-logs"),
                                      "prefix": "alb", "enabled": True}
        assert alb["depends_on"] == [
            f"aws_s3_bucket_policy.{stack.logical_id('aws_s3_bucket_policy', 'app/alb-logs-policy')}"]


def test_access_log_bucket(stacks: dict[str, Synth]) -> None:
    expiry = {"pr4892": 7, "dev": 30, "prod": 365}
    for suffix, stack in stacks.items():
        account = stack.ref("aws_caller_identity", "caller", "account_id", kind="data")
        bucket = stack.at("aws_s3_bucket", "app/alb-logs")
        # Terraform completes the prefix once, at create: a redeploy never reuses a name.
        assert "bucket" not in bucket
        assert bucket["bucket_prefix"] == f"tap-{suffix}-alb-logs-"
        # Emptied on destroy, except production's (only its ALLOW_DESTROY teardown empties it).
        assert bucket["force_destroy"] is (suffix != "prod")
        bucket_id = stack.ref("aws_s3_bucket", "app/alb-logs")
        block = stack.at("aws_s3_bucket_public_access_block", "app/alb-logs-public-access")
        assert block == {"bucket": bucket_id, "block_public_acls": True, "block_public_policy": True,
                         "ignore_public_acls": True, "restrict_public_buckets": True}
        assert stack.at("aws_s3_bucket_ownership_controls", "app/alb-logs-ownership")["rule"] == \
            {"object_ownership": "BucketOwnerEnforced"}
        encryption = stack.at("aws_s3_bucket_server_side_encryption_configuration",
                              "app/alb-logs-encryption")
        assert encryption["rule"] == [{"apply_server_side_encryption_by_default":
                                       {"sse_algorithm": "AES256"}}]
        (rule,) = stack.at("aws_s3_bucket_lifecycle_configuration", "app/alb-logs-lifecycle")["rule"]
        assert rule["status"] == "Enabled" and rule["filter"] == [{"prefix": ""}]
        assert rule["expiration"] == [{"days": expiry[suffix]}]
        assert rule["abort_incomplete_multipart_upload"] == [{"days_after_initiation": 1}]
        arn = stack.ref("aws_s3_bucket", "app/alb-logs", "arn")
        deny, write = stack.policy("aws_s3_bucket_policy", "app/alb-logs-policy")["Statement"]
        assert (deny["Effect"], deny["Principal"], deny["Action"]) == ("Deny", "*", ["s3:*"])
        assert deny["Resource"] == [arn, f"{arn}/*"]
        assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
        assert write["Effect"] == "Allow" and write["Action"] == ["s3:PutObject"]
        assert write["Principal"] == {"AWS": stack.ref("aws_elb_service_account", "app/elb-account",
                                                       "arn", kind="data")}
        assert write["Resource"] == [f"{arn}/alb/AWSLogs/{account}/*"]


def test_log_delivery_service_principal_in_newer_regions(wired: Synth) -> None:
    assert wired.json["provider"]["aws"][0]["region"] == NEWER_REGION
    _, write = wired.policy("aws_s3_bucket_policy", "app/alb-logs-policy")["Statement"]
    assert write["Principal"] == {"Service": "logdelivery.elasticloadbalancing.amazonaws.com"}
    assert not wired.data("aws_elb_service_account")


def test_origin_verify_secret_is_generated_by_aws(stacks: dict[str, Synth]) -> None:
    window = {"pr4892": 0, "dev": 7, "prod": 30}
    for suffix, stack in stacks.items():
        secret = stack.at("aws_secretsmanager_secret", "app/origin-verify")
        assert "name" not in secret
        assert secret["name_prefix"] == f"tap/{suffix}/origin-verify-"
        assert secret["recovery_window_in_days"] == window[suffix]
        version = stack.at("aws_secretsmanager_secret_version", "app/origin-verify-version")
        assert version["secret_id"] == stack.ref("aws_secretsmanager_secret", "app/origin-verify")
        assert version["secret_string"] == stack.ref(
            "aws_secretsmanager_random_password", "app/origin-verify-value", "random_password",
            kind="data")
        assert version["lifecycle"] == {"ignore_changes": ["secret_string"]}
        password = stack.data("aws_secretsmanager_random_password")[stack.logical_id(
            "aws_secretsmanager_random_password", "app/origin-verify-value", "data")]
        assert password == {"password_length": 64, "exclude_punctuation": True,
                            "include_space": False}


def forbidden() -> list[dict[str, Any]]:
    return [{"type": "fixed-response", "fixed_response": {
        "content_type": "text/plain", "message_body": "Forbidden", "status_code": "403"}}]


def assert_rule_requires_origin_header(stack: Synth, listener: str) -> None:
    rule = stack.at("aws_lb_listener_rule", "app/origin-verify-rule")
    assert rule["listener_arn"] == stack.ref("aws_lb_listener", listener, "arn")
    header = stack.ref("aws_secretsmanager_secret_version", "app/origin-verify-version",
                       "secret_string")
    assert rule["condition"] == [{"http_header": {"http_header_name": "X-Origin-Verify",
                                                  "values": [header]}}]
    assert rule["action"] == [{"type": "forward",
                               "target_group_arn": stack.ref("aws_lb_target_group", "app/web", "arn")}]
    assert len(stack.resources("aws_lb_listener_rule")) == 1


def test_http_listener_answers_403_without_the_origin_header(stacks: dict[str, Synth]) -> None:
    for stack in stacks.values():
        (listener,) = stack.resources("aws_lb_listener").values()
        assert listener == stack.at("aws_lb_listener", "app/http")
        assert listener["load_balancer_arn"] == stack.ref("aws_lb", "app/alb", "arn")
        assert (listener["port"], listener["protocol"]) == (80, "HTTP")
        assert listener["default_action"] == forbidden()
        assert_rule_requires_origin_header(stack, "app/http")


def test_https_listener_when_a_certificate_is_set(variant: Synth) -> None:
    https = variant.at("aws_lb_listener", "app/https")
    assert (https["port"], https["protocol"]) == (443, "HTTPS")
    assert https["ssl_policy"] == "ELBSecurityPolicy-TLS13-1-2-2021-06"
    assert https["certificate_arn"] == REGIONAL_CERTIFICATE
    assert https["default_action"] == forbidden()
    http = variant.at("aws_lb_listener", "app/http")
    assert http["port"] == 80 and http["default_action"] == [{"type": "redirect", "redirect": {
        "port": "443", "protocol": "HTTPS", "status_code": "HTTP_301"}}]
    assert_rule_requires_origin_header(variant, "app/https")
    (ingress,) = [r for r in variant.resources("aws_vpc_security_group_ingress_rule").values()
                  if r["security_group_id"] == variant.ref("aws_security_group", "network/alb-sg")]
    assert (ingress["from_port"], ingress["to_port"]) == (443, 443)


def test_security_group_rules(stacks: dict[str, Synth]) -> None:
    for stack in stacks.values():
        alb_sg = stack.ref("aws_security_group", "network/alb-sg")
        task_sg = stack.ref("aws_security_group", "network/task-sg")
        assert not stack.data("aws_ec2_managed_prefix_list")  # nothing from the internet
        ingress = stack.resources("aws_vpc_security_group_ingress_rule").values()
        egress = stack.resources("aws_vpc_security_group_egress_rule").values()
        (from_cloudfront,) = [r for r in ingress if r["security_group_id"] == alb_sg]
        assert from_cloudfront == stack.at("aws_vpc_security_group_ingress_rule",
                                           "app/alb-from-vpc-origin")
        assert from_cloudfront["referenced_security_group_id"] == stack.ref(
            "aws_security_group", "app/vpc-origins-sg", kind="data")
        assert "cidr_ipv4" not in from_cloudfront and "prefix_list_id" not in from_cloudfront
        assert (from_cloudfront["ip_protocol"], from_cloudfront["from_port"],
                from_cloudfront["to_port"]) == ("tcp", 80, 80)
        (to_tasks,) = [r for r in egress if r["security_group_id"] == alb_sg]
        assert to_tasks["referenced_security_group_id"] == task_sg
        assert (to_tasks["ip_protocol"], to_tasks["from_port"], to_tasks["to_port"]) == ("tcp", 80, 80)
        from_alb = stack.at("aws_vpc_security_group_ingress_rule", "app/tasks-from-alb")
        assert from_alb["security_group_id"] == task_sg
        assert from_alb["referenced_security_group_id"] == alb_sg
        assert (from_alb["ip_protocol"], from_alb["from_port"], from_alb["to_port"]) == ("tcp", 80, 80)
        assert "cidr_ipv4" not in from_alb and "prefix_list_id" not in from_alb
        https_out = stack.at("aws_vpc_security_group_egress_rule", "app/tasks-https-out")
        assert https_out["security_group_id"] == task_sg
        assert (https_out["cidr_ipv4"], https_out["ip_protocol"], https_out["from_port"],
                https_out["to_port"]) == ("0.0.0.0/0", "tcp", 443, 443)
        for group in (stack.at("aws_security_group", p) for p in ("network/alb-sg", "network/task-sg")):
            assert "ingress" not in group and "egress" not in group


def test_vpc_origin_of_the_internal_load_balancer(stacks: dict[str, Synth]) -> None:
    for suffix, stack in stacks.items():
        origin = stack.at("aws_cloudfront_vpc_origin", "app/vpc-origin")
        assert origin["provider"] == "aws.global"
        assert origin["vpc_origin_endpoint_config"] == [{
            "name": f"tap-{suffix}-alb", "arn": stack.ref("aws_lb", "app/alb", "arn"),
            "http_port": 80, "https_port": 443, "origin_protocol_policy": "http-only",
            "origin_ssl_protocols": [{"items": ["TLSv1.2"], "quantity": 1}]}]
        assert origin["timeouts"] == {"create": "30m", "update": "30m", "delete": "30m"}
        # CloudFront creates this group with the VPC's first VPC origin: read after it.
        group = stack.data("aws_security_group")[stack.logical_id(
            "aws_security_group", "app/vpc-origins-sg", "data")]
        assert group == {"name": "CloudFront-VPCOrigins-Service-SG",
                         "vpc_id": stack.ref("aws_vpc", "network/vpc"),
                         "depends_on": [f"aws_cloudfront_vpc_origin."
                                        f"{stack.logical_id('aws_cloudfront_vpc_origin', 'app/vpc-origin')}"]}


def test_target_group(stacks: dict[str, Synth]) -> None:
    delay = {"pr4892": "5", "dev": "30", "prod": "60"}
    for suffix, stack in stacks.items():
        group = stack.at("aws_lb_target_group", "app/web")
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
    group = variant.at("aws_lb_target_group", "app/web")
    assert group["port"] == 8080 and group["health_check"]["path"] == "/healthz"
    assert group["name"] == "tap-qa-tg8080"


def expected_strategy(suffix: str) -> list[dict[str, Any]]:
    return {
        "pr4892": [{"capacity_provider": "FARGATE", "base": 0, "weight": 1},
                   {"capacity_provider": "FARGATE_SPOT", "base": 0, "weight": 1}],
        "dev": [{"capacity_provider": "FARGATE", "base": 1, "weight": 1},
                {"capacity_provider": "FARGATE_SPOT", "base": 0, "weight": 1}],
        "prod": [{"capacity_provider": "FARGATE", "base": 3, "weight": 1}],
    }[suffix]


def test_cluster_and_capacity_providers(stacks: dict[str, Synth]) -> None:
    for suffix, stack in stacks.items():
        cluster = stack.at("aws_ecs_cluster", "app/cluster")
        assert cluster["name"] == f"tap-{suffix}-cluster"
        assert cluster["setting"] == [{"name": "containerInsights", "value": "enabled"}]
        providers = stack.at("aws_ecs_cluster_capacity_providers", "app/capacity-providers")
        assert providers["cluster_name"] == stack.ref("aws_ecs_cluster", "app/cluster", "name")
        assert providers["capacity_providers"] == ["FARGATE", "FARGATE_SPOT"]
        assert providers["default_capacity_provider_strategy"] == expected_strategy(suffix)


def test_arm64_tasks_never_use_spot(variant: Synth) -> None:
    service = variant.at("aws_ecs_service", "app/service")
    assert service["capacity_provider_strategy"] == [
        {"capacity_provider": "FARGATE", "base": 1, "weight": 1}]
    task = variant.at("aws_ecs_task_definition", "app/task")
    assert task["runtime_platform"] == {"operating_system_family": "LINUX",
                                        "cpu_architecture": "ARM64"}


def test_task_and_container_insights_log_groups(stacks: dict[str, Synth]) -> None:
    """The Container Insights group is created before the cluster (Container Insights would
    otherwise make it, kept forever) and deleted after it."""
    retention = {"pr4892": 7, "dev": 30, "prod": 365}
    for suffix, stack in stacks.items():
        for path, name in (("app/task-logs", f"/tap/{suffix}/ecs/web"), (
                "app/insights-logs", f"/aws/ecs/containerinsights/tap-{suffix}-cluster/performance")):
            group = stack.at("aws_cloudwatch_log_group", path)
            assert group["name"] == name
            assert group["retention_in_days"] == retention[suffix]
            assert group["kms_key_id"] == stack.ref("aws_kms_key", "network/logs-key/key", "arn")
        cluster = stack.at("aws_ecs_cluster", "app/cluster")
        logical = stack.logical_id("aws_cloudwatch_log_group", "app/insights-logs")
        assert cluster["depends_on"] == [f"aws_cloudwatch_log_group.{logical}"]


def test_task_definition(stacks: dict[str, Synth]) -> None:
    size = {"pr4892": ("256", "512"), "dev": ("512", "1024"), "prod": ("1024", "2048")}
    for suffix, stack in stacks.items():
        task = stack.at("aws_ecs_task_definition", "app/task")
        assert task["family"] == f"tap-{suffix}-web"
        assert (task["cpu"], task["memory"]) == size[suffix]
        assert task["network_mode"] == "awsvpc" and task["requires_compatibilities"] == ["FARGATE"]
        assert task["runtime_platform"] == {"operating_system_family": "LINUX",
                                            "cpu_architecture": "X86_64"}
        assert task["execution_role_arn"] == stack.ref("aws_iam_role", "app/execution-role", "arn")
        assert task["task_role_arn"] == stack.ref("aws_iam_role", "app/task-role", "arn")
        container = container_of(stack)
        assert container["name"] == "web" and container["essential"] is True
        assert container["image"] == "public.ecr.aws/nginx/nginx:1.27-alpine"
        assert container["portMappings"] == [{"containerPort": 80, "hostPort": 80, "protocol": "tcp"}]
        assert container["logConfiguration"] == {"logDriver": "awslogs", "options": {
            "awslogs-group": stack.ref("aws_cloudwatch_log_group", "app/task-logs", "name"),
            "awslogs-region": "us-east-1", "awslogs-stream-prefix": "web"}}
        assert container["healthCheck"] == {
            "command": ["CMD", "wget", "-q", "-O", "/dev/null", "http://127.0.0.1:80/"],
            "interval": 30, "timeout": 5, "retries": 3, "startPeriod": 15}
        # Data-tier values arrive wired (tests/unit/test_wiring.py checks their values).
        assert [e["name"] for e in container["environment"]] == [
            "DB_HOST", "DB_NAME", "DB_PORT", "REDIS_HOST", "REDIS_PORT", "REDIS_TLS"]
        assert [e["name"] for e in container["secrets"]] == ["DB_PASSWORD", "DB_USERNAME"]


def test_read_only_root_file_system_only_without_ecs_exec(stacks: dict[str, Synth]) -> None:
    for suffix, stack in stacks.items():
        container = container_of(stack)
        task = stack.at("aws_ecs_task_definition", "app/task")
        if EXEC[suffix]:
            assert container["readonlyRootFilesystem"] is False
            assert container["linuxParameters"] == {"initProcessEnabled": True}
            assert "mountPoints" not in container and "volume" not in task
        else:
            assert container["readonlyRootFilesystem"] is True
            assert "linuxParameters" not in container
            assert container["mountPoints"] == [
                {"sourceVolume": "nginx-cache", "containerPath": "/var/cache/nginx", "readOnly": False},
                {"sourceVolume": "nginx-run", "containerPath": "/var/run", "readOnly": False}]
            assert task["volume"] == [{"name": "nginx-cache"}, {"name": "nginx-run"}]


def test_custom_image_gets_no_nginx_specifics(variant: Synth) -> None:
    container = container_of(variant)
    assert container["image"] == ECR_IMAGE
    assert container["portMappings"] == [{"containerPort": 8080, "hostPort": 8080, "protocol": "tcp"}]
    assert container["readonlyRootFilesystem"] is False
    assert "healthCheck" not in container and "mountPoints" not in container


def test_roles_trust_only_ecs_tasks_of_this_account(stacks: dict[str, Synth]) -> None:
    for suffix, stack in stacks.items():
        account = stack.ref("aws_caller_identity", "caller", "account_id", kind="data")
        for path, name in (("app/execution-role", f"tap-{suffix}-ecs-execution"),
                           ("app/task-role", f"tap-{suffix}-ecs-task")):
            assert stack.at("aws_iam_role", path)["name"] == name
            (trust,) = stack.policy("aws_iam_role", path, "assume_role_policy")["Statement"]
            assert trust["Principal"] == {"Service": "ecs-tasks.amazonaws.com"}
            assert trust["Action"] == "sts:AssumeRole"
            assert trust["Condition"] == {
                "StringEquals": {"aws:SourceAccount": account},
                "ArnLike": {"aws:SourceArn": f"arn:aws:ecs:us-east-1:{account}:*"}}


def test_execution_role_writes_only_its_log_group(stacks: dict[str, Synth]) -> None:
    for stack in stacks.values():
        policy = stack.at("aws_iam_role_policy", "app/execution-policy")
        assert policy["role"] == stack.ref("aws_iam_role", "app/execution-role")
        group = stack.ref("aws_cloudwatch_log_group", "app/task-logs", "arn")
        # A public image needs no pull permission (the secret statements: test_wiring.py).
        found = statements(stack, "app/execution-policy")
        assert set(found) == {"WriteTaskLogs", "ReadTaskSecrets", "DecryptTaskSecrets"}
        assert {"WriteTaskLogs": found["WriteTaskLogs"]} == {"WriteTaskLogs": {
            "Sid": "WriteTaskLogs", "Effect": "Allow",
            "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": [group, f"{group}:*"]}}


def test_execution_role_pulls_only_its_private_repository(variant: Synth) -> None:
    found = statements(variant, "app/execution-policy")
    assert set(found) == {"WriteTaskLogs", "EcrLogin", "PullImage", "ReadTaskSecrets", "DecryptTaskSecrets"}
    assert found["EcrLogin"]["Action"] == ["ecr:GetAuthorizationToken"]
    assert found["EcrLogin"]["Resource"] == "*"
    assert found["PullImage"]["Action"] == ["ecr:BatchCheckLayerAvailability",
                                            "ecr:GetDownloadUrlForLayer", "ecr:BatchGetImage"]
    assert found["PullImage"]["Resource"] == [
        f"arn:aws:ecr:{VARIANT_REGION}:{ACCOUNT}:repository/tap/web"]


def test_execution_role_reads_exactly_the_given_secrets_and_keys(wired: Synth) -> None:
    found = statements(wired, "app/execution-policy")
    assert set(found) == {"WriteTaskLogs", "ReadTaskSecrets", "DecryptTaskSecrets"}
    assert found["ReadTaskSecrets"]["Action"] == ["secretsmanager:GetSecretValue"]
    assert found["ReadTaskSecrets"]["Resource"] == [DB_SECRET, CACHE_SECRET]
    assert found["DecryptTaskSecrets"]["Action"] == ["kms:Decrypt"]
    assert found["DecryptTaskSecrets"]["Resource"] == [DATA_KEY]
    assert found["DecryptTaskSecrets"]["Condition"] == {
        "StringEquals": {"kms:ViaService": f"secretsmanager.{NEWER_REGION}.amazonaws.com"}}
    container = container_of(wired)
    assert container["environment"] == [{"name": "DB_HOST", "value": "db.example"},
                                        {"name": "REDIS_HOST", "value": "cache.example"}]
    assert container["secrets"] == [{"name": "DB_PASSWORD", "valueFrom": f"{DB_SECRET}:password::"},
                                    {"name": "REDIS_URL", "valueFrom": f"{CACHE_SECRET}:url::"}]
    assert not {entry["name"] for entry in container["environment"]} & \
        {entry["name"] for entry in container["secrets"]}


def test_secrets_without_readable_arns_are_refused(
        wired_tier: tuple[AppTier, AppTierProps, Synth]) -> None:
    # Refused before the tier creates anything, so wired's network can serve again.
    props = dataclasses.replace(wired_tier[1], readable_secret_arns=())
    with pytest.raises(ValueError, match="readable_secret_arns"):
        AppTier(TerraformStack(cdktf.Testing.app(), "refused"), "app", props=props)


def test_private_origin_needs_the_us_east_1_provider(
        wired_tier: tuple[AppTier, AppTierProps, Synth]) -> None:
    props = dataclasses.replace(wired_tier[1], global_provider=None)
    with pytest.raises(ValueError, match="needs AppTierProps.global_provider"):
        AppTier(TerraformStack(cdktf.Testing.app(), "refused"), "app", props=props)


def test_task_role_has_ecs_exec_channels_only_where_exec_is_enabled(stacks: dict[str, Synth]) -> None:
    for suffix, stack in stacks.items():
        role = stack.ref("aws_iam_role", "app/task-role")
        attached = [p for p in stack.resources("aws_iam_role_policy").values() if p["role"] == role]
        assert not [p for p in stack.resources("aws_iam_role_policy_attachment").values()
                    if p["role"] == role]
        if not EXEC[suffix]:
            assert attached == []
            continue
        assert attached == [stack.at("aws_iam_role_policy", "app/task-exec-policy")]
        assert statements(stack, "app/task-exec-policy") == {"EcsExecChannels": {
            "Sid": "EcsExecChannels", "Effect": "Allow",
            "Action": ["ssmmessages:CreateControlChannel", "ssmmessages:CreateDataChannel",
                       "ssmmessages:OpenControlChannel", "ssmmessages:OpenDataChannel"],
            "Resource": "*"}}


def test_service(stacks: dict[str, Synth]) -> None:
    desired = {"pr4892": 1, "dev": 2, "prod": 3}
    for suffix, stack in stacks.items():
        service = stack.at("aws_ecs_service", "app/service")
        assert service["name"] == f"tap-{suffix}-web"
        assert service["cluster"] == stack.ref("aws_ecs_cluster", "app/cluster", "arn")
        assert service["task_definition"] == stack.ref("aws_ecs_task_definition", "app/task", "arn")
        assert service["desired_count"] == desired[suffix]
        assert "launch_type" not in service
        # a new capacity provider strategy (ARM64) is a deployment, not a new service
        assert service["force_new_deployment"] is True
        assert service["capacity_provider_strategy"] == expected_strategy(suffix)
        assert service["deployment_circuit_breaker"] == {"enable": True, "rollback": True}
        assert (service["deployment_minimum_healthy_percent"],
                service["deployment_maximum_percent"]) == (100, 200)
        assert service["health_check_grace_period_seconds"] == 60
        assert service["load_balancer"] == [{
            "target_group_arn": stack.ref("aws_lb_target_group", "app/web", "arn"),
            "container_name": "web", "container_port": 80}]
        assert service["enable_execute_command"] is EXEC[suffix]
        assert service["propagate_tags"] == "SERVICE" and service["enable_ecs_managed_tags"] is True
        assert service["lifecycle"] == {"ignore_changes": ["desired_count"]}
        rule = stack.logical_id("aws_lb_listener_rule", "app/origin-verify-rule")
        providers = stack.logical_id("aws_ecs_cluster_capacity_providers", "app/capacity-providers")
        assert service["depends_on"] == [f"aws_lb_listener_rule.{rule}",
                                         f"aws_ecs_cluster_capacity_providers.{providers}"]


def test_service_network_placement_per_profile(stacks: dict[str, Synth]) -> None:
    for suffix, stack in stacks.items():
        network = stack.at("aws_ecs_service", "app/service")["network_configuration"]
        tier = "public" if PUBLIC_IP[suffix] else "private"
        assert network["subnets"] == [stack.ref("aws_subnet", f"network/{tier}-{i}") for i in range(3)]
        assert network["assign_public_ip"] is PUBLIC_IP[suffix]
        assert network["security_groups"] == [stack.ref("aws_security_group", "network/task-sg")]


def test_auto_scaling(stacks: dict[str, Synth]) -> None:
    bounds = {"pr4892": (1, 2), "dev": (2, 4), "prod": (3, 12)}
    for suffix, stack in stacks.items():
        target = stack.at("aws_appautoscaling_target", "app/scaling-target")
        assert (target["min_capacity"], target["max_capacity"]) == bounds[suffix]
        assert (target["service_namespace"], target["scalable_dimension"]) == \
            ("ecs", "ecs:service:DesiredCount")
        assert target["resource_id"] == (
            f"service/{stack.ref('aws_ecs_cluster', 'app/cluster', 'name')}/"
            f"{stack.ref('aws_ecs_service', 'app/service', 'name')}")
        label = (f"{stack.ref('aws_lb', 'app/alb', 'arn_suffix')}/"
                 f"{stack.ref('aws_lb_target_group', 'app/web', 'arn_suffix')}")
        expected = {
            "cpu": ({"predefined_metric_type": "ECSServiceAverageCPUUtilization"}, 60),
            "memory": ({"predefined_metric_type": "ECSServiceAverageMemoryUtilization"}, 75),
            "requests": ({"predefined_metric_type": "ALBRequestCountPerTarget",
                          "resource_label": label}, 1000),
        }
        assert len(stack.resources("aws_appautoscaling_policy")) == 3
        for key, (metric, value) in expected.items():
            policy = stack.at("aws_appautoscaling_policy", f"app/scale-on-{key}")
            assert policy["policy_type"] == "TargetTrackingScaling"
            for attribute in ("resource_id", "scalable_dimension", "service_namespace"):
                assert policy[attribute] == stack.ref("aws_appautoscaling_target",
                                                      "app/scaling-target", attribute)
            assert policy["target_tracking_scaling_policy_configuration"] == {
                "predefined_metric_specification": metric, "target_value": value,
                "scale_in_cooldown": 300, "scale_out_cooldown": 60}


def test_outputs(stacks: dict[str, Synth]) -> None:
    for stack in stacks.values():
        expected = {
            "alb_arn": stack.ref("aws_lb", "app/alb", "arn"),
            "alb_dns_name": stack.ref("aws_lb", "app/alb", "dns_name"),
            "target_group_arn": stack.ref("aws_lb_target_group", "app/web", "arn"),
            "ecs_cluster_name": stack.ref("aws_ecs_cluster", "app/cluster", "name"),
            "ecs_service_name": stack.ref("aws_ecs_service", "app/service", "name"),
        }
        for name, value in expected.items():
            assert stack.outputs[name]["value"] == value
            assert stack.outputs[name]["description"]


@pytest.mark.parametrize("https", [False, True])
def test_exposed_attributes(dev: Synth, wired_tier: tuple[AppTier, AppTierProps, Synth],
                            https: bool) -> None:
    app = wired_tier[0] if https else cast(TapStack, dev.stack).app
    assert app.origin_protocol == ("https" if https else "http")
    for attribute in ("alb_arn", "alb_arn_suffix", "alb_dns_name", "alb_zone_id",
                      "target_group_arn", "target_group_arn_suffix", "cluster_name",
                      "service_name", "task_definition_arn", "log_group_name",
                      "origin_verify_secret_arn", "origin_verify_value", "execution_role_arn",
                      "task_role_arn"):
        value = getattr(app, attribute)
        assert isinstance(value, str) and "${" in value, attribute  # a token, never a literal
