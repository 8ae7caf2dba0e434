"""Scheduled jobs: the manifest's ``[[jobs]]`` as EventBridge Scheduler schedules of ECS tasks.

Creates, per job:
- a task definition (family ``<prefix>-job-<name>``): the service's image, environment,
  secrets and roles (a job is the application, on a timer), with the job's command;
- a schedule (``<prefix>-<name>``, the manifest's expression and time zone, no flexible
  window) whose target is ECS ``RunTask`` of exactly that revision on the service's network,
  with retries (``MAXIMUM_RETRY_ATTEMPTS`` within ``MAXIMUM_EVENT_AGE_SECONDS``) and, after
  them, the jobs' dead-letter queue; disabled where the profile says (ephemeral environments:
  a pull request's environment runs no nightly work);
- the schedule's role (``<prefix>-job-<name>``): ``ecs:RunTask`` on that task family only
  (in this cluster), ``iam:PassRole`` on exactly the task's two roles (to ECS tasks only), and
  ``sqs:SendMessage`` to the dead-letter queue ("Set up the execution role", EventBridge
  Scheduler user guide; "Configuring a dead-letter queue").

And once: the dead-letter queue (SSE-SQS, 14 days): an invocation that fails after its
retries (RunTask refused: capacity, permissions, a missing revision) lands there, and the
monitoring tier alarms on it, so a job that never runs is noticed.

Exposes ``dead_letter_queue_name`` and ``schedule_names`` (job -> schedule name).
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Sequence

from cdktf_cdktf_provider_aws.ecs_task_definition import (
    EcsTaskDefinition,
    EcsTaskDefinitionRuntimePlatform,
    EcsTaskDefinitionVolume,
)
from cdktf_cdktf_provider_aws.iam_role import IamRole
from cdktf_cdktf_provider_aws.iam_role_policy import IamRolePolicy
from cdktf_cdktf_provider_aws.scheduler_schedule import (
    SchedulerSchedule,
    SchedulerScheduleFlexibleTimeWindow,
    SchedulerScheduleTarget,
    SchedulerScheduleTargetDeadLetterConfig,
    SchedulerScheduleTargetEcsParameters,
    SchedulerScheduleTargetEcsParametersNetworkConfiguration,
    SchedulerScheduleTargetRetryPolicy,
)
from cdktf_cdktf_provider_aws.sqs_queue import SqsQueue
from constructs import Construct

from lib.container import ContainerSpec, container_definition
from lib.manifest import Job
from lib.naming import Names
from lib.policies import document, service_trust, statement

MAXIMUM_RETRY_ATTEMPTS = 3
MAXIMUM_EVENT_AGE_SECONDS = 3600  # a job more than an hour late is a dead letter
DEAD_LETTER_RETENTION_SECONDS = 14 * 24 * 3600  # SQS's maximum
STREAM_PREFIX = "job"


@dataclass(frozen=True, kw_only=True)
class JobsProps:  # pylint: disable=too-many-instance-attributes
    """The jobs and what they run on."""

    names: Names
    account_id: str
    region: str
    jobs: Sequence[Job]
    container: ContainerSpec  # the service's
    cluster_arn: str
    subnet_ids: Sequence[str]
    security_group_id: str
    assign_public_ip: bool
    log_group_name: str
    execution_role_arn: str  # the service's: same image, logs and secrets
    task_role_arn: str  # the service's: the job is the application
    task_cpu: int
    task_memory: int
    cpu_architecture: str
    enabled: bool  # the profile's: schedules ENABLED or DISABLED


class Jobs(Construct):
    """The schedules, their task definitions and roles, and the dead-letter queue."""

    def __init__(self, scope: Construct, construct_id: str, *, props: JobsProps) -> None:
        super().__init__(scope, construct_id)
        queue = SqsQueue(self, "dead-letters", name=props.names.jobs_dead_letter_queue,
                         sqs_managed_sse_enabled=True,
                         message_retention_seconds=DEAD_LETTER_RETENTION_SECONDS)
        self.dead_letter_queue_name: str = queue.name
        self.schedule_names: dict[str, str] = {}
        for job in props.jobs:
            self.schedule_names[job.name] = self._job(props, job, queue.arn)

    def _job(self, props: JobsProps, job: Job, queue_arn: str) -> str:
        names = props.names.jobs[job.name]
        spec = props.container
        container = container_definition(
            spec, log_group_name=props.log_group_name, region=props.region,
            stream_prefix=f"{STREAM_PREFIX}-{job.name}", exec_enabled=False,
            command=job.command)
        task = EcsTaskDefinition(
            self, f"{job.name}-task", family=names.family, network_mode="awsvpc",
            requires_compatibilities=["FARGATE"], cpu=str(props.task_cpu),
            memory=str(props.task_memory), execution_role_arn=props.execution_role_arn,
            task_role_arn=props.task_role_arn,
            runtime_platform=EcsTaskDefinitionRuntimePlatform(
                operating_system_family="LINUX", cpu_architecture=props.cpu_architecture),
            volume=[EcsTaskDefinitionVolume(name=volume) for volume in spec.writable_paths]
            or None,
            container_definitions=json.dumps([container]))
        role = IamRole(
            self, f"{job.name}-role", name=names.role,
            description=f"EventBridge Scheduler: job {job.name} of {props.names.prefix}",
            assume_role_policy=service_trust(
                "scheduler.amazonaws.com", props.account_id,
                f"arn:aws:scheduler:{props.region}:{props.account_id}:schedule/default/"
                f"{names.schedule}"))
        family = f"arn:aws:ecs:{props.region}:{props.account_id}:task-definition/{names.family}"
        IamRolePolicy(self, f"{job.name}-policy", role=role.id, name="run-job", policy=document(
            statement(sid="RunTheJobsTask", actions=["ecs:RunTask"],
                      resources=[f"{family}:*"],
                      condition={"ArnEquals": {"ecs:cluster": props.cluster_arn}}),
            statement(sid="PassItsRoles", actions=["iam:PassRole"],
                      resources=[props.execution_role_arn, props.task_role_arn],
                      condition={"StringLike": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}}),
            statement(sid="DeadLetters", actions=["sqs:SendMessage"], resources=[queue_arn])))
        schedule = SchedulerSchedule(
            self, job.name, name=names.schedule,
            description=f"Job {job.name} of {props.names.prefix}: {' '.join(job.command)}",
            schedule_expression=job.schedule, schedule_expression_timezone=job.timezone,
            state="ENABLED" if props.enabled else "DISABLED",
            flexible_time_window=SchedulerScheduleFlexibleTimeWindow(mode="OFF"),
            target=SchedulerScheduleTarget(
                arn=props.cluster_arn, role_arn=role.arn,
                ecs_parameters=SchedulerScheduleTargetEcsParameters(
                    task_definition_arn=task.arn, task_count=1, launch_type="FARGATE",
                    network_configuration=SchedulerScheduleTargetEcsParametersNetworkConfiguration(
                        subnets=list(props.subnet_ids), security_groups=[props.security_group_id],
                        assign_public_ip=props.assign_public_ip)),
                retry_policy=SchedulerScheduleTargetRetryPolicy(
                    maximum_retry_attempts=MAXIMUM_RETRY_ATTEMPTS,
                    maximum_event_age_in_seconds=MAXIMUM_EVENT_AGE_SECONDS),
                dead_letter_config=SchedulerScheduleTargetDeadLetterConfig(arn=queue_arn)))
        return schedule.name
