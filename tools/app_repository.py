"""The application's ECR repository (``tap/app``): created when absent, kept as the pipeline needs.

``make bootstrap`` calls ``ensure_repository(ecr, name)`` (unless ``--skip-repository``) with an
ECR client of the stacks' region: ``CONTAINER_IMAGE=ecr:tap/app@sha256:<digest>`` means this
account's ECR in the stack's region (lib/images.py), and the workflows push there
(.github/scripts/push-image.sh). Like bootstrap's state bucket, each setting is read first and
written only when it differs, so a second run changes nothing and says so:

- **tag immutability** ``IMMUTABLE``: a tag never moves to another image. The pipeline tags each
  image with the commit it was built from and deploys by digest anyway; an immutable tag means
  ``<sha>`` always names what that commit built. ECR answers ``ImageTagAlreadyExistsException``
  to a push of a tag it has ("Preventing image tags from being overwritten in Amazon ECR", ECR
  user guide), which is why the push script reuses a commit's image instead of pushing it again.
- **scan on push** (basic scanning): every pushed image is scanned for known vulnerabilities.
  This is the repository's own setting; ECR documents that ``PutImageScanningConfiguration``
  "is being deprecated, in favor of specifying the image scanning configuration at the registry
  level" (API reference), and a registry-level configuration, when an account has one, decides
  instead. That setting is account-wide, shared with other workloads: left to the account's
  owners.
- **encryption** ``AES256`` (server-side encryption with S3-managed keys, ECR's default). Only
  ``CreateRepository`` takes an encryption configuration (no ECR API changes it later; the
  botocore model of ECR has no other repository operation with ``encryptionConfiguration``), so
  a repository that exists with another encryption is an error naming it, not a change.
  Why not KMS: as for the state bucket, a customer managed key would add a key policy and
  ``kms:Decrypt`` to every puller (each environment's execution role) for images that hold no
  secret (secrets reach the task from Secrets Manager at start).
- **a lifecycle policy** (``lifecycle_policy()``), applied by ECR within 24 hours of a change
  ("Creating a lifecycle policy for a repository in Amazon ECR"):

  1. untagged images expire ``UNTAGGED_DAYS`` (7) days after their push. The pipeline pushes
     every image with a tag and never moves one, and it pushes one image manifest, not an image
     index whose per-platform images would be untagged; so an untagged image is nobody's
     deploy: what a push by hand without a tag, or a tag deleted by hand, leaves. A working week
     to look at one is enough.
  2. of the tagged images (``tagPatternList: ["*"]``), the ``KEEP_TAGGED`` (1000) most recently
     pushed are kept, the older ones expire. Every environment runs an image by digest, and an
     expired image cannot be pulled again: the next task of a service that runs it (a scale-out,
     a replaced task) fails with ``CannotPullContainerError``. The count must outlast the oldest
     image a live environment runs: production runs the last approved image of main and lags
     while a release waits for its reviewer, and each open pull request's environment its last
     push. One image is pushed per deploy run (each push to an open pull request, each merge to
     main): at 20 a working day, 1000 is ten working weeks. Storage is what this costs: at
     ECR's $0.10 per GB-month (aws.amazon.com/ecr/pricing), 1000 images with 50 MB of their own
     each would be $5 a month (not measured here: no container engine runs on this machine).
     ECR's quota is far above it (100,000 images per repository, "Amazon ECR service quotas").

  Rule order matters: "an image that matches the tagging requirements of a higher priority rule
  cannot be expired by a rule with a lower priority", and ``tagStatus: tagged`` needs a
  ``tagPrefixList`` or a ``tagPatternList`` ("Lifecycle policy properties in Amazon ECR").

Exposes ``REPOSITORY``, ``PUSH_ACTIONS`` and ``LOGIN_ACTION`` (what the deploy role needs to
push, bootstrap's ``PushAppImage`` and ``RegistryLogin`` statements), ``repository_arn``,
``repository_settings``, ``lifecycle_policy``, ``ensure_repository`` and ``RepositoryError``.
"""
from __future__ import annotations

import json
from typing import Any, Callable

# The reference application's repository: app/app.toml's image (``ecr:tap/app:...``) and the
# workflows' APP_REPOSITORY (tests/tools/test_workflows.py checks both).
REPOSITORY = "tap/app"
UNTAGGED_DAYS = 7
KEEP_TAGGED = 1000
# What ``docker push`` calls, from the ECR user guide's "IAM permissions for pushing an image to
# an Amazon ECR private repository" (on the repository's ARN), plus DescribeImages: the push
# script reads the digest ECR stores for the commit's tag, and finds a commit's image already
# pushed (a re-run) instead of pushing its immutable tag again.
PUSH_ACTIONS = ("ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage",
                "ecr:CompleteLayerUpload", "ecr:DescribeImages", "ecr:InitiateLayerUpload",
                "ecr:PutImage", "ecr:UploadLayerPart")
# `aws ecr get-login-password`; the same page grants it on "*" (it names no repository).
LOGIN_ACTION = "ecr:GetAuthorizationToken"


class RepositoryError(Exception):
    """A repository that cannot be brought to the settings (encryption), or an ECR refusal."""


def repository_arn(account_id: str, region: str, name: str = REPOSITORY) -> str:
    """The ARN of repository ``name`` of ``account_id``'s registry in ``region``."""
    return f"arn:aws:ecr:{region}:{account_id}:repository/{name}"


