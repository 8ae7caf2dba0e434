"""The CloudFront VPC origin extension, through boto3 as aws_cloudfront_vpc_origin and
aws_cloudfront_distribution call it: each test fails on plain moto 5.2.5."""
from __future__ import annotations

import itertools
from typing import Any, Callable

import pytest
from botocore.exceptions import ClientError

from emulator.moto_ext.cloudfront_vpc_origin_network import SERVICE_GROUP_NAME

_CIDRS = itertools.count(20)


def origin_network(client: Callable[..., Any], *, gateway: bool = True) -> tuple[str, list[str]]:
    """A VPC (with an internet gateway unless told) and two private subnets."""
    ec2 = client("ec2")
    block = next(_CIDRS)
    vpc = ec2.create_vpc(CidrBlock=f"10.{block}.0.0/16")["Vpc"]["VpcId"]
    if gateway:
        igw = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
        ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=vpc)
    subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.{block}.{i}.0/24",
                                 AvailabilityZone=f"us-east-1{zone}")["Subnet"]["SubnetId"]
               for i, zone in enumerate("ab")]
    return vpc, subnets


def internal_balancer(client: Callable[..., Any], subnets: list[str], name: str,
                      **extra: Any) -> str:
    """An internal load balancer, Active (moto activates it on the first describe)."""
    elbv2 = client("elbv2")
    arn = elbv2.create_load_balancer(Name=name, Subnets=subnets, Scheme="internal",
                                     **extra)["LoadBalancers"][0]["LoadBalancerArn"]
    elbv2.describe_load_balancers(LoadBalancerArns=[arn])
    return str(arn)


def endpoint_config(arn: str, name: str = "origin", http_port: int = 80) -> dict[str, Any]:
    return {"Name": name, "Arn": arn, "HTTPPort": http_port, "HTTPSPort": 443,
            "OriginProtocolPolicy": "http-only",
            "OriginSslProtocols": {"Quantity": 1, "Items": ["TLSv1.2"]}}


def distribution_config(origin_id: str, reference: str,
                        timeouts: dict[str, int] | None = None) -> dict[str, Any]:
    """A distribution whose one origin is the VPC origin."""
    return {
        "CallerReference": reference, "Comment": "c", "Enabled": True,
        "Origins": {"Quantity": 1, "Items": [{
            "Id": "alb", "DomainName": "internal-alb.us-east-1.elb.amazonaws.com",
            "VpcOriginConfig": {"VpcOriginId": origin_id, **(timeouts or {})}}]},
        "DefaultCacheBehavior": {
            "TargetOriginId": "alb", "ViewerProtocolPolicy": "redirect-to-https",
            "CachePolicyId": "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"},
    }


def error_code(error: pytest.ExceptionInfo[ClientError]) -> tuple[str, int]:
    response = error.value.response
    return response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"]


def test_lifecycle_with_etags_and_statuses(client: Callable[..., Any]) -> None:
    cloudfront = client("cloudfront")
    _, subnets = origin_network(client)
    arn = internal_balancer(client, subnets, "vo-life")
    created = cloudfront.create_vpc_origin(VpcOriginEndpointConfig=endpoint_config(arn))
    origin = created["VpcOrigin"]
    assert created["ResponseMetadata"]["HTTPStatusCode"] == 202
    assert origin["Status"] == "Deploying"
    assert origin["Arn"] == f"arn:aws:cloudfront::123456789012:vpcorigin/{origin['Id']}"
    assert origin["VpcOriginEndpointConfig"] == endpoint_config(arn)
    read = cloudfront.get_vpc_origin(Id=origin["Id"])
    assert read["VpcOrigin"]["Status"] == "Deployed"
    assert read["ETag"] == created["ETag"]
    assert read["VpcOrigin"]["CreatedTime"] == origin["CreatedTime"]
    listed = cloudfront.list_vpc_origins()["VpcOriginList"]["Items"]
    assert {"Id": origin["Id"], "Name": "origin", "OriginEndpointArn": arn,
            "Status": "Deployed"}.items() <= next(
                item for item in listed if item["Id"] == origin["Id"]).items()

    with pytest.raises(ClientError) as stale:
        cloudfront.update_vpc_origin(Id=origin["Id"], IfMatch="stale",
                                     VpcOriginEndpointConfig=endpoint_config(arn, http_port=8080))
    assert error_code(stale) == ("PreconditionFailed", 412)
    updated = cloudfront.update_vpc_origin(
        Id=origin["Id"], IfMatch=read["ETag"],
        VpcOriginEndpointConfig=endpoint_config(arn, http_port=8080))
    assert updated["VpcOrigin"]["Status"] == "Deploying"
    assert updated["ETag"] != read["ETag"]
    again = cloudfront.get_vpc_origin(Id=origin["Id"])
    assert again["VpcOrigin"]["VpcOriginEndpointConfig"]["HTTPPort"] == 8080
    assert again["VpcOrigin"]["Status"] == "Deployed"

    with pytest.raises(ClientError) as old:
        cloudfront.delete_vpc_origin(Id=origin["Id"], IfMatch=read["ETag"])
    assert error_code(old) == ("PreconditionFailed", 412)
    cloudfront.delete_vpc_origin(Id=origin["Id"], IfMatch=again["ETag"])
    with pytest.raises(ClientError) as gone:
        cloudfront.get_vpc_origin(Id=origin["Id"])
    assert error_code(gone) == ("EntityNotFound", 404)


