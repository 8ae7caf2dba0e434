"""The service wired as in production (app.web.create_app) against the real stand-ins:
the guestbook writes to PostgreSQL and is then served from the cache; readiness names
the dependency that is down while liveness stays 200; TLS is required and verified by
both servers; the scheduled job counts the last day's messages."""
from __future__ import annotations

import io
import json
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import psycopg
import pytest
import redis

from app.cache import Cache, CacheError
from app.config import CacheSettings, load_settings
from app.guestbook import GENERATION_KEY, LIST_TTL_SECONDS, list_key
from app.tests.conftest import run_module
from app.tests.standins import DATABASE, HOST, PostgresServer, RedisServer, TestCA, free_port
from app.web import App, create_app

DEBIAN_CA_BUNDLE = "/etc/ssl/certs/ca-certificates.crt"


def call(app: App, method: str, path: str,
         payload: Any = None) -> tuple[int, dict[str, str], Any]:
    body = b"" if payload is None else json.dumps(payload).encode()
    environ = {"REQUEST_METHOD": method, "PATH_INFO": path, "wsgi.input": io.BytesIO(body),
               "CONTENT_TYPE": "application/json", "CONTENT_LENGTH": str(len(body))}
    seen: dict[str, Any] = {}

    def start_response(status: str, headers: list[tuple[str, str]]) -> None:
        seen["status"], seen["headers"] = int(status.split()[0]), dict(headers)
    raw = b"".join(app(environ, start_response))
    return seen["status"], seen["headers"], json.loads(raw)


@pytest.fixture(name="service")
def service_fixture(service_env: dict[str, str]) -> Iterator[App]:
    app = create_app(load_settings(service_env), {})
    yield app
    app.close()


@pytest.mark.usefixtures("clean")
def test_guestbook_writes_to_postgres_then_serves_from_the_cache(
        service: App, released: PostgresServer, redis_server: RedisServer, ca: TestCA) -> None:
    status, headers, body = call(service, "POST", "/api/messages", {"text": "first"})
    assert (status, headers["Location"], body["message"]["text"]) == (
        201, "/api/messages/1", "first")
    first = body["message"]
    with released.connect(ca, dbname=DATABASE) as conn:
        assert conn.execute("SELECT id, text FROM app.messages").fetchall() == [(1, "first")]

    status, headers, body = call(service, "GET", "/api/messages")
    assert (status, headers["X-Cache"], body) == (200, "miss", {"messages": [first]})
    cache = redis_server.client()
    try:
        generation = cache.get(GENERATION_KEY)
        assert generation == "1"
        assert json.loads(cache.get(list_key(generation)) or "null") == [first]
        assert 0 < cache.ttl(list_key(generation)) <= LIST_TTL_SECONDS
    finally:
        cache.close()

    status, headers, body = call(service, "GET", "/api/messages")
    assert (status, headers["X-Cache"], body) == (200, "hit", {"messages": [first]})

    # A write invalidates: the next read comes from PostgreSQL, newest first.
    second = call(service, "POST", "/api/messages", {"text": "second"})[2]["message"]
    status, headers, body = call(service, "GET", "/api/messages")
    assert (headers["X-Cache"], body) == ("miss", {"messages": [second, first]})
    status, _, body = call(service, "GET", "/api/messages/1")
    assert (status, body) == (200, {"message": first})


@pytest.mark.usefixtures("clean")
def test_ready_with_both_dependencies(service: App) -> None:
    status, _, body = call(service, "GET", "/readyz")
    assert (status, body["ready"], body["revision"]) == (200, True, None)
    assert {name: check["ok"] for name, check in body["checks"].items()} == {
        "database": True, "cache": True}


@pytest.fixture(name="own_redis")
def own_redis_fixture(ca: TestCA) -> Iterator[RedisServer]:
    """A Redis stand-in of this test's own, to stop."""
    server = RedisServer(ca)
    try:
        server.start()
        yield server
    finally:
        server.remove()


@pytest.mark.usefixtures("clean")
def test_cache_down_is_named_by_readiness_and_the_guestbook_bypasses_it(
        service_env: dict[str, str], own_redis: RedisServer) -> None:
    env = {**service_env, "REDIS_PORT": str(own_redis.port)}
    before = create_app(load_settings(env), {})
    assert call(before, "GET", "/readyz")[0] == 200
    own_redis.stop()
    after = create_app(load_settings(env), {})
    try:
        status, _, body = call(after, "GET", "/readyz")
        assert (status, body["ready"], body["failed"]) == (503, False, ["cache"])
        assert {name: check["ok"] for name, check in body["checks"].items()} == {
            "database": True, "cache": False}
        assert call(after, "GET", "/healthz")[:3:2] == (200, {"status": "ok"})
        assert call(after, "POST", "/api/messages", {"text": "still works"})[0] == 201
        status, headers, body = call(after, "GET", "/api/messages")
        assert (status, headers["X-Cache"], [m["text"] for m in body["messages"]]) == (
            200, "bypass", ["still works"])
        # The first process's summary is reused for 10 seconds.
        assert call(before, "GET", "/readyz")[0] == 200
    finally:
        before.close()
        after.close()


