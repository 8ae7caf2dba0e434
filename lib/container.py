"""The application's container: its image, port, liveness path, environment and secrets.

``platform_container(data, ...)`` assembles, in one place, what the platform gives the
container from the data tier's exports: the endpoints as plain environment values and the
credentials as ECS secrets (``valueFrom`` an ARN and a JSON key), with exactly the secrets the
execution role must read and the keys it must decrypt them with. ``ContainerSpec`` is what the
service's task definition is built from. ``ecr_repository_arn`` and ``is_nginx_alpine`` read
an image reference.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Mapping, Sequence

from lib.data_tier import DataExports

CONTAINER_NAME = "web"

_ECR_IMAGE = re.compile(
    r"^(?P<account>\d{12})\.dkr\.ecr\.(?P<region>[a-z0-9-]+)\.amazonaws\.com/"
    r"(?P<repository>[a-z0-9._/-]+?)(:[\w.-]+)?(@sha256:[a-f0-9]{64})?$")
# The official nginx Alpine images (ECR Public gallery or Docker Hub): busybox wget for the
# container health check, and the only writable paths nginx needs are known.
_NGINX_ALPINE = re.compile(
    r"^(public\.ecr\.aws/nginx/nginx|(docker\.io/)?(library/)?nginx):[\w.-]*alpine[\w.-]*$")


def ecr_repository_arn(image: str) -> str | None:
    """The ARN of a private ECR repository image, or None for public registries (which
    need no pull permission)."""
    match = _ECR_IMAGE.match(image)
    if match is None:
        return None
    return (f"arn:aws:ecr:{match['region']}:{match['account']}:"
            f"repository/{match['repository']}")


def is_nginx_alpine(image: str) -> bool:
    """Whether the image is an official nginx Alpine image (the default is one)."""
    return _NGINX_ALPINE.match(image) is not None


@dataclass(frozen=True, kw_only=True)
class ContainerSpec:  # pylint: disable=too-many-instance-attributes
    """What runs in the service's task: image, port, liveness path, environment, secrets."""

    image: str
    port: int
    health_check_path: str  # liveness only: the load balancer checks it
    # Plain environment, name -> value (tokens allowed). Default: none.
    environment: Mapping[str, str] = field(default_factory=dict)
    # Secret environment, name -> valueFrom ("<secret arn>:<json key>::"). Default: none.
    secrets: Mapping[str, str] = field(default_factory=dict)
    # Exactly the secrets the execution role may read and the KMS keys it may decrypt them
    # with (through Secrets Manager). Default: none, and then no such statement at all.
    readable_secret_arns: Sequence[str] = field(default_factory=tuple)
    decrypt_key_arns: Sequence[str] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        if self.secrets and not self.readable_secret_arns:
            raise ValueError("container secrets need readable_secret_arns: the execution role "
                             "could not read them and every task would fail to start")


def platform_container(data: DataExports, *, image: str, port: int,
                       health_check_path: str) -> ContainerSpec:
    """The container with what the platform gives it: the database and cache endpoints as
    environment values, the database credentials as secrets read at the task's start."""
    return ContainerSpec(
        image=image, port=port, health_check_path=health_check_path,
        environment={
            "DB_HOST": data.db_endpoint,
            "DB_PORT": str(data.db_port),
            "DB_NAME": data.db_name,
            "REDIS_HOST": data.cache_endpoint,
            "REDIS_PORT": data.cache_port,
            # Serverless caches accept TLS connections only.
            "REDIS_TLS": "true",
        },
        secrets={
            "DB_USERNAME": f"{data.db_secret_arn}:username::",
            "DB_PASSWORD": f"{data.db_secret_arn}:password::",
        },
        # The task reads only the database credentials; the cache needs no credentials
        # and its connection details arrive as plain environment values.
        readable_secret_arns=(data.db_secret_arn,),
        decrypt_key_arns=(data.key_arn,))
