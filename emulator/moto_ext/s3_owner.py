"""One canonical user id in moto's S3.

moto 5.2.5 answers ListBuckets with the owner ``bcaf1ffd86f41161ca5fb16fd081034f``
but owns buckets and writes ACLs as ``moto.s3.models.OWNER``. The stack reads its
canonical user id (``aws_canonical_user_id``, i.e. ListBuckets) into the CloudFront log
bucket's ACL, so the ACL read back never matched and every plan changed it. In AWS
both are the account's one canonical id: here ListBuckets answers ``OWNER`` too.
"""
from __future__ import annotations

from typing import Any

from moto.s3.models import OWNER
from moto.s3.responses import S3Response

NAME = "s3-canonical-owner"
LIST_BUCKETS_OWNER = "bcaf1ffd86f41161ca5fb16fd081034f"


def install() -> str:
    """Make ListBuckets name the owner that ACLs use."""
    all_buckets = S3Response.all_buckets
    if getattr(all_buckets, "tap_extended", False):
        return NAME

    def patched(self: S3Response) -> Any:
        status, headers, body = all_buckets(self)
        if isinstance(body, bytes):
            body = body.replace(LIST_BUCKETS_OWNER.encode(), OWNER.encode())
        else:
            body = body.replace(LIST_BUCKETS_OWNER, OWNER)
        headers.pop("Content-Length", None)
        headers.pop("content-length", None)
        return status, headers, body

    patched.tap_extended = True  # type: ignore[attr-defined]
    S3Response.all_buckets = patched  # type: ignore[method-assign]
    return NAME
