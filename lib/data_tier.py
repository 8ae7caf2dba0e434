"""Data tier: the data key, Aurora PostgreSQL Serverless v2, ElastiCache Serverless, secrets.

Creates
- one customer-managed KMS key for the whole tier (rotation, alias, deletion window per
  profile). One key rather than one per purpose: everything it protects (database
  storage, Performance Insights, the RDS-managed credentials, the cache, the cache's
  connection secret) has the same owner, lifecycle and readers, so more keys would add
  cost and policy surface without separating anyone; and the task execution role then
  needs decrypt on exactly one key. Its policy lets principals of this account use it
  only through RDS, Secrets Manager and ElastiCache in this region.
- an Aurora PostgreSQL cluster of ``db.serverless`` instances in the isolated subnets:
  ACU range per profile (the ephemeral profile scales to 0 and auto-pauses), storage and
  Performance Insights encrypted with the data key, RDS-managed master credentials in
  Secrets Manager (no password anywhere in code, JSON or state), IAM authentication, a
  cluster parameter group that forces TLS and logs connections, slow statements and DDL,
  log exports to a retention-bound, encrypted log group, enhanced monitoring where the
  profile asks for it, backup/maintenance windows, deletion protection and final
  snapshot per profile, and the writer plus readers spread over the AZs.
- one ElastiCache Serverless cache (``CacheProps.engine``, Valkey by default: the
  same protocol and clients as Redis OSS 7.2, an open-source licence, and a lower price
  and 100 MB minimum on serverless) with its major version pinned, in the private
  subnets, encrypted with the data key, usage limits and snapshots per profile.
- the database's and the cache's security groups, empty: their rules (only the tasks, on
  5432 and 6379-6380, 6380 being the serverless reader endpoint) are in lib/firewall.py.
- a Secrets Manager secret with the cache's connection JSON, built by Terraform at apply
  from the cache's real endpoints (never a placeholder).

The shared stack (lib/shared_stack.py) builds the same tier with the RDS Data API on
(``DatabaseProps.data_api``: tools/shared_database.py makes each environment's database through
it), the cache behind the user group it gives (``CacheProps.user_group_id``) and no connection
secret (each environment has its own cache user and secret). The ephemeral profile gives the
tier the environment's one regional key (``DataTierProps.key_arn``) instead of its own.

Exposes ``exports`` (``DataExports``: endpoints, ports, names, the master secret, the
cache's connection secret, the data key and the two security groups, as tokens).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

from cdktf import (AssetType, DataResource, Fn, LocalExecProvisioner, Postcondition,
                   TerraformAsset, TerraformResourceLifecycle, Token)
from cdktf_cdktf_provider_aws.cloudwatch_log_group import CloudwatchLogGroup
from cdktf_cdktf_provider_aws.data_aws_db_cluster_snapshot import DataAwsDbClusterSnapshot
from cdktf_cdktf_provider_aws.db_subnet_group import DbSubnetGroup
from cdktf_cdktf_provider_aws.elasticache_serverless_cache import (
    ElasticacheServerlessCache,
    ElasticacheServerlessCacheCacheUsageLimits,
    ElasticacheServerlessCacheCacheUsageLimitsDataStorage,
    ElasticacheServerlessCacheCacheUsageLimitsEcpuPerSecond,
    ElasticacheServerlessCacheEndpointOutputReference,
    ElasticacheServerlessCacheReaderEndpointOutputReference,
)
from cdktf_cdktf_provider_aws.iam_role import IamRole
from cdktf_cdktf_provider_aws.iam_role_policy_attachment import IamRolePolicyAttachment
from cdktf_cdktf_provider_aws.rds_cluster import (
    RdsCluster,
    RdsClusterServerlessv2ScalingConfiguration,
)
from cdktf_cdktf_provider_aws.rds_cluster_instance import RdsClusterInstance
from cdktf_cdktf_provider_aws.rds_cluster_parameter_group import (
    RdsClusterParameterGroup,
    RdsClusterParameterGroupParameter,
)
from cdktf_cdktf_provider_aws.secretsmanager_secret import SecretsmanagerSecret
from cdktf_cdktf_provider_aws.secretsmanager_secret_version import SecretsmanagerSecretVersion
from cdktf_cdktf_provider_aws.security_group import SecurityGroup
from constructs import Construct

from lib.deploy_scripts import python_command, script
from lib.kms import CustomerKey, KeyProps
from lib.naming import SNAPSHOT_UNIQUE_CHARS, Names
from lib.policies import service_trust, statement

DB_ENGINE = "aurora-postgresql"
DB_PORT = 5432
DB_NAME = "tap"
DB_MASTER_USERNAME = "tap_admin"
# The application's own role: IAM authentication only (a member of rds_iam), least privilege.
# Its release creates it (the reference application's app/migrate.py); the service's task role
# may connect as exactly this user (rds-db:connect).
DB_APP_USERNAME = "tap_app"
# Serverless caches listen on 6379 (primary endpoint) and 6380 (reader endpoint).
CACHE_PORTS = (6379, 6380)
# Major versions pinned per engine: Valkey 8 and Redis OSS 7 are the newest majors
# ElastiCache Serverless offers for each.
CACHE_MAJOR_VERSIONS = {"valkey": "8", "redis": "7"}
# UTC windows in the quietest hours; the maintenance window follows the backup window
# so that the two never overlap.
BACKUP_WINDOW = "03:00-04:00"
MAINTENANCE_WINDOW = "sun:04:30-sun:05:30"
CACHE_SNAPSHOT_TIME = "03:00"
# Seven days of Performance Insights history are free of charge.
PERFORMANCE_INSIGHTS_RETENTION_DAYS = 7
MONITORING_POLICY_ARN = "arn:aws:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole"
# What an operator needs from PostgreSQL's own log: who connected and when, anything
# slower than a second, schema changes, and lock waits.
DB_LOG_PARAMETERS = {
    "log_connections": "1",
    "log_disconnections": "1",
    "log_min_duration_statement": "1000",
    "log_statement": "ddl",
    "log_lock_waits": "1",
}
AUTO_PAUSE_RANGE = (300, 86400)  # seconds, the range RDS accepts
RESTORE_RUNNER = script("restored_cluster.py")


@dataclass(frozen=True, kw_only=True)
class DatabaseProps:  # pylint: disable=too-many-instance-attributes
    """The Aurora cluster's settings (one profile's, with ALLOW_DESTROY applied)."""

    engine_version: str  # MAJOR.MINOR, validated by lib.config
    min_acu: float  # 0: scales to 0 and auto-pauses after ``auto_pause_seconds``
    max_acu: float
    auto_pause_seconds: int  # 0: never pauses (needs min_acu > 0)
    instance_count: int  # the writer and its readers, 1-16
    backup_retention_days: int
    deletion_protection: bool
    skip_final_snapshot: bool
    performance_insights: bool
    monitoring_interval_seconds: int  # enhanced monitoring; 0: off
    # Create the cluster from this snapshot (DB_SNAPSHOT_IDENTIFIER); the setting counts only
    # when the cluster is created (snapshot_identifier is ignored afterwards).
    snapshot_identifier: str | None = None
    # The RDS Data API (the cluster's HTTP endpoint): Aurora PostgreSQL Serverless v2 and
    # provisioned clusters from 16.1 ("Supported Regions and Aurora DB engines for RDS Data
    # API"); the shared stack's. Default: off.
    data_api: bool = False

@dataclass(frozen=True, kw_only=True)
class CacheProps:
    """The serverless cache's settings."""

    engine: str  # valkey or redis
    max_storage_gb: int
    max_ecpu_per_second: int
    snapshot_retention_days: int  # 0: no snapshots
    user_group_id: str | None = None  # RBAC users (the shared stack's); None: the default user


