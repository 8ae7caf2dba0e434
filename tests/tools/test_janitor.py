"""The janitor (tools/janitor.py): on recorded responses, then on in-process moto.

``tests/tools/janitor/`` holds a ListObjectsV2 page of a state bucket and a GetResources page
of the Resource Groups Tagging API, recorded with boto3 from moto 5.2.5 (the states'
LastModified then set by hand to give the environments different ages): states of dev, prod,
pr101 and pr7 (with its lock file) and a key that is no state; tagged topics of pr102, dev,
prod, pr7 and another project's, pr102's log group and VPC.

The emulator tests never run Terraform: the destroy command goes to a recorder.
"""
# pylint: disable=redefined-outer-name
from __future__ import annotations

import datetime
import json
from pathlib import Path
from typing import Any

import boto3
import pytest

from lib.resource_types import RESOURCES
from tools import janitor

RECORDED = Path(__file__).resolve().parent / "janitor"
NOW = datetime.datetime(2026, 12, 2, 15, 0, tzinfo=datetime.timezone.utc)
REGION = "eu-west-1"
BUCKET = "tap-state"


def recorded(name: str) -> dict[str, Any]:
    document = json.loads((RECORDED / f"{name}.json").read_text(encoding="utf-8"))
    for item in document.get("Contents", []):  # botocore parses timestamps
        item["LastModified"] = datetime.datetime.fromisoformat(item["LastModified"])
    return document


class Recorder:
    """The destroy runner of the tests: remembers each command, answers ``code``."""

    def __init__(self, code: int = 0) -> None:
        self.commands: list[list[str]] = []
        self.code = code

    def __call__(self, command: list[str]) -> int:
        self.commands.append(command)
        return self.code


class Paginated:
    """A client whose paginators yield one recorded page, for any operation."""

    def __init__(self, page: dict[str, Any]) -> None:
        self.page = page

    def get_paginator(self, _operation: str) -> Paginated:
        return self

    def paginate(self, **_kwargs: Any) -> list[dict[str, Any]]:
        return [self.page]


def recorded_clients(service: str, region: str) -> Paginated:
    if service == "s3":
        return Paginated(recorded("list_objects_v2"))
    return Paginated(recorded("get_resources") if region == REGION else {})


def run_recorded(capsys: pytest.CaptureFixture[str], *argv: str,
                 runner: Recorder | None = None) -> tuple[int, str, str]:
    code = janitor.main(["--bucket", BUCKET, "--region", REGION, *argv], {},
                        runner=runner or Recorder(), clients=recorded_clients, now=NOW)
    out, err = capsys.readouterr()
    return code, out, err


def test_states_and_tags_of_the_recordings() -> None:
    states = janitor.states([recorded("list_objects_v2")])
    assert sorted(states) == ["dev", "pr101", "pr7", "prod"]  # no lock file, no other key
    found = janitor.tagged([recorded("get_resources")], REGION)
    assert sorted(found) == ["dev", "pr102", "pr7", "prod"]  # not the other project's
    assert sorted(janitor.resource_kind(r.arn) for r in found["pr102"]) == [
        "ec2:vpc", "logs:log-group", "sns:topic"]


def test_the_report_and_the_dry_run(capsys: pytest.CaptureFixture[str]) -> None:
    runner = Recorder()
    code, out, err = run_recorded(capsys, "--open-prs", "7,12", "--delete-orphans",
                                  runner=runner)
    assert (code, err, runner.commands) == (0, "", [])
    lines = out.splitlines()
    verdicts = {line.split()[0]: line.split("  ")[-1].strip() for line in lines[1:6]}
    assert verdicts == {
        "dev": "keep: standard: never destroyed by the janitor",
        "pr101": "destroy: no open pull request",
        "pr102": "orphans: no state: a lost run, leftovers below",
        "pr7": "keep: its pull request is open",
        "prod": "keep: production: never destroyed by the janitor"}
    assert lines[0].split() == ["environment", "profile", "age", "resources", "verdict"]
    assert lines[2].split()[:4] == ["pr101", "ephemeral", "30.0", "h"]
    assert lines[3].split()[:4] == ["pr102", "ephemeral", "-", "3"]
    assert "leftovers of pr102:" in lines
    assert any(line.split()[:2] == ["ec2:vpc", "manual"] for line in lines)
    assert any(line.split()[:2] == ["logs:log-group", "delete"] for line in lines)
    assert "would destroy pr101" in lines
    assert "would delete arn:aws:logs:eu-west-1:123456789012:log-group:/tap/pr102/app" in lines
    assert lines[-1] == "dry run: nothing was done (--apply to act)"


