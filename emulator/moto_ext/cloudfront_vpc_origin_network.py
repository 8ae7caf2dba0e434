"""CloudFront's side of a VPC origin inside the VPC: the service-managed security group and
one network interface per subnet of the origin, and how they go after DeleteVpcOrigin.

What AWS documents:

- Creating a VPC origin makes CloudFront create the service-managed group
  ``CloudFront-VPCOrigins-Service-SG`` in the VPC ("fully managed by AWS, and should not be
  edited") and a network interface in the origin's private subnet, which needs a free IPv4
  address ("Restrict access with VPC origins",
  https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/private-content-vpc-origins.html).
  The service-linked role's policy lets CloudFront call ec2:CreateSecurityGroup and
  ec2:CreateNetworkInterface only with the request tag ``aws.cloudfront.vpcorigin=enabled``,
  so both carry that tag:
  https://docs.aws.amazon.com/aws-managed-policy/latest/reference/AWSCloudFrontVPCOriginServiceRolePolicy.html
- Such an interface is requester-managed: "a network interface that an AWS service creates
  in your VPC on your behalf"; "when you delete the resource associated with a
  requester-managed network interface, the AWS service detaches the network interface and
  deletes it"
  (https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/requester-managed-eni.html).
- Not documented: the interfaces' description, requester ID and how long after
  DeleteVpcOrigin they go; whether and when CloudFront removes its group once the VPC has
  no VPC origin left. aws-nuke issue #615 (https://github.com/ekristen/aws-nuke/issues/615)
  reports VPC and subnet deletion held by "VPC Origin's ENI's and its Security Group".

What the emulator does:

- CreateVpcOrigin: the group as before (the VPC's first VPC origin creates it), and one
  interface per subnet of the load balancer (the subnets moto's ELBv2 backend holds for
  the origin's ARN) or in the instance's subnet, in that group, tagged as above,
  requester-managed, status ``in-use``, interface type ``interface`` (the EC2 API has no
  CloudFront type), described ``CloudFront VPC Origin <origin id>`` (the emulator's
  wording; AWS's is not published). An update to another endpoint makes new interfaces
  and lets the old ones go as a delete does.
- DeleteVpcOrigin: the interfaces go ``TAP_EMULATOR_VPC_ORIGIN_CLEANUP_SECONDS`` later
  (default 5; a number >= 0). Until then they hold their subnets, the VPC and the group,
  as in AWS, so a destroy that deletes subnets right after the origin is refused a few
  times (the provider retries DependencyViolation) and then goes through.
- The group, once the interfaces of the VPC's last VPC origin are gone, follows
  ``TAP_EMULATOR_VPC_ORIGIN_SERVICE_GROUP``, the two variants AWS might have: ``kept``
  (default) leaves it (DeleteVpc then refuses until someone deletes it), and
  ``removed:<seconds>`` removes it that many seconds after those interfaces. A VPC
  origin created in the VPC meanwhile keeps it; a rule of another group that still names
  it delays the removal until the rule is gone (the group cannot be deleted before).
- Both variables are read when an origin is deleted; a bad value is refused at install.
  The delays are kept per EC2 backend (account and region) and applied when an EC2 or
  CloudFront VPC origin request arrives (``sweep``), so every answer shows the state of
  that moment and no background thread touches moto's backends.
"""
from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass
from typing import Any

from moto.ec2.models import ec2_backends
from moto.ec2.responses import EC2Response

from emulator.moto_ext.ec2_dependencies import group_interfaces, group_referrers

NAME = "cloudfront-vpc-origin-network"
SERVICE_GROUP_NAME = "CloudFront-VPCOrigins-Service-SG"
SERVICE_GROUP_DESCRIPTION = "Managed by CloudFront for its VPC origins"
SERVICE_TAGS = {"aws.cloudfront.vpcorigin": "enabled"}
INTERFACE_DESCRIPTION = "CloudFront VPC Origin {}"
CLEANUP_VARIABLE = "TAP_EMULATOR_VPC_ORIGIN_CLEANUP_SECONDS"
DEFAULT_CLEANUP_SECONDS = 5.0
GROUP_VARIABLE = "TAP_EMULATOR_VPC_ORIGIN_SERVICE_GROUP"
KEPT, REMOVED = "kept", "removed"
_LOCK = threading.RLock()


@dataclass(frozen=True, kw_only=True)
class Departure:
    """What goes from one VPC when it is due: interfaces, or (interfaces empty) the
    service-managed group. ``group_after``: seconds after the interfaces after which the
    group goes if they were the VPC's last (None: the group is kept)."""

    due: float  # time.monotonic()
    vpc_id: str
    interfaces: tuple[str, ...] = ()
    group_after: float | None = None


def _seconds(variable: str, value: str) -> float:
    try:
        seconds = float(value)
    except ValueError:
        seconds = -1.0
    if not seconds >= 0:  # also refuses nan
        raise ValueError(f"{variable}={value!r}: expected a number of seconds >= 0")
    return seconds


