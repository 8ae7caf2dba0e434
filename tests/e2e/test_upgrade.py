"""The upgrade scenario's own helpers, without Terraform: its phases, git, and the
refusal of a base whose Python dependencies differ from this checkout's."""
from __future__ import annotations

import pytest

from tests.e2e import upgrade
from tests.e2e.harness import PhaseFailed, Report, Run


def test_phases_deploy_the_base_then_upgrade_and_always_clean_up() -> None:
    phases = upgrade.phases("HEAD")
    assert [phase.name for phase in phases] == [
        "emulator", "image", "base-synth", "base-deploy", "synth", "upgrade-plan",
        "upgrade-apply", "replan", "outputs", "adopt-manifest", "serving", "feature",
        "integration", "destroy", "leftovers"]
    assert [phase.name for phase in phases if phase.cleanup] == ["destroy", "leftovers"]


def test_git_names_a_revision_or_fails_with_its_message() -> None:
    head = upgrade.git("rev-parse", "--verify", "HEAD^{commit}").decode().strip()
    assert len(head) == 40
    with pytest.raises(PhaseFailed, match="no-such-revision"):
        upgrade.git("rev-parse", "--verify", "no-such-revision^{commit}")


def test_a_base_with_other_python_dependencies_is_refused(
        monkeypatch: pytest.MonkeyPatch) -> None:
    answers = {"rev-parse": b"0" * 40 + b"\n", "show": b'{"_meta": {"hash": "other"}}'}
    asked: list[tuple[str, ...]] = []

    def fake_git(*args: str) -> bytes:
        asked.append(args)
        return answers[args[0]]

    monkeypatch.setattr(upgrade, "git", fake_git)
    run = Run(Report(suffix="stage", life="upgrade", network_guard="-"))
    with pytest.raises(PhaseFailed, match="Pipfile.lock differs"):
        upgrade.base_synth(run, "v1")
    assert asked == [("rev-parse", "--verify", "v1^{commit}"),
                     ("show", f"{'0' * 40}:Pipfile.lock")]


def test_the_base_stack_is_apart_from_this_versions() -> None:
    run = Run(Report(suffix="stage", life="upgrade", network_guard="-"))
    assert upgrade.base_stack_dir(run).name == run.stack == "TapStackstage"
    assert upgrade.base_stack_dir(run) != run.stack_dir
    assert upgrade.base_stack_dir(run).is_relative_to(run.workdir)
