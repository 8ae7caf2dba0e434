"""Offline self-test of the integration suite: its machinery, and its outputs against the stack.

Runs without any deployment: loading both shapes of the outputs file, the skip when it
is missing or empty, emulator detection, the expectations derived from the profiles,
and the proof that every output the suite reads is declared by the synthesized stacks.
"""
from __future__ import annotations

import ast
import http.server
import json
import socket
import subprocess
import threading
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError
from botocore.parsers import ResponseParserError

from lib.network import MIN_AVAILABILITY_ZONES, TIERS
from tests.integration import conftest as integration_conftest
from tests.integration.live import (MIN_AVAILABILITY_ZONES as LIVE_MIN_AZS, TIERS as LIVE_TIERS,
                                    Clients, answer, expected_nat_gateways, expected_settings,
                                    http_status, is_emulator, network_promise, optional,
                                    resolves, stack_tagged, wait_for)
from tests.integration.outputs import (DEFAULT_OUTPUTS_FILE, READ_OUTPUTS, NoOutputs, Outputs,
                                       OutputsError, as_list, load_outputs, outputs_path)
from tests.unit.synth import Synth

ROOT = Path(__file__).resolve().parents[2]
INTEGRATION = ROOT / "tests" / "integration"
VALUES = {"vpc_id": "vpc-1", "public_subnet_ids": ["subnet-a", "subnet-b"],
          "environment_suffix": "dev", "aws_region": "us-east-1"}


def _write(tmp_path: Path, content: Any) -> Path:
    path = tmp_path / "outputs.json"
    path.write_text(content if isinstance(content, str) else json.dumps(content),
                    encoding="utf-8")
    return path


# -- the outputs file --------------------------------------------------------------

def test_nested_shape_of_cdktf_deploy(tmp_path: Path) -> None:
    path = _write(tmp_path, {"TapStackdev": VALUES})
    assert load_outputs(path, {}) == ("TapStackdev", VALUES)


def test_flat_shape(tmp_path: Path) -> None:
    assert load_outputs(_write(tmp_path, VALUES), {}) == (None, VALUES)


def test_terraform_output_json_entries_are_unwrapped(tmp_path: Path) -> None:
    document = {"vpc_id": {"value": "vpc-1", "type": "string", "sensitive": False},
                "public_subnet_ids": {"value": ["subnet-a"], "type": ["list", "string"]}}
    assert load_outputs(_write(tmp_path, document), {}) == (
        None, {"vpc_id": "vpc-1", "public_subnet_ids": ["subnet-a"]})
    nested = load_outputs(_write(tmp_path, {"TapStackqa": document}), {})
    assert nested == ("TapStackqa", {"vpc_id": "vpc-1", "public_subnet_ids": ["subnet-a"]})


def test_several_stacks_choose_the_environment_suffix(tmp_path: Path) -> None:
    path = _write(tmp_path, {"TapStackdev": VALUES, "TapStackprod": {"vpc_id": "vpc-2"}})
    assert load_outputs(path, {"ENVIRONMENT_SUFFIX": "prod"}) == (
        "TapStackprod", {"vpc_id": "vpc-2"})
    with pytest.raises(OutputsError, match="several stacks"):
        load_outputs(path, {"ENVIRONMENT_SUFFIX": "qa"})


@pytest.mark.parametrize("content", ["", "  \n", "{}", '{"TapStackdev": {}}'])
def test_empty_file_means_no_deployment(tmp_path: Path, content: str) -> None:
    with pytest.raises(NoOutputs, match="no deployment outputs"):
        load_outputs(_write(tmp_path, content), {})


def test_missing_file_means_no_deployment(tmp_path: Path) -> None:
    with pytest.raises(NoOutputs, match="does not exist"):
        load_outputs(tmp_path / "absent.json", {})


@pytest.mark.parametrize("content, message", [
    ("{not json", "not JSON"),
    ("[1, 2]", "expected a JSON object"),
    ('{"TapStackdev": {"vpc_id": "v"}, "vpc_id": "v"}', "mixes stacks"),
    ('{"Other": {"vpc_id": "v"}}', "no TapStack<suffix> key"),
])
def test_unusable_file_is_an_error_not_a_skip(tmp_path: Path, content: str,
                                              message: str) -> None:
    with pytest.raises(OutputsError, match=message) as raised:
        load_outputs(_write(tmp_path, content), {})
    assert not isinstance(raised.value, NoOutputs)


