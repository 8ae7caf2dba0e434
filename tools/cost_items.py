"""What each priced resource type of a synthesized stack costs a month: tools/cost.py's line items.

Exposes ``Scenario`` (the assumptions beyond the JSON: a 730-hour month and the light load),
``Item`` (one line: a resource, a price key of tools/prices.toml and its quantity a month idle and
under load), ``Stack`` (a ``cdk.tf.json`` with the look-ups the pricers need), ``PRICERS`` (one
function per priced type of tools/cost_types.toml) and ``CostError`` (something the price table
cannot price, named). Quantities come from the JSON's values (task CPU and memory, capacity
provider bases and weights, ACU bounds, rule counts, alarm metrics, retention); the scenario only
adds what no JSON can say: traffic, data sizes and how busy the database is.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field, fields
from decimal import Decimal
from typing import Any, Callable, Iterator

HOURS = Decimal(730)  # AWS's pricing pages and calculator count a month as 730 hours
MONTH_DAYS = HOURS / 24
KB_PER_GB = Decimal(1_000_000)  # decimal units: 1 GB = 10^6 KB
REGION = "us-east-1"  # the price table's Region
Address = tuple[str, str]  # (resource type, logical id)
REFERENCE = re.compile(r"\$\{(aws_\w+)\.([\w-]+)\.")

# Container Insights metrics of an Amazon ECS cluster (standard mode), counted from the metrics
# and dimensions table of the CloudWatch user guide, "Amazon ECS Container Insights metrics"
# (awsdocs/amazon-cloudwatch-user-guide, Container-Insights-metrics-ECS.md), which says they
# "are charged as custom metrics": 8 metrics (CpuUtilized, CpuReserved, MemoryUtilized,
# MemoryReserved, NetworkRxBytes, NetworkTxBytes, StorageReadBytes, StorageWriteBytes) on each of
# the ClusterName, ServiceName and TaskDefinitionFamily dimension sets; ContainerInstanceCount,
# ServiceCount and TaskCount per cluster; DeploymentCount, DesiredTaskCount, PendingTaskCount,
# RunningTaskCount and TaskSetCount per service. Newer copies of the guide may list more.
INSIGHTS_PER_CLUSTER, INSIGHTS_PER_SERVICE, INSIGHTS_PER_FAMILY = 11, 13, 8
ALB_NEW_CONNECTIONS_PER_LCU = 25  # per second; ELB pricing page's LCU definition
ALB_RULE_EVALUATIONS_PER_LCU = 1000  # per second, beyond the first 10 rules (free)
ALB_FREE_RULES = 10
ENHANCED_MONITORING_RETENTION_DAYS = 30  # RDSOSMetrics log group's retention, set by RDS
NEVER_EXPIRES_MONTHS = 12  # what a log that never expires is counted at
# AWS managed rule groups with fees of their own beyond the rule price (AWS WAF pricing).
PAID_RULE_GROUPS = frozenset({"AWSManagedRulesBotControlRuleSet", "AWSManagedRulesATPRuleSet",
                              "AWSManagedRulesACFPRuleSet", "AWSManagedRulesAntiDDoSRuleSet"})


class CostError(Exception):
    """Something the tables do not price (a message for the user, no traceback)."""


def _assume(default: str, text: str) -> Any:
    """A ``Scenario`` field: its default and the sentence the output states it with."""
    # pylint: disable-next=invalid-field-call  # the class body calls this helper
    return field(default=Decimal(default), metadata={"text": text})


@dataclass(frozen=True, kw_only=True)
class Scenario:
    """What the estimate assumes that no JSON says; each field is a ``--load-...`` option."""

    requests: Decimal = _assume("1000000", "requests a month through CloudFront, WAF and the "
                                "load balancer, all HTTPS and all forwarded to the origin (no "
                                "cache hits)")
    egress_gb: Decimal = _assume("10", "GB a month from CloudFront to viewers in the United "
                                 "States, Mexico and Canada; the same bytes pass the load balancer")
    log_gb: Decimal = _assume("1", "GB a month ingested into each CloudWatch log group")
    access_log_kb: Decimal = _assume("0.5", "KB of access log per request, from the load balancer "
                                     "and from CloudFront each, into their S3 buckets")
    waf_log_kb: Decimal = _assume("1.5", "KB of WAF log per request, into its S3 bucket")
    db_acu: Decimal = _assume("0.5", "ACU each Aurora instance averages, within its minimum and "
                              "maximum; the database never pauses")
    db_storage_gb: Decimal = _assume("1", "GB in the Aurora cluster volume (idle as well)")
    db_io_million: Decimal = _assume("1", "million Aurora I/O requests a month")
    cache_gb: Decimal = _assume("0.25", "GB the cache holds (at least the engine's minimum)")
    cache_ecpu_per_request: Decimal = _assume("2", "ECPUs per request: a read and a write of under "
                                              "1 KB")
    nat_gb: Decimal = _assume("5", "GB a month through the NAT gateways, split evenly (image "
                              "pulls, calls out)")
    monitoring_event_kb: Decimal = _assume("10", "KB per Enhanced Monitoring event, idle as well "
                                           "(NOT CONFIRMED)")

    def lines(self) -> list[str]:
        """The assumptions as sentences, in field order."""
        return [f"{getattr(self, item.name):,f} {item.metadata['text']}" for item in fields(self)]


@dataclass(frozen=True, kw_only=True)
class Item:
    """One line: what a resource uses of one priced dimension in a month, idle and under load."""

    resource: str  # construct path inside the stack, e.g. app/alb
    rtype: str
    what: str
    price: str  # key of tools/prices.toml
    idle: Decimal
    load: Decimal


@dataclass(frozen=True)
class Stack:
    """A synthesized stack's JSON and the look-ups between its resources."""

    document: dict[str, Any]

    def resources(self, rtype: str) -> Iterator[tuple[str, dict[str, Any]]]:
        yield from sorted(self.document.get("resource", {}).get(rtype, {}).items())

    def block(self, rtype: str, logical_id: str) -> dict[str, Any]:
        found = self.document.get("resource", {}).get(rtype, {}).get(logical_id)
        if found is None:
            raise CostError(f"{rtype}.{logical_id} is referenced but not in the stack")
        return found

    def path(self, rtype: str, logical_id: str) -> str:
        """The construct path without the stack's name (app/alb), else the address."""
        meta = self.block(rtype, logical_id).get("//", {}).get("metadata", {}).get("path", "")
        return meta.split("/", 1)[1] if "/" in meta else f"{rtype}.{logical_id}"

    def referenced(self, value: Any, rtype: str) -> str | None:
        """The logical id of the ``rtype`` resource that ``value`` references, if any."""
        match = REFERENCE.search(str(value))
        return match.group(2) if match and match.group(1) == rtype else None

    def refers(self, value: Any, at: Address) -> bool:
        """Whether ``value`` references the resource ``at``."""
        return self.referenced(value, at[0]) == at[1]

    def referring(self, rtype: str, attribute: str, at: Address) -> list[str]:
        """Logical ids of the ``rtype`` resources whose ``attribute`` references ``at``."""
        return [key for key, block in self.resources(rtype)
                if self.refers(block.get(attribute), at)]


