"""The task role's credentials on an emulator with a runtime: the process's boto3 gets the
task role's session from the container credentials endpoint (GetCallerIdentity shows the
assumed role, session name the task id); only the task's token is served; after
``rotate-credentials`` the process signs with a new session and the old one is refused as
expired; a stopped task's credentials are no longer served."""
# pylint: disable=redefined-outer-name
from __future__ import annotations

import urllib.error
import urllib.request
from typing import Iterator

import pytest

from tests.emulator.runtime_support import (ACCOUNT, Cloud, call, get_json, runtime_emulator,
                                            wait_for)


@pytest.fixture(scope="module")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cloud]:
    with runtime_emulator(tmp_path_factory.mktemp("tasks-credentials")) as url:
        yield Cloud(url)


def endpoint_status(url: str, token: str | None) -> int:
    request = urllib.request.Request(url, headers={"Authorization": token} if token else {})
    try:
        with urllib.request.urlopen(request, timeout=5) as answer:
            return int(answer.status)
    except urllib.error.HTTPError as error:
        return int(error.code)


def test_the_process_signs_with_the_task_role_and_follows_rotation(cloud: Cloud) -> None:
    task_arn = cloud.run(cloud.task_definition("credentials", cloud.echo_image()))
    task_id = task_arn.rsplit("/", 1)[1]
    address = cloud.running(task_arn)["address"]
    whoami = f"http://{address}:8080/whoami"
    first = wait_for(lambda: get_json(whoami), 15, "the server")
    role_name = cloud.task_role.rsplit("/", 1)[1]
    assert first["Arn"] == f"arn:aws:sts::{ACCOUNT}:assumed-role/{role_name}/{task_id}"
    assert first["AccessKeyId"].startswith("ASIA")

    credentials = f"{cloud.url}/_tap/runtime/credentials/{task_id}"
    assert endpoint_status(credentials, None) == 401
    assert endpoint_status(credentials, "not-the-token") == 401

    status, rotated = call(f"{cloud.url}/_tap/runtime/tasks/rotate-credentials", "POST",
                           {"task": task_arn})
    assert status == 200, rotated
    assert rotated["expiredAccessKeyId"] == first["AccessKeyId"]
    assert rotated["accessKeyId"] != first["AccessKeyId"]
    second = get_json(whoami)
    assert second == {"Arn": first["Arn"], "AccessKeyId": rotated["accessKeyId"]}
    # A request signed with the first session is refused as AWS refuses an expired token.
    assert get_json(f"http://{address}:8080/whoami-first") == {"Error": "ExpiredToken"}

    cloud.client("ecs").stop_task(cluster=cloud.cluster, task=task_arn)
    assert cloud.stopped(task_arn)["stoppedReason"] == "Task stopped by user"
    assert endpoint_status(credentials, None) == 404


def test_a_task_without_a_task_role_gets_no_credentials(cloud: Cloud) -> None:
    task_arn = cloud.run(cloud.task_definition("no-role", cloud.echo_image(),
                                               environment={"EXIT_CODE": "0"}, roles=False))
    assert cloud.stopped(task_arn)["containers"][0]["exitCode"] == 0
    environment = cloud.tasks()[task_arn]["environment"]
    assert "AWS_CONTAINER_CREDENTIALS_FULL_URI" not in environment
    assert "AWS_CONTAINER_AUTHORIZATION_TOKEN" not in environment


def test_rotating_an_unknown_task_is_refused(cloud: Cloud) -> None:
    assert call(f"{cloud.url}/_tap/runtime/tasks/rotate-credentials", "POST",
                {"task": "0123456789abcdef"}) == (
        404, {"error": "task 0123456789abcdef has no task role session"})
