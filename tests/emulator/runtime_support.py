"""What the task runner's tests share: an emulator with a runtime, the echo image, a network,
roles and task definitions made with boto3, waiting, and the processes left behind.

``runtime_emulator(directory)`` starts ``python -m emulator --runtime-dir`` (the harness's
``Emulator``) and, after it stopped, fails if any process still carries the runtime directory
in its environment (every task process has the shim under it in ``LD_PRELOAD``). ``Cloud`` is
one test module's world in it: ``cloud.client("ecs")``, ``cloud.echo_image()`` (registered
with ``POST /_tap/runtime/images``: ``/srv`` is ``tests/emulator/images/echo``, ``/opt/venv``
this virtualenv), ``cloud.network``, ``cloud.roles``, ``cloud.task_definition(...)``,
``cloud.tasks()`` (``GET /_tap/runtime/tasks``).
"""
from __future__ import annotations

import json
import os
import sys
import time
import urllib.error
import urllib.request
import uuid
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterator, TypeVar

import boto3
from botocore.config import Config

from emulator.server import ROOT, Emulator

ECHO = ROOT / "tests" / "emulator" / "images" / "echo"
REGION = "us-east-1"
ACCOUNT = "123456789012"
LOG_GROUP = "/tap/test/tasks"
TRUST = json.dumps({"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"},
    "Action": "sts:AssumeRole"}]})
T = TypeVar("T")


def leftovers(directory: Path) -> list[int]:
    """Pids of processes whose environment names ``directory`` (the runtime's tasks)."""
    marker = str(directory).encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            if marker in (entry / "environ").read_bytes():
                found.append(int(entry.name))
        except OSError:
            continue  # gone, or not ours to read
    return found


@contextmanager
def runtime_emulator(directory: Path) -> Iterator[str]:
    """The URL of an emulator running tasks, its state in ``directory``; nothing of it may
    be left running afterwards."""
    runtime = directory / "runtime"
    emulator = Emulator(directory / "emulator.log", runtime_dir=runtime)
    try:
        yield emulator.start().url
    finally:
        emulator.stop()
    left = leftovers(runtime)
    assert not left, f"processes left running after the emulator stopped: {left}"


