"""The task runner's pure parts: a Dockerfile's final stage read as an image's configuration
(ENV with substitution, WORKDIR, CMD/ENTRYPOINT forms, HEALTHCHECK, a stage built FROM
another), image paths mapped to local ones, ECS's command and environment rules, and the
reasons a start fails with."""
from __future__ import annotations

import pytest

from emulator.runtime.containers import (StartError, container_command, container_environment,
                                         exit_code, resolve_executable)
from emulator.runtime.health import matches
from emulator.runtime.images import (DEFAULT_PATH, DockerfileError, ImageConfig, LocalImage,
                                     manifest, parse_dockerfile)
from emulator.runtime.services import failure_threshold

APP_LIKE = """\
# syntax=docker/dockerfile:1
ARG PYTHON=3.11
FROM python:${PYTHON}-slim AS build
RUN python -m venv /opt/venv
ENV BUILD_ONLY=1

FROM python:3.11-slim AS final
WORKDIR /srv
COPY --from=build /opt/venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH \\
    PYTHONUNBUFFERED=1 SSL_CERT_FILE=/srv/certs/ca-bundle.pem
ENV GREETING hello world
EXPOSE 8080/tcp 9090
HEALTHCHECK --interval=10s --timeout=3s --start-period=1m --retries=4 \\
    CMD ["python", "-m", "app.healthcheck"]
USER 10001
ENTRYPOINT ["tini", "--"]
CMD ["gunicorn", "--bind", "0.0.0.0:8080", "app.wsgi:application"]
"""


def test_the_final_stage_is_the_image() -> None:
    config = parse_dockerfile(APP_LIKE)
    assert config.env == {"PATH": f"/opt/venv/bin:{DEFAULT_PATH}", "PYTHONUNBUFFERED": "1",
                          "SSL_CERT_FILE": "/srv/certs/ca-bundle.pem",
                          "GREETING": "hello world"}
    assert (config.workdir, config.user, config.exposed_ports) == ("/srv", "10001", [8080, 9090])
    assert config.entrypoint == ["tini", "--"]
    assert config.cmd == ["gunicorn", "--bind", "0.0.0.0:8080", "app.wsgi:application"]
    assert config.healthcheck == {"command": ["CMD", "python", "-m", "app.healthcheck"],
                                  "interval": 10, "timeout": 3, "startPeriod": 60, "retries": 4}


def test_a_stage_built_from_another_inherits_it_and_shell_forms_run_in_sh() -> None:
    config = parse_dockerfile("FROM python:3.11 AS base\nENV A=1\nWORKDIR /app\n"
                              "FROM base\nWORKDIR sub\nENV B=${A}2 C=${MISSING:-fallback}\n"
                              "CMD echo $B\nHEALTHCHECK CMD curl -f localhost || exit 1\n")
    assert (config.workdir, config.env["B"], config.env["C"]) == ("/app/sub", "12", "fallback")
    assert config.cmd == ["/bin/sh", "-c", "echo $B"]
    assert config.healthcheck is not None
    assert config.healthcheck["command"] == ["CMD-SHELL", "curl -f localhost || exit 1"]
    assert parse_dockerfile("FROM scratch\nHEALTHCHECK NONE\n").healthcheck is None


@pytest.mark.parametrize(("text", "message"), [
    ("WORKDIR /srv\n", "line 1: WORKDIR before FROM"),
    ("FROM x\nCMD [\"a\", 1]\n", "line 2: the exec form is a JSON array of strings"),
    ("FROM x\nHEALTHCHECK --every=5s CMD true\n", "line 2: unknown HEALTHCHECK option --every"),
    ("# only a comment\n", "no FROM: not a Dockerfile"),
])
def test_a_dockerfile_the_registry_cannot_read_is_refused(text: str, message: str) -> None:
    with pytest.raises(DockerfileError) as refused:
        parse_dockerfile(text)
    assert str(refused.value) == message


