"""Concurrent environments on one emulator: a fleet in one account and region, most of it on
the shared pieces, every environment running the reference application.

``python -m tests.e2e.fleet [--sequential]`` (``make e2e-fleet``) starts ONE emulator with its
runtime (what is deployed runs: tests/e2e/runtime.py) and the VPC quota at 3 (the default VPC,
the platform team's network, and one more), builds the network a platform team would hand out
(tests/e2e/platform_network.py), deploys the shared stack into it (tests/e2e/shared_pieces.py)
and leads four environments through it, each with its own workdir build/e2e/<suffix>/ (logs,
outputs file, cdktf output), its own state key in the shared state bucket, and the harness's
phases (tests/e2e/phases.py, tests/e2e/application.py):

  emulator        the one emulator (runtime, TAP_EMULATOR_VPC_QUOTA=3) and the state bucket
  network         the platform network (VPC, internet gateway, NAT, three tiers over three
                  AZs, routes), created with boto3
  standins        the stand-ins' check and the application's image, once for everyone; each
                  environment deploys app/app.toml, its secret's first value seeded
  shared          the shared stack TapSharedfleet (SHARED_PLATFORM=fleet) in the platform
                  network, deployed through its own state; its five outputs are the
                  SHARED_*_ARN values the pull-request environments are given
  deploy          at once: pr101, pr102 (TASK_SUBNETS=public) and pr103 on the shared pieces,
                  and qa (standard, its own VPC); each: deploy, outputs, serving (its tasks
                  healthy, /readyz with the database and cache), feature, integration (whose
                  readiness test asks /readyz through the distribution); then each shared-mode
                  environment's place in the pieces is looked up on its own: its database and
                  roles, its cache user in the group, its rule and target group on the listener
  edge            every environment's /readyz ready through its own distribution (on the
                  shared pieces: the shared listener's rule at its number); a message written
                  through pr102's site is listed there, not through pr103's
  quota           the region holds 3 VPCs: qa's was the last that fits; one more is refused
                  with VpcLimitExceeded (the shared stack and the environments on it took none)
  isolation       pr102 cannot reach pr103's data (tests/e2e/isolation.py): its cache user is
                  refused pr103's keys (NOPERM), its database role pr103's database
  destroy-one     the nightly janitor (tools/janitor.py --apply) with the pull requests of pr102
                  and pr103 open: it destroys pr101 through its own state and keeps the others
                  and the shared stack; then pr101's leftovers, and its place in the pieces gone
  others-intact   pr102, pr103, qa: state objects byte for byte as before, empty replan,
                  serving and feature again; the shared stack's state unchanged, its replan empty
  destroy-all     the others (and any not yet destroyed after a failure): destroy, leftovers (qa
                  keeps its final snapshot and its key), their places in the pieces gone
  shared-destroy  the shared stack destroyed through its own state, nothing of it left
  network-intact  the platform network exactly as it was created
  network-removed the scenario removes it; only the default VPC is left

``--sequential`` runs the environments of each phase one after another, to compare the wall
time with the concurrent run. Each phase's seconds (and each environment's own phases) and
what each check found are in the summary and in build/e2e/fleet/report.json.
"""
from __future__ import annotations

import argparse
import functools
import json
import os
import secrets
import shlex
import shutil
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Callable

from botocore.exceptions import ClientError

from emulator.moto_ext.ec2_vpc_quota import QUOTA_VARIABLE
from tests.e2e.application import SECRET, feature, manifest_settings, serving, standins
from tests.e2e.harness import BUILD, GLOBAL_REGION, STATE_BUCKET, PhaseFailed, Report, \
    Run, apply_command, finish
from tests.e2e.isolation import edge, isolation
from tests.e2e.lives import Phase, life_of, run_phases, step
from tests.e2e.phases import deploy, destroy, emulator, integration, leftovers, outputs, \
    replan
