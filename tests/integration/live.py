"""Machinery of the live checks: emulator detection, expectations, clients, probes.

* ``is_emulator(environ)``: ``AWS_ENDPOINT_URL`` points at a loopback address (moto on
  127.0.0.1 in the e2e harness). Checks an emulator cannot answer are marked
  ``real_aws`` and skip there; the ``answer`` / ``optional`` helpers turn an
  operation or a field the emulator does not implement into a skip on the emulator and
  leave it a failure against AWS.
* ``expected_settings(outputs, environ)``: the ``Settings`` the deployment was built
  from, re-derived from its outputs (suffix, region) and the environment, so each check
  compares the live value with what ``lib.config.PROFILES`` promises.
* ``network_promise(settings)``: what the network tier must look like, for the stack's
  own VPC or for a network it was given (VPC_ID and the subnet lists); ``stack_tagged``
  recognizes what the stack created by its default tags.
* ``Clients``: boto3 clients per service and region, with ``AWS_ENDPOINT_URL`` passed
  explicitly (botocore >= 1.31 also reads it itself).
* ``http_status(url)`` and ``wait_for(...)``: bounded in time.
"""
from __future__ import annotations

import ipaddress
import json
import os
import socket
import ssl
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping, TypeVar
from urllib.parse import urlparse

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from botocore.parsers import ResponseParserError

from emulator.runtime.proxy import UpstreamError
from emulator.runtime.viewer import fetch, resolve
from lib.config import NAT_NONE, NAT_PER_AZ, NAT_SINGLE, Settings, load_settings
from lib.naming import PROJECT
from tests.integration.outputs import Outputs

ENDPOINT_VARIABLE = "AWS_ENDPOINT_URL"
EMULATOR_REASON = "the emulator cannot answer this"
HTTP_TIMEOUT_SECONDS = 10.0  # one request
SETTLE_SECONDS = 300.0  # how long a fresh deployment may take to report healthy targets
TIERS = ("public", "private", "isolated")
MIN_AVAILABILITY_ZONES = 2  # each tier of a given network: lib/network.py's postcondition
_NOT_IMPLEMENTED_CODES = frozenset({"NotImplemented", "InternalFailure", "InternalError",
                                    "500", "501"})
T = TypeVar("T")


def is_emulator(environ: Mapping[str, str]) -> bool:
    """True when ``AWS_ENDPOINT_URL`` names a loopback host (localhost, 127.0.0.0/8, ::1)."""
    endpoint = environ.get(ENDPOINT_VARIABLE, "").strip()
    if not endpoint:
        return False
    host = urlparse(endpoint if "//" in endpoint else f"//{endpoint}").hostname or ""
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def expected_settings(outputs: Outputs, environ: Mapping[str, str]) -> Settings:
    """The validated settings of the deployed environment (its suffix and region come
    from the outputs; every other variable from ``environ``, as at deploy time)."""
    return load_settings({**environ,
                          "ENVIRONMENT_SUFFIX": outputs.require("environment_suffix"),
                          "AWS_REGION": outputs.require("aws_region")})


def expected_nat_gateways(settings: Settings) -> int:
    """NAT gateways the settings promise: none, one, or one per AZ."""
    return {NAT_NONE: 0, NAT_SINGLE: 1, NAT_PER_AZ: settings.az_count}[settings.nat_mode]


@dataclass(frozen=True)
class NetworkPromise:
    """What the network tier must look like.

    ``owned``: the stack created the VPC, subnets, gateways, routes and flow logs (its
    CIDR is ``vpc_cidr``, each tier has one subnet in each of ``az_count`` AZs). Not
    owned (bring your own network): the outputs carry ``vpc_id`` and ``subnet_ids``
    exactly as given, each tier spans at least MIN_AVAILABILITY_ZONES AZs, and the
    stack created none of those network resources."""

    owned: bool
    nat_gateways: int
    az_count: int
    vpc_id: str | None = None  # the given VPC; None: the stack's own (from the outputs)
    vpc_cidr: str | None = None  # only the stack's own VPC has a CIDR the settings fix
    subnet_ids: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # given, per tier

    def subnets_in(self, tier: str) -> int:
        """How many subnets ``tier`` has: one per AZ, or as many as were given."""
        return self.az_count if self.owned else len(self.subnet_ids[tier])

    def zones_of(self, tier: str) -> range:
        """How many distinct AZs ``tier`` may span: exactly ``az_count`` in the stack's
        own network; from MIN_AVAILABILITY_ZONES to one per subnet in a given one."""
        if self.owned:
            return range(self.az_count, self.az_count + 1)
        return range(MIN_AVAILABILITY_ZONES, len(self.subnet_ids[tier]) + 1)


def network_promise(settings: Settings) -> NetworkPromise:
    """The network tier ``settings`` promise (see ``NetworkPromise``)."""
    given = settings.existing_network
    if given is None:
        return NetworkPromise(owned=True, nat_gateways=expected_nat_gateways(settings),
                              az_count=settings.az_count, vpc_cidr=settings.vpc_cidr)
    return NetworkPromise(owned=False, nat_gateways=0, az_count=settings.az_count,
                          vpc_id=given.vpc_id,
                          subnet_ids={tier: given.subnet_ids(tier) for tier in TIERS})


def stack_tagged(settings: Settings, tags: list[dict[str, str]] | None) -> bool:
    """True when ``tags`` are the stack's default tags (Project and Environment): the
    resource was created by this environment's stack."""
    found = tag_map(tags)
    return found.get("Project") == PROJECT and \
        found.get("Environment") == settings.environment_suffix


