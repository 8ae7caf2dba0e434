"""Fixtures of the harness's own tests: the in-process emulator of tests/emulator/conftest.py
(test_fleet.py makes a platform network and fills a VPC quota on it)."""
from __future__ import annotations

from tests.emulator.conftest import client, endpoint, roomy_vpc_quota

__all__ = ["client", "endpoint", "roomy_vpc_quota"]
