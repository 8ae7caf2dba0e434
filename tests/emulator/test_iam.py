"""emulator/runtime/iam.py: identity policies of roles, sessions and users in moto's IAM,
evaluated as AWS does (explicit deny wins, else an allow, else implicit deny), wildcards,
NotAction/NotResource, conditions and their absent keys, boundaries and session policies."""
# pylint: disable=redefined-outer-name
from __future__ import annotations

import json
import uuid
from typing import Any, Callable

import pytest

from emulator.runtime.iam import Decision, authorized, evaluate

ACCOUNT = "123456789012"
DBUSER = f"arn:aws:rds-db:us-east-1:{ACCOUNT}:dbuser:cluster-ABC123/tap_app"
TRUST = json.dumps({"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"},
    "Action": "sts:AssumeRole"}]})


def document(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


@pytest.fixture
def role(client: Callable[..., Any]) -> Callable[..., str]:
    """``role(inline_statements, managed=[...], boundary=...)``: a new role's ARN."""
    iam = client("iam")

    def make(*statements: dict[str, Any], managed: tuple[str, ...] = (),
             boundary: str | None = None) -> str:
        name = f"role-{uuid.uuid4().hex[:8]}"
        extra = {"PermissionsBoundary": boundary} if boundary else {}
        arn = iam.create_role(RoleName=name, AssumeRolePolicyDocument=TRUST,
                              **extra)["Role"]["Arn"]
        if statements:
            iam.put_role_policy(RoleName=name, PolicyName="inline",
                                PolicyDocument=document(*statements))
        for policy_arn in managed:
            iam.attach_role_policy(RoleName=name, PolicyArn=policy_arn)
        return str(arn)
    return make


@pytest.fixture
def managed(client: Callable[..., Any]) -> Callable[..., str]:
    def make(*statements: dict[str, Any]) -> str:
        return str(client("iam").create_policy(
            PolicyName=f"policy-{uuid.uuid4().hex[:8]}",
            PolicyDocument=document(*statements))["Policy"]["Arn"])
    return make


CONNECT = {"Sid": "Connect", "Effect": "Allow", "Action": "rds-db:connect", "Resource": DBUSER}


def test_a_role_and_its_sessions_get_what_the_inline_policy_allows(
        role: Callable[..., str], client: Callable[..., Any]) -> None:
    arn = role(CONNECT)
    assert authorized(arn, "rds-db:connect", DBUSER) == Decision(
        allowed=True, reason=f"{arn}: rds-db:connect on {DBUSER} allowed by inline policy "
                             "inline statement Connect")
    session = client("sts").assume_role(RoleArn=arn, RoleSessionName="task")
    session_arn = session["AssumedRoleUser"]["Arn"]
    assert session_arn.startswith(f"arn:aws:sts::{ACCOUNT}:assumed-role/")
    assert authorized(session_arn, "rds-db:connect", DBUSER).allowed is True
    other_user = DBUSER.replace("/tap_app", "/tap_admin")
    assert authorized(session_arn, "rds-db:connect", other_user) == Decision(
        allowed=False, reason=f"{session_arn}: no statement allows rds-db:connect on "
                              f"{other_user} (implicit deny; policies: inline policy inline)")


def test_an_explicit_deny_in_a_managed_policy_wins(
        role: Callable[..., str], managed: Callable[..., str]) -> None:
    deny = managed({"Sid": "NoAdmin", "Effect": "Deny", "Action": "rds-db:*",
                    "Resource": "arn:aws:rds-db:*:*:dbuser:*/tap_app"})
    arn = role({"Effect": "Allow", "Action": "*", "Resource": "*"}, managed=(deny,))
    assert authorized(arn, "rds-db:connect", DBUSER) == Decision(
        allowed=False, reason=f"{arn}: rds-db:connect on {DBUSER} explicitly denied by managed "
                              f"policy {deny} statement NoAdmin")
    assert authorized(arn, "s3:GetObject", "arn:aws:s3:::bucket/key").allowed is True


def test_no_role_no_policy() -> None:
    arn = f"arn:aws:iam::{ACCOUNT}:role/nobody-here"
    assert authorized(arn, "rds-db:connect", DBUSER) == Decision(
        allowed=False, reason=f"no IAM role nobody-here in account {ACCOUNT}")
    assert authorized("arn:aws:s3:::bucket", "rds-db:connect", DBUSER) == Decision(
        allowed=False, reason="arn:aws:s3:::bucket is not a role, user or assumed-role ARN")


@pytest.mark.parametrize(("statement", "action", "resource", "allowed"), [
    ({"Action": "RDS-DB:Connect", "Resource": DBUSER}, "rds-db:connect", DBUSER, True),
    ({"Action": "rds-db:*", "Resource": DBUSER}, "rds-db:connect", DBUSER, True),
    ({"Action": "rds-db:connect", "Resource": "arn:aws:rds-db:*"}, "rds-db:connect", DBUSER,
     True),
    ({"Action": "rds-db:connect", "Resource": DBUSER.replace("tap_app", "tap_ap?")},
     "rds-db:connect", DBUSER, True),
    ({"Action": "rds-db:connect", "Resource": DBUSER.replace("tap_app", "TAP_APP")},
     "rds-db:connect", DBUSER, False),  # resources are case-sensitive
    ({"Action": "rds-db:connect", "Resource": DBUSER.replace("tap_app", "tap_ap?")},
     "rds-db:connect", DBUSER + "x", False),
    ({"NotAction": "s3:*", "Resource": DBUSER}, "rds-db:connect", DBUSER, True),
    ({"NotAction": "rds-db:*", "Resource": DBUSER}, "rds-db:connect", DBUSER, False),
    ({"Action": "rds-db:connect", "NotResource": "arn:aws:rds-db:*:*:dbuser:*/tap_admin"},
     "rds-db:connect", DBUSER, True),
    ({"Action": "rds-db:connect", "NotResource": DBUSER}, "rds-db:connect", DBUSER, False),
    ({"Action": "rds-db:connect"}, "rds-db:connect", DBUSER, False),  # no resource: invalid
])
def test_wildcards_and_negations(statement: dict[str, Any], action: str, resource: str,
                                 allowed: bool) -> None:
    decision = evaluate([("p", document(dict(statement, Effect="Allow")))], action, resource, {})
    assert decision.allowed is allowed


ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/app-task"


@pytest.mark.parametrize(("condition", "allowed"), [
    ({"StringEquals": {"aws:PrincipalArn": ROLE_ARN}}, True),
    ({"StringEquals": {"AWS:principalarn": [ROLE_ARN, "other"]}}, True),  # keys: any case
    ({"StringEquals": {"aws:PrincipalArn": ROLE_ARN.upper()}}, False),
    ({"StringEqualsIgnoreCase": {"aws:PrincipalArn": ROLE_ARN.upper()}}, True),
    ({"StringNotEquals": {"aws:PrincipalArn": ROLE_ARN}}, False),
    ({"StringNotEquals": {"aws:PrincipalArn": ["a", "b"]}}, True),
    ({"StringLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/app-*"}}, True),
    ({"StringNotLike": {"aws:PrincipalArn": "*app*"}}, False),
    ({"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/app-*"}}, True),
    ({"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::*"}}, False),  # six parts, each on its own
    ({"ArnEquals": {"aws:PrincipalArn": ROLE_ARN}}, True),
    ({"ArnNotLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/app-*"}}, False),
    ({"Bool": {"aws:SecureTransport": "true"}}, True),
    ({"Bool": {"aws:SecureTransport": False}}, False),
    ({"StringEquals": {"aws:SourceVpc": "vpc-1"}}, False),  # absent key: does not apply
    ({"StringEqualsIfExists": {"aws:SourceVpc": "vpc-1"}}, True),
    ({"StringEqualsIfExists": {"aws:PrincipalArn": "other"}}, False),
    ({"NumericLessThan": {"aws:MultiFactorAuthAge": "3600"}}, False),  # unknown operator
    ({"StringEquals": {"aws:PrincipalArn": ROLE_ARN}, "Bool": {"aws:SecureTransport": "false"}},
     False),  # every operator must hold
])
def test_conditions(condition: dict[str, Any], allowed: bool) -> None:
    context = {"aws:PrincipalArn": ROLE_ARN, "aws:SecureTransport": "true"}
    statement = dict(CONNECT, Condition=condition)
    assert evaluate([("p", document(statement))], "rds-db:connect", DBUSER,
                    context).allowed is allowed