def lifecycle_policy() -> dict[str, Any]:
    """The lifecycle policy (ECR's policy document shape; the reasons in the docstring)."""
    return {"rules": [
        {"rulePriority": 1,
         "description": f"untagged images expire {UNTAGGED_DAYS} days after their push",
         "selection": {"tagStatus": "untagged", "countType": "sinceImagePushed",
                       "countUnit": "days", "countNumber": UNTAGGED_DAYS},
         "action": {"type": "expire"}},
        {"rulePriority": 2,
         "description": f"the {KEEP_TAGGED} most recently pushed tagged images are kept",
         "selection": {"tagStatus": "tagged", "tagPatternList": ["*"],
                       "countType": "imageCountMoreThan", "countNumber": KEEP_TAGGED},
         "action": {"type": "expire"}}]}


def repository_settings() -> dict[str, Any]:
    """What the repository must look like, per setting, in the shapes ECR answers."""
    return {"tag mutability": "IMMUTABLE",
            "scan on push": {"scanOnPush": True},
            "encryption": {"encryptionType": "AES256"},
            "lifecycle policy": lifecycle_policy()}


def _lifecycle(ecr: Any, name: str) -> dict[str, Any] | None:
    try:
        text = ecr.get_lifecycle_policy(repositoryName=name)["lifecyclePolicyText"]
    except ecr.exceptions.LifecyclePolicyNotFoundException:
        return None
    return dict(json.loads(text))


def _read(ecr: Any, name: str) -> dict[str, Any] | None:
    """Every setting as it is now (None: no such repository)."""
    try:
        (found,) = ecr.describe_repositories(repositoryNames=[name])["repositories"]
    except ecr.exceptions.RepositoryNotFoundException:
        return None
    return {"tag mutability": found.get("imageTagMutability"),
            "scan on push": found.get("imageScanningConfiguration"),
            "encryption": found.get("encryptionConfiguration"),
            "lifecycle policy": _lifecycle(ecr, name)}


def _same_policy(actual: dict[str, Any] | None, wanted: dict[str, Any]) -> bool:
    """Whether ``actual`` has ``wanted``'s rules, compared by priority and only in what
    ``wanted`` sets: "The AWS ECR API seems to reorder rules based on rulePriority"
    (terraform-provider-aws, aws_ecr_lifecycle_policy's documentation), and a key ECR might add
    to what it echoes is no difference."""
    if actual is None or len(actual.get("rules", [])) != len(wanted["rules"]):
        return False
    rules = sorted(actual["rules"], key=lambda rule: rule.get("rulePriority", 0))
    for have, want in zip(rules, wanted["rules"]):
        for key, value in want.items():
            got = have.get(key)
            if isinstance(value, dict):
                got = {k: got.get(k) for k in value} if isinstance(got, dict) else None
            if got != value:
                return False
    return True


def _describe(setting: str, value: Any) -> str:
    """How a change of one setting is said."""
    if setting == "tag mutability":
        return f"set image tag mutability {value}"
    if setting == "scan on push":
        return f"set scan on push {'on' if value['scanOnPush'] else 'off'}"
    return (f"set the lifecycle policy (untagged images expire after {UNTAGGED_DAYS} days, the "
            f"last {KEEP_TAGGED} tagged images are kept)")


_WRITE: dict[str, Callable[[Any, str, Any], Any]] = {
    "tag mutability": lambda ecr, n, v: ecr.put_image_tag_mutability(
        repositoryName=n, imageTagMutability=v),
    "scan on push": lambda ecr, n, v: ecr.put_image_scanning_configuration(
        repositoryName=n, imageScanningConfiguration=v),
    "lifecycle policy": lambda ecr, n, v: ecr.put_lifecycle_policy(
        repositoryName=n, lifecyclePolicyText=json.dumps(v)),
}


def ensure_repository(ecr: Any, name: str = REPOSITORY) -> list[str]:
    """Create repository ``name`` when absent and bring every setting to repository_settings.

    Returns what changed, one phrase each (empty: the repository was already right). Raises
    RepositoryError for an encryption that only a new repository could change, or when ECR
    refuses a change."""
    wanted = repository_settings()
    changed = []
    current = _read(ecr, name)
    if current is None:
        try:
            ecr.create_repository(repositoryName=name,
                                  encryptionConfiguration=wanted["encryption"])
            changed.append(f"created repository {name} in {ecr.meta.region_name} "
                           f"(encryption {wanted['encryption']['encryptionType']})")
        except ecr.exceptions.RepositoryAlreadyExistsException:
            pass  # made meanwhile (another bootstrap): brought to the settings below
        current = _read(ecr, name)
        if current is None:
            raise RepositoryError(f"repository {name}: created, then not found")
    encryption = current["encryption"] or {}
    if encryption.get("encryptionType") != wanted["encryption"]["encryptionType"]:
        raise RepositoryError(
            f"repository {name} is encrypted with {encryption.get('encryptionType')}, not "
            f"{wanted['encryption']['encryptionType']}: ECR sets a repository's encryption "
            "only when it creates it; keep it and run with --skip-repository, or delete the "
            "repository (and its images) and run again")
    for setting, write in _WRITE.items():
        value = wanted[setting]
        same = (_same_policy(current[setting], value) if setting == "lifecycle policy"
                else current[setting] == value)
        if same:
            continue
        try:
            write(ecr, name, value)
        except ecr.exceptions.ClientError as error:
            details = error.response.get("Error", {})
            raise RepositoryError(f"repository {name}: cannot {_describe(setting, value)}: "
                                  f"{details.get('Code')}: {details.get('Message')}") from None
        changed.append(_describe(setting, value))
    return changed
