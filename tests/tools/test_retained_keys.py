"""tools/retained_keys.py against moto in process: a retained key that still encrypts a
snapshot is kept; once its last snapshot is gone, --apply schedules its deletion and marks it
released; a dry run changes nothing; keys without the tag are never touched."""
# pylint: disable=redefined-outer-name
from __future__ import annotations

from typing import Any, Iterator

import boto3
import pytest
from moto import mock_aws

from emulator.moto_ext import rds_cluster
from lib.resource_types import RETAIN_TAG
from tools import retained_keys

REGION = "us-east-1"


@pytest.fixture()
def aws() -> Iterator[tuple[Any, Any]]:
    rds_cluster.install()  # automated snapshots go with their cluster, as on AWS
    with mock_aws():
        yield boto3.client("kms", region_name=REGION), boto3.client("rds", region_name=REGION)


def clients(service: str) -> Any:
    return boto3.client(service, region_name=REGION)


def key(kms: Any, tags: dict[str, str]) -> str:
    return str(kms.create_key(Tags=[{"TagKey": k, "TagValue": v} for k, v in tags.items()])[
        "KeyMetadata"]["Arn"])


def snapshot(rds: Any, key_arn: str, name: str) -> None:
    rds.create_db_cluster(DBClusterIdentifier=f"{name}-cluster", Engine="aurora-postgresql",
                          MasterUsername="tap_admin", MasterUserPassword="a-long-password",
                          StorageEncrypted=True, KmsKeyId=key_arn)
    rds.create_db_cluster_snapshot(DBClusterIdentifier=f"{name}-cluster",
                                   DBClusterSnapshotIdentifier=name)


def test_a_key_is_kept_while_it_encrypts_a_snapshot(aws: tuple[Any, Any]) -> None:
    kms, rds = aws
    retained = key(kms, {RETAIN_TAG: "final-snapshot", "Environment": "dev"})
    snapshot(rds, retained, "tap-dev-aurora-final-1")
    lines: list[str] = []
    verdicts = retained_keys.sweep(clients, apply=True, out=lines.append)
    assert [(v.key_arn, v.released) for v in verdicts] == [(retained, False)]
    automated = "rds:tap-dev-aurora-final-1-cluster-"  # the cluster's own, while it exists
    assert lines[0].startswith(f"{retained}: kept, it encrypts 2 snapshot(s): {automated}")
    assert lines[0].endswith(", tap-dev-aurora-final-1") and len(lines) == 1
    assert kms.describe_key(KeyId=retained)["KeyMetadata"]["KeyState"] == "Enabled"


def test_a_key_whose_snapshots_are_gone_is_released(aws: tuple[Any, Any]) -> None:
    kms, rds = aws
    retained = key(kms, {RETAIN_TAG: "final-snapshot"})
    untagged = key(kms, {"Environment": "dev"})
    snapshot(rds, retained, "tap-dev-aurora-final-2")
    rds.delete_db_cluster_snapshot(DBClusterSnapshotIdentifier="tap-dev-aurora-final-2")
    rds.delete_db_cluster(DBClusterIdentifier="tap-dev-aurora-final-2-cluster",
                          SkipFinalSnapshot=True)
    dry: list[str] = []
    retained_keys.sweep(clients, apply=False, window=30, out=dry.append)
    assert dry == [f"{retained}: encrypts no snapshot any more: would be scheduled for "
                   "deletion in 30 days"]
    assert kms.describe_key(KeyId=retained)["KeyMetadata"]["KeyState"] == "Enabled"
    done: list[str] = []
    retained_keys.sweep(clients, apply=True, window=30, out=done.append)
    assert done == [f"{retained}: encrypts no snapshot any more: scheduled for deletion in "
                    "30 days"]
    assert kms.describe_key(KeyId=retained)["KeyMetadata"]["KeyState"] == "PendingDeletion"
    tags = kms.list_resource_tags(KeyId=retained)["Tags"]
    assert {"TagKey": RETAIN_TAG, "TagValue": retained_keys.RELEASED} in tags
    assert kms.describe_key(KeyId=untagged)["KeyMetadata"]["KeyState"] == "Enabled"
    again: list[str] = []
    assert retained_keys.sweep(clients, apply=True, out=again.append) == []
    assert again == ["no retained data key in the region"]


def test_a_bad_window_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    assert retained_keys.main(["--window", "3"], environ={}) == 2
    assert capsys.readouterr().err == "retained_keys: --window 3: KMS waits 7-30 days\n"
