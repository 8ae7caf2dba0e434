"""The reference application's life on the emulator: it is deployed, serves, survives.

Every life deploys app/app.toml (the reference application: tests/e2e/runtime.py registers its
image) on the emulator's runtime, where its tasks run as processes against real PostgreSQL and
Redis stand-ins. The phases, in the order the standard life runs them:

  standins        the stand-ins' pre-flight check, then the application's image in ECR
  release-gate    the first deploy of a manifest that declares APP_SIGNING_KEY stops at the
                  release gate, which names the secret (nothing of the service is created)
  secret-set      ``make secret-set`` gives it its value (tools/secret_set.py)
  serving         the service's tasks run, pass the target group's health check, and answer
                  /readyz with the database and the cache ready
  feature         the guestbook: a message written (with its HMAC receipt under the secret),
                  read back from another task, the list from the database then the cache
  rotation        RotateSecret on the master secret reaches PostgreSQL; each task's role
                  session is rotated and its old one expired; the application's connections
                  are cut; the next new connection of every task still gets in
  one-off         ``make task``: a command in the service's task definition, its exit code
  job             the scheduled job fired once: its task runs to exit 0
  secret-rotation ``make secret-set`` with a new value: the tasks are replaced and sign with it
  release-fails   a release that exits 3 stops the deploy; the service keeps its revision and
                  serves on
  revision        the image by digest: the release runs, a new revision replaces the tasks,
                  never fewer healthy than desired

The report's ``app`` object gathers what they measured. The production and ephemeral lives run
``standins``, ``serving`` and ``feature`` (their first deploy seeds the secret from
TAP_SECRET_APP_SIGNING_KEY, as a CI deploy would).
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
import sys
import threading
import time
import tomllib
from typing import Any

from emulator.server import ROOT
from lib.config import load_settings
from lib.naming import Names
from tests.e2e.harness import PhaseFailed, Run, errors
from tests.e2e.phases import deployed_outputs
from tests.e2e.runtime import (APP_REPOSITORY, APP_TAG, call, http, master_password, preflight,
                               psql, register_image, service_tasks, wait_for)

MANIFEST = "app/app.toml"
SECRET = "APP_SIGNING_KEY"
PORT = 8000  # app/app.toml's [service] port
HEALTHY_WITHIN = 240.0  # seconds: registration, two checks 15 s apart, a slow first start
READY_TTL = 10.0  # app/web.py caches readiness that long per process
FAILING_RELEASE = ["python", "-c", "import sys; print('migration 0042: relation exists'); "
                                   "sys.exit(3)"]


def manifest_settings(run: Run) -> None:
    """Every life deploys the reference application."""
    run.settings_env["APP_MANIFEST"] = MANIFEST


def standins(run: Run, seed: bool = False) -> None:
    """The stand-ins can start; the application's image is in ECR. ``seed``: deploys give
    APP_SIGNING_KEY its first value from TAP_SECRET_APP_SIGNING_KEY, as a CI deploy does."""
    versions = preflight(run)
    image = register_image(run)
    run.report.app["image"] = {"reference": f"ecr:{APP_REPOSITORY}:{APP_TAG}",
                               "digest": image["digest"]}
    run.report.app["standins"] = versions
    manifest_settings(run)
    if seed:
        run.settings_env[f"TAP_SECRET_{SECRET}"] = secrets.token_urlsafe(32)


def image_only(run: Run) -> None:
    """The stand-ins and the application's image, deployed without a manifest (an earlier
    version of the stack knows none): the image by its full ECR URI, its port and liveness
    path (tests/e2e/upgrade.py)."""
    preflight(run)
    image = register_image(run)
    run.report.app["image"] = {"reference": image["imageUri"], "digest": image["digest"]}
    manifest = tomllib.loads((ROOT / MANIFEST).read_text(encoding="utf-8"))["service"]
    run.settings_env.update({"CONTAINER_IMAGE": image["imageUri"],
                             "CONTAINER_PORT": str(manifest["port"]),
                             "HEALTH_CHECK_PATH": manifest["health_check_path"]})


def adopt_manifest(run: Run) -> None:
    """The live environment takes the application's manifest (its image, release, secret and
    job): one deploy, its first secret value from TAP_SECRET_APP_SIGNING_KEY."""
    for name in ("CONTAINER_IMAGE", "CONTAINER_PORT", "HEALTH_CHECK_PATH"):
        run.settings_env.pop(name, None)
    manifest_settings(run)
    run.settings_env[f"TAP_SECRET_{SECRET}"] = secrets.token_urlsafe(32)
    run.allow_destroy = False
    run.synth(again=True)
    _, output = run.apply()
    if "release: succeeded" not in output:
        raise PhaseFailed("adopt-manifest: the deploy did not run the release")
    run.check_state_unlocked()


def deploy_by_digest(run: Run) -> None:
    """``make deploy`` of the manifest with the image by digest, as the standard life ends."""
    run.settings_env["CONTAINER_IMAGE"] = _by_digest(run)
    run.allow_destroy = False
    run.synth(again=True)
    run.apply()
    run.check_state_unlocked()


def release_gate(run: Run) -> None:
    """The deploy stops at the release gate, naming the secret without a value."""
    run.allow_destroy = False
    run.synth()
    code, text = run.apply(check=False)
    wanted = f"the application secret(s) {SECRET} have no value yet"
    if code == 0 or wanted not in text:
        raise PhaseFailed(f"release-gate: the deploy exited {code} without {wanted!r}:\n"
                          f"{errors(text)}")
    outputs = run.client("ecs").describe_services(
        cluster=_names(run)["cluster"], services=[_names(run)["service"]])["services"]
    if any(service["status"] == "ACTIVE" for service in outputs):
        raise PhaseFailed("release-gate: the service exists although the gate refused")
    run.check_state_unlocked()
    run.report.app["secrets"] = {"missing_refused": True}


def secret_set(run: Run) -> None:
    """``make secret-set NAME=APP_SIGNING_KEY`` with a fresh value; later deploys of this life
    (a redeploy after destroy) seed their new secret from TAP_SECRET_APP_SIGNING_KEY."""
    value = _set_secret(run)
    run.settings_env[f"TAP_SECRET_{SECRET}"] = value


def serving(run: Run) -> None:
    """Desired tasks running, healthy in the target group, ready with database and cache."""
    tasks = healthy_tasks(run)
    ready = {task["id"]: _readyz(task) for task in tasks}
    failed = {task: body for task, body in ready.items() if not body.get("ready")}
    if failed:
        raise PhaseFailed(f"serving: /readyz of {sorted(failed)}: {failed}")
    run.report.app.update({
        "tasks_started": len(service_tasks(run, _names(run)["service"], running=False)),
        "healthy_targets": len(tasks), "ready": True, "revision": _revision(run)})


def feature(run: Run) -> None:
    """A message written, signed, read back through another task, then listed twice."""
    tasks = healthy_tasks(run)
    writer, reader = tasks[0], tasks[-1]
    text = f"hello from the {run.suffix} life {secrets.token_hex(4)}"
    status, _, created = http(writer["address"], PORT, "/api/messages", method="POST",
                              body={"text": text})
    if status != 201 or (created.get("message") or {}).get("text") != text:
        raise PhaseFailed(f"feature: POST /api/messages answered {status}: {created}")
    ident = created["message"]["id"]
    key = run.settings_env.get(f"TAP_SECRET_{SECRET}") or _secret_value(run)
    if created.get("receipt") != _receipt(key, ident):
        raise PhaseFailed(f"feature: the receipt of message {ident} is not its HMAC under "
                          f"{SECRET}")
    status, _, read = http(reader["address"], PORT, f"/api/messages/{ident}")
    if status != 200 or (read.get("message") or {}).get("text") != text:
        raise PhaseFailed(f"feature: task {reader['id']} read message {ident}: {status} {read}")
    sources = [http(reader["address"], PORT, "/api/messages")[1].get("X-Cache")
               for _ in range(2)]
    if sources != ["miss", "hit"]:
        raise PhaseFailed(f"feature: the list came from {sources}, expected the database "
                          "(miss), then the cache (hit)")
    run.report.app["feature"] = {"message": ident, "text": text, "receipt_checked": True,
                                 "read_by_another_task": reader["id"] != writer["id"],
                                 "list_sources": sources}


def rotation(run: Run) -> None:
    """Credentials rotate under the running tasks; the next new connections get in."""
    outputs = deployed_outputs(run)
    cluster, secret = outputs["aurora_cluster_identifier"], outputs["db_secret_arn"]
    old = master_password(run, secret)
    run.client("secretsmanager").rotate_secret(SecretId=secret)
    new = master_password(run, secret)
    if new == old:
        raise PhaseFailed("rotation: RotateSecret left the master password as it was")
    wait_for("rotation: PostgreSQL takes the rotated master password",
             lambda: psql(run, cluster, new, "SELECT 1").returncode == 0, 60)
    if psql(run, cluster, old, "SELECT 1").returncode == 0:
        raise PhaseFailed("rotation: PostgreSQL still takes the previous master password")
    tasks = healthy_tasks(run)
    for task in tasks:
        status, answer = call(run, "POST", "tasks/rotate-credentials", {"task": task["id"]})
        if status != 200:
            raise PhaseFailed(f"rotation: task {task['id']}'s session did not rotate: {answer}")
    cut = psql(run, cluster, new, "SELECT count(pg_terminate_backend(pid)) FROM "
               "pg_stat_activity WHERE usename = 'tap_app'")
    if cut.returncode != 0:
        raise PhaseFailed(f"rotation: the application's connections were not cut: {cut.stderr}")
    time.sleep(READY_TTL + 1)  # past each process's cached readiness
    ready = {task["id"]: _readyz(task) for task in tasks}
    survived = all(body.get("ready") for body in ready.values())
    run.report.app["rotation_survived"] = survived
    if not survived:
        raise PhaseFailed(f"rotation: after the rotation, /readyz answered {ready}")
    run.report.app["rotation"] = {"master_password": "rotated", "task_sessions": len(tasks),
                                  "connections_cut": int(cut.stdout.strip() or 0)}


def one_off(run: Run) -> None:
    """``make task``: a command in the service's task definition; its exit code is ours."""
    results = {}
    for name, command, wanted in (("report", ["python", "-m", "app.report"], 0),
                                  ("exit-3", ["python", "-c", "raise SystemExit(3)"], 3)):
        code, text = run.sh("deploy", [
            sys.executable, "-m", "tools.task", "--suffix", run.suffix, "--timeout", "300", "--",
            *command], log=f"task-{name}", check=False)
        if code != wanted:
            raise PhaseFailed(f"one-off: `make task CMD='{' '.join(command)}'` exited {code}, "
                              f"expected {wanted}:\n{errors(text)}")
        results[name] = code
    run.report.app["one_off"] = results


