"""Task role credentials: the container credentials endpoint of the emulator's ECS tasks.

ECS gives a task with a task role the role's temporary credentials through an endpoint the
SDKs call (the container credential provider: ``AWS_CONTAINER_CREDENTIALS_FULL_URI`` with
``AWS_CONTAINER_AUTHORIZATION_TOKEN``; botocore accepts a full URI on a loopback address).
Here the endpoint is on the emulator's port, ``GET /_tap/runtime/credentials/<task id>`` with
the task's token in the ``Authorization`` header, and answers what botocore expects
(``AccessKeyId``, ``SecretAccessKey``, ``Token``, ``Expiration``, ``RoleArn``).

A session is a moto STS AssumeRole of the task role (session name: the task id, as ECS names
it), so that GetCallerIdentity with it shows the assumed role and the database stand-in can
check a token it signed. ECS refreshes task credentials long before they expire; here the
session is rotated on request, sooner: ``POST /_tap/runtime/tasks/rotate-credentials
{"task": "<id>"}`` issues a new session and expires the old one (its moto assumed role's
expiration set in the past). The served ``Expiration`` is at most ``SERVED_SECONDS`` away,
inside botocore's mandatory refresh window (10 minutes), so a task's SDK fetches the
credentials again before each signature and uses the new session at once.

``ExpiredCredentials`` is WSGI middleware in front of moto: a request signed with the access
key of an expired moto session is refused as AWS refuses it (``ExpiredToken``, "The security
token included in the request is expired"; ``ExpiredTokenException`` for JSON protocols).
"""
from __future__ import annotations

import datetime
import hmac
import json
import re
import secrets
import threading
from dataclasses import dataclass
from typing import Any, Callable

from moto.sts.models import AssumedRole, sts_backends

from emulator.faults import describe_call, render_error

# The STS session behind the task's credentials: ECS task role sessions last hours.
SESSION_SECONDS = 6 * 3600
# What the endpoint says: inside botocore's mandatory refresh window (10 min), so every
# signature fetches the credentials again (botocore/credentials.py, RefreshableCredentials).
SERVED_SECONDS = 300
CREDENTIALS_PATH = "credentials"
EXPIRED_MESSAGE = "The security token included in the request is expired"
_ACCESS_KEY = re.compile(r"Credential=(?P<key>[A-Z0-9]+)/")


@dataclass
class Session:
    """The task role session a task is served."""

    task_id: str
    role_arn: str
    region: str
    token: str  # the task's authorization token for the endpoint
    assumed: AssumedRole | None = None


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)


class TaskCredentials:
    """Sessions by task id; ``app`` serves the endpoint (mounted on the control)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sessions: dict[str, Session] = {}

    def issue(self, task_id: str, role_arn: str | None, region: str) -> dict[str, str]:
        """A token for the task and, with a role, its first session; the environment
        variables the task gets (none without a task role, as ECS)."""
        if not role_arn:
            return {}
        session = Session(task_id, role_arn, region, secrets.token_urlsafe(32))
        session.assumed = self._assume(session)
        with self._lock:
            self._sessions[task_id] = session
        return {"AWS_CONTAINER_AUTHORIZATION_TOKEN": session.token}

    @staticmethod
    def _assume(session: Session) -> AssumedRole:
        account = session.role_arn.split(":")[4] or "123456789012"
        backend = sts_backends[account]["aws"]
        return backend.assume_role(region_name=session.region, role_session_name=session.task_id,
                                   role_arn=session.role_arn, policy=None,
                                   duration=SESSION_SECONDS, external_id=None)

    def rotate(self, task_id: str) -> dict[str, str]:
        """A new session for the task; the old one expires now."""
        with self._lock:
            session = self._sessions.get(task_id)
        if session is None or session.assumed is None:
            raise KeyError(f"task {task_id} has no task role session")
        old = session.assumed
        session.assumed = self._assume(session)
        old.expiration = _now() - datetime.timedelta(seconds=1)
        return {"task": task_id, "accessKeyId": session.assumed.access_key_id,
                "expiredAccessKeyId": old.access_key_id}

    def revoke(self, task_id: str) -> None:
        """The task stopped: its session expires and its token no longer serves."""
        with self._lock:
            session = self._sessions.pop(task_id, None)
        if session is not None and session.assumed is not None:
            session.assumed.expiration = _now() - datetime.timedelta(seconds=1)

    def rotate_handler(self, body: Any, _query: dict[str, str]) -> tuple[int, Any]:
        """``POST tasks/rotate-credentials {"task": id}``."""
        if not isinstance(body, dict) or not body.get("task"):
            raise ValueError('a JSON object {"task": "<task id>"}')
        task_id = str(body["task"]).rsplit("/", 1)[-1]
        try:
            return 200, self.rotate(task_id)
        except KeyError as error:
            return 404, {"error": error.args[0]}

    def app(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        """``GET .../credentials/<task id>`` with the task's token: the session as JSON."""
        task_id = environ.get("PATH_INFO", "").rstrip("/").rsplit("/", 1)[-1]
        with self._lock:
            session = self._sessions.get(task_id)
        status, answer = 200, {}
        if environ.get("REQUEST_METHOD") != "GET":
            status, answer = 405, {"error": "GET only"}
        elif session is None or session.assumed is None:
            status, answer = 404, {"error": f"no credentials for task {task_id}"}
        elif not hmac.compare_digest(environ.get("HTTP_AUTHORIZATION", ""), session.token):
            status, answer = 401, {"error": "the authorization token is not this task's"}
        else:
            assumed = session.assumed
            expiration = min(assumed.expiration,
                             _now() + datetime.timedelta(seconds=SERVED_SECONDS))
            answer = {"AccessKeyId": assumed.access_key_id,
                      "SecretAccessKey": assumed.secret_access_key,
                      "Token": assumed.session_token, "RoleArn": session.role_arn,
                      "Expiration": expiration.strftime("%Y-%m-%dT%H:%M:%SZ")}
        body = json.dumps(answer).encode()
        start_response(f"{status} {'OK' if status == 200 else 'Error'}",
                       [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
        return [body]


def expired_session(access_key_id: str) -> bool:
    """Whether ``access_key_id`` belongs to a moto STS session whose expiration is past."""
    if not access_key_id.startswith("ASIA"):  # temporary keys only
        return False
    now = _now()
    for regions in list(sts_backends.values()):
        for backend in list(regions.values()):
            for assumed in list(backend.assumed_roles):
                if assumed.access_key_id == access_key_id:
                    return bool(assumed.expiration < now)
    return False


class ExpiredCredentials:
    """WSGI middleware: requests signed with an expired session's key are refused."""

    def __init__(self, app: Callable[..., Any]) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        match = _ACCESS_KEY.search(environ.get("HTTP_AUTHORIZATION", "")) or \
            re.search(r"X-Amz-Credential=(?P<key>[A-Z0-9]+)(%2F|/)",
                      environ.get("QUERY_STRING", ""))
        if match is None or not expired_session(match["key"]):
            return self.app(environ, start_response)
        json_protocol = bool(environ.get("HTTP_X_AMZ_TARGET")) or \
            "json" in environ.get("CONTENT_TYPE", "")
        code, status = ("ExpiredTokenException", 400) if json_protocol else ("ExpiredToken", 403)
        status_line, headers, body = render_error(environ, describe_call(environ), code,
                                                  EXPIRED_MESSAGE, status)
        start_response(status_line, [*headers, ("Content-Length", str(len(body)))])
        return [body]
