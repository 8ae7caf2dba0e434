"""The fleet scenario's own helpers, without Terraform: the platform network (on the
in-process moto of conftest.py, in a region of its own), the environments' settings,
the coordinator's phases and ``Fleet.each`` at once and in turn."""
from __future__ import annotations

import ipaddress
import threading
from types import SimpleNamespace
from typing import Any, Callable

import pytest

from emulator.moto_ext.ec2_vpc_quota import QUOTA_VARIABLE
from lib.config import load_settings
from tests.e2e.fleet import (DESTROYED_FIRST, GIVEN_NETWORK, SNAPSHOTS, VPC_QUOTA, Fleet,
                             environment_settings, fleet_phases, quota)
from tests.e2e.harness import PhaseFailed, Report, Run
from tests.e2e.lives import Phase
from tests.e2e.platform_network import (CIDR, TIERS, create_network, fingerprint,
                                        remove_network, subnet_cidrs)


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
    settings = load_settings({"ENVIRONMENT_SUFFIX": "pr101", "AWS_REGION": "us-west-2",
                              **environment_settings("pr101", network)})
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
    assert set(GIVEN_NETWORK) | {"qa"} == set(SNAPSHOTS) and DESTROYED_FIRST in GIVEN_NETWORK
    assert environment_settings("qa", None) == {}
    with pytest.raises(AssertionError, match="platform network"):
        environment_settings("pr102", None)


def test_the_scenario_is_a_list_of_named_phases() -> None:
    phases = fleet_phases(Fleet(runs={}))
    assert [phase.name for phase in phases] == [
        "emulator", "network", "deploy", "quota", "destroy-one", "others-intact",
        "destroy-all", "network-intact", "network-removed"]
    assert [phase.name for phase in phases if phase.cleanup] == [
        "destroy-all", "network-intact", "network-removed"]


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
