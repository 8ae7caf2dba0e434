"""Network tier, live: the VPC, its subnets per tier across AZs, NAT, routes and flow logs
per profile; or, in a network the stack was given (VPC_ID and the subnet lists), the
given ids in the outputs and no network resource of the stack's own."""
# pylint: disable=redefined-outer-name
from __future__ import annotations

from typing import Any, Callable

import pytest

from lib.config import Settings
from tests.integration.live import (TIERS, Clients, NetworkPromise, network_promise,
                                    stack_tagged, tag_map)
from tests.integration.outputs import Outputs

ANYWHERE = "0.0.0.0/0"
OWNED = "the stack's own network: no ids were given"


@pytest.fixture(scope="module")
def promise(settings: Settings) -> NetworkPromise:
    return network_promise(settings)


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


def _created_by_the_stack(aws: Clients, settings: Settings) -> dict[str, list[str]]:
    """Network resources in the region that carry the stack's default tags, by kind."""
    ec2 = aws("ec2")
    listings: tuple[tuple[str, Callable[[], list[dict[str, Any]]], str], ...] = (
        ("vpc", lambda: ec2.describe_vpcs()["Vpcs"], "VpcId"),
        ("subnet", lambda: ec2.describe_subnets()["Subnets"], "SubnetId"),
        ("internet gateway", lambda: ec2.describe_internet_gateways()["InternetGateways"],
         "InternetGatewayId"),
        ("nat gateway", lambda: [gateway for gateway in ec2.describe_nat_gateways()[
            "NatGateways"] if gateway["State"] not in ("deleting", "deleted")],
         "NatGatewayId"),
        ("elastic ip", lambda: ec2.describe_addresses()["Addresses"], "AllocationId"),
        ("route table", lambda: ec2.describe_route_tables()["RouteTables"], "RouteTableId"),
        ("flow log", lambda: ec2.describe_flow_logs()["FlowLogs"], "FlowLogId"),
        ("vpc endpoint", lambda: [endpoint for endpoint in ec2.describe_vpc_endpoints()[
            "VpcEndpoints"] if endpoint["State"].lower() != "deleted"], "VpcEndpointId"),
    )
    return {kind: [item[key] for item in listing() if stack_tagged(settings, item.get("Tags"))]
            for kind, listing, key in listings}


def test_vpc_is_available_with_dns(aws: Clients, promise: NetworkPromise, vpc_id: str) -> None:
    ec2 = aws("ec2")
    (vpc,) = ec2.describe_vpcs(VpcIds=[vpc_id])["Vpcs"]
    assert vpc["State"] == "available"
    if promise.owned:
        assert vpc["CidrBlock"] == promise.vpc_cidr
    # Given or not, the tasks resolve the database and cache endpoints through the VPC's DNS.
    for attribute, key in (("enableDnsSupport", "EnableDnsSupport"),
                           ("enableDnsHostnames", "EnableDnsHostnames")):
        assert ec2.describe_vpc_attribute(VpcId=vpc_id, Attribute=attribute)[key]["Value"] is True


def test_outputs_carry_the_given_network(promise: NetworkPromise, vpc_id: str,
                                         subnet_ids: dict[str, list[str]]) -> None:
    if promise.owned:
        pytest.skip(OWNED)
    assert vpc_id == promise.vpc_id
    assert {tier: tuple(ids) for tier, ids in subnet_ids.items()} == dict(promise.subnet_ids)


@pytest.mark.parametrize("tier", TIERS)
def test_subnets_per_tier_across_azs(aws: Clients, promise: NetworkPromise, vpc_id: str,
                                     subnet_ids: dict[str, list[str]], tier: str) -> None:
    ids = subnet_ids[tier]
    assert len(ids) == promise.subnets_in(tier)
    subnets = aws("ec2").describe_subnets(SubnetIds=ids)["Subnets"]
    assert sorted(subnet["SubnetId"] for subnet in subnets) == sorted(ids)
    zones = len({subnet["AvailabilityZone"] for subnet in subnets})
    assert zones in promise.zones_of(tier), \
        f"{tier} subnets span {zones} AZs, expected {promise.zones_of(tier)}"
    for subnet in subnets:
        assert subnet["VpcId"] == vpc_id
        assert subnet["State"] == "available"
        if promise.owned:  # a given network's subnets are tagged and set up by their owner
            assert subnet["MapPublicIpOnLaunch"] is False
            assert tag_map(subnet.get("Tags"))["Tier"] == tier


