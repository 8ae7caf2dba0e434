"""A real PostgreSQL per Aurora PostgreSQL cluster of moto, kept as RDS keeps the cluster.

``Databases(runtime).start()`` hooks moto's RDS backend (any account and region):

- CreateDBCluster of an ``aurora-postgresql`` cluster starts a stand-in (``postgres.py``) in a
  thread: a loopback address of its own (``take_address``), the cluster's port,
  a certificate of the emulator's CA for the writer and reader endpoint names, which the
  hosts file then resolves to that address; the master user with the password of the cluster
  (the AWSCURRENT value of its RDS-managed secret, or ``MasterUserPassword``), the database
  ``DatabaseName`` owned by it, and for ``rds_iam``'s members the PAM service of
  ``rds_iam.py``. Until the server answers, DescribeDBClusters says ``creating``; if it cannot
  start, ``failed`` (an RDS status word), and the emulator's log and ``GET
  /_tap/runtime/standins`` say which program failed and what it printed;
- CreateDBClusterSnapshot (and DeleteDBCluster's final snapshot, which goes through it) copies
  the running server's data (``pg_basebackup``); CopyDBClusterSnapshot copies that copy,
  DeleteDBClusterSnapshot removes it; RestoreDBClusterFromSnapshot starts the new cluster's
  stand-in from it (with the new cluster's own master password). A snapshot taken while no
  stand-in ran (an automated one at create, say) holds no data: its restore starts empty,
  and the stand-in's notes say so;
- DeleteDBCluster stops the server and frees its address, names and PAM service.

The RDS Data API (``emulator/moto_ext/rds_data.py``) runs its statements here (``execute``):
on the cluster's running stand-in, as the secret's user, with ``data_api.run_statement``.

A watcher thread compares, every ``WATCH_SECONDS``, each cluster's master password with the
one last set and runs ``ALTER ROLE ... PASSWORD`` when it changed: a rotation of the managed
secret (``RotateSecret``, ``ModifyDBCluster --rotate-master-user-password``; see
``emulator/moto_ext/rds_managed_secret.py``) or a new ``MasterUserPassword`` reaches the
database within seconds, as RDS's managed rotation does within a minute.

Stand-ins: PostgreSQL 15.x (Debian 12) for Aurora PostgreSQL 16.x; what differs is in
``postgres.py``. Not followed: ModifyDBCluster renaming the cluster (the endpoint names stay),
StopDBCluster/StartDBCluster (the server keeps running), instance endpoints (only the
cluster's writer and reader endpoints resolve), Aurora MySQL (no stand-in).
"""
from __future__ import annotations

import itertools
import json
import shutil
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from moto.rds.models import DBCluster, RDSBackend
from moto.secretsmanager.exceptions import SecretNotFoundException

from emulator.moto_ext import rds_data
from emulator.runtime.data_api import DatabaseError, StatementError, run_statement
from emulator.moto_ext.rds_cluster import snapshot_identifier
from emulator.runtime.postgres import PostgresServer, connect_check, server_version
from emulator.runtime.rds_iam import RdsIam, Target
from emulator.runtime.standins import StandIn, StartError, log, remove_tree, take_address

if TYPE_CHECKING:
    from emulator.runtime import Runtime

ENGINE = "aurora-postgresql"
COMPONENT = "databases"
WATCH_SECONDS = 2.0
CHECK_NAME = "standins-check.postgresql.internal"

_ACTIVE: list[Databases] = []  # the started component moto's hooks report to (one at most)
_RESTORING = threading.local()  # the snapshot a RestoreDBClusterFromSnapshot starts from


