"""ELBv2 CreateLoadBalancer is idempotent by name, for moto.

AWS: "This operation is idempotent, which means that it completes at most one time. If
you attempt to create multiple load balancers with the same settings, each call
succeeds" (the same load balancer comes back); a name is unique in the region, so the
same name with other settings is ``DuplicateLoadBalancerName``.
https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_CreateLoadBalancer.html
moto 5.2.5 checks duplicates by ARN, which holds a random id, so it never finds one: a
request the SDK sends again (its first answer came too late on a busy machine) creates a
second load balancer of the same name, which nothing tracks and destroy leaves behind.
Here a request whose name is taken returns that load balancer when the subnets, scheme
and type are the same, and is refused otherwise.
"""
from __future__ import annotations

from typing import Any

from moto.elbv2.exceptions import DuplicateLoadBalancerName
from moto.elbv2.models import ELBv2Backend

NAME = "elbv2-idempotent-create"


def install() -> str:
    """Make CreateLoadBalancer return the load balancer of the same name and settings."""
    create = ELBv2Backend.create_load_balancer
    if getattr(create, "tap_idempotent", False):
        return NAME

    def create_load_balancer(self: ELBv2Backend, *args: Any, **kwargs: Any) -> Any:
        name = kwargs.get("name", args[0] if args else None)
        taken = next((lb for lb in self.load_balancers.values() if lb.name == name), None)
        if taken is None:
            return create(self, *args, **kwargs)
        wanted = set(kwargs.get("subnet_ids") or []) | {
            mapping["SubnetId"] for mapping in kwargs.get("subnet_mappings") or []}
        same = (wanted == {subnet.id for subnet in taken.subnets}
                and kwargs.get("scheme") in (None, taken.scheme)
                and (kwargs.get("loadbalancer_type") or "application") == taken.type)
        if not same:
            raise DuplicateLoadBalancerName()
        return taken

    # tap_extended too: the extensions wrapped beneath (default scheme) are not wrapped again.
    create_load_balancer.tap_idempotent = True  # type: ignore[attr-defined]
    create_load_balancer.tap_extended = True  # type: ignore[attr-defined]
    ELBv2Backend.create_load_balancer = create_load_balancer  # type: ignore[method-assign]
    return NAME