def job(run: Run) -> None:
    """The manifest's scheduled job, fired once by the scheduler: its task exits 0."""
    name = _names(run)["job"]
    status, answer = call(run, "POST", "schedules/fire", {"name": name, "group": "default"})
    if status != 200 or answer.get("invocation") != "SUCCEEDED":
        raise PhaseFailed(f"job: {name} was not invoked: {status} {answer}")
    ecs = run.client("ecs")
    cluster = _names(run)["cluster"]

    def stopped() -> dict[str, Any] | None:
        task = ecs.describe_tasks(cluster=cluster, tasks=answer["taskArns"])["tasks"][0]
        return task if task["lastStatus"] == "STOPPED" else None

    task = wait_for(f"job: the task of {name} stops", stopped, 180, every=2)
    code = task["containers"][0].get("exitCode")
    if code != 0:
        raise PhaseFailed(f"job: {name}'s task exited {code}: {task.get('stoppedReason')}")
    run.report.app["job"] = {"schedule": name, "exit_code": code}


def secret_rotation(run: Run) -> None:
    """A new value with ``make secret-set``: new tasks replace the old and sign with it."""
    before = {task["id"] for task in healthy_tasks(run)}
    value = _set_secret(run)
    run.settings_env[f"TAP_SECRET_{SECRET}"] = value
    def replaced() -> list[dict[str, Any]] | None:
        now = healthy_tasks(run, quick=True)
        return now if now and not before & {task["id"] for task in now} else None

    tasks = wait_for("secret-rotation: new tasks replace every old one, healthy", replaced,
                     HEALTHY_WITHIN, every=3)
    status, _, created = http(tasks[0]["address"], PORT, "/api/messages", method="POST",
                              body={"text": "signed with the new key"})
    if status != 201 or created.get("receipt") != _receipt(value, created["message"]["id"]):
        raise PhaseFailed(f"secret-rotation: the new tasks do not sign with the new value: "
                          f"{status} {created}")
    run.report.app["secrets"] = {**run.report.app.get("secrets", {}), "rotated_reached_tasks":
                                 True}


