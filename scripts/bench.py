#!/usr/bin/env python
"""Benchmark against the floor: medians of wall times, ratios, peak memory of a synth.

Run by ``make bench`` with the project's interpreter (``.venv/bin/python``). The floor is the
smallest cdktf app: App + an empty TerraformStack + synth, without the AWS provider. Also
timed: a stack holding just the provider, loaded the fast way (``lib.bindings``), and the
same after the normal load of all ~2,200 binding modules, Python and JavaScript (the naive
floor); ``python main.py`` with and without the lazy provider JavaScript
(``TAP_FULL_PROVIDER_JS=1``: how every synth ran before it); ``make synth``; the unit suite.
Every measurement runs ``--runs`` times after one untimed warm-up, round-robin so that the
load of a shared machine falls on all of them alike; the table gives medians and the ratio
to the floor's median. Peak memory is the peak resident size (``VmHWM``) of each process of
a synth, sampled from ``/proc``: Python, the jsii kernel (node, ``program.js``) and the
small node process that relays to it (``jsii-runtime.js``).

Exit code 1 when a target is missed: ``python main.py`` within 2x the floor, the unit suite
(``make unit``) within 4x, the jsii kernel of ``python main.py`` at most 200 MiB.
"""
from __future__ import annotations

import argparse
import os
import resource
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
from cdktf import App, TerraformStack
app = App(outdir=tempfile.mkdtemp(prefix="tap-bench-floor-"))
TerraformStack(app, "floor")
app.synth()
"""
PROVIDER_CODE = """
import tempfile
from lib import bindings
bindings.load()  # the fast loaders unless TAP_FULL_PROVIDER_IMPORT/_JS=1
from cdktf import App, TerraformStack
from cdktf_cdktf_provider_aws.provider import AwsProvider
app = App(outdir=tempfile.mkdtemp(prefix="tap-bench-provider-"))
AwsProvider(TerraformStack(app, "floor"), "aws", region="us-east-1")
app.synth()
"""
FULL_LOAD = {"TAP_FULL_PROVIDER_IMPORT": "1", "TAP_FULL_PROVIDER_JS": "1"}
FULL_JS = {"TAP_FULL_PROVIDER_JS": "1"}
SAMPLE_SECONDS = 0.05
FLOOR_MEMORY = "peak memory of the floor"
MAIN_MEMORY = "peak memory of `python main.py` (dev)"
FULL_JS_MEMORY = "peak memory of `python main.py` (dev), full provider JavaScript"
NAIVE_MEMORY = "peak memory of the naive floor"
KERNEL = "node (jsii kernel)"
# Allowed peak (MiB) of one process of a memory measurement.
MEMORY_TARGETS = {(MAIN_MEMORY, KERNEL): 200.0}


@dataclass
class Measurement:
    """A command timed ``runs`` times; ``target``: allowed ratio of its median to the floor's."""

    name: str
    command: list[str]
    env: dict[str, str] = field(default_factory=dict)
    target: float | None = None
    seconds: list[float] = field(default_factory=list)
    cpu_seconds: list[float] = field(default_factory=list)

    @property
    def median(self) -> float:
        """Median wall time."""
        return statistics.median(self.seconds)

    @property
    def cpu_median(self) -> float:
        """Median CPU time (user + system) of the process tree."""
        return statistics.median(self.cpu_seconds)


def environment(extra: dict[str, str]) -> dict[str, str]:
    """The environment of a measured command: this one, the loaders on, plus ``extra``."""
    # As in the Makefile: bytecode is cached (some machine images turn that off).
    env = {k: v for k, v in os.environ.items()
           if k not in ("TAP_FULL_PROVIDER_IMPORT", "TAP_FULL_PROVIDER_JS",
                        "PYTHONDONTWRITEBYTECODE")}
    env.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
    env.update(extra)
    return env


def cpu_of_children() -> float:
    """CPU seconds (user + system) of every waited-for descendant so far."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run(measurement: Measurement) -> tuple[float, float]:
    """Wall and CPU time of one run; a failing run stops the benchmark.

    CPU time is less sensitive than wall time to the load of a shared machine.
    """
    cpu, start = cpu_of_children(), time.perf_counter()
    result = subprocess.run(measurement.command, cwd=ROOT, env=environment(measurement.env),
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            check=False)
    elapsed = time.perf_counter() - start
    if result.returncode != 0:
        sys.exit(f"bench: {measurement.name} failed ({result.returncode}): {result.stderr[-2000:]}")
    return elapsed, cpu_of_children() - cpu


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


def program(pid: int) -> str | None:
    """What a process of a synth is: ``python``, the jsii kernel or its relay, else its name."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as cmdline:
            arguments = cmdline.read().split(b"\0")
        name = Path(f"/proc/{pid}/comm").read_text(encoding="utf-8").strip()
    except OSError:
        return None
    if any(argument.endswith(b"program.js") for argument in arguments):
        return KERNEL
    if any(argument.endswith(b"jsii-runtime.js") for argument in arguments):
        return "node (jsii relay)"
    return "python" if name.startswith("python") else name


