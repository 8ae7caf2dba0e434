"""One KMS key per region for the whole environment (the ephemeral profile, pr4892) against one
key per purpose (dev, prod): what each key admits, and that everything encrypted uses it."""
from __future__ import annotations

import json
from typing import Any

from tests.unit.synth import KEY_PATHS, Synth

ACCOUNT = "${data.aws_caller_identity.caller.account_id}"


def sids(stack: Synth, path: str) -> dict[str, dict[str, Any]]:
    return {s["Sid"]: s for s in stack.policy("aws_kms_key", path)["Statement"]}


def test_the_ephemeral_profile_has_one_key_per_region(ephemeral: Synth) -> None:
    keys = {ephemeral.paths[lid]: key for lid, key in ephemeral.resources("aws_kms_key").items()}
    assert sorted(keys) == ["global-key/key", "key/key"]
    assert "provider" not in keys["key/key"]
    assert keys["global-key/key"]["provider"] == "aws.global"
    for path, key in keys.items():
        assert key["enable_key_rotation"] is True and key["deletion_window_in_days"] == 7, path
    aliases = {ephemeral.paths[lid]: alias["name"]
               for lid, alias in ephemeral.resources("aws_kms_alias").items()}
    assert aliases == {"key/alias": "alias/tap-pr4892", "global-key/alias": "alias/tap-pr4892-global"}


def test_the_regional_key_admits_exactly_the_statements_of_the_keys_it_replaces(
        ephemeral: Synth, dev: Synth) -> None:
    """Its statements are the data key's, the logs key's and the alarm topic's, word for word
    (the same functions make them): nobody may use it for more than one of them could."""
    regional = sids(ephemeral, "key/key")
    assert list(regional) == ["AccountAdministration", "DataServices", "CloudWatchLogs",
                              "CloudWatchAlarms"]
    own = {**sids(dev, KEY_PATHS["data"]), **sids(dev, KEY_PATHS["logs"]),
           **sids(dev, KEY_PATHS["alarms"])}
    assert regional == {sid: own[sid] for sid in regional}
    assert regional["DataServices"]["Condition"]["StringEquals"] == {
        "kms:CallerAccount": ACCOUNT,
        "kms:ViaService": ["rds.us-east-1.amazonaws.com", "secretsmanager.us-east-1.amazonaws.com",
                           "elasticache.us-east-1.amazonaws.com"]}
    assert regional["CloudWatchLogs"]["Condition"] == {"ArnLike": {
        "kms:EncryptionContext:aws:logs:arn": f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:*"}}


def test_the_us_east_1_key_admits_log_delivery_and_alarms_only(ephemeral: Synth,
                                                               dev: Synth) -> None:
    global_key = sids(ephemeral, "global-key/key")
    assert list(global_key) == ["AccountAdministration", "LogDelivery", "CloudWatchAlarms"]
    own = {**sids(dev, KEY_PATHS["edge"]), **sids(dev, KEY_PATHS["global-alarms"])}
    assert global_key == {sid: own[sid] for sid in global_key}


def test_everything_encrypted_uses_the_key_of_its_region(ephemeral: Synth) -> None:
    regional = ephemeral.ref("aws_kms_key", "key/key", "arn")
    global_key = ephemeral.ref("aws_kms_key", "global-key/key", "arn")
    cluster = ephemeral.at("aws_rds_cluster", "data/aurora")
    assert cluster["kms_key_id"] == cluster["master_user_secret_kms_key_id"] == regional
    assert ephemeral.at("aws_elasticache_serverless_cache", "data/cache")["kms_key_id"] == regional
    for lid, secret in ephemeral.resources("aws_secretsmanager_secret").items():
        assert secret["kms_key_id"] == regional, ephemeral.paths[lid]
    for lid, group in ephemeral.resources("aws_cloudwatch_log_group").items():
        assert group["kms_key_id"] == regional, ephemeral.paths[lid]
    assert ephemeral.at("aws_sns_topic", "monitoring/alarms")["kms_master_key_id"] == regional
    assert ephemeral.at("aws_sns_topic", "monitoring/global-alarms")["kms_master_key_id"] == \
        global_key
    encryption = ephemeral.at("aws_s3_bucket_server_side_encryption_configuration",
                              "edge/log-bucket-encryption")
    assert encryption["rule"][0]["apply_server_side_encryption_by_default"][
        "kms_master_key_id"] == global_key


def test_the_execution_role_decrypts_with_the_one_key(ephemeral: Synth) -> None:
    """No application secret by default: the role decrypts nothing; the key is the one the
    origin-verify secret is encrypted with (which only CloudFront's configuration reads)."""
    policy = ephemeral.policy("aws_iam_role_policy", "app/execution-policy")
    assert [s["Sid"] for s in policy["Statement"]] == ["WriteTaskLogs"]
    secret = ephemeral.at("aws_secretsmanager_secret", "lb/origin-verify")
    assert secret["kms_key_id"] == ephemeral.ref("aws_kms_key", "key/key", "arn")


def test_standard_and_production_keep_a_key_per_purpose(stacks: dict[str, Synth]) -> None:
    for suffix in ("dev", "prod"):
        stack = stacks[suffix]
        paths = sorted(stack.paths[lid] for lid in stack.resources("aws_kms_key"))
        assert paths == sorted(KEY_PATHS.values()), suffix
        assert json.dumps(stack.json).count('"alias/tap-') == 5
