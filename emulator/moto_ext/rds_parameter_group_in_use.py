"""RDS: a DB cluster parameter group that a DB cluster uses is not deleted.

The group to delete "can't be associated with any DB clusters": while one uses it,
AWS refuses DeleteDBClusterParameterGroup with ``InvalidDBParameterGroupState``
(HTTP 400) and keeps the group. moto 5.2.5 deletes it, and the cluster goes on naming a
group that no longer exists. The stack's versioned group (``tap-<env>-aurora-pg<major>``,
create_before_destroy) relies on Terraform's order: on a major upgrade the new group is
made and the cluster moved to it before the old group goes; on destroy the cluster goes
first. Here the emulator refuses the wrong order as AWS does, so a green e2e run proves
the order. Recent provider versions retry this error code on delete for 3 minutes
before they fail (internal/service/rds/cluster_parameter_group.go), so the code matters.

The API reference gives no message; the one here follows the wording AWS returns for
a DB parameter group that instances use ("One or more database instances are still
members of this parameter group <name>, so the group cannot be deleted", e.g.
https://github.com/terraform-aws-modules/terraform-aws-rds-aurora/issues/466).
A group that does not exist is still ``DBParameterGroupNotFound`` (404), as in moto.

DeleteDBParameterGroup (instance-level groups, the same rule for DB instances) is left
as moto has it: the stack's instances use the default group, which nothing deletes.

https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_DeleteDBClusterParameterGroup.html
https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/USER_WorkingWithParamGroups.DeletingCluster.html
"""
from __future__ import annotations

from moto.rds.exceptions import RDSClientError
from moto.rds.models import RDSBackend

NAME = "rds-parameter-group-in-use"
IN_USE = ("One or more DB clusters are still members of this parameter group {name}, "
          "so the group cannot be deleted")


class DBClusterParameterGroupInUseError(RDSClientError):
    """InvalidDBParameterGroupStateFault, HTTP 400 in the RDS service model."""

    def __init__(self, group_name: str) -> None:
        super().__init__("InvalidDBParameterGroupState", IN_USE.format(name=group_name))


def clusters_using(backend: RDSBackend, group_name: str) -> list[str]:
    """Identifiers of the backend's (one account and region) clusters that use the group."""
    return sorted(identifier for identifier, cluster in backend.clusters.items()
                  if cluster.parameter_group == group_name)


def install() -> str:
    """Make DeleteDBClusterParameterGroup refuse a group that a cluster uses."""
    delete = RDSBackend.delete_db_cluster_parameter_group
    if not getattr(delete, "tap_extended", False):
        def delete_db_cluster_parameter_group(self: RDSBackend,
                                              db_cluster_parameter_group_name: str) -> None:
            name = db_cluster_parameter_group_name
            if name in self.db_cluster_parameter_groups and clusters_using(self, name):
                raise DBClusterParameterGroupInUseError(name)
            delete(self, name)
        delete_db_cluster_parameter_group.tap_extended = True  # type: ignore[attr-defined]
        RDSBackend.delete_db_cluster_parameter_group = (  # type: ignore[method-assign]
            delete_db_cluster_parameter_group)
    return NAME
