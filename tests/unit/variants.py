"""The non-reference environments the unit tests build, each once per session, and the given
network and shared pieces (example values in the shapes AWS uses) that the shared mode takes.

Every full stack costs ~0.3 s of jsii calls (~0.45 s under coverage), so instead of one
variant per test module the suite has one, ``VARIANT``, which ``main.main`` writes to disk
(tests/unit/conftest.py). It turns on every option at once, and the options touch
different resources, so one stack shows each of them: a two-AZ region (us-west-1), an
HTTPS origin with CloudFront aliases, ARM64 tasks from a private ECR image on a custom
port and health-check path, Redis OSS, Aurora PostgreSQL 17, alarm e-mail, tags from the
CI, and the S3 state backend.

``WIRED`` is for the load balancer and the service built alone (tests/unit/test_load_balancer.py,
tests/unit/test_service.py): a region opened
after August 2022 (ALB log delivery by service principal), HTTPS.
"""
from __future__ import annotations

from scripts.synth_profiles import GIVEN_NETWORK, SHARED_PIECES  # noqa: F401  # pylint: disable=unused-import

ACCOUNT = "123456789012"
VARIANT_REGION = "us-west-1"
NEWER_REGION = "eu-central-2"


def certificate(region: str, key: str = "0123abcd-0123-4567-89ab-0123456789ab") -> str:
    """An ACM certificate ARN of this account."""
    return f"arn:aws:acm:{region}:{ACCOUNT}:certificate/{key}"


REGIONAL_CERTIFICATE = certificate(VARIANT_REGION)
EDGE_CERTIFICATE = certificate("us-east-1", "abcdef01-0123-4567-89ab-0123456789ab")
ECR_IMAGE = f"{ACCOUNT}.dkr.ecr.{VARIANT_REGION}.amazonaws.com/tap/web:1.4.2"
DOMAIN_NAMES = ("app.example.com", "www.example.com")
ALARM_EMAIL = "ops@example.com"

VARIANT = {
    "ENVIRONMENT_SUFFIX": "qa", "AWS_REGION": VARIANT_REGION,
    "CERTIFICATE_ARN": REGIONAL_CERTIFICATE, "EDGE_CERTIFICATE_ARN": EDGE_CERTIFICATE,
    "DOMAIN_NAMES": ",".join(DOMAIN_NAMES),
    "CPU_ARCHITECTURE": "ARM64", "CONTAINER_IMAGE": ECR_IMAGE, "CONTAINER_PORT": "8080",
    "HEALTH_CHECK_PATH": "/healthz",
    "CACHE_ENGINE": "redis", "DB_ENGINE_VERSION": "17.4",
    "ALARM_EMAIL": ALARM_EMAIL, "REPOSITORY": "org/tap", "COMMIT_AUTHOR": "jane",
    "TERRAFORM_STATE_BUCKET": "tap-states", "TERRAFORM_STATE_BUCKET_REGION": "eu-central-1",
}
WIRED = {
    "ENVIRONMENT_SUFFIX": "qa", "AWS_REGION": NEWER_REGION,
    "CERTIFICATE_ARN": certificate(NEWER_REGION), "EDGE_CERTIFICATE_ARN": EDGE_CERTIFICATE,
    "DOMAIN_NAMES": DOMAIN_NAMES[0],
}

# The given network and the shared pieces of scripts/synth_profiles.py's labels pr4892-byon and
# pr4892-shared (one home: that script).
SHARED = {"ENVIRONMENT_SUFFIX": "pr4892", **GIVEN_NETWORK, **SHARED_PIECES}
