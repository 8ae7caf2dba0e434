"""The emulator's server: moto's threaded WSGI server on 127.0.0.1, with our extensions.

``listen(port, request_log)`` binds moto's application with every extension installed
(``emulator.moto_ext``), the fault hook in front (``FaultInjector`` in
``emulator/faults.py``, on the same port) and, given a path, ``RequestLog`` around both:
one line per request. ``serve_until_stopped`` serves it until SIGTERM or SIGINT, or, when
asked, until standard input closes. ``python -m emulator`` (``emulator/__main__.py``) does
both and prints the endpoint URL first. ``Emulator`` is the context manager a harness uses:
it starts that entry point, reads the URL, waits until it answers and always stops it.
"""
from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Callable

from emulator.faults import FaultInjector, describe_call
from emulator.replay import REPLAYED, Replay, attempt
from emulator.runtime.control import Control

if TYPE_CHECKING:  # werkzeug (with moto) is imported when the server starts, not before
    from werkzeug.serving import BaseWSGIServer

HOST = "127.0.0.1"
URL = re.compile(rf"http://{re.escape(HOST)}:\d+")
ROOT = Path(__file__).resolve().parents[1]


class Emulator:
    """``python -m emulator`` in a subprocess on a free port; ``url`` is its endpoint."""

    def __init__(self, log_path: Path, request_log: Path | None = None,  # pylint: disable=too-many-arguments
                 start_timeout: float = 60.0, runtime_dir: Path | None = None,
                 address_offset: int = 0) -> None:
        self.log_path = log_path
        self.request_log = request_log
        # Given: the emulator also runs what is deployed (emulator/runtime), its state here.
        self.runtime_dir = runtime_dir
        # Where its runtime's loopback pools start (TAP_EMULATOR_ADDRESS_OFFSET), so that
        # emulators side by side seldom reach for the same address.
        self.address_offset = address_offset
        self.start_timeout = start_timeout
        self.process: subprocess.Popen[str] | None = None
        self.url = ""

    def start(self) -> Emulator:
        """Start the server and wait until it answers at its URL."""
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        env = dict(os.environ, PYTHONUNBUFFERED="1",
                   TAP_EMULATOR_ADDRESS_OFFSET=str(self.address_offset))
        # It stops when the pipe we hold on its stdin closes: it never outlives us.
        command = [sys.executable, "-m", "emulator", "--exit-on-stdin-close",
                   *(["--request-log", str(self.request_log)] if self.request_log else []),
                   *(["--runtime-dir", str(self.runtime_dir)] if self.runtime_dir else [])]
        with open(self.log_path, "w", encoding="utf-8") as log:
            self.process = subprocess.Popen(  # pylint: disable=consider-using-with
                command, cwd=ROOT, env=env, text=True,
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log)
        assert self.process.stdout is not None
        line = _readline(self.process.stdout, self.start_timeout)
        if not URL.fullmatch(line):
            self.stop()
            raise RuntimeError(f"emulator did not start (see {self.log_path}): {line!r}")
        self.url = line
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


SLOW_SECONDS = 1.0  # an answer that took this long is marked with its seconds


class RequestLog:
    """WSGI middleware: one line per request (status, region, service, action, path), so a
    failed apply can be traced to the call that moto refused or does not implement. A
    request the SDK sent again ends with ``attempt=N`` (and ``replayed`` when it got the
    answer of an earlier attempt again: emulator/replay.py), and an answer that took
    ``SLOW_SECONDS`` or more with its seconds."""

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

        started = time.monotonic()
        try:
            return self.app(environ, recording_start_response)
        finally:
            query_string = environ.get("QUERY_STRING")
            seconds, number = time.monotonic() - started, attempt(environ)
            line = (f"{status[0] if status else 'ERR'} {call.region} {call.service} "
                    f"{call.action} {environ.get('REQUEST_METHOD')} {environ.get('PATH_INFO')}"
                    f"{'?' + query_string if query_string else ''}"
                    f"{f' attempt={number}' if number > 1 else ''}"
                    f"{' replayed' if environ.get(REPLAYED) else ''}"
                    f"{f' {seconds:.1f}s' if seconds >= SLOW_SECONDS else ''}\n")
            with self.lock, open(self.path, "a", encoding="utf-8") as log:
                log.write(line)


def build_app(request_log: Path | None, control: Control | None = None) -> Callable[..., Any]:
    """moto's WSGI application with the extensions installed, the fault hook in front, the
    runtime's control endpoints (``control``, given) in front of that, the replay of answers
    an SDK lost (emulator/replay.py) and, given a path, the request log around all."""
    # pylint: disable=import-outside-toplevel
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

    from emulator import moto_ext

    moto_ext.install()
    app: Callable[..., Any] = FaultInjector(DomainDispatcherApplication(create_backend_app))
    if control is not None:
        control.app = app
        app = control
    app = Replay(app)
    return close_connections(app if request_log is None else RequestLog(app, request_log))


def close_connections(app: Callable[..., Any]) -> Callable[..., Any]:
    """Every answer closes its connection (``Connection: close``). Seen in the lives: now and
    then an SDK retried a POST that the server had answered 200 on a kept-alive connection
    (a CloudFront distribution created twice, a scalable target deregistered twice), as if the
    answer never arrived; a request per connection leaves no connection to be half-closed
    under a client's next request. Loopback connections cost next to nothing."""
    def closing(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        def start(status: str, headers: list[tuple[str, str]], *args: Any) -> Any:
            headers = [(k, v) for k, v in headers if k.lower() != "connection"]
            return start_response(status, [*headers, ("Connection", "close")], *args)
        return app(environ, start)
    return closing


def listen(port: int, request_log: Path | None, control: Control | None = None
           ) -> BaseWSGIServer:
    """The emulator's application (``build_app``) bound to 127.0.0.1:``port`` (0: a free
    port), threaded, not serving yet."""
    # pylint: disable=import-outside-toplevel
    from moto.moto_server.werkzeug_app import MotoRequestHandler
    from werkzeug.serving import make_server

    return make_server(HOST, port, build_app(request_log, control), threaded=True,
                       request_handler=MotoRequestHandler)


def serve_until_stopped(server: BaseWSGIServer, *, exit_on_stdin_close: bool,
                        ready: Callable[[str], None]) -> None:
    """Serve ``server``, call ``ready`` with its URL, and go on until SIGTERM or SIGINT, or,
    with ``exit_on_stdin_close``, until standard input closes; then shut it down. Call from
    the main thread (signal handlers)."""
    done = threading.Event()
    # Handlers first: a caller may signal as soon as it has read the URL.
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    signal.signal(signal.SIGINT, lambda *_: done.set())
    threading.Thread(target=server.serve_forever, daemon=True).start()
    ready(f"http://{HOST}:{server.server_port}")
    if exit_on_stdin_close:
        threading.Thread(target=lambda: (sys.stdin.read(), done.set()), daemon=True).start()
    done.wait()
    server.shutdown()
