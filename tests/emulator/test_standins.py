"""The stand-ins (emulator/runtime/databases.py, caches.py) seen by a client: an emulator
with its runtime in this process (so that a test can expire an STS session as the task
runner does), boto3 for the AWS side and Debian's psql and redis-cli for the data side.

An Aurora cluster gets a PostgreSQL that takes only TLS, verifies as its endpoint names,
knows the master password of the managed secret and follows its rotation; members of
rds_iam get in with a valid IAM token only; a serverless cache gets a TLS-only Redis with a
replica on the reader port; snapshots keep data across delete and restore; delete stops
everything; the pre-flight check starts and stops throw-away servers. These tests run the
servers as the postgres OS user and write /etc/pam.d: they need root (CI runs as root).
"""
# pylint: disable=redefined-outer-name
from __future__ import annotations

import datetime
import json
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from typing import Any, Callable, Iterator, NamedTuple

import boto3
import pytest
from botocore.credentials import Credentials
from moto.core.utils import utcnow
from moto.sts.models import sts_backends

from emulator.runtime import Runtime
from emulator.runtime.caches import REDIS_CLI
from emulator.runtime.control import Control
from emulator.runtime.network import Network
from emulator.runtime.postgres import BINDIR
from emulator.runtime.standins import take_address
from emulator.server import listen
from tests.emulator.tokens import credentials, tampered, token

ACCOUNT = "123456789012"
TRUST = json.dumps({"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"},
    "Action": "sts:AssumeRole"}]})


class Running(NamedTuple):
    """An emulator with its runtime, in this process."""

    url: str
    runtime: Runtime
    state_dir: Path

    def aws(self, service: str, keys: Credentials | None = None) -> Any:
        return boto3.client(service, region_name="us-east-1", endpoint_url=self.url,
                            aws_access_key_id=keys.access_key if keys else "testing",
                            aws_secret_access_key=keys.secret_key if keys else "testing",
                            aws_session_token=keys.token if keys else None)

    def get(self, path: str) -> Any:
        with urllib.request.urlopen(f"{self.url}/_tap/runtime/{path}", timeout=30) as answer:
            return json.load(answer)

    def standin(self, identifier: str) -> dict[str, Any]:
        return next(entry for entry in self.get("standins")["standins"]
                    if entry["id"] == identifier)


def runtime_directory() -> Path:
    """A directory the postgres OS user can reach (pytest's base directory is 0700)."""
    directory = Path(tempfile.mkdtemp(prefix="tap-standins-", dir="/tmp"))
    directory.chmod(0o755)
    return directory


@pytest.fixture(scope="module")
def emulator() -> Iterator[Running]:
    directory = runtime_directory()
    control = Control(lambda *_: [])
    server = listen(0, None, control)
    url = f"http://127.0.0.1:{server.server_port}"
    runtime = Runtime(url, directory / "runtime", control).start()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield Running(url, runtime, directory / "runtime")
    runtime.stop()
    server.shutdown()
    server.server_close()
    shutil.rmtree(directory, ignore_errors=True)


def wait_for(check: Callable[[], Any], timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        assert time.monotonic() < deadline, f"{what}: not within {timeout} s"
        time.sleep(0.2)


def alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie, which an init that does not reap leaves, does not)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text(encoding="utf-8").split(") ")[1][0] != "Z"
    except (OSError, IndexError):
        return False


def create_cluster(emulator: Running, **extra: Any) -> dict[str, Any]:
    """A new Aurora PostgreSQL cluster (managed master secret, IAM authentication), waited
    for: the statuses DescribeDBClusters showed until it was available are under
    ``_statuses``."""
    rds = emulator.aws("rds")
    identifier = f"tap-{uuid.uuid4().hex[:6]}-aurora"
    arguments = {"DBClusterIdentifier": identifier, "Engine": "aurora-postgresql",
                 "EngineVersion": "16.6", "MasterUsername": "tap_admin",
                 "ManageMasterUserPassword": True, "DatabaseName": "tap",
                 "EnableIAMDatabaseAuthentication": True, **extra}
    if "SnapshotIdentifier" in extra:
        rds.restore_db_cluster_from_snapshot(**{key: value for key, value in arguments.items()
                                                if key not in ("MasterUsername", "DatabaseName",
                                                               "ManageMasterUserPassword")})
    else:
        rds.create_db_cluster(**arguments)
    statuses: list[str] = []

    def available() -> dict[str, Any] | None:
        (cluster,) = rds.describe_db_clusters(DBClusterIdentifier=identifier)["DBClusters"]
        if not statuses or statuses[-1] != cluster["Status"]:
            statuses.append(cluster["Status"])
        return cluster if cluster["Status"] not in ("creating",) else None

    cluster = dict(wait_for(available, 60, f"cluster {identifier} available"))
    assert cluster["Status"] == "available", emulator.standin(identifier)["error"]
    cluster["_statuses"] = statuses
    return cluster


