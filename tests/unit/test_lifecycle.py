"""An environment's life: production refuses to be destroyed; ALLOW_DESTROY tears it down.

Production marks every stateful resource (``lib.lifecycle.STATEFUL_TYPES``) with
``prevent_destroy``, so a plan that would delete or replace one fails before Terraform
touches anything. ``ALLOW_DESTROY=true`` is the deliberate teardown: its configuration
differs from production's only in what lets ``destroy`` through, so applying it updates
in place and creates or deletes nothing.
"""
from __future__ import annotations

import copy
from typing import Any

import pytest

import main
from lib.config import ConfigError, load_settings
from lib.lifecycle import STATEFUL_TYPES
from tests.unit.synth import Synth

PROTECTED_IN_PRODUCTION = {
    ("aws_cloudwatch_log_group", "app/insights-logs"),
    ("aws_cloudwatch_log_group", "app/task-logs"),
    ("aws_cloudwatch_log_group", "data/db-logs"),
    ("aws_cloudwatch_log_group", "network/flow-logs"),
    ("aws_elasticache_serverless_cache", "data/cache"),
    ("aws_kms_key", "data/key/key"),
    ("aws_kms_key", "edge/logs-key/key"),
    ("aws_kms_key", "monitoring/alarms-key/key"),
    ("aws_kms_key", "monitoring/global-alarms-key/key"),
    ("aws_kms_key", "network/logs-key/key"),
    ("aws_rds_cluster", "data/aurora"),
    ("aws_rds_cluster_instance", "data/aurora-0"),
    ("aws_rds_cluster_instance", "data/aurora-1"),
    ("aws_s3_bucket", "lb/alb-logs"),
    ("aws_s3_bucket", "edge/log-bucket"),
    ("aws_secretsmanager_secret", "lb/origin-verify"),
    ("aws_secretsmanager_secret", "data/cache-secret"),
}


def prevented(stack: Synth) -> set[tuple[str, str]]:
    """(type, logical id) of every resource with prevent_destroy."""
    return {(rtype, name) for rtype, blocks in stack.json["resource"].items()
            for name, block in blocks.items()
            if block.get("lifecycle", {}).get("prevent_destroy")}


def test_production_prevents_destroy_of_every_stateful_resource(prod: Synth) -> None:
    expected = {(rtype, prod.logical_id(rtype, path)) for rtype, path in PROTECTED_IN_PRODUCTION}
    assert prevented(prod) == expected
    stateful = {(rtype, name) for rtype, blocks in prod.json["resource"].items()
                if rtype in STATEFUL_TYPES for name in blocks}
    assert stateful == expected
    assert prod.at("aws_rds_cluster", "data/aurora")["deletion_protection"] is True
    assert prod.at("aws_lb", "lb/alb")["enable_deletion_protection"] is True
    assert prod.at("aws_s3_bucket", "lb/alb-logs")["force_destroy"] is False


@pytest.mark.parametrize("suffix", ["dev", "pr4892"])
def test_standard_and_ephemeral_destroy_freely(stacks: dict[str, Synth], suffix: str) -> None:
    stack = stacks[suffix]
    assert not prevented(stack)
    assert stack.at("aws_rds_cluster", "data/aurora")["deletion_protection"] is False
    assert stack.at("aws_lb", "lb/alb")["enable_deletion_protection"] is False
    assert stack.at("aws_s3_bucket", "lb/alb-logs")["force_destroy"] is True
    assert stack.at("aws_s3_bucket", "edge/log-bucket")["force_destroy"] is True


def _without_teardown_switches(stack: Synth) -> dict[str, Any]:
    """The JSON with prevent_destroy, deletion protection and force_destroy taken out."""
    document = copy.deepcopy(stack.json)
    for rtype, blocks in document["resource"].items():
        for block in blocks.values():
            lifecycle = block.get("lifecycle", {})
            lifecycle.pop("prevent_destroy", None)
            if "lifecycle" in block and not lifecycle:
                del block["lifecycle"]
            for switch in {"aws_rds_cluster": "deletion_protection",
                           "aws_lb": "enable_deletion_protection",
                           "aws_s3_bucket": "force_destroy"}.get(rtype, "-").split():
                block.pop(switch, None)
    return document


def test_teardown_lifts_exactly_the_protections(prod: Synth, teardown: Synth) -> None:
    assert not prevented(teardown)
    assert teardown.at("aws_rds_cluster", "data/aurora")["deletion_protection"] is False
    assert teardown.at("aws_lb", "lb/alb")["enable_deletion_protection"] is False
    assert teardown.at("aws_s3_bucket", "lb/alb-logs")["force_destroy"] is True
    assert teardown.at("aws_s3_bucket", "edge/log-bucket")["force_destroy"] is True
    # The final snapshot is still taken, under its unique name.
    cluster = teardown.at("aws_rds_cluster", "data/aurora")
    assert cluster["skip_final_snapshot"] is False
    assert cluster["final_snapshot_identifier"].startswith("tap-prod-aurora-final-${substr(")
    # Nothing else differs: applying the teardown updates in place, adds and deletes nothing.
    assert _without_teardown_switches(teardown) == _without_teardown_switches(prod)


def test_allow_destroy_is_read_for_production_only() -> None:
    assert load_settings({"ENVIRONMENT_SUFFIX": "prod", "ALLOW_DESTROY": "true"}).allow_destroy
    assert load_settings({"ENVIRONMENT_SUFFIX": "production", "ALLOW_DESTROY": "1"}).allow_destroy
    assert not load_settings({"ENVIRONMENT_SUFFIX": "prod"}).allow_destroy
    for suffix in ("dev", "pr4892", "prod"):
        assert not load_settings({"ENVIRONMENT_SUFFIX": suffix,
                                  "ALLOW_DESTROY": "false"}).allow_destroy


@pytest.mark.parametrize("suffix,value,message", [
    ("dev", "true", "only production environments (prod, production) are protected; "
                    "a standard environment is destroyed without it (unset it or set false)"),
    ("pr4892", "yes", "only production environments (prod, production) are protected; "
                      "a ephemeral environment is destroyed without it (unset it or set false)"),
    ("prod", "please", "true or false (or unset for the profile's choice)"),
])
def test_allow_destroy_bad_values(suffix: str, value: str, message: str) -> None:
    with pytest.raises(ConfigError) as raised:
        load_settings({"ENVIRONMENT_SUFFIX": suffix, "ALLOW_DESTROY": value})
    assert str(raised.value) == f"ALLOW_DESTROY={value!r} is invalid: {message}"


def test_allow_destroy_outside_production_writes_nothing(
        tmp_path: Any, capsys: pytest.CaptureFixture[str]) -> None:
    code = main.main({"ENVIRONMENT_SUFFIX": "pr4892", "ALLOW_DESTROY": "true",
                      "CDKTF_OUTDIR": str(tmp_path / "out")})
    assert code == 2
    assert capsys.readouterr().err.startswith("error: ALLOW_DESTROY='true' is invalid: only ")
    assert not (tmp_path / "out").exists()
