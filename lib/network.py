"""Network tier: VPC, three subnet tiers across AZs, NAT per profile, flow logs; or a
network the stack is given.

Creates the VPC (DNS support and hostnames), public / private / isolated subnets in two
or three AZs (chosen by the ``aws_availability_zones`` data source, no AZ names in
code), the internet gateway, NAT gateways per the settings' NAT layout with routes as
``aws_route`` resources, an S3 gateway endpoint, flow logs to a KMS-encrypted log group
through a least-privilege role, and the default security group stripped of all rules.

It also creates the two empty workload security groups (load balancer and tasks) so
that the data tier can admit the tasks before the service exists; their rules are
separate resources, all in lib/firewall.py. An environment on the shared load balancer makes
no load balancer group, and the shared stack, which runs no tasks, no task group.

Without NAT (the ephemeral profile) nothing in the private subnets reaches the
internet, so ``workload_subnet_ids`` are the public subnets and the tasks get public
IPs; their security group admits only the load balancer. This path is used instead
of interface endpoints because the default image lives on ECR Public, which no VPC
endpoint serves, and it costs nothing while the environment is idle.

With VPC_ID and the three subnet lists (``NetworkProps.existing``) it creates none
of that: it reads the VPC and each subnet through data sources, whose postconditions
fail the plan, naming the subnet and the problem, when a subnet is not in the VPC or a
tier does not span two AZs; the tasks run where TASK_SUBNETS says (private by default,
relying on the network owner's NAT or endpoints). The logs key and the two security
groups are created in either mode (the logs key unless the stack gives one: one key per region
in the ephemeral profile).

Exposes ``refs`` (``NetworkRefs``: the ids the other tiers use, never the construct) and
``nat_gateway_count``.
"""
from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Sequence

from cdktf import Fn, Op, Postcondition, TerraformResourceLifecycle
from cdktf_cdktf_provider_aws.cloudwatch_log_group import CloudwatchLogGroup
from cdktf_cdktf_provider_aws.data_aws_availability_zones import DataAwsAvailabilityZones
from cdktf_cdktf_provider_aws.data_aws_subnet import DataAwsSubnet
from cdktf_cdktf_provider_aws.data_aws_vpc import DataAwsVpc
from cdktf_cdktf_provider_aws.default_security_group import DefaultSecurityGroup
from cdktf_cdktf_provider_aws.eip import Eip
from cdktf_cdktf_provider_aws.flow_log import FlowLog
from cdktf_cdktf_provider_aws.iam_role import IamRole
from cdktf_cdktf_provider_aws.iam_role_policy import IamRolePolicy
from cdktf_cdktf_provider_aws.internet_gateway import InternetGateway
from cdktf_cdktf_provider_aws.nat_gateway import NatGateway
from cdktf_cdktf_provider_aws.route import Route
from cdktf_cdktf_provider_aws.route_table import RouteTable
from cdktf_cdktf_provider_aws.route_table_association import RouteTableAssociation
from cdktf_cdktf_provider_aws.security_group import SecurityGroup
from cdktf_cdktf_provider_aws.subnet import Subnet
from cdktf_cdktf_provider_aws.vpc import Vpc
from cdktf_cdktf_provider_aws.vpc_endpoint import VpcEndpoint
from constructs import Construct

from lib.config import (NAT_NONE, NAT_PER_AZ, NAT_SINGLE, SUBNET_LIST_VARIABLES,
                        VPC_ORIGIN_UNAVAILABLE_AZ_IDS, ExistingNetwork)
from lib.kms import CustomerKey, KeyProps, logs_service_statement
from lib.naming import Names
from lib.policies import document, service_trust, statement

TIERS = ("public", "private", "isolated")
MIN_AVAILABILITY_ZONES = 2
ANYWHERE = "0.0.0.0/0"


def subnet_cidrs(vpc_cidr: str, az_count: int) -> dict[str, list[str]]:
    """Non-overlapping subnet CIDRs: the VPC splits into four equal tier blocks (public,
    private, isolated, one spare), each tier block into four AZ subnets (three used)."""
    if not 1 <= az_count <= 4:
        raise ValueError(f"az_count must be 1-4, got {az_count}")
    tier_blocks = list(ipaddress.IPv4Network(vpc_cidr).subnets(prefixlen_diff=2))
    return {
        tier: [str(net) for net in list(tier_blocks[index].subnets(prefixlen_diff=2))[:az_count]]
        for index, tier in enumerate(TIERS)
    }