class Databases:
    """The Aurora stand-ins of one runtime."""

    def __init__(self, runtime: Runtime) -> None:
        self.network = runtime.network
        self.directory = runtime.state_dir / "db"
        self.rds_iam = RdsIam(runtime.control, runtime.url, self.directory, self.target)
        self._lock = threading.Lock()
        self._numbers = itertools.count(1)
        self._standins: dict[str, StandIn] = {}  # by cluster ARN
        self._servers: dict[str, PostgresServer] = {}
        self._passwords: dict[str, str] = {}  # the master password last set, by cluster ARN
        self._snapshots: dict[tuple[str, str, str], Path] = {}  # (account, region, id): data
        self._stopping = threading.Event()
        self._watcher = threading.Thread(target=self._watch, name="master passwords",
                                         daemon=True)

    def start(self) -> Databases:
        self.directory.mkdir(parents=True, exist_ok=True)
        self.directory.chmod(0o755)  # the postgres OS user reaches its clusters' directories
        self.rds_iam.remove_stale_services()
        _install_hooks()
        _ACTIVE[:] = [self]
        rds_data.EXECUTORS[:] = [self.execute]
        self._watcher.start()
        return self

    # -- moto's events -------------------------------------------------------------------

    def created(self, backend: RDSBackend, cluster: DBCluster, snapshot: str | None) -> None:
        if cluster.engine != ENGINE:
            return
        port = int(cluster.port)
        standin = StandIn(kind="postgresql", resource=cluster.db_cluster_arn,
                          identifier=cluster.db_cluster_identifier,
                          stands_for=f"{ENGINE} {cluster.engine_version}",
                          names=[cluster.endpoint, cluster.reader_endpoint], ports=[port])
        data = None
        if snapshot is not None:
            data = self._snapshots.get((backend.account_id, backend.region_name, snapshot))
            standin.notes.append(f"restored from snapshot {snapshot}" if data is not None else
                                 f"snapshot {snapshot} holds no data here (taken while no "
                                 "stand-in ran): started empty")
        with self._lock:
            self._standins[standin.resource] = standin
        standin.launch(lambda record: self._start(record, cluster, data), COMPONENT)

    def _start(self, standin: StandIn, cluster: DBCluster, data: Path | None) -> None:
        standin.version = server_version()
        number = next(self._numbers)
        standin.address = take_address(self.network, "database", standin.ports)
        certificate = self.network.authority.issue(f"db-{number}", standin.names)
        service = self.rds_iam.service_name(number)
        server = PostgresServer(self.directory / str(number), address=standin.address,
                                port=standin.ports[0], certificate=certificate,
                                pam_service=service)
        standin.directory = server.directory
        with self._lock:
            self._servers[standin.resource] = server
        server.prepare(snapshot=data)
        self.rds_iam.install_service(service, standin.resource)
        server.start()
        standin.pids = [pid for pid in (server.pid(),) if pid is not None]
        password = master_password(cluster)
        server.bootstrap(cluster.master_username, password, cluster.database_name)
        self._passwords[standin.resource] = password
        for name in standin.names:
            self.network.hosts.set(name, standin.address)

    def snapshot_taken(self, backend: RDSBackend, cluster_id: str, snapshot: str) -> None:
        """A manual (or final) snapshot of a running stand-in: a copy of its data."""
        resource = self._resource(backend, cluster_id)
        with self._lock:
            server = self._servers.get(resource or "")
            standin = self._standins.get(resource or "")
        if server is None or standin is None or standin.state != "running":
            return
        target = self.directory / "snapshots" / str(next(self._numbers)) / "data"
        try:
            server.basebackup(target)
        except StartError as error:
            log(COMPONENT, f"snapshot {snapshot} of {cluster_id} holds no data: {error}")
            return
        self._snapshots[(backend.account_id, backend.region_name, snapshot)] = target
        log(COMPONENT, f"snapshot {snapshot} of {cluster_id}: its data in {target}")

    def snapshot_copied(self, backend: RDSBackend, source: str, target: str) -> None:
        data = self._snapshots.get((backend.account_id, backend.region_name, source))
        if data is None:
            return
        copy = self.directory / "snapshots" / str(next(self._numbers)) / "data"
        shutil.copytree(data.parent, copy.parent, symlinks=True)
        self._snapshots[(backend.account_id, backend.region_name, target)] = copy

    def snapshot_deleted(self, backend: RDSBackend, snapshot: str) -> None:
        data = self._snapshots.pop((backend.account_id, backend.region_name, snapshot), None)
        if data is not None:
            remove_tree(data.parent)

    def deleted(self, cluster: DBCluster) -> None:
        with self._lock:
            standin = self._standins.pop(cluster.db_cluster_arn, None)
        if standin is not None:
            self._stop(standin)
            log(COMPONENT, f"{standin.identifier}: stopped (cluster deleted)")

    def _stop(self, standin: StandIn) -> None:
        standin.wait_started()
        with self._lock:
            server = self._servers.pop(standin.resource, None)
        if server is not None:
            server.remove()
            self.rds_iam.remove_service(server.pam_service)
        for name in standin.names:
            self.network.hosts.remove(name)
        if standin.address is not None:
            self.network.addresses.give_back("database", standin.address)
        standin.state, standin.pids = "stopped", []

    def _resource(self, backend: RDSBackend, cluster_id: str) -> str | None:
        cluster = backend.clusters.get(cluster_id)
        return None if cluster is None else str(cluster.db_cluster_arn)

    # -- what others ask -----------------------------------------------------------------

    def status(self, cluster: DBCluster) -> str | None:
        """The status the cluster shows while its stand-in is not running, else None."""
        standin = self._standins.get(cluster.db_cluster_arn)
        if standin is None or standin.state == "running":
            return None
        return "creating" if standin.state == "starting" else "failed"

    def target(self, cluster_arn: str) -> Target | None:
        """What an IAM token must be for to reach that cluster's stand-in."""
        standin = self._standins.get(cluster_arn)
        cluster = None if standin is None else _cluster(cluster_arn)
        if standin is None or cluster is None:
            return None
        return Target(cluster=cluster.db_cluster_identifier,
                      hosts=tuple(name.lower() for name in standin.names),
                      port=standin.ports[0], region=cluster.region,
                      account=cluster.account_id, resource_id=cluster.db_cluster_resource_id,
                      iam_enabled=bool(cluster.iam_auth))

    def describe(self) -> list[dict[str, Any]]:
        with self._lock:
            return [standin.describe() for standin in self._standins.values()]

    def execute(self, cluster_arn: str, *, user: str, password: str, database: str, sql: str,
                parameters: list[dict[str, Any]]) -> dict[str, Any]:
        """One Data API statement on the cluster's stand-in: the result's fields, or
        ``{"error": (code, message[, status])}``."""
        with self._lock:
            standin = self._standins.get(cluster_arn)
            server = self._servers.get(cluster_arn)
        if standin is None or server is None or standin.state != "running":
            return {"error": ("DatabaseUnavailableException",
                              "The writer instance in the DB cluster isn't available.", 504)}
        try:
            result = run_statement(server, host=standin.names[0],
                                   ca_bundle=str(self.network.authority.bundle), user=user,
                                   password=password, database=database, sql=sql,
                                   parameters=parameters)
        except StatementError as error:
            return {"error": ("DatabaseErrorException", str(error))}
        except DatabaseError as error:
            suffix = f"; SQLState: {error.sqlstate}" if error.sqlstate else ""
            return {"error": ("DatabaseErrorException", f"{error.message}{suffix}")}
        return {"records": result.records, "updated": result.updated,
                "has_rows": result.has_rows, "column_metadata": result.column_metadata}

    def check(self) -> dict[str, Any]:
        """A throw-away PostgreSQL: starts, takes a TLS connection (verify-full), refuses a
        plain one, stops."""
        result: dict[str, Any] = {"kind": "postgresql", "ok": False}
        address = None
        server = None
        try:
            result["version"] = server_version()
            address = take_address(self.network, "database", [5432])
            number = next(self._numbers)
            server = PostgresServer(
                self.directory / f"check-{number}", address=address, port=5432,
                certificate=self.network.authority.issue(f"db-check-{number}", [CHECK_NAME]),
                pam_service=self.rds_iam.service_name(number))
            server.prepare()
            server.start()
            result["tls"] = connect_check(server, CHECK_NAME, self.network.authority.bundle)
            result["ok"] = result["tls"] == "t"
        except StartError as error:
            result["error"] = str(error)
        finally:
            if server is not None:
                server.remove()
            if address is not None:
                self.network.addresses.give_back("database", address)
        return result

    # -- rotation ------------------------------------------------------------------------

    def _watch(self) -> None:
        while not self._stopping.wait(WATCH_SECONDS):
            with self._lock:
                running = [(resource, server) for resource, server in self._servers.items()
                           if getattr(self._standins.get(resource), "state", "") == "running"]
            for resource, server in running:
                self._follow_password(resource, server)

    def _follow_password(self, resource: str, server: PostgresServer) -> None:
        cluster = _cluster(resource)
        if cluster is None:
            return
        try:
            password = master_password(cluster)
            if password == self._passwords.get(resource):
                return
            server.set_password(cluster.master_username, password)
        except SecretNotFoundException:  # deleted with its cluster, whose stand-in stops next
            return
        # The watcher outlives any one cluster's trouble (psql failing, say): it says so
        # and goes on.
        except Exception as error:  # pylint: disable=broad-exception-caught
            log(COMPONENT, f"{cluster.db_cluster_identifier}: the master password could not "
                           f"be followed: {error}")
            return
        self._passwords[resource] = password
        log(COMPONENT, f"{cluster.db_cluster_identifier}: master password changed in "
                       "PostgreSQL (the cluster's password changed)")

    def stop(self) -> None:
        """Stop the watcher and every stand-in, then forget the hooks."""
        self._stopping.set()
        if self._watcher.is_alive():
            self._watcher.join(WATCH_SECONDS * 5)
        with self._lock:
            standins = list(self._standins.values())
            self._standins.clear()
        for standin in standins:
            self._stop(standin)
        self.rds_iam.stop()
        if _ACTIVE and _ACTIVE[0] is self:
            _ACTIVE.clear()
            rds_data.EXECUTORS.clear()