@dataclass(frozen=True)
class Context:
    """What a pricer reads: the stack, the scenario and the least quantities AWS meters."""

    stack: Stack
    scenario: Scenario
    minimums: dict[str, Decimal]  # price key -> least quantity metered per hour (its unit)


def _block(value: Any) -> dict[str, Any]:
    """A nested block as the JSON has it: a dict, or a list of one."""
    if isinstance(value, list):
        return value[0] if value else {}
    return value or {}


def plural(count: Decimal | int, word: str) -> str:
    """'1 task', '1.5 tasks', '2 task families'."""
    if count == 1:
        return f"1 {word}"
    return f"{Decimal(count):f} " + (word[:-1] + "ies" if word.endswith("y") else word + "s")


def name(at: Address) -> str:
    """A resource's Terraform address: aws_lb.app_alb_971C44C0."""
    return ".".join(at)


def _item(ctx: Context, at: Address, what: str, price: str, idle: Decimal,
          load: Decimal | None = None) -> Item:
    """A line of the resource ``at`` (type, logical id); ``load`` defaults to ``idle``."""
    return Item(resource=ctx.stack.path(*at), rtype=at[0], what=what, price=price, idle=idle,
                load=idle if load is None else load)


Pricer = Callable[[Context, Address, dict[str, Any]], list[Item]]


