"""Offline end-to-end run: deploy, test and destroy TapStack against moto on 127.0.0.1.

``python -m tests.e2e.run [SUFFIX ...]`` (default ``$ENVIRONMENT_SUFFIX`` or ``pr4892``)
runs, for each environment in turn, with a fresh emulator each time:

  emulator     moto (``tests/e2e/server.py``, with ``tests/e2e/moto_ext``) on a free
               loopback port; the Terraform state bucket is created in it
  synth        ``cdktf synth`` (TERRAFORM_STATE_BUCKET set: the S3 backend, use_lockfile)
  deploy       ``cdktf deploy`` (Terraform + the AWS provider from the local mirror)
  outputs      ``cdktf output --outputs-file cfn-outputs/flat-outputs.json``, checked
  integration  ``pytest tests/integration`` against the emulator (skips carry reasons)
  lock         a real ``terraform apply`` holds the S3 lock file; a second apply is
               refused with a lock error; the state object is unchanged afterwards
  replan       ``terraform plan -detailed-exitcode`` must find no changes
  unprotect    (profiles with deletion protection) lifted through the API, as an
               operator does before tearing a production environment down
  destroy      ``cdktf destroy``
  leftovers    boto3 lists every resource kind the stack creates: nothing may remain

Only environment variables point the toolchain at the emulator (AWS_ENDPOINT_URL and
dummy credentials, no shared AWS config); the synthesized JSON is what AWS would get.
Every request stays on loopback: when the kernel allows it the run executes in a
private network namespace that has only ``lo``; otherwise HTTP(S) proxies point at a
closed loopback port, so any client that tries to leave fails instead of leaking.
The emulator is stopped at the end, also on failure. A JSON report per environment
(phase times, resource count, skips) is written to build/e2e/<suffix>/report.json.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable

import boto3
from botocore.config import Config

from tests.e2e.leftovers import find_leftovers, retained
from tests.e2e.server import ROOT, Emulator

GLOBAL_REGION = "us-east-1"
STATE_BUCKET = "tap-e2e-terraform-state"
OUTPUTS_FILE = ROOT / "cfn-outputs" / "flat-outputs.json"
BUILD = ROOT / "build" / "e2e"
CDKTF = ROOT / "node_modules" / ".bin" / "cdktf"
CONTRACT_OUTPUTS = (
    "vpc_id", "public_subnet_ids", "private_subnet_ids", "alb_arn", "alb_dns_name",
    "target_group_arn", "ecs_cluster_name", "ecs_service_name", "cloudfront_distribution_id",
    "cloudfront_domain_name", "waf_web_acl_arn", "aurora_cluster_identifier",
    "aurora_cluster_endpoint", "aurora_reader_endpoint", "db_secret_arn", "redis_cache_name",
    "redis_endpoint", "redis_secret_arn", "alarm_topic_arn", "environment_suffix", "aws_region",
)
TIMEOUTS = {"synth": 300, "deploy": 1200, "outputs": 300, "integration": 900, "lock": 300,
            "replan": 600, "destroy": 1200}
LOCK_ERROR = "Error acquiring the state lock"
CLOSED_PORT_PROXY = "http://127.0.0.1:9"  # discard port: nothing listens, nothing leaves


class PhaseFailed(RuntimeError):
    """A phase did not do what it must; the message says what and where the log is."""


@dataclass
class Report:  # pylint: disable=too-many-instance-attributes
    """What one environment's run measured."""

    suffix: str
    backend: str
    network_guard: str
    phases: dict[str, float] = field(default_factory=dict)
    resources: int | None = None
    integration: dict[str, Any] = field(default_factory=dict)
    retained: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    extensions: list[str] = field(default_factory=list)

    @property
    def total(self) -> float:
        return sum(self.phases.values())


