"""The network a platform team hands to the environments (bring your own network).

``create_network(ec2)`` builds it with boto3 as such a team would: a VPC with DNS support
and hostnames, an internet gateway, public / private / isolated subnets in three AZs
(tagged ``Tier``), a public route table to the gateway, one NAT gateway (with its
Elastic IP) for the private subnets' egress, and an isolated route table without a
default route. Everything carries ``Project=platform``, never the stack's tags, so no
environment's leftovers check can mistake it for its own. ``Network.settings()`` is
what an environment is given (VPC_ID and the three subnet lists); ``fingerprint``
describes the network so that a later look can prove it unchanged;
``remove_network`` takes it down in dependency order.
"""
from __future__ import annotations

import ipaddress
import time
from dataclasses import dataclass
from typing import Any

from lib.config import SUBNET_LIST_VARIABLES

CIDR = "10.100.0.0/16"
TIERS = ("public", "private", "isolated")
ZONES = 3  # the first three AZs of the region
TAGS = {"Project": "platform", "Owner": "platform-team"}
NAT_TIMEOUT_SECONDS = 120.0
# CloudFront creates this group in a VPC for its VPC origins and manages it; shared by every
# environment's VPC origin there, it outlives them: the network's, not an environment's.
SERVICE_MANAGED_GROUPS = ("CloudFront-VPCOrigins-Service-SG",)


@dataclass(frozen=True)
class Network:
    """The ids of the platform network."""

    vpc_id: str
    zones: tuple[str, ...]
    subnets: dict[str, tuple[str, ...]]  # tier -> one subnet per zone
    internet_gateway_id: str
    nat_gateway_id: str
    allocation_id: str
    route_tables: dict[str, str]  # tier -> route table

    def settings(self) -> dict[str, str]:
        """VPC_ID and the three subnet lists, as an environment is configured."""
        return {"VPC_ID": self.vpc_id, **{variable: ",".join(self.subnets[tier])
                                          for tier, variable in SUBNET_LIST_VARIABLES.items()}}


def subnet_cidrs(cidr: str = CIDR, zones: int = ZONES) -> dict[str, list[str]]:
    """One /20 per tier and zone: tier ``i``'s subnets from the ``i``-th quarter."""
    quarters = list(ipaddress.ip_network(cidr).subnets(prefixlen_diff=2))
    return {tier: [str(block) for block in list(quarter.subnets(new_prefix=20))[:zones]]
            for tier, quarter in zip(TIERS, quarters)}


def _tags(kind: str, name: str, **extra: str) -> list[dict[str, Any]]:
    tags = {**TAGS, "Name": f"platform-{name}", **extra}
    return [{"ResourceType": kind,
             "Tags": [{"Key": key, "Value": value} for key, value in tags.items()]}]


def create_network(ec2: Any) -> Network:
    """Build the platform network in the client's region (see the module docstring)."""
    zones = tuple(sorted(zone["ZoneName"] for zone in ec2.describe_availability_zones(
        Filters=[{"Name": "state", "Values": ["available"]}])["AvailabilityZones"])[:ZONES])
    vpc = ec2.create_vpc(CidrBlock=CIDR, TagSpecifications=_tags("vpc", "vpc"))["Vpc"]["VpcId"]
    for attribute in ("EnableDnsSupport", "EnableDnsHostnames"):
        ec2.modify_vpc_attribute(VpcId=vpc, **{attribute: {"Value": True}})
    igw = ec2.create_internet_gateway(
        TagSpecifications=_tags("internet-gateway", "igw"))["InternetGateway"]
    ec2.attach_internet_gateway(InternetGatewayId=igw["InternetGatewayId"], VpcId=vpc)
    subnets = {tier: tuple(
        ec2.create_subnet(VpcId=vpc, CidrBlock=block, AvailabilityZone=zone,
                          TagSpecifications=_tags("subnet", f"{tier}-{zone}", Tier=tier),
                          )["Subnet"]["SubnetId"]
        for block, zone in zip(blocks, zones)) for tier, blocks in subnet_cidrs().items()}
    allocation = ec2.allocate_address(
        Domain="vpc", TagSpecifications=_tags("elastic-ip", "nat"))["AllocationId"]
    nat = ec2.create_nat_gateway(SubnetId=subnets["public"][0], AllocationId=allocation,
                                 TagSpecifications=_tags("natgateway", "nat"),
                                 )["NatGateway"]["NatGatewayId"]
    ec2.get_waiter("nat_gateway_available").wait(
        NatGatewayIds=[nat], WaiterConfig={"Delay": 1, "MaxAttempts": int(NAT_TIMEOUT_SECONDS)})
    tables = {}
    for tier in TIERS:
        table = ec2.create_route_table(
            VpcId=vpc, TagSpecifications=_tags("route-table", tier))["RouteTable"]["RouteTableId"]
        for subnet in subnets[tier]:
            ec2.associate_route_table(RouteTableId=table, SubnetId=subnet)
        tables[tier] = table
    ec2.create_route(RouteTableId=tables["public"], DestinationCidrBlock="0.0.0.0/0",
                     GatewayId=igw["InternetGatewayId"])
    ec2.create_route(RouteTableId=tables["private"], DestinationCidrBlock="0.0.0.0/0",
                     NatGatewayId=nat)
    return Network(vpc_id=vpc, zones=zones, subnets=subnets,
                   internet_gateway_id=igw["InternetGatewayId"], nat_gateway_id=nat,
                   allocation_id=allocation, route_tables=tables)


