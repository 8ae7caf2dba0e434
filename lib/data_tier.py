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
- one ElastiCache Serverless cache (``settings.cache_engine``, Valkey by default: the
  same protocol and clients as Redis OSS 7.2, an open-source licence, and a lower price
  and 100 MB minimum on serverless) with its major version pinned, in the private
  subnets, encrypted with the data key, usage limits and snapshots per profile.
- security groups admitting only the tasks' security group (5432 to the database,
  6379-6380 to the cache, 6380 being the serverless reader endpoint), and the matching
  egress rules on the tasks' group; all rules are separate resources.
- a Secrets Manager secret with the cache's connection JSON, built by Terraform at apply
  from the cache's real endpoints (never a placeholder).

Exposes ``db_cluster_identifier``, ``db_endpoint``, ``db_reader_endpoint``, ``db_port``,
``db_name``, ``db_secret_arn``, ``cache_name``, ``cache_endpoint``,
``cache_reader_endpoint``, ``cache_port``, ``cache_secret_arn``, ``key_arn`` and, for the
task definition, ``container_environment``, ``container_secrets``, ``secret_arns`` (what
the execution role reads) and ``key_arns`` (what it decrypts with).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cdktf import Fn, TerraformResourceLifecycle, Token
from cdktf_cdktf_provider_aws.cloudwatch_log_group import CloudwatchLogGroup
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
from cdktf_cdktf_provider_aws.vpc_security_group_egress_rule import VpcSecurityGroupEgressRule
from cdktf_cdktf_provider_aws.vpc_security_group_ingress_rule import VpcSecurityGroupIngressRule
from constructs import Construct

from lib.config import Profile, Settings
from lib.kms import CustomerKey, KeyProps
from lib.naming import SNAPSHOT_UNIQUE_CHARS, Names
from lib.network import Network
from lib.policies import service_trust, statement

DB_ENGINE = "aurora-postgresql"
DB_PORT = 5432
DB_NAME = "tap"
DB_MASTER_USERNAME = "tap_admin"
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


@dataclass(frozen=True, kw_only=True)
class DataTierProps:
    """Inputs of the data tier."""

    settings: Settings
    names: Names
    account_id: str  # token of aws_caller_identity
    network: Network  # subnets, the tasks' security group, the logs key


def check_profile(profile: Profile) -> None:
    """Raise ``ValueError`` for data-tier values that cannot work together."""
    if not 0 <= profile.db_min_acu <= profile.db_max_acu:
        raise ValueError(f"db ACU range must satisfy 0 <= min <= max, got "
                         f"{profile.db_min_acu}-{profile.db_max_acu}")
    low, high = AUTO_PAUSE_RANGE
    if profile.db_min_acu == 0 and not low <= profile.db_auto_pause_seconds <= high:
        raise ValueError(f"a 0 ACU minimum needs db_auto_pause_seconds in {low}-{high}, "
                         f"got {profile.db_auto_pause_seconds}")
    if profile.db_min_acu > 0 and profile.db_auto_pause_seconds:
        raise ValueError("db_auto_pause_seconds needs db_min_acu = 0 (only an instance "
                         "that scales to 0 ACU pauses)")
    if not 1 <= profile.db_instance_count <= 16:
        raise ValueError(f"db_instance_count must be 1-16, got {profile.db_instance_count}")


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


def final_snapshot_identifier(names: Names, key_id: str) -> str:
    """``tap-<suffix>-aurora-final-<8 characters of the data key's id>``: unique per
    deployment (each one creates a new key), fixed at create time, and within the 63
    characters of a cluster snapshot identifier, so the snapshot can also be copied."""
    return f"{names.db_final_snapshot_prefix}{Fn.substr(key_id, 0, SNAPSHOT_UNIQUE_CHARS)}"


