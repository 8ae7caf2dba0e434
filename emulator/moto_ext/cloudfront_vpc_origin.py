"""CloudFront VPC origins for moto: CreateVpcOrigin, GetVpcOrigin, UpdateVpcOrigin,
DeleteVpcOrigin and ListVpcOrigins (moto 5.2.5 has none of them), and ``VpcOriginConfig``
kept on a distribution's origins (moto drops it, so every plan after the first would
change the distribution).

What AWS documents, and what is modelled here:

- API (REST-XML on ``/2020-05-31/vpc-origin[/<Id>]``; create, update and delete answer
  202 with an ``ETag`` header; update and delete need ``If-Match``, a stale one is
  ``PreconditionFailed`` (412), a missing one ``InvalidIfMatchVersion``; an unknown id is
  ``EntityNotFound`` (404); deleting one a distribution still uses is
  ``CannotDeleteEntityWhileInUse`` (409), and UpdateVpcOrigin lists
  ``CannotUpdateEntityWhileInUse`` (409, "The entity cannot be updated while it is in
  use"), which AWS answers for an origin a distribution uses (pitfall 30: ports or
  protocol change by replacing the origin); here both are checked after If-Match):
  https://docs.aws.amazon.com/cloudfront/latest/APIReference/API_CreateVpcOrigin.html,
  https://docs.aws.amazon.com/cloudfront/latest/APIReference/API_UpdateVpcOrigin.html,
  https://docs.aws.amazon.com/cloudfront/latest/APIReference/API_DeleteVpcOrigin.html,
  https://docs.aws.amazon.com/cloudfront/latest/APIReference/API_VpcOrigin.html.
  The ARN is ``arn:aws:cloudfront::<account>:vpcorigin/<id>``; tags given at create are
  readable through CloudFront's tagging API (ListTagsForResource on that ARN, which
  ``aws_cloudfront_vpc_origin`` calls for ``tags_all``) and go with the origin.
- Status: the console guide says to wait for ``Deployed``, "up to 15 minutes"; the
  provider (internal/service/cloudfront/vpc_origin.go) waits from ``Deploying`` to
  ``Deployed`` after create and update (15 min default timeouts) and, after delete, until
  GetVpcOrigin says ``EntityNotFound``. Here create and update answer ``Deploying`` and
  the next Get ``Deployed``; delete removes the origin at once.
- Developer guide, "Restrict access with VPC origins"
  (https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/private-content-vpc-origins.html):
  the origin is an Application Load Balancer, a Network Load Balancer or an EC2 instance
  in a private subnet, in Active state; Gateway Load Balancers, dual-stack NLBs and NLBs
  with TLS listeners cannot be origins, and an NLB needs a security group. The VPC must
  have an internet gateway ("required to denote that the VPC can receive traffic from the
  internet"; it does not route the origin traffic) and a free IPv4 address in the private
  subnet for the ENI CloudFront creates (IPv6-only subnets are not supported). The VPC
  must be in a supported Region (``SUPPORTED_REGIONS``); us-east-1 except AZ use1-az3,
  us-west-1 except usw1-az2, ap-northeast-1 except apne1-az3 and ca-central-1 except
  cac1-az3. Each of those documented refusals is an ``InvalidArgument`` here (the guide
  names the conditions, not the error code). It names no refusal of an internet-facing
  load balancer, so none is made; the AZ exceptions say where CloudFront does not reach,
  not how create fails, so they are not checked either.
- Security group and network interfaces: creating a VPC origin makes CloudFront create a
  service-managed group named ``CloudFront-VPCOrigins-Service-SG`` in the VPC and network
  interfaces in the origin's subnets. The origin's own security group admits CloudFront
  either from the CloudFront origin-facing managed prefix list (possible before the VPC
  origin exists) or from that service-managed group (only after; stricter: only your
  distributions). cloudfront_vpc_origin_network.py makes them, and lets them go after a
  delete, in the two variants AWS might have for the group.
- Distribution origins: ``VpcOriginConfig`` with ``VpcOriginId``, ``OriginReadTimeout``
  (1-120 s, default 30) and ``OriginKeepaliveTimeout`` (1-120 s, default 5); a timeout
  out of range is ``InvalidArgument``; ``OwnerAccountId`` is returned only when given
  (https://docs.aws.amazon.com/cloudfront/latest/APIReference/API_VpcOriginConfig.html).
"""
from __future__ import annotations

