"""The rules of the CloudFront web ACL, as the WAFv2 API's ``Rule`` objects.

Plain data, no cdktf: the edge tier passes them to the web ACL as ``rule_json`` (see
``lib/edge.py`` for why not as ``rule`` blocks), and the integration suite compares the live
rules with them (the provider does not read ``rule_json`` back, so drift shows only there).

The AWS managed groups Amazon IP reputation and Anonymous IP list come first (cheap lists),
then the rate-based rule per client IP, then the groups that inspect the request: Common
rule set, KnownBadInputs (Log4j / Log4Shell included) and SQL injection.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class ManagedGroup:
    """An AWS managed rule group in the web ACL."""

    rule: str  # rule and metric name
    group: str  # AWS managed rule group name


IP_REPUTATION = ManagedGroup("aws-ip-reputation", "AWSManagedRulesAmazonIpReputationList")
ANONYMOUS_IP = ManagedGroup("aws-anonymous-ip", "AWSManagedRulesAnonymousIpList")
COMMON = ManagedGroup("aws-common", "AWSManagedRulesCommonRuleSet")
KNOWN_BAD_INPUTS = ManagedGroup("aws-known-bad-inputs", "AWSManagedRulesKnownBadInputsRuleSet")
SQL_INJECTION = ManagedGroup("aws-sqli", "AWSManagedRulesSQLiRuleSet")
RATE_LIMIT_RULE = "rate-limit-per-ip"
# Evaluation order: cheap reputation lists first, then the flood limit, then the groups
# that inspect the request.
RULE_ORDER = (IP_REPUTATION.rule, ANONYMOUS_IP.rule, RATE_LIMIT_RULE, COMMON.rule,
              KNOWN_BAD_INPUTS.rule, SQL_INJECTION.rule)


def _visibility(metric: str) -> dict[str, Any]:
    return {"CloudWatchMetricsEnabled": True, "MetricName": metric, "SampledRequestsEnabled": True}


def _managed_rule(group: ManagedGroup, count_only: bool = False) -> dict[str, Any]:
    """A managed rule group; ``count_only`` overrides its blocks to counts."""
    return {
        "Name": group.rule,
        "Priority": RULE_ORDER.index(group.rule),
        "OverrideAction": {"Count": {}} if count_only else {"None": {}},
        "Statement": {"ManagedRuleGroupStatement": {"Name": group.group, "VendorName": "AWS"}},
        "VisibilityConfig": _visibility(group.rule),
    }


def _rate_rule(limit: int) -> dict[str, Any]:
    """Blocks a client IP above ``limit`` requests in any 5-minute window."""
    return {
        "Name": RATE_LIMIT_RULE,
        "Priority": RULE_ORDER.index(RATE_LIMIT_RULE),
        "Action": {"Block": {}},
        "Statement": {"RateBasedStatement": {
            "Limit": limit, "AggregateKeyType": "IP", "EvaluationWindowSec": 300}},
        "VisibilityConfig": _visibility(RATE_LIMIT_RULE),
    }


def web_acl_rules(anonymous_ip_count_only: bool, rate_limit: int) -> list[dict[str, Any]]:
    """The web ACL's rules as the WAFv2 API's ``Rule`` objects, in evaluation order."""
    return [
        _managed_rule(IP_REPUTATION),
        _managed_rule(ANONYMOUS_IP, count_only=anonymous_ip_count_only),
        _rate_rule(rate_limit),
        _managed_rule(COMMON),
        _managed_rule(KNOWN_BAD_INPUTS),
        _managed_rule(SQL_INJECTION),
    ]
