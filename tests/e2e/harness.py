"""The plumbing every phase of an environment's life uses.

``Run`` is one environment on one emulator: its working directory build/e2e/<suffix>/
(logs, outputs file, report), the toolchain's environment (the emulator's endpoint,
dummy credentials, the S3 backend), boto3 clients of the emulator, and runners for
commands (``sh``, ``cdktf``, ``terraform``) that log to <phase>.log and stop on a
timeout. An environment has one or two configurations: the default one and, for
production teardown, the one synthesized with ``ALLOW_DESTROY=true``; each is
synthesized once, into its own directory. ``Report`` is what a run measured
(report.json). The small parsers (``errors``, ``junit``, ``plan_actions``) are here
because several phases share them.
"""
from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config

from emulator.server import ROOT, Emulator

GLOBAL_REGION = "us-east-1"
STATE_BUCKET = "tap-e2e-terraform-state"
BUILD = ROOT / "build" / "e2e"
CDKTF = ROOT / "node_modules" / ".bin" / "cdktf"
CLOSED_PORT_PROXY = "http://127.0.0.1:9"  # discard port: nothing listens, nothing leaves
# Seconds a command of each kind may take (the phases share them): deploys and destroys
# are mostly the provider's own fixed waits (ALB, CloudFront, cache, RDS).
TIMEOUTS = {"synth": 300, "init": 300, "plan": 600, "deploy": 900, "destroy": 900,
            "outputs": 300, "integration": 600, "lock": 300, "interrupt": 300}


class PhaseFailed(RuntimeError):
    """A phase did not do what it must; the message says what and where the log is."""


@dataclass
class Report:  # pylint: disable=too-many-instance-attributes
    """What one environment's life measured (build/e2e/<suffix>/report.json)."""

    suffix: str
    life: str
    network_guard: str
    # s3: the state is in the emulator's STATE_BUCKET, locked natively (every life);
    # local: no backend settings (tools/record_plans.py, which uses only ``Run.env``)
    backend: str = "s3"
    phases: list[tuple[str, float]] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    resources: int | None = None
    integration: dict[str, Any] = field(default_factory=dict)
    service_writes: dict[str, Any] = field(default_factory=dict)
    app: dict[str, Any] = field(default_factory=dict)  # tests/e2e/application.py's measures
    plans: dict[str, dict[str, int]] = field(default_factory=dict)
    retained: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    extensions: list[str] = field(default_factory=list)

    @property
    def total(self) -> float:
        """Seconds of all phases together."""
        return round(sum(seconds for _, seconds in self.phases), 1)


