"""What AWS services write into an environment within minutes of its deploy.

``service_writes(run)`` does it to the emulator deployment, so that destroy is tested
with data in the buckets (pitfall 21):
- Elastic Load Balancing access logs, at
  ``<prefix>/AWSLogs/<account>/elasticloadbalancing/<region>/<yyyy>/<mm>/<dd>/
  <account>_elasticloadbalancing_<region>_app.<lb-name>.<lb-id>_<time>_<ip>_<random>.log.gz``
  in the bucket the load balancer's ``access_logs.s3.*`` attributes name (the emulator
  itself writes ``ELBAccessLogTestFile`` when access logging is switched on);
- CloudFront standard logs, ``<prefix><distribution-id>.<YYYY-MM-DD-HH>.<unique>.gz``, in
  the bucket and under the prefix of the distribution's logging configuration;
- WAF logs, ``AWSLogs/<account>/WAFLogs/cloudfront/<web-acl>/<yyyy>/<mm>/<dd>/<HH>/<mm>/
  <account>_waflogs_cloudfront_<web-acl>_<time>_<hash>.log.gz``, in the ``aws-waf-logs-``
  bucket the web ACL's logging configuration names (vended log delivery).
Buckets and log groups are found from the live resources, never from names. Before a
write, the phase checks that the delivering service may make it: the bucket policy for
load balancer logs (``delivery_allowed`` of emulator/moto_ext/elbv2_access_logs.py),
the bucket's ACL grant to the ``awslogsdelivery`` account for CloudFront, the bucket
policy for WAF's log delivery.
The counts found afterwards go to the report.
"""
from __future__ import annotations

import gzip
import json
import secrets
from datetime import datetime, timezone
from typing import Any

from emulator.moto_ext.elbv2_access_logs import TEST_OBJECT, delivery_allowed, \
    delivery_principals
from tests.e2e.harness import GLOBAL_REGION, PhaseFailed, Run
from tests.e2e.phases import deployed_outputs

LOGS_DELIVERY = "delivery.logs.amazonaws.com"
# The canonical user of CloudFront's log delivery account (awslogsdelivery), in the
# aws partition; the data source aws_cloudfront_log_delivery_canonical_user_id says so.
AWSLOGSDELIVERY = "c4c1ede66af53448b93c283ce9448c4ba468c9432aa01d700d3878632f77d2d0"
FILES = 3  # log files per bucket, events per log group


def service_writes(run: Run) -> None:
    """Write ALB, CloudFront and WAF logs as the services do; record what is there."""
    values = deployed_outputs(run)
    account = run.client("sts").get_caller_identity()["Account"]
    now = datetime.now(timezone.utc)
    run.report.service_writes = {
        "alb_logs": _alb_logs(run, values["alb_arn"], account, now),
        "cloudfront_logs": _cloudfront_logs(run, values["cloudfront_distribution_id"], now),
        "waf_logs": _waf_logs(run, values["waf_web_acl_arn"], account, now),
    }
    empty = [kind for kind, found in run.report.service_writes.items() if not found["count"]]
    if empty:
        raise PhaseFailed(f"service-writes: nothing found afterwards in {', '.join(empty)}")


def _alb_logs(run: Run, alb_arn: str, account: str, now: datetime) -> dict[str, Any]:
    attributes = {a["Key"]: a["Value"] for a in run.client("elbv2").describe_load_balancer_attributes(
        LoadBalancerArn=alb_arn)["Attributes"]}
    if attributes.get("access_logs.s3.enabled") != "true":
        raise PhaseFailed(f"service-writes: access logs are off on {alb_arn}")
    bucket, prefix = attributes["access_logs.s3.bucket"], attributes.get("access_logs.s3.prefix")
    name, lb_id = alb_arn.split(":loadbalancer/app/", 1)[1].split("/")
    s3 = run.client("s3")
    folder = (f"{prefix + '/' if prefix else ''}AWSLogs/{account}/elasticloadbalancing/"
              f"{run.region}/{now:%Y/%m/%d}/")
    for index in range(FILES):
        key = (f"{folder}{account}_elasticloadbalancing_{run.region}_app.{name}.{lb_id}_"
               f"{now:%Y%m%dT%H%M}Z_10.0.{index}.10_{secrets.token_hex(4)}.log.gz")
        _check_policy(s3, bucket, key, delivery_principals(run.region))
        line = (f'http {now:%Y-%m-%dT%H:%M:%S}.000000Z app/{name}/{lb_id} 192.0.2.1:41234 '
                f'10.0.{index}.20:80 0.001 0.002 0.000 200 200 120 512 "GET http://'
                f'{name}:80/ HTTP/1.1" "curl/8" - - {alb_arn} "Root=1-0-0" "-" "-" 0 '
                f'{now:%Y-%m-%dT%H:%M:%S}.000000Z "forward" "-" "-" "10.0.{index}.20:80" '
                f'"200" "-" "-"\n')
        s3.put_object(Bucket=bucket, Key=key, Body=gzip.compress(line.encode()))
    return {"bucket": bucket, "count": _count(s3, bucket),
            "test_file": _exists(s3, bucket, f"{prefix + '/' if prefix else ''}AWSLogs/"
                                              f"{account}/{TEST_OBJECT}")}


