"""The bootstrap (tools/bootstrap.py): the state bucket and the application's ECR repository on
in-process moto (the repository's own settings: tests/tools/test_app_repository.py), the
derived policies.

``test_every_synthesized_type_has_actions`` reads the stacks ``make synth-profiles`` wrote to
``build/synth``; it skips without them, and fails instead under ``make scan``
(``TAP_SCAN_REQUIRED=1``), which synthesizes them first.
"""
# pylint: disable=redefined-outer-name
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Iterable

import boto3
import pytest
from botocore.stub import Stubber

from lib import resource_types
from lib.resource_types import LINKED_ROLES, RESOURCES
from tools import account_roles, app_repository, bootstrap

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
    # The repository is in the stacks' region (AWS_REGION, here unset: us-east-1), not the
    # bucket's.
    assert err.splitlines()[1] == (
        "bootstrap: created repository tap/app in us-east-1 (encryption AES256); set image tag "
        "mutability IMMUTABLE; set scan on push on; set the lifecycle policy (untagged images "
        "expire after 7 days, the last 1000 tagged images are kept)")
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
    assert err.splitlines()[:2] == [
        f"bootstrap: bucket {BUCKET} already as wanted: nothing changed",
        "bootstrap: repository tap/app already as wanted: nothing changed"]


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
                         str(synth), "--skip-bucket", "--skip-repository", "--environments",
                         "dev,production", "--ecr-region", "eu-central-1")
    assert code == 0, err
    document = json.loads(out)
    (permissions,) = document["permission_policies"]
    statements = {s["Sid"]: s for s in permissions["Statement"]}
    assert list(statements) == ["StackResources", "PassStackRoles", "StateBucket", "StateObjects",
                                "ProtectState", "PushAppImage", "RegistryLogin"]
    expected = set(bootstrap.ACTIONS["aws_vpc"] + bootstrap.ACTIONS["aws_ecs_service"]
                   + bootstrap.ACTIONS["aws_s3_bucket"]) | {"sts:GetCallerIdentity"}
    assert set(statements["StackResources"]["Action"]) == expected - {"iam:PassRole"}
    assert statements["StackResources"]["Resource"] == "*"
    # Only the ECS service of these stacks passes a role: to the tasks.
    assert statements["PassStackRoles"]["Condition"]["StringEquals"]["iam:PassedToService"] \
        == ["ecs-tasks.amazonaws.com"]
    assert statements["StateBucket"]["Resource"] == f"arn:aws:s3:::{BUCKET}"
    assert statements["StateObjects"]["Resource"] == f"arn:aws:s3:::{BUCKET}/*/TapStack*"
    assert statements["ProtectState"]["Effect"] == "Deny"
    assert {"s3:DeleteBucket", "s3:DeleteObjectVersion"} <= set(statements["ProtectState"]["Action"])
    assert statements["ProtectState"]["Resource"] == [f"arn:aws:s3:::{BUCKET}",
                                                      f"arn:aws:s3:::{BUCKET}/*"]
    # The pipeline pushes to exactly the application's repository, in the stacks' region, and
    # logs in to the registry (GetAuthorizationToken names no repository).
    assert statements["PushAppImage"] == {
        "Sid": "PushAppImage", "Effect": "Allow",
        "Action": ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage",
                   "ecr:CompleteLayerUpload", "ecr:DescribeImages", "ecr:InitiateLayerUpload",
                   "ecr:PutImage", "ecr:UploadLayerPart"],
        "Resource": "arn:aws:ecr:eu-central-1:123456789012:repository/tap/app"}
    assert statements["RegistryLogin"] == {"Sid": "RegistryLogin", "Effect": "Allow",
                                           "Action": "ecr:GetAuthorizationToken", "Resource": "*"}
    # Nothing else of the stack's or the state's statements grants an ECR action.
    assert not [a for sid in ("StackResources", "StateBucket", "StateObjects")
                for a in statements[sid]["Action"] if a.startswith("ecr:")]
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
                         str(synth), "--skip-bucket", "--skip-repository", "--account-id",
                         "111122223333")
    assert (code, out) == (2, "")
    assert err == "bootstrap: no IAM actions for aws_made_up: add them to lib/resource_types.py\n"


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
    services = resource_types.passed_to(set(RESOURCES))
    assert services == ["ecs-tasks.amazonaws.com", "monitoring.rds.amazonaws.com",
                        "scheduler.amazonaws.com", "vpc-flow-logs.amazonaws.com"]
    documents = bootstrap.pack(bootstrap.permission_statements(
        actions, BUCKET, services, app_repository.repository_arn("123456789012", REGION)))
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


