"""The ECS service scheduler of the emulator: desired counts, rolling deployments, events.

``ServiceScheduler.reconcile(backend, service)`` runs once a second per service (from the
task runner's agent, ``emulator.runtime.tasks``) and does what the ECS service scheduler does
for a REPLICA service with the ECS deployment controller (developer guide: "Deploy Amazon ECS
services by replacing tasks", "How the Amazon ECS deployment circuit breaker detects
failures", "Service event messages",
https://docs.aws.amazon.com/AmazonECS/latest/developerguide/service-event-messages.html; a task
that fails to start is reported as ECS reports it: "(service x) was unable to place a task.
Reason: ..."):

- the PRIMARY deployment (its task definition) gets the desired count of tasks; a new one
  (UpdateService with a new revision, or forceNewDeployment) starts tasks up to
  ``maximumPercent`` of the desired count, and the older deployments' tasks are stopped only
  as far as ``minimumHealthyPercent`` allows, counting healthy tasks only (RUNNING, their
  load balancer targets ``healthy`` and their container health check, if any, ``HEALTHY``);
- after ``healthCheckGracePeriodSeconds`` from a task's start, a task whose target is
  ``unhealthy`` ("Task failed ELB health checks in (target-group ...)") or whose container is
  ``UNHEALTHY`` ("Task failed container health checks") is stopped, and replaced;
- a task of the PRIMARY deployment that fails to start, or stops before it was ever healthy,
  counts as failed; with the circuit breaker on, the deployment FAILS at the threshold
  (half the desired count, at least 3, at most 200) and, with rollback, the last COMPLETED
  deployment is PRIMARY again ("rolling back to deployment ..."); launches of a deployment
  whose tasks fail back off (5 s, doubling, at most a minute);
- DeleteService (status DRAINING) or a desired count of 0 stops the tasks; a DRAINING service
  with none left becomes INACTIVE;
- ``runningCount``, ``pendingCount``, the deployments' counts and ``rolloutState``, and the
  service ``events`` (newest first, at most 100) say what happened, in ECS's wording.
"""
from __future__ import annotations

import math
import time
import uuid
from typing import TYPE_CHECKING, Any

from moto.core.utils import utcnow

from emulator.moto_ext.ecs_runtime import LOCK, new_deployment

if TYPE_CHECKING:
    from emulator.runtime.tasks import Run, TaskRunner

MAX_EVENTS = 100
PENDING_STATES = ("PROVISIONING", "PENDING", "ACTIVATING")
BACKOFF_SECONDS = 5.0
MAX_BACKOFF_SECONDS = 60.0
FAILURE_STOP_CODES = ("TaskFailedToStart", "EssentialContainerExited")


def failure_threshold(desired: int) -> int:
    """The circuit breaker's failed-task threshold for a desired count."""
    return max(3, min(200, math.ceil(desired * 0.5)))


def add_event(service: Any, message: str) -> None:
    """A service event, newest first."""
    with LOCK:
        service.events.insert(0, {"id": str(uuid.uuid4()), "createdAt": utcnow(),
                                  "message": message})
        del service.events[MAX_EVENTS:]


def task_id(run: Run) -> str:
    return run.task.task_arn.rsplit("/", 1)[-1]


