"""Secrets Manager: a name scheduled for deletion is not free for CreateSecret.

After DeleteSecret with a recovery window (7 to 30 days, 30 by default) AWS keeps the
secret, and its name, until the window ends or RestoreSecret cancels the deletion;
CreateSecret with that name fails with ``InvalidRequestException`` "You can't create
this secret because a secret with this name is already scheduled for deletion." (the
first cause the API reference gives for InvalidRequestException; message as AWS returns
it, e.g. https://github.com/aws-ia/terraform-aws-eks-blueprints/issues/1733).
ForceDeleteWithoutRecovery frees the name at once. moto 5.2.5 keeps the name too, but
answers ``ResourceExistsException`` "... already exists", as for a live secret. The
provider only retries the AWS error (it waits for a forced deletion to finish), so the
error code matters. Here CreateSecret answers as AWS does.

https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_CreateSecret.html
https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_DeleteSecret.html
"""
from __future__ import annotations

from typing import Any

from moto.secretsmanager.exceptions import InvalidRequestException
from moto.secretsmanager.models import SecretsManagerBackend

NAME = "secretsmanager-scheduled-deletion"
SCHEDULED = ("You can't create this secret because a secret with this name is already "
             "scheduled for deletion.")


def install() -> str:
    """Make CreateSecret refuse a name whose secret is scheduled for deletion."""
    create = SecretsManagerBackend.create_secret
    if not getattr(create, "tap_extended", False):
        def create_secret(self: SecretsManagerBackend, name: str, *args: Any,
                          **kwargs: Any) -> str:
            existing = self.secrets.get(name)
            if existing is not None and existing.is_deleted():
                raise InvalidRequestException(SCHEDULED)
            return create(self, name, *args, **kwargs)
        create_secret.tap_extended = True  # type: ignore[attr-defined]
        SecretsManagerBackend.create_secret = create_secret  # type: ignore[method-assign]
    return NAME