def test_outputs_path(tmp_path: Path) -> None:
    assert outputs_path({}, ROOT) == ROOT / DEFAULT_OUTPUTS_FILE
    assert outputs_path({"TAP_OUTPUTS_FILE": str(tmp_path / "x.json")}, ROOT) == \
        tmp_path / "x.json"


@pytest.mark.parametrize("value, expected", [
    (["a", "b"], ["a", "b"]),
    ('["a", "b"]', ["a", "b"]),
    ("a, b,c", ["a", "b", "c"]),
    ("", []),
    ("[]", []),
])
def test_lists_arrive_as_lists_or_strings(value: Any, expected: list[str]) -> None:
    assert as_list("x", value) == expected


def test_bad_lists_are_errors() -> None:
    with pytest.raises(OutputsError):
        as_list("x", "[oops")
    with pytest.raises(OutputsError):
        as_list("x", 3)


def test_outputs_accessors() -> None:
    outputs = Outputs("TapStackdev", {**VALUES, "alb_arn": ""}, Path("f.json"))
    assert outputs.require("vpc_id") == "vpc-1"
    assert outputs.require_list("public_subnet_ids") == ["subnet-a", "subnet-b"]
    with pytest.raises(KeyError, match="READ_OUTPUTS"):
        outputs.require("not_an_output")
    with pytest.raises(OutputsError, match="'alb_arn' missing from f.json of TapStackdev"):
        outputs.require("alb_arn")
    with pytest.raises(OutputsError, match="single value"):
        outputs.require("public_subnet_ids")


# -- the names the suite reads, against the stack ---------------------------------

def _reads_an_output(node: ast.AST) -> bool:
    """``*.require(...)``, ``*.require_list(...)`` or ``outputs.value(...)``."""
    if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
        return False
    if node.func.attr == "value":
        return isinstance(node.func.value, ast.Name) and node.func.value.id == "outputs"
    return node.func.attr in ("require", "require_list")


def _names_read_by_the_suite() -> set[str]:
    """First arguments of every call that reads an output (``_reads_an_output``)."""
    names = set()
    for path in INTEGRATION.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if _reads_an_output(node):
                assert isinstance(node, ast.Call)
                argument = node.args[0]
                assert isinstance(argument, ast.Constant), f"{path}: dynamic output name"
                names.add(argument.value)
    return names


def test_read_outputs_lists_exactly_what_the_suite_reads() -> None:
    assert _names_read_by_the_suite() == set(READ_OUTPUTS)
    assert len(READ_OUTPUTS) == len(set(READ_OUTPUTS))


def test_stack_declares_every_output_the_suite_reads(stacks: dict[str, Synth]) -> None:
    missing = {suffix: sorted(set(READ_OUTPUTS) - set(stack.outputs))
               for suffix, stack in stacks.items()}
    assert missing == {suffix: [] for suffix in stacks}, f"outputs not declared: {missing}"


# -- emulator detection and the skips -----------------------------------------------

@pytest.mark.parametrize("endpoint, expected", [
    ("http://127.0.0.1:5000", True),
    ("http://127.1.2.3:4566", True),
    ("http://localhost:4566", True),
    ("http://[::1]:5000", True),
    ("127.0.0.1:5000", True),
    ("https://s3.eu-west-1.amazonaws.com", False),
    ("http://10.0.0.5:5000", False),
    ("http://moto:5000", False),
    ("", False),
])
def test_emulator_is_a_loopback_endpoint(endpoint: str, expected: bool) -> None:
    assert is_emulator({"AWS_ENDPOINT_URL": endpoint}) is expected
    assert is_emulator({}) is False


class _Item:
    """The part of a pytest item the ``real_aws`` hook uses."""

    def __init__(self, marker: pytest.Mark | None) -> None:
        self.marker = marker
        self.added: list[pytest.MarkDecorator] = []

    def get_closest_marker(self, name: str) -> pytest.Mark | None:
        return self.marker if name == "real_aws" else None

    def add_marker(self, marker: pytest.MarkDecorator) -> None:
        self.added.append(marker)


