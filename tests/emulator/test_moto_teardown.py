"""What AWS refuses, or leaves behind, when an environment is deployed again or torn
down (pitfalls 21-24), through boto3 as the provider calls it. Tests of a gap fail on
plain moto 5.2.5 and pass with the extension named; the others document that moto
already answers as AWS does."""
from __future__ import annotations

import json
from typing import Any, Callable

import pytest
from botocore.exceptions import ClientError

from emulator.moto_ext.elbv2_access_logs import (LOG_DELIVERY_PRINCIPAL, delivery_allowed,
                                                 delivery_principals)
from tests.emulator.test_moto_fidelity import vpc_with_subnets

ACCOUNT = "123456789012"
US_EAST_1_ELB = "arn:aws:iam::127311923021:root"


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


def _attributes(elbv2: Any, arn: str) -> dict[str, str]:
    answer = elbv2.describe_load_balancer_attributes(LoadBalancerArn=arn)
    return {attribute["Key"]: attribute["Value"] for attribute in answer["Attributes"]}


def _enable_logs(elbv2: Any, arn: str, bucket: str, prefix: str | None = "alb") -> Any:
    attributes = [{"Key": "access_logs.s3.enabled", "Value": "true"},
                  {"Key": "access_logs.s3.bucket", "Value": bucket}]
    if prefix is not None:
        attributes.append({"Key": "access_logs.s3.prefix", "Value": prefix})
    return elbv2.modify_load_balancer_attributes(LoadBalancerArn=arn, Attributes=attributes)


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


def test_access_logging_writes_the_test_object(client: Callable[..., Any]) -> None:
    """Extension elbv2_access_logs (moto writes nothing); then S3 keeps the bucket, as
    AWS does (moto matches): a non-empty bucket is not deleted, BucketNotEmpty (409),
    https://docs.aws.amazon.com/AmazonS3/latest/API/API_DeleteBucket.html and
    https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html"""
    elbv2, s3 = client("elbv2"), client("s3")
    arn = _load_balancer(client, "logging-lb")
    s3.create_bucket(Bucket="alb-logs-ok")
    s3.put_bucket_policy(Bucket="alb-logs-ok", Policy=_log_policy("alb-logs-ok",
                                                                  {"AWS": US_EAST_1_ELB}))
    _enable_logs(elbv2, arn, "alb-logs-ok")
    key = f"alb/AWSLogs/{ACCOUNT}/ELBAccessLogTestFile"
    assert [o["Key"] for o in s3.list_objects_v2(Bucket="alb-logs-ok")["Contents"]] == [key]
    body = s3.get_object(Bucket="alb-logs-ok", Key=key)["Body"].read()
    assert body.startswith(b"Enable AccessLog for ELB: logging-lb at ")
    assert _attributes(elbv2, arn)["access_logs.s3.bucket"] == "alb-logs-ok"
    with pytest.raises(ClientError) as not_empty:
        s3.delete_bucket(Bucket="alb-logs-ok")
    assert _code(not_empty) == "BucketNotEmpty"
    assert not_empty.value.response["ResponseMetadata"]["HTTPStatusCode"] == 409
    s3.delete_object(Bucket="alb-logs-ok", Key=key)
    s3.delete_bucket(Bucket="alb-logs-ok")