def master_password(emulator: Running, cluster: dict[str, Any], stage: str = "AWSCURRENT"
                    ) -> str:
    value = emulator.aws("secretsmanager").get_secret_value(
        SecretId=cluster["MasterUserSecret"]["SecretArn"], VersionStage=stage)
    return str(json.loads(value["SecretString"])["password"])


def psql(emulator: Running, cluster: dict[str, Any], user: str, password: str, sql: str, *,
         sslmode: str = "verify-full", host: str | None = None
         ) -> subprocess.CompletedProcess[str]:
    """``psql`` as a client in the VPC: by endpoint name (verified against the emulator's CA)
    at the stand-in's address, which the VPC's DNS would give."""
    address = emulator.standin(cluster["DBClusterIdentifier"])["address"]
    target = (f"host={host or cluster['Endpoint']} hostaddr={address} port={cluster['Port']} "
              f"user={user} dbname=tap sslmode={sslmode} "
              f"sslrootcert={emulator.runtime.network.authority.bundle}")
    return subprocess.run([str(BINDIR / "psql"), target, "-X", "-A", "-t", "-c", sql],
                          env={"PATH": "/usr/bin:/bin", "PGPASSWORD": password,
                               "PGCONNECT_TIMEOUT": "10"},
                          capture_output=True, text=True, timeout=60, check=False)


def test_a_cluster_gets_a_postgresql_that_takes_only_tls(emulator: Running) -> None:
    cluster = create_cluster(emulator)
    assert cluster["_statuses"] == ["creating", "available"]
    identifier, password = cluster["DBClusterIdentifier"], master_password(emulator, cluster)
    standin = emulator.standin(identifier)
    assert standin["kind"] == "postgresql" and standin["state"] == "running"
    assert standin["stands_for"] == "aurora-postgresql 16.6"
    assert standin["version"].startswith("15.")
    assert standin["names"] == [cluster["Endpoint"], cluster["ReaderEndpoint"]]
    assert standin["address"].startswith("127.0.2.") and standin["ports"] == [5432]
    assert standin["error"] is None and 0 < standin["start_seconds"] < 30
    assert all(alive(pid) for pid in standin["pids"]) and len(standin["pids"]) == 1
    hosts = (emulator.state_dir / "hosts").read_text(encoding="utf-8").splitlines()
    assert f"{standin['address']} {cluster['Endpoint']}" in hosts
    assert f"{standin['address']} {cluster['ReaderEndpoint']}" in hosts

    for host in (cluster["Endpoint"], cluster["ReaderEndpoint"]):
        answer = psql(emulator, cluster, "tap_admin", password,
                      "SELECT current_user, ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
                      host=host)
        assert (answer.returncode, answer.stdout) == (0, "tap_admin|t\n"), answer.stderr
    roles = psql(emulator, cluster, "tap_admin", password,
                 "SELECT rolname, rolcanlogin, rolcreaterole, rolcreatedb, rolsuper FROM pg_roles "
                 "WHERE rolname IN ('rds_superuser', 'rds_iam', 'tap_admin') ORDER BY 1; "
                 "SELECT pg_has_role('tap_admin', 'rds_superuser', 'MEMBER'); "
                 "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = 'tap'; "
                 "SHOW password_encryption")
    assert roles.stdout.splitlines() == [
        "rds_iam|f|f|f|f", "rds_superuser|f|f|f|f", "tap_admin|t|t|t|f", "t", "tap_admin",
        "scram-sha-256"], roles.stderr

    plain = psql(emulator, cluster, "tap_admin", password, "SELECT 1", sslmode="disable")
    assert plain.returncode == 2
    assert "no pg_hba.conf entry" in plain.stderr and "no encryption" in plain.stderr
    wrong = psql(emulator, cluster, "tap_admin", password + "x", "SELECT 1")
    assert wrong.returncode == 2
    assert 'password authentication failed for user "tap_admin"' in wrong.stderr
    impostor = psql(emulator, cluster, "tap_admin", password, "SELECT 1",
                    host="impostor.example.com")
    assert impostor.returncode == 2 and "does not match host name" in impostor.stderr


