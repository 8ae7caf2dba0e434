"""Extension elbv2_target_group_load_balancers: a target group lists the load balancer that
forwards to it once, after a listener or a rule moves to it, and no longer once nothing
forwards to it; the stack's target group replacement (a rule moved to the new group, the old
group deleted) leaves the new group attached. On plain moto the moved-to group lists no load
balancer and a group both the listener and a rule forward to lists it twice."""
from __future__ import annotations

from typing import Any, Callable

from emulator.moto_ext import elbv2_target_group_load_balancers
from emulator.moto_ext.elbv2_target_group_load_balancers import MARKER, NAME
from tests.emulator.test_moto_fidelity import vpc_with_subnets


def _setup(client: Callable[..., Any], name: str) -> tuple[Any, str, str, str]:
    """elbv2, a load balancer, and two target groups of its VPC."""
    elbv2 = client("elbv2")
    vpc, subnets = vpc_with_subnets(client("ec2"))
    balancer = elbv2.create_load_balancer(Name=name, Subnets=subnets)[
        "LoadBalancers"][0]["LoadBalancerArn"]
    old, new = (elbv2.create_target_group(
        Name=f"{name}-{port}", Protocol="HTTP", Port=port, VpcId=vpc, TargetType="ip")[
            "TargetGroups"][0]["TargetGroupArn"] for port in (80, 8080))
    return elbv2, balancer, old, new


def _attached(elbv2: Any, *groups: str) -> list[list[str]]:
    answer = elbv2.describe_target_groups(TargetGroupArns=list(groups))["TargetGroups"]
    by_arn = {group["TargetGroupArn"]: group["LoadBalancerArns"] for group in answer}
    return [by_arn[group] for group in groups]


def _forward(group: str) -> list[dict[str, Any]]:
    return [{"Type": "forward", "TargetGroupArn": group}]


def test_a_rule_moved_to_a_new_group_attaches_it_and_frees_the_old(
        client: Callable[..., Any]) -> None:
    """The stack's replacement: a fixed-response default, the rule forwards to the group."""
    elbv2, balancer, old, new = _setup(client, "tap-move")
    listener = elbv2.create_listener(
        LoadBalancerArn=balancer, Protocol="HTTP", Port=80, DefaultActions=[
            {"Type": "fixed-response", "FixedResponseConfig": {"StatusCode": "403"}}])[
                "Listeners"][0]["ListenerArn"]
    rule = elbv2.create_rule(
        ListenerArn=listener, Priority=1, Actions=_forward(old),
        Conditions=[{"Field": "path-pattern", "Values": ["/*"]}])["Rules"][0]["RuleArn"]
    assert _attached(elbv2, old, new) == [[balancer], []]
    elbv2.modify_rule(RuleArn=rule, Actions=_forward(new))
    assert _attached(elbv2, old, new) == [[], [balancer]]
    elbv2.delete_target_group(TargetGroupArn=old)
    assert _attached(elbv2, new) == [[balancer]]
    elbv2.delete_rule(RuleArn=rule)
    assert _attached(elbv2, new) == [[]]


def test_the_listener_and_a_rule_on_one_group_list_the_balancer_once(
        client: Callable[..., Any]) -> None:
    elbv2, balancer, old, new = _setup(client, "tap-once")
    listener = elbv2.create_listener(LoadBalancerArn=balancer, Protocol="HTTP", Port=80,
                                     DefaultActions=_forward(old))["Listeners"][0]["ListenerArn"]
    elbv2.create_rule(ListenerArn=listener, Priority=1, Actions=_forward(old),
                      Conditions=[{"Field": "path-pattern", "Values": ["/a"]}])
    assert _attached(elbv2, old, new) == [[balancer], []]
    elbv2.modify_listener(ListenerArn=listener, DefaultActions=_forward(new))
    assert _attached(elbv2, old, new) == [[balancer], [balancer]]
    elbv2.delete_listener(ListenerArn=listener)
    assert _attached(elbv2, old, new) == [[], []]


def test_install_is_idempotent() -> None:
    assert elbv2_target_group_load_balancers.install() == NAME
    patched = elbv2_target_group_load_balancers.ELBv2Backend.modify_rule
    assert getattr(patched, MARKER, False)
    assert elbv2_target_group_load_balancers.install() == NAME
    assert elbv2_target_group_load_balancers.ELBv2Backend.modify_rule is patched
