#!/usr/bin/env python
"""Remove what CloudFront's VPC origins leave in a VPC, once they are gone (destroy only).

Run by Terraform, as the destroy-time provisioner of lib/edge.py's ``vpc-origin-leftovers``
(a VPC of the environment's own), after the environment's VPC origin is deleted and before its
subnets and VPC are: ``TAP_VPC_ID`` and ``TAP_REGION`` say where. It

1. waits (``TAP_LEFTOVERS_TIMEOUT_SECONDS``, default 1200) until no network interface of
   CloudFront's VPC origins is left in the VPC (those in ``CloudFront-VPCOrigins-Service-SG``):
   CloudFront deletes them after the VPC origin, on its own schedule;
2. deletes that group if it is still there (AWS keeps it after the last VPC origin, or removes
   it later: it does not document which, and DeleteVpc refuses a VPC that still holds a
   non-default group), tolerating that CloudFront removed it meanwhile.

A group another VPC origin still uses is never touched (its interfaces are there: step 1 waits
and then fails, naming them). Exit 0 when nothing of CloudFront's is left; 1 with one line
otherwise (the destroy stops before the subnets; run it again). Standalone (standard library
and boto3): Terraform copies it beside the stack as an asset.
"""
from __future__ import annotations

import os
import sys
import time
from typing import Any, Callable

import boto3

GROUP_NAME = "CloudFront-VPCOrigins-Service-SG"
DEFAULT_TIMEOUT_SECONDS = 1200
POLL_SECONDS = 5.0


def leftovers(ec2: Any, vpc_id: str) -> tuple[str | None, list[str]]:
    """CloudFront's group in the VPC (or None) and the network interfaces in it."""
    groups = ec2.describe_security_groups(Filters=[
        {"Name": "vpc-id", "Values": [vpc_id]},
        {"Name": "group-name", "Values": [GROUP_NAME]}])["SecurityGroups"]
    if not groups:
        return None, []
    group = groups[0]["GroupId"]
    interfaces = ec2.describe_network_interfaces(Filters=[
        {"Name": "group-id", "Values": [group]}])["NetworkInterfaces"]
    return group, [interface["NetworkInterfaceId"] for interface in interfaces]


def clean(ec2: Any, vpc_id: str, timeout_seconds: float,
          clock: Callable[[], float] = time.monotonic,
          sleep: Callable[[float], None] = time.sleep,
          out: Callable[[str], None] = print) -> int:
    """Wait for CloudFront's interfaces to go, then delete its group; the exit code."""
    deadline = clock() + timeout_seconds
    while True:
        group, interfaces = leftovers(ec2, vpc_id)
        if group is None:
            out(f"vpc-origin-leftovers: nothing of CloudFront's left in {vpc_id}")
            return 0
        if not interfaces:
            break
        if clock() > deadline:
            out(f"vpc-origin-leftovers: CloudFront's interfaces {', '.join(interfaces)} are "
                f"still in {vpc_id} after {timeout_seconds:.0f} s (another VPC origin in this "
                "VPC, or CloudFront is slow): run the destroy again later")
            return 1
        sleep(POLL_SECONDS)
    try:
        ec2.delete_security_group(GroupId=group)
    except ec2.exceptions.ClientError as error:
        code = error.response.get("Error", {}).get("Code", "")
        if code == "InvalidGroup.NotFound":  # CloudFront removed it meanwhile
            out(f"vpc-origin-leftovers: {GROUP_NAME} {group} was removed by CloudFront")
            return 0
        out(f"vpc-origin-leftovers: cannot delete {GROUP_NAME} {group}: {code}: "
            f"{error.response.get('Error', {}).get('Message', '')}")
        return 1
    out(f"vpc-origin-leftovers: deleted {GROUP_NAME} {group} of {vpc_id}")
    return 0


def main() -> int:
    """From TAP_VPC_ID and TAP_REGION; 2 when they are missing."""
    vpc_id, region = os.environ.get("TAP_VPC_ID", ""), os.environ.get("TAP_REGION", "")
    if not vpc_id or not region:
        print("vpc_origin_leftovers.py: TAP_VPC_ID and TAP_REGION must be set", file=sys.stderr)
        return 2
    timeout = float(os.environ.get("TAP_LEFTOVERS_TIMEOUT_SECONDS") or DEFAULT_TIMEOUT_SECONDS)
    return clean(boto3.client("ec2", region_name=region), vpc_id, timeout,
                 out=lambda line: print(line, flush=True))


if __name__ == "__main__":
    sys.exit(main())
