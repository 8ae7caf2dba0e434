"""The workflows' image step (.github/scripts/push-image.sh), run by bash against recording
stand-ins of ``aws`` and ``docker`` on PATH (no container engine or AWS here).

The stand-ins answer as the AWS CLI does: ``describe-images`` of a tag the repository lacks
fails with ``ImageNotFoundException`` (exit 254), of a repository that does not exist with
``RepositoryNotFoundException``; the pushed image's digest is the registry's. Each call is
recorded, so the tests assert what ran, in order: a new commit is built once and pushed; a
commit whose image is in ECR already (a re-run: its tag is immutable) is not built again.
"""
# pylint: disable=redefined-outer-name
from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / ".github" / "scripts" / "push-image.sh"
SHA = "0123456789abcdef0123456789abcdef01234567"
DIGEST = "sha256:" + "ab" * 32
REGISTRY = "123456789012.dkr.ecr.eu-west-1.amazonaws.com"
# The stand-ins: each records its arguments (one call a line) and answers from files in $FAKE.
AWS = """#!/usr/bin/env bash
echo "aws $*" >> "$FAKE/calls"
case "$1 $2" in
  "ecr describe-images")
    if [ -f "$FAKE/no-repository" ]; then
      echo "An error occurred (RepositoryNotFoundException) when calling the DescribeImages \
operation: The repository with name 'tap/app' does not exist" >&2; exit 254
    elif [ -f "$FAKE/pushed" ]; then cat "$FAKE/pushed"
    else
      echo "An error occurred (ImageNotFoundException) when calling the DescribeImages \
operation: The image with imageId {imageTag:'x'} does not exist" >&2; exit 254
    fi ;;
  "sts get-caller-identity") echo 123456789012 ;;
  "ecr get-login-password") echo ecr-token ;;
  *) echo "unexpected: aws $*" >&2; exit 2 ;;
esac
"""
# (login records its call once its standard input is read: after the aws call that feeds it)
DOCKER = """#!/usr/bin/env bash
if [ "$1" = login ]; then
  [ "$(cat)" = ecr-token ] || { echo "docker login: wrong password" >&2; exit 1; }
fi
echo "docker $*" >> "$FAKE/calls"
if [ "$1" = push ]; then cp "$FAKE/digest" "$FAKE/pushed"; fi
"""


@pytest.fixture
def fake(tmp_path: Path) -> Path:
    """A directory with the stand-ins in bin/, the digest the push makes, an output file."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name, text in (("aws", AWS), ("docker", DOCKER)):
        (bin_dir / name).write_text(text, encoding="utf-8")
        (bin_dir / name).chmod(0o755)
    (tmp_path / "digest").write_text(DIGEST + "\n", encoding="utf-8")
    (tmp_path / "output").write_text("", encoding="utf-8")
    return tmp_path


def push(fake: Path) -> subprocess.CompletedProcess[str]:
    env = {"PATH": f"{fake / 'bin'}:{os.defpath}", "FAKE": str(fake), "APP_REPOSITORY": "tap/app",
           "APP_DOCKERFILE": "app/Dockerfile", "IMAGE_TAG": SHA, "AWS_REGION": "eu-west-1",
           "GITHUB_OUTPUT": str(fake / "output")}
    return subprocess.run(["bash", str(SCRIPT)], capture_output=True, text=True, check=False,
                          timeout=60, cwd=ROOT, env=env)


def calls(fake: Path) -> list[str]:
    path = fake / "calls"
    return path.read_text(encoding="utf-8").splitlines() if path.exists() else []


DESCRIBE = ("aws ecr describe-images --region eu-west-1 --repository-name tap/app --image-ids "
            f"imageTag={SHA} --query imageDetails[0].imageDigest --output text")


@pytest.mark.skipif(shutil.which("bash") is None, reason="no bash")
def test_a_new_commit_is_built_once_pushed_and_deployed_by_the_registrys_digest(
        fake: Path) -> None:
    result = push(fake)
    assert result.returncode == 0, result.stderr
    assert calls(fake) == [
        DESCRIBE,
        "aws sts get-caller-identity --query Account --output text",
        "aws ecr get-login-password --region eu-west-1",
        f"docker login --username AWS --password-stdin {REGISTRY}",
        "docker build --file app/Dockerfile --platform linux/amd64 --provenance=false "
        f"--sbom=false --tag {REGISTRY}/tap/app:{SHA} .",
        f"docker push {REGISTRY}/tap/app:{SHA}",
        DESCRIBE,
        f"docker logout {REGISTRY}"]
    assert (fake / "output").read_text(encoding="utf-8") == f"digest={DIGEST}\n"
    assert result.stdout.splitlines()[-1] == f"push-image: the deploy runs ecr:tap/app@{DIGEST}"


@pytest.mark.skipif(shutil.which("bash") is None, reason="no bash")
def test_a_commit_already_pushed_is_not_built_again(fake: Path) -> None:
    (fake / "pushed").write_text(DIGEST + "\n", encoding="utf-8")
    result = push(fake)
    assert result.returncode == 0, result.stderr
    assert calls(fake) == [DESCRIBE]
    assert (fake / "output").read_text(encoding="utf-8") == f"digest={DIGEST}\n"
    assert result.stdout.splitlines()[0] == (
        f"push-image: tap/app:{SHA} is in ECR already ({DIGEST}): not built again")


@pytest.mark.skipif(shutil.which("bash") is None, reason="no bash")
def test_no_repository_stops_it_before_any_build(fake: Path) -> None:
    (fake / "no-repository").touch()
    result = push(fake)
    assert result.returncode == 1
    assert calls(fake) == [DESCRIBE]
    assert result.stderr.splitlines()[-1] == (
        "push-image: no repository tap/app in eu-west-1: make bootstrap creates it")
    assert (fake / "output").read_text(encoding="utf-8") == ""


@pytest.mark.skipif(shutil.which("bash") is None, reason="no bash")
def test_no_digest_after_the_push_is_a_failure_not_a_deploy(fake: Path) -> None:
    (fake / "digest").write_text("None\n", encoding="utf-8")  # what --output text prints for null
    result = push(fake)
    assert result.returncode == 1
    assert calls(fake)[-1] == f"docker logout {REGISTRY}"  # logged out all the same
    assert result.stderr.splitlines()[-1] == (
        f"push-image: ECR gave no digest for tap/app:{SHA} (got 'None')")
    assert (fake / "output").read_text(encoding="utf-8") == ""
