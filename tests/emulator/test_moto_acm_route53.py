"""ACM DNS validation against Route 53, and the Route 53 calls of the custom-domain path
(validation CNAMEs, alias A/AAAA records to a distribution, GetChange), through boto3
as the provider calls them. Issuance once the records are published fails on plain moto
5.2.5 (it issues 60 seconds after the request, whatever DNS holds); the refusals and the
Route 53 round trip check what moto already does right (the refusals only within its
60-second timer, which the extension removes)."""
from __future__ import annotations

import itertools
from typing import Any, Callable

from emulator.moto_ext.acm_dns_validation import ISSUED, PENDING
from tests.emulator.test_moto_fidelity import distribution_config

CLOUDFRONT_ZONE_ID = "Z2FDTNDATAQYW2"  # every CloudFront distribution's alias target zone
_ZONES = itertools.count()


def _zone(route53: Any, name: str, private_vpc: str | None = None) -> str:
    """A hosted zone: public, or private to ``private_vpc``."""
    extra: dict[str, Any] = {}
    if private_vpc:
        extra = {"VPC": {"VPCRegion": "us-east-1", "VPCId": private_vpc},
                 "HostedZoneConfig": {"PrivateZone": True, "Comment": "private"}}
    zone = route53.create_hosted_zone(Name=name, CallerReference=f"zone-{next(_ZONES)}",
                                      **extra)
    return str(zone["HostedZone"]["Id"].split("/")[-1])


def _upsert(route53: Any, zone_id: str, record_set: dict[str, Any]) -> str:
    change = route53.change_resource_record_sets(HostedZoneId=zone_id, ChangeBatch={
        "Changes": [{"Action": "UPSERT", "ResourceRecordSet": record_set}]})
    return str(change["ChangeInfo"]["Id"])


def _validation_cname(option: dict[str, Any]) -> dict[str, Any]:
    record = option["ResourceRecord"]
    return {"Name": record["Name"], "Type": record["Type"], "TTL": 60,
            "ResourceRecords": [{"Value": record["Value"]}]}


def _request(acm: Any, domain: str, *alternatives: str) -> tuple[str, list[dict[str, Any]]]:
    arn = acm.request_certificate(DomainName=domain, ValidationMethod="DNS",
                                  SubjectAlternativeNames=[domain, *alternatives])["CertificateArn"]
    certificate = acm.describe_certificate(CertificateArn=arn)["Certificate"]
    return arn, certificate["DomainValidationOptions"]


def _status(acm: Any, arn: str) -> str:
    return str(acm.describe_certificate(CertificateArn=arn)["Certificate"]["Status"])


def test_certificate_is_issued_once_every_validation_record_is_published(
        client: Callable[..., Any]) -> None:
    acm, route53 = client("acm"), client("route53")
    arn, options = _request(acm, "app.issue.test", "www.issue.test")
    assert {option["ValidationMethod"] for option in options} == {"DNS"}
    assert {option["ResourceRecord"]["Type"] for option in options} == {"CNAME"}
    assert _status(acm, arn) == PENDING
    zone_id = _zone(route53, "issue.test")
    first, second = options
    _upsert(route53, zone_id, _validation_cname(first))
    assert _status(acm, arn) == PENDING
    _upsert(route53, zone_id, _validation_cname(second))
    assert _status(acm, arn) == ISSUED
    assert {option["ValidationStatus"] for option in acm.describe_certificate(
        CertificateArn=arn)["Certificate"]["DomainValidationOptions"]} == {"SUCCESS"}


def test_private_zones_and_wrong_values_do_not_validate(client: Callable[..., Any]) -> None:
    acm, route53 = client("acm"), client("route53")
    arn, (option,) = _request(acm, "app.private.test")
    vpc = client("ec2").create_vpc(CidrBlock="10.250.0.0/16")["Vpc"]["VpcId"]
    _upsert(route53, _zone(route53, "private.test", private_vpc=vpc), _validation_cname(option))
    assert _status(acm, arn) == PENDING
    wrong = dict(_validation_cname(option), ResourceRecords=[{"Value": "elsewhere.test."}])
    _upsert(route53, _zone(route53, "private.test"), wrong)
    assert _status(acm, arn) == PENDING


def test_alias_records_to_a_distribution_and_validation_cnames_round_trip(
        client: Callable[..., Any]) -> None:
    route53 = client("route53")
    zone_id = _zone(route53, "alias.test")
    target = {"HostedZoneId": CLOUDFRONT_ZONE_ID, "DNSName": "d111111abcdef8.cloudfront.net.",
              "EvaluateTargetHealth": False}
    changes = [_upsert(route53, zone_id, {"Name": "app.alias.test.", "Type": kind,
                                          "AliasTarget": target}) for kind in ("A", "AAAA")]
    cname = {"Name": "_x1.app.alias.test.", "Type": "CNAME", "TTL": 60,
             "ResourceRecords": [{"Value": "_x2.acm-validations.aws."}]}
    changes.append(_upsert(route53, zone_id, cname))
    changes.append(_upsert(route53, zone_id, cname))  # allow_overwrite: UPSERT again
    for change in changes:
        assert route53.get_change(Id=change)["ChangeInfo"]["Status"] == "INSYNC"
    records = route53.list_resource_record_sets(HostedZoneId=zone_id)["ResourceRecordSets"]
    aliases = {record["Type"]: record["AliasTarget"] for record in records
               if record["Name"] == "app.alias.test."}
    assert aliases == {"A": target, "AAAA": target}
    for kind in ("A", "AAAA"):
        route53.change_resource_record_sets(HostedZoneId=zone_id, ChangeBatch={"Changes": [
            {"Action": "DELETE", "ResourceRecordSet": {"Name": "app.alias.test.", "Type": kind,
                                                       "AliasTarget": target}}]})
    route53.change_resource_record_sets(HostedZoneId=zone_id, ChangeBatch={"Changes": [
        {"Action": "DELETE", "ResourceRecordSet": cname}]})
    left = route53.list_resource_record_sets(HostedZoneId=zone_id)["ResourceRecordSets"]
    assert {record["Type"] for record in left} == {"NS", "SOA"}


def test_distribution_with_its_own_certificate_is_not_on_the_default_one(
        client: Callable[..., Any]) -> None:
    cloudfront = client("cloudfront")
    certificate = client("acm").request_certificate(
        DomainName="app.cert.test", ValidationMethod="DNS")["CertificateArn"]
    viewer = {"ACMCertificateArn": certificate, "SSLSupportMethod": "sni-only",
              "MinimumProtocolVersion": "TLSv1.2_2021"}
    config = {**distribution_config("own-certificate", "web", "web.cert.test", viewer),
              "Aliases": {"Quantity": 1, "Items": ["app.cert.test"]}}
    distribution = cloudfront.create_distribution(DistributionConfig=config)["Distribution"]
    read = cloudfront.get_distribution_config(Id=distribution["Id"])["DistributionConfig"]
    assert read["ViewerCertificate"]["CloudFrontDefaultCertificate"] is False
    assert read["ViewerCertificate"]["ACMCertificateArn"] == certificate
