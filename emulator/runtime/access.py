"""Where the runtime asks IAM: ``authorized(principal_arn, action, resource, context)``.

The task runner asks it before the execution role reads a task's secrets
(``secretsmanager:GetSecretValue``, ``ssm:GetParameters``) and the scheduler before a
schedule's role runs its task (``ecs:RunTask`` on the task definition, ``iam:PassRole`` on the
task's roles, with ``iam:PassedToService`` in the context). Each call returns
``(allowed, reason)``; a refusal's reason goes into the error AWS would give.

NOT WIRED YET: the policy evaluator (``emulator/runtime/iam.py``) is being written by another
helper; until the lead wires it here, this function refuses nothing.
"""
from __future__ import annotations

from typing import Any


def authorized(principal_arn: str, action: str, resource: str,
               context: dict[str, Any] | None = None) -> tuple[bool, str]:
    """Whether ``principal_arn`` (a role, or an assumed role of it) may perform ``action`` on
    ``resource`` given the request ``context``; and why. Refuses nothing until iam.py is
    wired (see the module docstring)."""
    del context  # the evaluator's: condition keys such as iam:PassedToService
    return True, f"{principal_arn} {action} {resource}: not evaluated (iam.py not wired yet)"