@dataclass(frozen=True, kw_only=True)
class NetworkProps:  # pylint: disable=too-many-instance-attributes
    """Inputs of the network tier."""

    names: Names
    account_id: str  # token of aws_caller_identity
    region: str
    az_count: int  # availability zones to spread over (2 or 3)
    nat_mode: str  # NAT_NONE, NAT_SINGLE or NAT_PER_AZ
    # CloudFront reaches an internal load balancer through a VPC origin: its private subnets
    # must avoid the AZs where VPC origins are not offered.
    private_origin: bool
    tasks_in_public_subnets: bool  # tasks in the public subnets with public IPs
    log_retention_days: int  # flow logs
    kms_deletion_window_days: int  # the logs key
    vpc_cidr: str = "10.0.0.0/16"  # the VPC the stack creates
    existing: ExistingNetwork | None = None  # a given network: nothing of the above is made
    logs_key_arn: str | None = None  # the key of the log groups; None: the network makes one
    load_balancer_group: bool = True  # the load balancer's security group (not: the shared one)
    tasks_group: bool = True  # the tasks' security group (not: the shared stack, no tasks)


@dataclass(frozen=True, kw_only=True)
class NetworkRefs:  # pylint: disable=too-many-instance-attributes
    """The ids of the network that the other tiers use (tokens)."""

    vpc_id: str
    public_subnet_ids: Sequence[str]
    private_subnet_ids: Sequence[str]
    isolated_subnet_ids: Sequence[str]
    # where the tasks run: private, or public with public IPs (``assign_public_ip``)
    workload_subnet_ids: Sequence[str]
    assign_public_ip: bool
    # private where CloudFront reaches the load balancer through a VPC origin, else public
    alb_subnet_ids: Sequence[str]
    availability_zones: Sequence[str]  # one per isolated subnet, for the database instances
    # the CIDR blocks of the public and private subnets: where tasks may run (TASK_SUBNETS),
    # which the shared stack's database and cache admit
    workload_cidr_blocks: Sequence[str]
    alb_security_group_id: str | None  # None: no load balancer of its own
    task_security_group_id: str | None  # None: no tasks (the shared stack)
    logs_key_arn: str  # the key of every CloudWatch log group of the environment


def _vpc_origin_zone_check(subnet_id: str, variable: str) -> Postcondition:
    """The internal load balancer's subnet must be in an AZ that offers VPC origins."""
    unavailable = ", ".join(f'"{zone}"' for zone in VPC_ORIGIN_UNAVAILABLE_AZ_IDS)
    return Postcondition(
        condition=f"${{!contains([{unavailable}], self.availability_zone_id)}}",
        error_message=f"{subnet_id} ({variable}) is in ${{self.availability_zone_id}}, where "
                      "CloudFront VPC origins are not offered; the load balancer needs "
                      "private subnets in other AZs.")


