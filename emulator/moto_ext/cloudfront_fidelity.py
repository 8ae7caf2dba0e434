"""CloudFront distributions for moto, read back as AWS returns them.

moto 5.2.5 answers every cache behaviour with a ``ForwardedValues`` block, even one
that uses a cache policy (AWS returns none then), and a default-certificate viewer
certificate with ``IAMCertificateId`` / ``ACMCertificateArn`` as empty strings and
``SSLSupportMethod`` ``sni-only``. The provider reads both back as configuration the
stack never set, so every plan after the first would change the distribution. Here a
block the request did not have stays absent.
"""
from __future__ import annotations

from typing import Any

from moto.cloudfront.models import DefaultCacheBehaviour, ViewerCertificate

NAME = "cloudfront-read-back"


def install() -> str:
    """Drop ForwardedValues and the certificate fields the request did not set."""
    behaviour_init = DefaultCacheBehaviour.__init__
    certificate_init = ViewerCertificate.__init__
    if getattr(behaviour_init, "tap_extended", False):
        return NAME

    def behaviour(self: DefaultCacheBehaviour, config: dict[str, Any]) -> None:
        given = "ForwardedValues" in config
        behaviour_init(self, config)
        if not given:
            self.forwarded_values = None  # type: ignore[assignment]

    def certificate(self: ViewerCertificate, config: dict[str, Any]) -> None:
        certificate_init(self, config)
        for field, attribute in (("IAMCertificateId", "iam_certificate_id"),
                                 ("ACMCertificateArn", "acm_certificate_arn"),
                                 ("SSLSupportMethod", "ssl_support_method")):
            if not config.get(field):
                setattr(self, attribute, None)

    behaviour.tap_extended = True  # type: ignore[attr-defined]
    DefaultCacheBehaviour.__init__ = behaviour  # type: ignore[method-assign]
    ViewerCertificate.__init__ = certificate  # type: ignore[method-assign]
    return NAME
