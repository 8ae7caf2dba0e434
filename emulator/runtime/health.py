"""Health as the load balancer and the container runtime see it.

``TargetChecks`` registers a task's address and port in its target group (moto's
RegisterTargets) and checks it as an Application Load Balancer does, from the target group's
settings read at each check: protocol (HTTP, or HTTPS without verifying the certificate),
port (``traffic-port``: the registered one), path, interval, timeout, healthy and unhealthy
threshold counts, matcher (``200``, ``200,302``, ``200-299``). DescribeTargetHealth then
answers with the state and reason codes AWS gives ("Health checks for your Application Load
Balancer", ELB user guide; ``TargetHealth`` in the ELBv2 API reference):

- ``initial``: ``Elb.RegistrationInProgress`` until the first check, then
  ``Elb.InitialHealthChecking`` until the healthy (or unhealthy) threshold is reached;
- ``healthy``;
- ``unhealthy``: ``Target.ResponseCodeMismatch`` ("Health checks failed with these codes:
  [404]"), ``Target.Timeout`` ("Request timed out"), ``Target.FailedHealthChecks`` (the
  connection failed);
- ``unused``: ``Target.NotInUse`` while no load balancer forwards to the group;
- ``draining``: ``Target.DeregistrationInProgress`` for the group's deregistration delay
  (``deregistration_delay.timeout_seconds``) after ``deregister``, then the target is gone.

``ContainerHealth`` runs a container's health check (``CMD``/``CMD-SHELL`` command in the
container's environment, every ``interval`` seconds, ``timeout``, ``retries`` consecutive
failures, failures ignored during ``startPeriod``) for ECS's ``healthStatus``: ``UNKNOWN``
until the first result, then ``HEALTHY`` or ``UNHEALTHY``.
"""
from __future__ import annotations

import http.client
import socket
import ssl
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable

USER_AGENT = "ELB-HealthChecker/2.0"
NOT_IN_USE = ("unused", "Target.NotInUse",
              "Target group is not configured to receive traffic from the load balancer")
REGISTERING = ("initial", "Elb.RegistrationInProgress", "Target registration is in progress")
CHECKING = ("initial", "Elb.InitialHealthChecking", "Initial health checks in progress")
DRAINING = ("draining", "Target.DeregistrationInProgress", "Target deregistration is in progress")
HEALTHY = ("healthy", None, None)


def matches(matcher: str, status: int) -> bool:
    """Whether ``status`` is one of the matcher's codes (``200``, ``200,302``, ``200-299``)."""
    for part in matcher.split(","):
        low, _, high = part.strip().partition("-")
        if low and int(low) <= status <= int(high or low):
            return True
    return False


def probe(protocol: str, address: str, port: int, path: str, timeout: float, matcher: str
          ) -> tuple[str, str | None, str | None] | None:
    """One health check: None when it passed, else the unhealthy (state, reason, text)."""
    if protocol == "HTTPS":
        context = ssl.create_default_context()
        context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
        connection: http.client.HTTPConnection = http.client.HTTPSConnection(
            address, port, timeout=timeout, context=context)
    else:
        connection = http.client.HTTPConnection(address, port, timeout=timeout)
    try:
        connection.request("GET", path or "/", headers={"User-Agent": USER_AGENT})
        status = connection.getresponse().status
    except (socket.timeout, TimeoutError):
        return "unhealthy", "Target.Timeout", "Request timed out"
    except OSError:
        return "unhealthy", "Target.FailedHealthChecks", "Health checks failed"
    finally:
        connection.close()
    if matches(matcher, status):
        return None
    return ("unhealthy", "Target.ResponseCodeMismatch",
            f"Health checks failed with these codes: [{status}]")


