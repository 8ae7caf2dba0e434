"""Every security-group rule of the environment, grouped by the security group it is on.

The groups themselves are made empty by the tiers that own what they protect (the network:
the load balancer's and the tasks'; the data tier: the database's and the cache's); their
rules live here and only here, so one file says who may talk to whom:

- load balancer: in, from CloudFront only: ports 80 and 443 from the security group CloudFront
  creates for VPC origins in the VPC (both, so that an origin protocol change, which replaces
  the VPC origin, never blocks the origin in use), or the origin port (80, or 443 with a
  certificate) from CloudFront's origin-facing prefix list where the load balancer is
  internet-facing (one rule: the prefix list counts as ~55 rules against the group's quota of
  60); out, the container port to the tasks;
- tasks: in, the container port from the load balancer; out, HTTPS (443) anywhere for image
  pulls and AWS APIs, 5432 to the database, 6379-6380 to the cache;
- database: in, 5432 from the tasks; cache: in, 6379-6380 from the tasks (6380 is the
  serverless cache's reader endpoint).

On the shared pieces (``FirewallProps.shared``) the load balancer, the database and the cache
are the shared stack's, and so are their groups and those groups' rules (which admit the
network's workload subnets: lib/shared_stack.py); the environment adds rules to its tasks' group
only: in, the container port from each of the shared load balancer's groups; out, HTTPS, 5432
to each of the shared cluster's groups and 6379-6380 to each of the shared cache's (one rule per
group, ``for_each`` over what the data sources read).

Every rule is a separate ``aws_vpc_security_group_*_rule`` resource with a description.
Exposes nothing.
"""
from __future__ import annotations

from dataclasses import dataclass

from cdktf import TerraformIterator, Token
from cdktf_cdktf_provider_aws.vpc_security_group_egress_rule import VpcSecurityGroupEgressRule
from cdktf_cdktf_provider_aws.vpc_security_group_ingress_rule import VpcSecurityGroupIngressRule
from constructs import Construct

from lib.data_tier import CACHE_PORTS, DB_PORT
from lib.network import ANYWHERE

HTTP_PORT = 80
HTTPS_PORT = 443  # the VPC origin's HTTPS port, image pulls and AWS APIs


@dataclass(frozen=True, kw_only=True)
class SharedGroups:
    """The groups of the shared pieces (list tokens of their data sources)."""

    load_balancer: list[str]
    database: list[str]
    cache: list[str]


@dataclass(frozen=True, kw_only=True)
class FirewallProps:  # pylint: disable=too-many-instance-attributes
    """The security groups and the ports between them."""

    task_security_group_id: str
    container_port: int
    # The environment's own load balancer, database and cache (None on the shared pieces).
    alb_security_group_id: str | None = None
    db_security_group_id: str | None = None
    cache_security_group_id: str | None = None
    origin_port: int = HTTP_PORT  # the load balancer's port that CloudFront uses
    # Where CloudFront's requests come from, to a load balancer of the environment's own:
    # exactly one of the two.
    origin_security_group_id: str | None = None  # CloudFront's VPC-origin group in the VPC
    origin_prefix_list_id: str | None = None  # CloudFront's origin-facing servers
    shared: SharedGroups | None = None  # the shared pieces' groups, instead of all the above

    def __post_init__(self) -> None:
        own = (self.alb_security_group_id, self.db_security_group_id,
               self.cache_security_group_id)
        if self.shared is not None:
            if any(group is not None for group in own):
                raise ValueError("FirewallProps: on the shared pieces the load balancer, "
                                 "database and cache groups are the shared stack's")
            return
        if any(group is None for group in own):
            raise ValueError("FirewallProps needs the load balancer, database and cache groups "
                             "(or the shared pieces' groups)")
        if (self.origin_security_group_id is None) == (self.origin_prefix_list_id is None):
            raise ValueError("FirewallProps needs exactly one origin source: CloudFront's "
                             "VPC-origin security group or its origin-facing prefix list")


