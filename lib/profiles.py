"""The profiles' table: every choice that differs between ephemeral, standard and production.

``PROFILES`` maps a profile name to its ``Profile`` row; ``lib.config`` picks the row from the
whole environment suffix (``profile_name_for``) and re-exports these names, which is where the
stack and the tools read them. The constructs read the row's values and never look at the
suffix themselves; tools/docs.py renders the table (docs/reference/profiles.md) with the
comment each field is declared with. Nothing here imports jsii.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Mapping

EPHEMERAL = "ephemeral"
STANDARD = "standard"
PRODUCTION = "production"
PLATFORM = "shared"  # the shared stack's (SHARED_PLATFORM), not an environment's

NAT_NONE = "none"
NAT_SINGLE = "single"
NAT_PER_AZ = "per_az"


@dataclass(frozen=True)
class Profile:  # pylint: disable=too-many-instance-attributes
    """Every choice that differs between profiles (one row of ``PROFILES``)."""

    name: str
    # network
    nat: str  # NAT layout: NAT_NONE, NAT_SINGLE or NAT_PER_AZ
    log_retention_days: int  # CloudWatch log groups (flow logs, tasks, WAF)
    kms_deletion_window_days: int  # every KMS key of the environment (7-30)
    # load balancer and service
    alb_deletion_protection: bool  # lifted by ALLOW_DESTROY (Settings.alb_deletion_protection)
    access_log_expiration_days: int  # ALB and CloudFront log buckets
    force_destroy_buckets: bool  # empty log buckets on destroy (ALLOW_DESTROY forces it)
    deregistration_delay_seconds: int  # a stopping task's draining time on the target group
    task_cpu: int  # CPU units of a task (1024 = 1 vCPU)
    task_memory: int  # MiB of a task
    desired_count: int  # tasks at the first deploy (auto scaling owns the count after)
    min_capacity: int  # auto scaling's bounds
    max_capacity: int  # auto scaling's upper bound (the quota ledger counts it)
    fargate_base: int  # tasks always on FARGATE (on-demand)
    fargate_weight: int  # on-demand's share of the tasks beyond the base; 0: Spot only
    fargate_spot_weight: int  # 0: no Spot at all
    container_insights: bool  # ECS Container Insights on the cluster (custom metrics)
    enable_execute_command: bool  # ECS Exec into running tasks
    schedules_enabled: bool  # the manifest's [[jobs]] run (DISABLED schedules otherwise)
    # data tier
    db_min_acu: float  # Aurora Serverless v2 capacity: 0 scales to 0 and pauses
    db_max_acu: float  # Aurora Serverless v2 capacity's upper bound
    db_auto_pause_seconds: int  # 0: never pause
    db_instance_count: int  # writer + readers
    db_backup_retention_days: int  # Aurora's automated backups
    deletion_protection: bool  # Aurora; lifted by ALLOW_DESTROY
    # lifecycle.prevent_destroy on every stateful resource (lib/lifecycle.py): a plan that
    # would delete or replace one fails before anything is touched; lifted by ALLOW_DESTROY.
    prevent_destroy: bool
    skip_final_snapshot: bool  # destroy without a final snapshot (else it is kept, key too)
    performance_insights: bool  # Aurora Performance Insights (7 days, free)
    monitoring_interval_seconds: int  # enhanced monitoring; 0: off
    cache_max_storage_gb: int  # the serverless cache's storage limit
    cache_max_ecpu_per_second: int  # the serverless cache's throughput limit
    cache_snapshot_retention_days: int  # 0: no snapshots
    secret_recovery_window_days: int  # 0: delete at once
    # edge
    price_class: str  # CloudFront edge locations served
    waf_rate_limit: int  # requests per 5 minutes per client IP
    waf_anonymous_ip_count_only: bool  # the anonymous-IP rule group counts instead of blocking
    # alarm thresholds (lib/monitoring.py); limits such as max ACU come from the fields above
    alarm_5xx_count: int  # load balancer or target 5XX responses per 5 minutes
    alarm_p90_latency_seconds: float  # target response time, p90 over a minute
    alarm_cpu_percent: int  # ECS service and Aurora, sustained 5 minutes
    alarm_memory_percent: int  # ECS service, sustained 5 minutes
    alarm_db_freeable_memory_mib: int  # Aurora freeable memory below this
    alarm_capacity_percent: int  # of a configured limit: max ACU, connections, ECPU/s, storage
    alarm_edge_5xx_percent: float  # CloudFront 5xxErrorRate
    alarm_waf_blocked_count: int  # WAF blocked requests per 5 minutes (a spike)
    # keys and monitoring
    single_key: bool  # one KMS key per region for data, logs and alarms (else one per purpose)
    dashboard: bool  # a CloudWatch dashboard with a row per tier


PROFILES: Mapping[str, Profile] = {
    EPHEMERAL: Profile(
        name=EPHEMERAL, nat=NAT_NONE, log_retention_days=7, kms_deletion_window_days=7,
        alb_deletion_protection=False, access_log_expiration_days=7, force_destroy_buckets=True,
        deregistration_delay_seconds=5, task_cpu=256, task_memory=512, desired_count=1,
        min_capacity=1, max_capacity=2, fargate_base=0, fargate_weight=0, fargate_spot_weight=1,
        container_insights=False, enable_execute_command=True, schedules_enabled=False,
        db_min_acu=0.0, db_max_acu=2.0, db_auto_pause_seconds=600,
        db_instance_count=1, db_backup_retention_days=1, deletion_protection=False,
        prevent_destroy=False, skip_final_snapshot=True, performance_insights=False,
        monitoring_interval_seconds=0,
        cache_max_storage_gb=1, cache_max_ecpu_per_second=5000, cache_snapshot_retention_days=0,
        secret_recovery_window_days=0, price_class="PriceClass_100", waf_rate_limit=1000,
        waf_anonymous_ip_count_only=True,
        alarm_5xx_count=25, alarm_p90_latency_seconds=3.0, alarm_cpu_percent=90,
        alarm_memory_percent=90, alarm_db_freeable_memory_mib=128, alarm_capacity_percent=90,
        alarm_edge_5xx_percent=10.0, alarm_waf_blocked_count=1000, single_key=True,
        dashboard=False,
    ),
    STANDARD: Profile(
        name=STANDARD, nat=NAT_SINGLE, log_retention_days=30, kms_deletion_window_days=14,
        alb_deletion_protection=False, access_log_expiration_days=30,
        force_destroy_buckets=True, deregistration_delay_seconds=30, task_cpu=512,
        task_memory=1024, desired_count=2, min_capacity=2, max_capacity=4, fargate_base=1,
        fargate_weight=1, fargate_spot_weight=1, container_insights=True,
        enable_execute_command=True, schedules_enabled=True,
        db_min_acu=0.5, db_max_acu=4.0,
        db_auto_pause_seconds=0, db_instance_count=1, db_backup_retention_days=7,
        deletion_protection=False, prevent_destroy=False, skip_final_snapshot=False,
        performance_insights=True, monitoring_interval_seconds=0, cache_max_storage_gb=5,
        cache_max_ecpu_per_second=20000, cache_snapshot_retention_days=3,
        secret_recovery_window_days=7, price_class="PriceClass_100", waf_rate_limit=2000,
        waf_anonymous_ip_count_only=True,
        alarm_5xx_count=10, alarm_p90_latency_seconds=2.0, alarm_cpu_percent=85,
        alarm_memory_percent=85, alarm_db_freeable_memory_mib=256, alarm_capacity_percent=85,
        alarm_edge_5xx_percent=5.0, alarm_waf_blocked_count=500, single_key=False,
        dashboard=True,
    ),
    PRODUCTION: Profile(
        name=PRODUCTION, nat=NAT_PER_AZ, log_retention_days=365, kms_deletion_window_days=30,
        alb_deletion_protection=True, access_log_expiration_days=365,
        force_destroy_buckets=False, deregistration_delay_seconds=60, task_cpu=1024,
        task_memory=2048, desired_count=3, min_capacity=3, max_capacity=12, fargate_base=3,
        fargate_weight=1, fargate_spot_weight=0, container_insights=True,
        enable_execute_command=False, schedules_enabled=True,
        db_min_acu=1.0, db_max_acu=16.0,
        db_auto_pause_seconds=0, db_instance_count=2, db_backup_retention_days=30,
        deletion_protection=True, prevent_destroy=True, skip_final_snapshot=False,
        performance_insights=True, monitoring_interval_seconds=30, cache_max_storage_gb=20,
        cache_max_ecpu_per_second=100000, cache_snapshot_retention_days=14,
        secret_recovery_window_days=30, price_class="PriceClass_All", waf_rate_limit=2000,
        waf_anonymous_ip_count_only=False,
        alarm_5xx_count=10, alarm_p90_latency_seconds=1.0, alarm_cpu_percent=80,
        alarm_memory_percent=80, alarm_db_freeable_memory_mib=512, alarm_capacity_percent=80,
        alarm_edge_5xx_percent=2.0, alarm_waf_blocked_count=500, single_key=False,
        dashboard=True,
    ),
}

# The shared stack's choices (lib/shared_stack.py): the ephemeral profile's, since it serves
# pull-request environments, with what changes for a piece that lives as long as the account
# and serves sixty of them: a month of logs and keys' deletion window, the database up to 8 ACU
# (still pausing when every environment is idle) and the cache up to 5 GB and 20,000 ECPU/s.
# Its task, NAT and edge fields are not read.
PLATFORM_PROFILE = replace(
    PROFILES[EPHEMERAL], name=PLATFORM, log_retention_days=30, kms_deletion_window_days=30,
    access_log_expiration_days=30, db_max_acu=8.0, cache_max_storage_gb=5,
    cache_max_ecpu_per_second=20000, alarm_capacity_percent=80)
