"""The reference application's world on an emulator with a runtime, made with boto3 as the
stack makes it, and its container wired by the platform's own code.

``AppWorld(cloud, directory)`` builds, in ``cloud`` (``runtime_support.Cloud``):

- a KMS key; an Aurora PostgreSQL cluster with an RDS-managed master secret under it and IAM
  database authentication, and a serverless Valkey cache, both waited for until their
  stand-ins answer (``available``);
- the application's secret ``APP_SIGNING_KEY`` (app/app.toml's ``[secrets]``) with a value, and
  the cache's connection secret, as lib/data_tier.py writes it;
- the reference application's image in ECR as app/app.toml names it (``ecr:tap/app:reference``),
  its paths mapped as tests/e2e/runtime.py's ``register_image`` maps them: ``/srv`` a directory
  holding this checkout's ``app/`` and the runtime's CA as ``certs/ca-bundle.pem``,
  ``/opt/venv`` the application's virtualenv (``build/app-venv``: ``make runtime-deps``);
- ``spec``: the service's container exactly as the stack composes it
  (``lib.container.service_container`` over ``lib.config``'s settings of app/app.toml and a
  ``DataExports`` of the world's real endpoints, names and ARNs instead of Terraform's tokens),
  and ``release_spec``: the release's, with the master credentials lib/release.py adds;
- a task role allowed exactly ``lib.data_tier.db_connect_statement`` (``rds-db:connect`` as
  ``tap_app`` on the cluster's resource id).

``world.register(family, spec, release=...)`` registers a task definition of a
``ContainerSpec`` (``lib.container.container_definition``), the service's or the release's,
with an execution role of exactly ``lib.container.execution_statements`` for it.
``world.psql(login, sql)`` runs a statement on the database stand-in as tests/e2e/runtime.py's
``psql`` does; ``master_login()`` reads the master secret's current user and password;
``database_address()`` is the stand-in's loopback address.
"""
from __future__ import annotations

import json
import secrets
import shutil
import subprocess
from dataclasses import replace
from pathlib import Path
from typing import Any

from emulator.server import ROOT
from lib.config import load_settings
from lib.container import (CONTAINER_NAME, ContainerSpec, container_definition,
                           execution_statements, service_container)
from lib.data_tier import (DB_ENGINE, DB_MASTER_USERNAME, DB_NAME, DB_PORT, DataExports,
                           db_connect_statement)
from lib.policies import document, service_trust
from lib.release import STREAM_PREFIX as RELEASE_STREAM_PREFIX
from tests.e2e.runtime import APP_REPOSITORY, APP_TAG, APP_VENV, run_psql
from tests.emulator.runtime_support import ACCOUNT, LOG_GROUP, REGION, Cloud, call, wait_for

MANIFEST = ROOT / "app" / "app.toml"
DB_ENGINE_VERSION = "16.6"  # lib/config.py's default DB_ENGINE_VERSION
CACHE_ENGINE = "valkey"
STANDIN_TIMEOUT = 120.0  # seconds: initdb and the first TLS answers on a busy 2-core machine