def test_the_rotated_master_password_works_within_a_minute(emulator: Running) -> None:
    cluster = create_cluster(emulator)
    old = master_password(emulator, cluster)
    began = time.monotonic()
    emulator.aws("secretsmanager").rotate_secret(
        SecretId=cluster["MasterUserSecret"]["SecretArn"])
    new = master_password(emulator, cluster)
    assert new != old and master_password(emulator, cluster, "AWSPREVIOUS") == old
    wait_for(lambda: psql(emulator, cluster, "tap_admin", new, "SELECT 1").returncode == 0,
             60, "the new master password")
    assert time.monotonic() - began < 60
    refused = psql(emulator, cluster, "tap_admin", old, "SELECT 1")
    assert refused.returncode == 2 and "password authentication failed" in refused.stderr

    emulator.aws("rds").modify_db_cluster(DBClusterIdentifier=cluster["DBClusterIdentifier"],
                                          RotateMasterUserPassword=True, ApplyImmediately=True)
    newer = master_password(emulator, cluster)
    assert newer != new
    wait_for(lambda: psql(emulator, cluster, "tap_admin", newer, "SELECT 1").returncode == 0,
             60, "the master password rotated by ModifyDBCluster")


def test_a_given_master_password_and_its_change_reach_the_database(emulator: Running) -> None:
    cluster = create_cluster(emulator, ManageMasterUserPassword=False,
                             MasterUserPassword="first-password-1")
    assert psql(emulator, cluster, "tap_admin", "first-password-1", "SELECT 1").returncode == 0
    emulator.aws("rds").modify_db_cluster(DBClusterIdentifier=cluster["DBClusterIdentifier"],
                                          MasterUserPassword="second-password-2",
                                          ApplyImmediately=True)
    wait_for(lambda: psql(emulator, cluster, "tap_admin", "second-password-2",
                          "SELECT 1").returncode == 0, 60, "the modified master password")
    assert psql(emulator, cluster, "tap_admin", "first-password-1", "SELECT 1").returncode == 2


def _session(emulator: Running, cluster: dict[str, Any], user: str | None
             ) -> tuple[str, Credentials]:
    """An STS session of a new role; with ``user``, allowed rds-db:connect as that user on
    the cluster."""
    iam = emulator.aws("iam")
    name = f"task-{uuid.uuid4().hex[:8]}"
    role = iam.create_role(RoleName=name, AssumeRolePolicyDocument=TRUST)["Role"]["Arn"]
    if user is not None:
        resource = (f"arn:aws:rds-db:us-east-1:{ACCOUNT}:dbuser:"
                    f"{cluster['DbClusterResourceId']}/{user}")
        iam.put_role_policy(RoleName=name, PolicyName="connect", PolicyDocument=json.dumps({
            "Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Action": "rds-db:connect", "Resource": resource}]}))
    answer = emulator.aws("sts").assume_role(RoleArn=role, RoleSessionName="task")
    return answer["AssumedRoleUser"]["Arn"], credentials(answer["Credentials"])


def test_members_of_rds_iam_get_in_with_a_valid_token_only(emulator: Running) -> None:
    assert os.geteuid() == 0, ("IAM authentication needs root: the stand-in writes its PAM "
                               "service to /etc/pam.d (run the tests as root, as CI does)")
    cluster = create_cluster(emulator)
    admin = master_password(emulator, cluster)
    setup = psql(emulator, cluster, "tap_admin", admin,
                 "CREATE ROLE tap_app LOGIN PASSWORD 'a-password-of-its-own'; "
                 "GRANT rds_iam TO tap_app")
    assert setup.returncode == 0, setup.stderr
    host = cluster["Endpoint"]
    arn, keys = _session(emulator, cluster, "tap_app")
    good = token(keys, host, 5432, "tap_app")
    assert len(good) > 511  # longer than pam_exec would pass on
    answer = psql(emulator, cluster, "tap_app", good, "SELECT current_user")
    assert (answer.returncode, answer.stdout) == (0, "tap_app\n"), answer.stderr
    allowed = emulator.get("rds-iam/decisions")["decisions"][-1]
    assert allowed["allowed"] is True and allowed["reason"].startswith(
        f"signed by {keys.access_key}: {arn}: rds-db:connect on arn:aws:rds-db:us-east-1:")

    denied_arn, denied_keys = _session(emulator, cluster, None)
    past = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(minutes=20)
    refusals = {
        "no permission": (token(denied_keys, host, 5432, "tap_app"),
                          f"{denied_arn}: no statement allows rds-db:connect"),
        "another user": (token(keys, host, 5432, "tap_admin"),
                         "the token is for DBUser 'tap_admin', not 'tap_app'"),
        "tampered": (tampered(good), "the signature does not match"),
        "expired": (token(keys, host, 5432, "tap_app", at=past), "the token expired at "),
        "a password": ("a-password-of-its-own", "not an RDS auth token"),
    }
    for case, (password, reason) in refusals.items():
        refused = psql(emulator, cluster, "tap_app", password, "SELECT 1")
        assert refused.returncode == 2, case
        assert 'PAM authentication failed for user "tap_app"' in refused.stderr, case
        decision = emulator.get("rds-iam/decisions")["decisions"][-1]
        assert decision["allowed"] is False and reason in decision["reason"], (case, decision)

    # The task runner expires a rotated-out session so: its expiration in the past.
    fresh = token(keys, host, 5432, "tap_app")
    sts_backends[ACCOUNT]["aws"].get_assumed_role_from_access_key(
        keys.access_key).expiration = utcnow() - datetime.timedelta(seconds=1)
    refused = psql(emulator, cluster, "tap_app", fresh, "SELECT 1")
    assert refused.returncode == 2
    assert emulator.get("rds-iam/decisions")["decisions"][-1]["reason"].startswith(
        f"the credentials of {arn} expired at ")


