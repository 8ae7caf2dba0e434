"""The plan guard (tools/plan_check.py) on plans Terraform really wrote.

The plans in ``tests/tools/plans/`` are ``terraform show -json`` of saved plans, recorded by
``make record-plans`` (tools/record_plans.py): Terraform 1.11.4 and the AWS provider 5.100.0
apply a KMS key, an S3 bucket, a log group, an SNS topic and a Secrets Manager secret to the
moto emulator, then plan one change per file against that state, and the output is trimmed
to what the guard reads. These tests read only the committed files: no Terraform, no emulator.

- ``no-changes``: the same configuration;
- ``create-and-update``: log retention and topic tags changed in place, a topic added;
- ``replace-stateful``: bucket name and log group name changed (both force a replacement);
- ``replace-stateless``: the topic's name changed;
- ``replace-requested``: ``terraform plan -replace=aws_kms_key.data``;
- ``delete``: the secret and the topic removed from the configuration;
- ``move``: the bucket and the topic renamed, each with a ``moved`` block;
- ``forget``: the secret removed with a ``removed`` block that keeps it (``destroy = false``).
"""
from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from tools import plan_check, record_plans

PLANS = Path(__file__).resolve().parent / "plans"
NAMES = ("no-changes", "create-and-update", "replace-stateful", "replace-stateless",
         "replace-requested", "delete", "move", "forget")


def plan(name: str) -> Path:
    return PLANS / f"{name}.json"


def changes(name: str) -> tuple[plan_check.Change, ...]:
    return plan_check.parse_plan(plan(name).read_text(encoding="utf-8"))


def run(capsys: pytest.CaptureFixture[str], *argv: str, allow: str | None = None) \
        -> tuple[int, str, str]:
    """main() with ALLOW_REPLACE set to ``allow`` (unset when None): code, stdout, stderr."""
    code = plan_check.main(list(argv), {} if allow is None else {"ALLOW_REPLACE": allow})
    out, err = capsys.readouterr()
    return code, out, err


def test_the_recordings_are_real_trimmed_and_small() -> None:
    assert sorted(p.stem for p in PLANS.glob("*.json")) == sorted(NAMES)
    for name in NAMES:
        document = json.loads(plan(name).read_text(encoding="utf-8"))
        assert (document["format_version"], document["terraform_version"]) == ("1.2", "1.11.4")
        assert record_plans.trim(document) == document  # nothing the guard does not read
        assert plan(name).stat().st_size < 4096
        assert len(document["resource_changes"]) >= 5


@pytest.mark.parametrize("name,expected", [
    ("no-changes", (0, 0, 0, 0, 0)),
    ("create-and-update", (1, 2, 0, 0, 0)),
    ("replace-stateful", (0, 0, 2, 0, 0)),
    ("replace-stateless", (0, 0, 1, 0, 0)),
    ("replace-requested", (0, 0, 1, 0, 0)),
    ("delete", (0, 0, 0, 2, 0)),
    ("move", (0, 0, 0, 0, 2)),
    ("forget", (0, 0, 0, 0, 0)),
])
def test_counts(name: str, expected: tuple[int, ...]) -> None:
    assert plan_check.COUNTED == ("create", "update", "replace", "delete", "move")
    assert tuple(plan_check.counts(changes(name)).values()) == expected


def test_forcing_attributes_and_reasons_of_replacements() -> None:
    replaced = {c.address: (c.forcing, c.reason) for c in changes("replace-stateful")
                if c.action == "replace"}
    assert replaced == {
        "aws_cloudwatch_log_group.app": (("name",), "replace_because_cannot_update"),
        "aws_s3_bucket.logs": (("bucket",), "replace_because_cannot_update")}
    requested = [c for c in changes("replace-requested") if c.action == "replace"]
    assert [(c.address, c.forcing, c.reason) for c in requested] == \
        [("aws_kms_key.data", (), "replace_by_request")]


def test_moves_keep_their_action_and_previous_address() -> None:
    moved = {c.address: (c.previous_address, c.action, c.stateful)
             for c in changes("move") if c.previous_address}
    assert moved == {"aws_s3_bucket.access_logs": ("aws_s3_bucket.logs", "no-op", True),
                     "aws_sns_topic.alerts": ("aws_sns_topic.alarms", "no-op", False)}


def test_forgetting_keeps_the_object_and_is_shown() -> None:
    forgotten = [c for c in changes("forget") if c.action != "no-op"]
    assert [(c.address, c.action, c.stateful, c.destroys) for c in forgotten] == \
        [("aws_secretsmanager_secret.db", "forget", True, False)]
    # Terraform's replacement without destroy (create, then forget the old object).
    change = plan_check.parse_change({"address": "aws_kms_key.k", "type": "aws_kms_key",
                                      "change": {"actions": ["create", "forget"]}})
    assert change is not None and (change.action, change.destroys) == ("create, forget", False)
    assert plan_check.counts((change,))["create"] == 1


