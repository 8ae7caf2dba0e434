"""RunTask on an emulator with a runtime: the task runs as a process with ECS's lifecycle,
DescribeTasks tells the truth (states, exit code, stopped reason, stop code, timestamps), its
output is in CloudWatch Logs, ``tools/one_off.run`` returns its exit code and prints its lines,
StopTask stops the process (SIGTERM), and an image that cannot be pulled never starts."""
# pylint: disable=redefined-outer-name
from __future__ import annotations

import hashlib
import sys
import time
from pathlib import Path
from typing import Iterator

import pytest

from emulator.server import Emulator
from tests.emulator.runtime_support import (ACCOUNT, ECHO, LOG_GROUP, REGION, Cloud, alive,
                                            call, get_json, leftovers, runtime_emulator,
                                            wait_for)
from tools.one_off import TaskRequest, run


@pytest.fixture(scope="module")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cloud]:
    with runtime_emulator(tmp_path_factory.mktemp("tasks-run")) as url:
        yield Cloud(url)


def test_a_task_that_exits_3_is_stopped_with_its_code_and_its_logs(cloud: Cloud) -> None:
    image = cloud.echo_image()
    definition = cloud.task_definition("exit-three", image, environment={
        "EXIT_CODE": "3", "ECHO_LINES": "migrating|done, exiting 3"})
    task_arn = cloud.run(definition)
    task = cloud.stopped(task_arn)
    assert task["lastStatus"] == "STOPPED"
    assert task["desiredStatus"] == "STOPPED"
    assert task["stopCode"] == "EssentialContainerExited"
    assert task["stoppedReason"] == "Essential container in task exited"
    assert [(c["name"], c["lastStatus"], c["exitCode"]) for c in task["containers"]] == [
        ("web", "STOPPED", 3)]
    assert task["startedAt"] <= task["stoppedAt"]
    task_id = task_arn.rsplit("/", 1)[1]
    assert cloud.log_lines(f"web/web/{task_id}") == ["migrating", "done, exiting 3"]
    status = cloud.tasks()[task_arn]
    assert (status["group"], status["exitCode"], status["lastStatus"]) == (
        "family:exit-three", 3, "STOPPED")
    assert status["environment"]["ECHO_LINES"] == hashlib.sha256(
        b"migrating|done, exiting 3").hexdigest()
    # What ECS adds on Fargate, and the emulator's endpoint: names only, values digested.
    assert {"AWS_EXECUTION_ENV", "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ENDPOINT_URL",
            "AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_CONTAINER_AUTHORIZATION_TOKEN",
            "PATH", "PORT", "PYTHONUNBUFFERED"} <= set(status["environment"])
    assert status["environment"]["AWS_EXECUTION_ENV"] == hashlib.sha256(
        b"AWS_ECS_FARGATE").hexdigest()
    assert status["environment"]["AWS_ENDPOINT_URL"] == hashlib.sha256(
        cloud.url.encode()).hexdigest()
    assert not alive(status["pid"])


def test_one_off_run_returns_the_exit_code_and_prints_the_lines(cloud: Cloud) -> None:
    definition = cloud.task_definition("one-off", cloud.echo_image(), environment={
        "EXIT_CODE": "0", "ECHO_LINES": "never printed: the command overrides it"})
    printed: list[str] = []
    request = TaskRequest(
        region=REGION, cluster=cloud.cluster, task_definition=definition,
        subnets=(cloud.subnet,), security_groups=(cloud.security_group,),
        assign_public_ip=False, log_group=LOG_GROUP, log_stream_prefix="web", container="web",
        timeout_seconds=60,
        command=("python", "-c", "print('report: 2 rows'); print('report: done'); exit(3)"))
    code = run(request, ecs=cloud.client("ecs"), logs=cloud.client("logs"),
               out=printed.append, sleep=lambda _: time.sleep(0.2))
    assert code == 3
    task_id = printed[0].split()[2]
    assert printed[0] == (f"one-off: task {task_id} of one-off:1 started; logs {LOG_GROUP} "
                          f"web/web/{task_id}")
    assert "report: 2 rows" in printed and "report: done" in printed
    assert printed[-1] == f"one-off: task {task_id} exited 3"
    assert printed[-4:-1] == ["one-off: the task's last 2 log lines:", "  report: 2 rows",
                              "  report: done"]


