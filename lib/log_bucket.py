"""Access-log buckets: one helper for the load balancer's and CloudFront's log buckets.

``log_bucket(scope, id, props=LogBucketProps(...))`` creates, under ids ``<id>`` and
``<id>-<part>``, a bucket with all public access blocked, the given object ownership,
SSE-KMS with a customer key where the delivering service can use one (CloudFront) and
SSE-S3 where it cannot (ALB log delivery), a lifecycle rule for all objects (empty-prefix filter)
expiring logs per profile, and a bucket policy that denies non-TLS requests plus the
caller's delivery statements. No versioning: log objects are written once and expire;
versions would only delay their deletion. Returns the bucket, its ownership controls
and its policy, for ``depends_on`` of the services that check access when they start.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, NamedTuple, Sequence

from cdktf import TerraformProvider
from cdktf_cdktf_provider_aws.s3_bucket import S3Bucket
from cdktf_cdktf_provider_aws.s3_bucket_lifecycle_configuration import (
    S3BucketLifecycleConfiguration,
    S3BucketLifecycleConfigurationRule,
    S3BucketLifecycleConfigurationRuleAbortIncompleteMultipartUpload,
    S3BucketLifecycleConfigurationRuleExpiration,
    S3BucketLifecycleConfigurationRuleFilter,
)
from cdktf_cdktf_provider_aws.s3_bucket_ownership_controls import (
    S3BucketOwnershipControls,
    S3BucketOwnershipControlsRule,
)
from cdktf_cdktf_provider_aws.s3_bucket_policy import S3BucketPolicy
from cdktf_cdktf_provider_aws.s3_bucket_public_access_block import S3BucketPublicAccessBlock
from cdktf_cdktf_provider_aws.s3_bucket_server_side_encryption_configuration import (
    S3BucketServerSideEncryptionConfigurationA,
    S3BucketServerSideEncryptionConfigurationRuleA,
    S3BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultA,
)
from constructs import Construct

from lib.policies import document, statement


@dataclass(frozen=True, kw_only=True)
class LogBucketProps:
    """What differs between the log buckets."""

    name_prefix: str  # from lib.naming; Terraform completes it once, at create time
    force_destroy: bool  # empty on destroy (Settings.force_destroy_buckets)
    expiration_days: int  # profile.access_log_expiration_days
    object_ownership: str  # BucketOwnerEnforced, or BucketOwnerPreferred where ACLs deliver
    # Extra policy statements, given the bucket's ARN token (e.g. who may deliver logs).
    delivery_statements: Callable[[str], Sequence[dict[str, Any]]] = field(
        default=lambda arn: ())
    # SSE-KMS with this customer key, for services that can use one (CloudFront standard
    # logging, given kms:GenerateDataKey* in the key policy); None: SSE-S3, the only
    # encryption ALB log delivery supports.
    kms_key_arn: str | None = None
    provider: TerraformProvider | None = None


class LogBucket(NamedTuple):
    """The resources dependents refer to."""

    bucket: S3Bucket
    ownership: S3BucketOwnershipControls
    policy: S3BucketPolicy


def log_bucket(scope: Construct, construct_id: str, *, props: LogBucketProps) -> LogBucket:
    """Create the log bucket and its settings in ``scope``."""
    provider = props.provider
    bucket = S3Bucket(scope, construct_id, bucket_prefix=props.name_prefix,
                      force_destroy=props.force_destroy, provider=provider)
    public_access = S3BucketPublicAccessBlock(
        scope, f"{construct_id}-public-access", bucket=bucket.id, block_public_acls=True,
        block_public_policy=True, ignore_public_acls=True, restrict_public_buckets=True,
        provider=provider)
    ownership = S3BucketOwnershipControls(
        scope, f"{construct_id}-ownership", bucket=bucket.id,
        rule=S3BucketOwnershipControlsRule(object_ownership=props.object_ownership),
        provider=provider)
    S3BucketServerSideEncryptionConfigurationA(
        scope, f"{construct_id}-encryption", bucket=bucket.id,
        rule=[S3BucketServerSideEncryptionConfigurationRuleA(
            apply_server_side_encryption_by_default=(
                S3BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultA(
                    sse_algorithm="aws:kms" if props.kms_key_arn else "AES256",
                    kms_master_key_id=props.kms_key_arn)),
            # S3 Bucket Keys cut KMS requests (and cost) per log object.
            bucket_key_enabled=True if props.kms_key_arn else None)],
        provider=provider)
    S3BucketLifecycleConfiguration(
        scope, f"{construct_id}-lifecycle", bucket=bucket.id,
        rule=[S3BucketLifecycleConfigurationRule(
            id="expire-access-logs", status="Enabled",
            filter=[S3BucketLifecycleConfigurationRuleFilter(prefix="")],
            expiration=[S3BucketLifecycleConfigurationRuleExpiration(days=props.expiration_days)],
            abort_incomplete_multipart_upload=[
                S3BucketLifecycleConfigurationRuleAbortIncompleteMultipartUpload(
                    days_after_initiation=1)])],
        provider=provider)
    policy = S3BucketPolicy(
        scope, f"{construct_id}-policy", bucket=bucket.id,
        policy=document(
            statement(sid="DenyInsecureTransport", effect="Deny", principal="*",
                      actions=["s3:*"], resources=[bucket.arn, f"{bucket.arn}/*"],
                      condition={"Bool": {"aws:SecureTransport": "false"}}),
            *props.delivery_statements(bucket.arn)),
        # S3 rejects concurrent configuration calls on one bucket; one at a time.
        depends_on=[public_access],
        provider=provider)
    return LogBucket(bucket, ownership, policy)
