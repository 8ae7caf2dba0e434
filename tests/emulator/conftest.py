"""Fixtures of the moto extension tests: one in-process emulator per session."""
# pylint: disable=redefined-outer-name
from __future__ import annotations

from typing import Any, Callable, Iterator

import boto3
import pytest
from moto.server import ThreadedMotoServer

from emulator import moto_ext
from emulator.moto_ext.ec2_vpc_quota import QUOTA_VARIABLE


@pytest.fixture(scope="session", autouse=True)
def roomy_vpc_quota() -> Iterator[None]:
    """The extension tests share moto's backends (one account per process) and create
    many VPCs in us-east-1: lift the VPC quota for them; test_moto_quotas.py sets its own,
    in regions of its own."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(QUOTA_VARIABLE, "1000")
        yield


@pytest.fixture(scope="session")
def endpoint() -> Iterator[str]:
    """URL of a moto server on a free loopback port with the extensions installed."""
    moto_ext.install()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture(scope="session")
def client(endpoint: str) -> Callable[..., Any]:
    """``client("ec2", region="us-east-1")``: a boto3 client of the emulator."""
    def make(service: str, region: str = "us-east-1") -> Any:
        return boto3.client(service, region_name=region, endpoint_url=endpoint,
                            aws_access_key_id="testing", aws_secret_access_key="testing")
    return make
