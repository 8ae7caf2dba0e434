"""The phases where something goes wrong on purpose, as it does on AWS.

  deploy-fault          AWS refuses one call (a fault armed through emulator/faults.py):
                        ``make deploy`` fails with that error, the state object is
                        saved and parses, no lock object is left
  deploy-retry          the plan after the failure only creates what is missing (some,
                        not all); that saved plan is applied
  redeploy-interrupted  Ctrl-C (SIGINT to the process group) while a delayed call is in
                        flight: ``make deploy`` passes one interrupt to Terraform, which
                        exits non-zero in time; no lock is left, the state object parses
  accidental-destroy    ``make destroy`` of production without ALLOW_DESTROY: refused at
                        plan by prevent_destroy, nothing touched (state byte-identical)
  teardown              production's deliberate way down: the ALLOW_DESTROY=true
                        configuration is applied first, updating in place only (lifting
                        prevent_destroy and deletion protection, letting buckets empty)
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from typing import Any

from emulator import faults
from tests.e2e.harness import TIMEOUTS, PhaseFailed, Run, errors, managed_resources, \
    plan_actions, stop
from tests.e2e.phases import deploy

FAULT_ACTION = "CreateServerlessCache"
FAULT_CODE = "ServerlessCacheQuotaForCustomerExceededFault"
FAULT_MESSAGE = "The number of serverless caches exceeds the quota for this customer."
# A call in the middle of the apply, held long enough to press Ctrl-C while it hangs: the
# load balancer's existence check, just before CreateLoadBalancer (~1/3 into the apply).
# Not a create call: the emulator would complete a held create after Terraform has given
# up on it, leaving a resource no state knows, a window AWS (which answers creates at
# once; the long waits are the waiters') does not have.
DELAY_ACTION = "DescribeLoadBalancers"
DELAY_SERVICE = "elasticloadbalancing"
DELAY_SECONDS = 30.0
PREVENT_DESTROY_ERROR = "Instance cannot be destroyed"


def deploy_fault(run: Run) -> None:
    """The first deploy meets a quota fault: it fails, and leaves a sound, unlocked state."""
    run.allow_destroy = False
    run.synth()
    faults.arm(run.url, FAULT_ACTION, code=FAULT_CODE, message=FAULT_MESSAGE, times=1)
    try:
        code, text = run.apply(check=False)
        fired = [f for f in faults.fired(run.url) if f.get("action") == FAULT_ACTION]
    finally:
        faults.clear(run.url)
    if code == 0 or FAULT_CODE not in text:
        raise PhaseFailed(f"deploy-fault: the deploy exited {code} without {FAULT_CODE} "
                          f"(fault fired {len(fired)} times):\n{errors(text)}")
    state = run.check_state_unlocked()
    run.report.notes.append(f"deploy-fault: {FAULT_ACTION} failed with {FAULT_CODE}; "
                            f"{managed_resources(state)} resources saved in state, no lock left")


def saved_plan(run: Run, name: str) -> dict[str, int]:
    """``terraform plan -out`` of the configuration in use; the actions of that plan
    (also in the report, under ``name``). The plan file is <stack dir>/<name>.tfplan."""
    plan_file = f"{name}.tfplan"
    run.terraform("plan", "plan", "-input=false", "-lock-timeout=60s", f"-out={plan_file}")
    _, text = run.sh("plan", ["terraform", "show", "-json", "-no-color", plan_file],
                     cwd=run.stack_dir, log="terraform-show")
    actions = plan_actions(json.loads(text))
    run.report.plans[name] = actions
    return actions


def apply_plan(run: Run, name: str) -> None:
    """Apply the plan ``saved_plan`` saved as ``name``."""
    run.terraform("deploy", "apply", "-input=false", "-lock-timeout=60s", f"{name}.tfplan")


def deploy_retry(run: Run) -> None:
    """Plan after the failed deploys: only creations, of part of the stack (and the release
    gate again, if a deploy stopped there: a provisioner that failed taints its resource);
    apply it."""
    run.allow_destroy = False
    actions = saved_plan(run, "deploy-retry")
    _, text = run.sh("plan", ["terraform", "show", "-json", "-no-color", "deploy-retry.tfplan"],
                     cwd=run.stack_dir, log="terraform-show-replaced")
    replaced = [change["address"] for change in json.loads(text).get("resource_changes", [])
                if set(change["change"]["actions"]) == {"create", "delete"}]
    creates, total = actions.get("create", 0), sum(actions.values())
    if set(actions) - {"create", "no-op", "replace"} or not 0 < creates < total \
            or any(not address.startswith("terraform_data.release_gate") for address in replaced):
        raise PhaseFailed(f"deploy-retry: the plan after the failed deploy should create "
                          f"some but not all resources and change nothing (but replace the "
                          f"release gate): {actions}, replaced {replaced}")
    apply_plan(run, "deploy-retry")
    run.check_state_unlocked()


def redeploy_interrupted(run: Run) -> None:
    """Ctrl-C during a redeploy (``make deploy``: tools/terraform_apply.py), while a
    delayed call is in flight: Terraform gets one interrupt, stops in time, saves what it
    created, releases the lock, and the state parses.

    Not ``cdktf deploy``: cdktf 0.21.0 answers Ctrl-C by aborting its Terraform child at
    once (a second signal on top of the terminal's SIGINT), so Terraform exits without
    saving the state of the calls in flight or releasing the lock (seen here: the lock
    left, and the next deploy failing with WAFDuplicateItem for a web ACL created but never
    recorded)."""
    run.allow_destroy = False
    run.synth()
    faults.arm(run.url, DELAY_ACTION, service=DELAY_SERVICE, delay_seconds=DELAY_SECONDS,
               times=1)
    path = run.log_path("terraform-apply")
    try:
        with open(path, "w", encoding="utf-8") as out:
            process = subprocess.Popen(  # pylint: disable=consider-using-with
                run.apply_args(), env=run.env(), stdout=out, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL, start_new_session=True)
        try:
            _interrupt_when_fired(run, process)
        finally:
            stop(process)
    finally:
        faults.clear(run.url)
    text = path.read_text(encoding="utf-8", errors="replace")
    if process.returncode == 0 or text.count("Interrupt received") != 1 \
            or "Two interrupts received" in text:
        raise PhaseFailed(f"redeploy-interrupted: the deploy exited {process.returncode} after "
                          f"Ctrl-C; Terraform must report exactly one interrupt (see {path})")
    state = run.check_state_unlocked()
    run.report.notes.append(
        f"redeploy-interrupted: Ctrl-C during a delayed {DELAY_ACTION}: exit "
        f"{process.returncode}, {managed_resources(state)} resources in state, no lock left")


def _interrupt_when_fired(run: Run, process: subprocess.Popen[Any]) -> None:
    """Send SIGINT to the deploy's process group once the delay fault has fired; wait
    until the deploy and every process of its group have exited."""
    deadline = time.monotonic() + TIMEOUTS["deploy"]
    while not any(f.get("action") == DELAY_ACTION for f in faults.fired(run.url)):
        if process.poll() is not None or time.monotonic() > deadline:
            raise PhaseFailed(f"redeploy-interrupted: the deploy exited {process.returncode} "
                              f"before {DELAY_ACTION} was called")
        time.sleep(0.5)
    started = time.monotonic()
    os.killpg(process.pid, signal.SIGINT)
    try:
        process.wait(timeout=TIMEOUTS["interrupt"])
    except subprocess.TimeoutExpired:
        raise PhaseFailed(f"redeploy-interrupted: the deploy still ran "
                          f"{TIMEOUTS['interrupt']}s after Ctrl-C") from None
    # Nothing of the deploy's group may outlive it (Terraform runs in a session of its
    # own, and the deploy waits for it).
    while time.monotonic() - started < TIMEOUTS["interrupt"]:
        try:
            os.killpg(process.pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.5)
    else:
        raise PhaseFailed("redeploy-interrupted: processes of the deploy still ran "
                          f"{TIMEOUTS['interrupt']}s after Ctrl-C")
    run.report.notes.append(f"redeploy-interrupted: stopped "
                            f"{time.monotonic() - started:.1f}s after Ctrl-C")


def accidental_destroy(run: Run) -> None:
    """``make destroy`` without ALLOW_DESTROY is refused before anything is touched."""
    run.allow_destroy = False
    before = run.state_bytes()
    code, text = run.apply(destroy=True, check=False)
    after = run.state_bytes()
    if code == 0 or PREVENT_DESTROY_ERROR not in text:
        raise PhaseFailed(f"accidental-destroy: the destroy exited {code} without "
                          f"{PREVENT_DESTROY_ERROR!r}:\n{errors(text)}")
    counts = managed_resources(json.loads(before)), managed_resources(json.loads(after))
    if after != before or counts[0] != counts[1]:
        raise PhaseFailed(f"accidental-destroy: the state changed ({counts[0]} -> {counts[1]} "
                          "resources)")
    run.check_state_unlocked()
    run.report.notes.append(f"accidental-destroy: refused by prevent_destroy; state unchanged "
                            f"({counts[0]} resources)")


def teardown(run: Run) -> None:
    """Apply the ALLOW_DESTROY=true configuration: in-place updates only."""
    run.allow_destroy = True
    run.synth()
    if not (run.stack_dir / ".terraform").is_dir():
        run.terraform("init", "init", "-input=false")
    actions = saved_plan(run, "teardown")
    if set(actions) - {"update", "no-op"} or not actions.get("update"):
        raise PhaseFailed(f"teardown: the ALLOW_DESTROY plan should only update in place: "
                          f"{actions}")
    apply_plan(run, "teardown")
    run.check_state_unlocked()


def redeploy(run: Run) -> None:
    """``make deploy`` again, after a destroy or an interrupted deploy."""
    deploy(run)
    run.check_state_unlocked()
