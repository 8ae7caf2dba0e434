"""JSON lines for everything the application logs.

Exposes ``JsonFormatter`` (one JSON object per record: time, level, logger, message and
the record's ``fields``), ``configure_logging`` (every logger's records as JSON lines on
standard error: the application's from INFO, the libraries' from WARNING),
``fields`` (the ``extra=`` argument that attaches structured fields to a record),
``request_id`` (the CloudFront or caller request id of a WSGI request) and
``GunicornJsonLogger``, gunicorn's ``logger_class``: its access log is one JSON line per
request on standard output, its error log JSON lines on standard error. CloudWatch Logs
Insights discovers the fields of JSON log events by itself, so no parsing rule is needed.
"""
from __future__ import annotations

import json
import logging
import sys
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any

from gunicorn import glogging

# CloudFront adds X-Amz-Cf-Id to every request it forwards to the origin; a caller may
# send its own X-Request-Id. The first one present names the request in the logs.
REQUEST_ID_KEYS = ("HTTP_X_AMZ_CF_ID", "HTTP_X_REQUEST_ID")
MAX_REQUEST_ID = 128


def request_id(environ: Mapping[str, Any]) -> str | None:
    for key in REQUEST_ID_KEYS:
        value = environ.get(key)
        if value:
            return str(value)[:MAX_REQUEST_ID]
    return None


def fields(**values: Any) -> dict[str, dict[str, Any]]:
    """``logger.info("...", extra=fields(a=1))``: structured fields for JsonFormatter."""
    return {"fields": values}


class JsonFormatter(logging.Formatter):
    """A record as one JSON object; the exception, if any, as a string field."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, timezone.utc)
            .isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update(getattr(record, "fields", {}))
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str, ensure_ascii=False)


class _JsonStderrHandler(logging.Handler):
    """JSON lines on whatever ``sys.stderr`` is when a record comes (one per process)."""

    def __init__(self) -> None:
        super().__init__()
        self.setFormatter(JsonFormatter())

    def emit(self, record: logging.LogRecord) -> None:
        try:
            sys.stderr.write(self.format(record) + "\n")
            sys.stderr.flush()
        except Exception:  # pylint: disable=broad-exception-caught  # logging's own contract
            self.handleError(record)


def configure_logging(level: int = logging.INFO) -> None:
    """JSON lines on standard error for every logger: ``app`` from ``level``, the libraries
    (psycopg_pool, redis-py, botocore) from the root's level (WARNING). Idempotent."""
    root = logging.getLogger()
    if not any(isinstance(handler, _JsonStderrHandler) for handler in root.handlers):
        root.addHandler(_JsonStderrHandler())
    logging.getLogger("app").setLevel(level)


class GunicornJsonLogger(glogging.Logger):
    """gunicorn's logger with JSON lines: access on standard output, errors on standard error."""

    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        for log in (self.error_log, self.access_log):
            for handler in log.handlers:
                handler.setFormatter(JsonFormatter())

    def access(self, resp: Any, req: Any, environ: Mapping[str, Any], request_time: Any) -> None:
        if not self.access_log_enabled:
            return
        status = resp.status
        if isinstance(status, str):
            status = int(status.split(None, 1)[0])
        entry: dict[str, Any] = {
            "method": environ.get("REQUEST_METHOD"),
            "path": environ.get("PATH_INFO"),
            "status": status,
            "bytes": getattr(resp, "sent", None),
            "duration_ms": round(request_time.total_seconds() * 1000, 1),
            "remote_addr": environ.get("REMOTE_ADDR"),
            "user_agent": environ.get("HTTP_USER_AGENT"),
        }
        forwarded_for = environ.get("HTTP_X_FORWARDED_FOR")
        if forwarded_for:
            entry["forwarded_for"] = forwarded_for
        rid = request_id(environ)
        if rid:
            entry["request_id"] = rid
        self.access_log.info("request", extra=fields(**entry))
