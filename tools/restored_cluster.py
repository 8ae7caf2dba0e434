#!/usr/bin/env python
"""Turn IAM database authentication on for a cluster just restored from a snapshot.

Run by Terraform, as the create-time provisioner of lib/data_tier.py's
``restored-cluster-iam-auth`` (only when DB_SNAPSHOT_IDENTIFIER is set), once the cluster
exists: ``TAP_DB_CLUSTER`` and ``TAP_REGION`` say which.

Why: the provider's restore path (``aws_rds_cluster`` with ``snapshot_identifier``, up to and
including 5.100.0) sends neither ``EnableIAMDatabaseAuthentication`` in
RestoreDBClusterFromSnapshot nor in the ModifyDBCluster that follows it
(terraform-provider-aws issue #35189; pull request #39461 unmerged), and RDS then restores the
cluster with IAM authentication off ("By default, mapping isn't enabled": the
RestoreDBClusterFromSnapshot API reference). The application logs in with IAM tokens only, so
a restored environment would refuse every connection of its tasks until a second apply. This
step makes the first apply enough: ModifyDBCluster ``EnableIAMDatabaseAuthentication=true``
with ``ApplyImmediately``, then a wait until the cluster says it is on and ``available``. The
next plan's refresh reads it back, so the plan is empty.

Exit 0 when the cluster has IAM authentication on (already, or now); 1 with one line otherwise.
Standalone (standard library and boto3): Terraform copies it beside the stack as an asset.
"""
from __future__ import annotations

import os
import sys
import time
from typing import Any, Callable

import boto3

DEFAULT_TIMEOUT_SECONDS = 1800
POLL_SECONDS = 10.0


def describe(rds: Any, cluster: str) -> dict[str, Any]:
    """The cluster as DescribeDBClusters gives it."""
    return rds.describe_db_clusters(DBClusterIdentifier=cluster)["DBClusters"][0]


def enable(rds: Any, cluster: str, timeout_seconds: float,
           clock: Callable[[], float] = time.monotonic,
           sleep: Callable[[float], None] = time.sleep,
           out: Callable[[str], None] = print) -> int:
    """Enable IAM authentication on ``cluster`` and wait for it; the exit code."""
    if describe(rds, cluster).get("IAMDatabaseAuthenticationEnabled"):
        out(f"restored-cluster: {cluster} has IAM database authentication on already")
        return 0
    rds.modify_db_cluster(DBClusterIdentifier=cluster, EnableIAMDatabaseAuthentication=True,
                          ApplyImmediately=True)
    deadline = clock() + timeout_seconds
    while True:
        state = describe(rds, cluster)
        if state.get("IAMDatabaseAuthenticationEnabled") and state.get("Status") == "available":
            out(f"restored-cluster: {cluster} has IAM database authentication on")
            return 0
        if clock() > deadline:
            out(f"restored-cluster: {cluster} is {state.get('Status')} with IAM database "
                f"authentication {'on' if state.get('IAMDatabaseAuthenticationEnabled') else 'off'}"
                f" after {timeout_seconds:.0f} s")
            return 1
        sleep(POLL_SECONDS)


def main() -> int:
    """Read the cluster and region from the environment Terraform gives; run ``enable``."""
    cluster, region = os.environ.get("TAP_DB_CLUSTER"), os.environ.get("TAP_REGION")
    if not cluster or not region:
        print("restored-cluster: TAP_DB_CLUSTER and TAP_REGION are required", file=sys.stderr)
        return 2
    timeout = float(os.environ.get("TAP_RESTORE_TIMEOUT_SECONDS", DEFAULT_TIMEOUT_SECONDS))
    return enable(boto3.client("rds", region_name=region), cluster, timeout)


if __name__ == "__main__":
    sys.exit(main())
