"""Real servers standing in for Aurora PostgreSQL and ElastiCache Serverless in app/tests.

Exposes ``TestCA`` (a CA of the tests' own, from trustme, and the server certificate it
issues for ``localhost`` and 127.0.0.1), ``PostgresServer`` and ``RedisServer``; the
fixtures in conftest.py start them once per session.

- PostgreSQL 15 from Debian (``/usr/lib/postgresql/15/bin``), as Aurora is configured:
  ``ssl = on`` and a ``pg_hba.conf`` with ``hostssl`` lines only, ``scram-sha-256``, so a
  plain connection is refused as under ``rds.force_ssl=1``; a superuser ``postgres`` for
  the fixtures, a master-like ``tap_admin`` (CREATEROLE, owner of database ``tap``, not a
  superuser, as Aurora's master user is not) and the role ``rds_iam`` (NOLOGIN), which
  Aurora has for IAM authentication. PostgreSQL refuses to run as root: as root the
  server runs as the ``postgres`` user (``runuser``), otherwise as the current user.
- Redis 7.0 from Debian (``redis-server``), TLS only (``--port 0 --tls-port N``), as a
  one-node cluster that owns every slot and announces the host name ``localhost``:
  ElastiCache Serverless is cluster-mode only and answers with its endpoint's name.

A missing binary fails the test with what to install (``make app-test`` installs both
through scripts/install-standins.sh); nothing is skipped.
"""
from __future__ import annotations

import os
import pwd
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import psycopg
import redis
import trustme

PG_BIN = Path("/usr/lib/postgresql/15/bin")
REDIS_SERVER = "redis-server"
INSTALL_HINT = "run `make app-test`, which installs it with scripts/install-standins.sh"
HOST = "localhost"
ADMIN = "tap_admin"
DATABASE = "tap"
START_TIMEOUT = 30.0


class MissingServer(RuntimeError):
    """A stand-in's binary is not installed."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class TestCA:
    """A CA of the tests' own and the server certificate (localhost, 127.0.0.1) it signs."""

    __test__ = False  # not a pytest test class

    def __init__(self, directory: Path) -> None:
        self._ca = trustme.CA()
        server = self._ca.issue_cert(HOST, "127.0.0.1")
        self.ca_file = directory / "ca.pem"
        self.cert_file = directory / "server.pem"
        self.key_file = directory / "server.key"
        self._ca.cert_pem.write_to_path(str(self.ca_file))
        server.cert_chain_pems[0].write_to_path(str(self.cert_file))
        server.private_key_pem.write_to_path(str(self.key_file))
        self.ca_file.chmod(0o644)
        self.cert_file.chmod(0o644)
        self.key_file.chmod(0o600)


def _as_server_user() -> list[str]:
    """The command prefix that runs PostgreSQL as a user it accepts."""
    if os.geteuid() != 0:
        return []
    return ["runuser", "-u", "postgres", "--"]


class PostgresServer:
    """A PostgreSQL 15 cluster on a free port of 127.0.0.1, TLS and SCRAM only."""

    def __init__(self, ca: TestCA) -> None:
        for binary in ("initdb", "pg_ctl", "postgres"):
            if not (PG_BIN / binary).exists():
                raise MissingServer(f"{PG_BIN / binary} is missing: PostgreSQL 15 (Debian's "
                                    f"postgresql-15) is needed; {INSTALL_HINT}")
        self.port = free_port()
        self.superuser_password = secrets.token_hex(16)
        self.admin_password = secrets.token_hex(16)
        # A directory of its own, owned by the server's user (pytest's are root-only).
        self.root = Path(tempfile.mkdtemp(prefix="tap-pg-"))
        self.data = self.root / "data"
        self._prefix = _as_server_user()
        self._prepare(ca)

    def _chown(self, *paths: Path) -> None:
        if self._prefix:
            owner = pwd.getpwnam("postgres")
            for path in paths:
                os.chown(path, owner.pw_uid, owner.pw_gid)

    def _prepare(self, ca: TestCA) -> None:
        pwfile = self.root / "pwfile"
        pwfile.write_text(self.superuser_password + "\n", encoding="ascii")
        for name in ("server.pem", "server.key"):
            shutil.copy(ca.cert_file if name == "server.pem" else ca.key_file, self.root / name)
        (self.root / "server.key").chmod(0o600)
        self._chown(self.root, pwfile, self.root / "server.pem", self.root / "server.key")
        subprocess.run(
            [*self._prefix, str(PG_BIN / "initdb"), "-D", str(self.data), "-U", "postgres",
             f"--pwfile={pwfile}", "--auth=scram-sha-256", "-E", "UTF8", "--locale=C.UTF-8"],
            check=True, capture_output=True)
        pwfile.unlink()
        (self.data / "pg_hba.conf").write_text(
            "# TLS only, as Aurora with rds.force_ssl=1: no local and no plain host lines.\n"
            "hostssl all all 127.0.0.1/32 scram-sha-256\n"
            "hostssl all all ::1/128 scram-sha-256\n", encoding="ascii")
        with (self.data / "postgresql.conf").open("a", encoding="ascii") as conf:
            conf.write(
                f"listen_addresses = '127.0.0.1'\nport = {self.port}\n"
                "unix_socket_directories = ''\nssl = on\n"
                f"ssl_cert_file = '{self.root / 'server.pem'}'\n"
                f"ssl_key_file = '{self.root / 'server.key'}'\n"
                "fsync = off\nlog_connections = on\n")

    def start(self) -> None:
        subprocess.run(
            [*self._prefix, str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-l",
             str(self.root / "server.log"), "-w", "-t", str(int(START_TIMEOUT)), "start"],
            check=True, capture_output=True)

    def stop(self) -> None:
        subprocess.run([*self._prefix, str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m",
                        "fast", "-w", "stop"], check=False, capture_output=True)

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)

    def connect(self, ca: TestCA, *, user: str = "postgres", password: str | None = None,
                dbname: str = "postgres", autocommit: bool = True) -> psycopg.Connection:
        return psycopg.connect(
            host=HOST, port=self.port, user=user, dbname=dbname, autocommit=autocommit,
            password=self.superuser_password if password is None else password,
            sslmode="verify-full", sslrootcert=str(ca.ca_file), connect_timeout=5)

    def bootstrap(self, ca: TestCA) -> None:
        """What Aurora has before the release: the master user, its database, rds_iam."""
        with self.connect(ca) as conn:
            conn.execute(f"CREATE ROLE {ADMIN} LOGIN CREATEROLE PASSWORD "
                         f"'{self.admin_password}'")
            conn.execute(f"CREATE DATABASE {DATABASE} OWNER {ADMIN}")
            conn.execute("CREATE ROLE rds_iam NOLOGIN")
        # PostgreSQL 15 leaves CREATE on schema public to PUBLIC; Aurora's templates too.
        with self.connect(ca, dbname=DATABASE) as conn:
            conn.execute(f"ALTER SCHEMA public OWNER TO {ADMIN}")


