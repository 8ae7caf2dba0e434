"""Concurrent environments on one emulator: a fleet in one account and region.

``python -m tests.e2e.fleet [--sequential]`` (``make e2e-fleet``) starts ONE emulator
with the VPC quota at 3 (the default VPC, the platform team's network, and one more),
builds the network a platform team would hand out (tests/e2e/platform_network.py), and
leads three environments through it, each with its own workdir build/e2e/<suffix>/
(logs, outputs file, cdktf output), its own state key in the shared state bucket, and
the harness's phases (tests/e2e/phases.py):

  emulator        the one emulator (TAP_EMULATOR_VPC_QUOTA=3) and the state bucket
  network         the platform network (VPC, internet gateway, NAT, three tiers over
                  three AZs, routes), created with boto3
  deploy          at once: pr101 (given network, TASK_SUBNETS=public), pr102 (given
                  network, private) and qa (standard, its own VPC); each: deploy,
                  outputs, integration
  quota           the region holds 3 VPCs: qa's was the last that fits; one more is
                  refused with VpcLimitExceeded (the given-network environments took none)
  destroy-one     the nightly janitor (tools/janitor.py --apply) with only pr102's pull
                  request open: it finds pr101 stale and destroys it through its own
                  state, keeps pr102 (open) and qa (standard); then pr101's leftovers
  others-intact   qa and pr102: state objects byte for byte as before, empty replan,
                  integration again
  destroy-all     the others (and any not yet destroyed after a failure): destroy,
                  leftovers (qa keeps its final snapshot)
  network-intact  the platform network exactly as it was created
  network-removed the scenario removes it; only the default VPC is left

``--sequential`` runs the environments of each phase one after another, to compare
the wall time with the concurrent run. Each phase's seconds (and each environment's
own phases) are in the summary and in build/e2e/fleet/report.json.
"""
from __future__ import annotations

import argparse
import functools
import json
import os
import shlex
import shutil
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from typing import Any, Callable

from botocore.exceptions import ClientError

from emulator.moto_ext.ec2_vpc_quota import QUOTA_VARIABLE
from tests.e2e.harness import BUILD, GLOBAL_REGION, STATE_BUCKET, PhaseFailed, Report, \
    Run, apply_command
from tests.e2e.lives import Phase, life_of, run_phases
from tests.e2e.phases import deploy, destroy, emulator, integration, leftovers, outputs, \
    replan
from tests.e2e.platform_network import Network, create_network, fingerprint, remove_network
from tests.e2e.run import isolate, network_guard, render_summary

FLEET = "fleet"  # the coordinator's name: build/e2e/fleet/
VPC_QUOTA = 3  # the default VPC, the platform network, qa's own VPC
SNAPSHOTS = {"pr101": 0, "pr102": 0, "qa": 1}  # final DB snapshots destroy keeps, per env
GIVEN_NETWORK = {"pr101": "public", "pr102": "private"}  # suffix -> TASK_SUBNETS
DESTROYED_FIRST = "pr101"
# How the janitor destroys an environment here: make destroy's tool on its own state,
# through the stack the e2e synthesized in its workdir (make destroy would synthesize into
# cdktf.out at the root).
JANITOR_DESTROY = shlex.join(apply_command(
    f"{BUILD}/{{suffix}}/cdktf.out/stacks/TapStack{{suffix}}", "--destroy"))


@dataclass
class Fleet:
    """The coordinator's state: the environments' runs and what the phases share."""

    runs: dict[str, Run]
    concurrent: bool = True
    network: Network | None = None
    network_before: dict[str, Any] = field(default_factory=dict)
    states_before: dict[str, bytes] = field(default_factory=dict)
    destroyed: set[str] = field(default_factory=set)

    def each(self, suffixes: list[str], phases: tuple[Phase, ...]) -> None:
        """Run ``phases`` for each environment (at once, or in turn), each with its own
        report; PhaseFailed naming the environments whose phases failed."""
        runs = [self.runs[suffix] for suffix in suffixes]
        before = {run.suffix: len(run.report.failures) for run in runs}
        if self.concurrent and len(runs) > 1:
            with ThreadPoolExecutor(max_workers=len(runs)) as pool:
                list(pool.map(lambda run: run_phases(run, phases), runs))
        else:
            for run in runs:
                run_phases(run, phases)
        failed = {run.suffix: run.report.failures[before[run.suffix]:] for run in runs
                  if len(run.report.failures) > before[run.suffix]}
        if failed:
            raise PhaseFailed("; ".join(f"{suffix}: {failures[0].splitlines()[0]}"
                                        for suffix, failures in failed.items()))


