"""Offline end-to-end lives of TapStack environments on moto at 127.0.0.1.

``python -m tests.e2e.run [SUFFIX ...]`` (default ``$ENVIRONMENT_SUFFIX`` or ``dev``)
runs, for each environment, the life of its profile (tests/e2e/lives.py: standard,
ephemeral or production), each on a fresh emulator; ``--jobs N`` runs up to N lives
at once (each with its own emulator). A life is a list of phases (tests/e2e/phases.py,
tests/e2e/mishaps.py, tests/e2e/service_writes.py). At the end a summary prints each
life's phases with their seconds, its failures and notes; the same is in
build/e2e/<suffix>/report.json, next to every phase's log.

Only environment variables point the toolchain at the emulator (AWS_ENDPOINT_URL and
dummy credentials, no shared AWS config); the synthesized JSON is what AWS would get.
Every request stays on loopback: when the kernel allows it the run executes in a
private network namespace that has only ``lo``; otherwise HTTP(S) proxies point at a
closed loopback port, so any client that tries to leave fails instead of leaking. As root
the namespace is a network namespace only: the emulator's runtime runs the database
stand-in as the ``postgres`` user and writes PAM services, which a user namespace (the
non-root case, ``unshare -rn``) would not allow.
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

from emulator.moto_ext.cloudfront_vpc_origin_network import GROUP_VARIABLE, KEPT
from tests.e2e.harness import Report
from tests.e2e.lives import live

WIDTH = 100  # summary lines wrap here
DETAIL = 8  # the last lines of a failure shown under it in the summary
ADDRESS_STRIDE = 50  # loopback addresses between the pools of two lives side by side


def network_guard() -> str:
    """Which guard keeps traffic on loopback (see the module docstring)."""
    if os.environ.get("TAP_E2E_NETNS") == "1":
        return "private network namespace (only lo)"
    return "proxies pointed at a closed loopback port"


def reexec_in_private_network(argv: list[str], module: str = "tests.e2e.run") -> int | None:
    """Re-run ``python -m module argv`` in a new network namespace (and user namespace,
    unless root) with only ``lo`` up; None when the kernel or the tools do not allow it (then
    the proxy guard alone applies)."""
    if os.environ.get("TAP_E2E_NETNS") or os.environ.get("TAP_E2E_NETNS_DISABLE") \
            or not shutil.which("unshare") or not shutil.which("ip"):
        return None
    namespaces = "-n" if os.geteuid() == 0 else "-rn"
    probe = subprocess.run(["unshare", namespaces, "ip", "link", "set", "lo", "up"],
                           capture_output=True, check=False)
    if probe.returncode != 0:
        return None
    env = dict(os.environ, TAP_E2E_NETNS="1")
    command = ["unshare", namespaces, "sh", "-c", 'ip link set lo up && exec "$@"', "sh",
               sys.executable, "-m", module, *argv]
    return subprocess.run(command, env=env, check=False).returncode


def isolate(argv: list[str], module: str, target: str) -> int | None:
    """Before a run: re-run ``python -m module argv`` in a private network namespace when
    the kernel allows it (returns its exit code), or 2 when the toolchain is not set up
    (``make <target>`` sets it up); None: go on in this process."""
    code = reexec_in_private_network(argv, module)
    if code is not None:
        return code
    if not os.path.isfile(os.environ.get("TF_CLI_CONFIG_FILE", "")):
        print(f"{target}: TF_CLI_CONFIG_FILE must name the provider mirror configuration "
              f"(run through `make {target}`)", file=sys.stderr)
        return 2
    return None


def failed_lines(failure: str, detail: int = DETAIL) -> list[str]:
    """A failure in the summary: its first line, then its last ``detail`` lines (the error
    lines a failed command printed, with the log's path), indented and cut to the width; CI
    keeps only the summary, so what failed must be readable there."""
    first, *rest = failure.splitlines() or [""]
    rest = [line.strip() for line in rest if line.strip()][-detail:]
    return [f"  FAILED {first}"] + [f"    {line}"[:WIDTH] for line in rest]


def render_summary(reports: list[Report]) -> str:
    """One block per life: result, resources, total, then ``phase seconds`` pairs in
    order (wrapped), failures, notes and what destroy retained on purpose."""
    lines = ["", "== e2e summary (seconds) =="]
    for report in reports:
        lines.append(f"{report.suffix} ({report.life}): "
                     f"{'FAIL' if report.failures else 'ok'}, "
                     f"{report.resources if report.resources is not None else '-'} resources, "
                     f"{report.total} s")
        line = " "
        for name, seconds in report.phases:
            cell = f" {name} {seconds}"
            if len(line) + len(cell) + 2 > WIDTH:
                lines.append(line)
                line = " "
            line += cell + " |"
        lines.append(line.rstrip(" |"))
        if report.skipped:
            lines.append(f"  skipped after the failure: {', '.join(report.skipped)}")
        for failure in report.failures:
            lines.extend(failed_lines(failure))
        if report.app:
            app = report.app
            lines.append("  app: " + ", ".join(f"{key} {app[key]}" for key in (
                "tasks_started", "healthy_targets", "ready", "rotation_survived")
                if key in app) + (f", revision {app['revision']['task_definition']}"
                                  if "revision" in app else ""))
        if report.service_writes:
            lines.append("  service writes: " + ", ".join(
                f"{kind} {found['count']}" for kind, found in report.service_writes.items()))
        lines.extend(f"  plan {name}: " + ", ".join(f"{action} {count}" for action, count
                                                  in actions.items())
                     for name, actions in report.plans.items())
        lines.extend(f"  {note}" for note in report.notes)
        lines.extend(f"  retained on purpose: {item}" for item in report.retained)
    if reports:
        lines.append(f"network guard: {reports[0].network_guard}; moto extensions: "
                     f"{', '.join(reports[0].extensions) or '-'}")
        lines.append("CloudFront's VPC-origin group: "
                     f"{os.environ.get(GROUP_VARIABLE) or KEPT} ({GROUP_VARIABLE})")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Run the lives; exit 1 when any failed, 2 when the toolchain is not set up."""
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("suffixes", nargs="*", metavar="SUFFIX[:LIFE]",
                        default=[os.environ.get("ENVIRONMENT_SUFFIX") or "dev"],
                        help="an environment, and the life it leads when not its profile's "
                             "(dev:changes)")
    parser.add_argument("--jobs", type=int, default=1,
                        help="lives run at once, each on its own emulator (default 1)")
    args = parser.parse_args(argv)
    code = isolate(argv, "tests.e2e.run", "e2e")
    if code is not None:
        return code
    guard = network_guard()
    # Each life's emulator hands out loopback addresses from its own part of the pools.
    lives = [((item.split(":", 1) + [None])[:2], index * ADDRESS_STRIDE)
             for index, item in enumerate(args.suffixes)]
    if args.jobs <= 1:  # in this thread, so that Ctrl-C stops the life at once
        reports = [live(suffix, guard, life, offset) for (suffix, life), offset in lives]
    else:
        with ThreadPoolExecutor(max_workers=args.jobs) as pool:
            reports = list(pool.map(lambda item: live(item[0][0], guard, item[0][1], item[1]),
                                    lives))
    print(render_summary(reports), flush=True)
    return 1 if any(report.failures for report in reports) else 0


if __name__ == "__main__":
    sys.exit(main())