class AppWorld:  # pylint: disable=too-many-instance-attributes  # the world's handles
    """One cluster, one cache, the application's image, secrets and roles; see the module."""

    def __init__(self, cloud: Cloud, directory: Path, name: str = "tap-wiring") -> None:
        self.cloud = cloud
        self.directory = directory
        self.name = name
        self.settings = load_settings({"APP_MANIFEST": str(MANIFEST)})
        self.key_arn = str(cloud.client("kms").create_key(
            Description=f"data key of {name}")["KeyMetadata"]["Arn"])
        self._start_data_stores()
        cluster, cache = self._wait_for_data_stores()
        self.cluster = str(cluster["DBClusterIdentifier"])
        self.master_secret_arn = str(cluster["MasterUserSecret"]["SecretArn"])
        self.image = self._register_image()
        self.data = self._exports(cluster, cache)
        app_secret = self._secret(f"{name}/app/APP_SIGNING_KEY", secrets.token_urlsafe(32))
        self.spec = service_container(
            self.data, region=REGION, account_id=ACCOUNT, image=self.settings.container_image,
            port=self.settings.container_port,
            health_check_path=self.settings.health_check_path, manifest=self.settings.manifest,
            app_secret_arns={"APP_SIGNING_KEY": app_secret},
            exec_enabled=self.exec_enabled)
        assert self.spec.image == self.image, (self.spec.image, self.image)
        self.release_spec = with_master_credentials(self.spec, self.master_secret_arn,
                                                    self.key_arn)
        self.task_role = self._role("task", [db_connect_statement(self.data, REGION, ACCOUNT)])

    @property
    def exec_enabled(self) -> bool:
        return bool(self.settings.profile.enable_execute_command)

    def _start_data_stores(self) -> None:
        self.cloud.client("rds").create_db_cluster(
            DBClusterIdentifier=f"{self.name}-aurora", Engine=DB_ENGINE,
            EngineVersion=DB_ENGINE_VERSION, Port=DB_PORT, DatabaseName=DB_NAME,
            MasterUsername=DB_MASTER_USERNAME, ManageMasterUserPassword=True,
            MasterUserSecretKmsKeyId=self.key_arn, StorageEncrypted=True, KmsKeyId=self.key_arn,
            EnableIAMDatabaseAuthentication=True,
            VpcSecurityGroupIds=[self.cloud.security_group])
        self.cloud.client("elasticache").create_serverless_cache(
            ServerlessCacheName=f"{self.name}-cache", Engine=CACHE_ENGINE,
            KmsKeyId=self.key_arn, SecurityGroupIds=[self.cloud.security_group],
            SubnetIds=[self.cloud.subnet])

    def _wait_for_data_stores(self) -> tuple[dict[str, Any], dict[str, Any]]:
        rds, elasticache = self.cloud.client("rds"), self.cloud.client("elasticache")

        def statuses() -> tuple[dict[str, Any], dict[str, Any]]:
            (cluster,) = rds.describe_db_clusters(
                DBClusterIdentifier=f"{self.name}-aurora")["DBClusters"]
            (cache,) = elasticache.describe_serverless_caches(
                ServerlessCacheName=f"{self.name}-cache")["ServerlessCaches"]
            return cluster, cache
        return wait_for(statuses, STANDIN_TIMEOUT, "the database and cache stand-ins",
                        until=lambda both: (both[0]["Status"], both[1]["Status"]) ==
                        ("available", "available"))

    def _exports(self, cluster: dict[str, Any], cache: dict[str, Any]) -> DataExports:
        """What lib/data_tier.py exports, with the world's values where Terraform's tokens
        stand in the synthesized JSON."""
        endpoint, reader = cache["Endpoint"], cache["ReaderEndpoint"]
        cache_secret = self._secret(f"{self.name}/cache", json.dumps({
            "engine": CACHE_ENGINE, "host": endpoint["Address"], "port": endpoint["Port"],
            "reader_host": reader["Address"], "reader_port": reader["Port"], "tls": True,
            "url": f"rediss://{endpoint['Address']}:{endpoint['Port']}"}))
        return DataExports(
            db_cluster_identifier=self.cluster, db_resource_id=cluster["DbClusterResourceId"],
            db_endpoint=cluster["Endpoint"], db_reader_endpoint=cluster["ReaderEndpoint"],
            db_port=int(cluster["Port"]), db_name=cluster["DatabaseName"],
            db_secret_arn=self.master_secret_arn,
            db_security_group_id=self.cloud.security_group,
            cache_name=cache["ServerlessCacheName"], cache_endpoint=endpoint["Address"],
            cache_reader_endpoint=reader["Address"], cache_port=str(endpoint["Port"]),
            cache_secret_arn=cache_secret, cache_security_group_id=self.cloud.security_group,
            key_arn=self.key_arn)

    def _secret(self, name: str, value: str) -> str:
        return str(self.cloud.client("secretsmanager").create_secret(
            Name=name, SecretString=value, KmsKeyId=self.key_arn)["ARN"])

    def _register_image(self) -> str:
        """The reference image, mapped as tests/e2e/runtime.py's register_image maps it (that
        one takes a life's Run); its ECR URI."""
        assert (APP_VENV / "bin" / "gunicorn").exists(), (
            f"{APP_VENV} has no gunicorn: `make runtime-deps` builds the application's "
            "virtualenv")
        srv = self.directory / "image" / "srv"
        (srv / "certs").mkdir(parents=True)
        (srv / "app").symlink_to(ROOT / "app")
        shutil.copyfile(self.directory / "runtime" / "tls" / "ca.pem",
                        srv / "certs" / "ca-bundle.pem")
        status, answer = call(f"{self.cloud.url}/_tap/runtime/images", "POST", {
            "repository": APP_REPOSITORY, "tag": APP_TAG,
            "dockerfile": str(ROOT / "app" / "Dockerfile"),
            "paths": {"/srv": str(srv), "/opt/venv": str(APP_VENV)}})
        assert status == 200, answer
        return str(answer["imageUri"])

    def _role(self, purpose: str, statements: list[dict[str, Any]]) -> str:
        name = f"{self.name}-{purpose}"
        iam = self.cloud.client("iam")
        arn = str(iam.create_role(RoleName=name, AssumeRolePolicyDocument=service_trust(
            "ecs-tasks.amazonaws.com", ACCOUNT))["Role"]["Arn"])
        iam.put_role_policy(RoleName=name, PolicyName="policy",
                            PolicyDocument=document(*statements))
        return arn

    def register(self, family: str, spec: ContainerSpec, *, release: bool = False) -> str:
        """A Fargate task definition of ``spec`` as lib/service.py makes the service's or, with
        ``release``, as lib/release.py makes the release's (the manifest's release command,
        its own log stream prefix, no ECS Exec, no task role: it makes no AWS call); its
        execution role may do exactly what ``execution_statements`` grants. Its ARN."""
        manifest = self.settings.manifest
        assert manifest is not None and manifest.release is not None
        log_group_arn = f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{LOG_GROUP}"
        execution_role = self._role(f"{family}-execution",
                                    execution_statements(spec, log_group_arn, REGION))
        container = container_definition(
            spec, log_group_name=LOG_GROUP, region=REGION,
            stream_prefix=RELEASE_STREAM_PREFIX if release else CONTAINER_NAME,
            exec_enabled=not release and self.exec_enabled,
            command=list(manifest.release.command) if release else None)
        roles = {"executionRoleArn": execution_role}
        if not release:
            roles["taskRoleArn"] = self.task_role
        return str(self.cloud.client("ecs").register_task_definition(
            family=f"{self.name}-{family}", networkMode="awsvpc",
            requiresCompatibilities=["FARGATE"], cpu="256", memory="512",
            containerDefinitions=[container],
            volumes=[{"name": volume} for volume in spec.writable_paths],
            **roles)["taskDefinition"]["taskDefinitionArn"])

    def master_login(self, stage: str = "AWSCURRENT") -> tuple[str, str]:
        """The master user's name and password, from the RDS-managed secret."""
        value = json.loads(self.cloud.client("secretsmanager").get_secret_value(
            SecretId=self.master_secret_arn, VersionStage=stage)["SecretString"])
        return str(value["username"]), str(value["password"])

    def database_address(self) -> str:
        """The loopback address of the cluster's stand-in (its endpoint names resolve to it
        inside the tasks)."""
        _, answer = call(f"{self.cloud.url}/_tap/runtime/standins")
        return str(next(standin["address"] for standin in answer["standins"]
                        if standin["kind"] == "postgresql" and standin["id"] == self.cluster))

    def psql(self, login: tuple[str, str], sql: str) -> subprocess.CompletedProcess[str]:
        """``sql`` on the stand-in as ``login``, over TLS verified for the cluster's endpoint
        name, as tests/e2e/runtime.py's ``psql`` (which takes a life's Run)."""
        target = (f"host={self.data.db_endpoint} hostaddr={self.database_address()} "
                  f"port={DB_PORT} dbname=postgres user={login[0]} sslmode=verify-full "
                  f"sslrootcert={self.directory / 'runtime' / 'tls' / 'ca.pem'}")
        return run_psql(target, login[1], sql)


def with_master_credentials(spec: ContainerSpec, admin_secret_arn: str,
                            key_arn: str) -> ContainerSpec:
    """The release's container: lib/release.py's ``_task_definition`` adds the master user's
    name and password from the RDS-managed secret (its ``username`` and ``password`` keys)."""
    return replace(
        spec,
        secrets={**spec.secrets, "DB_ADMIN_USERNAME": f"{admin_secret_arn}:username::",
                 "DB_ADMIN_PASSWORD": f"{admin_secret_arn}:password::"},
        readable_secret_arns=(*spec.readable_secret_arns, admin_secret_arn),
        decrypt_key_arns=tuple(dict.fromkeys((*spec.decrypt_key_arns, key_arn))))


def log_stream(stream_prefix: str, task_arn: str) -> str:
    """The awslogs driver's stream of a task's container: prefix/container/task id."""
    return f"{stream_prefix}/{CONTAINER_NAME}/{task_arn.rsplit('/', 1)[1]}"
