#!/usr/bin/env python
"""``make secret-set``: give an application secret its value, read from standard input.

Usage: ``tools/secret_set.py --suffix SUFFIX --name NAME [--region REGION] < value``
(``make secret-set ENVIRONMENT_SUFFIX=dev NAME=STRIPE_API_KEY``). The value never comes from
an argument or the environment, and is never printed: it is read from standard input (a
terminal asks for it without echo), one trailing newline dropped, and must not be empty. The
secret is the one the stack declared for NAME in that environment (lib/app_secrets.py:
``tap/<suffix>/app/<NAME>-...``); a name the manifest does not declare is refused. ECS reads a
secret only when a task starts, so the service is then redeployed (``--force-new-deployment``)
for its tasks to get the new value; the release gate of the next deploy finds it set.
Exit codes: 0 done; 2 bad input, or no such secret (one line on stderr).
"""
from __future__ import annotations

import argparse
import getpass
import os
import re
import sys
from typing import Any, Sequence, TextIO

import boto3

from lib.config import ConfigError, load_settings
from lib.naming import Names

_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,254}$")


def read_value(stream: TextIO) -> str:
    """The value from ``stream`` (without echo on a terminal); ValueError when empty."""
    value = getpass.getpass("value: ") if stream.isatty() else stream.read()
    if value.endswith("\n"):
        value = value[:-1]
    if not value:
        raise ValueError("the value read from standard input is empty")
    return value


def find_secret(client: Any, prefix: str) -> str:
    """The ARN of the one secret whose name is ``prefix`` and Terraform's unique ending."""
    pages = client.get_paginator("list_secrets").paginate(
        Filters=[{"Key": "name", "Values": [prefix]}])
    found = [secret["ARN"] for page in pages for secret in page["SecretList"]
             if secret["Name"].startswith(prefix) and "DeletedDate" not in secret]
    if len(found) != 1:
        raise LookupError(f"{len(found)} secrets named {prefix}*: is the name declared in the "
                          "manifest's [secrets], and the environment deployed?")
    return found[0]


def set_secret(session: Any, names: Names, name: str, value: str) -> str:
    """Store the value and redeploy the service; one line saying what happened."""
    client = session.client("secretsmanager")
    arn = find_secret(client, names.app_secret_prefix_of(name))
    version = client.put_secret_value(SecretId=arn, SecretString=value)["VersionId"]
    ecs = session.client("ecs")
    found = ecs.describe_services(cluster=names.ecs_cluster, services=[names.ecs_service])
    if any(s.get("status") == "ACTIVE" for s in found.get("services", [])):
        ecs.update_service(cluster=names.ecs_cluster, service=names.ecs_service,
                           forceNewDeployment=True)
        return (f"{name}: new value stored (version {version}); the service's tasks are being "
                "replaced to read it")
    return f"{name}: new value stored (version {version}); no service yet to redeploy"


def main(argv: Sequence[str], stdin: TextIO = sys.stdin,
         environ: dict[str, str] | None = None) -> int:
    """Set the secret; 0, or 2 with one line on stderr."""
    environ = dict(os.environ if environ is None else environ)
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--suffix", required=True)
    parser.add_argument("--name", required=True)
    parser.add_argument("--region", default=environ.get("AWS_REGION") or "us-east-1")
    args = parser.parse_args(argv)
    if not _NAME_RE.match(args.name):
        print(f"error: NAME={args.name!r} is not an environment variable name", file=sys.stderr)
        return 2
    try:
        names = Names(load_settings({"ENVIRONMENT_SUFFIX": args.suffix,
                                     "AWS_REGION": args.region}))
        value = read_value(stdin)
        line = set_secret(boto3.session.Session(region_name=args.region), names, args.name,
                          value)
    except (ConfigError, ValueError, LookupError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
