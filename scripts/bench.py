#!/usr/bin/env python
"""Benchmark against the floor: medians of wall times, ratios, peak memory of a synth.

Run by ``make bench`` with the project's interpreter (``.venv/bin/python``). The floor is a
process that loads the AWS provider bindings the fast way (``lib.bindings``: only the
``provider`` submodule) and synthesizes a stack holding just the provider; the naive floor
does the same after the normal import of all ~2,200 binding modules. Every measurement runs
``--runs`` times after one untimed warm-up, round-robin so that the load of a shared machine
falls on all of them alike; the table gives medians and the ratio to the floor's median.
Peak memory is the sum of the peak resident sizes (``VmHWM``) of the synth's processes,
Python and the jsii node runtime, sampled from ``/proc``.

Exit code 1 when a target is missed: ``python main.py`` within 1.5x the floor, ``make synth``
(through the cdktf CLI) within 2.5x, the unit suite (``make unit``) within 3x.
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable
FLOOR_CODE = """
import tempfile
import lib  # installs the fast loader (lib.bindings) unless TAP_FULL_PROVIDER_IMPORT=1
from cdktf import App, TerraformStack
from cdktf_cdktf_provider_aws.provider import AwsProvider
app = App(outdir=tempfile.mkdtemp(prefix="tap-bench-floor-"))
AwsProvider(TerraformStack(app, "floor"), "aws", region="us-east-1")
app.synth()
"""
SAMPLE_SECONDS = 0.05
MAIN_MEMORY = "peak memory of `python main.py` (Python + node)"
NAIVE_MEMORY = "peak memory of the naive floor (Python + node)"


@dataclass
class Measurement:
    """A command timed ``runs`` times; ``target``: allowed ratio of its median to the floor's."""

    name: str
    command: list[str]
    env: dict[str, str] = field(default_factory=dict)
    target: float | None = None
    seconds: list[float] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)


def environment(extra: dict[str, str]) -> dict[str, str]:
    # As in the Makefile: bytecode is cached (some machine images turn that off).
    env = {k: v for k, v in os.environ.items()
           if k not in ("TAP_FULL_PROVIDER_IMPORT", "PYTHONDONTWRITEBYTECODE")}
    env.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
    env.update(extra)
    return env


def run(measurement: Measurement) -> float:
    """Wall time of one run; a failing run stops the benchmark."""
    start = time.perf_counter()
    result = subprocess.run(measurement.command, cwd=ROOT, env=environment(measurement.env),
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            check=False)
    elapsed = time.perf_counter() - start
    if result.returncode != 0:
        sys.exit(f"bench: {measurement.name} failed ({result.returncode}): {result.stderr[-2000:]}")
    return elapsed


