"""The release phase: what runs once per deploy, before the service switches revisions.

Creates, when the manifest declares a release command or secrets:
- the release task definition (family ``<prefix>-release``): the service's image, environment
  and secrets, its own command, and the master user's credentials (``DB_ADMIN_USERNAME``,
  ``DB_ADMIN_PASSWORD``, read by ECS from the RDS-managed secret when the task starts). Only
  the release has them: migrations need the schema owner's privilege, the service never does.
  Its execution role reads exactly those secrets; it has no task role (no AWS calls). On the
  shared cluster (``ReleaseProps.owner``) it has no master secret at all: it connects as the
  environment's database owner through IAM (``DB_OWNER_ROLE``, ``DB_ADMIN_USERNAME`` = the
  owner, ``DB_ADMIN_AUTH=iam``: app/migrate.py), with a task role that may connect as exactly
  that user;
- the gate, a ``terraform_data`` whose replacement runs ``tools/one_off.py release`` (shipped
  beside the stack as a Terraform asset) through a ``local-exec`` provisioner: it refuses the
  deploy when a declared secret has no value yet (naming it and ``make secret-set``), then runs
  the release task of the NEW revision on the service's network, waits for it up to the
  manifest's timeout, prints its last log lines and exits with its exit code. The gate is
  replaced whenever the service's or the release's task definition changes. On the shared
  cluster it runs only once the environment's database and roles are made
  (``ReleaseProps.after``): the release logs in as their owner.

Why Terraform orchestrates it (docs/decisions/release-phase.md): the service ``depends_on`` the
gate, so a failed or timed-out release stops the apply before the service changes (it keeps
serving the previous revision); the failed gate is tainted, so the next deploy runs the release
again and converges; and Terraform's state lock, held for the whole apply, means two deploys of
one environment never run two releases at once. The runner's Python is ``$TAP_PYTHON`` (set by
``make deploy``'s tools/terraform_apply.py), else ``python3`` with boto3.

Exposes ``gate`` (for the service's ``depends_on``) and ``task_definition_arn`` (None without
a release command).
"""
from __future__ import annotations

import json
from dataclasses import dataclass, replace
from typing import Any, Mapping, Sequence

from cdktf import (AssetType, DataResource, Fn, LocalExecProvisioner, TerraformAsset,
                   TerraformResource)
from cdktf_cdktf_provider_aws.ecs_task_definition import (
    EcsTaskDefinition,
    EcsTaskDefinitionRuntimePlatform,
    EcsTaskDefinitionVolume,
)
from cdktf_cdktf_provider_aws.iam_role import IamRole
from cdktf_cdktf_provider_aws.iam_role_policy import IamRolePolicy
from constructs import Construct

from lib.container import (CONTAINER_NAME, ContainerSpec, container_definition,
                           execution_statements)
from lib.deploy_scripts import python_command, script
from lib.naming import Names
from lib.policies import document, service_trust

RUNNER = script("one_off.py")
STREAM_PREFIX = "release"


@dataclass(frozen=True, kw_only=True)
class ReleaseProps:  # pylint: disable=too-many-instance-attributes
    """The new revision, where it runs, and what the release must check."""

    names: Names
    account_id: str
    region: str
    container: ContainerSpec  # the service's
    command: Sequence[str] | None  # None: only the secrets are checked
    timeout_seconds: int
    # The RDS-managed master secret ("username" and "password"), or, on the shared cluster,
    # None: the release connects as ``owner`` through IAM.
    admin_secret_arn: str | None
    data_key_arn: str  # encrypts it
    app_secrets: Mapping[str, str]  # name -> ARN: each must have a value before a deploy
    cluster_arn: str
    subnet_ids: Sequence[str]
    security_group_id: str
    assign_public_ip: bool
    log_group_name: str
    log_group_arn: str
    task_cpu: int
    task_memory: int
    cpu_architecture: str
    service_task_definition_arn: str  # a new revision of the service replaces the gate
    owner: str | None = None  # the database owner the release connects as (shared cluster)
    # rds-db:connect as ``owner``: the release task role's only statement.
    owner_connect_statement: Mapping[str, Any] | None = None
    # What must exist before the release runs (the shared cluster's database and roles,
    # which the deploy makes: lib/shared_tenancy.py ``Tenancy.ready``).
    after: Sequence[TerraformResource] = ()

    def __post_init__(self) -> None:
        if (self.admin_secret_arn is None) == (self.owner is None) or \
                (self.owner is None) != (self.owner_connect_statement is None):
            raise ValueError("ReleaseProps: the master secret, or the owner with its connect "
                             "statement (the shared cluster), exactly one")


