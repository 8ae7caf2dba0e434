"""A pull-request environment's place in the shared pieces (the shared mode).

An ephemeral environment given ``SharedPieces`` (lib/shared_config.py) makes no load balancer,
database, cache or web ACL of its own: this construct reads the given ones and adds to them
what is the environment's alone.

Reads, through data sources (a piece that is not in the account fails the plan naming it):
- the listener of the shared load balancer, and that load balancer: its security groups (which
  the tasks admit), its ARN suffix (the alarms' and the scaling policy's LoadBalancer
  dimension) and its DNS name (the distribution origin's domain); a postcondition wants it in
  VPC_ID, where the environment's target group is;
- the web ACL (name and scope from its ARN; a postcondition wants exactly the given ARN);
- the Aurora cluster (postconditions: Aurora PostgreSQL, IAM authentication, an RDS-managed
  master secret) and the serverless cache (postconditions: Valkey, a user group).
The VPC origin cannot be read: provider 5.100 has no data source for one (hashicorp/
terraform-provider-aws has ``aws_cloudfront_vpc_origin`` as a resource only), so CloudFront
checks it when the distribution is created or updated (lib/edge.py uses its id).

Creates:
- the origin-verify secret, the target group and ONE listener rule on the shared listener
  (lib/load_balancer.py's functions), matched by the environment's own origin-verify value,
  at the priority of its pull-request number, so two environments never ask for the same;
- its database ``tap_<suffix>`` with the roles ``tap_<suffix>_owner`` and ``tap_<suffix>_app``
  in the shared cluster: a ``terraform_data`` whose create-time ``local-exec`` runs
  ``tools/shared_database.py create`` and whose destroy-time one runs ``... drop``, both
  through the RDS Data API with the cluster's master secret. That is the deploy's doing
  (trusted platform code with the deploy role's credentials), never the release task's
  (application code), which connects as the owner through IAM and holds no master secret;
- its cache user ``tap-<suffix>`` (engine valkey, password authentication, ``ACCESS_STRING``:
  its keys only) in the shared cache's user group, with its password (32 letters and digits,
  drawn by ``aws_secretsmanager_random_password``) in a secret encrypted with the data key,
  ``{"username", "password"}``, which ECS injects as ``REDIS_PASSWORD``.

Exposes what the stack's other tiers read of a load balancer (``arn``, ``arn_suffix``,
``dns_name``, ``target_group_arn``, ``target_group_arn_suffix``, ``forwarding_rule``,
``origin_verify_secret_arn``, ``origin_verify_value``, ``origin_protocol``, ``origin_port``,
``log_bucket_name``: none), ``data`` (``DataExports`` of the shared cluster and cache with the
environment's names), ``web_acl_arn``, ``load_balancer_security_group_ids``,
``db_security_group_ids``, ``cache_security_group_ids`` (list tokens), ``ready`` (the
database's ``terraform_data`` and the cache user's group association: what the service's tasks
wait for) and ``owner_connect_statement``.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple

from cdktf import (AssetType, DataResource, Fn, LocalExecProvisioner, Postcondition,
                   TerraformAsset, TerraformProvider, TerraformResource,
                   TerraformResourceLifecycle, Token)
from cdktf_cdktf_provider_aws.data_aws_elasticache_serverless_cache import (
    DataAwsElasticacheServerlessCache,
)
from cdktf_cdktf_provider_aws.data_aws_lb import DataAwsLb
from cdktf_cdktf_provider_aws.data_aws_lb_listener import DataAwsLbListener
from cdktf_cdktf_provider_aws.data_aws_rds_cluster import DataAwsRdsCluster
from cdktf_cdktf_provider_aws.data_aws_secretsmanager_random_password import (
    DataAwsSecretsmanagerRandomPassword,
)
from cdktf_cdktf_provider_aws.data_aws_wafv2_web_acl import DataAwsWafv2WebAcl
from cdktf_cdktf_provider_aws.elasticache_user import (
    ElasticacheUser,
    ElasticacheUserAuthenticationMode,
)
from cdktf_cdktf_provider_aws.elasticache_user_group_association import (
    ElasticacheUserGroupAssociation,
)
from cdktf_cdktf_provider_aws.secretsmanager_secret import SecretsmanagerSecret
from cdktf_cdktf_provider_aws.secretsmanager_secret_version import SecretsmanagerSecretVersion
from constructs import Construct

from lib.config import SharedPieces
from lib.data_tier import DB_ENGINE, DB_PORT, DataExports, db_connect_statement
from lib.deploy_scripts import python_command, script
from lib.load_balancer import (HTTP_PORT, forwarding_rule, make_target_group,
                               origin_verify_secret)
from lib.naming import Names

DATABASE_RUNNER = script("shared_database.py")
CACHE_ENGINE = "valkey"
# ElastiCache passwords: 16 to 128 printable characters (CreateUser, Passwords); letters and
# digits only, so that no character needs escaping anywhere.
CACHE_PASSWORD_LENGTH = 32
# The environment's cache user (ElastiCache RBAC access strings are Redis ACL rules, applied left
# to right: "Specifying Permissions Using an Access String", ElastiCache user guide):
# - ``on``: enabled; ``~<prefix>*``: only the keys of the environment (REDIS_KEY_PREFIX);
# - ``-@all`` then the categories of what the reference application runs: @read (GET),
#   @write (SET ... EX, INCR), @keyspace (DEL, EXPIRE, TTL) and @connection (PING, AUTH, HELLO,
#   CLIENT SETINFO, and COMMAND, which redis-py's cluster client reads at start);
# - ``-@dangerous``: nothing of what those categories hold that is administrative (KEYS,
#   FLUSHDB, CLIENT LIST...);
# - ``-scan -randomkey -dbsize``: the keyless readers of @read and @keyspace, which would list or
#   count the other environments' keys (a key pattern restricts key arguments only);
# - ``+cluster|slots +cluster|shards``: the topology the cluster client reads (ElastiCache
#   Serverless speaks the cluster protocol); no other CLUSTER subcommand.
# No @pubsub and no @scripting: channels and scripts could cross the key boundary.
ACCESS_STRING = ("on ~{prefix}* -@all +@read +@write +@keyspace +@connection -@dangerous "
                 "-scan -randomkey -dbsize +cluster|slots +cluster|shards")


@dataclass(frozen=True, kw_only=True)
class TenancyProps:  # pylint: disable=too-many-instance-attributes
    """The pieces, the environment's names and what it adds to them."""

    names: Names
    region: str
    pieces: SharedPieces
    global_provider: TerraformProvider  # the web ACL is read in us-east-1
    vpc_id: str  # the given network's (a token of its data source): the target group's
    given_vpc_id: str  # VPC_ID itself: where the shared load balancer must be
    key_arn: str  # the environment's data key: its secrets
    secret_recovery_window_days: int
    target_port: int  # the container's port
    health_check_path: str
    deregistration_delay_seconds: int


