"""The RDS-managed master user secret as Aurora makes and rotates it.

With ``ManageMasterUserPassword`` Aurora generates the master password, stores it in a
Secrets Manager secret it owns (``rds!cluster-<uuid>``, owning service ``rds``) and rotates
it every seven days by default, with managed rotation: no Lambda function, the service
changes the password in the database itself, typically within a minute
(https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/rds-secrets-manager.html,
https://docs.aws.amazon.com/secretsmanager/latest/userguide/rotate-secrets_managed.html).
moto 5.2.5 differs in three ways that matter once a real database stands behind the cluster:

* the secret holds ``{"username": "admin", "password": "P@55w0rd!"}`` whatever the cluster's
  ``MasterUsername``, the same password for every cluster. Here it holds the cluster's master
  username and a new random password of 32 characters: letters, digits and punctuation
  without the three characters CreateDBCluster refuses in a master password (``/``, ``"``,
  ``@``) nor a space
  (https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_CreateDBCluster.html);
* ``RotateSecret`` without ``RotationLambdaARN`` (managed rotation: "For secrets that use
  managed rotation, omit this field",
  https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_RotateSecret.html) makes
  a new version without any value AWSCURRENT: ``GetSecretValue`` then fails. Here, for a
  secret owned by RDS, the new version holds the same username and a new random password;
  it becomes AWSCURRENT and the previous one AWSPREVIOUS, as at the end of AWS's rotation.
  ``ModifyDBCluster`` with ``RotateMasterUserPassword`` goes the same way (moto calls
  RotateSecret). The emulator's runtime (``emulator/runtime/databases.py``) then sets the new
  password in the cluster's PostgreSQL within seconds;
* the secret says nothing about rotation; AWS's says ``RotationEnabled`` with a rule of 7
  days. Here it does;
* RestoreDBClusterFromSnapshot of a snapshot of such a cluster fails with an internal error
  (moto copies the cluster's settings expecting a master password it never stored). Here the
  restore goes through and the new cluster gets a managed secret of its own.
"""
from __future__ import annotations

# The extension replaces moto's private helpers of MasterUserSecret, as moto's own code calls
# them. pylint: disable=protected-access

import json
import time
from typing import Any

from moto.moto_api._internal import mock_random
from moto.rds.models import DBCluster, MasterUserSecret
from moto.secretsmanager.models import SecretsManagerBackend
from moto.secretsmanager.utils import random_password

NAME = "rds-managed-secret"
OWNING_SERVICE = "rds"
PASSWORD_LENGTH = 32
EXCLUDED_CHARACTERS = '/"@ '
ROTATION_DAYS = 7


def new_password() -> str:
    """A master password as RDS would generate one (see the module docstring)."""
    return random_password(PASSWORD_LENGTH, EXCLUDED_CHARACTERS, exclude_numbers=False,
                           exclude_punctuation=False, exclude_uppercase=False,
                           exclude_lowercase=False, include_space=False,
                           require_each_included_type=True)


def _secret_string(self: MasterUserSecret) -> str:
    return json.dumps({"username": self.resource.master_username, "password": new_password()})


def _rotate_managed(backend: SecretsManagerBackend, secret_id: str,
                    client_request_token: str | None,
                    rotation_rules: dict[str, Any] | None) -> str:
    secret = backend.describe_secret(secret_id)
    current = json.loads(backend.get_secret_value(secret_id, None, "AWSCURRENT")["SecretString"])
    version_id = client_request_token or str(mock_random.uuid4())
    now = int(time.time())
    secret.reset_default_version({
        "createdate": now, "version_id": version_id, "version_stages": ["AWSCURRENT"],
        "secret_string": json.dumps({"username": current["username"],
                                     "password": new_password()}),
    }, version_id)
    if rotation_rules and rotation_rules.get("AutomaticallyAfterDays"):
        secret.auto_rotate_after_days = int(rotation_rules["AutomaticallyAfterDays"])
    secret.rotation_requested = secret.rotation_enabled = True
    secret.last_changed_date = secret.last_rotation_date = now
    secret.next_rotation_date = now + secret.auto_rotate_after_days * 86400
    return str(secret.to_short_dict())


def install() -> str:
    """Patch the managed secret's value, its rotation settings, RotateSecret and the copy of
    a cluster's settings that a restore makes."""
    rotate = SecretsManagerBackend.rotate_secret
    if getattr(rotate, "tap_extended", False):
        return NAME
    create = MasterUserSecret._create_secret

    def create_secret(self: MasterUserSecret, kms_key_id: str | None) -> Any:
        secret = create(self, kms_key_id)
        secret.rotation_requested = secret.rotation_enabled = True
        secret.auto_rotate_after_days = ROTATION_DAYS
        secret.next_rotation_date = int(time.time()) + ROTATION_DAYS * 86400
        return secret

    def rotate_secret(self: SecretsManagerBackend, secret_id: str,
                      client_request_token: str | None = None,
                      rotation_lambda_arn: str | None = None,
                      rotation_rules: dict[str, Any] | None = None,
                      rotate_immediately: bool = True) -> str:
        secret = self.describe_secret(secret_id)
        if secret.owning_service == OWNING_SERVICE and not rotation_lambda_arn \
                and not secret.is_deleted():
            return _rotate_managed(self, secret_id, client_request_token, rotation_rules)
        return rotate(self, secret_id, client_request_token, rotation_lambda_arn,
                      rotation_rules, rotate_immediately)

    def get_cfg(self: DBCluster) -> dict[str, Any]:
        if not hasattr(self, "_master_user_password"):  # a managed password: none stored
            self._master_user_password = None  # type: ignore[attr-defined]
        return settings(self)

    settings = DBCluster.get_cfg
    rotate_secret.tap_extended = True  # type: ignore[attr-defined]
    DBCluster.get_cfg = get_cfg  # type: ignore[method-assign]
    MasterUserSecret._generate_secret_string = _secret_string  # type: ignore[method-assign]
    MasterUserSecret._create_secret = create_secret  # type: ignore[method-assign]
    SecretsManagerBackend.rotate_secret = rotate_secret  # type: ignore[method-assign]
    return NAME