@dataclass
class Target:  # pylint: disable=too-many-instance-attributes
    """One registered target and its health."""

    group_arn: str
    address: str
    port: int
    backend: Any  # moto's ELBv2 backend of the group
    state: tuple[str, str | None, str | None] = REGISTERING
    successes: int = 0
    failures: int = 0
    stopped: threading.Event = field(default_factory=threading.Event)

    def group(self) -> Any:
        return self.backend.target_groups.get(self.group_arn)

    def check_once(self) -> None:
        """One check, then the state its counts give."""
        group = self.group()
        if group is None:
            return
        if not group.load_balancer_arns:
            self.state, self.successes, self.failures = NOT_IN_USE, 0, 0
            return
        if self.state in (NOT_IN_USE, REGISTERING):
            self.state = CHECKING
        port = self.port if group.health_check_port in (None, "traffic-port") \
            else int(group.health_check_port)
        failed = probe(group.health_check_protocol or "HTTP", self.address, port,
                       group.health_check_path or "/",
                       float(group.health_check_timeout_seconds),
                       str((group.matcher or {}).get("HttpCode", "200")))
        if failed is None:
            self.successes, self.failures = self.successes + 1, 0
            if self.successes >= int(group.healthy_threshold_count):
                self.state = HEALTHY
        else:
            self.successes, self.failures = 0, self.failures + 1
            if self.failures >= int(group.unhealthy_threshold_count):
                self.state = failed

    def run(self) -> None:
        while not self.stopped.is_set():
            self.check_once()
            group = self.group()
            interval = float(group.health_check_interval_seconds) if group is not None else 5.0
            self.stopped.wait(interval)


class TargetChecks:
    """Every task target the runtime registered, by (target group ARN, address)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._targets: dict[tuple[str, str], Target] = {}
        self._closing = threading.Event()

    def register(self, backend: Any, group_arn: str, address: str, port: int) -> None:
        """RegisterTargets, then checks every interval from now."""
        backend.register_targets(group_arn, [{"Id": address, "Port": port}])
        target = Target(group_arn, address, port, backend)
        with self._lock:
            self._targets[(group_arn, address)] = target
        threading.Thread(target=target.run, daemon=True,
                         name=f"target-health {address}:{port}").start()

    def health(self, group_arn: str, address: str) -> tuple[str, str | None, str | None] | None:
        """The target's (state, reason, description), or None if the runtime has no such
        target (moto answers for it then)."""
        with self._lock:
            target = self._targets.get((group_arn, address))
        return None if target is None else target.state

    def deregister(self, group_arn: str, address: str) -> None:
        """Drain the target for the group's deregistration delay, then DeregisterTargets.
        Blocks for the delay (a stopping task waits for it, as ECS does)."""
        with self._lock:
            target = self._targets.get((group_arn, address))
        if target is None:
            return
        target.stopped.set()
        target.state = DRAINING
        group = target.group()
        delay = float(group.attributes.get("deregistration_delay.timeout_seconds", 300)) \
            if group is not None else 0.0
        self._closing.wait(delay)
        with self._lock:
            self._targets.pop((group_arn, address), None)
        if group is not None and address in group.targets:
            target.backend.deregister_targets(group_arn, [{"Id": address}])

    def close(self) -> None:
        """Stop every check; a draining target is released at once."""
        self._closing.set()
        with self._lock:
            targets = list(self._targets.values())
        for target in targets:
            target.stopped.set()


class ContainerHealth:
    """A container health check (ECS ``healthCheck``) run against one container."""

    def __init__(self, check: dict[str, Any], run: Callable[[list[str], float], int | None]
                 ) -> None:
        command = list(check["command"])
        kind, rest = command[0], command[1:]
        self.argv = ["/bin/sh", "-c", " ".join(rest)] if kind == "CMD-SHELL" else rest
        self.interval = float(check.get("interval", 30))
        self.timeout = float(check.get("timeout", 5))
        self.retries = int(check.get("retries", 3))
        self.start_period = float(check.get("startPeriod", 0))
        self.run_command = run
        self.status = "UNKNOWN"
        self.failures = 0
        self.stopped = threading.Event()
        self._started = time.monotonic()

    def start(self) -> ContainerHealth:
        threading.Thread(target=self._loop, daemon=True, name="container-health").start()
        return self

    def check_once(self) -> None:
        code = self.run_command(self.argv, self.timeout)
        if code == 0:
            self.status, self.failures = "HEALTHY", 0
        elif time.monotonic() - self._started >= self.start_period:
            self.failures += 1
            if self.failures >= self.retries:
                self.status = "UNHEALTHY"

    def _loop(self) -> None:
        while not self.stopped.wait(self.interval):
            self.check_once()
