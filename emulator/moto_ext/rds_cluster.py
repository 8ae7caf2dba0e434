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

https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_DeleteDBCluster.html
"""
from __future__ import annotations

from typing import Any

from moto.core.responses import ActionResult
from moto.rds.exceptions import DBClusterSnapshotAlreadyExistsError
from moto.rds.models import DBCluster, DBInstance, RDSBackend
from moto.rds.responses import RDSResponse

NAME = "rds-read-back-and-delete"
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


def _wrap_instance_call(handler: Any, creating: bool) -> Any:
    def wrapped(self: RDSResponse) -> ActionResult:
        params = dict(self.params)
        result = handler(self)
        identifier = params.get("new_db_instance_identifier") or params["db_instance_identifier"]
        (instance,) = self.backend.describe_db_instances(identifier)
        apply_performance_insights(instance, params, creating)
        return result
    return wrapped


def install() -> str:
    """Patch the scaling configuration, Performance Insights and the cluster delete."""
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

    delete_db_cluster.tap_extended = True  # type: ignore[attr-defined]
    RDSResponse.create_db_instance = _wrap_instance_call(  # type: ignore[method-assign]
        RDSResponse.create_db_instance, creating=True)
    RDSResponse.modify_db_instance = _wrap_instance_call(  # type: ignore[method-assign]
        RDSResponse.modify_db_instance, creating=False)
    DBCluster.scaling_configuration_info = property(  # type: ignore[assignment,method-assign]
        scaling_configuration_info)
    RDSBackend.delete_db_cluster = delete_db_cluster  # type: ignore[method-assign]
    return NAME
