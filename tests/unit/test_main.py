"""main.py: synthesizes into CDKTF_OUTDIR, or stops with one line and exit code 2."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import main
from tests.unit.synth import Synth
from tests.unit.variants import VARIANT_REGION

ROOT = Path(__file__).resolve().parents[2]


def test_main_writes_the_stack(main_run: tuple[int, Path], variant: Synth) -> None:
    """main.main on tests/unit/variants.py's VARIANT (the session fixture runs it)."""
    code, outdir = main_run
    assert code == 0
    assert sorted(p.name for p in (outdir / "stacks").iterdir()) == ["TapStackqa"]
    manifest = json.loads((outdir / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["stacks"]["TapStackqa"]["synthesizedStackPath"] == \
        "stacks/TapStackqa/cdk.tf.json"
    assert variant.outputs["environment_suffix"]["value"] == "qa"
    assert variant.outputs["aws_region"]["value"] == VARIANT_REGION


@pytest.mark.parametrize("variable,value", [
    ("ENVIRONMENT_SUFFIX", "Bad_Env"), ("AWS_REGION", "moon-1"), ("CONTAINER_PORT", "99999"),
])
def test_bad_input_stops_before_anything_is_written(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], variable: str, value: str) -> None:
    code = main.main({variable: value, "CDKTF_OUTDIR": str(tmp_path / "out")})
    assert code == 2
    err = capsys.readouterr().err
    assert err == f"error: {variable}={value!r} is invalid: " + err.split(" is invalid: ", 1)[1]
    assert err.count("\n") == 1
    assert not (tmp_path / "out").exists()


def test_process_exit_code_and_message_without_traceback(tmp_path: Path) -> None:
    env = {**os.environ, "ALARM_EMAIL": "nobody", "CDKTF_OUTDIR": str(tmp_path / "out")}
    result = subprocess.run([sys.executable, "main.py"], cwd=ROOT, env=env, capture_output=True,
                            text=True, timeout=60, check=False)
    assert result.returncode == 2
    assert result.stderr == "error: ALARM_EMAIL='nobody' is invalid: an email address\n"
    assert "Traceback" not in result.stdout + result.stderr
    assert not (tmp_path / "out").exists()
