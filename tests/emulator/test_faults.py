"""The emulator's fault hook (emulator/faults.py, in front of moto in emulator/server.py):
armed errors reach boto3 as the AWS error code, in each protocol, once; delays delay."""
# pylint: disable=redefined-outer-name
from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
from typing import Any, Callable, Iterator

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from emulator import faults
from emulator.faults import FAULTS_PATH
from emulator.server import HOST, listen


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    """The emulator's WSGI application (extensions, fault hook) on a free loopback port."""
    server = listen(0, None)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()
    yield f"http://{HOST}:{server.server_port}"
    server.shutdown()
    thread.join()


@pytest.fixture(autouse=True)
def cleared(url: str) -> Iterator[None]:
    """Every test starts and ends with no fault armed."""
    faults.clear(url)
    yield
    faults.clear(url)


@pytest.fixture
def aws(url: str) -> Callable[..., Any]:
    """``aws("ec2")``: a boto3 client of the hooked emulator, without retries."""
    def make(service: str) -> Any:
        return boto3.client(service, region_name="us-east-1", endpoint_url=url,
                            aws_access_key_id="testing", aws_secret_access_key="testing",
                            config=Config(retries={"total_max_attempts": 1}))
    return make


def _fails_once(call: Callable[[], Any], code: str) -> ClientError:
    with pytest.raises(ClientError) as failed:
        call()
    assert failed.value.response["Error"]["Code"] == code
    call()
    return failed.value


def test_query_protocol_error_then_success(url: str, aws: Callable[..., Any]) -> None:
    elasticache = aws("elasticache")
    armed = faults.arm(url, "CreateServerlessCache",
                       code="ServerlessCacheQuotaForCustomerExceededFault",
                       message="quota reached")
    assert faults.armed(url) == [armed]
    error = _fails_once(lambda: elasticache.create_serverless_cache(
        ServerlessCacheName="fault-cache", Engine="valkey"),
        "ServerlessCacheQuotaForCustomerExceededFault")
    assert error.response["Error"]["Message"] == "quota reached"
    assert error.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    (fired,) = faults.fired(url)
    assert fired["id"] == armed["id"]
    assert fired["request"] == {"region": "us-east-1", "service": "elasticache",
                                "action": "CreateServerlessCache", "method": "POST",
                                "path": "/"}
    assert fired["fired_at"].endswith("+00:00")
    assert faults.armed(url) == []


def test_json_protocol_error_then_success(url: str, aws: Callable[..., Any]) -> None:
    secrets = aws("secretsmanager")
    faults.arm(url, "CreateSecret", code="LimitExceededException", service="secretsmanager")
    _fails_once(lambda: secrets.create_secret(Name="fault-secret", SecretString="x"),
                "LimitExceededException")


def test_ec2_error_then_success(url: str, aws: Callable[..., Any]) -> None:
    ec2 = aws("ec2")
    faults.arm(url, "CreateVpc", code="VpcLimitExceeded", message="The maximum number of VPCs")
    error = _fails_once(lambda: ec2.create_vpc(CidrBlock="10.7.0.0/16"), "VpcLimitExceeded")
    assert error.response["Error"]["Message"] == "The maximum number of VPCs"


def test_rest_request_matched_by_method_and_path(url: str, aws: Callable[..., Any]) -> None:
    s3 = aws("s3")
    s3.create_bucket(Bucket="fault-bucket")
    faults.arm(url, None, method="DELETE", path=r"^/fault-bucket/?$", code="BucketNotEmpty",
               status=409, times=2)
    for _ in range(2):
        with pytest.raises(ClientError) as refused:
            s3.delete_bucket(Bucket="fault-bucket")
        assert refused.value.response["Error"]["Code"] == "BucketNotEmpty"
        assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 409
    s3.delete_bucket(Bucket="fault-bucket")
    assert len(faults.fired(url)) == 2


def test_delay_holds_the_request_then_passes_it_on(url: str, aws: Callable[..., Any]) -> None:
    ec2 = aws("ec2")
    faults.arm(url, "DescribeVpcs", delay_seconds=0.25)
    started = time.monotonic()
    assert ec2.describe_vpcs()["Vpcs"]
    assert time.monotonic() - started >= 0.25
    ec2.describe_vpcs()
    assert [fault["delay_seconds"] for fault in faults.fired(url)] == [0.25]


@pytest.mark.parametrize("body", [
    b'{"code": "X"}', b'{"action": "A"}', b'{"action": "A", "code": "X", "times": 0}',
    b'{"action": "A", "code": "X", "status": 200}', b'{"action": "A", "code": "X", "c": 1}',
    b'{"path": "(", "code": "X"}', b"[]", b"not json"])
def test_invalid_faults_are_rejected(url: str, body: bytes) -> None:
    request = urllib.request.Request(f"{url}{FAULTS_PATH}", data=body, method="POST")
    with pytest.raises(urllib.error.HTTPError) as rejected:
        urllib.request.urlopen(request, timeout=10)  # pylint: disable=consider-using-with
    assert rejected.value.code == 400
    assert "error" in json.loads(rejected.value.read())
    assert faults.armed(url) == []
