"""The emulator: moto's threaded server on a free 127.0.0.1 port, with our extensions.

``python -m emulator.server`` installs ``emulator.moto_ext``, serves on a free
loopback port, prints ``PORT <n>`` once it accepts requests and runs until it is
terminated or its standard input closes. ``Emulator`` is the context manager the
driver uses: it starts that process, waits for the port and always stops it.

In front of moto: the fault hook (``FaultInjector`` in ``emulator/faults.py``, on the same
port) and, given a path, ``RequestLog``: one line per request.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path
from types import TracebackType
from typing import Any, Callable

from emulator.faults import FaultInjector, describe_call

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
