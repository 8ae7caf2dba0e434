"""What each setting does to a live environment, planned against a deployed one.

  changes   every ``Change`` of CHANGES is synthesized (all in one process:
            ``python -m tests.e2e.changes OUTDIR``), planned against the live state of the
            environment (``terraform plan -refresh=false -lock=false`` in a copy of its stack
            directory, two at a time: nothing is applied, the state and its lock are never
            touched; the replan before proved the state matches AWS) and judged by the plan
            guard (tools/plan_check.py). The result is the table of
            docs/reference/changes.md (between its ``change-table`` markers), written to
            build/e2e/<suffix>/change-table.md; the phase fails when a change's verdict is not
            the one expected or when the page's table is not the one this run produced
            (``make change-table`` copies it in).

A change that needs something to exist first (a certificate, a hosted zone) names it in its
settings as ``{zone}``, ``{zone_name}``, ``{snapshot}`` (a snapshot of the environment's
cluster) or ``{origin_certificate}`` (the life's load balancer certificate); the phase
creates those in the emulator (``prerequisites``) and removes them afterwards.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.e2e.harness import PhaseFailed, Run, errors
from tests.e2e.phases import deployed_outputs, guard, share_init
from tools import plan_check

ROOT = Path(__file__).resolve().parents[2]
PAGE = ROOT / "docs" / "reference" / "changes.md"
BEGIN, END = "<!-- change-table:begin -->", "<!-- change-table:end -->"
IN_PLACE, REFUSED, INVALID = "passes", "refuses", "invalid"  # what is expected of a change
PLAN_JOBS = 2


@dataclass(frozen=True)
class Change:
    """A setting's new value on a live environment, what must happen and what to do."""

    setting: str  # as the table shows it
    value: str  # as the table shows it
    settings: dict[str, str]  # the environment's overrides, with {prerequisite} fields
    expect: str  # IN_PLACE: the guard passes; REFUSED: it refuses; INVALID: main.py exit 2
    advice: str
    applied: str = ""  # the life's phase that also applies this change (and serves after it)

    @property
    def name(self) -> str:
        """A directory name for the change."""
        return re.sub(r"[^a-z0-9]+", "-", f"{self.setting} {self.value}".lower()).strip("-")


CONTROL = Change("(none)", "the deployed settings", {}, IN_PLACE,
                 "nothing: the plan of the deployed settings is empty")
