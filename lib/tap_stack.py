"""TapStack: one environment in one Terraform state.

Configures the providers (the stack's region, plus an aliased ``us-east-1`` provider
for global resources), tags, the backend (S3 with native locking when a state bucket
is configured, local otherwise), composes the tiers, wires them together and declares
the contract's outputs. Dependencies flow one way: network -> data -> app -> edge ->
monitoring; only this module wires constructs together.
"""
from __future__ import annotations

from cdktf import LocalBackend, S3Backend, TerraformOutput, TerraformStack
from cdktf_cdktf_provider_aws.data_aws_caller_identity import DataAwsCallerIdentity
from cdktf_cdktf_provider_aws.provider import AwsProvider, AwsProviderDefaultTags
from constructs import Construct

from lib.app_tier import AppTier, AppTierProps
from lib.config import GLOBAL_REGION, Settings
from lib.data_tier import DataTier, DataTierProps
from lib.edge import Edge, EdgeProps
from lib.lifecycle import protect
from lib.monitoring import Monitoring, MonitoringProps
from lib.naming import PROJECT, Names
from lib.network import Network, NetworkProps

GLOBAL_PROVIDER_ALIAS = "global"
REQUIRED_TERRAFORM = ">= 1.10"  # use_lockfile (native S3 state locking) needs 1.10


