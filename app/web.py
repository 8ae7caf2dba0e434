"""The WSGI application: routes, JSON responses and the readiness summary.

Exposes ``App`` (the WSGI callable, built from its collaborators), ``Readiness`` (the
checks' summary, cached per process), ``resolve_revision`` and ``create_app`` (everything
wired from the settings). Routes:

- ``GET /``: the greeting (``APP_GREETING``);
- ``GET /healthz``: liveness, touching no dependency, so the load balancer's checks never
  keep an idle Aurora from auto-pausing;
- ``GET /readyz``: ``SELECT 1`` and ``PING``, each ``ok`` with ``latency_ms``; 200 when all
  pass, else 503 naming the ``failed`` ones. CloudFront serves it to the internet, so it
  says no more than that (no host names, no error texts, no versions: the details go to
  the log) and runs the checks at most once per ``READY_TTL_SECONDS`` per process;
- ``GET|POST /api/messages`` and ``GET /api/messages/<id>``: the guestbook; with
  ``APP_SIGNING_KEY`` (a secret), a new message comes with its ``receipt`` (``receipt``).

Every response is JSON (errors as ``{"error": code, "message": text}``), with
``Cache-Control: no-store``; ``HEAD`` is answered wherever ``GET`` is; an unknown path is
404, a known path with another method 405 with ``Allow``.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
import threading
import time
import urllib.request
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

import psycopg

from app.cache import Cache
from app.config import Settings
from app.db import Database
from app.guestbook import Guestbook, ValidationError, validate_text
from app.logs import fields, request_id

LOG = logging.getLogger("app.web")

READY_TTL_SECONDS = 10.0
# Bounded so that /readyz answers within its callers' timeouts even when PostgreSQL does not.
READY_DB_WAIT_SECONDS = 3.0
MAX_BODY_BYTES = 16 * 1024
METADATA_TIMEOUT_SECONDS = 1.0

Body = dict[str, Any]
Params = dict[str, str]
StartResponse = Callable[[str, list[tuple[str, str]]], Any]


@dataclass(frozen=True, kw_only=True)
class Reply:
    """A response before encoding: status, JSON body, extra headers."""

    status: int
    body: Body
    headers: dict[str, str] = field(default_factory=dict)


Handler = Callable[[Mapping[str, Any], Params], Reply]


class HttpError(Exception):
    """An error answered as JSON with its status."""

    def __init__(self, status: int, code: str, message: str,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.reply = Reply(status=status, body={"error": code, "message": message},
                           headers=headers or {})


class Readiness:
    """Runs named checks and summarises them; the summary is reused for ``ttl`` seconds."""

    def __init__(self, checks: Mapping[str, Callable[[], None]], revision: str | None, *,
                 ttl: float = READY_TTL_SECONDS,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._checks = dict(checks)
        self._revision = revision
        self._ttl = ttl
        self._clock = clock
        # Concurrent requests of one process wait for the one run rather than start more.
        self._lock = threading.Lock()
        self._summary: Body | None = None
        self._at = 0.0

    def summary(self) -> Body:
        with self._lock:
            if self._summary is None or self._clock() - self._at >= self._ttl:
                self._summary = self._run()
                self._at = self._clock()
            return self._summary

    def _run(self) -> Body:
        checks: dict[str, Body] = {}
        for name, check in self._checks.items():
            start = time.perf_counter()
            try:
                check()
                ok = True
            except Exception as error:  # pylint: disable=broad-exception-caught
                # Any failure means not ready; the details stay in the log.
                ok = False
                LOG.warning("readiness check failed",
                            extra=fields(check=name, error=f"{type(error).__name__}: {error}"))
            checks[name] = {"ok": ok, "latency_ms": round((time.perf_counter() - start) * 1000, 1)}
        failed = [name for name, result in checks.items() if not result["ok"]]
        summary: Body = {"ready": not failed, "checks": checks, "revision": self._revision}
        if failed:
            summary["failed"] = failed
        return summary


def resolve_revision(settings: Settings, environ: Mapping[str, str]) -> str | None:
    """``APP_REVISION``, else the image digest from the ECS task metadata endpoint v4.

    ECS sets ECS_CONTAINER_METADATA_URI_V4 in every container; its container metadata has
    ``ImageID``, the image's sha256 digest (AWS: "Amazon ECS task metadata endpoint
    version 4"). Outside ECS, or when the endpoint does not answer: None.
    """
    if settings.revision:
        return settings.revision
    url = environ.get("ECS_CONTAINER_METADATA_URI_V4", "")
    if not url.startswith("http://"):
        return None
    # The endpoint is link-local: never through a proxy from the environment.
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(url, timeout=METADATA_TIMEOUT_SECONDS) as answer:
            image_id = json.load(answer).get("ImageID")
    except (OSError, ValueError, AttributeError) as error:
        LOG.warning("task metadata unavailable", extra=fields(error=str(error)))
        return None
    return image_id if isinstance(image_id, str) and image_id.startswith("sha256:") else None


def _read_json(environ: Mapping[str, Any]) -> Any:
    content_type = environ.get("CONTENT_TYPE", "").split(";", 1)[0].strip().lower()
    if content_type != "application/json":
        raise HttpError(415, "unsupported_media_type", "the body must be application/json")
    length_header = environ.get("CONTENT_LENGTH") or ""
    if length_header and not length_header.isdigit():
        raise HttpError(400, "bad_request", "invalid Content-Length")
    if length_header and int(length_header) > MAX_BODY_BYTES:
        raise HttpError(413, "payload_too_large", f"the body exceeds {MAX_BODY_BYTES} bytes")
    stream = environ["wsgi.input"]
    raw = stream.read(int(length_header)) if length_header else stream.read(MAX_BODY_BYTES + 1)
    if len(raw) > MAX_BODY_BYTES:
        raise HttpError(413, "payload_too_large", f"the body exceeds {MAX_BODY_BYTES} bytes")
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise HttpError(400, "invalid_json", "the body is not valid JSON") from None


class App:
    """The WSGI callable."""

    def __init__(self, *, guestbook: Guestbook, readiness: Readiness, greeting: str,
                 closers: Iterable[Callable[[], None]] = (),
                 signing_key: str | None = None) -> None:
        self._guestbook = guestbook
        self._signing_key = signing_key
        self._readiness = readiness
        self._greeting = greeting
        self._closers = list(closers)
        self._routes: list[tuple[re.Pattern[str], dict[str, Handler]]] = [
            (re.compile(r"/"), {"GET": self._index}),
            (re.compile(r"/healthz"), {"GET": self._healthz}),
            (re.compile(r"/readyz"), {"GET": self._readyz}),
            (re.compile(r"/api/messages"), {"GET": self._list, "POST": self._create}),
            (re.compile(r"/api/messages/(?P<ident>[1-9][0-9]{0,17})"), {"GET": self._show}),
        ]

    def __call__(self, environ: dict[str, Any],
                 start_response: StartResponse) -> Iterable[bytes]:
        method = environ.get("REQUEST_METHOD", "GET")
        try:
            reply = self._dispatch(method, environ.get("PATH_INFO") or "/", environ)
        except HttpError as error:
            reply = error.reply
        except psycopg.OperationalError as error:
            # The database is unreachable, paused or refusing: the service is unavailable.
            LOG.error("database unavailable", exc_info=error,
                      extra=fields(request_id=request_id(environ)))
            reply = HttpError(503, "unavailable", "the service is unavailable").reply
        except Exception as error:  # pylint: disable=broad-exception-caught
            LOG.error("request failed", exc_info=error,
                      extra=fields(request_id=request_id(environ)))
            reply = HttpError(500, "internal", "internal error").reply
        payload = json.dumps(reply.body, ensure_ascii=False).encode("utf-8")
        headers = [("Content-Type", "application/json"), ("Content-Length", str(len(payload))),
                   ("Cache-Control", "no-store"), ("X-Content-Type-Options", "nosniff"),
                   *reply.headers.items()]
        start_response(f"{reply.status} {HTTPStatus(reply.status).phrase}", headers)
        return [b"" if method == "HEAD" else payload]

    def close(self) -> None:
        """Close the pool's connections and the cache client (a worker's exit)."""
        for closer in self._closers:
            closer()

    def _dispatch(self, method: str, path: str, environ: Mapping[str, Any]) -> Reply:
        for pattern, handlers in self._routes:
            match = pattern.fullmatch(path)
            if match is None:
                continue
            handler = handlers.get("GET" if method == "HEAD" else method)
            if handler is None:
                allowed = sorted({*handlers, *(["HEAD"] if "GET" in handlers else [])})
                raise HttpError(405, "method_not_allowed", f"{method} is not allowed here",
                                {"Allow": ", ".join(allowed)})
            return handler(environ, match.groupdict())
        raise HttpError(404, "not_found", "no such resource")

    def _index(self, _environ: Mapping[str, Any], _params: Params) -> Reply:
        return Reply(status=200, body={"service": "tap", "greeting": self._greeting})

    @staticmethod
    def _healthz(_environ: Mapping[str, Any], _params: Params) -> Reply:
        return Reply(status=200, body={"status": "ok"})

    def _readyz(self, _environ: Mapping[str, Any], _params: Params) -> Reply:
        summary = self._readiness.summary()
        return Reply(status=200 if summary["ready"] else 503, body=summary)

    def _list(self, _environ: Mapping[str, Any], _params: Params) -> Reply:
        messages, source = self._guestbook.latest()
        return Reply(status=200, body={"messages": messages}, headers={"X-Cache": source})

    def _create(self, environ: Mapping[str, Any], _params: Params) -> Reply:
        try:
            text = validate_text(_read_json(environ))
        except ValidationError as error:
            raise HttpError(400, "invalid_message", str(error)) from None
        message = self._guestbook.add(text)
        body: Body = {"message": message}
        if self._signing_key is not None:
            body["receipt"] = receipt(self._signing_key, message["id"])
        return Reply(status=201, body=body,
                     headers={"Location": f"/api/messages/{message['id']}"})

    def _show(self, _environ: Mapping[str, Any], params: Params) -> Reply:
        message = self._guestbook.get(int(params["ident"]))
        if message is None:
            raise HttpError(404, "not_found", "no such message")
        return Reply(status=200, body={"message": message})


def create_app(settings: Settings, environ: Mapping[str, str]) -> App:
    """The application wired from its settings: the pool, the cache, the readiness checks."""
    database = Database(settings.database, settings.login)
    cache = Cache(settings.cache)
    readiness = Readiness(
        {"database": lambda: database.ping(READY_DB_WAIT_SECONDS), "cache": cache.ping},
        revision=resolve_revision(settings, environ))
    return App(guestbook=Guestbook(database, cache), readiness=readiness,
               greeting=settings.greeting, closers=(database.close, cache.close),
               signing_key=settings.signing_key)


def receipt(key: str, message_id: int) -> str:
    """The receipt of a new message: HMAC-SHA256 of its id under APP_SIGNING_KEY (a secret the
    platform injects), hex; whoever holds the key can check the message came from here."""
    return hmac.new(key.encode("utf-8"), str(message_id).encode("ascii"),
                    hashlib.sha256).hexdigest()
