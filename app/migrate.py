"""The release command: ``python -m app.migrate [--check]``.

Connects as ``DB_ADMIN_USERNAME`` over TLS with certificate verification: the master user
with its password (``DB_ADMIN_PASSWORD``, which only the release task receives), or, on a
database the platform made for one environment, the owner role itself with RDS IAM tokens
(``DB_ADMIN_AUTH=iam``, as app/db.py signs them for the application). Then, in ONE
transaction that holds ``pg_advisory_xact_lock(LOCK_KEY)`` so that two releases never
interleave, and idempotently:

1. the owner role ``$DB_OWNER_ROLE`` (default ``tap_owner``), which owns the schema and the
   tables: created NOLOGIN when missing, used as it is when it exists (the platform's
   owner logs in); the admin is made a member, unless it is the owner or one already;
2. the application role ``$DB_USERNAME`` (LOGIN), granted ``rds_iam``: Aurora's role whose
   members log in with IAM tokens only (AWS: "Creating a database account using IAM
   authentication"); a server without that role (a local PostgreSQL) is reported, not
   refused;
3. the schema ``app`` owned by the owner; ``CREATE`` on schema ``public`` revoked from
   PUBLIC; the application role gets USAGE on ``app`` and, through ``ALTER DEFAULT
   PRIVILEGES FOR ROLE <owner>``, SELECT/INSERT/UPDATE/DELETE on its tables and
   USAGE/SELECT on its sequences, nothing more; its ``search_path`` is ``app``;
4. as the owner, the numbered migrations in ``app/migrations`` that
   ``app.schema_migrations`` does not list, in order, refusing an applied migration whose
   file changed (checksum) and a new one numbered below an applied one.

What needs more than the owner's own rights (creating or altering a role, granting one:
CREATEROLE, or ADMIN OPTION on the role granted) is skipped when it is already in place, and
otherwise tried: a refusal stops the release with one line naming what is missing and who
lacks it (the platform makes the roles of a shared cluster's database, not the release).
A role's ``search_path`` that the admin may not set becomes the database's default (its
owner's right) instead.

Prints one JSON line per step and ``{"migrations_applied": [...]}``; exits 0, or 1 with
one line ``migrate: error: ...`` on standard error (2 for a configuration error). With
``--check`` it only reads: ``{"pending": [...]}``, exit 1 when migrations are pending.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
from psycopg import errors, sql

from app.config import ReleaseSettings, config_errors_exit, load_release_settings
from app.db import connect
from app.logs import configure_logging

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
IAM_ROLE = "rds_iam"
SCHEMA = "app"
# Fixed for every version of the application, so that any two releases serialize.
LOCK_KEY = 0x7461705F6D6967  # "tap_mig"
# Once the release holds its lock, a migration waits at most this long for a table lock
# (behind the service's transactions) rather than queue the service behind itself.
LOCK_TIMEOUT = "10s"
_FILE_NAME = re.compile(r"(\d{4})_([a-z0-9_]+)\.sql")


class MigrationError(Exception):
    """The migrations cannot be applied as they are; the message says why."""


@dataclass(frozen=True, kw_only=True)
class Migration:
    """One numbered SQL file."""

    version: str
    name: str
    sql: str
    checksum: str

    @property
    def ident(self) -> str:
        return f"{self.version}_{self.name}"


def load_migrations(directory: Path) -> list[Migration]:
    """The directory's ``NNNN_name.sql`` files in version order; anything else is refused."""
    migrations: dict[str, Migration] = {}
    for path in sorted(directory.iterdir()):
        match = _FILE_NAME.fullmatch(path.name)
        if match is None:
            raise MigrationError(f"{path.name}: not a migration (NNNN_name.sql) in {directory}")
        version, name = match.groups()
        if version in migrations:
            raise MigrationError(f"{path.name}: version {version} is also "
                                 f"{migrations[version].ident}")
        data = path.read_bytes()
        migrations[version] = Migration(version=version, name=name, sql=data.decode("utf-8"),
                                        checksum=hashlib.sha256(data).hexdigest())
    return [migrations[version] for version in sorted(migrations)]