def cleanup_seconds() -> float:
    """Seconds between DeleteVpcOrigin and the removal of the origin's interfaces."""
    value = os.environ.get(CLEANUP_VARIABLE, "").strip()
    return _seconds(CLEANUP_VARIABLE, value) if value else DEFAULT_CLEANUP_SECONDS


def group_removal_seconds() -> float | None:
    """Seconds after the VPC's last origin's interfaces after which the group goes (None:
    kept); ValueError for anything but ``kept`` or ``removed:<seconds>``."""
    value = os.environ.get(GROUP_VARIABLE, "").strip()
    if value in ("", KEPT):
        return None
    variant, _, seconds = value.partition(":")
    if variant != REMOVED or not seconds:
        raise ValueError(f"{GROUP_VARIABLE}={value!r}: expected {KEPT!r} or "
                         f"'{REMOVED}:<seconds>'")
    return _seconds(GROUP_VARIABLE, seconds)


def _departures(backend: Any) -> list[Departure]:
    if not hasattr(backend, "tap_vpc_origin_departures"):
        backend.tap_vpc_origin_departures = []
    return backend.tap_vpc_origin_departures  # type: ignore[no-any-return]


def service_group(backend: Any, vpc_id: str) -> Any:
    """The VPC's service-managed group, or None."""
    return backend.get_security_group_by_name_or_id(SERVICE_GROUP_NAME, vpc_id=vpc_id)


def attach(account_id: str, region: str, vpc_id: str, subnet_ids: list[str],
           origin_id: str) -> tuple[str, ...]:
    """Create the group if the VPC has none and one interface per subnet; their ids."""
    backend = ec2_backends[account_id][region]
    with _LOCK:
        sweep(backend)
        group = service_group(backend, vpc_id)
        if group is None:
            group = backend.create_security_group(
                SERVICE_GROUP_NAME, SERVICE_GROUP_DESCRIPTION, vpc_id=vpc_id,
                tags=dict(SERVICE_TAGS))
        interfaces = []
        for subnet_id in subnet_ids:
            eni = backend.create_network_interface(
                backend.get_subnet(subnet_id), None, group_ids=[group.id],
                description=INTERFACE_DESCRIPTION.format(origin_id), tags=dict(SERVICE_TAGS))
            eni.requester_managed = True
            eni.status = "in-use"
            interfaces.append(eni.id)
        return tuple(interfaces)


def depart(account_id: str, region: str, vpc_id: str, interfaces: tuple[str, ...]) -> None:
    """Let the interfaces go after the cleanup delay, the group after them per variant."""
    backend = ec2_backends[account_id][region]
    with _LOCK:
        sweep(backend)
        _departures(backend).append(Departure(
            due=time.monotonic() + cleanup_seconds(), vpc_id=vpc_id, interfaces=interfaces,
            group_after=group_removal_seconds()))


def _apply(backend: Any, departure: Departure) -> Departure | None:
    """Carry out a due departure; returns what is left to do later (or None)."""
    group = service_group(backend, departure.vpc_id)
    if departure.interfaces:
        for eni_id in departure.interfaces:
            backend.enis.pop(eni_id, None)
        if group is None or departure.group_after is None or group_interfaces(backend, group.id):
            return None  # kept, already gone, or another origin's interfaces still use it
        return Departure(due=departure.due + departure.group_after, vpc_id=departure.vpc_id)
    if group is None or group_interfaces(backend, group.id):
        return None  # gone, or a VPC origin made since uses it again
    if group_referrers(backend, group.id):
        return departure  # cannot be deleted while a rule names it: try again later
    backend.delete_security_group(group_id=group.id)
    return None


def sweep(backend: Any) -> None:
    """Carry out the backend's departures that are due (in due order)."""
    with _LOCK:
        pending = _departures(backend)
        moment = time.monotonic()
        waiting: list[Departure] = []  # held by a rule: tried again at the next sweep
        while due := sorted((d for d in pending if d.due <= moment), key=lambda d: d.due):
            for departure in due:
                pending.remove(departure)
                left = _apply(backend, departure)
                if left is departure:
                    waiting.append(left)
                elif left is not None:
                    pending.append(left)
        pending.extend(waiting)


def install() -> str:
    """Check both variables, and sweep an EC2 backend before each EC2 request to it."""
    cleanup_seconds()
    group_removal_seconds()
    call_action = EC2Response.call_action
    if not getattr(call_action, "tap_extended", False):
        def swept_call_action(self: EC2Response) -> Any:
            sweep(self.ec2_backend)
            return call_action(self)
        swept_call_action.tap_extended = True  # type: ignore[attr-defined]
        EC2Response.call_action = swept_call_action  # type: ignore[method-assign]
    return NAME
