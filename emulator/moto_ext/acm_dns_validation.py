"""ACM DNS validation for moto: a requested certificate is issued once its validation
records are in DNS, not after a timer.

AWS: "A certificate enters status PENDING_VALIDATION upon being requested ... If
validation succeeds, the certificate enters status ISSUED"; ACM keeps trying for 72
hours (https://docs.aws.amazon.com/acm/latest/APIReference/API_CertificateDetail.html).
With DNS validation, validation succeeds when the CNAME of each domain's
``ResourceRecord`` (DescribeCertificate's DomainValidationOptions) is published in the
domain's public DNS (https://docs.aws.amazon.com/acm/latest/userguide/dns-validation.html).

moto 5.2.5 answers DomainValidationOptions with one CNAME per domain (``*.`` folded into
its parent, as in AWS) but turns every requested certificate ISSUED on the first
DescribeCertificate 60 seconds after the request, records or not; ``aws_acm_certificate
_validation`` (which waits for ISSUED) then passes or waits for the wrong reason. Here a
pending certificate becomes ISSUED on the first DescribeCertificate (or any other read)
that finds every validation CNAME, with its value, in a public Route 53 hosted zone of
the same account whose name the record falls under; until then it stays
PENDING_VALIDATION. Private hosted zones do not count: they are not public DNS.
"""
from __future__ import annotations

from moto.acm.models import CertBundle
from moto.route53.models import route53_backends

NAME = "acm-dns-validation"
PENDING, ISSUED = "PENDING_VALIDATION", "ISSUED"


def _fqdn(name: str) -> str:
    return name.lower().rstrip(".") + "."


def published(account_id: str, record: dict[str, str]) -> bool:
    """True when a public hosted zone of the account holds the CNAME ``record``."""
    name, value = _fqdn(record["Name"]), _fqdn(record["Value"])
    for zone in route53_backends[account_id]["aws"].zones.values():
        zone_name = _fqdn(zone.name)
        if zone.private_zone or not (name == zone_name or name.endswith("." + zone_name)):
            continue
        if any(rrset.type == "CNAME" and _fqdn(rrset.name) == name
               and value in {_fqdn(str(item)) for item in rrset.records or []}
               for rrset in zone.rrsets):
            return True
    return False


def validated(certificate: CertBundle) -> bool:
    """True when every domain's validation record is published."""
    options = certificate.describe()["Certificate"].get("DomainValidationOptions") or []
    return bool(options) and all(
        published(certificate.arn.split(":")[4], option["ResourceRecord"]) for option in options)


def install() -> str:
    """Issue a pending Amazon-issued certificate only when its records are published."""
    check = CertBundle.check
    if not getattr(check, "tap_extended", False):
        def check_records(self: CertBundle) -> None:
            if self.type == "AMAZON_ISSUED" and self.status == PENDING:
                if validated(self):
                    self.status = ISSUED
                return
            check(self)
        check_records.tap_extended = True  # type: ignore[attr-defined]
        CertBundle.check = check_records  # type: ignore[method-assign]
    return NAME
