"""tools/terraform_apply.py: the commands it runs, the outputs file, and interrupts.

``tests/tools/terraform_apply/output.json`` is ``terraform output -json`` of the dev stack
deployed on the emulator (tests/e2e), recorded with Terraform 1.11.4, one output then marked
sensitive by hand. A fake ``terraform`` first on PATH logs its arguments and the SIGINTs it
receives; under ``FAKE_TF_HOLD`` its apply waits for an interrupt, then takes a moment (the
operations in flight) before it exits 1, as Terraform does.
"""
# pylint: disable=redefined-outer-name
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tools import terraform_apply

ROOT = Path(__file__).resolve().parents[2]
RECORDED = Path(__file__).resolve().parent / "terraform_apply" / "output.json"
# `terraform show -json` of a deployed dev (two of its resources, the rest left out).
RETAINED = Path(__file__).resolve().parent / "terraform_apply" / "show-retained.json"
STACK = "TapStackdev"
FAKE = """#!{python}
import os, signal, sys, time
def note(text):
    with open(os.environ["FAKE_TF_LOG"], "a", encoding="utf-8") as log:
        log.write(text + "\\n")
command = sys.argv[1]
note("terraform " + " ".join(sys.argv[1:]))
if command == "output":
    with open(os.environ["FAKE_TF_OUTPUTS"], encoding="utf-8") as recorded:
        sys.stdout.write(recorded.read())
    sys.exit(0)
if command == "show":
    state = os.environ.get("FAKE_TF_STATE")
    if state:
        with open(state, encoding="utf-8") as recorded:
            sys.stdout.write(recorded.read())
    else:
        sys.stdout.write('{{"format_version": "1.0"}}')
    sys.exit(0)
if command == "apply" and os.environ.get("FAKE_TF_HOLD"):
    received = []
    def interrupted(*_):
        received.append(time.monotonic())
        note("SIGINT")
    signal.signal(signal.SIGINT, interrupted)
    note("holding")
    deadline = time.monotonic() + 20
    while not received and time.monotonic() < deadline:
        time.sleep(0.02)
    while time.monotonic() < received[0] + 1.0:
        time.sleep(0.02)
    note("state saved")
    sys.exit(1)
sys.exit(int(os.environ.get("FAKE_TF_EXIT_" + command.upper(), "0")))
"""


@pytest.fixture
def stack_dir(tmp_path: Path) -> Path:
    """A synthesized stack directory (its cdk.tf.json is all the tool looks for)."""
    directory = tmp_path / "cdktf.out" / "stacks" / STACK
    directory.mkdir(parents=True)
    (directory / "cdk.tf.json").write_text("{}", encoding="utf-8")
    return directory