def task_shares(strategy: list[dict[str, Any]], tasks: Decimal) -> dict[str, Decimal]:
    """Tasks per capacity provider: bases first, the rest as the share the weights give.

    AWS: base is "how many tasks, at a minimum, to run on the specified capacity provider"; weight
    "designates the relative percentage of the total number of tasks launched" after the bases
    (CloudFormation, AWS::ECS::Service CapacityProviderStrategyItem). A share is the average of
    where tasks land, so one task split 1:1 counts half on each.
    """
    if not strategy:
        return {"FARGATE": tasks}
    shares = {item["capacity_provider"]: Decimal(0) for item in strategy}
    rest = tasks
    for item in strategy:
        base = min(rest, Decimal(int(item.get("base", 0))))
        shares[item["capacity_provider"]] += base
        rest -= base
    weights = sum(Decimal(int(item.get("weight", 0))) for item in strategy)
    for item in strategy:
        if weights:
            weight = Decimal(int(item.get("weight", 0)))
            shares[item["capacity_provider"]] += rest * weight / weights
    return shares


def ecs_service(ctx: Context, at: Address, service: dict[str, Any]) -> list[Item]:
    if service.get("launch_type", "FARGATE") != "FARGATE":
        raise CostError(f"{name(at)}: launch type {service['launch_type']} "
                        "is not priced (Fargate only)")
    task_id = ctx.stack.referenced(service.get("task_definition"), "aws_ecs_task_definition")
    if task_id is None:
        raise CostError(f"{name(at)} names no task definition of the stack")
    task = ctx.stack.block("aws_ecs_task_definition", task_id)
    vcpu, memory_gb = Decimal(task["cpu"]) / 1024, Decimal(task["memory"]) / 1024
    if int(_block(task.get("ephemeral_storage")).get("size_in_gib", 20)) > 20:
        raise CostError(f"aws_ecs_task_definition.{task_id}: ephemeral storage beyond the "
                        "included 20 GiB is not priced")
    arm = _block(task.get("runtime_platform")).get("cpu_architecture") == "ARM64"
    strategy = service.get("capacity_provider_strategy") or []
    if not strategy and "launch_type" not in service:  # the cluster's default strategy applies
        for _, providers in ctx.stack.resources("aws_ecs_cluster_capacity_providers"):
            strategy = providers.get("default_capacity_provider_strategy") or strategy
    tasks = Decimal(int(service.get("desired_count", 1)))  # light load: no scale-out
    items = []
    for provider, share in sorted(task_shares(list(strategy), tasks).items()):
        if provider not in ("FARGATE", "FARGATE_SPOT"):
            raise CostError(f"{name(at)}: capacity provider {provider} is not "
                            "priced")
        kind = ("fargate_arm" if arm else "fargate") + \
            ("_spot" if provider == "FARGATE_SPOT" else "")
        label = f"{plural(share, 'task')} on {provider}"
        items += [_item(ctx, at, f"vCPU of {label}",
                        f"{kind}_vcpu_hour", share * vcpu * HOURS),
                  _item(ctx, at, f"memory of {label}",
                        f"{kind}_gb_hour", share * memory_gb * HOURS)]
    if _block(service.get("network_configuration")).get("assign_public_ip") is True:
        items.append(_item(ctx, at, "public IPv4 of each task",
                           "public_ipv4_hour", tasks * HOURS))
    return [item for item in items if item.idle or item.load]


def ecs_cluster(ctx: Context, at: Address, cluster: dict[str, Any]) -> list[Item]:
    setting = {entry.get("name"): entry.get("value") for entry in cluster.get("setting", [])}
    mode = setting.get("containerInsights", "disabled")
    if mode == "disabled":
        return []
    if mode != "enabled":
        raise CostError(f"{name(at)}: containerInsights = {mode} is not priced "
                        "(standard Container Insights only)")
    mine = ctx.stack.referring("aws_ecs_service", "cluster", at)
    services = [block for key, block in ctx.stack.resources("aws_ecs_service") if key in mine]
    families = {ctx.stack.block("aws_ecs_task_definition", task)["family"] for task in
                (ctx.stack.referenced(block.get("task_definition"), "aws_ecs_task_definition")
                 for block in services) if task}
    metrics = INSIGHTS_PER_CLUSTER + INSIGHTS_PER_SERVICE * len(services) + \
        INSIGHTS_PER_FAMILY * len(families)
    return [_item(ctx, at,
                  f"Container Insights metrics of {plural(len(services), 'service')}, "
                  f"{plural(len(families), 'task family')}", "cloudwatch_metric_month",
                  Decimal(metrics))]


