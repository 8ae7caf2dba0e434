"""The everyday phases of an environment's life; each takes the ``Run`` and raises
``PhaseFailed`` when the environment did not do what it must.

  emulator     moto (emulator/server.py, with emulator/moto_ext) on a free loopback
               port; the Terraform state bucket is created in it
  synth        ``cdktf synth`` (TERRAFORM_STATE_BUCKET set: the S3 backend, use_lockfile)
  deploy       ``make deploy``'s tools/terraform_apply.py (Terraform + the AWS provider from
               the local mirror), which also writes the outputs file
  outputs      ``cdktf output --outputs-file build/e2e/<suffix>/flat-outputs.json``, checked,
               and the same as ``terraform output -json`` in make deploy's shape and as the
               file the deploy wrote (when the last apply was make deploy's)
  integration  ``pytest tests/integration`` against the emulator (skips carry reasons)
  lock         a real ``terraform apply`` holds the S3 lock file; a second apply is
               refused with a lock error; the state object is unchanged afterwards
  replan       ``terraform plan -detailed-exitcode`` must find no changes, and the plan
               guard (tools/plan_check.py) must count none in the saved plan
  destroy      ``make destroy``'s tools/terraform_apply.py --destroy
  leftovers    boto3 lists every resource kind the stack creates: nothing may remain but
               the final DB snapshots destroy keeps on purpose, as many as expected and
               each with its own name
The phases where things go wrong on purpose are in tests/e2e/mishaps.py, the services'
writes in tests/e2e/service_writes.py.
"""
from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from emulator.server import Emulator
from tests.e2e.harness import (GLOBAL_REGION, STATE_BUCKET, TIMEOUTS, PhaseFailed, Run,
                               errors, junit, stop)
from tests.e2e.leftovers import find_leftovers, retained
from tests.e2e.runtime import runtime_dir
from tools import plan_check, terraform_apply

CONTRACT_OUTPUTS = (
    "vpc_id", "public_subnet_ids", "private_subnet_ids", "alb_arn", "alb_dns_name",
    "target_group_arn", "ecs_cluster_name", "ecs_service_name", "cloudfront_distribution_id",
    "cloudfront_domain_name", "waf_web_acl_arn", "aurora_cluster_identifier",
    "aurora_cluster_endpoint", "aurora_reader_endpoint", "db_secret_arn", "redis_cache_name",
    "redis_endpoint", "redis_secret_arn", "alarm_topic_arn", "environment_suffix", "aws_region",
)
LOCK_ERROR = "Error acquiring the state lock"
# On the shared pieces an environment has no master secret of its own: the output is empty
# (lib/tap_stack.py), and must be.
SHARED_MODE_EMPTY = ("db_secret_arn",)


def emulator(run: Run) -> None:
    """Start the emulator, with its runtime (what is deployed runs: tests/e2e/runtime.py),
    and create the state bucket in it."""
    state = runtime_dir(run)
    if state.exists():
        shutil.rmtree(state)
    run.emulator = Emulator(run.workdir / "emulator.log", run.workdir / "requests.log",
                            runtime_dir=state, address_offset=run.address_offset).start()
    run.report.extensions = _extensions(run)
    run.client("s3", GLOBAL_REGION).create_bucket(Bucket=STATE_BUCKET)


def _extensions(run: Run) -> list[str]:
    for line in (run.workdir / "emulator.log").read_text(encoding="utf-8").splitlines():
        if line.startswith("moto extensions: "):
            return line.removeprefix("moto extensions: ").split(", ")
    return []


def synth(run: Run) -> None:
    """``cdktf synth`` of the default configuration."""
    run.allow_destroy = False
    run.synth()


def deploy(run: Run) -> None:
    """``make deploy`` of the default configuration (synthesized once per life)."""
    run.allow_destroy = False
    run.synth()
    run.apply()


