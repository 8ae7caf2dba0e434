#!/usr/bin/env python
"""Run a one-off ECS task to its end: start it, stream its logs, exit with its exit code.

Two uses, one job:

- ``one_off.py release``: the release gate of a deploy (lib/release.py runs it from Terraform,
  as a ``local-exec`` provisioner, with its settings in ``TAP_*`` environment variables). A
  declared application secret without a value takes its first value from the deployer's
  ``TAP_SECRET_<NAME>`` environment variable when there is one (a CI secret: the value never
  enters the plan or the state, and a secret that has a value is never overwritten); the gate
  then refuses the deploy while a declared secret still has no value, naming the secret and
  both ways to set it. When the manifest has a release command, it then runs the release task
  definition (the NEW revision) on the service's network and waits for it.
- ``run(...)``: the same wait for any task definition and command (``make task``, through
  tools/task.py).

The task runs on on-demand Fargate (never Spot: a release must not be interrupted). While it
runs, its awslogs stream (``<prefix>/<container>/<task id>``) is printed as it arrives. When it
stops: exit code of its container, or 1 with ECS's stopped reason when it never started
(``CannotPullContainerError``, ``ResourceInitializationError`` for a secret it could not read);
124 after the timeout (the task is stopped first). On failure the last log lines and the exit
code are printed again, together, so that a deploy's log ends with them.

Standalone on purpose (the standard library and boto3 only): Terraform copies it beside the
synthesized stack as an asset. Credentials, region and endpoint come from the environment,
as for Terraform itself.
"""
from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass
from typing import Any, Callable, Sequence

import boto3

POLL_SECONDS = 2.0
LAST_LINES = 20
TIMED_OUT = 124
NOT_STARTED = 1


@dataclass(frozen=True)
class TaskRequest:  # pylint: disable=too-many-instance-attributes
    """What to run, where, and how long to wait."""

    region: str
    cluster: str
    task_definition: str
    subnets: tuple[str, ...]
    security_groups: tuple[str, ...]
    assign_public_ip: bool
    log_group: str
    log_stream_prefix: str
    container: str
    timeout_seconds: int
    command: tuple[str, ...] | None = None  # None: the task definition's own
    started_by: str = "tap-one-off"


SEED_PREFIX = "TAP_SECRET_"  # TAP_SECRET_<NAME>: a declared secret's first value


class MissingSecrets(RuntimeError):
    """Declared secrets without a value; ``str()`` says which and how to set them."""


def unset_secrets(client: Any, secrets: dict[str, str]) -> list[str]:
    """The names of the secrets (name -> ARN) that have no current value."""
    missing = []
    for name, arn in sorted(secrets.items()):
        stages = client.describe_secret(SecretId=arn).get("VersionIdsToStages", {})
        if not any("AWSCURRENT" in labels for labels in stages.values()):
            missing.append(name)
    return missing


def seed_secrets(client: Any, secrets: dict[str, str], environ: dict[str, str],
                 out: Callable[[str], None]) -> None:
    """Give each secret without a value its TAP_SECRET_<NAME> value, if the deployer has one."""
    for name in unset_secrets(client, secrets):
        value = environ.get(f"{SEED_PREFIX}{name}", "")
        if value:
            client.put_secret_value(SecretId=secrets[name], SecretString=value)
            out(f"release: {name} had no value: set from {SEED_PREFIX}{name}")


def check_secrets(client: Any, secrets: dict[str, str]) -> None:
    """Raise MissingSecrets naming every secret (name -> ARN) that has no current value."""
    missing = unset_secrets(client, secrets)
    if missing:
        suffix = _suffix_of(secrets[missing[0]])
        commands = "; ".join(f"make secret-set ENVIRONMENT_SUFFIX={suffix} NAME={name}"
                             for name in missing)
        seeds = ", ".join(f"{SEED_PREFIX}{name}" for name in missing)
        raise MissingSecrets(f"the application secret(s) {', '.join(missing)} have no value "
                             f"yet, so the service would not start: set them ({commands}) "
                             f"and deploy again, or deploy with {seeds} in the environment")


def _suffix_of(arn: str) -> str:
    """The environment of a secret named tap/<suffix>/app/<NAME>-...; '<suffix>' if not."""
    name = arn.split(":secret:", 1)[-1]
    parts = name.split("/")
    return parts[1] if len(parts) > 3 and parts[0] == "tap" else "<suffix>"