def test_tiers_are_disjoint_and_share_the_azs(aws: Clients, promise: NetworkPromise,
                                              subnet_ids: dict[str, list[str]]) -> None:
    all_ids = [subnet for tier in TIERS for subnet in subnet_ids[tier]]
    assert len(set(all_ids)) == len(all_ids)
    if not promise.owned:
        return  # which AZs each given tier uses is its owner's choice (each spans two)
    subnets = aws("ec2").describe_subnets(SubnetIds=all_ids)["Subnets"]
    zones = {tier: {s["AvailabilityZone"] for s in subnets if s["SubnetId"] in subnet_ids[tier]}
             for tier in TIERS}
    assert zones["public"] == zones["private"] == zones["isolated"]


def test_nat_gateways_per_profile(aws: Clients, settings: Settings, promise: NetworkPromise,
                                  vpc_id: str, subnet_ids: dict[str, list[str]]) -> None:
    if not promise.owned:  # the owner's NAT gateways may be there; none may be the stack's
        created = _created_by_the_stack(aws, settings)
        assert not created["nat gateway"] and not created["elastic ip"], created
        return
    gateways = aws("ec2").describe_nat_gateways(Filters=[
        {"Name": "vpc-id", "Values": [vpc_id]},
        {"Name": "state", "Values": ["pending", "available"]},
    ])["NatGateways"]
    assert len(gateways) == promise.nat_gateways
    assert all(gateway["State"] == "available" for gateway in gateways)
    homes = [gateway["SubnetId"] for gateway in gateways]
    assert len(set(homes)) == len(homes) and set(homes) <= set(subnet_ids["public"])


def test_routes_per_tier(aws: Clients, settings: Settings, promise: NetworkPromise,
                         subnet_ids: dict[str, list[str]]) -> None:
    if not promise.owned:  # the given subnets route as their owner decided
        created = _created_by_the_stack(aws, settings)
        assert not created["route table"] and not created["internet gateway"], created
        return
    for subnet in subnet_ids["public"]:
        route = _default_route(aws, subnet)
        assert route is not None and route.get("GatewayId", "").startswith("igw-")
    for subnet in subnet_ids["private"]:
        route = _default_route(aws, subnet)
        if promise.nat_gateways:
            assert route is not None and route.get("NatGatewayId", "").startswith("nat-")
        else:
            assert route is None, f"{subnet}: no NAT, yet a default route {route}"
    for subnet in subnet_ids["isolated"]:
        assert _default_route(aws, subnet) is None


def test_flow_logs_per_network(aws: Clients, settings: Settings, promise: NetworkPromise,
                               vpc_id: str) -> None:
    if not promise.owned:  # flow logs of a given VPC are its owner's
        assert not _created_by_the_stack(aws, settings)["flow log"]
        return
    logs = aws("ec2").describe_flow_logs(
        Filters=[{"Name": "resource-id", "Values": [vpc_id]}])["FlowLogs"]
    assert [log["TrafficType"] for log in logs] == ["ALL"], logs


def test_network_resources_the_stack_created(aws: Clients, settings: Settings,
                                             promise: NetworkPromise, vpc_id: str,
                                             subnet_ids: dict[str, list[str]]) -> None:
    """Found by the stack's default tags: in its own network, its VPC, subnets, gateway,
    NAT gateways and flow log (so the tags are there to be found); in a given one, none."""
    created = {kind: ids for kind, ids in _created_by_the_stack(aws, settings).items() if ids}
    if not promise.owned:
        assert not created, f"a stack deployed into {promise.vpc_id} created {created}"
        return
    assert created["vpc"] == [vpc_id]
    assert sorted(created["subnet"]) == sorted(s for tier in TIERS for s in subnet_ids[tier])
    assert len(created["internet gateway"]) == len(created["flow log"]) == 1, created
    assert len(created.get("nat gateway", [])) == promise.nat_gateways, created
