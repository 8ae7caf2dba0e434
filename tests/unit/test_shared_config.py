"""The shared mode's settings and the shared stack's (lib/shared_config.py, lib/arns.py,
lib/config.py): every bad input is one line naming the variable, exit code 2, nothing written
(through main.main, as tests/unit/test_main.py does)."""
from __future__ import annotations

from pathlib import Path

import pytest

import main
from lib.arns import SHAPES, Arn, read_arn
from tests.unit.variants import GIVEN_NETWORK, SHARED, SHARED_PIECES

ACL = SHARED_PIECES["SHARED_WEB_ACL_ARN"]
LISTENER = SHARED_PIECES["SHARED_LISTENER_ARN"]
CACHE = SHARED_PIECES["SHARED_CACHE_ARN"]
ACL_SHAPE = "a WAFv2 web ACL of scope CLOUDFRONT (arn:aws:wafv2:us-east-1:<account>:global/" \
            "webacl/<name>/<id>)"
LISTENER_SHAPE = "a listener of an Application Load Balancer (arn:aws:elasticloadbalancing:" \
                 "<region>:<account>:listener/app/<name>/<id>/<id>)"
ALL_FIVE = ("the shared pieces come together: SHARED_WEB_ACL_ARN, SHARED_LISTENER_ARN, "
            "SHARED_VPC_ORIGIN_ARN, SHARED_DB_CLUSTER_ARN, SHARED_CACHE_ARN, all five or none")
PRIORITY = ("beside shared pieces the listener rule's priority is the pull-request number: pr1 "
            "to pr50000 without leading zeros (ALB rule priorities)")

# (what changes of SHARED, "" removes a variable) -> the one line main.py prints
BAD = {
    "malformed": ({"SHARED_WEB_ACL_ARN": "tap-shared-main-edge"},
                  f"SHARED_WEB_ACL_ARN='tap-shared-main-edge' is invalid: {ACL_SHAPE}; this is "
                  "no ARN"),
    "wrong service": ({"SHARED_LISTENER_ARN": LISTENER.replace("elasticloadbalancing", "ec2")},
                      f"SHARED_LISTENER_ARN={LISTENER.replace('elasticloadbalancing', 'ec2')!r} "
                      f"is invalid: {LISTENER_SHAPE}; this is an ARN of ec2"),
    "regional web ACL": (
        {"SHARED_WEB_ACL_ARN": ACL.replace("global/", "regional/")},
        f"SHARED_WEB_ACL_ARN={ACL.replace('global/', 'regional/')!r} is invalid: {ACL_SHAPE}; "
        f"{ACL.split(':', 5)[5].replace('global/', 'regional/')!r} is not that kind of "
        "resource"),
    "web ACL outside us-east-1": (
        {"SHARED_WEB_ACL_ARN": ACL.replace("us-east-1", "eu-west-1")},
        f"SHARED_WEB_ACL_ARN={ACL.replace('us-east-1', 'eu-west-1')!r} is invalid: {ACL_SHAPE} "
        "in us-east-1; this one is in eu-west-1"),
    "listener in another region": (
        {"SHARED_LISTENER_ARN": LISTENER.replace("us-east-1", "us-west-2")},
        f"SHARED_LISTENER_ARN={LISTENER.replace('us-east-1', 'us-west-2')!r} is invalid: "
        f"{LISTENER_SHAPE} in AWS_REGION us-east-1; this one is in us-west-2"),
    "another account": (
        {"SHARED_CACHE_ARN": CACHE.replace("123456789012", "210987654321")},
        f"SHARED_CACHE_ARN={CACHE.replace('123456789012', '210987654321')!r} is invalid: a "
        "piece of the account of SHARED_WEB_ACL_ARN (123456789012): the shared pieces are one "
        "platform's"),
    "some but not all": ({"SHARED_CACHE_ARN": ""},
                         f"SHARED_CACHE_ARN='' is invalid: {ALL_FIVE} (given: SHARED_WEB_ACL_ARN, "
                         "SHARED_LISTENER_ARN, SHARED_VPC_ORIGIN_ARN, SHARED_DB_CLUSTER_ARN)"),
    "without VPC_ID": ({name: "" for name in GIVEN_NETWORK},
                       f"SHARED_WEB_ACL_ARN={ACL!r} is invalid: shared pieces serve environments "
                       "in the platform's network: set VPC_ID and the three subnet lists too"),
    "production profile": ({"ENVIRONMENT_SUFFIX": "prod"},
                           f"SHARED_WEB_ACL_ARN={ACL!r} is invalid: only ephemeral (pr<n>) "
                           "environments use shared pieces; ENVIRONMENT_SUFFIX=prod is "
                           "production"),
    "standard profile": ({"ENVIRONMENT_SUFFIX": "dev"},
                         f"SHARED_WEB_ACL_ARN={ACL!r} is invalid: only ephemeral (pr<n>) "
                         "environments use shared pieces; ENVIRONMENT_SUFFIX=dev is standard"),
    "pull-request number too big": ({"ENVIRONMENT_SUFFIX": "pr50001"},
                                    f"ENVIRONMENT_SUFFIX='pr50001' is invalid: {PRIORITY}"),
    "leading zero": ({"ENVIRONMENT_SUFFIX": "pr0123"},
                     f"ENVIRONMENT_SUFFIX='pr0123' is invalid: {PRIORITY}"),
    "a setting the pieces decide": ({"CACHE_ENGINE": "redis"},
                                    "CACHE_ENGINE='redis' is invalid: the shared cache's engine "
                                    "is the shared stack's (unset it beside the shared pieces)"),
    "no VPC origins in the region": (
        {"AWS_REGION": "ap-southeast-6"},
        f"SHARED_WEB_ACL_ARN={ACL!r} is invalid: CloudFront VPC origins are not offered in "
        "AWS_REGION ap-southeast-6, so neither is the shared load balancer"),
}
PLATFORM_BAD = {
    "bad name": ({"SHARED_PLATFORM": "Main", **GIVEN_NETWORK},
                 "SHARED_PLATFORM='Main' is invalid: 1-12 lowercase letters and digits, "
                 "starting with a letter"),
    "no network": ({"SHARED_PLATFORM": "main"},
                   "VPC_ID='' is invalid: the shared stack is deployed into the platform's "
                   "network: VPC_ID and the three subnet lists"),
    "an environment's variable": ({"SHARED_PLATFORM": "main", "ENVIRONMENT_SUFFIX": "dev",
                                   **GIVEN_NETWORK},
                                  "ENVIRONMENT_SUFFIX='dev' is invalid: the shared stack "
                                  "(SHARED_PLATFORM) does not read it: unset it"),
    "a shared piece": ({"SHARED_PLATFORM": "main", **GIVEN_NETWORK, **SHARED_PIECES},
                       f"SHARED_WEB_ACL_ARN={ACL!r} is invalid: the shared stack "
                       "(SHARED_PLATFORM) does not read it: unset it"),
}