def redis_cli(emulator: Running, entry: dict[str, Any], port: int, *arguments: str,
              tls: bool = True, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    bundle = str(emulator.runtime.network.authority.bundle)
    return subprocess.run([str(REDIS_CLI), "-h", entry["address"], "-p", str(port),
                           *(["--tls", "--cacert", bundle, "--sni", entry["names"][-1]]
                             if tls else []), *arguments], input=stdin,
                          capture_output=True, text=True, timeout=30, check=False)


def create_cache(emulator: Running) -> dict[str, Any]:
    elasticache = emulator.aws("elasticache")
    name = f"tap-{uuid.uuid4().hex[:6]}-cache"
    created = elasticache.create_serverless_cache(ServerlessCacheName=name, Engine="valkey",
                                                  MajorEngineVersion="8")["ServerlessCache"]
    assert created["Status"] == "creating"

    def available() -> dict[str, Any] | None:
        (cache,) = elasticache.describe_serverless_caches(
            ServerlessCacheName=name)["ServerlessCaches"]
        return cache if cache["Status"] == "available" else None

    return dict(wait_for(available, 60, f"cache {name} available"))


def test_a_serverless_cache_gets_a_tls_only_cluster_with_a_replica_for_reads(
        emulator: Running) -> None:
    cache = create_cache(emulator)
    entry = emulator.standin(cache["ServerlessCacheName"])
    host = cache["Endpoint"]["Address"]
    assert entry["kind"] == "redis" and entry["state"] == "running"
    assert entry["stands_for"] == "ElastiCache Serverless valkey 8.0"
    assert entry["version"] == "7.0.15" and entry["ports"] == [6379, 6380]
    assert entry["names"] == [host] == [cache["ReaderEndpoint"]["Address"]]
    assert entry["address"].startswith("127.0.3.") and len(entry["pids"]) == 2
    assert redis_cli(emulator, entry, 6379, "PING").stdout == "PONG\n"
    plain = redis_cli(emulator, entry, 6379, "PING", tls=False)
    assert "PONG" not in plain.stdout
    assert redis_cli(emulator, entry, 6379, "SET", "greeting", "hello").stdout == "OK\n"
    wait_for(lambda: redis_cli(emulator, entry, 6380, stdin="READONLY\nGET greeting\n"
                               ).stdout == "OK\nhello\n", 10, "the write read on the reader port")

    def nodes() -> list[tuple[str, str]]:
        slots = redis_cli(emulator, entry, 6379, "CLUSTER", "SLOTS").stdout.split()
        assert slots[:2] == ["0", "16383"]
        return [(slots[i], slots[i + 1]) for i in range(2, len(slots) - 1) if slots[i] == host]

    # One shard owning every slot, its primary and replica announced by the cache's name (a
    # replica is listed once it has replicated something).
    wait_for(lambda: nodes() == [(host, "6379"), (host, "6380")], 15, "both nodes by name")
    moved = redis_cli(emulator, entry, 6380, "SET", "greeting", "bye")
    assert moved.stdout.startswith("MOVED ") and moved.stdout.strip().endswith(f"{host}:6379")


def test_delete_stops_the_servers_and_frees_what_they_held(emulator: Running) -> None:
    cluster, cache = create_cluster(emulator), create_cache(emulator)
    database = emulator.standin(cluster["DBClusterIdentifier"])
    redis = emulator.standin(cache["ServerlessCacheName"])
    pam_files = sorted(Path("/etc/pam.d").glob(f"tap-emulator-{emulator.url.rsplit(':', 1)[1]}-*"))
    emulator.aws("rds").delete_db_cluster(DBClusterIdentifier=cluster["DBClusterIdentifier"],
                                          SkipFinalSnapshot=True)
    emulator.aws("elasticache").delete_serverless_cache(
        ServerlessCacheName=cache["ServerlessCacheName"])
    identifiers = {entry["id"] for entry in emulator.get("standins")["standins"]}
    assert cluster["DBClusterIdentifier"] not in identifiers
    assert cache["ServerlessCacheName"] not in identifiers
    for pid in database["pids"] + redis["pids"]:
        wait_for(lambda pid=pid: not alive(pid), 10, f"process {pid} gone")
    hosts = (emulator.state_dir / "hosts").read_text(encoding="utf-8")
    assert not {cluster["Endpoint"], cache["Endpoint"]["Address"]} & set(hosts.split())
    remaining = sorted(Path("/etc/pam.d").glob(f"tap-emulator-{emulator.url.rsplit(':', 1)[1]}-*"))
    assert len(remaining) == len(pam_files) - 1


def test_a_final_snapshot_keeps_the_data_for_a_restore(emulator: Running) -> None:
    cluster = create_cluster(emulator)
    write = psql(emulator, cluster, "tap_admin", master_password(emulator, cluster),
                 "CREATE TABLE guestbook (line text); INSERT INTO guestbook VALUES ('kept')")
    assert write.returncode == 0, write.stderr
    snapshot = f"{cluster['DBClusterIdentifier']}-final"
    emulator.aws("rds").delete_db_cluster(DBClusterIdentifier=cluster["DBClusterIdentifier"],
                                          FinalDBSnapshotIdentifier=snapshot)
    restored = create_cluster(emulator, SnapshotIdentifier=snapshot)
    assert emulator.standin(restored["DBClusterIdentifier"])["notes"] == [
        f"restored from snapshot {snapshot}"]
    new_password = master_password(emulator, restored)
    read = psql(emulator, restored, "tap_admin", new_password, "SELECT line FROM guestbook")
    assert (read.returncode, read.stdout) == (0, "kept\n"), read.stderr


def test_the_check_starts_and_stops_throwaway_servers(emulator: Running) -> None:
    request = urllib.request.Request(f"{emulator.url}/_tap/runtime/standins/check",
                                     method="POST")
    with urllib.request.urlopen(request, timeout=120) as answer:
        result = json.load(answer)
    assert result == {"ok": True, "checks": [
        {"kind": "postgresql", "ok": True, "version": result["checks"][0]["version"],
         "tls": "t"},
        {"kind": "redis", "ok": True, "version": "7.0.15", "tls": "PONG"}]}
    leftovers = [path.name for path in (emulator.state_dir / "db").iterdir()
                 if path.name.startswith("check-")]
    assert leftovers == []


def test_an_address_where_another_emulator_serves_is_passed_over(tmp_path: Path) -> None:
    network = Network(tmp_path)
    with socket.socket() as other:  # another emulator's stand-in on the pool's first address
        other.bind(("127.0.2.1", 15432))
        other.listen()
        assert take_address(network, "database", [15432]) == "127.0.2.2"
    assert take_address(network, "database", [15432]) == "127.0.2.3"
    # 254 addresses in 127.0.2.0/24, two taken: the passed-over one went back, last in line.
    assert [network.addresses.take("database") for _ in range(252)][-1] == "127.0.2.1"


def test_the_verify_endpoint_refuses_what_it_cannot_read(emulator: Running) -> None:
    def post(body: bytes) -> tuple[int, Any]:
        request = urllib.request.Request(f"{emulator.url}/_tap/runtime/rds-iam/verify",
                                         data=body, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=30) as answer:
                return answer.status, json.load(answer)
        except urllib.error.HTTPError as error:
            return error.code, json.load(error)

    assert post(b"[]") == (400, {
        "error": "expected a JSON object with cluster, user and token"})
    assert post(b'{"cluster": "x"}') == (400, {"error": "'user'"})
    unknown = f"arn:aws:rds:us-east-1:{ACCOUNT}:cluster:nowhere"
    assert post(json.dumps({"cluster": unknown, "user": "tap_app", "token": "t"}).encode()) == (
        200, {"allowed": False, "reason": f"no Aurora stand-in for {unknown}"})