def wait_for(check: Callable[[], T], timeout: float, what: str, *,
             until: Callable[[T], bool] = bool, interval: float = 0.5) -> T:
    """The first value of ``check()`` that satisfies ``until`` (default: truthy) within
    ``timeout`` seconds, or AssertionError saying ``what`` it waited for."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if until(value):
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(interval)


def call(url: str, method: str = "GET", body: Any = None) -> tuple[int, Any]:
    """A runtime endpoint: (status, parsed JSON)."""
    request = urllib.request.Request(url, method=method,
                                     data=None if body is None else json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


class Cloud:
    """One test module's resources in an emulator with a runtime."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.cluster = f"tasks-{uuid.uuid4().hex[:8]}"
        self.client("ecs").create_cluster(clusterName=self.cluster)
        self.client("logs").create_log_group(logGroupName=LOG_GROUP)
        ec2 = self.client("ec2")
        self.vpc = ec2.create_vpc(CidrBlock="10.40.0.0/16")["Vpc"]["VpcId"]
        ec2.modify_vpc_attribute(VpcId=self.vpc, EnableDnsHostnames={"Value": True})
        self.subnet = ec2.create_subnet(VpcId=self.vpc, CidrBlock="10.40.1.0/24")[
            "Subnet"]["SubnetId"]
        self.security_group = ec2.create_security_group(
            GroupName=f"tasks-{uuid.uuid4().hex[:8]}", Description="tasks",
            VpcId=self.vpc)["GroupId"]
        # What the stack's execution role may do: read the task's secrets and parameters
        # (the runtime asks IAM, emulator/runtime/iam.py, before resolving them).
        self.execution_role = self.role("execution", [
            {"Effect": "Allow", "Action": ["secretsmanager:GetSecretValue", "ssm:GetParameters"],
             "Resource": "*"}])
        self.task_role = self.role("task")

    def client(self, service: str, **credentials: str) -> Any:
        keys = credentials or {"aws_access_key_id": "testing",
                               "aws_secret_access_key": "testing"}
        return boto3.client(service, region_name=REGION, endpoint_url=self.url,
                            config=Config(retries={"total_max_attempts": 1}), **keys)

    def role(self, purpose: str, statements: list[dict[str, Any]] | None = None) -> str:
        """A role the tasks' service may assume, with an inline policy of ``statements``."""
        name = f"{self.cluster}-{purpose}"
        iam = self.client("iam")
        arn = str(iam.create_role(RoleName=name, AssumeRolePolicyDocument=TRUST)["Role"]["Arn"])
        if statements:
            iam.put_role_policy(RoleName=name, PolicyName="allowed", PolicyDocument=json.dumps(
                {"Version": "2012-10-17", "Statement": statements}))
        return arn

    @property
    def network(self) -> dict[str, Any]:
        return {"awsvpcConfiguration": {"subnets": [self.subnet],
                                        "securityGroups": [self.security_group],
                                        "assignPublicIp": "DISABLED"}}

    def echo_image(self, tag: str = "v1", repository: str = "tap/echo") -> str:
        """Register the echo image; its ECR URI (by tag)."""
        status, answer = call(f"{self.url}/_tap/runtime/images", "POST", {
            "repository": repository, "tag": tag, "dockerfile": str(ECHO / "Dockerfile"),
            "paths": {"/srv": str(ECHO), "/opt/venv": sys.prefix}})
        assert status == 200, answer
        return str(answer["imageUri"])

    def task_definition(self, family: str, image: str, *, environment: dict[str, str] | None
                        = None, secrets: dict[str, str] | None = None,
                        health_check: dict[str, Any] | None = None, stream_prefix: str = "web",
                        roles: bool = True, **settings: Any) -> str:
        """A Fargate task definition of one container ``web`` on port 8080 (``settings``: more
        container settings, e.g. ``stopTimeout``)."""
        container: dict[str, Any] = {
            "name": "web", "image": image, "essential": True,
            "portMappings": [{"containerPort": 8080, "protocol": "tcp"}],
            "environment": [{"name": k, "value": v} for k, v in (environment or {}).items()],
            "logConfiguration": {"logDriver": "awslogs", "options": {
                "awslogs-group": LOG_GROUP, "awslogs-region": REGION,
                "awslogs-stream-prefix": stream_prefix}}}
        if secrets:
            container["secrets"] = [{"name": k, "valueFrom": v} for k, v in secrets.items()]
        if health_check:
            container["healthCheck"] = health_check
        container.update(settings)
        extra = {"executionRoleArn": self.execution_role, "taskRoleArn": self.task_role} \
            if roles else {}
        return str(self.client("ecs").register_task_definition(
            family=family, networkMode="awsvpc", requiresCompatibilities=["FARGATE"],
            cpu="256", memory="512", containerDefinitions=[container],
            **extra)["taskDefinition"]["taskDefinitionArn"])

    def run(self, definition: str, **overrides: Any) -> str:
        """RunTask of one task; its ARN."""
        answer = self.client("ecs").run_task(
            cluster=self.cluster, taskDefinition=definition, count=1, launchType="FARGATE",
            networkConfiguration=self.network, **overrides)
        return str(answer["tasks"][0]["taskArn"])

    def describe(self, task_arn: str) -> dict[str, Any]:
        return dict(self.client("ecs").describe_tasks(cluster=self.cluster,
                                                      tasks=[task_arn])["tasks"][0])

    def stopped(self, task_arn: str, timeout: float = 60) -> dict[str, Any]:
        return wait_for(lambda: self.describe(task_arn), timeout, f"task {task_arn} to stop",
                        until=lambda task: task["lastStatus"] == "STOPPED")

    def running(self, task_arn: str, timeout: float = 30) -> dict[str, Any]:
        """The runtime's status of the task once it is RUNNING."""
        return wait_for(lambda: self.tasks().get(task_arn, {}), timeout,
                        f"task {task_arn} to run",
                        until=lambda task: task.get("lastStatus") == "RUNNING")

    def tasks(self) -> dict[str, dict[str, Any]]:
        """The runtime's status of every task, by task ARN."""
        status, answer = call(f"{self.url}/_tap/runtime/tasks")
        assert status == 200, answer
        return {task["taskArn"]: task for task in answer["tasks"]}

    def log_lines(self, stream: str) -> list[str]:
        events = self.client("logs").get_log_events(logGroupName=LOG_GROUP, logStreamName=stream,
                                                    startFromHead=True)["events"]
        return [event["message"] for event in events]


def get_json(url: str) -> Any:
    """The JSON a task answers at ``url``, or None when it does not (yet)."""
    try:
        with urllib.request.urlopen(url, timeout=2) as answer:
            return json.loads(answer.read())
    except OSError:
        return None


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}").exists() and \
        "zombie" not in Path(f"/proc/{pid}/status").read_text(encoding="utf-8").lower()