def test_stop_task_sends_sigterm_and_the_lifecycle_is_ecs_s(cloud: Cloud) -> None:
    definition = cloud.task_definition("server", cloud.echo_image())
    task_arn = cloud.run(definition)
    assert cloud.describe(task_arn)["lastStatus"] in ("PROVISIONING", "PENDING")
    status = cloud.running(task_arn)
    running = cloud.describe(task_arn)
    assert (running["lastStatus"], running["containers"][0]["lastStatus"]) == (
        "RUNNING", "RUNNING")
    assert "exitCode" not in running["containers"][0]
    assert alive(status["pid"])
    assert status["address"].startswith("127.0.1.")
    answer = wait_for(lambda: get_json(f"http://{status['address']}:8080/"), 15, "the server")
    assert answer == {"revision": "", "address": status["address"]}
    stopping = cloud.client("ecs").stop_task(cluster=cloud.cluster, task=task_arn,
                                             reason="no longer needed")["task"]
    assert (stopping["desiredStatus"], stopping["stopCode"], stopping["stoppedReason"]) == (
        "STOPPED", "UserInitiated", "no longer needed")
    task = cloud.stopped(task_arn, timeout=30)
    # echo.py exits 0 on SIGTERM: the process got SIGTERM, not SIGKILL.
    assert task["containers"][0]["exitCode"] == 0
    assert task["stoppedReason"] == "no longer needed"
    assert not alive(status["pid"])
    # Fargate deletes the task's ENI when it stops.
    eni = next(d["value"] for d in task["attachments"][0]["details"]
               if d["name"] == "networkInterfaceId")
    assert cloud.client("ec2").describe_network_interfaces(Filters=[
        {"Name": "network-interface-id", "Values": [eni]}])["NetworkInterfaces"] == []


def test_a_process_that_ignores_sigterm_is_killed_after_the_stop_timeout(cloud: Cloud) -> None:
    definition = cloud.task_definition("stubborn", cloud.echo_image(), stopTimeout=2)
    task_arn = cloud.run(definition, overrides={"containerOverrides": [{"name": "web", "command": [
        "python", "-c", "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
        "print('ignoring SIGTERM', flush=True); time.sleep(120)"]}]})
    pid = cloud.running(task_arn)["pid"]
    task_id = task_arn.rsplit("/", 1)[1]
    wait_for(lambda: cloud.log_lines(f"web/web/{task_id}"), 15, "the process to print")
    asked = time.monotonic()
    cloud.client("ecs").stop_task(cluster=cloud.cluster, task=task_arn)
    task = cloud.stopped(task_arn, timeout=30)
    assert 2 <= time.monotonic() - asked < 10
    assert task["containers"][0]["exitCode"] == 137  # 128 + SIGKILL, as Docker reports it
    assert not alive(pid)


def test_no_task_outlives_an_emulator_that_is_killed(tmp_path: Path) -> None:
    """SIGKILL gives the emulator no chance to stop its tasks: they die with it (the parent
    death signal every task process is started with)."""
    emulator = Emulator(tmp_path / "emulator.log", runtime_dir=tmp_path / "runtime")
    try:
        cloud = Cloud(emulator.start().url)
        pid = cloud.running(cloud.run(cloud.task_definition("orphan", cloud.echo_image())))[
            "pid"]
        assert alive(pid)
        assert pid in leftovers(tmp_path / "runtime")  # what runtime_emulator checks
    finally:
        assert emulator.process is not None
        emulator.process.kill()
        emulator.stop()
    wait_for(lambda: not alive(pid), 10, "the task process to die with the emulator")
    assert not leftovers(tmp_path / "runtime")


def test_an_image_that_cannot_be_pulled_never_starts(cloud: Cloud) -> None:
    known = cloud.echo_image()
    missing_tag = known.rsplit(":", 1)[0] + ":v404"
    elsewhere = "public.ecr.aws/nginx/nginx:1.27-alpine"
    for image in (missing_tag, elsewhere):
        task_arn = cloud.run(cloud.task_definition("unpullable", image))
        task = cloud.stopped(task_arn)
        reason = (f"CannotPullContainerError: pull image manifest has been retried 5 time(s): "
                  f"failed to resolve ref {image}: {image}: not found")
        assert (task["stopCode"], task["stoppedReason"]) == ("TaskFailedToStart", reason)
        assert task["containers"][0]["reason"] == reason
        assert "exitCode" not in task["containers"][0]
        assert "startedAt" not in task
        assert cloud.tasks()[task_arn]["pid"] is None


def test_images_are_pulled_by_tag_or_digest_and_pushed_to_ecr(cloud: Cloud) -> None:
    status, answer = call(f"{cloud.url}/_tap/runtime/images", "POST", {
        "repository": "tap/digest", "tag": "one", "dockerfile": str(ECHO / "Dockerfile"),
        "paths": {"/srv": str(ECHO), "/opt/venv": sys.prefix}})
    assert status == 200, answer
    assert answer["imageUri"] == f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/tap/digest:one"
    images = cloud.client("ecr").describe_images(repositoryName="tap/digest")["imageDetails"]
    assert [(i["imageTags"], i["imageDigest"]) for i in images] == [(["one"], answer["digest"])]
    assert answer["config"]["WorkingDir"] == "/srv"
    assert answer["config"]["Cmd"] == ["python", "/srv/echo.py"]
    task_arn = cloud.run(cloud.task_definition("by-digest", answer["imageUriByDigest"],
                                               environment={"EXIT_CODE": "0"}))
    task = cloud.stopped(task_arn)
    assert (task["containers"][0]["exitCode"], task["containers"][0]["imageDigest"]) == (
        0, answer["digest"])
