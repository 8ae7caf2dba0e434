"""What the runtime's stand-ins share: their state records, how they run programs, their log
lines, and the two control endpoints that report on them.

A stand-in is a real server standing in for an AWS data store: a PostgreSQL per Aurora
cluster (``databases.py``), a Redis per ElastiCache Serverless cache (``caches.py``). Each is
started in a thread of its own when moto creates the resource, so the API call answers at
once and the resource reads ``creating`` until its server is up, as in AWS.

- ``StandIn``: the record of one (kind, resource, endpoint names, address, server process
  ids, state, error, start time in seconds); ``describe()`` is what ``GET /_tap/runtime/standins`` lists;
- ``StartError``: a stand-in that cannot start, with which program or step failed and what it
  printed: that message becomes the stand-in's error, in the emulator's log, the listing and
  the resource's status;
- ``run``, ``require``, ``as_user``, ``remove_tree``: programs run with a minimal environment
  (never the emulator's credentials or proxies), as the service user when one is given;
- ``take_address``: a loopback address of the pool on which nothing listens yet on the given
  ports (every emulator on the machine hands out the same pools);
- ``log``: one line on the emulator's standard error (its log under the harness);
- ``StandIns``: registers ``GET standins`` (every stand-in of every component) and ``POST
  standins/check`` (each component starts a throw-away server, proves a TLS connection to it
  and stops it: the harness's pre-flight, which says which stand-in cannot start here and
  why).
"""
from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Protocol

from emulator.runtime.control import Control

if TYPE_CHECKING:
    from emulator.runtime.network import Network

# Programs run with this environment and nothing else: no AWS credentials, no proxy.
BASE_ENVIRONMENT = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C.UTF-8"}
TAIL_LINES = 12


class StartError(RuntimeError):
    """A stand-in could not start; the message says which program or step, and why."""


def log(component: str, message: str) -> None:
    print(f"[runtime/{component}] {message}", file=sys.stderr, flush=True)


def tail(text: str, lines: int = TAIL_LINES) -> str:
    return " | ".join(line.strip() for line in text.strip().splitlines()[-lines:])


def require(path: Path, package: str) -> Path:
    """``path`` if it is an executable file; StartError naming it and its package if not."""
    if not (path.is_file() and os.access(path, os.X_OK)):
        raise StartError(f"{path} is missing (Debian package {package}; "
                         "scripts/install-standins.sh installs the stand-ins' packages)")
    return path


def as_user(user: str | None) -> dict[str, Any]:
    """``subprocess`` arguments that run a program as ``user`` (None: as ourselves)."""
    if user is None:
        return {}
    entry = pwd.getpwnam(user)
    return {"user": entry.pw_uid, "group": entry.pw_gid, "extra_groups": []}


def run(command: list[str], *, what: str, user: str | None = None,
        environment: dict[str, str] | None = None, stdin: str | None = None,
        cwd: Path | None = None, timeout: float = 120.0) -> str:
    """Run ``command`` to its end; its standard output, or StartError with ``what`` failed,
    the exit status and the tail of what it printed."""
    try:
        done = subprocess.run(command, input=stdin, capture_output=True, text=True, check=False,
                              timeout=timeout, cwd=cwd, env={**BASE_ENVIRONMENT,
                                                             **(environment or {})},
                              **as_user(user))
    except subprocess.TimeoutExpired as expired:
        raise StartError(f"{what} did not finish in {timeout:.0f} s") from expired
    except OSError as error:
        raise StartError(f"{what}: cannot run {command[0]}: {error}") from error
    if done.returncode != 0:
        raise StartError(f"{what} failed (exit {done.returncode}): "
                         f"{tail(done.stderr + done.stdout)}")
    return done.stdout


