"""The upgrade of a live environment from an earlier version of the stack to this one.

``python -m tests.e2e.upgrade [--from REV] [SUFFIX]`` (``make e2e-upgrade``, default
``UPGRADE_FROM`` in the Makefile; CI passes the pull request's base) leads one standard
environment (default ``stage``) through:

  emulator        a fresh emulator (with its runtime) and the state bucket
  image           the stand-ins' check and the reference application's image, which both
                  versions deploy by its URI, port and liveness path (no manifest: REV may
                  know none)
  base-synth      the stack at REV (``git archive``) synthesized with its own ``main.py``
                  and this checkout's virtualenv; refused when REV's Pipfile.lock differs
                  (its Python dependencies would need an environment of their own)
  base-deploy     ``make deploy``'s tool (tools/terraform_apply.py) on REV's stack, with
                  the same state object this version uses
  synth           this version
  upgrade-plan    ``terraform init`` and a saved plan of this version against the live
                  environment: the plan guard (tools/plan_check.py) must pass, so no
                  stateful resource is deleted or replaced; the actions go to the report
  upgrade-apply   that saved plan, applied
  replan          the next plan is empty
  outputs         as in every life (tests/e2e/phases.py)
  adopt-manifest  the live environment takes app/app.toml: its release, secret and job
  serving, feature, integration, destroy, leftovers   as in every life

What the stack changed between the versions is what the plan shows: a real upgrade has
replacements only of stateless resources (created before the old ones are destroyed,
where names are versioned) and updates in place.
"""
from __future__ import annotations

import argparse
import functools
import io
import os
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

from tests.e2e.application import adopt_manifest, feature, image_only, serving
from tests.e2e.harness import ROOT, PhaseFailed, Report, Run, apply_command, finish
from tests.e2e.lives import Phase, run_phases
from tests.e2e.mishaps import apply_plan, saved_plan
from tests.e2e.phases import (destroy, emulator, guard, integration, leftovers, outputs,
                              replan, synth)
from tests.e2e.run import isolate, network_guard, render_summary
from tools import plan_check

DEFAULT_SUFFIX = "stage"  # a standard environment: final snapshot, protections off
LOCK_FILE = "Pipfile.lock"


def git(*args: str) -> bytes:
    """``git <args>`` in this checkout; PhaseFailed with git's message when it fails."""
    done = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, check=False)
    if done.returncode != 0:
        raise PhaseFailed(f"git {' '.join(args)}: {done.stderr.decode().strip()}")
    return done.stdout


def base_dir(run: Run) -> Path:
    """Where REV's files are unpacked."""
    return run.workdir / "base"


def base_stack_dir(run: Run) -> Path:
    """REV's synthesized stack."""
    return run.workdir / "cdktf.out-base" / "stacks" / run.stack


def base_synth(run: Run, revision: str) -> None:
    """Unpack REV and synthesize it with its own main.py (this checkout's virtualenv)."""
    commit = git("rev-parse", "--verify", f"{revision}^{{commit}}").decode().strip()
    if git("show", f"{commit}:{LOCK_FILE}") != (ROOT / LOCK_FILE).read_bytes():
        raise PhaseFailed(f"base-synth: {revision}'s {LOCK_FILE} differs from this "
                          "checkout's: synthesize it in an environment of its own")
    target = base_dir(run)
    shutil.rmtree(target, ignore_errors=True)
    with tarfile.open(fileobj=io.BytesIO(git("archive", "--format=tar", commit))) as archive:
        archive.extractall(target, filter="data")
    # This process's lib put its own jsii preload in NODE_OPTIONS; REV's lib adds its own.
    env = {key: value for key, value in run.env().items() if key != "NODE_OPTIONS"}
    env["CDKTF_OUTDIR"] = str(base_stack_dir(run).parents[1])
    run.sh("synth", [sys.executable, "main.py"], cwd=target, log="main", env=env)
    run.report.notes.append(f"upgrade from {revision} ({commit[:12]})")


def base_deploy(run: Run) -> None:
    """Deploy REV's stack as ``make deploy`` does (the same state object)."""
    run.sh("deploy", apply_command(base_stack_dir(run)), log="terraform-apply")
    run.check_state_unlocked()


def upgrade_plan(run: Run) -> None:
    """This version, planned against the live environment: the guard must pass."""
    run.allow_destroy = False
    run.terraform("init", "init", "-input=false")
    actions = saved_plan(run, "upgrade")
    verdict = guard(run, run.stack_dir / "upgrade.tfplan", "upgrade")
    if not verdict.ok:
        raise PhaseFailed("upgrade-plan: the plan guard refuses the upgrade: "
                          + ", ".join(change.address for change in verdict.blocked))
    run.report.notes.append(
        "upgrade plan: " + ", ".join(f"{action} {count}" for action, count in actions.items())
        + "; guard: " + ", ".join(f"{kind} {count}" for kind, count
                                  in plan_check.counts(verdict.changes).items() if count))


def upgrade_apply(run: Run) -> None:
    """Apply the saved upgrade plan."""
    apply_plan(run, "upgrade")
    run.check_state_unlocked()


def phases(revision: str) -> tuple[Phase, ...]:
    """The scenario as named phases (cleanup phases run after a failure)."""
    return (
        Phase("emulator", emulator),
        Phase("image", image_only),
        Phase("base-synth", functools.partial(base_synth, revision=revision)),
        Phase("base-deploy", base_deploy),
        Phase("synth", synth),
        Phase("upgrade-plan", upgrade_plan),
        Phase("upgrade-apply", upgrade_apply),
        Phase("replan", replan),
        Phase("outputs", outputs),
        Phase("adopt-manifest", adopt_manifest),
        Phase("serving", serving),
        Phase("feature", feature),
        Phase("integration", integration),
        Phase("destroy", destroy, cleanup=True),
        Phase("leftovers", functools.partial(leftovers, snapshots=1), cleanup=True),
    )


def upgrade(suffix: str, revision: str, guard_name: str) -> Report:
    """Run the scenario for ``suffix``; the emulator is stopped at the end."""
    report = Report(suffix=suffix, life="upgrade", network_guard=guard_name)
    run = Run(report)
    shutil.rmtree(run.workdir, ignore_errors=True)
    run.workdir.mkdir(parents=True)
    try:
        run_phases(run, phases(revision))
    finally:
        finish(run)
    return report


def main(argv: list[str] | None = None) -> int:
    """Run the scenario; exit 1 when anything failed, 2 when the toolchain is not set up."""
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("suffix", nargs="?", default=DEFAULT_SUFFIX)
    parser.add_argument("--from", dest="revision", default=os.environ.get("UPGRADE_FROM"),
                        required="UPGRADE_FROM" not in os.environ,
                        help="the git revision deployed first (default: UPGRADE_FROM)")
    args = parser.parse_args(argv)
    code = isolate(argv, "tests.e2e.upgrade", "e2e-upgrade")
    if code is not None:
        return code
    report = upgrade(args.suffix, args.revision, network_guard())
    print(render_summary([report]), flush=True)
    return 1 if report.failures else 0


if __name__ == "__main__":
    sys.exit(main())
