"""The emulator's ECS agent: tasks run as local processes, with what ECS gives them.

``TaskRunner`` (a component of ``emulator.runtime.Runtime``) installs ``ecs_runtime`` (moto's
ECS and ELBv2 answer from it), compiles the bind shim, and runs an agent thread: every
``TICK_SECONDS`` it adopts the tasks RunTask created (any region, any account) and lets the
service scheduler (``emulator.runtime.services``) reconcile each service. Each task gets a
thread that takes it through ECS's lifecycle, setting what DescribeTasks reads:

``PROVISIONING`` (a loopback address of its own; moto's ENI stays attached) -> ``PENDING``
(the container's ``secrets`` read with the execution role, ``emulator.runtime.task_secrets``;
the image pulled, ``emulator.runtime.images``; its awslogs stream created) -> ``ACTIVATING``
(the process started, ``emulator.runtime.containers``; a service task's address and container
port registered in its target group, ``emulator.runtime.health``) -> ``RUNNING`` -> on
StopTask or a scheduler decision ``DEACTIVATING`` (targets drained for the deregistration
delay) -> ``STOPPING`` (SIGTERM, SIGKILL after the container's ``stopTimeout``, 30 s by
default) -> ``DEPROVISIONING`` (the ENI deleted, the credentials revoked) -> ``STOPPED`` with
the container's ``exitCode``, ``stoppedReason``, ``stopCode``, ``startedAt``, ``stoppedAt``.
A task that cannot start (``CannotPullContainerError``, ``ResourceInitializationError``,
``CannotStartContainerError``) stops with that reason and ``TaskFailedToStart``; no process
ever started. An essential container that exits stops its task ("Essential container in task
exited", ``EssentialContainerExited``).

The process's environment is the image's ENV, the container's ``environment`` and resolved
``secrets``, and what ECS adds on Fargate (``AWS_EXECUTION_ENV=AWS_ECS_FARGATE``,
``AWS_REGION``, ``AWS_DEFAULT_REGION``: "Amazon ECS environment variables",
https://docs.aws.amazon.com/AmazonECS/latest/developerguide/ecs-environment-variables.html),
the task role's container credentials (``AWS_CONTAINER_CREDENTIALS_FULL_URI``,
``AWS_CONTAINER_AUTHORIZATION_TOKEN``: ``emulator.runtime.credentials``) and one variable of
the emulator's own: ``AWS_ENDPOINT_URL``, the emulator's URL, so that the application's AWS
calls go to the emulator. The task metadata endpoint is not served (no
``ECS_CONTAINER_METADATA_URI_V4``). Its output goes line by line to CloudWatch Logs, stream
``<awslogs-stream-prefix>/<container>/<task id>``, as the awslogs driver writes it.

Not emulated: ``readonlyRootFilesystem`` and task-storage volumes (the process writes where
its user may on this machine), CPU and memory limits, an image's ``USER`` (as root the process
stays root), more than one container per task (refused at start, with that reason).

Endpoints: ``POST images`` (register a local image), ``GET tasks`` (every task: id, group,
task definition, address, pid, states, exit code, stopped reason, health, targets and its
environment as names with the SHA-256 of each value, never a value), ``POST
tasks/rotate-credentials``, ``GET credentials/<task id>``, ``POST schedules/fire``
(``emulator.runtime.scheduler``).
"""
from __future__ import annotations

import hashlib
import sys
import threading
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from moto.core.utils import unix_time_millis, utcnow
from moto.ec2.models import ec2_backends
from moto.ecs.models import ecs_backends
from moto.elbv2.models import elbv2_backends
from moto.logs.models import logs_backends

from emulator.moto_ext import ecs_runtime
from emulator.moto_ext.ecs_runtime import LOCK
from emulator.runtime.containers import (Container, Shim, StartError, container_command,
                                         container_environment)
from emulator.runtime.control import Control
from emulator.runtime.credentials import CREDENTIALS_PATH, ExpiredCredentials, TaskCredentials
from emulator.runtime.health import ContainerHealth, TargetChecks
from emulator.runtime.standins import take_address
from emulator.runtime.images import Images, PullError
from emulator.runtime.network import Network
from emulator.runtime.scheduler import Scheduler
from emulator.runtime.services import ServiceScheduler, add_event
from emulator.runtime.task_secrets import SecretError, resolve