def test_database_down_is_named_by_readiness(service_env: dict[str, str]) -> None:
    app = create_app(load_settings({**service_env, "DB_PORT": str(free_port())}), {})
    try:
        status, _, body = call(app, "GET", "/readyz")
        assert (status, body["failed"]) == (503, ["database"])
        assert body["checks"]["cache"]["ok"] is True
        assert call(app, "GET", "/healthz")[0] == 200
    finally:
        app.close()


def test_postgres_refuses_plain_and_unverified_connections(released: PostgresServer) -> None:
    with pytest.raises(psycopg.OperationalError, match="no pg_hba.conf entry .* no encryption"):
        psycopg.connect(host=HOST, port=released.port, user="postgres", sslmode="disable",
                        password=released.superuser_password, connect_timeout=5)
    with pytest.raises(psycopg.OperationalError, match="certificate verify failed"):
        psycopg.connect(host=HOST, port=released.port, user="postgres", sslmode="verify-full",
                        sslrootcert=DEBIAN_CA_BUNDLE, password=released.superuser_password,
                        connect_timeout=5)


def test_redis_refuses_plain_and_unverified_connections(redis_server: RedisServer) -> None:
    plain = redis.Redis(host=HOST, port=redis_server.port, socket_timeout=2,
                        socket_connect_timeout=2)
    with pytest.raises(redis.ConnectionError):
        plain.ping()
    plain.close()
    for settings in (CacheSettings(host=HOST, port=redis_server.port, tls=False),
                     CacheSettings(host=HOST, port=redis_server.port, ca_file=DEBIAN_CA_BUNDLE)):
        cache = Cache(settings)
        with pytest.raises(CacheError):
            cache.ping()
        cache.close()


@pytest.mark.usefixtures("clean")
@pytest.mark.parametrize("cluster", [True, False])
def test_cache_client_in_both_protocols(redis_server: RedisServer, ca: TestCA,
                                        cluster: bool) -> None:
    cache = Cache(CacheSettings(host=HOST, port=redis_server.port, ca_file=str(ca.ca_file),
                                cluster=cluster))
    try:
        cache.ping()
        cache.set(f"probe:{cluster}", "value", 5)
        assert cache.get(f"probe:{cluster}") == "value"
        assert [cache.incr("counter"), cache.incr("counter")] == [1, 2]
    finally:
        cache.close()


def test_cache_client_recovers_after_the_cache_comes_back(own_redis: RedisServer,
                                                          ca: TestCA) -> None:
    own_redis.stop()
    cache = Cache(CacheSettings(host=HOST, port=own_redis.port, ca_file=str(ca.ca_file)))
    try:
        with pytest.raises(CacheError):
            cache.ping()  # the cluster client cannot even be created
        own_redis.start()
        cache.ping()
        own_redis.stop()
        with pytest.raises(CacheError):
            cache.ping()
        own_redis.start()
        cache.ping()
    finally:
        cache.close()


@pytest.mark.usefixtures("clean")
def test_report_counts_the_last_day(service_env: dict[str, str], released: PostgresServer,
                                    ca: TestCA) -> None:
    with released.connect(ca, dbname=DATABASE) as conn:
        conn.execute("INSERT INTO app.messages (text, created_at) VALUES "
                     "('old', now() - interval '2 days'), ('recent', now() - interval '1 hour'),"
                     " ('now', now())")
    env = {key: value for key, value in service_env.items() if not key.startswith("REDIS_")}
    result = run_module("app.report", env)
    assert (result.returncode, result.stderr) == (0, "")
    line = json.loads(result.stdout)
    assert (line["report"], line["count"]) == ("messages_last_day", 2)
    with released.connect(ca, dbname=DATABASE) as conn:
        assert conn.execute("SELECT name, value, period_end - period_start FROM app.reports"
                            ).fetchall() == [("messages_last_day", 2, timedelta(days=1))]


def test_report_configuration_error_exits_2(service_env: dict[str, str]) -> None:
    env = {key: value for key, value in service_env.items() if key != "DB_HOST"}
    result = run_module("app.report", env)
    assert (result.returncode, result.stdout, result.stderr) == (
        2, "", "report: configuration error: DB_HOST: required, not set (a host name)\n")