def test_apply_destroys_the_stale_through_their_state(capsys: pytest.CaptureFixture[str]) -> None:
    runner = Recorder()
    code, out, _ = run_recorded(capsys, "--open-prs", "7", "--ttl-hours", "24", "--apply",
                                runner=runner)
    assert code == 0
    assert runner.commands == [
        ["make", "destroy", f"ENVIRONMENT_SUFFIX={suffix}", f"TERRAFORM_STATE_BUCKET={BUCKET}",
         "TERRAFORM_STATE_BUCKET_REGION=us-east-1", f"AWS_REGION={REGION}"]
        for suffix in ("pr101", "pr7")]  # pr7: open, but older than 24 h
    assert [line.split(None, 5) for line in out.splitlines() if line.startswith("pr7 ")] == [
        ["pr7", "ephemeral", "48.0", "h", "1", "destroy: older than 24 h"]]


def test_a_failed_destroy_is_exit_1(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_recorded(capsys, "--open-prs", "7", "--apply", runner=Recorder(3))
    assert code == 1
    assert "FAILED: destroy of pr101 exited 3" in out


@pytest.mark.parametrize("only", ["dev", "pr101,prod", "production"])
def test_a_protected_environment_is_refused_even_when_asked(
        only: str, capsys: pytest.CaptureFixture[str]) -> None:
    runner = Recorder()
    code, out, err = run_recorded(capsys, "--open-prs", "", "--only", only, "--apply",
                                  runner=runner)
    assert (code, out, runner.commands) == (2, "", [])
    assert err.startswith("janitor: refused: ")
    assert err.endswith("the janitor never destroys a standard or production environment\n")


def test_only_limits_the_run(capsys: pytest.CaptureFixture[str]) -> None:
    runner = Recorder()
    code, out, _ = run_recorded(capsys, "--open-prs", "", "--only", "pr7", "--apply",
                                runner=runner)
    assert code == 0
    assert [c[2] for c in runner.commands] == ["ENVIRONMENT_SUFFIX=pr7"]
    assert len(out.splitlines()) == 3  # header, pr7, the destroy command


def test_open_prs_from_a_file_and_bad_numbers(tmp_path: Path) -> None:
    listed = tmp_path / "open.txt"
    listed.write_text("12\n15\n", encoding="utf-8")
    assert janitor.parse_open_prs(f"@{listed}") == {12, 15}
    assert janitor.parse_open_prs(" 3, 4 ") == {3, 4}
    assert janitor.parse_open_prs("") == set()
    with pytest.raises(janitor.JanitorError, match="#4 is not a pull-request number"):
        janitor.parse_open_prs("3,#4")
    with pytest.raises(janitor.JanitorError, match="cannot read"):
        janitor.parse_open_prs(f"@{tmp_path / 'absent'}")


@pytest.mark.parametrize("arn,kind,deleted_as", [
    ("arn:aws:s3:::tap-pr1-logs", "s3:bucket", "aws_s3_bucket"),
    ("arn:aws:logs:eu-west-1:123456789012:log-group:/tap/pr1/app", "logs:log-group",
     "aws_cloudwatch_log_group"),
    ("arn:aws:sns:eu-west-1:123456789012:tap-pr1-alarms", "sns:topic", "aws_sns_topic"),
    ("arn:aws:secretsmanager:eu-west-1:123456789012:secret:tap/pr1/db-AbCdEf",
     "secretsmanager:secret", "aws_secretsmanager_secret"),
    ("arn:aws:kms:eu-west-1:123456789012:key/0123abcd-0123-4567-89ab-0123456789ab", "kms:key",
     "aws_kms_key"),
    # Left to do by hand: the registry's types of these kinds have no deleter here.
    ("arn:aws:sqs:eu-west-1:123456789012:tap-pr1-jobs-dlq", "sqs:queue", None),
    ("arn:aws:wafv2:us-east-1:123456789012:global/webacl/tap-pr1-edge/0123", "wafv2:webacl",
     None),
    ("arn:aws:ec2:eu-west-1:123456789012:security-group/sg-0123", "ec2:security-group", None),
    ("arn:aws:ec2:eu-west-1:123456789012:vpc/vpc-0123", "ec2:vpc", None),
])
def test_an_arn_is_deleted_as_the_type_the_registry_gives_its_kind(
        arn: str, kind: str, deleted_as: str | None) -> None:
    assert janitor.resource_kind(arn) == kind
    assert janitor.deleted_as(arn) == deleted_as


def test_every_deleter_is_for_a_tagged_type_of_the_registry() -> None:
    assert {rtype: RESOURCES[rtype].arn for rtype in janitor.DELETERS} == {
        "aws_s3_bucket": "s3:bucket", "aws_cloudwatch_log_group": "logs:log-group",
        "aws_sns_topic": "sns:topic", "aws_secretsmanager_secret": "secretsmanager:secret",
        "aws_kms_key": "kms:key"}


def test_no_bucket_is_an_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert janitor.main(["--open-prs", ""], {}) == 2
    assert capsys.readouterr().err == (
        "janitor: no state bucket: give --bucket or TERRAFORM_STATE_BUCKET\n")


@pytest.fixture
def aws(moto_aws: None) -> None:
    """A state bucket in moto: pr101 (state only), pr102 (resources only), dev (both)."""
    del moto_aws
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket=BUCKET)
    for suffix in ("pr101", "dev"):
        s3.put_object(Bucket=BUCKET, Key=f"{suffix}/TapStack{suffix}.tfstate", Body=b"{}")
    for suffix in ("pr102", "dev"):
        make_tagged(suffix)