class Run:
    """One environment: every phase, its logs under build/e2e/<suffix>/."""

    def __init__(self, suffix: str, backend: str, guard: str) -> None:
        self.suffix = suffix
        self.stack = f"TapStack{suffix}"
        self.workdir = BUILD / suffix
        self.outdir = self.workdir / "cdktf.out"
        self.stack_dir = self.outdir / "stacks" / self.stack
        self.report = Report(suffix=suffix, backend=backend, network_guard=guard)
        self.emulator: Emulator | None = None
        self.region = os.environ.get("AWS_REGION") or "us-east-1"

    # -- plumbing ---------------------------------------------------------------------

    @property
    def state_key(self) -> str:
        return f"{self.suffix}/{self.stack}.tfstate"

    def env(self) -> dict[str, str]:
        """The toolchain's environment: the emulator, dummy credentials, nothing else."""
        assert self.emulator is not None
        env = {key: value for key, value in os.environ.items()
               if not key.startswith("AWS_") and key.upper() not in (
                   "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY")}
        url = self.emulator.url
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
            "TAP_OUTPUTS_FILE": str(OUTPUTS_FILE),
        })
        if self.report.backend == "s3":
            env["TERRAFORM_STATE_BUCKET"] = STATE_BUCKET
            env["TERRAFORM_STATE_BUCKET_REGION"] = GLOBAL_REGION
            # moto answers on an IP address: bucket-in-hostname addressing cannot work.
            env["TF_CLI_ARGS_init"] = "-backend-config=use_path_style=true"
        else:
            env.pop("TERRAFORM_STATE_BUCKET", None)
        return env

    def client(self, service: str, region: str | None = None) -> Any:
        assert self.emulator is not None
        return boto3.client(service, region_name=region or self.region,
                            endpoint_url=self.emulator.url, aws_access_key_id="testing",
                            aws_secret_access_key="testing",
                            config=Config(retries={"total_max_attempts": 1}))

    def sh(self, phase: str, args: list[str], cwd: Path = ROOT, log_name: str | None = None,
           check: bool = True) -> tuple[int, str]:
        """Run a command of ``phase`` with the toolchain's environment; returns its exit
        code and output (also in build/e2e/<suffix>/<log_name>.log)."""
        log = self.workdir / f"{log_name or phase}.log"
        with open(log, "w", encoding="utf-8") as out:
            process = subprocess.Popen(args, cwd=cwd, env=self.env(), stdout=out,  # pylint: disable=consider-using-with
                                       stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                       start_new_session=True)
            try:
                code = process.wait(timeout=TIMEOUTS[phase])
            except subprocess.TimeoutExpired:
                _stop(process)
                raise PhaseFailed(f"{phase}: timed out after {TIMEOUTS[phase]}s (see {log})") \
                    from None
            except BaseException:  # interrupted: take the command's whole group down too
                _stop(process)
                raise
        text = log.read_text(encoding="utf-8", errors="replace")
        if check and code != 0:
            raise PhaseFailed(f"{phase}: `{' '.join(args[:3])} ...` exited {code}:\n"
                              f"{_errors(text)}\n(full log: {log})")
        return code, text

    def cdktf(self, phase: str, *args: str, check: bool = True) -> tuple[int, str]:
        return self.sh(phase, [str(CDKTF), *args, "--output", str(self.outdir), "--no-color"],
                       check=check)

    def terraform(self, phase: str, *args: str, check: bool = True) -> tuple[int, str]:
        return self.sh(phase, ["terraform", *args, "-no-color"], cwd=self.stack_dir,
                       log_name=f"{phase}-terraform", check=check)

    # -- phases -----------------------------------------------------------------------

    def run(self) -> Report:
        """Every phase; after a failure the later phases still run where they can (so one
        run shows every problem), the environment is destroyed and the emulator stopped."""
        if self.workdir.exists():
            shutil.rmtree(self.workdir)
        self.workdir.mkdir(parents=True)
        try:
            if not (self.step("emulator", self.start_emulator)
                    and self.step("synth", lambda: self.cdktf("synth", "synth"))):
                return self.report
            deployed = self.step("deploy", lambda: self.cdktf(
                "deploy", "deploy", self.stack, "--skip-synth", "--auto-approve",
                "--skip-provider-lock"))
            if deployed:
                self.step("outputs", self.outputs)
                self.step("integration", self.integration)
                if self.report.backend == "s3":
                    self.step("lock", self.lock)
                self.step("replan", self.replan)
            if self.unprotect_needed():
                self.step("unprotect", self.unprotect)
            self.step("destroy", lambda: self.cdktf(
                "destroy", "destroy", self.stack, "--skip-synth", "--auto-approve"))
            self.step("leftovers", self.leftovers)
        finally:
            if OUTPUTS_FILE.exists():  # the deployment is gone: so is its outputs file
                shutil.move(OUTPUTS_FILE, self.workdir / "flat-outputs.json")
            if self.emulator is not None:
                self.emulator.stop()
            (self.workdir / "report.json").write_text(
                json.dumps(asdict(self.report), indent=2) + "\n", encoding="utf-8")
        return self.report

    def step(self, name: str, action: Callable[[], object]) -> bool:
        """Run one phase, timed; a failure is recorded (and printed), not raised."""
        print(f"[{self.suffix}] {name} ...", flush=True)
        start = time.monotonic()
        try:
            action()
            return True
        except PhaseFailed as failure:
            self.report.failures.append(str(failure))
            print(f"[{self.suffix}] FAILED {failure}", file=sys.stderr, flush=True)
            return False
        finally:
            self.report.phases[name] = round(time.monotonic() - start, 1)
            print(f"[{self.suffix}] {name}: {self.report.phases[name]}s", flush=True)

    def start_emulator(self) -> None:
        self.emulator = Emulator(self.workdir / "emulator.log",
                                 self.workdir / "requests.log").start()
        self.report.extensions = _extensions(self.workdir / "emulator.log")
        if self.report.backend == "s3":
            self.client("s3", GLOBAL_REGION).create_bucket(Bucket=STATE_BUCKET)

    def outputs(self) -> None:
        OUTPUTS_FILE.parent.mkdir(exist_ok=True)
        self.cdktf("outputs", "output", self.stack, "--skip-synth", "--outputs-file",
                   str(OUTPUTS_FILE), "--outputs-file-include-sensitive-outputs")
        document = json.loads(OUTPUTS_FILE.read_text(encoding="utf-8"))
        if list(document) != [self.stack]:
            raise PhaseFailed(f"outputs: {OUTPUTS_FILE} holds {list(document)}, not "
                              f"{{{self.stack!r}: ...}}")
        values = document[self.stack]
        missing = [name for name in CONTRACT_OUTPUTS if values.get(name) in (None, "", [])]
        if missing:
            raise PhaseFailed(f"outputs: missing or empty: {', '.join(missing)}")
        if values["environment_suffix"] != self.suffix:
            raise PhaseFailed(f"outputs: environment_suffix is {values['environment_suffix']}")
        if self.report.backend == "s3":
            self.check_remote_state()
        _, listing = self.terraform("outputs", "state", "list")
        self.report.resources = sum(1 for line in listing.splitlines()
                                    if line and not line.startswith("data."))

    def check_remote_state(self) -> None:
        """The state lives in the bucket, no lock is left, nothing is kept locally."""
        s3 = self.client("s3", GLOBAL_REGION)
        keys = [o["Key"] for o in s3.list_objects_v2(Bucket=STATE_BUCKET).get("Contents", [])]
        if keys != [self.state_key]:
            raise PhaseFailed(f"outputs: state bucket holds {keys}, expected [{self.state_key}]")
        local = list(self.stack_dir.glob("*.tfstate"))
        if local:
            raise PhaseFailed(f"outputs: local state files next to the S3 backend: {local}")

    def integration(self) -> None:
        junit = self.workdir / "integration.xml"
        code, text = self.sh("integration", [
            sys.executable, "-m", "pytest", "tests/integration", "-p", "no:cacheprovider",
            "-rs", "-q", f"--junitxml={junit}"], check=False)
        summary = _junit(junit)
        self.report.integration = summary
        print(f"[{self.suffix}] integration: {summary['passed']} passed, "
              f"{summary['skipped']} skipped, {summary['failed']} failed", flush=True)
        for reason, tests in summary["skips"].items():
            print(f"    skipped ({len(tests)}): {reason}", flush=True)
        if code != 0 or summary["failed"] or not summary["passed"]:
            raise PhaseFailed(f"integration: exit {code}\n{_errors(text, 60)}")

    def lock(self) -> None:
        """A real apply holds the lock; a second apply must be refused; state unchanged."""
        s3 = self.client("s3", GLOBAL_REGION)
        lock_key = f"{self.state_key}.tflock"
        before = s3.get_object(Bucket=STATE_BUCKET, Key=self.state_key)["Body"].read()
        # The holder plans to replace one harmless resource, so it always stops at the
        # approval prompt with the lock held; it is answered "no" at the end.
        _, listing = self.terraform("lock", "state", "list")
        victim = _harmless_resource(listing.split())
        log = self.workdir / "lock-holder.log"
        with open(log, "w", encoding="utf-8") as out:
            holder = subprocess.Popen(  # pylint: disable=consider-using-with
                ["terraform", "apply", "-input=true", "-refresh=false", f"-replace={victim}",
                 "-no-color"],
                cwd=self.stack_dir, env=self.env(), stdin=subprocess.PIPE, stdout=out,
                stderr=subprocess.STDOUT, text=True, start_new_session=True)
        try:
            lock_info = _wait_for_object(s3, lock_key, holder, timeout=120)
            code, text = self.terraform("lock", "apply", "-auto-approve", "-input=false",
                                        "-lock-timeout=0s", check=False)
            if code == 0 or LOCK_ERROR not in text or lock_info["ID"] not in text:
                raise PhaseFailed(f"lock: the second apply was not refused by the lock "
                                  f"{lock_info['ID']} (exit {code}):\n{_errors(text)}")
        finally:
            if holder.poll() is None:
                try:
                    holder.communicate("no\n", timeout=60)
                except subprocess.TimeoutExpired:
                    _stop(holder)
        if "Apply cancelled" not in log.read_text(encoding="utf-8"):
            raise PhaseFailed(f"lock: the holding apply did not stop at its prompt (see {log})")
        after = s3.get_object(Bucket=STATE_BUCKET, Key=self.state_key)["Body"].read()
        if after != before:
            raise PhaseFailed("lock: the state object changed during the lock test")
        left = s3.list_objects_v2(Bucket=STATE_BUCKET, Prefix=lock_key).get("KeyCount", 0)
        if left:
            raise PhaseFailed(f"lock: {lock_key} is still there after the holder exited")
        self.report.notes.append(
            f"lock: {lock_info['Operation']} by {lock_info['Who']} held {lock_key} "
            f"(lock {lock_info['ID']}); the second apply was refused; state unchanged")

    def replan(self) -> None:
        code, text = self.terraform("replan", "plan", "-detailed-exitcode", "-input=false",
                                    "-lock-timeout=60s", check=False)
        if code == 2:
            changes = re.findall(r"^\s*# (\S+ (?:will|must) be [^\n]+)", text, re.MULTILINE)
            raise PhaseFailed("replan: the second plan is not empty:\n  "
                              + "\n  ".join(changes or [_errors(text)]))
        if code != 0:
            raise PhaseFailed(f"replan: terraform plan exited {code}:\n{_errors(text)}")

    def unprotect_needed(self) -> bool:
        document = json.loads((self.stack_dir / "cdk.tf.json").read_text(encoding="utf-8"))
        resources = document.get("resource", {})
        return any(r.get("deletion_protection") for r in resources.get("aws_rds_cluster", {}).values()) \
            or any(r.get("enable_deletion_protection") for r in resources.get("aws_lb", {}).values())

    def unprotect(self) -> None:
        """Lift deletion protection through the API, as an operator does on purpose
        before destroying an environment that has it (production)."""
        rds, elbv2 = self.client("rds"), self.client("elbv2")
        for cluster in rds.describe_db_clusters()["DBClusters"]:
            if cluster.get("DeletionProtection") and f"tap-{self.suffix}-" in \
                    cluster["DBClusterIdentifier"]:
                rds.modify_db_cluster(DBClusterIdentifier=cluster["DBClusterIdentifier"],
                                      DeletionProtection=False, ApplyImmediately=True)
                self.report.notes.append(
                    f"unprotect: deletion protection lifted on {cluster['DBClusterIdentifier']}")
        for balancer in elbv2.describe_load_balancers()["LoadBalancers"]:
            if balancer["LoadBalancerName"].startswith(f"tap-{self.suffix}-"):
                elbv2.modify_load_balancer_attributes(
                    LoadBalancerArn=balancer["LoadBalancerArn"],
                    Attributes=[{"Key": "deletion_protection.enabled", "Value": "false"}])
                self.report.notes.append(
                    f"unprotect: deletion protection lifted on {balancer['LoadBalancerName']}")

    def leftovers(self) -> None:
        regions = {self.region, GLOBAL_REGION}
        left = find_leftovers(self.client, self.suffix, regions)
        self.report.retained = retained(self.client, self.suffix, regions)
        if self.report.retained and not self.stack_keeps_final_snapshot():
            left.extend(self.report.retained)
        if left:
            raise PhaseFailed("leftovers: destroy left\n  " + "\n  ".join(left))

    def stack_keeps_final_snapshot(self) -> bool:
        document = json.loads((self.stack_dir / "cdk.tf.json").read_text(encoding="utf-8"))
        return any(not r.get("skip_final_snapshot", False)
                   for r in document.get("resource", {}).get("aws_rds_cluster", {}).values())


