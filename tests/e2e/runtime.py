"""The emulator's runtime (emulator/runtime) as the lives use it.

The lives run the emulator with ``--runtime-dir`` (``RUNTIME``): what they deploy runs. This
module is how a phase talks to that data plane, as a client in the VPC would:

- ``preflight``: the stand-ins' own check (PostgreSQL and Redis start, serve TLS only), so a
  missing program is said before anything is deployed;
- ``register_image``: the reference application's image (``app/Dockerfile``'s final stage) in
  the emulator's ECR as ``tap/app:reference``, its paths mapped to this checkout: ``/srv`` is a
  directory of the run's that holds ``app`` (this checkout's ``app/``) and the CA bundle the
  image carries (here the emulator's CA, which signs the stand-ins' certificates), and
  ``/opt/venv`` the application's virtualenv (``make`` builds it: build/app-venv);
- ``service_tasks``, ``http``: the service's running tasks and HTTP to their addresses;
- ``psql``: a statement on the database stand-in as its master user (the RDS-managed
  secret's current password), verified by name against the emulator's CA.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any, Callable, TypeVar

from emulator.server import ROOT
from tests.e2e.harness import PhaseFailed, Run

APP_REPOSITORY, APP_TAG = "tap/app", "reference"  # app/app.toml's image: ecr:tap/app:reference
APP_VENV = ROOT / "build" / "app-venv"
PSQL = Path("/usr/lib/postgresql/15/bin/psql")
T = TypeVar("T")
# Loopback addresses of the runtime are reached directly, never through a proxy.
DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def runtime_dir(run: Run) -> Path:
    """Where the emulator keeps the runtime's state: under /tmp, since the database stand-in
    runs as the ``postgres`` user, who must reach it, and its socket paths must stay short."""
    return Path("/tmp") / f"tap-e2e-runtime-{run.workdir.name}"


def call(run: Run, method: str, path: str, body: Any = None, timeout: float = 120
         ) -> tuple[int, Any]:
    """A runtime endpoint (``/_tap/runtime/<path>``): its status and JSON answer."""
    data = None if body is None else json.dumps(body).encode("utf-8")
    request = urllib.request.Request(f"{run.url}/_tap/runtime/{path}", data=data, method=method,
                                     headers={"Content-Type": "application/json"})
    try:
        with DIRECT.open(request, timeout=timeout) as answer:  # nosec: loopback
            return answer.status, json.loads(answer.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


def preflight(run: Run) -> dict[str, Any]:
    """The stand-ins' check; PhaseFailed naming each one that cannot start, and why."""
    status, answer = call(run, "POST", "standins/check")
    if status != 200 or not answer.get("ok"):
        failed = [f"{check['kind']}: {check.get('error')}" for check in answer.get("checks", [])
                  if not check.get("ok")]
        raise PhaseFailed(f"{run.phase}: a stand-in cannot start, so nothing is deployed: "
                          + "; ".join(failed or [json.dumps(answer)]))
    return {check["kind"]: check["version"] for check in answer["checks"]}


def register_image(run: Run) -> dict[str, Any]:
    """Push the reference application's image; the registry's answer (digest, URIs)."""
    if not (APP_VENV / "bin" / "gunicorn").exists():
        raise PhaseFailed(f"{run.phase}: {APP_VENV} has no gunicorn: run through `make e2e`, "
                          "which builds the application's virtualenv")
    srv = run.workdir / "image" / "srv"
    if srv.exists():
        shutil.rmtree(srv)
    (srv / "certs").mkdir(parents=True)
    (srv / "app").symlink_to(ROOT / "app")
    shutil.copyfile(runtime_dir(run) / "tls" / "ca.pem", srv / "certs" / "ca-bundle.pem")
    status, answer = call(run, "POST", "images", {
        "repository": APP_REPOSITORY, "tag": APP_TAG,
        "dockerfile": str(ROOT / "app" / "Dockerfile"),
        "paths": {"/srv": str(srv), "/opt/venv": str(APP_VENV)}})
    if status != 200:
        raise PhaseFailed(f"{run.phase}: the image was not registered: {answer}")
    return dict(answer)


def service_tasks(run: Run, service: str, *, running: bool = True) -> list[dict[str, Any]]:
    """The runtime's tasks of the service (``running``: RUNNING only)."""
    _, answer = call(run, "GET", "tasks")
    return [task for task in answer["tasks"] if task["group"] == f"service:{service}"
            and (task["lastStatus"] == "RUNNING" or not running)]


def http(address: str, port: int, path: str, *, method: str = "GET", body: Any = None,
         timeout: float = 10) -> tuple[int, dict[str, str], Any]:
    """An HTTP request to a task: status, headers and JSON body (None when not JSON)."""
    data = None if body is None else json.dumps(body).encode("utf-8")
    request = urllib.request.Request(f"http://{address}:{port}{path}", data=data, method=method,
                                     headers={"Content-Type": "application/json"})
    try:
        with DIRECT.open(request, timeout=timeout) as answer:  # nosec: loopback
            status, headers, raw = answer.status, dict(answer.headers), answer.read()
    except urllib.error.HTTPError as error:
        status, headers, raw = error.code, dict(error.headers), error.read()
    try:
        return status, headers, json.loads(raw)
    except ValueError:
        return status, headers, None


def master_password(run: Run, secret_arn: str, stage: str = "AWSCURRENT") -> tuple[str, str]:
    """The master user's name and password, from the RDS-managed secret."""
    value = json.loads(run.client("secretsmanager").get_secret_value(
        SecretId=secret_arn, VersionStage=stage)["SecretString"])
    return str(value["username"]), str(value["password"])


def psql(run: Run, cluster: str, login: tuple[str, str], sql: str, database: str = "postgres"
         ) -> subprocess.CompletedProcess[str]:
    """``sql`` on the cluster's stand-in as ``login`` (user, password): TLS, the server's
    certificate verified for the cluster's endpoint name, as a client in the VPC would."""
    described = run.client("rds").describe_db_clusters(DBClusterIdentifier=cluster)
    endpoint = described["DBClusters"][0]["Endpoint"]
    _, answer = call(run, "GET", "standins")
    address = next(s["address"] for s in answer["standins"]
                   if s["kind"] == "postgresql" and s["id"] == cluster)
    target = (f"host={endpoint} hostaddr={address} port=5432 dbname={database} "
              f"user={login[0]} sslmode=verify-full "
              f"sslrootcert={runtime_dir(run) / 'tls' / 'ca.pem'}")
    return run_psql(target, login[1], sql)


def run_psql(target: str, password: str, sql: str) -> subprocess.CompletedProcess[str]:
    """The stand-in's psql on a libpq connection string: one statement, unaligned, tuples
    only, stopping at the first error; its output and exit code, never raising."""
    return subprocess.run([str(PSQL), target, "-X", "-A", "-t", "-v", "ON_ERROR_STOP=1",
                           "-c", sql],
                          env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"),
                               "PGPASSWORD": password, "PGCONNECT_TIMEOUT": "10"},
                          capture_output=True, text=True, timeout=60, check=False)


def wait_for(what: str, probe: Callable[[], T | None], timeout: float, every: float = 1.0) -> T:
    """Call ``probe`` until it answers something true; PhaseFailed naming ``what`` after
    ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        answer = probe()
        if answer:
            return answer
        if time.monotonic() > deadline:
            raise PhaseFailed(f"{what}: not within {timeout:.0f} s")
        time.sleep(every)
