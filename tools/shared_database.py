#!/usr/bin/env python
"""An environment's database and roles in the shared Aurora cluster, made and dropped through
the RDS Data API: ``shared_database.py create`` and ``shared_database.py drop``.

Run by the deploy (lib/shared_tenancy.py: the create-time and the destroy-time ``local-exec`` of
a ``terraform_data``) with the deploy role's credentials, never by the application: the
application's release connects as the database's owner through IAM and holds no master secret.
Settings in the environment: ``TAP_REGION``, ``TAP_CLUSTER_ARN`` and ``TAP_SECRET_ARN`` (the
shared cluster and its RDS-managed master secret: Data API's ``resourceArn`` and
``secretArn``), ``TAP_DATABASE``, ``TAP_OWNER`` and ``TAP_APP`` (``tap_<suffix>``,
``tap_<suffix>_owner``, ``tap_<suffix>_app``: lib/naming.py).

``create`` (each step idempotent; a second run changes nothing):

1. the roles ``TAP_OWNER`` and ``TAP_APP``, ``LOGIN``, unless they exist; no other attribute
   (no CREATEDB, no CREATEROLE);
2. for the next step only, the master user a member of the owner role: PostgreSQL 16 lets
   ``CREATE DATABASE ... OWNER`` and ``ALTER ... OWNER TO`` name only a role the current user
   can ``SET ROLE`` to. The owner is not a member of ``rds_iam`` meanwhile (a second run takes
   it out first): the master would be one through it, and RDS counts that: "Don't assign both
   the rds_iam and rds_ad roles to a user ... either directly or indirectly by nested grant
   access. If the rds_iam role is added to the master user, IAM authentication takes
   precedence over password authentication so the master user has to log in as an IAM user"
   ("Database authentication with Amazon RDS", RDS user guide). The Data API logs in as the
   master with the secret's password: every later call would be refused at login;
3. the database ``TAP_DATABASE`` owned by ``TAP_OWNER``, unless it exists; ``CONNECT`` and
   ``TEMPORARY`` taken from PUBLIC (so that no other environment's role may connect to it)
   and given to ``TAP_APP``; in it, the schema ``public`` owned by ``TAP_OWNER`` and closed
   to PUBLIC's ``CREATE`` (the default from PostgreSQL 15: said again for older clusters);
4. the master user no longer a member of the owner role (also when step 3 failed), then both
   roles members of ``rds_iam`` (IAM authentication only: "Creating a database account using
   IAM authentication", Aurora user guide).

``drop`` (idempotent too): the database, ``WITH (FORCE)`` (PostgreSQL 13+: its connections are
ended first; only its owner may drop it, so the master joins the owner role first, the owner
out of ``rds_iam`` as in step 2), then the two roles, each only if it exists; their grants and
memberships go with them.

Identifiers are checked against the names lib/naming.py makes (``[a-z_][a-z0-9_]*``, at most 63
characters) and double-quoted; values go as Data API parameters, never into the SQL text. A
paused Serverless v2 cluster answers ``DatabaseResumingException`` ("The Data API request
automatically resumes the DB instance. Wait a few seconds and try again", RDS Data API
reference): the call is retried every ``RESUME_WAIT_SECONDS`` up to ``RESUME_ATTEMPTS``
times. DDL runs with ``continueAfterTimeout`` (the Data API reference recommends it: a DDL
statement stopped half-way can leave its structures damaged).

Exit codes: 0 done, 1 the Data API refused a statement (its message printed with the
statement), 2 bad settings. Standalone on purpose (the standard library and boto3 only):
Terraform copies it beside the synthesized stack as an asset, like tools/one_off.py.
"""
from __future__ import annotations

import os
import re
import sys
import time
from dataclasses import dataclass
from typing import Any, Callable, Sequence

import boto3
from botocore.exceptions import ClientError

MAINTENANCE_DATABASE = "postgres"  # every PostgreSQL cluster has it
IAM_ROLE = "rds_iam"  # Aurora's role of the users that log in through IAM
IAM_MEMBER_QUERY = ("SELECT 1 FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.member "
                    "JOIN pg_roles g ON g.oid = m.roleid "
                    "WHERE r.rolname = :name AND g.rolname = :group")
RESUME_ATTEMPTS = 30
RESUME_WAIT_SECONDS = 5.0
RESUMING = "DatabaseResumingException"
IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
SETTINGS = ("TAP_REGION", "TAP_CLUSTER_ARN", "TAP_SECRET_ARN", "TAP_DATABASE", "TAP_OWNER",
            "TAP_APP")


class Refused(RuntimeError):
    """The Data API refused a statement; ``str()`` names the statement and the reason."""


def quote_ident(name: str) -> str:
    """``name`` as a quoted PostgreSQL identifier; refuses anything but the stack's names."""
    if not IDENTIFIER.match(name):
        raise ValueError(f"{name!r} is not a name the stack makes ([a-z_][a-z0-9_]*, at most "
                         "63 characters)")
    return '"' + name.replace('"', '""') + '"'


@dataclass(frozen=True)
class Target:
    """The shared cluster, its master secret, and the environment's database and roles."""

    cluster_arn: str
    secret_arn: str
    database: str
    owner: str
    app: str

    def __post_init__(self) -> None:
        for name in (self.database, self.owner, self.app):
            quote_ident(name)