def _stop(process: subprocess.Popen[Any]) -> None:
    """Terminate a command started in its own session, with all its children."""
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def _harmless_resource(addresses: list[str]) -> str:
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


def _errors(text: str, lines: int = 40) -> str:
    """The error blocks of a Terraform/cdktf log, or its tail."""
    clean = re.sub(r"\x1b\[[0-9;]*[A-Za-z]", "", text)
    picked = [line for line in clean.splitlines()
              if re.search(r"Error|error:|FAILED|failed|refused", line)]
    return "\n".join((picked or clean.splitlines())[-lines:])


def _junit(path: Path) -> dict[str, Any]:
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


def _extensions(emulator_log: Path) -> list[str]:
    for line in emulator_log.read_text(encoding="utf-8").splitlines():
        if line.startswith("moto extensions: "):
            return line.removeprefix("moto extensions: ").split(", ")
    return []


def network_guard() -> str:
    """Which guard keeps traffic on loopback (see the module docstring)."""
    if os.environ.get("TAP_E2E_NETNS") == "1":
        return "private network namespace (only lo)"
    return "proxies pointed at a closed loopback port"


def reexec_in_private_network(argv: list[str]) -> int | None:
    """Re-run this command in a new user+network namespace with only ``lo`` up; None when
    the kernel or the tools do not allow it (then the proxy guard alone applies)."""
    if os.environ.get("TAP_E2E_NETNS") or os.environ.get("TAP_E2E_NETNS_DISABLE") \
            or not shutil.which("unshare") or not shutil.which("ip"):
        return None
    probe = subprocess.run(["unshare", "-rn", "ip", "link", "set", "lo", "up"],
                           capture_output=True, check=False)
    if probe.returncode != 0:
        return None
    env = dict(os.environ, TAP_E2E_NETNS="1")
    command = ["unshare", "-rn", "sh", "-c", 'ip link set lo up && exec "$@"', "sh",
               sys.executable, "-m", "tests.e2e.run", *argv]
    return subprocess.run(command, env=env, check=False).returncode


