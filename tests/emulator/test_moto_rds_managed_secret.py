"""Extension rds_managed_secret: the RDS-managed master secret holds the cluster's master
username and a password of its own, says it rotates every 7 days, and RotateSecret (or
ModifyDBCluster RotateMasterUserPassword) rotates it as AWS's managed rotation does: a new
password AWSCURRENT, the old one AWSPREVIOUS, no Lambda. Secrets not owned by RDS rotate as
moto rotates them."""
from __future__ import annotations

import json
import re
import uuid
from typing import Any, Callable

import pytest
from botocore.exceptions import ClientError

from emulator.moto_ext.rds_managed_secret import EXCLUDED_CHARACTERS, PASSWORD_LENGTH


def _cluster(rds: Any, master: str = "tap_admin") -> dict[str, Any]:
    return dict(rds.create_db_cluster(
        DBClusterIdentifier=f"managed-{uuid.uuid4().hex[:8]}", Engine="aurora-postgresql",
        EngineVersion="16.6", MasterUsername=master, ManageMasterUserPassword=True,
    )["DBCluster"])


def _value(secrets: Any, arn: str, stage: str = "AWSCURRENT") -> dict[str, str]:
    return dict(json.loads(secrets.get_secret_value(SecretId=arn, VersionStage=stage)
                           ["SecretString"]))


def _check_password(password: str) -> None:
    assert len(password) == PASSWORD_LENGTH
    assert not set(password) & set(EXCLUDED_CHARACTERS)
    assert re.search(r"[a-z]", password) and re.search(r"[A-Z]", password)
    assert re.search(r"[0-9]", password) and re.search(r"[^a-zA-Z0-9]", password)


def test_the_secret_holds_the_master_username_and_a_password_of_its_own(
        client: Callable[..., Any]) -> None:
    rds, secrets = client("rds"), client("secretsmanager")
    first, second = _cluster(rds), _cluster(rds, master="other_admin")
    first_value = _value(secrets, first["MasterUserSecret"]["SecretArn"])
    second_value = _value(secrets, second["MasterUserSecret"]["SecretArn"])
    assert first_value["username"] == "tap_admin"
    assert second_value["username"] == "other_admin"
    assert set(first_value) == {"username", "password"}
    _check_password(first_value["password"])
    assert first_value["password"] != second_value["password"]
    described = secrets.describe_secret(SecretId=first["MasterUserSecret"]["SecretArn"])
    assert described["OwningService"] == "rds"
    assert described["Name"].startswith("rds!cluster-")
    assert described["RotationEnabled"] is True
    assert described["RotationRules"] == {"AutomaticallyAfterDays": 7}


def test_rotate_secret_is_managed_rotation(client: Callable[..., Any]) -> None:
    rds, secrets = client("rds"), client("secretsmanager")
    arn = _cluster(rds)["MasterUserSecret"]["SecretArn"]
    before = _value(secrets, arn)
    answer = secrets.rotate_secret(SecretId=arn)
    after = _value(secrets, arn)
    assert after["username"] == "tap_admin"
    _check_password(after["password"])
    assert after["password"] != before["password"]
    assert _value(secrets, arn, "AWSPREVIOUS") == before
    stages = secrets.describe_secret(SecretId=arn)["VersionIdsToStages"]
    assert stages[answer["VersionId"]] == ["AWSCURRENT"]
    assert sorted(stages.values()) == [["AWSCURRENT"], ["AWSPREVIOUS"]]


def test_modify_db_cluster_rotates_the_master_password(client: Callable[..., Any]) -> None:
    rds, secrets = client("rds"), client("secretsmanager")
    cluster = _cluster(rds)
    arn = cluster["MasterUserSecret"]["SecretArn"]
    before = _value(secrets, arn)
    rds.modify_db_cluster(DBClusterIdentifier=cluster["DBClusterIdentifier"],
                          RotateMasterUserPassword=True, ApplyImmediately=True)
    assert _value(secrets, arn)["password"] != before["password"]
    assert _value(secrets, arn, "AWSPREVIOUS") == before


def test_a_secret_not_owned_by_rds_rotates_as_moto_does(client: Callable[..., Any]) -> None:
    secrets = client("secretsmanager")
    arn = secrets.create_secret(Name=f"plain-{uuid.uuid4().hex[:8]}",
                                SecretString='{"password": "x"}')["ARN"]
    secrets.rotate_secret(SecretId=arn)
    # moto's own rotation without a Lambda: a new AWSCURRENT version without a value.
    with pytest.raises(ClientError) as missing:
        secrets.get_secret_value(SecretId=arn)
    assert missing.value.response["Error"]["Code"] == "ResourceNotFoundException"


def test_a_snapshot_of_a_managed_password_cluster_restores(client: Callable[..., Any]) -> None:
    rds, secrets = client("rds"), client("secretsmanager")
    cluster = _cluster(rds)
    snapshot = f"{cluster['DBClusterIdentifier']}-final"
    rds.delete_db_cluster(DBClusterIdentifier=cluster["DBClusterIdentifier"],
                          FinalDBSnapshotIdentifier=snapshot)
    restored = rds.restore_db_cluster_from_snapshot(
        DBClusterIdentifier=f"{cluster['DBClusterIdentifier']}-restored",
        SnapshotIdentifier=snapshot, Engine="aurora-postgresql")["DBCluster"]
    arn = restored["MasterUserSecret"]["SecretArn"]
    assert arn != cluster["MasterUserSecret"]["SecretArn"]
    assert _value(secrets, arn)["username"] == "tap_admin"
    _check_password(_value(secrets, arn)["password"])
