"""Bring your own network: VPC_ID and three subnet lists instead of the stack's own VPC.

The stack then creates no VPC, gateway, NAT, Elastic IP, route, flow log or endpoint; it
reads the VPC and each subnet through data sources whose postconditions fail the plan,
naming the subnet and the problem, and places everything in the given subnets.
"""
# pylint: disable=redefined-outer-name
from __future__ import annotations

from pathlib import Path

import pytest

import main
from lib.config import ConfigError, load_settings
from tests.unit.synth import Synth, synthesize

VPC = "vpc-0123456789abcdef0"
SUBNETS = {
    "public": ("subnet-0a000000000000001", "subnet-0a000000000000002"),
    "private": ("subnet-0b000000000000001", "subnet-0b000000000000002",
                "subnet-0b000000000000003"),
    "isolated": ("subnet-0c000000000000001", "subnet-0c000000000000002"),
}
NETWORK = {"VPC_ID": VPC, **{f"{tier.upper()}_SUBNET_IDS": ",".join(ids)
                             for tier, ids in SUBNETS.items()}}
# Network resources a given network must not get from the stack.
OWNED_NETWORK_TYPES = ("aws_vpc", "aws_subnet", "aws_internet_gateway", "aws_nat_gateway",
                       "aws_eip", "aws_route_table", "aws_route", "aws_route_table_association",
                       "aws_flow_log", "aws_vpc_endpoint", "aws_default_security_group")
# One synth per profile; the ephemeral one puts its tasks in the public subnets.
ENVIRONMENTS = {"dev": {}, "prod": {}, "pr4892": {"TASK_SUBNETS": "public"}}


@pytest.fixture(scope="module")
def given() -> dict[str, Synth]:
    """Each profile synthesized into the given network."""
    return {suffix: synthesize({"ENVIRONMENT_SUFFIX": suffix, **NETWORK, **extra})
            for suffix, extra in ENVIRONMENTS.items()}


def subnet_refs(stack: Synth, tier: str, attribute: str = "id") -> list[str]:
    return [stack.ref("aws_subnet", f"network/{tier}-{index}", attribute, kind="data")
            for index in range(len(SUBNETS[tier]))]


def test_settings_read_the_network() -> None:
    network = load_settings({**NETWORK}).existing_network
    assert network is not None
    assert (network.vpc_id, network.public_subnet_ids, network.private_subnet_ids,
            network.isolated_subnet_ids, network.task_subnets) == (
        VPC, SUBNETS["public"], SUBNETS["private"], SUBNETS["isolated"], "private")
    settings = load_settings({**NETWORK, "ENVIRONMENT_SUFFIX": "pr1", "TASK_SUBNETS": "public"})
    assert settings.tasks_in_public_subnets and settings.nat_mode == "none"
    assert not load_settings({**NETWORK, "ENVIRONMENT_SUFFIX": "pr1"}).tasks_in_public_subnets
    assert load_settings({}).existing_network is None


@pytest.mark.parametrize("changes,variable,message", [
    ({"VPC_ID": "vpc-12"}, "VPC_ID", "a VPC id (vpc- and 8 or 17 hexadecimal digits)"),
    ({"PRIVATE_SUBNET_IDS": "subnet-0b000000000000001,subnet-xyz"}, "PRIVATE_SUBNET_IDS",
     "'subnet-xyz' is not a subnet id (subnet- and 8 or 17 hexadecimal digits)"),
    ({"PUBLIC_SUBNET_IDS": "subnet-0a000000000000001"}, "PUBLIC_SUBNET_IDS",
     "at least 2 comma-separated subnet ids (VPC_ID and the three subnet lists: all or none)"),
    ({"ISOLATED_SUBNET_IDS": ""}, "ISOLATED_SUBNET_IDS",
     "at least 2 comma-separated subnet ids (VPC_ID and the three subnet lists: all or none)"),
    ({"PUBLIC_SUBNET_IDS": "subnet-0a000000000000001,subnet-0a000000000000001"},
     "PUBLIC_SUBNET_IDS", "subnet-0a000000000000001 is given twice; each subnet belongs to "
                          "one tier"),
    ({"ISOLATED_SUBNET_IDS": "subnet-0c000000000000001,subnet-0b000000000000002"},
     "ISOLATED_SUBNET_IDS", "subnet-0b000000000000002 is given twice; each subnet belongs to "
                            "one tier"),
    ({"VPC_ID": ""}, "PUBLIC_SUBNET_IDS", "needs VPC_ID (bring your own network: VPC_ID and "
                                          "the three subnet lists, all or none)"),
    ({"TASK_SUBNETS": "isolated"}, "TASK_SUBNETS", "allowed: private, public"),
    ({"VPC_CIDR": "10.1.0.0/16"}, "VPC_CIDR", "the stack creates no VPC and no NAT in a "
                                             "network given by VPC_ID (unset it)"),
    ({"CREATE_NAT_GATEWAY": "true"}, "CREATE_NAT_GATEWAY", "the stack creates no VPC and no "
                                                          "NAT in a network given by VPC_ID "
                                                          "(unset it)"),
])
def test_bad_networks_are_refused(changes: dict[str, str], variable: str, message: str) -> None:
    environ = {**NETWORK, **changes}
    with pytest.raises(ConfigError) as raised:
        load_settings(environ)
    assert str(raised.value) == f"{variable}={environ[variable]!r} is invalid: {message}"