def master_password(cluster: DBCluster) -> str:
    """The cluster's master password: its managed secret's AWSCURRENT, or the one given."""
    if getattr(cluster, "manage_master_user_password", False):
        secret = cluster.master_user_secret
        value = secret.secretsmanager.get_secret_value(secret.secret_arn, None, "AWSCURRENT")
        return str(json.loads(value["SecretString"])["password"])
    # moto keeps a given password only behind a property that refuses to return it.
    return str(cluster._master_user_password)  # pylint: disable=protected-access


def _cluster(arn: str) -> DBCluster | None:
    """moto's cluster of that ARN (``arn:aws:rds:<region>:<account>:cluster:<id>``)."""
    from moto.rds.models import rds_backends  # pylint: disable=import-outside-toplevel

    parts = arn.split(":")
    if len(parts) != 7:
        return None
    cluster = rds_backends[parts[4]][parts[3]].clusters.get(parts[6])
    return cluster if cluster is not None and cluster.db_cluster_arn == arn else None


def _active() -> Databases | None:
    return _ACTIVE[0] if _ACTIVE else None


def _install_hooks() -> None:
    """Wrap moto's RDS backend once per process: each wrapper tells the active component."""
    if getattr(RDSBackend.create_db_cluster, "tap_runtime", False):
        return
    create, restore = RDSBackend.create_db_cluster, RDSBackend.restore_db_cluster_from_snapshot
    delete, snapshot = RDSBackend.delete_db_cluster, RDSBackend.create_db_cluster_snapshot
    copy, drop = RDSBackend.copy_db_cluster_snapshot, RDSBackend.delete_db_cluster_snapshot
    status = DBCluster.status

    def create_db_cluster(self: RDSBackend, kwargs: dict[str, Any]) -> DBCluster:
        cluster = create(self, kwargs)
        if (databases := _active()) is not None:
            databases.created(self, cluster, getattr(_RESTORING, "snapshot", None))
        return cluster

    def restore_db_cluster_from_snapshot(self: RDSBackend, from_snapshot_id: str,
                                         overrides: dict[str, Any]) -> DBCluster:
        _RESTORING.snapshot = snapshot_identifier(self, from_snapshot_id)  # an ARN too
        try:
            return restore(self, from_snapshot_id, overrides)
        finally:
            _RESTORING.snapshot = None

    def delete_db_cluster(self: RDSBackend, cluster_identifier: str,
                          snapshot_name: str | None = None) -> DBCluster:
        cluster = delete(self, cluster_identifier, snapshot_name)
        if (databases := _active()) is not None:
            databases.deleted(cluster)
        return cluster

    def create_db_cluster_snapshot(self: RDSBackend, db_cluster_identifier: str,
                                   db_cluster_snapshot_identifier: str,
                                   snapshot_type: str = "manual", tags: Any = None) -> Any:
        taken = snapshot(self, db_cluster_identifier, db_cluster_snapshot_identifier,
                         snapshot_type, tags)
        if snapshot_type == "manual" and (databases := _active()) is not None:
            databases.snapshot_taken(self, db_cluster_identifier,
                                     db_cluster_snapshot_identifier)
        return taken

    def copy_db_cluster_snapshot(self: RDSBackend, source_db_cluster_snapshot_identifier: str,
                                 target_db_cluster_snapshot_identifier: str,
                                 *args: Any, **kwargs: Any) -> Any:
        copied = copy(self, source_db_cluster_snapshot_identifier,
                      target_db_cluster_snapshot_identifier, *args, **kwargs)
        if (databases := _active()) is not None:
            databases.snapshot_copied(self, source_db_cluster_snapshot_identifier,
                                      target_db_cluster_snapshot_identifier)
        return copied

    def delete_db_cluster_snapshot(self: RDSBackend, db_snapshot_identifier: str) -> Any:
        deleted = drop(self, db_snapshot_identifier)
        if (databases := _active()) is not None:
            databases.snapshot_deleted(self, db_snapshot_identifier)
        return deleted

    def cluster_status(self: DBCluster) -> str:
        databases = _active()
        shown = None if databases is None else databases.status(self)
        return shown if shown is not None else str(status.fget(self))  # type: ignore[attr-defined]

    create_db_cluster.tap_runtime = True  # type: ignore[attr-defined]
    RDSBackend.create_db_cluster = create_db_cluster  # type: ignore[method-assign]
    RDSBackend.restore_db_cluster_from_snapshot = (  # type: ignore[method-assign]
        restore_db_cluster_from_snapshot)
    RDSBackend.delete_db_cluster = delete_db_cluster  # type: ignore[method-assign]
    RDSBackend.create_db_cluster_snapshot = create_db_cluster_snapshot  # type: ignore
    RDSBackend.copy_db_cluster_snapshot = copy_db_cluster_snapshot  # type: ignore
    RDSBackend.delete_db_cluster_snapshot = delete_db_cluster_snapshot  # type: ignore
    DBCluster.status = property(cluster_status, status.fset)  # type: ignore