def environment_settings(suffix: str, network: Network | None) -> dict[str, str]:
    """The configuration of one environment of the fleet: the given network's ids and
    TASK_SUBNETS for the given-network environments, nothing for the others."""
    if suffix not in GIVEN_NETWORK:
        return {}
    assert network is not None, "the platform network is not there"
    return {**network.settings(), "TASK_SUBNETS": GIVEN_NETWORK[suffix]}


# -- the fleet's phases (each takes the coordinator's run) -----------------------------

def start(fleet: Fleet, run: Run) -> None:
    """The one emulator, with the fleet's VPC quota; every environment uses it."""
    previous = os.environ.get(QUOTA_VARIABLE)
    os.environ[QUOTA_VARIABLE] = str(VPC_QUOTA)  # the emulator's environment, at its start
    try:
        emulator(run)
    finally:
        if previous is None:
            del os.environ[QUOTA_VARIABLE]
        else:
            os.environ[QUOTA_VARIABLE] = previous
    for env in fleet.runs.values():
        env.emulator = run.emulator
        env.report.extensions = run.report.extensions
    run.report.notes.append(f"one emulator at {run.url}, {QUOTA_VARIABLE}={VPC_QUOTA}")


def build_network(fleet: Fleet, run: Run) -> None:
    """The platform team's network, and what it looks like (for network-intact)."""
    ec2 = run.client("ec2")
    fleet.network = create_network(ec2)
    fleet.network_before = fingerprint(ec2, fleet.network)
    for suffix, env in fleet.runs.items():
        env.settings_env = environment_settings(suffix, fleet.network)
        # Concurrent terraform inits must not share one plugin cache (Terraform does not
        # make that safe): each environment gets its own.
        cache = env.workdir / "plugin-cache"
        cache.mkdir(parents=True, exist_ok=True)
        env.settings_env["TF_PLUGIN_CACHE_DIR"] = str(cache)
    run.report.notes.append(f"platform network {fleet.network.vpc_id}: "
                            f"{len(fleet.network.zones)} AZs, "
                            + ", ".join(f"{tier} {len(ids)}" for tier, ids in
                                        fleet.network.subnets.items()))


def quota(run: Run) -> None:
    """The region is at its VPC quota with qa's VPC (and at its internet gateway quota
    with qa's gateway, the default VPC's counted); the next of each is refused."""
    ec2 = run.client("ec2")
    vpcs = ec2.describe_vpcs()["Vpcs"]
    if len(vpcs) != VPC_QUOTA:
        raise PhaseFailed(f"quota: {len(vpcs)} VPCs in {run.region}, expected {VPC_QUOTA} "
                          f"(default, platform, qa): {[vpc['VpcId'] for vpc in vpcs]}")
    _refused(lambda: ec2.create_vpc(CidrBlock="10.250.0.0/16")["Vpc"]["VpcId"],
             "VpcLimitExceeded", lambda vpc: ec2.delete_vpc(VpcId=vpc))
    _refused(lambda: ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"],
             "InternetGatewayLimitExceeded",
             lambda igw: ec2.delete_internet_gateway(InternetGatewayId=igw))
    run.report.notes.append(
        f"quota: {VPC_QUOTA} VPCs (default, platform, qa's own) fill the quota; the given-"
        f"network environments {', '.join(GIVEN_NETWORK)} took none; the next CreateVpc and "
        "CreateInternetGateway were refused (VpcLimitExceeded, InternetGatewayLimitExceeded)")


