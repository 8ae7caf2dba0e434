"""``python -m emulator``, the emulator in the foreground: the endpoint URL is the first line
of standard output, then how to use it; boto3 gets moto with the extensions, the fault hook
and AWS's managed policies there; SIGTERM stops it (exit 0), and so does a closed standard
input with ``--exit-on-stdin-close``; ``Emulator`` (the harness's) starts that entry point."""
# pylint: disable=redefined-outer-name
from __future__ import annotations

import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import urllib.request
from pathlib import Path
from typing import IO, Any, Callable, Iterator, NamedTuple

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from emulator import faults, moto_ext
from emulator.__main__ import main
from emulator.server import ROOT, URL, Emulator

ENHANCED_MONITORING = "arn:aws:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Lines:
    """A pipe read line by line in a thread (closed at its end), so that a test can wait
    for the next line with a timeout."""

    def __init__(self, stream: IO[str]) -> None:
        self.lines: queue.Queue[str] = queue.Queue()

        def read() -> None:
            with stream:
                for line in stream:
                    self.lines.put(line)

        threading.Thread(target=read, daemon=True).start()

    def next(self, timeout: float = 60.0) -> str:
        return self.lines.get(timeout=timeout)


def aws(url: str, service: str) -> Any:
    """A boto3 client of the emulator (one attempt per call)."""
    return boto3.client(service, region_name="us-east-1", endpoint_url=url,
                        aws_access_key_id="testing", aws_secret_access_key="testing",
                        config=Config(retries={"total_max_attempts": 1}))


class Started(NamedTuple):
    """A ``python -m emulator`` process and its output, line by line."""

    process: subprocess.Popen[str]
    stdout: Lines
    stderr: Lines


@pytest.fixture
def start() -> Iterator[Callable[..., Started]]:
    """``start(*args, stdin=...)`` runs ``python -m emulator *args``; a process still
    running at the end of the test is killed."""
    processes: list[subprocess.Popen[str]] = []

    def run(*args: str, stdin: Any) -> Started:
        process = subprocess.Popen(  # pylint: disable=consider-using-with
            [sys.executable, "-m", "emulator", *args], cwd=ROOT, text=True, stdin=stdin,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        processes.append(process)
        assert process.stdout is not None and process.stderr is not None
        return Started(process, Lines(process.stdout), Lines(process.stderr))

    yield run
    for process in processes:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=10)
        if process.stdin is not None:
            process.stdin.close()


def test_serves_in_the_foreground_url_first_until_sigterm(
        start: Callable[..., Started], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    port, request_log = free_port(), tmp_path / "requests.log"
    # Standard input at its end: without --exit-on-stdin-close it goes on serving.
    process, stdout, stderr = start("--port", str(port), "--request-log", str(request_log),
                                    stdin=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    assert stdout.next() == f"{url}\n"
    usage = [stdout.next() for _ in range(4)]
    assert usage == [
        "# moto 5.2.5 with the emulator's extensions; Ctrl-C or SIGTERM stops it (its state "
        "is in memory).\n",
        "# Point the AWS CLI, boto3 or `make deploy` at it (any non-empty credentials):\n",
        f"export AWS_ENDPOINT_URL={url} AWS_ACCESS_KEY_ID=testing "
        "AWS_SECRET_ACCESS_KEY=testing AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1\n",
        f"# Fault hook: POST {url}/_tap/faults (emulator/faults.py).\n"]
    assert stderr.next() == f"moto extensions: {', '.join(moto_ext.install())}\n"

    # boto3 configured by nothing but the exported variables (no profile, no config file).
    for name in [name for name in os.environ if name.startswith("AWS_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", os.devnull)
    for assignment in usage[2].split()[1:]:
        monkeypatch.setenv(*assignment.split("=", 1))
    session = boto3.Session()
    assert session.client("sts").get_caller_identity()["Account"] == "123456789012"
    cache = session.client("elasticache").create_serverless_cache(  # an extension's call
        ServerlessCacheName="main-cache", Engine="valkey")["ServerlessCache"]
    assert cache["ARN"] == "arn:aws:elasticache:us-east-1:123456789012:serverlesscache:main-cache"
    policy = session.client("iam").get_policy(PolicyArn=ENHANCED_MONITORING)["Policy"]
    assert policy["PolicyName"] == "AmazonRDSEnhancedMonitoringRole"
    faults.arm(url, "CreateVpc", code="VpcLimitExceeded")
    with pytest.raises(ClientError) as refused:
        aws(url, "ec2").create_vpc(CidrBlock="10.9.0.0/16")
    assert refused.value.response["Error"]["Code"] == "VpcLimitExceeded"
    assert "200 us-east-1 sts GetCallerIdentity POST /\n" in request_log.read_text("utf-8")
    # One request per connection: the answer closes it (emulator/server.py close_connections).
    with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
        raw.sendall(b"GET /moto-api/ HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: keep-alive"
                    b"\r\n\r\n")
        answer = b""
        while chunk := raw.recv(65536):  # the server closes: recv returns b"" at the end
            answer += chunk
    head = answer.split(b"\r\n\r\n", 1)[0].decode().lower().splitlines()
    assert head[0].startswith("http/1.1 200") and "connection: close" in head

    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=10) == 0
    with pytest.raises(queue.Empty):  # nothing more on standard output
        stdout.next(timeout=1)


def test_stops_when_stdin_closes_if_asked(start: Callable[..., Started]) -> None:
    process, stdout, _ = start("--exit-on-stdin-close", stdin=subprocess.PIPE)
    assert process.stdin is not None
    url = stdout.next().rstrip("\n")
    assert URL.fullmatch(url)
    assert aws(url, "sts").get_caller_identity()["Account"] == "123456789012"
    process.stdin.close()
    assert process.wait(timeout=10) == 0


def test_emulator_runs_the_entry_point_and_stops_it(tmp_path: Path) -> None:
    with Emulator(tmp_path / "emulator.log", tmp_path / "requests.log") as emulator:
        assert URL.fullmatch(emulator.url)
        process = emulator.process
        assert process is not None
        assert aws(emulator.url, "sts").get_caller_identity()["Account"] == "123456789012"
        # A request the SDK sent again says so (its amz-sdk-request header) in the log.
        again = urllib.request.Request(f"{emulator.url}/moto-api/",
                                       headers={"amz-sdk-request": "attempt=3; max=25"})
        with urllib.request.urlopen(again, timeout=10) as answer:
            assert answer.status == 200
    assert emulator.process is None
    assert process.poll() == 0
    lines = (tmp_path / "requests.log").read_text("utf-8").splitlines()
    assert "200 us-east-1 sts GetCallerIdentity POST /" in lines
    assert lines[-1].endswith("GET /moto-api/ attempt=3")
    assert (tmp_path / "emulator.log").read_text("utf-8").splitlines()[0] == (
        f"moto extensions: {', '.join(moto_ext.install())}")


@pytest.mark.parametrize("port", ["-1", "65536"])
def test_a_port_out_of_range_is_refused(port: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as refused:
        main(["--port", port])
    assert refused.value.code == 2
    assert capsys.readouterr().err.endswith(
        f"python -m emulator: error: --port {port}: a port is 0-65535\n")
