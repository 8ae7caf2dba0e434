"""The load balancer: what CloudFront's origin is, and the one way in to the service.

Creates
- an Application Load Balancer: internal in the private subnets where CloudFront reaches it
  through a VPC origin (lib/edge.py), internet-facing in the public subnets elsewhere;
  invalid header fields dropped, deletion protection as given, access logs;
- its log bucket: SSE-S3 (the only encryption ALB log delivery supports), public access
  blocked, bucket owner enforced, TLS-only bucket policy that lets the region's
  load-balancer log delivery write under ``alb/AWSLogs/<account>/``, expiry as given,
  emptied on destroy only when asked;
- the origin-verify secret: Secrets Manager generates the value at apply
  (``aws_secretsmanager_random_password``) and the secret version ignores later changes,
  so the value is never in code and stays stable across plans;
- listeners: HTTP :80 answering a fixed 403 unless the request carries the origin-verify
  header CloudFront adds; with a certificate an HTTPS :443 listener does that instead (TLS
  1.2+ policy) and :80 only redirects to it, once the distribution has moved to HTTPS
  (``redirect_after``);
- the service's target group (IP targets, health check on the liveness path) and the one
  listener rule that forwards verified requests to it.

The origin-verify secret, the target group and the forwarding rule are module functions
(``origin_verify_secret``, ``target_group``, ``forwarding_rule``): an environment on the shared
load balancer (lib/shared_tenancy.py) makes the same three on the shared listener.

Its security group's rules are in lib/firewall.py. Exposes ``arn``, ``arn_suffix``,
``dns_name``, ``target_group_arn``, ``target_group_arn_suffix``, ``forwarding_rule`` (for
the service's ``depends_on``), ``origin_verify_secret_arn``, ``origin_verify_value``
(token of the secret version's value), ``origin_protocol``, ``origin_port`` and
``log_bucket_name``.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

from cdktf import TerraformResource, TerraformResourceLifecycle
from cdktf_cdktf_provider_aws.data_aws_elb_service_account import DataAwsElbServiceAccount
from cdktf_cdktf_provider_aws.data_aws_secretsmanager_random_password import (
    DataAwsSecretsmanagerRandomPassword,
)
from cdktf_cdktf_provider_aws.lb import Lb, LbAccessLogs
from cdktf_cdktf_provider_aws.lb_listener import (
    LbListener,
    LbListenerDefaultAction,
    LbListenerDefaultActionFixedResponse,
    LbListenerDefaultActionRedirect,
)
from cdktf_cdktf_provider_aws.lb_listener_rule import (
    LbListenerRule,
    LbListenerRuleAction,
    LbListenerRuleCondition,
    LbListenerRuleConditionHttpHeader,
)
from cdktf_cdktf_provider_aws.lb_target_group import LbTargetGroup, LbTargetGroupHealthCheck
from cdktf_cdktf_provider_aws.secretsmanager_secret import SecretsmanagerSecret
from cdktf_cdktf_provider_aws.secretsmanager_secret_version import SecretsmanagerSecretVersion
from constructs import Construct

from lib.config import ORIGIN_VERIFY_HEADER
from lib.log_bucket import LogBucketProps, log_bucket
from lib.naming import Names
from lib.policies import statement
from lib.regions import ELB_ACCOUNT_REGIONS

HTTP_PORT = 80
HTTPS_PORT = 443
# TLS 1.3 and 1.2 only, forward-secret ciphers: AWS's recommended current policy.
TLS_POLICY = "ELBSecurityPolicy-TLS13-1-2-2021-06"
ACCESS_LOG_PREFIX = "alb"
# Below nginx's 75 s keep-alive, so the load balancer (not the target) closes idle
# connections and never forwards onto a socket the target is closing (502s); above
# CloudFront's 30 s origin read timeout, so slow responses are not cut first here.
IDLE_TIMEOUT_SECONDS = 60
# A new task serves after 2 x 15 s; a target is dropped after 3 x 15 s of failures, which
# rides out one slow response without keeping a dead task for long.
HEALTH_CHECK = {"interval": 15, "timeout": 5, "healthy_threshold": 2, "unhealthy_threshold": 3}
# 64 letters and digits: no ALB header-condition wildcards (* ?), safe in any header.
ORIGIN_VERIFY_LENGTH = 64
OWN_RULE_PRIORITY = 10  # the one rule on a listener of the environment's own

LOG_DELIVERY_PRINCIPAL = "logdelivery.elasticloadbalancing.amazonaws.com"


@dataclass(frozen=True, kw_only=True)
class LoadBalancerProps:  # pylint: disable=too-many-instance-attributes
    """Inputs of the load balancer."""

    names: Names
    account_id: str  # token of aws_caller_identity
    region: str
    vpc_id: str
    subnet_ids: Sequence[str]  # private (internal) or public (internet-facing)
    security_group_id: str  # the load balancer's (lib/network.py)
    internal: bool  # behind a CloudFront VPC origin
    certificate_arn: str | None  # regional ACM certificate: HTTPS :443, :80 redirects
    target_port: int  # the container's port
    health_check_path: str  # liveness: no dependency
    deletion_protection: bool
    deregistration_delay_seconds: int
    access_log_expiration_days: int
    force_destroy_logs: bool  # destroy empties the log bucket
    secret_recovery_window_days: int  # the origin-verify secret
    # Customer key of the origin-verify secret; None: the account's aws/secretsmanager key.
    secret_key_arn: str | None = None


class LoadBalancer(Construct):  # pylint: disable=too-many-instance-attributes
    """The load balancer, its listeners, the service's target group and the verify rule."""

    def __init__(self, scope: Construct, construct_id: str, *, props: LoadBalancerProps
                 ) -> None:
        super().__init__(scope, construct_id)
        self._props = props
        https = props.certificate_arn is not None
        self.origin_protocol = "https" if https else "http"
        self.origin_port = HTTPS_PORT if https else HTTP_PORT
        secret, version = origin_verify_secret(
            self, names=props.names, recovery_window_days=props.secret_recovery_window_days,
            key_arn=props.secret_key_arn)
        self.origin_verify_secret_arn: str = secret.arn
        self.origin_verify_value: str = version.secret_string
        alb, self.log_bucket_name = make_load_balancer(
            self, names=props.names, region=props.region, account_id=props.account_id,
            subnet_ids=props.subnet_ids, security_group_id=props.security_group_id,
            internal=props.internal, deletion_protection=props.deletion_protection,
            access_log_expiration_days=props.access_log_expiration_days,
            force_destroy_logs=props.force_destroy_logs)
        self.arn: str = alb.arn
        self.arn_suffix: str = alb.arn_suffix
        self.dns_name: str = alb.dns_name
        target_group = make_target_group(
            self, names=props.names, vpc_id=props.vpc_id, port=props.target_port,
            health_check_path=props.health_check_path,
            deregistration_delay_seconds=props.deregistration_delay_seconds)
        self.target_group_arn: str = target_group.arn
        self.target_group_arn_suffix: str = target_group.arn_suffix
        self.forwarding_rule: LbListenerRule = self._listeners(https)

    def redirect_after(self, resource: TerraformResource) -> None:
        """With HTTPS, port 80 turns to a redirect only after ``resource`` (the distribution)
        has changed: until then CloudFront may still send HTTP there (an origin protocol
        change from HTTP to HTTPS)."""
        if self._redirect is not None:
            self._redirect.add_override("depends_on", [
                f"{resource.terraform_resource_type}.{resource.friendly_unique_id}"])

    def _listeners(self, https: bool) -> LbListenerRule:
        """The listeners and the one rule that forwards verified requests; returns the rule."""
        forbidden = LbListenerDefaultAction(
            type="fixed-response",
            fixed_response=LbListenerDefaultActionFixedResponse(
                content_type="text/plain", message_body="Forbidden", status_code="403"))
        self._redirect: LbListener | None = None
        if https:
            origin = LbListener(
                self, "https", load_balancer_arn=self.arn, port=HTTPS_PORT, protocol="HTTPS",
                ssl_policy=TLS_POLICY, certificate_arn=self._props.certificate_arn,
                default_action=[forbidden])
            self._redirect = LbListener(
                self, "http", load_balancer_arn=self.arn, port=HTTP_PORT, protocol="HTTP",
                default_action=[LbListenerDefaultAction(
                    type="redirect",
                    redirect=LbListenerDefaultActionRedirect(
                        port=str(HTTPS_PORT), protocol="HTTPS", status_code="HTTP_301"))])
        else:
            origin = LbListener(
                self, "http", load_balancer_arn=self.arn, port=HTTP_PORT, protocol="HTTP",
                default_action=[forbidden])
        return forwarding_rule(self, listener_arn=origin.arn, priority=OWN_RULE_PRIORITY,
                               verify_value=self.origin_verify_value,
                               target_group_arn=self.target_group_arn)


