"""emulator/runtime/rds_iam.py: an RDS IAM auth token is let in only when it is for that user
and endpoint, in time, signed with the secret key of a live STS session (or an active IAM
user key) of moto, and the signer may rds-db:connect as that user; every refusal names its
reason. pam_verify.py, PostgreSQL's side of the PAM check, exits 0 on an allow only."""
# pylint: disable=redefined-outer-name
from __future__ import annotations

import datetime
import io
import json
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Iterator

import pytest
from botocore.credentials import Credentials
from moto.core.utils import utcnow
from moto.sts.models import sts_backends

from emulator.runtime import pam_verify
from emulator.runtime.iam import Decision
from emulator.runtime.rds_iam import Target, verify_token
from tests.emulator.tokens import credentials, tampered, token, token_expiring_in

ACCOUNT = "123456789012"
HOST = "tap-dev-aurora.cluster-abcdefghijkl.us-east-1.rds.amazonaws.com"
READER = "tap-dev-aurora.cluster-ro-abcdefghijkl.us-east-1.rds.amazonaws.com"
RESOURCE_ID = "cluster-TESTRESOURCE"
TARGET = Target(cluster="tap-dev-aurora", hosts=(HOST, READER), port=5432, region="us-east-1",
                account=ACCOUNT, resource_id=RESOURCE_ID, iam_enabled=True)
DBUSER = f"arn:aws:rds-db:us-east-1:{ACCOUNT}:dbuser:{RESOURCE_ID}/tap_app"
TRUST = json.dumps({"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"},
    "Action": "sts:AssumeRole"}]})


@pytest.fixture
def session(client: Callable[..., Any]) -> Callable[..., tuple[str, Credentials]]:
    """``session(resource)``: an STS session of a new role allowed rds-db:connect on
    ``resource`` (None: no policy); its ARN and credentials."""
    def make(resource: str | None = DBUSER) -> tuple[str, Credentials]:
        iam = client("iam")
        name = f"task-{uuid.uuid4().hex[:8]}"
        role = iam.create_role(RoleName=name, AssumeRolePolicyDocument=TRUST)["Role"]["Arn"]
        if resource is not None:
            iam.put_role_policy(RoleName=name, PolicyName="connect", PolicyDocument=json.dumps(
                {"Version": "2012-10-17", "Statement": [
                    {"Sid": "Connect", "Effect": "Allow", "Action": "rds-db:connect",
                     "Resource": resource}]}))
        answer = client("sts").assume_role(RoleArn=role, RoleSessionName="task")
        return answer["AssumedRoleUser"]["Arn"], credentials(answer["Credentials"])
    return make


def test_a_token_of_an_allowed_session_is_let_in(session: Callable[..., Any]) -> None:
    arn, keys = session()
    for host in (HOST, READER):
        assert verify_token(token(keys, host, 5432, "tap_app"), "tap_app", TARGET) == Decision(
            allowed=True, reason=f"signed by {keys.access_key}: {arn}: rds-db:connect on "
                                 f"{DBUSER} allowed by inline policy connect statement Connect")


def test_the_token_must_be_for_that_user_endpoint_and_region(
        session: Callable[..., Any]) -> None:
    _, keys = session()
    assert verify_token(token(keys, HOST, 5432, "tap_admin"), "tap_app", TARGET) == Decision(
        allowed=False, reason="the token is for DBUser 'tap_admin', not 'tap_app'")
    assert verify_token(token(keys, "other.example.com", 5432, "tap_app"), "tap_app",
                        TARGET).reason == (
        f"the token is for other.example.com:5432, not an endpoint of cluster tap-dev-aurora "
        f"({HOST}, {READER} port 5432)")
    assert verify_token(token(keys, HOST, 5433, "tap_app"), "tap_app",
                        TARGET).reason.startswith(f"the token is for {HOST}:5433, not")
    elsewhere = Target(**{**TARGET.__dict__, "region": "eu-west-1"})
    assert verify_token(token(keys, HOST, 5432, "tap_app"), "tap_app", elsewhere).reason == (
        "the token is signed for region us-east-1, the cluster is in eu-west-1")
    disabled = Target(**{**TARGET.__dict__, "iam_enabled": False})
    assert verify_token(token(keys, HOST, 5432, "tap_app"), "tap_app", disabled).reason == (
        "IAM database authentication is not enabled on cluster tap-dev-aurora")


def test_a_password_or_a_tampered_token_is_refused(session: Callable[..., Any]) -> None:
    _, keys = session()
    good = token(keys, HOST, 5432, "tap_app")
    assert verify_token(tampered(good), "tap_app", TARGET) == Decision(
        allowed=False, reason=f"the signature does not match (a token altered, or not signed "
                              f"with the secret key of {keys.access_key})")
    forged = Credentials(keys.access_key, "not-the-secret-key", keys.token)
    assert verify_token(token(forged, HOST, 5432, "tap_app"), "tap_app", TARGET
                        ).reason.startswith("the signature does not match")
    assert verify_token("a-password", "tap_app", TARGET).reason == (
        "not an RDS auth token (<host>:<port>/?Action=connect&DBUser=...&X-Amz-...)")
    assert verify_token("https://" + good, "tap_app", TARGET).reason == (
        "not an RDS auth token (it is empty or has a scheme)")
    assert verify_token(good + "&DBUser=tap_app", "tap_app", TARGET).reason == (
        "not an RDS auth token (a parameter given twice)")
    other_session = Credentials(keys.access_key, keys.secret_key, "another-session-token")
    assert verify_token(token(other_session, HOST, 5432, "tap_app"), "tap_app",
                        TARGET).reason == (f"{keys.access_key} is an STS session's key but the "
                                           "token carries another session token")


