"""Session fixtures: every environment the unit tests read is synthesized once per session.

The three reference environments, built here, and the all-options ``variant``, which
``main.main`` writes (``main_run``); see tests/unit/variants.py for why there are no more.

``suite_without_outputs`` is the integration suite run as `make integration` runs it on a
checkout that deployed nothing. That process is started as soon as collection shows a
test needs it, so it runs on the second core while this process synthesizes.

The fast bindings loaders (``lib.bindings.load``) are installed here, before any test module
imports ``cdktf`` and starts the jsii kernel.
"""
# pylint: disable=redefined-outer-name
from __future__ import annotations

import gc
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from lib import bindings

bindings.load()

# pylint: disable=wrong-import-position  # after the loaders: these import cdktf
import main  # noqa: E402
from tests.unit.synth import Synth, synthesize, written  # noqa: E402
from tests.unit.variants import GIVEN_NETWORK, SHARED, VARIANT

REFERENCE_SUFFIXES = ("dev", "pr4892", "prod")
ROOT = Path(__file__).resolve().parents[2]

# The bindings, jsii and typing caches loaded above live as long as the process: moved to
# the permanent generation, no garbage collection walks them again (pytest's final
# gc.collect() passes took ~0.3 s over them; `make unit` is ~0.5 s faster).
gc.freeze()

SUITE_TIMEOUT_SECONDS = 300
_SUITE = pytest.StashKey[tuple[subprocess.Popen, Path]]()


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


@pytest.fixture(scope="session")
def teardown() -> Synth:
    """Production with ALLOW_DESTROY=true: the configuration of the deliberate teardown."""
    return synthesize({"ENVIRONMENT_SUFFIX": "prod", "ALLOW_DESTROY": "true"})


@pytest.fixture(scope="session")
def on_shared() -> Synth:
    """pr4892 on the five shared pieces, in the given network (the shared mode)."""
    return synthesize(SHARED)


@pytest.fixture(scope="session")
def platform() -> Synth:
    """The shared stack TapSharedmain in the given network."""
    # pylint: disable=import-outside-toplevel  # jsii is up: the bindings loaders went first
    from cdktf import Testing

    from lib.config import load_platform_settings
    from lib.shared_stack import SharedStack
    from tests.unit.synth import parsed
    return parsed(SharedStack(Testing.app(), load_platform_settings(
        {"SHARED_PLATFORM": "main", **GIVEN_NETWORK})))


@pytest.fixture(scope="session")
def main_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[int, Path]:
    """``main.main`` on VARIANT: its exit code and its output directory."""
    outdir = tmp_path_factory.mktemp("main-out")
    return main.main({**VARIANT, "CDKTF_OUTDIR": str(outdir)}), outdir


@pytest.fixture(scope="session")
def variant(main_run: tuple[int, Path]) -> Synth:
    """The stack main.main wrote for VARIANT (every option set, us-west-1), parsed."""
    code, outdir = main_run
    assert code == 0
    return written(outdir / "stacks" / f"TapStack{VARIANT['ENVIRONMENT_SUFFIX']}" / "cdk.tf.json")


def _start_suite_without_outputs() -> tuple[subprocess.Popen, Path]:
    """`pytest tests/integration` with TAP_OUTPUTS_FILE naming a file that does not exist;
    the process and the (empty) directory of that file."""
    directory = Path(tempfile.mkdtemp(prefix="tap-no-outputs-"))
    env = {**os.environ, "TAP_OUTPUTS_FILE": str(directory / "flat-outputs.json")}
    env.pop("AWS_ENDPOINT_URL", None)
    process = subprocess.Popen(  # pylint: disable=consider-using-with  # waited in the fixture
        [sys.executable, "-m", "pytest", "tests/integration", "-p", "no:cacheprovider", "-rs"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    return process, directory


def pytest_collection_finish(session: pytest.Session) -> None:
    """Start the integration suite early when a selected test reads its result."""
    if any("suite_without_outputs" in getattr(item, "fixturenames", ())
           for item in session.items):
        session.config.stash[_SUITE] = _start_suite_without_outputs()


def pytest_unconfigure(config: pytest.Config) -> None:
    """A run that never read the suite's result (stopped early) still reaps the process."""
    started = config.stash.get(_SUITE, None)
    if started is not None:
        process, directory = started
        if process.poll() is None:
            process.kill()
            process.communicate()
        shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture(scope="session")
def suite_without_outputs(request: pytest.FixtureRequest) -> subprocess.CompletedProcess:
    """The finished run of the integration suite without a deployment."""
    if _SUITE not in request.config.stash:
        request.config.stash[_SUITE] = _start_suite_without_outputs()
    process, _ = request.config.stash[_SUITE]
    try:
        stdout, stderr = process.communicate(timeout=SUITE_TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        process.kill()
        stdout, stderr = process.communicate()
    return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)
