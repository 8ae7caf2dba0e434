"""Edge tier: CloudFront in front of the load balancer, protected by a WAFv2 web ACL.

Everything here is created through the aliased ``us-east-1`` provider (``aws.global``):
a ``CLOUDFRONT``-scoped web ACL must live there, CloudFront's metrics, certificates and VPC
origins live there, and keeping the whole tier on one provider keeps it in one place. Only
its reads of the VPC (CloudFront's security group in it, CloudFront's prefix list) use the
stack's own provider: they are where the VPC is.

Creates:
- where the load balancer is internal, its CloudFront VPC origin (protocol and ports of the
  load balancer's origin listener, TLS 1.2), and reads the security group CloudFront creates
  in the VPC for the interfaces of its VPC origins; elsewhere it reads CloudFront's
  origin-facing prefix list. Either is where the load balancer must admit CloudFront from
  (the rule: lib/firewall.py);
- a WAFv2 web ACL (scope ``CLOUDFRONT``, default action allow) with, in priority order,
  the AWS managed groups Amazon IP reputation and Anonymous IP list, a rate-based rule
  per client IP (limit from the profile, per 5 minutes), and the managed groups Common,
  KnownBadInputs (Log4j / Log4Shell included) and SQL injection; every rule has its
  own CloudWatch metric and sampled requests (lib/waf.py);
- WAF logging, with the ``authorization`` and origin-verify headers redacted, into the
  edge log bucket (below), whose name starts with ``aws-waf-logs-`` as WAF requires, and
  whose own policy grants vended log delivery, per environment, with no account-wide
  singleton (lib/waf.py says why not CloudWatch Logs);
- a CloudFront distribution with one custom origin: the load balancer's DNS name, with
  the origin-verify header carrying the application tier's secret (a token), HTTP to
  port 80, or HTTPS-only with TLS 1.2 when the application tier listens on HTTPS. The
  default behaviour is dynamic (``CachingDisabled`` + ``AllViewerExceptHostHeader``,
  all methods); ``/static/*`` is cached (``CachingOptimized``) and compressed. With an
  HTTPS origin both behaviours forward the viewer's Host (managed ``AllViewer``)
  instead, because CloudFront validates the origin certificate against the Host it
  sends and no certificate covers the load balancer's own DNS name: the HTTPS path
  therefore needs ``DOMAIN_NAMES`` covered by ``CERTIFICATE_ARN``. Both
  attach the managed ``SecurityHeadersPolicy`` (HSTS, nosniff, frame options, referrer
  policy). HTTP/2 and HTTP/3, IPv6, price class from the profile; the default
  certificate, or ``EDGE_CERTIFICATE_ARN`` with ``DOMAIN_NAMES`` as aliases, SNI and
  TLSv1.2_2021 as the minimum viewer protocol;
- the edge log bucket (CloudFront standard logs under ``cloudfront/``, WAF logs under
  ``AWSLogs/<account>/WAFLogs/``): ACLs enabled (``BucketOwnerPreferred``) with the
  ``awslogsdelivery`` account granted FULL_CONTROL as CloudFront standard logging
  requires, SSE-KMS with the edge key (its policy lets log delivery generate data keys),
  public access blocked, expiry from the profile, TLS-only policy, and the WAF log
  delivery statements.

On the shared pieces (lib/shared_tenancy.py) the web ACL and the VPC origin are given
(``EdgeProps.web_acl_arn``, ``Origin.vpc_origin_id``): the edge then makes no web ACL, no WAF
logging and no VPC origin, and reads no CloudFront group (the shared stack admits it on the
shared load balancer); the log bucket keeps the distribution's standard logs only.

Anonymous IP list in count mode: the ephemeral (``pr*``) and standard (``dev``,
``stage``...) profiles count instead of block (``waf_anonymous_ip_count_only``). Their
traffic comes largely from CI runners, cloud workstations and VPNs, which the group's
``HostingProviderIPList`` and ``AnonymousIPList`` rules would block, breaking
integration tests; counting still emits the metric and labels, so the effect of
blocking can be measured before production. Production blocks.

``wait_for_deployment`` is true in every profile: the pipeline reads the outputs and
runs the integration tests against the CloudFront domain right after ``deploy``, so
``apply`` must only finish once the distribution (and its web ACL) serve at every edge.
It costs a few minutes per apply; a false value would make the first test requests
race the rollout.

Exposes ``distribution_id``, ``distribution_arn``, ``distribution_domain_name``,
``distribution_hosted_zone_id``, ``web_acl_arn``, ``web_acl_name`` (None: a given one),
``log_bucket_name``, ``viewer_url``, ``viewer_certificate_arn``, ``vpc_origin_id`` (None
without a VPC origin) and ``origin_security_group_id`` / ``origin_prefix_list_id`` (the one
that applies).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

from cdktf import (AssetType, DataResource, Fn, LocalExecProvisioner, TerraformAsset,
                   TerraformProvider, TerraformResource, TerraformResourceLifecycle)
from cdktf_cdktf_provider_aws.cloudfront_distribution import (
    CloudfrontDistribution,
    CloudfrontDistributionDefaultCacheBehavior,
    CloudfrontDistributionLoggingConfig,
    CloudfrontDistributionOrderedCacheBehavior,
    CloudfrontDistributionOrigin,
    CloudfrontDistributionOriginCustomHeader,
    CloudfrontDistributionOriginCustomOriginConfig,
    CloudfrontDistributionOriginVpcOriginConfig,
    CloudfrontDistributionRestrictions,
    CloudfrontDistributionRestrictionsGeoRestriction,
    CloudfrontDistributionViewerCertificate,
)
from cdktf_cdktf_provider_aws.cloudfront_vpc_origin import (
    CloudfrontVpcOrigin,
    CloudfrontVpcOriginTimeouts,
    CloudfrontVpcOriginVpcOriginEndpointConfig,
    CloudfrontVpcOriginVpcOriginEndpointConfigOriginSslProtocols,
)
from cdktf_cdktf_provider_aws.data_aws_canonical_user_id import DataAwsCanonicalUserId
from cdktf_cdktf_provider_aws.data_aws_cloudfront_log_delivery_canonical_user_id import (
    DataAwsCloudfrontLogDeliveryCanonicalUserId,
)
from cdktf_cdktf_provider_aws.data_aws_ec2_managed_prefix_list import DataAwsEc2ManagedPrefixList
from cdktf_cdktf_provider_aws.data_aws_security_groups import (
    DataAwsSecurityGroups,
    DataAwsSecurityGroupsFilter,
)
from cdktf_cdktf_provider_aws.s3_bucket import S3Bucket
from cdktf_cdktf_provider_aws.s3_bucket_acl import (
    S3BucketAcl,
    S3BucketAclAccessControlPolicy,
    S3BucketAclAccessControlPolicyGrant,
    S3BucketAclAccessControlPolicyGrantGrantee,
    S3BucketAclAccessControlPolicyOwner,
)
from constructs import Construct

from lib.config import GLOBAL_REGION, ORIGIN_VERIFY_HEADER
from lib.deploy_scripts import python_command, script
from lib.kms import CustomerKey, KeyProps
from lib.log_bucket import LogBucket, LogBucketProps
from lib.log_bucket import log_bucket as create_log_bucket
from lib.naming import Names
from lib.policies import statement
from lib.viewer_domain import ViewerDomain, ViewerDomainProps
# waf_delivery_statements and REDACTED_HEADERS are also read from here (tests, the docs).
from lib.waf import (REDACTED_HEADERS, make_web_acl, waf_delivery_statements,  # noqa: F401  # pylint: disable=unused-import
                     waf_logging)

# AWS managed CloudFront policies, by their fixed IDs (the same in every account).
CACHING_DISABLED = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"
CACHING_OPTIMIZED = "658327ea-f89d-4fab-a63d-7e88639e58f6"
ALL_VIEWER_EXCEPT_HOST_HEADER = "b689b0a8-53d0-40ab-baf2-68738e2966ac"
ALL_VIEWER = "216adef6-5c7f-47e4-b989-5492eafa07d3"
SECURITY_HEADERS = "67f7725c-6f97-4210-82d7-5512b31e9d03"

ORIGIN_ID = "alb"
STATIC_PATH = "/static/*"
ALL_METHODS = ["DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT"]
READ_METHODS = ["GET", "HEAD", "OPTIONS"]
CACHED_METHODS = ["GET", "HEAD"]
ORIGIN_PROTOCOLS = {"http": "http-only", "https": "https-only"}
ORIGIN_HTTP_PORT = 80
ORIGIN_HTTPS_PORT = 443
CLOUDFRONT_ORIGIN_FACING = "com.amazonaws.global.cloudfront.origin-facing"
# The security group CloudFront creates in a VPC for the interfaces of its VPC origins.
VPC_ORIGINS_SERVICE_GROUP = "CloudFront-VPCOrigins-Service-SG"
LEFTOVERS_RUNNER = script("vpc_origin_leftovers.py")
# Creating or updating a VPC origin deploys it to CloudFront's network: allow for it.
VPC_ORIGIN_TIMEOUTS = {"create": "30m", "update": "30m", "delete": "30m"}
# Origin request policies (default behaviour, /static/*) by origin protocol. Over HTTP the
# load balancer gets its own name as Host. Over HTTPS CloudFront sends the Host header as
# SNI and checks the load balancer's certificate against it; no certificate can name
# *.elb.amazonaws.com, so both behaviours forward the viewer's Host (a DOMAIN_NAMES
# alias, which CERTIFICATE_ARN must cover).
ORIGIN_REQUEST_POLICIES: dict[str, tuple[str, str | None]] = {
    "http": (ALL_VIEWER_EXCEPT_HOST_HEADER, None),
    "https": (ALL_VIEWER, ALL_VIEWER),
}
VIEWER_TLS = "TLSv1.2_2021"
LOG_PREFIX = "cloudfront/"

# Origin timeouts: fail over a dead connection fast (3 x 5 s), wait as long as the
# CloudFront default for a response, and keep idle connections for less time than the
# load balancer's 60 s idle timeout so that CloudFront never reuses one the ALB closed.
ORIGIN_CONNECTION_ATTEMPTS = 3
ORIGIN_CONNECTION_TIMEOUT = 5
ORIGIN_READ_TIMEOUT = 30
ORIGIN_KEEPALIVE_TIMEOUT = 30


@dataclass(frozen=True, kw_only=True)
class Origin:
    """The load balancer as CloudFront's origin."""

    domain_name: str  # the load balancer's DNS name (a token)
    verify_value: str  # the origin-verify secret (a token, never a literal)
    protocol: str = "http"  # "http" (port 80) or "https" (443, TLS 1.2 only)
    # An internal load balancer: reached through a CloudFront VPC origin of this ARN, in this
    # VPC. None: an internet-facing load balancer, reached directly.
    load_balancer_arn: str | None = None
    vpc_id: str | None = None
    subnet_ids: Sequence[str] = ()  # the load balancer's: where CloudFront's interfaces go
    # A VPC origin given (the shared load balancer's): used as it is, none made here.
    vpc_origin_id: str | None = None