@pytest.mark.parametrize("bucket, policy, encryption", [
    ("alb-logs-missing", None, None),
    ("alb-logs-no-policy", None, None),
    ("alb-logs-other-prefix", _log_policy("alb-logs-other-prefix", {"AWS": US_EAST_1_ELB},
                                          prefix="web"), None),
    ("alb-logs-other-region", _log_policy("alb-logs-other-region",
                                          {"AWS": "arn:aws:iam::027434742980:root"}), None),
    ("alb-logs-kms", _log_policy("alb-logs-kms", {"Service": LOG_DELIVERY_PRINCIPAL}),
     "aws:kms"),
], ids=["no-bucket", "no-policy", "other-prefix", "other-region-account", "sse-kms"])
def test_access_logging_is_refused_where_elb_may_not_write(
        client: Callable[..., Any], bucket: str, policy: str | None,
        encryption: str | None) -> None:
    """Extension elbv2_access_logs (moto accepts any bucket name)."""
    elbv2, s3 = client("elbv2"), client("s3")
    arn = _load_balancer(client, f"lb-{bucket[9:]}")
    if bucket != "alb-logs-missing":
        s3.create_bucket(Bucket=bucket)
    if policy:
        s3.put_bucket_policy(Bucket=bucket, Policy=policy)
    if encryption:
        s3.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration={"Rules": [
            {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": encryption}}]})
    with pytest.raises(ClientError) as refused:
        _enable_logs(elbv2, arn, bucket)
    assert _code(refused) == "InvalidConfigurationRequest"
    assert refused.value.response["Error"]["Message"] == (
        f"Access Denied for bucket: {bucket}. Please check S3bucket permission")
    assert _attributes(elbv2, arn).get("access_logs.s3.enabled", "false") == "false"


@pytest.mark.parametrize("region, principal", [
    ("us-west-1", {"AWS": "arn:aws:iam::027434742980:root"}),
    ("us-west-1", {"Service": LOG_DELIVERY_PRINCIPAL}),
    ("eu-central-2", {"Service": LOG_DELIVERY_PRINCIPAL}),
], ids=["us-west-1-account", "us-west-1-service", "eu-central-2-service"])
def test_access_logging_per_region_principal_without_prefix(
        client: Callable[..., Any], region: str, principal: dict[str, str]) -> None:
    """Extension elbv2_access_logs: the Region's ELB account (older Regions) or the
    service principal (all Regions); no prefix puts AWSLogs at the bucket's root."""
    elbv2, s3 = client("elbv2", region=region), client("s3", region=region)
    bucket = f"logs-{region}-{next(iter(principal)).lower()}"
    arn = _load_balancer(client, f"lb-{region}-{next(iter(principal)).lower()}", region)
    s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": region})
    s3.put_bucket_policy(Bucket=bucket, Policy=_log_policy(bucket, principal, prefix=""))
    _enable_logs(elbv2, arn, bucket, prefix=None)
    s3.head_object(Bucket=bucket, Key=f"AWSLogs/{ACCOUNT}/ELBAccessLogTestFile")


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


def test_delivery_allowed_reads_a_policy_simply() -> None:
    key = f"arn:aws:s3:::b/alb/AWSLogs/{ACCOUNT}/ELBAccessLogTestFile"
    principals = delivery_principals("us-east-1")
    assert principals == [US_EAST_1_ELB, LOG_DELIVERY_PRINCIPAL]
    assert delivery_principals("eu-central-2") == [LOG_DELIVERY_PRINCIPAL]

    def allows(*statements: dict[str, Any]) -> bool:
        return delivery_allowed(json.dumps({"Statement": list(statements)}), principals, key)

    allow = {"Effect": "Allow", "Principal": {"AWS": "127311923021"},
             "Action": "s3:Put*", "Resource": "arn:aws:s3:::b/alb/AWSLogs/*/ELBAccess?ogTestFile"}
    assert allows(allow)
    assert delivery_allowed(json.dumps({"Statement": allow}), principals, key)
    assert not allows({**allow, "Principal": {"AWS": ["arn:aws:iam::111111111111:root"]}})
    assert not allows({**allow, "Action": ["s3:GetObject"]})
    assert not allows({**allow, "Resource": "arn:aws:s3:::b/web/*"})
    assert not allows(allow, {**allow, "Effect": "Deny", "Principal": "*"})
    assert allows(allow, {**allow, "Effect": "Deny", "Principal": "*",
                          "Condition": {"Bool": {"aws:SecureTransport": "false"}}})
    assert not delivery_allowed(None, principals, key)


def test_secret_name_stays_taken_while_scheduled_for_deletion(
        client: Callable[..., Any]) -> None:
    """Extension secretsmanager_scheduled_deletion (moto answers ResourceExistsException);
    restore and forced deletion already behave as in AWS."""
    secrets = client("secretsmanager")
    secrets.create_secret(Name="tap/scheduled", SecretString="v1")
    secrets.delete_secret(SecretId="tap/scheduled", RecoveryWindowInDays=7)
    with pytest.raises(ClientError) as scheduled:
        secrets.create_secret(Name="tap/scheduled", SecretString="v2")
    assert _code(scheduled) == "InvalidRequestException"
    assert scheduled.value.response["Error"]["Message"] == (
        "You can't create this secret because a secret with this name is already "
        "scheduled for deletion.")
    secrets.restore_secret(SecretId="tap/scheduled")
    with pytest.raises(ClientError) as exists:
        secrets.create_secret(Name="tap/scheduled", SecretString="v2")
    assert _code(exists) == "ResourceExistsException"
    secrets.delete_secret(SecretId="tap/scheduled", ForceDeleteWithoutRecovery=True)
    secrets.create_secret(Name="tap/scheduled", SecretString="v3")
    assert secrets.get_secret_value(SecretId="tap/scheduled")["SecretString"] == "v3"


def test_cluster_deletion_protection_and_taken_final_snapshot_name(
        client: Callable[..., Any]) -> None:
    """moto already refuses a protected cluster and a taken snapshot name as AWS does;
    extension rds_cluster keeps the managed master secret of a refused delete (moto
    deletes it before it refuses)."""
    rds, secrets = client("rds"), client("secretsmanager")
    rds.create_db_cluster(
        DBClusterIdentifier="aurora-guarded", Engine="aurora-postgresql", EngineVersion="16.6",
        MasterUsername="admin", ManageMasterUserPassword=True, DeletionProtection=True)
    with pytest.raises(ClientError) as protected:
        rds.delete_db_cluster(DBClusterIdentifier="aurora-guarded", SkipFinalSnapshot=True)
    assert _code(protected) == "InvalidParameterCombination"
    rds.modify_db_cluster(DBClusterIdentifier="aurora-guarded", DeletionProtection=False,
                          ApplyImmediately=True)
    rds.create_db_cluster_snapshot(DBClusterIdentifier="aurora-guarded",
                                   DBClusterSnapshotIdentifier="aurora-guarded-final")
    with pytest.raises(ClientError) as taken:
        rds.create_db_cluster_snapshot(DBClusterIdentifier="aurora-guarded",
                                       DBClusterSnapshotIdentifier="aurora-guarded-final")
    assert _code(taken) == "DBClusterSnapshotAlreadyExistsFault"
    with pytest.raises(ClientError) as taken:
        rds.delete_db_cluster(DBClusterIdentifier="aurora-guarded",
                              FinalDBSnapshotIdentifier="aurora-guarded-final")
    assert _code(taken) == "DBClusterSnapshotAlreadyExistsFault"
    (cluster,) = rds.describe_db_clusters(DBClusterIdentifier="aurora-guarded")["DBClusters"]
    secrets.describe_secret(SecretId=cluster["MasterUserSecret"]["SecretArn"])
    rds.delete_db_cluster(DBClusterIdentifier="aurora-guarded",
                          FinalDBSnapshotIdentifier="aurora-guarded-final-2")
    snapshots = rds.describe_db_cluster_snapshots(DBClusterIdentifier="aurora-guarded")
    assert sorted(s["DBClusterSnapshotIdentifier"] for s in snapshots["DBClusterSnapshots"]) == [
        "aurora-guarded-final", "aurora-guarded-final-2"]
