"""The ARNs of the shared pieces a pull-request environment may be given, read and checked.

``SHAPES`` holds, per variable (``SHARED_WEB_ACL_ARN``...), what the ARN must be: its service,
where its Region must be (``us-east-1``, the stack's ``AWS_REGION``, or none: CloudFront is
global), the resource part's pattern and the sentence that says so. ``read_arn(variable, value,
region)`` returns the ARN's parts (``Arn``) or, when the value is not such an ARN, the reason as
one sentence naming what is wrong (malformed, another service, another Region, another kind of
resource); ``lib.config`` turns it into the one-line error. Formats, per the ARN reference of each
service in the Service Authorization Reference:

- WAFv2 web ACL: ``arn:aws:wafv2:<region>:<account>:global/webacl/<name>/<id>`` for scope
  CLOUDFRONT (``regional/webacl/...`` is a REGIONAL web ACL, which cannot protect a
  distribution); a CLOUDFRONT web ACL is created in us-east-1;
- ELB listener: ``arn:aws:elasticloadbalancing:<region>:<account>:listener/app/<load balancer
  name>/<load balancer id>/<listener id>``;
- CloudFront VPC origin: ``arn:aws:cloudfront::<account>:vpcorigin/<id>``;
- Aurora DB cluster: ``arn:aws:rds:<region>:<account>:cluster:<identifier>``;
- ElastiCache serverless cache: ``arn:aws:elasticache:<region>:<account>:serverlesscache:<name>``.

Nothing here imports jsii.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from lib.regions import GLOBAL_REGION

STACK_REGION = "AWS_REGION"  # a shape whose Region must be the stack's
NO_REGION = ""  # a shape of a global service (CloudFront): the Region field is empty
_ARN = re.compile(r"^arn:aws:(?P<service>[a-z0-9-]+):(?P<region>[a-z0-9-]*):(?P<account>\d{12}):"
                  r"(?P<resource>.+)$")


@dataclass(frozen=True)
class Shape:
    """What the ARN of one shared piece must be."""

    service: str
    region: str  # GLOBAL_REGION, STACK_REGION or NO_REGION
    resource: re.Pattern[str]  # the part after the account, with named groups
    what: str  # the sentence that describes it, with its format


@dataclass(frozen=True)
class Arn:
    """A checked ARN: its account, Region and the named parts of its resource."""

    value: str
    account: str
    region: str
    parts: dict[str, str]


SHAPES: dict[str, Shape] = {
    "SHARED_WEB_ACL_ARN": Shape(
        "wafv2", GLOBAL_REGION,
        re.compile(r"^global/webacl/(?P<name>[\w-]{1,128})/(?P<id>[0-9a-f-]{36})$"),
        "a WAFv2 web ACL of scope CLOUDFRONT "
        "(arn:aws:wafv2:us-east-1:<account>:global/webacl/<name>/<id>)"),
    "SHARED_LISTENER_ARN": Shape(
        "elasticloadbalancing", STACK_REGION,
        re.compile(r"^listener/app/(?P<load_balancer>[A-Za-z0-9-]{1,32})/(?P<load_balancer_id>"
                   r"[0-9a-f]{16})/(?P<id>[0-9a-f]{16})$"),
        "a listener of an Application Load Balancer (arn:aws:elasticloadbalancing:<region>:"
        "<account>:listener/app/<name>/<id>/<id>)"),
    "SHARED_VPC_ORIGIN_ARN": Shape(
        "cloudfront", NO_REGION, re.compile(r"^vpcorigin/(?P<id>[A-Za-z0-9_-]{1,64})$"),
        "a CloudFront VPC origin (arn:aws:cloudfront::<account>:vpcorigin/<id>)"),
    "SHARED_DB_CLUSTER_ARN": Shape(
        "rds", STACK_REGION, re.compile(r"^cluster:(?P<id>[a-z](?!.*--)[a-z0-9-]{0,62}(?<!-))$"),
        "an Aurora DB cluster (arn:aws:rds:<region>:<account>:cluster:<identifier>)"),
    "SHARED_CACHE_ARN": Shape(
        "elasticache", STACK_REGION,
        re.compile(r"^serverlesscache:(?P<name>[a-z](?!.*--)[a-z0-9-]{0,39}(?<!-))$"),
        "an ElastiCache serverless cache "
        "(arn:aws:elasticache:<region>:<account>:serverlesscache:<name>)"),
}


def read_arn(variable: str, value: str, region: str) -> Arn | str:
    """The parts of ``value`` as the shape of ``variable`` wants them, or why it is not one.

    ``region`` is the stack's (AWS_REGION)."""
    shape = SHAPES[variable]
    match = _ARN.match(value)
    if match is None:
        return f"{shape.what}; this is no ARN"
    if match["service"] != shape.service:
        return f"{shape.what}; this is an ARN of {match['service']}"
    wanted = {STACK_REGION: region, NO_REGION: ""}.get(shape.region, shape.region)
    if match["region"] != wanted:
        where = f"in AWS_REGION {region}" if shape.region == STACK_REGION else \
            f"in {wanted}" if wanted else "with no Region (CloudFront is global)"
        return f"{shape.what} {where}; this one is in {match['region'] or 'no Region'}"
    resource = shape.resource.match(match["resource"])
    if resource is None:
        return f"{shape.what}; {match['resource']!r} is not that kind of resource"
    return Arn(value=value, account=match["account"], region=match["region"],
               parts=resource.groupdict())
