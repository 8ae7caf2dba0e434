"""The exit from CDKTF, proven on a live environment: its HCL plans empty against its state.

  hcl   ``make hcl``'s synth (tools/hcl.py: ``cdktf synth --hcl``, the repair of what cdktf's
        renderer writes wrong, the scan for mis-renderings) of the deployed settings, into
        build/e2e/<suffix>/hcl/; the HCL must say what the deployed JSON says (parsed back by
        @cdktf/hcl2json and compared, ``moved`` blocks included: without them an older
        environment's resources would be destroyed and created again); then, in its stack
        directory, given the live stack's init (``share_init``: providers and the backend
        settings, so the same state object), ``terraform plan -refresh=false -lock=false
        -detailed-exitcode`` must find no changes. Nothing is applied; the state and its lock
        are not touched (the replan before proved the state matches what the emulator holds).

The state is not copied: the life keeps it in the emulator's S3 bucket, and the HCL, synthesized
with the same settings, has the same backend block, so both stacks read the one object.
"""
from __future__ import annotations

import json
import shutil

from tests.e2e.harness import PhaseFailed, Run, errors
from tests.e2e.phases import guard, planned, share_init
from tools import hcl as hcl_export
from tools import plan_check


def hcl(run: Run) -> None:
    """Synthesize the HCL of the deployed settings; it must match the JSON and plan empty."""
    outdir = run.workdir / "hcl"
    if outdir.exists():
        shutil.rmtree(outdir)
    run.sh("synth", hcl_export.synth_command(outdir), log="synth")
    found = [str(finding) for finding in hcl_export.findings(outdir)]
    stack_dir = hcl_export.stack_dirs(outdir)[run.stack]
    deployed = run.stack_dir / "cdk.tf.json"
    try:
        found += hcl_export.differences(stack_dir / "cdk.tf", deployed)
    except hcl_export.Unrunnable as error:
        raise PhaseFailed(f"hcl: {error}") from None
    if found:
        raise PhaseFailed("hcl: the HCL is not what the deployed JSON says:\n  "
                          + "\n  ".join(found[:20]))
    share_init(run, stack_dir)
    code, text = run.sh("plan", ["terraform", "plan", "-refresh=false", "-lock=false",
                                 "-input=false", "-detailed-exitcode", "-no-color",
                                 "-out=hcl.tfplan"], cwd=stack_dir, log="plan", check=False)
    if code == 2:
        raise PhaseFailed("hcl: the HCL's plan against the live state is not empty:\n  "
                          + "\n  ".join(planned(text) or [errors(text)]))
    if code != 0:
        raise PhaseFailed(f"hcl: terraform plan of the HCL exited {code}:\n{errors(text)}")
    verdict = guard(run, stack_dir / "hcl.tfplan", "hcl")
    run.report.plans["hcl"] = plan_check.counts(verdict.changes)
    report = json.loads((outdir / hcl_export.REPORT).read_text(encoding="utf-8"))[run.stack]
    moved = len(json.loads(deployed.read_text(encoding="utf-8")).get("moved", []))
    repaired = ", ".join(f"{count} {kind}" for kind, count in report["counts"].items())
    run.report.notes.append(f"hcl: cdktf synth --hcl of the deployed settings (repaired: "
                            f"{repaired}) says what the JSON says, {moved} moved blocks "
                            "included, and plans empty against the live state")
