"""The moto extensions other than ElastiCache Serverless, through boto3 as the provider
calls them: each test fails on plain moto 5.2.5 and passes with the extension."""
from __future__ import annotations

from typing import Any, Callable

import pytest
from botocore.exceptions import ClientError
from moto.s3.models import OWNER

from emulator import moto_ext


def vpc_with_subnets(ec2: Any) -> tuple[str, list[str]]:
    """A VPC and two subnets in different zones of the client's region."""
    region = ec2.meta.region_name
    vpc = ec2.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
    subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.9.{i}.0/24",
                                 AvailabilityZone=f"{region}{zone}")["Subnet"]["SubnetId"]
               for i, zone in enumerate("ab")]
    return vpc, subnets


def distribution_config(reference: str, origin_id: str, domain: str,
                        viewer: dict[str, Any]) -> dict[str, Any]:
    """The smallest DistributionConfig: one HTTP custom origin, CachingDisabled."""
    return {
        "CallerReference": reference, "Comment": "c", "Enabled": True,
        "Origins": {"Quantity": 1, "Items": [{
            "Id": origin_id, "DomainName": domain,
            "CustomOriginConfig": {"HTTPPort": 80, "HTTPSPort": 443,
                                   "OriginProtocolPolicy": "http-only"}}]},
        "DefaultCacheBehavior": {
            "TargetOriginId": origin_id, "ViewerProtocolPolicy": "redirect-to-https",
            "CachePolicyId": "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"},
        "ViewerCertificate": viewer,
    }


def test_install_is_idempotent_and_names_every_extension() -> None:
    assert moto_ext.install() == moto_ext.install()
    assert len(moto_ext.install()) == len(moto_ext.EXTENSIONS)


def test_scalable_target_tags(client: Callable[..., Any]) -> None:
    ecs, scaling = client("ecs"), client("application-autoscaling")
    ecs.create_cluster(clusterName="c1")
    ecs.register_task_definition(family="t1", containerDefinitions=[
        {"name": "web", "image": "nginx", "memory": 128}])
    ecs.create_service(cluster="c1", serviceName="s1", taskDefinition="t1", desiredCount=1)
    arn = scaling.register_scalable_target(
        ServiceNamespace="ecs", ResourceId="service/c1/s1",
        ScalableDimension="ecs:service:DesiredCount", MinCapacity=1, MaxCapacity=2,
        Tags={"Environment": "test"})["ScalableTargetARN"]
    assert scaling.list_tags_for_resource(ResourceARN=arn)["Tags"] == {"Environment": "test"}
    scaling.tag_resource(ResourceARN=arn, Tags={"Extra": "1"})
    scaling.untag_resource(ResourceARN=arn, TagKeys=["Environment"])
    assert scaling.list_tags_for_resource(ResourceARN=arn)["Tags"] == {"Extra": "1"}
    scaling.deregister_scalable_target(ServiceNamespace="ecs", ResourceId="service/c1/s1",
                                       ScalableDimension="ecs:service:DesiredCount")
    with pytest.raises(ClientError) as gone:
        scaling.list_tags_for_resource(ResourceARN=arn)
    assert gone.value.response["Error"]["Code"] == "ResourceNotFoundException"