def load_balancer(ctx: Context, at: Address, balancer: dict[str, Any]) -> list[Item]:
    if balancer.get("load_balancer_type", "application") != "application":
        raise CostError(f"{name(at)}: {balancer['load_balancer_type']} load balancers "
                        "are not priced")
    rules = sum(len(ctx.stack.referring("aws_lb_listener_rule", "listener_arn",
                                        ("aws_lb_listener", listener)))
                for listener in ctx.stack.referring("aws_lb_listener", "load_balancer_arn", at))
    # LCU-hours of a month whose requests and bytes are spread evenly over its 730 hours: the
    # largest of new connections (one per request), processed GB and rule evaluations.
    requests = ctx.scenario.requests
    lcu_hours = max(requests / (3600 * ALB_NEW_CONNECTIONS_PER_LCU), ctx.scenario.egress_gb,
                    max(0, rules - ALB_FREE_RULES) * requests /
                    (3600 * ALB_RULE_EVALUATIONS_PER_LCU))
    items = [_item(ctx, at, "load balancer hours", "alb_hour", HOURS),
             _item(ctx, at, "capacity units", "alb_lcu_hour", Decimal(0),
                   lcu_hours)]
    if balancer.get("internal") is not True:
        subnets = len(balancer.get("subnets") or balancer.get("subnet_mapping") or [])
        items.append(_item(ctx, at, f"public IPv4 in {plural(subnets, 'subnet')}",
                           "public_ipv4_hour", subnets * HOURS))
    return items


def elastic_ip(ctx: Context, at: Address, block: dict[str, Any]) -> list[Item]:
    del block
    return [_item(ctx, at, "public IPv4 address", "public_ipv4_hour", HOURS)]


def nat_gateway(ctx: Context, at: Address, block: dict[str, Any]) -> list[Item]:
    del block
    gateways = len(list(ctx.stack.resources("aws_nat_gateway")))
    return [_item(ctx, at, "NAT gateway hours", "nat_gateway_hour",
                  HOURS),
            _item(ctx, at, "data processed", "nat_gateway_gb",
                  Decimal(0), ctx.scenario.nat_gb / gateways)]


def rds_cluster(ctx: Context, at: Address, cluster: dict[str, Any]) -> list[Item]:
    if not str(cluster.get("engine", "")).startswith("aurora-"):
        raise CostError(f"{name(at)}: engine {cluster.get('engine')} is not "
                        "priced (Aurora only)")
    if cluster.get("storage_type") not in (None, "", "aurora"):
        raise CostError(f"{name(at)}: storage_type {cluster['storage_type']} is "
                        "not priced (Aurora Standard only)")
    items = [_item(ctx, at, "storage", "aurora_storage_gb_month",
                   ctx.scenario.db_storage_gb),
             _item(ctx, at, "I/O requests", "aurora_io_million",
                   Decimal(0), ctx.scenario.db_io_million)]
    if cluster.get("manage_master_user_password") is True:
        items.append(_item(ctx, at, "master password secret (RDS's)",
                           "secret_month", Decimal(1)))
    return items


def rds_instance(ctx: Context, at: Address, instance: dict[str, Any]) -> list[Item]:
    if instance.get("instance_class") != "db.serverless":
        raise CostError(f"{name(at)}: instance class "
                        f"{instance.get('instance_class')} is not priced (db.serverless only)")
    cluster_id = ctx.stack.referenced(instance.get("cluster_identifier"), "aws_rds_cluster")
    if cluster_id is None:
        raise CostError(f"{name(at)} names no cluster of the stack")
    scaling = _block(ctx.stack.block("aws_rds_cluster", cluster_id)
                     .get("serverlessv2_scaling_configuration"))
    low, high = Decimal(str(scaling["min_capacity"])), Decimal(str(scaling["max_capacity"]))
    items = [_item(ctx, at,
                   f"capacity, {low:f} to {high:f} ACU", "aurora_acu_hour", low * HOURS,
                   min(max(ctx.scenario.db_acu, low), high) * HOURS)]
    if instance.get("performance_insights_enabled") is True and \
            int(instance.get("performance_insights_retention_period", 7)) > 7:
        raise CostError(f"{name(at)}: Performance Insights beyond the "
                        "free 7 days is not priced")
    interval = int(instance.get("monitoring_interval", 0))
    if interval:
        events = HOURS * 3600 / interval
        ingested = events * ctx.scenario.monitoring_event_kb / KB_PER_GB
        stored = ingested * ENHANCED_MONITORING_RETENTION_DAYS / MONTH_DAYS
        items += [_item(ctx, at,
                        f"Enhanced Monitoring logs, every {interval} s",
                        "cloudwatch_logs_ingest_gb", ingested),
                  _item(ctx, at,
                        "Enhanced Monitoring logs kept 30 days", "cloudwatch_logs_storage_gb_month",
                        stored)]
    return items


