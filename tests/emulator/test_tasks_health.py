"""Health on an emulator with a runtime: a container health check (run in the task's own
namespace, where 127.0.0.1 is the task) makes ``healthStatus`` HEALTHY or UNHEALTHY; a
service task whose target fails the load balancer's checks is reported with AWS's reason
code and replaced once its grace period is over; a new revision whose tasks cannot start
trips the deployment circuit breaker, which rolls back while the old tasks keep serving."""
# pylint: disable=redefined-outer-name
from __future__ import annotations

from typing import Any, Iterator

import pytest

from tests.emulator.runtime_support import Cloud, runtime_emulator, wait_for

CHECK = {"command": ["CMD", "python", "-c", "import os, urllib.request; urllib.request.urlopen("
                     "'http://127.0.0.1:%s/healthz' % os.environ['PORT'], timeout=2)"],
         "interval": 5, "timeout": 3, "retries": 2, "startPeriod": 0}


@pytest.fixture(scope="module")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cloud]:
    with runtime_emulator(tmp_path_factory.mktemp("tasks-health")) as url:
        yield Cloud(url)


def target_group(cloud: Cloud, name: str) -> str:
    ec2, elbv2 = cloud.client("ec2"), cloud.client("elbv2")
    subnets = [cloud.subnet, ec2.create_subnet(
        VpcId=cloud.vpc, CidrBlock=f"10.40.{10 + len(name)}.0/24",
        AvailabilityZone="us-east-1c")["Subnet"]["SubnetId"]]
    balancer = elbv2.create_load_balancer(Name=f"{name}-alb", Subnets=subnets,
                                          Scheme="internal")["LoadBalancers"][0]
    group = elbv2.create_target_group(
        Name=name, Protocol="HTTP", Port=8080, VpcId=cloud.vpc, TargetType="ip",
        HealthCheckPath="/healthz", HealthCheckIntervalSeconds=5, HealthCheckTimeoutSeconds=2,
        HealthyThresholdCount=2, UnhealthyThresholdCount=2)["TargetGroups"][0]["TargetGroupArn"]
    elbv2.modify_target_group_attributes(TargetGroupArn=group, Attributes=[
        {"Key": "deregistration_delay.timeout_seconds", "Value": "1"}])
    elbv2.create_listener(LoadBalancerArn=balancer["LoadBalancerArn"], Protocol="HTTP", Port=80,
                          DefaultActions=[{"Type": "forward", "TargetGroupArn": group}])
    return str(group)


def create_service(cloud: Cloud, name: str, definition: str, group: str, count: int,
                   **settings: Any) -> None:
    cloud.client("ecs").create_service(
        cluster=cloud.cluster, serviceName=name, taskDefinition=definition, desiredCount=count,
        launchType="FARGATE", networkConfiguration=cloud.network,
        loadBalancers=[{"targetGroupArn": group, "containerName": "web", "containerPort": 8080}],
        **settings)


def described(cloud: Cloud, name: str) -> dict[str, Any]:
    return dict(cloud.client("ecs").describe_services(cluster=cloud.cluster,
                                                      services=[name])["services"][0])


def messages(cloud: Cloud, name: str) -> list[str]:
    return [event["message"] for event in described(cloud, name)["events"]]


def test_the_container_health_check_sets_the_task_s_health(cloud: Cloud) -> None:
    image = cloud.echo_image()
    good = cloud.run(cloud.task_definition("checked", image, health_check=CHECK))
    bad = cloud.run(cloud.task_definition("checked-bad", image, health_check=CHECK,
                                          environment={"HEALTHZ_STATUS": "500"}))
    assert cloud.describe(good)["healthStatus"] == "UNKNOWN"
    for task_arn, status in ((good, "HEALTHY"), (bad, "UNHEALTHY")):
        # The two are written one after the other: wait for both (a fresh clone's make test
        # once read the task's new status beside its container's old one).
        task = wait_for(lambda arn=task_arn: cloud.describe(arn), 30, f"{task_arn} {status}",
                        until=lambda t, want=status: t["healthStatus"] == want
                        and t["containers"][0]["healthStatus"] == want)
        assert task["lastStatus"] == "RUNNING"  # a standalone task is not replaced
        cloud.client("ecs").stop_task(cluster=cloud.cluster, task=task_arn)
        cloud.stopped(task_arn)