TICK_SECONDS = 1.0
DEFAULT_STOP_TIMEOUT = 30  # Fargate's default stopTimeout; 120 at most
MAX_STOP_TIMEOUT = 120
SHUTDOWN_STOP_TIMEOUT = 2  # when the emulator itself stops
FARGATE_PROVIDERS = ("FARGATE", "FARGATE_SPOT")


def say(message: str) -> None:
    print(f"tasks: {message}", file=sys.stderr, flush=True)


class LogsError(RuntimeError):
    """The awslogs driver cannot start; ``str()`` is ECS's stopped reason."""


@dataclass(eq=False)
class Run:  # pylint: disable=too-many-instance-attributes
    """The runtime's side of one moto task."""

    task: Any
    backend: Any
    account: str
    region: str
    definition: Any
    checks: TargetChecks
    created: float = field(default_factory=time.monotonic)
    address: str | None = None
    container: Container | None = None
    health: ContainerHealth | None = None
    targets: list[tuple[str, int]] = field(default_factory=list)
    started: float | None = None
    pid: int | None = None
    was_healthy: bool = False
    accounted: bool = False
    digests: dict[str, str] = field(default_factory=dict)

    @property
    def task_id(self) -> str:
        return str(self.task.task_arn.rsplit("/", 1)[-1])

    def service_name(self) -> str | None:
        group = self.task.group or ""
        return group.split(":", 1)[1] if group.startswith("service:") else None

    def deployment(self) -> str:
        return str(self.task.started_by or "")

    def finished(self) -> bool:
        return bool(self.task.last_status == "STOPPED")

    def stopping(self) -> bool:
        return bool(self.task.desired_status == "STOPPED")

    def running_for(self) -> float:
        return 0.0 if self.started is None else time.monotonic() - self.started

    def container_health(self) -> str:
        return self.health.status if self.health is not None else "UNKNOWN"

    def target_states(self) -> list[tuple[str, int, tuple[str, str | None, str | None]]]:
        found = []
        for group_arn, port in self.targets:
            state = self.checks.health(group_arn, self.address or "")
            if state is not None:
                found.append((group_arn, port, state))
        return found

    def unhealthy_target(self) -> tuple[str, int, str] | None:
        for group_arn, port, (state, _, description) in self.target_states():
            if state == "unhealthy":
                return group_arn, port, description or ""
        return None

    def healthy(self) -> bool:
        """RUNNING, every target healthy, the container health check (if any) HEALTHY."""
        healthy = (self.task.last_status == "RUNNING" and not self.stopping()
                   and (self.health is None or self.health.status == "HEALTHY")
                   and all(state[0] == "healthy" for _, _, state in self.target_states()))
        self.was_healthy = self.was_healthy or healthy
        return healthy


