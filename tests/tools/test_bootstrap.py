"""The bootstrap (tools/bootstrap.py): the state bucket on in-process moto, the derived policies.

``test_every_synthesized_type_has_actions`` reads the stacks ``make synth-profiles`` wrote to
``build/synth``; it skips without them, and fails instead under ``make scan``
(``TAP_SCAN_REQUIRED=1``), which synthesizes them first.
"""
# pylint: disable=redefined-outer-name
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import boto3
import pytest

from tools import bootstrap

BUCKET = "tap-state-bootstrap-test"
REGION = "eu-west-1"
REPOSITORY = "acme/tap"


def write_stack(root: Path, label: str, document: dict[str, Any]) -> None:
    stack = root / label / "stacks" / f"TapStack{label}"
    stack.mkdir(parents=True)
    (stack / "cdk.tf.json").write_text(json.dumps(document), encoding="utf-8")


@pytest.fixture
def synth(tmp_path: Path) -> Path:
    """Two small synthesized stacks: a VPC and an ECS service, data sources in one."""
    root = tmp_path / "synth"
    write_stack(root, "dev", {"resource": {"aws_vpc": {}, "aws_ecs_service": {}},
                              "data": {"aws_caller_identity": {}}})
    write_stack(root, "pr1", {"resource": {"aws_vpc": {}, "aws_s3_bucket": {}}})
    return root


@pytest.fixture
def aws(moto_aws: None) -> Any:
    """The S3 client of in-process moto the test reads the bucket back with."""
    del moto_aws
    return boto3.client("s3", region_name=REGION)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = bootstrap.main(list(argv), {})
    out, err = capsys.readouterr()
    return code, out, err


