"""The cache: ElastiCache Serverless (Valkey or Redis OSS) through redis-py.

ElastiCache Serverless is only available in a cluster-mode enabled configuration (AWS,
"ElastiCache best practices: overall best practices"), so the client speaks the cluster
protocol (``RedisCluster``) unless ``REDIS_CLUSTER=false`` (a plain local Redis). Serverless
caches accept TLS only and present certificates of Amazon's public CAs: the client verifies
the certificate against ``REDIS_CA_FILE`` and the host name it connects to.

A cache shared by several environments (pull-request environments on one serverless cache)
gives each its own ElastiCache user: the client authenticates as ``REDIS_USERNAME`` with
``AUTH username password`` on every connection (role-based access control, "the only way to
control access to serverless caches": AWS, "Role-Based Access Control (RBAC)"), and every
key goes through ``Cache``, which puts ``REDIS_KEY_PREFIX`` in front of it, so the
application never names a key outside the pattern its user's access string allows
(``~tap:pr12:*``). A key's hash tag (``{...}``) is unchanged by the prefix: the keys that
share a slot without it share one with it.

Exposes ``Cache`` (``ping``, ``get``, ``set``, ``incr``; every failure raised as
``CacheError``; ``key`` gives a key's full name) and ``CacheError``. The client is created
on first use and again after a failed creation: a cluster client reads the topology when it
is created, which fails while the cache is unreachable, and the web service must start (and
answer ``/healthz``) anyway.
Timeouts are short and retries few: the cache is an optimisation and ``/readyz`` must
answer quickly when it is down.
"""
from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, TypeVar

import redis
from redis.backoff import ExponentialBackoff
from redis.exceptions import RedisClusterException
from redis.retry import Retry

from app.config import CacheSettings

CONNECT_TIMEOUT_SECONDS = 1.0
COMMAND_TIMEOUT_SECONDS = 1.0
RETRIES = 1

T = TypeVar("T")


class CacheError(Exception):
    """The cache did not answer, or refused the command."""


class Cache:
    """A lazily created redis-py client (cluster or plain) for one cache endpoint."""

    def __init__(self, settings: CacheSettings) -> None:
        self._settings = settings
        self._lock = threading.Lock()
        self._client: redis.Redis | redis.RedisCluster | None = None

    def _options(self) -> dict[str, Any]:
        options: dict[str, Any] = {
            "host": self._settings.host,
            "port": self._settings.port,
            "socket_connect_timeout": CONNECT_TIMEOUT_SECONDS,
            "socket_timeout": COMMAND_TIMEOUT_SECONDS,
            "decode_responses": True,
            "retry": Retry(ExponentialBackoff(cap=0.2, base=0.05), RETRIES),
        }
        if self._settings.tls:
            options.update(ssl=True, ssl_ca_certs=self._settings.ca_file,
                           ssl_cert_reqs="required", ssl_check_hostname=True)
        if self._settings.username is not None:
            # redis-py sends AUTH <username> <password> on each new connection, the cluster
            # client on each node's connections too.
            options.update(username=self._settings.username, password=self._settings.password)
        return options

    def _connected(self) -> redis.Redis | redis.RedisCluster:
        with self._lock:
            if self._client is None:
                if self._settings.cluster:
                    # The serverless endpoint is a DNS name: topology refreshes start from it
                    # again rather than from the addresses CLUSTER SLOTS listed (redis-py's
                    # advice for dynamic DNS endpoints, RedisCluster's dynamic_startup_nodes).
                    self._client = redis.RedisCluster(dynamic_startup_nodes=False,
                                                      **self._options())
                else:
                    self._client = redis.Redis(**self._options())
            return self._client

    def _run(self, command: Callable[[Any], T]) -> T:
        try:
            return command(self._connected())
        except (redis.RedisError, RedisClusterException) as error:
            raise CacheError(f"{type(error).__name__}: {error}") from error

    def key(self, key: str) -> str:
        """The name ``key`` has in the cache: behind ``REDIS_KEY_PREFIX``."""
        return self._settings.key_prefix + key

    def ping(self) -> None:
        self._run(lambda client: client.ping())

    def get(self, key: str) -> str | None:
        return self._run(lambda client: client.get(self.key(key)))

    def set(self, key: str, value: str, ttl_seconds: int) -> None:
        self._run(lambda client: client.set(self.key(key), value, ex=ttl_seconds))

    def incr(self, key: str) -> int:
        return int(self._run(lambda client: client.incr(self.key(key))))

    def close(self) -> None:
        with self._lock:
            if self._client is not None:
                self._client.close()
                self._client = None
