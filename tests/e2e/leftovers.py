"""What a destroyed environment left behind, listed with boto3.

``LISTERS`` holds one lister per kind of resource the stack creates, by the key the registry
of types names it with (``lib/resource_types.py``, each type's ``leftovers``; a type that
cannot outlive another is found with its parent). ``find_leftovers(client, suffix, regions)``
runs every lister (the regional ones in each region) and returns a line for each resource
that carries the environment's tags or names. Names are matched as whole parts (``tap-dev``
is in ``tap-dev-alb-logs-1a2b``, ``tap/dev/origin-verify-9f`` and
``aws-waf-logs-tapdev-1a2b``, not in ``tap-devx-...``), so the generated names the stack
takes from ``bucket_prefix`` and ``name_prefix`` are found too; buckets and certificates are
also found by their tags. KMS keys pending deletion are gone as far as AWS lets them go, not
leftovers; nor are NAT gateways being deleted.
``retained(...)`` lists what destroy keeps on purpose (final DB snapshots of the profiles
that take one, ``tap-<suffix>-aurora-final-<id>``), for the report.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Iterator

from lib.resource_types import RETAIN_TAG

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


Find = Callable[[Client, str, Marks], Iterator[str]]  # (client, region, marks) -> "<id>" lines


@dataclass(frozen=True)
class Lister:
    """How one kind of resource is listed: in each region, or once (IAM, S3, CloudFront)."""

    find: Find
    regional: bool = True


def _call(client: Client, region: str, service: str, method: str, key: str,
          **kwargs: Any) -> list[Any]:
    return list(getattr(client(service, region), method)(**kwargs).get(key, []))


def _ec2(method: str, key: str, id_key: str, alive: Callable[[dict[str, Any]], bool] | None = None,
         by_name: bool = False) -> Lister:
    """EC2 resources of ``method`` that carry the environment's tags (or, ``by_name``, its
    name as their group name), except those ``alive`` says are going."""
    def find(client: Client, region: str, marks: Marks) -> Iterator[str]:
        for item in _call(client, region, "ec2", method, key):
            if alive is not None and not alive(item):
                continue
            if marks.tagged(item.get("Tags")) or (by_name and marks.named(item.get("GroupName"))):
                yield item[id_key]
    return Lister(find)


def _named(service: str, method: str, key: str, name: Callable[[Any], str],
           keep: Callable[[Any], bool] = lambda _: True, regional: bool = True,
           **kwargs: Any) -> Lister:
    """Resources of ``method`` whose ``name`` has the environment's name (``keep``: the
    ones that still count)."""
    def find(client: Client, region: str, marks: Marks) -> Iterator[str]:
        for item in _call(client, region, service, method, key, **kwargs):
            if keep(item) and marks.named(name(item)):
                yield name(item)
    return Lister(find, regional)


def _kms_keys(client: Client, region: str, marks: Marks) -> Iterator[str]:
    kms = client("kms", region)
    for key in kms.list_keys()["Keys"]:
        metadata = kms.describe_key(KeyId=key["KeyId"])["KeyMetadata"]
        if metadata["KeyState"] == "PendingDeletion" or metadata.get("KeyManager") == "AWS":
            continue
        tags = kms.list_resource_tags(KeyId=key["KeyId"]).get("Tags", [])
        if any(t["TagKey"] == RETAIN_TAG for t in tags):
            continue  # kept on purpose with its final snapshot: ``retained``
        if marks.tagged([{"Key": t["TagKey"], "Value": t["TagValue"]} for t in tags]) \
                or marks.named(metadata.get("Description")):
            yield f"{key['KeyId']} ({metadata['KeyState']})"


def _ecs_clusters(client: Client, region: str, marks: Marks) -> Iterator[str]:
    ecs = client("ecs", region)
    for cluster in ecs.describe_clusters(clusters=ecs.list_clusters()["clusterArns"])["clusters"]:
        if cluster["status"] == "ACTIVE" and marks.named(cluster["clusterArn"]):
            yield cluster["clusterArn"]


def _certificates(client: Client, region: str, marks: Marks) -> Iterator[str]:
    acm = client("acm", region)
    for summary in acm.list_certificates()["CertificateSummaryList"]:
        arn = summary["CertificateArn"]
        if marks.tagged(acm.list_tags_for_certificate(CertificateArn=arn).get("Tags", [])):
            yield arn


def _buckets(client: Client, _region: str, marks: Marks) -> Iterator[str]:
    s3 = client("s3")
    for bucket in s3.list_buckets()["Buckets"]:
        name = bucket["Name"]
        if marks.named(name):
            yield name
            continue
        try:
            tags = s3.get_bucket_tagging(Bucket=name)["TagSet"]
        except s3.exceptions.ClientError:  # NoSuchTagSet
            continue
        if marks.tagged(tags):
            yield name


def _distributions(client: Client, _region: str, marks: Marks) -> Iterator[str]:
    distributions = client("cloudfront").list_distributions()["DistributionList"]
    for item in distributions.get("Items", []):
        line = f"{item['Id']} {item.get('Comment', '')} {item['Origins']['Items'][0]['DomainName']}"
        if marks.named(line):
            yield line


def _vpc_origins(client: Client, _region: str, marks: Marks) -> Iterator[str]:
    origins = client("cloudfront").list_vpc_origins()["VpcOriginList"]
    for item in origins.get("Items", []):
        if marks.named(item["Name"]):
            yield f"{item['Id']} {item['Name']}"


# Kind -> lister; the kind starts each line of find_leftovers.
LISTERS: dict[str, Lister] = {
    "vpc": _ec2("describe_vpcs", "Vpcs", "VpcId"),
    "subnet": _ec2("describe_subnets", "Subnets", "SubnetId"),
    "internet gateway": _ec2("describe_internet_gateways", "InternetGateways",
                             "InternetGatewayId"),
    "route table": _ec2("describe_route_tables", "RouteTables", "RouteTableId"),
    "security group": _ec2("describe_security_groups", "SecurityGroups", "GroupId",
                           by_name=True),
    "elastic ip": _ec2("describe_addresses", "Addresses", "AllocationId"),
    "flow log": _ec2("describe_flow_logs", "FlowLogs", "FlowLogId"),
    "nat gateway": _ec2("describe_nat_gateways", "NatGateways", "NatGatewayId",
                        lambda nat: nat["State"] not in ("deleted", "deleting")),
    "vpc endpoint": _ec2("describe_vpc_endpoints", "VpcEndpoints", "VpcEndpointId",
                         lambda endpoint: endpoint["State"].lower() != "deleted"),
    "kms alias": _named("kms", "list_aliases", "Aliases", lambda a: a["AliasName"]),
    "kms key": Lister(_kms_keys),
    "log group": _named("logs", "describe_log_groups", "logGroups",
                        lambda g: g["logGroupName"]),
    # The stack makes none (pitfall 25); one left by an older version would count here.
    "log resource policy": _named("logs", "describe_resource_policies", "resourcePolicies",
                                  lambda p: p["policyName"]),
    "secret": _named("secretsmanager", "list_secrets", "SecretList", lambda s: s["Name"],
                     keep=lambda s: "DeletedDate" not in s),
    "db cluster": _named("rds", "describe_db_clusters", "DBClusters",
                         lambda c: c["DBClusterIdentifier"]),
    "db instance": _named("rds", "describe_db_instances", "DBInstances",
                          lambda i: i["DBInstanceIdentifier"]),
    "db subnet group": _named("rds", "describe_db_subnet_groups", "DBSubnetGroups",
                              lambda g: g["DBSubnetGroupName"]),
    "db cluster parameter group": _named(
        "rds", "describe_db_cluster_parameter_groups", "DBClusterParameterGroups",
        lambda g: g["DBClusterParameterGroupName"]),
    "serverless cache": _named("elasticache", "describe_serverless_caches", "ServerlessCaches",
                               lambda c: c["ServerlessCacheName"]),
    "ecs cluster": Lister(_ecs_clusters),
    "ecs task definition": _named("ecs", "list_task_definitions", "taskDefinitionArns", str,
                                  status="ACTIVE"),
    "load balancer": _named("elbv2", "describe_load_balancers", "LoadBalancers",
                            lambda b: b["LoadBalancerName"]),
    "target group": _named("elbv2", "describe_target_groups", "TargetGroups",
                           lambda g: g["TargetGroupName"]),
    "sns topic": _named("sns", "list_topics", "Topics", lambda t: t["TopicArn"]),
    "alarm": _named("cloudwatch", "describe_alarms", "MetricAlarms", lambda a: a["AlarmName"]),
    "dashboard": _named("cloudwatch", "list_dashboards", "DashboardEntries",
                        lambda d: d["DashboardName"]),
    "scalable target": _named("application-autoscaling", "describe_scalable_targets",
                              "ScalableTargets", lambda t: t["ResourceId"],
                              ServiceNamespace="ecs"),
    "web acl": _named("wafv2", "list_web_acls", "WebACLs", lambda a: a["Name"],
                      Scope="CLOUDFRONT"),
    "certificate": Lister(_certificates),
    "schedule": _named("scheduler", "list_schedules", "Schedules", lambda s: s["Name"]),
    "sqs queue": _named("sqs", "list_queues", "QueueUrls", str),
    "iam role": _named("iam", "list_roles", "Roles", lambda r: r["RoleName"], regional=False,
                       MaxItems=1000),
    "bucket": Lister(_buckets, regional=False),
    "cloudfront distribution": Lister(_distributions, regional=False),
    "vpc origin": Lister(_vpc_origins, regional=False),
}


def _global(client: Client) -> Client:
    """A client factory for the global services: their default region."""
    return lambda service, _region=None: client(service)


def find_leftovers(client: Client, suffix: str, regions: Iterable[str]) -> list[str]:
    """Everything of environment ``suffix`` still present, one line each."""
    marks = Marks(suffix)
    found: list[str] = []
    for region in sorted(set(regions)):
        found.extend(f"{region}: {kind} {line}" for kind, lister in LISTERS.items()
                     if lister.regional for line in lister.find(client, region, marks))
    found.extend(f"{kind} {line}" for kind, lister in LISTERS.items() if not lister.regional
                 for line in lister.find(_global(client), "", marks))
    return found


def retained(client: Client, suffix: str, regions: Iterable[str]) -> list[str]:
    """What destroy keeps on purpose: final Aurora snapshots (standard and production), and
    the data key of each, left enabled for its restore (tagged RETAIN_TAG: lib/resource_types.py)."""
    marks = Marks(suffix)
    kept = [f"{region}: db cluster snapshot {s['DBClusterSnapshotIdentifier']}"
            for region in sorted(set(regions))
            for s in client("rds", region).describe_db_cluster_snapshots()["DBClusterSnapshots"]
            if marks.named(s["DBClusterSnapshotIdentifier"], s.get("DBClusterIdentifier"))]
    for region in sorted(set(regions)):
        kms = client("kms", region)
        for key in kms.list_keys()["Keys"]:
            tags = {t["TagKey"]: t["TagValue"]
                    for t in kms.list_resource_tags(KeyId=key["KeyId"]).get("Tags", [])}
            state = kms.describe_key(KeyId=key["KeyId"])["KeyMetadata"]["KeyState"]
            if state == "PendingDeletion":
                continue  # gone as far as AWS lets it go (a key replaced in an earlier life)
            if RETAIN_TAG in tags and marks.tagged([{"Key": k, "Value": v}
                                                     for k, v in tags.items()]):
                kept.append(f"{region}: kms key {key['KeyId']} ({state}, {RETAIN_TAG}="
                            f"{tags[RETAIN_TAG]})")
    return kept
