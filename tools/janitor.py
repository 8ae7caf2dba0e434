#!/usr/bin/env python
"""Janitor: list the environments in an account and destroy the stale ephemeral ones.

Usage: ``python -m tools.janitor --open-prs 12,15 [--bucket B] [--ttl-hours H] [--only pr12,...]
[--apply] [--delete-orphans]`` (``make janitor OPEN_PRS=12,15``). ``--open-prs`` is required
(the numbers of the open pull requests, comma or whitespace separated, ``@FILE`` to read them
from a file, empty for none): the janitor needs no GitHub token, and without the list every
ephemeral environment would look stale.

Environments are found two ways:

- the stack's default tags ``Project=tap`` and ``Environment=<suffix>``, through the Resource
  Groups Tagging API in ``AWS_REGION`` and in ``us-east-1`` (CloudFront, WAF);
- the state bucket's keys ``<suffix>/TapStack<suffix>.tfstate`` (``--bucket``, default
  ``TERRAFORM_STATE_BUCKET``); the key's LastModified is the environment's age.

Each is reported with its profile (``lib.config.profile_name_for``), its age, its tagged
resources and a verdict:

- standard and production environments are kept, always: the janitor never destroys them,
  and ``--only`` naming one is refused (exit 2);
- an ephemeral environment with state is destroyed through that state when no open pull
  request has its number, or when it is older than ``--ttl-hours``: one command per
  environment, ``make destroy ENVIRONMENT_SUFFIX=pr<n> TERRAFORM_STATE_BUCKET=<bucket>
  TERRAFORM_STATE_BUCKET_REGION=<region> AWS_REGION=<region>`` (``DESTROY_COMMAND``; tests
  replace the runner);
- an ephemeral environment with tagged resources and no state is a lost run: its leftovers
  are listed by type and ARN. With ``--delete-orphans`` (and ``--apply``) the easy ones are
  deleted, unless its pull request is still open (its first deploy may be running): S3
  buckets (emptied first, every version), log groups, SNS topics, secrets (forced, no
  recovery) and KMS keys (deletion scheduled in 7 days), each ARN's Terraform type read from
  the registry (``lib/resource_types.py``); the other types are left to do by hand, and said
  so.

With ``--retained-keys``, it also releases the data keys destroys kept for final snapshots
that are gone (tools/retained_keys.py, in ``--region``).

Nothing is done without ``--apply`` (a dry run prints what would be done). Exit codes: 0 done;
1 a destroy command or a deletion failed; 2 bad input (one line on stderr).
"""
from __future__ import annotations

import argparse
import datetime
import os
import re
import shlex
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable

from lib.config import EPHEMERAL, profile_name_for
from lib.naming import PROJECT
from lib.profiles import PLATFORM
from lib.regions import DEFAULT_REGION, GLOBAL_REGION
from lib.resource_types import types_of_arn
from tools import retained_keys

STATE_KEY_RE = re.compile(r"^(?P<suffix>[^/]+)/TapStack(?P=suffix)\.tfstate$")
PR_RE = re.compile(r"^pr(?P<number>\d+)$")
SHARED_PREFIX = "shared-"  # the shared stack's Environment tag: shared-<SHARED_PLATFORM>
KMS_PENDING_DAYS = 7
DESTROY_COMMAND = ("make destroy ENVIRONMENT_SUFFIX={suffix} TERRAFORM_STATE_BUCKET={bucket} "
                   "TERRAFORM_STATE_BUCKET_REGION={bucket_region} AWS_REGION={region}")

Runner = Callable[[list[str]], int]
Clients = Callable[[str, str], Any]  # (service, region) -> boto3 client


class JanitorError(Exception):
    """Bad input: no open-PR list, a protected environment asked for, no bucket."""


@dataclass(frozen=True)
class Resource:
    """A tagged resource: its ARN and the region the tagging API found it in."""

    arn: str
    region: str


@dataclass
class Environment:
    """One environment as found in the account."""

    suffix: str
    state_modified: datetime.datetime | None = None
    resources: list[Resource] = field(default_factory=list)

    @property
    def profile(self) -> str:
        """The suffix's profile; ``shared`` for the shared stack, whose resources carry
        ``Environment=shared-<name>`` (lib/naming.py; an environment suffix has no hyphen)."""
        if self.suffix.startswith(SHARED_PREFIX):
            return PLATFORM
        return profile_name_for(self.suffix)

    @property
    def pr_number(self) -> int | None:
        match = PR_RE.match(self.suffix)
        return int(match["number"]) if match else None