def _condition(expression: str, message: str) -> Postcondition:
    return Postcondition(condition=f"${{{expression}}}", error_message=message)


class Reads(NamedTuple):
    """The data sources of the shared pieces."""

    listener: DataAwsLbListener
    balancer: DataAwsLb
    web_acl: DataAwsWafv2WebAcl
    cluster: DataAwsRdsCluster
    cache: DataAwsElasticacheServerlessCache


class Tenancy(Construct):  # pylint: disable=too-many-instance-attributes
    """What an environment reads of the shared pieces and adds to them."""

    # One attribute per value the stack's tiers read, as they read a load balancer's.
    def __init__(self, scope: Construct, construct_id: str, *, props: TenancyProps) -> None:
        super().__init__(scope, construct_id)
        names, pieces = props.names, props.pieces
        reads = self._read(props)
        self.arn: str = reads.balancer.arn
        self.arn_suffix: str = reads.balancer.arn_suffix
        self.dns_name: str = reads.balancer.dns_name
        self.load_balancer_security_group_ids: list[str] = reads.balancer.security_groups
        self.web_acl_arn: str = reads.web_acl.arn
        self.db_security_group_ids: list[str] = reads.cluster.vpc_security_group_ids
        self.cache_security_group_ids: list[str] = reads.cache.security_group_ids
        secret, version = origin_verify_secret(
            self, names=names, recovery_window_days=props.secret_recovery_window_days,
            key_arn=props.key_arn)
        self.origin_verify_secret_arn: str = secret.arn
        self.origin_verify_value: str = version.secret_string
        self.origin_protocol, self.origin_port = "http", HTTP_PORT
        self.log_bucket_name = ""  # the shared load balancer's logs are the shared stack's
        group = make_target_group(
            self, names=names, vpc_id=props.vpc_id, port=props.target_port,
            health_check_path=props.health_check_path,
            deregistration_delay_seconds=props.deregistration_delay_seconds)
        self.target_group_arn: str = group.arn
        self.target_group_arn_suffix: str = group.arn_suffix
        self.forwarding_rule = forwarding_rule(
            self, listener_arn=reads.listener.arn, priority=pieces.rule_priority,
            verify_value=self.origin_verify_value, target_group_arn=group.arn)
        cluster, cache = reads.cluster, reads.cache
        database = self._database(props, cluster)
        cache_secret, membership = self._cache_user(props, cache)
        self.ready: tuple[TerraformResource, ...] = (database, membership)
        self.data = DataExports(
            db_cluster_identifier=cluster.cluster_identifier,
            db_resource_id=cluster.cluster_resource_id,
            db_endpoint=cluster.endpoint, db_reader_endpoint=cluster.reader_endpoint,
            db_port=DB_PORT, db_name=names.shared_database, db_secret_arn=None,
            db_security_group_id=None, cache_name=cache.name,
            cache_endpoint=cache.endpoint.address,
            cache_reader_endpoint=cache.reader_endpoint.address,
            cache_port=Token.as_string(cache.endpoint.port), cache_secret_arn=cache_secret,
            cache_security_group_id=None, key_arn=props.key_arn,
            db_app_username=names.shared_app_role, cache_username=names.cache_user,
            cache_password_secret_arn=cache_secret, cache_key_prefix=names.cache_key_prefix)
        account = pieces.db_cluster.account
        self.owner_connect_statement: dict[str, Any] = db_connect_statement(
            self.data, props.region, account, names.shared_owner_role)

    def _read(self, props: TenancyProps) -> Reads:
        """The pieces, each read by a data source (the plan fails naming a missing one)."""
        pieces = props.pieces
        listener = DataAwsLbListener(self, "listener", arn=pieces.listener.value)
        balancer = DataAwsLb(
            self, "load-balancer", arn=listener.load_balancer_arn,
            lifecycle=TerraformResourceLifecycle(postcondition=[_condition(
                f'self.vpc_id == "{props.given_vpc_id}"',
                f"SHARED_LISTENER_ARN={pieces.listener.value}: its load balancer is in "
                f"${{self.vpc_id}}, not in VPC_ID {props.given_vpc_id}, where the "
                "environment's targets are")]))
        web_acl = DataAwsWafv2WebAcl(
            self, "web-acl", name=pieces.web_acl_name, scope="CLOUDFRONT",
            provider=props.global_provider,
            lifecycle=TerraformResourceLifecycle(postcondition=[_condition(
                f'self.arn == "{pieces.web_acl.value}"',
                f"SHARED_WEB_ACL_ARN={pieces.web_acl.value}: the web ACL named "
                f"{pieces.web_acl_name} is ${{self.arn}}")]))
        variable = f"SHARED_DB_CLUSTER_ARN={pieces.db_cluster.value}"
        cluster = DataAwsRdsCluster(
            self, "cluster", cluster_identifier=pieces.db_cluster_identifier,
            lifecycle=TerraformResourceLifecycle(postcondition=[
                _condition(f'self.engine == "{DB_ENGINE}"',
                           f"{variable} is ${{self.engine}}, not {DB_ENGINE}"),
                _condition("self.iam_database_authentication_enabled",
                           f"{variable} has no IAM database authentication"),
                _condition("length(self.master_user_secret) > 0",
                           f"{variable} has no RDS-managed master secret (the deploy reaches "
                           "the RDS Data API with it)")]))
        variable = f"SHARED_CACHE_ARN={pieces.cache.value}"
        cache = DataAwsElasticacheServerlessCache(
            self, "cache", name=pieces.cache_name,
            lifecycle=TerraformResourceLifecycle(postcondition=[
                _condition(f'self.engine == "{CACHE_ENGINE}"',
                           f"{variable} is ${{self.engine}}, not {CACHE_ENGINE}"),
                _condition('self.user_group_id != ""',
                           f"{variable} has no user group for the environment's user")]))
        return Reads(listener, balancer, web_acl, cluster, cache)

    def _database(self, props: TenancyProps, cluster: DataAwsRdsCluster) -> DataResource:
        """The environment's database and roles, made and dropped by the deploy."""
        names = props.names
        runner = TerraformAsset(self, "database-runner", path=str(DATABASE_RUNNER),
                                type=AssetType.FILE)
        # A destroy-time provisioner may refer to self only: everything it needs is an input.
        environment = {f"TAP_{key.upper()}": f"${{self.input.{key}}}"
                       for key in ("region", "cluster_arn", "secret_arn", "database", "owner",
                                   "app")}
        return DataResource(
            self, "database",
            input={"region": props.region, "cluster_arn": cluster.arn,
                   "secret_arn": cluster.master_user_secret.get(0).secret_arn,
                   "database": names.shared_database, "owner": names.shared_owner_role,
                   "app": names.shared_app_role},
            # Another cluster or another name is another database: drop, then create.
            triggers_replace={"cluster_arn": props.pieces.db_cluster.value,
                              "database": names.shared_database},
            provisioners=[
                LocalExecProvisioner(type="local-exec", environment=environment,
                                     command=python_command(runner.path, "create")),
                LocalExecProvisioner(type="local-exec", when="destroy", environment=environment,
                                     command=python_command(runner.path, "drop"))])

    def _cache_user(self, props: TenancyProps, cache: DataAwsElasticacheServerlessCache
                    ) -> tuple[str, ElasticacheUserGroupAssociation]:
        """The environment's user of the shared cache and its password's secret; returns the
        secret's ARN and the user's membership of the cache's user group."""
        names = props.names
        secret = SecretsmanagerSecret(
            self, "cache-user-secret", name_prefix=names.cache_user_secret_prefix,
            description=f"User {names.cache_user} of the shared cache (keys "
                        f"{names.cache_key_prefix}*)",
            recovery_window_in_days=props.secret_recovery_window_days, kms_key_id=props.key_arn)
        password = DataAwsSecretsmanagerRandomPassword(
            self, "cache-password", password_length=CACHE_PASSWORD_LENGTH,
            exclude_punctuation=True, include_space=False)
        # The data source draws a new password on every plan; the version keeps the first, and
        # the user takes its password from the version, so the two never differ.
        version = SecretsmanagerSecretVersion(
            self, "cache-user-secret-value", secret_id=secret.id,
            secret_string=Fn.jsonencode({"username": names.cache_user,
                                         "password": password.random_password}),
            lifecycle=TerraformResourceLifecycle(ignore_changes=["secret_string"]))
        user = ElasticacheUser(
            self, "cache-user", user_id=names.cache_user, user_name=names.cache_user,
            engine=CACHE_ENGINE, access_string=ACCESS_STRING.format(prefix=names.cache_key_prefix),
            authentication_mode=ElasticacheUserAuthenticationMode(
                type="password",
                passwords=[Fn.lookup(Fn.jsondecode(version.secret_string), "password")]))
        membership = ElasticacheUserGroupAssociation(self, "cache-user-group",
                                                     user_group_id=cache.user_group_id,
                                                     user_id=user.user_id)
        return secret.arn, membership
