"""The application's container: what it runs, what it receives, and its ECS definition.

``service_container(...)`` assembles, in one place, what the platform gives the container:

- from the data tier's exports, the database and cache endpoints as plain environment values,
  and the application's own database role (``DB_USERNAME``) with ``DB_AUTH=iam``: every
  connection authenticates with an IAM token signed by the task role, so no password reaches
  the service and nothing expires under a running task (the RDS-managed master secret rotates
  every seven days, and ECS resolves a secret only when a task starts);
- ``AWS_REGION`` (for the token's signature) and ``PORT`` (the port to listen on);
- on the shared pieces (lib/shared_tenancy.py): the environment's own database and role, and its
  own cache user (``REDIS_USERNAME``, ``REDIS_PASSWORD`` as an ECS secret) and key prefix
  (``REDIS_KEY_PREFIX``), the names the reference application reads (app/config.py);
- from the manifest (``lib.manifest``): the image, port, liveness path, command, container
  health check, read-only root with its writable paths, the application's own plain
  environment and its secrets (ECS ``secrets``, read by the execution role at the task's
  start), with exactly the secrets and keys the execution role must read and decrypt.

Without a manifest the container is today's default: the nginx Alpine image's ``wget`` health
check and, where ECS Exec is off, its read-only root with nginx's two writable paths.

``container_definition(spec, ...)`` renders a ``ContainerSpec`` as the ECS container
definition the service, the release task and the jobs share. ``ecr_repository_arn`` and
``is_nginx_alpine`` read an image reference.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

from lib.data_tier import DataExports
from lib.images import ecr_repository_arn, is_nginx_alpine, resolve_image
from lib.manifest import Manifest
from lib.policies import statement

CONTAINER_NAME = "web"
# The container health check's timing: the same in the task definition and in the reference
# application's Dockerfile HEALTHCHECK (tests/unit/test_app_contract.py compares them).
HEALTH_CHECK_TIMING = {"interval": 30, "timeout": 5, "retries": 3, "startPeriod": 15}
# ECS Exec's SSM agent writes here; with a read-only root these must be writable volumes
# (aws/containers-roadmap #1359, aws-containers/amazon-ecs-exec-checker #21).
EXEC_WRITABLE_PATHS = ("/managed-agents", "/var/lib/amazon/ssm", "/var/log/amazon/ssm")
ECR_PULL_ACTIONS = ("ecr:BatchCheckLayerAvailability", "ecr:GetDownloadUrlForLayer",
                    "ecr:BatchGetImage")
NGINX_WRITABLE_PATHS = {"nginx-cache": "/var/cache/nginx", "nginx-run": "/var/run"}


@dataclass(frozen=True, kw_only=True)
class ContainerSpec:  # pylint: disable=too-many-instance-attributes
    """What runs in a task: image, port, liveness path, environment, secrets, file system."""

    image: str  # what ECS pulls (an ecr: reference resolved)
    port: int
    health_check_path: str  # liveness only: the load balancer checks it
    # The image's private ECR repository (the execution role may pull from it), or None.
    repository_arn: str | None = None
    # Plain environment, name -> value (tokens allowed). Default: none.
    environment: Mapping[str, str] = field(default_factory=dict)
    # Secret environment, name -> valueFrom ("<secret arn>[:<json key>::]"). Default: none.
    secrets: Mapping[str, str] = field(default_factory=dict)
    # Exactly the secrets the execution role may read and the KMS keys it may decrypt them
    # with (through Secrets Manager). Default: none, and then no such statement at all.
    readable_secret_arns: Sequence[str] = field(default_factory=tuple)
    decrypt_key_arns: Sequence[str] = field(default_factory=tuple)
    command: Sequence[str] | None = None  # None: the image's own
    health_check_command: Sequence[str] | None = None  # exec form, without "CMD"
    readonly_root_filesystem: bool = False
    # Task-storage volumes, by name, and where they are mounted (with a read-only root).
    writable_paths: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.secrets and not self.readable_secret_arns:
            raise ValueError("container secrets need readable_secret_arns: the execution role "
                             "could not read them and every task would fail to start")


def platform_environment(data: DataExports, region: str, port: int) -> dict[str, str]:
    """The environment every container of the application receives from the platform."""
    return {
        "DB_HOST": data.db_endpoint,
        "DB_PORT": str(data.db_port),
        "DB_NAME": data.db_name,
        # The application's own role (created by its release, or in the shared cluster by the
        # deploy), never the master user.
        "DB_USERNAME": data.db_app_username,
        "DB_AUTH": "iam",
        "REDIS_HOST": data.cache_endpoint,
        "REDIS_PORT": data.cache_port,
        # Serverless caches accept TLS connections only.
        "REDIS_TLS": "true",
        **({"REDIS_USERNAME": data.cache_username} if data.cache_username else {}),
        **({"REDIS_KEY_PREFIX": data.cache_key_prefix} if data.cache_key_prefix else {}),
        "AWS_REGION": region,
        "PORT": str(port),
    }


def platform_secrets(data: DataExports) -> dict[str, str]:
    """The secrets every container receives from the platform (name -> valueFrom): on the
    shared cache, its user's password (the JSON key "password" of its secret)."""
    if data.cache_password_secret_arn is None:
        return {}
    return {"REDIS_PASSWORD": f"{data.cache_password_secret_arn}:password::"}


def platform_secret_arns(data: DataExports) -> tuple[str, ...]:
    """The secrets ``platform_secrets`` reads."""
    return (data.cache_password_secret_arn,) if data.cache_password_secret_arn else ()


