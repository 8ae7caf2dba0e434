"""tests/e2e/leftovers.py: its listers on in-process moto, one resource of each new kind.

The e2e runs ``find_leftovers`` against the emulator after every destroy; here each lister
the registry of types (lib/resource_types.py) names for the application's jobs and the viewer
domain (queues, schedules, certificates) finds an environment's resource by its name or tags
and ignores a neighbour's (``tap-devx``), and every other lister runs. CloudFront's VPC
origins and ElastiCache's serverless caches are not in plain moto (the emulator adds them):
their answers are stubbed, in the shapes botocore validates.
"""
from __future__ import annotations

from typing import Any

import boto3
from botocore.stub import Stubber

from lib.resource_types import RESOURCES
from tests.e2e.leftovers import LISTERS, find_leftovers, retained

REGION = "eu-west-1"
GLOBAL = "us-east-1"
ROLE = "arn:aws:iam::123456789012:role/tap-dev-job-nightly"


def tags(suffix: str) -> list[dict[str, str]]:
    return [{"Key": "Project", "Value": "tap"}, {"Key": "Environment", "Value": suffix}]


def cloudfront(origins: list[dict[str, Any]]) -> Any:
    """A CloudFront client answering, in the listers' order, no distributions and
    ``origins``."""
    client = boto3.client("cloudfront", region_name=GLOBAL)
    stubber = Stubber(client)
    stubber.add_response("list_distributions", {"DistributionList": {
        "Marker": "", "MaxItems": 100, "IsTruncated": False, "Quantity": 0}})
    stubber.add_response("list_vpc_origins", {"VpcOriginList": {
        "Marker": "", "MaxItems": 100, "IsTruncated": False, "Quantity": len(origins),
        "Items": origins}})
    stubber.activate()
    return client


def no_caches(region: str | None) -> Any:
    """An ElastiCache client of ``region`` answering that there is no serverless cache."""
    client = boto3.client("elasticache", region_name=region)
    stubber = Stubber(client)
    stubber.add_response("describe_serverless_caches", {"ServerlessCaches": []})
    stubber.activate()
    return client


def clients(cf: Any) -> Any:
    """The client factory of find_leftovers: moto's, but the stubbed CloudFront and
    ElastiCache."""
    def client(service: str, region: str | None = None) -> Any:
        if service == "cloudfront":
            return cf
        return no_caches(region) if service == "elasticache" else boto3.client(
            service, region_name=region)
    return client


def origin(name: str, origin_id: str) -> dict[str, Any]:
    return {"Id": origin_id, "Name": name, "Status": "Deployed",
            "CreatedTime": "2026-12-01T00:00:00Z", "LastModifiedTime": "2026-12-01T00:00:00Z",
            "Arn": f"arn:aws:cloudfront::123456789012:vpcorigin/{origin_id}",
            "OriginEndpointArn": "arn:aws:elasticloadbalancing:eu-west-1:123456789012:"
                                 "loadbalancer/app/tap-dev-alb/0123456789abcdef"}


def test_the_jobs_and_viewer_domain_kinds_are_found(moto_aws: None) -> None:
    del moto_aws
    for suffix in ("dev", "devx"):
        boto3.client("sqs", region_name=REGION).create_queue(QueueName=f"tap-{suffix}-jobs-dlq")
        boto3.client("scheduler", region_name=REGION).create_schedule(
            Name=f"tap-{suffix}-nightly", ScheduleExpression="rate(1 day)",
            FlexibleTimeWindow={"Mode": "OFF"},
            Target={"Arn": "arn:aws:ecs:eu-west-1:123456789012:cluster/c", "RoleArn": ROLE})
        boto3.client("acm", region_name=GLOBAL).request_certificate(
            DomainName=f"{suffix}.example.com", ValidationMethod="DNS", Tags=tags(suffix))
    client = clients(cloudfront([origin("tap-dev-alb", "vo_dev"),
                                 origin("tap-devx-alb", "vo_devx")]))
    found = find_leftovers(client, "dev", [REGION, GLOBAL])
    certificate = [line for line in found if " certificate arn:aws:acm:" in line]
    assert found == [
        f"{REGION}: schedule tap-dev-nightly",
        f"{REGION}: sqs queue https://sqs.{REGION}.amazonaws.com/123456789012/tap-dev-jobs-dlq",
        *certificate,
        "vpc origin vo_dev tap-dev-alb"]
    assert len(certificate) == 1 and certificate[0].startswith(f"{GLOBAL}: certificate ")
    assert retained(client, "dev", [REGION]) == []


def test_every_lister_runs_on_an_empty_account(moto_aws: None) -> None:
    del moto_aws
    assert not find_leftovers(clients(cloudfront([])), "dev", [REGION])
    # Every lister but one serves a type of the registry; that one, a type the stack no longer
    # makes (pitfall 25).
    named = {entry.leftovers for entry in RESOURCES.values()}
    assert set(LISTERS) - named == {"log resource policy"}
