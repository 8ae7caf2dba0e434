"""Edge, live: the CloudFront distribution in front of the load balancer, and its WAF ACL.

On the shared pieces (``Settings.shared``) the web ACL is the given one, made by the shared
stack with its profile (``pieces_profile``); the distribution is the environment's own."""
# pylint: disable=redefined-outer-name
from __future__ import annotations

from typing import Any

import pytest

from lib.config import GLOBAL_REGION, ORIGIN_VERIFY_HEADER, Profile, Settings
from lib.waf_rules import web_acl_rules
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
                                               settings: Settings,
                                               pieces_profile: Profile) -> None:
    profile = pieces_profile
    arn = outputs.require("waf_web_acl_arn")
    assert arn.startswith(f"arn:aws:wafv2:{GLOBAL_REGION}:")
    name, identifier = _web_acl_id(arn)
    acl = aws("wafv2", GLOBAL_REGION).get_web_acl(Name=name, Scope="CLOUDFRONT",
                                                  Id=identifier)["WebACL"]
    assert (acl["Name"], acl["ARN"]) == (
        (names.web_acl, arn) if settings.shared is None
        else (settings.shared.web_acl_name, settings.shared.web_acl.value))
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


def test_web_acl_rules_have_not_drifted(aws: Clients, outputs: Outputs,
                                        pieces_profile: Profile) -> None:
    """The stack gives the rules as rule_json, which the provider does not read back: a
    hand-made change of the live rules would not show in a plan, so it is checked here."""
    name, identifier = _web_acl_id(outputs.require("waf_web_acl_arn"))
    live = aws("wafv2", GLOBAL_REGION).get_web_acl(Name=name, Scope="CLOUDFRONT",
                                                   Id=identifier)["WebACL"]["Rules"]
    assert live == web_acl_rules(pieces_profile.waf_anonymous_ip_count_only,
                                 pieces_profile.waf_rate_limit)


def test_edge_answers_200_over_https(outputs: Outputs) -> None:
    # The site's own URL: with an HTTPS origin only the names its certificate covers work
    # (CloudFront checks the origin's certificate against the Host it forwards).
    url = outputs.require("viewer_url")
    status = wait_for(lambda: http_status(url), lambda s: s == 200, EDGE_SECONDS, interval=10.0)
    assert status == 200, f"{url} answered {status}"


def test_origin_is_the_load_balancers_vpc_origin(aws: Clients, distribution: dict[str, Any],
                                                 settings: Settings, outputs: Outputs) -> None:
    (origin,) = [origin for origin in distribution["DistributionConfig"]["Origins"]["Items"]
                 if origin["DomainName"] == outputs.require("alb_dns_name")]
    if not settings.private_origin:
        assert "VpcOriginConfig" not in origin and outputs.require("vpc_origin_id") == ""
        return
    identifier = outputs.require("vpc_origin_id")
    assert origin["VpcOriginConfig"]["VpcOriginId"] == identifier
    cloudfront = aws("cloudfront", GLOBAL_REGION)
    vpc_origin = wait_for(lambda: cloudfront.get_vpc_origin(Id=identifier)["VpcOrigin"],
                          lambda found: found["Status"] == "Deployed", DEPLOY_SECONDS,
                          interval=10.0)
    assert vpc_origin["VpcOriginEndpointConfig"]["Arn"] == outputs.require("alb_arn")


def test_viewer_domain_records_and_certificate(aws: Clients, settings: Settings,
                                               distribution: dict[str, Any],
                                               outputs: Outputs) -> None:
    if settings.hosted_zone_id is None:
        pytest.skip("no HOSTED_ZONE_ID: the stack makes no certificate and no records")
    certificate = aws("acm", GLOBAL_REGION).describe_certificate(
        CertificateArn=outputs.require("viewer_certificate_arn"))["Certificate"]
    assert certificate["Status"] == "ISSUED"
    assert certificate["DomainName"] == settings.domain_names[0]
    assert {certificate["DomainName"], *certificate.get("SubjectAlternativeNames", [])} == \
        set(settings.domain_names)
    assert distribution["DistributionConfig"]["ViewerCertificate"]["ACMCertificateArn"] == \
        certificate["CertificateArn"]
    records = aws("route53").list_resource_record_sets(
        HostedZoneId=settings.hosted_zone_id)["ResourceRecordSets"]
    for name in settings.domain_names:
        wanted = name.replace("*", "\\052") + "."
        aliases = {record["Type"]: record["AliasTarget"] for record in records
                   if record["Name"] == wanted and "AliasTarget" in record}
        assert set(aliases) == {"A", "AAAA"}, f"{name}: alias records {sorted(aliases)}"
        for target in aliases.values():
            assert target["DNSName"].rstrip(".") == distribution["DomainName"]
            assert target["HostedZoneId"] == "Z2FDTNDATAQYW2"  # CloudFront's zone
    assert outputs.require("viewer_url") == f"https://{settings.domain_names[0]}/"
