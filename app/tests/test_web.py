"""Unit tests of app.web: routing, JSON errors, readiness caching and naming, the revision."""
from __future__ import annotations

import hashlib
import hmac
import io
import json
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import psycopg
import pytest

from app.config import CacheSettings, DatabaseSettings, Login, Settings
from app.web import App, Readiness, receipt, resolve_revision

MESSAGE = {"id": 7, "text": "hello", "created_at": "2026-01-02T03:04:05.678Z"}


class FakeGuestbook:
    """Records calls; answers like app.guestbook.Guestbook."""

    def __init__(self) -> None:
        self.added: list[str] = []
        self.error: Exception | None = None

    def add(self, text: str) -> dict[str, Any]:
        if self.error:
            raise self.error
        self.added.append(text)
        return {**MESSAGE, "text": text}

    def latest(self) -> tuple[list[dict[str, Any]], str]:
        if self.error:
            raise self.error
        return [MESSAGE], "hit"

    def get(self, ident: int) -> dict[str, Any] | None:
        return MESSAGE if ident == 7 else None


def call(app: App, method: str, path: str, body: bytes = b"",
         headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], Any, bytes]:
    environ: dict[str, Any] = {"REQUEST_METHOD": method, "PATH_INFO": path,
                               "wsgi.input": io.BytesIO(body),
                               "CONTENT_LENGTH": str(len(body)) if body else ""}
    environ.update(headers or {})
    seen: dict[str, Any] = {}

    def start_response(status: str, response_headers: list[tuple[str, str]]) -> None:
        seen["status"], seen["headers"] = status, dict(response_headers)
    raw = b"".join(app(environ, start_response))
    code = int(seen["status"].split()[0])
    return code, seen["headers"], json.loads(raw or b"null"), raw


def ready_checks(results: dict[str, list[bool]]) -> dict[str, Callable[[], None]]:
    """Checks that pass or raise in the given order, and count their runs."""
    def check(name: str) -> Callable[[], None]:
        def run() -> None:
            if not results[name].pop(0):
                raise ConnectionError(f"{name} at db.internal:5432 refused")
        return run
    return {name: check(name) for name in results}


@pytest.fixture(name="guestbook")
def guestbook_fixture() -> FakeGuestbook:
    return FakeGuestbook()


@pytest.fixture(name="app")
def app_fixture(guestbook: FakeGuestbook) -> App:
    readiness = Readiness(ready_checks({"database": [True] * 5, "cache": [True] * 5}),
                          revision="v9")
    return App(guestbook=guestbook, readiness=readiness,  # type: ignore[arg-type]
               greeting="Hi there")


def test_healthz(app: App) -> None:
    status, headers, body, _ = call(app, "GET", "/healthz")
    assert (status, body) == (200, {"status": "ok"})
    assert headers["Content-Type"] == "application/json"
    assert headers["Cache-Control"] == "no-store"


def test_index_greets(app: App) -> None:
    assert call(app, "GET", "/")[2] == {"service": "tap", "greeting": "Hi there"}


def test_head_has_headers_and_no_body(app: App) -> None:
    status, headers, body, raw = call(app, "HEAD", "/healthz")
    assert (status, body, raw) == (200, None, b"")
    assert headers["Content-Length"] == str(len(json.dumps({"status": "ok"})))


@pytest.mark.parametrize("path", ["/nope", "/healthz/", "/api/messages/", "/api/messages/0",
                                  "/api/messages/abc", "/api/messages/1234567890123456789"])
def test_unknown_path_is_json_404(app: App, path: str) -> None:
    status, headers, body, _ = call(app, "GET", path)
    assert status == 404
    assert headers["Content-Type"] == "application/json"
    assert body["error"] == "not_found"


@pytest.mark.parametrize(("method", "path", "allow"), [
    ("POST", "/healthz", "GET, HEAD"),
    ("DELETE", "/api/messages", "GET, HEAD, POST"),
    ("PUT", "/api/messages/7", "GET, HEAD"),
])
def test_other_method_is_405_with_allow(app: App, method: str, path: str, allow: str) -> None:
    status, headers, body, _ = call(app, method, path)
    assert status == 405
    assert headers["Allow"] == allow
    assert body == {"error": "method_not_allowed", "message": f"{method} is not allowed here"}


