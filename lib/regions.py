"""What the stack and its tools know about AWS Regions, in one place.

No jsii and no construct here: the settings (``lib.config``), the constructs and the tools
(``tools/janitor.py``, ``tools/quotas.py``, ``tools/bootstrap.py``) import these names.

- ``AWS_REGIONS``: the commercial-partition Regions a stack may be deployed in;
- ``DEFAULT_REGION``: the Region of ``AWS_REGION`` and ``TERRAFORM_STATE_BUCKET_REGION`` when
  unset;
- ``GLOBAL_REGION``: where CloudFront, its WAF web ACL, their logs and alarms live;
- ``TWO_AZ_REGIONS``: Regions where the stack spreads over two Availability Zones, not three;
- ``VPC_ORIGIN_UNAVAILABLE_REGIONS`` and ``VPC_ORIGIN_UNAVAILABLE_AZ_IDS``: where CloudFront
  VPC origins are not offered;
- ``ELB_ACCOUNT_REGIONS``: Regions whose load balancers deliver access logs as a regional
  Elastic Load Balancing account rather than as the log-delivery service principal;
- ``S3_UNCONSTRAINED_REGION``: the Region whose buckets are created without a
  ``LocationConstraint``.
"""
from __future__ import annotations

# Commercial-partition regions (the stack writes ARNs in the "aws" partition).
AWS_REGIONS = frozenset(
    {
        "af-south-1", "ap-east-1", "ap-east-2", "ap-northeast-1", "ap-northeast-2",
        "ap-northeast-3", "ap-south-1", "ap-south-2", "ap-southeast-1", "ap-southeast-2",
        "ap-southeast-3", "ap-southeast-4", "ap-southeast-5", "ap-southeast-6",
        "ap-southeast-7", "ca-central-1", "ca-west-1", "eu-central-1", "eu-central-2",
        "eu-north-1", "eu-south-1", "eu-south-2", "eu-west-1", "eu-west-2", "eu-west-3",
        "il-central-1", "me-central-1", "me-south-1", "mx-central-1", "sa-east-1",
        "us-east-1", "us-east-2", "us-west-1", "us-west-2",
    }
)
DEFAULT_REGION = "us-east-1"
# CloudFront, its WAF web ACL and their logs and alarms live here, whatever AWS_REGION is.
GLOBAL_REGION = "us-east-1"
# Regions where new accounts get only two availability zones; everywhere else the
# stack spreads over three.
TWO_AZ_REGIONS = frozenset({"us-west-1"})
# CloudFront VPC origins, per "Restrict access with VPC origins" in the CloudFront developer
# guide: the commercial regions of AWS_REGIONS where they are not offered (the load
# balancer is then internet-facing, HTTPS-only with CERTIFICATE_ARN), and the AZ IDs, in
# regions that offer them, where they are not (us-east-1, us-west-1, ap-northeast-1,
# ca-central-1).
VPC_ORIGIN_UNAVAILABLE_REGIONS: frozenset[str] = frozenset({"ap-southeast-6"})
VPC_ORIGIN_UNAVAILABLE_AZ_IDS: tuple[str, ...] = ("use1-az3", "usw1-az2", "apne1-az3",
                                                  "cac1-az3")
# Regions opened before August 2022 deliver ALB logs as a regional Elastic Load Balancing
# account (the aws_elb_service_account data source knows it); newer regions use the
# log-delivery service principal instead.
ELB_ACCOUNT_REGIONS = frozenset({
    "af-south-1", "ap-east-1", "ap-northeast-1", "ap-northeast-2", "ap-northeast-3",
    "ap-south-1", "ap-southeast-1", "ap-southeast-2", "ap-southeast-3", "ca-central-1",
    "eu-central-1", "eu-north-1", "eu-south-1", "eu-west-1", "eu-west-2", "eu-west-3",
    "me-south-1", "sa-east-1", "us-east-1", "us-east-2", "us-west-1", "us-west-2",
})
# S3 CreateBucket: "If you are creating a bucket on the US East (N. Virginia) Region
# (us-east-1), you do not need to specify the location" (CreateBucketConfiguration,
# LocationConstraint); naming us-east-1 there is refused (InvalidLocationConstraint), and
# every other Region must be named.
S3_UNCONSTRAINED_REGION = "us-east-1"
