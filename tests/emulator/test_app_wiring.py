"""Breaking the application's wiring fails it, visibly, on the emulator's runtime (the issue
"An application runs on the platform"): the e2e dev life proves that the platform's wiring
works and survives rotation; this module proves the converse.

One emulator with a runtime for the module; its world (``app_world.AppWorld``) is made with
boto3 as the stack makes it, and every container is the platform's own
(``lib.container.service_container``) or that one broken in one place. The release runs
once first (``python -m app.migrate`` with the master credentials, as lib/release.py wires
it), so the roles exist. Then every task starts at once (RunTask), each one wiring:

1. the platform's (``DB_AUTH=iam``, ``DB_USERNAME=tap_app``, ...): /readyz 200, database and
   cache ok;
2. a wrong environment name (``DB_HOSTNAME`` for ``DB_HOST``, ``REDIS_ENDPOINT`` for
   ``REDIS_HOST``): gunicorn exits 2 with the application's one-line configuration error;
3. a wrong JSON key in a secret's ``valueFrom`` (the release's ``DB_ADMIN_PASSWORD`` from the
   master secret's ``Password``; the key is ``password``): the task never starts, ECS's
   ResourceInitializationError naming the key;
4. the old wiring (``DB_AUTH=password``, the master user's name and password as ECS secrets):
   ready at first; after RotateSecret on the master secret and the application's
   connections cut, /readyz 503 naming the database, while the platform's task, treated the
   same, is still ready. ECS injects a secret once, when the container starts ("If the
   secret is subsequently updated or rotated, the container will not receive the updated
   value automatically": https://docs.aws.amazon.com/AmazonECS/latest/developerguide/
   secrets-envvar-secrets-manager.html), and RDS rotates the managed master secret every
   seven days.
"""
# pylint: disable=redefined-outer-name
from __future__ import annotations

import ast
import json
import shutil
import time
from dataclasses import replace
from typing import Any, Iterator

import pytest

from emulator.server import ROOT
from lib.container import CONTAINER_NAME, ContainerSpec
from tests.e2e.runtime import http
from tests.emulator.app_world import RELEASE_STREAM_PREFIX, AppWorld, log_stream
from tests.emulator.runtime_support import Cloud, call, runtime_emulator, wait_for
from tests.emulator.test_standins import runtime_directory


def _app_constant(module: str, name: str) -> Any:
    """A literal constant of the reference application (its packages are not in this
    virtualenv, so it is read, not imported): one home for the number."""
    tree = ast.parse((ROOT / "app" / f"{module}.py").read_text(encoding="utf-8"))
    return next(ast.literal_eval(node.value) for node in tree.body
                if isinstance(node, ast.Assign) and any(
                    isinstance(target, ast.Name) and target.id == name
                    for target in node.targets))


READY_TTL_SECONDS = float(_app_constant("web", "READY_TTL_SECONDS"))
APPLICATION_NAME = _app_constant("db", "APPLICATION_NAME")  # what pg_stat_activity shows
SECRET_PREFIX = ("ResourceInitializationError: unable to pull secrets or registry auth: "
                 "execution resource retrieval failed: unable to retrieve secret from asm: ")
WRONG_NAMES = {"DB_HOST": "DB_HOSTNAME", "REDIS_HOST": "REDIS_ENDPOINT"}
READY_WITHIN = 90.0  # seconds: gunicorn's two workers start on a busy 2-core machine


def renamed(spec: ContainerSpec, name: str, wrong: str) -> ContainerSpec:
    """The container with the environment variable ``name`` given as ``wrong``."""
    environment = {wrong if key == name else key: value
                   for key, value in spec.environment.items()}
    assert len(environment) == len(spec.environment) and wrong in environment
    return replace(spec, environment=environment)


def old_wiring(spec: ContainerSpec, master_secret_arn: str) -> ContainerSpec:
    """The wiring before the rotation fix: the master user's name and password as ECS secrets
    from the RDS-managed secret, password authentication (app/config.py: DB_AUTH=password
    with DB_PASSWORD)."""
    environment = {key: value for key, value in spec.environment.items()
                   if key != "DB_USERNAME"}
    environment["DB_AUTH"] = "password"
    return replace(spec, environment=environment, secrets={
        **spec.secrets, "DB_USERNAME": f"{master_secret_arn}:username::",
        "DB_PASSWORD": f"{master_secret_arn}:password::"},
        readable_secret_arns=(*spec.readable_secret_arns, master_secret_arn))