# The handlers below become methods of moto's response class: they read the request
# with moto's own helper (_get_param), as moto's handlers do.
# pylint: disable=protected-access

from typing import Any

from moto.cloudfront import urls
from moto.cloudfront.exceptions import CloudFrontException
from moto.cloudfront.models import CloudFrontBackend, Origin, random_id
from moto.cloudfront.responses import CloudFrontResponse
from moto.core.responses import ActionResult
from moto.core.utils import utcnow
from moto.ec2.models import ec2_backends
from moto.elbv2.models import elbv2_backends

from emulator.moto_ext import cloudfront_vpc_origin_network as network

NAME = "cloudfront-vpc-origin"
SUPPORTED_REGIONS = frozenset((
    "us-east-2", "us-east-1", "us-west-1", "us-west-2", "af-south-1", "ap-east-1",
    "ap-south-1", "ap-south-2", "ap-southeast-3", "ap-southeast-4", "ap-northeast-3",
    "ap-southeast-1", "ap-southeast-2", "ap-northeast-1", "ap-northeast-2", "ap-southeast-7",
    "ap-southeast-5", "ap-east-2", "ca-central-1", "ca-west-1", "eu-central-1", "eu-west-1",
    "eu-west-2", "eu-south-1", "eu-west-3", "eu-south-2", "eu-north-1", "eu-central-2",
    "il-central-1", "me-south-1", "me-central-1", "sa-east-1", "mx-central-1"))
DEPLOYING, DEPLOYED = "Deploying", "Deployed"
ORIGIN_DEFAULTS = {"OriginReadTimeout": 30, "OriginKeepaliveTimeout": 5}
TIMEOUT_RANGE = range(1, 121)
PATHS = {
    "{0}/2020-05-31/vpc-origin$": CloudFrontResponse.dispatch,
    "{0}/2020-05-31/vpc-origin/(?P<vpc_origin_id>[^/]+)$": CloudFrontResponse.dispatch,
}


def _error(code: str, message: str) -> CloudFrontException:
    return CloudFrontException(code, message)


def vpc_origins(backend: CloudFrontBackend) -> dict[str, dict[str, Any]]:
    """The VPC origins of one account, by id (with their ``ETag`` under ``_etag``)."""
    if not hasattr(backend, "vpc_origins"):
        backend.vpc_origins = {}  # type: ignore[attr-defined]
    return backend.vpc_origins  # type: ignore[attr-defined,no-any-return]


def _endpoint_network(account_id: str, arn: str) -> tuple[str, list[str]]:
    """The VPC and the subnets of the origin resource; InvalidArgument when AWS would
    refuse it."""
    parts = arn.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn":
        raise _error("InvalidArgument", f"The origin ARN {arn} is not valid.")
    service, region, resource = parts[2], parts[3], parts[5]
    if region not in SUPPORTED_REGIONS:
        raise _error("InvalidArgument", f"VPC origins are not supported in {region}.")
    if service == "elasticloadbalancing" and resource.startswith("loadbalancer/"):
        balancer = _load_balancer(elbv2_backends[account_id][region], arn)
        vpc_id, subnets = str(balancer.vpc_id), [subnet.id for subnet in balancer.subnets]
    elif service == "ec2" and resource.startswith("instance/"):
        instance = ec2_backends[account_id][region].get_instance(resource.split("/", 1)[1])
        vpc_id, subnets = str(instance.vpc_id), [str(instance.subnet_id)]
    else:
        raise _error("InvalidArgument",
                     f"{arn} is not an Application Load Balancer, a Network Load Balancer "
                     "or an EC2 instance.")
    ec2 = ec2_backends[account_id][region]
    if not any(gateway.vpc is not None and gateway.vpc.id == vpc_id
               for gateway in ec2.describe_internet_gateways()):
        raise _error("InvalidArgument",
                     f"The VPC {vpc_id} of the origin has no internet gateway attached.")
    return vpc_id, subnets


def _load_balancer(elbv2: Any, arn: str) -> Any:
    balancer = elbv2.load_balancers.get(arn)
    if balancer is None:
        raise _error("InvalidArgument", f"The load balancer {arn} does not exist.")
    if balancer.type == "gateway":
        raise _error("InvalidArgument", "Gateway Load Balancers cannot be VPC origins.")
    if balancer.type == "network":
        if not balancer.security_groups:
            raise _error("InvalidArgument",
                         "A Network Load Balancer needs a security group to be a VPC origin.")
        if balancer.ip_address_type != "ipv4":
            raise _error("InvalidArgument", "Dual-stack Network Load Balancers cannot be VPC "
                                            "origins.")
        if any(listener.protocol == "TLS" for listener in balancer.listeners.values()):
            raise _error("InvalidArgument",
                         "Network Load Balancers with TLS listeners cannot be VPC origins.")
    if balancer.state != "active":
        raise _error("InvalidArgument", f"The load balancer {arn} is not Active.")
    return balancer


