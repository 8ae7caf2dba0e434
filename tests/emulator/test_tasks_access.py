"""Where the task runner asks IAM (``emulator.runtime.access.authorized``), in process (the
moto backends of the extension tests' server, ``client``): the execution role reading a
secret or a parameter, the schedule's role running the task (``ecs:RunTask`` in the cluster)
and passing its roles (to ECS tasks only). A refusal becomes the error AWS gives; the task
never starts, the job's invocation fails."""
# pylint: disable=redefined-outer-name
from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any, Callable

import pytest

from emulator.runtime import scheduler, task_secrets
from emulator.runtime.scheduler import InvocationError, run_target
from emulator.runtime.task_secrets import SecretError, resolve

REGION, ACCOUNT = "us-east-1", "123456789012"
EXECUTION = f"arn:aws:iam::{ACCOUNT}:role/execution"
TASK = f"arn:aws:iam::{ACCOUNT}:role/task"
JOB = f"arn:aws:iam::{ACCOUNT}:role/job"


@dataclass
class Gate:
    """``authorized`` for the tests: what it was asked, and what it allows."""

    allowed: set[tuple[str, str]] = field(default_factory=set)  # (principal, action)
    asked: list[tuple[Any, ...]] = field(default_factory=list)

    def authorized(self, principal: str, action: str, resource: str,
                   context: dict[str, Any] | None = None) -> tuple[bool, str]:
        self.asked.append((principal, action, resource, context))
        allowed = (principal, action) in self.allowed
        return allowed, "allowed" if allowed else "no identity-based policy allows the action"


@pytest.fixture
def gate(monkeypatch: pytest.MonkeyPatch) -> Gate:
    """The runtime's IAM questions answered by a Gate."""
    answers = Gate()
    monkeypatch.setattr(task_secrets, "authorized", answers.authorized)
    monkeypatch.setattr(scheduler, "authorized", answers.authorized)
    return answers


def test_the_execution_role_must_be_allowed_to_read_each_secret(
        gate: Gate, client: Callable[..., Any]) -> None:
    name = f"/app/{uuid.uuid4().hex}"
    arn = client("secretsmanager").create_secret(Name=f"app{name}", SecretString="t0ken")["ARN"]
    client("ssm").put_parameter(Name=name, Value="v", Type="String")
    with pytest.raises(SecretError) as refused:
        resolve([{"name": "TOKEN", "valueFrom": arn}], execution_role=EXECUTION,
                account=ACCOUNT, region=REGION)
    assert "api error AccessDeniedException: User: " \
           f"{EXECUTION} is not authorized to perform: secretsmanager:GetSecretValue on " \
           f"resource: {arn} (no identity-based policy allows the action)" in str(refused.value)
    gate.allowed.update({(EXECUTION, "secretsmanager:GetSecretValue"), (EXECUTION, "ssm:GetParameters")})
    assert resolve([{"name": "TOKEN", "valueFrom": arn}, {"name": "P", "valueFrom": name}],
                   execution_role=EXECUTION, account=ACCOUNT, region=REGION) == {
        "TOKEN": "t0ken", "P": "v"}
    assert gate.asked[-2:] == [
        (EXECUTION, "secretsmanager:GetSecretValue", arn, None),
        (EXECUTION, "ssm:GetParameters", f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter{name}", None)]


def test_a_schedule_s_role_must_run_the_task_and_pass_its_roles(
        gate: Gate, client: Callable[..., Any]) -> None:
    ecs, ec2 = client("ecs"), client("ec2")
    cluster = ecs.create_cluster(clusterName=f"jobs-{uuid.uuid4().hex[:8]}")["cluster"][
        "clusterArn"]
    vpc = ec2.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
    ec2.modify_vpc_attribute(VpcId=vpc, EnableDnsHostnames={"Value": True})
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.9.1.0/24")["Subnet"]["SubnetId"]
    definition = ecs.register_task_definition(
        family="job", networkMode="awsvpc", requiresCompatibilities=["FARGATE"], cpu="256",
        memory="512", executionRoleArn=EXECUTION, taskRoleArn=TASK,
        containerDefinitions=[{"name": "web", "image": "x", "memory": 512}])[
        "taskDefinition"]["taskDefinitionArn"]
    target = {"Arn": cluster, "RoleArn": JOB, "EcsParameters": {
        "TaskDefinitionArn": definition, "TaskCount": 1, "LaunchType": "FARGATE",
        "NetworkConfiguration": {"awsvpcConfiguration": {"Subnets": [subnet]}}}}
    with pytest.raises(InvocationError) as refused:
        run_target(target)
    assert (refused.value.code, refused.value.message) == (
        "AccessDeniedException", f"User: {JOB} is not authorized to perform: ecs:RunTask on "
        f"resource: {definition} (no identity-based policy allows the action)")
    gate.allowed.add((JOB, "ecs:RunTask"))
    with pytest.raises(InvocationError) as refused:
        run_target(target)
    assert refused.value.message.startswith(f"User: {JOB} is not authorized to perform: "
                                            f"iam:PassRole on resource: {EXECUTION}")
    gate.allowed.add((JOB, "iam:PassRole"))
    assert len(run_target(target)) == 1
    assert gate.asked[-3:] == [
        (JOB, "ecs:RunTask", definition, {"ecs:cluster": cluster}),
        (JOB, "iam:PassRole", EXECUTION, {"iam:PassedToService": "ecs-tasks.amazonaws.com"}),
        (JOB, "iam:PassRole", TASK, {"iam:PassedToService": "ecs-tasks.amazonaws.com"})]