from tests.e2e.platform_network import Network, create_network, fingerprint, remove_network
from tests.e2e.run import isolate, network_guard, render_summary
from tests.e2e.shared_pieces import (SHARED_ENVIRONMENT, SHARED_SUFFIX, Pieces, SharedRun,
                                     check_place, shared_deploy, shared_destroy)

FLEET = "fleet"  # the coordinator's name: build/e2e/fleet/
VPC_QUOTA = 3  # the default VPC, the platform network, qa's own VPC
SNAPSHOTS = {"pr101": 0, "pr102": 0, "pr103": 0, "qa": 1}  # final DB snapshots destroy keeps
SHARED_MODE = {"pr101": "private", "pr102": "public", "pr103": "private"}  # -> TASK_SUBNETS
DESTROYED_FIRST = "pr101"
ISOLATION = ("pr102", "pr103")  # (reader, owner): the reader may not reach the owner's data
# How the janitor destroys an environment here: make destroy's tool on its own state,
# through the stack the e2e synthesized in its workdir (make destroy would synthesize into
# cdktf.out at the root).
JANITOR_DESTROY = shlex.join(apply_command(
    f"{BUILD}/{{suffix}}/cdktf.out/stacks/TapStack{{suffix}}", "--destroy"))


@dataclass
class Fleet:  # pylint: disable=too-many-instance-attributes
    """The coordinator's state: the environments' runs, the shared stack's, and what the
    phases share."""

    runs: dict[str, Run]
    shared: SharedRun | None = None
    concurrent: bool = True
    network: Network | None = None
    network_before: dict[str, Any] = field(default_factory=dict)
    pieces: dict[str, str] = field(default_factory=dict)  # the five SHARED_* settings
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

    def on_pieces(self, suffixes: list[str] | None = None) -> list[str]:
        """The environments (of ``suffixes``, default all) in the shared mode."""
        return [suffix for suffix in suffixes or list(self.runs) if suffix in SHARED_MODE]


def environment_settings(suffix: str, network: Network | None,
                         pieces: dict[str, str] | None = None) -> dict[str, str]:
    """The configuration of one environment of the fleet: for the shared-mode ones the given
    network's ids, TASK_SUBNETS and (once the shared stack is up) the five SHARED_* values;
    nothing for the others."""
    if suffix not in SHARED_MODE:
        return {}
    assert network is not None, "the platform network is not there"
    return {**network.settings(), "TASK_SUBNETS": SHARED_MODE[suffix], **(pieces or {})}


def _plugin_cache(run: Run) -> None:
    # Concurrent terraform inits must not share one plugin cache (Terraform does not make
    # that safe): each stack gets its own.
    cache = run.workdir / "plugin-cache"
    cache.mkdir(parents=True, exist_ok=True)
    run.settings_env["TF_PLUGIN_CACHE_DIR"] = str(cache)


# -- the fleet's phases (each takes the coordinator's run) -----------------------------

def start(fleet: Fleet, run: Run) -> None:
    """The one emulator, with its runtime and the fleet's VPC quota; everyone uses it."""
    previous = os.environ.get(QUOTA_VARIABLE)
    os.environ[QUOTA_VARIABLE] = str(VPC_QUOTA)  # the emulator's environment, at its start
    try:
        emulator(run)
    finally:
        if previous is None:
            del os.environ[QUOTA_VARIABLE]
        else:
            os.environ[QUOTA_VARIABLE] = previous
    for other in [*fleet.runs.values(), *([fleet.shared] if fleet.shared else [])]:
        other.emulator = run.emulator
        other.report.extensions = run.report.extensions
    run.report.notes.append(f"one emulator at {run.url} with its runtime, "
                            f"{QUOTA_VARIABLE}={VPC_QUOTA}")