class RedisServer:
    """redis-server on a free port of 127.0.0.1: TLS only, a one-node cluster."""

    def __init__(self, ca: TestCA) -> None:
        if shutil.which(REDIS_SERVER) is None:
            raise MissingServer(f"{REDIS_SERVER} is missing: Redis 7.0 (Debian's redis-server) "
                                f"is needed; {INSTALL_HINT}")
        self.ca = ca
        self.port = free_port()
        self.root = Path(tempfile.mkdtemp(prefix="tap-redis-"))
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        log = (self.root / "server.log").open("ab")
        self.process = subprocess.Popen(  # pylint: disable=consider-using-with
            [REDIS_SERVER, "--port", "0", "--tls-port", str(self.port),
             "--bind", "127.0.0.1", "--tls-cert-file", str(self.ca.cert_file),
             "--tls-key-file", str(self.ca.key_file), "--tls-ca-cert-file", str(self.ca.ca_file),
             "--tls-auth-clients", "no", "--tls-cluster", "yes", "--cluster-enabled", "yes",
             "--cluster-port", str(free_port()), "--cluster-announce-hostname", HOST,
             "--cluster-preferred-endpoint-type", "hostname",
             "--cluster-config-file", str(self.root / "nodes.conf"), "--dir", str(self.root),
             "--save", "", "--appendonly", "no", "--daemonize", "no"],
            stdout=log, stderr=subprocess.STDOUT)
        log.close()
        client = self.client()
        try:
            self._serve_every_slot(client)
        except BaseException:
            self.stop()  # never leave a server behind a failed start
            raise
        finally:
            client.close()

    def _serve_every_slot(self, client: redis.Redis) -> None:
        """Give the one node every slot, then wait for the cluster to say it is ok (Redis
        holds a fresh primary's cluster state back for about two seconds)."""
        assert self.process is not None
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            try:
                if self._cluster_info(client)["cluster_slots_assigned"] == "0":
                    client.execute_command("CLUSTER ADDSLOTSRANGE", 0, 16383)
                if self._cluster_info(client)["cluster_state"] == "ok":
                    return
            except redis.ConnectionError:
                if self.process.poll() is not None:
                    raise RuntimeError("redis-server exited: "
                                       + (self.root / "server.log").read_text()) from None
            if time.monotonic() > deadline:
                raise RuntimeError("redis-server did not serve its cluster in time")
            time.sleep(0.05)

    @staticmethod
    def _cluster_info(client: redis.Redis) -> dict[str, str]:
        # redis-py parses CLUSTER INFO into a mapping of strings.
        return {key: str(value) for key, value in client.cluster("info").items()}

    def client(self) -> redis.Redis:
        """A plain (one-node) client of the stand-in, for the fixtures and assertions."""
        return redis.Redis(host=HOST, port=self.port, ssl=True,
                           ssl_ca_certs=str(self.ca.ca_file), socket_timeout=2,
                           decode_responses=True)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
        self.process = None

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)
