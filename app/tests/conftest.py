"""Fixtures of app/tests: the stand-in servers, the released database and the environments.

Session-wide: ``ca`` (the tests' own CA), ``postgres`` (PostgreSQL 15, TLS only, SCRAM,
bootstrapped like Aurora: a master-like ``tap_admin`` and ``rds_iam``), ``redis_server``
(Redis 7.0, TLS only, a one-node cluster), ``first_release`` (``python -m app.migrate``
run once as the admin) and ``released`` (after it, the application role gets a password,
since the tests log in with ``DB_AUTH=password``: IAM tokens are covered by unit tests).
Per test: ``service_env`` (the environment the service receives), ``release_env`` and
``clean`` (empty tables and cache).
"""
# pylint: disable=redefined-outer-name  # pytest injects fixtures by their names
from __future__ import annotations

import os
import secrets
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.tests.standins import ADMIN, DATABASE, HOST, PostgresServer, RedisServer, TestCA

REPO = Path(__file__).resolve().parents[2]
APP_ROLE = "tap_app"
APP_PASSWORD = secrets.token_hex(16)


@pytest.fixture(scope="session")
def ca(tmp_path_factory: pytest.TempPathFactory) -> TestCA:
    return TestCA(tmp_path_factory.mktemp("ca"))


@pytest.fixture(scope="session")
def postgres(ca: TestCA) -> Iterator[PostgresServer]:
    server = PostgresServer(ca)
    try:
        server.start()
        server.bootstrap(ca)
        yield server
    finally:
        server.remove()


@pytest.fixture(scope="session")
def redis_server(ca: TestCA) -> Iterator[RedisServer]:
    server = RedisServer(ca)
    try:
        server.start()
        yield server
    finally:
        server.remove()


def database_env(postgres: PostgresServer, ca: TestCA) -> dict[str, str]:
    return {
        "DB_HOST": HOST,
        "DB_PORT": str(postgres.port),
        "DB_NAME": DATABASE,
        "DB_USERNAME": APP_ROLE,
        "DB_SSLROOTCERT": str(ca.ca_file),
    }


def release_environ(postgres: PostgresServer, ca: TestCA) -> dict[str, str]:
    return {**database_env(postgres, ca), "DB_ADMIN_USERNAME": ADMIN,
            "DB_ADMIN_PASSWORD": postgres.admin_password}


def run_module(module: str, env: dict[str, str], *args: str,
               timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """``python -m <module>`` from the repository root with exactly ``env`` (plus PATH)."""
    return subprocess.run([sys.executable, "-m", module, *args], cwd=REPO, text=True,
                          capture_output=True, timeout=timeout, check=False,
                          env={"PATH": os.environ.get("PATH", ""), **env})


@pytest.fixture(scope="session")
def first_release(postgres: PostgresServer, ca: TestCA) -> subprocess.CompletedProcess[str]:
    """The first ``python -m app.migrate`` on the bootstrapped server."""
    return run_module("app.migrate", release_environ(postgres, ca))


@pytest.fixture(scope="session")
def released(postgres: PostgresServer, ca: TestCA,
             first_release: subprocess.CompletedProcess[str]) -> PostgresServer:
    assert first_release.returncode == 0, first_release.stderr
    with postgres.connect(ca, user=ADMIN, password=postgres.admin_password,
                          dbname=DATABASE) as conn:
        conn.execute(f"ALTER ROLE {APP_ROLE} PASSWORD '{APP_PASSWORD}'")
    return postgres


@pytest.fixture
def release_env(postgres: PostgresServer, ca: TestCA) -> dict[str, str]:
    return release_environ(postgres, ca)


@pytest.fixture
def service_env(released: PostgresServer, redis_server: RedisServer,
                ca: TestCA) -> dict[str, str]:
    return {
        **database_env(released, ca),
        "DB_AUTH": "password",
        "DB_PASSWORD": APP_PASSWORD,
        "REDIS_HOST": HOST,
        "REDIS_PORT": str(redis_server.port),
        "REDIS_CA_FILE": str(ca.ca_file),
    }


@pytest.fixture
def clean(released: PostgresServer, redis_server: RedisServer, ca: TestCA) -> None:
    with released.connect(ca, dbname=DATABASE) as conn:
        conn.execute("TRUNCATE app.messages, app.reports RESTART IDENTITY")
    client = redis_server.client()
    client.flushall()
    client.close()
