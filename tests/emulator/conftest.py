"""Fixtures of the moto extension tests: one in-process emulator per session, and plain
moto in a process of its own (``plain_client``) to show what moto does without them."""
# pylint: disable=redefined-outer-name
from __future__ import annotations

import subprocess
import sys
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


# A moto server of its own process, without the extensions: proof that a refusal is the
# extension's, not moto's. It prints its URL, then serves until its stdin closes.
_PLAIN_SERVER = """
import sys
from moto.server import ThreadedMotoServer
server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
server.start()
host, port = server.get_host_and_port()
print(f"http://{host}:{port}", flush=True)
sys.stdin.read()
server.stop()
"""


@pytest.fixture(scope="session")
def plain_client() -> Iterator[Callable[..., Any]]:
    """``plain_client("ec2")``: a boto3 client of plain moto (MOTO_VERSION, no extension)."""
    with subprocess.Popen([sys.executable, "-c", _PLAIN_SERVER], stdin=subprocess.PIPE,
                          stdout=subprocess.PIPE, text=True) as process:
        assert process.stdout is not None and process.stdin is not None
        url = process.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:"), url

        def make(service: str, region: str = "us-east-1") -> Any:
            return boto3.client(service, region_name=region, endpoint_url=url,
                                aws_access_key_id="testing", aws_secret_access_key="testing")
        yield make
        process.stdin.close()
        process.wait(timeout=30)
