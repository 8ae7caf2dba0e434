"""S3 bucket policies: requests to the emulator count as HTTPS requests.

moto 5.2.5 checks object requests (GetObject, PutObject, DeleteObject, DeleteObjects)
against the bucket policy but ignores ``Bool`` conditions, so a statement that denies
``s3:*`` when ``aws:SecureTransport`` is ``false`` (every log bucket of the stack,
lib/log_bucket.py) denies every object request: 403 on reads, AccessDenied for each key
of a DeleteObjects, so Terraform cannot empty a ``force_destroy`` bucket once a service
has written into it. In AWS that statement applies to plain-HTTP requests only, and the
provider and the harness talk to AWS over HTTPS; the emulator's plain HTTP on loopback
stands in for those endpoints. Here a statement that applies only when
``aws:SecureTransport`` is false is left out before moto evaluates the policy.

https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-securetransport
https://docs.aws.amazon.com/AmazonS3/latest/userguide/security-best-practices.html
"""
from __future__ import annotations

import json
from typing import Any

from moto.iam.access_control import IAMPolicy, PermissionResult
from moto.s3.models import FakeBucket

NAME = "s3-secure-transport"


def plain_http_only(statement: dict[str, Any]) -> bool:
    """Whether a policy statement applies only to requests without TLS."""
    value = (statement.get("Condition") or {}).get("Bool", {}).get("aws:SecureTransport")
    return str(value[0] if isinstance(value, list) and len(value) == 1 else value).lower() == "false"


def install() -> str:
    """Evaluate bucket policies for object requests as arriving over HTTPS."""
    if getattr(FakeBucket.get_permission, "tap_extended", False):
        return NAME

    def get_permission(self: FakeBucket, action: str, resource: str) -> Any:
        if self.policy is None:
            return PermissionResult.NEUTRAL
        policy = json.loads(self.policy)
        statements = policy.get("Statement", [])
        policy["Statement"] = [statement for statement in
                               (statements if isinstance(statements, list) else [statements])
                               if not plain_http_only(statement)]
        return IAMPolicy(json.dumps(policy)).is_action_permitted(action, resource)

    get_permission.tap_extended = True  # type: ignore[attr-defined]
    FakeBucket.get_permission = get_permission  # type: ignore[method-assign]
    return NAME
