"""``make up`` / ``make down``: the dev environment on the emulator, left running for a person.

``python -m tests.e2e.up up``:
  the emulator (``python -m emulator --runtime-dir``) started in the background on a free
  127.0.0.1 port, where it stays (its process id and endpoint in build/up/state.json, its log
  in build/up/emulator.log); the state bucket; the stand-ins' check and the reference
  application's image; ``dev`` synthesized with app/app.toml and deployed by ``make deploy``'s
  tool (its secret's first value from TAP_SECRET_APP_SIGNING_KEY, a random one); its tasks
  healthy and ready; then it prints where to look: the outputs file, the endpoint to point the
  AWS CLI, boto3 or ``make deploy`` at, and the application's URLs.
``python -m tests.e2e.up down``:
  ``make destroy``'s tool on the same state, then the emulator stopped (every process it ran
  with it) and its runtime directory removed.

Each prints one line per step and exits 0, or 1 with what failed (``up`` leaves the emulator
running after a failed deploy, so that ``make down`` can clean up, and says so).
"""
from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
import urllib.parse
from pathlib import Path
from typing import Any

from emulator.runtime.viewer import resolve
from emulator.server import ROOT, URL
from tests.e2e.application import SECRET, feature, manifest_settings, serving
from tests.e2e.harness import BUILD, GLOBAL_REGION, STATE_BUCKET, PhaseFailed, Report, Run
from tests.e2e.phases import outputs, synth
from tests.e2e.runtime import preflight, register_image, runtime_dir, service_tasks

SUFFIX = "dev"
WORKDIR = BUILD.parent / "up"
STATE = WORKDIR / "state.json"
START_SECONDS = 60


class Started:  # pylint: disable=too-few-public-methods
    """The running emulator as ``Run`` sees it: its endpoint."""

    def __init__(self, url: str) -> None:
        self.url = url


def new_run() -> Run:
    """The dev environment's run, in build/up/."""
    run = Run(Report(suffix=SUFFIX, life="up", network_guard="none (for a person)"))
    run.workdir = WORKDIR
    run.outputs_file = WORKDIR / "flat-outputs.json"
    run.deploy_outputs_file = WORKDIR / "deploy-outputs.json"
    return run


def start_emulator(run: Run) -> dict[str, Any]:
    """Start the emulator detached from this process; its pid and URL."""
    state = runtime_dir(run)
    shutil.rmtree(state, ignore_errors=True)
    log = WORKDIR / "emulator.log"
    announced = WORKDIR / "emulator.url"
    announced.unlink(missing_ok=True)
    with open(log, "w", encoding="utf-8") as err, open(announced, "w", encoding="utf-8") as out:
        process = subprocess.Popen(  # pylint: disable=consider-using-with
            [sys.executable, "-m", "emulator", "--runtime-dir", str(state)], cwd=ROOT,
            env=dict(os.environ, PYTHONUNBUFFERED="1"), stdin=subprocess.DEVNULL, stdout=out,
            stderr=err, start_new_session=True)
    deadline = time.monotonic() + START_SECONDS
    while not URL.fullmatch(first_line(announced)):
        if process.poll() is not None or time.monotonic() > deadline:
            raise PhaseFailed(f"up: the emulator did not start (see {log})")
        time.sleep(0.2)
    return {"pid": process.pid, "url": first_line(announced)}


def first_line(announced: Path) -> str:
    """The endpoint the emulator prints first (its usage follows it)."""
    lines = announced.read_text(encoding="utf-8").splitlines()
    return lines[0].strip() if lines else ""