def service_container(  # pylint: disable=too-many-arguments  # all keyword-only
        data: DataExports, *, region: str, account_id: str, image: str, port: int,
        health_check_path: str, manifest: Manifest | None, app_secret_arns: Mapping[str, str],
        exec_enabled: bool) -> ContainerSpec:
    """The service's container: the platform's environment, then the manifest's own (or,
    without a manifest, the default image's settings). ``image`` is the reference given
    (``ecr:`` resolved here); ``app_secret_arns``: the ARN of each declared secret."""
    environment = platform_environment(data, region, port)
    platform = platform_secrets(data)
    repository_arn = ecr_repository_arn(image, account_id, region)
    image = resolve_image(image, account_id, region)
    if manifest is None:
        nginx = is_nginx_alpine(image)
        # nginx writes only its cache and pid file; not with ECS Exec (today's default).
        read_only = nginx and not exec_enabled
        return ContainerSpec(
            image=image, port=port, health_check_path=health_check_path,
            repository_arn=repository_arn, environment=environment, secrets=platform,
            readable_secret_arns=platform_secret_arns(data),
            decrypt_key_arns=(data.key_arn,) if platform else (),
            # Exec form (no shell): HEALTH_CHECK_PATH characters are never interpreted.
            # 127.0.0.1, not localhost: nginx may listen on IPv4 only.
            health_check_command=("wget", "-q", "-O", "/dev/null",
                                  f"http://127.0.0.1:{port}{health_check_path}")
            if nginx else None,
            readonly_root_filesystem=read_only,
            writable_paths=NGINX_WRITABLE_PATHS if read_only else {})
    secrets = dict(sorted({**app_secret_arns, **platform}.items()))
    readable = (*dict(sorted(app_secret_arns.items())).values(), *platform_secret_arns(data))
    paths = tuple(manifest.writable_paths) if manifest.readonly_root_filesystem else ()
    if manifest.readonly_root_filesystem and exec_enabled:
        paths += tuple(path for path in EXEC_WRITABLE_PATHS if path not in paths)
    return ContainerSpec(
        image=image, port=port, health_check_path=health_check_path,
        repository_arn=repository_arn, environment={**environment, **manifest.environment},
        secrets=secrets,
        readable_secret_arns=readable,
        decrypt_key_arns=(data.key_arn,) if secrets else (),
        command=manifest.command, health_check_command=manifest.health_check_command,
        readonly_root_filesystem=manifest.readonly_root_filesystem,
        writable_paths={volume_name(path): path for path in paths})


def volume_name(path: str) -> str:
    """The task-storage volume of a writable path: /var/cache/nginx -> var-cache-nginx."""
    return path.strip("/").replace("/", "-").replace(".", "-").replace("_", "-")


def container_definition(spec: ContainerSpec, *, log_group_name: str, region: str,
                         stream_prefix: str, exec_enabled: bool,
                         command: Sequence[str] | None = None) -> dict[str, Any]:
    """The ECS container definition of ``spec``; ``command`` replaces the spec's own (a
    release or a job runs the same image and settings with its own command)."""
    container: dict[str, Any] = {
        "name": CONTAINER_NAME,
        "image": spec.image,
        "essential": True,
        "portMappings": [{"containerPort": spec.port, "hostPort": spec.port,
                          "protocol": "tcp"}],
        "readonlyRootFilesystem": spec.readonly_root_filesystem,
        "logConfiguration": {"logDriver": "awslogs", "options": {
            "awslogs-group": log_group_name,
            "awslogs-region": region,
            "awslogs-stream-prefix": stream_prefix,
        }},
    }
    chosen = command if command is not None else spec.command
    if chosen is not None:
        container["command"] = list(chosen)
    if spec.environment:
        container["environment"] = [{"name": name, "value": value} for name, value
                                    in sorted(spec.environment.items())]
    if spec.secrets:
        container["secrets"] = [{"name": name, "valueFrom": value} for name, value
                                in sorted(spec.secrets.items())]
    if spec.health_check_command is not None and command is None:
        container["healthCheck"] = {"command": ["CMD", *spec.health_check_command],
                                    **HEALTH_CHECK_TIMING}
    if spec.writable_paths:
        container["mountPoints"] = [{"sourceVolume": volume, "containerPath": path,
                                     "readOnly": False}
                                    for volume, path in spec.writable_paths.items()]
    if exec_enabled:
        # An init process reaps the SSM agent's sessions (recommended for ECS Exec).
        container["linuxParameters"] = {"initProcessEnabled": True}
    return container


def execution_statements(spec: ContainerSpec, log_group_arn: str, region: str
                         ) -> list[dict[str, Any]]:
    """What the ECS agent needs to start a task of ``spec``: write its log group, pull a
    private ECR image, read exactly its secrets and decrypt them (through Secrets Manager)."""
    statements = [statement(sid="WriteTaskLogs",
                            actions=["logs:CreateLogStream", "logs:PutLogEvents"],
                            resources=[log_group_arn, f"{log_group_arn}:*"])]
    repository = spec.repository_arn
    if repository is not None:
        # GetAuthorizationToken has no resource type: "*" is the only possible value.
        statements.append(statement(sid="EcrLogin", actions=["ecr:GetAuthorizationToken"],
                                    resources="*"))
        statements.append(statement(sid="PullImage", actions=ECR_PULL_ACTIONS,
                                    resources=[repository]))
    if spec.readable_secret_arns:
        statements.append(statement(sid="ReadTaskSecrets",
                                    actions=["secretsmanager:GetSecretValue"],
                                    resources=list(spec.readable_secret_arns)))
    if spec.decrypt_key_arns:
        statements.append(statement(
            sid="DecryptTaskSecrets", actions=["kms:Decrypt"],
            resources=list(spec.decrypt_key_arns),
            condition={"StringEquals": {
                "kms:ViaService": f"secretsmanager.{region}.amazonaws.com"}}))
    return statements
