"""SharedStack: what the platform team deploys once per account and region for the pull-request
environments (``SHARED_PLATFORM=<name>``, stack ``TapShared<name>``, ``make shared-deploy``).

Its outputs are exactly the five pieces an environment is given in the shared mode (lib/outputs.py
``SHARED_OUTPUTS``, lib/shared_config.py); an environment's destroy never touches them (they are
in another state: ``shared/TapShared<name>.tfstate``). It is deployed into the platform's network
(VPC_ID and the three subnet lists), with the shared stack's profile (lib/profiles.py
``PLATFORM_PROFILE``) and one KMS key per region, and makes:

- edge (us-east-1): the CLOUDFRONT web ACL with the stack's rules and its WAF logging to a log
  bucket of its own (lib/waf.py), and the load balancer's CloudFront VPC origin (lib/edge.py
  ``make_vpc_origin``, HTTP to port 80);
- lb: an internal Application Load Balancer in the private subnets with its access-log bucket
  (lib/load_balancer.py ``make_load_balancer``) and one HTTP listener on port 80 whose default
  answer is a fixed 404: every environment adds a rule on it, matched by its own origin-verify
  header, that forwards to its own target group (lib/shared_tenancy.py);
- data: an Aurora PostgreSQL Serverless v2 cluster (scale to 0 and auto-pause, IAM
  authentication, the RDS Data API on, RDS-managed master secret, storage and secret encrypted
  with the regional key) and a Valkey serverless cache behind a user group (lib/data_tier.py);
  the group's one user of its own is named ``default`` (ElastiCache wants a user of that name
  in every group: "The user group must contain a user with the user name default", CreateUserGroup)
  and is disabled (``off``); ElastiCache refuses a VALKEY group a user without a password, so it
  has one, drawn once and never used. The group's membership is the environments' (their
  ``aws_elasticache_user_group_association``): this stack ignores changes to it;
- firewall: the load balancer admits CloudFront's VPC-origin group on 80 and 443 (as an
  environment's own does: lib/firewall.py) and may reach the network's workload subnets (public
  and private: where TASK_SUBNETS puts the tasks) on any TCP port, where each environment's
  tasks admit only it, on their own port; the database and the cache admit those subnets on
  5432 and 6379-6380. CIDR rules, not one rule per environment's group: a group holds 60 rules
  by default, and sixty environments would fill it;
- monitoring: the alarms of the pieces that are its own (the load balancer's 5XX, the
  database's, the cache's, the web ACL's blocked-request spike: lib/alarms.py) on two encrypted
  topics, and no dashboard.

Exposes ``outputs`` (name -> value token).
"""
from __future__ import annotations

from cdktf import TerraformOutput, TerraformResourceLifecycle, TerraformStack
from cdktf_cdktf_provider_aws.data_aws_caller_identity import DataAwsCallerIdentity
from cdktf_cdktf_provider_aws.data_aws_secretsmanager_random_password import (
    DataAwsSecretsmanagerRandomPassword,
)
from cdktf_cdktf_provider_aws.elasticache_user import (
    ElasticacheUser,
    ElasticacheUserAuthenticationMode,
)
from cdktf_cdktf_provider_aws.elasticache_user_group import ElasticacheUserGroup
from cdktf_cdktf_provider_aws.lb_listener import (
    LbListener,
    LbListenerDefaultAction,
    LbListenerDefaultActionFixedResponse,
)
from cdktf_cdktf_provider_aws.provider import AwsProviderDefaultTags
from cdktf_cdktf_provider_aws.vpc_security_group_egress_rule import VpcSecurityGroupEgressRule
from cdktf_cdktf_provider_aws.vpc_security_group_ingress_rule import VpcSecurityGroupIngressRule
from constructs import Construct

from lib.alarms import alarm_thresholds
from lib.config import NAT_NONE, PlatformSettings
from lib.data_tier import (CACHE_PORTS, DB_PORT, CacheProps, DatabaseProps, DataExports,
                           DataTier, DataTierProps)
from lib.edge import make_vpc_origin
from lib.load_balancer import HTTP_PORT, HTTPS_PORT, make_load_balancer
from lib.log_bucket import LogBucketProps, log_bucket
from lib.monitoring import Monitoring, MonitoringProps
from lib.naming import PROJECT, Names
from lib.network import Network, NetworkProps, NetworkRefs
from lib.outputs import SHARED_OUTPUTS
from lib.profiles import PLATFORM_PROFILE
from lib.shared_tenancy import CACHE_ENGINE, CACHE_PASSWORD_LENGTH
from lib.tap_stack import configure, environment_keys
from lib.waf import make_web_acl, waf_delivery_statements, waf_logging

