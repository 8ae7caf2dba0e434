"""The stand-ins of ``python -m emulator --runtime-dir DIR`` as a process: SIGTERM stops every
server it started (nothing left running, no PAM service left behind), and a stand-in that
cannot start says which program is missing in the cluster's or cache's status, in
``GET /_tap/runtime/standins``, in the emulator's log and in the pre-flight check."""
# pylint: disable=redefined-outer-name
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any, Callable, Iterator

import boto3
import pytest

from emulator.server import ROOT
from tests.emulator.test_main import Lines
from tests.emulator.test_standins import alive, runtime_directory, wait_for


class Process:
    """``python -m emulator --runtime-dir`` with its URL and standard error, line by line."""

    def __init__(self, state_dir: Path, environment: dict[str, str]) -> None:
        self.process = subprocess.Popen(  # pylint: disable=consider-using-with
            [sys.executable, "-m", "emulator", "--runtime-dir", str(state_dir)], cwd=ROOT,
            text=True, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            env={**os.environ, **environment})
        assert self.process.stdout is not None and self.process.stderr is not None
        self.stderr = Lines(self.process.stderr)
        self.url = Lines(self.process.stdout).next().strip()

    def aws(self, service: str) -> Any:
        return boto3.client(service, region_name="us-east-1", endpoint_url=self.url,
                            aws_access_key_id="testing", aws_secret_access_key="testing")

    def call(self, method: str, path: str) -> tuple[int, Any]:
        request = urllib.request.Request(f"{self.url}/_tap/runtime/{path}", method=method)
        try:
            with urllib.request.urlopen(request, timeout=120) as answer:
                return answer.status, json.load(answer)
        except urllib.error.HTTPError as error:
            return error.code, json.load(error)

    def errors_until(self, text: str) -> list[str]:
        """Standard error's lines up to the first that contains ``text``."""
        lines: list[str] = []
        while not lines or text not in lines[-1]:
            lines.append(self.stderr.next(timeout=60))
        return lines


@pytest.fixture
def start() -> Iterator[Callable[..., Process]]:
    started: list[tuple[Process, Path]] = []

    def run(**environment: str) -> Process:
        directory = runtime_directory()
        started.append((Process(directory / "runtime", environment), directory))
        return started[-1][0]

    yield run
    for emulator, directory in started:
        if emulator.process.poll() is None:
            emulator.process.kill()
        emulator.process.wait(timeout=30)
        shutil.rmtree(directory, ignore_errors=True)


def _cluster_and_cache(emulator: Process, name: str) -> None:
    emulator.aws("rds").create_db_cluster(
        DBClusterIdentifier=f"{name}-aurora", Engine="aurora-postgresql", EngineVersion="16.6",
        MasterUsername="tap_admin", ManageMasterUserPassword=True, DatabaseName="tap")
    emulator.aws("elasticache").create_serverless_cache(ServerlessCacheName=f"{name}-cache",
                                                        Engine="valkey")


def _statuses(emulator: Process, name: str) -> tuple[str, str]:
    (cluster,) = emulator.aws("rds").describe_db_clusters(
        DBClusterIdentifier=f"{name}-aurora")["DBClusters"]
    (cache,) = emulator.aws("elasticache").describe_serverless_caches(
        ServerlessCacheName=f"{name}-cache")["ServerlessCaches"]
    return cluster["Status"], cache["Status"]


def test_sigterm_stops_every_standin(start: Callable[..., Process]) -> None:
    emulator = start()
    _cluster_and_cache(emulator, "stopping")
    wait_for(lambda: _statuses(emulator, "stopping") == ("available", "available"), 60,
             "both stand-ins running")
    standins = emulator.call("GET", "standins")[1]["standins"]
    pids = [pid for entry in standins for pid in entry["pids"]]
    assert len(pids) == 3 and all(alive(pid) for pid in pids)  # postgres, redis, its replica
    port = emulator.url.rsplit(":", 1)[1]
    assert len(list(Path("/etc/pam.d").glob(f"tap-emulator-{port}-*"))) == 1
    emulator.process.send_signal(signal.SIGTERM)
    assert emulator.process.wait(timeout=60) == 0
    assert [pid for pid in pids if alive(pid)] == []
    assert not list(Path("/etc/pam.d").glob(f"tap-emulator-{port}-*"))


def test_a_standin_that_cannot_start_says_which_and_why(start: Callable[..., Process]) -> None:
    emulator = start(TAP_POSTGRES_BINDIR="/nonexistent/postgresql/bin",
                     TAP_REDIS_SERVER="/nonexistent/redis/redis-server")
    _cluster_and_cache(emulator, "broken")
    wait_for(lambda: _statuses(emulator, "broken") == ("failed", "create-failed"), 60,
             "both stand-ins failed")
    missing_postgres = ("/nonexistent/postgresql/bin/initdb is missing (Debian package "
                        "postgresql-15; scripts/install-standins.sh installs the stand-ins' "
                        "packages)")
    missing_redis = ("/nonexistent/redis/redis-server is missing (Debian package redis-server; "
                     "scripts/install-standins.sh installs the stand-ins' packages)")
    errors = {entry["id"]: (entry["state"], entry["error"])
              for entry in emulator.call("GET", "standins")[1]["standins"]}
    assert errors == {"broken-aurora": ("failed", missing_postgres),
                      "broken-cache": ("failed", missing_redis)}
    logged = emulator.errors_until("broken-aurora: the postgresql stand-in failed")
    assert logged[-1] == (f"[runtime/databases] broken-aurora: the postgresql stand-in failed "
                          f"to start: {missing_postgres}\n")
    status, check = emulator.call("POST", "standins/check")
    assert (status, check) == (503, {"ok": False, "checks": [
        {"kind": "postgresql", "ok": False, "error": missing_postgres},
        {"kind": "redis", "ok": False, "error": missing_redis}]})
    emulator.process.send_signal(signal.SIGTERM)
    assert emulator.process.wait(timeout=30) == 0
