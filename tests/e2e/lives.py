"""The lives an environment leads, one per profile, as short lists of named phases.

A ``Life`` is a tuple of ``Phase(name, action)``; ``live(suffix, ...)`` runs the life of
the suffix's profile (the stack's own rule, ``lib.config.profile_name_for``), or the life
named with it (``dev:changes``), on a fresh emulator, times each phase and writes
build/e2e/<suffix>[-<life>]/report.json. After a failure
the life skips to its next cleanup phases (destroy and the checks after it), runs them
so that one run shows what the failure left behind, and ends there.

Every life runs the reference application (app/app.toml) on the emulator's runtime: its
tasks serve against real PostgreSQL and Redis stand-ins (tests/e2e/application.py).

- standard (e.g. ``dev``, what ``make test`` runs): a first deploy that meets a quota
  fault, the deploy the release gate stops for a secret without a value, ``make
  secret-set``, the retry, a whole working life (outputs, the application serving and its
  feature, service writes, integration), the application's own life (credentials rotated
  under it, a one-off task, the scheduled job, a new secret value, a release that fails and
  the revision that follows), lock, an empty replan, destroy with data in the buckets; the
  destroy keeps one final snapshot and its data key.
- changes (``dev:changes``, ``make e2e-changes``; a standard environment's second life, run
  by .ci/run after ``make test``): deployed as the standard life leaves it (the image by
  digest, the site's own name), the origin's protocol changed both ways with the site
  answering throughout (tests/e2e/origin.py), the plans of setting changes (tests/e2e/changes.py), the
  HCL of ``make hcl`` planned empty against the same state (tests/e2e/hcl.py), a refactor
  that moves a stateful resource (tests/e2e/moves.py), destroy (keeping the final snapshot
  and its data key), a new environment restored from that snapshot serving the data written
  before (tests/e2e/restore.py), an interrupted redeploy, the redeploy that converges (its
  new secret seeded), destroy again.
- ephemeral (``pr<n>``): deploy, use, destroy without a trace, twice; with the viewer's own
  domain (tests/e2e/viewer_zone.py): the certificate, its validation and the alias records.
- production (``prod``): deploy, use, an accidental destroy that prevent_destroy
  refuses, the deliberate teardown (ALLOW_DESTROY=true), destroy, twice.
"""
from __future__ import annotations

import functools
import shutil
import time
import traceback
from dataclasses import dataclass
from typing import Callable

from lib.config import EPHEMERAL, PRODUCTION, STANDARD, profile_name_for
from tests.e2e.application import (deploy_by_digest, feature, job, one_off, release_fails,
                                   release_gate, revision, rotation, secret_rotation, secret_set,
                                   serving, standins)
from tests.e2e.changes import changes
from tests.e2e.harness import PhaseFailed, Report, Run, finish
from tests.e2e.hcl import hcl
from tests.e2e.mishaps import (accidental_destroy, deploy_fault, deploy_retry, redeploy,
                               redeploy_interrupted, teardown)
from tests.e2e.moves import refactor
from tests.e2e.origin import origin_http, origin_https, viewer_domain
from tests.e2e.phases import (deploy, destroy, emulator, integration, leftovers, lock,
                              outputs, replan, synth)
from tests.e2e.restore import restore
from tests.e2e.service_writes import service_writes
from tests.e2e.viewer_zone import zone, zone_removed


@dataclass(frozen=True)
class Phase:
    """One named step; ``cleanup`` phases also run after an earlier phase failed."""

    name: str
    action: Callable[[Run], None]
    cleanup: bool = False


def _cleanup(name: str, action: Callable[[Run], None]) -> Phase:
    return Phase(name, action, cleanup=True)


def _leftovers(snapshots: int) -> Phase:
    return _cleanup("leftovers", functools.partial(leftovers, snapshots=snapshots))


_START = (Phase("emulator", emulator),
          # as a CI deploy does: APP_SIGNING_KEY's first value from TAP_SECRET_APP_SIGNING_KEY
          Phase("standins", functools.partial(standins, seed=True)), Phase("synth", synth))
_USE = (Phase("outputs", outputs), Phase("serving", serving), Phase("feature", feature),
        Phase("service-writes", service_writes), Phase("integration", integration))
_APP = (Phase("rotation", rotation), Phase("one-off", one_off), Phase("job", job),
        Phase("secret-rotation", secret_rotation), Phase("release-fails", release_fails),
        Phase("revision", revision))
_DESTROY = _cleanup("destroy", destroy)
CHANGES = "changes"  # a life by name only: ``dev:changes``
_TEARDOWN = _cleanup("teardown", teardown)

