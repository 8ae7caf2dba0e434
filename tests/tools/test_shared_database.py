"""tools/shared_database.py on a recorded rds-data client: the SQL it sends, in order, with its
parameters; that a second run changes nothing; identifier quoting; the drop; a paused cluster
and a refused statement."""
from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from tools import shared_database
from tools.shared_database import IAM_MEMBER_QUERY, DataApi, Target, quote_ident

CLUSTER = "arn:aws:rds:us-east-1:123456789012:cluster:tap-shared-main-aurora"
SECRET = "arn:aws:secretsmanager:us-east-1:123456789012:secret:rds!cluster-abc-AbCdEf"
ENVIRON = {"TAP_REGION": "us-east-1", "TAP_CLUSTER_ARN": CLUSTER, "TAP_SECRET_ARN": SECRET,
           "TAP_DATABASE": "tap_pr12", "TAP_OWNER": "tap_pr12_owner", "TAP_APP": "tap_pr12_app"}
ROLE_QUERY = "SELECT 1 FROM pg_roles WHERE rolname = :name"
DATABASE_QUERY = "SELECT 1 FROM pg_database WHERE datname = :name"


class FakeDataApi:
    """An rds-data client over a made-up cluster: the roles and databases that exist, the
    members of rds_iam, the roles the master user is a member of, every request it received,
    errors to raise first and statements to refuse. Like RDS, it refuses the master's login
    once the master is a member of rds_iam through a role it belongs to."""

    def __init__(self, roles: set[str] | None = None, databases: set[str] | None = None,
                 errors: list[tuple[str, str]] | None = None,
                 iam: set[str] | None = None, refuse: str | None = None) -> None:
        self.roles = set(roles or ())
        self.databases = set(databases or ())
        self.iam = set(iam or ())
        self.master_of: set[str] = set()
        self.refuse = refuse  # statements starting so: refused as PostgreSQL would
        self.errors = list(errors or ())
        self.requests: list[dict[str, Any]] = []

    def execute_statement(self, **request: Any) -> dict[str, Any]:
        self.requests.append(request)
        if self.errors:
            code, message = self.errors.pop(0)
            raise ClientError({"Error": {"Code": code, "Message": message}}, "ExecuteStatement")
        if self.master_of & self.iam:
            raise ClientError({"Error": {"Code": "DatabaseErrorException",
                                         "Message": "FATAL: PAM authentication failed"}},
                              "ExecuteStatement")
        assert (request["resourceArn"], request["secretArn"]) == (CLUSTER, SECRET)
        sql = request["sql"]
        if self.refuse and sql.startswith(self.refuse):
            raise ClientError({"Error": {"Code": "DatabaseErrorException",
                                         "Message": "ERROR: must be owner of schema public"}},
                              "ExecuteStatement")
        name = next((p["value"]["stringValue"] for p in request.get("parameters", [])), None)
        found = {ROLE_QUERY: self.roles, DATABASE_QUERY: self.databases,
                 IAM_MEMBER_QUERY: self.iam}.get(sql)
        if found is not None:
            return {"records": [[{"longValue": 1}]] if name in found else []}
        words = [word.strip('"') for word in sql.split()]
        if words[:2] == ["CREATE", "ROLE"]:
            self.roles.add(words[2])
        elif words[:2] == ["CREATE", "DATABASE"]:
            self.databases.add(words[2])
        elif words[:2] == ["DROP", "DATABASE"]:
            self.databases.discard(words[2])
        elif words[:2] == ["DROP", "ROLE"]:
            self.roles.discard(words[2])
            self.iam.discard(words[2])
            self.master_of.discard(words[2])
        elif words[:4] == ["GRANT", "rds_iam", "TO", words[3]]:
            self.iam.add(words[3])
        elif words[:4] == ["REVOKE", "rds_iam", "FROM", words[3]]:
            self.iam.discard(words[3])
        elif words[0] == "GRANT" and words[2:] == ["TO", "CURRENT_USER"]:
            self.master_of.add(words[1])
        elif words[0] == "REVOKE" and words[2:] == ["FROM", "CURRENT_USER"]:
            self.master_of.discard(words[1])
        return {"numberOfRecordsUpdated": 0}

    def statements(self) -> list[tuple[str, str, str | None]]:
        """(database, sql, parameter) of every request."""
        return [(r["database"], r["sql"], next((p["value"]["stringValue"]
                                                for p in r.get("parameters", [])), None))
                for r in self.requests]


