"""Private origin: an internal load balancer behind a CloudFront VPC origin, the fallback
where VPC origins are not offered, and the viewer's own domain in a Route 53 zone.

``fallback`` is one extra stack that shows both options not in the reference profiles: a
region without VPC origins (ap-southeast-6) with an HTTPS origin, and HOSTED_ZONE_ID.
"""
# pylint: disable=redefined-outer-name
from __future__ import annotations

import pytest

from tests.unit.synth import Synth, synthesize

FALLBACK_REGION = "ap-southeast-6"
ZONE = "Z0123456789ABCDEFGHIJ"
NAMES = ("example.com", "*.example.com")
CERTIFICATE = ("arn:aws:acm:ap-southeast-6:123456789012:certificate/"
               "0123abcd-0123-4567-89ab-0123456789ab")
UNAVAILABLE_ZONES = ["use1-az3", "usw1-az2", "apne1-az3", "cac1-az3"]


@pytest.fixture(scope="module")
def fallback() -> Synth:
    return synthesize({"ENVIRONMENT_SUFFIX": "qa", "AWS_REGION": FALLBACK_REGION,
                       "CERTIFICATE_ARN": CERTIFICATE, "DOMAIN_NAMES": ",".join(NAMES),
                       "HOSTED_ZONE_ID": ZONE})


def test_own_network_avoids_the_zones_without_vpc_origins(stacks: dict[str, Synth]) -> None:
    for stack in stacks.values():
        zones = stack.data("aws_availability_zones")[stack.logical_id(
            "aws_availability_zones", "network/zones", kind="data")]
        assert zones == {"state": "available", "exclude_zone_ids": UNAVAILABLE_ZONES}


def test_outputs_of_the_private_origin(stacks: dict[str, Synth]) -> None:
    for stack in stacks.values():
        outputs = {name: output["value"] for name, output in stack.outputs.items()}
        assert outputs["vpc_origin_id"] == stack.ref("aws_cloudfront_vpc_origin", "edge/vpc-origin")
        assert outputs["viewer_url"] == "https://" + stack.ref(
            "aws_cloudfront_distribution", "edge/distribution", "domain_name") + "/"
        assert outputs["viewer_certificate_arn"] == ""  # CloudFront's default certificate


def test_fallback_is_internet_facing_and_https_only(fallback: Synth) -> None:
    alb = fallback.at("aws_lb", "lb/alb")
    assert alb["internal"] is False
    assert alb["subnets"] == [fallback.ref("aws_subnet", f"network/public-{i}") for i in range(3)]
    assert "aws_cloudfront_vpc_origin" not in fallback.json["resource"]
    assert fallback.outputs["vpc_origin_id"]["value"] == ""
    zones = fallback.data("aws_availability_zones")[fallback.logical_id(
        "aws_availability_zones", "network/zones", kind="data")]
    assert "exclude_zone_ids" not in zones
    # Only CloudFront's origin-facing servers reach it, over HTTPS with TLS 1.2.
    rule = fallback.at("aws_vpc_security_group_ingress_rule", "firewall/alb-from-cloudfront")
    assert rule["prefix_list_id"] == fallback.ref(
        "aws_ec2_managed_prefix_list", "edge/cloudfront-origin-facing", kind="data")
    assert (rule["from_port"], rule["to_port"]) == (443, 443)
    (distribution,) = fallback.resources("aws_cloudfront_distribution").values()
    (origin,) = distribution["origin"]
    assert "vpc_origin_config" not in origin
    assert origin["custom_origin_config"]["origin_protocol_policy"] == "https-only"
    assert origin["custom_origin_config"]["origin_ssl_protocols"] == ["TLSv1.2"]


