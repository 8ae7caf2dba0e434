"""The one registry of the Terraform resource and data source types the stack synthesizes.

No jsii and no construct here: the plan guard, the bootstrap, the quota ledger, the janitor,
the cost check and the e2e's leftovers import it cheaply. Adding a type to the stack means
adding its entry here (``tests/unit/test_resource_types.py`` fails, naming the type and what
it lacks, for every type of a synthesized stack without one). Per resource type
(``RESOURCES``, a ``ResourceType``):

- ``service``: the AWS service that owns it, a key of ``LINKED_ROLES`` (the service-linked role
  the service creates on its first use in an account, or none);
- ``actions``: the IAM actions Terraform's AWS provider calls to create, read, update, tag and
  delete it, which ``make bootstrap`` grants the deploy role (``tools/bootstrap.py``);
- ``stateful``: deleting or replacing it loses data or breaks what depends on it; production
  marks it ``prevent_destroy`` (``lib/lifecycle.py``) and the plan guard refuses a plan that
  deletes or replaces it (``tools/plan_check.py``);
- ``quotas``: the rows of the quota ledger (``tools/quotas.py`` ``QUOTAS``) it counts in;
- ``leftovers``: how the e2e finds one left after destroy (``tests/e2e/leftovers.py``): the
  key of a lister there, ``with its parent: <type>`` for a type that cannot outlive another
  (``parent``), ``checked by: <where>`` (``checked_by``) or ``nothing in AWS: <why>``
  (``nothing``);
- ``arn``: the ``service:kind`` of its ARN (``tools/janitor.resource_kind``) when it carries
  the stack's default tags, so that the tagging API lists it; None when it takes no tags;
- ``passes_role_to``: the service principal a role of the stack is passed to when Terraform
  creates one (``iam:PassRole`` among its actions; the deploy role may pass roles to these
  services only).

Per data source type (``DATA_SOURCES``, a ``DataSourceType``): the IAM actions that read it.
Derived: ``STATEFUL_TYPES``, ``ACTIONS`` (bootstrap's table: data sources as ``data.<type>``),
``passed_to(types)``, ``counted_in(row)``, ``types_of_arn(kind)``; ``missing(types)`` names
the types without an entry, ``stack_types(document)`` those of a ``cdk.tf.json``.

The cost table ``tools/cost_types.toml`` keeps its own entries, checked against ``RESOURCES``
by ``tools/cost.py``.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

HOME = "lib/resource_types.py"
PARENT = "with its parent: "
CHECKED_BY = "checked by: "
NOTHING = "nothing in AWS: "


@dataclass(frozen=True, kw_only=True)
class ResourceType:
    """The facts of one Terraform resource type (see the module docstring)."""

    service: str
    actions: tuple[str, ...]
    leftovers: str
    arn: str | None
    stateful: bool = False
    quotas: tuple[str, ...] = ()
    passes_role_to: str | None = None


@dataclass(frozen=True, kw_only=True)
class DataSourceType:
    """The facts of one Terraform data source type: the IAM actions that read it."""

    actions: tuple[str, ...]


def parent(rtype: str) -> str:
    """``leftovers`` of a type deleted with ``rtype``, or refused deletion while one exists."""
    return PARENT + rtype


def checked_by(where: str) -> str:
    """``leftovers`` of a type another phase of the e2e checks."""
    return CHECKED_BY + where


def nothing(why: str) -> str:
    """``leftovers`` of a type that makes no object in AWS."""
    return NOTHING + why


def _svc(service: str, *names: str) -> tuple[str, ...]:
    return tuple(f"{service}:{name}" for name in names)


_TAGS = ("TagResource", "UntagResource", "ListTagsForResource")
_EC2_TAGS = ("ec2:CreateTags", "ec2:DeleteTags", "ec2:DescribeTags")
_S3_BUCKET_SUB = _svc("s3", "GetBucketLocation", "ListBucket")
_SG = _svc("ec2", "DescribeSecurityGroups", "DescribeSecurityGroupRules", "DescribeNetworkInterfaces")
_LB_READ = _svc("elasticloadbalancing", "DescribeLoadBalancers", "DescribeLoadBalancerAttributes",
                "DescribeListeners", "DescribeListenerAttributes", "DescribeRules",
                "DescribeTargetGroups", "DescribeTargetGroupAttributes", "DescribeTags")
_LB_TAGS = _svc("elasticloadbalancing", "AddTags", "RemoveTags")
_RDS_TAGS = _svc("rds", "AddTagsToResource", "RemoveTagsFromResource", "ListTagsForResource")


def _bucket_setting(*names: str) -> ResourceType:
    """A setting of a bucket: S3 actions ``names`` on it, no tags, gone with the bucket."""
    return ResourceType(service="s3", leftovers=parent("aws_s3_bucket"), arn=None,
                        actions=_S3_BUCKET_SUB + _svc("s3", *names))


# Service -> the service-linked role (its principal, CreateServiceLinkedRole's AWSServiceName)
# the service creates on its first use in an account, or None when what the stack uses of it
# creates none. tools/account_roles.py SERVICE_LINKED_ROLES must hold every role named here
# (tests/tools/test_bootstrap.py).
LINKED_ROLES: dict[str, str | None] = {
    "ecs": "ecs.amazonaws.com",
    # The scalable target is the ECS service (checked on the synthesized stacks).
    "application-autoscaling": "ecs.application-autoscaling.amazonaws.com",
    "elasticloadbalancing": "elasticloadbalancing.amazonaws.com",
    "rds": "rds.amazonaws.com",
    "elasticache": "elasticache.amazonaws.com",
    "cloudfront vpc origins": "vpcorigin.cloudfront.amazonaws.com",
    # CloudFront's other role (logger.cloudfront.amazonaws.com) ships Lambda@Edge logs: none here.
    "cloudfront": None,
    # ACM's role lets it sign with AWS Private CA; the stack's certificates are public,
    # DNS-validated.
    "acm": None,
    # WAF's logging role writes to a Firehose stream; to an S3 bucket (ours, checked) WAF
    # writes through a bucket policy (PutLoggingConfiguration, WAF API reference).
    "wafv2": None,
    # Flow logs write through the role the stack passes them.
    "ec2": None,
    # CloudWatch's role (AWSServiceRoleForCloudWatchEvents) serves EC2 alarm actions; the
    # stack's alarms notify SNS topics only (checked).
    "cloudwatch": None,
    "logs": None,
    "iam": None,
    # KMS's roles serve custom key stores and multi-Region keys; the stack's keys are neither.
    "kms": None,
    "route53": None,
    "s3": None,
    "secretsmanager": None,
    "sns": None,
    # EventBridge Scheduler invokes targets with the schedule's own execution role (the jobs'
    # roles), not a service-linked one ("Set up the execution role", Scheduler user guide).
    "scheduler": None,
    "sqs": None,
    # Terraform's built-in resource: no AWS service at all.
    "terraform": None,
}

# Why a type cannot outlive its parent, per AWS's API references: DeleteVpc refuses a VPC with
# subnets, gateways, route tables or security groups (DependencyViolation) and takes its default
# security group with it; DeleteRouteTable refuses a table still associated with a subnet, and
# its routes go with it; DeleteSecurityGroup removes the group's rules; DeleteRole refuses a role
# with inline or attached policies ("you must delete the items attached to the role manually");
# DeleteCluster (ECS) refuses a cluster with services (ClusterContainsServicesException);
# DeregisterScalableTarget "deletes the scaling policies ... associated with it";
# DeleteLoadBalancer "also deletes its listeners", and a listener's rules go with it; DeleteTopic
# deletes the topic's subscriptions; a secret's versions, a bucket's settings and a web ACL's
# logging configuration are parts of it.
RESOURCES: dict[str, ResourceType] = {
    # -- network ---------------------------------------------------------------------------
    "aws_vpc": ResourceType(
        service="ec2", quotas=("VPCs",), leftovers="vpc", arn="ec2:vpc",
        actions=_svc("ec2", "CreateVpc", "DescribeVpcs", "DescribeVpcAttribute",
                     "ModifyVpcAttribute", "DeleteVpc", "DescribeNetworkAcls",
                     "DescribeRouteTables", "DescribeSecurityGroups", "DescribeVpcClassicLink",
                     "DescribeVpcClassicLinkDnsSupport") + _EC2_TAGS),
    "aws_subnet": ResourceType(
        service="ec2", leftovers="subnet", arn="ec2:subnet",
        actions=_svc("ec2", "CreateSubnet", "DescribeSubnets", "ModifySubnetAttribute",
                     "DeleteSubnet") + _EC2_TAGS),
    "aws_internet_gateway": ResourceType(
        service="ec2", quotas=("Internet gateways",), leftovers="internet gateway",
        arn="ec2:internet-gateway",
        actions=_svc("ec2", "CreateInternetGateway", "DescribeInternetGateways",
                     "AttachInternetGateway", "DetachInternetGateway",
                     "DeleteInternetGateway") + _EC2_TAGS),
    "aws_eip": ResourceType(
        service="ec2", quotas=("Elastic IPs",), leftovers="elastic ip", arn="ec2:elastic-ip",
        actions=_svc("ec2", "AllocateAddress", "DescribeAddresses", "DescribeAddressesAttribute",
                     "ReleaseAddress", "DisassociateAddress") + _EC2_TAGS),
    "aws_nat_gateway": ResourceType(
        service="ec2", quotas=("NAT gateways",), leftovers="nat gateway", arn="ec2:natgateway",
        actions=_svc("ec2", "CreateNatGateway", "DescribeNatGateways",
                     "DeleteNatGateway") + _EC2_TAGS),
    "aws_route_table": ResourceType(
        service="ec2", leftovers="route table", arn="ec2:route-table",
        actions=_svc("ec2", "CreateRouteTable", "DescribeRouteTables",
                     "DeleteRouteTable") + _EC2_TAGS),
    "aws_route": ResourceType(
        service="ec2", leftovers=parent("aws_route_table"), arn=None,
        actions=_svc("ec2", "CreateRoute", "ReplaceRoute", "DeleteRoute",
                     "DescribeRouteTables")),
    "aws_route_table_association": ResourceType(
        service="ec2", leftovers=parent("aws_route_table"), arn=None,
        actions=_svc("ec2", "AssociateRouteTable", "DisassociateRouteTable",
                     "ReplaceRouteTableAssociation", "DescribeRouteTables")),
    "aws_vpc_endpoint": ResourceType(
        service="ec2", quotas=("Gateway VPC endpoints",), leftovers="vpc endpoint",
        arn="ec2:vpc-endpoint",
        actions=_svc("ec2", "CreateVpcEndpoint", "DescribeVpcEndpoints", "ModifyVpcEndpoint",
                     "DeleteVpcEndpoints", "DescribePrefixLists",
                     "DescribeVpcEndpointServices") + _EC2_TAGS),
    "aws_flow_log": ResourceType(
        service="ec2", leftovers="flow log", arn="ec2:vpc-flow-log",
        passes_role_to="vpc-flow-logs.amazonaws.com",
        actions=_svc("ec2", "CreateFlowLogs", "DescribeFlowLogs", "DeleteFlowLogs") + _EC2_TAGS
        + ("iam:PassRole",) + _svc("logs", "CreateLogDelivery", "DeleteLogDelivery")),
    "aws_default_security_group": ResourceType(
        service="ec2", quotas=("Security groups",), leftovers=parent("aws_vpc"),
        arn="ec2:security-group",
        actions=_SG + _svc("ec2", "RevokeSecurityGroupIngress", "RevokeSecurityGroupEgress",
                           "AuthorizeSecurityGroupIngress", "AuthorizeSecurityGroupEgress")
        + _EC2_TAGS),
    "aws_security_group": ResourceType(
        service="ec2", quotas=("Security groups",), leftovers="security group",
        arn="ec2:security-group",
        actions=_SG + _svc("ec2", "CreateSecurityGroup", "DeleteSecurityGroup",
                           "RevokeSecurityGroupIngress", "RevokeSecurityGroupEgress")
        + _EC2_TAGS),
    "aws_vpc_security_group_ingress_rule": ResourceType(
        service="ec2", leftovers=parent("aws_security_group"), arn="ec2:security-group-rule",
        actions=_SG + _svc("ec2", "AuthorizeSecurityGroupIngress", "RevokeSecurityGroupIngress",
                           "ModifySecurityGroupRules") + _EC2_TAGS),
    "aws_vpc_security_group_egress_rule": ResourceType(
        service="ec2", leftovers=parent("aws_security_group"), arn="ec2:security-group-rule",
        actions=_SG + _svc("ec2", "AuthorizeSecurityGroupEgress", "RevokeSecurityGroupEgress",
                           "ModifySecurityGroupRules") + _EC2_TAGS),
    # -- keys, secrets, logs, roles ----------------------------------------------------------
    "aws_kms_key": ResourceType(
        service="kms", stateful=True, quotas=("KMS customer managed keys",),
        leftovers="kms key", arn="kms:key",
        actions=_svc("kms", "CreateKey", "DescribeKey", "GetKeyPolicy", "PutKeyPolicy",
                     "GetKeyRotationStatus", "EnableKeyRotation", "DisableKeyRotation",
                     "ScheduleKeyDeletion", "ListResourceTags", "TagResource", "UntagResource",
                     "EnableKey", "DisableKey", "UpdateKeyDescription")),
    "aws_kms_alias": ResourceType(
        service="kms", leftovers="kms alias", arn=None,
        actions=_svc("kms", "CreateAlias", "ListAliases", "UpdateAlias", "DeleteAlias")),
    "aws_secretsmanager_secret": ResourceType(
        service="secretsmanager", stateful=True, quotas=("Secrets Manager secrets",),
        leftovers="secret", arn="secretsmanager:secret",
        actions=_svc("secretsmanager", "CreateSecret", "DescribeSecret", "GetResourcePolicy",
                     "UpdateSecret", "DeleteSecret", "TagResource", "UntagResource")),
    "aws_secretsmanager_secret_version": ResourceType(
        service="secretsmanager", leftovers=parent("aws_secretsmanager_secret"), arn=None,
        actions=_svc("secretsmanager", "PutSecretValue", "GetSecretValue", "DescribeSecret",
                     "ListSecretVersionIds", "UpdateSecretVersionStage")
        + _svc("kms", "GenerateDataKey", "Decrypt")),
    "aws_cloudwatch_log_group": ResourceType(
        service="logs", stateful=True, leftovers="log group", arn="logs:log-group",
        actions=_svc("logs", "CreateLogGroup", "DescribeLogGroups", "DeleteLogGroup",
                     "PutRetentionPolicy", "DeleteRetentionPolicy", "AssociateKmsKey",
                     "DisassociateKmsKey", "TagResource", "UntagResource",
                     "ListTagsForResource", "TagLogGroup", "ListTagsLogGroup")),
    "aws_iam_role": ResourceType(
        service="iam", quotas=("IAM roles",), leftovers="iam role", arn="iam:role",
        actions=_svc("iam", "CreateRole", "GetRole", "UpdateRole", "UpdateAssumeRolePolicy",
                     "DeleteRole", "ListRolePolicies", "ListAttachedRolePolicies",
                     "ListInstanceProfilesForRole", "TagRole", "UntagRole", "ListRoleTags")),
    "aws_iam_role_policy": ResourceType(
        service="iam", leftovers=parent("aws_iam_role"), arn=None,
        actions=_svc("iam", "PutRolePolicy", "GetRolePolicy", "DeleteRolePolicy")),
    "aws_iam_role_policy_attachment": ResourceType(
        service="iam", leftovers=parent("aws_iam_role"), arn=None,
        actions=_svc("iam", "AttachRolePolicy", "DetachRolePolicy", "ListAttachedRolePolicies")),
    # -- data tier -------------------------------------------------------------------------
    "aws_rds_cluster": ResourceType(
        service="rds", stateful=True,
        quotas=("Aurora DB clusters", "Manual DB cluster snapshots"), leftovers="db cluster",
        arn="rds:cluster",
        actions=_svc("rds", "CreateDBCluster", "DescribeDBClusters", "ModifyDBCluster",
                     "DeleteDBCluster", "AddTagsToResource", "RemoveTagsFromResource",
                     "ListTagsForResource", "DescribeGlobalClusters")
        + _svc("secretsmanager", "CreateSecret", "DescribeSecret", "DeleteSecret",
               "TagResource", "RotateSecret", "PutSecretValue")
        + _svc("kms", "DescribeKey", "CreateGrant", "GenerateDataKey", "Decrypt")
        + _svc("iam", "CreateServiceLinkedRole")),
    "aws_rds_cluster_instance": ResourceType(
        service="rds", stateful=True, quotas=("Aurora DB instances",), leftovers="db instance",
        arn="rds:db", passes_role_to="monitoring.rds.amazonaws.com",  # enhanced monitoring
        actions=_svc("rds", "CreateDBInstance", "DescribeDBInstances", "ModifyDBInstance",
                     "DeleteDBInstance") + _RDS_TAGS + ("iam:PassRole",)),
    "aws_rds_cluster_parameter_group": ResourceType(
        service="rds", quotas=("DB cluster parameter groups",),
        leftovers="db cluster parameter group", arn="rds:cluster-pg",
        actions=_svc("rds", "CreateDBClusterParameterGroup", "DescribeDBClusterParameterGroups",
                     "DescribeDBClusterParameters", "ModifyDBClusterParameterGroup",
                     "ResetDBClusterParameterGroup", "DeleteDBClusterParameterGroup")
        + _RDS_TAGS),
    "aws_db_subnet_group": ResourceType(
        service="rds", quotas=("DB subnet groups",), leftovers="db subnet group",
        arn="rds:subgrp",
        actions=_svc("rds", "CreateDBSubnetGroup", "DescribeDBSubnetGroups",
                     "ModifyDBSubnetGroup", "DeleteDBSubnetGroup") + _RDS_TAGS),
    "aws_elasticache_serverless_cache": ResourceType(
        service="elasticache", stateful=True, quotas=("ElastiCache serverless caches",),
        leftovers="serverless cache", arn="elasticache:serverlesscache",
        actions=_svc("elasticache", "CreateServerlessCache", "DescribeServerlessCaches",
                     "ModifyServerlessCache", "DeleteServerlessCache", "AddTagsToResource",
                     "RemoveTagsFromResource", "ListTagsForResource")
        + _svc("ec2", "CreateVpcEndpoint", "DescribeVpcEndpoints", "DeleteVpcEndpoints",
               "DescribeSubnets", "DescribeVpcs") + _svc("iam", "CreateServiceLinkedRole")),
    # The shared cache's users (lib/shared_tenancy.py, lib/shared_stack.py).
    "aws_elasticache_user": ResourceType(
        service="elasticache", quotas=("ElastiCache users",), arn="elasticache:user",
        leftovers=checked_by("the fleet on shared pieces (tests/e2e, to come): after an "
                             "environment's destroy, DescribeUsers finds no user tap-<suffix>"),
        actions=_svc("elasticache", "CreateUser", "DescribeUsers", "ModifyUser", "DeleteUser",
                     "AddTagsToResource", "RemoveTagsFromResource", "ListTagsForResource")),
    "aws_elasticache_user_group": ResourceType(
        service="elasticache", quotas=("ElastiCache users per user group",),
        arn="elasticache:usergroup",
        leftovers=checked_by("the fleet on shared pieces (tests/e2e, to come): the shared "
                             "stack's own; an environment's destroy leaves it in place"),
        actions=_svc("elasticache", "CreateUserGroup", "DescribeUserGroups", "ModifyUserGroup",
                     "DeleteUserGroup", "AddTagsToResource", "RemoveTagsFromResource",
                     "ListTagsForResource")),
    "aws_elasticache_user_group_association": ResourceType(
        service="elasticache", quotas=("ElastiCache users per user group",), arn=None,
        leftovers=nothing("a user's membership of a user group (ModifyUserGroup), gone with "
                          "the user, which is checked"),
        actions=_svc("elasticache", "ModifyUserGroup", "DescribeUserGroups")),
    # -- load balancer and service -----------------------------------------------------------
    "aws_lb": ResourceType(
        service="elasticloadbalancing", quotas=("Application Load Balancers",),
        leftovers="load balancer", arn="elasticloadbalancing:loadbalancer",
        actions=_LB_READ + _LB_TAGS + _svc(
            "elasticloadbalancing", "CreateLoadBalancer", "ModifyLoadBalancerAttributes",
            "SetSecurityGroups", "SetSubnets", "DeleteLoadBalancer")
        + _svc("iam", "CreateServiceLinkedRole")),
    "aws_lb_listener": ResourceType(
        service="elasticloadbalancing", leftovers=parent("aws_lb"),
        arn="elasticloadbalancing:listener",
        actions=_LB_READ + _LB_TAGS + _svc(
            "elasticloadbalancing", "CreateListener", "ModifyListener",
            "ModifyListenerAttributes", "DeleteListener")),
    "aws_lb_listener_rule": ResourceType(
        service="elasticloadbalancing", leftovers=parent("aws_lb_listener"),
        arn="elasticloadbalancing:listener-rule",
        quotas=("Rules per Application Load Balancer",),
        actions=_LB_READ + _LB_TAGS + _svc(
            "elasticloadbalancing", "CreateRule", "ModifyRule", "SetRulePriorities",
            "DeleteRule")),
    "aws_lb_target_group": ResourceType(
        service="elasticloadbalancing",
        quotas=("Target groups", "Target groups per Application Load Balancer"),
        leftovers="target group",
        arn="elasticloadbalancing:targetgroup",
        actions=_LB_READ + _LB_TAGS + _svc(
            "elasticloadbalancing", "CreateTargetGroup", "ModifyTargetGroup",
            "ModifyTargetGroupAttributes", "DeleteTargetGroup")),
    "aws_ecs_cluster": ResourceType(
        service="ecs", quotas=("ECS clusters",), leftovers="ecs cluster", arn="ecs:cluster",
        actions=_svc("ecs", "CreateCluster", "DescribeClusters", "UpdateCluster",
                     "PutClusterCapacityProviders", "DeleteCluster", *_TAGS)),
    "aws_ecs_cluster_capacity_providers": ResourceType(
        service="ecs", leftovers=parent("aws_ecs_cluster"), arn=None,
        actions=_svc("ecs", "PutClusterCapacityProviders", "DescribeClusters")),
    "aws_ecs_service": ResourceType(
        service="ecs", quotas=("Fargate On-Demand vCPU", "Fargate Spot vCPU"),
        leftovers=parent("aws_ecs_cluster"), arn="ecs:service",
        passes_role_to="ecs-tasks.amazonaws.com",
        actions=_svc("ecs", "CreateService", "DescribeServices", "UpdateService",
                     "DeleteService", *_TAGS) + ("iam:PassRole",)),
    "aws_ecs_task_definition": ResourceType(
        service="ecs", leftovers="ecs task definition", arn="ecs:task-definition",
        passes_role_to="ecs-tasks.amazonaws.com",
        actions=_svc("ecs", "RegisterTaskDefinition", "DescribeTaskDefinition",
                     "DeregisterTaskDefinition", *_TAGS) + ("iam:PassRole",)),
    "aws_appautoscaling_target": ResourceType(
        service="application-autoscaling", leftovers="scalable target",
        arn="application-autoscaling:scalable-target",
        actions=_svc("application-autoscaling", "RegisterScalableTarget",
                     "DescribeScalableTargets", "DeregisterScalableTarget", *_TAGS)
        + _svc("iam", "CreateServiceLinkedRole")),
    "aws_appautoscaling_policy": ResourceType(
        service="application-autoscaling", leftovers=parent("aws_appautoscaling_target"),
        arn=None,
        actions=_svc("application-autoscaling", "PutScalingPolicy", "DescribeScalingPolicies",
                     "DeleteScalingPolicy")
        + _svc("cloudwatch", "PutMetricAlarm", "DescribeAlarms", "DeleteAlarms")),
    # -- edge --------------------------------------------------------------------------------
    "aws_cloudfront_distribution": ResourceType(
        service="cloudfront", quotas=("CloudFront distributions",),
        leftovers="cloudfront distribution", arn="cloudfront:distribution",
        actions=_svc("cloudfront", "CreateDistribution", "CreateDistributionWithTags",
                     "GetDistribution", "GetDistributionConfig", "UpdateDistribution",
                     "DeleteDistribution", *_TAGS)),
    # CloudFront creates the VPC origin's interfaces and security group through its
    # service-linked role, which the first VPC origin of an account creates.
    "aws_cloudfront_vpc_origin": ResourceType(
        service="cloudfront vpc origins", quotas=("CloudFront VPC origins",),
        leftovers="vpc origin", arn="cloudfront:vpcorigin",
        actions=_svc("cloudfront", "CreateVpcOrigin", "GetVpcOrigin", "UpdateVpcOrigin",
                     "DeleteVpcOrigin", "ListVpcOrigins", *_TAGS)
        + _svc("iam", "CreateServiceLinkedRole")
        + _svc("elasticloadbalancing", "DescribeLoadBalancers")
        + _svc("ec2", "DescribeVpcs", "DescribeSubnets")),
    "aws_wafv2_web_acl": ResourceType(
        service="wafv2", quotas=("WAF web ACLs (CLOUDFRONT)",), leftovers="web acl",
        arn="wafv2:webacl",
        actions=_svc("wafv2", "CreateWebACL", "GetWebACL", "UpdateWebACL", "DeleteWebACL",
                     *_TAGS)),
    "aws_wafv2_web_acl_logging_configuration": ResourceType(
        service="wafv2", leftovers=parent("aws_wafv2_web_acl"), arn=None,
        actions=_svc("wafv2", "PutLoggingConfiguration", "GetLoggingConfiguration",
                     "DeleteLoggingConfiguration")
        + _svc("logs", "CreateLogDelivery", "DeleteLogDelivery", "PutResourcePolicy",
               "DescribeResourcePolicies") + _svc("iam", "CreateServiceLinkedRole")),
    "aws_acm_certificate": ResourceType(
        service="acm", leftovers="certificate", arn="acm:certificate",
        actions=_svc("acm", "RequestCertificate", "DescribeCertificate", "DeleteCertificate",
                     "AddTagsToCertificate", "RemoveTagsFromCertificate",
                     "ListTagsForCertificate")),
    "aws_acm_certificate_validation": ResourceType(
        service="acm", arn=None,
        leftovers=nothing("Terraform waits for the certificate's DNS validation"),
        actions=_svc("acm", "DescribeCertificate")),
    "aws_route53_record": ResourceType(
        service="route53", arn=None,
        leftovers=checked_by("tests/e2e/viewer_zone.py: after destroy the zone HOSTED_ZONE_ID "
                             "gives holds only its own NS and SOA records"),
        actions=_svc("route53", "ChangeResourceRecordSets", "ListResourceRecordSets",
                     "GetChange", "GetHostedZone")),
    # -- buckets -----------------------------------------------------------------------------
    "aws_s3_bucket": ResourceType(
        service="s3", stateful=True, quotas=("S3 general purpose buckets",), leftovers="bucket",
        arn="s3:bucket",
        actions=_S3_BUCKET_SUB + _svc(
            "s3", "CreateBucket", "DeleteBucket", "GetBucketTagging", "PutBucketTagging",
            "GetBucketPolicy", "GetBucketAcl", "GetBucketCORS", "GetBucketWebsite",
            "GetBucketVersioning", "GetAccelerateConfiguration", "GetBucketRequestPayment",
            "GetBucketLogging", "GetLifecycleConfiguration", "GetReplicationConfiguration",
            "GetEncryptionConfiguration", "GetBucketObjectLockConfiguration",
            "GetBucketOwnershipControls", "GetBucketPublicAccessBlock", "ListBucketVersions",
            "DeleteObject", "DeleteObjectVersion")),
    "aws_s3_bucket_acl": _bucket_setting("GetBucketAcl", "PutBucketAcl"),
    "aws_s3_bucket_lifecycle_configuration": _bucket_setting("GetLifecycleConfiguration",
                                                             "PutLifecycleConfiguration"),
    "aws_s3_bucket_ownership_controls": _bucket_setting("GetBucketOwnershipControls",
                                                        "PutBucketOwnershipControls"),
    "aws_s3_bucket_policy": _bucket_setting("GetBucketPolicy", "PutBucketPolicy",
                                            "DeleteBucketPolicy"),
    "aws_s3_bucket_public_access_block": _bucket_setting("GetBucketPublicAccessBlock",
                                                         "PutBucketPublicAccessBlock"),
    "aws_s3_bucket_server_side_encryption_configuration": _bucket_setting(
        "GetEncryptionConfiguration", "PutEncryptionConfiguration"),
    # -- monitoring --------------------------------------------------------------------------
    "aws_sns_topic": ResourceType(
        service="sns", quotas=("SNS topics",), leftovers="sns topic", arn="sns:topic",
        actions=_svc("sns", "CreateTopic", "GetTopicAttributes", "SetTopicAttributes",
                     "DeleteTopic", *_TAGS)),
    "aws_sns_topic_policy": ResourceType(
        service="sns", leftovers=parent("aws_sns_topic"), arn=None,
        actions=_svc("sns", "GetTopicAttributes", "SetTopicAttributes")),
    "aws_sns_topic_subscription": ResourceType(
        service="sns", leftovers=parent("aws_sns_topic"), arn=None,
        actions=_svc("sns", "Subscribe", "Unsubscribe", "GetSubscriptionAttributes",
                     "SetSubscriptionAttributes")),
    "aws_cloudwatch_metric_alarm": ResourceType(
        service="cloudwatch", quotas=("CloudWatch alarms",), leftovers="alarm",
        arn="cloudwatch:alarm",
        actions=_svc("cloudwatch", "PutMetricAlarm", "DescribeAlarms", "DeleteAlarms", *_TAGS)),
    "aws_cloudwatch_dashboard": ResourceType(
        service="cloudwatch", quotas=("CloudWatch dashboards",), leftovers="dashboard",
        arn=None,
        actions=_svc("cloudwatch", "PutDashboard", "GetDashboard", "DeleteDashboards")),
    # -- the application's jobs (app.toml) ---------------------------------------------------
    # A schedule passes its execution role (the job's) to EventBridge Scheduler: AWS's managed
    # AmazonEventBridgeSchedulerFullAccess grants iam:PassRole for scheduler.amazonaws.com.
    "aws_scheduler_schedule": ResourceType(
        service="scheduler", leftovers="schedule", arn=None,
        passes_role_to="scheduler.amazonaws.com",
        actions=_svc("scheduler", "CreateSchedule", "GetSchedule", "UpdateSchedule",
                     "DeleteSchedule") + ("iam:PassRole",)),
    "aws_sqs_queue": ResourceType(
        service="sqs", leftovers="sqs queue", arn="sqs:queue",
        actions=_svc("sqs", "CreateQueue", "GetQueueUrl", "GetQueueAttributes",
                     "SetQueueAttributes", "DeleteQueue", "ListQueueTags", "TagQueue",
                     "UntagQueue")),
    # Terraform's own: no AWS call of the provider. Its provisioners run tools of this
    # repository with the deploy role's credentials: the release gate (tools/one_off.py:
    # check the secrets, run the release task, read its logs), on destroy CloudFront's
    # leftovers (tools/vpc_origin_leftovers.py), and an environment's database in the shared
    # cluster (tools/shared_database.py: the RDS Data API with the cluster's master secret,
    # which the caller must be allowed to read and decrypt: "Authorizing access to RDS Data
    # API", Aurora user guide).
    "terraform_data": ResourceType(
        service="terraform", arn=None,
        leftovers=nothing("Terraform's own resource (what its provisioners make is the "
                          "release task's, listed as an ECS task definition)"),
        actions=_svc("secretsmanager", "DescribeSecret")
        + _svc("ecs", "RunTask", "DescribeTasks", "StopTask") + _svc("logs", "GetLogEvents")
        + _SG + ("ec2:DeleteSecurityGroup",)
        + ("rds-data:ExecuteStatement", "secretsmanager:GetSecretValue", "kms:Decrypt")),
}

DATA_SOURCES: dict[str, DataSourceType] = {
    "aws_availability_zones": DataSourceType(actions=("ec2:DescribeAvailabilityZones",)),
    "aws_caller_identity": DataSourceType(actions=("sts:GetCallerIdentity",)),
    "aws_canonical_user_id": DataSourceType(actions=("s3:ListAllMyBuckets",)),
    "aws_cloudfront_log_delivery_canonical_user_id": DataSourceType(
        actions=()),  # a constant of the provider
    "aws_db_cluster_snapshot": DataSourceType(actions=("rds:DescribeDBClusterSnapshots",)),
    "aws_ec2_managed_prefix_list": DataSourceType(
        actions=("ec2:DescribeManagedPrefixLists", "ec2:GetManagedPrefixListEntries")),
    "aws_elasticache_serverless_cache": DataSourceType(
        actions=("elasticache:DescribeServerlessCaches",)),
    "aws_elb_service_account": DataSourceType(actions=()),  # a constant of the provider
    "aws_lb": DataSourceType(actions=_svc("elasticloadbalancing", "DescribeLoadBalancers",
                                          "DescribeLoadBalancerAttributes", "DescribeTags")),
    "aws_lb_listener": DataSourceType(actions=_svc("elasticloadbalancing", "DescribeListeners",
                                                   "DescribeListenerAttributes",
                                                   "DescribeTags")),
    "aws_rds_cluster": DataSourceType(actions=("rds:DescribeDBClusters",
                                               "rds:ListTagsForResource")),
    "aws_route53_zone": DataSourceType(
        actions=_svc("route53", "GetHostedZone", "ListHostedZones", "ListTagsForResource")),
    "aws_secretsmanager_random_password": DataSourceType(
        actions=("secretsmanager:GetRandomPassword",)),
    "aws_security_groups": DataSourceType(actions=_SG),
    "aws_subnet": DataSourceType(actions=("ec2:DescribeSubnets",)),
    "aws_vpc": DataSourceType(actions=("ec2:DescribeVpcs", "ec2:DescribeVpcAttribute")),
    "aws_wafv2_web_acl": DataSourceType(actions=("wafv2:ListWebACLs", "wafv2:GetWebACL")),
}

STATEFUL_TYPES: tuple[str, ...] = tuple(t for t, entry in RESOURCES.items() if entry.stateful)
# The tag that marks a resource a destroy leaves in place (CDK's RemovalPolicy.RETAIN): the
# data key of an environment whose final snapshot is kept (lib/kms.py). Read by
# tools/terraform_apply.py (terraform state rm before destroy), the janitor and the e2e
# leftovers check.
RETAIN_TAG = "RetainOnDestroy"
# bootstrap's table: Terraform type (data sources as "data.<type>") -> IAM actions.
ACTIONS: dict[str, tuple[str, ...]] = {
    **{rtype: entry.actions for rtype, entry in RESOURCES.items()},
    **{f"data.{dtype}": entry.actions for dtype, entry in DATA_SOURCES.items()},
}


def stack_types(document: dict[str, Any]) -> set[str]:
    """The resource types of a ``cdk.tf.json``, and its data source types as ``data.<type>``."""
    return set(document.get("resource", {})) | {f"data.{t}" for t in document.get("data", {})}


def missing(types: set[str]) -> list[str]:
    """One line per type of ``types`` (``data.<type>`` for data sources) without an entry,
    naming the type and what its entry would hold."""
    lines = [f"{rtype}: no entry in {HOME} (its service, bootstrap actions, whether it is "
             "stateful, its quota rows and how its leftovers are found)"
             for rtype in sorted(t for t in types if not t.startswith("data."))
             if rtype not in RESOURCES]
    lines += [f"{dtype}: no bootstrap actions in {HOME} (DATA_SOURCES)"
              for dtype in sorted(t for t in types if t.startswith("data."))
              if dtype.removeprefix("data.") not in DATA_SOURCES]
    return lines


def passed_to(types: set[str]) -> list[str]:
    """The services the resources of ``types`` pass roles to, sorted."""
    return sorted({entry.passes_role_to for rtype, entry in RESOURCES.items()
                   if rtype in types and entry.passes_role_to})


def counted_in(quota: str) -> tuple[str, ...]:
    """The resource types that count in the quota ledger's row ``quota``."""
    return tuple(rtype for rtype, entry in RESOURCES.items() if quota in entry.quotas)


def types_of_arn(kind: str) -> tuple[str, ...]:
    """The resource types whose ARNs are of ``kind`` (``service:kind``)."""
    return tuple(rtype for rtype, entry in RESOURCES.items() if entry.arn == kind)
