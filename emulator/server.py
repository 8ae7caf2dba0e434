"""The emulator: moto's threaded server on a free 127.0.0.1 port, with our extensions.

``python -m emulator.server`` installs ``emulator.moto_ext``, serves on a free
loopback port, prints ``PORT <n>`` once it accepts requests and runs until it is
terminated or its standard input closes. ``Emulator`` is the context manager the
driver uses: it starts that process, waits for the port and always stops it.

Fault hook (``FaultInjector``; client in ``emulator/faults.py``): on the same port,
``POST /_tap/faults`` with a JSON object arms a fault for the next matching requests::

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
request, so SDKs (the provider's AWS SDK for Go v2, botocore) read it as that AWS error
code: EC2's ``<Response><Errors><Error>``, JSON (``__type`` and ``x-amzn-ErrorType``)
for X-Amz-Target / JSON requests, S3's ``<Error>``, and the query/REST-XML
``<ErrorResponse><Error><Type>`` otherwise. ``GET /_tap/faults`` returns
``{"armed": [...], "fired": [...]}`` (each fired entry with ``fired_at``, an ISO 8601
UTC timestamp, and the request it matched); ``DELETE /_tap/faults`` clears both.
"""
from __future__ import annotations

import datetime
import http
import io
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
import uuid
from pathlib import Path
from types import TracebackType
from typing import Any, Callable, NamedTuple
from xml.sax.saxutils import escape

HOST = "127.0.0.1"
ROOT = Path(__file__).resolve().parents[1]


class Emulator:
    """A moto server subprocess on 127.0.0.1; ``url`` is its endpoint."""

    def __init__(self, log_path: Path, request_log: Path | None = None,
                 start_timeout: float = 60.0) -> None:
        self.log_path = log_path
        self.request_log = request_log
        self.start_timeout = start_timeout
        self.process: subprocess.Popen[str] | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def start(self) -> Emulator:
        """Start the server and wait until it answers on its port."""
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        # AWS-managed IAM policies (e.g. AmazonRDSEnhancedMonitoringRole, attached by the
        # production profile) exist in every account; moto loads them only when asked.
        env = dict(os.environ, PYTHONUNBUFFERED="1", MOTO_IAM_LOAD_MANAGED_POLICIES="true")
        with open(self.log_path, "w", encoding="utf-8") as log:
            self.process = subprocess.Popen(  # pylint: disable=consider-using-with
                [sys.executable, "-m", "emulator.server",
                 *([str(self.request_log)] if self.request_log else [])], cwd=ROOT, env=env, text=True,
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log)
        assert self.process.stdout is not None
        line = _readline(self.process.stdout, self.start_timeout)
        if not line.startswith("PORT "):
            self.stop()
            raise RuntimeError(f"emulator did not start (see {self.log_path}): {line!r}")
        self.port = int(line.split()[1])
        deadline = time.monotonic() + self.start_timeout
        while True:
            try:
                with urllib.request.urlopen(f"{self.url}/moto-api/", timeout=5):
                    return self
            except OSError:
                if time.monotonic() > deadline:
                    self.stop()
                    raise
                time.sleep(0.1)

    def stop(self) -> None:
        """Stop the server (terminate, then kill); safe to call more than once."""
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.stop()


def _readline(stream, timeout: float) -> str:
    """The first line of ``stream``, or '' after ``timeout`` seconds."""
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.append(stream.readline()), daemon=True)
    reader.start()
    reader.join(timeout)
    return lines[0].strip() if lines else ""


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


class RequestLog:
    """WSGI middleware: one line per request (status, region, service, action, path), so a
    failed apply can be traced to the call that moto refused or does not implement."""

    def __init__(self, app: Callable[..., Any], path: Path) -> None:
        self.app = app
        self.path = path
        self.lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        call = describe_call(environ)
        status: list[str] = []

        def recording_start_response(code: str, headers: Any, *args: Any) -> Any:
            status.append(code.split()[0])
            return start_response(code, headers, *args)

        try:
            return self.app(environ, recording_start_response)
        finally:
            query_string = environ.get("QUERY_STRING")
            line = (f"{status[0] if status else 'ERR'} {call.region} {call.service} "
                    f"{call.action} {environ.get('REQUEST_METHOD')} {environ.get('PATH_INFO')}"
                    f"{'?' + query_string if query_string else ''}\n")
            with self.lock, open(self.path, "a", encoding="utf-8") as log:
                log.write(line)


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


def build_app(request_log: Path | None) -> Callable[..., Any]:
    """moto's WSGI application with the extensions installed, the fault hook in front
    and, given a path, the request log around both."""
    # pylint: disable=import-outside-toplevel
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

    from emulator import moto_ext

    moto_ext.install()
    app: Callable[..., Any] = FaultInjector(DomainDispatcherApplication(create_backend_app))
    return app if request_log is None else RequestLog(app, request_log)


def serve(request_log: Path | None) -> None:
    """Install the extensions, serve on a free loopback port until told to stop."""
    # pylint: disable=import-outside-toplevel
    from moto.moto_server.werkzeug_app import MotoRequestHandler
    from werkzeug.serving import make_server

    from emulator import moto_ext

    app = build_app(request_log)
    installed = moto_ext.install()
    server = make_server(HOST, 0, app, threaded=True, request_handler=MotoRequestHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    print(f"PORT {server.server_port}", flush=True)
    print(f"moto extensions: {', '.join(installed) or 'none'}", file=sys.stderr, flush=True)
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    signal.signal(signal.SIGINT, lambda *_: done.set())
    # The parent holds our stdin: when it goes away, so do we.
    threading.Thread(target=lambda: (sys.stdin.read(), done.set()), daemon=True).start()
    done.wait()
    server.shutdown()


if __name__ == "__main__":
    serve(Path(sys.argv[1]) if len(sys.argv) > 1 else None)
