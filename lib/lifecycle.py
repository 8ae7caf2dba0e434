"""What an environment's life depends on: the stateful resource types, in one place.

``STATEFUL_TYPES`` are the Terraform resource types whose deletion or replacement loses
data or breaks what depends on them (the database, the cache, encryption keys, secrets,
buckets and log groups). Production marks every resource of these types with
``prevent_destroy`` (see ``protect``); the plan guard (``tools/plan_check.py``) refuses a
plan that deletes or replaces one.
"""
from __future__ import annotations

STATEFUL_TYPES: tuple[str, ...] = (
    "aws_rds_cluster",
    "aws_rds_cluster_instance",
    "aws_elasticache_serverless_cache",
    "aws_kms_key",
    "aws_secretsmanager_secret",
    "aws_s3_bucket",
    "aws_cloudwatch_log_group",
)
