"""Aurora clusters and instances for moto, as AWS describes and deletes them.

* DescribeDBClusters in moto 5.2.5 returns a ``ScalingConfigurationInfo`` (all fields
  empty) for every cluster; AWS returns it only for ``engine_mode = serverless`` (v1).
  The provider reads the empty block into ``scaling_configuration`` and plans to fill
  it on every plan. Here a provisioned (Serverless v2) cluster has none.
* CreateDBInstance / ModifyDBInstance in moto ignore Performance Insights; the
  provider then reads ``performance_insights_enabled = false`` back for the standard
  and production profiles' instances and plans to enable it on every plan. Here
  ``EnablePerformanceInsights``, ``PerformanceInsightsKMSKeyId`` and
  ``PerformanceInsightsRetentionPeriod`` (default 7 days when enabled) are kept.
* DeleteDBCluster in moto keeps the cluster's automated snapshots; AWS deletes them
  with the cluster (DeleteAutomatedBackups defaults to true), so a destroyed
  environment would look as if it left snapshots behind. Manual (final) snapshots stay.
* DeleteDBCluster with a ``FinalDBSnapshotIdentifier`` that names an existing snapshot
  fails with ``DBClusterSnapshotAlreadyExistsFault`` in moto as in AWS, but moto has
  already deleted the cluster's managed master user secret by then: the cluster
  survives without its secret. AWS refuses the call with nothing changed; here the
  identifier is checked first.
* RestoreDBClusterFromSnapshot takes the snapshot's identifier "or the Amazon Resource Name
  (ARN)" (``SnapshotIdentifier`` in the API reference below); moto 5.2.5 looks the ARN up as
  an identifier and answers DBClusterSnapshotNotFoundFault. Here an ARN of the account's own
  snapshot in the region is read as its identifier (``snapshot_identifier``).
* RestoreDBClusterFromSnapshot in moto restores an encrypted snapshot whatever the state
  of its KMS key. AWS cannot: a disabled key "cannot be used in any cryptographic
  operation until you re-enable it", and only an ``Enabled`` key can (key states,
  https://docs.aws.amazon.com/kms/latest/developerguide/key-state.html); destroy
  schedules the environment's keys for deletion, so a kept snapshot under such a key
  cannot be restored (pitfall 31). Here a snapshot whose key, or a ``KmsKeyId`` given for
  the new cluster, is a key of the emulator's KMS in any other state than ``Enabled``
  (``Disabled``, ``PendingDeletion``) is refused with ``KMSKeyNotAccessibleFault``
  (HTTP 400, listed for the action in
  https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_RestoreDBClusterFromSnapshot.html)
  and moto's message, the one AWS gives ("... KMS key [<key>] does not exist, is not
  enabled or you do not have permissions to access it.", e.g.
  https://github.com/awslabs/aurora-snapshot-tool/issues/25). A key the emulator's KMS
  does not hold (moto's placeholder for an unnamed key) is left to moto.
* ModifyDBCluster in moto 5.2.5 stores ``EnableIAMDatabaseAuthentication`` under a name
  DescribeDBClusters never reads: the cluster keeps saying ``IAMDatabaseAuthenticationEnabled``
  false, and the emulator's databases keep refusing IAM tokens. AWS turns the mapping on or
  off (the parameter of ModifyDBCluster in the API reference). Here the cluster's setting
  follows the request. (A restore without the parameter is left off, as AWS does: "By
  default, mapping isn't enabled", RestoreDBClusterFromSnapshot; tools/restored_cluster.py
  turns it on after the provider's restore, terraform-provider-aws #35189.)

https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_DeleteDBCluster.html
https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_ModifyDBCluster.html
"""
from __future__ import annotations

import re
from typing import Any

from moto.core.responses import ActionResult
from moto.kms.models import kms_backends
from moto.rds.exceptions import DBClusterSnapshotAlreadyExistsError, KMSKeyNotAccessibleFault
from moto.rds.models import KMS_ARN_PATTERN, DBCluster, DBInstance, RDSBackend
from moto.rds.responses import RDSResponse

NAME = "rds-read-back-delete-and-restore"
DEFAULT_INSIGHTS_RETENTION_DAYS = 7


def apply_performance_insights(instance: DBInstance, params: dict[str, Any],
                               creating: bool) -> None:
    """Keep the Performance Insights settings of a create or modify request (moto's RDS
    handlers see the request parameters with snake_case names)."""
    if creating:
        instance.performance_insights_enabled = False  # type: ignore[attr-defined]
        instance.performance_insights_kms_key_id = None  # type: ignore[attr-defined]
        instance.performance_insights_retention_period = None  # type: ignore[attr-defined]
    if params.get("enable_performance_insights") is not None:
        instance.performance_insights_enabled = bool(  # type: ignore[attr-defined]
            params["enable_performance_insights"])
    for field in ("performance_insights_kms_key_id", "performance_insights_retention_period"):
        if params.get(field) is not None:
            setattr(instance, field, params[field])
    if instance.performance_insights_enabled:  # type: ignore[attr-defined]
        if not instance.performance_insights_retention_period:  # type: ignore[attr-defined]
            instance.performance_insights_retention_period = (  # type: ignore[attr-defined]
                DEFAULT_INSIGHTS_RETENTION_DAYS)
    else:
        instance.performance_insights_retention_period = None  # type: ignore[attr-defined]


