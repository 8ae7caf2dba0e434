"""Edge, live: the CloudFront distribution in front of the load balancer, and its WAF ACL."""
# pylint: disable=redefined-outer-name
from __future__ import annotations

from typing import Any

import pytest

from lib.config import GLOBAL_REGION, ORIGIN_VERIFY_HEADER, Profile
from lib.naming import Names
from tests.integration.live import Clients, http_status, wait_for
from tests.integration.outputs import Outputs

DEPLOY_SECONDS = 120.0  # a distribution normally reports Deployed before the deploy ends
EDGE_SECONDS = 120.0  # time the edge may take to answer 200 after the service is healthy
ANONYMOUS_IP_GROUP = "AWSManagedRulesAnonymousIpList"  # counts instead of blocks per profile


@pytest.fixture(scope="module")
def distribution(aws: Clients, outputs: Outputs) -> dict[str, Any]:
    identifier = outputs.require("cloudfront_distribution_id")
    cloudfront = aws("cloudfront", GLOBAL_REGION)
    found = wait_for(lambda: cloudfront.get_distribution(Id=identifier)["Distribution"],
                     lambda d: d["Status"] == "Deployed", DEPLOY_SECONDS, interval=10.0)
    return found


def _web_acl_id(arn: str) -> tuple[str, str]:
    """(name, id) of ``arn:aws:wafv2:us-east-1:<account>:global/webacl/<name>/<id>``."""
    scope_path = arn.split(":", 5)[5]
    kind, webacl, name, identifier = scope_path.split("/")
    assert (kind, webacl) == ("global", "webacl"), f"not a CLOUDFRONT web ACL: {arn}"
    return name, identifier


def test_distribution_is_deployed_with_the_web_acl(distribution: dict[str, Any],
                                                   outputs: Outputs) -> None:
    config = distribution["DistributionConfig"]
    assert distribution["Status"] == "Deployed"
    assert distribution["DomainName"] == outputs.require("cloudfront_domain_name")
    assert config["Enabled"] is True
    assert config["WebACLId"] == outputs.require("waf_web_acl_arn")


def test_distribution_settings_per_profile(distribution: dict[str, Any], profile: Profile,
                                           outputs: Outputs) -> None:
    config = distribution["DistributionConfig"]
    assert config["PriceClass"] == profile.price_class
    origins = [origin for origin in config["Origins"]["Items"]
               if origin["DomainName"] == outputs.require("alb_dns_name")]
    assert len(origins) == 1, f"no origin on the load balancer: {config['Origins']}"
    headers = {header["HeaderName"].lower(): header["HeaderValue"]
               for header in origins[0].get("CustomHeaders", {}).get("Items", [])}
    assert headers.get(ORIGIN_VERIFY_HEADER.lower()), "the origin sends no verify header"
    assert config["DefaultCacheBehavior"]["TargetOriginId"] == origins[0]["Id"]
    assert config["DefaultCacheBehavior"]["ViewerProtocolPolicy"] in ("redirect-to-https",
                                                                      "https-only")


def test_web_acl_is_global_with_the_rate_limit(aws: Clients, outputs: Outputs, names: Names,
                                               profile: Profile) -> None:
    arn = outputs.require("waf_web_acl_arn")
    assert arn.startswith(f"arn:aws:wafv2:{GLOBAL_REGION}:")
    name, identifier = _web_acl_id(arn)
    acl = aws("wafv2", GLOBAL_REGION).get_web_acl(Name=name, Scope="CLOUDFRONT",
                                                  Id=identifier)["WebACL"]
    assert (acl["Name"], acl["ARN"]) == (names.web_acl, arn)
    assert "Allow" in acl["DefaultAction"]
    limits = [rule["Statement"]["RateBasedStatement"] for rule in acl["Rules"]
              if "RateBasedStatement" in rule["Statement"]]
    assert [(limit["Limit"], limit["AggregateKeyType"]) for limit in limits] == \
        [(profile.waf_rate_limit, "IP")]
    (anonymous,) = [rule for rule in acl["Rules"]
                    if rule["Statement"].get("ManagedRuleGroupStatement", {}).get("Name")
                    == ANONYMOUS_IP_GROUP]
    assert set(anonymous["OverrideAction"]) == \
        ({"Count"} if profile.waf_anonymous_ip_count_only else {"None"})


@pytest.mark.real_aws("the emulator serves no HTTP through CloudFront")
def test_edge_answers_200_over_https(outputs: Outputs) -> None:
    url = f"https://{outputs.require('cloudfront_domain_name')}/"
    status = wait_for(lambda: http_status(url), lambda s: s == 200, EDGE_SECONDS, interval=10.0)
    assert status == 200, f"{url} answered {status}"
