"""The quota ledger's table: AWS's default quotas the stack's resources count against, each
with the page its value comes from (tools/quotas.py measures the synthesized stacks against
it; ``make quotas``, docs/reference/quotas.md)."""
from __future__ import annotations

from dataclasses import dataclass, replace

from lib.resource_types import counted_in

VPC = "https://docs.aws.amazon.com/vpc/latest/userguide/amazon-vpc-limits.html"
ELB = "https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-limits.html"
ECS = "https://docs.aws.amazon.com/general/latest/gr/ecs-service.html"
AURORA = "https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/CHAP_Limits.html"
CACHE = "https://docs.aws.amazon.com/general/latest/gr/elasticache-service.html"
CLOUDFRONT = "https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/cloudfront-limits.html"
WAF = "https://docs.aws.amazon.com/waf/latest/developerguide/limits.html"
LOGS = "https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/cloudwatch_limits_cwl.html"
KMS = "https://docs.aws.amazon.com/kms/latest/developerguide/resource-limits.html"
IAM = "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html"
S3 = "https://docs.aws.amazon.com/AmazonS3/latest/userguide/BucketRestrictions.html"
SNS = "https://docs.aws.amazon.com/general/latest/gr/sns.html"
SECRETS = "https://docs.aws.amazon.com/secretsmanager/latest/userguide/reference_limits.html"
CLOUDWATCH = "https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/cloudwatch_limits.html"

SCOPES = {"account": "account", "region": "Region", "az": "AZ",
          "load balancer": "shared load balancer", "user group": "shared user group"}
ADJUSTABLE = {True: "yes", False: "**HARD**", None: "**HARD**? (not confirmed)"}


@dataclass(frozen=True)
class Quota:
    """One row of the ledger: what counts against which of AWS's default quotas.

    ``default`` None means the page documents no limit on the number of such resources.
    ``types`` are the resource types whose registry entry (``lib/resource_types.py``) names
    the row, and ``others``.
    ``measure`` picks how resources count: ``resources`` (one each), ``fargate:<provider>``
    (vCPU on that capacity provider) or ``final-snapshots`` (one per destroy).
    """

    quota: str  # AWS's name of the quota
    default: int | None
    adjustable: bool | None  # None: not confirmed, treated as hard
    scope: str  # a key of SCOPES
    url: str
    measure: str = "resources"
    where: tuple[tuple[str, str], ...] = ()  # attribute equalities a resource must meet
    # Types the stack does not synthesize (so not in the registry), counted should a stack
    # have them.
    others: tuple[str, ...] = ()
    types: tuple[str, ...] = ()  # what counts: set from the registry for QUOTAS


