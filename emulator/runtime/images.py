"""Local container images: what the emulator's ECS runs instead of pulling from a registry.

There is no container runtime here. An image is a Dockerfile's final stage read for its
configuration (``WORKDIR``, ``ENV``, ``USER``, ``ENTRYPOINT``, ``CMD``, ``HEALTHCHECK``,
``EXPOSE``) plus a map of image paths to local paths (``/srv`` -> the checkout,
``/opt/venv`` -> a virtualenv, ``/srv/certs/ca-bundle.pem`` -> the emulator's CA bundle: how TLS
verification works offline). ``POST /_tap/runtime/images`` registers one::

    {"repository": "tap/app", "tag": "v1", "dockerfile": "app/Dockerfile",
     "paths": {"/srv": "/repo", "/opt/venv": "/repo/build/app-venv"},
     "region": "us-east-1", "account": "123456789012"}        (region, account optional)

and pushes it into the emulator's ECR (PutImage of a schema 2 manifest whose layers name the
path map, so ECR has a digest: the SHA-256 of the manifest, as a registry computes it; the
repository is created when missing; the same image pushed again changes nothing).
``Images.pull(reference)`` is the pull: an ECR reference
``<account>.dkr.ecr.<region>.amazonaws.com/<repository>[:tag][@sha256:digest]`` of a
registered image gives its ``LocalImage``; anything else raises ``PullError`` with the
``CannotPullContainerError`` reason Fargate gives when a reference does not resolve
(containerd's "failed to resolve ref ...: not found";
https://repost.aws/knowledge-center/ecs-fargate-pull-container-error). Another registry is
refused the same way: a real pull would reach it; here nothing is pulled, so an unknown image
never runs.

What is not known offline: the base image's own configuration (``FROM python:3.11-slim``): its
environment is Docker's default ``PATH`` only, and its ``CMD`` none.
"""
from __future__ import annotations

import hashlib
import json
import re
import shlex
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from moto.core import DEFAULT_ACCOUNT_ID
from moto.ecr.exceptions import ImageAlreadyExistsException
from moto.ecr.models import ecr_backends

# Docker's PATH when an image sets none (the moby daemon's default for Linux containers).
DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
MANIFEST_TYPE = "application/vnd.docker.distribution.manifest.v2+json"
CONFIG_TYPE = "application/vnd.docker.container.image.v1+json"
LAYER_TYPE = "application/vnd.docker.image.rootfs.diff.tar.gzip"
ECR_REFERENCE = re.compile(
    r"^(?P<account>\d{12})\.dkr\.ecr\.(?P<region>[a-z0-9-]+)\.amazonaws\.com/"
    r"(?P<repository>[a-z0-9][a-z0-9._/-]*?)(?::(?P<tag>[\w][\w.-]{0,127}))?"
    r"(?:@(?P<digest>sha256:[a-f0-9]{64}))?$")
# HEALTHCHECK options and Docker's defaults (seconds; retries a count).
HEALTHCHECK_DEFAULTS = {"interval": 30, "timeout": 30, "startPeriod": 0, "retries": 3}
_HEALTHCHECK_OPTIONS = {"--interval": "interval", "--timeout": "timeout",
                        "--start-period": "startPeriod", "--retries": "retries"}
_VARIABLE = re.compile(r"\$(?:\{(?P<braced>\w+)(?::-(?P<default>[^}]*))?\}|(?P<plain>\w+))")


class PullError(RuntimeError):
    """The image cannot be pulled; ``str()`` is ECS's stopped reason."""


class DockerfileError(ValueError):
    """A Dockerfile the registry cannot read (says which line and why)."""


@dataclass
class ImageConfig:  # pylint: disable=too-many-instance-attributes
    """A stage's configuration, in image paths (what ``docker inspect`` shows)."""

    env: dict[str, str] = field(default_factory=lambda: {"PATH": DEFAULT_PATH})
    workdir: str = "/"
    user: str = ""
    entrypoint: list[str] = field(default_factory=list)
    cmd: list[str] = field(default_factory=list)
    healthcheck: dict[str, Any] | None = None  # {"command": [...], "interval": ...}
    exposed_ports: list[int] = field(default_factory=list)
    args: dict[str, str] = field(default_factory=dict)

    def copy(self) -> ImageConfig:
        return ImageConfig(dict(self.env), self.workdir, self.user, list(self.entrypoint),
                           list(self.cmd), dict(self.healthcheck) if self.healthcheck else None,
                           list(self.exposed_ports), dict(self.args))

    def to_dict(self) -> dict[str, Any]:
        return {"Env": [f"{k}={v}" for k, v in self.env.items()], "WorkingDir": self.workdir,
                "User": self.user, "Entrypoint": self.entrypoint, "Cmd": self.cmd,
                "Healthcheck": self.healthcheck,
                "ExposedPorts": [f"{port}/tcp" for port in self.exposed_ports]}


