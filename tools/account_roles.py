"""The account's IAM roles that ``make bootstrap`` sets up beside the state bucket.

Two things a brand-new account or an old deploy role lacks, which only show up as a failure in
the middle of a deploy:

- **Service-linked roles.** ``SERVICE_LINKED_ROLES`` is the one table (service principal ->
  the role and why the stack needs it) of the roles AWS creates on the first use of a service
  in an account: the first ECS cluster, load balancer, Aurora cluster, serverless cache, scalable
  ECS target and CloudFront VPC origin each create one. Created by Terraform's parallel applies,
  they race: a resource created right after the one that triggered the role fails because the
  role is not there yet (terraform-provider-aws #11417: "Unable to assume the service linked
  role. Please verify that the ECS service linked role exists"), or two creations collide
  (terraform-aws-modules/terraform-aws-dms #68). ``ensure_service_linked_roles`` creates each
  one, one after another, before any stack is deployed; one that exists is fine.
  ``tests/tools/test_bootstrap.py`` maps every resource type the stack may synthesize to its
  service and fails, naming the type, when that service needs a role this table lacks.
- **A session that outlasts the longest job.** GitHub's OIDC credentials last one hour unless
  the workflow asks for more (``role-duration-seconds`` of aws-actions/configure-aws-credentials,
  its action.yml: "default: 6 hours, 1 hour for OIDC/specified aws-session-token"), and the
  role must allow what is asked: its ``MaxSessionDuration`` is 1 hour by default, at most 12
  hours (IAM CreateRole/UpdateRole; ``DurationSeconds`` of AssumeRoleWithWebIdentity "can range
  from 900 seconds ... up to the maximum session duration setting for the role"). A token that
  expires during ``terraform apply`` leaves the state unwritten and the lock held.
  ``SESSION_SECONDS`` is what the pipeline needs: the longest ``timeout-minutes`` of a job that
  assumes the role (the janitor's, 180) plus ``SESSION_MARGIN_MINUTES``. Every such job asks
  for ``(timeout-minutes + margin) * 60`` seconds, and ``tests/tools/test_workflows.py`` checks
  both numbers against the workflows. The workflows assume the role straight from the OIDC
  token, never by role chaining, which AWS caps at one hour whatever the role allows (STS
  AssumeRole: "if you assume a role using role chaining and provide a DurationSeconds parameter
  value greater than one hour, the operation fails").

The deploy role itself is created by the platform team (docs/ci-cd.md, "The deploy role"), from
the trust policy ``make bootstrap`` prints. ``ensure_session`` does not create it: when it exists, its
``MaxSessionDuration`` is raised to ``SESSION_SECONDS`` when lower, and left alone when it
already allows that much (a longer maximum lets no workflow ask for more than it does); when it
does not exist yet, the report says which setting to create it with (``max_session_duration``
in bootstrap's output).
"""
from __future__ import annotations

from typing import Any

# The janitor's timeout-minutes (.github/workflows/janitor.yml): it destroys the stale
# environments one after another in one job, on one session; the longest job that assumes the
# deploy role (tests/tools/test_workflows.py checks it is the longest).
LONGEST_JOB_MINUTES = 180
# After a job's timeout GitHub cancels it, and steps that run on cancellation (if: always())
# may run for up to 5 more minutes before the server terminates the job ("Workflow cancellation
# reference", docs.github.com/en/actions/reference/workflow-cancellation-reference); the session
# is also asked for a few minutes after the job started (checkout, setup). 15 minutes covers both.
SESSION_MARGIN_MINUTES = 15
SESSION_SECONDS = (LONGEST_JOB_MINUTES + SESSION_MARGIN_MINUTES) * 60
# IAM's bounds of a role's MaxSessionDuration: 1 to 12 hours (CreateRole, UpdateRole).
MIN_SESSION_SECONDS = 3600
MAX_SESSION_SECONDS = 43200
DEPLOY_ROLE = "tap-deploy"  # the role name of docs/ci-cd.md's commands