@dataclass(frozen=True)
class Decision:
    """What the janitor does with an environment, and why."""

    action: str  # keep, destroy, orphans
    reason: str


def parse_open_prs(text: str) -> set[int]:
    """Pull-request numbers separated by commas or whitespace; ``@FILE`` reads a file."""
    if text.startswith("@"):
        try:
            text = Path(text[1:]).read_text(encoding="utf-8")
        except OSError as error:
            raise JanitorError(f"cannot read {text[1:]}: {error.strerror}") from None
    words = [w for w in re.split(r"[\s,]+", text) if w]
    bad = [w for w in words if not w.isdigit()]
    if bad:
        raise JanitorError(f"--open-prs: {', '.join(bad)} is not a pull-request number")
    return {int(w) for w in words}


def states(pages: Iterable[dict[str, Any]]) -> dict[str, datetime.datetime]:
    """Suffix -> LastModified of every state key in ListObjectsV2 pages."""
    found = {}
    for page in pages:
        for item in page.get("Contents", []):
            match = STATE_KEY_RE.match(item["Key"])
            if match:
                found[match["suffix"]] = item["LastModified"]
    return found


def tagged(pages: Iterable[dict[str, Any]], region: str) -> dict[str, list[Resource]]:
    """Suffix -> resources of GetResources pages (ResourceTagMappingList), by Environment tag."""
    found: dict[str, list[Resource]] = {}
    for page in pages:
        for mapping in page.get("ResourceTagMappingList", []):
            tags = {t["Key"]: t["Value"] for t in mapping.get("Tags", [])}
            if tags.get("Project") == PROJECT and tags.get("Environment"):
                found.setdefault(tags["Environment"], []).append(
                    Resource(arn=mapping["ResourceARN"], region=region))
    return found


def environments(state_map: dict[str, datetime.datetime],
                 tag_maps: Iterable[dict[str, list[Resource]]]) -> list[Environment]:
    """The environments of both sources, by suffix."""
    found = {suffix: Environment(suffix, state_modified=modified)
             for suffix, modified in state_map.items()}
    for tag_map in tag_maps:
        for suffix, resources in tag_map.items():
            env = found.setdefault(suffix, Environment(suffix))
            known = {r.arn for r in env.resources}  # S3 buckets may be listed in both regions
            env.resources += [r for r in resources if r.arn not in known]
    return [found[suffix] for suffix in sorted(found)]


def age_hours(env: Environment, now: datetime.datetime) -> float | None:
    if env.state_modified is None:
        return None
    return (now - env.state_modified).total_seconds() / 3600


def decide(env: Environment, open_prs: set[int], ttl_hours: float | None,
           now: datetime.datetime) -> Decision:
    """Keep, destroy (through its state) or clean the orphans of one environment."""
    if env.profile != EPHEMERAL:
        return Decision("keep", f"{env.profile}: never destroyed by the janitor")
    is_open = env.pr_number in open_prs
    if env.state_modified is None:
        if is_open:
            return Decision("keep", "no state, but its pull request is open (a deploy may run)")
        return Decision("orphans", "no state: a lost run, leftovers below")
    age = age_hours(env, now)
    if not is_open:
        return Decision("destroy", "no open pull request")
    if ttl_hours is not None and age is not None and age > ttl_hours:
        return Decision("destroy", f"older than {ttl_hours:g} h")
    return Decision("keep", "its pull request is open")


def _empty_and_delete_bucket(client: Any, name: str) -> None:
    paginator = client.get_paginator("list_object_versions")
    for page in paginator.paginate(Bucket=name):
        objects = [{"Key": v["Key"], "VersionId": v["VersionId"]}
                   for v in page.get("Versions", []) + page.get("DeleteMarkers", [])]
        if objects:
            client.delete_objects(Bucket=name, Delete={"Objects": objects, "Quiet": True})
    client.delete_bucket(Bucket=name)


def _delete_log_group(client: Any, arn: str) -> None:
    name = arn.split(":log-group:", 1)[1].removesuffix(":*")
    client.delete_log_group(logGroupName=name)


def _schedule_key_deletion(client: Any, arn: str) -> None:
    key_id = arn.rsplit("/", 1)[1]  # the id, which every KMS API takes (moto: not the ARN)
    if client.describe_key(KeyId=key_id)["KeyMetadata"]["KeyState"] != "PendingDeletion":
        client.schedule_key_deletion(KeyId=key_id, PendingWindowInDays=KMS_PENDING_DAYS)


