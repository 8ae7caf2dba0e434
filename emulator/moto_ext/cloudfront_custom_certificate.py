"""CloudFront viewer certificates for moto: a distribution with its own certificate does
not read back as using CloudFront's default one.

AWS's ViewerCertificate: set ``CloudFrontDefaultCertificate`` to true for a distribution
served on its cloudfront.net name; for one with Aliases, "set this field to false and
specify values for ... ACMCertificateArn or IAMCertificateId"
(https://docs.aws.amazon.com/cloudfront/latest/APIReference/API_ViewerCertificate.html).
``aws_cloudfront_distribution`` with ``acm_certificate_arn`` sends the certificate and no
``CloudFrontDefaultCertificate``; moto 5.2.5 defaults the missing field to true, and the
provider's next plan sets ``cloudfront_default_certificate`` from true to null. Here a
missing field is true only when the request names no certificate.
"""
from __future__ import annotations

from typing import Any

from moto.cloudfront.models import ViewerCertificate

NAME = "cloudfront-custom-certificate"


def install() -> str:
    """Default CloudFrontDefaultCertificate to false when a certificate is given."""
    certificate_init = ViewerCertificate.__init__
    if not getattr(certificate_init, "tap_custom_certificate", False):
        def certificate(self: ViewerCertificate, config: dict[str, Any]) -> None:
            certificate_init(self, config)
            if "CloudFrontDefaultCertificate" not in config and (
                    config.get("ACMCertificateArn") or config.get("IAMCertificateId")):
                self.cloud_front_default_certificate = False
        certificate.tap_custom_certificate = True  # type: ignore[attr-defined]
        ViewerCertificate.__init__ = certificate  # type: ignore[method-assign]
    return NAME