def test_ecs_service_keeps_its_settings(client: Callable[..., Any]) -> None:
    ecs = client("ecs")
    ecs.create_cluster(clusterName="c2")
    ecs.register_task_definition(family="t2", containerDefinitions=[
        {"name": "web", "image": "nginx", "memory": 128}])
    strategy = [{"capacityProvider": "FARGATE", "weight": 1, "base": 0},
                {"capacityProvider": "FARGATE_SPOT", "weight": 1, "base": 0}]
    ecs.create_service(
        cluster="c2", serviceName="s2", taskDefinition="t2", desiredCount=1,
        capacityProviderStrategy=strategy, enableExecuteCommand=True,
        deploymentConfiguration={"deploymentCircuitBreaker": {"enable": True, "rollback": True}},
        healthCheckGracePeriodSeconds=60, enableECSManagedTags=True,
        availabilityZoneRebalancing="DISABLED")
    (service,) = ecs.describe_services(cluster="c2", services=["s2"])["services"]
    assert service["capacityProviderStrategy"] == strategy
    assert service["enableExecuteCommand"] is True
    assert service["deploymentConfiguration"] == {
        "deploymentCircuitBreaker": {"enable": True, "rollback": True},
        "maximumPercent": 200, "minimumHealthyPercent": 100}
    assert service["healthCheckGracePeriodSeconds"] == 60
    assert service["enableECSManagedTags"] is True
    assert service["availabilityZoneRebalancing"] == "DISABLED"
    ecs.update_service(cluster="c2", service="s2", enableExecuteCommand=False)
    (service,) = ecs.describe_services(cluster="c2", services=["s2"])["services"]
    assert service["enableExecuteCommand"] is False
    assert service["capacityProviderStrategy"] == strategy


def test_load_balancer_defaults_to_internet_facing(client: Callable[..., Any]) -> None:
    _, subnets = vpc_with_subnets(client("ec2"))
    elbv2 = client("elbv2")
    (balancer,) = elbv2.create_load_balancer(Name="lb1", Subnets=subnets)["LoadBalancers"]
    assert balancer["Scheme"] == "internet-facing"
    internal = elbv2.create_load_balancer(Name="lb2", Subnets=subnets, Scheme="internal")
    assert internal["LoadBalancers"][0]["Scheme"] == "internal"


def test_rule_descriptions_for_group_and_prefix_list_rules(client: Callable[..., Any]) -> None:
    ec2 = client("ec2")
    vpc, _ = vpc_with_subnets(ec2)
    source = ec2.create_security_group(GroupName="src", Description="s", VpcId=vpc)["GroupId"]
    target = ec2.create_security_group(GroupName="dst", Description="d", VpcId=vpc)["GroupId"]
    prefix_list = ec2.create_managed_prefix_list(
        PrefixListName="pl", MaxEntries=1, AddressFamily="IPv4")["PrefixList"]["PrefixListId"]
    ec2.authorize_security_group_ingress(GroupId=target, IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 80, "ToPort": 80,
         "UserIdGroupPairs": [{"GroupId": source, "Description": "from the group"}]},
        {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443,
         "PrefixListIds": [{"PrefixListId": prefix_list, "Description": "from the list"}]},
        {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22,
         "IpRanges": [{"CidrIp": "10.0.0.0/8", "Description": "from the range"}]}])
    rules = ec2.describe_security_group_rules(
        Filters=[{"Name": "group-id", "Values": [target]}])["SecurityGroupRules"]
    descriptions = {rule["FromPort"]: rule.get("Description") for rule in rules
                    if not rule["IsEgress"]}
    assert descriptions == {80: "from the group", 443: "from the list", 22: "from the range"}


def test_distribution_reads_back_without_unset_blocks(client: Callable[..., Any]) -> None:
    cloudfront = client("cloudfront")
    config = distribution_config("ref-1", "alb", "alb.example.com",
                                 {"CloudFrontDefaultCertificate": True})
    distribution = cloudfront.create_distribution(DistributionConfig=config)["Distribution"]
    read = cloudfront.get_distribution(Id=distribution["Id"])["Distribution"]
    behaviour = read["DistributionConfig"]["DefaultCacheBehavior"]
    certificate = read["DistributionConfig"]["ViewerCertificate"]
    assert "ForwardedValues" not in behaviour
    assert behaviour["CachePolicyId"] == "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"
    assert certificate["CloudFrontDefaultCertificate"] is True
    assert not {"SSLSupportMethod", "ACMCertificateArn", "IAMCertificateId"} & set(certificate)