@dataclass(frozen=True)
class LocalImage:
    """A registered image: its ECR identity, configuration and path map."""

    repository: str
    tag: str
    digest: str
    config: ImageConfig
    paths: dict[str, str]  # image path -> local path

    def local(self, value: str) -> str:
        """``value`` with every image path in it (a path, or a ``:`` list of paths) mapped to
        its local path: the longest mapped prefix wins; other values are unchanged."""
        return ":".join(self._local_path(part) for part in value.split(":"))

    def _local_path(self, part: str) -> str:
        if not part.startswith("/"):
            return part
        for prefix in sorted(self.paths, key=len, reverse=True):
            if part == prefix or part.startswith(prefix.rstrip("/") + "/"):
                return self.paths[prefix] + part[len(prefix.rstrip("/")):]
        return part


def _logical_lines(text: str) -> list[tuple[int, str]]:
    """(line number, instruction) with continuations joined and comments dropped."""
    lines: list[tuple[int, str]] = []
    pending, start = "", 0
    for number, raw in enumerate(text.splitlines(), start=1):
        stripped = raw.strip()
        if not pending and (not stripped or stripped.startswith("#")):
            continue
        if pending and stripped.startswith("#"):
            continue  # a comment inside a continued instruction
        if not pending:
            start = number
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        lines.append((start, pending + stripped))
        pending = ""
    if pending:
        lines.append((start, pending))
    return lines


def _substitute(value: str, variables: dict[str, str]) -> str:
    def replace(match: re.Match[str]) -> str:
        name = match["braced"] or match["plain"]
        found = variables.get(name, "")
        return found if found or match["default"] is None else match["default"]
    return _VARIABLE.sub(replace, value)


def _command(argument: str, number: int) -> list[str]:
    """The exec form (a JSON array) as is, the shell form run by /bin/sh -c."""
    if argument.startswith("["):
        try:
            parsed = json.loads(argument)
        except json.JSONDecodeError as error:
            raise DockerfileError(f"line {number}: not a JSON array: {error}") from error
        if not isinstance(parsed, list) or not all(isinstance(i, str) for i in parsed):
            raise DockerfileError(f"line {number}: the exec form is a JSON array of strings")
        return parsed
    return ["/bin/sh", "-c", argument]


def _duration(value: str, number: int) -> int:
    match = re.fullmatch(r"(\d+)(s|m|h)?", value)
    if match is None:
        raise DockerfileError(f"line {number}: {value!r} is not a duration (e.g. 30s)")
    return int(match[1]) * {"s": 1, "m": 60, "h": 3600, None: 1}[match[2]]


def _healthcheck(argument: str, number: int) -> dict[str, Any] | None:
    options = dict(HEALTHCHECK_DEFAULTS)
    words = argument.split(" ")
    while words and words[0].startswith("--"):
        name, _, value = words.pop(0).partition("=")
        if name not in _HEALTHCHECK_OPTIONS:
            raise DockerfileError(f"line {number}: unknown HEALTHCHECK option {name}")
        key = _HEALTHCHECK_OPTIONS[name]
        options[key] = int(value) if key == "retries" else _duration(value, number)
    rest = " ".join(words).strip()
    if rest.upper() == "NONE":
        return None
    if not rest.upper().startswith("CMD"):
        raise DockerfileError(f"line {number}: HEALTHCHECK needs CMD or NONE")
    command = rest[3:].strip()
    exec_form = command.startswith("[")
    parsed = _command(command, number)
    # Stored as Docker stores it: ["CMD", ...] (exec form) or ["CMD-SHELL", "..."].
    options["command"] = ["CMD", *parsed] if exec_form else ["CMD-SHELL", command]
    return options


def _env_pairs(argument: str, number: int) -> list[tuple[str, str]]:
    words = shlex.split(argument)
    if words and "=" not in words[0]:  # legacy form: ENV NAME value with spaces
        if len(words) < 2:
            raise DockerfileError(f"line {number}: ENV needs a value")
        return [(words[0], argument.split(None, 1)[1].strip())]
    pairs = []
    for word in words:
        name, sep, value = word.partition("=")
        if not sep:
            raise DockerfileError(f"line {number}: ENV {word!r} is not NAME=value")
        pairs.append((name, value))
    return pairs


def parse_dockerfile(text: str) -> ImageConfig:  # pylint: disable=too-many-branches
    """The configuration of the Dockerfile's final stage (inheriting from an earlier stage
    when it is built ``FROM`` one)."""
    stages: dict[str, ImageConfig] = {}
    config: ImageConfig | None = None
    global_args: dict[str, str] = {}
    for number, line in _logical_lines(text):
        instruction, _, argument = line.partition(" ")
        instruction, argument = instruction.upper(), argument.strip()
        if instruction == "FROM":
            words = argument.split()
            base = words[0] if words else ""
            config = stages[base].copy() if base in stages else ImageConfig()
            config.args = dict(global_args)
            if len(words) == 3 and words[1].upper() == "AS":
                stages[words[2]] = config
            continue
        if instruction == "ARG":
            name, _, default = argument.partition("=")
            (config.args if config is not None else global_args)[name] = default
            continue
        if config is None:
            raise DockerfileError(f"line {number}: {instruction} before FROM")
        variables = {**config.args, **config.env}
        if instruction == "ENV":
            for name, value in _env_pairs(argument, number):
                config.env[name] = _substitute(value, {**config.args, **config.env})
        elif instruction == "WORKDIR":
            path = _substitute(argument, variables)
            config.workdir = path if path.startswith("/") else \
                f"{config.workdir.rstrip('/')}/{path}"
        elif instruction == "USER":
            config.user = _substitute(argument, variables)
        elif instruction == "ENTRYPOINT":
            config.entrypoint = _command(argument, number)
        elif instruction == "CMD":
            config.cmd = _command(argument, number)
        elif instruction == "HEALTHCHECK":
            config.healthcheck = _healthcheck(argument, number)
        elif instruction == "EXPOSE":
            config.exposed_ports += [int(port.split("/")[0]) for port in argument.split()]
    if config is None:
        raise DockerfileError("no FROM: not a Dockerfile")
    return config