@dataclass(frozen=True, kw_only=True)
class EdgeProps:  # pylint: disable=too-many-instance-attributes
    """Inputs of the edge tier."""

    names: Names
    account_id: str  # token of aws_caller_identity
    provider: TerraformProvider  # the aliased us-east-1 provider
    origin: Origin
    price_class: str
    waf_rate_limit: int  # requests per 5 minutes per client IP
    waf_anonymous_ip_count_only: bool
    access_log_expiration_days: int
    force_destroy_logs: bool
    kms_deletion_window_days: int
    domain_names: Sequence[str] = ()  # the viewer's names (aliases)
    hosted_zone_id: str | None = None  # the stack makes the certificate and the records
    edge_certificate_arn: str | None = None  # the viewer certificate, given
    region: str = "us-east-1"  # the stack's (the VPC's)
    own_vpc: bool = True  # the VPC is the environment's own: CloudFront's leftovers go with it
    # The us-east-1 key of the edge log bucket, given (one key per region: the ephemeral
    # profile); None: the edge makes its own.
    logs_key_arn: str | None = None
    # A CLOUDFRONT web ACL given (the shared one): no web ACL and no WAF logging here.
    web_acl_arn: str | None = None
    # What the distribution waits for before it uses a (new) origin: the listener rule that
    # forwards verified requests on the origin's listener.
    origin_ready: Sequence[TerraformResource] = ()

    @property
    def origin_subnet_ids(self) -> Sequence[str]:
        return self.origin.subnet_ids


