"""The fast bindings loader: same JSON as the normal import, fallback when it cannot apply."""
from __future__ import annotations

import os
import subprocess
import sys
import types
from pathlib import Path

import pytest

import lib
import main
from lib import bindings

ROOT = Path(__file__).resolve().parents[2]


def synth_with_full_import(out: Path) -> str:
    """Synthesize prod in a process that imports the whole bindings package; its mode."""
    env = {**os.environ, bindings.FULL_IMPORT_VARIABLE: "1", "ENVIRONMENT_SUFFIX": "prod",
           "CDKTF_OUTDIR": str(out)}
    probe = "import sys, lib, main; code = main.main(); print(lib.BINDINGS_MODE); sys.exit(code)"
    return subprocess.run([sys.executable, "-c", probe], cwd=ROOT, env=env, check=True,
                          timeout=300, capture_output=True, text=True).stdout.split()[-1]


@pytest.mark.slow  # the normal import costs ~11 s: `make test` runs it apart from `make unit`
def test_fast_and_full_import_synthesize_identical_json(tmp_path: Path) -> None:
    environ = {k: v for k, v in os.environ.items() if k != bindings.FULL_IMPORT_VARIABLE}
    assert main.main({**environ, "ENVIRONMENT_SUFFIX": "prod",
                      "CDKTF_OUTDIR": str(tmp_path / "fast")}) == 0
    assert lib.BINDINGS_MODE == "fast"
    assert synth_with_full_import(tmp_path / "full") == "full"
    fast, full = ((tmp_path / mode / "stacks" / "TapStackprod" / "cdk.tf.json").read_text()
                  for mode in ("fast", "full"))
    assert fast == full
    assert '"aws_vpc"' in fast


def test_install_is_idempotent_and_reports_mode() -> None:
    assert bindings.install() == "fast"
    assert getattr(sys.modules[bindings.PACKAGE], "__tap_fast__") is True


def test_falls_back_to_the_normal_import_when_layout_differs(
        monkeypatch: pytest.MonkeyPatch) -> None:
    imported = []
    monkeypatch.delitem(sys.modules, bindings.PACKAGE)
    monkeypatch.setattr(bindings, "_package_dir", lambda: None)
    monkeypatch.setattr(bindings.importlib, "import_module",
                        lambda name: imported.append(name) or types.ModuleType(name))
    assert bindings.install() == "full"
    assert imported == [bindings.PACKAGE]


def test_full_import_requested(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delitem(sys.modules, bindings.PACKAGE)
    monkeypatch.setenv(bindings.FULL_IMPORT_VARIABLE, "1")
    monkeypatch.setattr(bindings.importlib, "import_module", types.ModuleType)
    assert bindings.install() == "full"


def test_package_dir_checks_the_layout(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    assert (bindings._package_dir() / "vpc").is_dir()  # pylint: disable=protected-access
    spec = types.SimpleNamespace(submodule_search_locations=[str(tmp_path)])
    monkeypatch.setattr(bindings.importlib.util, "find_spec", lambda name: spec)
    assert bindings._package_dir() is None  # pylint: disable=protected-access
    (tmp_path / "_jsii").mkdir()
    (tmp_path / "_jsii" / "__init__.py").write_text("")
    assert bindings._package_dir() is None  # pylint: disable=protected-access
    monkeypatch.setattr(bindings.importlib.util, "find_spec", lambda name: None)
    assert bindings._package_dir() is None  # pylint: disable=protected-access
