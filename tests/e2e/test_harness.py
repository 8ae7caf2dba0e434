"""The harness's own helpers, without an emulator: JUnit summary, log excerpts, plan
actions, leftover marks, the lock victim, the profile -> life mapping, the phase runner
and the summary."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.e2e.harness import PhaseFailed, Report, Run, errors, junit, managed_resources, \
    plan_actions, request_log_note
from tests.e2e.leftovers import Marks
from tests.e2e.lives import LIVES, Phase, life_of, run_phases
from tests.e2e.phases import harmless_resource
from tests.e2e.run import render_summary
from tests.e2e.viewer_zone import zone_name

JUNIT = """<?xml version="1.0" encoding="utf-8"?>
<testsuites><testsuite name="pytest">
<testcase classname="a" name="test_ok"/>
<testcase classname="a" name="test_skip"><skipped message="emulator: no HTTP"/></testcase>
<testcase classname="a" name="test_skip2"><skipped message="emulator: no HTTP"/></testcase>
<testcase classname="a" name="test_bad"><failure message="boom"/></testcase>
</testsuite></testsuites>
"""


def test_junit_summary_counts_and_groups_skip_reasons(tmp_path: Path) -> None:
    path = tmp_path / "junit.xml"
    path.write_text(JUNIT, encoding="utf-8")
    assert junit(path) == {"passed": 1, "skipped": 2, "failed": 1,
                           "skips": {"emulator: no HTTP": ["test_skip", "test_skip2"]}}
    assert junit(tmp_path / "missing.xml")["passed"] == 0


def test_errors_picks_error_lines_without_colours() -> None:
    log = "plan ok\n\x1b[31m│ Error: Error acquiring the state lock\x1b[0m\nmore\n"
    assert errors(log) == "│ Error: Error acquiring the state lock"
    assert errors("just\nlines\n", lines=1) == "lines"


def _change(address: str, *actions: str, mode: str = "managed") -> dict[str, Any]:
    return {"address": address, "mode": mode, "change": {"actions": list(actions)}}


def test_plan_actions_classify_replacements_and_ignore_data_sources() -> None:
    plan = {"resource_changes": [
        _change("aws_vpc.v", "no-op"), _change("aws_subnet.a", "create"),
        _change("aws_subnet.b", "create"), _change("aws_lb.l", "update"),
        _change("aws_route.r", "delete", "create"), _change("aws_route.s", "create", "delete"),
        _change("aws_sns_topic.t", "delete"), _change("data.aws_region.r", "read", mode="data"),
    ]}
    assert plan_actions(plan) == {"create": 2, "delete": 1, "no-op": 1, "replace": 2,
                                  "update": 1}
    assert not plan_actions({})


def test_managed_resources_counts_instances_not_data_sources() -> None:
    state = {"resources": [
        {"mode": "managed", "instances": [{}, {}]}, {"mode": "data", "instances": [{}]},
        {"mode": "managed", "instances": [{}]}]}
    assert managed_resources(state) == 3


def test_marks_recognize_the_environment_only() -> None:
    marks = Marks("pr4892")
    assert marks.tagged([{"Key": "Environment", "Value": "pr4892"},
                         {"Key": "Project", "Value": "tap"}])
    assert marks.tagged({"Environment": "pr4892", "Project": "tap"})
    assert not marks.tagged([{"Key": "Environment", "Value": "dev"},
                             {"Key": "Project", "Value": "tap"}])
    assert marks.named("arn:aws:sns:us-east-1:123456789012:tap-pr4892-alarms")
    assert marks.named("/tap/pr4892/vpc-flow-logs", None)
    assert not marks.named("tap-e2e-terraform-state", None)


@pytest.mark.parametrize("name", [
    "tap-prod-alb-logs-20261202140000000000000001",  # bucket_prefix
    "tap-prod-cf-logs-20261202140000000000000002",
    "tap/prod/origin-verify-20261202140000000000000003",  # name_prefix
    "arn:aws:secretsmanager:us-east-1:123456789012:secret:tap/prod/origin-verify-1-AbCdEf",
    "tap-prod-aurora-final-1a2b3c4d",  # final snapshot
    "aws-waf-logs-tapprod-20261202140000000000000004",  # edge log bucket (CloudFront, WAF)
    "tap-prod",  # the dashboard
])
def test_marks_find_generated_names(name: str) -> None:
    assert Marks("prod").named(name)


@pytest.mark.parametrize("suffix, name", [
    ("prod", "tap-production-alb-logs-1"), ("pr4892", "tap-pr48921-web"),
    ("dev", "tap/devx/origin-verify-1"), ("dev", "stap-dev-x"),
    ("dev", "aws-waf-logs-tapdevx-1"),
])
def test_marks_do_not_take_other_environments(suffix: str, name: str) -> None:
    assert not Marks(suffix).named(name)


def test_the_lock_holder_replaces_something_harmless() -> None:
    addresses = ["data.aws_caller_identity.caller", "aws_vpc.v", "aws_route.r",
                 "aws_cloudwatch_metric_alarm.a"]
    assert harmless_resource(addresses) == "aws_cloudwatch_metric_alarm.a"
    assert harmless_resource(["data.x.y", "aws_vpc.v"]) == "aws_vpc.v"


@pytest.mark.parametrize("suffix, life", [
    ("dev", "standard"), ("staging", "standard"), ("pr4892", "ephemeral"), ("pr1", "ephemeral"),
    ("prod", "production"), ("production", "production"), ("prx", "standard"),
    ("preprod", "standard"),
])
def test_the_profile_decides_the_life(suffix: str, life: str) -> None:
    assert life_of(suffix) == life


def _names(life: str) -> list[str]:
    return [phase.name for phase in LIVES[life]]


def test_each_life_checks_what_is_left_after_each_destroy() -> None:
    for life, snapshots in (("standard", [1]), ("changes", [1, 2]), ("ephemeral", [0, 0]),
                            ("production", [1, 2])):
        phases = LIVES[life]
        names = [name for name in _names(life) if not name.startswith("zone")]
        assert names[:2] == ["emulator", "standins"] and "synth" in names[2:4]
        assert "serving" in names  # every life runs the application
        assert names.count("destroy") == len(snapshots) and names[-1] == "leftovers"
        assert [p.action.keywords["snapshots"] for p in phases  # type: ignore[attr-defined]
                if p.name == "leftovers"] == snapshots
        assert all(p.cleanup for p in phases if p.name in ("destroy", "leftovers", "teardown"))
    assert _names("standard")[4:8] == ["deploy-fault", "release-gate", "secret-set",
                                       "deploy-retry"]
    assert {"feature", "rotation", "one-off", "job", "secret-rotation", "release-fails",
            "revision"} <= set(_names("standard"))
    assert _names("changes")[-4:] == ["serving", "replan", "destroy", "leftovers"]
    assert {"origin-https", "origin-http", "changes", "hcl", "refactor", "restore",
            "redeploy-interrupted"} <= set(_names("changes"))
    assert _names("production").index("accidental-destroy") \
        < _names("production").index("teardown") < _names("production").index("destroy")
    assert "unprotect" not in sum((_names(life) for life in LIVES), [])


def _run(tmp_path: Path) -> Run:
    run = Run(Report(suffix="dev", life="standard", network_guard="-"))
    run.workdir = tmp_path
    run.emulator = object()  # type: ignore[assignment]
    return run


def _phase(name: str, calls: list[str], fail: bool = False, cleanup: bool = False) -> Phase:
    def action(_: Run) -> None:
        calls.append(name)
        if fail:
            raise PhaseFailed(f"{name}: broken")
    return Phase(name, action, cleanup)


def test_after_a_failure_only_the_next_cleanup_phases_run(tmp_path: Path) -> None:
    calls: list[str] = []
    run = _run(tmp_path)
    run_phases(run, (
        _phase("deploy", calls), _phase("integration", calls, fail=True),
        _phase("replan", calls), _phase("destroy", calls, cleanup=True),
        _phase("leftovers", calls, cleanup=True), _phase("redeploy", calls),
        _phase("destroy", calls, cleanup=True)))
    assert calls == ["deploy", "integration", "destroy", "leftovers"]
    assert run.report.skipped == ["replan", "redeploy", "destroy"]
    assert run.report.failures == ["integration: broken"]
    assert [name for name, _ in run.report.phases] == calls


def test_a_failed_cleanup_phase_ends_the_life_after_its_own_cleanup(tmp_path: Path) -> None:
    calls: list[str] = []
    run = _run(tmp_path)
    run_phases(run, (
        _phase("destroy", calls, fail=True, cleanup=True),
        _phase("leftovers", calls, cleanup=True), _phase("redeploy", calls)))
    assert calls == ["destroy", "leftovers"]
    assert run.report.skipped == ["redeploy"]


def test_an_unexpected_error_is_a_failure_with_its_traceback(tmp_path: Path) -> None:
    run = _run(tmp_path)
    run_phases(run, (Phase("outputs", lambda _: {}["missing"]),))
    assert run.report.failures[0].startswith("outputs: Traceback")
    assert "KeyError: 'missing'" in run.report.failures[0]


def test_the_summary_lists_each_life_with_its_phases_in_order(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TAP_EMULATOR_VPC_ORIGIN_SERVICE_GROUP", "removed:3")
    report = Report(suffix="dev", life="standard", network_guard="netns",
                    phases=[("emulator", 1.2), ("deploy", 100.0), ("destroy", 70.5)] * 6,
                    resources=121, failures=["destroy: exited 1:\nmore",
                                             "deploy: exited 1:\n\n" + "\n".join(
                                                 f"Error: {n} " + "x" * 120
                                                 for n in range(12))],
                    skipped=["leftovers"], notes=["lock: held"],
                    retained=["us-east-1: db cluster snapshot tap-dev-aurora-final-1a2b3c4d"],
                    service_writes={"alb_logs": {"count": 4}}, extensions=["s3_owner"],
                    plans={"deploy-retry": {"create": 15, "no-op": 107}})
    text = render_summary([report, Report(suffix="pr1", life="ephemeral", network_guard="-")])
    lines = text.splitlines()
    assert "dev (standard): FAIL, 121 resources, 1030.2 s" in lines
    assert " emulator 1.2 | deploy 100.0 | destroy 70.5 |" in text
    assert all(len(line) <= 100 for line in lines)
    assert "  skipped after the failure: leftovers" in lines
    assert lines[lines.index("  FAILED destroy: exited 1:") + 1] == "    more"
    deploy = lines.index("  FAILED deploy: exited 1:")  # the last 8 error lines, cut
    assert [line.split(" x")[0] for line in lines[deploy + 1:deploy + 10]] == [
        f"    Error: {n}" for n in range(4, 12)] + ["  service writes: alb_logs 4"]
    assert "  service writes: alb_logs 4" in lines
    assert "  plan deploy-retry: create 15, no-op 107" in lines
    assert "  retained on purpose: us-east-1: db cluster snapshot " \
           "tap-dev-aurora-final-1a2b3c4d" in lines
    assert "pr1 (ephemeral): ok, - resources, 0 s" in lines
    assert lines[-2] == "network guard: netns; moto extensions: s3_owner"
    assert lines[-1] == ("CloudFront's VPC-origin group: removed:3 "
                         "(TAP_EMULATOR_VPC_ORIGIN_SERVICE_GROUP)")


def test_the_ephemeral_life_runs_with_the_viewer_zone() -> None:
    names = [phase.name for phase in LIVES["ephemeral"]]
    assert names.index("zone") < names.index("synth")  # HOSTED_ZONE_ID is read at synth
    assert names[-1] == "zone-removed" and LIVES["ephemeral"][-1].cleanup
    assert zone_name("pr4892") == "pr4892.tap-e2e.example"


def test_make_up_reads_the_endpoint_from_what_the_emulator_prints(tmp_path: Path) -> None:
    """`make up` failed in CI when the emulator began printing its usage after its URL."""
    from emulator.__main__ import usage  # pylint: disable=import-outside-toplevel
    from tests.e2e.up import first_line  # pylint: disable=import-outside-toplevel
    announced = tmp_path / "emulator.url"
    announced.write_text("")
    assert first_line(announced) == ""
    url = "http://127.0.0.1:41234"
    announced.write_text(f"{url}\n{usage(url)}\n")
    assert first_line(announced) == url


def test_make_up_says_how_to_reach_the_emulated_distribution(tmp_path: Path) -> None:
    from tests.e2e.up import viewer  # pylint: disable=import-outside-toplevel
    url = "https://d1abc.cloudfront.net/"
    assert viewer(url, tmp_path) == [f"  viewer URL    {url} (not served by this emulator)"]
    (tmp_path / "hosts").write_text("127.0.4.2 d1abc.cloudfront.net\n")
    first, command = viewer(url, tmp_path)
    assert first.endswith("emulated at 127.0.4.2)")
    assert command.split() == ["curl", "--resolve", "d1abc.cloudfront.net:443:127.0.4.2",
                               "--cacert", str(tmp_path / "tls" / "ca.pem"),
                               "https://d1abc.cloudfront.net/readyz"]


def test_the_request_log_note_names_what_an_sdk_sent_again_and_the_slow_answers(
        tmp_path: Path) -> None:
    log = tmp_path / "requests.log"
    assert request_log_note(log) is None
    log.write_text("200 us-east-1 sts GetCallerIdentity POST /\n"
                   "200 us-east-1 cloudfront CreateDistribution POST /2020-05-31/distribution"
                   " 2.5s\n"
                   "409 us-east-1 cloudfront CreateDistribution POST /2020-05-31/distribution"
                   " attempt=2\n"
                   "500 us-east-1 rds CreateDBCluster POST / 12.0s\n"
                   "200 us-east-1 rds CreateDBCluster POST / attempt=2\n"
                   "200 us-east-1 sts GetCallerIdentity POST / attempt=2 replayed\n", "utf-8")
    assert request_log_note(log) == (
        "emulator: requests sent again by an SDK: cloudfront CreateDistribution 409 x1, "
        "rds CreateDBCluster 200 x1, sts GetCallerIdentity 200 replayed x1; server errors: "
        "rds CreateDBCluster 500 x1; 2 answers took 1 s or more (slowest 12.0 s, "
        "rds CreateDBCluster)")
    log.write_text("200 us-east-1 sts GetCallerIdentity POST /\n", "utf-8")
    assert request_log_note(log) == "emulator: requests sent again by an SDK: none"
