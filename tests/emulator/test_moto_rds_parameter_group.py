"""Extension rds_parameter_group_in_use: DeleteDBClusterParameterGroup is refused while
a DB cluster uses the group, as in AWS (moto 5.2.5 deletes it); once no cluster uses it,
whether moved to another group or deleted, the group deletes as before, in the orders
the stack's Terraform runs. The tests that check a refusal fail on plain moto; the last
one (a group no cluster uses) documents what moto already does."""
from __future__ import annotations

from typing import Any, Callable

import pytest
from botocore.exceptions import ClientError

from emulator.moto_ext import rds_parameter_group_in_use
from emulator.moto_ext.rds_parameter_group_in_use import IN_USE, NAME


def _group(rds: Any, name: str, major: str = "16") -> str:
    rds.create_db_cluster_parameter_group(
        DBClusterParameterGroupName=name, DBParameterGroupFamily=f"aurora-postgresql{major}",
        Description=f"Aurora test group {name}")
    return name


def _cluster(rds: Any, identifier: str, group: str, version: str = "16.6") -> None:
    rds.create_db_cluster(
        DBClusterIdentifier=identifier, Engine="aurora-postgresql", EngineVersion=version,
        MasterUsername="admin", MasterUserPassword="not-a-secret-1",
        DBClusterParameterGroupName=group)


def _groups(rds: Any) -> set[str]:
    answer = rds.describe_db_cluster_parameter_groups()["DBClusterParameterGroups"]
    return {group["DBClusterParameterGroupName"] for group in answer}


def _cluster_group(rds: Any, identifier: str) -> str:
    (cluster,) = rds.describe_db_clusters(DBClusterIdentifier=identifier)["DBClusters"]
    return str(cluster["DBClusterParameterGroup"])


def _refused_in_use(rds: Any, name: str) -> None:
    with pytest.raises(ClientError) as refused:
        rds.delete_db_cluster_parameter_group(DBClusterParameterGroupName=name)
    assert refused.value.response["Error"] == {"Code": "InvalidDBParameterGroupState",
                                               "Message": IN_USE.format(name=name),
                                               "Type": "Sender"}
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert name in _groups(rds)


def test_a_group_in_use_is_not_deleted(client: Callable[..., Any]) -> None:
    rds = client("rds")
    group = _group(rds, "tap-inuse-aurora-pg16")
    _cluster(rds, "aurora-inuse", group)
    assert _cluster_group(rds, "aurora-inuse") == group
    _refused_in_use(rds, group)
    _refused_in_use(rds, group)  # nothing changed: refused again
    assert _cluster_group(rds, "aurora-inuse") == group


def test_the_old_group_deletes_once_the_cluster_moved_to_the_new_one(
        client: Callable[..., Any]) -> None:
    """The stack's major upgrade: the new group first, the cluster moved to it, then the
    old group deleted; the new one is then the group in use."""
    rds = client("rds")
    old = _group(rds, "tap-upgrade-aurora-pg15", major="15")
    _cluster(rds, "aurora-upgrade", old, version="15.10")
    new = _group(rds, "tap-upgrade-aurora-pg16")
    _refused_in_use(rds, old)
    rds.modify_db_cluster(DBClusterIdentifier="aurora-upgrade", EngineVersion="16.6",
                          AllowMajorVersionUpgrade=True, DBClusterParameterGroupName=new,
                          ApplyImmediately=True)
    assert _cluster_group(rds, "aurora-upgrade") == new
    rds.delete_db_cluster_parameter_group(DBClusterParameterGroupName=old)
    assert old not in _groups(rds)
    _refused_in_use(rds, new)


def test_the_group_deletes_after_the_cluster(client: Callable[..., Any]) -> None:
    """The stack's destroy: the cluster first, then its group."""
    rds = client("rds")
    group = _group(rds, "tap-destroy-aurora-pg16")
    _cluster(rds, "aurora-destroy", group)
    _refused_in_use(rds, group)
    rds.delete_db_cluster(DBClusterIdentifier="aurora-destroy", SkipFinalSnapshot=True)
    rds.delete_db_cluster_parameter_group(DBClusterParameterGroupName=group)
    assert group not in _groups(rds)


def test_a_group_no_cluster_uses_deletes(client: Callable[..., Any]) -> None:
    """Clusters count in their own region only; a missing group is still not found."""
    rds, west = client("rds"), client("rds", region="us-west-2")
    group = _group(rds, "tap-unused-aurora-pg16")
    rds.delete_db_cluster_parameter_group(DBClusterParameterGroupName=group)
    assert group not in _groups(rds)
    _cluster(rds, "aurora-east", _group(rds, "tap-shared-aurora-pg16"))
    _group(west, "tap-shared-aurora-pg16")
    west.delete_db_cluster_parameter_group(DBClusterParameterGroupName="tap-shared-aurora-pg16")
    assert "tap-shared-aurora-pg16" not in _groups(west)
    assert "tap-shared-aurora-pg16" in _groups(rds)
    with pytest.raises(ClientError) as missing:
        rds.delete_db_cluster_parameter_group(DBClusterParameterGroupName=group)
    assert missing.value.response["Error"]["Code"] == "DBParameterGroupNotFound"
    assert missing.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404


def test_install_is_idempotent() -> None:
    assert rds_parameter_group_in_use.install() == NAME
    patched = rds_parameter_group_in_use.RDSBackend.delete_db_cluster_parameter_group
    assert getattr(patched, "tap_extended", False)
    assert rds_parameter_group_in_use.install() == NAME
    assert rds_parameter_group_in_use.RDSBackend.delete_db_cluster_parameter_group is patched
