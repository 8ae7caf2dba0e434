"""TapStack: one environment in one Terraform state.

Configures the providers (the stack's region, plus an aliased ``us-east-1`` provider
for global resources), tags, the backend (S3 with native locking when a state bucket
is configured, local otherwise), composes the tiers, wires them together and declares
the outputs of ``lib.outputs``. It translates the settings into each tier's own props,
once: no construct sees the settings. Dependencies flow one way: network -> data -> load
balancer -> service -> edge -> firewall -> monitoring; only this module wires constructs
together (security-group rules: lib/firewall.py; the container's environment and secrets:
lib/container.py).

On the shared pieces (``Settings.shared``: the shared mode) the data tier and the load
balancer are the shared stack's: ``Tenancy`` (lib/shared_tenancy.py, construct ``shared``)
reads them and adds the environment's own target group, listener rule, database, roles and
cache user, and the other tiers read it as they read those tiers. Every resource then carries
the default tag ``Tenancy=shared``. The outputs keep their names: the load balancer's, the
cluster's and the cache's are the shared ones, ``db_secret_arn`` and ``alb_log_bucket`` are
empty (no master secret and no load balancer log in the environment), ``redis_secret_arn`` is
the environment's cache user secret and ``waf_web_acl_arn`` / ``vpc_origin_id`` the given ones.
"""
from __future__ import annotations

from typing import Any

from cdktf import LocalBackend, S3Backend, TerraformOutput, TerraformStack
from cdktf_cdktf_provider_aws.data_aws_caller_identity import DataAwsCallerIdentity
from cdktf_cdktf_provider_aws.provider import AwsProvider, AwsProviderDefaultTags
from constructs import Construct

from lib.alarms import alarm_thresholds
from lib.config import GLOBAL_REGION, Settings
from lib.app_secrets import AppSecrets, AppSecretsProps
from lib.container import service_container
from lib.data_tier import (CacheProps, DatabaseProps, DataExports, DataTier, DataTierProps,
                           data_key_statement, db_connect_statement)
from lib.edge import Edge, EdgeProps, Origin, log_delivery_key_statement
from lib.firewall import Firewall, FirewallProps, SharedGroups
from lib.jobs import Jobs, JobsProps
from lib.kms import CustomerKey, KeyProps, logs_service_statement
from lib.lifecycle import protect
from lib.manifest import DEFAULT_RELEASE_TIMEOUT
from lib.load_balancer import LoadBalancer, LoadBalancerProps
from lib.monitoring import Monitoring, MonitoringProps, alarms_key_statement
from lib.moves import carry_moves
from lib.naming import PROJECT, Names
from lib.network import Network, NetworkProps
from lib.outputs import OUTPUTS
from lib.release import Release, ReleaseProps
from lib.service import Capacity, Service, ServiceProps
from lib.shared_tenancy import Tenancy, TenancyProps

GLOBAL_PROVIDER_ALIAS = "global"
REQUIRED_TERRAFORM = ">= 1.10"  # use_lockfile (native S3 state locking) needs 1.10


def configure(stack: TerraformStack, *, region: str,  # pylint: disable=too-many-arguments
              tags: AwsProviderDefaultTags, state_bucket: str | None, state_bucket_region: str,
              state_key: str) -> tuple[AwsProvider, AwsProvider]:
    """A stack's providers (its region's, and the aliased us-east-1 one), both with ``tags``
    as default tags, its backend (S3 at ``state_key``, encrypted, with native locking, when
    a state bucket is given; else local, beside the stack) and the Terraform it needs; returns
    the two providers. TapStack's and SharedStack's."""
    provider = AwsProvider(stack, "aws", region=region, default_tags=[tags])
    global_provider = AwsProvider(stack, "aws-global", region=GLOBAL_REGION,
                                  alias=GLOBAL_PROVIDER_ALIAS, default_tags=[tags])
    if state_bucket is None:
        LocalBackend(stack, path=f"terraform.{state_key.rsplit('/', 1)[-1]}")
    else:
        S3Backend(stack, bucket=state_bucket, key=state_key, region=state_bucket_region,
                  encrypt=True)
        # cdktf 0.21's S3Backend has no use_lockfile field yet; Terraform >= 1.10 reads it.
        stack.add_override("terraform.backend.s3.use_lockfile", True)
    stack.add_override("terraform.required_version", REQUIRED_TERRAFORM)
    return provider, global_provider


