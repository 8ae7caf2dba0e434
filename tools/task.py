#!/usr/bin/env python
"""``make task``: run a one-off command in the service's current task definition, to its end.

Usage: ``tools/task.py --suffix SUFFIX [--region REGION] [--timeout SECONDS] -- COMMAND...``
(``make task ENVIRONMENT_SUFFIX=dev CMD='python -m app.report'``). Like ``heroku run`` and
``copilot task run``: the service's task definition as it runs now (DescribeServices), on its
network (subnets, security group, public IP), with COMMAND instead of the image's command.
The task's logs stream to this terminal as they arrive; the exit code is the container's
(tools/one_off.py: 1 when the task never started, with ECS's reason; 124 after the timeout).
Bad input exits 2 with one line.
"""
from __future__ import annotations

import argparse
import os
import sys
from typing import Any, Sequence

import boto3

from lib.config import ConfigError, load_settings
from lib.naming import Names
from tools.one_off import TaskRequest, run

DEFAULT_TIMEOUT_SECONDS = 3600


def request_for(ecs: Any, names: Names, region: str, command: Sequence[str],
                timeout_seconds: int) -> TaskRequest:
    """The service's current revision and network, with ``command``; ValueError when the
    service does not exist."""
    found = ecs.describe_services(cluster=names.ecs_cluster, services=[names.ecs_service])
    services = [s for s in found.get("services", []) if s.get("status") == "ACTIVE"]
    if not services:
        raise ValueError(f"no service {names.ecs_service} in cluster {names.ecs_cluster} "
                         f"({region}): deploy the environment first")
    service = services[0]
    definition = ecs.describe_task_definition(
        taskDefinition=service["taskDefinition"])["taskDefinition"]
    container = definition["containerDefinitions"][0]
    options = container["logConfiguration"]["options"]
    network = service["networkConfiguration"]["awsvpcConfiguration"]
    return TaskRequest(
        region=region, cluster=names.ecs_cluster, task_definition=service["taskDefinition"],
        subnets=tuple(network["subnets"]), security_groups=tuple(network["securityGroups"]),
        assign_public_ip=network.get("assignPublicIp") == "ENABLED",
        log_group=options["awslogs-group"], log_stream_prefix=options["awslogs-stream-prefix"],
        container=container["name"], timeout_seconds=timeout_seconds,
        command=tuple(command), started_by="tap-task")


def main(argv: Sequence[str], environ: dict[str, str] | None = None) -> int:
    """Run the command; the task's exit code, or 2 for bad input."""
    environ = dict(os.environ if environ is None else environ)
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--suffix", required=True)
    parser.add_argument("--region", default=environ.get("AWS_REGION") or "us-east-1")
    parser.add_argument("--timeout", type=int, default=DEFAULT_TIMEOUT_SECONDS)
    parser.add_argument("command", nargs="+")
    args = parser.parse_args(argv)
    try:
        names = Names(load_settings({"ENVIRONMENT_SUFFIX": args.suffix,
                                     "AWS_REGION": args.region}))
    except ConfigError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    session = boto3.session.Session(region_name=args.region)
    try:
        request = request_for(session.client("ecs"), names, args.region, args.command,
                              args.timeout)
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return run(request, ecs=session.client("ecs"), logs=session.client("logs"),
               out=lambda line: print(line, flush=True))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