class DataTier(Construct):  # pylint: disable=too-many-instance-attributes
    """The stateful part of the platform and what the service needs to reach it."""

    def __init__(self, scope: Construct, construct_id: str, *, props: DataTierProps) -> None:
        super().__init__(scope, construct_id)
        settings, names = props.settings, props.names
        check_profile(settings.profile)
        key = CustomerKey(self, "key", props=KeyProps(
            alias=names.data_key_alias,
            description=f"Data tier of {names.prefix}: Aurora, its credentials, the cache",
            account_id=props.account_id,
            deletion_window_days=settings.profile.kms_deletion_window_days,
            service_statements=[data_key_statement(props.account_id, settings.aws_region)],
        ))
        self.key_arn: str = key.arn

        db_sg = self._reachable_from_tasks(
            "db", names.db_security_group, f"Aurora of {names.prefix}: tasks in",
            props, DB_PORT, DB_PORT)
        cache_sg = self._reachable_from_tasks(
            "cache", names.cache_security_group, f"Cache of {names.prefix}: tasks in",
            props, CACHE_PORTS[0], CACHE_PORTS[-1])

        cluster = self._aurora(props, key, db_sg)
        self.db_cluster_identifier: str = cluster.cluster_identifier
        self.db_endpoint: str = cluster.endpoint
        self.db_reader_endpoint: str = cluster.reader_endpoint
        self.db_port: int = DB_PORT
        self.db_name: str = DB_NAME
        # RDS creates and rotates this secret; its JSON holds "username" and "password".
        self.db_secret_arn: str = cluster.master_user_secret.get(0).secret_arn

        cache = self._cache(props, key.arn, cache_sg)
        endpoint, reader = cache.endpoint.get(0), cache.reader_endpoint.get(0)
        self.cache_name: str = cache.name
        self.cache_endpoint: str = endpoint.address
        self.cache_reader_endpoint: str = reader.address
        # A string token: it goes into environment values as is.
        self.cache_port: str = Token.as_string(endpoint.port)
        self.cache_secret_arn: str = self._cache_secret(props, key.arn, endpoint, reader)

        self.container_environment: dict[str, str] = {
            "DB_HOST": self.db_endpoint,
            "DB_PORT": str(DB_PORT),
            "DB_NAME": DB_NAME,
            "REDIS_HOST": self.cache_endpoint,
            "REDIS_PORT": self.cache_port,
            # Serverless caches accept TLS connections only.
            "REDIS_TLS": "true",
        }
        self.container_secrets: dict[str, str] = {
            "DB_USERNAME": f"{self.db_secret_arn}:username::",
            "DB_PASSWORD": f"{self.db_secret_arn}:password::",
        }
        # The task reads only the database credentials; the cache needs no credentials
        # and its connection details arrive as plain environment values.
        self.secret_arns: list[str] = [self.db_secret_arn]
        self.key_arns: list[str] = [self.key_arn]

    def _reachable_from_tasks(self, key: str, name: str, description: str,
                              props: DataTierProps, from_port: int, to_port: int) -> str:
        """A security group admitting the tasks on the ports, and the tasks' egress to it."""
        tasks = props.network.task_security_group_id
        group = SecurityGroup(self, f"{key}-sg", name=name, vpc_id=props.network.vpc_id,
                              description=description, tags={"Name": name})
        ports = f"{from_port}" if from_port == to_port else f"{from_port}-{to_port}"
        VpcSecurityGroupIngressRule(
            self, f"{key}-from-tasks", security_group_id=group.id,
            referenced_security_group_id=tasks, ip_protocol="tcp", from_port=from_port,
            to_port=to_port, description=f"ECS tasks to {key} on {ports}")
        VpcSecurityGroupEgressRule(
            self, f"tasks-to-{key}", security_group_id=tasks,
            referenced_security_group_id=group.id, ip_protocol="tcp", from_port=from_port,
            to_port=to_port, description=f"ECS tasks to {key} on {ports}")
        return group.id

    def _aurora(self, props: DataTierProps, key: CustomerKey, security_group_id: str
                ) -> RdsCluster:
        settings, names = props.settings, props.names
        key_arn = key.arn
        profile = settings.profile
        major = settings.db_engine_version.split(".", 1)[0]
        subnets = DbSubnetGroup(self, "db-subnets", name=names.db_subnet_group,
                                subnet_ids=props.network.isolated_subnet_ids,
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
            retention_in_days=profile.log_retention_days, kms_key_id=props.network.logs_key_arn)
        pauses = profile.db_min_acu == 0
        cluster = RdsCluster(
            self, "aurora",
            cluster_identifier=names.db_cluster,
            engine=DB_ENGINE,
            engine_mode="provisioned",
            engine_version=settings.db_engine_version,
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
            db_subnet_group_name=subnets.name,
            vpc_security_group_ids=[security_group_id],
            db_cluster_parameter_group_name=parameters.name,
            enabled_cloudwatch_logs_exports=["postgresql"],
            serverlessv2_scaling_configuration=RdsClusterServerlessv2ScalingConfiguration(
                min_capacity=profile.db_min_acu, max_capacity=profile.db_max_acu,
                seconds_until_auto_pause=profile.db_auto_pause_seconds if pauses else None),
            backup_retention_period=profile.db_backup_retention_days,
            preferred_backup_window=BACKUP_WINDOW,
            preferred_maintenance_window=MAINTENANCE_WINDOW,
            copy_tags_to_snapshot=True,
            deletion_protection=settings.db_deletion_protection,
            skip_final_snapshot=profile.skip_final_snapshot,
            final_snapshot_identifier=(None if profile.skip_final_snapshot
                                       else final_snapshot_identifier(names, key.key_id)),
            depends_on=[log_group],
        )
        self._instances(props, cluster, key_arn)
        return cluster

    def _instances(self, props: DataTierProps, cluster: RdsCluster, key_arn: str) -> None:
        """The writer (first) and readers, one per AZ in turn; all are failover targets."""
        settings, names = props.settings, props.names
        profile = settings.profile
        zones = props.network.availability_zones
        monitoring_role_arn = self._monitoring_role(props)
        insights = profile.performance_insights
        for index in range(profile.db_instance_count):
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
                monitoring_interval=profile.monitoring_interval_seconds,
                monitoring_role_arn=monitoring_role_arn,
            )

    def _monitoring_role(self, props: DataTierProps) -> str | None:
        """The enhanced-monitoring role, when the profile monitors at all."""
        if props.settings.profile.monitoring_interval_seconds == 0:
            return None
        role = IamRole(self, "monitoring-role", name=props.names.db_monitoring_role,
                       assume_role_policy=service_trust("monitoring.rds.amazonaws.com",
                                                        props.account_id))
        IamRolePolicyAttachment(self, "monitoring-policy", role=role.name,
                                policy_arn=MONITORING_POLICY_ARN)
        return role.arn

    def _cache(self, props: DataTierProps, key_arn: str,
               security_group_id: str) -> ElasticacheServerlessCache:
        settings, names = props.settings, props.names
        profile = settings.profile
        snapshots = profile.cache_snapshot_retention_days > 0
        return ElasticacheServerlessCache(
            self, "cache",
            name=names.cache,
            engine=settings.cache_engine,
            major_engine_version=CACHE_MAJOR_VERSIONS[settings.cache_engine],
            description=f"Cache of {names.prefix}",
            kms_key_id=key_arn,
            security_group_ids=[security_group_id],
            subnet_ids=props.network.private_subnet_ids,
            cache_usage_limits=[ElasticacheServerlessCacheCacheUsageLimits(
                data_storage=[ElasticacheServerlessCacheCacheUsageLimitsDataStorage(
                    maximum=profile.cache_max_storage_gb, unit="GB")],
                ecpu_per_second=[ElasticacheServerlessCacheCacheUsageLimitsEcpuPerSecond(
                    maximum=profile.cache_max_ecpu_per_second)],
            )],
            snapshot_retention_limit=profile.cache_snapshot_retention_days,
            daily_snapshot_time=CACHE_SNAPSHOT_TIME if snapshots else None,
        )

    def _cache_secret(self, props: DataTierProps, key_arn: str,
                      endpoint: ElasticacheServerlessCacheEndpointOutputReference,
                      reader: ElasticacheServerlessCacheReaderEndpointOutputReference) -> str:
        """The cache's connection JSON, which Terraform fills from the real endpoints."""
        settings, names = props.settings, props.names
        secret = SecretsmanagerSecret(
            self, "cache-secret", name_prefix=names.cache_secret_prefix, kms_key_id=key_arn,
            description=f"Connection details of the cache of {names.prefix} (TLS only)",
            recovery_window_in_days=settings.profile.secret_recovery_window_days)
        port = Token.as_string(endpoint.port)
        SecretsmanagerSecretVersion(
            self, "cache-secret-value", secret_id=secret.id,
            secret_string=Fn.jsonencode({
                "engine": settings.cache_engine,
                "host": endpoint.address,
                "port": endpoint.port,
                "reader_host": reader.address,
                "reader_port": reader.port,
                "tls": True,
                "url": f"rediss://{endpoint.address}:{port}",
            }))
        return secret.arn