def _refused(create: Callable[[], str], code: str, delete: Callable[[str], Any]) -> None:
    """``create()`` must fail with ``code``; what it created anyway is deleted."""
    try:
        created = create()
    except ClientError as error:
        found = error.response["Error"]["Code"]
        if found != code:
            raise PhaseFailed(f"quota: refused with {found}, not {code}") from None
    else:
        delete(created)
        raise PhaseFailed(f"quota: created {created} past the quota of {VPC_QUOTA}")


def destroy_first(fleet: Fleet, run: Run) -> None:
    """Destroy one environment; the others' state objects are kept to compare."""
    others = [suffix for suffix in fleet.runs if suffix != DESTROYED_FIRST]
    fleet.states_before = {suffix: fleet.runs[suffix].state_bytes() for suffix in others}
    fleet.destroyed.add(DESTROYED_FIRST)
    fleet.each([DESTROYED_FIRST], (Phase("janitor", janitor), Phase("leftovers", own_leftovers)))
    run.report.notes.append(f"the janitor destroyed {DESTROYED_FIRST} while "
                            f"{', '.join(others)} lived")


def janitor(run: Run) -> None:
    """``tools/janitor.py --apply`` with the open pull requests of the other ephemeral
    environments: it must destroy this one (no open pull request) through its own state,
    with one command, and keep every other one."""
    open_prs = [suffix.removeprefix("pr") for suffix in run.neighbours if suffix.startswith("pr")]
    _, text = run.sh("destroy", [sys.executable, "-m", "tools.janitor", "--open-prs",
                                 ",".join(open_prs), "--bucket", STATE_BUCKET, "--apply",
                                 "--destroy-command", JANITOR_DESTROY], log="janitor")
    verdicts = {line.split()[0]: line for line in text.splitlines()
                if line.split() and line.split()[0] in (run.suffix, *run.neighbours)}
    commands = [line for line in text.splitlines() if line.startswith("$ ")]
    wrong = [suffix for suffix in run.neighbours if "keep:" not in verdicts.get(suffix, "")]
    if ("destroy: no open pull request" not in verdicts.get(run.suffix, "") or wrong
            or len(commands) != 1 or f"TapStack{run.suffix} " not in commands[0]):
        raise PhaseFailed(f"janitor: expected to destroy {run.suffix} alone and keep "
                          f"{', '.join(run.neighbours)}:\n{text}")
    run.check_state_unlocked()
    run.report.notes.append(f"janitor: destroyed {run.suffix} (no open pull request); kept "
                            + "; ".join(f"{s} ({verdicts[s].split('keep: ', 1)[1]})"
                                        for s in run.neighbours))


def others_intact(fleet: Fleet, run: Run) -> None:
    """The environments not destroyed: same state objects, empty replan, integration."""
    others = [suffix for suffix in fleet.runs if suffix not in fleet.destroyed]
    changed = [suffix for suffix in others
               if fleet.runs[suffix].state_bytes() != fleet.states_before[suffix]]
    if changed:
        raise PhaseFailed(f"others-intact: the state of {', '.join(changed)} changed when "
                          f"{DESTROYED_FIRST} was destroyed")
    fleet.each(others, (Phase("replan", replan), Phase("integration", integration)))
    run.report.notes.append(f"after {DESTROYED_FIRST}'s destroy: {', '.join(others)} "
                            "unchanged (state objects, empty replan, integration green)")


def destroy_rest(fleet: Fleet, _run: Run) -> None:
    """Destroy every environment not destroyed yet (after a failure too)."""
    rest = [suffix for suffix in fleet.runs if suffix not in fleet.destroyed]
    fleet.destroyed.update(rest)
    if rest:
        fleet.each(rest, DESTROY)


def network_intact(fleet: Fleet, run: Run) -> None:
    """The platform network is exactly as created: no subnet, route, gateway or security
    group added, changed or removed by the environments that lived in it."""
    if fleet.network is None:
        return
    after = fingerprint(run.client("ec2"), fleet.network)
    if after != fleet.network_before:
        changed = sorted(key for key, value in after.items()
                         if value != fleet.network_before.get(key))
        raise PhaseFailed(f"network-intact: the platform network changed: {changed}\n"
                          f"before: {json.dumps(fleet.network_before, default=str)}\n"
                          f"after:  {json.dumps(after, default=str)}")