class ServiceScheduler:
    """Reconciles each service with its runs (the task runner's)."""

    def __init__(self, runner: TaskRunner) -> None:
        self.runner = runner
        self._backoff: dict[str, float] = {}  # deployment id -> no launch before (monotonic)

    def reconcile(self, backend: Any, service: Any) -> None:
        """One pass over ``service`` (call with ``LOCK`` held)."""
        if service.status == "INACTIVE" or not service.deployments:
            return
        runs = self.runner.runs_of(service)
        self._account_stopped(service, runs)
        alive = [run for run in runs if not run.stopping()]
        if service.status == "DRAINING":
            self._stop(service, alive, "ServiceSchedulerInitiated")
            if not any(not run.finished() for run in runs):
                service.status = "INACTIVE"
            self._count(service, runs)
            return
        self._replace_unhealthy(service, alive)
        alive = [run for run in runs if not run.stopping()]
        primary = service.deployments[0]
        ours = [run for run in alive if run.deployment() == primary["id"]]
        others = [run for run in alive if run.deployment() != primary["id"]]
        desired = service.desired_count
        configuration = getattr(service, "deployment_configuration", {}) or {}
        maximum = math.floor(desired * configuration.get("maximumPercent", 200) / 100)
        minimum_healthy = math.ceil(desired * configuration.get("minimumHealthyPercent", 100)
                                    / 100)
        if len(ours) > desired:
            surplus = sorted(ours, key=lambda run: (run.healthy(), run.created))[
                :len(ours) - desired]
            self._stop(service, surplus, "ServiceSchedulerInitiated")
            ours = [run for run in ours if run not in surplus]
        room = min(desired - len(ours), max(maximum, desired) - len(ours) - len(others))
        if primary.get("rolloutState") != "FAILED" and room > 0 and \
                time.monotonic() >= self._backoff.get(primary["id"], 0.0):
            self._start(backend, service, primary, room)
        healthy = sum(run.healthy() for run in ours) + sum(run.healthy() for run in others)
        stoppable = healthy - minimum_healthy
        for run in sorted(others, key=lambda run: run.healthy()):
            if not run.healthy():
                self._stop(service, [run], "ServiceSchedulerInitiated")
            elif stoppable > 0:
                self._stop(service, [run], "ServiceSchedulerInitiated")
                stoppable -= 1
        self._count(service, runs)
        self._roll_out(service, runs)

    def _start(self, backend: Any, service: Any, deployment: dict[str, Any], count: int) -> None:
        runs = []
        for _ in range(count):
            try:
                runs.append(self.runner.start_for_service(backend, service, deployment))
            except Exception as error:  # pylint: disable=broad-exception-caught
                # RunTask refused (moto's error carries AWS's message): try again later.
                add_event(service, f"(service {service.name}) was unable to place a task. "
                          f"Reason: {getattr(error, 'message', None) or error}")
                self._backoff[deployment["id"]] = time.monotonic() + MAX_BACKOFF_SECONDS
                break
        if runs:
            add_event(service, f"(service {service.name}) has started {len(runs)} tasks: "
                      + " ".join(f"(task {task_id(run)})" for run in runs) + ".")

    def _stop(self, service: Any, runs: list[Run], code: str, reason: str | None = None) -> None:
        if not runs:
            return
        for run in runs:
            self.runner.request_stop(
                run, reason or f"Scaling activity initiated by (deployment {run.deployment()})",
                code)
        add_event(service, f"(service {service.name}) has stopped {len(runs)} running tasks: "
                  + " ".join(f"(task {task_id(run)})" for run in runs) + ".")

    def _replace_unhealthy(self, service: Any, alive: list[Run]) -> None:
        grace = float(getattr(service, "health_check_grace_period_seconds", None) or 0)
        for run in alive:
            if run.running_for() < grace:
                continue
            unhealthy = run.unhealthy_target()
            if unhealthy is not None:
                group_arn, port, description = unhealthy
                add_event(service, f"(service {service.name}) (task {task_id(run)}) (port {port}) "
                          f"is unhealthy in (target-group {group_arn}) due to (reason "
                          f"{description}).")
                self._stop(service, [run], "ServiceSchedulerInitiated",
                           f"Task failed ELB health checks in (target-group {group_arn})")
            elif run.container_health() == "UNHEALTHY":
                add_event(service, f"(service {service.name}) (task {task_id(run)}) failed "
                          "container health checks.")
                self._stop(service, [run], "ServiceSchedulerInitiated",
                           "Task failed container health checks")

    def _account_stopped(self, service: Any, runs: list[Run]) -> None:
        """Count each newly stopped task of a deployment that never became healthy as failed;
        trip the circuit breaker at the threshold."""
        for run in runs:
            if not run.finished() or run.accounted:
                continue
            run.accounted = True
            deployment = next((d for d in service.deployments if d["id"] == run.deployment()),
                              None)
            failed = run.task.stop_code in FAILURE_STOP_CODES or \
                (run.task.stopped_reason or "").startswith("Task failed")
            if deployment is None or run.was_healthy or not failed:
                continue
            if run.task.stop_code == "TaskFailedToStart":
                add_event(service, f"(service {service.name}) was unable to place a task. "
                          f"Reason: {run.task.stopped_reason}")
            deployment["failedTasks"] += 1
            failures = deployment["failedTasks"]
            self._backoff[deployment["id"]] = time.monotonic() + min(
                BACKOFF_SECONDS * 2 ** (failures - 1), MAX_BACKOFF_SECONDS)
            self._trip(service, deployment)

    def _trip(self, service: Any, deployment: dict[str, Any]) -> None:
        breaker = (getattr(service, "deployment_configuration", {}) or {}).get(
            "deploymentCircuitBreaker", {})
        if not breaker.get("enable") or deployment["status"] != "PRIMARY" or \
                deployment["rolloutState"] != "IN_PROGRESS" or \
                deployment["failedTasks"] < failure_threshold(service.desired_count):
            return
        deployment["rolloutState"] = "FAILED"
        deployment["rolloutStateReason"] = \
            "ECS deployment circuit breaker: tasks failed to start."
        add_event(service, f"(service {service.name}) (deployment {deployment['id']}) deployment "
                  "failed: tasks failed to start.")
        previous = getattr(service, "tap_last_completed", None)
        if not breaker.get("rollback") or not previous or \
                previous == deployment["taskDefinition"]:
            return
        # The last completed deployment becomes PRIMARY again (its tasks still run); without
        # it (gone), a new deployment of its task definition.
        deployment["status"] = "ACTIVE"
        service.task_definition = previous
        restored = next((d for d in service.deployments if d["status"] == "ACTIVE"
                         and d["taskDefinition"] == previous and d is not deployment), None)
        if restored is None:
            restored = new_deployment(service, previous)
        else:
            service.deployments.remove(restored)
            restored.update(status="PRIMARY", rolloutState="IN_PROGRESS", updatedAt=utcnow(),
                            rolloutStateReason=f"ECS deployment {restored['id']} in progress.")
        service.deployments.insert(0, restored)
        add_event(service, f"(service {service.name}) rolling back to deployment "
                  f"{restored['id']}.")

    def _count(self, service: Any, runs: list[Run]) -> None:
        live = [run for run in runs if not run.finished()]
        service.running_count = sum(run.task.last_status == "RUNNING" for run in live)
        service.pending_count = sum(run.task.last_status in PENDING_STATES for run in live)
        for deployment in service.deployments:
            mine = [run for run in live if run.deployment() == deployment["id"]]
            deployment["runningCount"] = sum(r.task.last_status == "RUNNING" for r in mine)
            deployment["pendingCount"] = sum(r.task.last_status in PENDING_STATES for r in mine)
            if deployment["status"] == "PRIMARY":
                deployment["desiredCount"] = service.desired_count

    def _roll_out(self, service: Any, runs: list[Run]) -> None:
        primary = service.deployments[0]
        live = [run for run in runs if not run.finished()]
        ours = [run for run in live if run.deployment() == primary["id"]]
        done = (len(ours) == service.desired_count and all(run.healthy() for run in ours)
                and all(run.deployment() == primary["id"] for run in live))
        if not done or primary["rolloutState"] == "COMPLETED":
            return
        primary["rolloutState"] = "COMPLETED"
        primary["rolloutStateReason"] = f"ECS deployment {primary['id']} completed."
        primary["updatedAt"] = utcnow()
        service.tap_last_completed = primary["taskDefinition"]
        service.deployments[:] = [primary]
        add_event(service, f"(service {service.name}) (deployment {primary['id']}) deployment "
                  "completed.")
        add_event(service, f"(service {service.name}) has reached a steady state.")
