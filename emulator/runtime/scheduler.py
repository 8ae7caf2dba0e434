"""EventBridge Scheduler's ECS targets, fired on request: ``POST /_tap/runtime/schedules/fire``.

The emulator keeps no clock of schedules; the harness fires one when it wants its job run::

    {"name": "tap-dev-nightly", "group": "default", "region": "us-east-1"}   (group, region
                                                                              optional)

and the schedule's target is performed once, as EventBridge Scheduler would ("Using templated
targets: Amazon ECS RunTask", "Set up the execution role", "Configuring a dead-letter queue",
EventBridge Scheduler user guide,
https://docs.aws.amazon.com/scheduler/latest/UserGuide/configuring-schedule-dlq.html):

- a DISABLED schedule is not invoked: 409, and nothing runs;
- the schedule's role must be allowed ``ecs:RunTask`` on the task definition (context
  ``ecs:cluster``) and ``iam:PassRole`` on the task's execution and task roles (context
  ``iam:PassedToService`` = ``ecs-tasks.amazonaws.com``) (``emulator.runtime.access``);
- RunTask with the target's ``EcsParameters`` (task definition, count, launch type or capacity
  provider strategy, network configuration, group, tags); the answer carries the task ARNs;
- a failure is answered (``invocation`` FAILED, the error's code and message) and, with a
  dead-letter queue, delivered there as Scheduler does once it gives up: at once for an error
  no retry can fix (permissions, a missing cluster or task definition: retried 0 times),
  otherwise after ``MaximumRetryAttempts`` further attempts. The message's attributes are
  Scheduler's (``ERROR_CODE``, ``ERROR_MESSAGE``, ``EXHAUSTED_RETRY_CONDITION``,
  ``RETRY_ATTEMPTS``, ``SCHEDULE_ARN``, ``TARGET_ARN``); its body is the target's ``Input``
  (``{}`` without one).
"""
from __future__ import annotations

from typing import Any

from moto.ecs.models import ecs_backends
from moto.scheduler.models import scheduler_backends
from moto.sqs.models import sqs_backends

from emulator.moto_ext.ecs_runtime import LOCK
from emulator.runtime.access import authorized

ECS_TASKS = "ecs-tasks.amazonaws.com"
# Errors no retry can fix: Scheduler sends them to the dead-letter queue at once.
FINAL_ERRORS = ("AccessDeniedException", "ClusterNotFoundException",
                "InvalidParameterException", "ClientException")


