"""The stack's Terraform outputs: one registry of their names and meanings.

``OUTPUTS`` lists every output of ``TapStack``, in the order the reference pages show them,
each with its description and whether the shared contract names it (``contract``) or a
later issue added it. TapStack declares exactly these (it raises on a missing or an extra
value); the docs generator, the unit tests, the e2e outputs phase and the integration suite
read this table instead of keeping lists of their own. ``SHARED_OUTPUTS`` are the shared
stack's. Nothing here imports jsii.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class OutputSpec:
    """One output: its Terraform name (snake_case), its description, its origin."""

    name: str
    description: str
    contract: bool = False  # named by the shared contract (docs/contract): never renamed


OUTPUTS: tuple[OutputSpec, ...] = (
    OutputSpec("vpc_id", "ID of the VPC", True),
    OutputSpec("public_subnet_ids", "Public subnets (load balancer, NAT), one per AZ", True),
    OutputSpec("private_subnet_ids", "Private application subnets, one per AZ", True),
    OutputSpec("isolated_subnet_ids",
               "Isolated database subnets (no internet route), one per AZ"),
    OutputSpec("alb_arn", "ARN of the application load balancer", True),
    OutputSpec("alb_dns_name",
               "DNS name of the load balancer (answers 403 without the origin header)", True),
    OutputSpec("target_group_arn", "ARN of the ECS service's target group", True),
    OutputSpec("ecs_cluster_name", "Name of the ECS cluster", True),
    OutputSpec("ecs_service_name", "Name of the ECS service", True),
    OutputSpec("aurora_cluster_identifier", "Identifier of the Aurora PostgreSQL cluster", True),
    OutputSpec("aurora_cluster_endpoint",
               "Writer endpoint of the Aurora cluster (port 5432, TLS required)", True),
    OutputSpec("aurora_reader_endpoint", "Reader endpoint of the Aurora cluster", True),
    OutputSpec("db_secret_arn",
               "RDS-managed Secrets Manager secret with the master username and password",
               True),
    OutputSpec("redis_cache_name", "Name of the ElastiCache Serverless cache", True),
    OutputSpec("redis_endpoint", "Primary endpoint address of the cache (TLS only)", True),
    OutputSpec("redis_secret_arn", "Secrets Manager secret with the cache's connection JSON",
               True),
    OutputSpec("origin_verify_secret_arn",
               "Secrets Manager secret with the origin-verify header value (ARN only)"),
    OutputSpec("alb_log_bucket", "S3 bucket of the load balancer's access logs"),
    OutputSpec("edge_log_bucket",
               "S3 bucket (us-east-1) of the CloudFront standard logs and the WAF logs"),
    OutputSpec("cloudfront_distribution_id", "ID of the CloudFront distribution", True),
    OutputSpec("cloudfront_domain_name",
               "Domain name of the CloudFront distribution (the public entry point)", True),
    OutputSpec("waf_web_acl_arn", "ARN of the CLOUDFRONT-scoped WAF web ACL (us-east-1)", True),
    OutputSpec("alarm_topic_arn",
               "SNS topic (KMS-encrypted) that the regional CloudWatch alarms notify", True),
    OutputSpec("global_alarm_topic_arn",
               "SNS topic in us-east-1 that the CloudFront and WAF alarms notify"),
    OutputSpec("dashboard_name", "CloudWatch dashboard with a row per tier"),
    OutputSpec("viewer_url",
               "Where viewers reach the site: https:// and the first of DOMAIN_NAMES, or the "
               "distribution's own domain name"),
    OutputSpec("viewer_certificate_arn",
               "ACM certificate (us-east-1) of DOMAIN_NAMES: made and validated by the stack "
               "with HOSTED_ZONE_ID, or EDGE_CERTIFICATE_ARN; empty with CloudFront's default "
               "certificate"),
    OutputSpec("vpc_origin_id",
               "CloudFront VPC origin of the internal load balancer; empty where VPC origins "
               "are not offered (internet-facing load balancer)"),
    OutputSpec("environment_suffix", "Environment suffix this stack was synthesized for", True),
    OutputSpec("aws_region", "Region of the stack", True),
)
CONTRACT_OUTPUTS: tuple[str, ...] = tuple(spec.name for spec in OUTPUTS if spec.contract)

# The shared stack's (lib/shared_stack.py): exactly the five pieces, each named like the
# variable an environment is given it in (SHARED_WEB_ACL_ARN...), in lowercase.
SHARED_OUTPUTS: tuple[OutputSpec, ...] = (
    OutputSpec("shared_web_acl_arn", "CLOUDFRONT web ACL (us-east-1) of the pull-request "
               "environments: their SHARED_WEB_ACL_ARN"),
    OutputSpec("shared_listener_arn", "HTTP listener of the shared internal load balancer "
               "(default: 404): their SHARED_LISTENER_ARN"),
    OutputSpec("shared_vpc_origin_arn", "CloudFront VPC origin of that load balancer: their "
               "SHARED_VPC_ORIGIN_ARN"),
    OutputSpec("shared_db_cluster_arn", "Aurora PostgreSQL cluster (IAM authentication, RDS "
               "Data API): their SHARED_DB_CLUSTER_ARN"),
    OutputSpec("shared_cache_arn", "Valkey serverless cache behind its user group: their "
               "SHARED_CACHE_ARN"),
)
