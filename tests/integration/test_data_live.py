"""Data tier, live: Aurora Serverless v2, the serverless cache, and their secrets.

On the shared pieces (``Settings.shared``) the cluster and the cache are the shared stack's, made
with its profile (``pieces_profile``); the environment has no master secret (``db_secret_arn``
is empty) and its ``redis_secret_arn`` is its own cache user's password."""
# pylint: disable=redefined-outer-name
from __future__ import annotations

import json
from typing import Any

import pytest

from lib.config import Profile, Settings
from lib.naming import Names
from tests.integration.live import Clients, answer, assert_secret_kms_encrypted, optional
from tests.integration.outputs import Outputs

DB_ENGINE = "aurora-postgresql"


@pytest.fixture(scope="module")
def cluster(aws: Clients, outputs: Outputs) -> dict[str, Any]:
    identifier = outputs.require("aurora_cluster_identifier")
    (found,) = aws("rds").describe_db_clusters(DBClusterIdentifier=identifier)["DBClusters"]
    return found


@pytest.fixture(scope="module")
def cache(aws: Clients, outputs: Outputs, emulator: bool) -> dict[str, Any]:
    name = outputs.require("redis_cache_name")
    (found,) = answer(emulator, lambda: aws("elasticache").describe_serverless_caches(
        ServerlessCacheName=name)["ServerlessCaches"], "DescribeServerlessCaches")
    return found


def test_aurora_cluster_is_available_and_encrypted(cluster: dict[str, Any], settings: Settings,
                                                   outputs: Outputs) -> None:
    assert cluster["Status"] == "available"
    assert (cluster["Engine"], cluster["EngineMode"]) == (DB_ENGINE, "provisioned")
    assert cluster["EngineVersion"] == settings.db_engine_version
    assert cluster["StorageEncrypted"] is True and cluster["KmsKeyId"]
    assert cluster["Endpoint"] == outputs.require("aurora_cluster_endpoint")
    assert cluster["ReaderEndpoint"] == outputs.require("aurora_reader_endpoint")


def test_aurora_serverless_v2_capacity_per_profile(cluster: dict[str, Any],
                                                   pieces_profile: Profile,
                                                   emulator: bool) -> None:
    profile = pieces_profile
    scaling = cluster["ServerlessV2ScalingConfiguration"]
    assert (scaling["MinCapacity"], scaling["MaxCapacity"]) == (profile.db_min_acu,
                                                                profile.db_max_acu)
    if profile.db_min_acu == 0:
        assert optional(emulator, scaling, "SecondsUntilAutoPause", "Aurora auto-pause") == \
            profile.db_auto_pause_seconds


def test_aurora_protection_and_backups_per_profile(cluster: dict[str, Any],
                                                   pieces_profile: Profile) -> None:
    assert cluster["DeletionProtection"] is pieces_profile.deletion_protection
    assert cluster["BackupRetentionPeriod"] == pieces_profile.db_backup_retention_days


def test_aurora_instances_are_serverless(aws: Clients, cluster: dict[str, Any],
                                         pieces_profile: Profile) -> None:
    members = cluster["DBClusterMembers"]
    assert len(members) == pieces_profile.db_instance_count
    assert sum(member["IsClusterWriter"] for member in members) == 1
    for member in members:
        (instance,) = aws("rds").describe_db_instances(
            DBInstanceIdentifier=member["DBInstanceIdentifier"])["DBInstances"]
        assert instance["DBInstanceClass"] == "db.serverless"
        assert instance["DBInstanceStatus"] == "available"
        assert instance["PubliclyAccessible"] is False


def test_aurora_lives_in_the_isolated_subnets(aws: Clients, cluster: dict[str, Any],
                                              outputs: Outputs) -> None:
    (group,) = aws("rds").describe_db_subnet_groups(
        DBSubnetGroupName=cluster["DBSubnetGroup"])["DBSubnetGroups"]
    assert {subnet["SubnetIdentifier"] for subnet in group["Subnets"]} == \
        set(outputs.require_list("isolated_subnet_ids"))


def test_aurora_managed_master_secret(aws: Clients, cluster: dict[str, Any],
                                      outputs: Outputs, settings: Settings) -> None:
    """The master secret is RDS-managed; on the shared pieces it is the shared stack's and
    the environment is not given it."""
    secret = cluster["MasterUserSecret"]
    if settings.shared is None:
        assert secret["SecretArn"] == outputs.require("db_secret_arn")
    else:
        assert outputs.value("db_secret_arn") == ""
    assert secret["KmsKeyId"]
    assert_secret_kms_encrypted(aws, secret["SecretArn"])


def test_cache_is_available_with_profile_limits(cache: dict[str, Any], settings: Settings,
                                                outputs: Outputs,
                                                pieces_profile: Profile) -> None:
    profile = pieces_profile
    assert cache["Status"] == "available"
    assert cache["Engine"] == settings.cache_engine
    limits = cache["CacheUsageLimits"]
    storage, ecpu = limits["DataStorage"], limits["ECPUPerSecond"]
    assert (storage["Maximum"], storage["Unit"]) == (profile.cache_max_storage_gb, "GB")
    assert ecpu["Maximum"] == profile.cache_max_ecpu_per_second
    assert cache["SnapshotRetentionLimit"] == profile.cache_snapshot_retention_days
    assert cache["KmsKeyId"]
    assert cache["Endpoint"]["Address"] == outputs.require("redis_endpoint")
    assert set(cache["SubnetIds"]) == set(outputs.require_list("private_subnet_ids"))


def test_cache_connection_secret(aws: Clients, outputs: Outputs, names: Names,
                                 settings: Settings) -> None:
    """The cache's connection secret; on the shared pieces, the environment's own cache
    user's (its name and password, lib/shared_tenancy.py)."""
    secret = assert_secret_kms_encrypted(aws, outputs.require("redis_secret_arn"))
    if settings.shared is None:
        assert secret["Name"].startswith(names.cache_secret_prefix), secret["Name"]
        return
    assert secret["Name"].startswith(names.cache_user_secret_prefix), secret["Name"]
    value = json.loads(aws("secretsmanager").get_secret_value(
        SecretId=secret["ARN"])["SecretString"])
    assert (sorted(value), value["username"]) == (["password", "username"], names.cache_user)