def make_load_balancer(scope: Construct, *, names: Names,  # pylint: disable=too-many-arguments
                       region: str, account_id: str, subnet_ids: Sequence[str],
                       security_group_id: str, internal: bool, deletion_protection: bool,
                       access_log_expiration_days: int, force_destroy_logs: bool
                       ) -> tuple[Lb, str]:
    """An Application Load Balancer (id alb in ``scope``), invalid header fields dropped, with
    access logs in its bucket (ids alb-logs..., elb-account): SSE-S3 (the only encryption ALB
    log delivery supports), written by the region's load-balancer log delivery under
    ``alb/AWSLogs/<account>/``; returns it and its log bucket's name. The environment's own and
    the shared stack's."""
    if region in ELB_ACCOUNT_REGIONS:
        writer: dict[str, Any] = {"AWS": DataAwsElbServiceAccount(scope, "elb-account").arn}
    else:
        writer = {"Service": LOG_DELIVERY_PRINCIPAL}
    logs = log_bucket(scope, "alb-logs", props=LogBucketProps(
        name_prefix=names.alb_log_bucket_prefix,
        force_destroy=force_destroy_logs,
        expiration_days=access_log_expiration_days,
        object_ownership="BucketOwnerEnforced",
        delivery_statements=lambda arn: [statement(
            sid="LoadBalancerLogDelivery", principal=writer, actions=["s3:PutObject"],
            resources=[f"{arn}/{ACCESS_LOG_PREFIX}/AWSLogs/{account_id}/*"])]))
    return Lb(
        scope, "alb", name=names.alb, internal=internal,
        load_balancer_type="application",
        security_groups=[security_group_id],
        subnets=list(subnet_ids),
        drop_invalid_header_fields=True,
        enable_deletion_protection=deletion_protection,
        idle_timeout=IDLE_TIMEOUT_SECONDS,
        access_logs=LbAccessLogs(bucket=logs.bucket.id, prefix=ACCESS_LOG_PREFIX, enabled=True),
        depends_on=[logs.policy],  # ALB checks it may write logs when created
    ), logs.bucket.id


