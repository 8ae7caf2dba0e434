"""The harness's own helpers: JUnit summary, log excerpts, leftover marks, lock victim."""
from __future__ import annotations

from pathlib import Path

from tests.e2e.leftovers import Marks
from tests.e2e.run import _errors, _harmless_resource, _junit

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
    assert _junit(path) == {"passed": 1, "skipped": 2, "failed": 1,
                            "skips": {"emulator: no HTTP": ["test_skip", "test_skip2"]}}
    assert _junit(tmp_path / "missing.xml")["passed"] == 0


def test_errors_picks_error_lines_without_colours() -> None:
    log = "plan ok\n\x1b[31m│ Error: Error acquiring the state lock\x1b[0m\nmore\n"
    assert _errors(log) == "│ Error: Error acquiring the state lock"
    assert _errors("just\nlines\n", lines=1) == "lines"


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


def test_the_lock_holder_replaces_something_harmless() -> None:
    addresses = ["data.aws_caller_identity.caller", "aws_vpc.v", "aws_route.r",
                 "aws_cloudwatch_metric_alarm.a"]
    assert _harmless_resource(addresses) == "aws_cloudwatch_metric_alarm.a"
    assert _harmless_resource(["data.x.y", "aws_vpc.v"]) == "aws_vpc.v"