class TaskRunner:  # pylint: disable=too-many-instance-attributes
    """The agent: adopts tasks, runs their lives, reconciles services."""

    def __init__(self, *, url: str, control: Control, network: Network,
                 state_dir: Path) -> None:
        self.url, self.control, self.network = url, control, network
        self.directory = state_dir / "tasks"
        self.images = Images()
        self.credentials = TaskCredentials()
        self.checks = TargetChecks()
        self.services = ServiceScheduler(self)
        self.scheduler = Scheduler()
        self.runs: dict[str, Run] = {}
        self.shim: Shim | None = None
        self._closing = threading.Event()
        self._threads: list[threading.Thread] = []
        self._logs_lock = threading.Lock()

    def start(self) -> TaskRunner:
        self.shim = Shim.build(self.directory)
        ecs_runtime.install(self.checks.health)
        self.control.app = ExpiredCredentials(self.control.app)
        self.control.route("POST", "images", self.images.register)
        self.control.route("GET", "tasks", self.status)
        self.control.route("POST", "tasks/rotate-credentials", self.credentials.rotate_handler)
        self.control.mount(CREDENTIALS_PATH, self.credentials.app)
        self.control.route("POST", "schedules/fire", self.scheduler.fire)
        agent = threading.Thread(target=self._loop, daemon=True, name="ecs-agent")
        agent.start()
        self._threads.append(agent)
        return self

    def stop(self) -> None:
        """Stop every task's process (SIGTERM, SIGKILL after ``SHUTDOWN_STOP_TIMEOUT``: the
        emulator is going) and the agent, within a few seconds."""
        self._closing.set()
        self.checks.close()
        with LOCK:
            runs = list(self.runs.values())
        for run in runs:
            if not run.finished():
                self.request_stop(run, "the emulator stopped", "UserInitiated")
        deadline = time.monotonic() + SHUTDOWN_STOP_TIMEOUT + 3
        for thread in self._threads:
            thread.join(timeout=max(0.0, deadline - time.monotonic()))
        for run in runs:
            if run.container is not None and run.container.running():
                run.container.stop(0)

    def _loop(self) -> None:
        while not self._closing.wait(TICK_SECONDS):
            try:
                with LOCK:
                    self.tick()
            except Exception:  # pylint: disable=broad-exception-caught
                say(f"agent error (continuing):\n{traceback.format_exc()}")

    def tick(self) -> None:
        """Adopt new tasks, reconcile every service (``LOCK`` held)."""
        for account, regions in list(ecs_backends.items()):
            for region, backend in list(regions.items()):
                for tasks in list(backend.tasks.values()):
                    for arn, task in list(tasks.items()):
                        if arn not in self.runs and task.last_status != "STOPPED":
                            self._adopt(backend, account, region, task)
                for service in list(backend.services.values()):
                    self.services.reconcile(backend, service)

    def _adopt(self, backend: Any, account: str, region: str, task: Any) -> Run:
        run = Run(task, backend, account, region,
                  backend.describe_task_definition(task.task_definition_arn), self.checks)
        self.runs[task.task_arn] = run
        self._threads = [thread for thread in self._threads if thread.is_alive()]
        thread = threading.Thread(target=self._life, args=(run,), daemon=True,
                                  name=f"task {run.task_id}")
        thread.start()
        self._threads.append(thread)
        return run

    def runs_of(self, service: Any) -> list[Run]:
        group = f"service:{service.name}"
        return [run for run in self.runs.values()
                if run.task.group == group and run.task.cluster_arn == service.cluster_arn]

    def start_for_service(self, backend: Any, service: Any, deployment: dict[str, Any]) -> Run:
        """RunTask of one task of ``deployment`` (``LOCK`` held), adopted at once; moto's
        error (a subnet or security group gone, a missing cluster) when it refuses."""
        strategy = getattr(service, "capacity_provider_strategy", None) or None
        fargate = bool(strategy) and strategy[0].get("capacityProvider") in FARGATE_PROVIDERS
        tags = service.tags if service.propagate_tags == "SERVICE" else None
        task = backend.run_task(service.cluster_name, deployment["taskDefinition"], 1, None,
                                deployment["id"], tags, None if fargate else "FARGATE",
                                service.network_configuration or None, f"service:{service.name}",
                                None, strategy if fargate else None)[0]
        return self._adopt(backend, task.cluster_arn.split(":")[4], service.region_name, task)

    @staticmethod
    def request_stop(run: Run, reason: str, code: str) -> None:
        """Ask a task to stop (its thread does it), unless it already is."""
        task = run.task
        if task.desired_status != "STOPPED":
            task.desired_status = "STOPPED"
            task.stopped_reason = reason
            task.stop_code = code
            task.stopping_at = utcnow()

    # --- a task's life (its own thread) -------------------------------------------------

    def _life(self, run: Run) -> None:
        try:
            if not run.stopping():
                self._launch(run)
        except (PullError, SecretError, StartError, LogsError) as failure:
            self._finish(run, None, str(failure))
            return
        except Exception as error:  # pylint: disable=broad-exception-caught
            say(f"task {run.task_id}: emulator error:\n{traceback.format_exc()}")
            self._finish(run, None, f"the emulator could not start the task: {error}")
            return
        self._finish(run, self._supervise(run) if run.container is not None else None, None)

    def _launch(self, run: Run) -> None:  # pylint: disable=too-many-locals
        task, definition = run.task, run.definition
        if len(definition.container_definitions) != 1:
            raise StartError("the emulator runs tasks of one container only; this task "
                             f"definition has {len(definition.container_definitions)}")
        spec = definition.container_definitions[0]
        override = next((item for item in (task.overrides or {}).get("containerOverrides", [])
                         if item.get("name") == spec.get("name")), {})
        # Free on the container's ports: another emulator on this machine (lives run side by
        # side) hands out the same pool.
        run.address = take_address(self.network, "task", [
            int(mapping["containerPort"]) for mapping in spec.get("portMappings") or []])
        task.connectivity, task.connectivity_at = "CONNECTED", utcnow()
        task.last_status = "PENDING"
        secrets = resolve(spec.get("secrets") or [],
                          execution_role=getattr(definition, "execution_role_arn", ""),
                          account=run.account, region=run.region)
        task.pull_started_at = utcnow()
        image = self.images.pull(str(spec.get("image")))
        task.pull_stopped_at = utcnow()
        task.containers[0].image_digest = image.digest
        sink = self._log_sink(run, spec)
        credentials = self.credentials.issue(run.task_id,
                                             getattr(definition, "task_role_arn", None),
                                             run.region)
        if credentials:
            credentials["AWS_CONTAINER_CREDENTIALS_FULL_URI"] = \
                f"{self.url}/_tap/runtime/{CREDENTIALS_PATH}/{run.task_id}"
        ecs = {"AWS_EXECUTION_ENV": "AWS_ECS_FARGATE", "AWS_REGION": run.region,
               "AWS_DEFAULT_REGION": run.region, "AWS_ENDPOINT_URL": self.url}
        environment = {**container_environment(image, spec, override, ecs, secrets),
                       **credentials}
        argv = [image.local(arg) for arg in container_command(image, spec, override)]
        assert self.shim is not None
        if run.stopping():
            return  # StopTask while it was pending: no process is started
        container = Container(
            shim=self.shim, directory=self.directory / run.task_id, hosts=self.network.hosts.path,
            address=run.address, ports=[int(m["containerPort"]) for m in
                                        spec.get("portMappings") or []], on_line=sink)
        run.pid = container.start(argv, image.local(spec.get("workingDirectory")
                                                    or image.config.workdir), environment)
        run.container, run.started = container, time.monotonic()
        run.digests = {name: hashlib.sha256(value.encode()).hexdigest()
                       for name, value in sorted(container.environment.items())}
        task.started_at = utcnow()
        task.containers[0].last_status = "RUNNING"
        task.containers[0].network_interfaces = [{"privateIpv4Address": run.address}]
        say(f"task {run.task_id} ({task.group}) pid {run.pid} at {run.address}")
        if spec.get("healthCheck"):
            check = dict(spec["healthCheck"])
            check["command"] = [check["command"][0],
                                *(image.local(arg) for arg in check["command"][1:])]
            run.health = ContainerHealth(check, container.exec).start()
        task.last_status = "ACTIVATING"
        self._register(run, spec)
        task.last_status = "RUNNING"

    def _log_sink(self, run: Run, spec: dict[str, Any]) -> Callable[[str], None]:
        """Where the container's lines go: its awslogs stream (created now)."""
        configuration = spec.get("logConfiguration") or {}
        if configuration.get("logDriver") != "awslogs":
            return lambda line: None
        options = configuration.get("options") or {}
        group = options["awslogs-group"]
        prefix = options.get("awslogs-stream-prefix")
        stream = f"{prefix}/{spec['name']}/{run.task_id}" if prefix else run.task_id
        logs = logs_backends[run.account][options.get("awslogs-region", run.region)]
        with self._logs_lock:
            if group not in logs.groups:
                if options.get("awslogs-create-group") != "true":
                    raise LogsError(
                        "ResourceInitializationError: failed to validate logger args: create "
                        "stream has been retried 1 times: failed to create Cloudwatch log "
                        "stream: ResourceNotFoundException: The specified log group does not "
                        "exist. : exit status 1")
                logs.create_log_group(group, {})
            logs.create_log_stream(group, stream)

        def sink(line: str) -> None:
            with self._logs_lock:
                logs.put_log_events(group, stream, [{"timestamp": int(unix_time_millis()),
                                                     "message": line}])
        return sink

    def _register(self, run: Run, spec: dict[str, Any]) -> None:
        name = run.service_name()
        if name is None or run.address is None:
            return
        service = run.backend.describe_services(run.task.cluster_arn, [name])[0][0]
        for balancer in service.load_balancers or []:
            if balancer.get("containerName") != spec.get("name"):
                continue
            group_arn, port = balancer["targetGroupArn"], int(balancer["containerPort"])
            self.checks.register(elbv2_backends[run.account][run.region], group_arn,
                                 run.address, port)
            run.targets.append((group_arn, port))
            add_event(service, f"(service {name}) registered 1 targets in (target-group "
                      f"{group_arn})")

    def _supervise(self, run: Run) -> int:
        """Wait for the process to exit or the task to be stopped; the exit code."""
        container, task = run.container, run.task
        assert container is not None and container.process is not None
        while container.running() and not run.stopping():
            self._mirror_health(run)
            try:
                container.process.wait(timeout=0.5)
            except Exception:  # pylint: disable=broad-exception-caught
                continue  # TimeoutExpired: check again
        if container.running():
            self._drain(run)
            task.last_status = "STOPPING"
            timeout = SHUTDOWN_STOP_TIMEOUT if self._closing.is_set() else min(
                int(run.definition.container_definitions[0].get("stopTimeout")
                    or DEFAULT_STOP_TIMEOUT), MAX_STOP_TIMEOUT)
            container.stop(timeout)
            return container.wait()
        code = container.wait()
        self.request_stop(run, "Essential container in task exited", "EssentialContainerExited")
        self._drain(run)
        return code

    def _mirror_health(self, run: Run) -> None:
        """The container's health, then the task's, which ECS derives from its essential
        container's (a DescribeTasks between the two writes may show them apart)."""
        status = run.container_health()
        run.task.containers[0].health_status = status
        run.task.health_status = status

    def _drain(self, run: Run) -> None:
        if not run.targets:
            return
        run.task.last_status = "DEACTIVATING"
        name = run.service_name()
        service = run.backend.describe_services(run.task.cluster_arn, [name])[0][0]
        add_event(service, f"(service {name}) has begun draining connections on 1 tasks.")
        for group_arn, _ in run.targets:
            self.checks.deregister(group_arn, run.address or "")
            add_event(service, f"(service {name}) deregistered 1 targets in (target-group "
                      f"{group_arn})")

    def _finish(self, run: Run, code: int | None, failure: str | None) -> None:
        task = run.task
        if failure is not None:
            say(f"task {run.task_id} did not start: {failure}")
            self.request_stop(run, failure, "TaskFailedToStart")
            if task.stop_code == "TaskFailedToStart":
                task.containers[0].reason = failure
        if run.health is not None:
            run.health.stopped.set()
            self._mirror_health(run)
        container = task.containers[0]
        container.last_status, container.exitCode = "STOPPED", code
        task.last_status = "DEPROVISIONING"
        self._delete_interface(run)
        self.credentials.revoke(run.task_id)
        if run.address is not None:
            self.network.addresses.give_back("task", run.address)
        task.execution_stopped_at = task.stopped_at = utcnow()
        task.last_status = "STOPPED"
        say(f"task {run.task_id} stopped: exit {code}, {task.stopped_reason}")

    @staticmethod
    def _delete_interface(run: Run) -> None:
        """Fargate deletes the task's ENI when the task stops."""
        for attachment in run.task.attachments:
            details = {d["name"]: d["value"] for d in attachment.get("details", [])}
            interface = details.get("networkInterfaceId")
            if interface and interface in ec2_backends[run.account][run.region].enis:
                ec2_backends[run.account][run.region].delete_network_interface(interface)
            attachment["status"] = "DELETED"

    # --- the status endpoint ------------------------------------------------------------

    def status(self, _body: Any, _query: dict[str, str]) -> tuple[int, Any]:
        """``GET tasks``: every task the runtime ran (values never, only their digests)."""
        with LOCK:
            runs = list(self.runs.values())
        return 200, {"tasks": [{
            "taskArn": run.task.task_arn, "id": run.task_id, "group": run.task.group,
            "startedBy": run.task.started_by, "taskDefinition": run.task.task_definition_arn,
            "address": run.address, "pid": run.pid, "lastStatus": run.task.last_status,
            "desiredStatus": run.task.desired_status,
            "exitCode": run.task.containers[0].exitCode,
            "stoppedReason": run.task.stopped_reason or None, "stopCode": run.task.stop_code,
            "healthStatus": run.task.health_status,
            "targets": [{"targetGroupArn": arn, "port": port, "state": state[0],
                         "reason": state[1]} for arn, port, state in run.target_states()],
            "environment": run.digests} for run in runs]}
