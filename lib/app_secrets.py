"""The application's own secrets: one Secrets Manager secret per name the manifest declares.

Each secret is encrypted with the data key, named from a prefix that Terraform completes once
(``tap/<suffix>/app/<NAME>-<unique>``: a redeploy never meets the name a deleted secret keeps
for its recovery window), and has the profile's recovery window. The stack never holds a
value: ``make secret-set`` writes it (tools/secret_set.py), and the release gate
(tools/one_off.py) refuses a deploy while a declared secret has none.

Exposes ``arns``: name -> secret ARN (a token).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

from cdktf_cdktf_provider_aws.secretsmanager_secret import SecretsmanagerSecret
from constructs import Construct

from lib.naming import Names


@dataclass(frozen=True, kw_only=True)
class AppSecretsProps:
    """The declared secrets and how they are kept."""

    names: Names
    secrets: Mapping[str, str]  # name -> description (the manifest's [secrets])
    key_arn: str  # the data key
    recovery_window_days: int  # 0: deleted at once (ephemeral environments)


class AppSecrets(Construct):
    """One secret per declared name; no value."""

    def __init__(self, scope: Construct, construct_id: str, *, props: AppSecretsProps) -> None:
        super().__init__(scope, construct_id)
        self.arns: dict[str, str] = {
            name: SecretsmanagerSecret(
                self, name, name_prefix=props.names.app_secret_prefix_of(name),
                description=f"{description} ({props.names.prefix}; set with make secret-set)",
                kms_key_id=props.key_arn,
                recovery_window_in_days=props.recovery_window_days).arn
            for name, description in sorted(props.secrets.items())}