def test_task_subnets_need_a_given_network() -> None:
    with pytest.raises(ConfigError) as raised:
        load_settings({"TASK_SUBNETS": "public"})
    assert raised.value.variable == "TASK_SUBNETS"


def test_bad_network_writes_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main.main({"VPC_ID": VPC, "CDKTF_OUTDIR": str(tmp_path / "out")})
    assert code == 2
    err = capsys.readouterr().err
    assert err.startswith("error: PUBLIC_SUBNET_IDS='' is invalid: at least 2 ") and \
        err.count("\n") == 1
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("suffix", sorted(ENVIRONMENTS))
def test_no_network_resources_are_created(given: dict[str, Synth], suffix: str) -> None:
    resources = given[suffix].json["resource"]
    assert [rtype for rtype in OWNED_NETWORK_TYPES if rtype in resources] == []
    # The logs key stays (the environment's one key, in the ephemeral profile): the stack's
    # own log groups use it.
    assert given[suffix].at("aws_kms_key", given[suffix].key_path("logs"))["enable_key_rotation"]


@pytest.mark.parametrize("suffix", sorted(ENVIRONMENTS))
def test_the_given_vpc_and_subnets_are_checked_at_plan(given: dict[str, Synth],
                                                       suffix: str) -> None:
    stack = given[suffix]
    vpc = stack.data("aws_vpc")[stack.logical_id("aws_vpc", "network/vpc", kind="data")]
    assert vpc["id"] == VPC
    spread = vpc["lifecycle"]["postcondition"]
    for check, tier in zip(spread, ("public", "private", "isolated")):
        zones = ", ".join(r[2:-1] for r in subnet_refs(stack, tier, "availability_zone"))
        assert check == {
            "condition": f"${{(length(distinct([{zones}])) >= 2)}}",
            "error_message": f"{tier.upper()}_SUBNET_IDS ({', '.join(SUBNETS[tier])}) must "
                             "span at least 2 availability zones."}
    unavailable = '"use1-az3", "usw1-az2", "apne1-az3", "cac1-az3"'
    for tier, ids in SUBNETS.items():
        for index, subnet_id in enumerate(ids):
            subnet = stack.data("aws_subnet")[
                stack.logical_id("aws_subnet", f"network/{tier}-{index}", kind="data")]
            in_vpc = {"condition": f'${{self.vpc_id == "{VPC}"}}',
                      "error_message": f"{subnet_id} ({tier.upper()}_SUBNET_IDS) is in "
                                       f"${{self.vpc_id}}, not in VPC_ID {VPC}."}
            # The internal load balancer's subnets must be where VPC origins are offered.
            zone = {"condition": f"${{!contains([{unavailable}], self.availability_zone_id)}}",
                    "error_message": f"{subnet_id} (PRIVATE_SUBNET_IDS) is in "
                                     "${self.availability_zone_id}, where CloudFront VPC "
                                     "origins are not offered; the load balancer needs "
                                     "private subnets in other AZs."}
            assert subnet == {"id": subnet_id, "lifecycle": {
                "postcondition": [in_vpc, zone] if tier == "private" else [in_vpc]}}


@pytest.mark.parametrize("suffix", sorted(ENVIRONMENTS))
def test_everything_lands_in_the_given_subnets(given: dict[str, Synth], suffix: str) -> None:
    stack = given[suffix]
    vpc_id = stack.ref("aws_vpc", "network/vpc", kind="data")
    assert stack.outputs["vpc_id"]["value"] == vpc_id
    for tier in SUBNETS:
        assert stack.outputs[f"{tier}_subnet_ids"]["value"] == subnet_refs(stack, tier)
    assert {group["vpc_id"] for group in stack.resources("aws_security_group").values()} == \
        {vpc_id}
    assert stack.at("aws_lb", "lb/alb")["subnets"] == subnet_refs(stack, "private")
    assert stack.at("aws_db_subnet_group", "data/db-subnets")["subnet_ids"] == \
        subnet_refs(stack, "isolated")
    assert stack.at("aws_elasticache_serverless_cache", "data/cache")["subnet_ids"] == \
        subnet_refs(stack, "private")
    assert stack.at("aws_lb_target_group", "lb/web")["vpc_id"] == vpc_id
    public = suffix == "pr4892"  # TASK_SUBNETS=public
    network = stack.at("aws_ecs_service", "app/service")["network_configuration"]
    assert network["subnets"] == subnet_refs(stack, "public" if public else "private")
    assert network["assign_public_ip"] is public
    # Database instances go to the AZs of the isolated subnets, in turn.
    zones = subnet_refs(stack, "isolated", "availability_zone")
    for index in range(2 if suffix == "prod" else 1):
        assert stack.at("aws_rds_cluster_instance", f"data/aurora-{index}")[
            "availability_zone"] == zones[index]


@pytest.mark.parametrize("suffix", ["pr4892", "prod"])
def test_cloudfronts_group_is_never_cleaned_in_a_given_network(given: dict[str, Synth],
                                                               suffix: str) -> None:
    """Another environment's VPC origin may use CloudFront's group there (lib/edge.py)."""
    paths = [given[suffix].paths[lid] for lid in given[suffix].resources("terraform_data")]
    assert "edge/vpc-origin-leftovers" not in paths
    assert "edge/vpc-origin-endpoint" in paths
    assert "depends_on" not in given[suffix].at("aws_cloudfront_vpc_origin", "edge/vpc-origin")
