"""ECS and ELBv2 in moto, when a runtime runs the tasks: the API tells what the runtime does.

moto 5.2.5 pretends: a task is RUNNING as soon as RunTask answers and walks to STOPPED as
DescribeTasks is called; StopTask stops it at once; a service's counts copy its desired count;
UpdateService keeps one deployment; DeleteService makes the service INACTIVE at once; every
IP target is ``healthy``. When ``python -m emulator --runtime-dir`` runs the tasks
(``emulator.runtime.tasks``), this extension hands those answers to it instead:

- a new task starts ``PROVISIONING`` (desired ``RUNNING``), its container ``PENDING`` with no
  exit code and ``UNKNOWN`` health; its ``lastStatus`` is whatever the runtime sets (no
  progression of moto's own); its container ARN names the task;
- StopTask asks: desired ``STOPPED``, ``stopCode`` ``UserInitiated``, ``stoppedReason`` the
  reason given (ECS's "Task stopped by user" without one); the runtime stops the process;
- ListTasks filters on ``serviceName`` (the tasks of group ``service:<name>``);
- CreateService starts a deployment with nothing running; UpdateService with a new task
  definition or ``forceNewDeployment`` adds a PRIMARY deployment (the previous one becomes
  ACTIVE) and leaves the counts to the runtime; DeleteService leaves the service ``DRAINING``
  until the runtime has stopped its tasks, then ``INACTIVE``;
- DescribeTargetHealth answers for the targets the runtime registered with the health its
  checks found (``health(group_arn, target_id)``);
- RunTask of a task definition whose containers give no ``memory`` (Fargate: the task's
  memory is enough) no longer fails in moto's placement arithmetic (it added None), nor an
  awsvpc task in a VPC without DNS hostnames (moto's ENI then has no ``private_dns_name``,
  which the task's attachment reads; it is None there).

Installed by the runtime (``install(health)``), not by ``emulator.moto_ext.install()``: without
a runtime nothing runs the tasks, and moto's own answers stay. ``LOCK`` serializes these
changes with the runtime's agent.
"""
from __future__ import annotations

import copy
import threading
from typing import Any, Callable

from moto.core.utils import utcnow
from moto.ec2.models.elastic_network_interfaces import NetworkInterface
from moto.ecs.exceptions import InvalidParameterException
from moto.ecs.models import EC2ContainerServiceBackend, Task
from moto.elbv2.models import FakeHealthStatus, FakeTargetGroup
from moto.moto_api._internal import mock_random

NAME = "ecs-runtime"
LOCK = threading.RLock()
Health = Callable[[str, str], "tuple[str, str | None, str | None] | None"]
_STATE: dict[str, Any] = {"health": None, "installed": False}


def new_deployment(service: Any, task_definition: str) -> dict[str, Any]:
    """A PRIMARY deployment of ``task_definition`` with nothing running yet."""
    deployment_id = f"ecs-svc/{mock_random.randint(10**18, 10**19 - 1)}"
    now = utcnow()
    return {"id": deployment_id, "status": "PRIMARY", "taskDefinition": task_definition,
            "desiredCount": service.desired_count, "pendingCount": 0, "runningCount": 0,
            "failedTasks": 0, "createdAt": now, "updatedAt": now,
            "launchType": service.launch_type,
            "capacityProviderStrategy": getattr(service, "capacity_provider_strategy", None),
            "platformVersion": "1.4.0", "platformFamily": "Linux",
            "networkConfiguration": service.network_configuration or None,
            "rolloutState": "IN_PROGRESS",
            "rolloutStateReason": f"ECS deployment {deployment_id} in progress."}


