"""The fleet scenario's own helpers, without Terraform: the platform network (on the
in-process moto of conftest.py, in a region of its own), the environments' settings and the
shared stack's (each as main.py validates it), the coordinator's phases and ``Fleet.each`` at
once and in turn."""
from __future__ import annotations

import ipaddress
import threading
from types import SimpleNamespace
from typing import Any, Callable

import pytest

from emulator.moto_ext.ec2_vpc_quota import QUOTA_VARIABLE
from lib.config import load_platform_settings, load_settings
from lib.outputs import SHARED_OUTPUTS
from lib.shared_config import SHARED_VARIABLES
from scripts.synth_profiles import GIVEN_NETWORK, SHARED_PIECES
from tests.e2e.fleet import (DESTROYED_FIRST, ISOLATION, SHARED_MODE, SNAPSHOTS, VPC_QUOTA,
                             Fleet, environment_settings, fleet_phases, quota)
from tests.e2e.harness import PhaseFailed, Report, Run
from tests.e2e.lives import Phase
from tests.e2e.platform_network import (CIDR, TIERS, create_network, fingerprint,
                                        remove_network, subnet_cidrs)
from tests.e2e.shared_pieces import (PLATFORM, SHARED_ENVIRONMENT, SHARED_SUFFIX, Pieces,
                                     SharedRun, names_of, variable_of)


def test_subnet_cidrs_are_disjoint_slices_of_the_vpc() -> None:
    cidrs = subnet_cidrs()
    assert list(cidrs) == list(TIERS) and all(len(blocks) == 3 for blocks in cidrs.values())
    networks = [ipaddress.ip_network(block) for blocks in cidrs.values() for block in blocks]
    assert all(network.subnet_of(ipaddress.ip_network(CIDR))  # type: ignore[arg-type]
               and network.prefixlen == 20 for network in networks)
    assert not any(a.overlaps(b) for i, a in enumerate(networks) for b in networks[i + 1:])


def test_platform_network_is_given_checked_unchanged_and_removed(
        client: Callable[..., Any]) -> None:
    ec2 = client("ec2", region="us-west-2")
    network = create_network(ec2)
    before = fingerprint(ec2, network)
    assert len(before["subnets"]) == 9 and len(network.zones) == 3
    assert sorted(route[1] for table in before["route_tables"] for route in table[1]
                  if route[0] == "0.0.0.0/0") == sorted([network.nat_gateway_id,
                                                         network.internet_gateway_id])
    settings = load_settings({"ENVIRONMENT_SUFFIX": "pr102", "AWS_REGION": "us-west-2",
                              **environment_settings("pr102", network)})
    assert settings.existing_network is not None
    assert settings.existing_network.vpc_id == network.vpc_id
    assert settings.existing_network.task_subnets == "public"
    assert settings.existing_network.private_subnet_ids == network.subnets["private"]
    # An environment's security group in the network shows in the fingerprint.
    group = ec2.create_security_group(GroupName="tap-pr101-alb", Description="x",
                                      VpcId=network.vpc_id)["GroupId"]
    assert fingerprint(ec2, network) != before
    ec2.delete_security_group(GroupId=group)
    assert fingerprint(ec2, network) == before
    # CloudFront's VPC-origins group stays in the network: its owner's, removed with it.
    ec2.create_security_group(GroupName="CloudFront-VPCOrigins-Service-SG", Description="x",
                              VpcId=network.vpc_id)
    assert fingerprint(ec2, network) == before
    remove_network(ec2, network)
    assert [vpc["IsDefault"] for vpc in ec2.describe_vpcs()["Vpcs"]] == [True]


def test_environment_settings() -> None:
    assert set(SHARED_MODE) | {"qa"} == set(SNAPSHOTS) and DESTROYED_FIRST in SHARED_MODE
    assert sorted(SHARED_MODE.values()) == ["private", "private", "public"]
    reader, owner = ISOLATION
    assert reader != owner and {reader, owner} <= set(SHARED_MODE) - {DESTROYED_FIRST}
    assert environment_settings("qa", None) == {}
    with pytest.raises(AssertionError, match="platform network"):
        environment_settings("pr102", None)


def test_an_environment_on_the_pieces_is_configured_as_main_py_reads_it() -> None:
    """The network's ids, TASK_SUBNETS and the five SHARED_* values: the shared mode, its
    rule at the pull-request number."""
    network = SimpleNamespace(settings=lambda: dict(GIVEN_NETWORK))
    settings = load_settings({"ENVIRONMENT_SUFFIX": "pr103", **environment_settings(
        "pr103", network, SHARED_PIECES)})  # type: ignore[arg-type]
    assert settings.shared is not None and settings.existing_network is not None
    assert (settings.shared.rule_priority, settings.existing_network.task_subnets) == (
        103, "private")
    assert Pieces.of(SHARED_PIECES) == Pieces(
        listener_arn=SHARED_PIECES["SHARED_LISTENER_ARN"],
        cluster_arn=SHARED_PIECES["SHARED_DB_CLUSTER_ARN"],
        cache_arn=SHARED_PIECES["SHARED_CACHE_ARN"])
    assert Pieces.of(SHARED_PIECES).cache_name == SHARED_PIECES["SHARED_CACHE_ARN"].rsplit(
        ":", 1)[1]