@pytest.mark.parametrize("name,code,blocked", [
    ("no-changes", 0, ""),
    ("create-and-update", 0, ""),
    ("replace-stateless", 0, ""),
    ("move", 0, ""),
    ("forget", 0, ""),
    ("replace-stateful", 1, "aws_cloudwatch_log_group.app,aws_s3_bucket.logs"),
    ("replace-requested", 1, "aws_kms_key.data"),
    ("delete", 1, "aws_secretsmanager_secret.db"),
])
def test_verdict(capsys: pytest.CaptureFixture[str], name: str, code: int, blocked: str) -> None:
    exit_code, out, err = run(capsys, "--format", "text", str(plan(name)))
    assert (exit_code, err) == (code, "")
    verdict = out.splitlines()[-1]
    if blocked:
        assert verdict.startswith(f"BLOCKED: {blocked.count(',') + 1} stateful resource(s) ")
        assert verdict.endswith(f"If intended, allow them: ALLOW_REPLACE={blocked}")
    else:
        assert verdict == "OK: no stateful resource is deleted or replaced"


def test_allow_replace_lets_the_listed_addresses_go(capsys: pytest.CaptureFixture[str]) -> None:
    path = str(plan("replace-stateful"))
    code, out, _ = run(capsys, "--format", "text", path, allow="aws_s3_bucket.logs")
    assert code == 1  # the log group is still blocked
    assert out.splitlines()[-1].startswith(
        "BLOCKED: 1 stateful resource(s) would be deleted or replaced: "
        "aws_cloudwatch_log_group.app.")
    assert "bucket              yes: allowed" in out
    # The flag and the environment add up.
    code, out, _ = run(capsys, "--format", "text", "--allow", " aws_cloudwatch_log_group.app",
                       path, allow="aws_s3_bucket.logs,")
    assert code == 0
    assert out.splitlines()[-1] == ("OK: no stateful resource is deleted or replaced except the "
                                    "allowed aws_cloudwatch_log_group.app, aws_s3_bucket.logs")


@pytest.mark.parametrize("allow,named", [
    ("aws_s3_bucket.nope", "aws_s3_bucket.nope"),
    ("aws_secretsmanager_secret.db,aws_sns_topic.alarms", "aws_sns_topic.alarms"),  # stateless
    ("aws_secretsmanager_secret.db,aws_kms_key.data", "aws_kms_key.data"),  # unchanged
])
def test_an_allowed_address_the_plan_does_not_destroy_is_an_error(
        capsys: pytest.CaptureFixture[str], allow: str, named: str) -> None:
    code, out, err = run(capsys, str(plan("delete")), allow=allow)
    assert (code, out) == (2, "")
    assert err == (f"plan-check: ALLOW_REPLACE names {named}, which this plan does not delete "
                   "or replace as a stateful resource\n")


@pytest.mark.parametrize("text,error", [
    ('{"format_version": "1.2", "resource_changes": [', "not JSON (Expecting value: line 1"),
    ("[]", "not the JSON of a plan (no format_version)"),
    ('{"format_version": "1.2", "resource_changes": {}}', "resource_changes is not a list"),
    ('{"format_version": "1.2", "resource_changes": [{"address": "aws_s3_bucket.a", '
     '"type": "aws_s3_bucket"}]}', "a resource change lacks 'change': {\"address\""),
    ('{"format_version": "1.2", "resource_changes": [{"address": "a.b", "type": "a", '
     '"change": {"actions": ["explode"]}}]}', "unknown actions ['explode']"),
    ('{"format_version": "1.2", "resource_changes": ["aws_s3_bucket.a"]}',
     'a resource change is not an object: "aws_s3_bucket.a"'),
    ('{"format_version": "1.2", "resource_changes": [{"address": "a.b", "type": "a", '
     '"change": {"actions": ["update"], "replace_paths": 3}}]}',
     "a resource change is malformed ('int' object is not iterable)"),
])
def test_malformed_input_is_one_line_and_exit_2(
        capsys: pytest.CaptureFixture[str], tmp_path: Path, text: str, error: str) -> None:
    path = tmp_path / "plan.json"
    path.write_text(text, encoding="utf-8")
    code, out, err = run(capsys, str(path))
    assert (code, out) == (2, "")
    assert err.startswith(f"plan-check: {error}") and err.count("\n") == 1


