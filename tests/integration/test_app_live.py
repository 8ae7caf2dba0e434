"""Application tier, live: load balancer, listener rules, target group, ECS service.

On the shared pieces (``Settings.shared``) the load balancer and its listener are the shared
stack's (lib/shared_stack.py): the environment owns its target group and one rule on the
given listener, at the priority of its pull-request number; the listener's default answer is
the shared stack's 404, not an environment's 403."""
# pylint: disable=redefined-outer-name
from __future__ import annotations

from typing import Any

import pytest

from lib.config import ORIGIN_VERIFY_HEADER, Profile, Settings
from lib.images import resolve_image
from lib.naming import Names
from tests.integration.live import (SETTLE_SECONDS, Clients, assert_secret_kms_encrypted,
                                    http_status, optional, resolves, wait_for)
from tests.integration.outputs import Outputs

# What the origin listener answers without a matching rule: an environment's own load balancer
# says 403 (lib/load_balancer.py), the shared one 404 (lib/shared_stack.py).
DEFAULT_STATUS, SHARED_DEFAULT_STATUS = "403", "404"


@pytest.fixture(scope="module")
def alb_arn(outputs: Outputs) -> str:
    return outputs.require("alb_arn")


@pytest.fixture(scope="module")
def target_group_arn(outputs: Outputs) -> str:
    return outputs.require("target_group_arn")


@pytest.fixture(scope="module")
def listeners(aws: Clients, alb_arn: str) -> list[dict[str, Any]]:
    found = aws("elbv2").describe_listeners(LoadBalancerArn=alb_arn)["Listeners"]
    assert found, f"{alb_arn} has no listener"
    return found


@pytest.fixture(scope="module")
def origin_listener(listeners: list[dict[str, Any]], settings: Settings) -> dict[str, Any]:
    """The listener CloudFront talks to: HTTPS with a certificate, HTTP otherwise."""
    protocol = "HTTP" if settings.certificate_arn is None else "HTTPS"
    (found,) = [listener for listener in listeners if listener["Protocol"] == protocol]
    return found


@pytest.fixture(scope="module")
def service(aws: Clients, outputs: Outputs) -> dict[str, Any]:
    cluster = outputs.require("ecs_cluster_name")
    name = outputs.require("ecs_service_name")
    (found,) = aws("ecs").describe_services(cluster=cluster, services=[name])["services"]
    return found


def _describe_service(aws: Clients, service: dict[str, Any]) -> dict[str, Any]:
    return aws("ecs").describe_services(cluster=service["clusterArn"],
                                        services=[service["serviceName"]])["services"][0]


def _forwards_to(action: dict[str, Any], target_group_arn: str) -> bool:
    if action["Type"] != "forward":
        return False
    groups = [group["TargetGroupArn"]
              for group in action.get("ForwardConfig", {}).get("TargetGroups", [])]
    return target_group_arn in [action.get("TargetGroupArn"), *groups]


def test_alb_is_active_and_only_as_public_as_its_origin_needs(
        aws: Clients, outputs: Outputs, names: Names, settings: Settings, alb_arn: str) -> None:
    """Internal, in the private subnets, without a public address, where CloudFront reaches
    it through a VPC origin; internet-facing in the public subnets elsewhere."""
    elbv2 = aws("elbv2")
    (alb,) = elbv2.describe_load_balancers(LoadBalancerArns=[alb_arn])["LoadBalancers"]
    assert alb["State"]["Code"] == "active"
    scheme, subnets = (("internal", outputs.require_list("private_subnet_ids"))
                       if settings.private_origin
                       else ("internet-facing", outputs.require_list("public_subnet_ids")))
    assert (alb["Type"], alb["Scheme"]) == ("application", scheme)
    if settings.shared is None:
        assert alb["LoadBalancerName"] == names.alb
    else:  # the shared stack's: the one behind the given listener
        (listener,) = elbv2.describe_listeners(
            ListenerArns=[settings.shared.listener.value])["Listeners"]
        assert listener["LoadBalancerArn"] == alb_arn
    assert alb["DNSName"] == outputs.require("alb_dns_name")
    assert alb["VpcId"] == outputs.require("vpc_id")
    assert {zone["SubnetId"] for zone in alb["AvailabilityZones"]} == set(subnets)
    if settings.private_origin:
        assert not [address for zone in alb["AvailabilityZones"]
                    for address in zone.get("LoadBalancerAddresses", [])
                    if address.get("IpAddress") or address.get("AllocationId")]
        interfaces = aws("ec2").describe_network_interfaces(Filters=[{
            "Name": "description", "Values": [f"ELB {alb_arn.split(':loadbalancer/')[1]}"]}])
        assert not [interface["NetworkInterfaceId"]
                    for interface in interfaces["NetworkInterfaces"]
                    if interface.get("Association", {}).get("PublicIp")]


