"""Network tier on the synthesized JSON of dev, pr4892 and prod."""
from __future__ import annotations

import ipaddress
import itertools

import pytest

from lib.network import subnet_cidrs
from tests.unit.synth import Synth

AZ_COUNT = 3


def subnets_of(stack: Synth, tier: str) -> list[dict]:
    return [stack.at("aws_subnet", f"network/{tier}-{index}") for index in range(AZ_COUNT)]


def test_subnet_cidrs_are_computed_from_the_vpc_cidr() -> None:
    assert subnet_cidrs("10.0.0.0/16", 3) == {
        "public": ["10.0.0.0/20", "10.0.16.0/20", "10.0.32.0/20"],
        "private": ["10.0.64.0/20", "10.0.80.0/20", "10.0.96.0/20"],
        "isolated": ["10.0.128.0/20", "10.0.144.0/20", "10.0.160.0/20"],
    }
    with pytest.raises(ValueError):
        subnet_cidrs("10.0.0.0/16", 5)


def test_vpc(stacks: dict[str, Synth]) -> None:
    for suffix, stack in stacks.items():
        (vpc,) = stack.resources("aws_vpc").values()
        assert vpc["cidr_block"] == "10.0.0.0/16"
        assert vpc["enable_dns_support"] is True and vpc["enable_dns_hostnames"] is True
        assert vpc["tags"] == {"Name": f"tap-{suffix}-vpc"}


def test_subnets_per_tier_span_three_azs_without_overlap(dev: Synth) -> None:
    zones = dev.ref("aws_availability_zones", "network/zones", "names", kind="data")
    assert dev.data("aws_availability_zones")[
        dev.logical_id("aws_availability_zones", "network/zones", "data")]["state"] == "available"
    networks = []
    for tier in ("public", "private", "isolated"):
        subnets = subnets_of(dev, tier)
        assert len([s for s in dev.resources("aws_subnet").values() if s["tags"]["Tier"] == tier]) == 3
        for index, subnet in enumerate(subnets):
            assert subnet["availability_zone"] == f"${{element({zones[2:-1]}, {index})}}"
            assert subnet["map_public_ip_on_launch"] is False
            networks.append(ipaddress.IPv4Network(subnet["cidr_block"]))
    assert len(networks) == 9
    assert not any(a.overlaps(b) for a, b in itertools.combinations(networks, 2))
    assert all(net.subnet_of(ipaddress.IPv4Network("10.0.0.0/16")) for net in networks)


def test_two_az_region_gets_two_subnets_per_tier(variant: Synth) -> None:
    """The variant is in us-west-1, where new accounts get two AZs."""
    assert variant.json["provider"]["aws"][0]["region"] == "us-west-1"
    zones = variant.ref("aws_availability_zones", "network/zones", "names", kind="data")[2:-1]
    for tier in ("public", "private", "isolated"):
        subnets = [s for s in variant.resources("aws_subnet").values() if s["tags"]["Tier"] == tier]
        assert [s["availability_zone"] for s in subnets] == \
            [f"${{element({zones}, {index})}}" for index in range(2)]
    assert len(variant.resources("aws_subnet")) == 6


@pytest.mark.parametrize("suffix,nat_count", [("pr4892", 0), ("dev", 1), ("prod", 3)])
def test_nat_gateways_per_profile(stacks: dict[str, Synth], suffix: str, nat_count: int) -> None:
    stack = stacks[suffix]
    assert len(stack.resources("aws_nat_gateway")) == nat_count
    assert len(stack.resources("aws_eip")) == nat_count
    public_ids = [stack.ref("aws_subnet", f"network/public-{i}") for i in range(AZ_COUNT)]
    for index in range(nat_count):
        nat = stack.at("aws_nat_gateway", f"network/nat-{index}")
        assert nat["subnet_id"] == public_ids[index]
        assert nat["allocation_id"] == stack.ref("aws_eip", f"network/nat-eip-{index}")
        assert stack.at("aws_eip", f"network/nat-eip-{index}")["domain"] == "vpc"


def routes(stack: Synth) -> list[dict]:
    return list(stack.resources("aws_route").values())


def test_public_route_goes_to_the_internet_gateway(stacks: dict[str, Synth]) -> None:
    for stack in stacks.values():
        route = stack.at("aws_route", "network/public-default")
        assert route["destination_cidr_block"] == "0.0.0.0/0"
        assert route["gateway_id"] == stack.ref("aws_internet_gateway", "network/igw")
        assert route["route_table_id"] == stack.ref("aws_route_table", "network/public-rt")
        assert not any("route" in table for table in stack.resources("aws_route_table").values())


def test_ephemeral_private_subnets_have_no_default_route(ephemeral: Synth) -> None:
    assert [r for r in routes(ephemeral) if "nat_gateway_id" in r] == []
    assert len(routes(ephemeral)) == 1


def test_standard_private_subnets_share_one_nat(dev: Synth) -> None:
    route = dev.at("aws_route", "network/private-default")
    assert route["nat_gateway_id"] == dev.ref("aws_nat_gateway", "network/nat-0")
    table = dev.ref("aws_route_table", "network/private-rt")
    assert route["route_table_id"] == table
    associated = {a["subnet_id"] for a in dev.resources("aws_route_table_association").values()
                  if a["route_table_id"] == table}
    assert associated == {dev.ref("aws_subnet", f"network/private-{i}") for i in range(AZ_COUNT)}


