#!/usr/bin/env python
"""Bootstrap: the state bucket, and the IAM policies of the pipeline's deploy role.

Usage: ``python -m tools.bootstrap --bucket NAME --region REGION --repository org/name
[--account-id ID] [--environments dev,production-plan,production,janitor] [--synth build/synth] [--out FILE]
[--role-name tap-deploy] [--ecr-repository tap/app] [--ecr-region REGION] [--skip-bucket]
[--skip-repository] [--skip-roles]`` (``make bootstrap``; the bucket and its region default to
``TERRAFORM_STATE_BUCKET`` and ``TERRAFORM_STATE_BUCKET_REGION``, the ECR region to
``AWS_REGION``, the stacks' region).

What it changes in the account (each read first and written only when it differs, so a second
run changes nothing and says so): the state bucket (below; not with ``--skip-bucket``), the
application's ECR repository in the stacks' region (``tools/app_repository.py``: immutable
tags, scan on push, AES256, a lifecycle policy; not with ``--skip-repository``), and, unless
``--skip-roles``, the account's roles of ``tools/account_roles.py``: the service-linked
roles the stack needs (``SERVICE_LINKED_ROLES``, created one after another when absent, so that
the first deploy in a fresh account does not race to create them), and the deploy role's
``MaxSessionDuration`` (``--role-name``), raised to ``SESSION_SECONDS`` so that the workflows'
sessions may outlast their longest job. It does NOT create the deploy role, its OIDC provider
or its policies: it prints them, for the platform team to create and attach (docs/ci-cd.md).

The bucket: created when absent, then brought to these settings, each read back first and
written only when it differs (a second run writes nothing and says so):

- versioning on (a bad state write can be rolled back to the previous version);
- default encryption SSE-S3 (AES256). Why not SSE-KMS: a customer managed key would add a key
  policy and ``kms:Decrypt``/``kms:GenerateDataKey`` to every reader of the state (the deploy
  role, the janitor, an operator) and a second place to get access wrong; the AWS managed
  ``aws/s3`` key grants nothing beyond S3 access either. Access to the state is controlled by
  the bucket policy and the role's policy below;
- a bucket policy that denies every request without TLS (``aws:SecureTransport``);
- all four public access blocks on, object ownership ``BucketOwnerEnforced`` (no ACLs);
- a lifecycle rule: noncurrent state versions expire after 90 days, incomplete multipart
  uploads are aborted after 7.

The deploy role's permission policy is DERIVED, not written by hand: every resource and data
source type of the synthesized stacks (``build/synth/*/stacks/*/cdk.tf.json``, written by
``make synth-profiles``: dev, pr4892, prod, pr4892-byon and dev-app) is looked up in
``ACTIONS``, the IAM actions that Terraform's AWS provider calls to create, read, update, tag
and delete that type (data sources: to read it), from the registry of types
(``lib/resource_types.py``). A type the registry lacks is an error that names it, so the
registry grows with the stack. The actions go on ``Resource: *`` (names are
derived per environment and many of these actions take no resource ARN), except
``iam:PassRole``, which is limited to the services the stack's resources pass roles to (their
``passes_role_to`` in the registry). A second
statement grants the state bucket's S3 actions on the bucket and its ``*/TapStack*`` keys
(the state files and their ``.tflock`` lock files); a Deny keeps the stack's own S3 actions
(on ``*``) from deleting the state bucket, erasing old state versions or loosening its settings.
Two more let the pipeline push the application's image: ``PushAppImage``, what ``docker push``
needs (and the digest read) on exactly the application's repository, and ``RegistryLogin``,
``ecr:GetAuthorizationToken`` on ``*`` (``tools/app_repository.py``, from the ECR user guide's
"IAM permissions for pushing an image to an Amazon ECR private repository").

The trust policy lets GitHub's OIDC provider (``token.actions.githubusercontent.com``, audience
``sts.amazonaws.com``) assume the role for this repository only: jobs of its GitHub
environments (``repo:org/name:environment:<env>``) and pull-request runs
(``repo:org/name:pull_request``).

The permissions are more than one managed policy holds (6,144 characters): they come as a list
of policy documents, each within the limit, to attach to the role together.

Output: one JSON object ``{"permission_policies": [...], "trust_policy": ...,
"max_session_duration": SESSION_SECONDS}`` (the last for ``aws iam create-role
--max-session-duration``), on standard output or in ``--out``; what changed in the account, one
line each, on stderr. Exit codes: 0 done; 2 bad input or a change AWS refused (one line on
stderr).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any, Iterable

from lib.regions import DEFAULT_REGION, S3_UNCONSTRAINED_REGION
from lib.resource_types import ACTIONS, HOME, passed_to, stack_types
from tools import app_repository
from tools.account_roles import (DEPLOY_ROLE, SESSION_SECONDS, AccountRoleError,
                                 ensure_service_linked_roles, ensure_session)

ROOT = Path(__file__).resolve().parents[1]
SYNTH = ROOT / "build" / "synth"
STACK_GLOB = "*/stacks/*/cdk.tf.json"
OIDC_HOST = "token.actions.githubusercontent.com"
AUDIENCE = "sts.amazonaws.com"
# The GitHub environments of .github/workflows (tests/tools/test_workflows.py checks it).
DEFAULT_ENVIRONMENTS = ("dev", "production-plan", "production", "janitor")
NONCURRENT_DAYS = 90
ABORT_UPLOAD_DAYS = 7
STATE_KEYS = "*/TapStack*"  # <suffix>/TapStack<suffix>.tfstate and its .tflock
STATE_ACTIONS = ("s3:GetObject", "s3:PutObject", "s3:DeleteObject")
STATE_BUCKET_ACTIONS = ("s3:ListBucket", "s3:GetBucketVersioning")
# The stack's own S3 actions apply to "*", the state bucket included: these are denied on it,
# so that the pipeline cannot delete the bucket, erase state history or loosen its settings.
STATE_DENIED = ("s3:DeleteBucket", "s3:DeleteObjectVersion", "s3:PutBucketPolicy",
                "s3:DeleteBucketPolicy", "s3:PutBucketVersioning", "s3:PutLifecycleConfiguration",
                "s3:PutEncryptionConfiguration", "s3:PutBucketPublicAccessBlock",
                "s3:PutBucketAcl", "s3:PutBucketOwnershipControls")
# The AWS provider asks who it is before anything else.
PROVIDER_ACTIONS = ("sts:GetCallerIdentity",)
# An AWS managed policy holds at most 6,144 characters (whitespace not counted): the
# permissions come as as many managed policies as they need, to attach to the role together.
MANAGED_POLICY_LIMIT = 6144


class BootstrapError(Exception):
    """Bad input: an unknown type, no synthesized stack, a bucket we cannot use."""


def synthesized(synth_dir: Path) -> list[Path]:
    """The ``cdk.tf.json`` files under ``synth_dir``; an error when there is none."""
    found = sorted(synth_dir.glob(STACK_GLOB))
    if not found:
        raise BootstrapError(f"no {STACK_GLOB} under {synth_dir}: run `make synth-profiles`")
    return found


def derive_actions(types: Iterable[str]) -> list[str]:
    """The sorted IAM actions of ``types``; an error naming every type ACTIONS lacks."""
    types = set(types)
    missing = sorted(types - set(ACTIONS))
    if missing:
        raise BootstrapError(f"no IAM actions for {', '.join(missing)}: add them to {HOME}")
    return sorted({a for t in types for a in ACTIONS[t]} | set(PROVIDER_ACTIONS))


def permission_statements(actions: list[str], bucket: str, services: list[str],
                          image_repository_arn: str) -> list[dict[str, Any]]:
    """The deploy role's statements: the stack's actions, PassRole to ``services`` (the
    services the stack's resources pass roles to), the state, the push of the application's
    image to ``image_repository_arn``."""
    bucket_arn = f"arn:aws:s3:::{bucket}"
    statements: list[dict[str, Any]] = [
        {"Sid": "StackResources", "Effect": "Allow",
         "Action": [a for a in actions if a != "iam:PassRole"], "Resource": "*"}]
    if "iam:PassRole" in actions:
        statements.append({"Sid": "PassStackRoles", "Effect": "Allow", "Action": "iam:PassRole",
                           "Resource": "*", "Condition": {
                               "StringEquals": {"iam:PassedToService": services}}})
    statements += [
        {"Sid": "StateBucket", "Effect": "Allow", "Action": list(STATE_BUCKET_ACTIONS),
         "Resource": bucket_arn},
        {"Sid": "StateObjects", "Effect": "Allow", "Action": list(STATE_ACTIONS),
         "Resource": f"{bucket_arn}/{STATE_KEYS}"},
        {"Sid": "ProtectState", "Effect": "Deny", "Action": list(STATE_DENIED),
         "Resource": [bucket_arn, f"{bucket_arn}/*"]},
        {"Sid": "PushAppImage", "Effect": "Allow", "Action": list(app_repository.PUSH_ACTIONS),
         "Resource": image_repository_arn},
        {"Sid": "RegistryLogin", "Effect": "Allow", "Action": app_repository.LOGIN_ACTION,
         "Resource": "*"}]
    return statements


def _document(statements: list[dict[str, Any]]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": statements}


def _size(statements: list[dict[str, Any]]) -> int:
    """The characters IAM counts (whitespace does not count)."""
    return len(json.dumps(_document(statements), separators=(",", ":")))


def _parts(statement: dict[str, Any]) -> list[dict[str, Any]]:
    """A statement cut into statements that each fit in a managed policy, by its actions."""
    if _size([statement]) <= MANAGED_POLICY_LIMIT or isinstance(statement["Action"], str):
        return [statement]
    parts: list[dict[str, Any]] = []
    for action in statement["Action"]:
        if parts and _size([{**parts[-1], "Action": parts[-1]["Action"] + [action]}]) \
                <= MANAGED_POLICY_LIMIT:
            parts[-1]["Action"].append(action)
        else:
            parts.append({**statement, "Action": [action]})
    return [{**part, "Sid": f"{statement['Sid']}{n}"} for n, part in enumerate(parts, 1)]


def pack(statements: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Policy documents of at most MANAGED_POLICY_LIMIT characters holding ``statements``."""
    documents: list[list[dict[str, Any]]] = [[]]
    for part in (p for statement in statements for p in _parts(statement)):
        if documents[-1] and _size(documents[-1] + [part]) > MANAGED_POLICY_LIMIT:
            documents.append([])
        documents[-1].append(part)
    return [_document(statements) for statements in documents]


def trust_policy(account_id: str, repository: str, environments: Iterable[str]) -> dict[str, Any]:
    """GitHub's OIDC provider may assume the role for this repository's environments and PRs."""
    subjects = [f"repo:{repository}:environment:{env}" for env in environments]
    subjects.append(f"repo:{repository}:pull_request")
    return {"Version": "2012-10-17", "Statement": [{
        "Sid": "GitHubActions", "Effect": "Allow", "Action": "sts:AssumeRoleWithWebIdentity",
        "Principal": {"Federated": f"arn:aws:iam::{account_id}:oidc-provider/{OIDC_HOST}"},
        "Condition": {"StringEquals": {f"{OIDC_HOST}:aud": AUDIENCE},
                      "StringLike": {f"{OIDC_HOST}:sub": subjects}}}]}


def bucket_settings(bucket: str) -> dict[str, Any]:
    """What the state bucket must look like, per setting (the shapes of the S3 API)."""
    arn = f"arn:aws:s3:::{bucket}"
    return {
        "versioning": {"Status": "Enabled"},
        "encryption": {"Rules": [{"ApplyServerSideEncryptionByDefault": {
            "SSEAlgorithm": "AES256"}}]},
        "policy": {"Version": "2012-10-17", "Statement": [{
            "Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
            "Resource": [arn, f"{arn}/*"],
            "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]},
        "public_access_block": {"BlockPublicAcls": True, "IgnorePublicAcls": True,
                                "BlockPublicPolicy": True, "RestrictPublicBuckets": True},
        "ownership": {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]},
        "lifecycle": {"Rules": [{
            "ID": "expire-noncurrent-state", "Status": "Enabled", "Filter": {"Prefix": ""},
            "NoncurrentVersionExpiration": {"NoncurrentDays": NONCURRENT_DAYS},
            "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": ABORT_UPLOAD_DAYS}}]},
    }


# Errors S3 answers when a setting was never made: the setting is absent, not a failure.
_ABSENT = {"ServerSideEncryptionConfigurationNotFoundError", "NoSuchBucketPolicy",
           "NoSuchPublicAccessBlockConfiguration", "NoSuchLifecycleConfiguration",
           "OwnershipControlsNotFoundError"}


# Per setting: how to read it (in the shape of bucket_settings) and how to write it.
_READ = {
    "versioning": lambda s3, b: {"Status": s3.get_bucket_versioning(Bucket=b).get("Status")},
    "encryption": lambda s3, b: s3.get_bucket_encryption(
        Bucket=b)["ServerSideEncryptionConfiguration"],
    "policy": lambda s3, b: json.loads(s3.get_bucket_policy(Bucket=b)["Policy"]),
    "public_access_block": lambda s3, b: s3.get_public_access_block(
        Bucket=b)["PublicAccessBlockConfiguration"],
    "ownership": lambda s3, b: s3.get_bucket_ownership_controls(Bucket=b)["OwnershipControls"],
    "lifecycle": lambda s3, b: {"Rules": s3.get_bucket_lifecycle_configuration(
        Bucket=b)["Rules"]},
}
_WRITE = {
    "versioning": lambda s3, b, v: s3.put_bucket_versioning(Bucket=b, VersioningConfiguration=v),
    "encryption": lambda s3, b, v: s3.put_bucket_encryption(
        Bucket=b, ServerSideEncryptionConfiguration=v),
    "policy": lambda s3, b, v: s3.put_bucket_policy(Bucket=b, Policy=json.dumps(v)),
    "public_access_block": lambda s3, b, v: s3.put_public_access_block(
        Bucket=b, PublicAccessBlockConfiguration=v),
    "ownership": lambda s3, b, v: s3.put_bucket_ownership_controls(
        Bucket=b, OwnershipControls=v),
    "lifecycle": lambda s3, b, v: s3.put_bucket_lifecycle_configuration(
        Bucket=b, LifecycleConfiguration=v),
}


def _read(s3: Any, setting: str, bucket: str) -> Any:
    """The current value of one setting (None: never set)."""
    try:
        return _READ[setting](s3, bucket)
    except s3.exceptions.ClientError as error:  # botocore's, without importing botocore
        if error.response.get("Error", {}).get("Code") in _ABSENT:
            return None
        raise


def contains(actual: Any, wanted: Any) -> bool:
    """True when ``actual`` has everything ``wanted`` has (S3 adds defaults to what it echoes)."""
    if isinstance(wanted, dict):
        return isinstance(actual, dict) and all(
            k in actual and contains(actual[k], v) for k, v in wanted.items())
    if isinstance(wanted, list):
        return isinstance(actual, list) and len(actual) == len(wanted) and all(
            contains(a, w) for a, w in zip(actual, wanted))
    return actual == wanted


def ensure_bucket(s3: Any, bucket: str, region: str) -> list[str]:
    """Create the bucket when absent and bring every setting to bucket_settings.

    Returns what changed, one phrase each (empty: the bucket was already right)."""
    changed = []
    try:
        s3.head_bucket(Bucket=bucket)
    except s3.exceptions.ClientError as error:
        code = str(error.response.get("Error", {}).get("Code"))
        if code not in ("404", "NoSuchBucket", "NotFound"):
            raise BootstrapError(f"bucket {bucket} is not ours to use ({code})") from None
        kwargs: dict[str, Any] = {"Bucket": bucket}
        if region != S3_UNCONSTRAINED_REGION:
            kwargs["CreateBucketConfiguration"] = {"LocationConstraint": region}
        s3.create_bucket(**kwargs)
        changed.append(f"created bucket {bucket} in {region}")
    for setting, wanted in bucket_settings(bucket).items():
        if not contains(_read(s3, setting, bucket), wanted):
            _WRITE[setting](s3, bucket, wanted)
            changed.append(f"set {setting}")
    return changed


def policies(synth_dir: Path, bucket: str, account_id: str, repository: str,
             environments: Iterable[str], image_repository_arn: str) -> dict[str, Any]:
    """Both policies, the permission policy derived from the synthesized stacks."""
    types: set[str] = set()
    for path in synthesized(synth_dir):
        types |= stack_types(json.loads(path.read_text(encoding="utf-8")))
    return {"permission_policies": pack(permission_statements(
                derive_actions(types), bucket, passed_to(types), image_repository_arn)),
            "trust_policy": trust_policy(account_id, repository, environments)}


def _session_clients(region: str, ecr_region: str) -> tuple[Any, Any, Any, Any]:
    import boto3  # pylint: disable=import-outside-toplevel  # only when AWS is called
    return (boto3.client("s3", region_name=region), boto3.client("sts", region_name=region),
            boto3.client("iam", region_name=region), boto3.client("ecr", region_name=ecr_region))


def main(argv: list[str] | None = None, environ: dict[str, str] | None = None) -> int:
    environ = dict(os.environ if environ is None else environ)
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--bucket", default=environ.get("TERRAFORM_STATE_BUCKET"))
    parser.add_argument("--region", default=environ.get("TERRAFORM_STATE_BUCKET_REGION",
                                                        DEFAULT_REGION))
    parser.add_argument("--repository", required=True, help="org/name of the GitHub repository")
    parser.add_argument("--account-id", help="default: the account of the credentials (STS)")
    parser.add_argument("--environments", default=",".join(DEFAULT_ENVIRONMENTS),
                        help="GitHub environments whose jobs may assume the role")
    parser.add_argument("--synth", type=Path, default=SYNTH, help="synthesized stacks")
    parser.add_argument("--out", type=Path, help="write the policies here (default: stdout)")
    parser.add_argument("--role-name", default=DEPLOY_ROLE,
                        help="the deploy role whose MaxSessionDuration to raise (if it exists)")
    parser.add_argument("--ecr-repository", default=app_repository.REPOSITORY,
                        help="the application's ECR repository the pipeline pushes to")
    parser.add_argument("--ecr-region", default=environ.get("AWS_REGION", DEFAULT_REGION),
                        help="its region: the stacks' (default AWS_REGION, else us-east-1)")
    parser.add_argument("--skip-bucket", action="store_true", help="leave the bucket alone")
    parser.add_argument("--skip-repository", action="store_true",
                        help="leave the ECR repository alone")
    parser.add_argument("--skip-roles", action="store_true",
                        help="leave the service-linked roles and the deploy role alone")
    args = parser.parse_args(argv)
    try:
        if not args.bucket:
            raise BootstrapError("no bucket: give --bucket or TERRAFORM_STATE_BUCKET")
        if args.repository.count("/") != 1 or not all(args.repository.split("/")):
            raise BootstrapError(f"--repository {args.repository!r} is not org/name")
        s3, sts, iam, ecr = _session_clients(args.region, args.ecr_region)
        if not args.skip_bucket:
            changed = ensure_bucket(s3, args.bucket, args.region)
            print(f"bootstrap: {'; '.join(changed)}" if changed else
                  f"bootstrap: bucket {args.bucket} already as wanted: nothing changed",
                  file=sys.stderr)
        if not args.skip_repository:
            changed = app_repository.ensure_repository(ecr, args.ecr_repository)
            print(f"bootstrap: {'; '.join(changed)}" if changed else
                  f"bootstrap: repository {args.ecr_repository} already as wanted: nothing "
                  "changed", file=sys.stderr)
        account_id = args.account_id or sts.get_caller_identity()["Account"]
        environments = [e.strip() for e in args.environments.split(",") if e.strip()]
        document = policies(args.synth, args.bucket, account_id, args.repository, environments,
                            app_repository.repository_arn(account_id, args.ecr_region,
                                                          args.ecr_repository))
        document["max_session_duration"] = SESSION_SECONDS
        if not args.skip_roles:
            for line in [*ensure_service_linked_roles(iam), ensure_session(iam, args.role_name)]:
                print(f"bootstrap: {line}", file=sys.stderr)
    except (BootstrapError, AccountRoleError, app_repository.RepositoryError) as error:
        print(f"bootstrap: {error}", file=sys.stderr)
        return 2
    text = json.dumps(document, indent=2) + "\n"
    if args.out:
        args.out.write_text(text, encoding="utf-8")
        print(f"bootstrap: policies written to {args.out}", file=sys.stderr)
    else:
        print(text, end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
