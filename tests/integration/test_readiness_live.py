"""Readiness, live: the application answers /readyz with its database and cache ready.

The request goes through ``viewer_url`` (CloudFront adds the origin-verify header the load
balancer's rule wants; on the emulator, its data plane serves the same path:
emulator/runtime/edge.py). On the emulator it also goes to each running task's own address,
which the runtime lists (``GET <AWS_ENDPOINT_URL>/_tap/runtime/tasks``), on the container's
port: every task, not only the one the load balancer picks.

/readyz is reachable from the internet, so it must say no more than ready or not: the
answer's keys are ``ready``, ``checks`` (per dependency: ``ok`` and ``latency_ms``),
``revision`` and, when not ready, ``failed`` (the names of the dependencies); no host name,
error text or version. The application runs its checks at most once per
``READINESS_TTL_SECONDS`` per process, so /readyz cannot be used to load the database or keep
an idle Aurora awake (app/web.py). The platform's default container (nginx) has no /readyz:
the test skips there, saying so.
"""
# pylint: disable=redefined-outer-name
from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from typing import Any

import pytest

from tests.integration.live import Clients, http_get, is_emulator
from tests.integration.outputs import Outputs

READINESS_PATH = "/readyz"
ALLOWED_KEYS = {"ready", "checks", "revision", "failed"}
CHECK_KEYS = {"ok", "latency_ms"}
TIMEOUT_SECONDS = 10


# A task's own address is reached directly, never through a proxy the environment names.
DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def _get_json(url: str) -> tuple[int | str, Any]:
    if not url.startswith("http://127."):  # the site, through CloudFront (or its emulation)
        status, body = http_get(url, TIMEOUT_SECONDS)
        return status, json.loads(body or b"null")
    request = urllib.request.Request(url, headers={"User-Agent": "tap-integration-suite"})
    try:
        with DIRECT.open(request, timeout=TIMEOUT_SECONDS) as answer:  # nosec: a task's address
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


@pytest.fixture(scope="module")
def container(aws: Clients, outputs: Outputs) -> dict[str, Any]:
    """The service's container definition (the one behind the target group)."""
    ecs = aws("ecs")
    (service,) = ecs.describe_services(cluster=outputs.require("ecs_cluster_name"),
                                       services=[outputs.require("ecs_service_name")])["services"]
    definition = ecs.describe_task_definition(taskDefinition=service["taskDefinition"])
    found = definition["taskDefinition"]["containerDefinitions"][0]
    if found["image"].startswith("public.ecr.aws/nginx/"):
        pytest.skip("the platform's default container (nginx) has no /readyz: deploy an "
                    "application (APP_MANIFEST) to check readiness")
    return dict(found)


def _urls(outputs: Outputs, container: dict[str, Any]) -> list[str]:
    site = [outputs.require("viewer_url").rstrip("/") + READINESS_PATH]
    if not is_emulator(os.environ):
        return site
    port = container["portMappings"][0]["containerPort"]
    service = f"service:{outputs.require('ecs_service_name')}"
    endpoint = os.environ["AWS_ENDPOINT_URL"].rstrip("/")
    with DIRECT.open(f"{endpoint}/_tap/runtime/tasks",  # nosec: loopback
                     timeout=TIMEOUT_SECONDS) as answer:
        tasks = json.loads(answer.read())["tasks"]
    addresses = [task["address"] for task in tasks
                 if task["group"] == service and task["lastStatus"] == "RUNNING"]
    assert addresses, f"no running task of {service} on the emulator"
    return site + [f"http://{address}:{port}{READINESS_PATH}" for address in addresses]


def test_the_application_is_ready_with_its_database_and_cache(
        outputs: Outputs, container: dict[str, Any]) -> None:
    for url in _urls(outputs, container):
        status, body = _get_json(url)
        assert status == 200, f"{url} answered {status}: {body}"
        assert body["ready"] is True, body
        assert set(body["checks"]) == {"database", "cache"}, body
        assert all(check["ok"] for check in body["checks"].values()), body


def test_readiness_says_nothing_an_attacker_can_use(outputs: Outputs,
                                                    container: dict[str, Any]) -> None:
    for url in _urls(outputs, container):
        _, body = _get_json(url)
        assert set(body) <= ALLOWED_KEYS, f"{url} says more than readiness: {sorted(body)}"
        for name, check in body["checks"].items():
            assert set(check) <= CHECK_KEYS, f"{url}: check {name} says {sorted(check)}"