def serverless_cache(ctx: Context, at: Address, cache: dict[str, Any]) -> list[Item]:
    engine = cache.get("engine")
    if engine not in ("valkey", "redis"):
        raise CostError(f"{name(at)}: engine {engine} is not "
                        "priced (valkey, redis)")
    least = ctx.minimums[f"{engine}_serverless_gb_hour"]
    snapshots = Decimal(int(cache.get("snapshot_retention_limit", 0)))
    items = [_item(ctx, at,
                   f"data stored ({engine} meters {least:f} GB at least)",
                   f"{engine}_serverless_gb_hour", least * HOURS,
                   max(least, ctx.scenario.cache_gb) * HOURS),
             _item(ctx, at, "ECPUs",
                   f"{engine}_serverless_ecpu_million", Decimal(0),
                   ctx.scenario.requests * ctx.scenario.cache_ecpu_per_request / 1_000_000)]
    if snapshots:
        items.append(_item(ctx, at,
                           f"{plural(snapshots, 'daily snapshot')} of the data held",
                           "elasticache_snapshot_gb_month", Decimal(0),
                           snapshots * ctx.scenario.cache_gb))
    return items


def one_each(price: str, what: str) -> Pricer:
    """A pricer of one unit a month per resource (keys, secrets, dashboards)."""
    def pricer(ctx: Context, at: Address, block: dict[str, Any]) -> list[Item]:
        del block
        return [_item(ctx, at, what, price, Decimal(1))]
    return pricer


def web_acl(ctx: Context, at: Address, acl: dict[str, Any]) -> list[Item]:
    rules = json.loads(acl["rule_json"]) if acl.get("rule_json") else list(acl.get("rule", []))
    paid = sorted({str(rule.get("Statement", {}).get("ManagedRuleGroupStatement", {}).get("Name"))
                   for rule in rules} & PAID_RULE_GROUPS)
    if paid:
        raise CostError(f"{name(at)}: paid rule groups {', '.join(paid)} are "
                        "not priced")
    return [_item(ctx, at, "web ACL", "waf_web_acl_month",
                  Decimal(1)),
            _item(ctx, at,
                  f"{plural(len(rules), 'rule')} (a rule group is one)",
                  "waf_rule_month", Decimal(len(rules))),
            _item(ctx, at, "requests inspected",
                  "waf_requests_million", Decimal(0), ctx.scenario.requests / 1_000_000)]


def waf_logging(ctx: Context, at: Address, block: dict[str, Any]) -> list[Item]:
    del block
    return [_item(ctx, at,
                  "WAF logs delivered to S3", "cloudwatch_vended_s3_gb", Decimal(0),
                  ctx.scenario.requests * ctx.scenario.waf_log_kb / KB_PER_GB)]


def distribution(ctx: Context, at: Address, block: dict[str, Any]) -> list[Item]:
    del block
    return [_item(ctx, at, "data transfer out",
                  "cloudfront_egress_gb", Decimal(0), ctx.scenario.egress_gb),
            _item(ctx, at, "HTTPS requests",
                  "cloudfront_https_10k", Decimal(0), ctx.scenario.requests / 10_000)]


def metric_alarm(ctx: Context, at: Address, alarm: dict[str, Any]) -> list[Item]:
    if alarm.get("threshold_metric_id"):
        raise CostError(f"{name(at)}: anomaly detection alarms are "
                        "not priced")
    queries = [_block(query.get("metric")) for query in alarm.get("metric_query", [])
               if query.get("metric")]
    periods = [int(query.get("period", 60)) for query in queries] or [int(alarm.get("period", 60))]
    high = min(periods) < 60
    return [_item(ctx, at,
                  f"alarm on {plural(max(1, len(queries)), 'metric')}" +
                  (", high resolution" if high else ""),
                  "cloudwatch_alarm_high_resolution_metric_month" if high
                  else "cloudwatch_alarm_metric_month", Decimal(max(1, len(queries))))]