def _route(route: dict[str, Any]) -> tuple[str, str]:
    target = next((route[key] for key in ("GatewayId", "NatGatewayId") if route.get(key)), "")
    return route.get("DestinationCidrBlock", ""), target


def fingerprint(ec2: Any, network: Network) -> dict[str, Any]:
    """What the network looks like: subnets, gateways, route tables with their routes
    and associations, security groups, network interfaces; sorted, comparable."""
    vpc_filter = [{"Name": "vpc-id", "Values": [network.vpc_id]}]
    (vpc,) = ec2.describe_vpcs(VpcIds=[network.vpc_id])["Vpcs"]
    return {
        "vpc": (vpc["CidrBlock"], vpc["State"], sorted(
            (tag["Key"], tag["Value"]) for tag in vpc.get("Tags", []))),
        "subnets": sorted((s["SubnetId"], s["CidrBlock"], s["AvailabilityZone"], s["State"],
                           s["MapPublicIpOnLaunch"], sorted((t["Key"], t["Value"])
                                                            for t in s.get("Tags", [])))
                          for s in ec2.describe_subnets(Filters=vpc_filter)["Subnets"]),
        "internet_gateways": sorted(
            (g["InternetGatewayId"], sorted(a["State"] for a in g.get("Attachments", [])))
            for g in ec2.describe_internet_gateways(Filters=[
                {"Name": "attachment.vpc-id", "Values": [network.vpc_id]}])["InternetGateways"]),
        "nat_gateways": sorted((n["NatGatewayId"], n["State"], n["SubnetId"])
                               for n in ec2.describe_nat_gateways(Filters=vpc_filter)[
                                   "NatGateways"]),
        "route_tables": sorted(
            (t["RouteTableId"], sorted(_route(r) for r in t["Routes"]),
             sorted(a.get("SubnetId", "main") for a in t.get("Associations", [])))
            for t in ec2.describe_route_tables(Filters=vpc_filter)["RouteTables"]),
        "security_groups": sorted((g["GroupId"], g["GroupName"]) for g in
                                  ec2.describe_security_groups(Filters=vpc_filter)[
                                      "SecurityGroups"]
                                  if g["GroupName"] not in SERVICE_MANAGED_GROUPS),
        "network_interfaces": sorted(
            i["NetworkInterfaceId"] for i in ec2.describe_network_interfaces(
                Filters=vpc_filter)["NetworkInterfaces"]
            if i.get("InterfaceType") != "nat_gateway"),
    }


def remove_network(ec2: Any, network: Network) -> None:
    """Delete the network in dependency order (NAT and its address, routes and tables,
    subnets, gateway, VPC)."""
    ec2.delete_nat_gateway(NatGatewayId=network.nat_gateway_id)
    deadline = time.monotonic() + NAT_TIMEOUT_SECONDS
    while time.monotonic() < deadline and any(
            n["State"] not in ("deleted",) for n in ec2.describe_nat_gateways(
                NatGatewayIds=[network.nat_gateway_id])["NatGateways"]):
        time.sleep(1)
    ec2.release_address(AllocationId=network.allocation_id)
    for group in ec2.describe_security_groups(Filters=[
            {"Name": "vpc-id", "Values": [network.vpc_id]}])["SecurityGroups"]:
        if group["GroupName"] in SERVICE_MANAGED_GROUPS:
            ec2.delete_security_group(GroupId=group["GroupId"])
    for table in network.route_tables.values():
        for association in ec2.describe_route_tables(RouteTableIds=[table])["RouteTables"][0][
                "Associations"]:
            ec2.disassociate_route_table(AssociationId=association["RouteTableAssociationId"])
        ec2.delete_route_table(RouteTableId=table)
    for ids in network.subnets.values():
        for subnet in ids:
            ec2.delete_subnet(SubnetId=subnet)
    ec2.detach_internet_gateway(InternetGatewayId=network.internet_gateway_id,
                                VpcId=network.vpc_id)
    ec2.delete_internet_gateway(InternetGatewayId=network.internet_gateway_id)
    ec2.delete_vpc(VpcId=network.vpc_id)