def test_the_bucket_is_made_safe_and_a_second_run_changes_nothing(
        aws: Any, synth: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out_file = tmp_path / "policies.json"
    argv = ("--bucket", BUCKET, "--region", REGION, "--repository", REPOSITORY,
            "--synth", str(synth), "--out", str(out_file))
    code, _, err = run(capsys, *argv)
    assert code == 0, err
    assert f"created bucket {BUCKET} in {REGION}" in err
    assert aws.get_bucket_location(Bucket=BUCKET)["LocationConstraint"] == REGION
    assert aws.get_bucket_versioning(Bucket=BUCKET)["Status"] == "Enabled"
    rule = aws.get_bucket_encryption(Bucket=BUCKET)["ServerSideEncryptionConfiguration"]["Rules"][0]
    assert rule["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    assert aws.get_public_access_block(Bucket=BUCKET)["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True,
        "RestrictPublicBuckets": True}
    policy = json.loads(aws.get_bucket_policy(Bucket=BUCKET)["Policy"])
    assert policy["Statement"][0]["Effect"] == "Deny"
    assert policy["Statement"][0]["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    (lifecycle,) = aws.get_bucket_lifecycle_configuration(Bucket=BUCKET)["Rules"]
    assert lifecycle["NoncurrentVersionExpiration"]["NoncurrentDays"] == 90
    assert lifecycle["AbortIncompleteMultipartUpload"]["DaysAfterInitiation"] == 7
    assert aws.get_bucket_ownership_controls(Bucket=BUCKET)["OwnershipControls"]["Rules"] == [
        {"ObjectOwnership": "BucketOwnerEnforced"}]

    code, _, err = run(capsys, *argv)
    assert code == 0, err
    assert err.splitlines()[0] == f"bootstrap: bucket {BUCKET} already as wanted: nothing changed"


def test_a_drifted_setting_is_put_back_alone(aws: Any, synth: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    argv = ("--bucket", BUCKET, "--region", REGION, "--repository", REPOSITORY,
            "--synth", str(synth))
    assert run(capsys, *argv)[0] == 0
    aws.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Suspended"})
    code, _, err = run(capsys, *argv)
    assert code == 0
    assert err.splitlines()[0] == "bootstrap: set versioning"


def test_the_policies(aws: Any, synth: Path, capsys: pytest.CaptureFixture[str]) -> None:
    del aws  # the account of the trust policy comes from (moto's) STS
    code, out, err = run(capsys, "--bucket", BUCKET, "--repository", REPOSITORY, "--synth",
                         str(synth), "--skip-bucket", "--environments", "dev,production")
    assert code == 0, err
    document = json.loads(out)
    (permissions,) = document["permission_policies"]
    statements = {s["Sid"]: s for s in permissions["Statement"]}
    assert list(statements) == ["StackResources", "PassStackRoles", "StateBucket", "StateObjects",
                                "ProtectState"]
    expected = set(bootstrap.ACTIONS["aws_vpc"] + bootstrap.ACTIONS["aws_ecs_service"]
                   + bootstrap.ACTIONS["aws_s3_bucket"]) | {"sts:GetCallerIdentity"}
    assert set(statements["StackResources"]["Action"]) == expected - {"iam:PassRole"}
    assert statements["StackResources"]["Resource"] == "*"
    assert statements["PassStackRoles"]["Condition"]["StringEquals"]["iam:PassedToService"] \
        == list(bootstrap.PASSED_TO)
    assert statements["StateBucket"]["Resource"] == f"arn:aws:s3:::{BUCKET}"
    assert statements["StateObjects"]["Resource"] == f"arn:aws:s3:::{BUCKET}/*/TapStack*"
    assert statements["ProtectState"]["Effect"] == "Deny"
    assert {"s3:DeleteBucket", "s3:DeleteObjectVersion"} <= set(statements["ProtectState"]["Action"])
    assert statements["ProtectState"]["Resource"] == [f"arn:aws:s3:::{BUCKET}",
                                                      f"arn:aws:s3:::{BUCKET}/*"]
    (trust,) = document["trust_policy"]["Statement"]
    assert trust["Action"] == "sts:AssumeRoleWithWebIdentity"
    assert trust["Principal"]["Federated"] == (
        "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com")
    assert trust["Condition"] == {
        "StringEquals": {"token.actions.githubusercontent.com:aud": "sts.amazonaws.com"},
        "StringLike": {"token.actions.githubusercontent.com:sub": [
            "repo:acme/tap:environment:dev", "repo:acme/tap:environment:production",
            "repo:acme/tap:pull_request"]}}


def test_an_unknown_type_is_an_error_naming_it(synth: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(bootstrap.BootstrapError, match="aws_made_up, data.aws_unheard_of"):
        bootstrap.derive_actions({"aws_vpc", "aws_made_up", "data.aws_unheard_of"})
    write_stack(synth, "pr2", {"resource": {"aws_made_up": {}}})
    code, out, err = run(capsys, "--bucket", BUCKET, "--repository", REPOSITORY, "--synth",
                         str(synth), "--skip-bucket", "--account-id", "111122223333")
    assert (code, out) == (2, "")
    assert err == ("bootstrap: no IAM actions for aws_made_up: add them to ACTIONS in "
                   "tools/bootstrap.py\n")


@pytest.mark.parametrize("argv,message", [
    (("--repository", REPOSITORY), "no bucket: give --bucket or TERRAFORM_STATE_BUCKET"),
    (("--bucket", BUCKET, "--repository", "tap"), "--repository 'tap' is not org/name"),
])
def test_bad_input(argv: tuple[str, ...], message: str,
                   capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, *argv) == (2, "", f"bootstrap: {message}\n")


def test_no_synthesized_stack_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(bootstrap.BootstrapError, match="run `make synth-profiles`"):
        bootstrap.synthesized(tmp_path)


def test_policies_are_cut_to_the_managed_policy_limit() -> None:
    actions = sorted({a for actions in bootstrap.ACTIONS.values() for a in actions})
    documents = bootstrap.pack(bootstrap.permission_statements(actions, BUCKET))
    assert len(documents) > 1
    for document in documents:
        assert len(json.dumps(document, separators=(",", ":"))) <= bootstrap.MANAGED_POLICY_LIMIT
    granted = {a for d in documents for s in d["Statement"] for a in
               ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])}
    assert set(actions) <= granted  # nothing lost in the cutting


def test_every_synthesized_type_has_actions() -> None:
    try:
        paths = bootstrap.synthesized(bootstrap.SYNTH)
    except bootstrap.BootstrapError:
        assert os.environ.get("TAP_SCAN_REQUIRED") != "1", f"no stacks in {bootstrap.SYNTH}"
        pytest.skip(f"no synthesized stacks in {bootstrap.SYNTH}: run `make synth-profiles`")
    labels = {path.parts[-4] for path in paths}
    assert {"dev", "pr4892", "prod", "pr4892-byon"} <= labels
    types = set().union(*(bootstrap.stack_types(json.loads(p.read_text(encoding="utf-8")))
                          for p in paths))
    assert len(types) > 50
    assert bootstrap.derive_actions(types)  # raises, naming them, if a type is missing
