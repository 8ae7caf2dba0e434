"""The reference application's manifest (app/app.toml) and image (app/Dockerfile) agree with
each other and with what the platform makes of them: every manifest key is used, the
container's command and health check are the image's, the image comes from this account's
ECR (``ecr:``) and the execution role may pull exactly that repository."""
# pylint: disable=redefined-outer-name
from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

import pytest

from lib.container import HEALTH_CHECK_TIMING
from lib.images import ecr_repository_arn, resolve_image
from lib.manifest import _KEYS
from tests.unit.synth import Synth, synthesize

APP = Path(__file__).resolve().parents[2] / "app"
MANIFEST = APP / "app.toml"


@pytest.fixture(scope="module")
def reference() -> Synth:
    """dev with the reference application's manifest."""
    return synthesize({"ENVIRONMENT_SUFFIX": "dev", "APP_MANIFEST": str(MANIFEST)})


def dockerfile_final_stage() -> dict[str, str]:
    """The final stage's instructions (continuation lines joined), by instruction."""
    text = re.sub(r"\\\n\s*", " ", (APP / "Dockerfile").read_text(encoding="utf-8"))
    final = text.rsplit("\nFROM ", 1)[1]
    found: dict[str, str] = {}
    for line in final.splitlines()[1:]:
        if line and not line.startswith("#"):
            instruction, _, rest = line.partition(" ")
            found[instruction] = rest.strip()
    return found


def test_the_manifest_uses_every_key() -> None:
    document = tomllib.loads(MANIFEST.read_text(encoding="utf-8"))
    assert set(document) == _KEYS[""]
    assert set(document["service"]) == _KEYS["service"]
    assert set(document["release"]) == _KEYS["release"]
    assert {key for job in document["jobs"] for key in job} == _KEYS["jobs"]
    assert {key for secret in document["secrets"].values() for key in secret} == _KEYS["secret"]


def test_the_container_is_the_images(reference: Synth) -> None:
    stage = dockerfile_final_stage()
    (container,) = json.loads(reference.at("aws_ecs_task_definition",
                                             "app/task")["container_definitions"])
    assert container["command"] == json.loads(stage["CMD"])
    assert f"{container['portMappings'][0]['containerPort']}" == stage["EXPOSE"]
    health = stage["HEALTHCHECK"]
    command = json.loads(health.split(" CMD ", 1)[1])
    assert container["healthCheck"]["command"] == ["CMD", *command]
    timing = dict(re.findall(r"--(\w[\w-]*)=(\d+)s?", health))
    assert {"interval": int(timing["interval"]), "timeout": int(timing["timeout"]),
            "retries": int(timing["retries"]), "startPeriod": int(timing["start-period"])} \
        == HEALTH_CHECK_TIMING
    # Read-only root with the one writable path gunicorn needs (dev has ECS Exec's too).
    assert container["readonlyRootFilesystem"] is True
    assert container["mountPoints"][0]["containerPath"] == "/tmp"
    assert stage["USER"].split(":")[0] != "0"


def test_the_image_is_this_accounts_ecr(reference: Synth) -> None:
    (container,) = json.loads(reference.at("aws_ecs_task_definition",
                                             "app/task")["container_definitions"])
    account = reference.ref("aws_caller_identity", "caller", "account_id", kind="data")
    assert container["image"] == f"{account}.dkr.ecr.us-east-1.amazonaws.com/tap/app:reference"
    pull = {s["Sid"]: s for s in reference.policy(
        "aws_iam_role_policy", "app/execution-policy")["Statement"]}["PullImage"]
    assert pull["Resource"] == [f"arn:aws:ecr:us-east-1:{account}:repository/tap/app"]


@pytest.mark.parametrize("reference,image,arn", [
    ("ecr:tap/app:1.2", "111122223333.dkr.ecr.eu-west-1.amazonaws.com/tap/app:1.2",
     "arn:aws:ecr:eu-west-1:111122223333:repository/tap/app"),
    (f"ecr:app@sha256:{'b' * 64}", f"111122223333.dkr.ecr.eu-west-1.amazonaws.com/app@sha256:"
                                    f"{'b' * 64}", "arn:aws:ecr:eu-west-1:111122223333:repository/app"),
    ("public.ecr.aws/nginx/nginx:1.27-alpine", "public.ecr.aws/nginx/nginx:1.27-alpine", None),
])
def test_ecr_shorthand(reference: str, image: str, arn: str | None) -> None:
    assert resolve_image(reference, "111122223333", "eu-west-1") == image
    assert ecr_repository_arn(reference, "111122223333", "eu-west-1") == arn
