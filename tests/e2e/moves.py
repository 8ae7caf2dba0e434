"""A refactor that moves a stateful resource, carried by cdktf's move API.

  refactor  the stack as a refactor leaves it: the task log group (a stateful resource, with
            the service's logs in it) under a new construct id, ``app/service-logs`` instead
            of ``app/task-logs`` (so at a new address, and every reference follows it), with
            ``move_from_id(<old address>)``, which makes cdktf write a Terraform ``moved``
            block. The plan must move exactly that resource and change nothing (the plan guard
            passes, nothing is deleted); the saved plan is applied; the refactored
            configuration then plans empty. Without the move the same refactor plans a delete
            and a create of the log group, which the guard refuses (checked too).

``python -m tests.e2e.moves OUTDIR [--without-move]`` synthesizes the refactored stack.
"""
from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path
from typing import Any

from lib.config import profile_name_for
from tests.e2e.harness import PhaseFailed, Run, errors
from tests.e2e.phases import guard, share_init
from tools import plan_check

MOVED_TYPE = "aws_cloudwatch_log_group"
TIER = "app"  # the construct the log group is in
OLD_ID, NEW_ID = "task-logs", "service-logs"
ROOT = Path(__file__).resolve().parents[2]


def refactor(run: Run) -> None:
    """Plan, check, apply and replan the refactored stack against the live environment."""
    moved, unmoved = (_synthesize(run, name, *flags) for name, flags in
                      (("refactor", ()), ("refactor-without-move", ("--without-move",))))
    naive = _guard(run, unmoved, "refactor-without-move")
    if naive.ok or [(c.rtype, c.action) for c in naive.blocked] != [(MOVED_TYPE, "delete")]:
        raise PhaseFailed("refactor: without the move, the guard should refuse the log "
                          f"group's delete and create: {plan_check.verdict_line(naive)}")
    verdict = _guard(run, moved, "refactor")
    tally = plan_check.counts(verdict.changes)
    shown = [c for c in verdict.changes if c.shown]
    if (not verdict.ok or tally != {**dict.fromkeys(plan_check.COUNTED, 0), "move": 1}
            or not shown[0].address.startswith(f"{MOVED_TYPE}.{TIER}_{NEW_ID}_")):
        raise PhaseFailed(f"refactor: the plan should move the log group and nothing else: "
                          f"{tally}; {plan_check.verdict_line(verdict)}")
    run.sh("deploy", ["terraform", "apply", "-input=false", "-lock-timeout=60s", "-no-color",
                      "refactor.tfplan"], cwd=moved, log="apply")
    code, text = run.sh("plan", ["terraform", "plan", "-detailed-exitcode", "-input=false",
                                 "-lock-timeout=60s", "-no-color"], cwd=moved, log="replan",
                        check=False)
    if code != 0:
        raise PhaseFailed(f"refactor: the refactored stack does not plan empty after the "
                          f"move (exit {code}):\n{errors(text)}")
    run.check_state_unlocked()
    run.report.notes.append(f"refactor: {shown[0].previous_address} moved to "
                            f"{shown[0].address} (moved block from move_from_id): applied, "
                            "nothing deleted, replan empty; without the move the guard "
                            "refused the delete and create")


def _synthesize(run: Run, name: str, *flags: str) -> Path:
    """The refactored stack in <workdir>/<name>, ready to plan against the live state."""
    outdir = run.workdir / name
    if outdir.exists():
        shutil.rmtree(outdir)
    run.sh("synth", [sys.executable, "-m", "tests.e2e.moves", str(outdir), *flags],
           log=f"synth-{name}")
    stack_dir = outdir / "stacks" / run.stack
    share_init(run, stack_dir)
    return stack_dir


def _guard(run: Run, stack_dir: Path, name: str) -> plan_check.Verdict:
    """``terraform plan -out`` in ``stack_dir`` and the plan guard's verdict on it."""
    run.sh("plan", ["terraform", "plan", "-refresh=false", "-input=false", "-no-color",
                    "-lock-timeout=60s", f"-out={name}.tfplan"], cwd=stack_dir, log=f"plan-{name}")
    return guard(run, stack_dir / f"{name}.tfplan", name)


def synthesize(outdir: Path, move: bool) -> int:
    """The stack of the environment in os.environ, refactored, into ``outdir``: the service
    builds the task log group under the construct id ``service-logs`` instead of
    ``task-logs`` (what a rename in lib/service.py does), and, with ``move``, the new
    resource carries ``move_from_id(<its address before>)``."""
    # pylint: disable=import-outside-toplevel  # jsii starts here only
    from lib import bindings

    bindings.load()  # the fast loaders first
    from cdktf import App

    from lib import service
    from lib.config import load_settings
    from lib.tap_stack import TapStack

    base = service.CloudwatchLogGroup

    class Renamed(base):  # type: ignore[misc,valid-type]  # pylint: disable=too-few-public-methods
        """The service's log groups, with the refactor's new construct id."""

        def __init__(self, scope: Any, construct_id: str, **kwargs: Any) -> None:
            super().__init__(scope, NEW_ID if construct_id == OLD_ID else construct_id, **kwargs)

    service.CloudwatchLogGroup = Renamed  # type: ignore[misc]
    try:
        app = App(outdir=str(outdir))
        stack = TapStack(app, load_settings(os.environ))
    finally:
        service.CloudwatchLogGroup = base  # type: ignore[misc]
    resource = stack.node.find_child(TIER).node.find_child(NEW_ID)
    old = old_address(stack.settings.environment_suffix)
    if move:
        resource.move_from_id(old)
    app.synth()
    print(json.dumps({"from": old, "to": f"{MOVED_TYPE}.{resource.friendly_unique_id}",
                      "moved": move}))
    return 0


def old_address(suffix: str) -> str:
    """The log group's address before the refactor, from the golden list of the profile."""
    profile = {"standard": "dev", "ephemeral": "pr4892", "production": "prod"}[
        profile_name_for(suffix)]
    lines = (ROOT / "tests" / "unit" / "addresses" / f"{profile}.txt").read_text(
        encoding="utf-8").splitlines()
    (address,) = [line for line in lines if line.startswith(f"{MOVED_TYPE}.{TIER}_{OLD_ID}_")]
    return address


if __name__ == "__main__":
    sys.exit(synthesize(Path(sys.argv[1]), "--without-move" not in sys.argv[2:]))
