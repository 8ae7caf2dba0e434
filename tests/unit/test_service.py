"""The service (ECS cluster, task definition, service, IAM, scaling) on the synthesized JSON of
dev, pr4892, prod and the variant.

The variant (session fixture ``variant``, tests/unit/variants.py) sets ARM64, a private ECR
image, a custom port and health-check path. ``alone`` builds the service by itself, from its
props only (no network, no load balancer, no data tier), with a container whose environment,
secrets and keys are given the way the stack passes the data tier's values.
"""
# pylint: disable=redefined-outer-name
from __future__ import annotations

import dataclasses
import json
from typing import Any, cast

import cdktf
import pytest
from cdktf import TerraformStack
from cdktf_cdktf_provider_aws.provider import AwsProvider

from lib.config import load_settings
from lib.container import ContainerSpec
from lib.images import ecr_repository_arn, is_nginx_alpine
from lib.naming import Names
from lib.service import Capacity, Service, ServiceProps, capacity_strategy
from lib.tap_stack import TapStack
from tests.unit.synth import Synth, parsed
from tests.unit.variants import ACCOUNT, ECR_IMAGE, NEWER_REGION, VARIANT_REGION, WIRED

DB_SECRET = f"arn:aws:secretsmanager:{NEWER_REGION}:{ACCOUNT}:secret:rds!cluster-abc-AbCdEf"
CACHE_SECRET = \
    f"arn:aws:secretsmanager:{NEWER_REGION}:{ACCOUNT}:secret:tap/qa/redis-connection-XyZ123"
DATA_KEY = f"arn:aws:kms:{NEWER_REGION}:{ACCOUNT}:key/0123abcd-0123-4567-89ab-0123456789ab"
PUBLIC_IP = {"pr4892": True, "dev": False, "prod": False}
EXEC = {"pr4892": True, "dev": True, "prod": False}
CONTAINER = ContainerSpec(
    image="public.ecr.aws/docker/library/httpd:2.4", port=8080, health_check_path="/healthz",
    environment={"REDIS_HOST": "cache.example", "DB_HOST": "db.example"},
    secrets={"DB_PASSWORD": f"{DB_SECRET}:password::", "REDIS_URL": f"{CACHE_SECRET}:url::"},
    readable_secret_arns=(DB_SECRET, CACHE_SECRET), decrypt_key_arns=(DATA_KEY,))
CAPACITY = Capacity(task_cpu=256, task_memory=512, cpu_architecture="X86_64", desired_count=1,
                    min_capacity=1, max_capacity=2, fargate_base=0, fargate_spot_weight=1)


@pytest.fixture(scope="module")
def alone_tier() -> tuple[Service, Synth]:
    """The service alone for WIRED: the construct and its JSON."""
    stack = TerraformStack(cdktf.Testing.app(), "alone")
    settings = load_settings(WIRED)
    AwsProvider(stack, "aws", region=settings.aws_region)
    service = Service(stack, "app", props=ServiceProps(
        names=Names(settings), account_id=ACCOUNT, region=settings.aws_region,
        subnet_ids=("subnet-0b00000000000000a", "subnet-0b00000000000000b"),
        security_group_id="sg-0123456789abcdef0", assign_public_ip=False,
        logs_key_arn=DATA_KEY, log_retention_days=30, container=CONTAINER, capacity=CAPACITY,
        container_insights=True, enable_execute_command=False,
        target_group_arn=f"arn:aws:elasticloadbalancing:{NEWER_REGION}:{ACCOUNT}:"
                         "targetgroup/tap-qa-tg8080/0123456789abcdef",
        request_label="app/tap-qa-alb/0123456789abcdef/targetgroup/tap-qa-tg8080/0123456789abcdef"))
    return service, parsed(stack)


@pytest.fixture(scope="module")
def wired(alone_tier: tuple[Service, Synth]) -> Synth:
    return alone_tier[1]


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
    standard = dataclasses.replace(CAPACITY, fargate_base=1, fargate_spot_weight=1)
    assert capacity_strategy(standard) == [("FARGATE", 1, 1), ("FARGATE_SPOT", 0, 1)]
    assert capacity_strategy(dataclasses.replace(standard, cpu_architecture="ARM64")) == [
        ("FARGATE", 1, 1)]
    assert capacity_strategy(dataclasses.replace(CAPACITY, fargate_base=3,
                                                 fargate_spot_weight=0)) == [("FARGATE", 3, 1)]
    # Spot only (the ephemeral profile): FARGATE is not listed; ARM64 falls back to it.
    spot_only = dataclasses.replace(CAPACITY, fargate_weight=0)
    assert capacity_strategy(spot_only) == [("FARGATE_SPOT", 0, 1)]
    assert capacity_strategy(dataclasses.replace(spot_only, cpu_architecture="ARM64")) == [
        ("FARGATE", 0, 1)]


