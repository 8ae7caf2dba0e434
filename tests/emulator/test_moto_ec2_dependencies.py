"""Extension ec2_dependencies: DeleteVpc, DeleteSubnet and DeleteSecurityGroup are refused
with AWS's DependencyViolation while something depends on the resource, and go through
once it is gone; DeleteNatGateway takes the gateway's network interface with it. Each
scenario runs twice: on the emulator (refused) and on plain moto 5.2.5 in a process of its
own (``plain_client``), which accepts the same call."""
from __future__ import annotations

import itertools
from typing import Any, Callable

import pytest
from botocore.exceptions import ClientError

from emulator.moto_ext import ec2_dependencies

_BLOCKS = itertools.count(40)


def _network(ec2: Any) -> tuple[str, str]:
    """A VPC and one subnet in it."""
    block = next(_BLOCKS)
    vpc = ec2.create_vpc(CidrBlock=f"10.{block}.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.{block}.0.0/24",
                               AvailabilityZone="us-east-1a")["Subnet"]["SubnetId"]
    return vpc, subnet


def _group(ec2: Any, vpc: str, name: str) -> str:
    return str(ec2.create_security_group(GroupName=name, Description=name,
                                         VpcId=vpc)["GroupId"])


def _dependency_violation(call: Callable[[], Any]) -> str:
    """The message of the DependencyViolation (HTTP 400) that the call is refused with."""
    with pytest.raises(ClientError) as refused:
        call()
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert refused.value.response["Error"]["Code"] == "DependencyViolation"
    return str(refused.value.response["Error"]["Message"])


def _vpc_ids(ec2: Any) -> set[str]:
    return {vpc["VpcId"] for vpc in ec2.describe_vpcs()["Vpcs"]}


def test_a_vpc_with_a_security_group_of_its_own_is_not_deleted(
        client: Callable[..., Any], plain_client: Callable[..., Any]) -> None:
    ec2 = client("ec2")
    vpc, subnet = _network(ec2)
    ec2.delete_subnet(SubnetId=subnet)
    group = _group(ec2, vpc, "app")
    assert _dependency_violation(lambda: ec2.delete_vpc(VpcId=vpc)) == \
        f"The vpc '{vpc}' has dependencies and cannot be deleted."
    assert vpc in _vpc_ids(ec2)
    ec2.delete_security_group(GroupId=group)
    ec2.delete_vpc(VpcId=vpc)  # the default group is no dependency: it goes with the VPC
    assert vpc not in _vpc_ids(ec2)

    plain = plain_client("ec2")
    vpc, subnet = _network(plain)
    plain.delete_subnet(SubnetId=subnet)
    _group(plain, vpc, "app")
    plain.delete_vpc(VpcId=vpc)
    assert vpc not in _vpc_ids(plain)


def test_a_vpc_with_an_internet_gateway_attached_is_not_deleted(
        client: Callable[..., Any], plain_client: Callable[..., Any]) -> None:
    ec2 = client("ec2")
    vpc, subnet = _network(ec2)
    ec2.delete_subnet(SubnetId=subnet)
    gateway = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=gateway, VpcId=vpc)
    assert _dependency_violation(lambda: ec2.delete_vpc(VpcId=vpc)) == \
        f"The vpc '{vpc}' has dependencies and cannot be deleted."
    ec2.detach_internet_gateway(InternetGatewayId=gateway, VpcId=vpc)
    ec2.delete_vpc(VpcId=vpc)
    ec2.delete_internet_gateway(InternetGatewayId=gateway)
    assert vpc not in _vpc_ids(ec2)

    plain = plain_client("ec2")
    vpc, subnet = _network(plain)
    plain.delete_subnet(SubnetId=subnet)
    gateway = plain.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    plain.attach_internet_gateway(InternetGatewayId=gateway, VpcId=vpc)
    plain.delete_vpc(VpcId=vpc)
    assert vpc not in _vpc_ids(plain)


def test_a_subnet_with_a_network_interface_is_not_deleted(
        client: Callable[..., Any], plain_client: Callable[..., Any]) -> None:
    ec2 = client("ec2")
    vpc, subnet = _network(ec2)
    eni = ec2.create_network_interface(SubnetId=subnet)["NetworkInterface"]["NetworkInterfaceId"]
    assert _dependency_violation(lambda: ec2.delete_subnet(SubnetId=subnet)) == \
        f"The subnet '{subnet}' has dependencies and cannot be deleted."
    # The VPC is held too: moto refuses already, for the subnet the interface is in.
    assert _dependency_violation(lambda: ec2.delete_vpc(VpcId=vpc)) == \
        f"The vpc '{vpc}' has dependencies and cannot be deleted."
    ec2.delete_network_interface(NetworkInterfaceId=eni)
    ec2.delete_subnet(SubnetId=subnet)
    ec2.delete_vpc(VpcId=vpc)

    plain = plain_client("ec2")
    vpc, subnet = _network(plain)
    eni = plain.create_network_interface(SubnetId=subnet)["NetworkInterface"][
        "NetworkInterfaceId"]
    plain.delete_subnet(SubnetId=subnet)
    assert not plain.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["Subnets"]
    (left,) = plain.describe_network_interfaces(NetworkInterfaceIds=[eni])["NetworkInterfaces"]
    assert left["SubnetId"] == subnet  # an interface in a subnet that is gone