def _attach(account_id: str, origin_id: str, arn: str) -> dict[str, Any]:
    """CloudFront's group and interfaces for the endpoint, as the origin keeps them."""
    vpc_id, subnets = _endpoint_network(account_id, arn)
    region = arn.split(":")[3]
    return {"region": region, "vpc_id": vpc_id, "arn": arn,
            "interfaces": network.attach(account_id, region, vpc_id, subnets, origin_id)}


def _detach(account_id: str, attachment: dict[str, Any]) -> None:
    network.depart(account_id, attachment["region"], attachment["vpc_id"],
                   attachment["interfaces"])


def _endpoint_config(config: dict[str, Any]) -> dict[str, Any]:
    stored = {key: config.get(key) for key in ("Name", "Arn", "HTTPPort", "HTTPSPort",
                                               "OriginProtocolPolicy")}
    protocols = (config.get("OriginSslProtocols") or {}).get("Items") or []
    if config.get("OriginSslProtocols") is not None:
        stored["OriginSslProtocols"] = {"Quantity": len(protocols), "Items": list(protocols)}
    return stored


def create_vpc_origin(backend: CloudFrontBackend, config: dict[str, Any],
                      tags: list[dict[str, str]]) -> dict[str, Any]:
    """Store a new VPC origin with CloudFront's interfaces in its VPC; returns it with
    status ``Deploying``."""
    origin_id = random_id()
    attachment = _attach(backend.account_id, origin_id, config["Arn"])
    now = utcnow()
    origin: dict[str, Any] = {
        "Id": origin_id, "Arn": f"arn:aws:cloudfront::{backend.account_id}:vpcorigin/{origin_id}",
        "AccountId": backend.account_id, "Status": DEPLOYED, "CreatedTime": now,
        "LastModifiedTime": now, "VpcOriginEndpointConfig": _endpoint_config(config),
        "_etag": random_id(), "_attachment": attachment}
    vpc_origins(backend)[origin_id] = origin
    if tags:
        backend.tagger.tag_resource(origin["Arn"], tags)
    return dict(origin, Status=DEPLOYING)


def get_vpc_origin(backend: CloudFrontBackend, origin_id: str) -> dict[str, Any]:
    """The stored VPC origin; EntityNotFound when there is none."""
    origin = vpc_origins(backend).get(origin_id)
    if origin is None:
        raise _error("EntityNotFound", f"The VPC origin {origin_id} was not found.")
    return origin


def _check_etag(origin: dict[str, Any], if_match: str | None) -> None:
    if not if_match:
        raise _error("InvalidIfMatchVersion",
                     "The If-Match version is missing or not valid for the resource.")
    if if_match != origin["_etag"]:
        raise _error("PreconditionFailed",
                     "The If-Match version does not match the current version.")


def _users(backend: CloudFrontBackend, origin_id: str) -> list[str]:
    return [distribution.distribution_id for distribution in backend.distributions.values()
            for origin in distribution.distribution_config.Origins["Items"]
            if (getattr(origin, "vpc_origin_config", None) or {}).get("VpcOriginId")
            == origin_id]


def update_vpc_origin(backend: CloudFrontBackend, origin_id: str, if_match: str | None,
                      config: dict[str, Any]) -> dict[str, Any]:
    """Replace the endpoint configuration, unless a distribution uses the origin (another
    endpoint gets new interfaces, the old ones go); returns the origin with status
    ``Deploying``."""
    origin = get_vpc_origin(backend, origin_id)
    _check_etag(origin, if_match)
    users = _users(backend, origin_id)
    if users:
        raise _error("CannotUpdateEntityWhileInUse",
                     f"The VPC origin {origin_id} is in use by distribution {users[0]}.")
    old = origin["_attachment"]
    if config["Arn"] == old["arn"]:
        _endpoint_network(backend.account_id, config["Arn"])
    else:
        origin["_attachment"] = _attach(backend.account_id, origin_id, config["Arn"])
        _detach(backend.account_id, old)
    origin.update(VpcOriginEndpointConfig=_endpoint_config(config), LastModifiedTime=utcnow(),
                  _etag=random_id())
    return dict(origin, Status=DEPLOYING)