def scaling_policy(ctx: Context, at: Address, policy: dict[str, Any]) -> list[Item]:
    if policy.get("policy_type") != "TargetTrackingScaling":
        return []
    config = _block(policy.get("target_tracking_scaling_policy_configuration"))
    alarms = 1 if config.get("disable_scale_in") is True else 2
    return [_item(ctx, at,
                  f"{plural(alarms, 'target tracking alarm')}", "cloudwatch_alarm_metric_month",
                  Decimal(alarms))]


def log_months(days: Any) -> Decimal:
    """Months a log is kept: its retention in days, or ``NEVER_EXPIRES_MONTHS``."""
    return Decimal(int(days)) / MONTH_DAYS if days else Decimal(NEVER_EXPIRES_MONTHS)


def log_group(ctx: Context, at: Address, group: dict[str, Any]) -> list[Item]:
    if group.get("log_group_class", "STANDARD") != "STANDARD":
        raise CostError(f"{name(at)}: log group class "
                        f"{group['log_group_class']} is not priced")
    kept = log_months(group.get("retention_in_days"))
    return [_item(ctx, at, "log ingestion",
                  "cloudwatch_logs_ingest_gb", Decimal(0), ctx.scenario.log_gb),
            _item(ctx, at,
                  f"log storage ({group.get('retention_in_days') or 'no'} days' retention)",
                  "cloudwatch_logs_storage_gb_month", Decimal(0), ctx.scenario.log_gb * kept)]


def bucket(ctx: Context, at: Address, block: dict[str, Any]) -> list[Item]:
    del block
    per_request = Decimal(0)
    for _, balancer in ctx.stack.resources("aws_lb"):
        logs = _block(balancer.get("access_logs"))
        if logs.get("enabled") and ctx.stack.refers(logs.get("bucket"), at):
            per_request += ctx.scenario.access_log_kb
    for _, cdn in ctx.stack.resources("aws_cloudfront_distribution"):
        if ctx.stack.refers(_block(cdn.get("logging_config")).get("bucket"), at):
            per_request += ctx.scenario.access_log_kb
    for _, logging in ctx.stack.resources("aws_wafv2_web_acl_logging_configuration"):
        if any(ctx.stack.refers(target, at)
               for target in logging.get("log_destination_configs", [])):
            per_request += ctx.scenario.waf_log_kb
    if not per_request:
        return []
    days = [int(_block(rule.get("expiration")).get("days", 0))
            for _, lifecycle in ctx.stack.resources("aws_s3_bucket_lifecycle_configuration")
            if ctx.stack.refers(lifecycle.get("bucket"), at)
            for rule in lifecycle.get("rule", []) if rule.get("status") == "Enabled"]
    kept = min((day for day in days if day), default=0)
    return [_item(ctx, at,
                  f"access logs kept {kept} days" if kept else "access logs, never expiring",
                  "s3_standard_gb_month", Decimal(0),
                  ctx.scenario.requests * per_request / KB_PER_GB * log_months(kept))]


PRICERS: dict[str, Pricer] = {
    "aws_ecs_service": ecs_service,
    "aws_ecs_cluster": ecs_cluster,
    "aws_lb": load_balancer,
    "aws_eip": elastic_ip,
    "aws_nat_gateway": nat_gateway,
    "aws_rds_cluster": rds_cluster,
    "aws_rds_cluster_instance": rds_instance,
    "aws_elasticache_serverless_cache": serverless_cache,
    "aws_kms_key": one_each("kms_key_month", "customer managed key"),
    "aws_secretsmanager_secret": one_each("secret_month", "secret"),
    "aws_cloudwatch_dashboard": one_each("cloudwatch_dashboard_month", "dashboard"),
    "aws_wafv2_web_acl": web_acl,
    "aws_wafv2_web_acl_logging_configuration": waf_logging,
    "aws_cloudfront_distribution": distribution,
    "aws_cloudwatch_metric_alarm": metric_alarm,
    "aws_appautoscaling_policy": scaling_policy,
    "aws_cloudwatch_log_group": log_group,
    "aws_s3_bucket": bucket,
}
