"""ElastiCache Serverless for moto: CreateServerlessCache, DescribeServerlessCaches,
ModifyServerlessCache and DeleteServerlessCache (moto 5.2.5 has none of them).

A cache is stored on the region's ``ElastiCacheBackend`` with what the request gave,
plus what ``aws_elasticache_serverless_cache`` reads back: the ARN, the status
(``creating`` in the create answer, ``available`` from then on, ``deleting`` in the
delete answer), the primary endpoint (port 6379) and the reader endpoint (6380), the
full engine version, the usage limits as given, the snapshot settings. Tags given at
create are stored in the backend's tagging service, and the backend's ARN pattern
gains ``serverlesscache`` so ListTagsForResource / AddTagsToResource accept the ARN.
"""
from __future__ import annotations

# The handlers below become methods of moto's response class: they read the request
# with moto's own helpers (_get_param, _get_params), as moto's handlers do.
# pylint: disable=protected-access

import re
from typing import Any

from moto.core.responses import ActionResult, PaginatedResult
from moto.core.utils import utcnow
from moto.elasticache.exceptions import ElastiCacheException
from moto.elasticache.models import ElastiCacheBackend
from moto.elasticache.responses import ElastiCacheResponse
from moto.moto_api._internal import mock_random

NAME = "elasticache-serverless"
DEFAULT_MAJOR_VERSIONS = {"valkey": "8", "redis": "7", "memcached": "1.6"}
FULL_VERSIONS = {("valkey", "8"): "8.0", ("valkey", "7"): "7.2", ("redis", "7"): "7.1",
                 ("memcached", "1.6"): "1.6.22"}
PORTS = {"memcached": (11211, 11212)}
# The ARNs ListTagsForResource takes: moto's, the serverless caches' and the user groups'
# (elasticache_users.py; terraform-provider-aws reads a user group's tags after creating it).
_ARN_PATTERN = re.compile(
    r"^arn:aws:elasticache:.*:[0-9]*:"
    r"(cluster|snapshot|subnetgroup|replicationgroup|user|usergroup|serverlesscache):.*$")
_MODIFIABLE = ("Description", "CacheUsageLimits", "SecurityGroupIds", "SnapshotRetentionLimit",
               "DailySnapshotTime", "UserGroupId", "MajorEngineVersion")


class ServerlessCacheNotFoundFault(ElastiCacheException):
    """The named cache does not exist (HTTP 404, as in AWS)."""

    code = "ServerlessCacheNotFoundFault"

    def __init__(self, name: str) -> None:
        super().__init__(f"Serverless cache {name} not found.")


class ServerlessCacheAlreadyExistsFault(ElastiCacheException):
    """A cache of that name exists already."""

    code = "ServerlessCacheAlreadyExistsFault"

    def __init__(self, name: str) -> None:
        super().__init__(f"Serverless cache {name} already exists.")


def caches(backend: ElastiCacheBackend) -> dict[str, dict[str, Any]]:
    """The serverless caches of one backend (account and region), by name."""
    if not hasattr(backend, "serverless_caches"):
        backend.serverless_caches = {}  # type: ignore[attr-defined]
    return backend.serverless_caches  # type: ignore[attr-defined,no-any-return]


def _host(name: str, region: str) -> str:
    """The cache's DNS name. Its primary endpoint (6379) and its reader endpoint (6380) share
    it: "These two endpoints use the same DNS name but different ports"
    (https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/ReadReplicas.html)."""
    return f"{name}-{mock_random.get_random_hex(6)}.serverless.{region}.cache.amazonaws.com"


