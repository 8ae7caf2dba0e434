"""What a destroyed environment left behind, listed with boto3.

``find_leftovers(client, suffix, regions)`` lists every resource kind the stack creates
(VPC pieces, NAT gateways and Elastic IPs, KMS keys not pending deletion and aliases,
log groups, IAM roles, secrets not scheduled for deletion, Aurora, the serverless
cache, ECS, load balancers, buckets, CloudFront, WAF, SNS, alarms, dashboards, scaling
targets) and returns a line for each one that carries the environment's tags or
names. Names are matched as whole parts (``tap-dev`` is in ``tap-dev-alb-logs-1a2b``,
``tap/dev/origin-verify-9f`` and ``aws-waf-logs-tapdev-1a2b``, not in ``tap-devx-...``),
so the generated names the stack takes from ``bucket_prefix`` and ``name_prefix`` are
found too; buckets are also found by their tags. KMS keys pending deletion are gone as
far as AWS lets them go, not leftovers.
``retained(...)`` lists what destroy keeps on purpose (final DB snapshots of the profiles
that take one, ``tap-<suffix>-aurora-final-<id>``), for the report.
"""
from __future__ import annotations

import re
from typing import Any, Callable, Iterable, Iterator

Client = Callable[..., Any]


class Marks:
    """How an environment's resources are recognized: default tags, then names."""

    def __init__(self, suffix: str) -> None:
        self.suffix = suffix
        # tap-<suffix>..., tap/<suffix>/..., /tap/<suffix>/..., aws-waf-logs-tap<suffix>-...
        self.pattern = re.compile(rf"(?<![a-z0-9])tap[-/]?{re.escape(suffix)}(?![a-z0-9])")

    def tagged(self, tags: Iterable[dict[str, str]] | dict[str, str] | None) -> bool:
        """True when the tags say Project=tap and Environment=<suffix>."""
        found = dict(tags) if isinstance(tags, dict) else {
            tag.get("Key", tag.get("key")): tag.get("Value", tag.get("value"))
            for tag in tags or []}
        return found.get("Environment") == self.suffix and found.get("Project") == "tap"

    def named(self, *names: str | None) -> bool:
        """True when a name or ARN contains the environment's name as a whole part."""
        return any(self.pattern.search(name) for name in names if name)


def _ec2(ec2: Any, marks: Marks) -> Iterator[str]:
    listings = (
        ("vpc", ec2.describe_vpcs()["Vpcs"], "VpcId"),
        ("subnet", ec2.describe_subnets()["Subnets"], "SubnetId"),
        ("internet gateway", ec2.describe_internet_gateways()["InternetGateways"],
         "InternetGatewayId"),
        ("route table", ec2.describe_route_tables()["RouteTables"], "RouteTableId"),
        ("security group", ec2.describe_security_groups()["SecurityGroups"], "GroupId"),
        ("elastic ip", ec2.describe_addresses()["Addresses"], "AllocationId"),
        ("flow log", ec2.describe_flow_logs()["FlowLogs"], "FlowLogId"),
    )
    for kind, items, key in listings:
        for item in items:
            if marks.tagged(item.get("Tags")) or marks.named(item.get("GroupName")):
                yield f"{kind} {item[key]}"
    for nat in ec2.describe_nat_gateways()["NatGateways"]:
        if nat["State"] not in ("deleted", "deleting") and marks.tagged(nat.get("Tags")):
            yield f"nat gateway {nat['NatGatewayId']}"
    for endpoint in ec2.describe_vpc_endpoints()["VpcEndpoints"]:
        if endpoint["State"].lower() != "deleted" and marks.tagged(endpoint.get("Tags")):
            yield f"vpc endpoint {endpoint['VpcEndpointId']}"


def _kms(kms: Any, marks: Marks) -> Iterator[str]:
    for alias in kms.list_aliases()["Aliases"]:
        if marks.named(alias["AliasName"]):
            yield f"kms alias {alias['AliasName']}"
    for key in kms.list_keys()["Keys"]:
        metadata = kms.describe_key(KeyId=key["KeyId"])["KeyMetadata"]
        if metadata["KeyState"] == "PendingDeletion" or metadata.get("KeyManager") == "AWS":
            continue
        tags = kms.list_resource_tags(KeyId=key["KeyId"]).get("Tags", [])
        if marks.tagged([{"Key": t["TagKey"], "Value": t["TagValue"]} for t in tags]) \
                or marks.named(metadata.get("Description")):
            yield f"kms key {key['KeyId']} ({metadata['KeyState']})"


def _named(marks: Marks, kind: str, names: Iterable[str]) -> Iterator[str]:
    for name in names:
        if marks.named(name):
            yield f"{kind} {name}"