def test_tags_given_at_create_are_readable_and_leave_with_the_origin(
        client: Callable[..., Any]) -> None:
    cloudfront = client("cloudfront")
    _, subnets = origin_network(client)
    created = cloudfront.create_vpc_origin(
        VpcOriginEndpointConfig=endpoint_config(internal_balancer(client, subnets, "vo-tags")),
        Tags={"Items": [{"Key": "Environment", "Value": "test"}]})
    arn = created["VpcOrigin"]["Arn"]
    assert cloudfront.list_tags_for_resource(Resource=arn)["Tags"]["Items"] == [
        {"Key": "Environment", "Value": "test"}]
    cloudfront.tag_resource(Resource=arn, Tags={"Items": [{"Key": "Extra", "Value": "1"}]})
    assert len(cloudfront.list_tags_for_resource(Resource=arn)["Tags"]["Items"]) == 2
    cloudfront.delete_vpc_origin(Id=created["VpcOrigin"]["Id"], IfMatch=created["ETag"])
    assert not cloudfront.list_tags_for_resource(Resource=arn)["Tags"].get("Items")


def test_first_origin_of_a_vpc_creates_the_service_managed_group(
        client: Callable[..., Any]) -> None:
    cloudfront, ec2 = client("cloudfront"), client("ec2")
    vpc, subnets = origin_network(client)
    arn = internal_balancer(client, subnets, "vo-group")
    by_name = [{"Name": "vpc-id", "Values": [vpc]},
               {"Name": "group-name", "Values": [SERVICE_GROUP_NAME]}]
    assert not ec2.describe_security_groups(Filters=by_name)["SecurityGroups"]
    first = cloudfront.create_vpc_origin(VpcOriginEndpointConfig=endpoint_config(arn, "one"))
    cloudfront.create_vpc_origin(VpcOriginEndpointConfig=endpoint_config(arn, "two"))
    (group,) = ec2.describe_security_groups(Filters=by_name)["SecurityGroups"]
    assert {"Key": "aws.cloudfront.vpcorigin", "Value": "enabled"} in group["Tags"]
    cloudfront.delete_vpc_origin(Id=first["VpcOrigin"]["Id"], IfMatch=first["ETag"])
    assert ec2.describe_security_groups(Filters=by_name)["SecurityGroups"] == [group]


def test_refuses_the_origins_aws_documents_as_unusable(client: Callable[..., Any]) -> None:
    cloudfront = client("cloudfront")
    _, lonely = origin_network(client, gateway=False)
    _, subnets = origin_network(client)
    group = client("ec2").describe_security_groups()["SecurityGroups"][0]["GroupId"]
    refused = {
        "no internet gateway": internal_balancer(client, lonely, "vo-no-igw"),
        "gateway load balancer": internal_balancer(client, subnets, "vo-gwlb", Type="gateway"),
        "network load balancer without a security group":
            internal_balancer(client, subnets, "vo-nlb", Type="network"),
        "dual-stack network load balancer": internal_balancer(
            client, subnets, "vo-nlb-dual", Type="network", SecurityGroups=[group],
            IpAddressType="dualstack"),
        "unknown load balancer": "arn:aws:elasticloadbalancing:us-east-1:123456789012:"
                                 "loadbalancer/app/missing/0123456789abcdef",
        "unsupported region": "arn:aws-us-gov:elasticloadbalancing:us-gov-west-1:"
                              "123456789012:loadbalancer/app/gov/0123456789abcdef",
        "not a load balancer or instance": "arn:aws:s3:::a-bucket",
    }
    for reason, arn in refused.items():
        with pytest.raises(ClientError) as error:
            cloudfront.create_vpc_origin(VpcOriginEndpointConfig=endpoint_config(arn))
        assert error_code(error) == ("InvalidArgument", 400), reason


