"""The release command: ``python -m app.migrate [--check]``.

Connects as the master user (``DB_ADMIN_USERNAME``/``DB_ADMIN_PASSWORD``, which only the
release task receives) over TLS with certificate verification, then, in ONE transaction
that holds ``pg_advisory_xact_lock(LOCK_KEY)`` so that two releases never interleave, and
idempotently:

1. the role ``tap_owner`` (NOLOGIN), which owns the schema and the tables, granted to the
   admin (so that it can act as the owner);
2. the application role ``$DB_USERNAME`` (LOGIN), granted ``rds_iam``: Aurora's role whose
   members log in with IAM tokens only (AWS: "Creating a database account using IAM
   authentication"); a server without that role (a local PostgreSQL) is reported, not
   refused;
3. the schema ``app`` owned by ``tap_owner``; ``CREATE`` on schema ``public`` revoked from
   PUBLIC; the application role gets USAGE on ``app`` and, through ``ALTER DEFAULT
   PRIVILEGES FOR ROLE tap_owner``, SELECT/INSERT/UPDATE/DELETE on its tables and
   USAGE/SELECT on its sequences, nothing more; its ``search_path`` is ``app``;
4. as ``tap_owner``, the numbered migrations in ``app/migrations`` that
   ``app.schema_migrations`` does not list, in order, refusing an applied migration whose
   file changed (checksum) and a new one numbered below an applied one.

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
from psycopg import sql

from app.config import ReleaseSettings, config_errors_exit, load_release_settings
from app.db import connect
from app.logs import configure_logging

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
OWNER_ROLE = "tap_owner"
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


def _exists(conn: psycopg.Connection[Any], query: str, name: str) -> bool:
    return conn.execute(query, (name,)).fetchone() is not None


def _role_exists(conn: psycopg.Connection[Any], name: str) -> bool:
    return _exists(conn, "SELECT 1 FROM pg_roles WHERE rolname = %s", name)


def _ensure_role(conn: psycopg.Connection[Any], name: str, *, login: bool) -> bool:
    """Create the role if missing (True when created); set its LOGIN attribute either way."""
    role = sql.Identifier(name)
    attribute = sql.SQL("LOGIN" if login else "NOLOGIN")
    if _role_exists(conn, name):
        conn.execute(sql.SQL("ALTER ROLE {} {}").format(role, attribute))
        return False
    conn.execute(sql.SQL("CREATE ROLE {} {}").format(role, attribute))
    return True


def provision(conn: psycopg.Connection[Any], settings: ReleaseSettings) -> None:
    """Steps 1-3: the owner role, the application role, the schema and its privileges."""
    owner, app = sql.Identifier(OWNER_ROLE), sql.Identifier(settings.app_username)
    schema = sql.Identifier(SCHEMA)

    created = _ensure_role(conn, OWNER_ROLE, login=False)
    conn.execute(sql.SQL("GRANT {} TO {}").format(owner, sql.Identifier(settings.admin.username)))
    emit(step="owner_role", role=OWNER_ROLE, created=created)

    created = _ensure_role(conn, settings.app_username, login=True)
    iam = _role_exists(conn, IAM_ROLE)
    if iam:
        conn.execute(sql.SQL("GRANT {} TO {}").format(sql.Identifier(IAM_ROLE), app))
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
            "GRANT USAGE, SELECT ON SEQUENCES TO {app}",
            "ALTER ROLE {app} SET search_path = {schema}"):
        conn.execute(sql.SQL(statement).format(schema=schema, owner=owner, app=app))
    emit(step="schema", schema=SCHEMA, owner=OWNER_ROLE, created=created)


def _applied(conn: psycopg.Connection[Any]) -> dict[str, str]:
    if conn.execute("SELECT to_regclass('app.schema_migrations')").fetchone() == (None,):
        return {}
    rows = conn.execute("SELECT version, checksum FROM app.schema_migrations").fetchall()
    return dict(rows)


def apply_migrations(conn: psycopg.Connection[Any], settings: ReleaseSettings,
                     migrations: Sequence[Migration]) -> list[str]:
    """Step 4, as tap_owner: the pending migrations; returns their idents."""
    app = sql.Identifier(settings.app_username)
    conn.execute(sql.SQL("SET LOCAL ROLE {}").format(sql.Identifier(OWNER_ROLE)))
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