@pytest.fixture(scope="module")
def world() -> Iterator[AppWorld]:
    # Under /tmp, open to all: the database stand-in runs as the postgres OS user.
    directory = runtime_directory()
    try:
        with runtime_emulator(directory) as url:
            yield AppWorld(Cloud(url), directory)
    finally:
        shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture(scope="module")
def release(world: AppWorld) -> dict[str, Any]:
    """The release, run once as a one-off task, stopped."""
    definition = world.register("release", world.release_spec, release=True)
    return world.cloud.stopped(world.cloud.run(definition), timeout=120)


@pytest.fixture(scope="module")
def tasks(world: AppWorld, release: dict[str, Any]) -> dict[str, str]:
    """Every wiring's task, started at once after the release; task ARN by wiring."""
    assert release["containers"][0].get("exitCode") == 0, release
    wrong_key = replace(world.release_spec, secrets={
        **world.release_spec.secrets,
        "DB_ADMIN_PASSWORD": f"{world.master_secret_arn}:Password::"})
    definitions = {
        "platform": world.register("platform", world.spec),
        **{name: world.register(f"wrong-{name.lower()}", renamed(world.spec, name, wrong))
           for name, wrong in WRONG_NAMES.items()},
        "wrong-key": world.register("wrong-key", wrong_key, release=True),
        "old": world.register("old", old_wiring(world.spec, world.master_secret_arn)),
    }
    return {wiring: world.cloud.run(definition) for wiring, definition in definitions.items()}


def readyz(world: AppWorld, task_arn: str) -> tuple[int, Any]:
    """The task's first answer to /readyz once gunicorn listens: status, and the summary
    without its latencies (measured: each a number >= 0)."""
    address = world.cloud.running(task_arn, timeout=READY_WITHIN)["address"]

    def answer() -> tuple[int, Any] | None:
        try:
            status, _, body = http(address, world.settings.container_port, "/readyz")
        except OSError:
            return None  # not listening yet
        return status, body
    status, body = wait_for(answer, READY_WITHIN, f"/readyz of {task_arn}")
    assert all(check["latency_ms"] >= 0 for check in body["checks"].values()), body
    return status, {**body, "checks": {name: {"ok": check["ok"]}
                                       for name, check in body["checks"].items()}}


def log_records(cloud: Cloud, task_arn: str) -> list[dict[str, Any]]:
    """The JSON records of a service container's log (app/logs.py writes one per line)."""
    return [json.loads(line) for line in cloud.log_lines(log_stream(CONTAINER_NAME, task_arn))]


READY = {"ready": True, "revision": None,
         "checks": {"database": {"ok": True}, "cache": {"ok": True}}}
DATABASE_FAILED = {"ready": False, "revision": None, "failed": ["database"],
                   "checks": {"database": {"ok": False}, "cache": {"ok": True}}}


def test_the_release_provisions_the_application_role(world: AppWorld,
                                                     release: dict[str, Any]) -> None:
    assert (release["stopCode"], release["containers"][0]["exitCode"]) == (
        "EssentialContainerExited", 0)
    lines = world.cloud.log_lines(log_stream(RELEASE_STREAM_PREFIX, release["taskArn"]))
    assert json.loads(lines[-1]) == {"migrations_applied": ["0001_messages", "0002_reports"]}
    roles = world.psql(world.master_login(), "SELECT rolname || ':' || rolcanlogin FROM "
                       "pg_roles WHERE rolname IN ('tap_app', 'tap_owner') ORDER BY 1")
    assert (roles.returncode, roles.stdout.split()) == (0, ["tap_app:true", "tap_owner:false"])


def test_the_platform_wiring_is_ready(world: AppWorld, tasks: dict[str, str]) -> None:
    assert readyz(world, tasks["platform"]) == (200, READY)