def take_address(network: Network, kind: str, ports: list[int]) -> str:
    """An address of ``kind`` free on ``ports``: another emulator on this machine (the lives
    run side by side) may already serve there, as its pool is the same."""
    busy: list[str] = []
    try:
        while True:
            address = network.addresses.take(kind)
            if all(_free(address, port) for port in ports):
                return address
            busy.append(address)
    finally:
        for address in busy:
            network.addresses.give_back(kind, address)


def _free(address: str, port: int) -> bool:
    """Whether nothing listens on ``address:port`` (bound as the servers bind, reusing an
    address that only closed connections still hold)."""
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((address, port))
        except OSError:
            return False
    return True


def remove_tree(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)


@dataclass(kw_only=True)
class StandIn:  # pylint: disable=too-many-instance-attributes
    """One stand-in and its state: ``starting``, ``running``, ``failed`` or ``stopped``."""

    kind: str  # postgresql, redis
    resource: str  # the cluster's or the cache's ARN
    identifier: str  # the cluster's or the cache's name
    stands_for: str  # e.g. "aurora-postgresql 16.6"
    names: list[str]  # the endpoint names that resolve to ``address``
    ports: list[int]
    address: str | None = None
    pids: list[int] = field(default_factory=list)  # the server processes, while running
    directory: Path | None = None
    version: str = ""
    state: str = "starting"
    error: str | None = None
    start_seconds: float | None = None
    notes: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    thread: threading.Thread | None = field(default=None, repr=False)

    def describe(self) -> dict[str, Any]:
        return {"kind": self.kind, "resource": self.resource, "id": self.identifier,
                "stands_for": self.stands_for, "version": self.version,
                "names": list(self.names), "address": self.address, "ports": list(self.ports),
                "pids": list(self.pids),
                "state": self.state, "error": self.error, "start_seconds": self.start_seconds,
                "notes": list(self.notes)}

    def launch(self, start: Callable[[StandIn], None], component: str) -> None:
        """Run ``start(self)`` in a thread; the stand-in ends ``running`` or ``failed``."""
        def body() -> None:
            began = time.monotonic()
            try:
                start(self)
            except StartError as error:
                self.fail(component, str(error))
                return
            except Exception as error:  # pylint: disable=broad-exception-caught
                self.fail(component, f"{type(error).__name__}: {error}")
                return
            self.start_seconds = round(time.monotonic() - began, 2)
            self.state = "running"
            log(component, f"{self.identifier}: {self.kind} {self.version} for "
                           f"{self.stands_for} at {self.address}:"
                           f"{','.join(map(str, self.ports))} ({', '.join(self.names)}) "
                           f"in {self.start_seconds} s")

        self.thread = threading.Thread(target=body, name=f"start {self.identifier}",
                                       daemon=True)
        self.thread.start()

    def fail(self, component: str, error: str) -> None:
        self.state, self.error = "failed", error
        log(component, f"{self.identifier}: the {self.kind} stand-in failed to start: {error}")

    def wait_started(self, timeout: float = 120.0) -> None:
        if self.thread is not None:
            self.thread.join(timeout)


class Component(Protocol):
    """What ``StandIns`` asks of a component (``Databases``, ``Caches``)."""

    def describe(self) -> list[dict[str, Any]]: ...

    def check(self) -> dict[str, Any]: ...


class StandIns:
    """The control endpoints over the stand-in components."""

    def __init__(self, control: Control, *components: Component) -> None:
        self.components = components
        control.route("GET", "standins", self._list)
        control.route("POST", "standins/check", self._check)

    def _list(self, _body: Any, _query: dict[str, str]) -> tuple[int, Any]:
        return 200, {"standins": [entry for component in self.components
                                  for entry in component.describe()]}

    def _check(self, _body: Any, _query: dict[str, str]) -> tuple[int, Any]:
        results = [component.check() for component in self.components]
        healthy = all(result["ok"] for result in results)
        return (200 if healthy else 503), {"ok": healthy, "checks": results}

    def stop(self) -> None:
        """Nothing of its own to stop: the components stop their servers."""