def key_unusable(backend: RDSBackend, key_id: str | None) -> bool:
    """True when the key (id, ARN, alias or alias ARN) is a key of the emulator's KMS in
    the account and region it names (else the backend's) and is not ``Enabled``."""
    if not key_id:
        return False
    account, region = backend.account_id, backend.region_name
    if (match := re.fullmatch(KMS_ARN_PATTERN, key_id)) is not None:
        account, region = match.group("account_id"), match.group("region")
    kms = kms_backends[account][region]
    name = kms.get_alias_name(key_id)
    target = kms.get_key_id_from_alias(name) if name.startswith("alias/") else key_id
    key = kms.keys.get(kms.get_key_id(target)) if target else None
    return key is not None and key.key_state != "Enabled"


def _wrap_instance_call(handler: Any, creating: bool) -> Any:
    def wrapped(self: RDSResponse) -> ActionResult:
        params = dict(self.params)
        result = handler(self)
        identifier = params.get("new_db_instance_identifier") or params["db_instance_identifier"]
        (instance,) = self.backend.describe_db_instances(identifier)
        apply_performance_insights(instance, params, creating)
        return result
    return wrapped


def snapshot_identifier(backend: RDSBackend, given: str) -> str:
    """A DB cluster snapshot's identifier from its identifier or its ARN (one of the account's
    own in the backend's region; any other ARN is left as it is, for moto to refuse)."""
    prefix = f"arn:aws:rds:{backend.region_name}:{backend.account_id}:cluster-snapshot:"
    return given[len(prefix):] if given.startswith(prefix) else given


def install() -> str:
    """Patch the scaling configuration, Performance Insights, the cluster delete and the
    restore from a snapshot."""
    delete = RDSBackend.delete_db_cluster
    if getattr(delete, "tap_extended", False):
        return NAME
    original_info = DBCluster.scaling_configuration_info

    def scaling_configuration_info(self: DBCluster) -> dict[str, Any] | None:
        if self.engine_mode != "serverless":
            return None
        return original_info.fget(self)  # type: ignore[attr-defined,no-any-return]

    def delete_db_cluster(self: RDSBackend, cluster_identifier: str,
                          snapshot_name: str | None = None) -> DBCluster:
        cluster = self.clusters.get(cluster_identifier)
        if snapshot_name and snapshot_name in self.cluster_snapshots \
                and cluster is not None and not cluster.deletion_protection:
            raise DBClusterSnapshotAlreadyExistsError(snapshot_name)
        cluster = delete(self, cluster_identifier, snapshot_name)
        for name, snapshot in list(self.cluster_snapshots.items()):
            if snapshot.snapshot_type == "automated" and \
                    snapshot.db_cluster_identifier == cluster_identifier:
                del self.cluster_snapshots[name]
        return cluster

    restore = RDSBackend.restore_db_cluster_from_snapshot

    def restore_db_cluster_from_snapshot(self: RDSBackend, from_snapshot_id: str,
                                         overrides: dict[str, Any]) -> DBCluster:
        from_snapshot_id = snapshot_identifier(self, from_snapshot_id)
        (snapshot,) = self.describe_db_cluster_snapshots(
            db_cluster_identifier=None, db_snapshot_identifier=from_snapshot_id)
        for key_id in (snapshot.kms_key_id if snapshot.encrypted else None,
                       overrides.get("kms_key_id")):
            if key_unusable(self, key_id):
                raise KMSKeyNotAccessibleFault(key_id)
        return restore(self, from_snapshot_id, overrides)

    modify = RDSBackend.modify_db_cluster

    def modify_db_cluster(self: RDSBackend, kwargs: dict[str, Any]) -> DBCluster:
        iam = kwargs.get("enable_iam_database_authentication")
        answer = modify(self, kwargs)
        if iam is not None:
            self.clusters[answer.db_cluster_identifier].iam_auth = bool(iam)
            answer.iam_auth = bool(iam)
        return answer

    delete_db_cluster.tap_extended = True  # type: ignore[attr-defined]
    RDSBackend.modify_db_cluster = modify_db_cluster  # type: ignore[method-assign]
    RDSResponse.create_db_instance = _wrap_instance_call(  # type: ignore[method-assign]
        RDSResponse.create_db_instance, creating=True)
    RDSResponse.modify_db_instance = _wrap_instance_call(  # type: ignore[method-assign]
        RDSResponse.modify_db_instance, creating=False)
    DBCluster.scaling_configuration_info = property(  # type: ignore[assignment,method-assign]
        scaling_configuration_info)
    RDSBackend.delete_db_cluster = delete_db_cluster  # type: ignore[method-assign]
    RDSBackend.restore_db_cluster_from_snapshot = (  # type: ignore[method-assign]
        restore_db_cluster_from_snapshot)
    return NAME