def test_a_security_group_named_by_another_groups_rule_is_not_deleted(
        client: Callable[..., Any], plain_client: Callable[..., Any]) -> None:
    ec2 = client("ec2")
    vpc, _ = _network(ec2)
    database, tasks = _group(ec2, vpc, "database"), _group(ec2, vpc, "tasks")
    rule = {"IpProtocol": "tcp", "FromPort": 5432, "ToPort": 5432,
            "UserIdGroupPairs": [{"GroupId": tasks}]}
    ec2.authorize_security_group_ingress(GroupId=database, IpPermissions=[rule])
    # A rule that names its own group holds nothing.
    ec2.authorize_security_group_ingress(GroupId=tasks, IpPermissions=[
        {"IpProtocol": "-1", "UserIdGroupPairs": [{"GroupId": tasks}]}])
    assert _dependency_violation(lambda: ec2.delete_security_group(GroupId=tasks)) == \
        f"resource {tasks} has a dependent object"
    ec2.delete_security_group(GroupId=database)  # the group with the rule goes first
    ec2.delete_security_group(GroupId=tasks)
    groups = ec2.describe_security_groups(Filters=[{"Name": "vpc-id", "Values": [vpc]}])
    assert [group["GroupName"] for group in groups["SecurityGroups"]] == ["default"]

    plain = plain_client("ec2")
    vpc, _ = _network(plain)
    database, tasks = _group(plain, vpc, "database"), _group(plain, vpc, "tasks")
    plain.authorize_security_group_ingress(GroupId=database, IpPermissions=[
        dict(rule, UserIdGroupPairs=[{"GroupId": tasks}])])
    plain.delete_security_group(GroupId=tasks)
    (left,) = plain.describe_security_groups(GroupIds=[database])["SecurityGroups"]
    assert left["IpPermissions"][0]["UserIdGroupPairs"][0]["GroupId"] == tasks  # dangling


def test_a_security_group_of_a_network_interface_is_not_deleted(
        client: Callable[..., Any], plain_client: Callable[..., Any]) -> None:
    ec2 = client("ec2")
    vpc, subnet = _network(ec2)
    group = _group(ec2, vpc, "tasks")
    eni = ec2.create_network_interface(SubnetId=subnet, Groups=[group])["NetworkInterface"][
        "NetworkInterfaceId"]
    assert _dependency_violation(lambda: ec2.delete_security_group(GroupId=group)) == \
        f"resource {group} has a dependent object"
    ec2.delete_network_interface(NetworkInterfaceId=eni)
    ec2.delete_security_group(GroupId=group)

    plain = plain_client("ec2")
    vpc, subnet = _network(plain)
    group = _group(plain, vpc, "tasks")
    plain.create_network_interface(SubnetId=subnet, Groups=[group])
    plain.delete_security_group(GroupId=group)
    assert not plain.describe_security_groups(Filters=[
        {"Name": "group-id", "Values": [group]}])["SecurityGroups"]


def _nat_gateway(ec2: Any) -> tuple[str, str, str, str]:
    """A NAT gateway with an Elastic IP in a new subnet: (subnet, gateway, allocation,
    the gateway's network interface)."""
    _, subnet = _network(ec2)
    allocation = ec2.allocate_address(Domain="vpc")["AllocationId"]
    nat = ec2.create_nat_gateway(SubnetId=subnet, AllocationId=allocation)["NatGateway"]
    (eni,) = [address["NetworkInterfaceId"] for address in nat["NatGatewayAddresses"]]
    return subnet, nat["NatGatewayId"], allocation, eni


def test_a_deleted_nat_gateway_takes_its_network_interface(
        client: Callable[..., Any], plain_client: Callable[..., Any]) -> None:
    ec2 = client("ec2")
    subnet, nat, allocation, eni = _nat_gateway(ec2)
    assert ec2.describe_network_interfaces(NetworkInterfaceIds=[eni])["NetworkInterfaces"]
    assert _dependency_violation(lambda: ec2.delete_subnet(SubnetId=subnet)) == \
        f"The subnet '{subnet}' has dependencies and cannot be deleted."
    ec2.delete_nat_gateway(NatGatewayId=nat)
    assert not ec2.describe_network_interfaces(Filters=[
        {"Name": "subnet-id", "Values": [subnet]}])["NetworkInterfaces"]
    (address,) = ec2.describe_addresses(AllocationIds=[allocation])["Addresses"]
    # Disassociated, still allocated (moto answers empty ids for an unassociated address).
    assert (address.get("AssociationId"), address["NetworkInterfaceId"]) == (None, "")
    ec2.release_address(AllocationId=allocation)
    ec2.delete_subnet(SubnetId=subnet)

    plain = plain_client("ec2")
    subnet, nat, _, eni = _nat_gateway(plain)
    plain.delete_nat_gateway(NatGatewayId=nat)
    (left,) = plain.describe_network_interfaces(Filters=[
        {"Name": "subnet-id", "Values": [subnet]}])["NetworkInterfaces"]
    assert left["NetworkInterfaceId"] == eni


def test_install_is_idempotent() -> None:
    assert ec2_dependencies.install() == ec2_dependencies.NAME
    patched = ec2_dependencies.VPCBackend.delete_vpc
    assert getattr(patched, "tap_extended", False)
    assert ec2_dependencies.install() == ec2_dependencies.NAME
    assert ec2_dependencies.VPCBackend.delete_vpc is patched
