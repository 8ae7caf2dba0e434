"""TapStack's wiring between tiers: data-tier values reach the task definition, the service
gets no credentials at all, and its task role may connect to the database as exactly the
application's own user (IAM authentication)."""
from __future__ import annotations

import json

from tests.unit.synth import Synth


def test_task_gets_data_endpoints_and_the_application_user(stacks: dict[str, Synth]) -> None:
    for stack in stacks.values():
        (container,) = json.loads(
            stack.at("aws_ecs_task_definition", "app/task")["container_definitions"])
        cluster = f"aws_rds_cluster.{stack.logical_id('aws_rds_cluster', 'data/aurora')}"
        cache = ("aws_elasticache_serverless_cache."
                 f"{stack.logical_id('aws_elasticache_serverless_cache', 'data/cache')}")
        assert container["environment"] == [
            {"name": "AWS_REGION", "value": "us-east-1"},
            {"name": "DB_AUTH", "value": "iam"},
            {"name": "DB_HOST", "value": f"${{{cluster}.endpoint}}"},
            {"name": "DB_NAME", "value": "tap"},
            {"name": "DB_PORT", "value": "5432"},
            {"name": "DB_USERNAME", "value": "tap_app"},
            {"name": "PORT", "value": "80"},
            {"name": "REDIS_HOST", "value": f"${{{cache}.endpoint[0].address}}"},
            {"name": "REDIS_PORT", "value": f"${{{cache}.endpoint[0].port}}"},
            {"name": "REDIS_TLS", "value": "true"},
        ]
        assert "secrets" not in container
        policy = stack.policy("aws_iam_role_policy", "app/execution-policy")
        assert [s["Sid"] for s in policy["Statement"]] == ["WriteTaskLogs"]


def test_task_role_connects_as_exactly_the_application_user(stacks: dict[str, Synth]) -> None:
    for stack in stacks.values():
        policy = stack.at("aws_iam_role_policy", "app/task-app-policy")
        assert policy["role"] == stack.ref("aws_iam_role", "app/task-role")
        account = stack.ref("aws_caller_identity", "caller", "account_id", kind="data")
        resource_id = stack.ref("aws_rds_cluster", "data/aurora", "cluster_resource_id")
        assert json.loads(policy["policy"])["Statement"] == [{
            "Sid": "ConnectAsApplicationUser", "Effect": "Allow", "Action": ["rds-db:connect"],
            "Resource": [f"arn:aws:rds-db:us-east-1:{account}:dbuser:{resource_id}/tap_app"]}]


def test_no_service_gets_the_master_credentials(stacks: dict[str, Synth]) -> None:
    for stack in stacks.values():
        secret = stack.ref("aws_rds_cluster", "data/aurora", "master_user_secret[0].secret_arn")
        for lid, task in stack.resources("aws_ecs_task_definition").items():
            assert secret not in task["container_definitions"], stack.paths[lid]
        for policy in stack.resources("aws_iam_role_policy").values():
            assert secret not in policy["policy"]


def test_origin_verify_secret_uses_the_data_key(stacks: dict[str, Synth]) -> None:
    for stack in stacks.values():
        secret = stack.at("aws_secretsmanager_secret", "lb/origin-verify")
        assert secret["kms_key_id"] == stack.key_ref("data")
