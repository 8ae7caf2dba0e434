"""The service: the ECS cluster, the task definition, the service, its IAM and scaling.

Creates
- an ECS cluster (FARGATE and FARGATE_SPOT) with Container Insights on and its log group,
  created by the stack so that destroy removes it too, or with Container Insights set off
  explicitly (an account default of "enabled" would otherwise turn it on: the ephemeral profile
  cuts its custom metrics, docs/decisions/shared-pr-environments.md);
- the task definition (awsvpc, CPU/memory as given, awslogs to a KMS-encrypted log group)
  with the one container of a ``ContainerSpec`` (lib/container.py);
- the service (capacity provider strategy, circuit breaker with rollback, rolling
  deployment at full capacity) behind the load balancer's target group, and
  target-tracking auto scaling on CPU, memory and requests per target;
- the execution role (image pull, its log group, exactly the secrets and keys the container
  spec names) and the task role (ECS Exec channels only where exec is enabled, and the
  statements it is given: connecting to the database as the application's own user).

Its security group's rules are in lib/firewall.py. Exposes ``cluster_name``, ``cluster_arn``,
``service_name``, ``task_definition_arn``, ``log_group_name``, ``log_group_arn``,
``execution_role_arn`` and ``task_role_arn``, and ``wait_for`` (the release gate).
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

from cdktf import TerraformResource, TerraformResourceLifecycle
from cdktf_cdktf_provider_aws.appautoscaling_policy import (
    AppautoscalingPolicy,
    AppautoscalingPolicyTargetTrackingScalingPolicyConfiguration,
    AppautoscalingPolicyTargetTrackingScalingPolicyConfigurationPredefinedMetricSpecification
    as PredefinedMetric,
)
from cdktf_cdktf_provider_aws.appautoscaling_target import AppautoscalingTarget
from cdktf_cdktf_provider_aws.cloudwatch_log_group import CloudwatchLogGroup
from cdktf_cdktf_provider_aws.ecs_cluster import EcsCluster, EcsClusterSetting
from cdktf_cdktf_provider_aws.ecs_cluster_capacity_providers import (
    EcsClusterCapacityProviders,
    EcsClusterCapacityProvidersDefaultCapacityProviderStrategy,
)
from cdktf_cdktf_provider_aws.ecs_service import (
    EcsService,
    EcsServiceCapacityProviderStrategy,
    EcsServiceDeploymentCircuitBreaker,
    EcsServiceLoadBalancer,
    EcsServiceNetworkConfiguration,
)
from cdktf_cdktf_provider_aws.ecs_task_definition import (
    EcsTaskDefinition,
    EcsTaskDefinitionRuntimePlatform,
    EcsTaskDefinitionVolume,
)
from cdktf_cdktf_provider_aws.iam_role import IamRole
from cdktf_cdktf_provider_aws.iam_role_policy import IamRolePolicy
from constructs import Construct

from lib.container import (CONTAINER_NAME, ContainerSpec, container_definition,
                           execution_statements)
from lib.naming import Names
from lib.policies import document, service_trust, statement

# Covers image start plus the load balancer's two healthy checks, so ECS does not replace a
# task that the load balancer has not yet had the chance to mark healthy.
HEALTH_CHECK_GRACE_SECONDS = 60
# Target tracking: CPU and memory averages (%) and requests per target per minute.
CPU_TARGET_PERCENT = 60
MEMORY_TARGET_PERCENT = 75
REQUESTS_PER_TARGET = 1000
SCALE_OUT_COOLDOWN_SECONDS = 60  # add tasks quickly under load
SCALE_IN_COOLDOWN_SECONDS = 300  # remove them slowly, so the service does not flap
ECS_EXEC_ACTIONS = ("ssmmessages:CreateControlChannel", "ssmmessages:CreateDataChannel",
                    "ssmmessages:OpenControlChannel", "ssmmessages:OpenDataChannel")


@dataclass(frozen=True, kw_only=True)
class Capacity:  # pylint: disable=too-many-instance-attributes
    """How big the tasks are, how many run, and on which capacity."""

    task_cpu: int  # CPU units
    task_memory: int  # MiB
    cpu_architecture: str  # X86_64 or ARM64
    desired_count: int
    min_capacity: int
    max_capacity: int
    fargate_base: int  # tasks always on FARGATE (on-demand)
    fargate_spot_weight: int  # 0: no Spot at all
    fargate_weight: int = 1  # FARGATE's weight beyond the base; 0 (and no base): Spot only


@dataclass(frozen=True, kw_only=True)
class ServiceProps:  # pylint: disable=too-many-instance-attributes
    """Inputs of the service."""

    names: Names
    account_id: str  # token of aws_caller_identity
    region: str
    subnet_ids: Sequence[str]
    security_group_id: str
    assign_public_ip: bool
    logs_key_arn: str
    log_retention_days: int
    container: ContainerSpec
    capacity: Capacity
    container_insights: bool  # Container Insights on the cluster (custom metrics, its log group)
    enable_execute_command: bool
    target_group_arn: str
    # What the application may do with the task role's credentials (e.g. connect to the
    # database as its own user). Default: nothing.
    task_statements: Sequence[Mapping[str, Any]] = field(default_factory=tuple)
    # The ALBRequestCountPerTarget label: <load balancer arn suffix>/<target group arn suffix>
    request_label: str
    # What the service needs before it can start (the listener rule that attaches the target
    # group to the load balancer).
    depends_on: Sequence[TerraformResource] = field(default_factory=tuple)


def capacity_strategy(capacity: Capacity) -> list[tuple[str, int, int]]:
    """(capacity provider, base, weight): the base on FARGATE, the rest split by weight
    with FARGATE_SPOT; FARGATE is left out when it has neither base nor weight (Spot only).
    Spot only runs X86_64 tasks, so ARM64 runs on FARGATE alone, at weight 1 at least: "at
    least one of the capacity providers must have a weight value greater than zero"
    (CapacityProviderStrategyItem, ECS API reference)."""
    if capacity.fargate_spot_weight == 0 or capacity.cpu_architecture != "X86_64":
        return [("FARGATE", capacity.fargate_base, max(1, capacity.fargate_weight))]
    strategy = [("FARGATE", capacity.fargate_base, capacity.fargate_weight)] \
        if capacity.fargate_base or capacity.fargate_weight else []
    return [*strategy, ("FARGATE_SPOT", 0, capacity.fargate_spot_weight)]


class Service(Construct):  # pylint: disable=too-many-instance-attributes
    """The ECS cluster, task definition, service, IAM and auto scaling of the application."""

    def __init__(self, scope: Construct, construct_id: str, *, props: ServiceProps) -> None:
        super().__init__(scope, construct_id)
        self._props = props
        # Container Insights writes its log group: created before the first write, deleted
        # after it.
        insights_logs = CloudwatchLogGroup(
            self, "insights-logs", name=props.names.container_insights_log_group,
            retention_in_days=props.log_retention_days, kms_key_id=props.logs_key_arn) \
            if props.container_insights else None
        cluster = EcsCluster(
            self, "cluster", name=props.names.ecs_cluster,
            setting=[EcsClusterSetting(
                name="containerInsights",
                value="enabled" if props.container_insights else "disabled")],
            depends_on=[insights_logs] if insights_logs else None)
        self.cluster_name: str = cluster.name
        self.cluster_arn: str = cluster.arn
        strategy = capacity_strategy(props.capacity)
        providers = EcsClusterCapacityProviders(
            self, "capacity-providers", cluster_name=cluster.name,
            capacity_providers=["FARGATE", "FARGATE_SPOT"],
            default_capacity_provider_strategy=[
                EcsClusterCapacityProvidersDefaultCapacityProviderStrategy(
                    capacity_provider=name, base=base, weight=weight)
                for name, base, weight in strategy])
        log_group = CloudwatchLogGroup(
            self, "task-logs", name=props.names.task_log_group,
            retention_in_days=props.log_retention_days, kms_key_id=props.logs_key_arn)
        self.log_group_name: str = log_group.name
        self.log_group_arn: str = log_group.arn
        execution_role, task_role = self._roles(log_group.arn)
        self.execution_role_arn: str = execution_role.arn
        self.task_role_arn: str = task_role.arn
        task = self._task_definition(log_group.name, execution_role.arn, task_role.arn)
        self.task_definition_arn: str = task.arn
        service = EcsService(
            self, "service", name=props.names.ecs_service, cluster=cluster.arn,
            task_definition=task.arn,
            desired_count=props.capacity.desired_count,
            capacity_provider_strategy=[
                EcsServiceCapacityProviderStrategy(capacity_provider=name, base=base, weight=weight)
                for name, base, weight in strategy],
            # A changed capacity provider strategy (CPU_ARCHITECTURE: ARM64 has no Spot) is
            # an UpdateService with a new deployment; without this the provider replaces the
            # service instead (its docs: in place "only if force_new_deployment = true").
            force_new_deployment=True,
            deployment_circuit_breaker=EcsServiceDeploymentCircuitBreaker(enable=True,
                                                                          rollback=True),
            # Start new tasks before stopping old ones: never below the desired count.
            deployment_minimum_healthy_percent=100,
            deployment_maximum_percent=200,
            health_check_grace_period_seconds=HEALTH_CHECK_GRACE_SECONDS,
            load_balancer=[EcsServiceLoadBalancer(
                target_group_arn=props.target_group_arn, container_name=CONTAINER_NAME,
                container_port=props.container.port)],
            network_configuration=EcsServiceNetworkConfiguration(
                subnets=list(props.subnet_ids), security_groups=[props.security_group_id],
                assign_public_ip=props.assign_public_ip),
            enable_execute_command=props.enable_execute_command,
            enable_ecs_managed_tags=True,
            propagate_tags="SERVICE",
            # Auto scaling owns the running count once the service exists.
            lifecycle=TerraformResourceLifecycle(ignore_changes=["desired_count"]),
            # The target group must be attached to the load balancer (by the rule) and the
            # capacity providers to the cluster before the service can use them.
            depends_on=[*props.depends_on, providers],
        )
        self.service_name: str = service.name
        self._service = service
        self._auto_scaling()

    def wait_for(self, resource: TerraformResource) -> None:
        """Make the service (not its task definition) wait for ``resource``: the release
        gate runs between a new revision and the service's switch to it."""
        # An override of depends_on adds to the list the service was created with.
        self._service.add_override("depends_on", [
            f"{resource.terraform_resource_type}.{resource.friendly_unique_id}"])

    def _task_definition(self, log_group_name: str, execution_role_arn: str,
                         task_role_arn: str) -> EcsTaskDefinition:
        """The Fargate task definition with its one container."""
        props = self._props
        spec = props.container
        container = container_definition(
            spec, log_group_name=log_group_name, region=props.region,
            stream_prefix=CONTAINER_NAME, exec_enabled=props.enable_execute_command)
        capacity = props.capacity
        return EcsTaskDefinition(
            self, "task", family=props.names.task_family, network_mode="awsvpc",
            requires_compatibilities=["FARGATE"], cpu=str(capacity.task_cpu),
            memory=str(capacity.task_memory), execution_role_arn=execution_role_arn,
            task_role_arn=task_role_arn,
            runtime_platform=EcsTaskDefinitionRuntimePlatform(
                operating_system_family="LINUX", cpu_architecture=capacity.cpu_architecture),
            volume=[EcsTaskDefinitionVolume(name=volume) for volume in spec.writable_paths]
            or None,
            container_definitions=json.dumps([container]))

    def _roles(self, log_group_arn: str) -> tuple[IamRole, IamRole]:
        """Execution role (pull, logs, secrets) and task role (ECS Exec only)."""
        props = self._props
        spec = props.container
        trust = service_trust("ecs-tasks.amazonaws.com", props.account_id,
                              f"arn:aws:ecs:{props.region}:{props.account_id}:*")
        execution = IamRole(self, "execution-role", name=props.names.execution_role,
                            description=f"ECS agent of {props.names.prefix}: pull, logs, secrets",
                            assume_role_policy=trust)
        statements = execution_statements(spec, log_group_arn, props.region)
        IamRolePolicy(self, "execution-policy", role=execution.id, name="pull-logs-secrets",
                      policy=document(*statements))
        task = IamRole(self, "task-role", name=props.names.task_role,
                       description=f"Application in the tasks of {props.names.prefix}",
                       assume_role_policy=trust)
        if props.enable_execute_command:
            # ssmmessages has no resource types: "*" is the only possible value.
            IamRolePolicy(self, "task-exec-policy", role=task.id, name="ecs-exec",
                          policy=document(statement(sid="EcsExecChannels",
                                                    actions=ECS_EXEC_ACTIONS, resources="*")))
        if props.task_statements:
            IamRolePolicy(self, "task-app-policy", role=task.id, name="application",
                          policy=document(*props.task_statements))
        return execution, task

    def _auto_scaling(self) -> None:
        """The scalable target and one target-tracking policy per signal."""
        capacity = self._props.capacity
        target = AppautoscalingTarget(
            self, "scaling-target", service_namespace="ecs",
            scalable_dimension="ecs:service:DesiredCount",
            resource_id=f"service/{self.cluster_name}/{self.service_name}",
            min_capacity=capacity.min_capacity, max_capacity=capacity.max_capacity)
        signals = (
            ("cpu", "ECSServiceAverageCPUUtilization", CPU_TARGET_PERCENT, None),
            ("memory", "ECSServiceAverageMemoryUtilization", MEMORY_TARGET_PERCENT, None),
            ("requests", "ALBRequestCountPerTarget", REQUESTS_PER_TARGET,
             self._props.request_label),
        )
        for key, metric, value, label in signals:
            AppautoscalingPolicy(
                self, f"scale-on-{key}", name=f"{key}-target-tracking",
                policy_type="TargetTrackingScaling", service_namespace=target.service_namespace,
                scalable_dimension=target.scalable_dimension, resource_id=target.resource_id,
                target_tracking_scaling_policy_configuration=(
                    AppautoscalingPolicyTargetTrackingScalingPolicyConfiguration(
                        target_value=value,
                        scale_in_cooldown=SCALE_IN_COOLDOWN_SECONDS,
                        scale_out_cooldown=SCALE_OUT_COOLDOWN_SECONDS,
                        predefined_metric_specification=(
                            PredefinedMetric(predefined_metric_type=metric,
                                             resource_label=label)))))
