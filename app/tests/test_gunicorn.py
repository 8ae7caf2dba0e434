"""The real gunicorn with the real configuration (app/gunicorn.conf.py) on a free port, on
a read-only root file system with a writable /tmp (as in the task): /healthz and /readyz
over HTTP, JSON access lines with the request id on standard output, a clean stop on
SIGTERM, the container health check against it, and a configuration error that exits 2
with one line."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from app.tests.conftest import REPO, run_module
from app.tests.standins import free_port

START_TIMEOUT = 20.0
COMMAND = [sys.executable, "-m", "gunicorn", "--config", "app/gunicorn.conf.py",
           "app.wsgi:application"]
# As in the task: the root file system read-only, /tmp writable. A mount namespace of the
# server's own (root's; a user namespace's root otherwise) makes / read-only and keeps /tmp
# as it is, so every write elsewhere fails.
READ_ONLY_ROOT = ["unshare", "--mount", *(["--map-root-user"] if os.geteuid() != 0 else []),
                  "sh", "-c", 'mount --bind /tmp /tmp && mount -o remount,bind,ro / && '
                              'exec "$0" "$@"']


@dataclass
class Server:
    """A running gunicorn and what it needs to be checked."""

    process: subprocess.Popen[str]
    port: int

    def get(self, path: str, headers: dict[str, str] | None = None,
            method: str = "GET") -> tuple[int, dict[str, str], Any]:
        request = urllib.request.Request(f"http://127.0.0.1:{self.port}{path}",
                                         headers=headers or {}, method=method)
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        try:
            with opener.open(request, timeout=10) as response:
                return response.status, dict(response.headers), json.loads(response.read()
                                                                           or b"null")
        except urllib.error.HTTPError as error:
            with error:
                return error.code, dict(error.headers), json.loads(error.read() or b"null")

    def stop(self) -> tuple[int, str, str]:
        self.process.terminate()
        stdout, stderr = self.process.communicate(timeout=30)
        return self.process.returncode, stdout, stderr


@pytest.fixture(name="server")
def server_fixture(service_env: dict[str, str]) -> Iterator[Server]:
    port = free_port()
    # The image's environment: no home directory, no bytecode written.
    env = {"PATH": os.environ.get("PATH", ""), "HOME": "/nonexistent",
           "PYTHONDONTWRITEBYTECODE": "1", **service_env,
           "PORT": str(port), "WEB_CONCURRENCY": "2", "APP_REVISION": "rev-123"}
    process = subprocess.Popen(  # pylint: disable=consider-using-with
        [*READ_ONLY_ROOT, *COMMAND], cwd=REPO, env=env, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True)
    server = Server(process=process, port=port)
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        try:
            if server.get("/healthz")[0] == 200:
                break
        except OSError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise RuntimeError(f"gunicorn did not start: {process.communicate()}")
        time.sleep(0.1)
    yield server
    if process.poll() is None:
        process.kill()
        process.communicate()


@pytest.mark.usefixtures("clean")
def test_gunicorn_serves_health_and_readiness_and_logs_json(server: Server) -> None:
    status, headers, body = server.get("/healthz")
    assert (status, headers["Content-Type"], body) == (200, "application/json", {"status": "ok"})
    status, headers, body = server.get("/readyz", {"X-Request-Id": "req-42"})
    assert (status, body["ready"], body["revision"], sorted(body["checks"])) == (
        200, True, "rev-123", ["cache", "database"])
    assert server.get("/missing")[:3:2] == (404, {"error": "not_found",
                                                  "message": "no such resource"})
    status, headers, body = server.get("/healthz", method="HEAD")
    assert (status, headers["Content-Length"], body) == (200, "16", None)
    health = run_module("app.healthcheck", {"PORT": str(server.port)})
    assert (health.returncode, health.stdout, health.stderr) == (0, "", "")

    code, stdout, stderr = server.stop()
    assert code == 0
    access = [json.loads(line) for line in stdout.splitlines()]
    ready = [entry for entry in access if entry["path"] == "/readyz"]
    assert len(ready) == 1
    assert {key: ready[0][key] for key in ("logger", "message", "method", "status",
                                           "request_id", "remote_addr")} == {
        "logger": "gunicorn.access", "message": "request", "method": "GET", "status": 200,
        "request_id": "req-42", "remote_addr": "127.0.0.1"}
    assert isinstance(ready[0]["duration_ms"], float)
    assert [entry["status"] for entry in access if entry["path"] == "/missing"] == [404]
    assert all("request_id" not in entry for entry in access if entry["path"] != "/readyz")
    errors = [json.loads(line) for line in stderr.splitlines()]
    # Nothing failed on the read-only root file system: no warning, no error.
    assert {(entry["logger"], entry["level"]) for entry in errors} == {
        ("gunicorn.error", "info")}
    assert any(entry["message"].startswith("Listening at: http://0.0.0.0:")
               for entry in errors)

    after = run_module("app.healthcheck", {"PORT": str(server.port)})
    assert after.returncode == 1
    assert after.stderr.startswith(f"healthcheck: http://127.0.0.1:{server.port}/healthz: ")
    assert after.stderr.count("\n") == 1


def test_gunicorn_exits_2_on_a_configuration_error(service_env: dict[str, str]) -> None:
    env = {"PATH": os.environ.get("PATH", ""),
           **{key: value for key, value in service_env.items() if key != "REDIS_HOST"}}
    result = subprocess.run(COMMAND, cwd=REPO, env=env, capture_output=True, text=True,
                            timeout=30, check=False)
    assert (result.returncode, result.stdout, result.stderr) == (
        2, "", "gunicorn: configuration error: REDIS_HOST: required, not set (a host name)\n")


def test_healthcheck_reports_a_non_200_and_a_bad_port() -> None:
    result = run_module("app.healthcheck", {"PORT": "http"})
    assert (result.returncode, result.stderr) == (1, "healthcheck: PORT 'http' is not a port\n")
