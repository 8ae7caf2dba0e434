"""The stand-ins fail loudly, naming what to install, when a server binary is missing
(nothing in app/tests is skipped)."""
from __future__ import annotations

from pathlib import Path

import pytest

from app.tests import standins
from app.tests.standins import MissingServer, PostgresServer, RedisServer, TestCA


def test_missing_postgres_names_the_package(monkeypatch: pytest.MonkeyPatch, ca: TestCA,
                                            tmp_path: Path) -> None:
    monkeypatch.setattr(standins, "PG_BIN", tmp_path)
    with pytest.raises(MissingServer) as caught:
        PostgresServer(ca)
    assert str(caught.value) == (
        f"{tmp_path}/initdb is missing: PostgreSQL 15 (Debian's postgresql-15) is needed; run "
        "`make app-test`, which installs it with scripts/install-standins.sh")


def test_missing_redis_names_the_package(monkeypatch: pytest.MonkeyPatch, ca: TestCA) -> None:
    monkeypatch.setattr(standins, "REDIS_SERVER", "redis-server-not-installed")
    with pytest.raises(MissingServer) as caught:
        RedisServer(ca)
    assert str(caught.value) == (
        "redis-server-not-installed is missing: Redis 7.0 (Debian's redis-server) is needed; "
        "run `make app-test`, which installs it with scripts/install-standins.sh")
