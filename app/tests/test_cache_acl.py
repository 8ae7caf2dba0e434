"""The service as a pull-request environment sees a shared cache: its own ElastiCache user
(a Redis ACL user on the stand-in) with the access string the platform gives it, and its
key prefix. Everything the application does works within that access string, every key it
writes starts with the prefix, and a key outside the prefix is refused (NOPERM)."""
from __future__ import annotations

from collections.abc import Iterator

import pytest
import redis

from app.cache import Cache, CacheError
from app.config import CacheSettings, load_settings
from app.guestbook import GENERATION_KEY, list_key
from app.tests.standins import HOST, RedisServer, TestCA
from app.tests.test_service import call
from app.web import App, create_app

USER = "tap-pr12"
PASSWORD = "pr12-cache-password-0123456789ab"
PREFIX = "tap:pr12:"
# The access string of an environment's user on the shared cache (lib/, shared mode): its
# keys only, reads, writes, connection and keyspace commands, nothing dangerous; and CLUSTER
# SLOTS, which a cluster client (redis-py's RedisCluster) asks at start and after a MOVED:
# it is in no category granted here (@slow only), and ElastiCache applies the user's ACL to
# it too (a cluster client with "-@dangerous" and no "+cluster" cannot refresh its slots:
# redis/ioredis issue 1902). ElastiCache access strings are Redis ACL rules without
# passwords, reset or renamed commands (AWS, "Role-Based Access Control (RBAC)"); the
# stand-in applies it with ACL SETUSER.
WITHOUT_SLOTS = f"on ~{PREFIX}* -@all +@read +@write +@connection +@keyspace -@dangerous"
ACCESS_STRING = f"{WITHOUT_SLOTS} +cluster|slots"
# Redis's NOPERM reply for a key outside the user's patterns, as redis-py raises it.
NOPERM = "^NoPermissionError: this user has no permissions to access one of the keys"


@pytest.fixture(name="cache_user")
def cache_user_fixture(redis_server: RedisServer) -> Iterator[None]:
    admin = redis_server.client()
    admin.execute_command("ACL", "SETUSER", USER, "reset", *ACCESS_STRING.split(),
                          f">{PASSWORD}")
    yield
    admin.execute_command("ACL", "DELUSER", USER)
    admin.close()


@pytest.fixture(name="prefixed_service")
def prefixed_service_fixture(service_env: dict[str, str], cache_user: None) -> Iterator[App]:
    del cache_user
    app = create_app(load_settings({**service_env, "REDIS_USERNAME": USER,
                                    "REDIS_PASSWORD": PASSWORD, "REDIS_KEY_PREFIX": PREFIX}),
                     {})
    yield app
    app.close()


@pytest.mark.usefixtures("clean")
def test_the_guestbook_within_its_user_and_prefix(prefixed_service: App,
                                                  redis_server: RedisServer) -> None:
    assert call(prefixed_service, "GET", "/readyz")[0] == 200
    first = call(prefixed_service, "POST", "/api/messages", {"text": "first"})[2]["message"]
    status, headers, body = call(prefixed_service, "GET", "/api/messages")
    assert (status, headers["X-Cache"], body) == (200, "miss", {"messages": [first]})
    status, headers, body = call(prefixed_service, "GET", "/api/messages")
    assert (status, headers["X-Cache"], body) == (200, "hit", {"messages": [first]})
    admin = redis_server.client()
    try:
        assert sorted(admin.keys("*")) == [PREFIX + GENERATION_KEY, PREFIX + list_key("1")]
        assert admin.get(PREFIX + GENERATION_KEY) == "1"
    finally:
        admin.close()


@pytest.mark.usefixtures("clean", "cache_user")
@pytest.mark.parametrize("cluster", [True, False])
def test_a_key_outside_the_prefix_is_refused(redis_server: RedisServer, ca: TestCA,
                                             cluster: bool) -> None:
    settings = CacheSettings(host=HOST, port=redis_server.port, ca_file=str(ca.ca_file),
                             cluster=cluster, username=USER, password=PASSWORD)
    outside = Cache(settings)  # no prefix: the keys are outside the user's pattern
    inside = Cache(CacheSettings(**{**settings.__dict__, "key_prefix": PREFIX}))
    try:
        inside.set("probe", "value", 5)
        assert inside.get("probe") == "value"
        assert inside.key("probe") == "tap:pr12:probe"
        with pytest.raises(CacheError, match=NOPERM):
            outside.get("probe")
        with pytest.raises(CacheError, match=NOPERM):
            outside.incr("counter")
    finally:
        inside.close()
        outside.close()


def test_a_cluster_client_needs_cluster_slots(redis_server: RedisServer, ca: TestCA,
                                              cache_user: None) -> None:
    del cache_user
    admin = redis_server.client()
    admin.execute_command("ACL", "SETUSER", USER, "reset", *WITHOUT_SLOTS.split(),
                          f">{PASSWORD}")
    admin.close()
    cache = Cache(CacheSettings(host=HOST, port=redis_server.port, ca_file=str(ca.ca_file),
                                username=USER, password=PASSWORD, key_prefix=PREFIX))
    with pytest.raises(CacheError, match="Redis Cluster cannot be connected"):
        cache.ping()
    cache.close()


def test_the_user_needs_its_password(redis_server: RedisServer, ca: TestCA,
                                     cache_user: None) -> None:
    del cache_user
    client = redis.Redis(host=HOST, port=redis_server.port, ssl=True,
                         ssl_ca_certs=str(ca.ca_file), username=USER, password="wrong" * 4,
                         socket_timeout=2)
    with pytest.raises(redis.AuthenticationError):
        client.ping()
    client.close()