class DataApi:
    """ExecuteStatement on the shared cluster as its master user, retried while it resumes."""

    def __init__(self, client: Any, target: Target, out: Callable[[str], None],
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.client, self.target, self.out, self.sleep = client, target, out, sleep

    def run(self, sql: str, database: str = MAINTENANCE_DATABASE,
            parameters: dict[str, str] | None = None) -> list[Any]:
        """The statement's records ([] for a statement that returns none)."""
        request: dict[str, Any] = {
            "resourceArn": self.target.cluster_arn, "secretArn": self.target.secret_arn,
            "database": database, "sql": sql}
        if parameters:  # a query: its values as parameters
            request["parameters"] = [{"name": name, "value": {"stringValue": value}}
                                     for name, value in parameters.items()]
        else:  # DDL and grants: finished even when the call times out
            request["continueAfterTimeout"] = True
        for attempt in range(1, RESUME_ATTEMPTS + 1):
            try:
                return list(self.client.execute_statement(**request).get("records", []))
            except ClientError as error:
                code = error.response.get("Error", {}).get("Code", "")
                if code != RESUMING or attempt == RESUME_ATTEMPTS:
                    message = error.response.get("Error", {}).get("Message", str(error))
                    raise Refused(f"{sql!r} in {database}: {code}: {message}") from error
                self.out(f"shared database: the cluster is resuming (attempt {attempt}); "
                         f"again in {RESUME_WAIT_SECONDS:g} s")
                self.sleep(RESUME_WAIT_SECONDS)
        raise AssertionError("unreachable: the last attempt returns or raises")

    def role_exists(self, role: str) -> bool:
        return bool(self.run("SELECT 1 FROM pg_roles WHERE rolname = :name", parameters={
            "name": role}))

    def database_exists(self, database: str) -> bool:
        return bool(self.run("SELECT 1 FROM pg_database WHERE datname = :name", parameters={
            "name": database}))

    def iam_member(self, role: str) -> bool:
        """Whether ``role`` is a direct member of ``rds_iam``."""
        return bool(self.run(IAM_MEMBER_QUERY, parameters={"name": role, "group": IAM_ROLE}))

    def as_owner(self) -> None:
        """The master user a member of the owner role, the owner out of ``rds_iam`` first
        (see the module docstring, step 2)."""
        owner = quote_ident(self.target.owner)
        if self.iam_member(self.target.owner):
            self.run(f"REVOKE {IAM_ROLE} FROM {owner}")
        self.run(f"GRANT {owner} TO CURRENT_USER")


def create(api: DataApi) -> None:
    """The roles, the database and its grants (see the module docstring)."""
    target, out = api.target, api.out
    for role in (target.owner, target.app):
        if api.role_exists(role):
            out(f"shared database: role {role} exists")
        else:
            api.run(f"CREATE ROLE {quote_ident(role)} LOGIN")
            out(f"shared database: role {role} created")
    owner, app, database = (quote_ident(name) for name in (target.owner, target.app,
                                                           target.database))
    api.as_owner()
    try:
        if api.database_exists(target.database):
            out(f"shared database: database {target.database} exists")
        else:
            api.run(f"CREATE DATABASE {database} OWNER {owner}")
            out(f"shared database: database {target.database} created, owned by "
                f"{target.owner}")
        api.run(f"REVOKE ALL ON DATABASE {database} FROM PUBLIC")
        api.run(f"GRANT CONNECT, TEMPORARY ON DATABASE {database} TO {app}")
        api.run(f"ALTER SCHEMA public OWNER TO {owner}", database=target.database)
        api.run("REVOKE CREATE ON SCHEMA public FROM PUBLIC", database=target.database)
    finally:
        api.run(f"REVOKE {owner} FROM CURRENT_USER")
    for role in (owner, app):
        api.run(f"GRANT {IAM_ROLE} TO {role}")
    out(f"shared database: {target.app} may connect to {target.database}; {target.owner} owns "
        f"it and its schema public; both log in through IAM only")


def drop(api: DataApi) -> None:
    """The database (its connections ended), then the roles."""
    target, out = api.target, api.out
    if api.database_exists(target.database):
        if api.role_exists(target.owner):
            api.as_owner()  # only its owner may drop it; the role goes below
        api.run(f"DROP DATABASE {quote_ident(target.database)} WITH (FORCE)")
        out(f"shared database: database {target.database} dropped")
    else:
        out(f"shared database: database {target.database} was not there")
    for role in (target.app, target.owner):
        if api.role_exists(role):
            api.run(f"DROP ROLE {quote_ident(role)}")
            out(f"shared database: role {role} dropped")
        else:
            out(f"shared database: role {role} was not there")


ACTIONS: dict[str, Callable[[DataApi], None]] = {"create": create, "drop": drop}


def main(argv: Sequence[str], environ: dict[str, str] | None = None, client: Any = None,
         out: Callable[[str], None] = print) -> int:
    """``create`` or ``drop`` from the TAP_* settings; returns the exit code."""
    environ = dict(os.environ if environ is None else environ)
    if len(argv) != 1 or argv[0] not in ACTIONS:
        out("usage: shared_database.py create|drop   (settings in "
            f"{', '.join(SETTINGS)})")
        return 2
    missing = [name for name in SETTINGS if not environ.get(name)]
    if missing:
        out(f"shared_database.py {argv[0]}: {', '.join(missing)} not set")
        return 2
    try:
        target = Target(cluster_arn=environ["TAP_CLUSTER_ARN"], secret_arn=environ["TAP_SECRET_ARN"],
                        database=environ["TAP_DATABASE"], owner=environ["TAP_OWNER"],
                        app=environ["TAP_APP"])
    except ValueError as error:
        out(f"shared_database.py {argv[0]}: {error}")
        return 2
    client = client or boto3.session.Session(region_name=environ["TAP_REGION"]).client("rds-data")
    try:
        ACTIONS[argv[0]](DataApi(client, target, out))
    except Refused as error:
        out(f"shared database: {argv[0]} FAILED: {error}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:], out=lambda line: print(line, flush=True)))