@dataclass(frozen=True, kw_only=True)
class DataTierProps:  # pylint: disable=too-many-instance-attributes
    """Inputs of the data tier."""

    names: Names
    account_id: str  # token of aws_caller_identity
    region: str
    vpc_id: str
    isolated_subnet_ids: Sequence[str]  # the database
    private_subnet_ids: Sequence[str]  # the cache
    availability_zones: Sequence[str]  # of the isolated subnets, for the instances
    logs_key_arn: str  # the database's log group
    database: DatabaseProps
    cache: CacheProps
    log_retention_days: int
    kms_deletion_window_days: int
    secret_recovery_window_days: int  # the cache's connection secret
    key_arn: str | None = None  # the data key, given; None: the tier makes its own
    connection_secret: bool = True  # the cache's connection secret (not: the shared stack)


@dataclass(frozen=True, kw_only=True)
class DataExports:  # pylint: disable=too-many-instance-attributes
    """What the other tiers read of the data tier (tokens)."""

    db_cluster_identifier: str
    # The cluster's resource id (cluster-ABCDEFGHIJKL): IAM authentication's resource names it.
    db_resource_id: str
    db_endpoint: str
    db_reader_endpoint: str
    db_port: int
    db_name: str
    # RDS creates and rotates this secret; its JSON holds "username" and "password". None: the
    # shared cluster's, which no environment reads (its deploy makes its database and roles).
    db_secret_arn: str | None
    db_security_group_id: str | None  # None: the shared cluster's groups (lib/shared_tenancy.py)
    cache_name: str
    cache_endpoint: str
    cache_reader_endpoint: str
    cache_port: str  # a string token: it goes into environment values as is
    cache_secret_arn: str | None  # None: no connection secret (the shared stack)
    cache_security_group_id: str | None  # None: the shared cache's groups
    key_arn: str  # the data key: storage, the master secret, the cache, its secret
    # The application's database role (IAM authentication); in the shared cluster its own.
    db_app_username: str = DB_APP_USERNAME
    # On the shared cache: the environment's own user, the secret whose JSON key "password" is
    # its password, and the prefix of every key it may touch. None: the cache's default user.
    cache_username: str | None = None
    cache_password_secret_arn: str | None = None
    cache_key_prefix: str | None = None
    db_cluster_arn: str | None = None  # the shared stack's outputs
    cache_arn: str | None = None