CHANGES: tuple[Change, ...] = (
    CONTROL,
    Change("CONTAINER_IMAGE", "by digest to the same image by tag", {
        "CONTAINER_IMAGE": "ecr:tap/app:reference"}, IN_PLACE,
        "a new revision: the release runs first, then a rolling deployment (the circuit breaker "
        "rolls back an image that fails); deploy by digest, so that the revision names the "
        "image it runs"),
    Change("APP_MANIFEST", "app/app.toml to none (the platform's default container)",
           {"APP_MANIFEST": "", "CONTAINER_IMAGE": ""}, REFUSED,
           "the application's secrets would be deleted with its release and jobs: remove them "
           "from the manifest first (deleting a secret is then an allowed change), or keep the "
           "manifest"),
    Change("CONTAINER_PORT", "8000 to 8080", {"CONTAINER_PORT": "8080"}, IN_PLACE,
           "the new target group is created before the old one goes; the tasks roll"),
    Change("HEALTH_CHECK_PATH", "/healthz to /livez", {"HEALTH_CHECK_PATH": "/livez"},
           IN_PLACE, "deploy the image that answers the new path first"),
    Change("ALARM_EMAIL", "unset to an address", {"ALARM_EMAIL": "ops@example.com"}, IN_PLACE,
           "the address must confirm each of the two subscriptions"),
    Change("CPU_ARCHITECTURE", "X86_64 to ARM64", {"CPU_ARCHITECTURE": "ARM64"}, IN_PLACE,
           "the image must have an arm64 variant; Spot capacity is dropped (none for ARM64)"),
    Change("CACHE_ENGINE", "valkey to redis", {"CACHE_ENGINE": "redis"}, REFUSED,
           "a new cache: its data is lost (a cache); allow the replacement with "
           "`ALLOW_REPLACE` in a quiet hour"),
    Change("DB_ENGINE_VERSION", "16.6 to 16.8 (minor)", {"DB_ENGINE_VERSION": "16.8"},
           IN_PLACE, "applied in the next maintenance window; take a snapshot first"),
    Change("DB_ENGINE_VERSION", "16.6 to 17.4 (major)", {"DB_ENGINE_VERSION": "17.4"},
           IN_PLACE, "an in-place major upgrade with downtime: snapshot, rehearse on a "
           "standard environment, then apply"),
    Change("VPC_CIDR", "10.0.0.0/16 to 10.1.0.0/16", {"VPC_CIDR": "10.1.0.0/16"}, REFUSED,
           "a new network under everything: deploy a new environment and move the data "
           "(snapshot restore), then destroy the old one"),
    Change("CREATE_NAT_GATEWAY", "profile (1) to false", {"CREATE_NAT_GATEWAY": "false"},
           IN_PLACE, "the private tasks lose egress: only with VPC endpoints for ECR, S3, "
                     "Logs and Secrets Manager"),
    Change("CERTIFICATE_ARN", "unset to a certificate of DOMAIN_NAMES (HTTPS origin)", {
        "CERTIFICATE_ARN": "{origin_certificate}"}, IN_PLACE,
        "applied in the life's origin-https phase, the site answering throughout: the VPC "
        "origin is replaced (never updated in use), port 80 redirects only after the "
        "distribution moved", applied="origin-https"),
    Change("HOSTED_ZONE_ID", "unset to a zone (the stack's viewer certificate instead of "
           "EDGE_CERTIFICATE_ARN)", {
               "HOSTED_ZONE_ID": "{zone}", "EDGE_CERTIFICATE_ARN": "",
               "DOMAIN_NAMES": "{zone_name},www.{zone_name}"}, IN_PLACE,
           "the apply waits for the certificate's DNS validation"),
    Change("REPOSITORY, COMMIT_AUTHOR", "another author", {"COMMIT_AUTHOR": "someone-else"},
           IN_PLACE, "tags only, on every resource that carries them"),
    Change("DB_SNAPSHOT_IDENTIFIER", "unset to a snapshot of the cluster",
           {"DB_SNAPSHOT_IDENTIFIER": "{snapshot}"}, IN_PLACE,
           "nothing on a live cluster: the snapshot is read only when the cluster is created "
           "(restore into a new environment, or after a destroy that kept the final snapshot); "
           "the one create is the step that turns IAM authentication on after a restore "
           "(tools/restored_cluster.py), which finds it on"),
    Change("ALLOW_DESTROY", "true", {"ALLOW_DESTROY": "true"}, INVALID,
           "production only: the teardown's plan updates in place (the production life)"),
)
# Settings of the contract table that are not a change of a live environment, and why.
NOT_LIVE = {
    "ENVIRONMENT_SUFFIX": "another suffix is another environment",
    "AWS_REGION": "another region is another environment",
    "TERRAFORM_STATE_BUCKET": "moves the state, not the resources: `terraform init "
                              "-migrate-state`",
    "TERRAFORM_STATE_BUCKET_REGION": "as TERRAFORM_STATE_BUCKET",
    "DOMAIN_NAMES": "the life's own (with EDGE_CERTIFICATE_ARN); planned with HOSTED_ZONE_ID",
    "EDGE_CERTIFICATE_ARN": "the life's own; planned away with HOSTED_ZONE_ID",
    "VPC_ID": "into a given network is a new environment, as VPC_CIDR: deploy one there and "
              "move the data. (Its plan fails here: the given VPC has no "
              "CloudFront-VPCOrigins-Service-SG before its first VPC origin.)",
    "PUBLIC_SUBNET_IDS": "with VPC_ID", "PRIVATE_SUBNET_IDS": "with VPC_ID",
    "ISOLATED_SUBNET_IDS": "with VPC_ID",
    "TASK_SUBNETS": "only with VPC_ID: the service's network configuration, in place",
    "SHARED_PLATFORM": "names the shared stack (TapShared<name>), not an environment",
    **{name: "shared mode is for pull-request environments in a given network, deployed so "
             "from their first life (the fleet's, make e2e-fleet)"
       for name in ("SHARED_WEB_ACL_ARN", "SHARED_LISTENER_ARN", "SHARED_VPC_ORIGIN_ARN",
                    "SHARED_DB_CLUSTER_ARN", "SHARED_CACHE_ARN")},
}


