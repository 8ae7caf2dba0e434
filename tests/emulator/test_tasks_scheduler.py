"""Scheduled jobs on an emulator with a runtime: ``POST /_tap/runtime/schedules/fire``
performs an EventBridge Scheduler schedule's ECS target once (its task runs to exit 0 and
logs); a DISABLED schedule is refused and runs nothing; a target that cannot be invoked is
answered as failed and lands in the schedule's dead-letter queue with Scheduler's
attributes."""
# pylint: disable=redefined-outer-name
from __future__ import annotations

from typing import Any, Iterator

import pytest

from tests.emulator.runtime_support import ACCOUNT, REGION, Cloud, call, runtime_emulator


@pytest.fixture(scope="module")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cloud]:
    with runtime_emulator(tmp_path_factory.mktemp("tasks-scheduler")) as url:
        yield Cloud(url)


def schedule(cloud: Cloud, name: str, definition: str, *, state: str = "ENABLED",
             dead_letters: str | None = None, pass_role: bool = True) -> str:
    target: dict[str, Any] = {
        "Arn": f"arn:aws:ecs:{REGION}:{ACCOUNT}:cluster/{cloud.cluster}",
        # The stack's schedule role: run its job's task definition, pass its two roles to ECS.
        "RoleArn": cloud.role(f"job-{name}", [
            {"Effect": "Allow", "Action": "ecs:RunTask", "Resource": definition},
            *([{"Effect": "Allow", "Action": "iam:PassRole",
                "Resource": [cloud.execution_role, cloud.task_role],
                "Condition": {"StringEquals": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}}}]
              if pass_role else [])]),
        "EcsParameters": {
            "TaskDefinitionArn": definition, "TaskCount": 1, "LaunchType": "FARGATE",
            "NetworkConfiguration": {"awsvpcConfiguration": {
                "Subnets": [cloud.subnet], "SecurityGroups": [cloud.security_group],
                "AssignPublicIp": "DISABLED"}}},
        "RetryPolicy": {"MaximumRetryAttempts": 3, "MaximumEventAgeInSeconds": 3600}}
    if dead_letters:
        target["DeadLetterConfig"] = {"Arn": dead_letters}
    return str(cloud.client("scheduler").create_schedule(
        Name=name, ScheduleExpression="cron(0 3 * * ? *)", FlexibleTimeWindow={"Mode": "OFF"},
        State=state, Target=target)["ScheduleArn"])


def test_a_fired_schedule_runs_its_task_to_exit_0(cloud: Cloud) -> None:
    definition = cloud.task_definition("job-nightly", cloud.echo_image(), environment={
        "EXIT_CODE": "0", "ECHO_LINES": "nightly: 3 rows purged"}, stream_prefix="job-nightly")
    arn = schedule(cloud, "tap-test-nightly", definition)
    status, answer = call(f"{cloud.url}/_tap/runtime/schedules/fire", "POST",
                          {"name": "tap-test-nightly", "group": "default"})
    assert status == 200, answer
    assert (answer["schedule"], answer["invocation"], len(answer["taskArns"])) == (
        arn, "SUCCEEDED", 1)
    task_arn = answer["taskArns"][0]
    task = cloud.stopped(task_arn)
    assert (task["containers"][0]["exitCode"], task["taskDefinitionArn"]) == (0, definition)
    task_id = task_arn.rsplit("/", 1)[1]
    assert cloud.log_lines(f"job-nightly/web/{task_id}") == ["nightly: 3 rows purged"]


def test_a_disabled_schedule_is_refused_and_runs_nothing(cloud: Cloud) -> None:
    definition = cloud.task_definition("job-off", cloud.echo_image(),
                                       environment={"EXIT_CODE": "0"})
    schedule(cloud, "tap-test-off", definition, state="DISABLED")
    before = set(cloud.tasks())
    assert call(f"{cloud.url}/_tap/runtime/schedules/fire", "POST", {"name": "tap-test-off"}) == (
        409, {"error": "schedule default/tap-test-off is DISABLED: EventBridge Scheduler does "
                       "not invoke the target of a disabled schedule"})
    assert not cloud.client("ecs").list_tasks(cluster=cloud.cluster, family="job-off")["taskArns"]
    assert set(cloud.tasks()) == before


def test_a_target_that_fails_lands_in_the_dead_letter_queue(cloud: Cloud) -> None:
    sqs = cloud.client("sqs")
    queue = sqs.create_queue(QueueName="tap-test-job-dead-letters")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])[
        "Attributes"]["QueueArn"]
    missing = f"arn:aws:ecs:{REGION}:{ACCOUNT}:task-definition/job-gone:7"
    arn = schedule(cloud, "tap-test-gone", missing, dead_letters=queue_arn)
    status, answer = call(f"{cloud.url}/_tap/runtime/schedules/fire", "POST",
                          {"name": "tap-test-gone"})
    assert status == 200, answer
    assert (answer["invocation"], answer["errorCode"], answer["errorMessage"],
            answer["retryAttempts"]) == (
        "FAILED", "InvalidParameterException", "TaskDefinition not found.", 0)
    messages = sqs.receive_message(QueueUrl=queue, MessageAttributeNames=["All"])["Messages"]
    assert len(messages) == 1 and messages[0]["MessageId"] == answer["deadLetterMessageId"]
    attributes = {name: value["StringValue"]
                  for name, value in messages[0]["MessageAttributes"].items()}
    assert attributes == {"ERROR_CODE": "InvalidParameterException",
                          "ERROR_MESSAGE": "TaskDefinition not found.", "RETRY_ATTEMPTS": "0",
                          "SCHEDULE_ARN": arn,
                          "TARGET_ARN": f"arn:aws:ecs:{REGION}:{ACCOUNT}:cluster/{cloud.cluster}"}


def test_a_role_that_may_not_pass_the_task_roles_runs_nothing(cloud: Cloud) -> None:
    """The schedule's role is asked of emulator/runtime/iam.py, not assumed allowed."""
    definition = cloud.task_definition("job-nopass", cloud.echo_image(),
                                       environment={"EXIT_CODE": "0"})
    schedule(cloud, "tap-test-nopass", definition, pass_role=False)
    status, answer = call(f"{cloud.url}/_tap/runtime/schedules/fire", "POST",
                          {"name": "tap-test-nopass"})
    assert status == 200, answer
    assert (answer["invocation"], answer["errorCode"]) == ("FAILED", "AccessDeniedException")
    assert "is not authorized to perform: iam:PassRole" in answer["errorMessage"]
    assert not cloud.client("ecs").list_tasks(cluster=cloud.cluster, family="job-nopass")[
        "taskArns"]