def build_network(fleet: Fleet, run: Run) -> None:
    """The platform team's network, and what it looks like (for network-intact)."""
    ec2 = run.client("ec2")
    fleet.network = create_network(ec2)
    fleet.network_before = fingerprint(ec2, fleet.network)
    for suffix, env in fleet.runs.items():
        env.settings_env.update(environment_settings(suffix, fleet.network))
        _plugin_cache(env)
    if fleet.shared is not None:
        fleet.shared.settings_env.update(fleet.network.settings())
        _plugin_cache(fleet.shared)
    run.report.notes.append(f"platform network {fleet.network.vpc_id}: "
                            f"{len(fleet.network.zones)} AZs, "
                            + ", ".join(f"{tier} {len(ids)}" for tier, ids in
                                        fleet.network.subnets.items()))


def prepare_application(fleet: Fleet, run: Run) -> None:
    """The stand-ins' check and the application's image, once; every environment deploys
    the manifest, its secret's first value from TAP_SECRET_APP_SIGNING_KEY."""
    standins(run)
    found, run.report.app = run.report.app, {}  # the environments' reports say what they run
    for env in fleet.runs.values():
        env.report.app["image"] = found["image"]
        manifest_settings(env)
        env.settings_env[f"TAP_SECRET_{SECRET}"] = secrets.token_urlsafe(32)
    run.report.notes.append(f"the application's image {found['image']['reference']} "
                            f"({found['image']['digest']}), registered once; stand-ins "
                            + ", ".join(f"{kind} {version}"
                                        for kind, version in found["standins"].items()))


def on_shared(fleet: Fleet, name: str, action: Callable[[SharedRun], None]) -> None:
    """One phase of the shared stack, timed and reported in its own report."""
    assert fleet.shared is not None
    if not step(fleet.shared, Phase(name, action)):
        raise PhaseFailed(fleet.shared.report.failures[-1])


def deploy_shared(fleet: Fleet, run: Run) -> None:
    """The shared stack, deployed into the platform network through its own state; the
    shared-mode environments are given its five outputs."""
    assert fleet.shared is not None and fleet.network is not None
    on_shared(fleet, "deploy", lambda shared: fleet.pieces.update(shared_deploy(shared)))
    for suffix in fleet.on_pieces():
        fleet.runs[suffix].settings_env.update(fleet.pieces)
    run.report.notes.append(f"shared stack {fleet.shared.stack}: {fleet.shared.report.resources}"
                            f" resources; " + ", ".join(f"{name}={value.rsplit(':', 1)[-1]}"
                                                        for name, value in fleet.pieces.items()))


def deploy_all(fleet: Fleet, run: Run) -> None:
    """Every environment deployed and used at once; the shared-mode ones in their place."""
    fleet.each(list(fleet.runs), USE)
    pieces = Pieces.of(fleet.pieces)
    for suffix in fleet.on_pieces():
        found = check_place(run, pieces, fleet.runs[suffix], present=True)
        run.report.notes.append(
            f"{suffix} in the pieces: database {found['database'][0]}, roles "
            f"{', '.join(found['roles'])}, cache user {found['cache user']} in the group, "
            f"listener rule {found['listener rule']} (priority {suffix.removeprefix('pr')}), "
            f"target group {found['target group']}")


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
        f"quota: {VPC_QUOTA} VPCs (default, platform, qa's own) fill the quota; the shared "
        f"stack and {', '.join(SHARED_MODE)} on it took none; the next CreateVpc and "
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


def check_edge(fleet: Fleet, run: Run) -> None:
    """Each environment's site reaches its own environment through the shared listener."""
    writer, other = (fleet.runs[suffix] for suffix in ISOLATION)
    edge(run, [fleet.runs[suffix] for suffix in fleet.runs], writer, other)


def check_isolation(fleet: Fleet, run: Run) -> None:
    """ISOLATION's reader cannot reach its owner's cache keys or database."""
    reader, owner = (fleet.runs[suffix] for suffix in ISOLATION)
    isolation(run, Pieces.of(fleet.pieces), reader, owner)