@dataclass(frozen=True)
class Outcome:
    """What the plan of one change does, as the guard sees it (None: main.py refused)."""

    change: Change
    verdict: plan_check.Verdict | None

    @property
    def result(self) -> str:
        """IN_PLACE, REFUSED or INVALID, as measured."""
        if self.verdict is None:
            return INVALID
        return IN_PLACE if self.verdict.ok else REFUSED


# -- the phase ----------------------------------------------------------------------------

def changes(run: Run) -> None:
    """Plan every change against the live environment; check verdicts and the page."""
    outdir = run.workdir / "changes"
    if outdir.exists():
        shutil.rmtree(outdir)
    made = prerequisites(run)
    try:
        _synthesize(run, outdir, {c.name: {k: v.format(**made) for k, v in c.settings.items()}
                                  for c in CHANGES})
        with ThreadPoolExecutor(max_workers=PLAN_JOBS) as pool:
            outcomes = list(pool.map(lambda c: _plan(run, outdir, c), CHANGES))
    finally:
        remove_prerequisites(run, made)
    table = render(outcomes)
    (run.workdir / "change-table.md").write_text(table + "\n", encoding="utf-8")
    run.report.plans.update({f"change {o.change.name}": plan_check.counts(o.verdict.changes)
                             for o in outcomes if o.verdict is not None})
    wrong = [f"{o.change.setting} {o.change.value}: expected {o.change.expect}, measured "
             f"{o.result}" for o in outcomes if o.result != o.change.expect]
    control = outcomes[CHANGES.index(CONTROL)].verdict
    if control is None or any(plan_check.counts(control.changes).values()):
        wrong.append("the deployed settings did not plan empty: the synth of the changes "
                     "differs from the deployed one")
    if wrong:
        raise PhaseFailed("changes: " + "; ".join(wrong) + f"\n{table}")
    if page_table(PAGE.read_text(encoding="utf-8")) != table:
        raise PhaseFailed(f"changes: the table of {PAGE.relative_to(ROOT)} is not what this run "
                          f"measured; the run's is {run.workdir / 'change-table.md'} "
                          f"(make change-table copies it in)")
    run.report.notes.append(f"changes: {len(outcomes)} changes planned against the live "
                            f"environment; verdicts as expected; {PAGE.name}'s table is this run's")


def prerequisites(run: Run) -> dict[str, str]:
    """What the changes name: a public zone, a cluster snapshot, and the load balancer's
    certificate that the life's viewer-domain phase imported (tests/e2e/origin.py)."""
    zone_name = f"{run.suffix}-changes.tap-e2e.example"
    zone = run.client("route53").create_hosted_zone(
        Name=zone_name, CallerReference=f"tap-e2e-changes-{run.suffix}",
        HostedZoneConfig={"Comment": "e2e: change scenarios", "PrivateZone": False})
    snapshot = f"tap-{run.suffix}-changes"
    run.client("rds").create_db_cluster_snapshot(
        DBClusterIdentifier=deployed_outputs(run)["aurora_cluster_identifier"],
        DBClusterSnapshotIdentifier=snapshot)
    return {"zone": zone["HostedZone"]["Id"].rsplit("/", 1)[-1], "zone_name": zone_name,
            "snapshot": snapshot, "origin_certificate": run.report.app["origin"]["certificate"]}


def remove_prerequisites(run: Run, made: dict[str, str]) -> None:
    """Delete what ``prerequisites`` made."""
    run.client("route53").delete_hosted_zone(Id=made["zone"])
    run.client("rds").delete_db_cluster_snapshot(DBClusterSnapshotIdentifier=made["snapshot"])


def _synthesize(run: Run, outdir: Path, overrides: dict[str, dict[str, str]]) -> None:
    outdir.mkdir(parents=True)
    (outdir / "changes.json").write_text(json.dumps(overrides, indent=2), encoding="utf-8")
    run.sh("synth", [sys.executable, "-m", "tests.e2e.changes", str(outdir)], log="synth")


def _plan(run: Run, outdir: Path, change: Change) -> Outcome:
    """Plan one change in a copy of the stack directory; the guard's verdict."""
    synthesized = outdir / change.name / "stacks" / run.stack
    if not (synthesized / "cdk.tf.json").exists():  # main.py refused the settings
        return Outcome(change, None)
    share_init(run, synthesized)
    log = f"plan-{change.name}"
    code, text = run.sh("plan", ["terraform", "plan", "-refresh=false", "-lock=false",
                                 "-input=false", "-no-color", "-out=change.tfplan"],
                        cwd=synthesized, log=log, check=False)
    if code != 0:
        raise PhaseFailed(f"changes: the plan of {change.setting} {change.value} exited "
                          f"{code}:\n{errors(text)}")
    return Outcome(change, guard(run, synthesized / "change.tfplan", change.name))


