"""The ElastiCache Serverless extension, through boto3 as the provider calls it."""
from __future__ import annotations

from typing import Any, Callable

import pytest
from botocore.exceptions import ClientError

LIMITS = {"DataStorage": {"Maximum": 1, "Unit": "GB"}, "ECPUPerSecond": {"Maximum": 5000}}


def _create(elasticache: Any, name: str, **extra: Any) -> dict[str, Any]:
    return elasticache.create_serverless_cache(
        ServerlessCacheName=name, Engine="valkey", MajorEngineVersion="8",
        Description="test cache", CacheUsageLimits=LIMITS, SubnetIds=["subnet-1", "subnet-2"],
        SecurityGroupIds=["sg-1"], KmsKeyId="arn:aws:kms:us-east-1:123456789012:key/k",
        SnapshotRetentionLimit=0, Tags=[{"Key": "Environment", "Value": "test"}],
        **extra)["ServerlessCache"]


def test_create_then_describe_returns_what_the_provider_reads(client: Callable[..., Any]) -> None:
    elasticache = client("elasticache")
    created = _create(elasticache, "cache-a")
    assert created["Status"] == "creating"
    cache = elasticache.describe_serverless_caches(
        ServerlessCacheName="cache-a")["ServerlessCaches"][0]
    assert cache["Status"] == "available"
    assert cache["ARN"] == "arn:aws:elasticache:us-east-1:123456789012:serverlesscache:cache-a"
    assert cache["Engine"] == "valkey"
    assert cache["MajorEngineVersion"] == "8"
    assert cache["FullEngineVersion"] == "8.0"
    assert cache["CacheUsageLimits"] == LIMITS
    assert cache["Endpoint"]["Port"] == 6379
    assert cache["Endpoint"]["Address"].startswith("cache-a-")
    assert cache["ReaderEndpoint"]["Port"] == 6380
    assert cache["ReaderEndpoint"]["Address"] == cache["Endpoint"]["Address"]  # one DNS name
    assert sorted(cache["SubnetIds"]) == ["subnet-1", "subnet-2"]
    assert cache["SecurityGroupIds"] == ["sg-1"]
    assert cache["SnapshotRetentionLimit"] == 0
    assert cache["Description"] == "test cache"
    assert cache["Endpoint"] == created["Endpoint"]


def test_tags_are_readable_by_arn(client: Callable[..., Any]) -> None:
    elasticache = client("elasticache")
    arn = _create(elasticache, "cache-tags")["ARN"]
    assert elasticache.list_tags_for_resource(ResourceName=arn)["TagList"] == [
        {"Key": "Environment", "Value": "test"}]
    elasticache.add_tags_to_resource(ResourceName=arn, Tags=[{"Key": "Extra", "Value": "1"}])
    keys = [tag["Key"] for tag in elasticache.list_tags_for_resource(ResourceName=arn)["TagList"]]
    assert keys == ["Environment", "Extra"]


def test_modify_changes_limits_and_keeps_the_endpoint(client: Callable[..., Any]) -> None:
    elasticache = client("elasticache")
    endpoint = _create(elasticache, "cache-mod")["Endpoint"]
    limits = {"DataStorage": {"Maximum": 5, "Unit": "GB"}, "ECPUPerSecond": {"Maximum": 20000}}
    modified = elasticache.modify_serverless_cache(
        ServerlessCacheName="cache-mod", CacheUsageLimits=limits, Description="changed",
        SnapshotRetentionLimit=3)["ServerlessCache"]
    assert modified["Status"] == "modifying"
    cache = elasticache.describe_serverless_caches(
        ServerlessCacheName="cache-mod")["ServerlessCaches"][0]
    assert cache["CacheUsageLimits"] == limits
    assert cache["Description"] == "changed"
    assert cache["SnapshotRetentionLimit"] == 3
    assert cache["Endpoint"] == endpoint
    assert cache["Status"] == "available"


def test_delete_removes_the_cache(client: Callable[..., Any]) -> None:
    elasticache = client("elasticache")
    _create(elasticache, "cache-del")
    deleted = elasticache.delete_serverless_cache(ServerlessCacheName="cache-del")
    assert deleted["ServerlessCache"]["Status"] == "deleting"
    names = [c["ServerlessCacheName"]
             for c in elasticache.describe_serverless_caches()["ServerlessCaches"]]
    assert "cache-del" not in names
    with pytest.raises(ClientError) as missing:
        elasticache.describe_serverless_caches(ServerlessCacheName="cache-del")
    assert missing.value.response["Error"]["Code"] == "ServerlessCacheNotFoundFault"
    assert missing.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404


def test_errors_for_duplicates_and_unknown_names(client: Callable[..., Any]) -> None:
    elasticache = client("elasticache")
    _create(elasticache, "cache-dup")
    with pytest.raises(ClientError) as duplicate:
        _create(elasticache, "cache-dup")
    assert duplicate.value.response["Error"]["Code"] == "ServerlessCacheAlreadyExistsFault"
    for call in (elasticache.delete_serverless_cache, elasticache.modify_serverless_cache):
        with pytest.raises(ClientError) as missing:
            call(ServerlessCacheName="no-such-cache")
        assert missing.value.response["Error"]["Code"] == "ServerlessCacheNotFoundFault"


def test_redis_defaults_and_other_regions(client: Callable[..., Any]) -> None:
    elasticache = client("elasticache", region="eu-west-1")
    cache = elasticache.create_serverless_cache(
        ServerlessCacheName="cache-redis", Engine="redis")["ServerlessCache"]
    assert cache["MajorEngineVersion"] == "7"
    assert cache["FullEngineVersion"] == "7.1"
    assert cache["ARN"].startswith("arn:aws:elasticache:eu-west-1:")
    assert ".serverless.eu-west-1." in cache["Endpoint"]["Address"]
    with pytest.raises(ClientError):
        client("elasticache").describe_serverless_caches(ServerlessCacheName="cache-redis")
