"""A small IAM policy evaluator over moto's IAM backend, for the runtime's own checks.

moto answers IAM's API but decides nothing with it. The runtime has decisions to make that
AWS makes with IAM: may this task role connect to the database as ``tap_app``
(``rds-db:connect``), may this execution role read that secret, may the scheduler pass that
role. ``authorized(principal_arn, action, resource, context)`` answers them as AWS's policy
evaluation logic does for one account
(https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html):

- the principal's identity policies: for a role (or an STS session of it,
  ``arn:aws:sts::<account>:assumed-role/<role>/<session>``) its inline and attached managed
  policies; for a user also those of its groups;
- an explicit ``Deny`` that applies wins; otherwise an ``Allow`` that applies allows, and
  without one the request is implicitly denied;
- a permissions boundary, when the principal has one, and a session policy, when given (the
  policy passed to AssumeRole), must allow too: the result is the intersection;
- a statement applies when its ``Action`` (or ``NotAction``) and ``Resource`` (or
  ``NotResource``) match, with ``*`` and ``?`` wildcards (actions case-insensitive, resources
  case-sensitive, ``${key}`` policy variables taken from the context) and every condition
  holds: ``StringEquals``, ``StringNotEquals``, ``StringEqualsIgnoreCase``, ``StringLike``,
  ``StringNotLike``, ``ArnEquals``, ``ArnLike``, ``ArnNotEquals``, ``ArnNotLike`` and ``Bool``,
  each also with ``IfExists``. A condition key absent from the context, or an operator not
  listed here, makes the statement not apply (for an ``Allow`` that denies, for a ``Deny``
  that does not deny): the evaluator never allows what it cannot read.

Not modelled: resource-based policies, SCPs, ``Principal`` blocks (only identity policies are
evaluated), the set operators ``ForAnyValue``/``ForAllValues`` (a list value in the context
matches when any element does), numeric, date and IP operators.

Exposes ``Decision`` (``allowed``, ``reason``: a named tuple), ``authorized``,
``find_principal`` (a principal's policies) and ``evaluate`` (the same logic over given
documents).
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Iterable, Mapping, NamedTuple

from moto.iam.models import IAMBackend, Role, User, iam_backends

PARTITION = "aws"
Context = Mapping[str, "str | list[str]"]
Policy = tuple[str, Any]  # (a name to cite in reasons, the document: JSON text or dict)


class Decision(NamedTuple):
    """The answer to one request, with the reason a person can act on; unpacks as
    ``allowed, reason = authorized(...)``."""

    allowed: bool
    reason: str


def authorized(principal_arn: str, action: str, resource: str,
               context: Context | None = None, *, session_policy: Any = None) -> Decision:
    """Whether ``principal_arn`` (a role, an assumed-role session or a user of moto's IAM)
    may perform ``action`` on ``resource``, given the request ``context`` (condition keys)."""
    try:
        principal = find_principal(principal_arn)
    except LookupError as missing:
        return Decision(allowed=False, reason=str(missing))
    context = dict(context or {})
    # For a role's session, aws:PrincipalArn is the role's ARN, not the session's
    # (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html).
    context.setdefault("aws:PrincipalArn", principal.arn)
    context.setdefault("aws:PrincipalAccount", principal.account)
    identity, boundary = principal.policies, principal.boundary
    decision = evaluate(identity, action, resource, context)
    limits = [] if boundary is None else [("permissions boundary", boundary)]
    if session_policy:
        limits.append(("session policy", ("session policy", session_policy)))
    for label, policy in limits:
        if not decision.allowed:
            break
        limit = evaluate([policy], action, resource, context)
        if not limit.allowed:
            decision = Decision(allowed=False, reason=f"{limit.reason} ({label})")
    return Decision(allowed=decision.allowed, reason=f"{principal_arn}: {decision.reason}")


def evaluate(policies: Iterable[Policy], action: str, resource: str,
             context: Context) -> Decision:
    """Explicit deny, else allow, else implicit deny, over the statements of ``policies``."""
    keys = {key.lower(): value for key, value in context.items()}
    allowed_by = ""
    names = []
    for name, document in policies:
        names.append(name)
        for index, statement in enumerate(_statements(document)):
            if not _applies(statement, action, resource, keys):
                continue
            where = f"{name} statement {statement.get('Sid') or index}"
            if statement.get("Effect") == "Deny":
                return Decision(allowed=False,
                                reason=f"{action} on {resource} explicitly denied by {where}")
            if statement.get("Effect") == "Allow" and not allowed_by:
                allowed_by = where
    if allowed_by:
        return Decision(allowed=True, reason=f"{action} on {resource} allowed by {allowed_by}")
    return Decision(allowed=False,
                    reason=f"no statement allows {action} on {resource} (implicit deny; "
                           f"policies: {', '.join(names) or 'none'})")


@dataclass(frozen=True, kw_only=True)
class Principal:
    """An IAM role or user: its ARN (a session's role), account, policies and boundary."""

    arn: str
    account: str
    policies: list[Policy]
    boundary: Policy | None


def find_principal(principal_arn: str) -> Principal:
    """The role or user that ``principal_arn`` names (an ``assumed-role`` session ARN names
    its role) in moto's IAM; LookupError says what is missing."""
    match = re.fullmatch(r"arn:aws:(iam|sts)::(\d{12}):(role|user|assumed-role)/(.+)",
                         principal_arn)
    if match is None or (match.group(1) == "sts") != (match.group(3) == "assumed-role"):
        raise LookupError(f"{principal_arn} is not a role, user or assumed-role ARN")
    _, account, kind, rest = match.groups()
    backend: IAMBackend = iam_backends[account][PARTITION]
    if kind == "user":
        name = rest.split("/")[-1]
        user: User | None = backend.users.get(name)
        if user is None:
            raise LookupError(f"no IAM user {name} in account {account}")
        policies = _own_policies(user)
        for group in backend.get_groups_for_user(name):
            policies += _own_policies(group)
        # moto 5.2.5 keeps no permissions boundary for users (PutUserPermissionsBoundary).
        return Principal(arn=user.arn, account=account, policies=policies, boundary=None)
    name = rest.split("/")[0] if kind == "assumed-role" else rest.split("/")[-1]
    role: Role | None = next((role for role in backend.roles.values() if role.name == name),
                             None)
    if role is None:
        raise LookupError(f"no IAM role {name} in account {account}")
    return Principal(arn=role.arn, account=account, policies=_own_policies(role),
                     boundary=_boundary(backend, role.permissions_boundary_arn))


def _own_policies(holder: Role | User | Any) -> list[Policy]:
    policies: list[Policy] = [(f"inline policy {name}", document)
                              for name, document in holder.policies.items()]
    for arn, policy in holder.managed_policies.items():
        policies.append((f"managed policy {arn}", _default_document(policy)))
    return policies


def _boundary(backend: IAMBackend, arn: str | None) -> Policy | None:
    if not arn:
        return None
    policy = backend.managed_policies.get(arn)
    if policy is None:  # AWS refuses to set a boundary that does not exist
        return (f"permissions boundary {arn} (missing)", {"Statement": []})
    return (f"permissions boundary {arn}", _default_document(policy))


def _default_document(policy: Any) -> str:
    return next(version.document for version in policy.versions
                if version.version_id == policy.default_version_id)


def _statements(document: Any) -> list[dict[str, Any]]:
    parsed = json.loads(document) if isinstance(document, str) else document
    statements = parsed.get("Statement", [])
    return [statements] if isinstance(statements, dict) else list(statements)


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _applies(statement: dict[str, Any], action: str, resource: str,
             context: dict[str, Any]) -> bool:
    if "Action" in statement:
        actions_match = any(_matches(pattern, action, ignore_case=True)
                            for pattern in _as_list(statement["Action"]))
    elif "NotAction" in statement:
        actions_match = not any(_matches(pattern, action, ignore_case=True)
                                for pattern in _as_list(statement["NotAction"]))
    else:
        return False
    if not actions_match:
        return False
    if "Resource" in statement:
        patterns = [_substitute(pattern, context) for pattern in _as_list(statement["Resource"])]
        resources_match = any(pattern is not None and _matches(pattern, resource)
                              for pattern in patterns)
    elif "NotResource" in statement:
        patterns = [_substitute(pattern, context)
                    for pattern in _as_list(statement["NotResource"])]
        if any(pattern is None for pattern in patterns):
            return False
        resources_match = not any(_matches(str(pattern), resource) for pattern in patterns)
    else:
        return False
    return resources_match and all(
        _condition_holds(operator, block, context)
        for operator, block in statement.get("Condition", {}).items())


def _matches(pattern: str, value: str, *, ignore_case: bool = False) -> bool:
    """IAM wildcards: ``*`` any run of characters (``:`` and ``/`` too), ``?`` one."""
    expression = "".join(".*" if char == "*" else "." if char == "?" else re.escape(char)
                         for char in pattern)
    return re.fullmatch(expression, value,
                        re.DOTALL | (re.IGNORECASE if ignore_case else 0)) is not None


def _substitute(pattern: str, context: dict[str, Any]) -> str | None:
    """``${key}`` policy variables from the context; None when one is absent."""
    missing = False

    def value(match: re.Match[str]) -> str:
        nonlocal missing
        found = context.get(match.group(1).lower())
        if found is None or isinstance(found, list):
            missing = True
            return ""
        return str(found)

    substituted = re.sub(r"\$\{([^}]+)\}", value, pattern)
    return None if missing else substituted


def _arn_matches(pattern: str, arn: str) -> bool:
    """ArnLike/ArnEquals: each of the six colon-separated parts matched on its own."""
    pattern_parts, arn_parts = pattern.split(":", 5), arn.split(":", 5)
    return len(pattern_parts) == len(arn_parts) == 6 and all(
        _matches(part, value) for part, value in zip(pattern_parts, arn_parts))


_OPERATORS = {
    "stringequals": lambda expected, actual: expected == actual,
    "stringnotequals": lambda expected, actual: expected != actual,
    "stringequalsignorecase": lambda expected, actual: expected.lower() == actual.lower(),
    "stringlike": _matches,
    "stringnotlike": lambda expected, actual: not _matches(expected, actual),
    "arnequals": _arn_matches,
    "arnlike": _arn_matches,
    "arnnotequals": lambda expected, actual: not _arn_matches(expected, actual),
    "arnnotlike": lambda expected, actual: not _arn_matches(expected, actual),
    "bool": lambda expected, actual: expected.lower() == actual.lower(),
}
_NEGATED = {"stringnotequals", "stringnotlike", "arnnotequals", "arnnotlike"}


def _condition_holds(operator: str, block: dict[str, Any], context: dict[str, Any]) -> bool:
    name = operator.lower()
    if_exists = name.endswith("ifexists")
    name = name.removesuffix("ifexists")
    compare = _OPERATORS.get(name)
    if compare is None:
        return False
    for key, expected_values in block.items():
        actual = context.get(key.lower())
        if actual is None:
            if if_exists:
                continue
            return False
        expected = [str(value) for value in _as_list(expected_values)]
        actual_values = [str(value) for value in _as_list(actual)]
        if name in _NEGATED:  # none of the expected values may match
            holds = all(compare(value, seen) for value in expected for seen in actual_values)
        else:
            holds = any(compare(value, seen) for value in expected for seen in actual_values)
        if not holds:
            return False
    return True
