"""The emulator's fault hook: ``FaultInjector`` (server side) and its client.

Server side: ``FaultInjector`` is WSGI middleware in front of moto (``emulator/server.py``
puts it there). On the emulator's port, ``POST /_tap/faults`` with a JSON object arms a
fault for the next matching requests::

    {"action": "CreateServerlessCache",   # API action (X-Amz-Target suffix or Action=)
     "service": "elasticache",            # optional: SigV4 scope service
     "method": "DELETE", "path": "^/b$",  # optional: HTTP method, regex on the path
                                          #   (REST APIs: S3, CloudFront...)
     "code": "ServerlessCacheQuotaForCustomerExceededFault",  # error to answer, or
     "message": "...", "status": 400,     #   none: pass the request on
     "delay_seconds": 20,                 # hold the request first (default 0)
     "times": 1}                          # matching requests it applies to (default 1)

It needs ``action`` or ``path``, and ``code`` or ``delay_seconds``; it answers 201
with the armed fault (its ``id``). An error is rendered in the protocol of the
request (``render_error``), so SDKs (the provider's AWS SDK for Go v2, botocore) read it
as that AWS error code: EC2's ``<Response><Errors><Error>``, JSON (``__type`` and
``x-amzn-ErrorType``) for X-Amz-Target / JSON requests, S3's ``<Error>``, and the
query/REST-XML ``<ErrorResponse><Error><Type>`` otherwise. ``GET /_tap/faults`` returns
``{"armed": [...], "fired": [...]}`` (each fired entry with ``fired_at``, an ISO 8601
UTC timestamp, and the request it matched); ``DELETE /_tap/faults`` clears both.
``describe_call`` (what a request asks for) also serves the server's request log.

Client side: ``arm(url, "CreateServerlessCache",
code="ServerlessCacheQuotaForCustomerExceededFault")`` makes the next CreateServerlessCache
fail with that AWS error; ``arm(url, "CreateDBCluster", delay_seconds=20)`` holds the next
CreateDBCluster 20 s before moto answers it (to stop a deploy mid-apply at a known point).
``fired(url)`` lists the faults that applied, with ``fired_at`` and the request; ``armed(url)``
the faults still armed; ``clear(url)`` disarms and forgets all of them.
"""
from __future__ import annotations

import datetime
import http
import io
import json
import re
import threading
import time
import urllib.parse
import urllib.request
import uuid
from typing import Any, Callable, NamedTuple
from xml.sax.saxutils import escape


class Call(NamedTuple):
    """What a request asks for: SigV4 region and service, API action ('-' if none)."""

    region: str
    service: str
    action: str


_SCOPE = re.compile(r"Credential=[^/]+/\d{8}/([^/]+)/([^/]+)/")


def describe_call(environ: dict[str, Any]) -> Call:
    """The call a request makes (computed once per request). A form body is read and put
    back, so the application can read it again."""
    if "tap.call" not in environ:
        form = b""
        if environ.get("CONTENT_TYPE", "").startswith("application/x-www-form-urlencoded"):
            form = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
            environ["wsgi.input"] = io.BytesIO(form)
        scope = _SCOPE.search(environ.get("HTTP_AUTHORIZATION", ""))
        region, service = scope.groups() if scope else ("-", environ.get("HTTP_HOST", "-"))
        query = urllib.parse.parse_qs(environ.get("QUERY_STRING", ""))
        action = (environ.get("HTTP_X_AMZ_TARGET", "").rpartition(".")[2]
                  or urllib.parse.parse_qs(form.decode("utf-8", "replace")).get("Action", [""])[0]
                  or query.get("Action", [""])[0] or "-")
        environ["tap.call"] = Call(region, service, action)
    return environ["tap.call"]  # type: ignore[no-any-return]


FAULTS_PATH = "/_tap/faults"
_MATCHERS = ("action", "service", "method", "path")