def _regional(client: Client, region: str, marks: Marks) -> Iterator[str]:
    def call(service: str, method: str, key: str, **kwargs: Any) -> list[Any]:
        return list(getattr(client(service, region), method)(**kwargs).get(key, []))

    yield from _ec2(client("ec2", region), marks)
    yield from _kms(client("kms", region), marks)
    yield from _named(marks, "log group", (g["logGroupName"] for g in call(
        "logs", "describe_log_groups", "logGroups")))
    yield from _named(marks, "log resource policy", (p["policyName"] for p in call(
        "logs", "describe_resource_policies", "resourcePolicies")))
    yield from _named(marks, "secret", (s["Name"] for s in call(
        "secretsmanager", "list_secrets", "SecretList") if "DeletedDate" not in s))
    yield from _named(marks, "db cluster", (c["DBClusterIdentifier"] for c in call(
        "rds", "describe_db_clusters", "DBClusters")))
    yield from _named(marks, "db instance", (i["DBInstanceIdentifier"] for i in call(
        "rds", "describe_db_instances", "DBInstances")))
    yield from _named(marks, "db subnet group", (g["DBSubnetGroupName"] for g in call(
        "rds", "describe_db_subnet_groups", "DBSubnetGroups")))
    yield from _named(marks, "db cluster parameter group", (
        g["DBClusterParameterGroupName"] for g in call(
            "rds", "describe_db_cluster_parameter_groups", "DBClusterParameterGroups")))
    yield from _named(marks, "serverless cache", (c["ServerlessCacheName"] for c in call(
        "elasticache", "describe_serverless_caches", "ServerlessCaches")))
    yield from _named(marks, "ecs cluster", (
        c["clusterArn"] for c in client("ecs", region).describe_clusters(
            clusters=call("ecs", "list_clusters", "clusterArns"))["clusters"]
        if c["status"] == "ACTIVE"))
    yield from _named(marks, "ecs task definition", call(
        "ecs", "list_task_definitions", "taskDefinitionArns", status="ACTIVE"))
    yield from _named(marks, "load balancer", (b["LoadBalancerName"] for b in call(
        "elbv2", "describe_load_balancers", "LoadBalancers")))
    yield from _named(marks, "target group", (g["TargetGroupName"] for g in call(
        "elbv2", "describe_target_groups", "TargetGroups")))
    yield from _named(marks, "sns topic", (t["TopicArn"] for t in call(
        "sns", "list_topics", "Topics")))
    yield from _named(marks, "alarm", (a["AlarmName"] for a in call(
        "cloudwatch", "describe_alarms", "MetricAlarms")))
    yield from _named(marks, "dashboard", (d["DashboardName"] for d in call(
        "cloudwatch", "list_dashboards", "DashboardEntries")))
    yield from _named(marks, "scalable target", (t["ResourceId"] for t in call(
        "application-autoscaling", "describe_scalable_targets", "ScalableTargets",
        ServiceNamespace="ecs")))
    yield from _named(marks, "web acl", (a["Name"] for a in call(
        "wafv2", "list_web_acls", "WebACLs", Scope="CLOUDFRONT")))


def _buckets(s3: Any, marks: Marks) -> Iterator[str]:
    for bucket in s3.list_buckets()["Buckets"]:
        name = bucket["Name"]
        if marks.named(name):
            yield f"bucket {name}"
            continue
        try:
            tags = s3.get_bucket_tagging(Bucket=name)["TagSet"]
        except s3.exceptions.ClientError:  # NoSuchTagSet
            continue
        if marks.tagged(tags):
            yield f"bucket {name}"


def find_leftovers(client: Client, suffix: str, regions: Iterable[str]) -> list[str]:
    """Everything of environment ``suffix`` still present, one line each."""
    marks = Marks(suffix)
    found: list[str] = []
    for region in sorted(set(regions)):
        found.extend(f"{region}: {line}" for line in _regional(client, region, marks))
    found.extend(_named(marks, "iam role", (r["RoleName"] for r in client("iam").list_roles(
        MaxItems=1000)["Roles"])))
    found.extend(_buckets(client("s3"), marks))
    distributions = client("cloudfront").list_distributions()["DistributionList"]
    found.extend(_named(marks, "cloudfront distribution", (
        f"{d['Id']} {d.get('Comment', '')} {d['Origins']['Items'][0]['DomainName']}"
        for d in distributions.get("Items", []))))
    return found


def retained(client: Client, suffix: str, regions: Iterable[str]) -> list[str]:
    """What destroy keeps on purpose: final Aurora snapshots (standard and production)."""
    marks = Marks(suffix)
    return [f"{region}: db cluster snapshot {s['DBClusterSnapshotIdentifier']}"
            for region in sorted(set(regions))
            for s in client("rds", region).describe_db_cluster_snapshots()["DBClusterSnapshots"]
            if marks.named(s["DBClusterSnapshotIdentifier"], s.get("DBClusterIdentifier"))]