def create_serverless_cache(backend: ElastiCacheBackend, params: dict[str, Any]
                            ) -> dict[str, Any]:
    """Store a new cache; returns it with status ``creating``."""
    name = params["ServerlessCacheName"]
    store = caches(backend)
    if name in store:
        raise ServerlessCacheAlreadyExistsFault(name)
    engine = params["Engine"].lower()
    major = params.get("MajorEngineVersion") or DEFAULT_MAJOR_VERSIONS.get(engine, "7")
    port, reader_port = PORTS.get(engine, (6379, 6380))
    arn = f"arn:aws:elasticache:{backend.region_name}:{backend.account_id}:serverlesscache:{name}"
    host = _host(name, backend.region_name)
    cache: dict[str, Any] = {
        "ServerlessCacheName": name,
        "Description": params.get("Description", ""),
        "CreateTime": utcnow(),
        "Status": "available",
        "Engine": engine,
        "MajorEngineVersion": major,
        "FullEngineVersion": FULL_VERSIONS.get((engine, major), f"{major}.0"),
        "CacheUsageLimits": params.get("CacheUsageLimits"),
        "KmsKeyId": params.get("KmsKeyId"),
        "SecurityGroupIds": list(params.get("SecurityGroupIds") or []),
        "Endpoint": {"Address": host, "Port": port},
        "ReaderEndpoint": {"Address": host, "Port": reader_port},
        "ARN": arn,
        "UserGroupId": params.get("UserGroupId"),
        "SubnetIds": list(params.get("SubnetIds") or []),
    }
    if engine != "memcached":
        cache["SnapshotRetentionLimit"] = int(params.get("SnapshotRetentionLimit") or 0)
        cache["DailySnapshotTime"] = params.get("DailySnapshotTime") or "04:00"
    store[name] = cache
    if params.get("Tags"):
        backend.tagging_service.tag_resource(arn, params["Tags"])
    return dict(cache, Status="creating")


def describe_serverless_caches(backend: ElastiCacheBackend, name: str | None
                               ) -> list[dict[str, Any]]:
    """One cache by name (ServerlessCacheNotFoundFault if absent), or all of them."""
    store = caches(backend)
    if name is None:
        return list(store.values())
    if name not in store:
        raise ServerlessCacheNotFoundFault(name)
    return [store[name]]


def modify_serverless_cache(backend: ElastiCacheBackend, params: dict[str, Any]
                            ) -> dict[str, Any]:
    """Apply the modifiable fields; returns the cache with status ``modifying``."""
    cache = describe_serverless_caches(backend, params["ServerlessCacheName"])[0]
    for field in _MODIFIABLE:
        if params.get(field) is not None:
            cache[field] = params[field]
    if params.get("RemoveUserGroup"):
        cache["UserGroupId"] = None
    cache["FullEngineVersion"] = FULL_VERSIONS.get(
        (cache["Engine"], cache["MajorEngineVersion"]), f"{cache['MajorEngineVersion']}.0")
    return dict(cache, Status="modifying")


def delete_serverless_cache(backend: ElastiCacheBackend, name: str) -> dict[str, Any]:
    """Remove the cache and its tags; returns it with status ``deleting``."""
    cache = describe_serverless_caches(backend, name)[0]
    del caches(backend)[name]
    backend.tagging_service.delete_all_tags_for_resource(cache["ARN"])
    return dict(cache, Status="deleting")


# -- the response handlers moto dispatches to (one per action) --------------------------

def _create(self: ElastiCacheResponse) -> ActionResult:
    cache = create_serverless_cache(self.elasticache_backend, self._get_params())
    return ActionResult({"ServerlessCache": cache})


def _describe(self: ElastiCacheResponse) -> ActionResult:
    found = describe_serverless_caches(self.elasticache_backend,
                                       self._get_param("ServerlessCacheName"))
    return PaginatedResult({"ServerlessCaches": found})


def _modify(self: ElastiCacheResponse) -> ActionResult:
    cache = modify_serverless_cache(self.elasticache_backend, self._get_params())
    return ActionResult({"ServerlessCache": cache})


def _delete(self: ElastiCacheResponse) -> ActionResult:
    cache = delete_serverless_cache(self.elasticache_backend,
                                    self._get_param("ServerlessCacheName"))
    return ActionResult({"ServerlessCache": cache})


def install() -> str:
    """Register the four actions and widen the backend's ARN pattern."""
    ElastiCacheResponse.create_serverless_cache = _create  # type: ignore[attr-defined]
    ElastiCacheResponse.describe_serverless_caches = _describe  # type: ignore[attr-defined]
    ElastiCacheResponse.modify_serverless_cache = _modify  # type: ignore[attr-defined]
    ElastiCacheResponse.delete_serverless_cache = _delete  # type: ignore[attr-defined]
    original_init = ElastiCacheBackend.__init__
    if not getattr(original_init, "tap_extended", False):
        def __init__(self: ElastiCacheBackend, region_name: str, account_id: str) -> None:
            original_init(self, region_name, account_id)
            self.arn_regex = _ARN_PATTERN
        __init__.tap_extended = True  # type: ignore[attr-defined]
        ElastiCacheBackend.__init__ = __init__  # type: ignore[method-assign]
    return NAME
