"""Network tier, live: the VPC, its subnets per tier across AZs, NAT and routes per profile."""
# pylint: disable=redefined-outer-name
from __future__ import annotations

from typing import Any

import pytest

from lib.config import Settings
from tests.integration.live import Clients, expected_nat_gateways, tag_map
from tests.integration.outputs import Outputs

TIERS = ("public", "private", "isolated")
ANYWHERE = "0.0.0.0/0"


@pytest.fixture(scope="module")
def vpc_id(outputs: Outputs) -> str:
    return outputs.require("vpc_id")


@pytest.fixture(scope="module")
def subnet_ids(outputs: Outputs) -> dict[str, list[str]]:
    """Subnet ids by tier, from the outputs."""
    return {
        "public": outputs.require_list("public_subnet_ids"),
        "private": outputs.require_list("private_subnet_ids"),
        "isolated": outputs.require_list("isolated_subnet_ids"),
    }


def _default_route(aws: Clients, subnet_id: str) -> dict[str, Any] | None:
    """The 0.0.0.0/0 route of the table associated with ``subnet_id`` (None: no such route)."""
    tables = aws("ec2").describe_route_tables(
        Filters=[{"Name": "association.subnet-id", "Values": [subnet_id]}])["RouteTables"]
    assert len(tables) == 1, f"{subnet_id}: expected one associated route table, got {tables}"
    routes = [route for route in tables[0]["Routes"]
              if route.get("DestinationCidrBlock") == ANYWHERE]
    return routes[0] if routes else None


def test_vpc_is_available_with_dns(aws: Clients, settings: Settings, vpc_id: str) -> None:
    ec2 = aws("ec2")
    (vpc,) = ec2.describe_vpcs(VpcIds=[vpc_id])["Vpcs"]
    assert vpc["State"] == "available"
    assert vpc["CidrBlock"] == settings.vpc_cidr
    for attribute, key in (("enableDnsSupport", "EnableDnsSupport"),
                           ("enableDnsHostnames", "EnableDnsHostnames")):
        assert ec2.describe_vpc_attribute(VpcId=vpc_id, Attribute=attribute)[key]["Value"] is True


@pytest.mark.parametrize("tier", TIERS)
def test_one_subnet_per_az_in_each_tier(aws: Clients, settings: Settings, vpc_id: str,
                                        subnet_ids: dict[str, list[str]], tier: str) -> None:
    ids = subnet_ids[tier]
    assert len(ids) == settings.az_count
    subnets = aws("ec2").describe_subnets(SubnetIds=ids)["Subnets"]
    assert sorted(subnet["SubnetId"] for subnet in subnets) == sorted(ids)
    assert len({subnet["AvailabilityZone"] for subnet in subnets}) == settings.az_count
    for subnet in subnets:
        assert subnet["VpcId"] == vpc_id
        assert subnet["State"] == "available"
        assert subnet["MapPublicIpOnLaunch"] is False
        assert tag_map(subnet.get("Tags"))["Tier"] == tier


def test_tiers_are_disjoint_and_share_the_azs(aws: Clients,
                                              subnet_ids: dict[str, list[str]]) -> None:
    all_ids = [subnet for tier in TIERS for subnet in subnet_ids[tier]]
    assert len(set(all_ids)) == len(all_ids)
    subnets = aws("ec2").describe_subnets(SubnetIds=all_ids)["Subnets"]
    zones = {tier: {s["AvailabilityZone"] for s in subnets if s["SubnetId"] in subnet_ids[tier]}
             for tier in TIERS}
    assert zones["public"] == zones["private"] == zones["isolated"]


def test_nat_gateways_per_profile(aws: Clients, settings: Settings, vpc_id: str,
                                  subnet_ids: dict[str, list[str]]) -> None:
    gateways = aws("ec2").describe_nat_gateways(Filters=[
        {"Name": "vpc-id", "Values": [vpc_id]},
        {"Name": "state", "Values": ["pending", "available"]},
    ])["NatGateways"]
    assert len(gateways) == expected_nat_gateways(settings)
    assert all(gateway["State"] == "available" for gateway in gateways)
    homes = [gateway["SubnetId"] for gateway in gateways]
    assert len(set(homes)) == len(homes) and set(homes) <= set(subnet_ids["public"])


def test_routes_per_tier(aws: Clients, settings: Settings,
                         subnet_ids: dict[str, list[str]]) -> None:
    with_nat = expected_nat_gateways(settings) > 0
    for subnet in subnet_ids["public"]:
        route = _default_route(aws, subnet)
        assert route is not None and route.get("GatewayId", "").startswith("igw-")
    for subnet in subnet_ids["private"]:
        route = _default_route(aws, subnet)
        if with_nat:
            assert route is not None and route.get("NatGatewayId", "").startswith("nat-")
        else:
            assert route is None, f"{subnet}: no NAT, yet a default route {route}"
    for subnet in subnet_ids["isolated"]:
        assert _default_route(aws, subnet) is None