def test_real_aws_checks_skip_on_the_emulator(monkeypatch: pytest.MonkeyPatch) -> None:
    real_aws: Any = _Item(pytest.Mark("real_aws", ("no tasks run there",), {}))
    offline: Any = _Item(None)
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:5000")
    integration_conftest.pytest_collection_modifyitems([real_aws, offline])
    ((skip,),) = [[mark.mark for mark in real_aws.added]]
    assert skip.name == "skip" and skip.kwargs["reason"].endswith("no tasks run there")
    assert "127.0.0.1:5000" in skip.kwargs["reason"] and not offline.added
    monkeypatch.delenv("AWS_ENDPOINT_URL")
    real_aws.added.clear()
    integration_conftest.pytest_collection_modifyitems([real_aws])
    assert not real_aws.added  # real AWS: it runs


def _client_error(status: int, code: str) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": "m"},
                        "ResponseMetadata": {"HTTPStatusCode": status}}, "Op")


def _raise(error: Exception) -> Any:
    raise error


def test_unimplemented_operations_skip_only_on_the_emulator() -> None:
    for error in (_client_error(500, "InternalFailure"),
                  ResponseParserError("invalid XML received")):
        with pytest.raises(pytest.skip.Exception, match="does not implement Op"):
            answer(True, lambda error=error: _raise(error), "Op")
        with pytest.raises(type(error)):
            answer(False, lambda error=error: _raise(error), "Op")
    with pytest.raises(ClientError):  # a real error is never a skip
        answer(True, lambda: _raise(_client_error(400, "ValidationError")), "Op")
    assert answer(True, lambda: 7, "Op") == 7


def test_unmodelled_fields_skip_only_on_the_emulator() -> None:
    assert optional(True, {"a": 1}, "a", "A") == 1
    with pytest.raises(pytest.skip.Exception, match="does not model B"):
        optional(True, {"a": 1}, "b", "B")
    with pytest.raises(AssertionError, match="b missing"):
        optional(False, {"a": 1}, "b", "B")


def test_clients_pass_the_endpoint_and_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    # Any service shows the endpoint and the cache; sts has a small model (ec2's costs ~0.2 s).
    emulated = Clients("eu-west-1", {"AWS_ENDPOINT_URL": "http://127.0.0.1:5000"})
    sts = emulated("sts")
    assert sts is emulated("sts") and sts is not emulated("sts", "us-east-1")
    assert (sts.meta.endpoint_url, sts.meta.region_name) == ("http://127.0.0.1:5000",
                                                             "eu-west-1")
    assert emulated.emulator and sts.meta.config.retries["total_max_attempts"] == 1
    real = Clients("eu-west-1", {})("sts", "us-east-1")
    assert real.meta.endpoint_url == "https://sts.us-east-1.amazonaws.com"


def test_wait_for_is_bounded() -> None:
    calls: list[int] = []

    def probe() -> int:
        calls.append(1)
        return len(calls)

    assert wait_for(probe, lambda n: n == 3, timeout=5, interval=0) == 3
    assert wait_for(probe, lambda n: False, timeout=0, interval=0) == 4  # one call, no wait


def test_resolves(monkeypatch: pytest.MonkeyPatch) -> None:
    assert resolves("localhost")

    def fail(*_: Any) -> Any:
        raise socket.gaierror("Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", fail)
    assert not resolves("tap-dev-alb-1.us-east-1.elb.amazonaws.com")


# -- what each profile promises -------------------------------------------------------

@pytest.mark.parametrize("environ, profile, nat, azs", [
    ({"environment_suffix": "dev"}, "standard", 1, 3),
    ({"environment_suffix": "pr4892"}, "ephemeral", 0, 3),
    ({"environment_suffix": "prod"}, "production", 3, 3),
    ({"environment_suffix": "prod", "aws_region": "us-west-1"}, "production", 2, 2),
    ({"environment_suffix": "dev", "CREATE_NAT_GATEWAY": "false"}, "standard", 0, 3),
    ({"environment_suffix": "pr7", "CREATE_NAT_GATEWAY": "true"}, "ephemeral", 1, 3),
])
def test_expectations_follow_the_profile(environ: dict[str, str], profile: str, nat: int,
                                         azs: int) -> None:
    values = {"environment_suffix": environ["environment_suffix"],
              "aws_region": environ.get("aws_region", "us-east-1")}
    outputs = Outputs(None, values, Path("f.json"))
    process_env = {key: value for key, value in environ.items() if key.isupper()}
    settings = expected_settings(outputs, {**process_env, "ENVIRONMENT_SUFFIX": "ignored",
                                           "AWS_REGION": "eu-west-1"})
    assert settings.environment_suffix == values["environment_suffix"]
    assert settings.aws_region == values["aws_region"]
    assert settings.profile.name == profile
    assert (expected_nat_gateways(settings), settings.az_count) == (nat, azs)