# The one table: service principal (CreateServiceLinkedRole's AWSServiceName) -> the role AWS
# names and what of the stack needs it. Principals and names from each service's guide:
# ECS "Using service-linked roles for Amazon ECS"; Application Auto Scaling "Amazon ECS and
# Application Auto Scaling" (docs.aws.amazon.com/autoscaling/application/userguide/
# services-that-can-integrate-ecs.html); Elastic Load Balancing "Elastic Load Balancing
# service-linked role" (elasticloadbalancing/latest/userguide/elb-service-linked-roles.html);
# ElastiCache "Using Service-Linked Roles for Amazon ElastiCache" (AmazonElastiCache/latest/dg/
# using-service-linked-roles.html); Aurora "Using service-linked roles for Amazon Aurora"
# (AmazonRDS/latest/AuroraUserGuide/UsingWithRDS.IAM.ServiceLinkedRoles.html); CloudFront
# "Use service-linked roles for CloudFront" (AmazonCloudFront/latest/DeveloperGuide/
# using-service-linked-roles.html: "AWSServiceRoleForCloudFrontVPCOrigin ... trusts ...
# vpcorigin.cloudfront.amazonaws.com").
SERVICE_LINKED_ROLES: dict[str, str] = {
    "ecs.amazonaws.com": "AWSServiceRoleForECS: the Fargate tasks' network interfaces and "
                         "their registration in the target group (cluster, service, tasks)",
    "ecs.application-autoscaling.amazonaws.com":
        "AWSServiceRoleForApplicationAutoScaling_ECSService: the ECS service's scalable target "
        "and target-tracking policy, which update its desired count and alarms",
    "elasticache.amazonaws.com": "AWSServiceRoleForElastiCache: the serverless cache's VPC "
                                 "endpoints in the private subnets",
    "elasticloadbalancing.amazonaws.com": "AWSServiceRoleForElasticLoadBalancing: the internal "
                                          "load balancer's network interfaces",
    "rds.amazonaws.com": "AWSServiceRoleForRDS: the Aurora cluster's network interfaces in the "
                         "isolated subnets and its managed master user secret",
    "vpcorigin.cloudfront.amazonaws.com": "AWSServiceRoleForCloudFrontVPCOrigin: the VPC "
                                          "origin's network interfaces and security group",
}
SERVICE_ROLE_PATH = "/aws-service-role/{principal}/"  # where IAM puts a service's linked roles


class AccountRoleError(Exception):
    """A role that could not be created or updated, with the reason AWS gave."""


def _error(error: Any) -> tuple[str, str]:
    details = error.response.get("Error", {})
    return str(details.get("Code")), str(details.get("Message", ""))


def taken(error: Any) -> bool:
    """True for AWS's answer to CreateServiceLinkedRole when the role exists already.

    AWS answers ``InvalidInput`` "Service role name AWSServiceRoleForECS has been taken in this
    account, please try a different suffix." (quoted in e.g. bcgov/startup-sample-project-aws-
    containers #13 and terraform-aws-modules/terraform-aws-dms #68); other ``InvalidInput``
    errors (a custom suffix a service refuses, say) are failures."""
    code, message = _error(error)
    return code == "InvalidInput" and "has been taken in this account" in message


def present(iam: Any, principal: str) -> list[str]:
    """The names of the service-linked roles of ``principal`` in the account (empty: none)."""
    pages = iam.get_paginator("list_roles").paginate(
        PathPrefix=SERVICE_ROLE_PATH.format(principal=principal))
    return [role["RoleName"] for page in pages for role in page["Roles"]]


def ensure_service_linked_roles(iam: Any, principals: tuple[str, ...] = tuple(
        SERVICE_LINKED_ROLES)) -> list[str]:
    """Create the service-linked role of each principal that has none, one after another.

    Returns one line per principal: created, or already present. A role created between the
    read and the create (another bootstrap, a deploy) counts as present."""
    lines = []
    for principal in principals:
        names = present(iam, principal)
        if names:
            lines.append(f"service-linked role {', '.join(names)} ({principal}): already present")
            continue
        try:
            name = iam.create_service_linked_role(AWSServiceName=principal)["Role"]["RoleName"]
        except iam.exceptions.ClientError as error:
            if not taken(error):
                code, message = _error(error)
                raise AccountRoleError(f"cannot create the service-linked role of {principal}: "
                                       f"{code}: {message}") from None
            lines.append(f"service-linked role of {principal}: already present (created meanwhile)")
            continue
        lines.append(f"service-linked role {name} ({principal}): created")
    return lines


def ensure_session(iam: Any, role_name: str, seconds: int = SESSION_SECONDS) -> str:
    """Raise the deploy role's MaxSessionDuration to ``seconds`` when lower; one line saying what.

    A role that does not exist yet is not an error (docs/ci-cd.md creates it after the first
    bootstrap): the line says which setting to create it with."""
    try:
        current = int(iam.get_role(RoleName=role_name)["Role"].get(
            "MaxSessionDuration", MIN_SESSION_SECONDS))
    except iam.exceptions.NoSuchEntityException:
        return (f"deploy role {role_name} not found: create it with --max-session-duration "
                f"{seconds} (max_session_duration in the output)")
    if current >= seconds:
        return (f"deploy role {role_name}: MaxSessionDuration {current} s already allows "
                f"{seconds} s: nothing changed")
    try:
        iam.update_role(RoleName=role_name, MaxSessionDuration=seconds)
    except iam.exceptions.ClientError as error:
        code, message = _error(error)
        raise AccountRoleError(f"cannot update the deploy role {role_name}: {code}: "
                               f"{message}") from None
    return f"deploy role {role_name}: MaxSessionDuration {current} s -> {seconds} s"