def destroy_first(fleet: Fleet, run: Run) -> None:
    """Destroy one environment; the others' state objects (and the shared stack's) are kept
    to compare; its place in the pieces is gone, the others' are there."""
    others = [suffix for suffix in fleet.runs if suffix != DESTROYED_FIRST]
    fleet.states_before = {suffix: fleet.runs[suffix].state_bytes() for suffix in others}
    if fleet.shared is not None:
        fleet.states_before[SHARED_SUFFIX] = fleet.shared.state_bytes()
    fleet.destroyed.add(DESTROYED_FIRST)
    fleet.each([DESTROYED_FIRST], (Phase("janitor", janitor), Phase("leftovers", own_leftovers)))
    pieces = Pieces.of(fleet.pieces)
    check_place(run, pieces, fleet.runs[DESTROYED_FIRST], present=False)
    for suffix in fleet.on_pieces(others):
        check_place(run, pieces, fleet.runs[suffix], present=True)
    run.report.notes.append(
        f"the janitor destroyed {DESTROYED_FIRST} while {', '.join(others)} lived: its database "
        "and roles are gone from the shared cluster, its cache user from the cache and its "
        "user group, its rule and target group from the shared listener; "
        f"{', '.join(fleet.on_pieces(others))} keep theirs")


def janitor(run: Run) -> None:
    """``tools/janitor.py --apply`` with the open pull requests of the other ephemeral
    environments: it must destroy this one (no open pull request) through its own state,
    with one command, and keep every other environment and the shared stack."""
    neighbours = [suffix for suffix in run.neighbours if suffix != SHARED_SUFFIX]
    open_prs = [suffix.removeprefix("pr") for suffix in neighbours if suffix.startswith("pr")]
    _, text = run.sh("destroy", [sys.executable, "-m", "tools.janitor", "--open-prs",
                                 ",".join(open_prs), "--bucket", STATE_BUCKET, "--apply",
                                 "--destroy-command", JANITOR_DESTROY], log="janitor")
    kept = [*neighbours, SHARED_ENVIRONMENT]
    verdicts = {line.split()[0]: line for line in text.splitlines()
                if line.split() and line.split()[0] in (run.suffix, *kept)}
    commands = [line for line in text.splitlines() if line.startswith("$ ")]
    wrong = [suffix for suffix in kept if "keep:" not in verdicts.get(suffix, "")]
    if ("destroy: no open pull request" not in verdicts.get(run.suffix, "") or wrong
            or len(commands) != 1 or f"TapStack{run.suffix} " not in commands[0]):
        raise PhaseFailed(f"janitor: expected to destroy {run.suffix} alone and keep "
                          f"{', '.join(kept)}:\n{text}")
    run.check_state_unlocked()
    run.report.notes.append(f"janitor: destroyed {run.suffix} (no open pull request); kept "
                            + "; ".join(f"{s} ({verdicts[s].split('keep: ', 1)[1]})"
                                        for s in kept))


def others_intact(fleet: Fleet, run: Run) -> None:
    """The environments not destroyed: same state objects, empty replan, serving and
    feature; the shared stack: same state object, empty replan."""
    others = [suffix for suffix in fleet.runs if suffix not in fleet.destroyed]
    states = {suffix: fleet.runs[suffix].state_bytes() for suffix in others}
    if fleet.shared is not None:
        states[SHARED_SUFFIX] = fleet.shared.state_bytes()
    changed = [suffix for suffix, state in states.items()
               if state != fleet.states_before[suffix]]
    if changed:
        raise PhaseFailed(f"others-intact: the state of {', '.join(changed)} changed when "
                          f"{DESTROYED_FIRST} was destroyed")
    if fleet.shared is not None:
        on_shared(fleet, "replan", replan)
    fleet.each(others, (Phase("replan", replan), Phase("serving", serving),
                        Phase("feature", feature)))
    run.report.notes.append(f"after {DESTROYED_FIRST}'s destroy: {', '.join(others)} "
                            "unchanged (state objects, empty replan, serving, feature); the "
                            "shared stack's state unchanged and its replan empty")


