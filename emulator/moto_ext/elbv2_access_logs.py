"""ELBv2 access logging as AWS turns it on: the bucket check and the test object.

moto 5.2.5 stores the ``access_logs.s3.*`` attributes without looking at the bucket.
AWS, when ModifyLoadBalancerAttributes turns access logging on, validates the bucket
and writes a test object, ``[<prefix>/]AWSLogs/<account-id>/ELBAccessLogTestFile``;
the call fails with ``InvalidConfigurationRequest`` "Access Denied for bucket: <bucket>.
Please check S3bucket permission" when the bucket policy does not let Elastic Load
Balancing write there, or when the bucket's default encryption is not SSE-S3. Here the
bucket must exist in the load balancer's account, its policy must grant s3:PutObject on
the test object's key to the Region's ELB account (``arn:aws:iam::<elb-account>:root``,
Regions opened before August 2022) or to ``logdelivery.elasticloadbalancing.amazonaws.com``
(every Region), and its default encryption must not be SSE-KMS; then the test object
is written into moto's S3, so a bucket holds an object as soon as logging is on.

``delivery_allowed(policy, principals, key_arn)`` is the policy check, for the harness
to reuse wherever a service writes log objects: an Allow statement for one of the
principals, with an s3:PutObject action and a Resource matching the key (``*`` and
``?`` wildcards), and no Deny statement that matches too. Conditions are not evaluated:
the delivering service is taken to meet an Allow's conditions (it writes over TLS, for
the source account) and not a Deny's (e.g. ``aws:SecureTransport = false``).

https://docs.aws.amazon.com/elasticloadbalancing/latest/application/enable-access-logging.html
(bucket requirements, bucket policy, "Verify bucket permissions": the test object)
https://docs.aws.amazon.com/elasticloadbalancing/latest/classic/enable-access-logs.html
(the ELB account of each Region, the service principal, the "Access Denied for bucket"
error and its causes)
"""
from __future__ import annotations

import json
import re
from typing import Any, Iterable

from moto.core.utils import utcnow
from moto.elbv2.exceptions import ELBClientError
from moto.elbv2.models import ELBv2Backend
from moto.s3.exceptions import MissingBucket
from moto.s3.models import s3_backends

NAME = "elbv2-access-log-delivery"
TEST_OBJECT = "ELBAccessLogTestFile"
LOG_DELIVERY_PRINCIPAL = "logdelivery.elasticloadbalancing.amazonaws.com"
# The ELB account of each Region opened before August 2022 (AWS's table); newer Regions
# (e.g. eu-central-2) only know the service principal.
ELB_ACCOUNTS = {
    "us-east-1": "127311923021", "us-east-2": "033677994240", "us-west-1": "027434742980",
    "us-west-2": "797873946194", "af-south-1": "098369216593", "ap-east-1": "754344448648",
    "ap-southeast-3": "589379963580", "ap-south-1": "718504428378",
    "ap-northeast-3": "383597477331", "ap-northeast-2": "600734575887",
    "ap-southeast-1": "114774131450", "ap-southeast-2": "783225319266",
    "ap-northeast-1": "582318560864", "ca-central-1": "985666609251",
    "eu-central-1": "054676820928", "eu-west-1": "156460612806", "eu-west-2": "652711504416",
    "eu-south-1": "635631232127", "eu-west-3": "009996457667", "eu-north-1": "897822967062",
    "me-south-1": "076674570225", "sa-east-1": "507241528517",
    "us-gov-east-1": "190560391635", "us-gov-west-1": "048591011584",
}
_ACCOUNT_ID = re.compile(r"^\d{12}$")


class AccessDeniedForBucket(ELBClientError):
    """ELB may not write to the bucket (HTTP 400, as in AWS)."""

    code = "InvalidConfigurationRequest"

    def __init__(self, bucket: str) -> None:
        super().__init__(f"Access Denied for bucket: {bucket}. Please check S3bucket permission")


def delivery_principals(region: str, partition: str = "aws") -> list[str]:
    """The principals that deliver ELB logs in ``region``: its ELB account, if it has
    one, and the log-delivery service principal."""
    account = ELB_ACCOUNTS.get(region)
    return ([f"arn:{partition}:iam::{account}:root"] if account else []) + [LOG_DELIVERY_PRINCIPAL]