def make_tagged(suffix: str) -> None:
    """Resources of one environment with the stack's default tags."""
    tags = [{"Key": "Project", "Value": "tap"}, {"Key": "Environment", "Value": suffix}]
    s3 = boto3.client("s3", region_name=REGION)
    s3.create_bucket(Bucket=f"tap-{suffix}-logs",
                     CreateBucketConfiguration={"LocationConstraint": REGION})
    s3.put_bucket_versioning(Bucket=f"tap-{suffix}-logs",
                             VersioningConfiguration={"Status": "Enabled"})
    s3.put_bucket_tagging(Bucket=f"tap-{suffix}-logs", Tagging={"TagSet": tags})
    for _ in range(2):  # two versions
        s3.put_object(Bucket=f"tap-{suffix}-logs", Key="AWSLogs/test", Body=b"x")
    boto3.client("logs", region_name=REGION).create_log_group(
        logGroupName=f"/tap/{suffix}/app", tags={t["Key"]: t["Value"] for t in tags})
    boto3.client("sns", region_name=REGION).create_topic(Name=f"tap-{suffix}-alarms", Tags=tags)
    boto3.client("secretsmanager", region_name=REGION).create_secret(
        Name=f"tap-{suffix}-db", SecretString="x", Tags=tags)
    boto3.client("kms", region_name=REGION).create_key(
        Tags=[{"TagKey": t["Key"], "TagValue": t["Value"]} for t in tags])
    boto3.client("ec2", region_name=REGION).create_vpc(
        CidrBlock="10.0.0.0/16", TagSpecifications=[{"ResourceType": "vpc", "Tags": tags}])