# The account's roles (tools/account_roles.py): every resource type of the registry names its
# service, and the registry's LINKED_ROLES the service-linked role each service creates on its
# first use in an account (or none, with the reason).
SERVICES: dict[str, tuple[str | None, tuple[str, ...]]] = {
    service: (principal, tuple(t for t, entry in RESOURCES.items() if entry.service == service))
    for service, principal in LINKED_ROLES.items()}
# A type of a service the registry does not know (a made-up type has none).
UNKNOWN = "no service in lib/resource_types.py LINKED_ROLES"


def roles_missing(types: set[str], table: Iterable[str] = tuple(
        account_roles.SERVICE_LINKED_ROLES)) -> list[str]:
    """The types whose service needs a service-linked role ``table`` lacks, or that no
    service of SERVICES lists, each with what is wrong."""
    by_type = {t: (service, principal) for service, (principal, listed) in SERVICES.items()
               for t in listed}
    problems = [f"{t}: {UNKNOWN}" for t in sorted(types - set(by_type))]
    problems += [f"{t}: {by_type[t][0]} needs {by_type[t][1]}, not in SERVICE_LINKED_ROLES"
                 for t in sorted(types & set(by_type))
                 if by_type[t][1] is not None
                 and by_type[t][1] not in table]
    return problems


def test_every_type_of_the_stack_has_the_service_linked_role_its_service_needs() -> None:
    types = {t for t in bootstrap.ACTIONS if not t.startswith("data.")}
    listed = [t for _, ts in SERVICES.values() for t in ts]
    assert len(listed) == len(set(listed))  # each type under one service
    assert set(listed) == types  # every type's service is one of LINKED_ROLES
    assert all(ts for _, ts in SERVICES.values())  # and every service has a type
    assert roles_missing(types) == []
    # No entry in the table that no type of the stack needs.
    assert {p for p, _ in SERVICES.values() if p} == set(account_roles.SERVICE_LINKED_ROLES)
    # The check names the type and the role: a stack that gained a type of a new service, and
    # a table that lost ElastiCache's role.
    assert roles_missing(types | {"aws_made_up"}) == [f"aws_made_up: {UNKNOWN}"]
    without = set(account_roles.SERVICE_LINKED_ROLES) - {"elasticache.amazonaws.com"}
    assert roles_missing(types, without) == [
        f"{rtype}: elasticache needs elasticache.amazonaws.com, not in SERVICE_LINKED_ROLES"
        for rtype in ("aws_elasticache_serverless_cache", "aws_elasticache_user",
                      "aws_elasticache_user_group", "aws_elasticache_user_group_association")]


def test_the_synthesized_stacks_need_no_role_beyond_the_table() -> None:
    try:
        paths = bootstrap.synthesized(bootstrap.SYNTH)
    except bootstrap.BootstrapError:
        assert os.environ.get("TAP_SCAN_REQUIRED") != "1", f"no stacks in {bootstrap.SYNTH}"
        pytest.skip(f"no synthesized stacks in {bootstrap.SYNTH}: run `make synth-profiles`")
    documents = [json.loads(p.read_text(encoding="utf-8")) for p in paths]
    types = set().union(*(set(d.get("resource", {})) for d in documents))
    assert roles_missing(types) == []
    # Every role of the table is needed by the reference profiles.
    by_type = {t: p for p, ts in SERVICES.values() for t in ts}
    assert {by_type[t] for t in types} - {None} == set(account_roles.SERVICE_LINKED_ROLES)
    # What the None entries above rely on.
    for document in documents:
        resources = document["resource"]
        # (the shared stack has no service to scale, and an environment on the shared pieces
        # no web ACL to log)
        assert {r["service_namespace"] for r in resources.get(
            "aws_appautoscaling_target", {}).values()} <= {"ecs"}
        for logging in resources.get("aws_wafv2_web_acl_logging_configuration", {}).values():
            (destination,) = logging["log_destination_configs"]
            assert destination.startswith("${aws_s3_bucket."), destination
        assert not any(k.get("multi_region") for k in resources["aws_kms_key"].values())
        actions = {a for alarm in resources["aws_cloudwatch_metric_alarm"].values()
                   for a in alarm.get("alarm_actions", []) + alarm.get("ok_actions", [])}
        assert actions and all(a.startswith("${aws_sns_topic.") for a in actions), actions