def test_a_deny_whose_condition_key_is_absent_does_not_deny() -> None:
    deny = {"Effect": "Deny", "Action": "*", "Resource": "*",
            "Condition": {"Bool": {"aws:ViaAWSService": "false"}}}
    assert evaluate([("p", document(CONNECT, deny))], "rds-db:connect", DBUSER,
                    {}).allowed is True
    assert evaluate([("p", document(CONNECT, deny))], "rds-db:connect", DBUSER,
                    {"aws:ViaAWSService": "false"}).allowed is False


def test_policy_variables_come_from_the_context() -> None:
    statement = dict(CONNECT, Resource=DBUSER.replace("tap_app", "${aws:username}"))
    assert evaluate([("p", document(statement))], "rds-db:connect", DBUSER,
                    {"aws:username": "tap_app"}).allowed is True
    assert evaluate([("p", document(statement))], "rds-db:connect", DBUSER,
                    {"aws:username": "other"}).allowed is False
    assert evaluate([("p", document(statement))], "rds-db:connect", DBUSER, {}).allowed is False


def test_the_boundary_and_the_session_policy_limit_what_the_role_allows(
        role: Callable[..., str], managed: Callable[..., str]) -> None:
    boundary = managed({"Effect": "Allow", "Action": "s3:*", "Resource": "*"})
    arn = role({"Effect": "Allow", "Action": "*", "Resource": "*"}, boundary=boundary)
    assert authorized(arn, "s3:GetObject", "arn:aws:s3:::b/k").allowed is True
    assert authorized(arn, "rds-db:connect", DBUSER) == Decision(
        allowed=False, reason=f"{arn}: no statement allows rds-db:connect on {DBUSER} "
                              f"(implicit deny; policies: permissions boundary {boundary}) "
                              "(permissions boundary)")
    free = role(CONNECT)
    only_s3 = document({"Effect": "Allow", "Action": "s3:*", "Resource": "*"})
    assert authorized(free, "rds-db:connect", DBUSER, session_policy=only_s3) == Decision(
        allowed=False, reason=f"{free}: no statement allows rds-db:connect on {DBUSER} "
                              "(implicit deny; policies: session policy) (session policy)")


def test_a_user_gets_its_groups_policies(client: Callable[..., Any],
                                         managed: Callable[..., str]) -> None:
    iam = client("iam")
    name = f"user-{uuid.uuid4().hex[:8]}"
    user_arn = iam.create_user(UserName=name)["User"]["Arn"]
    iam.create_group(GroupName=name)
    iam.add_user_to_group(GroupName=name, UserName=name)
    assert authorized(user_arn, "rds-db:connect", DBUSER).allowed is False
    policy = managed(CONNECT)
    iam.attach_group_policy(GroupName=name, PolicyArn=policy)
    assert authorized(user_arn, "rds-db:connect", DBUSER) == Decision(
        allowed=True, reason=f"{user_arn}: rds-db:connect on {DBUSER} allowed by managed "
                             f"policy {policy} statement Connect")