def print_summary(reports: list[Report]) -> None:
    phases = ["emulator", "synth", "deploy", "outputs", "integration", "lock", "replan",
              "unprotect", "destroy", "leftovers"]
    print("\n== e2e summary (seconds) ==")
    print(f"{'profile':<10}{'result':<8}{'resources':>10}  "
          + "".join(f"{p:>12}" for p in phases) + f"{'total':>9}")
    for report in reports:
        cells = "".join(f"{report.phases[p]:>12}" if p in report.phases else f"{'-':>12}"
                        for p in phases)
        print(f"{report.suffix:<10}{'FAIL' if report.failures else 'ok':<8}"
              f"{report.resources if report.resources is not None else '-':>10}  "
              f"{cells}{round(report.total, 1):>9}")
    for report in reports:
        for failure in report.failures:
            print(f"  [{report.suffix}] FAILED {failure.splitlines()[0]}")
        for note in report.notes + [f"retained on purpose: {r}" for r in report.retained]:
            print(f"  [{report.suffix}] {note}")
    print(f"  network guard: {reports[0].network_guard if reports else '-'}; "
          f"moto extensions: {', '.join(reports[0].extensions) if reports else '-'}")


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("suffixes", nargs="*",
                        default=[os.environ.get("ENVIRONMENT_SUFFIX") or "pr4892"])
    parser.add_argument("--backend", choices=("s3", "local"), default="s3",
                        help="s3 (default): remote state in the emulator, with the lock test")
    args = parser.parse_args(argv)
    code = reexec_in_private_network(argv)
    if code is not None:
        return code
    if not os.path.isfile(os.environ.get("TF_CLI_CONFIG_FILE", "")):
        print("e2e: TF_CLI_CONFIG_FILE must name the provider mirror configuration "
              "(run through `make e2e`)", file=sys.stderr)
        return 2
    saved = BUILD / "flat-outputs.json.saved"
    if OUTPUTS_FILE.exists():  # a real deployment's outputs: keep them out of our way
        BUILD.mkdir(parents=True, exist_ok=True)
        shutil.move(OUTPUTS_FILE, saved)
    try:
        reports = [Run(suffix, args.backend, network_guard()).run() for suffix in args.suffixes]
    finally:
        if saved.exists():
            OUTPUTS_FILE.parent.mkdir(exist_ok=True)
            shutil.move(saved, OUTPUTS_FILE)
    print_summary(reports)
    return 1 if any(report.failures for report in reports) else 0


if __name__ == "__main__":
    sys.exit(main())