def test_alb_deletion_protection_per_profile(aws: Clients, pieces_profile: Profile,
                                             alb_arn: str) -> None:
    attributes = {item["Key"]: item["Value"] for item in aws("elbv2").describe_load_balancer_attributes(
        LoadBalancerArn=alb_arn)["Attributes"]}
    assert attributes["deletion_protection.enabled"] == \
        str(pieces_profile.alb_deletion_protection).lower()


def test_listeners_per_certificate(listeners: list[dict[str, Any]], settings: Settings) -> None:
    ports = {(listener["Protocol"], listener["Port"]) for listener in listeners}
    if settings.certificate_arn is None:
        assert ports == {("HTTP", 80)}
        return
    assert ports == {("HTTP", 80), ("HTTPS", 443)}
    (redirect,) = [listener for listener in listeners if listener["Protocol"] == "HTTP"]
    (action,) = redirect["DefaultActions"]
    assert action["Type"] == "redirect"
    assert (action["RedirectConfig"]["Protocol"], action["RedirectConfig"]["Port"]) == \
        ("HTTPS", "443")


def _default_status(settings: Settings) -> str:
    return DEFAULT_STATUS if settings.shared is None else SHARED_DEFAULT_STATUS


def test_origin_listener_refuses_by_default(origin_listener: dict[str, Any],
                                            settings: Settings) -> None:
    (action,) = origin_listener["DefaultActions"]
    assert action["Type"] == "fixed-response"
    assert action["FixedResponseConfig"]["StatusCode"] == _default_status(settings)


def test_origin_header_rule_forwards_to_the_target_group(
        aws: Clients, origin_listener: dict[str, Any], target_group_arn: str,
        settings: Settings) -> None:
    """One rule of the environment's: its own listener's only one, or on the shared listener
    the one that forwards to its target group, at its pull-request number."""
    rules = aws("elbv2").describe_rules(ListenerArn=origin_listener["ListenerArn"])["Rules"]
    custom = [rule for rule in rules if not rule["IsDefault"]]
    if settings.shared is not None:
        custom = [rule for rule in custom
                  if any(_forwards_to(action, target_group_arn) for action in rule["Actions"])]
        assert [rule["Priority"] for rule in custom] == [str(settings.shared.rule_priority)]
    assert len(custom) == 1, f"expected only the origin-verify rule, got {custom}"
    (condition,) = custom[0]["Conditions"]
    assert condition["Field"] == "http-header"
    header = condition["HttpHeaderConfig"]
    assert header["HttpHeaderName"].lower() == ORIGIN_VERIFY_HEADER.lower()
    assert len(header["Values"]) == 1 and header["Values"][0]
    (action,) = custom[0]["Actions"]
    assert _forwards_to(action, target_group_arn), action


def test_target_group_and_health_check(aws: Clients, settings: Settings, names: Names,
                                       outputs: Outputs, alb_arn: str,
                                       target_group_arn: str) -> None:
    elbv2 = aws("elbv2")
    (group,) = elbv2.describe_target_groups(TargetGroupArns=[target_group_arn])["TargetGroups"]
    assert group["TargetGroupName"] == names.target_group
    assert (group["TargetType"], group["Protocol"], group["Port"]) == \
        ("ip", "HTTP", settings.container_port)
    assert group["VpcId"] == outputs.require("vpc_id")
    assert group["LoadBalancerArns"] == [alb_arn]
    assert group["HealthCheckEnabled"] is True
    assert group["HealthCheckPath"] == settings.health_check_path
    attributes = {item["Key"]: item["Value"] for item in elbv2.describe_target_group_attributes(
        TargetGroupArn=target_group_arn)["Attributes"]}
    assert attributes["deregistration_delay.timeout_seconds"] == \
        str(settings.profile.deregistration_delay_seconds)


def test_ecs_cluster_is_active(aws: Clients, outputs: Outputs) -> None:
    name = outputs.require("ecs_cluster_name")
    (cluster,) = aws("ecs").describe_clusters(clusters=[name])["clusters"]
    assert (cluster["clusterName"], cluster["status"]) == (name, "ACTIVE")