def environment_keys(stack: TerraformStack, *, names: Names, account_id: str, region: str,
                     deletion_window_days: int, global_provider: AwsProvider) -> tuple[str, str]:
    """One key per region for a whole stack, (regional, us-east-1), each with every statement
    of the keys it replaces: in the stack's region the data key's (RDS, Secrets Manager and
    ElastiCache of this account), the logs key's (CloudWatch Logs of this region) and the
    alarm topic's (CloudWatch); in us-east-1 the edge log bucket's (log delivery) and the
    global alarm topic's. A key serves its own region only (KMS keys are regional), so the
    us-east-1 topic and bucket need one there. The ephemeral profile's and the shared stack's."""
    regional = CustomerKey(stack, "key", props=KeyProps(
        alias=names.environment_key_alias,
        description=f"{names.prefix}: data, secrets, log groups and alarm notifications",
        account_id=account_id, deletion_window_days=deletion_window_days,
        service_statements=[data_key_statement(account_id, region),
                            logs_service_statement(account_id, region),
                            alarms_key_statement()]))
    global_key = CustomerKey(stack, "global-key", props=KeyProps(
        alias=names.global_key_alias,
        description=f"{names.prefix} in {GLOBAL_REGION}: edge logs and alarm notifications",
        account_id=account_id, deletion_window_days=deletion_window_days,
        service_statements=[log_delivery_key_statement(account_id), alarms_key_statement()],
        provider=global_provider))
    return regional.arn, global_key.arn


def database_props(settings: Settings) -> DatabaseProps:
    """The Aurora cluster's props: the profile's values, with ALLOW_DESTROY applied."""
    profile = settings.profile
    return DatabaseProps(
        engine_version=settings.db_engine_version, min_acu=profile.db_min_acu,
        max_acu=profile.db_max_acu, auto_pause_seconds=profile.db_auto_pause_seconds,
        instance_count=profile.db_instance_count,
        backup_retention_days=profile.db_backup_retention_days,
        deletion_protection=settings.db_deletion_protection,
        skip_final_snapshot=profile.skip_final_snapshot,
        performance_insights=profile.performance_insights,
        monitoring_interval_seconds=profile.monitoring_interval_seconds,
        snapshot_identifier=settings.db_snapshot_identifier)


