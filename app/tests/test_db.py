"""Tests of app.db: IAM tokens per connection across credential rotation, the retry on
refused credentials, and the pool (nothing open until needed, idle connections closed),
against the PostgreSQL stand-in where a server is involved."""
from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import boto3
import psycopg
import pytest

from app.config import DatabaseSettings, Login
from app.db import Database, connect, is_auth_failure, password_source
from app.tests.conftest import APP_PASSWORD, APP_ROLE
from app.tests.standins import DATABASE, HOST, PostgresServer, TestCA, free_port

ENDPOINT = DatabaseSettings(host="tap-dev.cluster-abc.eu-west-1.rds.amazonaws.com")
IAM_LOGIN = Login(username=APP_ROLE, auth="iam", region="eu-west-1")


def token_fields(token: str) -> dict[str, str]:
    parts = urlsplit("https://" + token)
    assert f"{parts.hostname}:{parts.port}{parts.path}" == (
        "tap-dev.cluster-abc.eu-west-1.rds.amazonaws.com:5432/")
    return {key: values[0] for key, values in parse_qs(parts.query, strict_parsing=True).items()}


def test_token_is_a_presigned_rds_connect_request() -> None:
    session = boto3.session.Session(aws_access_key_id="AKIAEXAMPLESTATIC",
                                    aws_secret_access_key="secret", aws_session_token="session")
    fields = token_fields(password_source(ENDPOINT, IAM_LOGIN, session)())
    credential = fields.pop("X-Amz-Credential").split("/")
    assert credential[0] == "AKIAEXAMPLESTATIC"
    assert re.fullmatch(r"\d{8}", credential[1])
    assert credential[2:] == ["eu-west-1", "rds-db", "aws4_request"]
    assert re.fullmatch(r"[0-9a-f]{64}", fields.pop("X-Amz-Signature"))
    assert re.fullmatch(r"\d{8}T\d{6}Z", fields.pop("X-Amz-Date"))
    # Tokens live 15 minutes (AWS: "Connecting to your DB cluster using IAM authentication").
    assert fields == {"Action": "connect", "DBUser": APP_ROLE,
                      "X-Amz-Algorithm": "AWS4-HMAC-SHA256", "X-Amz-Expires": "900",
                      "X-Amz-SignedHeaders": "host", "X-Amz-Security-Token": "session"}


class CredentialsEndpoint:
    """A stand-in for the ECS container credentials endpoint, with keys the test rotates."""

    def __init__(self) -> None:
        self.key = "ASIAFIRSTKEY"
        self.requests = 0
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            """Answers every GET with the current credentials."""

            def do_GET(self) -> None:  # pylint: disable=invalid-name
                endpoint.requests += 1
                # Expiring within botocore's mandatory refresh window (10 minutes): like
                # credentials about to rotate, botocore fetches them again before each use.
                expiration = datetime.now(timezone.utc) + timedelta(minutes=5)
                body = json.dumps({
                    "AccessKeyId": endpoint.key, "SecretAccessKey": f"secret-{endpoint.key}",
                    "Token": f"token-{endpoint.key}", "RoleArn": "arn:aws:iam::123:role/task",
                    "Expiration": expiration.strftime("%Y-%m-%dT%H:%M:%SZ")}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v2/credentials/abc"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(name="container_credentials")
def container_credentials_fixture(monkeypatch: pytest.MonkeyPatch) -> Iterator[CredentialsEndpoint]:
    """botocore's default chain with only the container provider able to answer."""
    endpoint = CredentialsEndpoint()
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE",
                 "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_WEB_IDENTITY_TOKEN_FILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent/config")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/credentials")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", endpoint.url)
    yield endpoint
    endpoint.close()


def test_each_token_is_signed_with_the_credentials_of_the_moment(
        container_credentials: CredentialsEndpoint) -> None:
    source = password_source(ENDPOINT, IAM_LOGIN)
    first = token_fields(source())
    container_credentials.key = "ASIASECONDKEY"
    second = token_fields(source())
    assert first["X-Amz-Credential"].split("/")[0] == "ASIAFIRSTKEY"
    assert first["X-Amz-Security-Token"] == "token-ASIAFIRSTKEY"
    assert second["X-Amz-Credential"].split("/")[0] == "ASIASECONDKEY"
    assert second["X-Amz-Security-Token"] == "token-ASIASECONDKEY"
    assert container_credentials.requests >= 2


@pytest.mark.parametrize(("message", "expected"), [
    ('connection failed: FATAL:  password authentication failed for user "tap_app"', True),
    ('connection failed: FATAL:  PAM authentication failed for user "tap_app"', True),
    ("connection failed: Connection refused", False),
])
def test_is_auth_failure(message: str, expected: bool) -> None:
    assert is_auth_failure(psycopg.OperationalError(message)) is expected
    assert is_auth_failure(ValueError(message)) is False


class Passwords:
    """A password source that answers from a list and counts the calls."""

    def __init__(self, answers: Iterable[str]) -> None:
        self._answers = iter(answers)
        self.calls = 0

    def __call__(self) -> str:
        self.calls += 1
        return next(self._answers)


