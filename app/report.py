"""The scheduled job: ``python -m app.report``.

Counts the guestbook's messages of the last day, stores the count in ``app.reports`` and
prints it as one JSON line, e.g. ``{"report": "messages_last_day", "count": 3,
"period_start": "...", "period_end": "..."}``. It connects as the application role, like
the service (``DB_AUTH``: an IAM token per connection), and needs no cache. Exits 0 on
success, 1 with one line ``report: error: ...`` on standard error, 2 for a configuration
error.
"""
from __future__ import annotations

import json
import os
import sys
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any

import psycopg

from app.config import config_errors_exit, load_job_settings
from app.db import connect
from app.logs import configure_logging

REPORT_NAME = "messages_last_day"


def _stamp(value: datetime) -> str:
    return value.astimezone(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


def run(conn: psycopg.Connection[Any]) -> dict[str, Any]:
    """Count the last day's messages and store the count, in one transaction."""
    with conn.transaction():
        row = conn.execute(
            "WITH period AS (SELECT now() - interval '1 day' AS period_start, now() AS period_end) "
            "INSERT INTO app.reports (name, period_start, period_end, value) "
            "SELECT %s, p.period_start, p.period_end, "
            "(SELECT count(*) FROM app.messages m "
            " WHERE m.created_at >= p.period_start AND m.created_at < p.period_end) "
            "FROM period p RETURNING period_start, period_end, value",
            (REPORT_NAME,)).fetchone()
    assert row is not None
    period_start, period_end, count = row
    return {"report": REPORT_NAME, "count": count, "period_start": _stamp(period_start),
            "period_end": _stamp(period_end)}


def main(environ: Mapping[str, str] | None = None) -> int:
    configure_logging()
    with config_errors_exit("report"):
        settings = load_job_settings(os.environ if environ is None else environ)
    try:
        with connect(settings.database, settings.login) as conn:
            result = run(conn)
    except psycopg.Error as error:
        print(f"report: error: {' '.join(str(error).split())}", file=sys.stderr)
        return 1
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
