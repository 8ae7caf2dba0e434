"""lib/variables.py against lib/config.py: every variable load_settings (or, for the shared
stack, load_platform_settings) reads is in VARIABLES, every one of VARIABLES is read, the
defaults written there are the ones applied, and the shared stack reads exactly the variables
marked ``platform``."""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Callable

import pytest

from lib.config import ConfigError, Settings, load_platform_settings, load_settings
from lib.variables import GROUPS, VARIABLES
from tests.unit.variants import GIVEN_NETWORK, SHARED

ACM = "arn:aws:acm:us-east-1:123456789012:certificate/0123abcd-0123-4567-89ab-0123456789ab"
# Environments that take load_settings through each of its branches.
ENVIRONMENTS: tuple[dict[str, str], ...] = (
    {},
    {"ENVIRONMENT_SUFFIX": "prod", "ALLOW_DESTROY": "true", "AWS_REGION": "eu-west-1",
     "TERRAFORM_STATE_BUCKET": "state-bucket", "TERRAFORM_STATE_BUCKET_REGION": "eu-west-1",
     "REPOSITORY": "org/repo", "COMMIT_AUTHOR": "someone", "ALARM_EMAIL": "ops@example.com",
     "CREATE_NAT_GATEWAY": "true", "VPC_CIDR": "10.1.0.0/16", "CACHE_ENGINE": "redis",
     "DB_ENGINE_VERSION": "16.8", "DB_SNAPSHOT_IDENTIFIER": "before-the-move",
     "CONTAINER_IMAGE": "ecr:web:1", "CONTAINER_PORT": "8080", "HEALTH_CHECK_PATH": "/up",
     "CPU_ARCHITECTURE": "ARM64"},
    {"CERTIFICATE_ARN": ACM, "EDGE_CERTIFICATE_ARN": ACM, "DOMAIN_NAMES": "app.example.com"},
    {"HOSTED_ZONE_ID": "Z0123456789ABCDEFGHIJ", "DOMAIN_NAMES": "example.com"},
    {"VPC_ID": "vpc-0123456789abcdef0", "TASK_SUBNETS": "public",
     "PUBLIC_SUBNET_IDS": "subnet-0a000000000000001,subnet-0a000000000000002",
     "PRIVATE_SUBNET_IDS": "subnet-0b000000000000001,subnet-0b000000000000002",
     "ISOLATED_SUBNET_IDS": "subnet-0c000000000000001,subnet-0c000000000000002"},
    {"APP_MANIFEST": str(Path(__file__).parent / "manifests" / "full.toml")},
    SHARED,
)
# What load_settings({}) applies for each variable whose default is a value.
APPLIED: dict[str, Callable[[Settings], Any]] = {
    "ENVIRONMENT_SUFFIX": lambda s: s.environment_suffix,
    "AWS_REGION": lambda s: s.aws_region,
    "TERRAFORM_STATE_BUCKET_REGION": lambda s: s.state_bucket_region,
    "REPOSITORY": lambda s: s.repository,
    "COMMIT_AUTHOR": lambda s: s.commit_author,
    "VPC_CIDR": lambda s: s.vpc_cidr,
    "DB_ENGINE_VERSION": lambda s: s.db_engine_version,
    "CACHE_ENGINE": lambda s: s.cache_engine,
    "CPU_ARCHITECTURE": lambda s: s.cpu_architecture,
    "CONTAINER_IMAGE": lambda s: s.container_image,
    "CONTAINER_PORT": lambda s: str(s.container_port),
    "HEALTH_CHECK_PATH": lambda s: s.health_check_path,
}
UNSET: dict[str, Callable[[Settings], Any]] = {
    "TERRAFORM_STATE_BUCKET": lambda s: s.state_bucket,
    "ALARM_EMAIL": lambda s: s.alarm_email,
    "CREATE_NAT_GATEWAY": lambda s: s.create_nat_gateway,
    "VPC_ID": lambda s: s.existing_network,
    "CERTIFICATE_ARN": lambda s: s.certificate_arn,
    "EDGE_CERTIFICATE_ARN": lambda s: s.edge_certificate_arn,
    "DOMAIN_NAMES": lambda s: s.domain_names,
    "HOSTED_ZONE_ID": lambda s: s.hosted_zone_id,
    "DB_SNAPSHOT_IDENTIFIER": lambda s: s.db_snapshot_identifier,
    "ALLOW_DESTROY": lambda s: s.allow_destroy,
    **{name: lambda s: s.shared for name in SHARED if name.startswith("SHARED_")},
}