def _values(value: Any) -> list[str]:
    return [value] if isinstance(value, str) else list(value or ())


def _wildcard(pattern: str, text: str, ignore_case: bool = False) -> bool:
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, text, re.IGNORECASE if ignore_case else 0) is not None


def _principal_matches(principal: Any, candidates: Iterable[str]) -> bool:
    if principal == "*":
        return True
    if not isinstance(principal, dict):
        return False
    named = {f"arn:aws:iam::{value}:root" if _ACCOUNT_ID.match(value) else value
             for kind in ("AWS", "Service") for value in _values(principal.get(kind))}
    return "*" in named or bool(named & set(candidates))


def _statement_matches(statement: dict[str, Any], candidates: list[str], key_arn: str) -> bool:
    return (_principal_matches(statement.get("Principal"), candidates)
            and any(_wildcard(action, "s3:PutObject", ignore_case=True)
                    for action in _values(statement.get("Action")))
            and any(_wildcard(resource, key_arn) for resource in _values(statement.get("Resource"))))


def delivery_allowed(policy_json: str | bytes | None, principal_candidates: Iterable[str],
                     key_arn: str) -> bool:
    """Whether a bucket policy lets one of ``principal_candidates`` (principal ARNs or
    service names) PutObject ``key_arn`` (``arn:aws:s3:::bucket/key``)."""
    if not policy_json:
        return False
    statements = json.loads(policy_json).get("Statement", [])
    if isinstance(statements, dict):
        statements = [statements]
    candidates = list(principal_candidates)
    matching = [s for s in statements if _statement_matches(s, candidates, key_arn)]
    return (any(s.get("Effect") == "Allow" for s in matching)
            and not any(s.get("Effect") == "Deny" and not s.get("Condition") for s in matching))


def _check_bucket(backend: ELBv2Backend, attrs: dict[str, Any]) -> tuple[str, str]:
    """The bucket and the test object's key, once ELB may write there; raises otherwise."""
    bucket_name = attrs.get("access_logs.s3.bucket") or ""
    prefix = attrs.get("access_logs.s3.prefix") or ""
    key = f"{prefix + '/' if prefix else ''}AWSLogs/{backend.account_id}/{TEST_OBJECT}"
    try:
        bucket = s3_backends[backend.account_id][backend.partition].get_bucket(bucket_name)
    except MissingBucket as missing:
        raise AccessDeniedForBucket(bucket_name) from missing
    default = ((bucket.encryption or {}).get("Rule", {})
               .get("ApplyServerSideEncryptionByDefault", {}).get("SSEAlgorithm"))
    if default not in (None, "AES256") or not delivery_allowed(
            bucket.policy, delivery_principals(backend.region_name, backend.partition),
            f"arn:{backend.partition}:s3:::{bucket_name}/{key}"):
        raise AccessDeniedForBucket(bucket_name)
    return bucket_name, key


def install() -> str:
    """Make turning access logging on check the bucket and write the test object."""
    modify = ELBv2Backend.modify_load_balancer_attributes
    if not getattr(modify, "tap_extended", False):
        def modify_load_balancer_attributes(self: ELBv2Backend, arn: str,
                                            attrs: dict[str, Any]) -> dict[str, Any]:
            balancer = self.load_balancers.get(arn)
            merged = {**balancer.attrs, **attrs} if balancer is not None else {}
            target = None
            if any(key.startswith("access_logs.s3.") for key in attrs) and \
                    str(merged.get("access_logs.s3.enabled")).lower() == "true":
                target = _check_bucket(self, merged)
            result = modify(self, arn, attrs)
            if target is not None:
                stamp = utcnow().strftime("%Y-%m-%dT%H:%M:%S")
                s3_backends[self.account_id][self.partition].put_object(
                    *target, f"Enable AccessLog for ELB: {balancer.name} at {stamp}".encode())
            return result
        modify_load_balancer_attributes.tap_extended = True  # type: ignore[attr-defined]
        ELBv2Backend.modify_load_balancer_attributes = (  # type: ignore[method-assign]
            modify_load_balancer_attributes)
    return NAME
