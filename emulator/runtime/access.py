"""Where the runtime asks IAM: ``authorized(principal_arn, action, resource, context)``.

The task runner asks it before the execution role reads a task's secrets
(``secretsmanager:GetSecretValue``, ``ssm:GetParameters``) and the scheduler before a
schedule's role runs its task (``ecs:RunTask`` on the task definition, ``iam:PassRole`` on the
task's roles, with ``iam:PassedToService`` in the context). Each call returns
``(allowed, reason)``; a refusal's reason goes into the error AWS would give.

The decision is ``emulator/runtime/iam.py``'s policy evaluation over moto's IAM (identity
policies of the role, explicit deny, conditions, boundary).
"""
from __future__ import annotations

from typing import Any

from emulator.runtime import iam


def authorized(principal_arn: str, action: str, resource: str,
               context: dict[str, Any] | None = None) -> tuple[bool, str]:
    """Whether ``principal_arn`` (a role, or an assumed role of it) may perform ``action`` on
    ``resource`` given the request ``context`` (condition keys such as iam:PassedToService);
    and why."""
    decision = iam.authorized(principal_arn, action, resource, context)
    return decision.allowed, decision.reason