class Network(Construct):  # pylint: disable=too-many-instance-attributes
    """The VPC and everything that routes packets in it, or the network given to it."""

    def __init__(self, scope: Construct, construct_id: str, *, props: NetworkProps) -> None:
        super().__init__(scope, construct_id)
        names = props.names
        self._prefix = names.prefix
        self.logs_key_arn: str = props.logs_key_arn or self._logs_key(props)
        if props.existing is None:
            self._own_vpc(props)
        else:
            self._existing(props.existing, props.private_origin)
        alb_security_group_id = SecurityGroup(
            self, "alb-sg", name=names.alb_security_group, vpc_id=self.vpc_id,
            description=f"Load balancer of {names.prefix}: CloudFront in, tasks out",
            tags={"Name": names.alb_security_group},
        ).id if props.load_balancer_group else None
        task_security_group_id = SecurityGroup(
            self, "task-sg", name=names.task_security_group, vpc_id=self.vpc_id,
            description=f"ECS tasks of {names.prefix}: load balancer in",
            tags={"Name": names.task_security_group},
        ).id if props.tasks_group else None
        public = props.tasks_in_public_subnets
        self.refs = NetworkRefs(
            vpc_id=self.vpc_id, public_subnet_ids=self.public_subnet_ids,
            private_subnet_ids=self.private_subnet_ids,
            isolated_subnet_ids=self.isolated_subnet_ids,
            workload_subnet_ids=self.public_subnet_ids if public else self.private_subnet_ids,
            assign_public_ip=public,
            # An internal load balancer (behind a CloudFront VPC origin) in the private subnets.
            alb_subnet_ids=(self.private_subnet_ids if props.private_origin
                            else self.public_subnet_ids),
            availability_zones=self.availability_zones,
            workload_cidr_blocks=self.workload_cidr_blocks,
            alb_security_group_id=alb_security_group_id,
            task_security_group_id=task_security_group_id,
            logs_key_arn=self.logs_key_arn)

    def _own_vpc(self, props: NetworkProps) -> None:
        """The VPC, its subnets, gateways, routes, S3 endpoint and flow logs."""
        names = props.names
        az_count = props.az_count
        cidrs = subnet_cidrs(props.vpc_cidr, az_count)
        # Where CloudFront cannot place a VPC origin's interfaces, the subnets don't go.
        excluded = list(VPC_ORIGIN_UNAVAILABLE_AZ_IDS) if props.private_origin else None
        zones = DataAwsAvailabilityZones(self, "zones", state="available",
                                         exclude_zone_ids=excluded)
        self.availability_zones: list[str] = [Fn.element(zones.names, index)
                                              for index in range(az_count)]

        vpc = Vpc(self, "vpc", cidr_block=props.vpc_cidr, enable_dns_support=True,
                  enable_dns_hostnames=True, tags={"Name": names.vpc})
        self.vpc_id: str = vpc.id
        DefaultSecurityGroup(self, "default-sg", vpc_id=vpc.id,
                             tags={"Name": f"{names.prefix}-default-unused"})

        subnets: dict[str, list[Subnet]] = {}
        for tier in TIERS:
            subnets[tier] = [
                Subnet(self, f"{tier}-{index}", vpc_id=vpc.id, cidr_block=cidr,
                       availability_zone=self.availability_zones[index],
                       map_public_ip_on_launch=False,
                       tags={"Name": f"{names.prefix}-{tier}-{index}", "Tier": tier})
                for index, cidr in enumerate(cidrs[tier])
            ]
        self.public_subnet_ids: list[str] = [s.id for s in subnets["public"]]
        self.private_subnet_ids: list[str] = [s.id for s in subnets["private"]]
        self.isolated_subnet_ids: list[str] = [s.id for s in subnets["isolated"]]
        self.workload_cidr_blocks: list[str] = [
            s.cidr_block for s in subnets["public"] + subnets["private"]]

        igw = InternetGateway(self, "igw", vpc_id=vpc.id, tags={"Name": f"{names.prefix}-igw"})
        public_rt = self._route_table("public", vpc.id, subnets["public"])
        Route(self, "public-default", route_table_id=public_rt.id,
              destination_cidr_block=ANYWHERE, gateway_id=igw.id)

        nat_ids = self._nat_gateways(props.nat_mode, subnets["public"], igw, names.prefix)
        self.nat_gateway_count = len(nat_ids)
        private_tables = self._private_route_tables(vpc.id, subnets["private"], nat_ids)
        isolated_rt = self._route_table("isolated", vpc.id, subnets["isolated"])

        VpcEndpoint(self, "s3-endpoint", vpc_id=vpc.id,
                    service_name=f"com.amazonaws.{props.region}.s3",
                    vpc_endpoint_type="Gateway",
                    route_table_ids=[public_rt.id, isolated_rt.id,
                                     *[table.id for table in private_tables]],
                    tags={"Name": f"{names.prefix}-s3"})
        self._flow_logs(props, vpc.id)

    def _existing(self, network: ExistingNetwork, private_origin: bool) -> None:
        """Reads the given VPC and subnets; the plan fails, naming the subnet and the
        problem, when a subnet is outside the VPC or a tier does not span two AZs."""
        tiers: dict[str, list[DataAwsSubnet]] = {}
        for tier in TIERS:
            variable = SUBNET_LIST_VARIABLES[tier]
            tiers[tier] = [
                DataAwsSubnet(self, f"{tier}-{index}", id=subnet_id,
                              lifecycle=TerraformResourceLifecycle(postcondition=[
                                  Postcondition(
                                      condition=f'${{self.vpc_id == "{network.vpc_id}"}}',
                                      error_message=f"{subnet_id} ({variable}) is in "
                                                    f"${{self.vpc_id}}, not in VPC_ID "
                                                    f"{network.vpc_id}."),
                                  *([_vpc_origin_zone_check(subnet_id, variable)]
                                    if private_origin and tier == "private" else [])]))
                for index, subnet_id in enumerate(network.subnet_ids(tier))]
        spread = [Postcondition(
            condition=Op.gte(Fn.length_of(Fn.distinct(
                [subnet.availability_zone for subnet in tiers[tier]])), MIN_AVAILABILITY_ZONES),
            error_message=f"{SUBNET_LIST_VARIABLES[tier]} "
                          f"({', '.join(network.subnet_ids(tier))}) must span at least "
                          f"{MIN_AVAILABILITY_ZONES} availability zones.")
            for tier in TIERS]
        # Everything placed in the network refers to the VPC through this data source,
        # so the checks above run before anything is created.
        vpc = DataAwsVpc(self, "vpc", id=network.vpc_id,
                         lifecycle=TerraformResourceLifecycle(postcondition=spread))
        self.vpc_id = vpc.id
        self.public_subnet_ids = [s.id for s in tiers["public"]]
        self.private_subnet_ids = [s.id for s in tiers["private"]]
        self.isolated_subnet_ids = [s.id for s in tiers["isolated"]]
        self.workload_cidr_blocks = [s.cidr_block for s in tiers["public"] + tiers["private"]]
        self.availability_zones = [s.availability_zone for s in tiers["isolated"]]
        self.nat_gateway_count = 0

    def _route_table(self, key: str, vpc_id: str, subnets: list[Subnet]) -> RouteTable:
        """A route table associated with ``subnets``."""
        table = RouteTable(self, f"{key}-rt", vpc_id=vpc_id,
                           tags={"Name": f"{self._prefix}-{key}"})
        for index, subnet in enumerate(subnets):
            RouteTableAssociation(self, f"{key}-rta-{index}", subnet_id=subnet.id,
                                  route_table_id=table.id)
        return table

    def _nat_gateways(self, mode: str, public: list[Subnet], igw: InternetGateway,
                      prefix: str) -> list[str]:
        """NAT gateways with their Elastic IPs: none, one, or one per AZ."""
        count = {NAT_NONE: 0, NAT_SINGLE: 1, NAT_PER_AZ: len(public)}[mode]
        ids = []
        for index in range(count):
            eip = Eip(self, f"nat-eip-{index}", domain="vpc", depends_on=[igw],
                      tags={"Name": f"{prefix}-nat-{index}"})
            nat = NatGateway(self, f"nat-{index}", allocation_id=eip.id,
                             subnet_id=public[index].id, depends_on=[igw],
                             tags={"Name": f"{prefix}-nat-{index}"})
            ids.append(nat.id)
        return ids

    def _private_route_tables(self, vpc_id: str, private: list[Subnet],
                              nat_ids: list[str]) -> list[RouteTable]:
        """One table per AZ when each AZ has its NAT; one shared table otherwise."""
        if len(nat_ids) > 1:
            tables = []
            for index, (subnet, nat_id) in enumerate(zip(private, nat_ids)):
                table = self._route_table(f"private-{index}", vpc_id, [subnet])
                Route(self, f"private-{index}-default", route_table_id=table.id,
                      destination_cidr_block=ANYWHERE, nat_gateway_id=nat_id)
                tables.append(table)
            return tables
        table = self._route_table("private", vpc_id, private)
        if nat_ids:
            Route(self, "private-default", route_table_id=table.id,
                  destination_cidr_block=ANYWHERE, nat_gateway_id=nat_ids[0])
        return [table]

    def _logs_key(self, props: NetworkProps) -> str:
        """The key of the environment's CloudWatch log groups; returns its ARN."""
        names = props.names
        return CustomerKey(self, "logs-key", props=KeyProps(
            alias=names.logs_key_alias,
            description=f"CloudWatch log groups of {names.prefix}",
            account_id=props.account_id,
            deletion_window_days=props.kms_deletion_window_days,
            service_statements=[logs_service_statement(props.account_id, props.region)],
        )).arn

    def _flow_logs(self, props: NetworkProps, vpc_id: str) -> None:
        """Flow logs of all traffic to a KMS-encrypted log group."""
        names = props.names
        group = CloudwatchLogGroup(self, "flow-logs", name=names.flow_log_group,
                                   retention_in_days=props.log_retention_days,
                                   kms_key_id=self.logs_key_arn)
        role = IamRole(
            self, "flow-logs-role", name=names.flow_log_role,
            assume_role_policy=service_trust(
                "vpc-flow-logs.amazonaws.com", props.account_id,
                f"arn:aws:ec2:{props.region}:{props.account_id}:vpc-flow-log/*"),
        )
        IamRolePolicy(self, "flow-logs-policy", role=role.id, name="write-flow-logs",
                      policy=document(statement(
                          sid="WriteFlowLogs",
                          actions=["logs:CreateLogStream", "logs:PutLogEvents",
                                   "logs:DescribeLogStreams"],
                          resources=[group.arn, f"{group.arn}:*"])))
        FlowLog(self, "flow-log", vpc_id=vpc_id, traffic_type="ALL",
                log_destination_type="cloud-watch-logs", log_destination=group.arn,
                iam_role_arn=role.arn, max_aggregation_interval=60)