def peak_kib(pid: int) -> int | None:
    """The peak resident size (VmHWM) of a running process, in KiB."""
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
                kib, name = peak_kib(pid), program(pid)
                if kib is not None and name is not None:
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
    memory.setdefault(f"{name}: total", []).append(total)
    for process, mib in sorted(by_program.items()):
        memory.setdefault(f"{name}: {process}", []).append(mib)


def measurements(outdir: str) -> list[Measurement]:
    """Everything timed; the first is the floor."""
    synth_env = {"ENVIRONMENT_SUFFIX": "dev", "CDKTF_OUTDIR": outdir}
    return [
        Measurement("floor (empty cdktf stack, no provider)", [PYTHON, "-c", FLOOR_CODE]),
        Measurement("provider-only stack (fast loaders)", [PYTHON, "-c", PROVIDER_CODE]),
        Measurement("naive floor (provider-only, normal load)", [PYTHON, "-c", PROVIDER_CODE],
                    FULL_LOAD),
        Measurement("`python main.py` (dev)", [PYTHON, "main.py"], synth_env, 2.0),
        Measurement("`python main.py` (dev), full provider JavaScript", [PYTHON, "main.py"],
                    {**synth_env, **FULL_JS}),
        Measurement("`make synth` (cdktf CLI, dev)", ["make", "--no-print-directory", "synth"],
                    {"ENVIRONMENT_SUFFIX": "dev"}),
        Measurement("unit suite (`make unit`)", ["make", "--no-print-directory", "unit"],
                    {}, 4.0),
    ]


def memory_runs(outdir: str, skip: list[str]) -> list[tuple[str, list[str], dict[str, str]]]:
    """The commands whose peak memory is sampled once per round: name, command, environment."""
    synth_env = {"ENVIRONMENT_SUFFIX": "dev", "CDKTF_OUTDIR": outdir}
    runs = [(FLOOR_MEMORY, [PYTHON, "-c", FLOOR_CODE], {}),
            (MAIN_MEMORY, [PYTHON, "main.py"], synth_env),
            (FULL_JS_MEMORY, [PYTHON, "main.py"], {**synth_env, **FULL_JS}),
            (NAIVE_MEMORY, [PYTHON, "-c", PROVIDER_CODE], FULL_LOAD)]
    return [item for item in runs if not any(word in item[0] for word in skip)]


def verdict(value: float, target: float | None, unit: str) -> tuple[str, bool]:
    """The target column for ``value`` against ``target`` (none: no target), and whether met."""
    if target is None:
        return "", True
    met = value <= target
    return f"<= {target:g}{unit} {'ok' if met else 'MISSED'}", met


def table(timed: list[Measurement], memory: dict[str, list[float]], runs: int) -> tuple[str, bool]:
    """The markdown table of medians, minimums and ratios to the floor; whether all targets met.

    Memory rows (``"<measurement>: <process>"``) are compared with the same process of the floor.
    """
    floor, floor_cpu = timed[0].median, timed[0].cpu_median
    rows = [f"| measurement (median of {runs}) | median | min | x floor | target | CPU | CPU x floor |",
            "| --- | ---: | ---: | ---: | --- | ---: | ---: |"]
    ok = True
    for item in timed:
        ratio = item.median / floor
        text, met = verdict(ratio, item.target, "x")
        ok = ok and met
        rows.append(f"| {item.name} | {item.median:.2f} s | {min(item.seconds):.2f} s | "
                    f"{ratio:.2f} | {text} | {item.cpu_median:.2f} s | "
                    f"{item.cpu_median / floor_cpu:.2f} |")
    for name, samples in memory.items():
        measurement, process = name.rsplit(": ", 1)
        median = statistics.median(samples)
        floor_samples = memory.get(f"{FLOOR_MEMORY}: {process}")
        ratio = f"{median / statistics.median(floor_samples):.2f}" if floor_samples else ""
        text, met = verdict(median, MEMORY_TARGETS.get((measurement, process)), " MiB")
        ok = ok and met
        rows.append(f"| {name} | {median:.0f} MiB | {min(samples):.0f} MiB | {ratio} | {text} | | |")
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
                wall, cpu = run(item)
                item.seconds.append(wall)
                item.cpu_seconds.append(cpu)
            for name, command, env in memory_runs(outdir, skip):
                sample_memory(memory, name, command, env)
            print(f"bench: run {index + 1}/{args.runs} done", file=sys.stderr)
    text, ok = table(timed, memory, args.runs)
    print(text)
    print("bench: all targets met" if ok else "bench: a target was MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