class Clients:
    """boto3 clients, one per (service, region), created on first use."""

    def __init__(self, region: str, environ: Mapping[str, str]) -> None:
        self.region = region
        self.emulator = is_emulator(environ)
        self._endpoint = environ.get(ENDPOINT_VARIABLE) or None
        # An emulator answers at once or never: don't retry what it does not implement.
        self._config = Config(retries={"total_max_attempts": 1 if self.emulator else 6,
                                       "mode": "standard"})
        self._session = boto3.Session()
        self._cache: dict[tuple[str, str], Any] = {}

    def __call__(self, service: str, region: str | None = None) -> Any:
        key = (service, region or self.region)
        if key not in self._cache:
            self._cache[key] = self._session.client(service, region_name=key[1],
                                                    endpoint_url=self._endpoint,
                                                    config=self._config)
        return self._cache[key]


def _not_implemented(error: Exception) -> bool:
    if isinstance(error, ResponseParserError):
        return True
    if isinstance(error, ClientError):
        code = str(error.response.get("Error", {}).get("Code", ""))
        status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        return code in _NOT_IMPLEMENTED_CODES or status >= 500
    return False


def answer(emulator: bool, call: Callable[[], T], what: str) -> T:
    """``call()``; on the emulator, an operation it does not implement skips the check."""
    try:
        return call()
    except (ClientError, ResponseParserError) as error:
        if emulator and _not_implemented(error):
            first_line = str(error).splitlines()[0][:160]
            pytest.skip(f"the emulator does not implement {what} ({first_line})")
        raise


def optional(emulator: bool, document: Mapping[str, Any], key: str, what: str) -> Any:
    """``document[key]``; on the emulator a missing field skips (it does not model it)."""
    if key not in document and emulator:
        pytest.skip(f"the emulator does not model {what} ({key})")
    assert key in document, f"{what}: {key} missing from {sorted(document)}"
    return document[key]


def wait_for(probe: Callable[[], T], done: Callable[[T], bool], timeout: float,
             interval: float = 5.0) -> T:
    """Call ``probe`` until ``done(result)`` or ``timeout`` seconds; returns the last result."""
    deadline = time.monotonic() + timeout
    result = probe()
    while not done(result) and time.monotonic() < deadline:
        time.sleep(interval)
        result = probe()
    return result


def emulated_site(environ: Mapping[str, str]) -> Path | None:
    """On an emulator that runs what is deployed: the runtime directory whose hosts file and
    CA serve the site (``GET <endpoint>/_tap/runtime/edge``); None on AWS, or on an emulator
    without a runtime (then nothing answers HTTP there)."""
    if not is_emulator(environ):
        return None
    endpoint = environ[ENDPOINT_VARIABLE].rstrip("/")
    direct = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback
    try:
        with direct.open(f"{endpoint}/_tap/runtime/edge", timeout=HTTP_TIMEOUT_SECONDS) as edge:
            return Path(json.loads(edge.read())["hostsFile"]).parent
    except (urllib.error.URLError, OSError, ValueError, KeyError):
        return None


def http_get(url: str, timeout: float = HTTP_TIMEOUT_SECONDS, verify: bool = True
             ) -> tuple[int | str, bytes]:
    """A GET: its status and body, or the connection error's text and b"". On the emulator
    the request goes to the emulated site (emulator/runtime/viewer.py: its names, its CA)."""
    runtime = emulated_site(os.environ)
    if runtime is not None:
        try:
            reply = fetch(url, runtime_dir=runtime, timeout=timeout)
        except (LookupError, UpstreamError, OSError) as error:
            return f"{type(error).__name__}: {error}", b""
        return reply.status, reply.body
    status = http_status(url, timeout, verify)
    return status, b""


def http_status(url: str, timeout: float = HTTP_TIMEOUT_SECONDS, verify: bool = True,
                ) -> int | str:
    """The HTTP status of a GET, or the connection error's text (refused, timed out...).

    ``verify=False`` skips certificate checks: probing a load balancer by its AWS DNS
    name, where only the answer matters, not whose certificate it presents. On the emulator:
    ``http_get``'s status."""
    if emulated_site(os.environ) is not None:
        return http_get(url, timeout, verify)[0]
    request = urllib.request.Request(url, headers={"User-Agent": "tap-integration-suite"})
    context = ssl.create_default_context()
    if not verify:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE  # nosec B501: a probe, no data is exchanged
    try:
        with urllib.request.urlopen(request, timeout=timeout,  # nosec B310
                                    context=context) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)
    except (urllib.error.URLError, OSError) as error:
        return f"{type(error).__name__}: {getattr(error, 'reason', error)}"


def resolves(host: str) -> bool:
    """True when DNS resolves ``host`` (on the emulator: its hosts file)."""
    runtime = emulated_site(os.environ)
    if runtime is not None:
        return resolve(runtime / "hosts", host) is not None
    try:
        return bool(socket.getaddrinfo(host, None))
    except OSError:
        return False


def assert_secret_kms_encrypted(aws: Clients, secret_id: str) -> dict[str, Any]:
    """The secret exists, is not scheduled for deletion, and uses a customer-managed key."""
    secret: dict[str, Any] = aws("secretsmanager").describe_secret(SecretId=secret_id)
    assert "DeletedDate" not in secret, f"{secret_id} is scheduled for deletion"
    key = secret.get("KmsKeyId") or ""
    assert key and "alias/aws/" not in key, f"{secret_id}: not on a customer key ({key!r})"
    return secret


def tag_map(tags: list[dict[str, str]] | None) -> dict[str, str]:
    """``[{"Key": k, "Value": v}, ...]`` as a dict."""
    return {tag["Key"]: tag["Value"] for tag in tags or []}