class Run:  # pylint: disable=too-many-instance-attributes
    """One environment on one emulator: paths, environment, clients, command runners."""

    def __init__(self, report: Report) -> None:
        self.report = report
        self.suffix = report.suffix
        self.stack = f"TapStack{self.suffix}"
        self.workdir = BUILD / self.suffix
        self.outputs_file = self.workdir / "flat-outputs.json"
        self.deploy_outputs_file = self.workdir / "deploy-outputs.json"
        self.emulator: Emulator | None = None
        self.region = os.environ.get("AWS_REGION") or "us-east-1"
        self.allow_destroy = False  # which configuration the commands use
        self.synthesized: set[bool] = set()
        self.phase = "-"  # the phase running, for messages
        self.log_stem = "-"  # its logs' names: <number>-<phase>[-<what>].log
        # The environment's own configuration on top of the process's (e.g. VPC_ID and the
        # subnet lists), for every command; and the suffixes of the environments that share
        # its emulator and state bucket (tests/e2e/fleet.py), whose state objects are theirs.
        self.settings_env: dict[str, str] = {}
        self.neighbours: tuple[str, ...] = ()
        # Where its emulator's runtime hands out loopback addresses from: lives side by side
        # start apart (tests/e2e/run.py).
        self.address_offset = 0

    # -- paths and environment --------------------------------------------------------

    @property
    def outdir(self) -> Path:
        """The synthesized configuration in use (one directory per configuration)."""
        return self.workdir / ("cdktf.out-allow-destroy" if self.allow_destroy else "cdktf.out")

    @property
    def stack_dir(self) -> Path:
        """Where Terraform runs for the configuration in use."""
        return self.outdir / "stacks" / self.stack

    @property
    def state_key(self) -> str:
        """The state object's key in STATE_BUCKET."""
        return f"{self.suffix}/{self.stack}.tfstate"

    @property
    def url(self) -> str:
        """The emulator's endpoint."""
        assert self.emulator is not None, "the emulator is not running"
        return self.emulator.url

    def env(self) -> dict[str, str]:
        """The toolchain's environment: the emulator, dummy credentials, nothing else."""
        env = {key: value for key, value in os.environ.items()
               if not key.startswith("AWS_") and key.upper() not in (
                   "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY", "ALLOW_DESTROY",
                   "TERRAFORM_STATE_BUCKET")}
        url = self.url
        env.update({
            "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_CONFIG_FILE": os.devnull, "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
            "AWS_EC2_METADATA_DISABLED": "true",
            "AWS_REGION": self.region, "AWS_DEFAULT_REGION": self.region,
            "AWS_ENDPOINT_URL": url, "AWS_ENDPOINT_URL_S3": url, "AWS_ENDPOINT_URL_STS": url,
            # An emulator answers at once or never: don't let the provider retry a call
            # moto does not implement for minutes.
            "AWS_MAX_ATTEMPTS": "3",
            "HTTP_PROXY": CLOSED_PORT_PROXY, "HTTPS_PROXY": CLOSED_PORT_PROXY,
            "http_proxy": CLOSED_PORT_PROXY, "https_proxy": CLOSED_PORT_PROXY,
            "NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1,localhost",
            "ENVIRONMENT_SUFFIX": self.suffix,
            "TF_IN_AUTOMATION": "1", "CHECKPOINT_DISABLE": "1", "CI": "1",
            "TAP_OUTPUTS_FILE": str(self.outputs_file),
        })
        if self.report.backend == "s3":
            env["TERRAFORM_STATE_BUCKET"] = STATE_BUCKET
            env["TERRAFORM_STATE_BUCKET_REGION"] = GLOBAL_REGION
            # moto answers on an IP address: bucket-in-hostname addressing cannot work.
            env["TF_CLI_ARGS_init"] = "-backend-config=use_path_style=true"
        if self.allow_destroy:
            env["ALLOW_DESTROY"] = "true"
        env.update(self.settings_env)
        return env

    def client(self, service: str, region: str | None = None) -> Any:
        """A boto3 client of the emulator (one attempt per call)."""
        return boto3.client(service, region_name=region or self.region, endpoint_url=self.url,
                            aws_access_key_id="testing", aws_secret_access_key="testing",
                            config=Config(retries={"total_max_attempts": 1}))

    # -- commands ---------------------------------------------------------------------

    def log_path(self, name: str) -> Path:
        """build/e2e/<suffix>/<number>-<phase>[-<name>].log"""
        return self.workdir / f"{self.log_stem}{'-' + name if name else ''}.log"

    def sh(self, kind: str, args: list[str], *, cwd: Path = ROOT, log: str = "",
           check: bool = True, env: dict[str, str] | None = None, stdin: str | None = None
           ) -> tuple[int, str]:
        """Run a command (``kind`` picks its timeout) with the toolchain's environment (or
        ``env``) and ``stdin`` as its input; returns its exit code and output (also in the
        phase's log)."""
        path = self.log_path(log)
        with open(path, "w", encoding="utf-8") as out:
            process = subprocess.Popen(  # pylint: disable=consider-using-with
                args, cwd=cwd, env=env or self.env(), stdout=out, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL if stdin is None else subprocess.PIPE,
                start_new_session=True, text=True)
            try:
                if stdin is not None:
                    assert process.stdin is not None
                    process.stdin.write(stdin)
                    process.stdin.close()
                code = process.wait(timeout=TIMEOUTS[kind])
            except subprocess.TimeoutExpired:
                stop(process)
                raise PhaseFailed(f"{self.phase}: {kind} timed out after {TIMEOUTS[kind]}s "
                                  f"(see {path})") from None
            except BaseException:  # interrupted: take the command's whole group down too
                stop(process)
                raise
        text = path.read_text(encoding="utf-8", errors="replace")
        if check and code != 0:
            raise PhaseFailed(f"{self.phase}: `{' '.join(args[:3])} ...` exited {code}:\n"
                              f"{errors(text)}\n(full log: {path})")
        return code, text

    def cdktf_args(self, command: str) -> list[str]:
        """The cdktf command line of ``command`` (synth, deploy, destroy, output)."""
        extra = {"deploy": ["--skip-synth", "--auto-approve", "--skip-provider-lock"],
                 "destroy": ["--skip-synth", "--auto-approve"], "output": ["--skip-synth"],
                 "synth": []}[command]
        stack = [] if command == "synth" else [self.stack]
        return [str(CDKTF), command, *stack, *extra, "--output", str(self.outdir), "--no-color"]

    def cdktf(self, command: str, *args: str, check: bool = True) -> tuple[int, str]:
        """``cdktf <command>`` for the configuration in use."""
        kind = "outputs" if command == "output" else command
        return self.sh(kind, [*self.cdktf_args(command), *args], log=command, check=check)

    def apply_args(self, destroy: bool = False) -> list[str]:
        """``make deploy`` / ``make destroy`` on the stack of the configuration in use (a
        deploy also writes ``deploy-outputs.json``)."""
        return apply_command(self.stack_dir, "--destroy") if destroy else apply_command(
            self.stack_dir, "--outputs-file", str(self.deploy_outputs_file))

    def apply(self, destroy: bool = False, check: bool = True) -> tuple[int, str]:
        """Deploy (or destroy) the synthesized configuration in use as ``make deploy`` does."""
        kind = "destroy" if destroy else "deploy"
        return self.sh(kind, self.apply_args(destroy), log=kind, check=check)

    def terraform(self, kind: str, *args: str, check: bool = True) -> tuple[int, str]:
        """``terraform <args>`` in the stack directory of the configuration in use."""
        return self.sh(kind, ["terraform", *args, "-no-color"], cwd=self.stack_dir,
                       log=f"terraform-{args[0]}", check=check)

    def synth(self, again: bool = False) -> None:
        """Synthesize the configuration in use, once per configuration and life (``again``:
        after a change of its settings)."""
        if again or self.allow_destroy not in self.synthesized:
            self.cdktf("synth")
            self.synthesized.add(self.allow_destroy)

    # -- remote state -----------------------------------------------------------------

    def state_bytes(self) -> bytes:
        """The state object as stored; PhaseFailed when it is missing or not JSON."""
        s3 = self.client("s3", GLOBAL_REGION)
        try:
            body: bytes = s3.get_object(Bucket=STATE_BUCKET, Key=self.state_key)["Body"].read()
        except s3.exceptions.NoSuchKey:
            raise PhaseFailed(f"{self.phase}: no state object {self.state_key}") from None
        try:
            json.loads(body)
        except ValueError as error:
            raise PhaseFailed(f"{self.phase}: the state object does not parse: {error}") \
                from None
        return body

    def check_state_unlocked(self) -> dict[str, Any]:
        """The state object parses and no lock object is left; returns the state."""
        state = json.loads(self.state_bytes())
        lock_key = f"{self.state_key}.tflock"
        left = self.client("s3", GLOBAL_REGION).list_objects_v2(
            Bucket=STATE_BUCKET, Prefix=lock_key).get("KeyCount", 0)
        if left:
            raise PhaseFailed(f"{self.phase}: {lock_key} is left in the state bucket")
        return dict(state)