@pytest.fixture
def fake_env(tmp_path: Path) -> dict[str, str]:
    """The environment of a tool run whose ``terraform`` is the fake."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "terraform"
    fake.write_text(FAKE.format(python=sys.executable), encoding="utf-8")
    fake.chmod(0o755)
    return {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
            "FAKE_TF_LOG": str(tmp_path / "terraform.log"), "FAKE_TF_OUTPUTS": str(RECORDED),
            "PYTHONPATH": str(ROOT)}


def calls(env: dict[str, str]) -> list[str]:
    """What the fake terraform logged."""
    path = Path(env["FAKE_TF_LOG"])
    return path.read_text(encoding="utf-8").splitlines() if path.exists() else []


def start(stack_dir: Path, env: dict[str, str], *args: str) -> subprocess.Popen[bytes]:
    """The tool in a session of its own, as a terminal's foreground job."""
    return subprocess.Popen([sys.executable, str(ROOT / "tools" / "terraform_apply.py"),
                             str(stack_dir), *args], env=env, start_new_session=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def wait_for(env: dict[str, str], line: str) -> None:
    """Until the fake logged ``line``."""
    deadline = time.monotonic() + 20
    while line not in calls(env):
        assert time.monotonic() < deadline, f"the fake never logged {line!r}: {calls(env)}"
        time.sleep(0.02)


def test_outputs_document_has_the_shape_cdktf_writes() -> None:
    recorded = json.loads(RECORDED.read_text(encoding="utf-8"))
    sensitive = sorted(name for name, output in recorded.items() if output["sensitive"])
    document = terraform_apply.outputs_document(STACK, recorded)
    assert list(document) == [STACK]
    values = document[STACK]
    assert sorted(values) == sorted(set(recorded) - set(sensitive))
    assert values["environment_suffix"] == "dev"
    assert isinstance(values["private_subnet_ids"], list) and values["private_subnet_ids"]
    assert sensitive and not set(sensitive) & set(values)
    everything = terraform_apply.outputs_document(STACK, recorded, include_sensitive=True)
    assert everything[STACK] == {name: output["value"] for name, output in recorded.items()}


def test_deploy_runs_init_then_apply_then_writes_the_outputs(
        stack_dir: Path, fake_env: dict[str, str], tmp_path: Path) -> None:
    outputs = tmp_path / "cfn-outputs" / "flat-outputs.json"
    process = start(stack_dir, fake_env, "--outputs-file", str(outputs))
    out, err = process.communicate(timeout=60)
    assert process.returncode == 0, err.decode()
    assert calls(fake_env) == ["terraform init -input=false",
                               "terraform apply -auto-approve -input=false",
                               "terraform output -json"]
    recorded = json.loads(RECORDED.read_text(encoding="utf-8"))
    assert json.loads(outputs.read_text(encoding="utf-8")) == \
        terraform_apply.outputs_document(STACK, recorded)
    assert f"outputs written to {outputs}" in out.decode()


def test_destroy_applies_with_destroy_and_writes_nothing(
        stack_dir: Path, fake_env: dict[str, str]) -> None:
    process = start(stack_dir, fake_env, "--destroy", "--no-color")
    process.communicate(timeout=60)
    assert process.returncode == 0
    assert calls(fake_env) == ["terraform init -input=false -no-color",
                               "terraform show -json -no-color",
                               "terraform apply -auto-approve -input=false -destroy -no-color"]


def test_destroy_keeps_the_resources_tagged_retain_on_destroy(
        stack_dir: Path, fake_env: dict[str, str]) -> None:
    state = json.loads(RETAINED.read_text(encoding="utf-8"))
    assert terraform_apply.retained(state) == [
        ("aws_kms_key.data_key_FECD82CE", "final-snapshot")]
    process = start(stack_dir, {**fake_env, "FAKE_TF_STATE": str(RETAINED)}, "--destroy",
                    "--no-color")
    output, _ = process.communicate(timeout=60)
    assert process.returncode == 0
    assert calls(fake_env) == ["terraform init -input=false -no-color",
                               "terraform show -json -no-color",
                               "terraform state rm aws_kms_key.data_key_FECD82CE -no-color",
                               "terraform apply -auto-approve -input=false -destroy -no-color"]
    assert b"aws_kms_key.data_key_FECD82CE is kept (RetainOnDestroy=final-snapshot)" in output


@pytest.mark.parametrize("failing, ran", [
    ("INIT", ["terraform init -input=false"]),
    ("APPLY", ["terraform init -input=false", "terraform apply -auto-approve -input=false"]),
])
def test_a_failed_step_stops_with_its_exit_code(stack_dir: Path, fake_env: dict[str, str],
                                                 tmp_path: Path, failing: str,
                                                 ran: list[str]) -> None:
    outputs = tmp_path / "flat-outputs.json"
    process = start(stack_dir, {**fake_env, f"FAKE_TF_EXIT_{failing}": "3"},
                    "--outputs-file", str(outputs))
    process.communicate(timeout=60)
    assert process.returncode == 3
    assert calls(fake_env) == ran
    assert not outputs.exists()


def test_ctrl_c_reaches_terraform_once_and_the_tool_waits_for_it(
        stack_dir: Path, fake_env: dict[str, str], tmp_path: Path) -> None:
    """The terminal's SIGINT goes to the tool's whole group; Terraform, in its own
    session, gets exactly one SIGINT (from the tool) and finishes before the tool exits."""
    outputs = tmp_path / "flat-outputs.json"
    process = start(stack_dir, {**fake_env, "FAKE_TF_HOLD": "1"}, "--outputs-file",
                    str(outputs))
    wait_for(fake_env, "holding")
    os.killpg(process.pid, signal.SIGINT)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 1
    assert calls(fake_env)[-3:] == ["holding", "SIGINT", "state saved"]
    assert "output -json" not in " ".join(calls(fake_env))
    assert not outputs.exists()
    assert "SIGINT received: one SIGINT passed to Terraform" in err.decode()


def test_sigterm_is_passed_on_as_one_sigint(stack_dir: Path,
                                            fake_env: dict[str, str]) -> None:
    process = start(stack_dir, {**fake_env, "FAKE_TF_HOLD": "1"})
    wait_for(fake_env, "holding")
    process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 1
    assert calls(fake_env)[-3:] == ["holding", "SIGINT", "state saved"]
    assert "SIGTERM received" in err.decode()


def test_a_second_ctrl_c_is_passed_on_too(stack_dir: Path, fake_env: dict[str, str]) -> None:
    """Terraform's own "two interrupts: exit now" stays the user's choice."""
    process = start(stack_dir, {**fake_env, "FAKE_TF_HOLD": "1"})
    wait_for(fake_env, "holding")
    os.killpg(process.pid, signal.SIGINT)
    wait_for(fake_env, "SIGINT")
    os.killpg(process.pid, signal.SIGINT)
    process.communicate(timeout=60)
    assert calls(fake_env).count("SIGINT") == 2


def test_an_interrupt_after_a_successful_step_still_exits_130(stack_dir: Path) -> None:
    """Terraform may finish its step cleanly after the interrupt: nothing more runs."""

    class Interrupted(terraform_apply.Terraform):
        """Every command succeeds, and an interrupt came during the first."""

        def __init__(self, directory: Path, color: bool) -> None:
            super().__init__(directory, color)
            self.ran: list[tuple[str, ...]] = []

        def run(self, *args: str, stdout: int | None = None) -> tuple[int, bytes]:
            self.ran.append(args)
            self.interrupts = 1
            return 0, b""

    made: list[Interrupted] = []

    def make(directory: Path, color: bool) -> Interrupted:
        made.append(Interrupted(directory, color))
        return made[-1]

    assert terraform_apply.main([str(stack_dir)], make_terraform=make) == 130
    assert made[0].ran == [("init", "-input=false")]


@pytest.mark.parametrize("args, message", [
    (["--destroy", "--outputs-file", "x.json"], "does not go with --destroy"),
    ([], "no synthesized stack"),
])
def test_bad_input_exits_2(stack_dir: Path, tmp_path: Path, args: list[str], message: str,
                           capsys: pytest.CaptureFixture[str]) -> None:
    directory = stack_dir if args else tmp_path / "missing"
    assert terraform_apply.main([str(directory), *args]) == 2
    assert message in capsys.readouterr().err


def test_an_interrupt_between_commands_is_counted_and_stops_the_rest(
        stack_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    terraform = terraform_apply.Terraform(stack_dir)
    with terraform_apply.interrupts_passed_to(terraform):
        handler = signal.getsignal(signal.SIGTERM)
        assert getattr(handler, "__self__", None) is terraform
        terraform.forward(signal.SIGTERM, None)
    assert getattr(signal.getsignal(signal.SIGTERM), "__self__", None) is not terraform
    assert terraform.interrupts == 1
    assert "SIGTERM received between Terraform commands: nothing more runs" in \
        capsys.readouterr().err