class Firewall(Construct):
    """The security-group rules between CloudFront, the load balancer, tasks and data."""

    def __init__(self, scope: Construct, construct_id: str, *, props: FirewallProps) -> None:
        super().__init__(scope, construct_id)
        if props.shared is not None:
            self._tasks_on_shared_pieces(props, props.shared)
            return
        self._load_balancer(props)
        self._tasks(props)
        self._data(props)

    def _tasks_on_shared_pieces(self, props: FirewallProps, shared: SharedGroups) -> None:
        """The tasks' rules to and from the shared pieces' groups, one per group."""
        tasks, port = props.task_security_group_id, props.container_port
        balancers = TerraformIterator.from_list(shared.load_balancer)
        VpcSecurityGroupIngressRule(
            self, "tasks-from-alb", for_each=balancers, security_group_id=tasks,
            referenced_security_group_id=Token.as_string(balancers.value), ip_protocol="tcp", from_port=port,
            to_port=port, description="Requests from the shared load balancer")
        self._https_out(tasks)
        for key, groups, (low, high) in (("db", shared.database, (DB_PORT, DB_PORT)),
                                         ("cache", shared.cache, (CACHE_PORTS[0],
                                                                  CACHE_PORTS[-1]))):
            each = TerraformIterator.from_list(groups)
            VpcSecurityGroupEgressRule(
                self, f"tasks-to-{key}", for_each=each, security_group_id=tasks,
                referenced_security_group_id=Token.as_string(each.value), ip_protocol="tcp", from_port=low,
                to_port=high, description=f"ECS tasks to the shared {key} on {_ports(low, high)}")

    def _https_out(self, tasks: str) -> None:
        VpcSecurityGroupEgressRule(
            self, "tasks-https-out", security_group_id=tasks, cidr_ipv4=ANYWHERE,
            ip_protocol="tcp", from_port=HTTPS_PORT, to_port=HTTPS_PORT,
            description="HTTPS out: image pulls and AWS APIs")

    def _load_balancer(self, props: FirewallProps) -> None:
        port = props.origin_port
        if props.origin_security_group_id is not None:
            # Both of the VPC origin's ports, whatever its protocol: a protocol change
            # replaces the VPC origin (lib/edge.py), and the old and the new one must both be
            # admitted while the distribution switches (80 only redirects under HTTPS).
            for key, origin_port in (("alb-from-vpc-origin", HTTP_PORT),
                                     ("alb-from-vpc-origin-https", HTTPS_PORT)):
                VpcSecurityGroupIngressRule(
                    self, key, security_group_id=props.alb_security_group_id,
                    referenced_security_group_id=props.origin_security_group_id,
                    ip_protocol="tcp", from_port=origin_port, to_port=origin_port,
                    description="CloudFront VPC origin interfaces")
        else:
            VpcSecurityGroupIngressRule(
                self, "alb-from-cloudfront", security_group_id=props.alb_security_group_id,
                prefix_list_id=props.origin_prefix_list_id, ip_protocol="tcp", from_port=port,
                to_port=port, description="CloudFront origin-facing servers")
        VpcSecurityGroupEgressRule(
            self, "alb-to-tasks", security_group_id=props.alb_security_group_id,
            referenced_security_group_id=props.task_security_group_id, ip_protocol="tcp",
            from_port=props.container_port, to_port=props.container_port,
            description="Forward to the ECS tasks")

    def _tasks(self, props: FirewallProps) -> None:
        tasks = props.task_security_group_id
        VpcSecurityGroupIngressRule(
            self, "tasks-from-alb", security_group_id=tasks,
            referenced_security_group_id=props.alb_security_group_id, ip_protocol="tcp",
            from_port=props.container_port, to_port=props.container_port,
            description="Requests from the load balancer")
        self._https_out(tasks)
        for key, group, (low, high) in self._data_ports(props):
            VpcSecurityGroupEgressRule(
                self, f"tasks-to-{key}", security_group_id=tasks,
                referenced_security_group_id=group, ip_protocol="tcp", from_port=low,
                to_port=high, description=f"ECS tasks to {key} on {_ports(low, high)}")

    def _data(self, props: FirewallProps) -> None:
        for key, group, (low, high) in self._data_ports(props):
            VpcSecurityGroupIngressRule(
                self, f"{key}-from-tasks", security_group_id=group,
                referenced_security_group_id=props.task_security_group_id, ip_protocol="tcp",
                from_port=low, to_port=high, description=f"ECS tasks to {key} on "
                                                         f"{_ports(low, high)}")

    @staticmethod
    def _data_ports(props: FirewallProps) -> tuple[tuple[str, str, tuple[int, int]], ...]:
        return (("db", props.db_security_group_id, (DB_PORT, DB_PORT)),
                ("cache", props.cache_security_group_id, (CACHE_PORTS[0], CACHE_PORTS[-1])))


def _ports(low: int, high: int) -> str:
    return f"{low}" if low == high else f"{low}-{high}"