def apply_command(stack_dir: Path | str, *options: str) -> list[str]:
    """What ``make deploy`` / ``make destroy`` run: tools/terraform_apply.py on a
    synthesized stack, without colours (the logs are read)."""
    return [sys.executable, "-m", "tools.terraform_apply", str(stack_dir),
            "--no-color", *options]


def managed_resources(state: dict[str, Any]) -> int:
    """How many managed resource instances a state document holds."""
    return sum(len(resource.get("instances", [])) for resource in state.get("resources", [])
               if resource.get("mode") == "managed")


def plan_actions(plan: dict[str, Any]) -> dict[str, int]:
    """Managed resources per action of a ``terraform show -json`` plan: create, update,
    delete, replace (delete and create, either order), no-op."""
    counts: Counter[str] = Counter()
    for change in plan.get("resource_changes", []):
        if change.get("mode", "managed") != "managed":
            continue
        actions = change["change"]["actions"]
        counts["replace" if set(actions) == {"create", "delete"} else actions[0]] += 1
    return dict(sorted(counts.items()))


def stop(process: subprocess.Popen[Any]) -> None:
    """Terminate a command started in its own session, with all its children."""
    try:
        os.killpg(process.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def errors(text: str, lines: int = 40) -> str:
    """The error blocks of a Terraform/cdktf log, or its tail."""
    clean = re.sub(r"\x1b\[[0-9;]*[A-Za-z]", "", text)
    picked = [line for line in clean.splitlines()
              if re.search(r"Error|error:|FAILED|failed|refused", line)]
    return "\n".join((picked or clean.splitlines())[-lines:])


def junit(path: Path) -> dict[str, Any]:
    """Counts and skip reasons of a pytest JUnit XML file."""
    summary: dict[str, Any] = {"passed": 0, "skipped": 0, "failed": 0, "skips": {}}
    if not path.exists():
        return summary
    for case in ET.parse(path).getroot().iter("testcase"):
        skipped = case.find("skipped")
        if skipped is not None:
            summary["skipped"] += 1
            reason = (skipped.get("message") or "").removeprefix("Skipped: ")
            summary["skips"].setdefault(reason, []).append(case.get("name"))
        elif case.find("failure") is not None or case.find("error") is not None:
            summary["failed"] += 1
        else:
            summary["passed"] += 1
    return summary


def request_log_note(path: Path) -> str | None:
    """What the emulator's request log (emulator/server.py ``RequestLog``) says about the
    SDKs' patience: the requests sent again (``attempt=N``; ``replayed`` when they got their
    first attempt's answer again), the server errors (5xx, or no answer) and the answers that
    took a second or more. None without a log."""
    if not path.exists():
        return None
    again: Counter[str] = Counter()
    failed: Counter[str] = Counter()
    slow: list[tuple[float, str]] = []
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        words = line.split()
        if len(words) < 4:
            continue
        call = f"{words[2]} {words[3]}"
        if any(word.startswith("attempt=") for word in words[4:]):
            again[f"{call} {words[0]}{' replayed' if 'replayed' in words[4:] else ''}"] += 1
        if words[0].startswith("5") or words[0] == "ERR":
            failed[f"{call} {words[0]}"] += 1
        if words[-1].endswith("s") and re.fullmatch(r"\d+\.\d", words[-1][:-1]):
            slow.append((float(words[-1][:-1]), call))
    note = ("emulator: requests sent again by an SDK: "
            + (", ".join(f"{call} x{count}" for call, count in again.most_common())
               if again else "none"))
    if failed:
        note += "; server errors: " + ", ".join(f"{call} x{count}"
                                               for call, count in failed.most_common())
    if slow:
        seconds, call = max(slow)
        note += f"; {len(slow)} answers took 1 s or more (slowest {seconds} s, {call})"
    return note


def finish(run: Run) -> None:
    """The end of a scenario for ``run``: its emulator stopped (when it holds one; stopping
    twice is safe), the request log's note (``request_log_note``) and its report.json."""
    if run.emulator is not None:
        run.emulator.stop()
    note = request_log_note(run.workdir / "requests.log")
    if note is not None:
        run.report.notes.append(note)
    (run.workdir / "report.json").write_text(json.dumps(asdict(run.report), indent=2) + "\n",
                                             encoding="utf-8")