def check_database(database: DatabaseProps) -> None:
    """Raise ``ValueError`` for database values that cannot work together."""
    if not 0 <= database.min_acu <= database.max_acu:
        raise ValueError(f"db ACU range must satisfy 0 <= min <= max, got "
                         f"{database.min_acu}-{database.max_acu}")
    low, high = AUTO_PAUSE_RANGE
    if database.min_acu == 0 and not low <= database.auto_pause_seconds <= high:
        raise ValueError(f"a 0 ACU minimum needs db_auto_pause_seconds in {low}-{high}, "
                         f"got {database.auto_pause_seconds}")
    if database.min_acu > 0 and database.auto_pause_seconds:
        raise ValueError("db_auto_pause_seconds needs db_min_acu = 0 (only an instance "
                         "that scales to 0 ACU pauses)")
    if not 1 <= database.instance_count <= 16:
        raise ValueError(f"db_instance_count must be 1-16, got {database.instance_count}")


def data_key_statement(account_id: str, region: str) -> dict[str, Any]:
    """Use of the data key by this account's principals, only through the data services."""
    return statement(
        sid="DataServices",
        principal={"AWS": f"arn:aws:iam::{account_id}:root"},
        actions=["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*",
                 "kms:CreateGrant", "kms:ListGrants", "kms:DescribeKey"],
        resources="*",
        condition={"StringEquals": {
            "kms:CallerAccount": account_id,
            "kms:ViaService": [f"{service}.{region}.amazonaws.com"
                               for service in ("rds", "secretsmanager", "elasticache")],
        }},
    )


def db_connect_statement(data: DataExports, region: str, account_id: str,
                         username: str = DB_APP_USERNAME) -> dict[str, Any]:
    """IAM authentication to the cluster as exactly ``username`` ("Creating and using an IAM
    policy for IAM database access": arn:aws:rds-db:<region>:<account>:dbuser:<cluster
    resource id>/<user>)."""
    return statement(
        sid="ConnectAsApplicationUser", actions=["rds-db:connect"],
        resources=[f"arn:aws:rds-db:{region}:{account_id}:dbuser:{data.db_resource_id}/"
                   f"{username}"])


def final_snapshot_identifier(names: Names, key_id: str) -> str:
    """``tap-<suffix>-aurora-final-<8 characters of the data key's id>``: unique per
    deployment (each one creates a new key), fixed at create time, and within the 63
    characters of a cluster snapshot identifier, so the snapshot can also be copied."""
    return f"{names.db_final_snapshot_prefix}{Fn.substr(key_id, 0, SNAPSHOT_UNIQUE_CHARS)}"


