"""A destroyed environment's data, back: a new environment created from its final snapshot.

  restore   after a destroy that kept the environment's final snapshot and, with it, the data
            key that snapshot is encrypted with (``RetainOnDestroy``, lib/kms.py): a new
            standard environment, ``<suffix>restored``, on the same emulator, deployed with
            ``DB_SNAPSHOT_IDENTIFIER`` set to that snapshot. Its cluster is restored from the
            snapshot (the emulator refuses a restore whose key is disabled or pending deletion,
            as AWS does: tests/emulator/test_moto_rds_restore.py) with IAM authentication
            off, as the provider leaves it (tools/restored_cluster.py turns it on in the same
            apply), its release finds the schema migrated, its application serves the
            message the first environment wrote before it was destroyed, and its second plan
            is empty. Then it is destroyed in turn, keeping its own final
            snapshot and key, and nothing else.

Its commands log under build/e2e/<life>/<suffix>restored/.
"""
from __future__ import annotations

import secrets

from tests.e2e.application import PORT, SECRET, healthy_tasks, serving
from tests.e2e.harness import PhaseFailed, Report, Run
from tests.e2e.phases import deploy, destroy, leftovers, outputs, replan
from tests.e2e.runtime import http

SNAPSHOT_LINE = " db cluster snapshot "


def restore(run: Run) -> None:
    """Deploy a new environment from the final snapshot ``run``'s destroy kept; it serves the
    data written before; destroy it."""
    snapshots = [line.split(SNAPSHOT_LINE, 1)[1] for line in run.report.retained
                 if SNAPSHOT_LINE in line]
    written = run.report.app.get("feature")
    if len(snapshots) != 1 or not written:
        raise PhaseFailed(f"restore: needs one final snapshot ({snapshots}) and a message "
                          f"written before the destroy ({written})")
    restored = _sibling(run, snapshots[0])
    deployed = False
    try:
        for step in (deploy, outputs, serving, replan):
            restored.phase = f"restore/{step.__name__}"
            deployed = deployed or step is outputs
            step(restored)
        task = healthy_tasks(restored)[0]
        status, _, body = http(task["address"], PORT, f"/api/messages/{written['message']}")
        text = (body or {}).get("message", {}).get("text")
        if status != 200 or text != written["text"]:
            raise PhaseFailed(f"restore: message {written['message']} on the restored "
                              f"environment: {status} {body}; expected {written['text']!r}")
    finally:
        if deployed:
            restored.phase = "restore/destroy"
            destroy(restored)
            leftovers(restored, snapshots=1)
    run.report.app["restore"] = {"snapshot": snapshots[0], "environment": restored.suffix,
                                 "message_back": written["message"],
                                 "retained_after": restored.report.retained}


def _sibling(run: Run, snapshot: str) -> Run:
    """A new environment on ``run``'s emulator, from ``snapshot``, with the same application."""
    sibling = Run(Report(suffix=f"{run.suffix}restored", life="restore",
                         network_guard=run.report.network_guard))
    sibling.workdir = run.workdir / sibling.suffix
    sibling.workdir.mkdir(parents=True, exist_ok=True)
    sibling.outputs_file = sibling.workdir / "flat-outputs.json"
    sibling.deploy_outputs_file = sibling.workdir / "deploy-outputs.json"
    sibling.emulator = run.emulator
    sibling.neighbours = (run.suffix,)
    sibling.log_stem = "restore"
    sibling.settings_env = {
        **{name: run.settings_env[name] for name in ("APP_MANIFEST", "CONTAINER_IMAGE")
           if name in run.settings_env},
        f"TAP_SECRET_{SECRET}": secrets.token_urlsafe(32),
        "DB_SNAPSHOT_IDENTIFIER": snapshot}
    return sibling