def service_roles(iam: Any) -> dict[str, str]:
    """Principal -> role name of every service-linked role in the account."""
    roles = iam.list_roles(PathPrefix="/aws-service-role/")["Roles"]
    return {r["Path"].split("/")[2]: r["RoleName"] for r in roles}


def test_a_fresh_account_gets_each_service_linked_role_once(
        aws: Any, synth: Path, capsys: pytest.CaptureFixture[str]) -> None:
    del aws
    iam = boto3.client("iam", region_name="us-east-1")
    assert service_roles(iam) == {}
    argv = ("--bucket", BUCKET, "--region", REGION, "--repository", REPOSITORY, "--synth",
            str(synth), "--skip-bucket", "--skip-repository")
    code, _, err = run(capsys, *argv)
    assert code == 0, err
    created = service_roles(iam)
    assert sorted(created) == sorted(account_roles.SERVICE_LINKED_ROLES)
    assert err.splitlines()[:6] == [
        f"bootstrap: service-linked role {created[p]} ({p}): created"
        for p in account_roles.SERVICE_LINKED_ROLES]

    code, _, err = run(capsys, *argv)
    assert code == 0, err
    assert service_roles(iam) == created  # nothing new
    assert err.splitlines()[:6] == [
        f"bootstrap: service-linked role {created[p]} ({p}): already present"
        for p in account_roles.SERVICE_LINKED_ROLES]


def test_the_skips_leave_the_account_alone(aws: Any, synth: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "--bucket", BUCKET, "--repository", REPOSITORY, "--synth",
                         str(synth), "--skip-bucket", "--skip-repository", "--skip-roles")
    assert (code, err) == (0, "")
    assert json.loads(out)["max_session_duration"] == 11700
    assert service_roles(boto3.client("iam", region_name="us-east-1")) == {}
    assert aws.list_buckets()["Buckets"] == []
    assert boto3.client("ecr", region_name="us-east-1").describe_repositories()[
        "repositories"] == []
    # The push statement is printed all the same: the role needs it whoever made the repository.
    sids = [s["Sid"] for d in json.loads(out)["permission_policies"] for s in d["Statement"]]
    assert sids[-2:] == ["PushAppImage", "RegistryLogin"]


def test_the_repository_goes_to_the_stacks_region_and_a_bad_one_stops_bootstrap(
        aws: Any, synth: Path, capsys: pytest.CaptureFixture[str]) -> None:
    del aws
    argv = ["--bucket", BUCKET, "--repository", REPOSITORY, "--synth", str(synth),
            "--skip-bucket", "--skip-roles"]
    code = bootstrap.main(argv, {"AWS_REGION": "ap-southeast-2"})
    _, err = capsys.readouterr()
    assert code == 0, err
    assert err.startswith("bootstrap: created repository tap/app in ap-southeast-2 ")
    sydney = boto3.client("ecr", region_name="ap-southeast-2")
    assert sydney.describe_repositories()["repositories"][0]["imageTagMutability"] == "IMMUTABLE"
    # A repository ECR cannot bring to the settings stops the bootstrap before the policies.
    boto3.client("ecr", region_name="us-east-1").create_repository(
        repositoryName="tap/app", encryptionConfiguration={"encryptionType": "KMS"})
    assert run(capsys, *argv) == (2, "", (
        "bootstrap: repository tap/app is encrypted with KMS, not AES256: ECR sets a "
        "repository's encryption only when it creates it; keep it and run with "
        "--skip-repository, or delete the repository (and its images) and run again\n"))