class DataTier(Construct):
    """The stateful part of the platform and what the service needs to reach it."""

    def __init__(self, scope: Construct, construct_id: str, *, props: DataTierProps) -> None:
        super().__init__(scope, construct_id)
        names = props.names
        check_database(props.database)
        if props.key_arn is not None and not props.database.skip_final_snapshot:
            # The final snapshot's name and survival depend on the tier's own key.
            raise ValueError("a given data key needs skip_final_snapshot: a kept final snapshot "
                             "needs the tier's own key, retained with it")
        key = CustomerKey(self, "key", props=KeyProps(
            alias=names.data_key_alias,
            description=f"Data tier of {names.prefix}: Aurora, its credentials, the cache",
            account_id=props.account_id,
            deletion_window_days=props.kms_deletion_window_days,
            service_statements=[data_key_statement(props.account_id, props.region)],
            # A final snapshot is encrypted with this key: it must outlive the environment
            # for as long as the snapshot is kept, or the snapshot can never be restored.
            retain_on_destroy=None if props.database.skip_final_snapshot else "final-snapshot",
        )) if props.key_arn is None else None
        key_arn = key.arn if key is not None else str(props.key_arn)
        db_sg = self._security_group("db", names.db_security_group,
                                     f"Aurora of {names.prefix}: tasks in", props.vpc_id)
        cache_sg = self._security_group("cache", names.cache_security_group,
                                        f"Cache of {names.prefix}: tasks in", props.vpc_id)
        cluster = self._aurora(props, key_arn, key, db_sg)
        cache = self._cache(props, key_arn, cache_sg)
        endpoint, reader = cache.endpoint.get(0), cache.reader_endpoint.get(0)
        self.exports = DataExports(
            db_cluster_identifier=cluster.cluster_identifier,
            db_resource_id=cluster.cluster_resource_id,
            db_endpoint=cluster.endpoint,
            db_reader_endpoint=cluster.reader_endpoint,
            db_port=DB_PORT,
            db_name=DB_NAME,
            db_secret_arn=cluster.master_user_secret.get(0).secret_arn,
            db_security_group_id=db_sg,
            cache_name=cache.name,
            cache_endpoint=endpoint.address,
            cache_reader_endpoint=reader.address,
            cache_port=Token.as_string(endpoint.port),
            cache_secret_arn=self._cache_secret(props, key_arn, endpoint, reader)
            if props.connection_secret else None,
            cache_security_group_id=cache_sg,
            key_arn=key_arn, db_cluster_arn=cluster.arn, cache_arn=cache.arn)

    def _security_group(self, key: str, name: str, description: str, vpc_id: str) -> str:
        """An empty security group (its rules: lib/firewall.py); returns its id."""
        return SecurityGroup(self, f"{key}-sg", name=name, vpc_id=vpc_id,
                             description=description, tags={"Name": name}).id

    def _aurora(self, props: DataTierProps, key_arn: str, key: CustomerKey | None,
                security_group_id: str) -> RdsCluster:
        names, database = props.names, props.database
        major = database.engine_version.split(".", 1)[0]
        subnets = DbSubnetGroup(self, "db-subnets", name=names.db_subnet_group,
                                subnet_ids=props.isolated_subnet_ids,
                                description=f"Isolated subnets of {names.prefix}")
        parameters = RdsClusterParameterGroup(
            self, "db-params", name=names.db_parameter_group, family=f"{DB_ENGINE}{major}",
            description=f"Aurora of {names.prefix}: TLS only, operator logging",
            # A major upgrade switches the cluster to a group of the new family, made first.
            lifecycle=TerraformResourceLifecycle(create_before_destroy=True),
            parameter=[RdsClusterParameterGroupParameter(name=name, value=value)
                       for name, value in {"rds.force_ssl": "1", **DB_LOG_PARAMETERS}.items()])
        # RDS would create this group itself, unencrypted and kept forever.
        log_group = CloudwatchLogGroup(
            self, "db-logs", name=f"/aws/rds/cluster/{names.db_cluster}/postgresql",
            retention_in_days=props.log_retention_days, kms_key_id=props.logs_key_arn)
        pauses = database.min_acu == 0
        cluster = RdsCluster(
            self, "aurora",
            cluster_identifier=names.db_cluster,
            engine=DB_ENGINE,
            engine_mode="provisioned",
            engine_version=database.engine_version,
            # DB_ENGINE_VERSION to a new major version is an in-place major upgrade, which
            # RDS refuses without this flag (ModifyDBCluster AllowMajorVersionUpgrade).
            allow_major_version_upgrade=True,
            database_name=DB_NAME,
            port=DB_PORT,
            master_username=DB_MASTER_USERNAME,
            manage_master_user_password=True,
            master_user_secret_kms_key_id=key_arn,
            storage_encrypted=True,
            kms_key_id=key_arn,
            iam_database_authentication_enabled=True,
            enable_http_endpoint=True if database.data_api else None,
            db_subnet_group_name=subnets.name,
            vpc_security_group_ids=[security_group_id],
            db_cluster_parameter_group_name=parameters.name,
            enabled_cloudwatch_logs_exports=["postgresql"],
            serverlessv2_scaling_configuration=RdsClusterServerlessv2ScalingConfiguration(
                min_capacity=database.min_acu, max_capacity=database.max_acu,
                seconds_until_auto_pause=database.auto_pause_seconds if pauses else None),
            backup_retention_period=database.backup_retention_days,
            preferred_backup_window=BACKUP_WINDOW,
            preferred_maintenance_window=MAINTENANCE_WINDOW,
            copy_tags_to_snapshot=True,
            deletion_protection=database.deletion_protection,
            skip_final_snapshot=database.skip_final_snapshot,
            final_snapshot_identifier=(None if database.skip_final_snapshot or key is None
                                       else final_snapshot_identifier(names, key.key_id)),
            snapshot_identifier=self._restore_from(database),
            # The snapshot matters only when the cluster is created: changing or unsetting
            # DB_SNAPSHOT_IDENTIFIER later must not replace the cluster (ForceNew).
            lifecycle=TerraformResourceLifecycle(ignore_changes=["snapshot_identifier"])
            if database.snapshot_identifier else None,
            depends_on=[log_group],
        )
        self._instances(props, cluster, key_arn)
        if database.snapshot_identifier:
            self._iam_auth_after_restore(props, cluster)
        return cluster

    def _iam_auth_after_restore(self, props: DataTierProps, cluster: RdsCluster) -> None:
        """IAM authentication on for a cluster restored from a snapshot: the provider's restore
        sends it nowhere (terraform-provider-aws #35189) and RDS restores with it off, so
        tools/restored_cluster.py turns it on once the cluster exists (again whenever the
        cluster is replaced by another restore)."""
        runner = TerraformAsset(self, "restore-runner", path=str(RESTORE_RUNNER),
                                type=AssetType.FILE)
        DataResource(
            self, "restored-cluster-iam-auth",
            input={"cluster": cluster.cluster_identifier, "region": props.region},
            triggers_replace={"cluster": cluster.cluster_resource_id},
            provisioners=[LocalExecProvisioner(
                type="local-exec",
                command=python_command(runner.path),
                environment={"TAP_DB_CLUSTER": "${self.input.cluster}",
                             "TAP_REGION": "${self.input.region}"})])

    def _restore_from(self, database: DatabaseProps) -> str | None:
        """The snapshot to create the cluster from, read first: the plan fails when it does
        not exist (the provider's data source) or is not an Aurora PostgreSQL snapshot."""
        if database.snapshot_identifier is None:
            return None
        snapshot = DataAwsDbClusterSnapshot(
            self, "restore-snapshot", db_cluster_snapshot_identifier=database.snapshot_identifier,
            include_shared=True,
            lifecycle=TerraformResourceLifecycle(postcondition=[Postcondition(
                condition=f'${{self.engine == "{DB_ENGINE}"}}',
                error_message=f"DB_SNAPSHOT_IDENTIFIER={database.snapshot_identifier} is a "
                              f"${{self.engine}} snapshot, not {DB_ENGINE}")]))
        return snapshot.db_cluster_snapshot_arn

    def _instances(self, props: DataTierProps, cluster: RdsCluster, key_arn: str) -> None:
        """The writer (first) and readers, one per AZ in turn; all are failover targets."""
        names, database = props.names, props.database
        zones = props.availability_zones
        monitoring_role_arn = self._monitoring_role(props)
        insights = database.performance_insights
        for index in range(database.instance_count):
            RdsClusterInstance(
                self, f"aurora-{index}",
                identifier=f"{names.db_cluster}-{index}",
                cluster_identifier=cluster.id,
                engine=cluster.engine,
                engine_version=cluster.engine_version,
                instance_class="db.serverless",
                availability_zone=zones[index % len(zones)],
                # Readers in tiers 0-1 scale with the writer, so a failover lands on an
                # instance already sized for the load.
                promotion_tier=min(index, 1),
                # The version is pinned by DB_ENGINE_VERSION; an automatic minor upgrade
                # would make Terraform try to move the cluster back.
                auto_minor_version_upgrade=False,
                preferred_maintenance_window=MAINTENANCE_WINDOW,
                copy_tags_to_snapshot=True,
                publicly_accessible=False,
                performance_insights_enabled=insights,
                performance_insights_kms_key_id=key_arn if insights else None,
                performance_insights_retention_period=(
                    PERFORMANCE_INSIGHTS_RETENTION_DAYS if insights else None),
                monitoring_interval=database.monitoring_interval_seconds,
                monitoring_role_arn=monitoring_role_arn,
            )

    def _monitoring_role(self, props: DataTierProps) -> str | None:
        """The enhanced-monitoring role, when the profile monitors at all."""
        if props.database.monitoring_interval_seconds == 0:
            return None
        role = IamRole(self, "monitoring-role", name=props.names.db_monitoring_role,
                       assume_role_policy=service_trust("monitoring.rds.amazonaws.com",
                                                        props.account_id))
        IamRolePolicyAttachment(self, "monitoring-policy", role=role.name,
                                policy_arn=MONITORING_POLICY_ARN)
        return role.arn

    def _cache(self, props: DataTierProps, key_arn: str,
               security_group_id: str) -> ElasticacheServerlessCache:
        names, cache = props.names, props.cache
        snapshots = cache.snapshot_retention_days > 0
        return ElasticacheServerlessCache(
            self, "cache",
            name=names.cache,
            engine=cache.engine,
            major_engine_version=CACHE_MAJOR_VERSIONS[cache.engine],
            description=f"Cache of {names.prefix}",
            kms_key_id=key_arn,
            security_group_ids=[security_group_id],
            subnet_ids=props.private_subnet_ids,
            cache_usage_limits=[ElasticacheServerlessCacheCacheUsageLimits(
                data_storage=[ElasticacheServerlessCacheCacheUsageLimitsDataStorage(
                    maximum=cache.max_storage_gb, unit="GB")],
                ecpu_per_second=[ElasticacheServerlessCacheCacheUsageLimitsEcpuPerSecond(
                    maximum=cache.max_ecpu_per_second)],
            )],
            snapshot_retention_limit=cache.snapshot_retention_days,
            daily_snapshot_time=CACHE_SNAPSHOT_TIME if snapshots else None,
            user_group_id=cache.user_group_id,
        )

    def _cache_secret(self, props: DataTierProps, key_arn: str,
                      endpoint: ElasticacheServerlessCacheEndpointOutputReference,
                      reader: ElasticacheServerlessCacheReaderEndpointOutputReference) -> str:
        """The cache's connection JSON, which Terraform fills from the real endpoints."""
        names = props.names
        secret = SecretsmanagerSecret(
            self, "cache-secret", name_prefix=names.cache_secret_prefix, kms_key_id=key_arn,
            description=f"Connection details of the cache of {names.prefix} (TLS only)",
            recovery_window_in_days=props.secret_recovery_window_days)
        port = Token.as_string(endpoint.port)
        SecretsmanagerSecretVersion(
            self, "cache-secret-value", secret_id=secret.id,
            secret_string=Fn.jsonencode({
                "engine": props.cache.engine,
                "host": endpoint.address,
                "port": endpoint.port,
                "reader_host": reader.address,
                "reader_port": reader.port,
                "tls": True,
                "url": f"rediss://{endpoint.address}:{port}",
            }))
        return secret.arn