CREATE = [
    ("postgres", ROLE_QUERY, "tap_pr12_owner"),
    ("postgres", 'CREATE ROLE "tap_pr12_owner" LOGIN', None),
    ("postgres", ROLE_QUERY, "tap_pr12_app"),
    ("postgres", 'CREATE ROLE "tap_pr12_app" LOGIN', None),
    ("postgres", IAM_MEMBER_QUERY, "tap_pr12_owner"),
    ("postgres", 'GRANT "tap_pr12_owner" TO CURRENT_USER', None),
    ("postgres", DATABASE_QUERY, "tap_pr12"),
    ("postgres", 'CREATE DATABASE "tap_pr12" OWNER "tap_pr12_owner"', None),
    ("postgres", 'REVOKE ALL ON DATABASE "tap_pr12" FROM PUBLIC', None),
    ("postgres", 'GRANT CONNECT, TEMPORARY ON DATABASE "tap_pr12" TO "tap_pr12_app"', None),
    ("tap_pr12", 'ALTER SCHEMA public OWNER TO "tap_pr12_owner"', None),
    ("tap_pr12", "REVOKE CREATE ON SCHEMA public FROM PUBLIC", None),
    ("postgres", 'REVOKE "tap_pr12_owner" FROM CURRENT_USER', None),
    ("postgres", 'GRANT rds_iam TO "tap_pr12_owner"', None),
    ("postgres", 'GRANT rds_iam TO "tap_pr12_app"', None),
]


def run(action: str, client: FakeDataApi) -> tuple[int, list[str]]:
    lines: list[str] = []
    code = shared_database.main([action], environ=ENVIRON, client=client, out=lines.append)
    return code, lines


def test_create_sends_exactly_these_statements() -> None:
    client = FakeDataApi()
    code, lines = run("create", client)
    assert code == 0
    assert client.statements() == CREATE
    assert client.roles == {"tap_pr12_owner", "tap_pr12_app"}
    assert client.databases == {"tap_pr12"}
    assert (client.iam, client.master_of) == ({"tap_pr12_owner", "tap_pr12_app"}, set())
    # Queries carry their values as parameters; statements run on past a call's timeout.
    for request in client.requests:
        assert ("parameters" in request) != ("continueAfterTimeout" in request)
        assert request.get("continueAfterTimeout", True) is True
    assert lines == ["shared database: role tap_pr12_owner created",
                     "shared database: role tap_pr12_app created",
                     "shared database: database tap_pr12 created, owned by tap_pr12_owner",
                     "shared database: tap_pr12_app may connect to tap_pr12; tap_pr12_owner "
                     "owns it and its schema public; both log in through IAM only"]


def test_create_again_creates_nothing_and_keeps_the_master_out_of_rds_iam() -> None:
    """The owner leaves rds_iam before the master joins it, so the master's logins (the
    Data API's) go on working; both are as before at the end."""
    client = FakeDataApi(roles={"tap_pr12_owner", "tap_pr12_app"}, databases={"tap_pr12"},
                         iam={"tap_pr12_owner", "tap_pr12_app"})
    code, lines = run("create", client)
    assert code == 0
    sent = [sql for _, sql, _ in client.statements()]
    assert [sql for sql in sent if sql.startswith("CREATE")] == []
    expected = [sql for _, sql, _ in CREATE if not sql.startswith("CREATE")]
    grant = expected.index('GRANT "tap_pr12_owner" TO CURRENT_USER')
    assert sent == [*expected[:grant], 'REVOKE rds_iam FROM "tap_pr12_owner"',
                    *expected[grant:]]
    assert (client.iam, client.master_of) == ({"tap_pr12_owner", "tap_pr12_app"}, set())
    assert lines[:3] == ["shared database: role tap_pr12_owner exists",
                         "shared database: role tap_pr12_app exists",
                         "shared database: database tap_pr12 exists"]


def test_the_master_leaves_the_owner_role_when_a_step_fails() -> None:
    client = FakeDataApi(refuse="ALTER SCHEMA")
    code, lines = run("create", client)
    assert code == 1
    assert client.statements()[-1] == ("postgres", 'REVOKE "tap_pr12_owner" FROM CURRENT_USER',
                                       None)
    assert (client.master_of, client.iam) == (set(), set())
    assert lines[-1] == ("shared database: create FAILED: 'ALTER SCHEMA public OWNER TO "
                         "\"tap_pr12_owner\"' in tap_pr12: DatabaseErrorException: ERROR: must be "
                         "owner of schema public")


