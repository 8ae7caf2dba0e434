"""The runtime's control endpoints: ``/_tap/runtime/...`` on the emulator's own port.

``Control`` is WSGI middleware in front of moto (as the fault hook is): a request whose path
starts with ``PREFIX`` goes to the handler registered for its method and path, everything else
to moto. Components register handlers with ``route(method, path, handler)``; a handler takes
the parsed JSON body (or None) and the query parameters, and returns ``(status, document)``,
rendered as JSON. The handlers are the runtime's own API for the harness, the stand-ins'
helpers (the PostgreSQL authentication check) and a person at ``make emulator``: never an AWS
API. ``mount(path, app)`` serves every path under ``PREFIX+path`` with a WSGI application of
its own, for an endpoint that reads request headers or a path parameter (the task credentials
endpoint, ``/_tap/runtime/credentials/<task id>`` with its authorization token).
"""
from __future__ import annotations

import json
import threading
import urllib.parse
from http import HTTPStatus
from typing import Any, Callable

PREFIX = "/_tap/runtime/"
Handler = Callable[[Any, dict[str, str]], tuple[int, Any]]


class Control:
    """WSGI middleware routing ``/_tap/runtime/...`` to registered handlers."""

    def __init__(self, app: Callable[..., Any]) -> None:
        self.app = app
        self._lock = threading.Lock()
        self._routes: dict[tuple[str, str], Handler] = {}
        self._mounts: dict[str, Callable[..., Any]] = {}

    def route(self, method: str, path: str, handler: Handler) -> None:
        """Serve ``method PREFIX+path`` with ``handler`` (path without the prefix)."""
        with self._lock:
            self._routes[(method.upper(), PREFIX + path.lstrip("/"))] = handler

    def mount(self, path: str, app: Callable[..., Any]) -> None:
        """Serve every path under ``PREFIX+path`` (path without the prefix, ending in /)
        with the WSGI application ``app``."""
        with self._lock:
            self._mounts[PREFIX + path.strip("/") + "/"] = app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        path = environ.get("PATH_INFO", "")
        if not path.startswith(PREFIX):
            return self.app(environ, start_response)
        with self._lock:
            mounted = next((app for prefix, app in self._mounts.items()
                            if path.startswith(prefix)), None)
        if mounted is not None:
            return mounted(environ, start_response)
        method = environ.get("REQUEST_METHOD", "GET")
        with self._lock:
            handler = self._routes.get((method, path))
            known = any(route_path == path for _, route_path in self._routes)
        if handler is None:
            status, answer = (405, {"error": f"{method} not allowed on {path}"}) if known else \
                (404, {"error": f"no runtime endpoint {path}"})
        else:
            length = int(environ.get("CONTENT_LENGTH") or 0)
            raw = environ["wsgi.input"].read(length) if length else b""
            query = dict(urllib.parse.parse_qsl(environ.get("QUERY_STRING", "")))
            try:
                status, answer = handler(json.loads(raw) if raw else None, query)
            except (ValueError, KeyError) as error:
                status, answer = 400, {"error": str(error)}
        body = json.dumps(answer).encode()
        start_response(f"{status} {HTTPStatus(status).phrase}",
                       [("Content-Type", "application/json"),
                        ("Content-Length", str(len(body)))])
        return [body]
