"""The guestbook: messages written to PostgreSQL, the latest ones served from the cache.

Exposes ``Guestbook`` (``add``, ``latest``, ``get``), ``validate_text`` (the request body's
rules, raising ``ValidationError``) and the cache layout:

- ``{tap:messages}:generation``: a counter that every write increments (the invalidation);
- ``{tap:messages}:latest:<generation>``: the latest ``LATEST_COUNT`` messages as JSON, for
  ``LIST_TTL_SECONDS``.

A reader that loaded the rows just before a write stores them under the generation it
read, which no reader asks for once the write has incremented it: a stale list cannot
outlive an invalidation (a plain delete could be overwritten by such a reader). The hash
tag ``{tap:messages}`` keeps both keys in one slot of the cluster. ``Cache`` puts
``REDIS_KEY_PREFIX`` in front of both names. When the cache fails,
the list comes from PostgreSQL (``bypass``) and the failure is logged.
"""
from __future__ import annotations

import json
import logging
from datetime import datetime, timezone
from typing import Any

from app.cache import Cache, CacheError
from app.db import Database
from app.logs import fields

LOG = logging.getLogger("app.guestbook")

LATEST_COUNT = 20
LIST_TTL_SECONDS = 30
MAX_TEXT = 500
GENERATION_KEY = "{tap:messages}:generation"

Message = dict[str, Any]


def list_key(generation: str) -> str:
    return f"{{tap:messages}}:latest:{generation}"


class ValidationError(ValueError):
    """The request body breaks a rule; the message says which."""


def validate_text(payload: Any) -> str:
    """The message text of a ``{"text": "..."}`` body: 1 to MAX_TEXT characters, trimmed."""
    if not isinstance(payload, dict):
        raise ValidationError("the body must be a JSON object")
    unexpected = sorted(set(payload) - {"text"})
    if unexpected:
        raise ValidationError(f"unexpected field {unexpected[0]!r}")
    text = payload.get("text")
    if not isinstance(text, str):
        raise ValidationError("text must be a string")
    text = text.strip()
    if not 1 <= len(text) <= MAX_TEXT:
        raise ValidationError(f"text must have 1 to {MAX_TEXT} characters")
    # PostgreSQL's text type cannot hold NUL.
    if "\x00" in text:
        raise ValidationError("text must not contain NUL characters")
    return text


def _message(row: tuple[int, str, datetime]) -> Message:
    ident, text, created_at = row
    stamp = created_at.astimezone(timezone.utc).isoformat(timespec="milliseconds")
    return {"id": ident, "text": text, "created_at": stamp.replace("+00:00", "Z")}


class Guestbook:
    """The feature's reads and writes over the database pool and the cache."""

    def __init__(self, database: Database, cache: Cache) -> None:
        self._database = database
        self._cache = cache

    def add(self, text: str) -> Message:
        with self._database.connection() as conn:
            row = conn.execute(
                "INSERT INTO app.messages (text) VALUES (%s) RETURNING id, text, created_at",
                (text,)).fetchone()
        assert row is not None
        try:
            self._cache.incr(GENERATION_KEY)
        except CacheError as error:
            LOG.error("cache invalidation failed: the list may be stale for up to %s s",
                      LIST_TTL_SECONDS, extra=fields(error=str(error)))
        return _message(row)

    def latest(self) -> tuple[list[Message], str]:
        """The latest messages, newest first, and where they came from (hit, miss, bypass)."""
        generation: str | None
        try:
            generation = self._cache.get(GENERATION_KEY) or "0"
            cached = self._cache.get(list_key(generation))
        except CacheError as error:
            LOG.warning("cache read failed, reading the database",
                        extra=fields(error=str(error)))
            generation, cached = None, None
        if cached is not None:
            return json.loads(cached), "hit"
        with self._database.connection() as conn:
            rows = conn.execute(
                "SELECT id, text, created_at FROM app.messages ORDER BY id DESC LIMIT %s",
                (LATEST_COUNT,)).fetchall()
        messages = [_message(row) for row in rows]
        if generation is None:
            return messages, "bypass"
        try:
            self._cache.set(list_key(generation), json.dumps(messages), LIST_TTL_SECONDS)
        except CacheError as error:
            LOG.warning("cache write failed", extra=fields(error=str(error)))
            return messages, "bypass"
        return messages, "miss"

    def get(self, ident: int) -> Message | None:
        with self._database.connection() as conn:
            row = conn.execute("SELECT id, text, created_at FROM app.messages WHERE id = %s",
                               (ident,)).fetchone()
        return None if row is None else _message(row)