def test_drop_removes_the_database_then_the_roles_and_again_nothing() -> None:
    client = FakeDataApi(roles={"tap_pr12_owner", "tap_pr12_app", "tap_pr13_app"},
                         databases={"tap_pr12", "tap_pr13"},
                         iam={"tap_pr12_owner", "tap_pr12_app", "tap_pr13_app"})
    code, lines = run("drop", client)
    assert code == 0
    assert client.statements() == [
        ("postgres", DATABASE_QUERY, "tap_pr12"),
        ("postgres", ROLE_QUERY, "tap_pr12_owner"),
        ("postgres", IAM_MEMBER_QUERY, "tap_pr12_owner"),
        ("postgres", 'REVOKE rds_iam FROM "tap_pr12_owner"', None),
        ("postgres", 'GRANT "tap_pr12_owner" TO CURRENT_USER', None),
        ("postgres", 'DROP DATABASE "tap_pr12" WITH (FORCE)', None),
        ("postgres", ROLE_QUERY, "tap_pr12_app"),
        ("postgres", 'DROP ROLE "tap_pr12_app"', None),
        ("postgres", ROLE_QUERY, "tap_pr12_owner"),
        ("postgres", 'DROP ROLE "tap_pr12_owner"', None)]
    # The others' are kept; the master is a member of nothing left.
    assert (client.roles, client.databases, client.iam, client.master_of) == (
        {"tap_pr13_app"}, {"tap_pr13"}, {"tap_pr13_app"}, set())
    assert lines == ["shared database: database tap_pr12 dropped",
                     "shared database: role tap_pr12_app dropped",
                     "shared database: role tap_pr12_owner dropped"]
    again = FakeDataApi()
    code, lines = run("drop", again)
    assert code == 0
    assert [sql for _, sql, _ in again.statements()] == [DATABASE_QUERY, ROLE_QUERY, ROLE_QUERY]
    assert lines == ["shared database: database tap_pr12 was not there",
                     "shared database: role tap_pr12_app was not there",
                     "shared database: role tap_pr12_owner was not there"]


def test_identifiers_are_quoted_and_only_the_stack_s_names_pass() -> None:
    assert quote_ident("tap_pr12_owner") == '"tap_pr12_owner"'
    assert quote_ident("_a" + "b" * 61) == '"_a' + "b" * 61 + '"'
    for bad in ('tap"; DROP DATABASE postgres; --', "Tap_pr12", "tap-pr12", "1tap", "",
                "a" * 64, "tap pr12"):
        with pytest.raises(ValueError, match="is not a name the stack makes"):
            quote_ident(bad)
    lines: list[str] = []
    code = shared_database.main(["create"], environ={**ENVIRON, "TAP_APP": 'x"; DROP ROLE y'},
                                client=FakeDataApi(), out=lines.append)
    assert code == 2
    assert lines == ["shared_database.py create: 'x\"; DROP ROLE y' is not a name the stack "
                     "makes ([a-z_][a-z0-9_]*, at most 63 characters)"]


def test_a_paused_cluster_is_waited_for() -> None:
    resuming = ("DatabaseResumingException", "The Aurora Serverless v2 DB instance is resuming")
    client = FakeDataApi(errors=[resuming, resuming])
    waits: list[float] = []
    lines: list[str] = []
    api = DataApi(client, Target(CLUSTER, SECRET, "tap_pr12", "tap_pr12_owner", "tap_pr12_app"),
                  lines.append, sleep=waits.append)
    assert api.role_exists("tap_pr12_owner") is False
    assert len(client.requests) == 3 and waits == [5.0, 5.0]
    assert lines == ["shared database: the cluster is resuming (attempt 1); again in 5 s",
                     "shared database: the cluster is resuming (attempt 2); again in 5 s"]


def test_a_refused_statement_stops_with_its_message() -> None:
    client = FakeDataApi(errors=[("BadRequestException",
                                  'ERROR: permission denied to create role')])
    code, lines = run("create", client)
    assert code == 1
    assert len(client.requests) == 1
    assert lines == [f"shared database: create FAILED: {ROLE_QUERY!r} in postgres: "
                     "BadRequestException: ERROR: permission denied to create role"]


def test_usage_and_missing_settings() -> None:
    lines: list[str] = []
    assert shared_database.main(["migrate"], environ=ENVIRON, out=lines.append) == 2
    assert shared_database.main(["drop"], environ={**ENVIRON, "TAP_SECRET_ARN": ""},
                                out=lines.append) == 2
    assert lines == [
        "usage: shared_database.py create|drop   (settings in TAP_REGION, TAP_CLUSTER_ARN, "
        "TAP_SECRET_ARN, TAP_DATABASE, TAP_OWNER, TAP_APP)",
        "shared_database.py drop: TAP_SECRET_ARN not set"]