def stubbed_iam(error_message: str) -> Any:
    """An IAM client that finds no ECS role, then gets ``error_message`` as InvalidInput."""
    iam = boto3.client("iam", region_name="us-east-1", aws_access_key_id="x",
                       aws_secret_access_key="x")
    stubber = Stubber(iam)
    stubber.add_response("list_roles", {"Roles": []},
                         {"PathPrefix": "/aws-service-role/ecs.amazonaws.com/"})
    stubber.add_client_error("create_service_linked_role", service_error_code="InvalidInput",
                             service_message=error_message, http_status_code=400,
                             expected_params={"AWSServiceName": "ecs.amazonaws.com"})
    stubber.activate()
    return iam


def test_the_role_aws_says_is_taken_counts_as_present() -> None:
    # AWS's answer when the role exists (created by a deploy between our read and our create),
    # as quoted in bcgov/startup-sample-project-aws-containers #13; moto answers
    # EntityAlreadyExists instead, so the answer is stubbed.
    iam = stubbed_iam("Service role name AWSServiceRoleForECS has been taken in this account, "
                      "please try a different suffix.")
    assert account_roles.ensure_service_linked_roles(iam, ("ecs.amazonaws.com",)) == [
        "service-linked role of ecs.amazonaws.com: already present (created meanwhile)"]
    # Another InvalidInput is a failure, named.
    iam = stubbed_iam("Custom suffix is not allowed for ecs.amazonaws.com")
    with pytest.raises(account_roles.AccountRoleError, match=(
            "^cannot create the service-linked role of ecs.amazonaws.com: InvalidInput: "
            "Custom suffix is not allowed for ecs.amazonaws.com$")):
        account_roles.ensure_service_linked_roles(iam, ("ecs.amazonaws.com",))


def test_the_deploy_role_gets_a_session_that_outlasts_the_longest_job(
        aws: Any, synth: Path, capsys: pytest.CaptureFixture[str]) -> None:
    del aws
    iam = boto3.client("iam", region_name="us-east-1")
    argv = ("--bucket", BUCKET, "--repository", REPOSITORY, "--synth", str(synth),
            "--skip-bucket", "--skip-repository")
    code, out, err = run(capsys, *argv)
    assert code == 0, err
    assert json.loads(out)["max_session_duration"] == 11700  # (180 + 15) minutes
    assert err.splitlines()[-1] == (
        "bootstrap: deploy role tap-deploy not found: create it with --max-session-duration "
        "11700 (max_session_duration in the output)")

    trust = json.dumps(json.loads(out)["trust_policy"])
    iam.create_role(RoleName="tap-deploy", AssumeRolePolicyDocument=trust)  # 3600 s: IAM's default
    assert run(capsys, *argv)[2].splitlines()[-1] == (
        "bootstrap: deploy role tap-deploy: MaxSessionDuration 3600 s -> 11700 s")
    assert iam.get_role(RoleName="tap-deploy")["Role"]["MaxSessionDuration"] == 11700
    assert run(capsys, *argv)[2].splitlines()[-1] == (
        "bootstrap: deploy role tap-deploy: MaxSessionDuration 11700 s already allows 11700 s: "
        "nothing changed")

    iam.create_role(RoleName="ops-deploy", AssumeRolePolicyDocument=trust,
                    MaxSessionDuration=43200)
    assert run(capsys, *argv, "--role-name", "ops-deploy")[2].splitlines()[-1] == (
        "bootstrap: deploy role ops-deploy: MaxSessionDuration 43200 s already allows 11700 s: "
        "nothing changed")
    assert iam.get_role(RoleName="ops-deploy")["Role"]["MaxSessionDuration"] == 43200


def test_the_session_is_within_what_iam_allows() -> None:
    assert account_roles.SESSION_SECONDS == (180 + 15) * 60
    assert account_roles.MIN_SESSION_SECONDS <= account_roles.SESSION_SECONDS \
        <= account_roles.MAX_SESSION_SECONDS