def _fault(spec: Any, fault_id: int) -> dict[str, Any]:
    """A validated fault from a POST body; raises ValueError with the reason."""
    if not isinstance(spec, dict):
        raise ValueError("a fault is a JSON object")
    unknown = set(spec) - {*_MATCHERS, "code", "message", "status", "delay_seconds", "times"}
    if unknown:
        raise ValueError(f"unknown fields: {sorted(unknown)}")
    if not spec.get("action") and not spec.get("path"):
        raise ValueError("give an action or a path to match")
    fault = {"id": fault_id, **{key: spec.get(key) for key in _MATCHERS},
             "code": spec.get("code"), "message": spec.get("message"),
             "status": spec.get("status", 400), "delay_seconds": spec.get("delay_seconds", 0),
             "times": spec.get("times", 1)}
    if fault["path"] is not None:
        re.compile(fault["path"])
    if not isinstance(fault["status"], int) or not 400 <= fault["status"] <= 599:
        raise ValueError("status is an HTTP error status (400-599)")
    if not isinstance(fault["delay_seconds"], (int, float)) or fault["delay_seconds"] < 0:
        raise ValueError("delay_seconds is a number >= 0")
    if not isinstance(fault["times"], int) or fault["times"] < 1:
        raise ValueError("times is an integer >= 1")
    if not fault["code"] and not fault["delay_seconds"]:
        raise ValueError("give a code, a delay_seconds, or both")
    if fault["code"] and not fault["message"]:
        fault["message"] = f"{fault['code']} (injected by the emulator's fault hook)"
    return fault


def render_error(environ: dict[str, Any], call: Call, code: str, message: str,
                 status: int) -> tuple[str, list[tuple[str, str]], bytes]:
    """An AWS error response in the protocol of the request: (status line, headers, body)."""
    request_id = str(uuid.uuid4())
    code_xml, message_xml = escape(code), escape(message)
    fault_type = "Receiver" if status >= 500 else "Sender"
    headers = [("x-amzn-RequestId", request_id), ("x-amz-request-id", request_id)]
    if call.service == "ec2":
        headers.append(("Content-Type", "text/xml"))
        body = (f"<Response><Errors><Error><Code>{code_xml}</Code><Message>{message_xml}"
                f"</Message></Error></Errors><RequestID>{request_id}</RequestID></Response>")
    elif environ.get("HTTP_X_AMZ_TARGET") or "json" in environ.get("CONTENT_TYPE", ""):
        # Query-compatible JSON services (SQS, CloudWatch) read the code from the last one.
        headers += [("Content-Type", "application/x-amz-json-1.1"), ("x-amzn-ErrorType", code),
                    ("x-amzn-query-error", f"{code};{fault_type}")]
        body = json.dumps({"__type": code, "message": message})
    elif call.service == "s3":
        headers.append(("Content-Type", "application/xml"))
        body = (f"<Error><Code>{code_xml}</Code><Message>{message_xml}</Message>"
                f"<RequestId>{request_id}</RequestId></Error>")
    else:
        headers.append(("Content-Type", "text/xml"))
        body = (f"<ErrorResponse><Error><Type>{fault_type}</Type><Code>{code_xml}</Code>"
                f"<Message>{message_xml}</Message></Error><RequestId>{request_id}</RequestId>"
                f"</ErrorResponse>")
    return f"{status} {http.HTTPStatus(status).phrase}", headers, body.encode()