@pytest.mark.parametrize("name", sorted(WRONG_NAMES))
def test_a_wrong_environment_name_stops_the_container_with_the_configuration_error(
        world: AppWorld, tasks: dict[str, str], name: str) -> None:
    task = world.cloud.stopped(tasks[name], timeout=READY_WITHIN)
    assert (task["stopCode"], task["stoppedReason"], task["containers"][0]["exitCode"]) == (
        "EssentialContainerExited", "Essential container in task exited", 2)
    # gunicorn's configuration (app/gunicorn.conf.py) validates the settings before any
    # worker starts: the one line of app.config's config_errors_exit, nothing else.
    assert world.cloud.log_lines(log_stream(CONTAINER_NAME, tasks[name])) == [
        f"gunicorn: configuration error: {name}: required, not set (a host name)"]


def test_a_wrong_secret_key_never_starts_the_task(world: AppWorld,
                                                  tasks: dict[str, str]) -> None:
    task = world.cloud.stopped(tasks["wrong-key"])
    # The ECS agent's words for a JSON key the secret does not have (agent/asm/asm.go, the
    # "Why can't my ECS task pull secrets" knowledge-center article's prefix).
    assert (task["stopCode"], task["stoppedReason"]) == (
        "TaskFailedToStart", f"{SECRET_PREFIX}service call has been retried 1 time(s): "
        "retrieved secret from Secrets Manager did not contain json key Password")
    assert "exitCode" not in task["containers"][0]
    assert world.cloud.tasks()[tasks["wrong-key"]]["pid"] is None


def test_the_master_credentials_fail_after_rotation_where_iam_survives(
        world: AppWorld, tasks: dict[str, str]) -> None:
    cloud, wirings = world.cloud, ("platform", "old")
    assert {wiring: readyz(world, tasks[wiring]) for wiring in wirings} == {
        "platform": (200, READY), "old": (200, READY)}

    old = world.master_login()
    cloud.client("secretsmanager").rotate_secret(SecretId=world.master_secret_arn)
    new = world.master_login()
    assert new[0] == old[0] == "tap_admin" and new[1] != old[1]
    wait_for(lambda: world.psql(new, "SELECT 1").returncode == 0, 60,
             "PostgreSQL to take the rotated master password")
    assert "password authentication failed" in world.psql(old, "SELECT 1").stderr
    # Both tasks' role sessions rotate too, as ECS's do under a long-running task.
    for wiring in wirings:
        status, answer = call(f"{cloud.url}/_tap/runtime/tasks/rotate-credentials", "POST",
                              {"task": tasks[wiring]})
        assert status == 200, answer
    # The open connections outlive the password (PostgreSQL checks it at log-in only): cut
    # them, as a failover or an idle timeout would, so the next query needs a new log-in.
    # Aurora's master may end any other user's session (rds_superuser: "Understanding the
    # rds_superuser role"; the stand-in grants it pg_signal_backend).
    cut = world.psql(new, "SELECT usename, pg_terminate_backend(pid) FROM pg_stat_activity "
                          f"WHERE application_name = '{APPLICATION_NAME}' ORDER BY 1")
    assert cut.returncode == 0, cut.stderr
    assert sorted(set(cut.stdout.split())) == ["tap_admin|t", "tap_app|t"]
    time.sleep(READY_TTL_SECONDS + 1)  # past each worker's cached summary

    after = {wiring: [readyz(world, tasks[wiring]) for _ in range(3)] for wiring in wirings}
    assert after == {"platform": [(200, READY)] * 3, "old": [(503, DATABASE_FAILED)] * 3}
    # Why, in the logs: the old wiring's pool warns of each refused log-in (the password it
    # got at start is no longer the master's) and its readiness check of the database fails;
    # the platform's task warned of nothing.
    warnings = {wiring: {(record["logger"], record["message"], record.get("check"))
                         for record in log_records(cloud, tasks[wiring])
                         if record["level"] != "info"} for wiring in wirings}
    assert warnings == {"platform": set(), "old": {
        ("app.web", "readiness check failed", "database"),
        ("psycopg.pool", "error connecting in 'tap': connection failed: connection to server "
         f"at \"{world.database_address()}\", port 5432 failed: FATAL:  password "
         "authentication failed for user \"tap_admin\"", None)}}