def outputs(run: Run) -> None:
    """Write the outputs file, check the contract's outputs, the state and its size."""
    run.cdktf("output", "--outputs-file", str(run.outputs_file),
              "--outputs-file-include-sensitive-outputs")
    document = json.loads(run.outputs_file.read_text(encoding="utf-8"))
    if list(document) != [run.stack]:
        raise PhaseFailed(f"outputs: {run.outputs_file} holds {list(document)}, not "
                          f"{{{run.stack!r}: ...}}")
    _, text = run.terraform("outputs", "output", "-json")
    if terraform_apply.outputs_document(run.stack, json.loads(text),
                                        include_sensitive=True) != document:
        raise PhaseFailed(f"outputs: `terraform output -json` in make deploy's shape differs "
                          f"from cdktf's {run.outputs_file}")
    # Absent after deploy-retry, which applies a saved plan rather than running make deploy.
    if run.deploy_outputs_file.exists() and json.loads(
            run.deploy_outputs_file.read_text(encoding="utf-8")) != document:
        raise PhaseFailed(f"outputs: {run.deploy_outputs_file} (written by the deploy) differs "
                          f"from cdktf's {run.outputs_file}")
    values = document[run.stack]
    empty = SHARED_MODE_EMPTY if run.settings_env.get("SHARED_DB_CLUSTER_ARN") else ()
    missing = [name for name in CONTRACT_OUTPUTS
               if name not in empty and values.get(name) in (None, "", [])]
    if missing:
        raise PhaseFailed(f"outputs: missing or empty: {', '.join(missing)}")
    if any(values.get(name) for name in empty):
        raise PhaseFailed(f"outputs: on the shared pieces {', '.join(empty)} must be empty: "
                          f"{ {name: values.get(name) for name in empty} }")
    if values["environment_suffix"] != run.suffix:
        raise PhaseFailed(f"outputs: environment_suffix is {values['environment_suffix']}")
    s3 = run.client("s3", GLOBAL_REGION)
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=STATE_BUCKET).get("Contents", [])
            if not o["Key"].startswith(tuple(f"{other}/" for other in run.neighbours))]
    if keys != [run.state_key]:
        raise PhaseFailed(f"outputs: state bucket holds {keys}, expected [{run.state_key}]")
    local = list(run.stack_dir.glob("*.tfstate"))
    if local:
        raise PhaseFailed(f"outputs: local state files next to the S3 backend: {local}")
    _, listing = run.terraform("outputs", "state", "list")
    run.report.resources = sum(1 for line in listing.splitlines()
                               if line and not line.startswith("data."))


def deployed_outputs(run: Run) -> dict[str, Any]:
    """The outputs the outputs phase wrote."""
    return dict(json.loads(run.outputs_file.read_text(encoding="utf-8"))[run.stack])


def integration(run: Run) -> None:
    """The unchanged integration suite against the emulator deployment."""
    report = run.workdir / "integration.xml"
    code, text = run.sh("integration", [
        sys.executable, "-m", "pytest", "tests/integration", "-p", "no:cacheprovider",
        "-rs", "-q", f"--junitxml={report}"], check=False)
    summary = junit(report)
    run.report.integration = summary
    print(f"[{run.suffix}] integration: {summary['passed']} passed, "
          f"{summary['skipped']} skipped, {summary['failed']} failed", flush=True)
    for reason, tests in summary["skips"].items():
        print(f"    skipped ({len(tests)}): {reason}", flush=True)
    if code != 0 or summary["failed"] or not summary["passed"]:
        raise PhaseFailed(f"integration: exit {code}\n{errors(text, 60)}")