def test_distribution_keeps_vpc_origin_config_and_holds_the_origin(
        client: Callable[..., Any]) -> None:
    cloudfront = client("cloudfront")
    _, subnets = origin_network(client)
    created = cloudfront.create_vpc_origin(
        VpcOriginEndpointConfig=endpoint_config(internal_balancer(client, subnets, "vo-dist")))
    origin_id = created["VpcOrigin"]["Id"]
    config = distribution_config(origin_id, "vo-ref", {"OriginReadTimeout": 60,
                                                       "OriginKeepaliveTimeout": 10})
    distribution = cloudfront.create_distribution(DistributionConfig=config)["Distribution"]
    read = cloudfront.get_distribution_config(Id=distribution["Id"])
    (origin,) = read["DistributionConfig"]["Origins"]["Items"]
    assert origin["VpcOriginConfig"] == {"VpcOriginId": origin_id, "OriginReadTimeout": 60,
                                         "OriginKeepaliveTimeout": 10}
    assert "CustomOriginConfig" not in origin

    config["Origins"]["Items"][0]["VpcOriginConfig"] = {"VpcOriginId": origin_id}
    cloudfront.update_distribution(Id=distribution["Id"], IfMatch=read["ETag"],
                                   DistributionConfig=config)
    (origin,) = cloudfront.get_distribution_config(
        Id=distribution["Id"])["DistributionConfig"]["Origins"]["Items"]
    assert origin["VpcOriginConfig"] == {"VpcOriginId": origin_id, "OriginReadTimeout": 30,
                                         "OriginKeepaliveTimeout": 5}

    config["Origins"]["Items"][0]["VpcOriginConfig"]["OriginReadTimeout"] = 121
    with pytest.raises(ClientError) as too_long:
        cloudfront.update_distribution(Id=distribution["Id"], IfMatch=read["ETag"],
                                       DistributionConfig=config)
    assert error_code(too_long) == ("InvalidArgument", 400)

    with pytest.raises(ClientError) as in_use:
        cloudfront.delete_vpc_origin(Id=origin_id, IfMatch=created["ETag"])
    assert error_code(in_use) == ("CannotDeleteEntityWhileInUse", 409)
    cloudfront.delete_distribution(Id=distribution["Id"], IfMatch=read["ETag"])
    cloudfront.delete_vpc_origin(Id=origin_id, IfMatch=created["ETag"])


def test_an_origin_a_distribution_uses_is_not_updated(
        client: Callable[..., Any], plain_client: Callable[..., Any]) -> None:
    """Ports or protocol change by replacing the origin (pitfall 30); plain moto has no
    VPC origins at all (no route: 404 for every call)."""
    cloudfront = client("cloudfront")
    _, subnets = origin_network(client)
    arn = internal_balancer(client, subnets, "vo-update")
    created = cloudfront.create_vpc_origin(VpcOriginEndpointConfig=endpoint_config(arn))
    origin_id, etag = created["VpcOrigin"]["Id"], created["ETag"]
    distribution = cloudfront.create_distribution(
        DistributionConfig=distribution_config(origin_id, "vo-update"))
    with pytest.raises(ClientError) as stale:  # the If-Match check comes first
        cloudfront.update_vpc_origin(Id=origin_id, IfMatch="stale",
                                     VpcOriginEndpointConfig=endpoint_config(arn, http_port=8080))
    assert error_code(stale) == ("PreconditionFailed", 412)
    with pytest.raises(ClientError) as in_use:
        cloudfront.update_vpc_origin(Id=origin_id, IfMatch=etag,
                                     VpcOriginEndpointConfig=endpoint_config(arn, http_port=8080))
    assert error_code(in_use) == ("CannotUpdateEntityWhileInUse", 409)
    assert in_use.value.response["Error"]["Message"] == (
        f"The VPC origin {origin_id} is in use by distribution "
        f"{distribution['Distribution']['Id']}.")
    read = cloudfront.get_vpc_origin(Id=origin_id)
    assert read["ETag"] == etag
    assert read["VpcOrigin"]["VpcOriginEndpointConfig"]["HTTPPort"] == 80
    cloudfront.delete_distribution(Id=distribution["Distribution"]["Id"],
                                   IfMatch=distribution["ETag"])
    updated = cloudfront.update_vpc_origin(
        Id=origin_id, IfMatch=etag, VpcOriginEndpointConfig=endpoint_config(arn, http_port=8080))
    assert updated["VpcOrigin"]["VpcOriginEndpointConfig"]["HTTPPort"] == 8080
    cloudfront.delete_vpc_origin(Id=origin_id, IfMatch=updated["ETag"])

    with pytest.raises(ClientError) as unknown:
        plain_client("cloudfront").update_vpc_origin(
            Id=origin_id, IfMatch=etag, VpcOriginEndpointConfig=endpoint_config(arn))
    assert error_code(unknown) == ("404", 404)