def _digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def manifest(config: ImageConfig, paths: dict[str, str]) -> bytes:
    """A schema 2 manifest for the image: its config blob, one layer per mapped path."""
    config_blob = json.dumps(config.to_dict(), sort_keys=True).encode()
    layers = [{"mediaType": LAYER_TYPE, "size": 0,
               "digest": _digest(f"{image}={local}".encode())}
              for image, local in sorted(paths.items())]
    return json.dumps({"schemaVersion": 2, "mediaType": MANIFEST_TYPE,
                       "config": {"mediaType": CONFIG_TYPE, "size": len(config_blob),
                                  "digest": _digest(config_blob)},
                       "layers": layers}, sort_keys=True).encode()


def not_found(reference: str) -> PullError:
    """Fargate's stopped reason for a reference that does not resolve (containerd's resolver
    answers "<ref>: not found"; the agent retries the manifest pull 5 times first)."""
    return PullError(f"CannotPullContainerError: pull image manifest has been retried 5 "
                     f"time(s): failed to resolve ref {reference}: {reference}: not found")


class Images:
    """The registry of local images, keyed by ECR digest."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_digest: dict[str, LocalImage] = {}

    def register(self, body: Any, _query: dict[str, str]) -> tuple[int, Any]:
        """``POST images``: read the Dockerfile, push to ECR, remember the image."""
        if not isinstance(body, dict):
            raise ValueError("a JSON object with repository, tag, dockerfile and paths")
        repository, tag = str(body["repository"]), str(body["tag"])
        dockerfile = Path(str(body["dockerfile"]))
        paths = {str(image): str(Path(local).resolve())
                 for image, local in dict(body.get("paths") or {}).items()}
        for image, local in paths.items():
            if not image.startswith("/") or not Path(local).exists():
                raise ValueError(f"path {image} -> {local}: an absolute image path and an "
                                 "existing local path")
        try:
            config = parse_dockerfile(dockerfile.read_text(encoding="utf-8"))
        except OSError as error:
            raise ValueError(f"dockerfile {dockerfile}: {error.strerror}") from error
        except DockerfileError as error:
            raise ValueError(f"dockerfile {dockerfile}: {error}") from error
        region = str(body.get("region") or "us-east-1")
        account = str(body.get("account") or DEFAULT_ACCOUNT_ID)
        data = manifest(config, paths)
        digest = _digest(data)
        backend = ecr_backends[account][region]
        if repository not in backend.repositories:
            backend.create_repository(repository_name=repository, registry_id=None,
                                      encryption_config=None, image_scan_config=None,
                                      image_tag_mutability="MUTABLE", tags=[])
        try:
            backend.put_image(repository, data.decode(), tag, MANIFEST_TYPE, digest)
        except ImageAlreadyExistsException:
            pass  # the same image pushed again: a registry keeps it (docker push is a no-op)
        image = LocalImage(repository, tag, digest, config, paths)
        with self._lock:
            self._by_digest[digest] = image
        uri = f"{account}.dkr.ecr.{region}.amazonaws.com/{repository}"
        return 200, {"repository": repository, "tag": tag, "digest": digest,
                     "imageUri": f"{uri}:{tag}", "imageUriByDigest": f"{uri}@{digest}",
                     "config": config.to_dict()}

    def pull(self, reference: str) -> LocalImage:
        """The image ``reference`` names, or PullError with ECS's reason."""
        match = ECR_REFERENCE.match(reference)
        if match is None:
            raise not_found(reference)
        backend = ecr_backends[match["account"]][match["region"]]
        repository = backend.repositories.get(match["repository"])
        if repository is None:
            raise not_found(reference)
        tag = match["tag"] or (None if match["digest"] else "latest")
        found = [image for image in repository.images
                 if (tag is None or tag in image.image_tags)
                 and (match["digest"] is None or image.image_digest == match["digest"])]
        if not found:
            raise not_found(reference)
        with self._lock:
            image = self._by_digest.get(found[0].image_digest)
        if image is None:
            raise PullError(f"CannotPullContainerError: {reference}: the emulator's ECR has its "
                            "manifest but no local files: register it with POST "
                            "/_tap/runtime/images")
        return image