def make_vpc_origin(scope: Construct, *, names: Names,  # pylint: disable=too-many-arguments
                    provider: TerraformProvider, load_balancer_arn: str, vpc_id: str,
                    protocol: str, depends_on: Sequence[TerraformResource]
                    ) -> tuple[CloudfrontVpcOrigin, str]:
    """The CloudFront VPC origin of an internal load balancer (ids vpc-origin-endpoint,
    vpc-origin, vpc-origins-sg in ``scope``), and the security group CloudFront creates in the
    VPC for its interfaces (the one the load balancer admits): returns both. The environment's
    edge and the shared stack make it.

    A change of protocol or ports is a replacement, made before the old origin goes
    (UpdateVpcOrigin answers CannotUpdateEntityWhileInUse while a distribution uses the
    origin: its API reference; terraform-provider-aws #40905): the endpoint's settings
    are a ``terraform_data`` that the origin is ``replace_triggered_by``."""
    policy = ORIGIN_PROTOCOLS[protocol]
    endpoint = DataResource(scope, "vpc-origin-endpoint", triggers_replace={
        "protocol": policy, "http_port": ORIGIN_HTTP_PORT, "https_port": ORIGIN_HTTPS_PORT})
    vpc_origin = CloudfrontVpcOrigin(
        scope, "vpc-origin", provider=provider,
        lifecycle=TerraformResourceLifecycle(create_before_destroy=True),
        depends_on=list(depends_on) or None,
        vpc_origin_endpoint_config=[CloudfrontVpcOriginVpcOriginEndpointConfig(
            name=names.vpc_origin, arn=load_balancer_arn,
            http_port=ORIGIN_HTTP_PORT, https_port=ORIGIN_HTTPS_PORT,
            origin_protocol_policy=policy,
            origin_ssl_protocols=[CloudfrontVpcOriginVpcOriginEndpointConfigOriginSslProtocols(
                items=["TLSv1.2"], quantity=1)])],
        timeouts=CloudfrontVpcOriginTimeouts(**VPC_ORIGIN_TIMEOUTS))
    # Terraform's JSON syntax wants the bare address here (cdktf would write "${...}").
    vpc_origin.add_override("lifecycle.replace_triggered_by", [
        f"{endpoint.terraform_resource_type}.{endpoint.friendly_unique_id}"])
    # CloudFront creates the group with the VPC's first VPC origin: read after it. The
    # plural data source reads an empty list rather than failing when the group is gone
    # (a destroy run again after CloudFront removed it).
    groups = DataAwsSecurityGroups(
        scope, "vpc-origins-sg", depends_on=[vpc_origin], filter=[
            DataAwsSecurityGroupsFilter(name="group-name", values=[VPC_ORIGINS_SERVICE_GROUP]),
            DataAwsSecurityGroupsFilter(name="vpc-id", values=[vpc_id])])
    return vpc_origin, Fn.element(groups.ids, 0)


