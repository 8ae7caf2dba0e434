"""A container's ``secrets`` on an emulator with a runtime, resolved with ECS's ``valueFrom``
rules: a whole Secrets Manager secret, one JSON key, a version by stage or by id, a Parameter
Store parameter by name or ARN reach the process (seen through the runtime's digests); a
missing secret or a missing JSON key stops the task with ECS's reason and no process."""
# pylint: disable=redefined-outer-name
from __future__ import annotations

import hashlib
import json
from typing import Iterator

import pytest

from tests.emulator.runtime_support import ACCOUNT, REGION, Cloud, runtime_emulator

PREFIX = ("ResourceInitializationError: unable to pull secrets or registry auth: execution "
          "resource retrieval failed: unable to retrieve secret from asm: ")


@pytest.fixture(scope="module")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cloud]:
    with runtime_emulator(tmp_path_factory.mktemp("tasks-secrets")) as url:
        yield Cloud(url)


def digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def test_every_kind_of_value_from_reaches_the_process(cloud: Cloud) -> None:
    secrets, ssm = cloud.client("secretsmanager"), cloud.client("ssm")
    plain = secrets.create_secret(Name="app/plain", SecretString="s3cret value")["ARN"]
    document = secrets.create_secret(Name="app/json", SecretString=json.dumps(
        {"password": "p@ss", "port": 5432, "tls": True}))["ARN"]
    rotated = secrets.create_secret(Name="app/rotated", SecretString="first")
    secrets.put_secret_value(SecretId=rotated["ARN"], SecretString="second")
    ssm.put_parameter(Name="/tap/test/param", Value="from ssm", Type="SecureString")
    definition = cloud.task_definition("secrets", cloud.echo_image(), environment={
        "EXIT_CODE": "0"}, secrets={
            "WHOLE": plain,
            "PASSWORD": f"{document}:password::",
            "PORT": f"{document}:port::",
            "TLS": f"{document}:tls::",
            "PREVIOUS": f"{rotated['ARN']}::AWSPREVIOUS:",
            "BY_ID": f"{rotated['ARN']}:::{rotated['VersionId']}",
            "CURRENT": f"{rotated['ARN']}::AWSCURRENT:",
            "PARAMETER": "/tap/test/param",
            "PARAMETER_ARN": f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/tap/test/param"})
    task_arn = cloud.run(definition)
    assert cloud.stopped(task_arn)["containers"][0]["exitCode"] == 0
    environment = cloud.tasks()[task_arn]["environment"]
    # JSON values as the agent prints them (Go's %v): 5432, true.
    assert {name: environment[name] for name in (
        "WHOLE", "PASSWORD", "PORT", "TLS", "PREVIOUS", "BY_ID", "CURRENT", "PARAMETER",
        "PARAMETER_ARN")} == {
        "WHOLE": digest("s3cret value"), "PASSWORD": digest("p@ss"), "PORT": digest("5432"),
        "TLS": digest("true"), "PREVIOUS": digest("first"), "BY_ID": digest("first"),
        "CURRENT": digest("second"), "PARAMETER": digest("from ssm"),
        "PARAMETER_ARN": digest("from ssm")}


def test_a_missing_secret_stops_the_task_before_any_process(cloud: Cloud) -> None:
    missing = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:app/missing-AbCdEf"
    task_arn = cloud.run(cloud.task_definition("missing-secret", cloud.echo_image(),
                                               secrets={"TOKEN": missing}))
    task = cloud.stopped(task_arn)
    reason = task["stoppedReason"]
    assert reason.startswith(
        f"{PREFIX}service call has been retried 1 time(s): failed to fetch secret {missing} "
        "from secrets manager: operation error Secrets Manager: GetSecretValue, https response "
        "error StatusCode: 400, RequestID: "), reason
    assert reason.endswith(", api error ResourceNotFoundException: Secrets Manager can't find "
                           "the specified secret."), reason
    assert task["stopCode"] == "TaskFailedToStart"
    assert "exitCode" not in task["containers"][0]
    assert cloud.tasks()[task_arn]["pid"] is None


def test_a_missing_json_key_stops_the_task_before_any_process(cloud: Cloud) -> None:
    arn = cloud.client("secretsmanager").create_secret(
        Name="app/keys", SecretString=json.dumps({"username": "tap"}))["ARN"]
    task_arn = cloud.run(cloud.task_definition("missing-key", cloud.echo_image(),
                                               secrets={"PASSWORD": f"{arn}:password::"}))
    task = cloud.stopped(task_arn)
    assert (task["stopCode"], task["stoppedReason"]) == (
        "TaskFailedToStart", f"{PREFIX}service call has been retried 1 time(s): retrieved secret "
        "from Secrets Manager did not contain json key password")
    assert cloud.tasks()[task_arn]["pid"] is None


def test_a_missing_parameter_stops_the_task_before_any_process(cloud: Cloud) -> None:
    task_arn = cloud.run(cloud.task_definition("missing-parameter", cloud.echo_image(),
                                               secrets={"TOKEN": "/tap/test/absent"}))
    task = cloud.stopped(task_arn)
    assert task["stoppedReason"] == (
        "ResourceInitializationError: unable to pull secrets or registry auth: execution "
        "resource retrieval failed: unable to retrieve secrets from ssm: service call has been "
        "retried 1 time(s): invalid ssm parameters: /tap/test/absent")
    assert cloud.tasks()[task_arn]["pid"] is None