def release_fails(run: Run) -> None:
    """A release that fails stops the deploy; the service keeps its revision and serves."""
    failing = run.workdir / "failing-app.toml"
    manifest = tomllib.loads((ROOT / MANIFEST).read_text(encoding="utf-8"))
    text = (ROOT / MANIFEST).read_text(encoding="utf-8").replace(
        f"command = {_toml_list(manifest['release']['command'])}",
        f"command = {_toml_list(FAILING_RELEASE)}")
    failing.write_text(text, encoding="utf-8")
    before = _service(run)["taskDefinition"]
    run.settings_env.update({"APP_MANIFEST": str(failing), "CONTAINER_IMAGE": _by_digest(run)})
    try:
        run.synth(again=True)
        code, output = run.apply(check=False)
    finally:
        run.settings_env["APP_MANIFEST"] = MANIFEST
    if code == 0 or "release: FAILED (exit 3)" not in output:
        raise PhaseFailed(f"release-fails: the deploy exited {code} without the release's "
                          f"failure:\n{errors(output)}")
    if _service(run)["taskDefinition"] != before:
        raise PhaseFailed("release-fails: the service moved to the new revision although its "
                          "release failed")
    serving(run)
    run.report.app["release"] = {"failed_release_kept_revision": before.rsplit("/", 1)[-1]}


