"""One real PostgreSQL server, configured as Aurora PostgreSQL presents itself to a client.

``PostgresServer`` owns one directory (data, certificate, log, Unix socket) and runs Debian's
PostgreSQL 15 (``/usr/lib/postgresql/15/bin``; ``TAP_POSTGRES_BINDIR`` points elsewhere) as
the ``postgres`` OS user when the emulator is root (PostgreSQL refuses to run as root), as
the emulator's own user otherwise. Its configuration:

- TLS on (``ssl = on``, TLS 1.2 at least) with a certificate of the emulator's CA for the
  cluster's endpoint names, and a ``pg_hba.conf`` without any ``host`` line: a connection
  without TLS is refused, as under Aurora's ``rds.force_ssl = 1``
  (https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/AuroraPostgreSQL.Security.html);
- members of ``rds_iam`` authenticate through PAM (the service that checks an RDS IAM token,
  ``rds_iam.py``), everyone else with a SCRAM-SHA-256 password (``password_encryption =
  scram-sha-256``); the emulator's own admin connection is the Unix socket, for the OS user
  that runs the server (``peer``), its superuser of the same name;
- the roles Aurora has: ``rds_superuser`` and ``rds_iam`` (NOLOGIN), the master user (LOGIN
  CREATEROLE CREATEDB, member of ``rds_superuser``) with the given password, the database
  owned by the master (``bootstrap``: idempotent, run at every start);
- durability traded for speed (``fsync``, ``synchronous_commit`` and ``full_page_writes``
  off): a stand-in's data outlives a clean stop, not a machine crash.

``basebackup`` copies the running server's data (a snapshot); ``restore`` starts from such a
copy. What differs from Aurora PostgreSQL 16.6: the major version is 15 (Debian 12's; Aurora
16's changes to CREATEROLE, e.g. granting roles needs ADMIN OPTION, do not apply), the
locale is C.UTF-8 (Aurora's default collation is en_US.UTF-8), there is no storage layer of
Aurora's (no fast clone or backtrack) and no ``rds.*`` parameters; ``rds_superuser`` has no
more rights than its grants here give (``pg_signal_backend`` and ``pg_read_all_stats``, for
what AWS documents it may do with other connections).
"""
from __future__ import annotations

import getpass
import os
import re
import shutil
import signal
from pathlib import Path

from emulator.runtime.standins import StartError, as_user, remove_tree, require, run, tail

BINDIR = Path(os.environ.get("TAP_POSTGRES_BINDIR", "/usr/lib/postgresql/15/bin"))
PACKAGE = "postgresql-15"
PROGRAMS = ("initdb", "pg_ctl", "postgres", "psql", "pg_basebackup")
# A Unix socket path holds at most 107 bytes (sun_path is 108 with its terminating NUL).
SOCKET_PATH_LIMIT = 107
START_TIMEOUT = 60

BOOTSTRAP = r"""
\getenv master TAP_MASTER
\getenv password TAP_PASSWORD
\getenv database TAP_DATABASE
SELECT 'CREATE ROLE rds_superuser NOLOGIN'
 WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'rds_superuser') \gexec
-- "rds_superuser can stop any connection with pg_terminate_backend or pg_cancel_backend" and
-- read every connection's pg_stat_activity ("Understanding the rds_superuser role").
GRANT pg_signal_backend, pg_read_all_stats TO rds_superuser;
SELECT 'CREATE ROLE rds_iam NOLOGIN'
 WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'rds_iam') \gexec
SELECT format('CREATE ROLE %I', :'master')
 WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'master') \gexec
SELECT format('ALTER ROLE %I LOGIN CREATEROLE CREATEDB PASSWORD %L', :'master', :'password')
\gexec
SELECT format('GRANT rds_superuser TO %I', :'master') \gexec
SELECT format('CREATE DATABASE %I OWNER %I', :'database', :'master')
 WHERE :'database' <> ''
   AND NOT EXISTS (SELECT FROM pg_database WHERE datname = :'database') \gexec
"""
SET_PASSWORD = r"""
\getenv role TAP_ROLE
\getenv password TAP_PASSWORD
SELECT format('ALTER ROLE %I PASSWORD %L', :'role', :'password') \gexec
"""


def service_user() -> str | None:
    """The OS user the servers run as: ``postgres`` for root, None (ourselves) otherwise."""
    return "postgres" if os.geteuid() == 0 else None