def leftovers(suffix: str) -> list[str]:
    api = boto3.client("resourcegroupstaggingapi", region_name=REGION)
    return sorted(m["ResourceARN"] for m in api.get_resources(TagFilters=[
        {"Key": "Environment", "Values": [suffix]}])["ResourceTagMappingList"])


def test_on_the_emulator(aws: None, capsys: pytest.CaptureFixture[str]) -> None:
    del aws
    runner = Recorder()
    dev_before = leftovers("dev")
    code = janitor.main(["--bucket", BUCKET, "--region", REGION, "--open-prs", "",
                         "--apply", "--delete-orphans"], {}, runner=runner)
    out = capsys.readouterr().out
    assert code == 0, out
    assert [c[2] for c in runner.commands] == ["ENVIRONMENT_SUFFIX=pr101"]
    assert "leftovers of pr102:" in out
    assert "deleted arn:aws:s3:::tap-pr102-logs" in out
    assert [line for line in out.splitlines() if line.startswith("manual: ")] == [
        f"manual: {arn}" for arn in leftovers("pr102") if ":vpc/" in arn]
    # What is left of pr102: the VPC (by hand) and the KMS key, scheduled for deletion.
    kms = boto3.client("kms", region_name=REGION)
    remaining = leftovers("pr102")
    assert [janitor.resource_kind(arn) for arn in remaining] == ["ec2:vpc", "kms:key"]
    assert kms.describe_key(KeyId=remaining[1])["KeyMetadata"]["KeyState"] == "PendingDeletion"
    assert "tap-pr102-logs" not in [b["Name"] for b in boto3.client("s3").list_buckets()["Buckets"]]
    assert leftovers("dev") == dev_before  # dev untouched
    assert len(dev_before) == 6

    # A second run: pr101 would be destroyed again (the recorder destroyed nothing); pr102's
    # key is already pending deletion and is left as it is.
    code = janitor.main(["--bucket", BUCKET, "--region", REGION, "--open-prs", "101",
                         "--apply", "--delete-orphans"], {}, runner=runner)
    assert code == 0
    assert len(runner.commands) == 1
    assert kms.describe_key(KeyId=remaining[1])["KeyMetadata"]["KeyState"] == "PendingDeletion"


def test_retained_keys_are_released_when_asked(aws: None,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    """--retained-keys: a key a destroy kept, whose snapshots are gone, is scheduled for
    deletion (tools/retained_keys.py; its own tests cover the verdicts)."""
    del aws
    kms = boto3.client("kms", region_name=REGION)
    kept = kms.create_key(Tags=[{"TagKey": "RetainOnDestroy", "TagValue": "final-snapshot"}])[
        "KeyMetadata"]["Arn"]
    code = janitor.main(["--bucket", BUCKET, "--region", REGION, "--open-prs", "101,102",
                         "--apply", "--retained-keys"], {}, runner=Recorder())
    out = capsys.readouterr().out
    assert code == 0, out
    assert f"retained data keys in {REGION}:\n  {kept}: encrypts no snapshot any more: " \
           "scheduled for deletion in 30 days" in out
    assert kms.describe_key(KeyId=kept)["KeyMetadata"]["KeyState"] == "PendingDeletion"


def test_the_shared_stack_is_kept_and_named_for_what_it_is() -> None:
    """Its resources carry Environment=shared-<name> (no environment suffix has a hyphen)."""
    now = datetime.datetime(2026, 12, 5, tzinfo=datetime.timezone.utc)
    shared = janitor.Environment("shared-fleet", resources=[
        janitor.Resource(arn="arn:aws:ecs:us-east-1:123456789012:cluster/tap-shared-fleet",
                         region=REGION)])
    assert shared.profile == "shared"
    assert janitor.decide(shared, set(), 1.0, now) == janitor.Decision(
        "keep", "shared: never destroyed by the janitor")
    assert janitor.Environment("pr12").profile == "ephemeral"
