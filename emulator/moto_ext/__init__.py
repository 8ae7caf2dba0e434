"""Small extensions of moto for the AWS calls the stack makes that moto (the release
``emulator.MOTO_VERSION`` names) lacks or answers differently from AWS.

``install()`` registers every extension once (idempotent); the emulator's server calls it
before it serves the first request. It refuses to patch any other moto version: the
extensions replace moto's own functions and read its internals, which change between
releases. Each module's docstring names the gap it fills.
"""
from __future__ import annotations

import moto

from emulator import MOTO_VERSION
from emulator.moto_ext import (acm_dns_validation, autoscaling_policy_alarms, autoscaling_tags,
                               cloudfront_custom_certificate, cloudfront_fidelity,
                               cloudfront_vpc_origin, cloudfront_vpc_origin_network,
                               ec2_dependencies, ec2_rule_description, ec2_vpc_quota,
                               ecs_service, elasticache_serverless, elasticache_users,
                               elbv2_access_logs, elbv2_deletion_protection,
                               elbv2_idempotent_create, elbv2_scheme,
                               elbv2_target_group_load_balancers, rds_cluster, rds_data,
                               rds_managed_secret, rds_parameter_group_in_use, s3_owner,
                               s3_secure_transport, secretsmanager_scheduled_deletion)

EXTENSIONS = (elasticache_serverless, autoscaling_tags, elbv2_scheme, ecs_service,
              cloudfront_fidelity, ec2_rule_description, rds_cluster, s3_owner,
              elbv2_deletion_protection, elbv2_access_logs, s3_secure_transport,
              secretsmanager_scheduled_deletion, cloudfront_vpc_origin, acm_dns_validation,
              cloudfront_custom_certificate, ec2_vpc_quota, elbv2_idempotent_create,
              rds_parameter_group_in_use, elbv2_target_group_load_balancers,
              autoscaling_policy_alarms, rds_managed_secret, ec2_dependencies,
              cloudfront_vpc_origin_network, elasticache_users, rds_data)
_INSTALLED: list[str] = []


def install() -> list[str]:
    """Patch moto's backends and response handlers; returns the names of the extensions.
    Raises RuntimeError, before patching anything, when moto is not ``MOTO_VERSION``."""
    if moto.__version__ != MOTO_VERSION:
        raise RuntimeError(
            f"emulator.moto_ext patches moto {MOTO_VERSION} (emulator.MOTO_VERSION) but "
            f"moto.__version__ is {moto.__version__}: install the version Pipfile.lock pins "
            f"(make install), or port the extensions to moto {moto.__version__} and change "
            "MOTO_VERSION, Pipfile and Pipfile.lock together")
    if not _INSTALLED:
        _INSTALLED.extend(extension.install() for extension in EXTENSIONS)
    return list(_INSTALLED)