def expected_strategy(suffix: str) -> list[dict[str, Any]]:
    return {
        "pr4892": [{"capacity_provider": "FARGATE_SPOT", "base": 0, "weight": 1}],
        "dev": [{"capacity_provider": "FARGATE", "base": 1, "weight": 1},
                {"capacity_provider": "FARGATE_SPOT", "base": 0, "weight": 1}],
        "prod": [{"capacity_provider": "FARGATE", "base": 3, "weight": 1}],
    }[suffix]


def test_cluster_and_capacity_providers(stacks: dict[str, Synth]) -> None:
    for suffix, stack in stacks.items():
        cluster = stack.at("aws_ecs_cluster", "app/cluster")
        assert cluster["name"] == f"tap-{suffix}-cluster"
        insights = "disabled" if suffix == "pr4892" else "enabled"  # the ephemeral cut
        assert cluster["setting"] == [{"name": "containerInsights", "value": insights}]
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
    # Without Container Insights (pr4892) there is nothing to write its group.
    assert stacks["pr4892"].logical_id("aws_cloudwatch_log_group", "app/task-logs")
    assert [path for path in stacks["pr4892"].paths.values() if "insights" in path] == []
    for suffix, stack in stacks.items():
        groups = (("app/task-logs", f"/tap/{suffix}/ecs/web"),) + ((
            ("app/insights-logs",
             f"/aws/ecs/containerinsights/tap-{suffix}-cluster/performance"),)
            if suffix != "pr4892" else ())
        for path, name in groups:
            group = stack.at("aws_cloudwatch_log_group", path)
            assert group["name"] == name
            assert group["retention_in_days"] == retention[suffix]
            assert group["kms_key_id"] == stack.key_ref("logs")
        if suffix != "pr4892":
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
        # Data-tier values arrive wired (tests/unit/test_wiring.py checks their values); no
        # credentials at all: the application authenticates with IAM tokens.
        assert [e["name"] for e in container["environment"]] == [
            "AWS_REGION", "DB_AUTH", "DB_HOST", "DB_NAME", "DB_PORT", "DB_USERNAME", "PORT",
            "REDIS_HOST", "REDIS_PORT", "REDIS_TLS"]
        assert "secrets" not in container


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
        # A public image needs no pull permission, and without a manifest there is no secret.
        found = statements(stack, "app/execution-policy")
        assert set(found) == {"WriteTaskLogs"}
        assert {"WriteTaskLogs": found["WriteTaskLogs"]} == {"WriteTaskLogs": {
            "Sid": "WriteTaskLogs", "Effect": "Allow",
            "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": [group, f"{group}:*"]}}


def test_execution_role_pulls_only_its_private_repository(variant: Synth) -> None:
    found = statements(variant, "app/execution-policy")
    assert set(found) == {"WriteTaskLogs", "EcrLogin", "PullImage"}
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


def test_secrets_without_readable_arns_are_refused() -> None:
    with pytest.raises(ValueError, match="readable_secret_arns"):
        dataclasses.replace(CONTAINER, readable_secret_arns=())


def test_task_role_has_ecs_exec_channels_only_where_exec_is_enabled(stacks: dict[str, Synth]) -> None:
    for suffix, stack in stacks.items():
        role = stack.ref("aws_iam_role", "app/task-role")
        attached = [p for p in stack.resources("aws_iam_role_policy").values()
                    if p["role"] == role and p["name"] != "application"]
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
            "target_group_arn": stack.ref("aws_lb_target_group", "lb/web", "arn"),
            "container_name": "web", "container_port": 80}]
        assert service["enable_execute_command"] is EXEC[suffix]
        assert service["propagate_tags"] == "SERVICE" and service["enable_ecs_managed_tags"] is True
        assert service["lifecycle"] == {"ignore_changes": ["desired_count"]}
        rule = stack.logical_id("aws_lb_listener_rule", "lb/origin-verify-rule")
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
        label = (f"{stack.ref('aws_lb', 'lb/alb', 'arn_suffix')}/"
                 f"{stack.ref('aws_lb_target_group', 'lb/web', 'arn_suffix')}")
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
            "alb_arn": stack.ref("aws_lb", "lb/alb", "arn"),
            "alb_dns_name": stack.ref("aws_lb", "lb/alb", "dns_name"),
            "target_group_arn": stack.ref("aws_lb_target_group", "lb/web", "arn"),
            "ecs_cluster_name": stack.ref("aws_ecs_cluster", "app/cluster", "name"),
            "ecs_service_name": stack.ref("aws_ecs_service", "app/service", "name"),
        }
        for name, value in expected.items():
            assert stack.outputs[name]["value"] == value
            assert stack.outputs[name]["description"]


def test_exposed_attributes(dev: Synth, alone_tier: tuple[Service, Synth]) -> None:
    for service in (cast(TapStack, dev.stack).service, alone_tier[0]):
        for attribute in ("cluster_name", "service_name", "task_definition_arn",
                          "log_group_name", "execution_role_arn", "task_role_arn"):
            value = getattr(service, attribute)
            assert isinstance(value, str) and "${" in value, attribute  # a token, never a literal
