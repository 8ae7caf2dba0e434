"""A serverless cache's user group on its stand-in (emulator/runtime/caches.py,
cache_acl.py), seen by redis-cli as ElastiCache's clients see it: the environment's user
gets in with its password and only to its keys, on both nodes; the group's default user
is off, so a client that does not authenticate is refused; a user removed from the group
is refused within seconds; a cache whose group is removed is open again. Needs root, as
test_standins.py (the emulator fixture is that module's)."""
# pylint: disable=redefined-outer-name,unused-import
from __future__ import annotations

import os
import subprocess
import uuid
from typing import Any

from emulator.runtime.caches import REDIS_CLI
from tests.emulator.test_standins import Running, emulator, wait_for

PASSWORD = "pr1-cache-password-0123456789abc"
ACCESS = "on ~tap:pr1:* -@all +@read +@write +@connection +@keyspace -@dangerous"
# What redis-cli prints for a refused AUTH (standard output, then standard error): Redis's
# WRONGPASS, then the command refused as unauthenticated.
REFUSED = ("NOAUTH Authentication required.\n"
           "AUTH failed: WRONGPASS invalid username-password pair or user is disabled.")


def cli(emulator: Running, entry: dict[str, Any], port: int, *arguments: str,
        user: str | None = None, password: str = PASSWORD) -> str:
    """redis-cli over TLS, as ``user`` (its password through REDISCLI_AUTH) or as nobody;
    what it printed (replies and errors) on one string."""
    bundle = str(emulator.runtime.network.authority.bundle)
    done = subprocess.run(
        [str(REDIS_CLI), "-h", entry["address"], "-p", str(port), "--tls", "--cacert", bundle,
         "--sni", entry["names"][-1], *(["--user", user] if user else []), *arguments],
        capture_output=True, text=True, timeout=30, check=False,
        env={"PATH": os.environ.get("PATH", ""), **({"REDISCLI_AUTH": password} if user
                                                    else {})})
    return "\n".join(text.strip() for text in (done.stdout, done.stderr) if text.strip())


def create_cache(emulator: Running, group_id: str) -> dict[str, Any]:
    """A serverless cache with that user group, once available."""
    elasticache = emulator.aws("elasticache")
    name = f"tap-{uuid.uuid4().hex[:6]}-cache"
    elasticache.create_serverless_cache(ServerlessCacheName=name, Engine="valkey",
                                        UserGroupId=group_id)

    def available() -> dict[str, Any] | None:
        (cache,) = elasticache.describe_serverless_caches(
            ServerlessCacheName=name)["ServerlessCaches"]
        return cache if cache["Status"] == "available" else None

    return dict(wait_for(available, 60, f"cache {name} available"))


def test_the_user_group_is_applied_to_both_nodes(emulator: Running) -> None:
    elasticache = emulator.aws("elasticache")
    suffix = uuid.uuid4().hex[:6]
    default_id, app_id, group_id = f"d-{suffix}", f"tap-pr1-{suffix}", f"g-{suffix}"
    elasticache.create_user(UserId=default_id, UserName="default", Engine="valkey",
                            AccessString="off ~* +@all", Passwords=["disabled-default-0123456789"])
    elasticache.create_user(UserId=app_id, UserName="tap-pr1", Engine="valkey",
                            AccessString=ACCESS, Passwords=[PASSWORD])
    elasticache.create_user_group(UserGroupId=group_id, Engine="valkey",
                                  UserIds=[default_id, app_id])
    cache = create_cache(emulator, group_id)
    entry = emulator.standin(cache["ServerlessCacheName"])

    assert cli(emulator, entry, 6379, "SET", "tap:pr1:greeting", "hello", user="tap-pr1") == "OK"
    for port in (6379, 6380):
        assert cli(emulator, entry, port, "PING", user="tap-pr1") == "PONG"
        assert cli(emulator, entry, port, "GET", "other:greeting", user="tap-pr1") == (
            "NOPERM this user has no permissions to access one of the keys used as arguments")
        assert cli(emulator, entry, port, "FLUSHALL", user="tap-pr1") == (
            "NOPERM this user has no permissions to run the 'flushall' command")
        assert cli(emulator, entry, port, "PING") == "NOAUTH Authentication required."
        assert cli(emulator, entry, port, "PING", user="tap-pr1", password="wrong" * 4) == (
            REFUSED)

    elasticache.modify_user_group(UserGroupId=group_id, UserIdsToRemove=[app_id])
    for port in (6379, 6380):
        wait_for(lambda port=port: cli(emulator, entry, port, "PING", user="tap-pr1") == (
            REFUSED), 5, f"tap-pr1 refused on port {port}")

    elasticache.modify_serverless_cache(ServerlessCacheName=cache["ServerlessCacheName"],
                                        RemoveUserGroup=True)
    for port in (6379, 6380):
        wait_for(lambda port=port: cli(emulator, entry, port, "PING") == "PONG", 5,
                 f"the open default user back on port {port}")
    elasticache.delete_serverless_cache(ServerlessCacheName=cache["ServerlessCacheName"])
