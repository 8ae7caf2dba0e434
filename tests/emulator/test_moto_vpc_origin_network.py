"""Extension cloudfront_vpc_origin_network: CloudFront's network interfaces and its
service-managed group in a VPC origin's VPC, what they hold (subnets, the VPC, the group)
and how they go after DeleteVpcOrigin in both variants of the group (kept; removed some
seconds after the VPC's last origin). Plain moto 5.2.5 has no VPC origins (404), so
nothing there holds a subnet or a VPC (test_moto_ec2_dependencies.py shows it deletes
them under interfaces and groups anyway)."""
from __future__ import annotations

import time
from typing import Any, Callable

import pytest
from botocore.exceptions import ClientError

from emulator.moto_ext import cloudfront_vpc_origin_network as network
from emulator.moto_ext.cloudfront_vpc_origin_network import (CLEANUP_VARIABLE, GROUP_VARIABLE,
                                                             SERVICE_GROUP_NAME)
from tests.emulator.test_moto_vpc_origin import (endpoint_config, error_code,
                                                 internal_balancer, origin_network)


def _service_groups(ec2: Any, vpc: str) -> list[str]:
    return [group["GroupId"] for group in ec2.describe_security_groups(Filters=[
        {"Name": "vpc-id", "Values": [vpc]},
        {"Name": "group-name", "Values": [SERVICE_GROUP_NAME]}])["SecurityGroups"]]


def _interfaces(ec2: Any, vpc: str) -> list[dict[str, Any]]:
    return list(ec2.describe_network_interfaces(Filters=[
        {"Name": "vpc-id", "Values": [vpc]}])["NetworkInterfaces"])


def _create(client: Callable[..., Any], arn: str, name: str = "origin") -> tuple[str, str]:
    created = client("cloudfront").create_vpc_origin(
        VpcOriginEndpointConfig=endpoint_config(arn, name))
    return created["VpcOrigin"]["Id"], created["ETag"]


def _refused(call: Callable[[], Any]) -> str:
    with pytest.raises(ClientError) as refused:
        call()
    assert refused.value.response["Error"]["Code"] == "DependencyViolation"
    return str(refused.value.response["Error"]["Message"])


def _take_down(ec2: Any, vpc: str, subnets: list[str]) -> None:
    """What a destroy does after the origin: subnets, the gateway, the VPC."""
    for subnet in subnets:
        ec2.delete_subnet(SubnetId=subnet)
    (gateway,) = ec2.describe_internet_gateways(Filters=[
        {"Name": "attachment.vpc-id", "Values": [vpc]}])["InternetGateways"]
    ec2.detach_internet_gateway(InternetGatewayId=gateway["InternetGatewayId"], VpcId=vpc)
    ec2.delete_internet_gateway(InternetGatewayId=gateway["InternetGatewayId"])