# The leftovers the janitor deletes: Terraform type -> (service of the client, deletion). An
# ARN's type is the registry's (lib/resource_types.py: its ``arn`` kind).
DELETERS: dict[str, tuple[str, Callable[[Any, str], None]]] = {
    "aws_s3_bucket": ("s3", lambda c, arn: _empty_and_delete_bucket(c, arn.rsplit(":", 1)[1])),
    "aws_cloudwatch_log_group": ("logs", _delete_log_group),
    "aws_sns_topic": ("sns", lambda c, arn: c.delete_topic(TopicArn=arn)),
    "aws_secretsmanager_secret": ("secretsmanager", lambda c, arn: c.delete_secret(
        SecretId=arn, ForceDeleteWithoutRecovery=True)),
    "aws_kms_key": ("kms", _schedule_key_deletion),
}


def resource_kind(arn: str) -> str:
    """``service:kind`` of an ARN: ``s3:bucket``, ``logs:log-group``, ``sns:topic``...

    Topic and queue ARNs end in the name alone; a WAF ARN starts with its scope
    (``global/webacl/<name>/<id>``): the kind is the part after it."""
    service, rest = arn.split(":", 5)[2], arn.split(":", 5)[-1]
    if service == "s3" and "/" not in rest:
        return "s3:bucket"
    if service in ("sns", "sqs"):
        return f"{service}:{'topic' if service == 'sns' else 'queue'}"
    parts = re.split(r"[:/]", rest)
    return f"{service}:{parts[1] if service == 'wafv2' and len(parts) > 1 else parts[0]}"


def deleted_as(arn: str) -> str | None:
    """The resource type the janitor deletes ``arn`` as, or None when it leaves it to do by
    hand (no deleter, or an ARN kind that more than one type has)."""
    found = [rtype for rtype in types_of_arn(resource_kind(arn)) if rtype in DELETERS]
    return found[0] if len(found) == 1 else None


@dataclass
class Janitor:
    """The run: the inputs, the AWS clients and the runner of destroy commands."""

    bucket: str
    bucket_region: str
    region: str
    clients: Clients
    runner: Runner
    destroy_command: str = DESTROY_COMMAND
    out: Callable[[str], None] = print

    def regions(self) -> list[str]:
        return list(dict.fromkeys([self.region, GLOBAL_REGION]))

    def discover(self) -> list[Environment]:
        s3 = self.clients("s3", self.bucket_region)
        state_map = states(s3.get_paginator("list_objects_v2").paginate(Bucket=self.bucket))
        tag_maps = []
        for region in self.regions():
            api = self.clients("resourcegroupstaggingapi", region)
            pages = api.get_paginator("get_resources").paginate(
                TagFilters=[{"Key": "Project", "Values": [PROJECT]}])
            tag_maps.append(tagged(pages, region))
        return environments(state_map, tag_maps)

    def destroy(self, env: Environment) -> bool:
        command = shlex.split(self.destroy_command.format(
            suffix=env.suffix, bucket=self.bucket, bucket_region=self.bucket_region,
            region=self.region))
        self.out(f"$ {shlex.join(command)}")
        code = self.runner(command)
        if code != 0:
            self.out(f"FAILED: destroy of {env.suffix} exited {code}")
        return code == 0

    def delete(self, resource: Resource, rtype: str) -> bool:
        """Delete ``resource`` as its Terraform type ``rtype`` (a key of DELETERS)."""
        service, deleter = DELETERS[rtype]
        try:
            deleter(self.clients(service, resource.region), resource.arn)
        except Exception as error:  # pylint: disable=broad-exception-caught  # report, go on
            self.out(f"FAILED: {resource.arn}: {error}")
            return False
        self.out(f"deleted {resource.arn}")
        return True


def report(envs: list[Environment], decisions: dict[str, Decision],
           now: datetime.datetime) -> list[str]:
    """The table of environments, then the leftovers of every lost run."""
    header = ("environment", "profile", "age", "resources", "verdict")
    table = [header]
    for env in envs:
        age = age_hours(env, now)
        decision = decisions[env.suffix]
        table.append((env.suffix, env.profile, "-" if age is None else f"{age:.1f} h",
                      str(len(env.resources)), f"{decision.action}: {decision.reason}"))
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in table]
    for env in envs:
        if decisions[env.suffix].action == "orphans":
            lines.append(f"leftovers of {env.suffix}:")
            for resource in env.resources:
                how = "delete" if deleted_as(resource.arn) else "manual"
                lines.append(f"  {resource_kind(resource.arn):24} {how:6} {resource.arn}")
    return lines


