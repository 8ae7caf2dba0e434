"""The RDS Data API (``rds-data`` ExecuteStatement) on the cluster's real database, and the
HTTP endpoint it needs.

moto 5.2.5's ``rds-data`` executes nothing: ExecuteStatement answers results queued in
advance, or none, whatever the cluster, the secret or the SQL. And its clusters keep
``EnableHttpEndpoint`` only for Aurora Serverless v1 engine versions, while the Data API
serves "Aurora PostgreSQL - Serverless v2, provisioned, and Serverless v1"
(https://docs.aws.amazon.com/rdsdataservice/latest/APIReference/Welcome.html), enabled at
create (``EnableHttpEndpoint``) or with the EnableHttpEndpoint / DisableHttpEndpoint actions,
"This operation applies only to Aurora PostgreSQL Serverless v2 and provisioned DB
clusters" (https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_EnableHttpEndpoint.html),
which moto lacks. Here:

- an ``aurora-postgresql`` cluster keeps ``EnableHttpEndpoint`` in any engine mode, and
  EnableHttpEndpoint / DisableHttpEndpoint set it (``DBClusterNotFoundFault`` for an
  unknown ARN);
- ExecuteStatement checks what AWS checks, in this order: the caller may
  ``rds-data:ExecuteStatement`` on the cluster ARN (``AccessDeniedException`` in AWS's
  words otherwise) and ``secretsmanager:GetSecretValue`` on the secret (the Data API reads
  the secret with the caller's permissions: "Authorizing access to RDS Data API",
  https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/data-api.access.html); the
  cluster exists with its HTTP endpoint on (``HttpEndpointNotEnabledException``, "HttpEndpoint
  is not enabled for cluster ...": an ARN that is not exactly a cluster's gets the same
  answer, as the troubleshooting page says); the secret exists
  (``SecretsErrorException``) and holds ``username`` and ``password``
  (``InvalidSecretException``); then the statement runs on the cluster's stand-in as the
  secret's user (``emulator/runtime/data_api.py``), the database's refusal, or the
  login's, as ``DatabaseErrorException`` "ERROR: <message>; SQLState: <code>".
  ``BadRequestException`` is "deprecated" in the API model (botocore's rds-data service
  model); the current one answers a SQL error with ``DatabaseErrorException``. A caller
  whose access key is neither an IAM user's nor an STS session's of moto (the harness's
  ``testing`` keys) is the account's root user, allowed everything, as moto treats it.
- Without the runtime (no ``--runtime-dir``), no database runs: ExecuteStatement answers
  ``DatabaseUnavailableException``.

Not followed: transactions (``transactionId``, BeginTransaction...), BatchExecuteStatement,
``formatRecordsAs``, ``resultSetOptions``, the 1 MiB response limit; the error messages of
the secret and of the policy checks are the emulator's wording where AWS documents none.

Exposes ``install()`` and ``EXECUTORS`` (where the runtime registers the callable that runs a
statement on a cluster's stand-in).
"""
from __future__ import annotations

# The handlers below become methods of moto's response classes.
# pylint: disable=protected-access

import base64
import json
import re
from typing import Any, Callable

from moto.core.exceptions import JsonRESTError
from moto.core.responses import ActionResult
from moto.iam.models import iam_backends
from moto.rds.exceptions import DBClusterNotFoundError
from moto.rds.models import DBCluster, rds_backends
from moto.rds.responses import RDSResponse
from moto.rdsdata.responses import RDSDataServiceResponse
from moto.secretsmanager.models import secretsmanager_backends
from moto.sts.models import sts_backends

from emulator.runtime.iam import authorized

NAME = "rds-data"
ENGINE = "aurora-postgresql"
TROUBLESHOOTING = ("https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/"
                   "data-api.html#data-api.troubleshooting")
# Set by the runtime (emulator/runtime/databases.py): runs one statement on a cluster's
# stand-in, ``executor(cluster_arn, user=, password=, database=, sql=, parameters=)``.
EXECUTORS: list[Callable[..., dict[str, Any]]] = []
_CREDENTIAL = re.compile(r"Credential=([A-Z0-9]+)/")


class DataApiError(JsonRESTError):
    """An rds-data error: its code as the ``__type``, HTTP status per the API model."""

    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(code, message)
        self.code = status


def _caller(response: RDSDataServiceResponse) -> tuple[str | None, Any]:
    """The principal that signed the request and its session policy; None for a key moto
    does not know (the account's root)."""
    match = _CREDENTIAL.search(response.headers.get("Authorization", ""))
    if match is None:
        return None, None
    key, account = match.group(1), response.current_account
    session = sts_backends[account]["aws"].get_assumed_role_from_access_key(key)
    if session is not None:
        return session.arn, session.policy
    user = iam_backends[account]["aws"].get_user_from_access_key_id(key)
    return (user.arn, None) if user is not None else (None, None)


def _allowed(principal: str | None, policy: Any, action: str, resource: str) -> bool:
    return principal is None or authorized(principal, action, resource,
                                           session_policy=policy).allowed


