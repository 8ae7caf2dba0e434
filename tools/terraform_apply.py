#!/usr/bin/env python
"""Apply (or destroy) one synthesized stack with Terraform, so that Ctrl-C stops it cleanly.

Usage: ``python -m tools.terraform_apply STACK_DIR [--destroy] [--outputs-file FILE]
[--include-sensitive] [--no-color]``; ``make deploy`` and ``make destroy`` run it after ``make synth``, on
``cdktf.out/stacks/TapStack<suffix>``.

Why not ``cdktf deploy``: cdktf-cli 0.21.0 answers Ctrl-C by killing its Terraform child at
once. Seen on the emulator: the S3 lock was left behind, and a web ACL created in that second
was never recorded, so the next deploy failed with ``WAFDuplicateItem``. Terraform itself, on
one interrupt, starts no new operation, waits for the ones in flight, writes the state and
releases the lock; a second interrupt makes it exit at once, and it warns that data may be
lost (hashicorp/terraform: ``Meta.RunOperation`` in internal/command/meta.go stops the
operation on the first interrupt and cancels it on the second; the messages ``Interrupt
received`` and ``Two interrupts received`` are in internal/command/views/operation.go). So here:

- Terraform runs in a session of its own, so the terminal's Ctrl-C reaches only this tool.
  The tool passes one SIGINT to Terraform for each SIGINT or SIGTERM (``kill``) it gets
  from its start to its end (between two Terraform commands, an interrupt stops the rest):
  the first stops Terraform cleanly, and a second Ctrl-C is still Terraform's "exit now". The
  tool never kills Terraform, and it waits for Terraform to exit. A GitHub Actions cancel is
  no clean stop: the runner sends SIGINT to the step's shell, SIGTERM 7.5 s later, and kills
  the whole process tree 2.5 s after that
  (https://docs.github.com/en/actions/reference/workflow-cancellation-reference); the deploy
  jobs' concurrency groups therefore never cancel a run in progress.
- Terraform gets this environment plus ``TAP_PYTHON`` (this Python, which has boto3): the
  release gate of an application with a manifest runs tools/one_off.py with it.
- It runs ``terraform init -input=false``, then ``terraform apply -auto-approve -input=false``
  (with ``-destroy`` under ``--destroy``). Terraform's output is shown as it comes.
- Before a destroy, every resource tagged ``RetainOnDestroy`` (the data key of an environment
  that keeps a final snapshot: the snapshot stays restorable) leaves the state
  (``terraform state rm``), so the destroy keeps it; it is deleted by hand once no snapshot
  needs it (docs/operations.md, "What destroy keeps").
- After a successful apply, ``--outputs-file`` gets ``terraform output -json`` in the shape
  ``cdktf deploy --outputs-file`` writes: ``{"<stack>": {"<output>": value, ...}}``. The stack
  is the directory's name. Sensitive outputs are left out unless ``--include-sensitive``.

Exit code: Terraform's, unless it exited 0 after an interrupt, which gives 130. An interrupted
apply exits 1 after saving what it did. No later step runs after a failure or an interrupt.
Bad input exits 2.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from types import FrameType
from typing import Any, Callable, Iterator, Mapping, Sequence

from lib.resource_types import RETAIN_TAG

INTERRUPTED_EXIT = 130
FORWARDED = (signal.SIGINT, signal.SIGTERM)


class Terraform:
    """Runs ``terraform`` commands in one directory, one at a time; ``forward`` is the
    handler that passes an interrupt on to the one running."""

    def __init__(self, directory: Path, color: bool = True) -> None:
        self.directory = directory
        self.color = color
        self.interrupts = 0
        self._running: subprocess.Popen[bytes] | None = None

    def forward(self, signum: int, _frame: FrameType | None) -> None:
        """Count the interrupt and pass one SIGINT to the running Terraform, if any."""
        self.interrupts += 1
        name = signal.Signals(signum).name
        process = self._running
        if process is None or process.poll() is not None:
            print(f"terraform_apply: {name} received between Terraform commands: nothing "
                  "more runs", file=sys.stderr, flush=True)
            return
        print(f"terraform_apply: {name} received: one SIGINT passed to Terraform, which "
              "finishes the operations in flight, saves the state and releases the lock",
              file=sys.stderr, flush=True)
        try:
            process.send_signal(signal.SIGINT)
        except ProcessLookupError:
            pass

    def run(self, *args: str, stdout: int | None = None) -> tuple[int, bytes]:
        """Run ``terraform <args>`` to its end; its exit code and (``stdout=PIPE``) output."""
        command = ["terraform", *args, *([] if self.color else ["-no-color"])]
        with subprocess.Popen(command, cwd=self.directory, stdout=stdout,
                              env=terraform_environment(os.environ),
                              start_new_session=True) as process:
            self._running = process
            try:
                output, _ = process.communicate()
            finally:
                self._running = None
        return process.returncode, output or b""


def terraform_environment(environ: Mapping[str, str]) -> dict[str, str]:
    """Terraform's environment: this one, with ``TAP_PYTHON`` naming this Python (which has
    boto3), for the release gate's runner (lib/release.py), unless already set."""
    return {**environ, "TAP_PYTHON": environ.get("TAP_PYTHON") or sys.executable}


