"""Extension rds_cluster, the restore: RestoreDBClusterFromSnapshot is refused with
KMSKeyNotAccessibleFault while the snapshot's KMS key (or the key given for the new
cluster) is disabled or pending deletion, and goes through once the key is enabled again;
plain moto 5.2.5 restores under a key pending deletion (shown in a process of its own)."""
from __future__ import annotations

import itertools
from typing import Any, Callable

import pytest
from botocore.exceptions import ClientError
from moto.rds.models import rds_backends

from emulator.moto_ext import rds_cluster

_NAMES = itertools.count()


def _encrypted_snapshot(rds: Any, key_arn: str) -> str:
    """An Aurora cluster encrypted with the key, and a manual snapshot of it."""
    name = f"restore-{next(_NAMES)}"
    rds.create_db_cluster(DBClusterIdentifier=name, Engine="aurora-postgresql",
                          EngineVersion="16.6", MasterUsername="admin",
                          MasterUserPassword="not-a-secret-1", StorageEncrypted=True,
                          KmsKeyId=key_arn)
    rds.create_db_cluster_snapshot(DBClusterIdentifier=name,
                                   DBClusterSnapshotIdentifier=f"{name}-final")
    return f"{name}-final"


def _restore(rds: Any, snapshot: str, **extra: Any) -> str:
    identifier = f"{snapshot}-restored-{next(_NAMES)}"
    rds.restore_db_cluster_from_snapshot(DBClusterIdentifier=identifier,
                                         SnapshotIdentifier=snapshot,
                                         Engine="aurora-postgresql", **extra)
    return identifier


def _refused(rds: Any, snapshot: str, key: str, **extra: Any) -> None:
    with pytest.raises(ClientError) as refused:
        _restore(rds, snapshot, **extra)
    assert refused.value.response["Error"] == {
        "Code": "KMSKeyNotAccessibleFault", "Type": "Sender",
        "Message": f"Specified KMS key [{key}] does not exist, is not enabled or you do not "
                   "have permissions to access it."}
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def _key(kms: Any) -> tuple[str, str]:
    metadata = kms.create_key(Description="aurora")["KeyMetadata"]
    return metadata["KeyId"], metadata["Arn"]


def test_a_snapshot_whose_key_is_pending_deletion_or_disabled_is_not_restored(
        client: Callable[..., Any], plain_client: Callable[..., Any]) -> None:
    rds, kms = client("rds"), client("kms")
    key_id, key_arn = _key(kms)
    snapshot = _encrypted_snapshot(rds, key_arn)
    (read,) = rds.describe_db_cluster_snapshots(
        DBClusterSnapshotIdentifier=snapshot)["DBClusterSnapshots"]
    assert read["KmsKeyId"] == key_arn
    kms.schedule_key_deletion(KeyId=key_id, PendingWindowInDays=7)  # what destroy does
    _refused(rds, snapshot, key_arn)
    kms.cancel_key_deletion(KeyId=key_id)  # the key is then Disabled
    assert kms.describe_key(KeyId=key_id)["KeyMetadata"]["KeyState"] == "Disabled"
    _refused(rds, snapshot, key_arn)
    kms.enable_key(KeyId=key_id)
    restored = _restore(rds, snapshot)
    (cluster,) = rds.describe_db_clusters(DBClusterIdentifier=restored)["DBClusters"]
    assert (cluster["StorageEncrypted"], cluster["KmsKeyId"]) == (True, key_arn)

    plain_rds, plain_kms = plain_client("rds"), plain_client("kms")
    key_id, key_arn = _key(plain_kms)
    snapshot = _encrypted_snapshot(plain_rds, key_arn)
    plain_kms.schedule_key_deletion(KeyId=key_id, PendingWindowInDays=7)
    restored = _restore(plain_rds, snapshot)
    assert plain_rds.describe_db_clusters(DBClusterIdentifier=restored)["DBClusters"]


def test_a_disabled_key_for_the_new_cluster_is_refused_too(client: Callable[..., Any]) -> None:
    rds, kms = client("rds"), client("kms")
    _, snapshot_key = _key(kms)
    snapshot = _encrypted_snapshot(rds, snapshot_key)
    new_id, new_arn = _key(kms)
    kms.disable_key(KeyId=new_id)
    _refused(rds, snapshot, new_arn, KmsKeyId=new_arn)
    kms.enable_key(KeyId=new_id)
    restored = _restore(rds, snapshot, KmsKeyId=new_arn)
    (cluster,) = rds.describe_db_clusters(DBClusterIdentifier=restored)["DBClusters"]
    assert cluster["KmsKeyId"] == new_arn