def test_a_token_is_good_for_its_fifteen_minutes(session: Callable[..., Any]) -> None:
    _, keys = session()
    now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
    good = token(keys, HOST, 5432, "tap_app", at=now)
    assert verify_token(good, "tap_app", TARGET, now + datetime.timedelta(seconds=900)).allowed
    late = now + datetime.timedelta(seconds=901)
    assert verify_token(good, "tap_app", TARGET, late) == Decision(
        allowed=False,
        reason=f"the token expired at {(now + datetime.timedelta(seconds=900)).isoformat()}")
    early = now - datetime.timedelta(minutes=6)
    assert verify_token(good, "tap_app", TARGET, early) == Decision(
        allowed=False, reason=f"the token is signed in the future ({now.isoformat()})")
    assert verify_token(token_expiring_in(keys, HOST, 5432, "tap_app", 900), "tap_app",
                        TARGET).allowed is True
    assert verify_token(token_expiring_in(keys, HOST, 5432, "tap_app", 3600), "tap_app",
                        TARGET).reason == "X-Amz-Expires 3600 is not within 1-900 seconds"


def test_credentials_must_be_live_and_allowed(session: Callable[..., Any],
                                             client: Callable[..., Any]) -> None:
    arn, keys = session()
    fresh = token(keys, HOST, 5432, "tap_app")
    # What the task runner does to a rotated-out session: its expiration in the past.
    moto_session = sts_backends[ACCOUNT]["aws"].get_assumed_role_from_access_key(keys.access_key)
    moto_session.expiration = utcnow() - datetime.timedelta(minutes=1)
    decision = verify_token(fresh, "tap_app", TARGET)
    assert decision.allowed is False
    assert decision.reason.startswith(f"the credentials of {arn} expired at ")

    denied_arn, denied_keys = session(resource=None)
    assert verify_token(token(denied_keys, HOST, 5432, "tap_app"), "tap_app", TARGET) == Decision(
        allowed=False, reason=f"signed by {denied_keys.access_key}: {denied_arn}: no statement "
                              f"allows rds-db:connect on {DBUSER} (implicit deny; policies: "
                              "none)")
    unknown = Credentials("AKIAUNKNOWNKEY000000", "secret", None)
    assert verify_token(token(unknown, HOST, 5432, "tap_app"), "tap_app", TARGET).reason == (
        f"AKIAUNKNOWNKEY000000 is no access key of account {ACCOUNT} (neither an STS session "
        "nor an IAM user's)")

    iam = client("iam")
    name = f"dba-{uuid.uuid4().hex[:8]}"
    user_arn = iam.create_user(UserName=name)["User"]["Arn"]
    iam.put_user_policy(UserName=name, PolicyName="connect", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "rds-db:connect", "Resource": DBUSER}]}))
    key = iam.create_access_key(UserName=name)["AccessKey"]
    user_keys = Credentials(key["AccessKeyId"], key["SecretAccessKey"], None)
    assert verify_token(token(user_keys, HOST, 5432, "tap_app"), "tap_app", TARGET) == Decision(
        allowed=True, reason=f"signed by {key['AccessKeyId']}: {user_arn}: rds-db:connect on "
                             f"{DBUSER} allowed by inline policy connect statement 0")
    iam.update_access_key(UserName=name, AccessKeyId=key["AccessKeyId"], Status="Inactive")
    assert verify_token(token(user_keys, HOST, 5432, "tap_app"), "tap_app", TARGET).reason == (
        f"{key['AccessKeyId']} of IAM user {name} is Inactive")


class _Verifier(BaseHTTPRequestHandler):
    """The emulator's verify endpoint, answering what the test sets."""

    answer: dict[str, Any] = {}
    received: list[dict[str, Any]] = []

    def do_POST(self) -> None:  # pylint: disable=invalid-name
        length = int(self.headers["Content-Length"])
        _Verifier.received.append({"path": self.path,
                                   "body": json.loads(self.rfile.read(length))})
        body = json.dumps(_Verifier.answer).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_: Any) -> None:
        pass


@pytest.fixture
def verifier() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Verifier)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    _Verifier.received.clear()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


def test_pam_verify_exits_0_only_on_an_allow(verifier: str, monkeypatch: pytest.MonkeyPatch,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    cluster = f"arn:aws:rds:us-east-1:{ACCOUNT}:cluster:tap-dev-aurora"
    monkeypatch.setenv("PAM_USER", "tap_app")
    long_token = "h:5432/?" + "x" * 1500  # longer than pam_exec's 511 bytes
    for answer, code in (({"allowed": True, "reason": "ok"}, 0),
                         ({"allowed": False, "reason": "the token expired at 12:00"}, 1),
                         ({"error": "bad request"}, 1)):
        _Verifier.answer = answer
        monkeypatch.setattr("sys.stdin", io.StringIO(long_token + "\0"))
        assert pam_verify.main(["pam_verify.py", verifier, cluster]) == code
    assert _Verifier.received[0] == {"path": "/_tap/runtime/rds-iam/verify", "body": {
        "cluster": cluster, "user": "tap_app", "token": long_token}}
    assert capsys.readouterr().err.splitlines() == [
        "pam_verify: tap_app: the token expired at 12:00",
        "pam_verify: tap_app: {'error': 'bad request'}"]
    monkeypatch.setattr("sys.stdin", io.StringIO(long_token))
    assert pam_verify.main(["pam_verify.py", "http://127.0.0.1:1", cluster]) == 1
    assert capsys.readouterr().err.startswith(
        "pam_verify: http://127.0.0.1:1/_tap/runtime/rds-iam/verify did not answer: ")
