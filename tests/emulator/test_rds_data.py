"""The RDS Data API (emulator/moto_ext/rds_data.py, emulator/runtime/data_api.py) through
boto3's rds-data client, as tools/shared_database.py calls it: statements run on the
cluster's PostgreSQL stand-in as the secret's user, answered in the API's shapes; AWS's
refusals (HTTP endpoint off, IAM, secret, SQL). Plain moto answers a canned empty result
whatever it is asked. Needs root, as test_standins.py (the emulator fixture is that
module's)."""
# pylint: disable=redefined-outer-name,unused-import
from __future__ import annotations

import json
import uuid
from typing import Any, Callable

import pytest
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from tests.emulator.test_standins import Running, create_cluster, emulator

ALLOW_BOTH = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": "rds-data:ExecuteStatement", "Resource": "*"},
    {"Effect": "Allow", "Action": "secretsmanager:GetSecretValue", "Resource": "*"}]}


def error(caught: pytest.ExceptionInfo[ClientError]) -> tuple[str, str]:
    return caught.value.response["Error"]["Code"], caught.value.response["Error"]["Message"]


@pytest.fixture(scope="module")
def cluster(emulator: Running) -> dict[str, Any]:
    """A cluster with the Data API on (at create, as the provider asks for it)."""
    return create_cluster(emulator, EnableHttpEndpoint=True)


def execute(emulator: Running, cluster: dict[str, Any], sql: str, keys: Credentials | None = None,
            **extra: Any) -> dict[str, Any]:
    answer = emulator.aws("rds-data", keys).execute_statement(
        resourceArn=cluster["DBClusterArn"], secretArn=cluster["MasterUserSecret"]["SecretArn"],
        database="tap", sql=sql, **extra)
    answer.pop("ResponseMetadata")
    return answer  # type: ignore[no-any-return]


def test_plain_moto_answers_without_running_anything(plain_client: Callable[..., Any]) -> None:
    answer = plain_client("rds-data").execute_statement(
        resourceArn="arn:aws:rds:us-east-1:123456789012:cluster:no-such-cluster",
        secretArn="no-such-secret", sql="DROP DATABASE everything")
    assert answer["records"] == []


def test_a_select_answers_typed_records_and_metadata(emulator: Running,
                                                     cluster: dict[str, Any]) -> None:
    answer = execute(emulator, cluster, "SELECT 1 AS one, 'it''s' AS text, NULL::int AS nothing, "
                     "2.5::float8 AS half, true AS yes, 12.30::numeric AS money, "
                     "'\\x0102'::bytea AS raw", includeResultMetadata=True)
    assert answer["records"] == [[{"longValue": 1}, {"stringValue": "it's"}, {"isNull": True},
                                  {"doubleValue": 2.5}, {"booleanValue": True},
                                  {"stringValue": "12.30"}, {"blobValue": b"\x01\x02"}]]
    assert answer["numberOfRecordsUpdated"] == 0
    assert [(column["name"], column["typeName"], column["type"])
            for column in answer["columnMetadata"]] == [
        ("one", "int4", 4), ("text", "text", 12), ("nothing", "int4", 4),
        ("half", "float8", 8), ("yes", "bool", -7), ("money", "numeric", 2),
        ("raw", "bytea", -2)]
    assert "columnMetadata" not in execute(emulator, cluster, "SELECT 1")


def test_ddl_dml_and_named_parameters(emulator: Running, cluster: dict[str, Any]) -> None:
    role = f"tap_{uuid.uuid4().hex[:6]}_app"
    assert execute(emulator, cluster, f'CREATE ROLE "{role}" LOGIN') == {
        "numberOfRecordsUpdated": 0, "generatedFields": []}
    # The master user is no superuser: it owns the new database through the role only
    # once it is a member of it (PostgreSQL's CREATE DATABASE ... OWNER rule).
    execute(emulator, cluster, f'GRANT "{role}" TO tap_admin')
    assert execute(emulator, cluster, f'CREATE DATABASE "{role}_db" OWNER "{role}"') == {
        "numberOfRecordsUpdated": 0, "generatedFields": []}
    found = execute(emulator, cluster, "SELECT rolname, rolcanlogin FROM pg_roles WHERE "
                    "rolname = :role AND 1 = :one::int -- :not_a_parameter",
                    parameters=[{"name": "role", "value": {"stringValue": role}},
                                {"name": "one", "value": {"longValue": 1}}])
    assert found["records"] == [[{"stringValue": role}, {"booleanValue": True}]]
    assert execute(emulator, cluster, "SELECT datname FROM pg_database WHERE datname = :name",
                   parameters=[{"name": "name", "value": {"stringValue": "missing"}}]
                   )["records"] == []
    execute(emulator, cluster, "CREATE TABLE IF NOT EXISTS data_api_rows (line text)")
    assert execute(emulator, cluster, "INSERT INTO data_api_rows VALUES (:a), (:b)",
                   parameters=[{"name": "a", "value": {"stringValue": "x"}},
                               {"name": "b", "value": {"isNull": True}}]
                   )["numberOfRecordsUpdated"] == 2
    assert execute(emulator, cluster, "DELETE FROM data_api_rows")["numberOfRecordsUpdated"] == 2
    assert execute(emulator, cluster, "SHOW server_version_num")["records"][0][0][
        "stringValue"].startswith("15")
    execute(emulator, cluster, f'DROP DATABASE "{role}_db"')
    execute(emulator, cluster, f'DROP ROLE "{role}"')