def destroy_rest(fleet: Fleet, run: Run) -> None:
    """Destroy every environment not destroyed yet (after a failure too); their places in
    the pieces are gone."""
    # An environment never synthesized (an earlier phase failed) has nothing to destroy.
    rest = [suffix for suffix, env in fleet.runs.items()
            if suffix not in fleet.destroyed and env.synthesized]
    fleet.destroyed.update(rest)
    if rest:
        fleet.each(rest, DESTROY)
    gone = fleet.on_pieces(rest) if fleet.pieces else []
    for suffix in gone:
        check_place(run, Pieces.of(fleet.pieces), fleet.runs[suffix], present=False)
    if rest:
        run.report.notes.append(
            f"destroyed {', '.join(rest)}: nothing left but the final snapshots and keys "
            "their profiles keep"
            + (f"; the places of {', '.join(gone)} in the pieces are gone" if gone else ""))


def destroy_shared(fleet: Fleet, run: Run) -> None:
    """The shared stack, once no environment uses it, through its own state."""
    if fleet.shared is not None and fleet.shared.synthesized:
        on_shared(fleet, "destroy", shared_destroy)
        run.report.notes.append(f"shared stack {fleet.shared.stack} destroyed through its own "
                                f"state ({fleet.shared.state_key}); nothing of it left")


def network_intact(fleet: Fleet, run: Run) -> None:
    """The platform network is exactly as created: no subnet, route, gateway or security
    group added, changed or removed by the stacks that lived in it."""
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
USE = (Phase("deploy", deploy), Phase("outputs", outputs), Phase("serving", serving),
       Phase("feature", feature), Phase("integration", integration))


def fleet_phases(fleet: Fleet) -> tuple[Phase, ...]:
    """The scenario, as the coordinator's named phases (cleanup phases run after a failure)."""
    def on(action: Callable[[Fleet, Run], None]) -> Callable[[Run], None]:
        return functools.partial(action, fleet)

    return (
        Phase("emulator", on(start)),
        Phase("network", on(build_network)),
        Phase("standins", on(prepare_application)),
        Phase("shared", on(deploy_shared)),
        Phase("deploy", on(deploy_all)),
        Phase("edge", on(check_edge)),
        Phase("quota", quota),
        Phase("isolation", on(check_isolation)),
        Phase("destroy-one", on(destroy_first)),
        Phase("others-intact", on(others_intact)),
        Phase("destroy-all", on(destroy_rest), cleanup=True),
        Phase("shared-destroy", on(destroy_shared), cleanup=True),
        Phase("network-intact", on(network_intact), cleanup=True),
        Phase("network-removed", on(network_removed), cleanup=True),
    )


def _fresh(run: Run) -> Run:
    if run.workdir.exists():
        shutil.rmtree(run.workdir)
    run.workdir.mkdir(parents=True)
    return run


def fleet_run(concurrent: bool, guard: str) -> list[Report]:
    """The whole scenario; returns the coordinator's report, the shared stack's, then each
    environment's."""
    def report(suffix: str, life: str) -> Report:
        return Report(suffix=suffix, life=life, network_guard=guard)

    coordinator = _fresh(Run(report(FLEET, "fleet" if concurrent else "fleet (sequential)")))
    shared = _fresh(SharedRun(report(SHARED_SUFFIX, "shared stack")))
    runs = {suffix: _fresh(Run(report(suffix, life_of(suffix) + (
        " on the shared pieces" if suffix in SHARED_MODE else "")))) for suffix in SNAPSHOTS}
    for suffix, run in runs.items():
        # The shared stack's state key (shared/...) is a neighbour's, not the environment's.
        run.neighbours = (*(other for other in runs if other != suffix), SHARED_SUFFIX)
    fleet = Fleet(runs=runs, shared=shared, concurrent=concurrent)
    started = time.monotonic()
    try:
        run_phases(coordinator, fleet_phases(fleet))
    finally:
        coordinator.report.notes.append(
            f"wall time {round(time.monotonic() - started, 1)} s "
            f"({'concurrent' if concurrent else 'sequential'})")
        everyone = [coordinator, shared, *runs.values()]
        for run in everyone:  # the one emulator stops with the first
            finish(run)
    return [run.report for run in everyone]


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