# -- the table ----------------------------------------------------------------------------

def short(address: str) -> str:
    """A resource address without cdktf's hash suffix: ``aws_lb_target_group.app_web``."""
    return re.sub(r"_[0-9A-F]{8}$", "", address)


def replaced_text(verdict: plan_check.Verdict, most: int = 3) -> str:
    """The replaced resources with their forcing attributes; stateful ones in bold and
    always listed, the others up to ``most`` and then counted."""
    replaced = [c for c in verdict.changes if c.action == "replace"]
    stateful = [c for c in replaced if c.stateful]
    others = [c for c in replaced if not c.stateful]

    def one(change: plan_check.Change) -> str:
        text = f"`{short(change.address)}` ({', '.join(change.forcing) or change.reason})"
        return f"**{text}**" if change.stateful else text

    shown = [one(c) for c in stateful] + [one(c) for c in others[:most]]
    if len(others) > most:
        shown.append(f"and {len(others) - most} more")
    return "; ".join(shown) or "-"


def render(outcomes: list[Outcome]) -> str:
    """The page's table: one row per change, in CHANGES' order, then the settings of NOT_LIVE
    with their reasons."""
    lines = ["| setting | change on a live `dev` | create | update | replace | delete "
             "| replaced (forcing attributes) | plan guard | what to do |",
             "| --- | --- | ---: | ---: | ---: | ---: | --- | --- | --- |"]
    for outcome in outcomes:
        change = outcome.change
        if outcome.verdict is None:
            cells = ["-"] * 5 + ["refused by `main.py` (exit 2)"]
        else:
            tally = plan_check.counts(outcome.verdict.changes)
            blocked = len(outcome.verdict.blocked)
            cells = [str(tally[k]) for k in ("create", "update", "replace", "delete")]
            verdict = f"refuses ({blocked} stateful)" if blocked else "passes"
            if change.applied:
                verdict += f"; applied (phase `{change.applied}`)"
            cells += [replaced_text(outcome.verdict), verdict]
        lines.append("| " + " | ".join([f"`{change.setting}`", change.value, *cells,
                                        change.advice]).replace("\n", " ") + " |")
    lines += ["", "Not a change of a live environment:", ""]
    lines += [f"- `{name}`: {reason}" for name, reason in NOT_LIVE.items()]
    return "\n".join(lines)


def page_table(text: str) -> str:
    """The table between the change-table markers of a page ('' when absent)."""
    if BEGIN not in text or END not in text:
        return ""
    return text.split(BEGIN, 1)[1].split(END, 1)[0].strip()


def update_page(table_file: Path, page: Path = PAGE) -> None:
    """Put the table of a run between the page's markers."""
    text = page.read_text(encoding="utf-8")
    if BEGIN not in text or END not in text:
        raise SystemExit(f"{page} has no {BEGIN} ... {END} markers")
    head, rest = text.split(BEGIN, 1)
    tail = rest.split(END, 1)[1]
    table = table_file.read_text(encoding="utf-8").strip()
    page.write_text(f"{head}{BEGIN}\n{table}\n{END}{tail}", encoding="utf-8")


# -- the synth process --------------------------------------------------------------------

def synthesize(outdir: Path) -> int:
    """Every change of outdir/changes.json into outdir/<name>, in one process (the provider
    bindings load once); a change main.py refuses leaves its directory without a stack."""
    # pylint: disable=import-outside-toplevel  # jsii starts here only
    import main
    from lib import bindings

    bindings.load()  # the fast loaders, once for every change

    overrides: dict[str, dict[str, str]] = json.loads(
        (outdir / "changes.json").read_text(encoding="utf-8"))
    for name, settings in overrides.items():
        environ: dict[str, Any] = {**os.environ, **settings, "CDKTF_OUTDIR": str(outdir / name)}
        code = main.main(environ)
        print(f"{name}: main.py exit {code}", flush=True)
    return 0


if __name__ == "__main__":
    if sys.argv[1:2] == ["--update-page"]:
        update_page(Path(sys.argv[2]))
        sys.exit(0)
    sys.exit(synthesize(Path(sys.argv[1])))