def superuser() -> str:
    """The server's superuser: named as the OS user that runs it (peer authentication)."""
    return service_user() or getpass.getuser()


def server_version() -> str:
    """``15.18`` from ``postgres --version``; StartError when PostgreSQL is missing."""
    for program in PROGRAMS:
        require(BINDIR / program, PACKAGE)
    output = run([str(BINDIR / "postgres"), "--version"], what="postgres --version")
    match = re.search(r"(\d+(?:\.\d+)+)", output)
    return match.group(1) if match else output.strip()


class PostgresServer:
    """PostgreSQL in ``directory`` on ``address:port``, TLS with ``certificate``."""

    def __init__(self, directory: Path, *, address: str, port: int,
                 certificate: tuple[Path, Path], pam_service: str) -> None:
        self.directory = directory
        self.data = directory / "data"
        self.address = address
        self.port = port
        self.certificate = certificate
        self.pam_service = pam_service
        self.user = service_user()
        self.started = False

    # -- preparing the directory ---------------------------------------------------------

    def prepare(self, snapshot: Path | None = None) -> None:
        """The directory, owned by the service user, with a new data directory (initdb) or a
        copy of ``snapshot``'s, then the configuration and the certificate."""
        socket = self.directory / f".s.PGSQL.{self.port}"
        if len(str(socket)) > SOCKET_PATH_LIMIT:
            raise StartError(f"the Unix socket path {socket} is longer than "
                             f"{SOCKET_PATH_LIMIT} bytes: give the emulator a shorter "
                             "--runtime-dir")
        self.directory.mkdir(parents=True, exist_ok=True)
        self.directory.chmod(0o700)
        self._own(self.directory)
        try:
            run(["test", "-w", str(self.directory)], user=self.user, what="access check")
        except StartError as error:
            raise StartError(
                f"the {self.user} OS user cannot write to {self.directory}: every directory "
                "above it must be searchable by others (chmod o+x), or give the emulator "
                "another --runtime-dir") from error
        if snapshot is None:
            run([str(BINDIR / "initdb"), "-D", str(self.data), "-U", superuser(),
                 "--auth-local=peer", "--auth-host=reject", "--encoding=UTF8",
                 "--locale=C.UTF-8", "--no-sync"],
                user=self.user, cwd=self.directory, what="initdb")
            with open(self.data / "postgresql.conf", "a", encoding="utf-8") as conf:
                conf.write("\n# The emulator's settings (emulator/runtime/postgres.py)\n"
                           "include = 'tap.conf'\n")
        else:
            run(["cp", "-a", str(snapshot), str(self.data)], user=self.user,
                what=f"copying the snapshot's data {snapshot}")
        for path, mode in ((self.certificate[0], 0o644), (self.certificate[1], 0o600)):
            target = self.directory / f"server{path.suffix}"
            shutil.copyfile(path, target)
            target.chmod(mode)
            self._own(target)
        self._write("tap.conf", self._settings())
        self._write("pg_hba.conf", self._hba())

    def _settings(self) -> str:
        return "\n".join((
            f"listen_addresses = '{self.address}'",
            f"port = {self.port}",
            f"unix_socket_directories = '{self.directory}'",
            "ssl = on",
            f"ssl_cert_file = '{self.directory / 'server.crt'}'",
            f"ssl_key_file = '{self.directory / 'server.key'}'",
            "ssl_min_protocol_version = 'TLSv1.2'",
            "password_encryption = 'scram-sha-256'",
            "fsync = off", "synchronous_commit = off", "full_page_writes = off",
            "shared_buffers = '32MB'",
            "log_connections = on",
            "log_line_prefix = '%m [%p] %q%u@%d '",
        )) + "\n"

    def _hba(self) -> str:
        admin = superuser()
        return "\n".join((
            "# TYPE   DATABASE     USER       ADDRESS  METHOD",
            f"local    all          {admin}    peer",
            f"local    replication  {admin}    peer",
            f"hostssl  all          +rds_iam   all      pam pamservice={self.pam_service}",
            "hostssl  all          all        all      scram-sha-256",
        )) + "\n"

    def _write(self, name: str, text: str) -> None:
        path = self.data / name
        path.write_text(text, encoding="utf-8")
        path.chmod(0o600)
        self._own(path)

    def _own(self, path: Path) -> None:
        if self.user is not None:
            entry = as_user(self.user)
            os.chown(path, entry["user"], entry["group"])

    # -- running -------------------------------------------------------------------------

    def start(self) -> None:
        """Start the server and wait until it accepts connections; StartError with the tail
        of its log when it does not."""
        log = self.directory / "server.log"
        try:
            run([str(BINDIR / "pg_ctl"), "-D", str(self.data), "-l", str(log), "-w",
                 "-t", str(START_TIMEOUT), "-s", "start"],
                user=self.user, cwd=self.directory, what="pg_ctl start",
                timeout=START_TIMEOUT + 10)
        except StartError as error:
            printed = log.read_text(encoding="utf-8", errors="replace") if log.exists() else ""
            raise StartError(f"{error}; server.log: {tail(printed)}") from error
        self.started = True

    def psql(self, script: str, environment: dict[str, str], database: str = "postgres"
             ) -> str:
        """Run ``script`` as the superuser over the Unix socket (values through
        ``environment`` and psql's ``\\getenv``, never on a command line)."""
        return run([str(BINDIR / "psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h",
                    str(self.directory), "-p", str(self.port), "-U", superuser(), "-d",
                    database, "-f", "-"],
                   user=self.user, cwd=self.directory, stdin=script, environment=environment,
                   what="psql (the emulator's admin connection)")

    def bootstrap(self, master: str, password: str, database: str | None) -> None:
        """Aurora's roles, the master user with ``password``, the master's database."""
        if master == superuser():
            raise StartError(f"the master username {master} is the stand-in's own superuser: "
                             "choose another MasterUsername")
        self.psql(BOOTSTRAP, {"TAP_MASTER": master, "TAP_PASSWORD": password,
                              "TAP_DATABASE": database or ""})

    def set_password(self, role: str, password: str) -> None:
        self.psql(SET_PASSWORD, {"TAP_ROLE": role, "TAP_PASSWORD": password})

    def basebackup(self, target: Path) -> None:
        """A consistent copy of the running server's data in ``target`` (a new directory)."""
        target.parent.mkdir(parents=True, exist_ok=True)
        self._own(target.parent)
        run([str(BINDIR / "pg_basebackup"), "-h", str(self.directory), "-p", str(self.port),
             "-U", superuser(), "-D", str(target), "-X", "stream", "-c", "fast", "--no-sync"],
            user=self.user, cwd=self.directory, what="pg_basebackup")

    def stop(self) -> None:
        """Stop the server (fast shutdown: clients disconnected), then remove nothing."""
        if not self.started:
            return
        self.started = False
        try:
            run([str(BINDIR / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "-t", "30",
                 "-s", "stop"], user=self.user, cwd=self.directory, what="pg_ctl stop",
                timeout=40)
        except StartError:
            self._kill()

    def pid(self) -> int | None:
        """The postmaster's process id (first line of ``postmaster.pid``) while it runs."""
        try:
            return int((self.data / "postmaster.pid").read_text(encoding="utf-8").split()[0])
        except (OSError, ValueError, IndexError):
            return None

    def _kill(self) -> None:
        """The last resort when pg_ctl cannot stop it: SIGKILL to the postmaster."""
        pid = self.pid()
        if pid is not None:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass

    def remove(self) -> None:
        self.stop()
        remove_tree(self.directory)


def connect_check(server: PostgresServer, name: str, ca_bundle: Path) -> str:
    """Prove what a client sees: a TLS connection with ``sslmode=verify-full`` for ``name``
    works with the master password, one without TLS is refused. Returns the server's
    answer (``t``: the session is TLS); StartError otherwise."""
    password = "check-" + os.urandom(8).hex()
    server.bootstrap("tap_check", password, "check")
    base = f"host={name} hostaddr={server.address} port={server.port} user=tap_check dbname=check"
    query = ["-X", "-A", "-t", "-c", "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()"]
    environment = {"PGPASSWORD": password, "PGCONNECT_TIMEOUT": "10"}
    answer = run([str(BINDIR / "psql"), f"{base} sslmode=verify-full sslrootcert={ca_bundle}",
                  *query], environment=environment, what="psql over TLS (verify-full)")
    try:
        run([str(BINDIR / "psql"), f"{base} sslmode=disable", *query],
            environment=environment, what="psql without TLS")
    except StartError:
        return answer.strip()
    raise StartError("a connection without TLS was accepted: pg_hba.conf is not TLS-only")
