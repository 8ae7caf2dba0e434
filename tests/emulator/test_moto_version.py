"""The moto version the extensions patch is named once (``emulator.MOTO_VERSION``): the
Pipfile and its lock pin exactly it, and ``install()`` refuses any other."""
from __future__ import annotations

import json
import tomllib
from pathlib import Path

import moto
import pytest

from emulator import MOTO_VERSION, moto_ext

ROOT = Path(__file__).resolve().parents[2]


def test_the_pipfile_pins_that_version() -> None:
    pipfile = tomllib.loads((ROOT / "Pipfile").read_text(encoding="utf-8"))
    assert pipfile["dev-packages"]["moto"] == {"version": f"=={MOTO_VERSION}",
                                               "extras": ["server"]}
    assert "moto" not in pipfile["packages"]


def test_the_lock_pins_that_version() -> None:
    lock = json.loads((ROOT / "Pipfile.lock").read_text(encoding="utf-8"))
    assert lock["develop"]["moto"]["version"] == f"=={MOTO_VERSION}"
    assert lock["develop"]["moto"]["extras"] == ["server"]
    assert "moto" not in lock["default"]


def test_the_installed_moto_is_that_version() -> None:
    assert moto.__version__ == MOTO_VERSION


def test_install_refuses_another_moto_version(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(moto, "__version__", "5.2.6")
    with pytest.raises(RuntimeError) as refused:
        moto_ext.install()
    assert str(refused.value) == (
        f"emulator.moto_ext patches moto {MOTO_VERSION} (emulator.MOTO_VERSION) but "
        "moto.__version__ is 5.2.6: install the version Pipfile.lock pins (make install), or "
        "port the extensions to moto 5.2.6 and change MOTO_VERSION, Pipfile and Pipfile.lock "
        "together")
