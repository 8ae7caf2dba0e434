"""PostgreSQL connections that survive credential rotation.

Exposes:
- ``password_source(database, login)``: what each new connection authenticates with. For
  ``DB_AUTH=iam`` a fresh RDS IAM auth token per call, signed with the credentials that
  botocore's default chain holds at that moment (in ECS the container credentials
  endpoint, which botocore refreshes before they expire); the application never keeps
  credentials or tokens itself. A token is valid for 15 minutes and is checked only when a
  connection opens (AWS: "IAM database authentication"), so open connections outlive it.
- ``TokenConnection``: a psycopg connection class whose ``connect`` takes the password from
  the source and, when the server refuses it, retries once with a fresh one.
- ``connect(...)``: one connection for the command-line entry points, retrying while the
  server is unreachable (an auto-paused Aurora Serverless v2 resumes in about 15 seconds).
- ``Database``: the web service's pool (psycopg_pool) with ``min_size=0`` and idle
  connections closed after ``MAX_IDLE_SECONDS``, so that an idle service holds no
  connection and Aurora can auto-pause.
"""
from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, Self

import boto3
import psycopg
from psycopg_pool import ConnectionPool

from app.config import DatabaseSettings, Login
from app.logs import fields

LOG = logging.getLogger("app.db")

CONNECT_TIMEOUT_SECONDS = 5
# psycopg_pool closes, every MAX_IDLE_SECONDS, one connection that stayed unused for the
# whole period (its ShrinkPool task), so a pool of n idle connections is empty after at
# most about (n + 1) * MAX_IDLE_SECONDS: 5 minutes for MAX_POOL_SIZE. Aurora's auto-pause
# delay (at least 300 s) counts from then.
MAX_IDLE_SECONDS = 60.0
# One connection per gunicorn thread (app/gunicorn.conf.py: THREADS).
MAX_POOL_SIZE = 4
# How long a request waits for a connection (a new one included) before it fails.
POOL_WAIT_SECONDS = 10.0
APPLICATION_NAME = "tap-app"

# The server's messages for refused credentials. psycopg reports no SQLSTATE for a failed
# connection attempt (there is no result), so the message is what tells. PostgreSQL says
# "password authentication failed for user"; RDS and Aurora say "PAM authentication
# failed for user" for a refused IAM token (e.g. terraform-provider-postgresql issue #120).
_AUTH_FAILED = re.compile(r"(password|PAM) authentication failed for user")

PasswordSource = Callable[[], str]


def password_source(database: DatabaseSettings, login: Login,
                    session: boto3.session.Session | None = None) -> PasswordSource:
    """A callable returning the password of the next connection (a new token each call)."""
    if login.auth == "password":
        password = login.password or ""
        return lambda: password
    # The client signs with its session's credential provider chain; botocore refreshes
    # refreshable credentials itself (AWS_CONTAINER_CREDENTIALS_* in ECS) before expiry.
    client = (session or boto3.session.Session()).client("rds", region_name=login.region)

    def token() -> str:
        return str(client.generate_db_auth_token(
            DBHostname=database.host, Port=database.port, DBUsername=login.username,
            Region=login.region))
    return token


def is_auth_failure(error: BaseException) -> bool:
    return isinstance(error, psycopg.OperationalError) and bool(_AUTH_FAILED.search(str(error)))


class TokenConnection(psycopg.Connection[Any]):
    """A connection whose password comes from the ``password_source`` keyword argument.

    With ``fresh_password_on_retry`` (IAM tokens), refused credentials are retried once.
    """

    @classmethod
    def connect(cls, conninfo: str = "", **kwargs: Any) -> Self:  # type: ignore[override]
        source: PasswordSource = kwargs.pop("password_source")
        fresh_on_retry: bool = kwargs.pop("fresh_password_on_retry")
        try:
            return super().connect(conninfo, password=source(), **kwargs)
        except psycopg.OperationalError as error:
            if not (fresh_on_retry and is_auth_failure(error)):
                raise
            # A token signed just before the credentials rotated, or refused once: sign
            # a new one with whatever credentials the chain holds now, and try once more.
            LOG.warning("authentication refused, retrying once with a fresh token",
                        extra=fields(user=kwargs.get("user"), error=str(error)))
            return super().connect(conninfo, password=source(), **kwargs)


def connection_kwargs(database: DatabaseSettings, login: Login,
                      source: PasswordSource) -> dict[str, Any]:
    """Keyword arguments of ``TokenConnection.connect`` for this database and login."""
    return {
        "host": database.host,
        "port": database.port,
        "dbname": database.name,
        "user": login.username,
        "password_source": source,
        "fresh_password_on_retry": login.auth == "iam",
        "sslmode": database.sslmode,
        "sslrootcert": database.sslrootcert,
        "connect_timeout": CONNECT_TIMEOUT_SECONDS,
        "application_name": APPLICATION_NAME,
    }


def connect(database: DatabaseSettings, login: Login, *, source: PasswordSource | None = None,
            retry_seconds: float = 60.0, autocommit: bool = False) -> psycopg.Connection[Any]:
    """One connection; while the server is unreachable, retried for ``retry_seconds``.

    Refused credentials are not retried beyond TokenConnection's one fresh token.
    """
    kwargs = connection_kwargs(database, login, source or password_source(database, login))
    deadline = time.monotonic() + retry_seconds
    while True:
        try:
            return TokenConnection.connect(autocommit=autocommit, **kwargs)
        except psycopg.OperationalError as error:
            if is_auth_failure(error) or time.monotonic() + 2 > deadline:
                raise
            LOG.warning("database unreachable, retrying", extra=fields(error=str(error)))
            time.sleep(2)


class Database:
    """The web service's connection pool; no connection is open until one is needed."""

    def __init__(self, database: DatabaseSettings, login: Login, *,
                 source: PasswordSource | None = None, max_size: int = MAX_POOL_SIZE,
                 max_idle: float = MAX_IDLE_SECONDS, wait: float = POOL_WAIT_SECONDS) -> None:
        kwargs = connection_kwargs(database, login, source or password_source(database, login))
        self.pool: ConnectionPool[TokenConnection] = ConnectionPool(
            kwargs=kwargs, connection_class=TokenConnection, min_size=0, max_size=max_size,
            max_idle=max_idle, timeout=wait, open=True, name="tap",
            # A pooled connection may have been closed by the server (a failover, a scale
            # event): check it before handing it out.
            check=ConnectionPool.check_connection)

    @contextmanager
    def connection(self, wait: float | None = None) -> Iterator[TokenConnection]:
        """A pooled connection in a transaction, committed on success."""
        with self.pool.connection(timeout=wait) as conn:
            yield conn

    def ping(self, wait: float) -> None:
        """``SELECT 1`` on a pooled connection; raises when the database does not answer."""
        with self.connection(wait=wait) as conn:
            conn.execute("SELECT 1").fetchone()

    def close(self) -> None:
        self.pool.close()