def _check_policy(s3: Any, bucket: str, key: str, principals: list[str]) -> None:
    policy = s3.get_bucket_policy(Bucket=bucket)["Policy"]
    if not delivery_allowed(policy, principals, f"arn:aws:s3:::{bucket}/{key}"):
        raise PhaseFailed(f"service-writes: the policy of {bucket} does not let "
                          f"{' or '.join(principals)} write {key}")


def _cloudfront_logs(run: Run, distribution_id: str, now: datetime) -> dict[str, Any]:
    logging = run.client("cloudfront").get_distribution_config(Id=distribution_id)[
        "DistributionConfig"]["Logging"]
    if not logging.get("Enabled"):
        raise PhaseFailed(f"service-writes: standard logging is off on {distribution_id}")
    bucket = logging["Bucket"].split(".s3.", 1)[0]  # <name>.s3.amazonaws.com
    s3 = run.client("s3", GLOBAL_REGION)
    ownership = s3.get_bucket_ownership_controls(Bucket=bucket)["OwnershipControls"]["Rules"][0]
    grants = s3.get_bucket_acl(Bucket=bucket)["Grants"]
    if ownership["ObjectOwnership"] == "BucketOwnerEnforced" or not any(
            g["Grantee"].get("ID") == AWSLOGSDELIVERY and g["Permission"] == "FULL_CONTROL"
            for g in grants):
        raise PhaseFailed(f"service-writes: CloudFront log delivery may not write to {bucket} "
                          f"(ownership {ownership['ObjectOwnership']}, grants {grants})")
    for _ in range(FILES):
        key = f"{logging.get('Prefix', '')}{distribution_id}.{now:%Y-%m-%d-%H}.{secrets.token_hex(4)}.gz"
        line = (f"{now:%Y-%m-%d}\t{now:%H:%M:%S}\tIAD89-C1\t512\t192.0.2.1\tGET\t"
                f"d111111abcdef8.cloudfront.net\t/\t200\t-\tcurl/8\t-\t-\tMiss\n")
        s3.put_object(Bucket=bucket, Key=key,
                      Body=gzip.compress(b"#Version: 1.0\n" + line.encode()))
    return {"bucket": bucket, "count": _count(s3, bucket, logging.get("Prefix", ""))}


def _waf_logs(run: Run, web_acl_arn: str, account: str, now: datetime) -> dict[str, Any]:
    destinations = run.client("wafv2", GLOBAL_REGION).get_logging_configuration(
        ResourceArn=web_acl_arn)["LoggingConfiguration"]["LogDestinationConfigs"]
    if not destinations[0].startswith("arn:aws:s3:::"):
        raise PhaseFailed(f"service-writes: WAF logs go to {destinations[0]}, not a bucket")
    bucket = destinations[0].removeprefix("arn:aws:s3:::")
    acl_name = web_acl_arn.rsplit("/", 2)[-2]
    folder = f"AWSLogs/{account}/WAFLogs/cloudfront/{acl_name}/{now:%Y/%m/%d/%H/%M}/"
    s3 = run.client("s3", GLOBAL_REGION)
    for index in range(FILES):
        key = (f"{folder}{account}_waflogs_cloudfront_{acl_name}_{now:%Y%m%dT%H%M}Z_"
               f"{secrets.token_hex(4)}.log.gz")
        _check_policy(s3, bucket, key, [LOGS_DELIVERY])
        record = json.dumps({
            "timestamp": int(now.timestamp() * 1000) + index, "formatVersion": 1,
            "webaclId": web_acl_arn, "terminatingRuleId": "Default_Action", "action": "ALLOW",
            "httpSourceName": "CF",
            "httpRequest": {"clientIp": "192.0.2.1", "httpMethod": "GET", "uri": "/"}})
        s3.put_object(Bucket=bucket, Key=key, Body=gzip.compress(record.encode() + b"\n"),
                      ACL="bucket-owner-full-control")
    return {"bucket": bucket, "count": _count(s3, bucket, f"AWSLogs/{account}/WAFLogs/")}


def _count(s3: Any, bucket: str, prefix: str = "") -> int:
    return int(s3.list_objects_v2(Bucket=bucket, Prefix=prefix).get("KeyCount", 0))


def _exists(s3: Any, bucket: str, key: str) -> bool:
    return bool(s3.list_objects_v2(Bucket=bucket, Prefix=key).get("KeyCount", 0))
