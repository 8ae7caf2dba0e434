"""Application tier: the load balancer, the ECS service behind it, its IAM and scaling.

Creates
- an internet-facing Application Load Balancer in the public subnets of every AZ (invalid
  header fields dropped, deletion protection per profile, access logs), with its log
  bucket: SSE-S3 (the only encryption ALB log delivery supports), public access blocked,
  bucket owner enforced, TLS-only bucket policy that lets the region's load-balancer log
  delivery write under ``alb/AWSLogs/<account>/``, expiry per profile, emptied on destroy
  only where the profile says so.
- the origin-verify secret: Secrets Manager generates the value at apply
  (``aws_secretsmanager_random_password``) and the secret version ignores later changes,
  so the value is never in code and stays stable across plans.
- listeners: HTTP :80 answering a fixed 403 unless the request carries the origin-verify
  header CloudFront adds; with ``CERTIFICATE_ARN`` an HTTPS :443 listener does that
  instead (TLS 1.2+ policy) and :80 only redirects to it.
- rules on the two workload security groups of the network tier (separate resources): the
  load balancer accepts its origin port from CloudFront's origin-facing prefix list only
  and sends only to the tasks' port; the tasks accept only the load balancer and send
  HTTPS (443) anywhere for image pulls and AWS APIs.
- an ECS cluster (Container Insights, FARGATE and FARGATE_SPOT), the task definition
  (awsvpc, CPU/memory per profile, awslogs to a KMS-encrypted log group), the service
  (capacity provider strategy, circuit breaker with rollback, rolling deployment at full
  capacity) and target-tracking auto scaling on CPU, memory and requests per target.
- the execution role (image pull, its log group, exactly the secrets and keys it is
  given) and the task role (ECS Exec channels only where the profile enables exec).

Exposes ``alb_arn``, ``alb_arn_suffix``, ``alb_dns_name``, ``alb_zone_id``,
``target_group_arn``, ``target_group_arn_suffix``, ``cluster_name``, ``service_name``,
``task_definition_arn``, ``log_group_name``, ``origin_verify_secret_arn``,
``origin_verify_value`` (token of the secret version's value), ``origin_protocol``,
``execution_role_arn`` and ``task_role_arn``.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

from cdktf import TerraformProvider, TerraformResourceLifecycle
from cdktf_cdktf_provider_aws.appautoscaling_policy import (
    AppautoscalingPolicy,
    AppautoscalingPolicyTargetTrackingScalingPolicyConfiguration,
    AppautoscalingPolicyTargetTrackingScalingPolicyConfigurationPredefinedMetricSpecification
    as PredefinedMetric,
)
from cdktf_cdktf_provider_aws.appautoscaling_target import AppautoscalingTarget
from cdktf_cdktf_provider_aws.cloudfront_vpc_origin import (
    CloudfrontVpcOrigin,
    CloudfrontVpcOriginTimeouts,
    CloudfrontVpcOriginVpcOriginEndpointConfig,
    CloudfrontVpcOriginVpcOriginEndpointConfigOriginSslProtocols,
)
from cdktf_cdktf_provider_aws.cloudwatch_log_group import CloudwatchLogGroup
from cdktf_cdktf_provider_aws.data_aws_ec2_managed_prefix_list import DataAwsEc2ManagedPrefixList
from cdktf_cdktf_provider_aws.data_aws_elb_service_account import DataAwsElbServiceAccount
from cdktf_cdktf_provider_aws.data_aws_security_group import DataAwsSecurityGroup
from cdktf_cdktf_provider_aws.data_aws_secretsmanager_random_password import (
    DataAwsSecretsmanagerRandomPassword,
)
from cdktf_cdktf_provider_aws.ecs_cluster import EcsCluster, EcsClusterSetting
from cdktf_cdktf_provider_aws.ecs_cluster_capacity_providers import (
    EcsClusterCapacityProviders,
    EcsClusterCapacityProvidersDefaultCapacityProviderStrategy,
)
from cdktf_cdktf_provider_aws.ecs_service import (
    EcsService,
    EcsServiceCapacityProviderStrategy,
    EcsServiceDeploymentCircuitBreaker,
    EcsServiceLoadBalancer,
    EcsServiceNetworkConfiguration,
)
from cdktf_cdktf_provider_aws.ecs_task_definition import (
    EcsTaskDefinition,
    EcsTaskDefinitionRuntimePlatform,
    EcsTaskDefinitionVolume,
)
from cdktf_cdktf_provider_aws.iam_role import IamRole
from cdktf_cdktf_provider_aws.iam_role_policy import IamRolePolicy
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
from cdktf_cdktf_provider_aws.s3_bucket_policy import S3BucketPolicy
from cdktf_cdktf_provider_aws.secretsmanager_secret import SecretsmanagerSecret
from cdktf_cdktf_provider_aws.secretsmanager_secret_version import SecretsmanagerSecretVersion
from cdktf_cdktf_provider_aws.vpc_security_group_egress_rule import VpcSecurityGroupEgressRule
from cdktf_cdktf_provider_aws.vpc_security_group_ingress_rule import VpcSecurityGroupIngressRule
from constructs import Construct

from lib.config import ORIGIN_VERIFY_HEADER, Profile, Settings
from lib.log_bucket import LogBucketProps, log_bucket
from lib.naming import Names
from lib.network import ANYWHERE, Network
from lib.policies import document, service_trust, statement

CONTAINER_NAME = "web"
HTTP_PORT = 80
HTTPS_PORT = 443
# TLS 1.3 and 1.2 only, forward-secret ciphers: AWS's recommended current policy.
TLS_POLICY = "ELBSecurityPolicy-TLS13-1-2-2021-06"
CLOUDFRONT_ORIGIN_FACING = "com.amazonaws.global.cloudfront.origin-facing"
# The security group CloudFront creates in a VPC for the interfaces of its VPC origins.
VPC_ORIGINS_SERVICE_GROUP = "CloudFront-VPCOrigins-Service-SG"
# Creating or updating a VPC origin deploys it to CloudFront's network: allow for it.
VPC_ORIGIN_TIMEOUTS = {"create": "30m", "update": "30m", "delete": "30m"}
ACCESS_LOG_PREFIX = "alb"
# Below nginx's 75 s keep-alive, so the load balancer (not the target) closes idle
# connections and never forwards onto a socket the target is closing (502s); above
# CloudFront's 30 s origin read timeout, so slow responses are not cut first here.
IDLE_TIMEOUT_SECONDS = 60
# A new task serves after 2 x 15 s; a target is dropped after 3 x 15 s of failures, which
# rides out one slow response without keeping a dead task for long.
HEALTH_CHECK = {"interval": 15, "timeout": 5, "healthy_threshold": 2, "unhealthy_threshold": 3}
# Covers image start plus the two healthy checks above, so ECS does not replace a task
# that the load balancer has not yet had the chance to mark healthy.
HEALTH_CHECK_GRACE_SECONDS = 60
# Target tracking: CPU and memory averages (%) and requests per target per minute.
CPU_TARGET_PERCENT = 60
MEMORY_TARGET_PERCENT = 75
REQUESTS_PER_TARGET = 1000
SCALE_OUT_COOLDOWN_SECONDS = 60  # add tasks quickly under load
SCALE_IN_COOLDOWN_SECONDS = 300  # remove them slowly, so the service does not flap
# 64 letters and digits: no ALB header-condition wildcards (* ?), safe in any header.
ORIGIN_VERIFY_LENGTH = 64
ECS_EXEC_ACTIONS = ("ssmmessages:CreateControlChannel", "ssmmessages:CreateDataChannel",
                    "ssmmessages:OpenControlChannel", "ssmmessages:OpenDataChannel")
ECR_PULL_ACTIONS = ("ecr:BatchCheckLayerAvailability", "ecr:GetDownloadUrlForLayer",
                    "ecr:BatchGetImage")

# Regions opened before August 2022 deliver ALB logs as a regional Elastic Load Balancing
# account (the aws_elb_service_account data source knows it); newer regions use the
# log-delivery service principal instead.
ELB_ACCOUNT_REGIONS = frozenset({
    "af-south-1", "ap-east-1", "ap-northeast-1", "ap-northeast-2", "ap-northeast-3",
    "ap-south-1", "ap-southeast-1", "ap-southeast-2", "ap-southeast-3", "ca-central-1",
    "eu-central-1", "eu-north-1", "eu-south-1", "eu-west-1", "eu-west-2", "eu-west-3",
    "me-south-1", "sa-east-1", "us-east-1", "us-east-2", "us-west-1", "us-west-2",
})
LOG_DELIVERY_PRINCIPAL = "logdelivery.elasticloadbalancing.amazonaws.com"

_ECR_IMAGE = re.compile(
    r"^(?P<account>\d{12})\.dkr\.ecr\.(?P<region>[a-z0-9-]+)\.amazonaws\.com/"
    r"(?P<repository>[a-z0-9._/-]+?)(:[\w.-]+)?(@sha256:[a-f0-9]{64})?$")
# The official nginx Alpine images (ECR Public gallery or Docker Hub): busybox wget for the
# container health check, and the only writable paths nginx needs are known.
_NGINX_ALPINE = re.compile(
    r"^(public\.ecr\.aws/nginx/nginx|(docker\.io/)?(library/)?nginx):[\w.-]*alpine[\w.-]*$")
NGINX_WRITABLE_PATHS = {"nginx-cache": "/var/cache/nginx", "nginx-run": "/var/run"}


def ecr_repository_arn(image: str) -> str | None:
    """The ARN of a private ECR repository image, or None for public registries (which
    need no pull permission)."""
    match = _ECR_IMAGE.match(image)
    if match is None:
        return None
    return (f"arn:aws:ecr:{match['region']}:{match['account']}:"
            f"repository/{match['repository']}")


def is_nginx_alpine(image: str) -> bool:
    """Whether the image is an official nginx Alpine image (the default is one)."""
    return _NGINX_ALPINE.match(image) is not None


def capacity_strategy(profile: Profile, cpu_architecture: str) -> list[tuple[str, int, int]]:
    """(capacity provider, base, weight): the profile's base on FARGATE, the rest split
    by weight with FARGATE_SPOT. Spot only runs X86_64 tasks, so ARM64 gets none."""
    strategy = [("FARGATE", profile.fargate_base, 1)]
    if profile.fargate_spot_weight > 0 and cpu_architecture == "X86_64":
        strategy.append(("FARGATE_SPOT", 0, profile.fargate_spot_weight))
    return strategy


@dataclass(frozen=True, kw_only=True)
class AppTierProps:  # pylint: disable=too-many-instance-attributes
    """Inputs of the application tier."""

    settings: Settings
    names: Names
    account_id: str  # token of aws_caller_identity
    network: Network
    # Plain environment of the container, name -> value (tokens allowed). Default: none.
    container_environment: Mapping[str, str] = field(default_factory=dict)
    # Secret environment, name -> valueFrom ("<secret arn>:<json key>::"). Default: none.
    container_secrets: Mapping[str, str] = field(default_factory=dict)
    # Exactly the secrets the execution role may read and the KMS keys it may decrypt
    # with (through Secrets Manager). Default: none, and then no such statement at all.
    readable_secret_arns: Sequence[str] = field(default_factory=tuple)
    decrypt_key_arns: Sequence[str] = field(default_factory=tuple)
    # Customer key for the origin-verify secret (the data tier's key in TapStack).
    # Default: None, the account's AWS-managed Secrets Manager key.
    secret_key_arn: str | None = None
    # The us-east-1 provider, for the CloudFront VPC origin (settings.private_origin).
    global_provider: TerraformProvider | None = None


class AppTier(Construct):  # pylint: disable=too-many-instance-attributes
    """Load balancer, ECS service, IAM and auto scaling of the web application."""

    def __init__(self, scope: Construct, construct_id: str, *, props: AppTierProps) -> None:
        super().__init__(scope, construct_id)
        if props.container_secrets and not props.readable_secret_arns:
            raise ValueError("container_secrets need readable_secret_arns: the execution role "
                             "could not read them and every task would fail to start")
        if props.settings.private_origin and props.global_provider is None:
            raise ValueError("a private origin needs AppTierProps.global_provider (us-east-1) "
                             "for its CloudFront VPC origin")
        settings = props.settings
        self._props = props
        https = settings.certificate_arn is not None
        self.origin_protocol = "https" if https else "http"

        secret, version = self._origin_verify_secret()
        self.origin_verify_secret_arn: str = secret.arn
        self.origin_verify_value: str = version.secret_string
        bucket_id, bucket_policy = self._access_log_bucket()
        self.log_bucket_name: str = bucket_id
        alb = Lb(
            self, "alb", name=props.names.alb, internal=settings.private_origin,
            load_balancer_type="application",
            security_groups=[props.network.alb_security_group_id],
            subnets=props.network.alb_subnet_ids,
            drop_invalid_header_fields=True,
            enable_deletion_protection=settings.alb_deletion_protection,
            idle_timeout=IDLE_TIMEOUT_SECONDS,
            access_logs=LbAccessLogs(bucket=bucket_id, prefix=ACCESS_LOG_PREFIX, enabled=True),
            depends_on=[bucket_policy],  # ALB checks it may write logs when created
        )
        self.alb_arn: str = alb.arn
        self.alb_arn_suffix: str = alb.arn_suffix
        self.alb_dns_name: str = alb.dns_name
        self.alb_zone_id: str = alb.zone_id
        target_group = self._target_group()
        self.target_group_arn: str = target_group.arn
        self.target_group_arn_suffix: str = target_group.arn_suffix
        rule = self._listeners(https)
        origin_port = HTTPS_PORT if https else HTTP_PORT
        self.vpc_origin_id: str | None = None
        if settings.private_origin:
            self.vpc_origin_id = self._vpc_origin(alb, origin_port)
        else:
            self._from_cloudfront_edge(origin_port)
        self._security_group_rules()

        insights_logs = CloudwatchLogGroup(
            self, "insights-logs", name=props.names.container_insights_log_group,
            retention_in_days=settings.profile.log_retention_days,
            kms_key_id=props.network.logs_key_arn)
        cluster = EcsCluster(
            self, "cluster", name=props.names.ecs_cluster,
            setting=[EcsClusterSetting(name="containerInsights", value="enabled")],
            depends_on=[insights_logs])  # created before the first write, deleted after it
        self.cluster_name: str = cluster.name
        strategy = capacity_strategy(settings.profile, settings.cpu_architecture)
        providers = EcsClusterCapacityProviders(
            self, "capacity-providers", cluster_name=cluster.name,
            capacity_providers=["FARGATE", "FARGATE_SPOT"],
            default_capacity_provider_strategy=[
                EcsClusterCapacityProvidersDefaultCapacityProviderStrategy(
                    capacity_provider=name, base=base, weight=weight)
                for name, base, weight in strategy])
        log_group = CloudwatchLogGroup(
            self, "task-logs", name=props.names.task_log_group,
            retention_in_days=settings.profile.log_retention_days,
            kms_key_id=props.network.logs_key_arn)
        self.log_group_name: str = log_group.name
        execution_role, task_role = self._roles(log_group.arn)
        self.execution_role_arn: str = execution_role.arn
        self.task_role_arn: str = task_role.arn
        task = self._task_definition(log_group.name, execution_role.arn, task_role.arn)
        self.task_definition_arn: str = task.arn
        service = EcsService(
            self, "service", name=props.names.ecs_service, cluster=cluster.arn,
            task_definition=task.arn,
            desired_count=settings.profile.desired_count,
            capacity_provider_strategy=[
                EcsServiceCapacityProviderStrategy(capacity_provider=name, base=base, weight=weight)
                for name, base, weight in strategy],
            # A changed capacity provider strategy (CPU_ARCHITECTURE: ARM64 has no Spot) is
            # an UpdateService with a new deployment; without this the provider replaces the
            # service instead (its docs: in place "only if force_new_deployment = true").
            force_new_deployment=True,
            deployment_circuit_breaker=EcsServiceDeploymentCircuitBreaker(enable=True,
                                                                          rollback=True),
            # Start new tasks before stopping old ones: never below the desired count.
            deployment_minimum_healthy_percent=100,
            deployment_maximum_percent=200,
            health_check_grace_period_seconds=HEALTH_CHECK_GRACE_SECONDS,
            load_balancer=[EcsServiceLoadBalancer(
                target_group_arn=target_group.arn, container_name=CONTAINER_NAME,
                container_port=settings.container_port)],
            network_configuration=EcsServiceNetworkConfiguration(
                subnets=props.network.workload_subnet_ids,
                security_groups=[props.network.task_security_group_id],
                assign_public_ip=props.network.assign_public_ip),
            enable_execute_command=settings.profile.enable_execute_command,
            enable_ecs_managed_tags=True,
            propagate_tags="SERVICE",
            # Auto scaling owns the running count once the service exists.
            lifecycle=TerraformResourceLifecycle(ignore_changes=["desired_count"]),
            # The target group must be attached to the load balancer (by the rule) and the
            # capacity providers to the cluster before the service can use them.
            depends_on=[rule, providers],
        )
        self.service_name: str = service.name
        self._auto_scaling(f"{alb.arn_suffix}/{target_group.arn_suffix}")

    def _origin_verify_secret(self) -> tuple[SecretsmanagerSecret, SecretsmanagerSecretVersion]:
        """The header value CloudFront sends and the listener rule requires."""
        props = self._props
        secret = SecretsmanagerSecret(
            self, "origin-verify", name_prefix=props.names.origin_verify_secret_prefix,
            description=f"{ORIGIN_VERIFY_HEADER} header value of {props.names.prefix} "
                        "(CloudFront to load balancer)",
            recovery_window_in_days=props.settings.profile.secret_recovery_window_days,
            kms_key_id=props.secret_key_arn)
        password = DataAwsSecretsmanagerRandomPassword(
            self, "origin-verify-value", password_length=ORIGIN_VERIFY_LENGTH,
            exclude_punctuation=True, include_space=False)
        # The data source draws a new value on every plan; ignoring changes keeps the first.
        # Rotating means tainting this version: the edge and the rule then change together.
        version = SecretsmanagerSecretVersion(
            self, "origin-verify-version", secret_id=secret.id,
            secret_string=password.random_password,
            lifecycle=TerraformResourceLifecycle(ignore_changes=["secret_string"]))
        return secret, version

    def _access_log_bucket(self) -> tuple[str, S3BucketPolicy]:
        """The ALB access-log bucket and its settings; returns its name and its policy."""
        props = self._props
        profile = props.settings.profile
        if props.settings.aws_region in ELB_ACCOUNT_REGIONS:
            writer: dict[str, Any] = {"AWS": DataAwsElbServiceAccount(self, "elb-account").arn}
        else:
            writer = {"Service": LOG_DELIVERY_PRINCIPAL}
        logs = log_bucket(self, "alb-logs", props=LogBucketProps(
            name_prefix=props.names.alb_log_bucket_prefix,
            force_destroy=props.settings.force_destroy_buckets,
            expiration_days=profile.access_log_expiration_days,
            object_ownership="BucketOwnerEnforced",
            delivery_statements=lambda arn: [statement(
                sid="LoadBalancerLogDelivery", principal=writer, actions=["s3:PutObject"],
                resources=[f"{arn}/{ACCESS_LOG_PREFIX}/AWSLogs/{props.account_id}/*"])]))
        return logs.bucket.id, logs.policy

    def _target_group(self) -> LbTargetGroup:
        """IP targets (awsvpc tasks) behind a health check on HEALTH_CHECK_PATH."""
        props = self._props
        settings = props.settings
        target_group = LbTargetGroup(
            self, "web", name=props.names.target_group, port=settings.container_port,
            protocol="HTTP", target_type="ip", vpc_id=props.network.vpc_id,
            # A new port is a new group (the port forces it): made and switched to before
            # the old one, which the listener rule still uses, is deleted.
            lifecycle=TerraformResourceLifecycle(create_before_destroy=True),
            deregistration_delay=str(settings.profile.deregistration_delay_seconds),
            health_check=LbTargetGroupHealthCheck(
                enabled=True, path=settings.health_check_path, protocol="HTTP",
                port="traffic-port", matcher="200-299", **HEALTH_CHECK))
        return target_group

    def _listeners(self, https: bool) -> LbListenerRule:
        """The listeners and the one rule that forwards verified requests; returns the rule."""
        forbidden = LbListenerDefaultAction(
            type="fixed-response",
            fixed_response=LbListenerDefaultActionFixedResponse(
                content_type="text/plain", message_body="Forbidden", status_code="403"))
        if https:
            origin = LbListener(
                self, "https", load_balancer_arn=self.alb_arn, port=HTTPS_PORT, protocol="HTTPS",
                ssl_policy=TLS_POLICY, certificate_arn=self._props.settings.certificate_arn,
                default_action=[forbidden])
            LbListener(
                self, "http", load_balancer_arn=self.alb_arn, port=HTTP_PORT, protocol="HTTP",
                default_action=[LbListenerDefaultAction(
                    type="redirect",
                    redirect=LbListenerDefaultActionRedirect(
                        port=str(HTTPS_PORT), protocol="HTTPS", status_code="HTTP_301"))])
        else:
            origin = LbListener(
                self, "http", load_balancer_arn=self.alb_arn, port=HTTP_PORT, protocol="HTTP",
                default_action=[forbidden])
        return LbListenerRule(
            self, "origin-verify-rule", listener_arn=origin.arn, priority=10,
            condition=[LbListenerRuleCondition(http_header=LbListenerRuleConditionHttpHeader(
                http_header_name=ORIGIN_VERIFY_HEADER, values=[self.origin_verify_value]))],
            action=[LbListenerRuleAction(type="forward", target_group_arn=self.target_group_arn)])

    def _vpc_origin(self, alb: Lb, origin_port: int) -> str:
        """The CloudFront VPC origin of the internal load balancer, and the one ingress
        rule: from the security group CloudFront creates for VPC origins in the VPC."""
        props = self._props
        https = origin_port == HTTPS_PORT
        origin = CloudfrontVpcOrigin(
            self, "vpc-origin", provider=props.global_provider,
            vpc_origin_endpoint_config=[CloudfrontVpcOriginVpcOriginEndpointConfig(
                name=props.names.vpc_origin, arn=alb.arn, http_port=HTTP_PORT,
                https_port=HTTPS_PORT,
                origin_protocol_policy="https-only" if https else "http-only",
                origin_ssl_protocols=[CloudfrontVpcOriginVpcOriginEndpointConfigOriginSslProtocols(
                    items=["TLSv1.2"], quantity=1)])],
            timeouts=CloudfrontVpcOriginTimeouts(**VPC_ORIGIN_TIMEOUTS))
        service_group = DataAwsSecurityGroup(
            self, "vpc-origins-sg", vpc_id=props.network.vpc_id,
            name=VPC_ORIGINS_SERVICE_GROUP,
            depends_on=[origin])  # CloudFront creates it with the VPC's first VPC origin
        VpcSecurityGroupIngressRule(
            self, "alb-from-vpc-origin", security_group_id=props.network.alb_security_group_id,
            referenced_security_group_id=service_group.id, ip_protocol="tcp",
            from_port=origin_port, to_port=origin_port,
            description="CloudFront VPC origin interfaces")
        return origin.id

    def _from_cloudfront_edge(self, origin_port: int) -> None:
        """Internet-facing fallback: the one ingress rule admits CloudFront's servers."""
        network = self._props.network
        cloudfront = DataAwsEc2ManagedPrefixList(self, "cloudfront-origin-facing",
                                                 name=CLOUDFRONT_ORIGIN_FACING)
        # One rule only: the prefix list counts as ~55 rules against the group's quota of 60.
        VpcSecurityGroupIngressRule(
            self, "alb-from-cloudfront", security_group_id=network.alb_security_group_id,
            prefix_list_id=cloudfront.id, ip_protocol="tcp", from_port=origin_port,
            to_port=origin_port, description="CloudFront origin-facing servers")

    def _security_group_rules(self) -> None:
        """Rules on the network tier's empty groups: ALB -> tasks -> 443 out."""
        network = self._props.network
        port = self._props.settings.container_port
        VpcSecurityGroupEgressRule(
            self, "alb-to-tasks", security_group_id=network.alb_security_group_id,
            referenced_security_group_id=network.task_security_group_id, ip_protocol="tcp",
            from_port=port, to_port=port, description="Forward to the ECS tasks")
        VpcSecurityGroupIngressRule(
            self, "tasks-from-alb", security_group_id=network.task_security_group_id,
            referenced_security_group_id=network.alb_security_group_id, ip_protocol="tcp",
            from_port=port, to_port=port, description="Requests from the load balancer")
        VpcSecurityGroupEgressRule(
            self, "tasks-https-out", security_group_id=network.task_security_group_id,
            cidr_ipv4=ANYWHERE, ip_protocol="tcp", from_port=HTTPS_PORT, to_port=HTTPS_PORT,
            description="HTTPS out: image pulls and AWS APIs")

    def _task_definition(self, log_group_name: str, execution_role_arn: str,
                         task_role_arn: str) -> EcsTaskDefinition:
        """The Fargate task definition with its one container."""
        props = self._props
        settings = props.settings
        profile = settings.profile
        nginx = is_nginx_alpine(settings.container_image)
        # Read-only root file system where the image allows it: nginx writes only its cache
        # and pid file (mounted as task-storage volumes below). Not with ECS Exec: its SSM
        # agent must write into the container, so those profiles keep a writable root.
        read_only = nginx and not profile.enable_execute_command
        container: dict[str, Any] = {
            "name": CONTAINER_NAME,
            "image": settings.container_image,
            "essential": True,
            "portMappings": [{"containerPort": settings.container_port,
                              "hostPort": settings.container_port, "protocol": "tcp"}],
            "readonlyRootFilesystem": read_only,
            "logConfiguration": {"logDriver": "awslogs", "options": {
                "awslogs-group": log_group_name,
                "awslogs-region": settings.aws_region,
                "awslogs-stream-prefix": CONTAINER_NAME,
            }},
        }
        if props.container_environment:
            container["environment"] = [{"name": name, "value": value} for name, value
                                        in sorted(props.container_environment.items())]
        if props.container_secrets:
            container["secrets"] = [{"name": name, "valueFrom": value} for name, value
                                    in sorted(props.container_secrets.items())]
        if nginx:
            # Exec form (no shell): HEALTH_CHECK_PATH characters are never interpreted.
            # 127.0.0.1, not localhost: nginx may listen on IPv4 only.
            container["healthCheck"] = {
                "command": ["CMD", "wget", "-q", "-O", "/dev/null",
                            f"http://127.0.0.1:{settings.container_port}"
                            f"{settings.health_check_path}"],
                "interval": 30, "timeout": 5, "retries": 3, "startPeriod": 15}
        if read_only:
            container["mountPoints"] = [{"sourceVolume": volume, "containerPath": path,
                                         "readOnly": False}
                                        for volume, path in NGINX_WRITABLE_PATHS.items()]
        if profile.enable_execute_command:
            # An init process reaps the SSM agent's sessions (recommended for ECS Exec).
            container["linuxParameters"] = {"initProcessEnabled": True}
        task = EcsTaskDefinition(
            self, "task", family=props.names.task_family, network_mode="awsvpc",
            requires_compatibilities=["FARGATE"], cpu=str(profile.task_cpu),
            memory=str(profile.task_memory), execution_role_arn=execution_role_arn,
            task_role_arn=task_role_arn,
            runtime_platform=EcsTaskDefinitionRuntimePlatform(
                operating_system_family="LINUX", cpu_architecture=settings.cpu_architecture),
            volume=[EcsTaskDefinitionVolume(name=volume) for volume in NGINX_WRITABLE_PATHS]
            if read_only else None,
            container_definitions=json.dumps([container]))
        return task

    def _roles(self, log_group_arn: str) -> tuple[IamRole, IamRole]:
        """Execution role (pull, logs, secrets) and task role (ECS Exec only)."""
        props = self._props
        settings = props.settings
        trust = service_trust("ecs-tasks.amazonaws.com", props.account_id,
                              f"arn:aws:ecs:{settings.aws_region}:{props.account_id}:*")
        execution = IamRole(self, "execution-role", name=props.names.execution_role,
                            description=f"ECS agent of {props.names.prefix}: pull, logs, secrets",
                            assume_role_policy=trust)
        statements = [statement(sid="WriteTaskLogs",
                                actions=["logs:CreateLogStream", "logs:PutLogEvents"],
                                resources=[log_group_arn, f"{log_group_arn}:*"])]
        repository = ecr_repository_arn(settings.container_image)
        if repository is not None:
            # GetAuthorizationToken has no resource type: "*" is the only possible value.
            statements.append(statement(sid="EcrLogin", actions=["ecr:GetAuthorizationToken"],
                                        resources="*"))
            statements.append(statement(sid="PullImage", actions=ECR_PULL_ACTIONS,
                                        resources=[repository]))
        if props.readable_secret_arns:
            statements.append(statement(sid="ReadTaskSecrets",
                                        actions=["secretsmanager:GetSecretValue"],
                                        resources=list(props.readable_secret_arns)))
        if props.decrypt_key_arns:
            statements.append(statement(
                sid="DecryptTaskSecrets", actions=["kms:Decrypt"],
                resources=list(props.decrypt_key_arns),
                condition={"StringEquals": {
                    "kms:ViaService": f"secretsmanager.{settings.aws_region}.amazonaws.com"}}))
        IamRolePolicy(self, "execution-policy", role=execution.id, name="pull-logs-secrets",
                      policy=document(*statements))
        task = IamRole(self, "task-role", name=props.names.task_role,
                       description=f"Application in the tasks of {props.names.prefix}",
                       assume_role_policy=trust)
        if settings.profile.enable_execute_command:
            # ssmmessages has no resource types: "*" is the only possible value.
            IamRolePolicy(self, "task-exec-policy", role=task.id, name="ecs-exec",
                          policy=document(statement(sid="EcsExecChannels",
                                                    actions=ECS_EXEC_ACTIONS, resources="*")))
        return execution, task

    def _auto_scaling(self, request_label: str) -> None:
        """The scalable target and one target-tracking policy per signal."""
        profile = self._props.settings.profile
        target = AppautoscalingTarget(
            self, "scaling-target", service_namespace="ecs",
            scalable_dimension="ecs:service:DesiredCount",
            resource_id=f"service/{self.cluster_name}/{self.service_name}",
            min_capacity=profile.min_capacity, max_capacity=profile.max_capacity)
        signals = (
            ("cpu", "ECSServiceAverageCPUUtilization", CPU_TARGET_PERCENT, None),
            ("memory", "ECSServiceAverageMemoryUtilization", MEMORY_TARGET_PERCENT, None),
            ("requests", "ALBRequestCountPerTarget", REQUESTS_PER_TARGET, request_label),
        )
        for key, metric, value, label in signals:
            AppautoscalingPolicy(
                self, f"scale-on-{key}", name=f"{key}-target-tracking",
                policy_type="TargetTrackingScaling", service_namespace=target.service_namespace,
                scalable_dimension=target.scalable_dimension, resource_id=target.resource_id,
                target_tracking_scaling_policy_configuration=(
                    AppautoscalingPolicyTargetTrackingScalingPolicyConfiguration(
                        target_value=value,
                        scale_in_cooldown=SCALE_IN_COOLDOWN_SECONDS,
                        scale_out_cooldown=SCALE_OUT_COOLDOWN_SECONDS,
                        predefined_metric_specification=(
                            PredefinedMetric(predefined_metric_type=metric,
                                             resource_label=label)))))
