"""A real Redis per ElastiCache Serverless cache (Valkey or Redis OSS) of the emulator.

``Caches(runtime).start()`` hooks the emulator's ElastiCache Serverless extension
(``emulator/moto_ext/elasticache_serverless.py``): CreateServerlessCache starts, in a thread,
Debian's ``redis-server`` (``TAP_REDIS_SERVER`` points elsewhere) on a loopback address of
its own (``take_address``), TLS only as ElastiCache Serverless is (``--port 0
--tls-port 6379``; clients are not asked for certificates, ``--tls-auth-clients no``), with a
certificate of the emulator's CA for the cache's endpoint names, no persistence (``--save ""
--appendonly no``) and a directory of its own; the hosts file resolves both endpoint names to
that address. The cache reads ``creating`` until the server answers a TLS PING, then
``available``, or ``create-failed`` with the reason in the emulator's log and in ``GET
/_tap/runtime/standins``. DeleteServerlessCache stops it.

ElastiCache Serverless is cluster-mode only: it "presents itself as a cluster of one shard"
and answers ``CLUSTER SLOTS`` with its endpoint's name, so cluster clients (the reference
application's ``RedisCluster``) follow that name. The stand-in is a one-node Redis Cluster
(``--cluster-enabled yes``, ``--tls-cluster yes``) that owns every slot and announces the
cache's DNS name (``--cluster-announce-hostname``, ``--cluster-preferred-endpoint-type
hostname``); the hosts file resolves that name to the stand-in's address.

The reader endpoint (port 6380): ElastiCache Serverless serves reads "optimized for latency"
on port 6380 of the same DNS name, from replicas, eventually consistent
(https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/ReadReplicas.html). One
``redis-server`` serves one TLS port, so a second one listens on 6380 of the same address and
joins the cluster as the replica of the first (``CLUSTER MEET``, ``CLUSTER REPLICATE``, TLS
replication): reads there see the primary's writes within milliseconds; a write there is
redirected (``MOVED`` to port 6379), as a replica of a cluster answers.

Access control: a cache's user group (``UserGroupId``, at create or by ModifyServerlessCache)
is applied to both nodes as Redis ACL users (``cache_acl.py``), before the cache reads
``available`` and then, by a watcher thread every ``ACL_WATCH_SECONDS``, whenever the group's
members, their access strings or passwords change (ModifyUserGroup, ModifyUser, DeleteUser,
a group added or removed): within seconds of the API call, as ElastiCache applies a user
group change while the group reads ``modifying``. A cache without a group keeps the open
default user. The stand-in administers itself as a user of its own (``cache_acl.ADMIN_USER``,
a random password in each node's configuration file, mode 0600).

Stand-in: Redis 7.0.15 (Debian 12) for ElastiCache Serverless Valkey 8 (or Redis OSS 7).
What differs: one shard on one host, not a sharded, multi-AZ cluster behind a proxy; no
Valkey 8 commands or behaviour beyond Redis 7.0's; no IAM authentication of users, no usage
limits, no snapshots. Memcached caches get no stand-in.
"""
from __future__ import annotations

import itertools
import os
import re
import secrets
import subprocess
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from moto.elasticache.models import ElastiCacheBackend, elasticache_backends

from emulator.moto_ext import elasticache_serverless
from emulator.moto_ext.elasticache_users import EffectiveUser, effective_users
from emulator.runtime.cache_acl import (ADMIN_USER, redis_cli_script, setuser_commands,
                                        stale_users)
from emulator.runtime.standins import (BASE_ENVIRONMENT, StandIn, StartError, log,
                                       remove_tree, require, run, tail, take_address)

if TYPE_CHECKING:
    from emulator.runtime import Runtime
    from emulator.runtime.network import Network