def run(environ: dict[str, str], outdir: Path, capsys: pytest.CaptureFixture[str]) -> str:
    """main.main's standard error for ``environ``; it must exit 2 and write nothing."""
    code = main.main({**environ, "CDKTF_OUTDIR": str(outdir)})
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1
    assert not outdir.exists()
    return err.rstrip("\n")


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_shared_input_is_one_line_and_nothing_written(
        case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    change, message = BAD[case]
    environ = {key: value for key, value in {**SHARED, **change}.items() if value}
    assert run(environ, tmp_path / "out", capsys) == f"error: {message}"


@pytest.mark.parametrize("case", sorted(PLATFORM_BAD))
def test_bad_shared_stack_input_is_one_line_and_nothing_written(
        case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    environ, message = PLATFORM_BAD[case]
    assert run(environ, tmp_path / "out", capsys) == f"error: {message}"


def test_main_writes_the_shared_stack(tmp_path: Path) -> None:
    outdir = tmp_path / "out"
    assert main.main({"SHARED_PLATFORM": "main", **GIVEN_NETWORK,
                      "CDKTF_OUTDIR": str(outdir)}) == 0
    assert sorted(p.name for p in (outdir / "stacks").iterdir()) == ["TapSharedmain"]


def test_each_shape_reads_its_parts() -> None:
    assert read_arn("SHARED_LISTENER_ARN", LISTENER, "us-east-1") == Arn(
        value=LISTENER, account="123456789012", region="us-east-1",
        parts={"load_balancer": "tap-shared-main-alb", "load_balancer_id": "0a1b2c3d4e5f6071",
               "id": "8293a4b5c6d7e8f9"})
    parts = {variable: read_arn(variable, SHARED_PIECES[variable], "us-east-1")
             for variable in SHAPES}
    assert {variable: arn.parts for variable, arn in parts.items()
            if isinstance(arn, Arn)} == {
        "SHARED_WEB_ACL_ARN": {"name": "tap-shared-main-edge",
                               "id": "0a1b2c3d-4e5f-6071-8293-a4b5c6d7e8f9"},
        "SHARED_LISTENER_ARN": {"load_balancer": "tap-shared-main-alb",
                                "load_balancer_id": "0a1b2c3d4e5f6071", "id": "8293a4b5c6d7e8f9"},
        "SHARED_VPC_ORIGIN_ARN": {"id": "vo_0a1b2c3d4e5f60718293a4"},
        "SHARED_DB_CLUSTER_ARN": {"id": "tap-shared-main-aurora"},
        "SHARED_CACHE_ARN": {"name": "tap-shared-main-cache"}}
    # The stack's Region is the listener's, the database's and the cache's: in another one
    # they are refused, and the web ACL and the VPC origin are still fine.
    elsewhere = {variable: isinstance(read_arn(variable, SHARED_PIECES[variable], "eu-west-1"),
                                      Arn) for variable in SHAPES}
    assert elsewhere == {"SHARED_WEB_ACL_ARN": True, "SHARED_LISTENER_ARN": False,
                         "SHARED_VPC_ORIGIN_ARN": True, "SHARED_DB_CLUSTER_ARN": False,
                         "SHARED_CACHE_ARN": False}