class Spy(dict[str, str]):
    """An environment that remembers every name asked of it."""

    def __init__(self, values: dict[str, str]) -> None:
        super().__init__(values)
        self.asked: set[str] = set()

    def get(self, key: str, default: Any = None) -> Any:  # type: ignore[override]
        self.asked.add(key)
        return super().get(key, default)

    def __getitem__(self, key: str) -> str:
        self.asked.add(key)
        return super().__getitem__(key)

    def __contains__(self, key: object) -> bool:
        self.asked.add(str(key))
        return super().__contains__(key)


def test_every_variable_read_is_registered_and_every_registered_one_is_read(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)  # no ./app.toml
    asked: set[str] = set()
    for values in ENVIRONMENTS:
        environ = Spy(values)
        load_settings(environ)
        asked |= environ.asked
    platform = Spy({"SHARED_PLATFORM": "main", **GIVEN_NETWORK})
    load_platform_settings(platform)
    asked |= platform.asked
    names = {variable.name for variable in VARIABLES}
    assert asked - names == set(), "read by lib.config but not in lib/variables.py"
    assert names - asked == set(), "in lib/variables.py but never read"


def test_names_are_unique_and_grouped() -> None:
    names = [variable.name for variable in VARIABLES]
    assert len(set(names)) == len(names)
    assert {variable.group for variable in VARIABLES} == set(GROUPS)
    assert all(re.fullmatch(r"[A-Z][A-Z0-9_]+", name) for name in names)


def test_the_written_defaults_are_the_applied_ones(monkeypatch: pytest.MonkeyPatch,
                                                   tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    settings = load_settings({})
    for variable in VARIABLES:
        if variable.name in APPLIED:
            written = variable.default.rsplit("else ", 1)[-1]
            assert APPLIED[variable.name](settings) == written, variable.name
        elif variable.name in UNSET:
            assert variable.default.startswith("unset"), variable.name
            assert not UNSET[variable.name](settings), variable.name
    described = {"PUBLIC_SUBNET_IDS", "PRIVATE_SUBNET_IDS", "ISOLATED_SUBNET_IDS", "TASK_SUBNETS",
                 "APP_MANIFEST", "SHARED_PLATFORM"}
    assert {v.name for v in VARIABLES} - set(APPLIED) - set(UNSET) == described


def test_the_subnet_lists_and_task_subnets_apply_with_a_given_network() -> None:
    settings = load_settings({key: value for key, value in ENVIRONMENTS[4].items()
                              if key != "TASK_SUBNETS"})
    assert settings.existing_network is not None
    default = next(v.default for v in VARIABLES if v.name == "TASK_SUBNETS")
    assert settings.existing_network.task_subnets == default


@pytest.mark.parametrize("variable", [v for v in VARIABLES if v.name != "SHARED_PLATFORM"],
                         ids=lambda v: v.name)
def test_the_shared_stack_reads_its_variables_and_refuses_the_others(variable: Any) -> None:
    """Each variable given to the shared stack: read when marked ``platform``, else refused
    with one line naming it."""
    value = {"DB_ENGINE_VERSION": "16.8", "TERRAFORM_STATE_BUCKET": "tap-states",
             "ALARM_EMAIL": "ops@example.com", "AWS_REGION": "eu-west-1",
             "TERRAFORM_STATE_BUCKET_REGION": "eu-west-1"}.get(variable.name, "x")
    environ = {"SHARED_PLATFORM": "main", **GIVEN_NETWORK}
    if variable.name in GIVEN_NETWORK:
        assert variable.platform
        return
    environ[variable.name] = value
    if variable.platform:
        load_platform_settings(environ)
        return
    with pytest.raises(ConfigError) as raised:
        load_platform_settings(environ)
    assert str(raised.value) == (f"{variable.name}={environ[variable.name]!r} is invalid: the "
                                 "shared stack (SHARED_PLATFORM) does not read it: unset it")
