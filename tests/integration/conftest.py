"""Session fixtures of the integration suite.

``outputs`` loads the deployed outputs file (``TAP_OUTPUTS_FILE``, default
``cfn-outputs/flat-outputs.json``) and skips every test with the reason when there is
no deployment. ``settings`` / ``profile`` say what the environment promises,
``pieces_profile`` what its load balancer, database, cache and web ACL were made with (on the
shared pieces, the shared stack's profile),
``aws`` makes boto3 clients in the stack's region, ``emulator`` says whether
``AWS_ENDPOINT_URL`` is a loopback emulator. Tests marked ``real_aws`` skip there.
"""
# pylint: disable=redefined-outer-name
from __future__ import annotations

import os
from pathlib import Path

import pytest

from lib.config import PROFILES, Profile, Settings, profile_name_for
from lib.profiles import PLATFORM_PROFILE
from lib.naming import Names
from tests.integration.live import EMULATOR_REASON, Clients, expected_settings, is_emulator
from tests.integration.outputs import NoOutputs, Outputs, OutputsError, load_outputs, outputs_path

ROOT = Path(__file__).resolve().parents[2]


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "real_aws(reason): needs real AWS; skipped when AWS_ENDPOINT_URL is loopback")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """On the emulator, tests marked ``real_aws`` skip with the marker's reason."""
    if not is_emulator(os.environ):
        return
    for item in items:
        marker = item.get_closest_marker("real_aws")
        if marker is not None:
            why = marker.args[0] if marker.args else EMULATOR_REASON
            item.add_marker(pytest.mark.skip(
                reason=f"emulator ({os.environ.get('AWS_ENDPOINT_URL')}): {why}"))


@pytest.fixture(scope="session")
def outputs() -> Outputs:
    """The deployment's outputs; skips the suite when there is no deployment."""
    path = outputs_path(os.environ, ROOT)
    try:
        stack_name, values = load_outputs(path)
    except NoOutputs as reason:
        pytest.skip(str(reason))
    except OutputsError as error:
        pytest.fail(str(error), pytrace=False)
    return Outputs(stack_name, values, path)


@pytest.fixture(scope="session")
def settings(outputs: Outputs) -> Settings:
    """The settings the deployment was synthesized from (suffix and region: its outputs)."""
    settings = expected_settings(outputs, os.environ)
    if outputs.stack_name is not None:
        assert outputs.stack_name == settings.stack_name, \
            f"{outputs.source}: stack {outputs.stack_name} but environment_suffix " \
            f"{settings.environment_suffix}"
    return settings


@pytest.fixture(scope="session")
def profile(settings: Settings) -> Profile:
    """The row of ``lib.config.PROFILES`` for the deployed suffix."""
    return PROFILES[profile_name_for(settings.environment_suffix)]


@pytest.fixture(scope="session")
def pieces_profile(settings: Settings, profile: Profile) -> Profile:
    """The profile the load balancer, the database, the cache and the web ACL were made with:
    the environment's own, or on the shared pieces (``Settings.shared``) the shared stack's
    (lib/shared_stack.py)."""
    return PLATFORM_PROFILE if settings.shared else profile


@pytest.fixture(scope="session")
def names(settings: Settings) -> Names:
    """Physical names of the deployed environment."""
    return Names(settings)


@pytest.fixture(scope="session")
def emulator() -> bool:
    """True when the suite runs against a loopback emulator."""
    return is_emulator(os.environ)


@pytest.fixture(scope="session")
def aws(settings: Settings) -> Clients:
    """``aws("ec2")`` in the stack's region, ``aws("wafv2", "us-east-1")`` elsewhere."""
    return Clients(settings.aws_region, os.environ)
