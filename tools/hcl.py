#!/usr/bin/env python
"""The stack as plain Terraform HCL (``make hcl``): the exit from CDKTF that HashiCorp's archive
notice documents, ``cdktf synth --hcl``, made to pass ``terraform validate``, and checked to say
what the JSON synth says.

Usage: ``python -m tools.hcl [--out build/hcl] [--json build/synth] [LABEL ...]`` (default:
every label of scripts/synth_profiles.py: dev, pr4892, prod, pr4892-byon, dev-app). Per label:

1. ``node_modules/.bin/cdktf synth --hcl --output OUT/<label>`` in the label's environment (the
   one the JSON synth gives it). The CLI runs the app, then formats the HCL files
   (``@cdktf/hcl-tools``). The app is cdktf.json's followed by ``python -m tools.hcl repair``:
   cdktf 0.21's renderer writes things Terraform rejects (tools/hcl_render.py, REPAIRS), and the
   formatter mangles the worst of them beyond repair (it spaces out the tokens of a broken
   string: ``"2012 - 10 - 17"``), so they are repaired in between.
2. The HCL is scanned for known mis-renderings (``hcl_render.MISRENDERINGS``).
3. It is parsed back to JSON with ``@cdktf/hcl2json`` (HashiCorp's HCL parser, shipped with the
   CLI) and compared with the label's JSON synth (``--json``, ``make synth-profiles``): same
   blocks, same values, expressions alike but for their spacing.
4. ``terraform init -backend=false`` and ``terraform validate`` in the stack's directory, with
   the provider mirror of ``TF_CLI_CONFIG_FILE`` (the Makefile's, as scripts/validate.sh).
Findings are one line each, ``file:line: what`` (or ``file: path.to.value: what``).

The CLI synthesizes one app run, with one environment, per invocation, so each label costs an
invocation of its own. (One Python process can write every label's HCL, since cdktf reads
``SYNTH_HCL_OUTPUT`` per stack, but only without the CLI and its formatter.)

Exit codes: 0 every label written, repaired, clean, the same as its JSON and valid; 1 a finding;
2 could not run (an unknown label, cdktf or terraform or the provider mirror or a label's JSON
synth missing, the app or ``terraform init`` failed for another reason than the file).

Used by tests/e2e/hcl.py: ``synth_command``, ``findings``, ``stack_dirs``, ``differences``.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from tools.hcl_render import Finding, config_differences, repair, scan

ROOT = Path(__file__).resolve().parents[1]
CDKTF = ROOT / "node_modules" / ".bin" / "cdktf"
HCL2JSON = ROOT / "node_modules" / "@cdktf" / "hcl2json"
OUT = ROOT / "build" / "hcl"
JSON_SYNTH = ROOT / "build" / "synth"
REPORT = "repairs.json"  # what the repair step did, per stack, beside the CLI's manifest.json
_PARSE_JS = ("const {parse} = require(process.argv[1]);"
             "parse('cdk.tf', require('fs').readFileSync(process.argv[2], 'utf8'))"
             ".then(doc => process.stdout.write(JSON.stringify(doc)));")


class Unrunnable(RuntimeError):
    """A tool or an input is missing: exit code 2."""


def repair_outdir(outdir: Path) -> dict[str, Any]:
    """Repair every stack of a synthesized directory in place (the CLI formats them next);
    returns and writes the report (REPORT): counts and findings per stack."""
    manifest = json.loads((outdir / "manifest.json").read_text(encoding="utf-8"))
    report: dict[str, Any] = {}
    for name, stack in manifest["stacks"].items():
        path = outdir / stack["synthesizedStackPath"]
        metadata = json.loads((outdir / stack["stackMetadataPath"]).read_text(encoding="utf-8"))
        result = repair(path.read_text(encoding="utf-8"), metadata.get("terraform", {}),
                        str(path))
        path.write_text(result.text, encoding="utf-8")
        report[name] = {"counts": result.counts, "findings": [str(f) for f in result.findings]}
    (outdir / REPORT).write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return report


def stack_dirs(outdir: Path) -> dict[str, Path]:
    """The stack directories of a synthesized directory, by stack name (its manifest)."""
    manifest = json.loads((outdir / "manifest.json").read_text(encoding="utf-8"))
    return {name: outdir / stack["workingDirectory"]
            for name, stack in manifest["stacks"].items()}


def findings(outdir: Path) -> list[Finding | str]:
    """What the repair could not restore and the mis-renderings left in a synthesized
    directory (a repair's finding is already its ``file:line: what`` line)."""
    report = json.loads((outdir / REPORT).read_text(encoding="utf-8"))
    found: list[Finding | str] = [line for stack in report.values() for line in stack["findings"]]
    for directory in stack_dirs(outdir).values():
        found += scan(directory / "cdk.tf")
    return found


def parse_hcl(path: Path) -> dict[str, Any]:
    """An HCL file as JSON, by @cdktf/hcl2json (blocks as lists, references as ``${...}``)."""
    result = subprocess.run(["node", "-e", _PARSE_JS, str(HCL2JSON), str(path)],
                            capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise Unrunnable(f"@cdktf/hcl2json could not parse {path}: {result.stderr.strip()[-300:]}")
    return dict(json.loads(result.stdout))


def differences(hcl_file: Path, json_file: Path) -> list[str]:
    """Where an HCL file says something else than a JSON synth, one line each."""
    if not json_file.is_file():
        raise Unrunnable(f"{json_file} is missing: make synth-profiles")
    expected = json.loads(json_file.read_text(encoding="utf-8"))
    return [f"{hcl_file}: {line}" for line in config_differences(expected, parse_hcl(hcl_file))]


def validate(stack_dir: Path, env: dict[str, str]) -> list[Finding]:
    """``terraform init -backend=false`` and ``terraform validate``: the errors as findings."""
    init = subprocess.run(["terraform", "init", "-backend=false", "-input=false", "-no-color"],
                          cwd=stack_dir, env=env, capture_output=True, text=True, check=False)
    log = init.stdout + init.stderr
    (stack_dir / "init.log").write_text(log, encoding="utf-8")
    if init.returncode != 0:
        # init reads the configuration first: errors there are the file's, not the tool's.
        errors = [Finding(path=str(stack_dir / name), line=int(number),
                          message=f"terraform init: {summary}")
                  for summary, name, number in re.findall(
                      r"Error: (.+)\n\n\s+on (\S+) line (\d+)", log)]
        if errors:
            return errors
        raise Unrunnable(f"terraform init failed in {stack_dir} (see {stack_dir / 'init.log'})")
    result = subprocess.run(["terraform", "validate", "-json", "-no-color"], cwd=stack_dir,
                            env=env, capture_output=True, text=True, check=False)
    if not result.stdout.strip():
        raise Unrunnable(f"terraform validate exited {result.returncode} in {stack_dir} "
                         f"without a report: {result.stderr.strip()[-300:]}")
    return [Finding(path=str(stack_dir / d.get("range", {}).get("filename", "cdk.tf")),
                    line=d.get("range", {}).get("start", {}).get("line", 0),
                    message=f"terraform validate: {d['summary']}")
            for d in json.loads(result.stdout).get("diagnostics", [])
            if d["severity"] == "error"]


def synth_command(outdir: Path) -> list[str]:
    """``cdktf synth --hcl`` into ``outdir``, with cdktf.json's app followed by the repair."""
    app = json.loads((ROOT / "cdktf.json").read_text(encoding="utf-8"))["app"]
    repair_step = f"{shlex.quote(sys.executable)} -m tools.hcl repair"
    return [str(CDKTF), "synth", "--hcl", "--output", str(outdir), "--app",
            f"{app} && {repair_step}"]


def label_environments() -> dict[str, dict[str, str]]:
    """Every label's settings, as scripts/synth_profiles.py synthesizes them."""
    sys.path.insert(0, str(ROOT))
    from scripts.synth_profiles import ENVIRONMENTS  # pylint: disable=import-outside-toplevel
    return dict(ENVIRONMENTS)


def label_env(settings: dict[str, str], labels: dict[str, dict[str, str]]) -> dict[str, str]:
    """This process's environment without any label's settings, plus one label's (what
    scripts/synth_profiles.py gives main.py)."""
    dropped = {key for environment in labels.values() for key in environment} | {"TASK_SUBNETS"}
    base = {key: value for key, value in os.environ.items() if key not in dropped}
    return {**base, **settings}


def _preflight() -> None:
    """cdktf, node's HCL parser, terraform and a provider mirror (as scripts/validate.sh)."""
    for path in (CDKTF, HCL2JSON):
        if not path.exists():
            raise Unrunnable(f"{path} is missing: make install")
    if shutil.which("terraform") is None:
        raise Unrunnable("terraform is not on the PATH")
    config = Path(os.environ.get("TF_CLI_CONFIG_FILE", ""))
    if not config.is_file():
        raise Unrunnable(f"TF_CLI_CONFIG_FILE ({config}) does not exist: run `make hcl`")
    if "filesystem_mirror" not in config.read_text(encoding="utf-8") and \
            not os.environ.get("TF_ALLOW_REGISTRY"):
        raise Unrunnable("no provider mirror in TF_CLI_CONFIG_FILE (set TF_PROVIDER_MIRROR, "
                         "or TF_ALLOW_REGISTRY=1 to download)")


def export(label: str, env: dict[str, str], out: Path, json_dir: Path) -> list[Finding | str]:
    """One label: synthesize and repair, scan, compare with its JSON, validate; prints one
    summary line."""
    outdir = out / label
    if outdir.exists():
        shutil.rmtree(outdir)  # a stale cdk.tf.json beside cdk.tf would be read too
    start = time.monotonic()
    result = subprocess.run(synth_command(outdir), cwd=ROOT, env=env, capture_output=True,
                            text=True, check=False)
    synth_seconds = time.monotonic() - start
    if result.returncode != 0 or not (outdir / REPORT).exists():
        tail = "\n".join((result.stdout + result.stderr).strip().splitlines()[-15:])
        raise Unrunnable(f"{label}: cdktf synth --hcl exited {result.returncode}:\n{tail}")
    found = findings(outdir)
    start = time.monotonic()
    for name, directory in stack_dirs(outdir).items():
        found += differences(directory / "cdk.tf",
                             json_dir / label / "stacks" / name / "cdk.tf.json")
        found += validate(directory, env)
    report = json.loads((outdir / REPORT).read_text(encoding="utf-8"))
    repaired = ", ".join(f"{count} {kind}" for stack in report.values()
                         for kind, count in stack["counts"].items()) or "nothing"
    files = ", ".join(str((d / "cdk.tf").relative_to(ROOT)) for d in stack_dirs(outdir).values())
    verdict = "the same as its JSON, valid" if not found else f"{len(found)} finding(s)"
    print(f"{label}: {files}: repaired {repaired}; {verdict} (synth {synth_seconds:.1f} s, "
          f"compare + init + validate {time.monotonic() - start:.1f} s)", flush=True)
    return found


def main(argv: list[str] | None = None) -> int:
    """Exit code: 0 clean, the same and valid; 1 findings; 2 could not run."""
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == ["repair"]:  # run by the CLI after the app, in the app's environment
        return 0 if repair_outdir(Path(os.environ["CDKTF_OUTDIR"])) else 2
    parser = argparse.ArgumentParser(prog="python -m tools.hcl",
                                     description=(__doc__ or "").split("\n", 1)[0])
    parser.add_argument("--out", type=Path, default=OUT, help="default build/hcl")
    parser.add_argument("--json", type=Path, default=JSON_SYNTH,
                        help="the labels' JSON synth (make synth-profiles), default build/synth")
    parser.add_argument("labels", nargs="*", help="default: every label")
    options = parser.parse_args(args)
    labels = label_environments()
    unknown = [label for label in options.labels if label not in labels]
    if unknown:
        print(f"error: unknown label(s) {', '.join(unknown)}; known: {', '.join(labels)}",
              file=sys.stderr)
        return 2
    found: list[Finding | str] = []
    try:
        _preflight()
        for label in options.labels or list(labels):
            found += export(label, label_env(labels[label], labels), options.out.resolve(),
                            options.json.resolve())
    except Unrunnable as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    for finding in found:
        print(finding, file=sys.stderr)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
