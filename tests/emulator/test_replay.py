"""emulator/replay.py: an SDK's later attempt of a call the emulator answered 2xx gets that
answer again; moto does not run the call twice. Without the replay, the second attempt of a
CreateSecurityGroup below is refused as a duplicate (plain moto's answer)."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from emulator import replay
from emulator.replay import Replay
from emulator.server import Emulator


def _client(url: str, headers: dict[str, str]) -> Any:
    """An EC2 client whose every request carries ``headers`` (the SDK's call id and
    attempt, as a retry would send them), one attempt per call."""
    ec2 = boto3.client("ec2", region_name="us-east-1", endpoint_url=url,
                       aws_access_key_id="testing", aws_secret_access_key="testing",
                       config=Config(retries={"total_max_attempts": 1}))

    def stamp(request: Any, **_: Any) -> None:
        for name, value in headers.items():
            request.headers[name] = value
    ec2.meta.events.register("before-send.ec2.*", stamp)
    return ec2


def _call(call: str, number: int) -> dict[str, str]:
    return {"amz-sdk-invocation-id": call, "amz-sdk-request": f"attempt={number}; max=3"}


def _refused(create: Callable[[], Any]) -> str:
    with pytest.raises(ClientError) as refused:
        create()
    return str(refused.value.response["Error"]["Code"])


def test_a_later_attempt_of_an_answered_create_gets_the_same_answer(tmp_path: Path) -> None:
    with Emulator(tmp_path / "emulator.log", tmp_path / "requests.log") as emulator:
        def create(call: str, number: int) -> str:
            return str(_client(emulator.url, _call(call, number)).create_security_group(
                GroupName="web", Description="web")["GroupId"])

        first = create("call-1", 1)
        assert create("call-1", 2) == first  # plain moto: InvalidGroup.Duplicate
        groups = _client(emulator.url, {}).describe_security_groups(
            Filters=[{"Name": "group-name", "Values": ["web"]}])["SecurityGroups"]
        assert [group["GroupId"] for group in groups] == [first]
        # Another call (another id) runs: the duplicate is refused as AWS refuses it.
        assert _refused(lambda: create("call-2", 2)) == "InvalidGroup.Duplicate"
        # An error is no answer to keep: the next attempt runs again, and can succeed.
        assert _refused(lambda: create("call-3", 1)) == "InvalidGroup.Duplicate"
        _client(emulator.url, {}).delete_security_group(GroupId=first)
        second = create("call-3", 2)
        assert second != first
    lines = (tmp_path / "requests.log").read_text("utf-8").splitlines()
    created = [line for line in lines if " CreateSecurityGroup " in line]
    assert [line.split()[0] for line in created] == ["200", "200", "400", "400", "200"]
    assert created[1].endswith("attempt=2 replayed")
    assert not created[4].endswith("replayed")


def test_kept_answers_expire_and_reads_are_never_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    runs: list[str] = []
    now = [0.0]

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        runs.append(environ["REQUEST_METHOD"])
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [f"run {len(runs)}".encode()]

    server = Replay(app, clock=lambda: now[0])

    def send(method: str, number: int, call: str = "call-1") -> bytes:
        environ = {"REQUEST_METHOD": method, "HTTP_AMZ_SDK_INVOCATION_ID": call,
                   "HTTP_AMZ_SDK_REQUEST": f"attempt={number}; max=3"}
        return b"".join(server(environ, lambda *_: None))

    assert send("POST", 1) == b"run 1"
    assert send("POST", 2) == b"run 1"  # kept
    now[0] = replay.KEEP_SECONDS + 1
    assert send("POST", 3) == b"run 2"  # expired: run again
    assert send("GET", 1, "read") == b"run 3"
    assert send("GET", 2, "read") == b"run 4"  # reads run again
    monkeypatch.setattr(replay, "KEEP_CALLS", 1)
    send("POST", 1, "call-a")
    send("POST", 1, "call-b")
    assert list(server.answers) == ["call-b"]
