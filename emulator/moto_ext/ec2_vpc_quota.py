"""VPC and internet gateway quotas per region for moto.

moto 5.2.5 creates as many VPCs and internet gateways as it is asked for. AWS allows 5
VPCs per Region and 5 internet gateways per Region by default, the gateway quota rising
with the VPC quota ("To increase this quota, increase the quota on VPCs per Region"), and
the default VPC of each region, with its internet gateway, counts against both:
https://docs.aws.amazon.com/vpc/latest/userguide/amazon-vpc-limits.html
Past the quota, CreateVpc fails with ``VpcLimitExceeded`` and CreateInternetGateway with
``InternetGatewayLimitExceeded`` (HTTP 400; client error codes for specific actions in
https://docs.aws.amazon.com/AWSEC2/latest/APIReference/errors-overview.html), with the
messages AWS returns: "The maximum number of VPCs has been reached." (e.g.
https://github.com/terraform-aws-modules/terraform-aws-vpc/issues/429) and "The maximum
number of internet gateways has been reached." (e.g.
https://github.com/hello-nrfcloud/backend/issues/17).

Here both quotas are ``TAP_EMULATOR_VPC_QUOTA`` (default 5), read from the emulator's
environment at each call. moto creates each region's default VPC but no internet gateway
for it, so a default VPC without an attached gateway counts as one gateway, as in AWS.
"""
from __future__ import annotations

import os
from typing import Any

from moto.ec2.exceptions import EC2ClientError
from moto.ec2.models.internet_gateways import InternetGatewayBackend
from moto.ec2.models.vpcs import VPCBackend

NAME = "ec2-vpc-quota"
QUOTA_VARIABLE = "TAP_EMULATOR_VPC_QUOTA"
DEFAULT_QUOTA = 5  # VPCs per Region and internet gateways per Region, AWS's defaults


def quota() -> int:
    """VPCs (and internet gateways) a region may hold; ValueError when the variable is
    not a whole number >= 1."""
    value = os.environ.get(QUOTA_VARIABLE, "").strip()
    if not value:
        return DEFAULT_QUOTA
    if not value.isdigit() or int(value) < 1:
        raise ValueError(f"{QUOTA_VARIABLE}={value!r}: expected a whole number >= 1")
    return int(value)


def internet_gateways_used(backend: Any) -> int:
    """Gateways counted against the quota: moto's, plus the one AWS gives the default VPC
    when moto has none attached to it."""
    default = backend.get_default_vpc()
    attached = {igw.vpc.id for igw in backend.internet_gateways.values() if igw.vpc}
    return len(backend.internet_gateways) + (default is not None and default.id not in attached)


def install() -> str:
    """Make CreateVpc and CreateInternetGateway refuse past the region's quota."""
    quota()  # a bad value stops the emulator at start, not at the first CreateVpc
    create_vpc = VPCBackend.create_vpc
    if getattr(create_vpc, "tap_extended", False):
        return NAME

    def limited_create_vpc(self: Any, *args: Any, **kwargs: Any) -> Any:
        if len(self.vpcs) >= quota():
            raise EC2ClientError("VpcLimitExceeded", "The maximum number of VPCs has been reached.")
        return create_vpc(self, *args, **kwargs)

    create_internet_gateway = InternetGatewayBackend.create_internet_gateway

    def limited_create_internet_gateway(self: Any, *args: Any, **kwargs: Any) -> Any:
        if internet_gateways_used(self) >= quota():
            raise EC2ClientError("InternetGatewayLimitExceeded",
                                 "The maximum number of internet gateways has been reached.")
        return create_internet_gateway(self, *args, **kwargs)

    limited_create_vpc.tap_extended = True  # type: ignore[attr-defined]
    VPCBackend.create_vpc = limited_create_vpc  # type: ignore[method-assign]
    InternetGatewayBackend.create_internet_gateway = \
        limited_create_internet_gateway  # type: ignore[method-assign]
    return NAME
