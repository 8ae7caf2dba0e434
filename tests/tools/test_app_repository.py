"""The application's ECR repository (tools/app_repository.py) on in-process moto.

The settings are written out here as ECR answers them (describe-repositories, the lifecycle
policy's JSON), not recomputed from the module: a change of a setting fails these tests. moto
keeps what it is given and does not enforce tag immutability (getmoto/moto #8717), so these
tests check the settings, not ECR's behaviour under them; an ECR refusal is stubbed.
"""
# pylint: disable=redefined-outer-name
from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from tools import app_repository

REGION = "eu-west-1"
NAME = "tap/app"
POLICY = {"rules": [
    {"rulePriority": 1, "description": "untagged images expire 7 days after their push",
     "selection": {"tagStatus": "untagged", "countType": "sinceImagePushed",
                   "countUnit": "days", "countNumber": 7},
     "action": {"type": "expire"}},
    {"rulePriority": 2, "description": "the 1000 most recently pushed tagged images are kept",
     "selection": {"tagStatus": "tagged", "tagPatternList": ["*"],
                   "countType": "imageCountMoreThan", "countNumber": 1000},
     "action": {"type": "expire"}}]}
CREATED = [f"created repository {NAME} in {REGION} (encryption AES256)",
           "set image tag mutability IMMUTABLE", "set scan on push on",
           "set the lifecycle policy (untagged images expire after 7 days, the last 1000 tagged "
           "images are kept)"]
NOTHING: list[str] = []  # what a run that changes nothing returns


@pytest.fixture
def ecr(moto_aws: None) -> Any:
    del moto_aws
    return boto3.client("ecr", region_name=REGION)


def described(ecr: Any) -> dict[str, Any]:
    (repository,) = ecr.describe_repositories(repositoryNames=[NAME])["repositories"]
    return {key: repository[key] for key in ("repositoryArn", "imageTagMutability",
                                             "imageScanningConfiguration",
                                             "encryptionConfiguration")}


def policy(ecr: Any) -> Any:
    return json.loads(ecr.get_lifecycle_policy(repositoryName=NAME)["lifecyclePolicyText"])


def test_a_fresh_account_gets_the_repository_and_a_second_run_changes_nothing(ecr: Any) -> None:
    assert app_repository.ensure_repository(ecr, NAME) == CREATED
    assert described(ecr) == {
        "repositoryArn": f"arn:aws:ecr:{REGION}:123456789012:repository/{NAME}",
        "imageTagMutability": "IMMUTABLE", "imageScanningConfiguration": {"scanOnPush": True},
        "encryptionConfiguration": {"encryptionType": "AES256"}}
    assert policy(ecr) == POLICY
    assert app_repository.repository_arn("123456789012", REGION) == described(ecr)[
        "repositoryArn"]
    assert app_repository.ensure_repository(ecr, NAME) == NOTHING


def test_a_drifted_setting_is_put_back_alone(ecr: Any) -> None:
    app_repository.ensure_repository(ecr, NAME)
    ecr.put_image_tag_mutability(repositoryName=NAME, imageTagMutability="MUTABLE")
    assert app_repository.ensure_repository(ecr, NAME) == ["set image tag mutability IMMUTABLE"]
    ecr.put_image_scanning_configuration(repositoryName=NAME,
                                         imageScanningConfiguration={"scanOnPush": False})
    ecr.delete_lifecycle_policy(repositoryName=NAME)
    assert app_repository.ensure_repository(ecr, NAME) == CREATED[2:]
    assert described(ecr)["imageScanningConfiguration"] == {"scanOnPush": True}
    assert policy(ecr) == POLICY


def test_an_existing_repository_keeps_its_images_and_gets_the_settings(ecr: Any) -> None:
    ecr.create_repository(repositoryName=NAME)  # ECR's defaults: mutable, no scan, AES256
    manifest = json.dumps({"schemaVersion": 2, "config": {"digest": "sha256:" + "1" * 64},
                           "mediaType": "application/vnd.docker.distribution.manifest.v2+json"})
    ecr.put_image(repositoryName=NAME, imageManifest=manifest, imageTag="reference")
    assert app_repository.ensure_repository(ecr, NAME) == CREATED[1:]
    (image,) = ecr.describe_images(repositoryName=NAME)["imageDetails"]
    assert image["imageTags"] == ["reference"]