@contextlib.contextmanager
def interrupts_passed_to(terraform: Terraform) -> Iterator[None]:
    """SIGINT and SIGTERM go to ``terraform.forward`` for as long as the block runs."""
    previous = {number: signal.signal(number, terraform.forward) for number in FORWARDED}
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


def outputs_document(stack: str, outputs: Mapping[str, Mapping[str, Any]],
                     include_sensitive: bool = False) -> dict[str, dict[str, Any]]:
    """``terraform output -json`` as ``cdktf deploy --outputs-file`` writes it."""
    return {stack: {name: output["value"] for name, output in outputs.items()
                    if include_sensitive or not output.get("sensitive", False)}}


def stop_code(terraform: Terraform, code: int) -> int | None:
    """The exit code to stop with after a Terraform command, or None to go on."""
    if terraform.interrupts:
        return code or INTERRUPTED_EXIT
    return code or None


def apply(terraform: Terraform, destroy: bool = False) -> int:
    """``init`` then ``apply`` (``-destroy``, after leaving the retained resources out of the
    state); the exit code of the first that failed."""
    stop = stop_code(terraform, terraform.run("init", "-input=false")[0])
    if stop is not None:
        return stop
    if destroy:
        stop = retain(terraform)
        if stop is not None:
            return stop
    apply_step = ("apply", "-auto-approve", "-input=false", *(["-destroy"] if destroy else []))
    return stop_code(terraform, terraform.run(*apply_step)[0]) or 0


def retained(state: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(address, reason) of the managed resources of ``terraform show -json`` tagged
    ``RetainOnDestroy`` (lib/kms.py): what a destroy must leave in place."""
    found: list[tuple[str, str]] = []
    modules = [state.get("values", {}).get("root_module", {})]
    while modules:
        module = modules.pop()
        modules.extend(module.get("child_modules", []))
        for resource in module.get("resources", []):
            tags = resource.get("values", {}).get("tags_all") or {}
            if resource.get("mode") == "managed" and RETAIN_TAG in tags:
                found.append((resource["address"], str(tags[RETAIN_TAG])))
    return sorted(found)


def retain(terraform: Terraform) -> int | None:
    """Leave every resource tagged ``RetainOnDestroy`` out of the state before a destroy
    (``terraform state rm``: Terraform's way to keep what CDK's RemovalPolicy.RETAIN
    keeps), saying which and why; the exit code to stop with, or None."""
    code, text = terraform.run("show", "-json", stdout=subprocess.PIPE)
    stop = stop_code(terraform, code)
    if stop is not None:
        return stop
    kept = retained(json.loads(text or b"{}"))
    if not kept:
        return None
    stop = stop_code(terraform, terraform.run("state", "rm", *[a for a, _ in kept])[0])
    for address, reason in kept:
        print(f"terraform_apply: {address} is kept ({RETAIN_TAG}={reason}): the janitor "
              "deletes it once nothing needs it", flush=True)
    return stop


def write_outputs(terraform: Terraform, path: Path, include_sensitive: bool) -> int:
    """Write the outputs file from ``terraform output -json``; the command's exit code."""
    code, text = terraform.run("output", "-json", stdout=subprocess.PIPE)
    stop = stop_code(terraform, code)
    if stop is not None:
        return stop
    document = outputs_document(terraform.directory.name, json.loads(text), include_sensitive)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    print(f"terraform_apply: {len(document[terraform.directory.name])} outputs written to {path}",
          flush=True)
    return 0


def main(argv: Sequence[str] | None = None,
         make_terraform: Callable[[Path, bool], Terraform] = Terraform) -> int:
    """Command line entry point; returns the exit code."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("stack_dir", type=Path, help="cdktf.out/stacks/<stack>")
    parser.add_argument("--destroy", action="store_true", help="terraform apply -destroy")
    parser.add_argument("--outputs-file", type=Path,
                        help="write the outputs here after a successful apply")
    parser.add_argument("--include-sensitive", action="store_true",
                        help="keep sensitive outputs in the outputs file")
    parser.add_argument("--no-color", action="store_true", help="terraform -no-color")
    args = parser.parse_args(argv)
    if not (args.stack_dir / "cdk.tf.json").is_file():
        print(f"terraform_apply: no synthesized stack in {args.stack_dir} (run make synth)",
              file=sys.stderr)
        return 2
    if args.destroy and args.outputs_file:
        print("terraform_apply: --outputs-file does not go with --destroy", file=sys.stderr)
        return 2
    terraform = make_terraform(args.stack_dir, not args.no_color)
    with interrupts_passed_to(terraform):
        code = apply(terraform, args.destroy)
        if code == 0 and args.outputs_file:
            code = write_outputs(terraform, args.outputs_file, args.include_sensitive)
    return code


if __name__ == "__main__":
    sys.exit(main())