@pytest.mark.parametrize("form", ["id", "arn", "alias", "alias-arn"])
def test_key_unusable_reads_every_form_of_a_key_id(client: Callable[..., Any],
                                                   form: str) -> None:
    kms = client("kms")
    key_id, key_arn = _key(kms)
    alias = f"alias/restore-{next(_NAMES)}"
    kms.create_alias(AliasName=alias, TargetKeyId=key_id)
    name = {"id": key_id, "arn": key_arn, "alias": alias,
            "alias-arn": f"arn:aws:kms:us-east-1:123456789012:{alias}"}[form]
    backend = rds_backends["123456789012"]["us-east-1"]  # the in-process emulator's
    assert not rds_cluster.key_unusable(backend, name)
    kms.disable_key(KeyId=key_id)
    assert rds_cluster.key_unusable(backend, name)
    # Keys the emulator's KMS does not hold are moto's business, as before.
    assert not rds_cluster.key_unusable(backend, "default_kms_key_id")
    assert not rds_cluster.key_unusable(backend, "alias/none-such")
    assert not rds_cluster.key_unusable(backend, None)


def test_the_snapshot_is_named_by_its_arn_too(client: Callable[..., Any],
                                              plain_client: Callable[..., Any]) -> None:
    """SnapshotIdentifier takes "the name or the Amazon Resource Name (ARN)" (the API
    reference); plain moto 5.2.5 looks the ARN up as a name and finds nothing."""
    rds, kms = client("rds"), client("kms")
    snapshot = _encrypted_snapshot(rds, _key(kms)[1])
    (read,) = rds.describe_db_cluster_snapshots(
        DBClusterSnapshotIdentifier=snapshot)["DBClusterSnapshots"]
    restored = _restore(rds, read["DBClusterSnapshotArn"])
    assert rds.describe_db_clusters(DBClusterIdentifier=restored)["DBClusters"]

    plain_rds = plain_client("rds")
    snapshot = _encrypted_snapshot(plain_rds, _key(plain_client("kms"))[1])
    (read,) = plain_rds.describe_db_cluster_snapshots(
        DBClusterSnapshotIdentifier=snapshot)["DBClusterSnapshots"]
    with pytest.raises(ClientError) as refused:
        _restore(plain_rds, read["DBClusterSnapshotArn"])
    assert refused.value.response["Error"]["Code"] == "DBClusterSnapshotNotFoundFault"


def test_iam_authentication_is_off_after_a_restore_and_modify_turns_it_on(
        client: Callable[..., Any], plain_client: Callable[..., Any]) -> None:
    """A restore without EnableIAMDatabaseAuthentication has it off, as AWS ("By default,
    mapping isn't enabled"), whatever the snapshot's cluster had: the provider's restore never
    sends it (terraform-provider-aws #35189). ModifyDBCluster turns it on; plain moto 5.2.5
    stores the request where DescribeDBClusters never looks."""
    def iam(rds: Any, cluster: str) -> bool:
        (read,) = rds.describe_db_clusters(DBClusterIdentifier=cluster)["DBClusters"]
        return bool(read["IAMDatabaseAuthenticationEnabled"])

    for make, extended in ((client, True), (plain_client, False)):
        rds = make("rds")
        name = f"iam-{next(_NAMES)}"
        rds.create_db_cluster(DBClusterIdentifier=name, Engine="aurora-postgresql",
                              EngineVersion="16.6", MasterUsername="admin",
                              MasterUserPassword="not-a-secret-1",
                              EnableIAMDatabaseAuthentication=True)
        assert iam(rds, name)
        rds.create_db_cluster_snapshot(DBClusterIdentifier=name,
                                       DBClusterSnapshotIdentifier=f"{name}-final")
        restored = _restore(rds, f"{name}-final")
        assert not iam(rds, restored)
        answer = rds.modify_db_cluster(DBClusterIdentifier=restored, ApplyImmediately=True,
                                       EnableIAMDatabaseAuthentication=True)["DBCluster"]
        assert iam(rds, restored) is extended
        assert answer["IAMDatabaseAuthenticationEnabled"] is extended
        if extended:
            rds.modify_db_cluster(DBClusterIdentifier=restored, ApplyImmediately=True,
                                  EnableIAMDatabaseAuthentication=False)
            assert not iam(rds, restored)
