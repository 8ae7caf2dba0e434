"""A container's ``secrets``, resolved as ECS resolves them when a task starts.

``resolve(secrets, ...)`` reads each ``valueFrom`` with the execution role, from the
emulator's Secrets Manager or SSM Parameter Store (moto's backends directly):

- ``arn:aws:secretsmanager:<region>:<account>:secret:<name>[-AbCdEf]`` - the whole secret
  string; with ``:<json-key>:<version-stage>:<version-id>`` after the ARN, one key of a JSON
  secret and/or a version by stage or id (an empty field means the default: whole secret,
  AWSCURRENT). A JSON value is given as Go's ``%v`` prints it (the agent's Sprintf): strings
  as they are, ``true``, numbers in their shortest form;
- ``arn:aws:ssm:<region>:<account>:parameter/<name>``, or the parameter's name in the task's
  region: the parameter's value (SecureString decrypted).

Sources: "Pass Secrets Manager secrets through Amazon ECS environment variables" and "Pass
Systems Manager parameters..." (ECS developer guide: a name means a Parameter Store parameter;
a Secrets Manager secret is given by ARN,
https://docs.aws.amazon.com/AmazonECS/latest/developerguide/secrets-envvar-secrets-manager.html),
the agent's ``agent/asm/asm.go`` (github.com/aws/amazon-ecs-agent) for the JSON key, and
https://repost.aws/knowledge-center/ecs-unable-to-pull-secrets for the reasons.

A secret that cannot be read raises ``SecretError`` whose text is ECS's stopped reason
(``ResourceInitializationError: unable to pull secrets or registry auth: execution resource
retrieval failed: ...``, as the "Why can't my ECS task pull secrets" knowledge-center article
and the agent word it); the task then never starts. The execution role must be allowed to
read each one (``emulator.runtime.access.authorized``).
"""
from __future__ import annotations

import json
import uuid
from typing import Any

from moto.secretsmanager.models import secretsmanager_backends
from moto.ssm.models import ssm_backends

from emulator.runtime.access import authorized

PREFIX = ("ResourceInitializationError: unable to pull secrets or registry auth: execution "
          "resource retrieval failed: ")


class SecretError(RuntimeError):
    """A secret the task cannot get; ``str()`` is ECS's stopped reason."""


def _go_value(value: Any) -> str:
    """``fmt.Sprintf("%v", value)`` of a decoded JSON value (the agent's formatting)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        number = float(value)
        return str(int(number)) if number.is_integer() and abs(number) < 1e21 else repr(number)
    if isinstance(value, str):
        return value
    return json.dumps(value)  # objects and arrays: Go prints map[...] / [...]; JSON here


def _asm_error(arn: str, code: str, message: str) -> SecretError:
    return SecretError(
        f"{PREFIX}unable to retrieve secret from asm: service call has been retried 1 time(s): "
        f"failed to fetch secret {arn} from secrets manager: operation error Secrets Manager: "
        f"GetSecretValue, https response error StatusCode: 400, RequestID: {uuid.uuid4()}, "
        f"api error {code}: {message}")


def _from_secrets_manager(value_from: str, execution_role: str) -> str:
    parts = value_from.split(":")
    if len(parts) not in (7, 10) or parts[5] != "secret":
        raise SecretError(
            f"{PREFIX}unable to retrieve secret from asm: trying to retrieve secret with value "
            f"{value_from} resulted in error: an invalid ARN format for the AWS Secrets Manager "
            "secret was specified. Specify a valid ARN and try again.")
    arn = ":".join(parts[:7])
    json_key, stage, version_id = (parts[7:] + ["", "", ""])[:3]
    allowed, reason = authorized(execution_role, "secretsmanager:GetSecretValue", arn)
    if not allowed:
        raise _asm_error(arn, "AccessDeniedException",
                         f"User: {execution_role} is not authorized to perform: "
                         f"secretsmanager:GetSecretValue on resource: {arn} ({reason})")
    backend = secretsmanager_backends[parts[4]][parts[3]]
    try:
        answer = backend.get_secret_value(arn, version_id or None, stage or None)
    except Exception as error:  # pylint: disable=broad-exception-caught
        # moto's errors carry the AWS code and message; anything else is our own failure.
        raise _asm_error(arn, getattr(error, "error_type", type(error).__name__),
                         getattr(error, "message", str(error))) from error
    secret = answer.get("SecretString", "")
    if not json_key:
        return str(secret)
    try:
        document = json.loads(secret)
    except json.JSONDecodeError as error:
        raise SecretError(f"{PREFIX}unable to retrieve secret from asm: service call has been "
                          f"retried 1 time(s): {error}") from error
    if not isinstance(document, dict) or json_key not in document:
        raise SecretError(f"{PREFIX}unable to retrieve secret from asm: service call has been "
                          "retried 1 time(s): retrieved secret from Secrets Manager did not "
                          f"contain json key {json_key}")
    return _go_value(document[json_key])


def _from_parameter_store(value_from: str, execution_role: str, account: str,
                          region: str) -> str:
    if value_from.startswith("arn:"):
        parts = value_from.split(":", 5)
        account, region, arn = parts[4], parts[3], value_from
    else:
        arn = f"arn:aws:ssm:{region}:{account}:parameter/{value_from.lstrip('/')}"
    allowed, reason = authorized(execution_role, "ssm:GetParameters", arn)
    # moto's get_parameter takes a name or an ARN (it strips the ARN itself).
    parameter = ssm_backends[account][region].get_parameter(value_from) if allowed else None
    if parameter is None:
        detail = "" if allowed else f" ({reason})"
        raise SecretError(f"{PREFIX}unable to retrieve secrets from ssm: service call has been "
                          f"retried 1 time(s): invalid ssm parameters: {value_from}{detail}")
    return str(parameter.decrypt(parameter.value))  # moto stores a SecureString encrypted


def resolve(secrets: list[dict[str, str]], *, execution_role: str, account: str,
            region: str) -> dict[str, str]:
    """Name -> value of every secret, or SecretError for the first that cannot be read."""
    values: dict[str, str] = {}
    for secret in secrets:
        value_from = secret["valueFrom"]
        if value_from.startswith("arn:") and value_from.split(":")[2] == "secretsmanager":
            values[secret["name"]] = _from_secrets_manager(value_from, execution_role)
        else:
            values[secret["name"]] = _from_parameter_store(value_from, execution_role,
                                                           account, region)
    return values
