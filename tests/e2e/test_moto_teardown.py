"""What AWS refuses, or leaves behind, when an environment is deployed again or torn
down (pitfalls 21-24), through boto3 as the provider calls it. Tests of a gap fail on
plain moto 5.2.5 and pass with the extension named; the others document that moto
already answers as AWS does."""
from __future__ import annotations

import json
from typing import Any, Callable

import pytest
from botocore.exceptions import ClientError

from tests.e2e.test_moto_fidelity import vpc_with_subnets

ACCOUNT = "123456789012"


def _code(error: pytest.ExceptionInfo[ClientError]) -> str:
    return str(error.value.response["Error"]["Code"])


def _log_policy(bucket: str, principal: dict[str, str], prefix: str = "alb") -> str:
    """A log bucket policy shaped like lib/log_bucket.py's: deny plain HTTP, allow the
    delivery principal under ``<prefix>/AWSLogs/<account>/``."""
    return json.dumps({"Version": "2012-10-17", "Statement": [
        {"Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": ["s3:*"],
         "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"],
         "Condition": {"Bool": {"aws:SecureTransport": "false"}}},
        {"Sid": "LoadBalancerLogDelivery", "Effect": "Allow", "Principal": principal,
         "Action": ["s3:PutObject"],
         "Resource": [f"arn:aws:s3:::{bucket}/{prefix + '/' if prefix else ''}"
                      f"AWSLogs/{ACCOUNT}/*"]}]})


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


def test_objects_of_a_bucket_that_denies_plain_http(client: Callable[..., Any]) -> None:
    """Extension s3_secure_transport (moto denies every object request under a policy
    that denies plain HTTP); an unconditional Deny still denies."""
    s3 = client("s3")
    s3.create_bucket(Bucket="tls-only")
    s3.put_bucket_policy(Bucket="tls-only", Policy=_log_policy("tls-only", {"Service": "x"}))
    s3.put_object(Bucket="tls-only", Key="a/log", Body=b"line")
    assert s3.get_object(Bucket="tls-only", Key="a/log")["Body"].read() == b"line"
    deleted = s3.delete_objects(Bucket="tls-only", Delete={"Objects": [{"Key": "a/log"}]})
    assert [o["Key"] for o in deleted["Deleted"]] == ["a/log"]
    assert not deleted.get("Errors")
    s3.put_object(Bucket="tls-only", Key="b/log", Body=b"line")
    s3.put_bucket_policy(Bucket="tls-only", Policy=json.dumps({"Statement": [
        {"Effect": "Deny", "Principal": "*", "Action": "s3:GetObject",
         "Resource": "arn:aws:s3:::tls-only/b/*"}]}))
    with pytest.raises(ClientError) as denied:
        s3.get_object(Bucket="tls-only", Key="b/log")
    assert denied.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
