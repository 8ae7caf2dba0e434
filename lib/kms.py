"""Customer-managed KMS keys with rotation, an alias and a least-privilege key policy.

``CustomerKey(scope, id, props=KeyProps(...))`` creates the key and its alias and
exposes ``arn`` and ``key_id``. The policy gives the account root the key
administration (so IAM policies of this account can be granted use) and adds exactly
the service statements the caller passes.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

from cdktf import TerraformProvider
from cdktf_cdktf_provider_aws.kms_alias import KmsAlias
from cdktf_cdktf_provider_aws.kms_key import KmsKey
from constructs import Construct

from lib.policies import document, statement
from lib.resource_types import RETAIN_TAG


@dataclass(frozen=True, kw_only=True)
class KeyProps:
    """What a customer key is for and who may use it."""

    alias: str  # alias/<name>, from lib.naming
    description: str
    account_id: str  # token of aws_caller_identity
    deletion_window_days: int  # 7-30, from the profile
    service_statements: Sequence[Mapping[str, Any]] = field(default_factory=tuple)
    provider: TerraformProvider | None = None  # the us-east-1 alias for global resources
    # Kept when the environment is destroyed, with this reason (tools/terraform_apply.py
    # leaves it out of the destroy; the janitor deletes it once nothing needs it). None: the
    # destroy schedules its deletion.
    retain_on_destroy: str | None = None


def logs_service_statement(account_id: str, region: str) -> dict[str, Any]:
    """Lets CloudWatch Logs use the key for log groups of this account and region only."""
    return statement(
        sid="CloudWatchLogs",
        principal={"Service": f"logs.{region}.amazonaws.com"},
        actions=["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*",
                 "kms:Describe*"],
        resources="*",
        condition={"ArnLike": {"kms:EncryptionContext:aws:logs:arn":
                               f"arn:aws:logs:{region}:{account_id}:log-group:*"}},
    )


class CustomerKey(Construct):
    """A symmetric customer-managed key with yearly rotation and an alias."""

    def __init__(self, scope: Construct, construct_id: str, *, props: KeyProps) -> None:
        super().__init__(scope, construct_id)
        if not 7 <= props.deletion_window_days <= 30:
            raise ValueError(f"KMS deletion window must be 7-30 days, got {props.deletion_window_days}")
        admin = statement(
            sid="AccountAdministration",
            principal={"AWS": f"arn:aws:iam::{props.account_id}:root"},
            actions=["kms:*"],
            resources="*",
        )
        self.key = KmsKey(
            self, "key",
            description=props.description,
            enable_key_rotation=True,
            deletion_window_in_days=props.deletion_window_days,
            policy=document(admin, *props.service_statements),
            tags={RETAIN_TAG: props.retain_on_destroy} if props.retain_on_destroy else None,
            provider=props.provider,
        )
        KmsAlias(self, "alias", name=props.alias, target_key_id=self.key.key_id,
                 provider=props.provider)
        self.arn: str = self.key.arn
        self.key_id: str = self.key.key_id
