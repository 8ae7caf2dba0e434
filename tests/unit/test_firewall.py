"""The firewall: every security-group rule, on the synthesized JSON of the reference stacks.

Each security group's rules have one home (lib/firewall.py): the load balancer admits only
CloudFront and sends only to the tasks; the tasks admit only the load balancer and send HTTPS
out and to the database and cache; the data stores admit only the tasks.
"""
from __future__ import annotations

import pytest

from lib.firewall import FirewallProps, SharedGroups
from tests.unit.synth import Synth

INGRESS = "aws_vpc_security_group_ingress_rule"
EGRESS = "aws_vpc_security_group_egress_rule"


def test_every_rule_lives_in_the_firewall(stacks: dict[str, Synth], variant: Synth) -> None:
    for stack in (*stacks.values(), variant):
        for rtype in (INGRESS, EGRESS):
            paths = [stack.paths[lid] for lid in stack.resources(rtype)]
            assert paths and all(path.startswith("firewall/") for path in paths), paths
        for group in stack.resources("aws_security_group").values():
            assert "ingress" not in group and "egress" not in group


def test_security_group_rules(stacks: dict[str, Synth]) -> None:
    for stack in stacks.values():
        alb_sg = stack.ref("aws_security_group", "network/alb-sg")
        task_sg = stack.ref("aws_security_group", "network/task-sg")
        assert not stack.data("aws_ec2_managed_prefix_list")  # nothing from the internet
        ingress = stack.resources("aws_vpc_security_group_ingress_rule").values()
        egress = stack.resources("aws_vpc_security_group_egress_rule").values()
        # Both of the VPC origin's ports, from CloudFront's group only: an origin protocol
        # change (a new VPC origin) never finds its port closed.
        from_cloudfront = [r for r in ingress if r["security_group_id"] == alb_sg]
        assert from_cloudfront == [
            stack.at(INGRESS, "firewall/alb-from-vpc-origin"),
            stack.at(INGRESS, "firewall/alb-from-vpc-origin-https")]
        group = stack.ref("aws_security_groups", "edge/vpc-origins-sg", "ids", kind="data")
        for rule, port in zip(from_cloudfront, (80, 443)):
            assert rule["referenced_security_group_id"] == \
                f"${{element({group.strip('${}')}, 0)}}"
            assert "cidr_ipv4" not in rule and "prefix_list_id" not in rule
            assert (rule["ip_protocol"], rule["from_port"], rule["to_port"]) == \
                ("tcp", port, port)
        (to_tasks,) = [r for r in egress if r["security_group_id"] == alb_sg]
        assert to_tasks["referenced_security_group_id"] == task_sg
        assert (to_tasks["ip_protocol"], to_tasks["from_port"], to_tasks["to_port"]) == ("tcp", 80, 80)
        from_alb = stack.at("aws_vpc_security_group_ingress_rule", "firewall/tasks-from-alb")
        assert from_alb["security_group_id"] == task_sg
        assert from_alb["referenced_security_group_id"] == alb_sg
        assert (from_alb["ip_protocol"], from_alb["from_port"], from_alb["to_port"]) == ("tcp", 80, 80)
        assert "cidr_ipv4" not in from_alb and "prefix_list_id" not in from_alb
        https_out = stack.at("aws_vpc_security_group_egress_rule", "firewall/tasks-https-out")
        assert https_out["security_group_id"] == task_sg
        assert (https_out["cidr_ipv4"], https_out["ip_protocol"], https_out["from_port"],
                https_out["to_port"]) == ("0.0.0.0/0", "tcp", 443, 443)
        for group in (stack.at("aws_security_group", p) for p in ("network/alb-sg", "network/task-sg")):
            assert "ingress" not in group and "egress" not in group


@pytest.mark.parametrize("key,name,ports", [("db", "aurora", (5432, 5432)),
                                            ("cache", "cache", (6379, 6380))])
def test_only_the_tasks_reach_the_data_stores(stacks: dict[str, Synth], key: str, name: str,
                                              ports: tuple[int, int]) -> None:
    for suffix, stack in stacks.items():
        group_id = stack.ref("aws_security_group", f"data/{key}-sg")
        tasks = stack.ref("aws_security_group", "network/task-sg")
        group = stack.at("aws_security_group", f"data/{key}-sg")
        assert group["name"] == f"tap-{suffix}-{name}"
        assert group["vpc_id"] == stack.ref("aws_vpc", "network/vpc")
        assert "ingress" not in group and "egress" not in group
        ingress = [r for r in stack.resources(INGRESS).values() if r["security_group_id"] == group_id]
        assert ingress == [stack.at(INGRESS, f"firewall/{key}-from-tasks")]
        (rule,) = ingress
        assert (rule["referenced_security_group_id"], rule["ip_protocol"]) == (tasks, "tcp")
        assert (rule["from_port"], rule["to_port"]) == ports
        assert not [r for r in stack.resources(EGRESS).values() if r["security_group_id"] == group_id]
        egress = stack.at(EGRESS, f"firewall/tasks-to-{key}")
        assert (egress["security_group_id"], egress["referenced_security_group_id"]) == \
            (tasks, group_id)
        assert (egress["ip_protocol"], egress["from_port"], egress["to_port"]) == ("tcp", *ports)


def test_the_https_origin_has_both_ports_and_the_tasks_their_own(variant: Synth) -> None:
    alb_sg = variant.ref("aws_security_group", "network/alb-sg")
    ingress = [r for r in variant.resources(INGRESS).values()
               if r["security_group_id"] == alb_sg]
    assert sorted((r["from_port"], r["to_port"]) for r in ingress) == [(80, 80), (443, 443)]
    (to_tasks,) = [r for r in variant.resources(EGRESS).values()
                   if r["security_group_id"] == alb_sg]
    assert (to_tasks["from_port"], to_tasks["to_port"]) == (8080, 8080)


@pytest.mark.parametrize("given,message", [
    ({"alb_security_group_id": "sg-alb"},
     "on the shared pieces the load balancer, database and cache groups are the shared stack's"),
])
def test_shared_groups_exclude_groups_of_its_own(given: dict[str, str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        FirewallProps(task_security_group_id="sg-tasks", container_port=80,
                      shared=SharedGroups(load_balancer=[], database=[], cache=[]), **given)


def test_groups_of_its_own_come_together_with_one_origin_source() -> None:
    own = {"task_security_group_id": "sg-tasks", "container_port": 80,
           "alb_security_group_id": "sg-alb", "db_security_group_id": "sg-db"}
    with pytest.raises(ValueError, match="needs the load balancer, database and cache groups"):
        FirewallProps(**own)
    with pytest.raises(ValueError, match="exactly one origin source"):
        FirewallProps(**own, cache_security_group_id="sg-cache")
    assert FirewallProps(**own, cache_security_group_id="sg-cache",
                         origin_prefix_list_id="pl-1").origin_port == 80