def _cluster(arn: str) -> DBCluster | None:
    parts = arn.split(":")
    if len(parts) != 7 or parts[:3] != ["arn", "aws", "rds"] or parts[5] != "cluster":
        return None
    cluster = rds_backends[parts[4]][parts[3]].clusters.get(parts[6])
    return cluster if cluster is not None and cluster.db_cluster_arn == arn else None


def _secret(arn: str) -> tuple[str, str]:
    parts = arn.split(":")
    if len(parts) < 7:
        raise DataApiError("SecretsErrorException",
                           f"Secrets Manager can't find the specified secret: {arn}")
    backend = secretsmanager_backends[parts[4]][parts[3]]
    if not backend._is_valid_identifier(arn):
        raise DataApiError("SecretsErrorException",
                           f"Secrets Manager can't find the specified secret: {arn}")
    try:
        value = json.loads(backend.get_secret_value(arn, None, "AWSCURRENT")["SecretString"])
        return str(value["username"]), str(value["password"])
    except (KeyError, TypeError, ValueError) as error:
        raise DataApiError("InvalidSecretException", "The Secrets Manager secret used with the "
                           "request isn't valid: it holds no username and password") from error


def execute_statement(self: RDSDataServiceResponse) -> str:
    """ExecuteStatement: the checks of the module docstring, then the statement."""
    params = json.loads(self.body or "{}")
    cluster_arn, secret_arn = params.get("resourceArn", ""), params.get("secretArn", "")
    principal, policy = _caller(self)
    if not _allowed(principal, policy, "rds-data:ExecuteStatement", cluster_arn):
        raise DataApiError("AccessDeniedException",
                           f"User: {principal} is not authorized to perform: "
                           f"rds-data:ExecuteStatement on resource: {cluster_arn} because no "
                           "identity-based policy allows the rds-data:ExecuteStatement action",
                           403)
    if not _allowed(principal, policy, "secretsmanager:GetSecretValue", secret_arn):
        raise DataApiError("ForbiddenException",
                           f"User: {principal} is not authorized to perform: "
                           f"secretsmanager:GetSecretValue on resource: {secret_arn}", 403)
    cluster = _cluster(cluster_arn)
    if cluster is None or not cluster.enable_http_endpoint:
        raise DataApiError("HttpEndpointNotEnabledException",
                           f"HttpEndpoint is not enabled for cluster {cluster_arn}. Please "
                           f"refer to {TROUBLESHOOTING}")
    user, password = _secret(secret_arn)
    if not EXECUTORS:
        raise DataApiError("DatabaseUnavailableException",
                           "The writer instance in the DB cluster isn't available (the "
                           "emulator runs no database without --runtime-dir)", 504)
    answer = EXECUTORS[0](cluster_arn, user=user, password=password,
                          database=params.get("database") or cluster.database_name
                          or "postgres", sql=params.get("sql", ""),
                          parameters=params.get("parameters") or [])
    if "error" in answer:
        raise DataApiError(*answer["error"])
    result: dict[str, Any] = {"numberOfRecordsUpdated": answer["updated"],
                              "generatedFields": []}
    if answer["has_rows"]:
        result["records"] = [[_json_field(value) for value in row]
                             for row in answer["records"]]
        if params.get("includeResultMetadata"):
            result["columnMetadata"] = answer["column_metadata"]
    return json.dumps(result)


def _json_field(value: dict[str, Any]) -> dict[str, Any]:
    if "blobValue" in value:  # bytes travel base64-encoded in JSON
        return {"blobValue": base64.b64encode(value["blobValue"]).decode()}
    return value


def _http_endpoint(self: RDSResponse, enabled: bool) -> ActionResult:
    arn = self._get_param("ResourceArn")
    cluster = _cluster(arn)
    if cluster is None:
        raise DBClusterNotFoundError(arn)
    cluster._enable_http_endpoint = enabled
    return ActionResult({"ResourceArn": arn, "HttpEndpointEnabled": enabled})


def install() -> str:
    """Replace moto's ExecuteStatement, widen the cluster's HTTP endpoint setting, add the
    RDS actions."""
    RDSDataServiceResponse.execute_statement = execute_statement  # type: ignore
    current = DBCluster.enable_http_endpoint  # a property of moto's
    setter = current.fset  # type: ignore[attr-defined]
    if not getattr(setter, "tap_extended", False):
        def enable_http_endpoint(self: DBCluster, value: bool | None) -> None:
            setter(self, value)
            if self.engine == ENGINE and value is not None:
                self._enable_http_endpoint = bool(value)
        enable_http_endpoint.tap_extended = True  # type: ignore[attr-defined]
        DBCluster.enable_http_endpoint = property(  # type: ignore[method-assign,assignment]
            current.fget, enable_http_endpoint)  # type: ignore[attr-defined]
    RDSResponse.enable_http_endpoint = (  # type: ignore[attr-defined]
        lambda self: _http_endpoint(self, True))
    RDSResponse.disable_http_endpoint = (  # type: ignore[attr-defined]
        lambda self: _http_endpoint(self, False))
    return NAME