@pytest.mark.parametrize(("sql", "expected"), [
    ("SELECT * FROM no_such_table",
     'ERROR: relation "no_such_table" does not exist; SQLState: 42P01'),
    ("CREATE ROLE tap_admin", 'ERROR: role "tap_admin" already exists; SQLState: 42710'),
    ("SELECT 1; DROP TABLE data_api_rows", "Multistatements aren't supported."),
    # A psql meta-command in the SQL is sent to the server as text, never run by psql.
    ("SELECT 1 \\! touch /tmp/tap-data-api-escape",
     'ERROR: syntax error at or near "\\"; SQLState: 42601'),
    ("SELECT :missing", "No value specified for parameter: missing"),
])
def test_the_databases_refusals(emulator: Running, cluster: dict[str, Any], sql: str,
                                expected: str) -> None:
    with pytest.raises(ClientError) as caught:
        execute(emulator, cluster, sql)
    assert error(caught) == ("DatabaseErrorException", expected)


def test_the_http_endpoint_must_be_on(emulator: Running) -> None:
    rds = emulator.aws("rds")
    closed = create_cluster(emulator)
    assert closed["HttpEndpointEnabled"] is False
    with pytest.raises(ClientError) as caught:
        execute(emulator, closed, "SELECT 1")
    assert error(caught) == (
        "HttpEndpointNotEnabledException",
        f"HttpEndpoint is not enabled for cluster {closed['DBClusterArn']}. Please refer to "
        "https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/data-api.html"
        "#data-api.troubleshooting")
    assert rds.enable_http_endpoint(ResourceArn=closed["DBClusterArn"])[
        "HttpEndpointEnabled"] is True
    assert rds.describe_db_clusters(DBClusterIdentifier=closed["DBClusterIdentifier"])[
        "DBClusters"][0]["HttpEndpointEnabled"] is True
    assert execute(emulator, closed, "SELECT 1")["records"] == [[{"longValue": 1}]]
    rds.disable_http_endpoint(ResourceArn=closed["DBClusterArn"])
    with pytest.raises(ClientError) as caught:
        execute(emulator, closed, "SELECT 1")
    assert error(caught)[0] == "HttpEndpointNotEnabledException"
    rds.delete_db_cluster(DBClusterIdentifier=closed["DBClusterIdentifier"],
                          SkipFinalSnapshot=True)


def test_a_secret_that_is_not_the_clusters(emulator: Running, cluster: dict[str, Any]) -> None:
    secrets = emulator.aws("secretsmanager")
    wrong = secrets.create_secret(Name=f"wrong-{uuid.uuid4().hex[:6]}", SecretString=json.dumps(
        {"username": "tap_admin", "password": "not-the-master-password"}))["ARN"]
    shapeless = secrets.create_secret(Name=f"shapeless-{uuid.uuid4().hex[:6]}",
                                      SecretString="just a string")["ARN"]
    data = emulator.aws("rds-data")
    cases = {
        wrong: ("DatabaseErrorException",
                'FATAL: password authentication failed for user "tap_admin"'),
        shapeless: ("InvalidSecretException", "The Secrets Manager secret used with the "
                                              "request isn't valid: it holds no username and "
                                              "password"),
        f"{wrong}-gone": ("SecretsErrorException",
                          f"Secrets Manager can't find the specified secret: {wrong}-gone"),
    }
    for secret, expected in cases.items():
        with pytest.raises(ClientError) as caught:
            data.execute_statement(resourceArn=cluster["DBClusterArn"], secretArn=secret,
                                   sql="SELECT 1")
        assert error(caught) == expected


def role_keys(emulator: Running, policy: dict[str, Any]) -> tuple[str, Credentials]:
    """An IAM role with ``policy``, assumed: its session ARN and keys."""
    iam, name = emulator.aws("iam"), f"data-api-{uuid.uuid4().hex[:6]}"
    iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                "Principal": {"AWS": "*"}}]}))
    iam.put_role_policy(RoleName=name, PolicyName="data-api", PolicyDocument=json.dumps(policy))
    assumed = emulator.aws("sts").assume_role(RoleArn=f"arn:aws:iam::123456789012:role/{name}",
                                              RoleSessionName="deploy")
    keys = assumed["Credentials"]
    return assumed["AssumedRoleUser"]["Arn"], Credentials(
        keys["AccessKeyId"], keys["SecretAccessKey"], keys["SessionToken"])


def test_the_callers_iam_policy(emulator: Running, cluster: dict[str, Any]) -> None:
    arn, keys = role_keys(emulator, ALLOW_BOTH)
    assert execute(emulator, cluster, "SELECT current_user", keys)["records"] == [
        [{"stringValue": "tap_admin"}]]
    arn, keys = role_keys(emulator, {"Version": "2012-10-17", "Statement": [
        ALLOW_BOTH["Statement"][1]]})
    with pytest.raises(ClientError) as caught:
        execute(emulator, cluster, "SELECT 1", keys)
    assert error(caught) == (
        "AccessDeniedException",
        f"User: {arn} is not authorized to perform: rds-data:ExecuteStatement on resource: "
        f"{cluster['DBClusterArn']} because no identity-based policy allows the "
        "rds-data:ExecuteStatement action")
    arn, keys = role_keys(emulator, {"Version": "2012-10-17", "Statement": [
        ALLOW_BOTH["Statement"][0]]})
    with pytest.raises(ClientError) as caught:
        execute(emulator, cluster, "SELECT 1", keys)
    assert error(caught) == (
        "ForbiddenException",
        f"User: {arn} is not authorized to perform: secretsmanager:GetSecretValue on "
        f"resource: {cluster['MasterUserSecret']['SecretArn']}")
