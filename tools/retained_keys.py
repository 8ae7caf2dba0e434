#!/usr/bin/env python
"""Retained data keys: delete each key a destroy kept for its final snapshots once no snapshot
it encrypts is left.

Usage: ``python -m tools.retained_keys [--region R] [--window DAYS] [--apply]`` (the janitor
runs it too: ``make janitor``).

A standard or production environment's destroy keeps its final DB cluster snapshot, and the
data key that snapshot is encrypted with (tagged ``RetainOnDestroy``, lib/kms.py: the key must
outlive the environment, or the snapshot could never be restored — AWS refuses a restore whose
key is disabled or pending deletion with ``KMSKeyNotAccessibleFault``). Such a key costs $1 a
month for as long as it exists ("AWS KMS pricing"). This tool lists every enabled customer
managed key with that tag in the region (Resource Groups Tagging API, ``tag:GetResources``:
the janitor's role has it), and every DB cluster snapshot (manual and automated)
by the key it is encrypted with (``KmsKeyId``); a retained key that encrypts no snapshot any
more is scheduled for deletion with a waiting period of ``--window`` days (7-30, default 30:
AWS's longest, during which a cancelled deletion gives the key back), and tagged
``RetainOnDestroy=released``. A key that still encrypts a snapshot is kept, and said so.

Nothing is changed without ``--apply``. Prints one line per key. Exit codes: 0 done; 2 bad input
or a call AWS refused (one line on stderr).
"""
from __future__ import annotations

import argparse
import os
import sys
from dataclasses import dataclass
from typing import Any, Callable, Sequence

from lib.regions import DEFAULT_REGION
from lib.resource_types import RETAIN_TAG

RELEASED = "released"  # the tag's value once the key's deletion is scheduled
WINDOW_DAYS = (7, 30)  # what ScheduleKeyDeletion accepts


@dataclass(frozen=True)
class Verdict:
    """What happens to one retained key."""

    key_arn: str
    snapshots: tuple[str, ...]  # what it still encrypts

    @property
    def released(self) -> bool:
        return not self.snapshots

    def line(self, applied: bool, window: int) -> str:
        if not self.released:
            return (f"{self.key_arn}: kept, it encrypts {len(self.snapshots)} snapshot(s): "
                    + ", ".join(self.snapshots))
        done = "scheduled for deletion" if applied else "would be scheduled for deletion"
        return f"{self.key_arn}: encrypts no snapshot any more: {done} in {window} days"


def retained_keys(tagging: Any, kms: Any) -> list[str]:
    """The ARNs of the enabled customer managed keys tagged RETAIN_TAG (not yet released),
    found through the Resource Groups Tagging API (the janitor's own way to find things)."""
    found = []
    pages = tagging.get_paginator("get_resources").paginate(
        TagFilters=[{"Key": RETAIN_TAG}], ResourceTypeFilters=["kms:key"])
    for page in pages:
        for mapping in page["ResourceTagMappingList"]:
            tags = {t["Key"]: t["Value"] for t in mapping.get("Tags", [])}
            if tags.get(RETAIN_TAG) == RELEASED:
                continue
            metadata = kms.describe_key(KeyId=mapping["ResourceARN"])["KeyMetadata"]
            if metadata.get("KeyManager") == "CUSTOMER" and metadata["KeyState"] == "Enabled":
                found.append(metadata["Arn"])
    return sorted(found)


def snapshots_by_key(rds: Any) -> dict[str, list[str]]:
    """Every DB cluster snapshot's identifier, by the ARN of the key that encrypts it."""
    found: dict[str, list[str]] = {}
    for page in rds.get_paginator("describe_db_cluster_snapshots").paginate():
        for snapshot in page["DBClusterSnapshots"]:
            if snapshot.get("KmsKeyId"):
                found.setdefault(snapshot["KmsKeyId"], []).append(
                    snapshot["DBClusterSnapshotIdentifier"])
    return found


def judge(keys: list[str], snapshots: dict[str, list[str]]) -> list[Verdict]:
    """One verdict per retained key."""
    return [Verdict(key, tuple(sorted(snapshots.get(key, [])))) for key in keys]


def sweep(clients: Callable[[str], Any], *, apply: bool, window: int = WINDOW_DAYS[1],
          out: Callable[[str], None] = print) -> list[Verdict]:
    """Judge every retained key of the region of ``clients`` (service -> client); with
    ``apply``, schedule the deletion of the released ones."""
    kms = clients("kms")
    verdicts = judge(retained_keys(clients("resourcegroupstaggingapi"), kms),
                     snapshots_by_key(clients("rds")))
    for verdict in verdicts:
        if verdict.released and apply:
            key_id = verdict.key_arn.rsplit("/", 1)[-1]  # both calls take the id or the ARN
            kms.schedule_key_deletion(KeyId=key_id, PendingWindowInDays=window)
            kms.tag_resource(KeyId=key_id, Tags=[{"TagKey": RETAIN_TAG, "TagValue": RELEASED}])
        out(verdict.line(apply, window))
    if not verdicts:
        out("no retained data key in the region")
    return verdicts


def main(argv: Sequence[str] | None = None, environ: dict[str, str] | None = None) -> int:
    """List, and with --apply release, the retained keys of a region."""
    environ = dict(os.environ if environ is None else environ)
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--region", default=environ.get("AWS_REGION") or DEFAULT_REGION)
    parser.add_argument("--window", type=int, default=WINDOW_DAYS[1])
    parser.add_argument("--apply", action="store_true")
    args = parser.parse_args(argv)
    if not WINDOW_DAYS[0] <= args.window <= WINDOW_DAYS[1]:
        print(f"retained_keys: --window {args.window}: KMS waits 7-30 days", file=sys.stderr)
        return 2
    import boto3  # pylint: disable=import-outside-toplevel  # only when AWS is called
    from botocore.exceptions import BotoCoreError, ClientError  # pylint: disable=import-outside-toplevel
    try:
        sweep(lambda service: boto3.client(service, region_name=args.region),
              apply=args.apply, window=args.window,
              out=lambda line: print(f"retained_keys: {line}"))
    except (BotoCoreError, ClientError) as error:
        print(f"retained_keys: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
