"""Session fixtures: each reference environment is synthesized once per test session."""
# pylint: disable=redefined-outer-name
from __future__ import annotations

import pytest

from tests.unit.synth import Synth, synthesize

REFERENCE_SUFFIXES = ("dev", "pr4892", "prod")


@pytest.fixture(scope="session")
def stacks() -> dict[str, Synth]:
    """The parsed JSON of dev, pr4892 and prod, by suffix."""
    return {suffix: synthesize({"ENVIRONMENT_SUFFIX": suffix}) for suffix in REFERENCE_SUFFIXES}


@pytest.fixture(scope="session")
def dev(stacks: dict[str, Synth]) -> Synth:
    """The standard profile."""
    return stacks["dev"]


@pytest.fixture(scope="session")
def ephemeral(stacks: dict[str, Synth]) -> Synth:
    """The ephemeral profile (pr4892)."""
    return stacks["pr4892"]


@pytest.fixture(scope="session")
def prod(stacks: dict[str, Synth]) -> Synth:
    """The production profile."""
    return stacks["prod"]