LIVES: dict[str, tuple[Phase, ...]] = {
    STANDARD: (
        Phase("emulator", emulator), Phase("standins", standins),
        Phase("viewer-domain", viewer_domain), Phase("synth", synth),
        Phase("deploy-fault", deploy_fault), Phase("release-gate", release_gate),
        Phase("secret-set", secret_set), Phase("deploy-retry", deploy_retry), *_USE, *_APP,
        Phase("lock", lock), Phase("replan", replan), _DESTROY, _leftovers(1),
    ),
    CHANGES: (
        *_START[:2], Phase("viewer-domain", viewer_domain), Phase("synth", synth),
        Phase("deploy", deploy_by_digest), Phase("outputs", outputs), Phase("serving", serving),
        Phase("feature", feature), Phase("replan", replan), Phase("origin-https", origin_https),
        Phase("origin-http", origin_http), Phase("changes", changes), Phase("hcl", hcl),
        Phase("refactor", refactor), _DESTROY, _leftovers(1), Phase("restore", restore),
        Phase("redeploy-interrupted", redeploy_interrupted), Phase("redeploy", redeploy),
        Phase("serving", serving), Phase("replan", replan), _DESTROY, _leftovers(2),
    ),
    EPHEMERAL: (  # with the viewer's own domain: HOSTED_ZONE_ID and DOMAIN_NAMES
        *_START[:2], Phase("zone", zone), Phase("synth", synth), Phase("deploy", deploy),
        *_USE, Phase("replan", replan),
        _DESTROY, _leftovers(0), Phase("redeploy", redeploy), Phase("replan", replan),
        _DESTROY, _leftovers(0), _cleanup("zone-removed", zone_removed),
    ),
    PRODUCTION: (
        *_START, Phase("deploy", deploy), *_USE, Phase("replan", replan),
        Phase("accidental-destroy", accidental_destroy), _TEARDOWN, _DESTROY, _leftovers(1),
        Phase("redeploy", redeploy), _TEARDOWN, _DESTROY, _leftovers(2),
    ),
}


def life_of(suffix: str) -> str:
    """The name of the life (the profile) an environment suffix leads."""
    return profile_name_for(suffix)


def live(suffix: str, guard: str, life: str | None = None, address_offset: int = 0) -> Report:
    """Run the life of ``suffix``'s profile (or ``life``); the emulator is stopped at the
    end. ``address_offset``: where its runtime's loopback pools start (lives side by side)."""
    report = Report(suffix=suffix, life=life or life_of(suffix), network_guard=guard)
    run = Run(report)
    run.address_offset = address_offset
    if life is not None:
        run.workdir = run.workdir.with_name(f"{suffix}-{life}")
        run.outputs_file = run.workdir / "flat-outputs.json"
        run.deploy_outputs_file = run.workdir / "deploy-outputs.json"
    if run.workdir.exists():
        shutil.rmtree(run.workdir)
    run.workdir.mkdir(parents=True)
    try:
        run_phases(run, LIVES[report.life])
    finally:
        finish(run)
    return report


def run_phases(run: Run, phases: tuple[Phase, ...]) -> None:
    """Every phase in turn; after a failure, only the next cleanup phases run."""
    failed = cleaning = False
    for index, phase in enumerate(phases):
        if failed and not phase.cleanup:
            if cleaning or run.emulator is None:
                run.report.skipped.extend(p.name for p in phases[index:])
                return
            run.report.skipped.append(phase.name)
            continue
        cleaning = failed
        if not step(run, phase):
            failed = True
            cleaning = cleaning or phase.cleanup


def step(run: Run, phase: Phase) -> bool:
    """Run one phase, timed; a failure is recorded (and printed), not raised."""
    print(f"[{run.suffix}] {phase.name} ...", flush=True)
    run.phase = phase.name
    run.log_stem = f"{len(run.report.phases) + 1:02d}-{phase.name}"
    start = time.monotonic()
    try:
        phase.action(run)
        return True
    except Exception as failure:  # pylint: disable=broad-exception-caught
        # PhaseFailed says what went wrong; anything else is a bug worth its traceback.
        message = str(failure) if isinstance(failure, PhaseFailed) else \
            f"{phase.name}: {traceback.format_exc()}"
        run.report.failures.append(message)
        print(f"[{run.suffix}] FAILED {message}", flush=True)
        return False
    finally:
        seconds = round(time.monotonic() - start, 1)
        run.report.phases.append((phase.name, seconds))
        print(f"[{run.suffix}] {phase.name}: {seconds}s", flush=True)