def test_list_says_where_it_came_from(app: App) -> None:
    status, headers, body, _ = call(app, "GET", "/api/messages")
    assert (status, body, headers["X-Cache"]) == (200, {"messages": [MESSAGE]}, "hit")


def test_show(app: App) -> None:
    assert call(app, "GET", "/api/messages/7")[:3:2] == (200, {"message": MESSAGE})
    assert call(app, "GET", "/api/messages/8")[2] == {"error": "not_found",
                                                      "message": "no such message"}


def post(app: App, body: bytes, content_type: str = "application/json") -> tuple[int, Any]:
    status, _, payload, _ = call(app, "POST", "/api/messages", body,
                                 {"CONTENT_TYPE": content_type})
    return status, payload


def test_create(app: App, guestbook: FakeGuestbook) -> None:
    status, headers, body, _ = call(app, "POST", "/api/messages", b'{"text": "  hi  "}',
                                    {"CONTENT_TYPE": "application/json; charset=utf-8"})
    assert (status, body) == (201, {"message": {**MESSAGE, "text": "hi"}})
    assert headers["Location"] == "/api/messages/7"
    assert guestbook.added == ["hi"]


def test_create_signs_a_receipt_with_the_secret_key(guestbook: FakeGuestbook) -> None:
    readiness = Readiness(ready_checks({"database": [True], "cache": [True]}), revision=None)
    signed = App(guestbook=guestbook, readiness=readiness,  # type: ignore[arg-type]
                 greeting="Hi", signing_key="k3y")
    status, _, body, _ = call(signed, "POST", "/api/messages", b'{"text": "hi"}',
                              {"CONTENT_TYPE": "application/json"})
    # HMAC-SHA256("k3y", "7"), computed apart: the receipt proves who held the key.
    expected = hmac.new(b"k3y", b"7", hashlib.sha256).hexdigest()
    assert (status, body["receipt"]) == (201, expected) == (201, receipt("k3y", 7))
    assert receipt("other", 7) != expected


@pytest.mark.parametrize(("body", "status", "error", "message"), [
    (b'{"text": ""}', 400, "invalid_message", "text must have 1 to 500 characters"),
    (b'{"text": "   "}', 400, "invalid_message", "text must have 1 to 500 characters"),
    (json.dumps({"text": "x" * 501}).encode(), 400, "invalid_message",
     "text must have 1 to 500 characters"),
    (b'{"text": 5}', 400, "invalid_message", "text must be a string"),
    (b'{"text": "a", "admin": true}', 400, "invalid_message", "unexpected field 'admin'"),
    (b'["text"]', 400, "invalid_message", "the body must be a JSON object"),
    (b'{"text": "a\\u0000b"}', 400, "invalid_message", "text must not contain NUL characters"),
    (b'{"text": ', 400, "invalid_json", "the body is not valid JSON"),
    (b'\xff\xfe', 400, "invalid_json", "the body is not valid JSON"),
    (b"x" * (16 * 1024 + 1), 413, "payload_too_large", "the body exceeds 16384 bytes"),
])
def test_create_refuses(app: App, guestbook: FakeGuestbook, body: bytes, status: int,
                        error: str, message: str) -> None:
    assert post(app, body) == (status, {"error": error, "message": message})
    assert not guestbook.added


def test_create_accepts_500_characters(app: App, guestbook: FakeGuestbook) -> None:
    assert post(app, json.dumps({"text": "é" * 500}).encode())[0] == 201
    assert guestbook.added == ["é" * 500]


def test_create_needs_json(app: App) -> None:
    assert post(app, b"text=hi", "application/x-www-form-urlencoded") == (
        415, {"error": "unsupported_media_type", "message": "the body must be application/json"})


