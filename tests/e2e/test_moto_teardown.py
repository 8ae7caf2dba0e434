"""What AWS refuses, or leaves behind, when an environment is deployed again or torn
down (pitfalls 21-24), through boto3 as the provider calls it. Tests of a gap fail on
plain moto 5.2.5 and pass with the extension named; the others document that moto
already answers as AWS does."""
from __future__ import annotations

from typing import Any, Callable

import pytest
from botocore.exceptions import ClientError

from tests.e2e.test_moto_fidelity import vpc_with_subnets

ACCOUNT = "123456789012"


def _code(error: pytest.ExceptionInfo[ClientError]) -> str:
    return str(error.value.response["Error"]["Code"])


def _load_balancer(client: Callable[..., Any], name: str, region: str = "us-east-1") -> str:
    _, subnets = vpc_with_subnets(client("ec2", region=region))
    balancers = client("elbv2", region=region).create_load_balancer(Name=name, Subnets=subnets)
    return str(balancers["LoadBalancers"][0]["LoadBalancerArn"])


def test_protected_load_balancer_is_not_deleted(client: Callable[..., Any]) -> None:
    """Extension elbv2_deletion_protection (moto deletes it)."""
    elbv2 = client("elbv2")
    arn = _load_balancer(client, "protected-lb")
    elbv2.modify_load_balancer_attributes(LoadBalancerArn=arn, Attributes=[
        {"Key": "deletion_protection.enabled", "Value": "true"}])
    with pytest.raises(ClientError) as refused:
        elbv2.delete_load_balancer(LoadBalancerArn=arn)
    assert _code(refused) == "OperationNotPermitted"
    assert refused.value.response["Error"]["Message"] == (
        f"Load balancer '{arn}' cannot be deleted because deletion protection is enabled")
    assert elbv2.describe_load_balancers(LoadBalancerArns=[arn])["LoadBalancers"]
    elbv2.modify_load_balancer_attributes(LoadBalancerArn=arn, Attributes=[
        {"Key": "deletion_protection.enabled", "Value": "false"}])
    elbv2.delete_load_balancer(LoadBalancerArn=arn)
    with pytest.raises(ClientError) as gone:
        elbv2.describe_load_balancers(LoadBalancerArns=[arn])
    assert _code(gone) == "LoadBalancerNotFound"