def origin_verify_secret(scope: Construct, *, names: Names, recovery_window_days: int,
                         key_arn: str | None
                         ) -> tuple[SecretsmanagerSecret, SecretsmanagerSecretVersion]:
    """The header value CloudFront sends and the listener rule requires (ids origin-verify,
    origin-verify-value, origin-verify-version in ``scope``); ``key_arn`` None: the account's
    aws/secretsmanager key."""
    secret = SecretsmanagerSecret(
        scope, "origin-verify", name_prefix=names.origin_verify_secret_prefix,
        description=f"{ORIGIN_VERIFY_HEADER} header value of {names.prefix} "
                    "(CloudFront to load balancer)",
        recovery_window_in_days=recovery_window_days, kms_key_id=key_arn)
    password = DataAwsSecretsmanagerRandomPassword(
        scope, "origin-verify-value", password_length=ORIGIN_VERIFY_LENGTH,
        exclude_punctuation=True, include_space=False)
    # The data source draws a new value on every plan; ignoring changes keeps the first.
    # Rotating means tainting this version: the edge and the rule then change together.
    version = SecretsmanagerSecretVersion(
        scope, "origin-verify-version", secret_id=secret.id,
        secret_string=password.random_password,
        lifecycle=TerraformResourceLifecycle(ignore_changes=["secret_string"]))
    return secret, version


def make_target_group(scope: Construct, *, names: Names, vpc_id: str, port: int,
                      health_check_path: str, deregistration_delay_seconds: int
                      ) -> LbTargetGroup:
    """The service's target group (id web in ``scope``): IP targets (awsvpc tasks) behind a
    health check on the liveness path."""
    return LbTargetGroup(
        scope, "web", name=names.target_group, port=port,
        protocol="HTTP", target_type="ip", vpc_id=vpc_id,
        # A new port is a new group (the port forces it): made and switched to before
        # the old one, which the listener rule still uses, is deleted.
        lifecycle=TerraformResourceLifecycle(create_before_destroy=True),
        deregistration_delay=str(deregistration_delay_seconds),
        health_check=LbTargetGroupHealthCheck(
            enabled=True, path=health_check_path, protocol="HTTP",
            port="traffic-port", matcher="200-299", **HEALTH_CHECK))


def forwarding_rule(scope: Construct, *, listener_arn: str, priority: int, verify_value: str,
                    target_group_arn: str) -> LbListenerRule:
    """The one rule that forwards requests carrying the environment's origin-verify value to
    its target group (id origin-verify-rule in ``scope``)."""
    return LbListenerRule(
        scope, "origin-verify-rule", listener_arn=listener_arn, priority=priority,
        # A new origin listener (a protocol change) gets its rule before the old one goes:
        # CloudFront keeps a forwarding rule behind whichever origin it uses.
        lifecycle=TerraformResourceLifecycle(create_before_destroy=True),
        condition=[LbListenerRuleCondition(http_header=LbListenerRuleConditionHttpHeader(
            http_header_name=ORIGIN_VERIFY_HEADER, values=[verify_value]))],
        action=[LbListenerRuleAction(type="forward", target_group_arn=target_group_arn)])
