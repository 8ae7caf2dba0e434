"""An ECS service on an emulator with a runtime, behind a load balancer: its tasks run as
processes on addresses of their own, are registered in the target group and health-checked
as the load balancer does (DescribeTargetHealth tells the truth), a new revision replaces
them without ever going below the desired count of healthy targets, and deleting the
service stops the processes and deregisters the targets.

The three tests are one life, in order: the service, its new revision, its deletion."""
# pylint: disable=redefined-outer-name
from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any, Iterator

import pytest

from tests.emulator.runtime_support import (Cloud, alive, get_json, runtime_emulator,
                                            wait_for)

# The target group's health check: the fastest an ALB allows (interval >= 5 s, 2 checks).
INTERVAL, HEALTHY, UNHEALTHY, DRAIN = 5, 2, 2, 2
SERVICE = "web"


@dataclass
class Life:
    """The service's world, shared by the tests of this module in order."""

    cloud: Cloud
    group: str
    pids: list[int] = field(default_factory=list)


@pytest.fixture(scope="module")
def life(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Life]:
    with runtime_emulator(tmp_path_factory.mktemp("tasks-service")) as url:
        cloud = Cloud(url)
        ec2, elbv2 = cloud.client("ec2"), cloud.client("elbv2")
        second = ec2.create_subnet(VpcId=cloud.vpc, CidrBlock="10.40.2.0/24",
                                   AvailabilityZone="us-east-1b")["Subnet"]["SubnetId"]
        balancer = elbv2.create_load_balancer(
            Name="tasks-alb", Subnets=[cloud.subnet, second], Scheme="internal",
            SecurityGroups=[cloud.security_group])["LoadBalancers"][0]["LoadBalancerArn"]
        group = elbv2.create_target_group(
            Name="tasks-web", Protocol="HTTP", Port=8080, VpcId=cloud.vpc, TargetType="ip",
            HealthCheckProtocol="HTTP", HealthCheckPath="/healthz",
            HealthCheckIntervalSeconds=INTERVAL, HealthCheckTimeoutSeconds=2,
            HealthyThresholdCount=HEALTHY, UnhealthyThresholdCount=UNHEALTHY,
            Matcher={"HttpCode": "200"})["TargetGroups"][0]["TargetGroupArn"]
        elbv2.modify_target_group_attributes(TargetGroupArn=group, Attributes=[
            {"Key": "deregistration_delay.timeout_seconds", "Value": str(DRAIN)}])
        elbv2.create_listener(LoadBalancerArn=balancer, Protocol="HTTP", Port=80,
                              DefaultActions=[{"Type": "forward", "TargetGroupArn": group}])
        yield Life(cloud, group)


def targets(life: Life) -> dict[str, str]:
    """Registered target address -> state."""
    described = life.cloud.client("elbv2").describe_target_health(
        TargetGroupArn=life.group)["TargetHealthDescriptions"]
    return {d["Target"]["Id"]: d["TargetHealth"]["State"] for d in described}


def service(life: Life) -> dict[str, Any]:
    return dict(life.cloud.client("ecs").describe_services(
        cluster=life.cloud.cluster, services=[SERVICE])["services"][0])


def serving(life: Life, revision: str) -> dict[str, str] | None:
    """The healthy targets, all answering ``revision``, when there are exactly two."""
    found = targets(life)
    healthy = [address for address, state in found.items() if state == "healthy"]
    if len(found) != 2 or len(healthy) != 2:
        return None
    answers = [get_json(f"http://{address}:8080/") for address in healthy]
    if any(answer is None or answer["revision"] != revision for answer in answers):
        return None
    return found


