"""ELBv2: a target group's ``LoadBalancerArns`` follow the listeners that forward to it.

In AWS, ``LoadBalancerArns`` of a target group is "the Amazon Resource Name (ARN) of the
load balancer that routes traffic to this target group": the load balancer whose listener
(default actions or rules) forwards to it, listed once, and gone when nothing forwards to it
any more. moto 5.2.5 appends the load balancer on CreateListener and CreateRule only (twice
when both forward to the group) and never updates the list on ModifyListener, ModifyRule,
DeleteRule or DeleteListener. So after an upgrade that replaces the stack's target group
(create_before_destroy: the new group made, the listener rule moved to it by ModifyRule, the
old group deleted), the new group reads as attached to no load balancer. Here the list is
computed again from the listeners after each of those calls.

https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_TargetGroup.html
"""
from __future__ import annotations

from typing import Any, Callable

from moto.elbv2.models import ELBv2Backend

NAME = "elbv2-target-group-load-balancers"
MARKER = "tap_target_groups_attached"  # this extension's own: others wrap ELBv2Backend too
PATCHED = ("create_listener", "modify_listener", "delete_listener", "create_rule",
           "modify_rule", "delete_rule")


def forwarded_groups(backend: ELBv2Backend, actions: list[Any]) -> list[str]:
    """The target group ARNs that ``actions`` forward to, in order."""
    return [arn for action in actions if action.type == "forward"
            for arn in backend._get_target_group_arns_from(  # pylint: disable=protected-access
                action_data=action.data)]


def attach(backend: ELBv2Backend) -> None:
    """Set every target group's load balancers from the listeners that forward to it."""
    routes: dict[str, list[str]] = {}
    for balancer in backend.load_balancers.values():
        for listener in balancer.listeners.values():
            actions = list(listener.default_actions)
            for rule in listener.rules.values():
                actions.extend(rule.actions)
            for group_arn in forwarded_groups(backend, actions):
                balancers = routes.setdefault(group_arn, [])
                if balancer.arn not in balancers:
                    balancers.append(balancer.arn)
    for group in backend.target_groups.values():
        group.load_balancer_arns = list(routes.get(group.arn, []))


def _recomputing(method: Callable[..., Any]) -> Callable[..., Any]:
    def wrapped(self: ELBv2Backend, *args: Any, **kwargs: Any) -> Any:
        result = method(self, *args, **kwargs)
        attach(self)
        return result
    setattr(wrapped, MARKER, True)
    wrapped.__name__ = method.__name__
    return wrapped


def install() -> str:
    """Recompute the target groups' load balancers after each listener or rule change."""
    for name in PATCHED:
        method = getattr(ELBv2Backend, name)
        if not getattr(method, MARKER, False):
            setattr(ELBv2Backend, name, _recomputing(method))
    return NAME