def network_removed(fleet: Fleet, run: Run) -> None:
    """The scenario removes the platform network; only the default VPC is left."""
    ec2 = run.client("ec2")
    if fleet.network is not None:
        remove_network(ec2, fleet.network)
    left = [vpc["VpcId"] for vpc in ec2.describe_vpcs()["Vpcs"] if not vpc["IsDefault"]]
    if left:
        raise PhaseFailed(f"network-removed: VPCs left besides the default one: {left}")
    keys = [o["Key"] for o in run.client("s3", GLOBAL_REGION).list_objects_v2(
        Bucket=STATE_BUCKET).get("Contents", [])]
    run.report.notes.append(f"state bucket after the fleet: {keys or 'empty'}")


def own_leftovers(run: Run) -> None:
    """Nothing of the environment is left but the final snapshots its profile keeps."""
    leftovers(run, SNAPSHOTS[run.suffix])


DESTROY = (Phase("destroy", destroy), Phase("leftovers", own_leftovers))
USE = (Phase("deploy", deploy), Phase("outputs", outputs), Phase("integration", integration))


def fleet_phases(fleet: Fleet) -> tuple[Phase, ...]:
    """The scenario, as the coordinator's named phases (cleanup phases run after a failure)."""
    def on(action: Callable[[Fleet, Run], None]) -> Callable[[Run], None]:
        return functools.partial(action, fleet)

    return (
        Phase("emulator", on(start)),
        Phase("network", on(build_network)),
        Phase("deploy", lambda _: fleet.each(list(fleet.runs), USE)),
        Phase("quota", quota),
        Phase("destroy-one", on(destroy_first)),
        Phase("others-intact", on(others_intact)),
        Phase("destroy-all", on(destroy_rest), cleanup=True),
        Phase("network-intact", on(network_intact), cleanup=True),
        Phase("network-removed", on(network_removed), cleanup=True),
    )


def _fresh_run(suffix: str, life: str, guard: str) -> Run:
    run = Run(Report(suffix=suffix, life=life, network_guard=guard))
    if run.workdir.exists():
        shutil.rmtree(run.workdir)
    run.workdir.mkdir(parents=True)
    return run


def fleet_run(concurrent: bool, guard: str) -> list[Report]:
    """The whole scenario; returns the coordinator's report, then each environment's."""
    coordinator = _fresh_run(FLEET, "fleet" if concurrent else "fleet (sequential)", guard)
    runs = {suffix: _fresh_run(suffix, life_of(suffix), guard) for suffix in SNAPSHOTS}
    for suffix, run in runs.items():
        run.neighbours = tuple(other for other in runs if other != suffix)
    fleet = Fleet(runs=runs, concurrent=concurrent)
    started = time.monotonic()
    try:
        run_phases(coordinator, fleet_phases(fleet))
    finally:
        if coordinator.emulator is not None:
            coordinator.emulator.stop()
        coordinator.report.notes.append(
            f"wall time {round(time.monotonic() - started, 1)} s "
            f"({'concurrent' if concurrent else 'sequential'})")
        reports = [coordinator.report, *(run.report for run in runs.values())]
        for run, report in zip([coordinator, *runs.values()], reports):
            (run.workdir / "report.json").write_text(
                json.dumps(asdict(report), indent=2) + "\n", encoding="utf-8")
    return reports


def main(argv: list[str] | None = None) -> int:
    """Run the scenario; exit 1 when anything failed, 2 when the toolchain is not set up."""
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--sequential", action="store_true",
                        help="the environments of each phase one after another")
    args = parser.parse_args(argv)
    code = isolate(argv, "tests.e2e.fleet", "e2e-fleet")
    if code is not None:
        return code
    reports = fleet_run(not args.sequential, network_guard())
    print(render_summary(reports), flush=True)
    return 1 if any(report.failures for report in reports) else 0


if __name__ == "__main__":
    sys.exit(main())