def test_an_origin_puts_one_interface_per_subnet_of_the_load_balancer(
        client: Callable[..., Any], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(CLEANUP_VARIABLE, "0")
    ec2 = client("ec2")
    vpc, subnets = origin_network(client)
    origin_id, etag = _create(client, internal_balancer(client, subnets, "vo-enis"))
    (group,) = _service_groups(ec2, vpc)
    interfaces = _interfaces(ec2, vpc)
    assert sorted(eni["SubnetId"] for eni in interfaces) == sorted(subnets)
    for eni in interfaces:
        assert [g["GroupId"] for g in eni["Groups"]] == [group]
        assert (eni["Description"], eni["RequesterManaged"], eni["Status"],
                eni["InterfaceType"]) == (f"CloudFront VPC Origin {origin_id}", True, "in-use",
                                          "interface")
        assert eni["TagSet"] == [{"Key": "aws.cloudfront.vpcorigin", "Value": "enabled"}]
    # They hold their subnets and the group; the VPC is held by them and the group.
    assert _refused(lambda: ec2.delete_subnet(SubnetId=subnets[0])) == \
        f"The subnet '{subnets[0]}' has dependencies and cannot be deleted."
    assert _refused(lambda: ec2.delete_security_group(GroupId=group)) == \
        f"resource {group} has a dependent object"
    client("cloudfront").delete_vpc_origin(Id=origin_id, IfMatch=etag)
    assert not _interfaces(ec2, vpc)  # cleanup 0: gone at the next EC2 request
    _take_down(ec2, vpc, subnets)
    # Kept (the default variant): the group alone holds the VPC until someone deletes it.
    assert _service_groups(ec2, vpc) == [group]
    assert _refused(lambda: ec2.delete_vpc(VpcId=vpc)) == \
        f"The vpc '{vpc}' has dependencies and cannot be deleted."
    ec2.delete_security_group(GroupId=group)
    ec2.delete_vpc(VpcId=vpc)


def test_the_interfaces_go_some_seconds_after_the_origin(
        client: Callable[..., Any], monkeypatch: pytest.MonkeyPatch) -> None:
    """A destroy deletes subnets right after the origin: refused (the provider retries),
    then accepted once CloudFront's interfaces are gone."""
    monkeypatch.setenv(CLEANUP_VARIABLE, "1.5")
    monkeypatch.setenv(GROUP_VARIABLE, "removed:0")
    ec2 = client("ec2")
    vpc, subnets = origin_network(client)
    origin_id, etag = _create(client, internal_balancer(client, subnets, "vo-delay"))
    client("cloudfront").delete_vpc_origin(Id=origin_id, IfMatch=etag)
    deleted = time.monotonic()
    assert len(_interfaces(ec2, vpc)) == 2
    assert _refused(lambda: ec2.delete_subnet(SubnetId=subnets[0])).startswith("The subnet")
    assert time.monotonic() - deleted < 1.5  # the answers above came before the delay
    time.sleep(1.5 - (time.monotonic() - deleted))
    assert not _interfaces(ec2, vpc)
    assert not _service_groups(ec2, vpc)  # removed:0, right after the interfaces
    _take_down(ec2, vpc, subnets)
    ec2.delete_vpc(VpcId=vpc)


def test_removed_variant_takes_the_group_after_the_vpcs_last_origin(
        client: Callable[..., Any], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(CLEANUP_VARIABLE, "0")
    monkeypatch.setenv(GROUP_VARIABLE, "removed:1")
    ec2, cloudfront = client("ec2"), client("cloudfront")
    vpc, subnets = origin_network(client)
    arn = internal_balancer(client, subnets, "vo-two")
    first, second = _create(client, arn, "first"), _create(client, arn, "second")
    (group,) = _service_groups(ec2, vpc)
    assert len(_interfaces(ec2, vpc)) == 4
    cloudfront.delete_vpc_origin(Id=first[0], IfMatch=first[1])
    time.sleep(1.1)
    # One origin is left: its interfaces stay, and so does the group they are in.
    assert {eni["Description"] for eni in _interfaces(ec2, vpc)} == {
        f"CloudFront VPC Origin {second[0]}"}
    assert _service_groups(ec2, vpc) == [group]
    cloudfront.delete_vpc_origin(Id=second[0], IfMatch=second[1])
    assert not _interfaces(ec2, vpc)
    assert _service_groups(ec2, vpc) == [group]  # not before its second
    time.sleep(1.1)
    assert not _service_groups(ec2, vpc)
    _take_down(ec2, vpc, subnets)
    ec2.delete_vpc(VpcId=vpc)


def test_an_origin_made_meanwhile_keeps_the_group(
        client: Callable[..., Any], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(CLEANUP_VARIABLE, "0")
    monkeypatch.setenv(GROUP_VARIABLE, "removed:0.5")
    ec2, cloudfront = client("ec2"), client("cloudfront")
    vpc, subnets = origin_network(client)
    arn = internal_balancer(client, subnets, "vo-again")
    first = _create(client, arn, "first")
    (group,) = _service_groups(ec2, vpc)
    cloudfront.delete_vpc_origin(Id=first[0], IfMatch=first[1])
    again = _create(client, arn, "again")  # a redeploy before the group went
    time.sleep(0.6)
    assert _service_groups(ec2, vpc) == [group]
    assert len(_interfaces(ec2, vpc)) == 2
    cloudfront.delete_vpc_origin(Id=again[0], IfMatch=again[1])
    time.sleep(0.6)
    assert not _service_groups(ec2, vpc)


def test_a_rule_that_names_the_group_delays_its_removal(
        client: Callable[..., Any], monkeypatch: pytest.MonkeyPatch) -> None:
    """The stack's load balancer group admits the service group: while that rule is
    there, the group cannot be deleted, by CloudFront either."""
    monkeypatch.setenv(CLEANUP_VARIABLE, "0")
    monkeypatch.setenv(GROUP_VARIABLE, "removed:0")
    ec2 = client("ec2")
    vpc, subnets = origin_network(client)
    origin_id, etag = _create(client, internal_balancer(client, subnets, "vo-rule"))
    (group,) = _service_groups(ec2, vpc)
    alb = ec2.create_security_group(GroupName="alb", Description="alb", VpcId=vpc)["GroupId"]
    rule = {"IpProtocol": "tcp", "FromPort": 80, "ToPort": 80,
            "UserIdGroupPairs": [{"GroupId": group}]}
    ec2.authorize_security_group_ingress(GroupId=alb, IpPermissions=[rule])
    client("cloudfront").delete_vpc_origin(Id=origin_id, IfMatch=etag)
    assert not _interfaces(ec2, vpc)
    assert _service_groups(ec2, vpc) == [group]
    ec2.revoke_security_group_ingress(GroupId=alb, IpPermissions=[rule])
    assert not _service_groups(ec2, vpc)  # at the next request after the rule went
    ec2.delete_security_group(GroupId=alb)
    _take_down(ec2, vpc, subnets)
    ec2.delete_vpc(VpcId=vpc)


def test_an_update_to_another_endpoint_moves_the_interfaces(
        client: Callable[..., Any], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(CLEANUP_VARIABLE, "0")
    ec2, cloudfront = client("ec2"), client("cloudfront")
    vpc, subnets = origin_network(client)
    old = internal_balancer(client, subnets[:1], "vo-old")
    new = internal_balancer(client, subnets, "vo-new")
    origin_id, etag = _create(client, old)
    assert [eni["SubnetId"] for eni in _interfaces(ec2, vpc)] == subnets[:1]
    updated = cloudfront.update_vpc_origin(Id=origin_id, IfMatch=etag,
                                           VpcOriginEndpointConfig=endpoint_config(new))
    assert sorted(eni["SubnetId"] for eni in _interfaces(ec2, vpc)) == sorted(subnets)
    cloudfront.delete_vpc_origin(Id=origin_id, IfMatch=updated["ETag"])
    assert not _interfaces(ec2, vpc)


def test_plain_moto_has_no_vpc_origins(plain_client: Callable[..., Any]) -> None:
    arn = "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/a/0123456789"
    with pytest.raises(ClientError) as unknown:
        plain_client("cloudfront").create_vpc_origin(VpcOriginEndpointConfig=endpoint_config(arn))
    assert error_code(unknown) == ("404", 404)


@pytest.mark.parametrize("value, expected", [("", 5.0), ("0", 0.0), (" 2.5 ", 2.5)])
def test_cleanup_seconds(monkeypatch: pytest.MonkeyPatch, value: str, expected: float) -> None:
    monkeypatch.setenv(CLEANUP_VARIABLE, value)
    assert network.cleanup_seconds() == expected


@pytest.mark.parametrize("value, expected", [("", None), ("kept", None), ("removed:0", 0.0),
                                             ("removed:300", 300.0)])
def test_group_variants(monkeypatch: pytest.MonkeyPatch, value: str,
                        expected: float | None) -> None:
    monkeypatch.setenv(GROUP_VARIABLE, value)
    assert network.group_removal_seconds() == expected


@pytest.mark.parametrize("variable, value", [
    (CLEANUP_VARIABLE, "-1"), (CLEANUP_VARIABLE, "soon"), (CLEANUP_VARIABLE, "nan"),
    (GROUP_VARIABLE, "removed"), (GROUP_VARIABLE, "removed:"), (GROUP_VARIABLE, "gone:5"),
    (GROUP_VARIABLE, "removed:-5"), (GROUP_VARIABLE, "KEPT")])
def test_bad_values_stop_the_emulator(monkeypatch: pytest.MonkeyPatch, variable: str,
                                      value: str) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ValueError, match=variable):
        network.install()