def delete_vpc_origin(backend: CloudFrontBackend, origin_id: str, if_match: str | None
                      ) -> dict[str, Any]:
    """Remove the origin and its tags, unless a distribution still uses it; CloudFront's
    interfaces go later."""
    origin = get_vpc_origin(backend, origin_id)
    _check_etag(origin, if_match)
    users = _users(backend, origin_id)
    if users:
        raise _error("CannotDeleteEntityWhileInUse",
                     f"The VPC origin {origin_id} is in use by distribution {users[0]}.")
    del vpc_origins(backend)[origin_id]
    backend.tagger.delete_all_tags_for_resource(origin["Arn"])
    _detach(backend.account_id, origin["_attachment"])
    return origin


def _summary(origin: dict[str, Any]) -> dict[str, Any]:
    endpoint = origin["VpcOriginEndpointConfig"]
    return {key: origin[key] for key in ("Id", "Arn", "AccountId", "Status", "CreatedTime",
                                         "LastModifiedTime")} | {
        "Name": endpoint["Name"], "OriginEndpointArn": endpoint["Arn"]}


# -- the response handlers moto dispatches to (one per action) --------------------------

def _answer(origin: dict[str, Any], **extra: Any) -> ActionResult:
    public = {key: value for key, value in origin.items() if not key.startswith("_")}
    return ActionResult({"VpcOrigin": public, "ETag": origin["_etag"], **extra})


def _create(self: CloudFrontResponse) -> ActionResult:
    origin = create_vpc_origin(self.backend, self._get_param("VpcOriginEndpointConfig"),
                               self._get_param("Tags.Items", []) or [])
    return _answer(origin, Location=f"https://cloudfront.amazonaws.com/2020-05-31/vpc-origin/"
                                    f"{origin['Id']}")


def _get(self: CloudFrontResponse) -> ActionResult:
    return _answer(get_vpc_origin(self.backend, self._get_param("Id")))


def _update(self: CloudFrontResponse) -> ActionResult:
    return _answer(update_vpc_origin(self.backend, self._get_param("Id"),
                                     self._get_param("IfMatch"),
                                     self._get_param("VpcOriginEndpointConfig")))


def _delete(self: CloudFrontResponse) -> ActionResult:
    return _answer(delete_vpc_origin(self.backend, self._get_param("Id"),
                                     self._get_param("IfMatch")))


def _list(self: CloudFrontResponse) -> ActionResult:
    items = [_summary(origin) for origin in vpc_origins(self.backend).values()]
    return ActionResult({"VpcOriginList": {
        "Marker": self._get_param("Marker") or "", "MaxItems": int(self._get_param("MaxItems")
                                                                   or 100),
        "IsTruncated": False, "Quantity": len(items), "Items": items or None}})


def _vpc_origin_config(given: dict[str, Any]) -> dict[str, Any]:
    config = ORIGIN_DEFAULTS | {key: value for key, value in given.items() if value is not None}
    for timeout in ORIGIN_DEFAULTS:
        if int(config[timeout]) not in TIMEOUT_RANGE:
            raise _error("InvalidArgument", f"{timeout} must be between 1 and 120 seconds.")
    return config


def install() -> str:
    """Route the paths, register the five actions and keep VpcOriginConfig on origins."""
    urls.url_paths.update(PATHS)
    CloudFrontResponse.create_vpc_origin = _create  # type: ignore[attr-defined]
    CloudFrontResponse.get_vpc_origin = _get  # type: ignore[attr-defined]
    CloudFrontResponse.update_vpc_origin = _update  # type: ignore[attr-defined]
    CloudFrontResponse.delete_vpc_origin = _delete  # type: ignore[attr-defined]
    CloudFrontResponse.list_vpc_origins = _list  # type: ignore[attr-defined]
    origin_init = Origin.__init__
    if not getattr(origin_init, "tap_extended", False):
        def __init__(self: Origin, origin: dict[str, Any]) -> None:
            origin_init(self, origin)
            if origin.get("VpcOriginConfig"):
                self.vpc_origin_config = _vpc_origin_config(  # type: ignore[attr-defined]
                    origin["VpcOriginConfig"])
        __init__.tap_extended = True  # type: ignore[attr-defined]
        Origin.__init__ = __init__  # type: ignore[method-assign]
    return NAME