def log_delivery_key_statement(account: str) -> dict[str, Any]:
    """The log delivery service's use of the edge log bucket's key (CloudFront standard logs
    and WAF logs): it writes SSE-KMS objects only when it may generate data keys with it."""
    return statement(sid="LogDelivery", principal={"Service": "delivery.logs.amazonaws.com"},
                     actions=["kms:GenerateDataKey*"], resources="*",
                     condition={"StringEquals": {"aws:SourceAccount": account}})


class Edge(Construct):  # pylint: disable=too-many-instance-attributes
    """CloudFront distribution, its WAF web ACL and their logs, all in us-east-1."""

    def __init__(self, scope: Construct, construct_id: str, *, props: EdgeProps) -> None:
        super().__init__(scope, construct_id)
        origin = props.origin
        if origin.protocol not in ORIGIN_PROTOCOLS:
            raise ValueError(f"origin protocol must be one of {sorted(ORIGIN_PROTOCOLS)}, "
                             f"got {origin.protocol!r}")
        self.vpc_origin_id: str | None = origin.vpc_origin_id
        self.origin_security_group_id: str | None = None
        self.origin_prefix_list_id: str | None = None
        # A given VPC origin (the shared load balancer's) is admitted by the shared stack.
        if origin.vpc_origin_id is None and origin.load_balancer_arn is not None:
            self._vpc_origin(props)
        elif origin.vpc_origin_id is None:
            self.origin_prefix_list_id = DataAwsEc2ManagedPrefixList(
                self, "cloudfront-origin-facing", name=CLOUDFRONT_ORIGIN_FACING).id
        web_acl = make_web_acl(self, names=props.names, provider=props.provider,
                               rate_limit=props.waf_rate_limit,
                               anonymous_ip_count_only=props.waf_anonymous_ip_count_only) \
            if props.web_acl_arn is None else None
        self.web_acl_arn: str = web_acl.arn if web_acl else str(props.web_acl_arn)
        self.web_acl_name: str | None = web_acl.name if web_acl else None  # None: not its own
        key_arn = props.logs_key_arn or self._key(props).arn
        logs, log_bucket_acl = self._log_bucket(props, key_arn, waf_logs=web_acl is not None)
        log_bucket = logs.bucket
        self.log_bucket_name: str = log_bucket.bucket
        if web_acl is not None:
            waf_logging(self, web_acl=web_acl, logs=logs, provider=props.provider)
        domain = self._viewer_domain(props)
        self.viewer_certificate_arn: str | None = (
            domain.certificate_arn if domain else props.edge_certificate_arn)
        distribution = self._distribution(props, self.web_acl_arn, log_bucket, log_bucket_acl)
        self.distribution = distribution
        self.distribution_id: str = distribution.id
        self.distribution_arn: str = distribution.arn
        self.distribution_domain_name: str = distribution.domain_name
        self.distribution_hosted_zone_id: str = distribution.hosted_zone_id
        if domain:
            domain.alias_records(distribution.domain_name, distribution.hosted_zone_id)
        viewer_host = props.domain_names[0] if props.domain_names else distribution.domain_name
        self.viewer_url: str = f"https://{viewer_host}/"

    def _vpc_origin(self, props: EdgeProps) -> None:
        """The VPC origin of the internal load balancer (``make_vpc_origin``), after the
        cleanup of CloudFront's leftovers in a VPC of the environment's own."""
        origin = props.origin
        cleanup = self._leftovers_cleanup(props) if props.own_vpc else None
        vpc_origin, self.origin_security_group_id = make_vpc_origin(
            self, names=props.names, provider=props.provider,
            load_balancer_arn=str(origin.load_balancer_arn), vpc_id=origin.vpc_id or "",
            protocol=origin.protocol, depends_on=[cleanup] if cleanup else [])
        self.vpc_origin_id = vpc_origin.id

    def _leftovers_cleanup(self, props: EdgeProps) -> DataResource:
        """What CloudFront leaves in a VPC of the environment's own, removed on destroy.

        Its VPC origins' network interfaces and its service-managed group block DeleteSubnet
        and DeleteVpc (DeleteVpc: "You must ... delete all security groups associated with
        the VPC"; aws-nuke #615), and AWS does not document when, or whether, it removes the
        group. This resource is created after the VPC and its subnets and before the VPC
        origin, so destroy runs its provisioner after the origin is deleted and before the
        subnets and the VPC: tools/vpc_origin_leftovers.py waits for CloudFront's interfaces
        to go, then deletes the group if it is still there (both of AWS's possible
        behaviours). Only in a VPC of the environment's own: in a given network another
        environment's VPC origin may use the group."""
        origin = props.origin
        runner = TerraformAsset(self, "leftovers-runner", path=str(LEFTOVERS_RUNNER),
                                type=AssetType.FILE)
        return DataResource(
            self, "vpc-origin-leftovers",
            input={"vpc_id": origin.vpc_id, "region": props.region,
                   "subnets": Fn.join(",", list(props.origin_subnet_ids))},
            provisioners=[LocalExecProvisioner(
                type="local-exec", when="destroy",
                command=python_command(runner.path),
                environment={"TAP_VPC_ID": "${self.input.vpc_id}",
                             "TAP_REGION": "${self.input.region}"})])

    def _viewer_domain(self, props: EdgeProps) -> ViewerDomain | None:
        """The certificate and records of DOMAIN_NAMES in HOSTED_ZONE_ID, when given."""
        if props.hosted_zone_id is None:
            return None
        return ViewerDomain(self, "viewer-domain",
                            props=ViewerDomainProps(zone_id=props.hosted_zone_id,
                                                    domain_names=tuple(props.domain_names),
                                                    provider=props.provider))

    def _key(self, props: EdgeProps) -> CustomerKey:
        """The us-east-1 key of the edge's log bucket (CloudFront and WAF logs)."""
        return CustomerKey(self, "logs-key", props=KeyProps(
            alias=props.names.edge_key_alias,
            description=f"WAF and CloudFront logs of {props.names.prefix} ({GLOBAL_REGION})",
            account_id=props.account_id,
            deletion_window_days=props.kms_deletion_window_days,
            service_statements=[log_delivery_key_statement(props.account_id)],
            provider=props.provider,
        ))

    def _log_bucket(self, props: EdgeProps, key_arn: str, waf_logs: bool
                    ) -> tuple[LogBucket, S3BucketAcl]:
        """The edge log bucket: CloudFront standard logs through the ACL they need, WAF
        logs (``waf_logs``: the web ACL is the edge's own) through the bucket policy (vended
        log delivery)."""
        names, provider = props.names, props.provider
        logs = create_log_bucket(self, "log-bucket", props=LogBucketProps(
            name_prefix=names.edge_log_bucket_prefix,
            force_destroy=props.force_destroy_logs,
            expiration_days=props.access_log_expiration_days,
            # Standard logging delivers through the bucket ACL (below), which needs ACLs on.
            object_ownership="BucketOwnerPreferred",
            kms_key_arn=key_arn,
            delivery_statements=(lambda arn: waf_delivery_statements(arn, props.account_id))
            if waf_logs else (lambda arn: ()),
            provider=provider))
        owner = DataAwsCanonicalUserId(self, "canonical-user", provider=provider)
        log_delivery = DataAwsCloudfrontLogDeliveryCanonicalUserId(
            self, "log-delivery-user", provider=provider)
        acl = S3BucketAcl(
            self, "log-bucket-acl", bucket=logs.bucket.id,
            access_control_policy=S3BucketAclAccessControlPolicy(
                owner=S3BucketAclAccessControlPolicyOwner(id=owner.id),
                grant=[
                    S3BucketAclAccessControlPolicyGrant(
                        permission="FULL_CONTROL",
                        grantee=S3BucketAclAccessControlPolicyGrantGrantee(
                            type="CanonicalUser", id=grantee))
                    for grantee in (owner.id, log_delivery.id)
                ]),
            depends_on=[logs.ownership],
            provider=provider)
        return logs, acl

    def _distribution(self, props: EdgeProps, web_acl_arn: str, log_bucket: S3Bucket,
                      log_bucket_acl: S3BucketAcl) -> CloudfrontDistribution:
        names, given = props.names, props.origin
        dynamic_requests, static_requests = ORIGIN_REQUEST_POLICIES[given.protocol]
        origin = CloudfrontDistributionOrigin(
            origin_id=ORIGIN_ID,
            domain_name=given.domain_name,
            connection_attempts=ORIGIN_CONNECTION_ATTEMPTS,
            connection_timeout=ORIGIN_CONNECTION_TIMEOUT,
            custom_header=[CloudfrontDistributionOriginCustomHeader(
                name=ORIGIN_VERIFY_HEADER, value=given.verify_value)],
            # Protocol, ports and TLS of a VPC origin are the VPC origin's (above).
            custom_origin_config=None if self.vpc_origin_id else (
                CloudfrontDistributionOriginCustomOriginConfig(
                    http_port=ORIGIN_HTTP_PORT, https_port=ORIGIN_HTTPS_PORT,
                    origin_protocol_policy=ORIGIN_PROTOCOLS[given.protocol],
                    origin_ssl_protocols=["TLSv1.2"],
                    origin_read_timeout=ORIGIN_READ_TIMEOUT,
                    origin_keepalive_timeout=ORIGIN_KEEPALIVE_TIMEOUT)),
            vpc_origin_config=CloudfrontDistributionOriginVpcOriginConfig(
                vpc_origin_id=self.vpc_origin_id, origin_read_timeout=ORIGIN_READ_TIMEOUT,
                origin_keepalive_timeout=ORIGIN_KEEPALIVE_TIMEOUT) if self.vpc_origin_id else None,
        )
        if self.viewer_certificate_arn:
            certificate = CloudfrontDistributionViewerCertificate(
                acm_certificate_arn=self.viewer_certificate_arn, ssl_support_method="sni-only",
                minimum_protocol_version=VIEWER_TLS)
        else:
            certificate = CloudfrontDistributionViewerCertificate(
                cloudfront_default_certificate=True)
        return CloudfrontDistribution(
            self, "distribution",
            enabled=True,
            comment=f"{names.prefix} web",
            aliases=list(props.domain_names) or None,
            origin=[origin],
            default_cache_behavior=CloudfrontDistributionDefaultCacheBehavior(
                target_origin_id=ORIGIN_ID,
                viewer_protocol_policy="redirect-to-https",
                allowed_methods=ALL_METHODS,
                cached_methods=CACHED_METHODS,
                cache_policy_id=CACHING_DISABLED,
                origin_request_policy_id=dynamic_requests,
                response_headers_policy_id=SECURITY_HEADERS),
            ordered_cache_behavior=[CloudfrontDistributionOrderedCacheBehavior(
                path_pattern=STATIC_PATH,
                target_origin_id=ORIGIN_ID,
                viewer_protocol_policy="redirect-to-https",
                allowed_methods=READ_METHODS,
                cached_methods=CACHED_METHODS,
                cache_policy_id=CACHING_OPTIMIZED,
                origin_request_policy_id=static_requests,
                response_headers_policy_id=SECURITY_HEADERS,
                compress=True)],
            http_version="http2and3",
            is_ipv6_enabled=True,
            price_class=props.price_class,
            viewer_certificate=certificate,
            restrictions=CloudfrontDistributionRestrictions(
                geo_restriction=CloudfrontDistributionRestrictionsGeoRestriction(
                    restriction_type="none")),
            web_acl_id=web_acl_arn,
            logging_config=CloudfrontDistributionLoggingConfig(
                bucket=log_bucket.bucket_domain_name, prefix=LOG_PREFIX, include_cookies=False),
            wait_for_deployment=True,
            # CloudFront checks the bucket's ACL when logging is switched on; it may use an
            # origin once the listener rule that forwards on the origin's listener exists
            # (an origin protocol change: the new rule first, then the switch).
            depends_on=[log_bucket_acl, *props.origin_ready],
            provider=props.provider,
        )
