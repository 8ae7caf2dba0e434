"""Unit tests of app.logs: one JSON object per record, with its fields and exception; every
logger of a process in JSON once configured; the request id of a WSGI request."""
from __future__ import annotations

import json
import logging
import subprocess
import sys

from app.logs import JsonFormatter, fields, request_id
from app.tests.conftest import REPO


def test_a_record_is_one_json_object_with_its_fields() -> None:
    record = logging.LogRecord("app.web", logging.WARNING, __file__, 1, "cache %s failed",
                               ("read",), None)
    record.__dict__.update(fields(error="ConnectionError: refused", check="cache"))
    entry = json.loads(JsonFormatter().format(record))
    assert entry.pop("time").endswith("Z")
    assert entry == {"level": "warning", "logger": "app.web", "message": "cache read failed",
                     "error": "ConnectionError: refused", "check": "cache"}


def test_an_exception_is_a_string_field() -> None:
    error = KeyError("boom")
    try:
        raise error
    except KeyError:
        pass
    record = logging.LogRecord("app", logging.ERROR, __file__, 1, "failed", (),
                               (KeyError, error, error.__traceback__))
    entry = json.loads(JsonFormatter().format(record))
    assert entry["message"] == "failed"
    assert entry["exception"].startswith("Traceback (most recent call last):")
    assert entry["exception"].endswith("KeyError: 'boom'")


def test_every_logger_writes_json_lines_once_configured() -> None:
    script = ("import logging; from app.logs import configure_logging, fields; "
              "configure_logging(); configure_logging(); "
              "logging.getLogger('psycopg.pool').info('not shown: below WARNING'); "
              "logging.getLogger('psycopg.pool').warning('error connecting in %r', 'tap'); "
              "logging.getLogger('app.web').info('shown', extra=fields(check='cache'))")
    completed = subprocess.run([sys.executable, "-c", script], cwd=REPO, text=True,
                               capture_output=True, timeout=30, check=True)
    lines = [json.loads(line) for line in completed.stderr.splitlines()]
    assert [(line["logger"], line["level"], line["message"]) for line in lines] == [
        ("psycopg.pool", "warning", "error connecting in 'tap'"),
        ("app.web", "info", "shown")]
    assert lines[1]["check"] == "cache"
    assert completed.stdout == ""


def test_request_id_prefers_cloudfront_and_is_bounded() -> None:
    assert request_id({"HTTP_X_AMZ_CF_ID": "cf-1", "HTTP_X_REQUEST_ID": "req-1"}) == "cf-1"
    assert request_id({"HTTP_X_REQUEST_ID": "req-1"}) == "req-1"
    assert request_id({"HTTP_X_REQUEST_ID": "x" * 300}) == "x" * 128
    assert request_id({}) is None