GIVEN_NETWORK = {"VPC_ID": "vpc-0a1b2c3d", "PUBLIC_SUBNET_IDS": "subnet-0000000a,subnet-0000000b",
                 "PRIVATE_SUBNET_IDS": "subnet-0000000c,subnet-0000000d,subnet-0000000e",
                 "ISOLATED_SUBNET_IDS": "subnet-0000000f,subnet-00000010"}


def _settings(suffix: str, **environ: str) -> Any:
    outputs = Outputs(None, {"environment_suffix": suffix, "aws_region": "us-east-1"},
                      Path("f.json"))
    return expected_settings(outputs, environ)


def test_the_stack_own_network_promise() -> None:
    promise = network_promise(_settings("dev", VPC_CIDR="10.8.0.0/16"))
    assert promise.owned and (promise.vpc_id, dict(promise.subnet_ids)) == (None, {})
    assert (promise.vpc_cidr, promise.nat_gateways) == ("10.8.0.0/16", 1)
    assert [promise.subnets_in(tier) for tier in TIERS] == [3, 3, 3]
    assert promise.zones_of("public") == range(3, 4)


def test_a_given_network_promise() -> None:
    """Bring your own network: the ids as given, no CIDR and no NAT of the stack's, each
    tier as many subnets as given over two AZs at least (lib/network.py's postcondition)."""
    promise = network_promise(_settings("dev", **GIVEN_NETWORK, TASK_SUBNETS="public"))
    assert not promise.owned and promise.vpc_id == "vpc-0a1b2c3d"
    assert (promise.vpc_cidr, promise.nat_gateways) == (None, 0)
    assert promise.subnet_ids["private"] == ("subnet-0000000c", "subnet-0000000d",
                                             "subnet-0000000e")
    assert [promise.subnets_in(tier) for tier in TIERS] == [2, 3, 2]
    assert promise.zones_of("private") == range(2, 4)
    assert 1 not in promise.zones_of("public") and 2 in promise.zones_of("public")
    assert (LIVE_MIN_AZS, LIVE_TIERS) == (MIN_AVAILABILITY_ZONES, TIERS)


def test_stack_tagged_needs_project_and_environment() -> None:
    settings = _settings("pr101")
    assert stack_tagged(settings, [{"Key": "Project", "Value": "tap"},
                                   {"Key": "Environment", "Value": "pr101"},
                                   {"Key": "Name", "Value": "x"}])
    assert not stack_tagged(settings, [{"Key": "Project", "Value": "tap"},
                                       {"Key": "Environment", "Value": "pr102"}])
    assert not stack_tagged(settings, [{"Key": "Environment", "Value": "pr101"}])
    assert not stack_tagged(settings, None)


# -- bounded HTTP probes ------------------------------------------------------------

class _Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # pylint: disable=invalid-name
        self.send_response(403 if self.path == "/denied" else 200)
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:  # pylint: disable=redefined-builtin
        pass


def test_http_status_reports_codes_and_refusals() -> None:
    server = http.server.HTTPServer(("127.0.0.1", 0), _Handler)
    # shutdown() waits for the serving loop's next poll: poll often (the default is 0.5 s).
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01},
                              daemon=True)
    thread.start()
    try:
        base = f"http://127.0.0.1:{server.server_address[1]}"
        assert http_status(f"{base}/") == 200
        assert http_status(f"{base}/denied", verify=False) == 403
    finally:
        server.shutdown()
        server.server_close()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    refused = http_status(f"http://127.0.0.1:{closed}/", timeout=2)
    assert isinstance(refused, str) and "refused" in refused.lower()


# -- the suite as make integration runs it --------------------------------------------

def test_suite_skips_with_a_reason_without_a_deployment(
        suite_without_outputs: subprocess.CompletedProcess) -> None:
    """`make integration` on a checkout that deployed nothing: no outputs file (conftest.py
    runs it). An empty file raises the same NoOutputs: test_empty_file_means_no_deployment."""
    result = suite_without_outputs
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no deployment outputs" in result.stdout and " passed" not in result.stdout
    assert " skipped" in result.stdout and " failed" not in result.stdout