def test_the_shared_stacks_outputs_are_the_environments_variables() -> None:
    assert [variable_of(spec.name) for spec in SHARED_OUTPUTS] == list(SHARED_VARIABLES)


def test_the_shared_run_is_the_shared_stack_as_make_shared_deploy_runs_it() -> None:
    """No ENVIRONMENT_SUFFIX, SHARED_PLATFORM set: main.py's shared stack accepts the
    environment; its state key is the one lib/shared_stack.py's backend uses."""
    shared = SharedRun(Report(suffix=SHARED_SUFFIX, life="shared stack", network_guard="-"))
    shared.emulator = SimpleNamespace(url="http://127.0.0.1:9")  # type: ignore[assignment]
    shared.settings_env = dict(GIVEN_NETWORK)
    env = shared.env()
    assert "ENVIRONMENT_SUFFIX" not in env and env["SHARED_PLATFORM"] == PLATFORM
    settings = load_platform_settings(env)
    assert (settings.stack_name, shared.stack) == ("TapSharedfleet", "TapSharedfleet")
    assert shared.state_key == f"shared/{settings.stack_name}.tfstate"
    assert SHARED_ENVIRONMENT == "shared-fleet"


def test_an_environments_names_are_its_settings() -> None:
    """Its target group carries the manifest's port: the names come from its settings."""
    (run,) = _runs("pr102").values()
    assert names_of(run).target_group == "tap-pr102-tg80"
    run.settings_env["APP_MANIFEST"] = "app/app.toml"
    names = names_of(run)
    assert (names.target_group, names.shared_database, names.cache_user,
            names.cache_key_prefix) == ("tap-pr102-tg8000", "tap_pr102", "tap-pr102",
                                        "tap:pr102:")


def test_the_scenario_is_a_list_of_named_phases() -> None:
    phases = fleet_phases(Fleet(runs={}))
    assert [phase.name for phase in phases] == [
        "emulator", "network", "standins", "shared", "deploy", "edge", "quota", "isolation",
        "destroy-one", "others-intact", "destroy-all", "shared-destroy", "network-intact",
        "network-removed"]
    assert [phase.name for phase in phases if phase.cleanup] == [
        "destroy-all", "shared-destroy", "network-intact", "network-removed"]


def _runs(*suffixes: str) -> dict[str, Run]:
    runs = {suffix: Run(Report(suffix=suffix, life="test", network_guard="-"))
            for suffix in suffixes}
    for run in runs.values():
        run.emulator = object()  # type: ignore[assignment]  # run_phases: the emulator is up
    return runs


@pytest.mark.parametrize("concurrent", [True, False])
def test_each_runs_every_environment_and_names_the_failures(concurrent: bool) -> None:
    fleet = Fleet(runs=_runs("pr101", "pr102", "qa"), concurrent=concurrent)
    threads: dict[str, str] = {}

    def work(run: Run) -> None:
        threads[run.suffix] = threading.current_thread().name
        if run.suffix == "pr102":
            raise PhaseFailed("deploy: quota")

    with pytest.raises(PhaseFailed, match=r"^pr102: deploy: quota$"):
        fleet.each(["pr101", "pr102", "qa"], (Phase("deploy", work), Phase("after", work)))
    assert sorted(threads) == ["pr101", "pr102", "qa"]
    main = threading.main_thread().name
    assert all((name != main) is concurrent for name in threads.values())
    assert [name for name, _ in fleet.runs["pr101"].report.phases] == ["deploy", "after"]
    assert fleet.runs["pr102"].report.skipped == ["after"]
    fleet.each(["qa"], (Phase("deploy", work),))  # earlier failures are not counted again


def test_quota_phase_needs_the_region_full_and_refusing(
        client: Callable[..., Any], endpoint: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The platform network and qa's VPC and gateway fill a quota of 3 with the default
    VPC: the phase passes; with room left it fails."""
    monkeypatch.setenv(QUOTA_VARIABLE, str(VPC_QUOTA))
    (run,) = _runs("fleet").values()
    run.region, run.emulator = "ca-central-1", SimpleNamespace(url=endpoint)  # type: ignore
    ec2 = client("ec2", region=run.region)
    network = create_network(ec2)
    with pytest.raises(PhaseFailed, match="2 VPCs in ca-central-1, expected 3"):
        quota(run)
    ec2.create_vpc(CidrBlock="10.0.0.0/16")
    ec2.create_internet_gateway()
    quota(run)
    assert "VpcLimitExceeded, InternetGatewayLimitExceeded" in run.report.notes[-1]
    assert len(ec2.describe_vpcs()["Vpcs"]) == VPC_QUOTA
    remove_network(ec2, network)