def test_the_lifecycle_policy_is_compared_by_rule_priority_and_what_it_sets(ecr: Any) -> None:
    app_repository.ensure_repository(ecr, NAME)
    # ECR reorders rules by priority and may echo more than it was given: no change.
    reordered = {"rules": [{**POLICY["rules"][1], "selection": {
        **POLICY["rules"][1]["selection"], "tagPrefixList": []}}, POLICY["rules"][0]]}
    ecr.put_lifecycle_policy(repositoryName=NAME, lifecyclePolicyText=json.dumps(reordered))
    assert app_repository.ensure_repository(ecr, NAME) == NOTHING
    # Another count, a rule more or a rule less: written again.
    for rules in ([POLICY["rules"][0], {**POLICY["rules"][1], "selection": {
            **POLICY["rules"][1]["selection"], "countNumber": 10}}],
                  POLICY["rules"][:1],
                  [*POLICY["rules"], {"rulePriority": 3, "selection": {
                      "tagStatus": "any", "countType": "imageCountMoreThan", "countNumber": 5},
                                      "action": {"type": "expire"}}]):
        ecr.put_lifecycle_policy(repositoryName=NAME,
                                 lifecyclePolicyText=json.dumps({"rules": rules}))
        assert app_repository.ensure_repository(ecr, NAME) == CREATED[3:]
        assert policy(ecr) == POLICY


def test_a_repository_encrypted_otherwise_is_an_error_and_left_alone(ecr: Any) -> None:
    ecr.create_repository(repositoryName=NAME, encryptionConfiguration={"encryptionType": "KMS"})
    with pytest.raises(app_repository.RepositoryError) as raised:
        app_repository.ensure_repository(ecr, NAME)
    assert str(raised.value) == (
        "repository tap/app is encrypted with KMS, not AES256: ECR sets a repository's "
        "encryption only when it creates it; keep it and run with --skip-repository, or delete "
        "the repository (and its images) and run again")
    assert described(ecr)["imageTagMutability"] == "MUTABLE"  # nothing written


def test_a_change_ecr_refuses_is_an_error_naming_it() -> None:
    ecr = boto3.client("ecr", region_name=REGION, aws_access_key_id="x",
                       aws_secret_access_key="x")
    stubber = Stubber(ecr)
    stubber.add_response("describe_repositories", {"repositories": [{
        "repositoryName": NAME, "imageTagMutability": "MUTABLE",
        "imageScanningConfiguration": {"scanOnPush": True},
        "encryptionConfiguration": {"encryptionType": "AES256"}}]},
        {"repositoryNames": [NAME]})
    stubber.add_response("get_lifecycle_policy", {"lifecyclePolicyText": json.dumps(POLICY)},
                         {"repositoryName": NAME})
    stubber.add_client_error("put_image_tag_mutability",
                             service_error_code="AccessDeniedException",
                             service_message="not authorized to perform ecr:PutImageTagMutability",
                             http_status_code=400,
                             expected_params={"repositoryName": NAME,
                                              "imageTagMutability": "IMMUTABLE"})
    stubber.activate()
    with pytest.raises(app_repository.RepositoryError) as raised:
        app_repository.ensure_repository(ecr, NAME)
    assert str(raised.value) == (
        "repository tap/app: cannot set image tag mutability IMMUTABLE: AccessDeniedException: "
        "not authorized to perform ecr:PutImageTagMutability")
    stubber.assert_no_pending_responses()


def test_the_push_actions_are_those_of_the_ecr_guide_and_the_digest_read() -> None:
    # "IAM permissions for pushing an image to an Amazon ECR private repository" (ECR user
    # guide), plus ecr:DescribeImages for the push script's digest.
    assert set(app_repository.PUSH_ACTIONS) == {
        "ecr:CompleteLayerUpload", "ecr:UploadLayerPart", "ecr:InitiateLayerUpload",
        "ecr:BatchCheckLayerAvailability", "ecr:PutImage", "ecr:BatchGetImage",
        "ecr:DescribeImages"}
    assert app_repository.LOGIN_ACTION == "ecr:GetAuthorizationToken"