def revision(run: Run) -> None:
    """The image by digest: the release runs, a new revision replaces the tasks while never
    fewer than the desired count stay healthy."""
    before = _service(run)
    watcher = _HealthyFloor(run, before["desiredCount"])
    run.synth(again=True)
    with watcher:
        _, output = run.apply()
        after = wait_for("revision: the service runs only the new revision, healthy",
                         lambda: _replaced(run, before["taskDefinition"]), HEALTHY_WITHIN, 3)
    if "release: succeeded" not in output:
        raise PhaseFailed("revision: the deploy did not run its release")
    if watcher.lowest < before["desiredCount"]:
        raise PhaseFailed(f"revision: only {watcher.lowest} healthy targets during the "
                          f"deployment, below the desired {before['desiredCount']}")
    serving(run)
    run.report.app["release"] = {**run.report.app.get("release", {}), "ran": True}
    run.report.app["revision_change"] = {"from": before["taskDefinition"].rsplit("/", 1)[-1],
                                         "to": after.rsplit("/", 1)[-1],
                                         "lowest_healthy": watcher.lowest}


# -- helpers ------------------------------------------------------------------------------

def _names(run: Run) -> dict[str, str]:
    names = Names(load_settings({"ENVIRONMENT_SUFFIX": run.suffix, "AWS_REGION": run.region}))
    return {"cluster": names.ecs_cluster, "service": names.ecs_service,
            "job": f"{names.prefix}-daily-report"}  # app/app.toml's one job