def children_of() -> dict[int, list[int]]:
    """Child pids by parent pid, from /proc."""
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", encoding="utf-8") as stat:
                # The command name (field 2) may hold spaces: the parent pid follows its ")".
                parent = int(stat.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(parent, []).append(int(entry.name))
    return children


def peak_kib(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/status", encoding="utf-8") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def peak_memory(command: list[str], env: dict[str, str]) -> tuple[float, dict[str, float]]:
    """Sum of the peak RSS (MiB) of ``command``'s process tree, and the peak of each program."""
    peaks: dict[int, tuple[str, int]] = {}
    with subprocess.Popen(command, cwd=ROOT, env=environment(env), stdout=subprocess.DEVNULL,
                          stderr=subprocess.DEVNULL) as process:
        while process.poll() is None:
            tree, todo = [], [process.pid]
            children = children_of()
            while todo:
                pid = todo.pop()
                tree.append(pid)
                todo.extend(children.get(pid, []))
            for pid in tree:
                kib = peak_kib(pid)
                if kib is not None:
                    try:
                        name = Path(f"/proc/{pid}/comm").read_text(encoding="utf-8").strip()
                    except OSError:
                        continue
                    peaks[pid] = (name, max(kib, peaks.get(pid, ("", 0))[1]))
            time.sleep(SAMPLE_SECONDS)
    if process.returncode != 0:
        sys.exit(f"bench: {' '.join(command)} failed ({process.returncode})")
    by_program: dict[str, float] = {}
    for name, kib in peaks.values():
        by_program[name] = by_program.get(name, 0.0) + kib / 1024
    return sum(by_program.values()), by_program


def sample_memory(memory: dict[str, list[float]], name: str, command: list[str],
                  env: dict[str, str]) -> None:
    """Add one peak-memory sample of ``command`` (total, then per program) to ``memory``."""
    total, by_program = peak_memory(command, env)
    memory.setdefault(name, []).append(total)
    for program, mib in sorted(by_program.items()):
        memory.setdefault(f"{name.split(' (', 1)[0]}: {program}", []).append(mib)


def measurements(outdir: str) -> list[Measurement]:
    synth_env = {"ENVIRONMENT_SUFFIX": "dev", "CDKTF_OUTDIR": outdir}
    return [
        Measurement("floor (fast bindings, provider-only stack)", [PYTHON, "-c", FLOOR_CODE]),
        Measurement("naive floor (normal import of the bindings)", [PYTHON, "-c", FLOOR_CODE],
                    {"TAP_FULL_PROVIDER_IMPORT": "1"}),
        Measurement("`python main.py` (dev)", [PYTHON, "main.py"], synth_env, 1.5),
        Measurement("`make synth` (cdktf CLI, dev)", ["make", "--no-print-directory", "synth"],
                    {"ENVIRONMENT_SUFFIX": "dev"}, 2.5),
        Measurement("unit suite (`make unit`)", ["make", "--no-print-directory", "unit"],
                    {}, 3.0),
    ]


def table(timed: list[Measurement], memory: dict[str, list[float]], runs: int) -> tuple[str, bool]:
    floor = timed[0].median
    rows = [f"| measurement (median of {runs}) | seconds | min | x floor | target |",
            "| --- | ---: | ---: | ---: | --- |"]
    ok = True
    for item in timed:
        ratio = item.median / floor
        verdict = ""
        if item.target is not None:
            met = ratio <= item.target
            ok = ok and met
            verdict = f"<= {item.target}x {'ok' if met else 'MISSED'}"
        rows.append(f"| {item.name} | {item.median:.2f} | {min(item.seconds):.2f} | "
                    f"{ratio:.2f} | {verdict} |")
    for name, samples in memory.items():
        rows.append(f"| {name} | {statistics.median(samples):.0f} MiB | {min(samples):.0f} MiB"
                    " | | |")
    return "\n".join(rows), ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--runs", type=int, default=5, help="timed runs of each (default 5)")
    parser.add_argument("--skip", default="", help="comma-separated words: skip measurements "
                        "whose name contains one (e.g. 'unit,naive')")
    args = parser.parse_args(argv)
    skip = [word for word in args.skip.split(",") if word]
    with tempfile.TemporaryDirectory(prefix="tap-bench-") as outdir:
        everything = measurements(outdir)
        timed = everything[:1] + [m for m in everything[1:] if not any(w in m.name for w in skip)]
        memory: dict[str, list[float]] = {}
        for item in timed:  # warm-up: caches, __pycache__, node's compile cache
            run(item)
        for index in range(args.runs):
            for item in timed:
                item.seconds.append(run(item))
            sample_memory(memory, MAIN_MEMORY, [PYTHON, "main.py"],
                          {"ENVIRONMENT_SUFFIX": "dev", "CDKTF_OUTDIR": outdir})
            if "naive" not in skip:
                sample_memory(memory, NAIVE_MEMORY, [PYTHON, "-c", FLOOR_CODE],
                              {"TAP_FULL_PROVIDER_IMPORT": "1"})
            print(f"bench: run {index + 1}/{args.runs} done", file=sys.stderr)
    text, ok = table(timed, memory, args.runs)
    print(text)
    print("bench: all targets met" if ok else "bench: a target was MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