REDIS_SERVER = Path(os.environ.get("TAP_REDIS_SERVER", "/usr/bin/redis-server"))
REDIS_CLI = REDIS_SERVER.with_name("redis-cli")
ENGINES = ("valkey", "redis")
COMPONENT = "caches"
READY_SECONDS = 15.0
ACL_WATCH_SECONDS = 1.0
CHECK_NAME = "standins-check.cache.internal"

_ACTIVE: list[Caches] = []


class RedisServer:  # pylint: disable=too-many-instance-attributes
    """One ``redis-server`` process: TLS only on ``address:port``; given ``hostname``, a node
    of a one-shard cluster that announces it (the primary, or with ``primary_port`` its
    replica); without, a standalone server (the pre-flight check's)."""

    def __init__(self, directory: Path, *, address: str, port: int,
                 certificate: tuple[Path, Path], ca_bundle: Path, admin_password: str,
                 hostname: str | None = None, primary_port: int | None = None) -> None:
        self.directory = directory
        self.address = address
        self.port = port
        self.certificate = certificate
        self.ca_bundle = ca_bundle
        self.admin_password = admin_password
        self.hostname = hostname
        self.primary_port = primary_port
        self.process: subprocess.Popen[bytes] | None = None

    def _configuration(self) -> Path:
        """The node's configuration file: the stand-in's own user (and, for a replica, how
        it authenticates to its primary), so that no password is on a command line."""
        path = self.directory / f"redis-{self.port}.conf"
        lines = [f"user {ADMIN_USER} on >{self.admin_password} ~* &* +@all"]
        if self.primary_port is not None:
            lines += [f"masteruser {ADMIN_USER}", f"masterauth {self.admin_password}"]
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        path.chmod(0o600)
        return path

    def start(self) -> None:
        """Start it and wait until it serves: a TLS PING, and for a cluster node the cluster
        state ``ok`` with every slot on the primary (and, the replica, its link to the primary
        up); StartError with the tail of its log otherwise."""
        require(REDIS_SERVER, "redis-server")
        require(REDIS_CLI, "redis-tools")
        self.directory.mkdir(parents=True, exist_ok=True)
        log_path = self.directory / f"redis-{self.port}.log"
        command = [str(REDIS_SERVER), str(self._configuration()), "--bind", self.address,
                   "--port", "0",
                   "--tls-port", str(self.port),
                   "--tls-cert-file", str(self.certificate[0]),
                   "--tls-key-file", str(self.certificate[1]),
                   "--tls-ca-cert-file", str(self.ca_bundle), "--tls-auth-clients", "no",
                   # Bound to its own address only; ElastiCache answers any client of the VPC.
                   "--protected-mode", "no",
                   "--save", "", "--appendonly", "no", "--dir", str(self.directory),
                   "--daemonize", "no", "--logfile", str(log_path)]
        if self.hostname is not None:
            command += ["--cluster-enabled", "yes", "--tls-cluster", "yes",
                        "--tls-replication", "yes", "--cluster-port", str(self.port + 10000),
                        "--cluster-announce-hostname", self.hostname,
                        # Connections between loopback addresses leave from 127.0.0.1: without
                        # this, the peer would call back at 127.0.0.1, where nothing listens.
                        "--cluster-announce-ip", self.address,
                        "--cluster-preferred-endpoint-type", "hostname",
                        "--cluster-config-file", str(self.directory / f"nodes-{self.port}.conf"),
                        # the replica's first sync at once, not after the default 5 s wait
                        "--repl-diskless-sync-delay", "0"]
        self.process = subprocess.Popen(  # pylint: disable=consider-using-with
            command, cwd=self.directory, env=dict(BASE_ENVIRONMENT),
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self._wait_for(log_path, "PONG", lambda: self.cli("PING"))
        if self.hostname is None:
            return
        if self.primary_port is None:
            self.cli("CLUSTER", "ADDSLOTSRANGE", "0", "16383")
            self._wait_for(log_path, "cluster_state:ok", lambda: self.cli("CLUSTER", "INFO"))
            return
        primary = RedisServer(self.directory, address=self.address, port=self.primary_port,
                              certificate=self.certificate, ca_bundle=self.ca_bundle,
                              admin_password=self.admin_password)
        primary_id = primary.cli("CLUSTER", "MYID").strip()
        self.cli("CLUSTER", "MEET", self.address, str(self.primary_port))
        self._wait_for(log_path, primary_id, lambda: self.cli("CLUSTER", "NODES"))
        # REPLICATE needs the primary's node known as a master with slots: retried until so.
        self._wait_for(log_path, "OK", lambda: self.cli("CLUSTER", "REPLICATE", primary_id))
        self._wait_for(log_path, "master_link_status:up",
                       lambda: self.cli("INFO", "replication"))
        self._wait_for(log_path, "cluster_state:ok", lambda: self.cli("CLUSTER", "INFO"))
        # ...and the primary knows it as its replica, by name (then CLUSTER SLOTS there shows
        # it), once gossip ran.
        replica_id = self.cli("CLUSTER", "MYID").strip()
        wanted = f"{replica_id} {self.address}:{self.port}@{self.port + 10000},{self.hostname} " \
                 f"slave {primary_id} "
        self._wait_for(log_path, wanted, lambda: primary.cli("CLUSTER", "NODES"))

    def _wait_for(self, log_path: Path, wanted: str, ask: Callable[[], str]) -> None:
        """Ask until the answer holds ``wanted``; StartError when the server exits or
        READY_SECONDS pass."""
        assert self.process is not None
        deadline = time.monotonic() + READY_SECONDS
        while True:
            if self.process.poll() is not None:
                raise StartError(f"redis-server on port {self.port} exited "
                                 f"({self.process.returncode}): {self._log(log_path)}")
            try:
                answer = ask()
            except StartError:
                answer = ""
            if wanted in answer:
                return
            if time.monotonic() > deadline:
                self.stop()
                raise StartError(f"redis-server on port {self.port} did not answer {wanted} in "
                                 f"{READY_SECONDS:.0f} s: {self._log(log_path)}")
            time.sleep(0.1)

    def cli(self, *arguments: str, name: str | None = None, stdin: str | None = None,
            what: str | None = None) -> str:
        """``redis-cli --tls`` against this server as the stand-in's own user (its password
        through REDISCLI_AUTH), verifying its certificate by our CA; commands given on
        standard input when ``stdin`` is."""
        return run([str(REDIS_CLI), "-h", self.address, "-p", str(self.port), "--tls",
                    "--cacert", str(self.ca_bundle), *(["--sni", name] if name else []),
                    "--user", ADMIN_USER, *arguments],
                   environment={"REDISCLI_AUTH": self.admin_password}, stdin=stdin,
                   what=what or f"redis-cli {' '.join(arguments)}", timeout=10)

    def apply_users(self, users: list[EffectiveUser] | None) -> None:
        """Make the node's ACL users those of the cache's group (None: no group)."""
        commands = setuser_commands(users)
        answers = self.cli(stdin=redis_cli_script(commands), what="redis-cli ACL SETUSER")
        if answers.split() != ["OK"] * len(commands):
            raise StartError(f"ACL SETUSER on port {self.port} answered: {tail(answers)}")
        stale = stale_users(self.cli("ACL", "USERS").split(), users)
        if stale:
            self.cli("ACL", "DELUSER", *stale)

    def pid(self) -> int:
        assert self.process is not None, "not started"
        return self.process.pid

    @staticmethod
    def _log(path: Path) -> str:
        return tail(path.read_text(encoding="utf-8", errors="replace")) if path.exists() \
            else "(no log)"

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def server_version() -> str:
    require(REDIS_SERVER, "redis-server")
    output = run([str(REDIS_SERVER), "--version"], what="redis-server --version")
    match = re.search(r"v=(\S+)", output)
    return match.group(1) if match else output.strip()


class Caches:
    """The serverless cache stand-ins of one runtime."""

    def __init__(self, runtime: Runtime) -> None:
        self.network: Network = runtime.network
        self.directory = runtime.state_dir / "cache"
        self._lock = threading.Lock()
        self._numbers = itertools.count(1)
        self._standins: dict[str, StandIn] = {}  # by cache ARN
        self._servers: dict[str, list[RedisServer]] = {}
        self._applied: dict[str, object] = {}  # the users last applied, by cache ARN
        self._stopping = threading.Event()
        self._watcher = threading.Thread(target=self._watch, name="cache users", daemon=True)

    def start(self) -> Caches:
        _install_hooks()
        _ACTIVE[:] = [self]
        self._watcher.start()
        return self

    def created(self, cache: dict[str, Any]) -> None:
        if cache["Engine"] not in ENGINES:
            return
        standin = StandIn(
            kind="redis", resource=cache["ARN"], identifier=cache["ServerlessCacheName"],
            stands_for=f"ElastiCache Serverless {cache['Engine']} {cache['FullEngineVersion']}",
            names=sorted({cache["Endpoint"]["Address"], cache["ReaderEndpoint"]["Address"]}),
            ports=[cache["Endpoint"]["Port"], cache["ReaderEndpoint"]["Port"]])
        cache["Status"] = "creating"
        with self._lock:
            self._standins[standin.resource] = standin

        def start(record: StandIn) -> None:
            try:
                self._start(record)
            except Exception:
                cache["Status"] = "create-failed"
                raise
            cache["Status"] = "available"

        standin.launch(start, COMPONENT)

    def _start(self, standin: StandIn) -> None:
        standin.version = server_version()
        number = next(self._numbers)
        standin.address = take_address(self.network, "cache", standin.ports)
        standin.directory = self.directory / str(number)
        certificate = self.network.authority.issue(f"cache-{number}", standin.names, client=True)
        primary_port, reader_port = standin.ports
        admin_password = secrets.token_hex(24)
        servers = [RedisServer(standin.directory, address=standin.address, port=port,
                               certificate=certificate, ca_bundle=self.network.authority.bundle,
                               admin_password=admin_password, hostname=standin.names[0],
                               primary_port=primary_port if port == reader_port else None)
                   for port in standin.ports]
        with self._lock:
            self._servers[standin.resource] = servers
        for name in standin.names:  # before the cluster forms: its nodes announce the name
            self.network.hosts.set(name, standin.address)
        for server in servers:
            server.start()
            standin.pids.append(server.pid())
        self._follow_users(standin.resource, servers)

    # -- the cache's user group ----------------------------------------------------------

    def _watch(self) -> None:
        while not self._stopping.wait(ACL_WATCH_SECONDS):
            with self._lock:
                running = [(resource, servers) for resource, servers in self._servers.items()
                           if getattr(self._standins.get(resource), "state", "") == "running"]
            for resource, servers in running:
                try:
                    self._follow_users(resource, servers)
                # The watcher outlives one cache's trouble: it says so and tries again.
                except StartError as error:
                    log(COMPONENT, f"{resource}: the user group could not be applied: {error}")

    def _follow_users(self, resource: str, servers: list[RedisServer]) -> None:
        """Apply the cache's user group to every node when it changed since last time."""
        found = _cache(resource)
        if found is None:  # deleted; its stand-in stops next
            return
        users = effective_users(*found)
        if self._applied.get(resource, ()) == users:
            return
        for server in servers:
            server.apply_users(users)
        self._applied[resource] = users
        log(COMPONENT, f"{found[1]['ServerlessCacheName']}: users "
                       f"{', '.join(user.name for user in users) if users else 'none'} "
                       f"(user group {found[1].get('UserGroupId') or 'none'}) applied")

    def deleted(self, cache: dict[str, Any]) -> None:
        with self._lock:
            standin = self._standins.pop(cache["ARN"], None)
        if standin is not None:
            self._stop(standin)
            log(COMPONENT, f"{standin.identifier}: stopped (cache deleted)")

    def _stop(self, standin: StandIn) -> None:
        standin.wait_started()
        with self._lock:
            servers = self._servers.pop(standin.resource, [])
        for server in reversed(servers):
            server.stop()
        for name in standin.names:
            self.network.hosts.remove(name)
        if standin.address is not None:
            self.network.addresses.give_back("cache", standin.address)
        if standin.directory is not None:
            remove_tree(standin.directory)
        standin.state, standin.pids = "stopped", []

    def describe(self) -> list[dict[str, Any]]:
        with self._lock:
            return [standin.describe() for standin in self._standins.values()]

    def check(self) -> dict[str, Any]:
        """A throw-away Redis: starts, answers PING over TLS (certificate verified), refuses
        a plain connection, stops."""
        result: dict[str, Any] = {"kind": "redis", "ok": False}
        address = None
        server = None
        try:
            result["version"] = server_version()
            address = take_address(self.network, "cache", [6379])
            number = next(self._numbers)
            server = RedisServer(
                self.directory / f"check-{number}", address=address, port=6379,
                certificate=self.network.authority.issue(f"cache-check-{number}", [CHECK_NAME]),
                ca_bundle=self.network.authority.bundle, admin_password=secrets.token_hex(24))
            server.start()
            result["tls"] = server.cli("PING", name=CHECK_NAME).strip()
            try:
                run([str(REDIS_CLI), "-h", address, "-p", "6379", "PING"],
                    what="redis-cli without TLS", timeout=10)
            except StartError:
                result["ok"] = result["tls"] == "PONG"
            else:
                result["error"] = "a connection without TLS was answered"
        except StartError as error:
            result["error"] = str(error)
        finally:
            if server is not None:
                server.stop()
                remove_tree(server.directory)
            if address is not None:
                self.network.addresses.give_back("cache", address)
        return result

    def stop(self) -> None:
        self._stopping.set()
        if self._watcher.is_alive():
            self._watcher.join(ACL_WATCH_SECONDS * 5)
        with self._lock:
            standins = list(self._standins.values())
            self._standins.clear()
        for standin in standins:
            self._stop(standin)
        if _ACTIVE and _ACTIVE[0] is self:
            _ACTIVE.clear()


def _cache(arn: str) -> tuple[ElastiCacheBackend, dict[str, Any]] | None:
    """moto's backend and the serverless cache of that ARN (``arn:aws:elasticache:<region>:
    <account>:serverlesscache:<name>``), or None when it is gone."""
    parts = arn.split(":")
    backend = elasticache_backends[parts[4]][parts[3]]
    cache = elasticache_serverless.caches(backend).get(parts[6])
    return None if cache is None or cache["ARN"] != arn else (backend, cache)


def _install_hooks() -> None:
    """Wrap the extension's create and delete once per process (its handlers call them by
    their module names)."""
    create = elasticache_serverless.create_serverless_cache
    if getattr(create, "tap_runtime", False):
        return
    delete = elasticache_serverless.delete_serverless_cache

    def create_serverless_cache(backend: ElastiCacheBackend, params: dict[str, Any]
                                ) -> dict[str, Any]:
        answer = create(backend, params)
        if _ACTIVE:
            _ACTIVE[0].created(elasticache_serverless.caches(backend)[answer["ServerlessCacheName"]])
        return answer

    def delete_serverless_cache(backend: ElastiCacheBackend, name: str) -> dict[str, Any]:
        answer = delete(backend, name)
        if _ACTIVE:
            _ACTIVE[0].deleted(answer)
        return answer

    create_serverless_cache.tap_runtime = True  # type: ignore[attr-defined]
    elasticache_serverless.create_serverless_cache = create_serverless_cache
    elasticache_serverless.delete_serverless_cache = delete_serverless_cache