class TapStack(TerraformStack):  # pylint: disable=too-many-instance-attributes
    """The whole web platform of one environment."""

    def __init__(self, scope: Construct, settings: Settings) -> None:
        super().__init__(scope, settings.stack_name)
        self.settings = settings
        names = Names(settings)
        self.names = names
        tags = AwsProviderDefaultTags(tags={
            "Environment": settings.environment_suffix,
            "Repository": settings.repository,
            "Author": settings.commit_author,
            "Project": PROJECT,
            "Profile": settings.profile.name,
            "ManagedBy": "cdktf",
            **({"Tenancy": "shared"} if settings.shared else {}),
        })
        self.provider, self.global_provider = configure(
            self, region=settings.aws_region, tags=tags, state_bucket=settings.state_bucket,
            state_bucket_region=settings.state_bucket_region,
            state_key=f"{settings.environment_suffix}/{settings.stack_name}.tfstate")
        self.account_id = DataAwsCallerIdentity(self, "caller").account_id
        # One key per region for the whole environment (the ephemeral profile), or one per
        # purpose, which each tier then makes itself.
        self.keys = environment_keys(
            self, names=names, account_id=self.account_id, region=settings.aws_region,
            deletion_window_days=settings.profile.kms_deletion_window_days,
            global_provider=self.global_provider) if settings.profile.single_key else None

        self.network = Network(self, "network", props=self._network_props())
        net = self.network.refs
        self.tenancy = Tenancy(self, "shared", props=self._tenancy_props()) \
            if settings.shared else None
        if self.tenancy is None:
            self.data_exports: DataExports = DataTier(self, "data",
                                                      props=self._data_props()).exports
            self.load_balancer: LoadBalancer | Tenancy = LoadBalancer(
                self, "lb", props=self._load_balancer_props())
        else:  # the shared pieces: the tenancy is what the other tiers read of both
            self.data_exports = self.tenancy.data
            self.load_balancer = self.tenancy
        data = self.data_exports
        manifest = settings.manifest
        app_secrets: dict[str, str] = {}
        if manifest is not None and manifest.secrets:
            app_secrets = AppSecrets(self, "app-secrets", props=AppSecretsProps(
                names=names, secrets=manifest.secrets, key_arn=data.key_arn,
                recovery_window_days=settings.profile.secret_recovery_window_days)).arns
        self.service_container = service_container(
            data, region=settings.aws_region, account_id=self.account_id,
            image=settings.container_image,
            port=settings.container_port, health_check_path=settings.health_check_path,
            manifest=manifest, app_secret_arns=app_secrets,
            exec_enabled=settings.profile.enable_execute_command)
        self.service = Service(self, "app", props=self._service_props())
        if manifest is not None and (manifest.release or manifest.secrets):
            self.service.wait_for(Release(self, "release",
                                          props=self._release_props(app_secrets)).gate)
        jobs = Jobs(self, "jobs", props=self._jobs_props()) \
            if manifest is not None and manifest.jobs else None
        self.jobs_dead_letter_queue = jobs.dead_letter_queue_name if jobs else None
        self.edge = Edge(self, "edge", props=self._edge_props())
        lb, edge = self.load_balancer, self.edge
        if isinstance(lb, LoadBalancer):
            lb.redirect_after(edge.distribution)
        Firewall(self, "firewall", props=self._firewall_props())
        self.monitoring = Monitoring(self, "monitoring", props=self._monitoring_props())
        self.moves = carry_moves(self)

        # -- production: no plan may delete or replace stateful resources (ALLOW_DESTROY lifts it) --
        self.protected = protect(self) if settings.prevent_destroy else []

        self._outputs({
            "vpc_id": net.vpc_id, "public_subnet_ids": net.public_subnet_ids,
            "private_subnet_ids": net.private_subnet_ids,
            "isolated_subnet_ids": net.isolated_subnet_ids,
            "alb_arn": lb.arn, "alb_dns_name": lb.dns_name,
            "target_group_arn": lb.target_group_arn,
            "ecs_cluster_name": self.service.cluster_name,
            "ecs_service_name": self.service.service_name,
            "aurora_cluster_identifier": data.db_cluster_identifier,
            "aurora_cluster_endpoint": data.db_endpoint,
            "aurora_reader_endpoint": data.db_reader_endpoint,
            "db_secret_arn": data.db_secret_arn or "",
            "redis_cache_name": data.cache_name, "redis_endpoint": data.cache_endpoint,
            "redis_secret_arn": data.cache_secret_arn or "",
            "origin_verify_secret_arn": lb.origin_verify_secret_arn,
            "alb_log_bucket": lb.log_bucket_name, "edge_log_bucket": edge.log_bucket_name,
            "cloudfront_distribution_id": edge.distribution_id,
            "cloudfront_domain_name": edge.distribution_domain_name,
            "waf_web_acl_arn": edge.web_acl_arn,
            "alarm_topic_arn": self.monitoring.topic_arn,
            "global_alarm_topic_arn": self.monitoring.global_topic_arn,
            "dashboard_name": self.monitoring.dashboard_name,
            "viewer_url": edge.viewer_url,
            "viewer_certificate_arn": edge.viewer_certificate_arn or "",
            "vpc_origin_id": edge.vpc_origin_id or "",
            "environment_suffix": settings.environment_suffix,
            "aws_region": settings.aws_region,
        })

    # -- settings -> each tier's props, once ------------------------------------------------

    def _network_props(self) -> NetworkProps:
        settings = self.settings
        return NetworkProps(
            names=self.names, account_id=self.account_id, region=settings.aws_region,
            az_count=settings.az_count, nat_mode=settings.nat_mode,
            private_origin=settings.private_origin,
            tasks_in_public_subnets=settings.tasks_in_public_subnets,
            log_retention_days=settings.profile.log_retention_days,
            kms_deletion_window_days=settings.profile.kms_deletion_window_days,
            vpc_cidr=settings.vpc_cidr, existing=settings.existing_network,
            logs_key_arn=self.keys[0] if self.keys else None,
            load_balancer_group=settings.shared is None)

    def _data_props(self) -> DataTierProps:
        settings, profile, net = self.settings, self.settings.profile, self.network.refs
        return DataTierProps(
            names=self.names, account_id=self.account_id, region=settings.aws_region,
            vpc_id=net.vpc_id, isolated_subnet_ids=net.isolated_subnet_ids,
            private_subnet_ids=net.private_subnet_ids,
            availability_zones=net.availability_zones, logs_key_arn=net.logs_key_arn,
            database=database_props(settings),
            cache=CacheProps(
                engine=settings.cache_engine, max_storage_gb=profile.cache_max_storage_gb,
                max_ecpu_per_second=profile.cache_max_ecpu_per_second,
                snapshot_retention_days=profile.cache_snapshot_retention_days),
            log_retention_days=profile.log_retention_days,
            kms_deletion_window_days=profile.kms_deletion_window_days,
            secret_recovery_window_days=profile.secret_recovery_window_days,
            key_arn=self.keys[0] if self.keys else None)

    def _tenancy_props(self) -> TenancyProps:
        settings, profile = self.settings, self.settings.profile
        assert settings.shared is not None and settings.existing_network is not None
        assert self.keys is not None  # the shared mode is ephemeral: one key per region
        return TenancyProps(
            names=self.names, region=settings.aws_region, pieces=settings.shared,
            global_provider=self.global_provider, vpc_id=self.network.refs.vpc_id,
            given_vpc_id=settings.existing_network.vpc_id, key_arn=self.keys[0],
            secret_recovery_window_days=profile.secret_recovery_window_days,
            target_port=settings.container_port, health_check_path=settings.health_check_path,
            deregistration_delay_seconds=profile.deregistration_delay_seconds)

    def _firewall_props(self) -> FirewallProps:
        net, edge, tenancy = self.network.refs, self.edge, self.tenancy
        assert net.task_security_group_id is not None
        if tenancy is not None:
            return FirewallProps(
                task_security_group_id=net.task_security_group_id,
                container_port=self.settings.container_port,
                shared=SharedGroups(load_balancer=tenancy.load_balancer_security_group_ids,
                                    database=tenancy.db_security_group_ids,
                                    cache=tenancy.cache_security_group_ids))
        data = self.data_exports
        return FirewallProps(
            alb_security_group_id=net.alb_security_group_id,
            task_security_group_id=net.task_security_group_id,
            db_security_group_id=data.db_security_group_id,
            cache_security_group_id=data.cache_security_group_id,
            origin_port=self.load_balancer.origin_port,
            container_port=self.settings.container_port,
            origin_security_group_id=edge.origin_security_group_id,
            origin_prefix_list_id=edge.origin_prefix_list_id)

    def _load_balancer_props(self) -> LoadBalancerProps:
        settings, profile, net = self.settings, self.settings.profile, self.network.refs
        return LoadBalancerProps(
            names=self.names, account_id=self.account_id, region=settings.aws_region,
            vpc_id=net.vpc_id, subnet_ids=net.alb_subnet_ids,
            security_group_id=net.alb_security_group_id, internal=settings.private_origin,
            certificate_arn=settings.certificate_arn, target_port=settings.container_port,
            health_check_path=settings.health_check_path,
            deletion_protection=settings.alb_deletion_protection,
            deregistration_delay_seconds=profile.deregistration_delay_seconds,
            access_log_expiration_days=profile.access_log_expiration_days,
            force_destroy_logs=settings.force_destroy_buckets,
            secret_recovery_window_days=profile.secret_recovery_window_days,
            secret_key_arn=self.data_exports.key_arn)

    def _service_props(self) -> ServiceProps:
        settings, profile, net = self.settings, self.settings.profile, self.network.refs
        lb = self.load_balancer
        return ServiceProps(
            names=self.names, account_id=self.account_id, region=settings.aws_region,
            subnet_ids=net.workload_subnet_ids, security_group_id=net.task_security_group_id,
            assign_public_ip=net.assign_public_ip, logs_key_arn=net.logs_key_arn,
            log_retention_days=profile.log_retention_days,
            container=self.service_container,
            capacity=Capacity(
                task_cpu=profile.task_cpu, task_memory=profile.task_memory,
                cpu_architecture=settings.cpu_architecture,
                desired_count=profile.desired_count, min_capacity=profile.min_capacity,
                max_capacity=profile.max_capacity, fargate_base=profile.fargate_base,
                fargate_weight=profile.fargate_weight,
                fargate_spot_weight=profile.fargate_spot_weight),
            container_insights=profile.container_insights,
            enable_execute_command=profile.enable_execute_command,
            target_group_arn=lb.target_group_arn,
            task_statements=(self._app_connect_statement(),),
            request_label=f"{lb.arn_suffix}/{lb.target_group_arn_suffix}",
            # On the shared pieces the tasks also need their database and cache user.
            depends_on=(lb.forwarding_rule, *(self.tenancy.ready if self.tenancy else ())))

    def _app_connect_statement(self) -> dict[str, Any]:
        """rds-db:connect as the application's own database user, in the cluster's account."""
        shared = self.settings.shared
        account = shared.db_cluster.account if shared else self.account_id
        return db_connect_statement(self.data_exports, self.settings.aws_region, account,
                                    self.data_exports.db_app_username)

    def _release_props(self, app_secrets: dict[str, str]) -> ReleaseProps:
        settings, profile, net = self.settings, self.settings.profile, self.network.refs
        manifest, service = settings.manifest, self.service
        assert manifest is not None
        return ReleaseProps(
            names=self.names, account_id=self.account_id, region=settings.aws_region,
            container=self.service_container,
            command=manifest.release.command if manifest.release else None,
            timeout_seconds=(manifest.release.timeout_seconds if manifest.release
                             else DEFAULT_RELEASE_TIMEOUT),
            admin_secret_arn=self.data_exports.db_secret_arn,
            data_key_arn=self.data_exports.key_arn, app_secrets=app_secrets,
            cluster_arn=service.cluster_arn, subnet_ids=net.workload_subnet_ids,
            security_group_id=net.task_security_group_id,
            assign_public_ip=net.assign_public_ip, log_group_name=service.log_group_name,
            log_group_arn=service.log_group_arn, task_cpu=profile.task_cpu,
            task_memory=profile.task_memory, cpu_architecture=settings.cpu_architecture,
            service_task_definition_arn=service.task_definition_arn,
            owner=self.names.shared_owner_role if self.tenancy else None,
            owner_connect_statement=self.tenancy.owner_connect_statement if self.tenancy
            else None, after=self.tenancy.ready if self.tenancy else ())

    def _jobs_props(self) -> JobsProps:
        settings, profile, net = self.settings, self.settings.profile, self.network.refs
        service = self.service
        assert settings.manifest is not None
        return JobsProps(
            names=self.names, account_id=self.account_id, region=settings.aws_region,
            jobs=settings.manifest.jobs, container=self.service_container,
            cluster_arn=service.cluster_arn, subnet_ids=net.workload_subnet_ids,
            security_group_id=net.task_security_group_id,
            assign_public_ip=net.assign_public_ip, log_group_name=service.log_group_name,
            execution_role_arn=service.execution_role_arn,
            task_role_arn=service.task_role_arn, task_cpu=profile.task_cpu,
            task_memory=profile.task_memory, cpu_architecture=settings.cpu_architecture,
            enabled=profile.schedules_enabled)

    def _edge_props(self) -> EdgeProps:
        settings, profile, lb = self.settings, self.settings.profile, self.load_balancer
        private, shared = settings.private_origin, settings.shared
        return EdgeProps(
            names=self.names, account_id=self.account_id, provider=self.global_provider,
            origin=Origin(domain_name=lb.dns_name, verify_value=lb.origin_verify_value,
                          protocol=lb.origin_protocol,
                          load_balancer_arn=lb.arn if private and not shared else None,
                          vpc_id=self.network.refs.vpc_id if private and not shared else None,
                          subnet_ids=self.network.refs.alb_subnet_ids
                          if private and not shared else (),
                          vpc_origin_id=shared.vpc_origin_id if shared else None),
            web_acl_arn=self.tenancy.web_acl_arn if self.tenancy else None,
            region=settings.aws_region, own_vpc=settings.existing_network is None,
            origin_ready=(lb.forwarding_rule,),
            price_class=profile.price_class, waf_rate_limit=profile.waf_rate_limit,
            waf_anonymous_ip_count_only=profile.waf_anonymous_ip_count_only,
            access_log_expiration_days=profile.access_log_expiration_days,
            force_destroy_logs=settings.force_destroy_buckets,
            kms_deletion_window_days=profile.kms_deletion_window_days,
            domain_names=settings.domain_names, hosted_zone_id=settings.hosted_zone_id,
            edge_certificate_arn=settings.edge_certificate_arn,
            logs_key_arn=self.keys[1] if self.keys else None)

    def _monitoring_props(self) -> MonitoringProps:
        settings, profile = self.settings, self.settings.profile
        data, lb, service = self.data_exports, self.load_balancer, self.service
        own = self.tenancy is None  # else: the load balancer's, cluster's and cache's are shared
        return MonitoringProps(
            names=self.names, account_id=self.account_id, region=settings.aws_region,
            provider=self.global_provider,
            thresholds=alarm_thresholds(profile),
            kms_deletion_window_days=profile.kms_deletion_window_days,
            alarm_email=settings.alarm_email,
            alb_arn_suffix=lb.arn_suffix, target_group_arn_suffix=lb.target_group_arn_suffix,
            cluster_name=service.cluster_name, service_name=service.service_name,
            db_cluster_identifier=data.db_cluster_identifier if own else None,
            cache_name=data.cache_name if own else None,
            distribution_id=self.edge.distribution_id, web_acl_name=self.edge.web_acl_name,
            jobs_dead_letter_queue=self.jobs_dead_letter_queue, load_balancer_alarms=own,
            container_insights=profile.container_insights, dashboard=profile.dashboard,
            topic_key_arn=self.keys[0] if self.keys else None,
            global_topic_key_arn=self.keys[1] if self.keys else None)

    def _outputs(self, values: dict[str, object]) -> None:
        """Exactly the outputs of ``lib.outputs.OUTPUTS``, each with its Terraform name (the
        logical id overridden) and description."""
        names = [spec.name for spec in OUTPUTS]
        if sorted(values) != sorted(names):
            raise ValueError(f"outputs without a value: {sorted(set(names) - set(values))}; "
                             f"values without an output: {sorted(set(values) - set(names))}")
        for spec in OUTPUTS:
            output = TerraformOutput(self, spec.name, value=values[spec.name],
                                     description=spec.description, sensitive=False)
            output.override_logical_id(spec.name)