class Release(Construct):
    """The release task definition and the gate before the service."""

    def __init__(self, scope: Construct, construct_id: str, *, props: ReleaseProps) -> None:
        super().__init__(scope, construct_id)
        self.task_definition_arn: str | None = None
        if props.command is not None:
            self.task_definition_arn = self._task_definition(props)
        runner = TerraformAsset(self, "runner", path=str(RUNNER), type=AssetType.FILE)
        self.gate = DataResource(
            self, "gate",
            triggers_replace={"service": props.service_task_definition_arn,
                              "release": self.task_definition_arn or "",
                              "secrets": Fn.join(",", list(props.app_secrets.values()))},
            depends_on=list(props.after) or None,
            provisioners=[LocalExecProvisioner(
                type="local-exec", command=python_command(runner.path, "release"),
                environment={
                    "TAP_REGION": props.region,
                    "TAP_CLUSTER": props.cluster_arn,
                    "TAP_TASK_DEFINITION": self.task_definition_arn or "",
                    "TAP_SUBNETS": Fn.join(",", list(props.subnet_ids)),
                    "TAP_SECURITY_GROUPS": props.security_group_id,
                    "TAP_ASSIGN_PUBLIC_IP": "ENABLED" if props.assign_public_ip else "DISABLED",
                    "TAP_TIMEOUT_SECONDS": str(props.timeout_seconds),
                    "TAP_SECRETS": Fn.join(",", [f"{name}={arn}" for name, arn
                                                 in sorted(props.app_secrets.items())]),
                    "TAP_LOG_GROUP": props.log_group_name,
                    "TAP_LOG_STREAM_PREFIX": STREAM_PREFIX,
                    "TAP_CONTAINER": CONTAINER_NAME,
                })])

    def _task_definition(self, props: ReleaseProps) -> str:
        """The release task definition and its execution role; returns its ARN."""
        spec = props.container
        admin = props.admin_secret_arn
        trust = service_trust("ecs-tasks.amazonaws.com", props.account_id,
                              f"arn:aws:ecs:{props.region}:{props.account_id}:*")
        task_role_arn = None
        if admin is None:  # the shared cluster: the owner through IAM, no master secret
            assert props.owner is not None and props.owner_connect_statement is not None
            release = replace(spec, environment={
                **spec.environment, "DB_OWNER_ROLE": props.owner,
                "DB_ADMIN_USERNAME": props.owner, "DB_ADMIN_AUTH": "iam"})
            task_role = IamRole(self, "task-role", name=props.names.release_task_role,
                                description=f"Release of {props.names.prefix}: connect as the "
                                            "database owner",
                                assume_role_policy=trust)
            IamRolePolicy(self, "task-policy", role=task_role.id, name="database-owner",
                          policy=document(props.owner_connect_statement))
            task_role_arn = task_role.arn
        else:
            release = replace(
                spec,
                secrets={**spec.secrets, "DB_ADMIN_USERNAME": f"{admin}:username::",
                         "DB_ADMIN_PASSWORD": f"{admin}:password::"},
                readable_secret_arns=(*spec.readable_secret_arns, admin),
                decrypt_key_arns=tuple(dict.fromkeys((*spec.decrypt_key_arns,
                                                      props.data_key_arn))))
        role = IamRole(self, "execution-role", name=props.names.release_execution_role,
                       description=f"ECS agent of {props.names.prefix}'s release: pull, logs, "
                                   "secrets, the master credentials",
                       assume_role_policy=trust)
        IamRolePolicy(self, "execution-policy", role=role.id, name="pull-logs-secrets",
                      policy=document(*execution_statements(release, props.log_group_arn,
                                                            props.region)))
        container = container_definition(
            release, log_group_name=props.log_group_name, region=props.region,
            stream_prefix=STREAM_PREFIX, exec_enabled=False, command=props.command)
        task = EcsTaskDefinition(
            self, "task", family=props.names.release_family, network_mode="awsvpc",
            requires_compatibilities=["FARGATE"], cpu=str(props.task_cpu),
            memory=str(props.task_memory), execution_role_arn=role.arn,
            task_role_arn=task_role_arn,
            runtime_platform=EcsTaskDefinitionRuntimePlatform(
                operating_system_family="LINUX", cpu_architecture=props.cpu_architecture),
            volume=[EcsTaskDefinitionVolume(name=volume) for volume in spec.writable_paths]
            or None,
            container_definitions=json.dumps([container]))
        return task.arn