def test_a_service_of_two_tasks_becomes_healthy_behind_its_target_group(life: Life) -> None:
    cloud = life.cloud
    definition = cloud.task_definition("web", cloud.echo_image(), environment={"REVISION": "1"})
    started = time.monotonic()
    cloud.client("ecs").create_service(
        cluster=cloud.cluster, serviceName=SERVICE, taskDefinition=definition, desiredCount=2,
        launchType="FARGATE", networkConfiguration=cloud.network,
        loadBalancers=[{"targetGroupArn": life.group, "containerName": "web",
                        "containerPort": 8080}],
        healthCheckGracePeriodSeconds=60,
        deploymentConfiguration={"maximumPercent": 200, "minimumHealthyPercent": 100})
    first = service(life)
    assert (first["runningCount"], first["pendingCount"]) == (0, 0)
    assert [(d["status"], d["rolloutState"]) for d in first["deployments"]] == [
        ("PRIMARY", "IN_PROGRESS")]
    # Registered while its checks run: initial, never healthy before HEALTHY checks passed.
    initial = wait_for(lambda: targets(life), 30, "two registered targets",
                       until=lambda found: len(found) == 2)
    assert set(initial.values()) <= {"initial", "healthy"}
    found = wait_for(lambda: serving(life, "1"), 30, "two healthy targets")
    elapsed = time.monotonic() - started
    # Two checks INTERVAL apart after registration, plus the task's start.
    assert elapsed < (HEALTHY - 1) * INTERVAL + 15
    tasks = [t for t in cloud.tasks().values() if t["group"] == f"service:{SERVICE}"]
    assert sorted(t["address"] for t in tasks) == sorted(found)
    assert len(set(found)) == 2
    life.pids = [t["pid"] for t in tasks]
    assert all(alive(pid) for pid in life.pids)
    ecs = cloud.client("ecs")
    listed = ecs.list_tasks(cluster=cloud.cluster, serviceName=SERVICE)["taskArns"]
    assert sorted(listed) == sorted(t["taskArn"] for t in tasks)
    described = ecs.describe_tasks(cluster=cloud.cluster, tasks=listed)["tasks"]
    deployment = service(life)["deployments"][0]["id"]
    assert {(t["group"], t["startedBy"], t["lastStatus"]) for t in described} == {
        (f"service:{SERVICE}", deployment, "RUNNING")}
    steady = wait_for(lambda: service(life), 15, "the deployment to complete",
                      until=lambda s: s["deployments"][0]["rolloutState"] == "COMPLETED")
    assert (steady["runningCount"], steady["pendingCount"], steady["desiredCount"]) == (2, 0, 2)
    assert [(d["status"], d["runningCount"]) for d in steady["deployments"]] == [("PRIMARY", 2)]
    messages = [event["message"] for event in steady["events"]]
    assert messages[0] == f"(service {SERVICE}) has reached a steady state."
    assert sum(m == f"(service {SERVICE}) registered 1 targets in (target-group {life.group})"
               for m in messages) == 2
    assert any(m.startswith(f"(service {SERVICE}) has started 2 tasks: (task ")
               for m in messages)


def test_a_new_revision_replaces_the_tasks_never_below_two_healthy(life: Life) -> None:
    cloud = life.cloud
    definition = cloud.task_definition("web", cloud.echo_image(), environment={"REVISION": "2"})
    lowest: list[int] = []
    watching = threading.Event()

    def watch() -> None:
        while not watching.is_set():
            lowest.append(sum(state == "healthy" for state in targets(life).values()))
            time.sleep(0.3)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        updated = cloud.client("ecs").update_service(cluster=cloud.cluster, service=SERVICE,
                                                     taskDefinition=definition)["service"]
        assert [(d["status"], d["taskDefinition"].rsplit("/", 1)[1]) for d in
                updated["deployments"]] == [("PRIMARY", "web:2"), ("ACTIVE", "web:1")]
        during = wait_for(lambda: targets(life), 30, "the new tasks to register",
                          until=lambda found: len(found) > 2)
        assert len(during) in (3, 4)  # at most 200 % of 2 tasks
        wait_for(lambda: serving(life, "2"), 60, "the new revision to serve alone")
    finally:
        watching.set()
        watcher.join()
    assert min(lowest) >= 2, f"healthy targets went down to {min(lowest)}"
    steady = wait_for(lambda: service(life), 30, "the rollout to complete",
                      until=lambda s: len(s["deployments"]) == 1
                      and s["deployments"][0]["rolloutState"] == "COMPLETED")
    assert steady["taskDefinition"].endswith("/web:2")
    assert all(not alive(pid) for pid in life.pids)
    old = [t for t in cloud.tasks().values() if t["pid"] in life.pids]
    assert {(t["lastStatus"], t["stopCode"], t["exitCode"]) for t in old} == {
        ("STOPPED", "ServiceSchedulerInitiated", 0)}
    life.pids = [t["pid"] for t in cloud.tasks().values()
                 if t["group"] == f"service:{SERVICE}" and t["lastStatus"] == "RUNNING"]
    assert len(life.pids) == 2


def test_deleting_the_service_stops_its_processes_and_deregisters_them(life: Life) -> None:
    cloud = life.cloud
    deleted = cloud.client("ecs").delete_service(cluster=cloud.cluster, service=SERVICE,
                                                 force=True)["service"]
    assert deleted["status"] == "DRAINING"
    wait_for(lambda: service(life)["status"] == "INACTIVE", 30, "the service to be INACTIVE")
    assert targets(life) == {}
    assert all(not alive(pid) for pid in life.pids)
    assert all(t["lastStatus"] == "STOPPED" for t in cloud.tasks().values())
    messages = [event["message"] for event in service(life)["events"]]
    assert f"(service {SERVICE}) deregistered 1 targets in (target-group {life.group})" in \
        messages