DEFAULT_USER_ACCESS = "off -@all"  # the group's default user: disabled, no command
ALL_TCP = (0, 65535)


class SharedStack(TerraformStack):  # pylint: disable=too-many-instance-attributes
    """The pieces the pull-request environments of one account and region share."""

    def __init__(self, scope: Construct, settings: PlatformSettings) -> None:
        super().__init__(scope, settings.stack_name)
        self.settings, self.profile = settings, PLATFORM_PROFILE
        self.names = names = Names(settings)
        tags = AwsProviderDefaultTags(tags={
            "Environment": f"shared-{settings.name}", "Repository": settings.repository,
            "Author": settings.commit_author, "Project": PROJECT,
            "Profile": PLATFORM_PROFILE.name, "ManagedBy": "cdktf"})
        self.provider, self.global_provider = configure(
            self, region=settings.aws_region, tags=tags, state_bucket=settings.state_bucket,
            state_bucket_region=settings.state_bucket_region,
            state_key=f"shared/{settings.stack_name}.tfstate")
        self.account_id = DataAwsCallerIdentity(self, "caller").account_id
        self.keys = environment_keys(
            self, names=names, account_id=self.account_id, region=settings.aws_region,
            deletion_window_days=PLATFORM_PROFILE.kms_deletion_window_days,
            global_provider=self.global_provider)
        net = Network(self, "network", props=NetworkProps(
            names=names, account_id=self.account_id, region=settings.aws_region, az_count=2,
            nat_mode=NAT_NONE, private_origin=True, tasks_in_public_subnets=False,
            log_retention_days=PLATFORM_PROFILE.log_retention_days,
            kms_deletion_window_days=PLATFORM_PROFILE.kms_deletion_window_days,
            existing=settings.network, logs_key_arn=self.keys[0], tasks_group=False)).refs
        data = DataTier(self, "data", props=self._data_props(net)).exports
        front = Construct(self, "lb")
        alb, _ = make_load_balancer(
            front, names=names, region=settings.aws_region, account_id=self.account_id,
            subnet_ids=net.alb_subnet_ids, security_group_id=str(net.alb_security_group_id),
            internal=True, deletion_protection=False,
            access_log_expiration_days=PLATFORM_PROFILE.access_log_expiration_days,
            force_destroy_logs=PLATFORM_PROFILE.force_destroy_buckets)
        listener = LbListener(
            front, "http", load_balancer_arn=alb.arn, port=HTTP_PORT, protocol="HTTP",
            default_action=[LbListenerDefaultAction(
                type="fixed-response", fixed_response=LbListenerDefaultActionFixedResponse(
                    content_type="text/plain", message_body="Not Found", status_code="404"))])
        edge = Construct(self, "edge")
        web_acl = make_web_acl(edge, names=names, provider=self.global_provider,
                               rate_limit=PLATFORM_PROFILE.waf_rate_limit,
                               anonymous_ip_count_only=PLATFORM_PROFILE.waf_anonymous_ip_count_only)
        waf_logging(edge, web_acl=web_acl, logs=log_bucket(edge, "log-bucket", props=LogBucketProps(
            name_prefix=names.edge_log_bucket_prefix,
            force_destroy=PLATFORM_PROFILE.force_destroy_buckets,
            expiration_days=PLATFORM_PROFILE.access_log_expiration_days,
            object_ownership="BucketOwnerEnforced", kms_key_arn=self.keys[1],
            delivery_statements=lambda arn: waf_delivery_statements(arn, self.account_id),
            provider=self.global_provider)), provider=self.global_provider)
        vpc_origin, cloudfront_group = make_vpc_origin(
            edge, names=names, provider=self.global_provider, load_balancer_arn=alb.arn,
            vpc_id=net.vpc_id, protocol="http", depends_on=[listener])
        self._firewall(net, str(net.alb_security_group_id), cloudfront_group, data)
        Monitoring(self, "monitoring", props=MonitoringProps(
            names=names, account_id=self.account_id, region=settings.aws_region,
            provider=self.global_provider, thresholds=alarm_thresholds(PLATFORM_PROFILE),
            kms_deletion_window_days=PLATFORM_PROFILE.kms_deletion_window_days,
            alarm_email=settings.alarm_email, alb_arn_suffix=alb.arn_suffix,
            target_group_arn_suffix=None, cluster_name=None, service_name=None,
            db_cluster_identifier=data.db_cluster_identifier, cache_name=data.cache_name,
            distribution_id=None, web_acl_name=web_acl.name, dashboard=False,
            topic_key_arn=self.keys[0], global_topic_key_arn=self.keys[1]))
        self.outputs = {"shared_web_acl_arn": web_acl.arn, "shared_listener_arn": listener.arn,
                        "shared_vpc_origin_arn": vpc_origin.arn,
                        "shared_db_cluster_arn": str(data.db_cluster_arn),
                        "shared_cache_arn": str(data.cache_arn)}
        for spec in SHARED_OUTPUTS:
            TerraformOutput(self, spec.name, value=self.outputs[spec.name],
                            description=spec.description).override_logical_id(spec.name)

    def _data_props(self, net: NetworkRefs) -> DataTierProps:
        """The data tier: the Data API on, the cache behind the environments' user group."""
        settings, profile, names = self.settings, self.profile, self.names
        return DataTierProps(
            names=names, account_id=self.account_id, region=settings.aws_region,
            vpc_id=net.vpc_id, isolated_subnet_ids=net.isolated_subnet_ids,
            private_subnet_ids=net.private_subnet_ids,
            availability_zones=net.availability_zones, logs_key_arn=net.logs_key_arn,
            database=DatabaseProps(
                engine_version=settings.db_engine_version, min_acu=profile.db_min_acu,
                max_acu=profile.db_max_acu, auto_pause_seconds=profile.db_auto_pause_seconds,
                instance_count=profile.db_instance_count,
                backup_retention_days=profile.db_backup_retention_days,
                deletion_protection=profile.deletion_protection,
                skip_final_snapshot=profile.skip_final_snapshot,
                performance_insights=profile.performance_insights,
                monitoring_interval_seconds=profile.monitoring_interval_seconds, data_api=True),
            cache=CacheProps(
                engine=CACHE_ENGINE, max_storage_gb=profile.cache_max_storage_gb,
                max_ecpu_per_second=profile.cache_max_ecpu_per_second,
                snapshot_retention_days=profile.cache_snapshot_retention_days,
                user_group_id=self._cache_users()),
            log_retention_days=profile.log_retention_days,
            kms_deletion_window_days=profile.kms_deletion_window_days,
            secret_recovery_window_days=profile.secret_recovery_window_days,
            key_arn=self.keys[0], connection_secret=False)

    def _cache_users(self) -> str:
        """The cache's user group with its disabled ``default`` user; returns the group's id."""
        names, scope = self.names, Construct(self, "cache-users")
        password = DataAwsSecretsmanagerRandomPassword(
            scope, "default-password", password_length=CACHE_PASSWORD_LENGTH,
            exclude_punctuation=True, include_space=False)
        default = ElasticacheUser(
            scope, "default-user", user_id=names.cache_default_user, user_name="default",
            engine=CACHE_ENGINE, access_string=DEFAULT_USER_ACCESS,
            authentication_mode=ElasticacheUserAuthenticationMode(
                type="password", passwords=[password.random_password]),
            # The data source draws a new password on every plan: the first one stays.
            lifecycle=TerraformResourceLifecycle(ignore_changes=["authentication_mode"]))
        group = ElasticacheUserGroup(
            scope, "group", user_group_id=names.cache_user_group, engine=CACHE_ENGINE,
            user_ids=[default.user_id],
            # The environments add and remove their own users (user group associations).
            lifecycle=TerraformResourceLifecycle(ignore_changes=["user_ids"]))
        return group.user_group_id

    def _firewall(self, net: NetworkRefs, alb_group: str, cloudfront_group: str,
                  data: DataExports) -> None:
        """The pieces' security-group rules (see the module docstring)."""
        rules = Construct(self, "firewall")
        for key, port in (("alb-from-vpc-origin", HTTP_PORT),
                          ("alb-from-vpc-origin-https", HTTPS_PORT)):
            VpcSecurityGroupIngressRule(
                rules, key, security_group_id=alb_group,
                referenced_security_group_id=cloudfront_group, ip_protocol="tcp",
                from_port=port, to_port=port, description="CloudFront VPC origin interfaces")
        db_group, cache_group = str(data.db_security_group_id), str(data.cache_security_group_id)
        for index, cidr in enumerate(net.workload_cidr_blocks):
            VpcSecurityGroupEgressRule(
                rules, f"alb-to-workloads-{index}", security_group_id=alb_group, cidr_ipv4=cidr,
                ip_protocol="tcp", from_port=ALL_TCP[0], to_port=ALL_TCP[1],
                description="To the environments' tasks (each admits only this balancer)")
            for key, group, (low, high) in (("db", db_group, (DB_PORT, DB_PORT)),
                                            ("cache", cache_group, (CACHE_PORTS[0],
                                                                    CACHE_PORTS[-1]))):
                VpcSecurityGroupIngressRule(
                    rules, f"{key}-from-workloads-{index}", security_group_id=group,
                    cidr_ipv4=cidr, ip_protocol="tcp", from_port=low, to_port=high,
                    description=f"Environments' tasks to the shared {key}")
