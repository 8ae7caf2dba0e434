"""Tests of the release command (app.migrate): migration files, ordering and checksums in
unit tests; roles, schema, privileges, idempotence, --check and the advisory lock against
the PostgreSQL stand-in (as Aurora: a master user that is not a superuser, rds_iam)."""
from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import errors

from app import migrate
from app.migrate import LOCK_KEY, Migration, MigrationError, load_migrations, pending
from app.tests.conftest import APP_PASSWORD, APP_ROLE, REPO, run_module
from app.tests.standins import ADMIN, DATABASE, PostgresServer, TestCA


def write(directory: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (directory / name).write_text(text, encoding="utf-8")
    return directory


def migration(version: str, name: str = "m", checksum: str = "c") -> Migration:
    return Migration(version=version, name=name, sql="SELECT 1", checksum=checksum)


def test_migrations_load_in_version_order(tmp_path: Path) -> None:
    write(tmp_path, {"0010_c.sql": "SELECT 3", "0002_b.sql": "SELECT 2", "0001_a.sql": "SELECT 1"})
    loaded = load_migrations(tmp_path)
    assert [item.ident for item in loaded] == ["0001_a", "0002_b", "0010_c"]
    assert loaded[0] == Migration(version="0001", name="a", sql="SELECT 1",
                                  checksum=hashlib.sha256(b"SELECT 1").hexdigest())


def test_the_repository_migrations() -> None:
    assert [item.ident for item in load_migrations(migrate.MIGRATIONS_DIR)] == [
        "0001_messages", "0002_reports"]


@pytest.mark.parametrize(("files", "message"), [
    ({"README.md": "x"}, "README.md: not a migration (NNNN_name.sql) in {dir}"),
    ({"1_short.sql": "x"}, "1_short.sql: not a migration (NNNN_name.sql) in {dir}"),
    ({"0001_a.sql": "x", "0001_b.sql": "y"}, "0001_b.sql: version 0001 is also 0001_a"),
])
def test_bad_migration_files_are_refused(tmp_path: Path, files: dict[str, str],
                                         message: str) -> None:
    write(tmp_path, files)
    with pytest.raises(MigrationError) as caught:
        load_migrations(tmp_path)
    assert str(caught.value) == message.format(dir=tmp_path)


def test_pending_keeps_the_order_and_skips_the_applied() -> None:
    migrations = [migration("0001", checksum="a"), migration("0002", checksum="b"),
                  migration("0003", checksum="c")]
    assert pending(migrations, {}) == migrations
    assert pending(migrations, {"0001": "a"}) == migrations[1:]
    assert not pending(migrations, {"0001": "a", "0002": "b", "0003": "c"})
    # A database ahead of the code (an older release re-run) is not an error.
    assert not pending(migrations[:2], {"0001": "a", "0002": "b", "0003": "c"})


def test_a_changed_migration_is_refused() -> None:
    with pytest.raises(MigrationError) as caught:
        pending([migration("0001", "messages", "f" * 64)], {"0001": "0" * 64})
    assert str(caught.value) == (
        "migration 0001_messages changed after it was applied (checksum 000000000000 applied, "
        "ffffffffffff now): migrations are forward only, add a new one")


def test_a_migration_numbered_below_an_applied_one_is_refused() -> None:
    with pytest.raises(MigrationError) as caught:
        pending([migration("0001", checksum="a"), migration("0002", "late"),
                 migration("0003", checksum="c")], {"0001": "a", "0003": "c"})
    assert str(caught.value) == ("migration 0002_late is numbered below the applied 0003: "
                                 "renumber it after the last one")


def json_lines(text: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in text.splitlines()]


def test_first_release(first_release: subprocess.CompletedProcess[str]) -> None:
    assert first_release.returncode == 0, first_release.stderr
    assert json_lines(first_release.stdout) == [
        {"step": "lock", "key": LOCK_KEY},
        {"step": "owner_role", "role": "tap_owner", "created": True},
        {"step": "app_role", "role": APP_ROLE, "created": True, "rds_iam": True},
        {"step": "schema", "schema": "app", "owner": "tap_owner", "created": True},
        {"step": "migration", "migration": "0001_messages"},
        {"step": "migration", "migration": "0002_reports"},
        {"migrations_applied": ["0001_messages", "0002_reports"]},
    ]


@pytest.mark.usefixtures("released")
def test_second_release_changes_nothing(release_env: dict[str, str]) -> None:
    result = run_module("app.migrate", release_env)
    assert (result.returncode, result.stderr) == (0, "")
    assert json_lines(result.stdout) == [
        {"step": "lock", "key": LOCK_KEY},
        {"step": "owner_role", "role": "tap_owner", "created": False},
        {"step": "app_role", "role": APP_ROLE, "created": False, "rds_iam": True},
        {"step": "schema", "schema": "app", "owner": "tap_owner", "created": False},
        {"migrations_applied": []},
    ]


def scalar(conn: psycopg.Connection, query: str) -> object:
    row = conn.execute(query).fetchone()
    assert row is not None
    return row[0]


def test_roles_schema_and_privileges(released: PostgresServer, ca: TestCA) -> None:
    with released.connect(ca, dbname=DATABASE) as conn:
        assert conn.execute(
            "SELECT rolname, rolcanlogin, rolsuper, rolcreaterole, rolcreatedb, rolconfig "
            "FROM pg_roles WHERE rolname IN ('tap_owner', 'tap_app') ORDER BY rolname"
        ).fetchall() == [("tap_app", True, False, False, False, ["search_path=app"]),
                         ("tap_owner", False, False, False, False, None)]
        expectations = {
            "pg_has_role('tap_app', 'rds_iam', 'MEMBER')": True,
            f"pg_has_role('{ADMIN}', 'tap_owner', 'MEMBER')": True,
            "pg_has_role('tap_app', 'tap_owner', 'MEMBER')": False,
            "(SELECT nspowner::regrole::text FROM pg_namespace WHERE nspname = 'app')":
                "tap_owner",
            "(SELECT string_agg(tablename || ':' || tableowner, ',' ORDER BY tablename) "
            "FROM pg_tables WHERE schemaname = 'app')":
                "messages:tap_owner,reports:tap_owner,schema_migrations:tap_owner",
            "has_schema_privilege('tap_app', 'app', 'USAGE')": True,
            "has_schema_privilege('tap_app', 'app', 'CREATE')": False,
            "has_schema_privilege('tap_app', 'public', 'CREATE')": False,
            "has_table_privilege('tap_app', 'app.messages', 'SELECT, INSERT, UPDATE, DELETE')":
                True,
            "has_table_privilege('tap_app', 'app.reports', 'SELECT, INSERT, UPDATE, DELETE')":
                True,
            "has_table_privilege('tap_app', 'app.messages', 'TRUNCATE, REFERENCES, TRIGGER')":
                False,
            "has_table_privilege('tap_app', 'app.schema_migrations', "
            "'SELECT, INSERT, UPDATE, DELETE, TRUNCATE')": False,
        }
        assert {query: scalar(conn, f"SELECT {query}") for query in expectations} == expectations


@pytest.mark.parametrize("statement", [
    "CREATE TABLE app.extra (a int)",
    "CREATE TABLE public.extra (a int)",
    "ALTER TABLE app.messages ADD COLUMN extra int",
    "DROP TABLE app.messages",
    "TRUNCATE app.messages",
    "SELECT * FROM app.schema_migrations",
    "DELETE FROM app.schema_migrations",
    "SELECT * FROM public.admin_only",
    "CREATE SCHEMA extra",
])
def test_the_app_role_stays_within_its_grants(released: PostgresServer, ca: TestCA,
                                             statement: str) -> None:
    with released.connect(ca, user=ADMIN, password=released.admin_password,
                          dbname=DATABASE) as admin:
        admin.execute("CREATE TABLE IF NOT EXISTS public.admin_only (secret text)")
    with released.connect(ca, user=APP_ROLE, password=APP_PASSWORD, dbname=DATABASE) as conn:
        with pytest.raises(errors.InsufficientPrivilege):
            conn.execute(statement)


def test_the_app_role_reads_and_writes_its_tables(released: PostgresServer, ca: TestCA) -> None:
    with released.connect(ca, user=APP_ROLE, password=APP_PASSWORD, dbname=DATABASE,
                          autocommit=False) as conn:
        assert scalar(conn, "SHOW search_path") == "app"
        # Unqualified names resolve in schema app (the role's search_path).
        ident = scalar(conn, "INSERT INTO messages (text) VALUES ('hi') RETURNING id")
        conn.execute("UPDATE messages SET text = 'hello' WHERE id = %s", (ident,))
        assert conn.execute("SELECT text FROM messages WHERE id = %s",
                            (ident,)).fetchone() == ("hello",)
        conn.execute("DELETE FROM messages WHERE id = %s", (ident,))
        conn.rollback()


@pytest.fixture(name="fresh_database")
def fresh_database_fixture(released: PostgresServer, ca: TestCA,
                           release_env: dict[str, str]) -> Iterator[dict[str, str]]:
    """A second, empty database of the master user: the release environment for it."""
    with released.connect(ca) as conn:
        conn.execute(f"CREATE DATABASE tap_fresh OWNER {ADMIN}")
    with released.connect(ca, dbname="tap_fresh") as conn:
        conn.execute(f"ALTER SCHEMA public OWNER TO {ADMIN}")
    yield {**release_env, "DB_NAME": "tap_fresh"}
    with released.connect(ca) as conn:
        conn.execute("DROP DATABASE tap_fresh WITH (FORCE)")


def test_check_lists_the_pending_migrations(release_env: dict[str, str],
                                            fresh_database: dict[str, str]) -> None:
    current = run_module("app.migrate", release_env, "--check")
    assert (current.returncode, current.stdout, current.stderr) == (0, '{"pending": []}\n', "")
    fresh = run_module("app.migrate", fresh_database, "--check")
    assert (fresh.returncode, fresh.stdout, fresh.stderr) == (
        1, '{"pending": ["0001_messages", "0002_reports"]}\n', "")


def test_a_new_migration_is_applied_once(fresh_database: dict[str, str], tmp_path: Path,
                                         monkeypatch: pytest.MonkeyPatch,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    for source in sorted(migrate.MIGRATIONS_DIR.iterdir()):
        shutil.copy(source, tmp_path / source.name)
    # A literal percent sign: migrations are sent without parameters, never interpolated.
    write(tmp_path, {"0003_comment.sql":
                     "COMMENT ON TABLE app.messages IS 'the guestbook: 100% of it';"})
    monkeypatch.setattr(migrate, "MIGRATIONS_DIR", tmp_path)
    assert migrate.main([], fresh_database) == 0
    assert json_lines(capsys.readouterr().out)[-1] == {
        "migrations_applied": ["0001_messages", "0002_reports", "0003_comment"]}
    assert migrate.main([], fresh_database) == 0
    assert json_lines(capsys.readouterr().out)[-1] == {"migrations_applied": []}


@pytest.mark.usefixtures("released")
def test_a_changed_migration_stops_the_release(release_env: dict[str, str], tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    original = (migrate.MIGRATIONS_DIR / "0001_messages.sql").read_bytes()
    shutil.copy(migrate.MIGRATIONS_DIR / "0002_reports.sql", tmp_path)
    (tmp_path / "0001_messages.sql").write_bytes(original + b"-- edited\n")
    monkeypatch.setattr(migrate, "MIGRATIONS_DIR", tmp_path)
    assert migrate.main([], release_env) == 1
    captured = capsys.readouterr()
    applied = hashlib.sha256(original).hexdigest()[:12]
    now = hashlib.sha256(original + b"-- edited\n").hexdigest()[:12]
    assert captured.err == (
        f"migrate: error: migration 0001_messages changed after it was applied (checksum "
        f"{applied} applied, {now} now): migrations are forward only, add a new one\n")


def test_releases_never_interleave(released: PostgresServer, ca: TestCA,
                                   release_env: dict[str, str]) -> None:
    with released.connect(ca, dbname=DATABASE) as holder:
        holder.execute("SELECT pg_advisory_lock(%s)", (LOCK_KEY,))
        process = subprocess.Popen(  # pylint: disable=consider-using-with
            [sys.executable, "-m", "app.migrate"], cwd=REPO,
            env={"PATH": os.environ.get("PATH", ""), **release_env},
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            deadline = time.monotonic() + 10
            while scalar(holder, "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' "
                                 "AND NOT granted") != 1:
                assert time.monotonic() < deadline, "the release never waited for the lock"
                time.sleep(0.05)
            assert process.poll() is None
        finally:
            holder.execute("SELECT pg_advisory_unlock(%s)", (LOCK_KEY,))
        stdout, stderr = process.communicate(timeout=30)
    assert (process.returncode, stderr) == (0, "")
    assert json_lines(stdout)[-1] == {"migrations_applied": []}


def test_a_missing_admin_password_exits_2_with_one_line(release_env: dict[str, str]) -> None:
    environ = {key: value for key, value in release_env.items() if key != "DB_ADMIN_PASSWORD"}
    result = run_module("app.migrate", environ)
    assert (result.returncode, result.stdout, result.stderr) == (
        2, "", "migrate: configuration error: DB_ADMIN_PASSWORD: required, not set "
               "(the master user's password)\n")


def test_a_wrong_admin_password_fails_with_one_line(release_env: dict[str, str]) -> None:
    result = run_module("app.migrate", {**release_env, "DB_ADMIN_PASSWORD": "wrong"})
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr.startswith("migrate: error: connection failed: ")
    assert result.stderr.endswith(
        f'password authentication failed for user "{ADMIN}"\n')
    assert result.stderr.count("\n") == 1


class TokenClient:
    """Stands in for boto3's RDS client: the stand-in cannot check IAM tokens, so the
    'token' it signs is the owner's password; the calls are recorded for the test."""

    def __init__(self, token: str) -> None:
        self.token = token
        self.calls: list[dict[str, object]] = []

    def generate_db_auth_token(self, **kwargs: object) -> str:
        self.calls.append(kwargs)
        return self.token


@pytest.fixture(name="platform_database")
def platform_database_fixture(released: PostgresServer, ca: TestCA, request: pytest.FixtureRequest
                              ) -> Iterator[dict[str, str]]:
    """What the platform makes for environment ``<suffix>`` on a shared cluster before its
    release (tools/shared_database.py, as the master user): the owner (LOGIN, rds_iam,
    owner of the database) and the application role (LOGIN, rds_iam); nothing else. The
    parameter names what to leave out. Yields the names and the owner's password."""
    suffix = f"pr{abs(hash(request.node.name)) % 100000}"
    names = {"database": f"tap_{suffix}", "owner": f"tap_{suffix}_owner",
             "app": f"tap_{suffix}_app", "password": secrets_token()}
    leave_out = getattr(request, "param", "")
    with released.connect(ca) as conn:
        conn.execute(f"CREATE ROLE {names['owner']} LOGIN PASSWORD '{names['password']}'")
        conn.execute(f"GRANT rds_iam TO {names['owner']}")
        if leave_out != "app_role":
            conn.execute(f"CREATE ROLE {names['app']} LOGIN PASSWORD '{APP_PASSWORD}'")
            if leave_out != "app_rds_iam":
                conn.execute(f"GRANT rds_iam TO {names['app']}")
        conn.execute(f"CREATE DATABASE {names['database']} OWNER {names['owner']}")
    yield names
    with released.connect(ca) as conn:
        conn.execute(f"DROP DATABASE {names['database']} WITH (FORCE)")
        conn.execute(f"DROP ROLE IF EXISTS {names['app']}")
        conn.execute(f"DROP ROLE {names['owner']}")


def secrets_token() -> str:
    return hashlib.sha256(os.urandom(16)).hexdigest()[:32]


def owner_environ(release_env: dict[str, str], names: dict[str, str]) -> dict[str, str]:
    """The release task's environment in shared mode: no master user, no password."""
    environ = {key: value for key, value in release_env.items()
               if key not in ("DB_ADMIN_PASSWORD",)}
    return {**environ, "DB_NAME": names["database"], "DB_USERNAME": names["app"],
            "DB_ADMIN_USERNAME": names["owner"], "DB_OWNER_ROLE": names["owner"],
            "DB_ADMIN_AUTH": "iam", "AWS_REGION": "eu-west-1"}


def test_release_as_the_platforms_owner_with_iam(
        released: PostgresServer, ca: TestCA, release_env: dict[str, str],
        platform_database: dict[str, str], monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    names = platform_database
    client = TokenClient(names["password"])
    # The IAM path of app.db as it runs in the release task, up to the signature: the
    # admin login is Login(auth="iam") and each connection asks the RDS client for a token.
    monkeypatch.setattr("boto3.session.Session.client",
                        lambda self, service, region_name=None: client)
    environ = owner_environ(release_env, names)
    assert migrate.main([], environ) == 0
    assert json_lines(capsys.readouterr().out) == [
        {"step": "lock", "key": LOCK_KEY},
        {"step": "owner_role", "role": names["owner"], "created": False},
        {"step": "app_role", "role": names["app"], "created": False, "rds_iam": True},
        {"step": "schema", "schema": "app", "owner": names["owner"], "created": True},
        {"step": "migration", "migration": "0001_messages"},
        {"step": "migration", "migration": "0002_reports"},
        {"migrations_applied": ["0001_messages", "0002_reports"]},
    ]
    assert client.calls == [{"DBHostname": "localhost", "Port": released.port,
                             "DBUsername": names["owner"], "Region": "eu-west-1"}]
    assert migrate.main([], environ) == 0
    assert json_lines(capsys.readouterr().out)[1:] == [
        {"step": "owner_role", "role": names["owner"], "created": False},
        {"step": "app_role", "role": names["app"], "created": False, "rds_iam": True},
        {"step": "schema", "schema": "app", "owner": names["owner"], "created": False},
        {"migrations_applied": []},
    ]
    with released.connect(ca, dbname=names["database"]) as conn:
        assert conn.execute(
            "SELECT rolname, rolcanlogin, rolsuper, rolcreaterole, rolcreatedb, rolconfig "
            "FROM pg_roles WHERE rolname IN (%s, %s) ORDER BY rolname",
            (names["app"], names["owner"])).fetchall() == [
                (names["app"], True, False, False, False, None),
                (names["owner"], True, False, False, False, None)]
        assert scalar(conn, "SELECT string_agg(tablename || ':' || tableowner, ',' "
                            "ORDER BY tablename) FROM pg_tables WHERE schemaname = 'app'") == (
            f"messages:{names['owner']},reports:{names['owner']},"
            f"schema_migrations:{names['owner']}")
        # The owner may not alter roles: the search_path is the database's default.
        assert conn.execute("SELECT setconfig FROM pg_db_role_setting s JOIN pg_database d "
                            "ON d.oid = s.setdatabase WHERE d.datname = %s AND "
                            "s.setrole = 0", (names["database"],)).fetchone() == (
            ["search_path=app"],)
    with released.connect(ca, user=names["app"], password=APP_PASSWORD,
                          dbname=names["database"], autocommit=False) as conn:
        assert scalar(conn, "SHOW search_path") == "app"
        ident = scalar(conn, "INSERT INTO messages (text) VALUES ('shared') RETURNING id")
        assert scalar(conn, f"SELECT text FROM app.messages WHERE id = {ident}") == "shared"
        for statement in ("CREATE TABLE app.extra (a int)", "DROP TABLE app.messages",
                          "SELECT * FROM app.schema_migrations"):
            with pytest.raises(errors.InsufficientPrivilege):
                with conn.transaction():
                    conn.execute(statement)
        conn.rollback()


@pytest.mark.parametrize(("platform_database", "message"), [
    ("app_role", "the application role {app} does not exist, and {owner} may not do it "
                 "(CREATEROLE, or ADMIN OPTION on the role granted, is missing): "
                 "permission denied to create role"),
    ("app_rds_iam", "the application role {app} is not a member of rds_iam, and {owner} may "
                    "not do it (CREATEROLE, or ADMIN OPTION on the role granted, is missing): "
                    'must have admin option on role "rds_iam"'),
], indirect=["platform_database"])
def test_the_owner_refuses_what_it_may_not_grant(
        released: PostgresServer, ca: TestCA,
        release_env: dict[str, str], platform_database: dict[str, str],
        monkeypatch: pytest.MonkeyPatch, message: str) -> None:
    names = platform_database
    monkeypatch.setattr("boto3.session.Session.client",
                        lambda self, service, region_name=None: TokenClient(names["password"]))
    code, out, err = migrate_in_process(owner_environ(release_env, names))
    assert (code, err) == (1, f"migrate: error: {message.format(**names)}\n")
    # Stopped at the application role, after the owner's step; nothing was committed.
    assert json_lines(out) == [{"step": "lock", "key": LOCK_KEY},
                               {"step": "owner_role", "role": names["owner"],
                                "created": False}]
    with released.connect(ca, dbname=names["database"]) as conn:
        assert scalar(conn, "SELECT count(*) FROM pg_namespace WHERE nspname = 'app'") == 0


def migrate_in_process(environ: dict[str, str]) -> tuple[int, str, str]:
    """``migrate.main`` with its standard output and error captured."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = migrate.main([], environ)
    return code, out.getvalue(), err.getvalue()