def test_provisioned_cluster_without_v1_scaling_and_no_automated_snapshots_after_delete(
        client: Callable[..., Any]) -> None:
    rds = client("rds")
    rds.create_db_cluster(
        DBClusterIdentifier="aurora-1", Engine="aurora-postgresql", EngineVersion="16.6",
        EngineMode="provisioned", MasterUsername="admin", MasterUserPassword="password123",
        ServerlessV2ScalingConfiguration={"MinCapacity": 0, "MaxCapacity": 2})
    (cluster,) = rds.describe_db_clusters(DBClusterIdentifier="aurora-1")["DBClusters"]
    assert "ScalingConfigurationInfo" not in cluster
    assert cluster["ServerlessV2ScalingConfiguration"]["MaxCapacity"] == 2
    rds.create_db_cluster_snapshot(DBClusterIdentifier="aurora-1",
                                   DBClusterSnapshotIdentifier="manual-1")
    rds.delete_db_cluster(DBClusterIdentifier="aurora-1", SkipFinalSnapshot=True)
    left = rds.describe_db_cluster_snapshots()["DBClusterSnapshots"]
    assert [(s["DBClusterSnapshotIdentifier"], s["SnapshotType"]) for s in left
            if s["DBClusterIdentifier"] == "aurora-1"] == [("manual-1", "manual")]


def test_list_buckets_owner_is_the_acl_owner(client: Callable[..., Any]) -> None:
    s3 = client("s3")
    s3.create_bucket(Bucket="owner-check")
    assert s3.list_buckets()["Owner"]["ID"] == OWNER
    assert s3.get_bucket_acl(Bucket="owner-check")["Owner"]["ID"] == OWNER


def test_instance_keeps_performance_insights(client: Callable[..., Any]) -> None:
    rds = client("rds")
    rds.create_db_cluster(
        DBClusterIdentifier="aurora-pi", Engine="aurora-postgresql", EngineVersion="16.6",
        MasterUsername="admin", MasterUserPassword="password123",
        ServerlessV2ScalingConfiguration={"MinCapacity": 0.5, "MaxCapacity": 4})
    key = "arn:aws:kms:us-east-1:123456789012:key/pi"
    created = rds.create_db_instance(
        DBInstanceIdentifier="aurora-pi-0", DBClusterIdentifier="aurora-pi",
        Engine="aurora-postgresql", DBInstanceClass="db.serverless",
        EnablePerformanceInsights=True, PerformanceInsightsKMSKeyId=key)["DBInstance"]
    assert created["PerformanceInsightsEnabled"] is True
    (instance,) = rds.describe_db_instances(DBInstanceIdentifier="aurora-pi-0")["DBInstances"]
    assert (instance["PerformanceInsightsEnabled"], instance["PerformanceInsightsKMSKeyId"],
            instance["PerformanceInsightsRetentionPeriod"]) == (True, key, 7)
    rds.modify_db_instance(DBInstanceIdentifier="aurora-pi-0", EnablePerformanceInsights=False)
    (instance,) = rds.describe_db_instances(DBInstanceIdentifier="aurora-pi-0")["DBInstances"]
    assert instance["PerformanceInsightsEnabled"] is False
    assert "PerformanceInsightsRetentionPeriod" not in instance


def test_create_load_balancer_is_idempotent_by_name(client: Callable[..., Any]) -> None:
    """Extension elbv2_idempotent_create (moto creates a second one of the same name)."""
    ec2, elbv2 = client("ec2", region="eu-west-3"), client("elbv2", region="eu-west-3")
    _, subnets = vpc_with_subnets(ec2)
    first = elbv2.create_load_balancer(Name="again-lb", Subnets=subnets)["LoadBalancers"][0]
    again = elbv2.create_load_balancer(Name="again-lb", Subnets=subnets)["LoadBalancers"][0]
    assert again["LoadBalancerArn"] == first["LoadBalancerArn"]
    assert len(elbv2.describe_load_balancers(Names=["again-lb"])["LoadBalancers"]) == 1
    with pytest.raises(ClientError) as refused:
        elbv2.create_load_balancer(Name="again-lb", Subnets=subnets, Scheme="internal")
    assert refused.value.response["Error"]["Code"] == "DuplicateLoadBalancerName"
