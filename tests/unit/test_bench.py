"""scripts/bench.py: the table's ratios and verdicts, the naming of a synth's processes."""
from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
_SPEC = importlib.util.spec_from_file_location("bench", ROOT / "scripts" / "bench.py")
assert _SPEC is not None and _SPEC.loader is not None
bench = importlib.util.module_from_spec(_SPEC)
sys.modules["bench"] = bench  # dataclasses look their module up there
_SPEC.loader.exec_module(bench)


def timed(name: str, seconds: list[float], cpu: list[float],
          target: float | None = None) -> bench.Measurement:
    """A measurement with its samples already taken."""
    return bench.Measurement(name, ["true"], target=target, seconds=seconds, cpu_seconds=cpu)


def test_table_gives_ratios_to_the_floor_and_verdicts() -> None:
    memory = {f"{bench.FLOOR_MEMORY}: {bench.KERNEL}": [60.0, 70.0, 80.0],
              f"{bench.MAIN_MEMORY}: {bench.KERNEL}": [150.0, 140.0, 210.0],
              f"{bench.MAIN_MEMORY}: python": [50.0]}
    text, ok = bench.table([timed("floor", [1.0, 0.5, 2.0], [0.4, 0.5, 0.6]),
                            timed("main", [1.8, 2.2, 1.9], [1.0, 1.0, 1.0], 2.0)], memory, 3)
    assert ok
    rows = text.splitlines()
    assert rows[2] == "| floor | 1.00 s | 0.50 s | 1.00 |  | 0.50 s | 1.00 |"
    assert rows[3] == "| main | 1.90 s | 1.80 s | 1.90 | <= 2x ok | 1.00 s | 2.00 |"
    assert rows[5] == (f"| {bench.MAIN_MEMORY}: {bench.KERNEL} | 150 MiB | 140 MiB | 2.14 | "
                       "<= 200 MiB ok | | |")
    assert rows[6] == f"| {bench.MAIN_MEMORY}: python | 50 MiB | 50 MiB |  |  | | |"


def test_table_reports_a_missed_target() -> None:
    _, ok = bench.table([timed("floor", [1.0], [1.0]), timed("main", [2.5], [1.0], 2.0)], {}, 1)
    assert not ok
    memory = {f"{bench.MAIN_MEMORY}: {bench.KERNEL}": [250.0]}
    text, ok = bench.table([timed("floor", [1.0], [1.0])], memory, 1)
    assert not ok
    assert "<= 200 MiB MISSED" in text


def test_memory_runs_skip_by_word() -> None:
    names = [name for name, _, _ in bench.memory_runs("/tmp/out", ["naive", "full"])]
    assert names == [bench.FLOOR_MEMORY, bench.MAIN_MEMORY]


def test_processes_are_named_by_their_role() -> None:
    assert bench.program(os.getpid()) == "python"
    assert bench.program(2 ** 22 + 1) is None  # above the largest pid
    assert bench.peak_kib(os.getpid()) > 0
    assert bench.peak_kib(2 ** 22 + 1) is None


def test_measured_commands_run_with_the_loaders_on(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TAP_FULL_PROVIDER_JS", "1")
    monkeypatch.setenv("PYTHONDONTWRITEBYTECODE", "1")
    env = bench.environment({"ENVIRONMENT_SUFFIX": "dev"})
    assert "TAP_FULL_PROVIDER_JS" not in env and "PYTHONDONTWRITEBYTECODE" not in env
    assert env["ENVIRONMENT_SUFFIX"] == "dev"