def test_a_missing_file_is_an_error(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _, err = run(capsys, str(tmp_path / "none.json"))
    assert (code, err) == (2, f"plan-check: cannot read {tmp_path / 'none.json'}: "
                              "No such file or directory\n")


def test_markdown_report(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, str(plan("replace-stateful")), allow="aws_s3_bucket.logs")
    assert code == 1
    assert out == """### Plan check

| create | update | replace | delete | move |
| ---: | ---: | ---: | ---: | ---: |
| 0 | 0 | 2 | 0 | 0 |

| address | type | action | forcing attributes | stateful |
| --- | --- | --- | --- | --- |
| `aws_cloudwatch_log_group.app` | aws_cloudwatch_log_group | replace (replace_because_cannot_update) | `name` | yes: BLOCKED |
| `aws_s3_bucket.logs` | aws_s3_bucket | replace (replace_because_cannot_update) | `bucket` | yes: allowed |

**BLOCKED: 1 stateful resource(s) would be deleted or replaced: aws_cloudwatch_log_group.app. If intended, allow them: ALLOW_REPLACE=aws_cloudwatch_log_group.app**
"""


def test_markdown_of_moves_and_of_an_empty_plan(capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = run(capsys, str(plan("move")))
    assert "| `aws_s3_bucket.access_logs` | aws_s3_bucket | moved from aws_s3_bucket.logs | - " \
           "| yes |" in out.splitlines()
    _, out, _ = run(capsys, str(plan("no-changes")))
    assert "| address |" not in out  # no table without changes
    assert out.splitlines()[-1] == "**OK: no stateful resource is deleted or replaced**"


def test_text_report(capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = run(capsys, "--format", "text", str(plan("create-and-update")))
    assert out.splitlines()[:3] == [
        "counts: create 1, update 2, replace 0, delete 0, move 0",
        "address                       type                      action  forcing attributes  "
        "stateful",
        "aws_cloudwatch_log_group.app  aws_cloudwatch_log_group  update  -                   yes"]


def test_pipes_in_addresses_are_escaped_in_markdown() -> None:
    change = plan_check.Change('aws_s3_bucket.b["a|b"]', "aws_s3_bucket", "create")
    verdict = plan_check.Verdict((change,), (), ())
    assert '| `aws_s3_bucket.b["a\\|b"]` | aws_s3_bucket | create | - | yes |' in \
        plan_check.render_markdown(verdict).splitlines()


@pytest.mark.parametrize("path,text", [
    (["bucket"], "bucket"),
    (["rule", 0, "expiration", 1, "days"], "rule[0].expiration[1].days"),
    (["tags", "Name"], "tags.Name"),
    (["tags", "kubernetes.io/role"], 'tags["kubernetes.io/role"]'),
])
def test_replace_paths_read_as_terraform_expressions(path: list, text: str) -> None:
    assert plan_check.path_text(path) == text


def test_standard_input(capsys: pytest.CaptureFixture[str],
                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.stdin", plan("delete").open(encoding="utf-8"))
    code, out, _ = run(capsys, "-")
    assert code == 1 and "| `aws_secretsmanager_secret.db` |" in out


def fake_terraform(tmp_path: Path, exit_code: int = 0) -> Path:
    """A terraform that logs its arguments and shows the recorded replace-stateless plan."""
    script = tmp_path / "terraform"
    script.write_text(f'#!/bin/sh\necho "$@" > {tmp_path}/args\ncat {plan("replace-stateless")}\n'
                      f'echo "Error: no state" >&2\nexit {exit_code}\n', encoding="utf-8")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return script


def test_a_saved_plan_is_shown_by_terraform_in_the_stack_directory(
        capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    saved = tmp_path / "tfplan"
    saved.write_bytes(b"PK\x03\x04 a zip archive")
    terraform = fake_terraform(tmp_path)
    code, out, _ = run(capsys, "--terraform", str(terraform), "--chdir", "stacks/x", str(saved))
    assert code == 0 and "| `aws_sns_topic.alarms` | aws_sns_topic | replace" in out
    assert (tmp_path / "args").read_text(encoding="utf-8") == \
        f"-chdir=stacks/x show -json {saved}\n"
    code, _, err = run(capsys, "--terraform", str(fake_terraform(tmp_path, 1)), "--chdir", "x",
                       str(saved))
    assert (code, err) == (2, "plan-check: terraform show -json exited 1: Error: no state\n")
    code, _, err = run(capsys, str(saved))
    assert (code, err) == (2, f"plan-check: {saved} is a saved plan: give the stack directory "
                              "with --chdir\n")