class InvocationError(Exception):
    """The target could not be invoked: an AWS error code and message."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code, self.message = code, message


def _find(name: str, group: str, region: str | None) -> Any:
    for regions in list(scheduler_backends.values()):
        for backend_region, backend in list(regions.items()):
            if region and backend_region != region:
                continue
            try:
                return backend.get_schedule(group, name)
            except Exception:  # pylint: disable=broad-exception-caught
                continue  # moto's ScheduleNotFound / ResourceNotFound: another region
    return None


def _network(configuration: dict[str, Any] | None) -> dict[str, Any] | None:
    """Scheduler's NetworkConfiguration in RunTask's shape."""
    if not configuration:
        return None
    vpc = configuration.get("awsvpcConfiguration") or configuration.get("AwsvpcConfiguration")
    return {"awsvpcConfiguration": {"subnets": vpc.get("Subnets", []),
                                    "securityGroups": vpc.get("SecurityGroups", []),
                                    "assignPublicIp": vpc.get("AssignPublicIp", "DISABLED")}}


def _allow(role: str, action: str, resource: str, context: dict[str, Any]) -> None:
    allowed, reason = authorized(role, action, resource, context)
    if not allowed:
        raise InvocationError("AccessDeniedException",
                              f"User: {role} is not authorized to perform: {action} on "
                              f"resource: {resource} ({reason})")


def run_target(target: dict[str, Any]) -> list[str]:
    """RunTask of an ECS target with the schedule's role; the task ARNs."""
    cluster_arn, role = target["Arn"], target.get("RoleArn", "")
    parameters = target.get("EcsParameters") or {}
    parts = cluster_arn.split(":")
    if len(parts) < 6 or parts[2] != "ecs" or not parts[5].startswith("cluster/"):
        raise InvocationError("InvalidParameterException",
                              f"{cluster_arn} is not an ECS cluster ARN")
    backend = ecs_backends[parts[4]][parts[3]]
    definition_arn = parameters.get("TaskDefinitionArn", "")
    _allow(role, "ecs:RunTask", definition_arn, {"ecs:cluster": cluster_arn})
    try:
        definition = backend.describe_task_definition(definition_arn)
    except Exception as error:  # pylint: disable=broad-exception-caught
        # What ECS's RunTask answers for a task definition it does not have.
        raise InvocationError("InvalidParameterException", "TaskDefinition not found.") \
            from error
    for passed in (getattr(definition, "execution_role_arn", None),
                   getattr(definition, "task_role_arn", None)):
        if passed:
            _allow(role, "iam:PassRole", passed, {"iam:PassedToService": ECS_TASKS})
    strategy = [{"capacityProvider": item["CapacityProvider"], "weight": item.get("Weight", 0),
                 "base": item.get("Base", 0)}
                for item in parameters.get("CapacityProviderStrategy") or []]
    with LOCK:
        try:
            tasks = backend.run_task(
                cluster_arn, definition_arn, int(parameters.get("TaskCount") or 1), None, "",
                [{"key": tag["Key"], "value": tag["Value"]}
                 for tag in parameters.get("Tags") or []] or None,
                None if strategy else parameters.get("LaunchType") or "FARGATE",
                _network(parameters.get("NetworkConfiguration")),
                parameters.get("Group"), parameters.get("PlatformVersion"), strategy or None)
        except Exception as error:  # pylint: disable=broad-exception-caught
            code = getattr(error, "code", None) or getattr(error, "error_type", None)
            raise InvocationError(str(code or type(error).__name__),
                                  getattr(error, "message", str(error))) from error
    return [task.task_arn for task in tasks]


def dead_letter(schedule: Any, error: InvocationError, retries: int, condition: str | None
                ) -> str | None:
    """Deliver the failed invocation to the schedule's dead-letter queue; its message id."""
    queue_arn = (schedule.target.get("DeadLetterConfig") or {}).get("Arn")
    if not queue_arn:
        return None
    parts = queue_arn.split(":")
    attributes = {"ERROR_CODE": error.code, "ERROR_MESSAGE": error.message,
                  "RETRY_ATTEMPTS": str(retries), "SCHEDULE_ARN": schedule.arn,
                  "TARGET_ARN": schedule.target["Arn"]}
    if condition:
        attributes["EXHAUSTED_RETRY_CONDITION"] = condition
    message = sqs_backends[parts[4]][parts[3]].send_message(
        parts[5], schedule.target.get("Input") or "{}",
        message_attributes={name: {"DataType": "String", "StringValue": value}
                            for name, value in attributes.items()})
    return str(message.id)


class Scheduler:
    """``POST schedules/fire``."""

    @staticmethod
    def fire(body: Any, _query: dict[str, str]) -> tuple[int, Any]:
        if not isinstance(body, dict) or not body.get("name"):
            raise ValueError('a JSON object {"name": ..., "group": "default"}')
        name, group = str(body["name"]), str(body.get("group") or "default")
        schedule = _find(name, group, body.get("region"))
        if schedule is None:
            return 404, {"error": f"no schedule {group}/{name}"}
        if schedule.state != "ENABLED":
            return 409, {"error": f"schedule {group}/{name} is {schedule.state}: EventBridge "
                                  "Scheduler does not invoke the target of a disabled schedule"}
        retries = int((schedule.target.get("RetryPolicy") or {}).get("MaximumRetryAttempts", 185))
        attempt = 0
        while True:
            try:
                return 200, {"schedule": schedule.arn, "invocation": "SUCCEEDED",
                             "taskArns": run_target(schedule.target)}
            except InvocationError as error:
                final = error.code in FINAL_ERRORS
                if not final and attempt < retries:
                    attempt += 1
                    continue
                message_id = dead_letter(schedule, error, attempt,
                                         None if final else "MaximumRetryAttempts")
                return 200, {"schedule": schedule.arn, "invocation": "FAILED",
                             "errorCode": error.code, "errorMessage": error.message,
                             "retryAttempts": attempt, "deadLetterMessageId": message_id}