def test_production_private_route_table_per_az(prod: Synth) -> None:
    for index in range(AZ_COUNT):
        table = prod.ref("aws_route_table", f"network/private-{index}-rt")
        route = prod.at("aws_route", f"network/private-{index}-default")
        assert route["route_table_id"] == table
        assert route["nat_gateway_id"] == prod.ref("aws_nat_gateway", f"network/nat-{index}")
        assoc = prod.at("aws_route_table_association", f"network/private-{index}-rta-0")
        assert assoc["subnet_id"] == prod.ref("aws_subnet", f"network/private-{index}")
        assert assoc["route_table_id"] == table


def test_isolated_subnets_have_no_default_route(stacks: dict[str, Synth]) -> None:
    for stack in stacks.values():
        table = stack.ref("aws_route_table", "network/isolated-rt")
        assert not [r for r in routes(stack) if r["route_table_id"] == table]


def test_s3_gateway_endpoint_on_every_route_table(stacks: dict[str, Synth]) -> None:
    for stack in stacks.values():
        endpoint = stack.at("aws_vpc_endpoint", "network/s3-endpoint")
        assert endpoint["service_name"] == "com.amazonaws.us-east-1.s3"
        assert endpoint["vpc_endpoint_type"] == "Gateway"
        tables = {f"${{aws_route_table.{lid}.id}}" for lid in stack.resources("aws_route_table")}
        assert set(endpoint["route_table_ids"]) == tables


def test_default_security_group_has_no_rules(stacks: dict[str, Synth]) -> None:
    for stack in stacks.values():
        (group,) = stack.resources("aws_default_security_group").values()
        assert "ingress" not in group and "egress" not in group


def test_flow_logs_are_encrypted_with_retention_per_profile(stacks: dict[str, Synth]) -> None:
    retention = {"pr4892": 7, "dev": 30, "prod": 365}
    for suffix, stack in stacks.items():
        group = stack.at("aws_cloudwatch_log_group", "network/flow-logs")
        assert group["name"] == f"/tap/{suffix}/vpc-flow-logs"
        assert group["retention_in_days"] == retention[suffix]
        assert group["kms_key_id"] == stack.key_ref("logs")
        flow = stack.at("aws_flow_log", "network/flow-log")
        assert flow["traffic_type"] == "ALL"
        assert flow["log_destination"] == stack.ref("aws_cloudwatch_log_group", "network/flow-logs", "arn")
        assert flow["iam_role_arn"] == stack.ref("aws_iam_role", "network/flow-logs-role", "arn")


def test_flow_log_role_is_least_privilege(dev: Synth) -> None:
    account = dev.ref("aws_caller_identity", "caller", "account_id", kind="data")
    trust = dev.policy("aws_iam_role", "network/flow-logs-role", "assume_role_policy")
    (assume,) = trust["Statement"]
    assert assume["Principal"] == {"Service": "vpc-flow-logs.amazonaws.com"}
    assert assume["Condition"]["StringEquals"] == {"aws:SourceAccount": account}
    assert assume["Condition"]["ArnLike"]["aws:SourceArn"] == \
        f"arn:aws:ec2:us-east-1:{account}:vpc-flow-log/*"
    (write,) = dev.policy("aws_iam_role_policy", "network/flow-logs-policy")["Statement"]
    group_arn = dev.ref("aws_cloudwatch_log_group", "network/flow-logs", "arn")
    assert write["Action"] == ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"]
    assert write["Resource"] == [group_arn, f"{group_arn}:*"]


def test_logs_key_rotates_and_admits_only_this_accounts_log_groups(stacks: dict[str, Synth]) -> None:
    window = {"dev": 14, "prod": 30}  # pr4892's one regional key: tests/unit/test_keys.py
    for suffix, days in window.items():
        stack = stacks[suffix]
        key = stack.at("aws_kms_key", "network/logs-key/key")
        assert key["enable_key_rotation"] is True
        assert key["deletion_window_in_days"] == days
        assert stack.at("aws_kms_alias", "network/logs-key/alias")["name"] == f"alias/tap-{suffix}-logs"
        admin, logs = stack.policy("aws_kms_key", "network/logs-key/key")["Statement"]
        account = stack.ref("aws_caller_identity", "caller", "account_id", kind="data")
        assert admin["Principal"] == {"AWS": f"arn:aws:iam::{account}:root"}
        assert logs["Principal"] == {"Service": "logs.us-east-1.amazonaws.com"}
        assert logs["Condition"]["ArnLike"]["kms:EncryptionContext:aws:logs:arn"] == \
            f"arn:aws:logs:us-east-1:{account}:log-group:*"


def test_workload_security_groups_start_empty(dev: Synth) -> None:
    for path, name in (("network/alb-sg", "tap-dev-alb"), ("network/task-sg", "tap-dev-tasks")):
        group = dev.at("aws_security_group", path)
        assert group["name"] == name
        assert group["vpc_id"] == dev.ref("aws_vpc", "network/vpc")
        assert "ingress" not in group and "egress" not in group


def test_key_deletion_window_is_checked() -> None:
    from cdktf import Testing, TerraformStack  # pylint: disable=import-outside-toplevel
    from lib.kms import CustomerKey, KeyProps  # pylint: disable=import-outside-toplevel
    stack = TerraformStack(Testing.app(), "keys")
    with pytest.raises(ValueError, match="7-30 days"):
        CustomerKey(stack, "key", props=KeyProps(alias="alias/x", description="x",
                                                 account_id="1", deletion_window_days=3))