def test_a_task_failing_the_load_balancer_s_checks_is_replaced(cloud: Cloud) -> None:
    group = target_group(cloud, "sick")
    definition = cloud.task_definition("sick", cloud.echo_image(),
                                       environment={"HEALTHZ_STATUS": "500"})
    create_service(cloud, "sick", definition, group, 1, healthCheckGracePeriodSeconds=0)
    elbv2 = cloud.client("elbv2")
    unhealthy = wait_for(lambda: next((d for d in elbv2.describe_target_health(
        TargetGroupArn=group)["TargetHealthDescriptions"]
        if d["TargetHealth"]["State"] == "unhealthy"), None), 30, "an unhealthy target")
    assert unhealthy["TargetHealth"] == {
        "State": "unhealthy", "Reason": "Target.ResponseCodeMismatch",
        "Description": "Health checks failed with these codes: [500]"}
    stopped = wait_for(lambda: [t for t in cloud.tasks().values() if t["group"] == "service:sick"
                                and t["lastStatus"] == "STOPPED"], 30, "the task to be replaced")
    assert stopped[0]["stoppedReason"] == f"Task failed ELB health checks in (target-group {group})"
    wait_for(lambda: len([t for t in cloud.tasks().values() if t["group"] == "service:sick"]) >= 2,
             30, "a replacement task")
    port = unhealthy["Target"]["Port"]
    assert any(m.endswith(f"(port {port}) is unhealthy in (target-group {group}) due to (reason "
                          "Health checks failed with these codes: [500]).")
               for m in messages(cloud, "sick"))
    cloud.client("ecs").delete_service(cluster=cloud.cluster, service="sick", force=True)
    wait_for(lambda: described(cloud, "sick")["status"] == "INACTIVE", 30, "the service to go")


def test_a_revision_that_cannot_start_is_rolled_back(cloud: Cloud) -> None:
    group = target_group(cloud, "rollback")
    image = cloud.echo_image()
    good = cloud.task_definition("rollback", image)
    create_service(cloud, "rollback", good, group, 2, deploymentConfiguration={
        "deploymentCircuitBreaker": {"enable": True, "rollback": True},
        "maximumPercent": 200, "minimumHealthyPercent": 100})
    wait_for(lambda: described(cloud, "rollback")["deployments"][0]["rolloutState"] ==
             "COMPLETED", 40, "the first deployment")
    original = described(cloud, "rollback")["deployments"][0]["id"]
    broken = cloud.task_definition("rollback", image.rsplit(":", 1)[0] + ":missing")
    failed = cloud.client("ecs").update_service(cluster=cloud.cluster, service="rollback",
                                                taskDefinition=broken)["service"][
        "deployments"][0]["id"]
    rolled_back = f"(service rollback) rolling back to deployment {original}."
    wait_for(lambda: rolled_back in messages(cloud, "rollback"), 60, "the circuit breaker")
    service = wait_for(lambda: described(cloud, "rollback"), 30, "the rollback to complete",
                       until=lambda s: len(s["deployments"]) == 1
                       and s["deployments"][0]["rolloutState"] == "COMPLETED")
    assert (service["taskDefinition"], service["deployments"][0]["id"]) == (good, original)
    events = messages(cloud, "rollback")
    assert f"(service rollback) (deployment {failed}) deployment failed: tasks failed " \
           "to start." in events
    # The breaker trips at 3 failed tasks; tasks launched together may all fail first.
    tasks = [t for t in cloud.tasks().values() if t["group"] == "service:rollback"]
    broken_tasks = [t for t in tasks if t["taskDefinition"] == broken]
    assert len(broken_tasks) >= 3
    assert {(t["lastStatus"], t["stopCode"], t["pid"]) for t in broken_tasks} == {
        ("STOPPED", "TaskFailedToStart", None)}
    missing = image.rsplit(":", 1)[0] + ":missing"
    assert sum(m == f"(service rollback) was unable to place a task. Reason: "
                    f"CannotPullContainerError: pull image manifest has been retried 5 time(s): "
                    f"failed to resolve ref {missing}: {missing}: not found"
               for m in events) == len(broken_tasks)
    # The old tasks served all along: the same two, healthy.
    assert sorted((t["lastStatus"], t["taskDefinition"]) for t in tasks
                  if t not in broken_tasks) == [("RUNNING", good), ("RUNNING", good)]
    states = [d["TargetHealth"]["State"] for d in cloud.client("elbv2").describe_target_health(
        TargetGroupArn=group)["TargetHealthDescriptions"]]
    assert states == ["healthy", "healthy"]