class TapStack(TerraformStack):
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
        })
        self.provider = AwsProvider(self, "aws", region=settings.aws_region, default_tags=[tags])
        self.global_provider = AwsProvider(self, "aws-global", region=GLOBAL_REGION,
                                           alias=GLOBAL_PROVIDER_ALIAS, default_tags=[tags])
        self._backend(settings)
        self.add_override("terraform.required_version", REQUIRED_TERRAFORM)

        account_id = DataAwsCallerIdentity(self, "caller").account_id
        network = Network(self, "network", props=NetworkProps(
            settings=settings, names=names, account_id=account_id))
        self.network = network

        # -- data tier: lib/data_tier.py --
        data = DataTier(self, "data", props=DataTierProps(
            settings=settings, names=names, account_id=account_id, network=network))
        self.data = data

        # -- application tier: lib/app_tier.py --
        self.app = AppTier(self, "app", props=AppTierProps(
            settings=settings, names=names, account_id=account_id, network=network,
            container_environment=data.container_environment,
            container_secrets=data.container_secrets,
            readable_secret_arns=data.secret_arns, decrypt_key_arns=data.key_arns,
            secret_key_arn=data.key_arn, global_provider=self.global_provider))

        # -- edge: lib/edge.py --
        self.edge = Edge(self, "edge", props=EdgeProps(
            settings=settings, names=names, account_id=account_id,
            provider=self.global_provider, origin_domain_name=self.app.alb_dns_name,
            origin_verify_value=self.app.origin_verify_value,
            origin_protocol=self.app.origin_protocol, vpc_origin_id=self.app.vpc_origin_id))

        # -- monitoring: lib/monitoring.py --
        self.monitoring = Monitoring(self, "monitoring", props=MonitoringProps(
            settings=settings, names=names, account_id=account_id,
            provider=self.global_provider,
            alb_arn_suffix=self.app.alb_arn_suffix,
            target_group_arn_suffix=self.app.target_group_arn_suffix,
            cluster_name=self.app.cluster_name, service_name=self.app.service_name,
            db_cluster_identifier=data.db_cluster_identifier, cache_name=data.cache_name,
            distribution_id=self.edge.distribution_id, web_acl_name=self.edge.web_acl_name))

        # -- production: no plan may delete or replace stateful resources (ALLOW_DESTROY lifts it) --
        self.protected = protect(self) if settings.prevent_destroy else []

        # -- outputs --
        self._output("vpc_id", network.vpc_id, "ID of the VPC")
        self._output("public_subnet_ids", network.public_subnet_ids,
                     "Public subnets (load balancer, NAT), one per AZ")
        self._output("private_subnet_ids", network.private_subnet_ids,
                     "Private application subnets, one per AZ")
        self._output("isolated_subnet_ids", network.isolated_subnet_ids,
                     "Isolated database subnets (no internet route), one per AZ")
        self._output("alb_arn", self.app.alb_arn, "ARN of the application load balancer")
        self._output("alb_dns_name", self.app.alb_dns_name,
                     "DNS name of the load balancer (answers 403 without the origin header)")
        self._output("target_group_arn", self.app.target_group_arn,
                     "ARN of the ECS service's target group")
        self._output("ecs_cluster_name", self.app.cluster_name, "Name of the ECS cluster")
        self._output("ecs_service_name", self.app.service_name, "Name of the ECS service")
        self._output("aurora_cluster_identifier", data.db_cluster_identifier,
                     "Identifier of the Aurora PostgreSQL cluster")
        self._output("aurora_cluster_endpoint", data.db_endpoint,
                     "Writer endpoint of the Aurora cluster (port 5432, TLS required)")
        self._output("aurora_reader_endpoint", data.db_reader_endpoint,
                     "Reader endpoint of the Aurora cluster")
        self._output("db_secret_arn", data.db_secret_arn,
                     "RDS-managed Secrets Manager secret with the master username and password")
        self._output("redis_cache_name", data.cache_name, "Name of the ElastiCache Serverless cache")
        self._output("redis_endpoint", data.cache_endpoint,
                     "Primary endpoint address of the cache (TLS only)")
        self._output("redis_secret_arn", data.cache_secret_arn,
                     "Secrets Manager secret with the cache's connection JSON")
        self._output("origin_verify_secret_arn", self.app.origin_verify_secret_arn,
                     "Secrets Manager secret with the origin-verify header value (ARN only)")
        self._output("alb_log_bucket", self.app.log_bucket_name,
                     "S3 bucket of the load balancer's access logs")
        self._output("edge_log_bucket", self.edge.log_bucket_name,
                     "S3 bucket (us-east-1) of the CloudFront standard logs and the WAF logs")
        self._output("cloudfront_distribution_id", self.edge.distribution_id,
                     "ID of the CloudFront distribution")
        self._output("cloudfront_domain_name", self.edge.distribution_domain_name,
                     "Domain name of the CloudFront distribution (the public entry point)")
        self._output("waf_web_acl_arn", self.edge.web_acl_arn,
                     "ARN of the CLOUDFRONT-scoped WAF web ACL (us-east-1)")
        self._output("alarm_topic_arn", self.monitoring.topic_arn,
                     "SNS topic (KMS-encrypted) that the regional CloudWatch alarms notify")
        self._output("global_alarm_topic_arn", self.monitoring.global_topic_arn,
                     "SNS topic in us-east-1 that the CloudFront and WAF alarms notify")
        self._output("dashboard_name", self.monitoring.dashboard_name,
                     "CloudWatch dashboard with a row per tier")
        self._output("viewer_url", self.edge.viewer_url,
                     "Where viewers reach the site: https:// and the first of DOMAIN_NAMES, "
                     "or the distribution's own domain name")
        self._output("viewer_certificate_arn", self.edge.viewer_certificate_arn or "",
                     "ACM certificate (us-east-1) of DOMAIN_NAMES: made and validated by the "
                     "stack with HOSTED_ZONE_ID, or EDGE_CERTIFICATE_ARN; empty with "
                     "CloudFront's default certificate")
        self._output("vpc_origin_id", self.app.vpc_origin_id or "",
                     "CloudFront VPC origin of the internal load balancer; empty where VPC "
                     "origins are not offered (internet-facing load balancer)")
        self._output("environment_suffix", settings.environment_suffix,
                     "Environment suffix this stack was synthesized for")
        self._output("aws_region", settings.aws_region, "Region of the stack")

    def _backend(self, settings: Settings) -> None:
        if settings.state_bucket is None:
            LocalBackend(self, path=f"terraform.{settings.stack_name}.tfstate")
            return
        S3Backend(self, bucket=settings.state_bucket,
                  key=f"{settings.environment_suffix}/{settings.stack_name}.tfstate",
                  region=settings.state_bucket_region, encrypt=True)
        # cdktf 0.21's S3Backend has no use_lockfile field yet; Terraform >= 1.10 reads it.
        self.add_override("terraform.backend.s3.use_lockfile", True)

    def _output(self, name: str, value: object, description: str,
                sensitive: bool = False) -> TerraformOutput:
        """An output whose Terraform name is exactly ``name`` (the contract's)."""
        output = TerraformOutput(self, name, value=value, description=description,
                                 sensitive=sensitive)
        output.override_logical_id(name)
        return output