def test_service_is_active_behind_the_target_group(service: dict[str, Any], settings: Settings,
                                                   outputs: Outputs,
                                                   target_group_arn: str) -> None:
    profile = settings.profile
    assert service["status"] == "ACTIVE"
    assert profile.min_capacity <= service["desiredCount"] <= profile.max_capacity
    assert [(lb["targetGroupArn"], lb["containerPort"]) for lb in service["loadBalancers"]] == \
        [(target_group_arn, settings.container_port)]
    network = service["networkConfiguration"]["awsvpcConfiguration"]
    # Without NAT the tasks run in the public subnets with public IPs (lib/network.py).
    workload = (outputs.require_list("public_subnet_ids") if settings.tasks_in_public_subnets
                else outputs.require_list("private_subnet_ids"))
    assert set(network["subnets"]) == set(workload)
    assert network["assignPublicIp"] == ("ENABLED" if settings.tasks_in_public_subnets
                                         else "DISABLED")


def test_service_deployment_circuit_breaker(service: dict[str, Any], emulator: bool) -> None:
    configuration = optional(emulator, service, "deploymentConfiguration",
                             "the service's deployment configuration")
    breaker = optional(emulator, configuration, "deploymentCircuitBreaker",
                       "the deployment circuit breaker")
    assert breaker == {"enable": True, "rollback": True}


def test_service_execute_command_per_profile(service: dict[str, Any], profile: Profile,
                                             emulator: bool) -> None:
    assert optional(emulator, service, "enableExecuteCommand", "ECS Exec") is \
        profile.enable_execute_command


def test_task_definition_per_profile(aws: Clients, service: dict[str, Any],
                                     settings: Settings) -> None:
    task = aws("ecs").describe_task_definition(
        taskDefinition=service["taskDefinition"])["taskDefinition"]
    assert (task["cpu"], task["memory"]) == (str(settings.profile.task_cpu),
                                             str(settings.profile.task_memory))
    assert task["networkMode"] == "awsvpc"
    assert "FARGATE" in task["requiresCompatibilities"]
    container = next(c for c in task["containerDefinitions"]
                     if any(m["containerPort"] == settings.container_port
                            for m in c.get("portMappings", [])))
    account = aws("sts").get_caller_identity()["Account"]
    assert container["image"] == resolve_image(settings.container_image, account,
                                               settings.aws_region)


def test_running_tasks_equal_desired(aws: Clients, service: dict[str, Any]) -> None:
    current = wait_for(lambda: _describe_service(aws, service),
                       lambda s: s["runningCount"] == s["desiredCount"]
                       and s["deployments"][0].get("rolloutState") == "COMPLETED",
                       SETTLE_SECONDS)
    assert current["runningCount"] == current["desiredCount"] > 0, \
        f"{current['runningCount']} of {current['desiredCount']} tasks running"
    rollouts = [deployment.get("rolloutState") for deployment in current["deployments"]]
    assert rollouts == ["COMPLETED"], f"deployments: {rollouts}"


def test_targets_are_healthy(aws: Clients, service: dict[str, Any],
                             target_group_arn: str) -> None:
    def healthy() -> int:
        states = aws("elbv2").describe_target_health(
            TargetGroupArn=target_group_arn)["TargetHealthDescriptions"]
        return sum(state["TargetHealth"]["State"] == "healthy" for state in states)

    desired = _describe_service(aws, service)["desiredCount"]
    count = wait_for(healthy, lambda found: found >= desired, SETTLE_SECONDS)
    assert count >= desired, f"{count} healthy targets, {desired} desired"


def test_alb_refuses_direct_requests(outputs: Outputs, origin_listener: dict[str, Any],
                                     settings: Settings) -> None:
    host = outputs.require("alb_dns_name")
    # A name that does not resolve would also "refuse": make sure it is the real one.
    assert resolves(host), f"{host} does not resolve"
    url = f"{origin_listener['Protocol'].lower()}://{host}:{origin_listener['Port']}/"
    status = http_status(url, verify=False)
    # Refused: the security group (CloudFront's prefix list only) drops the connection,
    # or, should it get through, the listener's default answer without the header.
    assert isinstance(status, str) or str(status) == _default_status(settings), \
        f"{url} answered {status}"


def test_origin_verify_secret_is_kms_encrypted(aws: Clients, names: Names,
                                              outputs: Outputs) -> None:
    secret = assert_secret_kms_encrypted(aws, outputs.require("origin_verify_secret_arn"))
    # Named once, at create: a redeploy of the suffix never meets a name still reserved.
    assert secret["Name"].startswith(names.origin_verify_secret_prefix), secret["Name"]