def lock(run: Run) -> None:
    """A real apply holds the lock; a second apply must be refused; state unchanged."""
    s3 = run.client("s3", GLOBAL_REGION)
    lock_key = f"{run.state_key}.tflock"
    before = run.state_bytes()
    # The holder plans to replace one harmless resource, so it always stops at the
    # approval prompt with the lock held; it is answered "no" at the end.
    _, listing = run.terraform("lock", "state", "list")
    victim = harmless_resource(listing.split())
    log = run.log_path("holder")
    with open(log, "w", encoding="utf-8") as out:
        holder = subprocess.Popen(  # pylint: disable=consider-using-with
            ["terraform", "apply", "-input=true", "-refresh=false", f"-replace={victim}",
             "-no-color"],
            cwd=run.stack_dir, env=run.env(), stdin=subprocess.PIPE, stdout=out,
            stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        lock_info = _wait_for_object(s3, lock_key, holder, timeout=120)
        code, text = run.terraform("lock", "apply", "-auto-approve", "-input=false",
                                   "-lock-timeout=0s", check=False)
        if code == 0 or LOCK_ERROR not in text or lock_info["ID"] not in text:
            raise PhaseFailed(f"lock: the second apply was not refused by the lock "
                              f"{lock_info['ID']} (exit {code}):\n{errors(text)}")
    finally:
        if holder.poll() is None:
            try:
                # Its plan may still be running (minutes on a busy machine): the answer
                # waits in the pipe for the prompt.
                holder.communicate("no\n", timeout=TIMEOUTS["lock"])
            except subprocess.TimeoutExpired:
                stop(holder)
    if "Apply cancelled" not in log.read_text(encoding="utf-8"):
        raise PhaseFailed(f"lock: the holding apply did not stop at its prompt (see {log})")
    if run.state_bytes() != before:
        raise PhaseFailed("lock: the state object changed during the lock test")
    run.check_state_unlocked()
    run.report.notes.append(
        f"lock: {lock_info['Operation']} by {lock_info['Who']} held {lock_key} "
        f"(lock {lock_info['ID']}); the second apply was refused; state unchanged")


def harmless_resource(addresses: list[str]) -> str:
    """A resource whose planned replacement is harmless (it is never applied anyway)."""
    for kind in ("aws_cloudwatch_dashboard.", "aws_cloudwatch_metric_alarm.", "aws_route."):
        for address in addresses:
            if address.startswith(kind):
                return address
    return next(a for a in addresses if not a.startswith("data."))


def _wait_for_object(s3: Any, key: str, holder: subprocess.Popen[str],
                     timeout: float) -> dict[str, Any]:
    """The lock info Terraform wrote to ``key``, once it is there."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if holder.poll() is not None:
            raise PhaseFailed(f"lock: the holding apply exited {holder.returncode} early")
        try:
            body = s3.get_object(Bucket=STATE_BUCKET, Key=key)["Body"].read()
            return dict(json.loads(body))
        except s3.exceptions.NoSuchKey:
            time.sleep(0.2)
    raise PhaseFailed(f"lock: no {key} appeared within {timeout}s")


def planned(text: str) -> list[str]:
    """The resource lines of ``terraform plan``'s output: "<address> will be ..." ."""
    return re.findall(r"^\s*# (\S+ (?:will|must) be [^\n]+)", text, re.MULTILINE)


def replan(run: Run) -> None:
    """A second plan of the default configuration must find nothing to do."""
    run.allow_destroy = False
    code, text = run.terraform("plan", "plan", "-detailed-exitcode", "-input=false",
                               "-lock-timeout=60s", "-out=replan.tfplan", check=False)
    if code == 2:
        raise PhaseFailed("replan: the second plan is not empty:\n  "
                          + "\n  ".join(planned(text) or [errors(text)]))
    if code != 0:
        raise PhaseFailed(f"replan: terraform plan exited {code}:\n{errors(text)}")
    verdict = guard(run, run.stack_dir / "replan.tfplan", "replan")
    tally = plan_check.counts(verdict.changes)
    if any(tally.values()) or not verdict.ok:
        raise PhaseFailed(f"replan: the plan guard counts changes in the empty plan: {tally}")


def share_init(run: Run, stack_dir: Path) -> None:
    """Give a stack synthesized elsewhere the live stack's ``terraform init`` (providers,
    lock file, backend settings: the same state object), so that it plans against the live
    state without an init of its own."""
    shutil.copytree(run.stack_dir / ".terraform", stack_dir / ".terraform", symlinks=True)
    shutil.copy2(run.stack_dir / ".terraform.lock.hcl", stack_dir)


def guard(run: Run, plan_file: Path, name: str) -> plan_check.Verdict:
    """The plan guard (tools/plan_check.py) on a saved plan (shown with terraform in its
    directory); its Markdown report goes to the phase's log ``guard-<name>``."""
    try:
        verdict = plan_check.judge(plan_check.parse_plan(
            plan_check.read_plan(str(plan_file), plan_file.parent)), set())
    except plan_check.PlanError as error:
        raise PhaseFailed(f"{run.phase}: the plan guard on {plan_file.name}: {error}") from None
    run.log_path(f"guard-{name}").write_text(plan_check.render_markdown(verdict) + "\n",
                                             encoding="utf-8")
    return verdict


def destroy(run: Run) -> None:
    """``make destroy`` with the configuration in use (production: after teardown)."""
    run.apply(destroy=True)
    run.check_state_unlocked()


def leftovers(run: Run, snapshots: int) -> None:
    """Nothing of the environment is left but ``snapshots`` final DB snapshots, each
    with its own name (a name reused would have failed the destroy that took it), and the
    enabled data key of each (its restore needs it)."""
    regions = {run.region, GLOBAL_REGION}
    left = find_leftovers(run.client, run.suffix, regions)
    run.report.retained = retained(run.client, run.suffix, regions)
    kept = [line for line in run.report.retained if " db cluster snapshot " in line]
    keys = [line for line in run.report.retained if " kms key " in line and "(Enabled," in line]
    if len(kept) != snapshots or len({line.rsplit(" ", 1)[-1] for line in kept}) != snapshots:
        left.append(f"retained final snapshots: {kept or 'none'}, expected {snapshots} with "
                    "different names")
    if len(keys) != snapshots or len(keys) + len(kept) != len(run.report.retained):
        left.append(f"retained data keys: {run.report.retained}, expected {snapshots} enabled "
                    "keys, one per final snapshot")
    if left:
        raise PhaseFailed("leftovers: destroy left\n  " + "\n  ".join(left))