@pytest.fixture(name="database")
def database_fixture(released: PostgresServer, ca: TestCA) -> DatabaseSettings:
    return DatabaseSettings(host=HOST, port=released.port, name=DATABASE,
                            sslrootcert=str(ca.ca_file))


def test_refused_token_is_retried_once_with_a_fresh_one(database: DatabaseSettings) -> None:
    passwords = Passwords(["expired-token", APP_PASSWORD])
    with connect(database, IAM_LOGIN, source=passwords, retry_seconds=0) as conn:
        assert conn.execute("SELECT current_user").fetchone() == (APP_ROLE,)
    assert passwords.calls == 2


def test_refused_twice_fails_after_one_retry(database: DatabaseSettings) -> None:
    passwords = Passwords(["expired-token", "still-wrong", APP_PASSWORD])
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        connect(database, IAM_LOGIN, source=passwords, retry_seconds=30)
    assert passwords.calls == 2


def test_a_refused_password_is_not_retried(database: DatabaseSettings) -> None:
    passwords = Passwords(["wrong", APP_PASSWORD])
    login = Login(username=APP_ROLE, auth="password", password="unused")
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        connect(database, login, source=passwords, retry_seconds=30)
    assert passwords.calls == 1


def test_unreachable_server_is_retried_until_the_deadline(ca: TestCA) -> None:
    closed = DatabaseSettings(host=HOST, port=free_port(), sslrootcert=str(ca.ca_file))
    passwords = Passwords([APP_PASSWORD] * 5)
    started = time.monotonic()
    with pytest.raises(psycopg.OperationalError, match="Connection refused"):
        connect(closed, IAM_LOGIN, source=passwords, retry_seconds=3)
    assert passwords.calls == 2
    assert 2 <= time.monotonic() - started < 5


def app_sessions(server: PostgresServer, ca: TestCA) -> int:
    with server.connect(ca, dbname=DATABASE) as conn:
        row = conn.execute("SELECT count(*) FROM pg_stat_activity WHERE usename = %s "
                           "AND application_name = 'tap-app'", (APP_ROLE,)).fetchone()
    assert row is not None
    return int(row[0])


def wait_for(condition: Callable[[], bool], seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def test_pool_takes_a_fresh_password_per_new_connection_only(
        database: DatabaseSettings, released: PostgresServer, ca: TestCA) -> None:
    passwords = Passwords([APP_PASSWORD] * 3)
    pool = Database(database, IAM_LOGIN, source=passwords, max_size=2)
    try:
        assert (passwords.calls, pool.pool.get_stats()["pool_size"]) == (0, 0)
        assert app_sessions(released, ca) == 0
        with pool.connection() as first, pool.connection() as second:
            assert first is not second
        assert passwords.calls == 2
        for _ in range(3):
            pool.ping(wait=5)
        assert passwords.calls == 2  # reused: no new connection, no new token
    finally:
        pool.close()


def test_pool_retries_a_refused_token_once(database: DatabaseSettings) -> None:
    passwords = Passwords(["expired-token", APP_PASSWORD])
    pool = Database(database, IAM_LOGIN, source=passwords)
    try:
        pool.ping(wait=5)
        assert passwords.calls == 2
    finally:
        pool.close()


def test_idle_connections_are_closed(database: DatabaseSettings, released: PostgresServer,
                                     ca: TestCA) -> None:
    passwords = Passwords([APP_PASSWORD] * 3)
    pool = Database(database, IAM_LOGIN, source=passwords, max_size=2, max_idle=0.3)
    try:
        with pool.connection() as first, pool.connection() as second:
            assert first is not second
        assert app_sessions(released, ca) == 2
        assert wait_for(lambda: pool.pool.get_stats()["pool_size"] == 0, 5)
        assert wait_for(lambda: app_sessions(released, ca) == 0, 5)
    finally:
        pool.close()


def test_a_new_pooled_connection_after_rotation_signs_with_the_new_key(
        container_credentials: CredentialsEndpoint, database: DatabaseSettings) -> None:
    """Each connection the pool opens gets a token from the chain's credentials of that
    moment. PostgreSQL cannot check an IAM token, so the recorded token is exchanged for
    the role's password on its way to the server."""
    tokens: list[str] = []
    iam = password_source(DatabaseSettings(host=HOST, port=database.port), IAM_LOGIN)

    def recording() -> str:
        tokens.append(iam())
        return APP_PASSWORD
    pool = Database(database, IAM_LOGIN, source=recording, max_size=2)
    try:
        with pool.connection() as first:
            container_credentials.key = "ASIAROTATEDKEY"
            with pool.connection() as second:
                assert first is not second
    finally:
        pool.close()
    keys = [parse_qs(urlsplit("https://" + token).query)["X-Amz-Credential"][0].split("/")[0]
            for token in tokens]
    assert keys == ["ASIAFIRSTKEY", "ASIAROTATEDKEY"]
