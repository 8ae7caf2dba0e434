"""ELBv2 deletion protection for moto.

moto 5.2.5 stores the load balancer attribute ``deletion_protection.enabled`` but
DeleteLoadBalancer deletes a protected load balancer anyway. AWS refuses: "You can't
delete a load balancer if deletion protection is enabled" (DeleteLoadBalancer, error
``OperationNotPermitted``, HTTP 400), until ModifyLoadBalancerAttributes sets the
attribute to ``false``. The message is the one AWS returns (e.g. in
https://github.com/aws-cloudformation/rain/issues/187).

https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_DeleteLoadBalancer.html
https://docs.aws.amazon.com/elasticloadbalancing/latest/application/application-load-balancers.html#deletion-protection
"""
from __future__ import annotations

from moto.elbv2.exceptions import ELBClientError
from moto.elbv2.models import ELBv2Backend

NAME = "elbv2-deletion-protection"
ATTRIBUTE = "deletion_protection.enabled"


class OperationNotPermittedError(ELBClientError):
    """The load balancer is protected (HTTP 400, as in AWS)."""

    code = "OperationNotPermitted"

    def __init__(self, arn: str) -> None:
        super().__init__(
            f"Load balancer '{arn}' cannot be deleted because deletion protection is enabled")


def install() -> str:
    """Make DeleteLoadBalancer refuse a load balancer with deletion protection on."""
    delete = ELBv2Backend.delete_load_balancer
    if not getattr(delete, "tap_extended", False):
        def delete_load_balancer(self: ELBv2Backend, arn: str) -> None:
            balancer = self.load_balancers.get(arn)
            if balancer is not None and str(balancer.attrs.get(ATTRIBUTE)).lower() == "true":
                raise OperationNotPermittedError(arn)
            delete(self, arn)
        delete_load_balancer.tap_extended = True  # type: ignore[attr-defined]
        ELBv2Backend.delete_load_balancer = delete_load_balancer  # type: ignore[method-assign]
    return NAME