# Default quotas as AWS documents them, with the page each value comes from. Where the pages
# disagree or are dated, the current page's value is used:
# - Fargate: quotas count vCPU since 2022 ("Fargate On-Demand vCPU resource count", 6 in each
#   Region, adjustable; new accounts may start lower). Archived copies of the ECS guide still
#   list the older "resource count" quotas of 1,000 tasks.
# - Aurora DB cluster parameter groups: the English page says adjustable; older Japanese and
#   Chinese translations of it say not adjustable. ap-south-1 has 20 DB instances and 20 DB
#   subnet groups instead of 40 and 50.
# - CloudFront distributions: 500 per account today; older pages say 200 (web distributions).
# - S3 general purpose buckets: 10,000 per account today; older pages say 100.
# - ElastiCache serverless caches: 40 per Region, adjustable (quota L-BBCDAECC), read from the
#   quota table of the general reference page.
# - Secrets Manager: 500,000 secrets per Region; whether it is adjustable could not be read from
#   the copies of the page available here, so the row is treated as hard (adjustable None); it
#   binds at a quarter of a million environments either way.
# - CloudWatch: "no limit on the total number of alarms per account"; dashboards have limits on
#   metrics per dashboard, none on their number.
# - CloudWatch Logs resource policies: "Up to 10 CloudWatch Logs resource policies per Region
#   per account. This quota can't be changed." The PutResourcePolicy reference now adds policies
#   scoped to one log group (resourceArn), one per log group, beside the 10; the stack's policy
#   is account-level and counts against the 10.
# - Application Load Balancers: "Rules per load balancer (not counting default rules)" 100 and
#   "Target groups per Application Load Balancer" 100, both adjustable (the same quota table).
# - ElastiCache users and user groups: 2,000 users per Region and 100 users per user group,
#   adjustable (L-80E085C7, L-943F0F1C), read from a copy of the quota table of the general
#   reference page; MemoryDB's quota page (RBAC the same way) has the same two values.
_ROWS: dict[str, Quota] = {
    "VPCs": Quota("VPCs per Region", 5, True, "region", VPC),
    "Internet gateways": Quota("Internet gateways per Region", 5, True, "region", VPC),
    "NAT gateways": Quota("NAT gateways per Availability Zone", 5, True, "az", VPC),
    "Elastic IPs": Quota("Elastic IP addresses per Region", 5, True, "region", VPC),
    "Gateway VPC endpoints": Quota("Gateway VPC endpoints per Region", 20, True, "region", VPC,
                                   where=(("vpc_endpoint_type", "Gateway"),)),
    "Security groups": Quota("VPC security groups per Region", 2500, True, "region", VPC),
    "Application Load Balancers": Quota("Application Load Balancers per Region", 50, True,
                                        "region", ELB),
    "Target groups": Quota("Target Groups per Region", 3000, True, "region", ELB),
    "ECS clusters": Quota("Clusters per account", 10000, True, "region", ECS),
    "Fargate On-Demand vCPU": Quota("Fargate On-Demand vCPU resource count", 6, True, "region",
                                    ECS, measure="fargate:FARGATE"),
    "Fargate Spot vCPU": Quota("Fargate Spot vCPU resource count", 6, True, "region", ECS,
                               measure="fargate:FARGATE_SPOT"),
    "Aurora DB clusters": Quota("DB clusters", 40, True, "region", AURORA),
    "Aurora DB instances": Quota("DB instances", 40, True, "region", AURORA,
                                 others=("aws_db_instance",)),
    "DB cluster parameter groups": Quota("DB cluster parameter groups", 50, True, "region",
                                         AURORA),
    "DB subnet groups": Quota("DB subnet groups", 50, True, "region", AURORA),
    "Manual DB cluster snapshots": Quota("Manual DB cluster snapshots", 100, True, "region",
                                         AURORA, measure="final-snapshots"),
    "ElastiCache serverless caches": Quota("Serverless Caches per Region", 40, True, "region",
                                           CACHE),
    "ElastiCache users": Quota("Users per Region", 2000, True, "region", CACHE),
    "ElastiCache users per user group": Quota("Users per user group", 100, True, "user group",
                                              CACHE, measure="user-group"),
    "Rules per Application Load Balancer": Quota(
        "Rules per load balancer (not counting default rules)", 100, True, "load balancer", ELB,
        measure="shared-listener"),
    "Target groups per Application Load Balancer": Quota(
        "Target groups per Application Load Balancer", 100, True, "load balancer", ELB,
        measure="shared-listener"),
    "CloudFront distributions": Quota("Distributions per AWS account", 500, True, "account",
                                      CLOUDFRONT),
    "CloudFront VPC origins": Quota("VPC origins per AWS account", 25, True, "account",
                                    CLOUDFRONT),
    "WAF web ACLs (CLOUDFRONT)": Quota("Maximum number of web ACLs", 100, True, "account", WAF,
                                       where=(("scope", "CLOUDFRONT"),)),
    # The stack must make none (pitfall 25): counted should a stack have one.
    "CloudWatch Logs resource policies": Quota("Resource policies", 10, False, "region", LOGS,
                                               others=("aws_cloudwatch_log_resource_policy",)),
    "KMS customer managed keys": Quota("AWS KMS keys", 100000, True, "region", KMS),
    "IAM roles": Quota("Roles per account", 1000, True, "account", IAM),
    "S3 general purpose buckets": Quota("General purpose buckets per account", 10000, True,
                                        "account", S3),
    "SNS topics": Quota("Topics (standard) per account", 100000, True, "region", SNS),
    "Secrets Manager secrets": Quota("Secrets", 500000, None, "region", SECRETS),
    "CloudWatch alarms": Quota("Alarms", None, True, "region", CLOUDWATCH,
                               others=("aws_cloudwatch_composite_alarm",)),
    "CloudWatch dashboards": Quota("Dashboards", None, True, "region", CLOUDWATCH),
}
# Each row counts the registry's types that name it (lib/resource_types.py), then its others.
QUOTAS: dict[str, Quota] = {name: replace(row, types=counted_in(name) + row.others)
                            for name, row in _ROWS.items()}
