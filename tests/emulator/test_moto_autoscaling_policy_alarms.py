"""Extension autoscaling_policy_alarms: a target tracking policy of an ECS service keeps
one pair of CloudWatch alarms through PutScalingPolicy updates, the pair the policy
names, and DeleteScalingPolicy leaves none (moto 5.2.5 keeps the replaced pair: four
alarms after one update, two left after the delete). The update test fails on plain
moto; the others document what moto already does."""
from __future__ import annotations

from typing import Any, Callable

from emulator.moto_ext import autoscaling_policy_alarms

DIMENSION = "ecs:service:DesiredCount"


def _ecs_target(client: Callable[..., Any], cluster: str, service: str) -> str:
    """An ECS service registered as a scalable target; returns its resource ID."""
    ecs = client("ecs")
    ecs.create_cluster(clusterName=cluster)
    ecs.register_task_definition(family=service, containerDefinitions=[
        {"name": "web", "image": "nginx", "memory": 128}])
    ecs.create_service(cluster=cluster, serviceName=service, taskDefinition=service,
                       desiredCount=1)
    resource_id = f"service/{cluster}/{service}"
    client("application-autoscaling").register_scalable_target(
        ServiceNamespace="ecs", ResourceId=resource_id, ScalableDimension=DIMENSION,
        MinCapacity=1, MaxCapacity=4)
    return resource_id


def _put_cpu_policy(scaling: Any, resource_id: str, target: float) -> list[str]:
    """PutScalingPolicy of the target tracking policy ``cpu``; the alarm names it answers."""
    answer = scaling.put_scaling_policy(
        PolicyName="cpu", ServiceNamespace="ecs", ResourceId=resource_id,
        ScalableDimension=DIMENSION, PolicyType="TargetTrackingScaling",
        TargetTrackingScalingPolicyConfiguration={
            "TargetValue": target, "PredefinedMetricSpecification": {
                "PredefinedMetricType": "ECSServiceAverageCPUUtilization"}})
    return sorted(alarm["AlarmName"] for alarm in answer["Alarms"])


def _alarms(client: Callable[..., Any], resource_id: str) -> list[str]:
    """Names of the target tracking alarms of the resource, as CloudWatch lists them."""
    answer = client("cloudwatch").describe_alarms(
        AlarmNamePrefix=f"TargetTracking-{resource_id}-")
    return sorted(alarm["AlarmName"] for alarm in answer["MetricAlarms"])


def _policy(scaling: Any, resource_id: str) -> dict[str, Any]:
    """The policy ``cpu`` of the resource as DescribeScalingPolicies reports it."""
    (policy,) = scaling.describe_scaling_policies(
        ServiceNamespace="ecs", ResourceId=resource_id, ScalableDimension=DIMENSION,
        PolicyNames=["cpu"])["ScalingPolicies"]
    return policy  # type: ignore[no-any-return]


def _policy_alarms(scaling: Any, resource_id: str) -> list[str]:
    """Names of the alarms that the policy ``cpu`` of the resource reports."""
    return sorted(alarm["AlarmName"] for alarm in _policy(scaling, resource_id)["Alarms"])


def test_install_is_idempotent() -> None:
    assert autoscaling_policy_alarms.install() == autoscaling_policy_alarms.NAME
    assert autoscaling_policy_alarms.install() == autoscaling_policy_alarms.NAME


def test_a_new_policy_has_one_pair_of_alarms(client: Callable[..., Any]) -> None:
    resource_id = _ecs_target(client, "alarms-new", "web")
    scaling = client("application-autoscaling")
    created = _put_cpu_policy(scaling, resource_id, 60.0)
    high, low = created
    assert high.startswith(f"TargetTracking-{resource_id}-AlarmHigh-")
    assert low.startswith(f"TargetTracking-{resource_id}-AlarmLow-")
    assert _alarms(client, resource_id) == created == _policy_alarms(scaling, resource_id)


def test_an_updated_policy_keeps_one_pair_and_its_delete_leaves_none(
        client: Callable[..., Any]) -> None:
    """The stack's in-place update of aws_appautoscaling_policy, then its destroy."""
    resource_id = _ecs_target(client, "alarms-update", "web")
    scaling = client("application-autoscaling")
    first = _put_cpu_policy(scaling, resource_id, 60.0)
    second = _put_cpu_policy(scaling, resource_id, 70.0)
    assert not set(first) & set(second)
    assert _alarms(client, resource_id) == second  # plain moto: first + second, 4 alarms
    assert _policy_alarms(scaling, resource_id) == second
    configuration = _policy(scaling, resource_id)["TargetTrackingScalingPolicyConfiguration"]
    assert configuration["TargetValue"] == 70.0
    scaling.delete_scaling_policy(PolicyName="cpu", ServiceNamespace="ecs",
                                  ResourceId=resource_id, ScalableDimension=DIMENSION)
    assert not _alarms(client, resource_id)  # plain moto: the first pair is left


def test_other_policies_keep_their_alarms(client: Callable[..., Any]) -> None:
    """Updating one service's policy leaves another service's alarms alone."""
    updated = _ecs_target(client, "alarms-pair", "web")
    other = _ecs_target(client, "alarms-pair", "worker")
    scaling = client("application-autoscaling")
    others = _put_cpu_policy(scaling, other, 50.0)
    _put_cpu_policy(scaling, updated, 60.0)
    _put_cpu_policy(scaling, updated, 65.0)
    assert _alarms(client, other) == others == _policy_alarms(scaling, other)
    assert len(_alarms(client, updated)) == 2
