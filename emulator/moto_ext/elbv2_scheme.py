"""ELBv2 load balancer scheme default for moto.

AWS makes a load balancer ``internet-facing`` when CreateLoadBalancer has no ``Scheme``;
the provider sends none for ``internal = false``. moto 5.2.5 passes the missing
parameter on as ``None``, so DescribeLoadBalancers then has no ``Scheme`` at all. The
backend here applies AWS's default.
"""
from __future__ import annotations

from typing import Any

from moto.elbv2.models import ELBv2Backend

NAME = "elbv2-default-scheme"
DEFAULT_SCHEME = "internet-facing"


def install() -> str:
    """Make CreateLoadBalancer without ``Scheme`` internet-facing, as in AWS."""
    create = ELBv2Backend.create_load_balancer
    if not getattr(create, "tap_extended", False):
        def create_load_balancer(self: ELBv2Backend, *args: Any, **kwargs: Any) -> Any:
            if kwargs.get("scheme") is None:
                kwargs["scheme"] = DEFAULT_SCHEME
            return create(self, *args, **kwargs)
        create_load_balancer.tap_extended = True  # type: ignore[attr-defined]
        ELBv2Backend.create_load_balancer = create_load_balancer  # type: ignore[method-assign]
    return NAME