def image(**config: object) -> LocalImage:
    return LocalImage("tap/app", "v1", "sha256:" + "0" * 64, ImageConfig(**config),  # type: ignore[arg-type]
                      {"/srv": "/repo", "/opt/venv": "/repo/build/app-venv",
                       "/srv/certs/ca-bundle.pem": "/state/tls/ca.pem"})


def test_image_paths_become_local_paths_the_longest_prefix_first() -> None:
    local = image()
    assert local.local("/opt/venv/bin:/usr/bin") == "/repo/build/app-venv/bin:/usr/bin"
    assert local.local("/srv/certs/ca-bundle.pem") == "/state/tls/ca.pem"
    assert local.local("/srv") == "/repo"
    assert local.local("/srvx/a") == "/srvx/a"
    assert local.local("postgres://db:5432/app") == "postgres://db:5432/app"
    assert local.local("app.wsgi:application") == "app.wsgi:application"


def test_ecs_entry_point_and_command_over_the_image_s() -> None:
    local = image(entrypoint=["tini", "--"], cmd=["gunicorn", "app"])
    assert container_command(local, {}, {}) == ["tini", "--", "gunicorn", "app"]
    assert container_command(local, {"command": ["python", "-m", "app.release"]}, {}) == [
        "tini", "--", "python", "-m", "app.release"]
    # A container entryPoint drops the image's CMD (Docker's merge), the override replaces
    # the definition's command.
    assert container_command(local, {"entryPoint": ["sh", "-c"]}, {}) == ["sh", "-c"]
    assert container_command(local, {"command": ["a"]}, {"command": ["b"]}) == [
        "tini", "--", "b"]
    with pytest.raises(StartError):
        container_command(image(), {}, {})


def test_the_environment_in_ecs_s_order_with_paths_mapped_but_not_in_secrets() -> None:
    local = image(env={"PATH": "/opt/venv/bin:/usr/bin", "A": "image", "B": "image"})
    environment = container_environment(
        local, {"environment": [{"name": "B", "value": "definition"},
                                {"name": "CA", "value": "/srv/certs/ca-bundle.pem"}]},
        {"environment": [{"name": "C", "value": "override"}]},
        {"AWS_REGION": "us-east-1", "A": "ecs"}, {"SECRET": "/srv/not-a-path"})
    assert environment == {"PATH": "/repo/build/app-venv/bin:/usr/bin", "A": "ecs",
                           "B": "definition", "AWS_REGION": "us-east-1",
                           "CA": "/state/tls/ca.pem", "C": "override",
                           "SECRET": "/srv/not-a-path"}


def test_an_executable_missing_from_path_fails_as_the_runtime_words_it() -> None:
    assert resolve_executable("sh", "/nonexistent:/bin") == "/bin/sh"
    with pytest.raises(StartError) as missing:
        resolve_executable("gunicorn", "/nonexistent")
    assert str(missing.value) == (
        "CannotStartContainerError: ResourceInitializationError: failed to create new container "
        "runtime task: failed to create shim task: OCI runtime create failed: runc create "
        "failed: unable to start container process: exec: \"gunicorn\": executable file not "
        "found in $PATH: unknown")


def test_small_rules() -> None:
    assert (exit_code(-15), exit_code(-9), exit_code(3)) == (143, 137, 3)
    assert [matches(m, 204) for m in ("200", "200,204", "200-299", "300-399")] == [
        False, True, True, False]
    assert [failure_threshold(n) for n in (1, 2, 10, 1000)] == [3, 3, 5, 200]


def test_a_manifest_digest_depends_on_the_configuration_and_the_paths() -> None:
    config = parse_dockerfile("FROM x\nCMD [\"a\"]\n")
    one = manifest(config, {"/srv": "/a"})
    assert one == manifest(parse_dockerfile("FROM x\nCMD [\"a\"]\n"), {"/srv": "/a"})
    assert one != manifest(config, {"/srv": "/b"})
    assert one != manifest(parse_dockerfile("FROM x\nCMD [\"b\"]\n"), {"/srv": "/a"})
