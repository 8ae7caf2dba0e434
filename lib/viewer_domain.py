"""The viewer's own domain: a certificate the stack makes and validates in a public Route 53
zone, and alias records that point the names at the distribution.

With HOSTED_ZONE_ID and DOMAIN_NAMES, ``ViewerDomain(scope, id, props=...)`` creates, in
us-east-1 (CloudFront takes viewer certificates from there only):
- a data source of the zone, whose postconditions fail the plan, naming the problem, when
  the zone is private or a name lies outside it (only the zone's name, read at plan time,
  can tell);
- an ACM certificate for the names (the first is its domain name, the others alternative
  names), validated through DNS, with ``create_before_destroy`` so that a change of names
  never leaves the distribution without a certificate;
- one validation CNAME per name, from the certificate's ``domain_validation_options`` taken
  by position (``allow_overwrite``: a name and its wildcard share one record);
- ``aws_acm_certificate_validation``, which waits until ACM has issued the certificate; its
  ``certificate_arn`` is what the distribution uses, so CloudFront never gets a certificate
  that is not issued yet.
``alias_records(distribution_domain, distribution_zone)`` then creates an A and an AAAA
alias record per name. Exposes ``certificate_arn``.
"""
from __future__ import annotations

from dataclasses import dataclass

from cdktf import Postcondition, TerraformProvider, TerraformResourceLifecycle
from cdktf_cdktf_provider_aws.acm_certificate import AcmCertificate
from cdktf_cdktf_provider_aws.acm_certificate_validation import AcmCertificateValidation
from cdktf_cdktf_provider_aws.data_aws_route53_zone import DataAwsRoute53Zone
from cdktf_cdktf_provider_aws.route53_record import Route53Record, Route53RecordAlias
from constructs import Construct

VALIDATION_RECORD_TTL = 60
ALIAS_TYPES = ("A", "AAAA")  # the distribution serves IPv4 and IPv6


@dataclass(frozen=True, kw_only=True)
class ViewerDomainProps:
    """Inputs of the viewer domain."""

    zone_id: str  # HOSTED_ZONE_ID
    domain_names: tuple[str, ...]  # DOMAIN_NAMES, at least one
    provider: TerraformProvider  # the us-east-1 provider


def _inside_zone(names: tuple[str, ...]) -> str:
    """A condition: every name is the zone's apex or below it (``self`` is the zone)."""
    listed = ", ".join(f'"{name.removeprefix("*.")}"' for name in names)
    apex = 'trimsuffix(self.name, ".")'
    return f'${{alltrue([for n in [{listed}] : n == {apex} || endswith(n, ".${{{apex}}}")])}}'


class ViewerDomain(Construct):
    """Certificate, its validation in the zone, and the names' alias records."""

    def __init__(self, scope: Construct, construct_id: str, *, props: ViewerDomainProps) -> None:
        super().__init__(scope, construct_id)
        if not props.domain_names:
            raise ValueError("a viewer domain needs at least one domain name")
        self._props = props
        names = ", ".join(props.domain_names)
        zone = DataAwsRoute53Zone(
            self, "zone", zone_id=props.zone_id, provider=props.provider,
            lifecycle=TerraformResourceLifecycle(postcondition=[
                Postcondition(condition="${!self.private_zone}",
                              error_message=f"HOSTED_ZONE_ID {props.zone_id} is a private "
                                            "zone; viewers need a public one."),
                Postcondition(condition=_inside_zone(props.domain_names),
                              error_message=f"DOMAIN_NAMES ({names}) must all be inside "
                                            f"HOSTED_ZONE_ID {props.zone_id} "
                                            "(${self.name})."),
            ]))
        self._zone_id = zone.zone_id
        certificate = AcmCertificate(
            self, "certificate", domain_name=props.domain_names[0],
            subject_alternative_names=list(props.domain_names[1:]) or None,
            validation_method="DNS", key_algorithm="RSA_2048",
            lifecycle=TerraformResourceLifecycle(create_before_destroy=True),
            provider=props.provider)
        # One record per name, by position: a for_each keyed by the options' domain names
        # cannot be planned (the options are a set whose values are known only at apply).
        records = []
        for index in range(len(props.domain_names)):
            option = certificate.domain_validation_options.get(index)
            records.append(Route53Record(
                self, f"validation-{index}", zone_id=zone.zone_id,
                name=option.resource_record_name, type=option.resource_record_type,
                records=[option.resource_record_value], ttl=VALIDATION_RECORD_TTL,
                allow_overwrite=True, provider=props.provider))
        validation = AcmCertificateValidation(
            self, "certificate-validation", certificate_arn=certificate.arn,
            validation_record_fqdns=[record.fqdn for record in records],
            provider=props.provider)
        self.certificate_arn: str = validation.certificate_arn

    def alias_records(self, distribution_domain: str, distribution_zone: str) -> None:
        """An A and an AAAA alias record per name, to the distribution."""
        for index, name in enumerate(self._props.domain_names):
            for record_type in ALIAS_TYPES:
                Route53Record(
                    self, f"alias-{index}-{record_type.lower()}", zone_id=self._zone_id,
                    name=name, type=record_type,
                    alias=Route53RecordAlias(name=distribution_domain, zone_id=distribution_zone,
                                             evaluate_target_health=False),
                    provider=self._props.provider)