def up() -> int:
    """Deploy dev to a new emulator left running; print where to look."""
    if STATE.exists():
        print(f"up: already up ({json.loads(STATE.read_text(encoding='utf-8'))['url']}); "
              "`make down` first", file=sys.stderr)
        return 1
    WORKDIR.mkdir(parents=True, exist_ok=True)
    run = new_run()
    started = start_emulator(run)
    STATE.write_text(json.dumps(started) + "\n", encoding="utf-8")
    run.emulator = Started(started["url"])  # type: ignore[assignment]
    print(f"up: emulator at {started['url']} (pid {started['pid']})", flush=True)
    try:
        run.client("s3", GLOBAL_REGION).create_bucket(Bucket=STATE_BUCKET)
        for name, step in (("stand-ins", preflight), ("image", register_image)):
            run.phase = name
            step(run)
            print(f"up: {name} ready", flush=True)
        manifest_settings(run)
        run.settings_env[f"TAP_SECRET_{SECRET}"] = secrets.token_urlsafe(32)
        run.phase, run.log_stem = "deploy", "deploy"
        synth(run)
        run.apply()
        print("up: deployed", flush=True)
        for name, step in (("outputs", outputs), ("serving", serving), ("feature", feature)):
            run.phase, run.log_stem = name, name
            step(run)
    except PhaseFailed as failure:
        print(f"up: FAILED {failure}\n(the emulator keeps running: `make down` cleans up; "
              f"logs in {WORKDIR})", file=sys.stderr)
        return 1
    print(summary(run, started["url"]))
    return 0


def summary(run: Run, url: str) -> str:
    """Where to look, once dev is up."""
    values = json.loads(run.outputs_file.read_text(encoding="utf-8"))[run.stack]
    tasks = service_tasks(run, values["ecs_service_name"])
    lines = ["", f"dev is up on the emulator ({len(tasks)} tasks of the reference application):",
             f"  outputs       {run.outputs_file}",
             f"  endpoint      export AWS_ENDPOINT_URL={url} AWS_ACCESS_KEY_ID=testing "
             "AWS_SECRET_ACCESS_KEY=testing AWS_REGION=us-east-1",
             *(f"  application   http://{task['address']}:8000/  (/readyz, /api/messages; "
               f"task {task['id']})" for task in tasks),
             *viewer(values["viewer_url"], runtime_dir(run)),
             "  stop it       make down"]
    return "\n".join(lines)


def viewer(url: str, runtime: Path) -> list[str]:
    """How to reach the distribution the emulator serves (emulator/runtime/edge.py) at its
    name: its loopback address in the runtime's hosts file, its certificate from the CA."""
    host = urllib.parse.urlsplit(url).hostname or ""
    address = resolve(runtime / "hosts", host) if (runtime / "hosts").exists() else None
    if address is None:
        return [f"  viewer URL    {url} (not served by this emulator)"]
    return [f"  viewer URL    {url} (CloudFront, WAF and the load balancer, emulated at {address})",
            f"                curl --resolve {host}:443:{address} "
            f"--cacert {runtime / 'tls' / 'ca.pem'} {url.rstrip('/')}/readyz"]


def down() -> int:
    """Destroy dev, stop the emulator, remove its runtime state."""
    if not STATE.exists():
        print("down: nothing is up", file=sys.stderr)
        return 0
    started = json.loads(STATE.read_text(encoding="utf-8"))
    run = new_run()
    run.emulator = Started(started["url"])  # type: ignore[assignment]
    code = 0
    if (run.stack_dir / "cdk.tf.json").exists():
        run.phase, run.log_stem = "destroy", "destroy"
        code, _ = run.apply(destroy=True, check=False)
        print("down: destroyed" if code == 0 else
              f"down: the destroy exited {code} (see {run.log_path('destroy')})", flush=True)
    try:
        os.killpg(started["pid"], signal.SIGTERM)
    except ProcessLookupError:
        pass
    deadline = time.monotonic() + START_SECONDS
    while _alive(started["pid"]) and time.monotonic() < deadline:
        time.sleep(0.2)
    shutil.rmtree(runtime_dir(run), ignore_errors=True)
    STATE.unlink()
    print(f"down: emulator stopped (pid {started['pid']})")
    return 1 if code else 0


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def main(argv: list[str] | None = None) -> int:
    """``up`` or ``down``."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("command", choices=("up", "down"))
    args = parser.parse_args(argv)
    return up() if args.command == "up" else down()


if __name__ == "__main__":
    sys.exit(main())