def pending(migrations: Sequence[Migration], applied: Mapping[str, str]) -> list[Migration]:
    """The migrations to apply, in order, given the applied versions and their checksums."""
    for migration in migrations:
        checksum = applied.get(migration.version)
        if checksum is not None and checksum != migration.checksum:
            raise MigrationError(
                f"migration {migration.ident} changed after it was applied (checksum "
                f"{checksum[:12]} applied, {migration.checksum[:12]} now): migrations are "
                "forward only, add a new one")
    todo = [migration for migration in migrations if migration.version not in applied]
    if todo and applied and todo[0].version < max(applied):
        raise MigrationError(f"migration {todo[0].ident} is numbered below the applied "
                             f"{max(applied)}: renumber it after the last one")
    return todo


def emit(**values: Any) -> None:
    print(json.dumps(values), flush=True)


def _exists(conn: psycopg.Connection[Any], query: str, *values: str) -> bool:
    return conn.execute(query, values).fetchone() is not None


def _role_exists(conn: psycopg.Connection[Any], name: str) -> bool:
    return _exists(conn, "SELECT 1 FROM pg_roles WHERE rolname = %s", name)


def _member(conn: psycopg.Connection[Any], member: str, role: str) -> bool:
    return _exists(conn, "SELECT 1 WHERE pg_has_role(%s, %s, 'MEMBER')", member, role)


def _privileged(conn: psycopg.Connection[Any], statement: sql.Composable, missing: str) -> None:
    """Run ``statement``, which needs more than an owner's rights, in a savepoint; the
    server's refusal becomes a MigrationError saying what is missing (``missing``)."""
    try:
        with conn.transaction():
            conn.execute(statement)
    except errors.InsufficientPrivilege as error:
        admin = conn.info.user
        raise MigrationError(f"{missing}, and {admin} may not do it (CREATEROLE, or ADMIN "
                             f"OPTION on the role granted, is missing): {error}") from error


def _owner_role(conn: psycopg.Connection[Any], settings: ReleaseSettings) -> bool:
    """Step 1; True when the owner role was created."""
    owner, admin = settings.owner_role, settings.admin.username
    created = not _role_exists(conn, owner)
    if created:
        _privileged(conn, sql.SQL("CREATE ROLE {} NOLOGIN").format(sql.Identifier(owner)),
                    f"the owner role {owner} does not exist")
    if admin != owner and not _member(conn, admin, owner):
        _privileged(conn, sql.SQL("GRANT {} TO {}").format(sql.Identifier(owner),
                                                           sql.Identifier(admin)),
                    f"{admin} is not a member of the owner role {owner}")
    return created


def _app_role(conn: psycopg.Connection[Any], name: str) -> tuple[bool, bool]:
    """Step 2; whether the application role was created, whether rds_iam exists."""
    role = sql.Identifier(name)
    login = conn.execute("SELECT rolcanlogin FROM pg_roles WHERE rolname = %s",
                         (name,)).fetchone()
    if login is None:
        _privileged(conn, sql.SQL("CREATE ROLE {} LOGIN").format(role),
                    f"the application role {name} does not exist")
    elif not login[0]:
        _privileged(conn, sql.SQL("ALTER ROLE {} LOGIN").format(role),
                    f"the application role {name} cannot log in (NOLOGIN)")
    iam = _role_exists(conn, IAM_ROLE)
    if iam and not _member(conn, name, IAM_ROLE):
        _privileged(conn, sql.SQL("GRANT {} TO {}").format(sql.Identifier(IAM_ROLE), role),
                    f"the application role {name} is not a member of {IAM_ROLE}")
    return login is None, iam


def _search_path(conn: psycopg.Connection[Any], settings: ReleaseSettings) -> None:
    """The application role's search_path: on the role (as the master user sets it), else,
    when the admin may not alter roles, the database's default (an owner's right)."""
    setting = f"search_path={SCHEMA}"
    if _exists(conn, "SELECT 1 FROM pg_roles WHERE rolname = %s AND %s = ANY(rolconfig)",
               settings.app_username, setting):
        return
    role_setting = sql.SQL("ALTER ROLE {} SET search_path = {}").format(
        sql.Identifier(settings.app_username), sql.Identifier(SCHEMA))
    try:
        with conn.transaction():
            conn.execute(role_setting)
    except errors.InsufficientPrivilege:
        _privileged(conn, sql.SQL("ALTER DATABASE {} SET search_path = {}").format(
            sql.Identifier(settings.database.name), sql.Identifier(SCHEMA)),
            f"the search_path of {settings.app_username} is not {SCHEMA}")