def run(request: TaskRequest, *, ecs: Any, logs: Any, out: Callable[[str], None] = print,
        clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep
        ) -> int:
    """Start the task, print its logs until it stops, and return its exit code."""
    overrides: dict[str, Any] = {}
    if request.command is not None:
        overrides = {"containerOverrides": [{"name": request.container,
                                             "command": list(request.command)}]}
    answer = ecs.run_task(
        cluster=request.cluster, taskDefinition=request.task_definition, count=1,
        capacityProviderStrategy=[{"capacityProvider": "FARGATE", "weight": 1}],
        networkConfiguration={"awsvpcConfiguration": {
            "subnets": list(request.subnets), "securityGroups": list(request.security_groups),
            "assignPublicIp": "ENABLED" if request.assign_public_ip else "DISABLED"}},
        overrides=overrides, startedBy=request.started_by)
    if answer.get("failures") or not answer.get("tasks"):
        out(f"one-off: RunTask failed: {answer.get('failures')}")
        return NOT_STARTED
    task_arn = answer["tasks"][0]["taskArn"]
    task_id = task_arn.rsplit("/", 1)[-1]
    stream = f"{request.log_stream_prefix}/{request.container}/{task_id}"
    out(f"one-off: task {task_id} of {request.task_definition.rsplit('/', 1)[-1]} started; "
        f"logs {request.log_group} {stream}")
    reader = _LogReader(logs, request.log_group, stream)
    deadline = clock() + request.timeout_seconds
    while True:
        for line in reader.new_lines():
            out(line)
        task = ecs.describe_tasks(cluster=request.cluster, tasks=[task_arn])["tasks"][0]
        if task["lastStatus"] == "STOPPED":
            for line in reader.new_lines():
                out(line)
            return _outcome(task, request.container, reader, out)
        if clock() > deadline:
            ecs.stop_task(cluster=request.cluster, task=task_arn,
                          reason=f"timed out after {request.timeout_seconds} s")
            _tail(reader, out)
            out(f"one-off: task {task_id} timed out after {request.timeout_seconds} s and was "
                f"stopped; exit {TIMED_OUT}")
            return TIMED_OUT
        sleep(POLL_SECONDS)


def _outcome(task: dict[str, Any], container: str, reader: _LogReader,
             out: Callable[[str], None]) -> int:
    """The exit code of the stopped task's container (or NOT_STARTED), said in one line."""
    task_id = task["taskArn"].rsplit("/", 1)[-1]
    code = next((c.get("exitCode") for c in task.get("containers", [])
                 if c.get("name") == container), None)
    if code is None:
        out(f"one-off: task {task_id} did not run: {task.get('stoppedReason', 'no reason')}")
        return NOT_STARTED
    if code != 0:
        _tail(reader, out)
    out(f"one-off: task {task_id} exited {code}")
    return int(code)


def _tail(reader: _LogReader, out: Callable[[str], None]) -> None:
    if reader.seen:
        out(f"one-off: the task's last {min(LAST_LINES, len(reader.seen))} log lines:")
        for line in reader.seen[-LAST_LINES:]:
            out(f"  {line}")


class _LogReader:  # pylint: disable=too-few-public-methods
    """The lines of one log stream not printed yet (the stream may not exist yet)."""

    def __init__(self, logs: Any, group: str, stream: str) -> None:
        self.logs, self.group, self.stream = logs, group, stream
        self.token: str | None = None
        self.seen: list[str] = []

    def new_lines(self) -> list[str]:
        lines: list[str] = []
        while True:
            kwargs: dict[str, Any] = {"logGroupName": self.group, "logStreamName": self.stream,
                                      "startFromHead": True}
            if self.token:
                kwargs["nextToken"] = self.token
            try:
                page = self.logs.get_log_events(**kwargs)
            except self.logs.exceptions.ResourceNotFoundException:
                break  # the task has not written yet
            batch = [event["message"].rstrip("\n") for event in page.get("events", [])]
            lines += batch
            token = page.get("nextForwardToken")
            done = not batch or token in (None, self.token)
            self.token = token or self.token
            if done:
                break
        self.seen += lines
        return lines


def release(environ: dict[str, str], session: Any = None, out: Callable[[str], None] = print
            ) -> int:
    """The release gate, from its TAP_* environment; returns the exit code."""
    session = session or boto3.session.Session(region_name=environ["TAP_REGION"])
    secrets = dict(item.split("=", 1) for item in environ.get("TAP_SECRETS", "").split(",")
                   if item)
    try:
        seed_secrets(session.client("secretsmanager"), secrets, environ, out)
        check_secrets(session.client("secretsmanager"), secrets)
    except MissingSecrets as error:
        out(f"release: {error}")
        return 1
    if secrets:
        out(f"release: every declared secret has a value: {', '.join(sorted(secrets))}")
    if not environ.get("TAP_TASK_DEFINITION"):
        return 0
    request = TaskRequest(
        region=environ["TAP_REGION"], cluster=environ["TAP_CLUSTER"],
        task_definition=environ["TAP_TASK_DEFINITION"],
        subnets=tuple(environ["TAP_SUBNETS"].split(",")),
        security_groups=tuple(environ["TAP_SECURITY_GROUPS"].split(",")),
        assign_public_ip=environ.get("TAP_ASSIGN_PUBLIC_IP") == "ENABLED",
        log_group=environ["TAP_LOG_GROUP"], log_stream_prefix=environ["TAP_LOG_STREAM_PREFIX"],
        container=environ["TAP_CONTAINER"],
        timeout_seconds=int(environ["TAP_TIMEOUT_SECONDS"]), started_by="tap-release")
    code = run(request, ecs=session.client("ecs"), logs=session.client("logs"), out=out)
    out("release: succeeded" if code == 0 else
        f"release: FAILED (exit {code}): the service keeps its previous revision; fix the "
        "release and deploy again")
    return code


def main(argv: Sequence[str]) -> int:
    """``one_off.py release`` (the gate); anything else is a usage error (exit 2)."""
    if list(argv) != ["release"]:
        print("usage: one_off.py release   (settings in TAP_* environment variables; "
              "make task runs tasks through tools/task.py)", file=sys.stderr)
        return 2
    missing = [name for name in ("TAP_REGION", "TAP_CLUSTER") if not os.environ.get(name)]
    if missing:
        print(f"one_off.py release: {', '.join(missing)} not set", file=sys.stderr)
        return 2
    return release(dict(os.environ), out=lambda line: print(line, flush=True))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