def test_database_failure_is_503(app: App, guestbook: FakeGuestbook) -> None:
    guestbook.error = psycopg.OperationalError("connection to db.internal refused")
    status, _, body, raw = call(app, "GET", "/api/messages")
    assert (status, body) == (503, {"error": "unavailable", "message": "the service is unavailable"})
    assert b"db.internal" not in raw


def test_unexpected_failure_is_500_without_details(app: App, guestbook: FakeGuestbook) -> None:
    guestbook.error = KeyError("secret detail")
    status, _, body, raw = call(app, "GET", "/api/messages")
    assert (status, body) == (500, {"error": "internal", "message": "internal error"})
    assert b"secret" not in raw


class Clock:
    """A monotonic clock that the test moves."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_readiness_names_the_failed_dependency_and_hides_details() -> None:
    readiness = Readiness(ready_checks({"database": [True], "cache": [False]}), revision=None)
    app = App(guestbook=FakeGuestbook(), readiness=readiness,  # type: ignore[arg-type]
              greeting="g")
    status, _, body, raw = call(app, "GET", "/readyz")
    assert status == 503
    assert body["ready"] is False
    assert body["failed"] == ["cache"]
    assert body["revision"] is None
    assert [body["checks"]["database"]["ok"], body["checks"]["cache"]["ok"]] == [True, False]
    assert all(isinstance(check["latency_ms"], float) and check["latency_ms"] >= 0
               for check in body["checks"].values())
    assert sorted(body) == ["checks", "failed", "ready", "revision"]
    assert b"refused" not in raw and b"db.internal" not in raw


def test_readiness_is_200_when_all_pass(app: App) -> None:
    status, _, body, _ = call(app, "GET", "/readyz")
    assert status == 200
    assert sorted(body) == ["checks", "ready", "revision"]
    assert (body["ready"], body["revision"], sorted(body["checks"])) == (
        True, "v9", ["cache", "database"])


def test_readiness_runs_the_checks_at_most_once_per_ttl() -> None:
    results = {"database": [True, False], "cache": [True, True]}
    clock = Clock()
    readiness = Readiness(ready_checks(results), revision=None, ttl=10.0, clock=clock)
    assert readiness.summary()["ready"] is True
    clock.now += 9.9
    assert readiness.summary()["ready"] is True
    assert results == {"database": [False], "cache": [True]}  # the checks ran once
    clock.now += 0.1
    summary = readiness.summary()
    assert (summary["ready"], summary["failed"]) == (False, ["database"])
    assert results == {"database": [], "cache": []}


def settings(revision: str | None) -> Settings:
    return Settings(database=DatabaseSettings(host="db"), login=Login(username="u"),
                    cache=CacheSettings(host="c"), revision=revision)


@pytest.fixture(name="metadata_url")
def metadata_url_fixture() -> Iterator[str]:
    """A stand-in for the ECS task metadata endpoint v4 (container metadata)."""
    class Handler(BaseHTTPRequestHandler):
        """Answers every GET with container metadata."""

        def do_GET(self) -> None:  # pylint: disable=invalid-name
            body = json.dumps({"Name": "app", "Image": "repo/app:latest",
                               "ImageID": "sha256:" + "ab" * 32}).encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v4/abc"
    server.shutdown()
    server.server_close()


def test_revision_prefers_app_revision(metadata_url: str) -> None:
    assert resolve_revision(settings("v1.0"),
                            {"ECS_CONTAINER_METADATA_URI_V4": metadata_url}) == "v1.0"


def test_revision_from_task_metadata(metadata_url: str) -> None:
    assert resolve_revision(settings(None), {"ECS_CONTAINER_METADATA_URI_V4": metadata_url}) == (
        "sha256:" + "ab" * 32)


def test_revision_unknown_outside_ecs_or_when_unreachable() -> None:
    assert resolve_revision(settings(None), {}) is None
    assert resolve_revision(settings(None),
                            {"ECS_CONTAINER_METADATA_URI_V4": "http://127.0.0.1:9/v4"}) is None