def provision(conn: psycopg.Connection[Any], settings: ReleaseSettings) -> None:
    """Steps 1-3: the owner role, the application role, the schema and its privileges."""
    owner, app = sql.Identifier(settings.owner_role), sql.Identifier(settings.app_username)
    schema = sql.Identifier(SCHEMA)

    created = _owner_role(conn, settings)
    emit(step="owner_role", role=settings.owner_role, created=created)

    created, iam = _app_role(conn, settings.app_username)
    emit(step="app_role", role=settings.app_username, created=created, rds_iam=iam)

    created = not _exists(conn, "SELECT 1 FROM pg_namespace WHERE nspname = %s", SCHEMA)
    for statement in (
            "CREATE SCHEMA IF NOT EXISTS {schema} AUTHORIZATION {owner}",
            "ALTER SCHEMA {schema} OWNER TO {owner}",
            "REVOKE CREATE ON SCHEMA public FROM PUBLIC",
            "GRANT USAGE ON SCHEMA {schema} TO {app}",
            "ALTER DEFAULT PRIVILEGES FOR ROLE {owner} IN SCHEMA {schema} "
            "GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {app}",
            "ALTER DEFAULT PRIVILEGES FOR ROLE {owner} IN SCHEMA {schema} "
            "GRANT USAGE, SELECT ON SEQUENCES TO {app}"):
        conn.execute(sql.SQL(statement).format(schema=schema, owner=owner, app=app))
    _search_path(conn, settings)
    emit(step="schema", schema=SCHEMA, owner=settings.owner_role, created=created)


def _applied(conn: psycopg.Connection[Any]) -> dict[str, str]:
    if conn.execute("SELECT to_regclass('app.schema_migrations')").fetchone() == (None,):
        return {}
    rows = conn.execute("SELECT version, checksum FROM app.schema_migrations").fetchall()
    return dict(rows)


def apply_migrations(conn: psycopg.Connection[Any], settings: ReleaseSettings,
                     migrations: Sequence[Migration]) -> list[str]:
    """Step 4, as the owner: the pending migrations; returns their idents."""
    app = sql.Identifier(settings.app_username)
    conn.execute(sql.SQL("SET LOCAL ROLE {}").format(sql.Identifier(settings.owner_role)))
    conn.execute("CREATE TABLE IF NOT EXISTS app.schema_migrations ("
                 "version text PRIMARY KEY, name text NOT NULL, checksum text NOT NULL, "
                 "applied_at timestamptz NOT NULL DEFAULT now())")
    done: list[str] = []
    for migration in pending(migrations, _applied(conn)):
        conn.execute(migration.sql.encode("utf-8"))
        conn.execute("INSERT INTO app.schema_migrations (version, name, checksum) "
                     "VALUES (%s, %s, %s)", (migration.version, migration.name,
                                             migration.checksum))
        emit(step="migration", migration=migration.ident)
        done.append(migration.ident)
    # Tables made before the default privileges existed, or an application role that was
    # renamed, converge to the same grants; the migrations' ledger is not the app's.
    conn.execute(sql.SQL("GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA app "
                         "TO {}").format(app))
    conn.execute(sql.SQL("GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA app TO {}").format(app))
    conn.execute(sql.SQL("REVOKE ALL ON app.schema_migrations FROM {}").format(app))
    return done


def release(conn: psycopg.Connection[Any], settings: ReleaseSettings,
            migrations: Sequence[Migration]) -> list[str]:
    """Steps 1-4 in one transaction under the advisory lock; returns the applied idents."""
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (LOCK_KEY,))
        conn.execute(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'")
        emit(step="lock", key=LOCK_KEY)
        provision(conn, settings)
        return apply_migrations(conn, settings, migrations)


def check(conn: psycopg.Connection[Any], migrations: Sequence[Migration]) -> list[str]:
    """The pending migrations' idents, reading only."""
    with conn.transaction():
        return [migration.ident for migration in pending(migrations, _applied(conn))]


def main(argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m app.migrate", description=__doc__.split(
        "\n", 1)[0])
    parser.add_argument("--check", action="store_true",
                        help="only list the pending migrations; exit 1 when there are any")
    args = parser.parse_args(argv)
    configure_logging()
    with config_errors_exit("migrate"):
        settings = load_release_settings(os.environ if environ is None else environ)
    try:
        migrations = load_migrations(MIGRATIONS_DIR)
        with connect(settings.database, settings.admin) as conn:
            if args.check:
                todo = check(conn, migrations)
                emit(pending=todo)
                return 1 if todo else 0
            emit(migrations_applied=release(conn, settings, migrations))
    except (MigrationError, psycopg.Error) as error:
        print(f"migrate: error: {' '.join(str(error).split())}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