def test_the_zone_is_checked_at_plan(fallback: Synth) -> None:
    zone = fallback.data("aws_route53_zone")[fallback.logical_id(
        "aws_route53_zone", "edge/viewer-domain/zone", kind="data")]
    assert zone["zone_id"] == ZONE and zone["provider"] == "aws.global"
    private, inside = zone["lifecycle"]["postcondition"]
    assert private == {"condition": "${!self.private_zone}",
                       "error_message": f"HOSTED_ZONE_ID {ZONE} is a private zone; viewers "
                                        "need a public one."}
    apex = 'trimsuffix(self.name, ".")'
    assert inside == {
        "condition": f'${{alltrue([for n in ["example.com", "example.com"] : n == {apex} || '
                     f'endswith(n, ".${{{apex}}}")])}}',
        "error_message": f"DOMAIN_NAMES (example.com, *.example.com) must all be inside "
                         f"HOSTED_ZONE_ID {ZONE} (${{self.name}})."}


def test_the_certificate_is_made_validated_and_used(fallback: Synth) -> None:
    certificate = fallback.at("aws_acm_certificate", "edge/viewer-domain/certificate")
    assert certificate == {
        "domain_name": "example.com", "subject_alternative_names": ["*.example.com"],
        "validation_method": "DNS", "key_algorithm": "RSA_2048",
        "lifecycle": {"create_before_destroy": True}, "provider": "aws.global"}
    cert = fallback.logical_id("aws_acm_certificate", "edge/viewer-domain/certificate")
    zone_id = fallback.ref("aws_route53_zone", "edge/viewer-domain/zone", "zone_id", kind="data")
    options = f"tolist(aws_acm_certificate.{cert}.domain_validation_options)"
    fqdns = []
    for index in range(len(NAMES)):  # by position: the options' keys are unknown at plan
        record = fallback.at("aws_route53_record", f"edge/viewer-domain/validation-{index}")
        assert record == {
            "zone_id": zone_id, "name": f"${{{options}.{index}.resource_record_name}}",
            "type": f"${{{options}.{index}.resource_record_type}}",
            "records": [f"${{{options}.{index}.resource_record_value}}"], "ttl": 60,
            "allow_overwrite": True, "provider": "aws.global"}
        fqdns.append(fallback.ref("aws_route53_record", f"edge/viewer-domain/validation-{index}",
                                  "fqdn"))
    validation = fallback.at("aws_acm_certificate_validation",
                             "edge/viewer-domain/certificate-validation")
    assert validation == {"certificate_arn": f"${{aws_acm_certificate.{cert}.arn}}",
                          "validation_record_fqdns": fqdns, "provider": "aws.global"}
    issued = fallback.ref("aws_acm_certificate_validation",
                          "edge/viewer-domain/certificate-validation", "certificate_arn")
    (distribution,) = fallback.resources("aws_cloudfront_distribution").values()
    assert distribution["viewer_certificate"] == {
        "acm_certificate_arn": issued, "ssl_support_method": "sni-only",
        "minimum_protocol_version": "TLSv1.2_2021"}
    assert distribution["aliases"] == list(NAMES)
    assert fallback.outputs["viewer_certificate_arn"]["value"] == issued
    assert fallback.outputs["viewer_url"]["value"] == "https://example.com/"


@pytest.mark.parametrize("index,name", list(enumerate(NAMES)))
@pytest.mark.parametrize("record_type", ["A", "AAAA"])
def test_alias_records_point_at_the_distribution(fallback: Synth, index: int, name: str,
                                                 record_type: str) -> None:
    record = fallback.at("aws_route53_record",
                         f"edge/viewer-domain/alias-{index}-{record_type.lower()}")
    assert record == {
        "zone_id": fallback.ref("aws_route53_zone", "edge/viewer-domain/zone", "zone_id",
                                kind="data"),
        "name": name, "type": record_type, "provider": "aws.global",
        "alias": {"name": fallback.ref("aws_cloudfront_distribution", "edge/distribution",
                                       "domain_name"),
                  "zone_id": fallback.ref("aws_cloudfront_distribution", "edge/distribution",
                                          "hosted_zone_id"),
                  "evaluate_target_health": False}}