def _service(run: Run) -> dict[str, Any]:
    names = _names(run)
    return dict(run.client("ecs").describe_services(
        cluster=names["cluster"], services=[names["service"]])["services"][0])


def healthy_tasks(run: Run, *, quick: bool = False) -> list[dict[str, Any]]:
    """The service's running tasks once each is healthy in the target group and their number
    is the desired count (``quick``: the answer now, [] when not so)."""
    def now() -> list[dict[str, Any]]:
        service = _service(run)
        tasks = service_tasks(run, _names(run)["service"])
        healthy = [task for task in tasks
                   if task["targets"] and all(t["state"] == "healthy" for t in task["targets"])]
        return tasks if len(tasks) == len(healthy) == service["desiredCount"] else []
    if quick:
        return now()
    return wait_for(f"{run.phase}: every desired task healthy in the target group", now,
                    HEALTHY_WITHIN, every=3)


def _readyz(task: dict[str, Any]) -> dict[str, Any]:
    status, _, body = http(task["address"], PORT, "/readyz")
    return {**(body or {}), "status": status}


def _revision(run: Run) -> dict[str, Any]:
    service = _service(run)
    definition = run.client("ecs").describe_task_definition(
        taskDefinition=service["taskDefinition"])["taskDefinition"]
    return {"task_definition": service["taskDefinition"].rsplit("/", 1)[-1],
            "image": definition["containerDefinitions"][0]["image"]}


def _replaced(run: Run, old: str) -> str | None:
    service = _service(run)
    tasks = healthy_tasks(run, quick=True)
    if service["taskDefinition"] != old and tasks and all(
            task["taskDefinition"] == service["taskDefinition"] for task in tasks):
        return str(service["taskDefinition"])
    return None


def _by_digest(run: Run) -> str:
    return f"ecr:{APP_REPOSITORY}@{run.report.app['image']['digest']}"


def _set_secret(run: Run) -> str:
    value = secrets.token_urlsafe(32)
    code, text = run.sh("deploy", [sys.executable, "-m", "tools.secret_set", "--suffix", run.suffix,
                                   "--name", SECRET], log="secret-set", check=False,
                        stdin=value)
    if code != 0:
        raise PhaseFailed(f"{run.phase}: make secret-set exited {code}:\n{errors(text)}")
    return value


def _secret_value(run: Run) -> str:
    client = run.client("secretsmanager")
    prefix = f"tap/{run.suffix}/app/{SECRET}-"
    listed = client.list_secrets(Filters=[{"Key": "name", "Values": [prefix]}])["SecretList"]
    return str(client.get_secret_value(SecretId=listed[0]["ARN"])["SecretString"])


def _receipt(key: str, message_id: int) -> str:
    """app/web.py's receipt: HMAC-SHA256 of the id under the key, hex."""
    return hmac.new(key.encode("utf-8"), str(message_id).encode("ascii"),
                    hashlib.sha256).hexdigest()


def _toml_list(items: list[str]) -> str:
    return "[" + ", ".join(f'"{item}"' if '"' not in item else f"'{item}'"
                           for item in items) + "]"


class _HealthyFloor:
    """While open, counts the service's healthy targets every second; ``lowest`` seen."""

    def __init__(self, run: Run, start: int) -> None:
        self.run, self.lowest = run, start
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def _watch(self) -> None:
        elb = self.run.client("elbv2")
        group = deployed_outputs(self.run)["target_group_arn"]
        while not self._stop.wait(1.0):
            health = elb.describe_target_health(TargetGroupArn=group)
            healthy = sum(1 for t in health["TargetHealthDescriptions"]
                          if t["TargetHealth"]["State"] == "healthy")
            self.lowest = min(self.lowest, healthy)

    def __enter__(self) -> _HealthyFloor:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join(timeout=10)
