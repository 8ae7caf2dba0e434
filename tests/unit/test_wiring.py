"""TapStack's wiring between tiers: data-tier values reach the task definition and the
execution role reads exactly the data tier's secrets and keys."""
from __future__ import annotations

import json

from tests.unit.synth import Synth


def test_task_gets_data_endpoints_as_environment_and_credentials_as_secrets(
        stacks: dict[str, Synth]) -> None:
    for stack in stacks.values():
        (container,) = json.loads(
            stack.at("aws_ecs_task_definition", "app/task")["container_definitions"])
        cluster = f"aws_rds_cluster.{stack.logical_id('aws_rds_cluster', 'data/aurora')}"
        cache = ("aws_elasticache_serverless_cache."
                 f"{stack.logical_id('aws_elasticache_serverless_cache', 'data/cache')}")
        secret = f"${{{cluster}.master_user_secret[0].secret_arn}}"
        assert container["environment"] == [
            {"name": "DB_HOST", "value": f"${{{cluster}.endpoint}}"},
            {"name": "DB_NAME", "value": "tap"},
            {"name": "DB_PORT", "value": "5432"},
            {"name": "REDIS_HOST", "value": f"${{{cache}.endpoint[0].address}}"},
            {"name": "REDIS_PORT", "value": f"${{{cache}.endpoint[0].port}}"},
            {"name": "REDIS_TLS", "value": "true"},
        ]
        assert container["secrets"] == [
            {"name": "DB_PASSWORD", "valueFrom": f"{secret}:password::"},
            {"name": "DB_USERNAME", "valueFrom": f"{secret}:username::"},
        ]
        policy = {s["Sid"]: s for s in stack.policy(
            "aws_iam_role_policy", "app/execution-policy")["Statement"]}
        assert policy["ReadTaskSecrets"]["Resource"] == [secret]
        assert policy["ReadTaskSecrets"]["Action"] == ["secretsmanager:GetSecretValue"]
        assert policy["DecryptTaskSecrets"]["Resource"] == [
            stack.ref("aws_kms_key", "data/key/key", "arn")]


def test_origin_verify_secret_uses_the_data_key(stacks: dict[str, Synth]) -> None:
    for stack in stacks.values():
        secret = stack.at("aws_secretsmanager_secret", "lb/origin-verify")
        assert secret["kms_key_id"] == stack.ref("aws_kms_key", "data/key/key", "arn")