def run(janitor: Janitor, *, open_prs: set[int], ttl_hours: float | None, only: set[str],  # pylint: disable=too-many-arguments
        apply: bool, delete_orphans: bool, now: datetime.datetime,
        keys: bool = False) -> int:
    """Discover, report and (with ``apply``) act; 1 when something failed."""
    protected = sorted(s for s in only if profile_name_for(s) != EPHEMERAL)
    if protected:
        raise JanitorError(f"refused: {', '.join(protected)} is not ephemeral; the janitor "
                           "never destroys a standard or production environment")
    envs = [e for e in janitor.discover() if not only or e.suffix in only]
    decisions = {e.suffix: decide(e, open_prs, ttl_hours, now) for e in envs}
    for line in report(envs, decisions, now):
        janitor.out(line)
    ok = True
    for env in envs:
        action = decisions[env.suffix].action
        if action == "destroy":
            ok &= janitor.destroy(env) if apply else _would(janitor, f"destroy {env.suffix}")
        elif action == "orphans" and delete_orphans:
            for resource in env.resources:
                rtype = deleted_as(resource.arn)
                if rtype is None:
                    janitor.out(f"manual: {resource.arn}")
                elif apply:
                    ok &= janitor.delete(resource, rtype)
                else:
                    _would(janitor, f"delete {resource.arn}")
    if keys:
        janitor.out(f"retained data keys in {janitor.region}:")
        retained_keys.sweep(lambda service: janitor.clients(service, janitor.region),
                            apply=apply, out=lambda line: janitor.out(f"  {line}"))
    if not apply:
        janitor.out("dry run: nothing was done (--apply to act)")
    return 0 if ok else 1


def _would(janitor: Janitor, what: str) -> bool:
    janitor.out(f"would {what}")
    return True


def _boto_clients(service: str, region: str) -> Any:
    import boto3  # pylint: disable=import-outside-toplevel  # only when AWS is called
    return boto3.client(service, region_name=region)


def main(argv: list[str] | None = None, environ: dict[str, str] | None = None,
         runner: Runner = subprocess.call, clients: Clients = _boto_clients,
         now: datetime.datetime | None = None) -> int:
    environ = dict(os.environ if environ is None else environ)
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--open-prs", required=True,
                        help="open pull-request numbers (12,15), @FILE, or empty for none")
    parser.add_argument("--bucket", default=environ.get("TERRAFORM_STATE_BUCKET"))
    parser.add_argument("--bucket-region",
                        default=environ.get("TERRAFORM_STATE_BUCKET_REGION", DEFAULT_REGION))
    parser.add_argument("--region", default=environ.get("AWS_REGION", DEFAULT_REGION))
    parser.add_argument("--ttl-hours", type=float, help="destroy ephemeral ones older than this")
    parser.add_argument("--only", default="", help="consider only these suffixes (ephemeral)")
    parser.add_argument("--apply", action="store_true", help="act (default: dry run)")
    parser.add_argument("--delete-orphans", action="store_true",
                        help="delete the leftovers of lost runs (with --apply)")
    parser.add_argument("--retained-keys", action="store_true",
                        help="also release data keys whose final snapshots are gone")
    parser.add_argument("--destroy-command", default=DESTROY_COMMAND,
                        help="template of the destroy command ({suffix} {bucket} ...)")
    args = parser.parse_args(argv)
    try:
        if not args.bucket:
            raise JanitorError("no state bucket: give --bucket or TERRAFORM_STATE_BUCKET")
        janitor = Janitor(bucket=args.bucket, bucket_region=args.bucket_region,
                          region=args.region, clients=clients, runner=runner,
                          destroy_command=args.destroy_command)
        return run(janitor, open_prs=parse_open_prs(args.open_prs), ttl_hours=args.ttl_hours,
                   only={s.strip() for s in args.only.split(",") if s.strip()},
                   apply=args.apply, delete_orphans=args.delete_orphans,
                   now=now or datetime.datetime.now(datetime.timezone.utc),
                   keys=args.retained_keys)
    except JanitorError as error:
        print(f"janitor: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
