"""Extension ec2_vpc_quota: VPCs and internet gateways per region stop at AWS's quota,
with AWS's errors, counting the default VPC and the gateway AWS gives it (moto 5.2.5
creates them without limit). Each test uses a region of its own: the count is per
region, and the other extension tests fill us-east-1 (conftest.py lifts the quota for
them)."""
from __future__ import annotations

from typing import Any, Callable

import pytest
from botocore.exceptions import ClientError

from emulator.moto_ext import ec2_vpc_quota
from emulator.moto_ext.ec2_vpc_quota import QUOTA_VARIABLE, quota


def _refused(call: Callable[[], Any]) -> dict[str, Any]:
    with pytest.raises(ClientError) as refused:
        call()
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    return dict(refused.value.response["Error"])


def test_vpcs_stop_at_the_default_quota_counting_the_default_vpc(
        client: Callable[..., Any], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(QUOTA_VARIABLE)
    ec2 = client("ec2", region="ap-northeast-3")
    (default,) = ec2.describe_vpcs()["Vpcs"]
    assert default["IsDefault"]
    created = [ec2.create_vpc(CidrBlock=f"10.{i}.0.0/16")["Vpc"]["VpcId"] for i in range(4)]
    error = _refused(lambda: ec2.create_vpc(CidrBlock="10.4.0.0/16"))
    assert error == {"Code": "VpcLimitExceeded",
                     "Message": "The maximum number of VPCs has been reached."}
    assert len(ec2.describe_vpcs()["Vpcs"]) == 5
    ec2.delete_vpc(VpcId=created[0])  # a deleted VPC frees its place
    ec2.create_vpc(CidrBlock="10.4.0.0/16")
    assert client("ec2", region="ap-southeast-3").create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]


def test_internet_gateways_stop_at_the_quota_counting_the_default_vpcs_gateway(
        client: Callable[..., Any], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(QUOTA_VARIABLE, "3")
    ec2 = client("ec2", region="eu-south-1")
    gateways = [ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
                for _ in range(2)]
    error = _refused(ec2.create_internet_gateway)
    assert error == {"Code": "InternetGatewayLimitExceeded",
                     "Message": "The maximum number of internet gateways has been reached."}
    # Attached to the default VPC, a gateway takes the place counted for it.
    default = ec2.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])["Vpcs"]
    ec2.attach_internet_gateway(InternetGatewayId=gateways[0], VpcId=default[0]["VpcId"])
    ec2.create_internet_gateway()
    _refused(ec2.create_internet_gateway)


def test_the_quota_is_the_emulators_variable(client: Callable[..., Any],
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """A platform team's region: its own VPC beside the default one, quota 3: one more
    VPC fits (the last one), the next is refused."""
    monkeypatch.setenv(QUOTA_VARIABLE, "3")
    ec2 = client("ec2", region="eu-central-2")
    ec2.create_vpc(CidrBlock="10.0.0.0/16")
    ec2.create_vpc(CidrBlock="10.1.0.0/16")
    assert _refused(lambda: ec2.create_vpc(CidrBlock="10.2.0.0/16"))["Code"] == \
        "VpcLimitExceeded"
    monkeypatch.setenv(QUOTA_VARIABLE, "4")  # raised: read at each call
    ec2.create_vpc(CidrBlock="10.2.0.0/16")


@pytest.mark.parametrize("value, expected", [("", 5), ("7", 7), (" 2 ", 2)])
def test_quota_values(monkeypatch: pytest.MonkeyPatch, value: str, expected: int) -> None:
    monkeypatch.setenv(QUOTA_VARIABLE, value)
    assert quota() == expected


@pytest.mark.parametrize("value", ["0", "-1", "five", "2.5"])
def test_bad_quota_values_stop_the_emulator(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv(QUOTA_VARIABLE, value)
    with pytest.raises(ValueError, match=QUOTA_VARIABLE):
        ec2_vpc_quota.install()