def _task_init(original: Callable[..., None]) -> Callable[..., None]:
    def init(self: Task, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        now = utcnow()
        self.last_status = "PROVISIONING"
        self.created_at = now
        self.health_status = "UNKNOWN"
        self.stop_code = None
        self.connectivity = None
        for container in self.containers:
            container.task_arn = self.task_arn
            container.container_arn = (f"{self.task_arn.replace(':task/', ':container/')}/"
                                       f"{mock_random.uuid4()}")
            container.exitCode = None
            container.health_status = "UNKNOWN"
            container.reason = None
    return init


def _stop_task(self: EC2ContainerServiceBackend, cluster_str: str, task_str: str,
               reason: str) -> Task:
    cluster = self._get_cluster(cluster_str)  # pylint: disable=protected-access
    task_id = task_str.rsplit("/", 1)[-1]
    with LOCK:
        for arn, task in self.tasks.get(cluster.name, {}).items():
            if arn.endswith(task_id):
                if task.desired_status != "STOPPED":
                    task.desired_status = "STOPPED"
                    task.stopped_reason = reason or "Task stopped by user"
                    task.stop_code = "UserInitiated"
                    task.stopping_at = utcnow()
                return task
    raise InvalidParameterException("The referenced task was not found.")


def _list_tasks(original: Callable[..., list[Task]]) -> Callable[..., list[Task]]:
    # moto's own signature, positional arguments included.
    def list_tasks(  # pylint: disable=too-many-positional-arguments
            self: EC2ContainerServiceBackend, cluster_str: str | None = None,
                   container_instance: str | None = None, family: str | None = None,
                   started_by: str | None = None, service_name: str | None = None,
                   desiredStatus: str | None = None) -> list[Task]:  # pylint: disable=invalid-name
        tasks = original(self, cluster_str, container_instance, family, started_by, None,
                         desiredStatus)
        if service_name:
            group = f"service:{service_name.rsplit('/', 1)[-1]}"
            tasks = [task for task in tasks if task.group == group]
        return tasks
    return list_tasks


def _create_service(original: Callable[..., Any]) -> Callable[..., Any]:
    def create_service(self: EC2ContainerServiceBackend, *args: Any, **kwargs: Any) -> Any:
        with LOCK:
            service = original(self, *args, **kwargs)
            service.running_count = service.pending_count = 0
            service.events = []
            if service.deployments and service.task_definition:
                service.deployments = [new_deployment(service, service.task_definition)]
            return service
    return create_service


def _update_service(original: Callable[..., Any]) -> Callable[..., Any]:
    def update_service(self: EC2ContainerServiceBackend, properties: dict[str, Any]) -> Any:
        with LOCK:
            name = properties["service"].rsplit("/", 1)[-1]
            before = self._get_service(properties.get("cluster", "default"), name)  # pylint: disable=protected-access
            definition, deployments = before.task_definition, copy.deepcopy(before.deployments)
            counts = (before.running_count, before.pending_count)
            force = bool(properties.get("force_new_deployment"))
            service = original(self, properties)
            service.running_count, service.pending_count = counts
            service.deployments = deployments
            if service.task_definition and (force or service.task_definition != definition):
                for deployment in deployments:
                    if deployment["status"] == "PRIMARY":
                        deployment["status"] = "ACTIVE"
                service.deployments = [new_deployment(service, service.task_definition),
                                       *deployments]
            elif deployments:
                deployments[0]["desiredCount"] = service.desired_count
            return service
    return update_service


def _delete_service(original: Callable[..., Any]) -> Callable[..., Any]:
    def delete_service(self: EC2ContainerServiceBackend, cluster_name: str, service_name: str,
                       force: bool) -> Any:
        with LOCK:
            service = original(self, cluster_name, service_name, force)
            service.status = "DRAINING"  # INACTIVE once the runtime has stopped its tasks
            service.desired_count = 0
            return service
    return delete_service


def _health_for(original: Callable[..., FakeHealthStatus]) -> Callable[..., FakeHealthStatus]:
    def health_for(self: FakeTargetGroup, target: dict[str, Any], ec2_backend: Any
                   ) -> FakeHealthStatus:
        status = original(self, target, ec2_backend)
        health = _STATE["health"]
        found = health(self.arn, target["Id"]) if health is not None else None
        if found is None:
            return status
        state, reason, description = found
        return FakeHealthStatus(target["Id"], status.port, self.health_check_port, state,
                                reason, description)
    return health_for


def _requirements(original: Callable[..., dict[str, Any]]) -> Callable[..., dict[str, Any]]:
    def requirements(task_definition: Any) -> dict[str, Any]:
        if any(d.get("memory") is None and d.get("memoryReservation") is None
               and d.get("Memory") is None and d.get("MemoryReservation") is None
               for d in task_definition.container_definitions):
            copied = copy.copy(task_definition)
            copied.container_definitions = [{**d, "memory": d.get("memory") or 0}
                                            for d in task_definition.container_definitions]
            return original(copied)
        return original(task_definition)
    return requirements


def install(health: Health) -> str:
    """Patch moto's ECS and ELBv2 models (once); ``health(group_arn, target_id)`` answers
    for the runtime's targets (None: moto's answer)."""
    _STATE["health"] = health
    if _STATE["installed"]:
        return NAME
    _STATE["installed"] = True
    if not hasattr(NetworkInterface, "private_dns_name"):
        NetworkInterface.private_dns_name = None  # type: ignore[attr-defined]
    Task.__init__ = _task_init(Task.__init__)  # type: ignore[method-assign]
    # A plain status: the runtime sets it; moto's ManagedState would advance it itself.
    Task.status = property(  # type: ignore[assignment]
        lambda self: self._status,  # pylint: disable=protected-access
        lambda self, value: setattr(self, "_status", value))
    backend = EC2ContainerServiceBackend
    # pylint: disable-next=protected-access
    backend._calculate_task_resource_requirements = staticmethod(  # type: ignore[method-assign]
        _requirements(backend._calculate_task_resource_requirements))  # pylint: disable=protected-access
    backend.stop_task = _stop_task  # type: ignore[method-assign]
    backend.list_tasks = _list_tasks(backend.list_tasks)  # type: ignore[method-assign]
    backend.create_service = _create_service(backend.create_service)  # type: ignore[method-assign]
    backend.update_service = _update_service(backend.update_service)  # type: ignore[method-assign]
    backend.delete_service = _delete_service(backend.delete_service)  # type: ignore[method-assign]
    FakeTargetGroup.health_for = _health_for(  # type: ignore[method-assign]
        FakeTargetGroup.health_for)
    return NAME