class FaultInjector:
    """WSGI middleware: the fault hook described in the module docstring."""

    def __init__(self, app: Callable[..., Any]) -> None:
        self.app = app
        self.lock = threading.Lock()
        self.armed: list[dict[str, Any]] = []
        self.fired: list[dict[str, Any]] = []
        self.next_id = 1

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        if environ.get("PATH_INFO") == FAULTS_PATH:
            return self._control(environ, start_response)
        fault = self._take(environ)
        if fault is None:
            return self.app(environ, start_response)
        if fault["delay_seconds"]:
            time.sleep(fault["delay_seconds"])
        if not fault["code"]:
            return self.app(environ, start_response)
        status, headers, body = render_error(environ, describe_call(environ), fault["code"],
                                             fault["message"], fault["status"])
        start_response(status, [*headers, ("Content-Length", str(len(body)))])
        return [body]

    def _matches(self, fault: dict[str, Any], environ: dict[str, Any]) -> bool:
        call = describe_call(environ)
        return ((fault["action"] is None or fault["action"] == call.action)
                and (fault["service"] is None or fault["service"] == call.service)
                and (fault["method"] is None
                     or fault["method"].upper() == environ.get("REQUEST_METHOD"))
                and (fault["path"] is None
                     or re.search(fault["path"], environ.get("PATH_INFO", "")) is not None))

    def _take(self, environ: dict[str, Any]) -> dict[str, Any] | None:
        """The first armed fault matching the request, counted as fired; or None."""
        with self.lock:
            for fault in self.armed:
                if self._matches(fault, environ):
                    fault["times"] -= 1
                    if not fault["times"]:
                        self.armed.remove(fault)
                    call = describe_call(environ)
                    self.fired.append({
                        **{key: value for key, value in fault.items() if key != "times"},
                        "fired_at": datetime.datetime.now(datetime.timezone.utc).isoformat(),
                        "request": {"region": call.region, "service": call.service,
                                    "action": call.action,
                                    "method": environ.get("REQUEST_METHOD"),
                                    "path": environ.get("PATH_INFO")}})
                    return dict(fault)
        return None

    def _control(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        method = environ.get("REQUEST_METHOD")
        status, answer = 200, {}
        with self.lock:
            if method == "GET":
                answer = {"armed": list(self.armed), "fired": list(self.fired)}
            elif method == "DELETE":
                answer = {"cleared": len(self.armed) + len(self.fired)}
                self.armed.clear()
                self.fired.clear()
            elif method == "POST":
                length = int(environ.get("CONTENT_LENGTH") or 0)
                try:
                    fault = _fault(json.loads(environ["wsgi.input"].read(length) or b"null"),
                                   self.next_id)
                except (ValueError, re.error) as error:
                    status, answer = 400, {"error": str(error)}
                else:
                    self.next_id += 1
                    self.armed.append(fault)
                    status, answer = 201, {"fault": dict(fault)}
            else:
                status, answer = 405, {"error": f"{method} is not GET, POST or DELETE"}
        body = json.dumps(answer).encode()
        start_response(f"{status} {http.HTTPStatus(status).phrase}",
                       [("Content-Type", "application/json"),
                        ("Content-Length", str(len(body)))])
        return [body]


# The client: plain HTTP to the hook, so a harness can arm faults without importing moto.
def _request(endpoint_url: str, method: str, body: dict[str, Any] | None = None
             ) -> dict[str, Any]:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(f"{endpoint_url.rstrip('/')}{FAULTS_PATH}", data=data,
                                     method=method,
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())  # type: ignore[no-any-return]


def arm(endpoint_url: str, action: str | None, *, code: str | None = None,
        message: str | None = None, status: int = 400, delay_seconds: float = 0.0,
        times: int = 1, **match: str) -> dict[str, Any]:
    """Arm a fault for the next ``times`` requests of ``action``; ``match`` narrows or
    replaces it: ``service`` (SigV4 scope name), ``method`` and ``path`` (a regex on the
    path, for REST APIs such as S3). Returns the armed fault, with its ``id``. Raises
    urllib.error.HTTPError (400) when the emulator rejects the fault."""
    spec = {"action": action, "code": code, "message": message, "status": status,
            "delay_seconds": delay_seconds, "times": times, **match}
    return _request(endpoint_url, "POST",  # type: ignore[no-any-return]
                    {key: value for key, value in spec.items() if value is not None})["fault"]


def fired(endpoint_url: str) -> list[dict[str, Any]]:
    """The faults that applied so far, oldest first, each with ``fired_at`` (ISO 8601)."""
    return _request(endpoint_url, "GET")["fired"]  # type: ignore[no-any-return]


def armed(endpoint_url: str) -> list[dict[str, Any]]:
    """The faults still armed, with the ``times`` they have left."""
    return _request(endpoint_url, "GET")["armed"]  # type: ignore[no-any-return]


def clear(endpoint_url: str) -> None:
    """Disarm every fault and forget the fired ones."""
    _request(endpoint_url, "DELETE")
