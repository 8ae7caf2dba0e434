"""Every physical resource name, derived from the environment suffix in one place.

``Names(settings)`` builds each name once and checks it against its AWS limit (length,
characters, case); a name that cannot fit raises ``ConfigError`` naming
ENVIRONMENT_SUFFIX, so ``main.py`` reports it like any other bad input. Names that
embed the account id (globally unique S3 buckets) are checked with a 12-digit account.

The shared stack's names (``Names(platform_settings)``) are the same names with the part
``shared-<name>`` for the suffix (``tap-shared-<name>-alb``...), checked the same way and
reported naming SHARED_PLATFORM. An environment's names in the shared pieces (its database
``tap_<suffix>``, its roles, its cache user ``tap-<suffix>`` and key prefix ``tap:<suffix>:``)
are here too.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from lib.config import ConfigError, PlatformSettings, Settings
from lib.manifest import ManifestError

PROJECT = "tap"
# What Terraform appends to a name_prefix/bucket_prefix (id.PrefixedUniqueId: a UTC
# timestamp to 1/10000 s plus an 8-digit counter), for checking the names prefixes become.
_UNIQUE_ID_EXAMPLE = "20261202140000000000000001"
BUCKET_PREFIX_LIMIT = 37  # the provider's limit on bucket_prefix
# The final snapshot's unique part: this many leading characters of the data key's id.
SNAPSHOT_UNIQUE_CHARS = 8


@dataclass(frozen=True)
class _Rule:
    limit: int
    pattern: re.Pattern[str]
    what: str


_HYPHENATED = re.compile(r"^[a-z][a-z0-9-]*[a-z0-9]$")
_RULES = {
    "alb": _Rule(32, _HYPHENATED, "load balancer names"),
    "target_group": _Rule(32, _HYPHENATED, "target group names"),
    "iam_role": _Rule(64, re.compile(r"^[\w+=,.@-]+$"), "IAM role names"),
    "rds": _Rule(63, re.compile(r"^[a-z](?!.*--)[a-z0-9-]*[a-z0-9]$"), "RDS identifiers"),
    "elasticache_serverless": _Rule(40, _HYPHENATED, "ElastiCache serverless cache names"),
    "s3_bucket": _Rule(63, re.compile(r"^[a-z0-9][a-z0-9-]*[a-z0-9]$"), "S3 bucket names"),
    "log_group": _Rule(512, re.compile(r"^[\w#/.-]+$"), "log group names"),
    "vpc_origin": _Rule(64, re.compile(r"^[\w.-]+$"), "CloudFront VPC origin names"),
    "generic": _Rule(255, re.compile(r"^[A-Za-z0-9/_+=.@-]+$"), "names"),
    "waf": _Rule(128, re.compile(r"^[\w-]+$"), "WAF names"),
    "kms_alias": _Rule(256, re.compile(r"^alias/(?!aws/)[\w/-]+$"), "KMS aliases"),
    "secret": _Rule(512, re.compile(r"^[\w/+=.@-]+$"), "secret names"),
    "sns_topic": _Rule(256, re.compile(r"^[\w-]+$"), "SNS topic names"),
    "schedule": _Rule(64, re.compile(r"^[0-9a-zA-Z-_.]+$"), "EventBridge Scheduler names"),
    "sqs": _Rule(80, re.compile(r"^[\w-]+$"), "SQS queue names"),
    # PostgreSQL identifiers: NAMEDATALEN - 1 bytes; the stack's are lowercase, unquoted-safe.
    "postgres": _Rule(63, re.compile(r"^[a-z_][a-z0-9_]*$"), "PostgreSQL names"),
    # ElastiCache user and user group ids (CreateUserGroup: "Pattern: [a-zA-Z][a-zA-Z0-9\-]*"),
    # no two hyphens in a row nor one at the end, like every ElastiCache identifier.
    "elasticache_user": _Rule(40, re.compile(r"^[a-z](?!.*--)[a-z0-9-]*[a-z0-9]$"),
                              "ElastiCache user and user group ids"),
}


def _check(suffix: str, kind: str, name: str, completion: str = "",
           variable: str = "ENVIRONMENT_SUFFIX") -> str:
    """``name`` (or the prefix ``name``, completed by ``completion``) within its rule; else
    ``ConfigError`` naming ``variable`` and its value ``suffix``."""
    rule = _RULES[kind]
    checked = name + completion
    if len(checked) > rule.limit or not rule.pattern.match(checked):
        raise ConfigError(
            variable, suffix,
            f"it makes {checked!r} ({len(checked)} characters) but {rule.what} allow "
            f"{rule.limit} characters matching {rule.pattern.pattern}",
        )
    return name


class Names:  # pylint: disable=too-many-instance-attributes,too-few-public-methods
    """Physical names (and name prefixes) of one environment."""

    # One statement per name: listing them all in one place is this class's point.
    def __init__(self, settings: Settings | PlatformSettings) -> None:  # pylint: disable=too-many-statements
        if isinstance(settings, PlatformSettings):  # the shared stack (SHARED_PLATFORM)
            given, variable, suffix = settings.name, "SHARED_PLATFORM", f"shared-{settings.name}"
            port, manifest = 80, None
        else:
            given = suffix = settings.environment_suffix
            variable, port, manifest = "ENVIRONMENT_SUFFIX", settings.container_port, \
                settings.manifest
        self._variable, self._given = variable, given
        base = f"{PROJECT}-{suffix}"

        def name(kind: str, value: str) -> str:
            return _check(given, kind, value, variable=variable)

        def completed(kind: str, value: str, completion: str = _UNIQUE_ID_EXAMPLE) -> str:
            return _check(given, kind, value, completion, variable)

        self.prefix = base
        # network
        self.vpc = name("generic", f"{base}-vpc")
        self.flow_log_group = name("log_group", f"/{PROJECT}/{suffix}/vpc-flow-logs")
        self.flow_log_role = name("iam_role", f"{base}-vpc-flow-logs")
        self.logs_key_alias = name("kms_alias", f"alias/{base}-logs")
        self.alb_security_group = name("generic", f"{base}-alb")
        self.task_security_group = name("generic", f"{base}-tasks")
        # application tier
        self.alb = name("alb", f"{base}-alb")
        self.vpc_origin = name("vpc_origin", f"{base}-alb")
        # The port is in the name: a port change makes a new group beside the old one
        # (create_before_destroy), as a name can only be used once.
        self.target_group = name("target_group", f"{base}-tg{port}")
        # S3 may not free a deleted bucket's name for a while, and anyone may take it.
        self.alb_log_bucket_prefix = self._bucket_prefix(f"{base}-alb-logs-")
        self.ecs_cluster = name("generic", f"{base}-cluster")
        # Container Insights writes here; created by the stack so destroy removes it too.
        self.container_insights_log_group = name(
            "log_group", f"/aws/ecs/containerinsights/{self.ecs_cluster}/performance")
        self.ecs_service = name("generic", f"{base}-web")
        self.task_family = name("generic", f"{base}-web")
        self.task_log_group = name("log_group", f"/{PROJECT}/{suffix}/ecs/web")
        self.execution_role = name("iam_role", f"{base}-ecs-execution")
        self.task_role = name("iam_role", f"{base}-ecs-task")
        # A deleted secret's name stays reserved for its recovery window.
        self.origin_verify_secret_prefix = completed("secret", f"{PROJECT}/{suffix}/origin-verify-")
        # data tier
        self.data_key_alias = name("kms_alias", f"alias/{base}-data")
        self.db_cluster = name("rds", f"{base}-aurora")
        self.db_subnet_group = name("rds", f"{base}-aurora")
        # The engine's major version is in the name: a major upgrade needs a group of the new
        # family beside the one in use (create_before_destroy).
        self.db_parameter_group = name(
            "rds", f"{base}-aurora-pg{settings.db_engine_version.split('.', 1)[0]}")
        self.db_security_group = name("generic", f"{base}-aurora")
        self.db_monitoring_role = name("iam_role", f"{base}-rds-monitoring")
        self.cache = name("elasticache_serverless", f"{base}-cache")
        self.cache_security_group = name("generic", f"{base}-cache")
        self.cache_secret_prefix = completed("secret", f"{PROJECT}/{suffix}/redis-connection-")
        # A final snapshot's identifier stays taken while the snapshot exists; completed
        # with the data key's id, which each deployment's new key makes unique.
        self.db_final_snapshot_prefix = completed("rds", f"{base}-aurora-final-",
                                               "0123abcd"[:SNAPSHOT_UNIQUE_CHARS])
        # edge (global resources, us-east-1)
        self.web_acl = name("waf", f"{base}-edge")
        self.edge_key_alias = name("kms_alias", f"alias/{base}-edge")
        # CloudFront and WAF logs; WAF requires the aws-waf-logs- start, and "tap-<suffix>-"
        # would pass bucket_prefix's 37 characters with a 20-character suffix.
        self.edge_log_bucket_prefix = self._bucket_prefix(f"aws-waf-logs-{PROJECT}{suffix}-")
        # monitoring
        self.alarm_topic = name("sns_topic", f"{base}-alarms")
        self.global_alarm_topic = name("sns_topic", f"{base}-alarms-global")
        self.dashboard = name("generic", base)
        self.alarms_key_alias = name("kms_alias", f"alias/{base}-alarms")
        # one key per region for the whole environment (Profile.single_key)
        self.environment_key_alias = name("kms_alias", f"alias/{base}")
        self.global_key_alias = name("kms_alias", f"alias/{base}-global")
        self.global_alarms_key_alias = name("kms_alias", f"alias/{base}-alarms-global")
        # the application's release task, secrets and jobs (the manifest's)
        self.release_family = name("generic", f"{base}-release")
        self.release_execution_role = name("iam_role", f"{base}-release-execution")
        self.release_task_role = name("iam_role", f"{base}-release-task")
        self.app_secret_prefix = f"{PROJECT}/{suffix}/app/"
        self.jobs_dead_letter_queue = name("sqs", f"{base}-jobs-dlq")
        self.jobs_key_alias = name("kms_alias", f"alias/{base}-jobs")
        # in the shared pieces: the environment's database, roles, cache user and key prefix
        # (tools/shared_database.py makes the database and roles; lib/shared_tenancy.py the user)
        underscored = suffix.replace("-", "_")
        self.shared_database = name("postgres", f"{PROJECT}_{underscored}")
        self.shared_owner_role = name("postgres", f"{PROJECT}_{underscored}_owner")
        self.shared_app_role = name("postgres", f"{PROJECT}_{underscored}_app")
        self.cache_user = name("elasticache_user", base)
        self.cache_user_secret_prefix = completed("secret", f"{PROJECT}/{suffix}/cache-user-")
        self.cache_key_prefix = f"{PROJECT}:{suffix}:"
        # the shared stack's cache users: the group, and its disabled user named "default"
        self.cache_user_group = name("elasticache_user", f"{base}-users")
        self.cache_default_user = name("elasticache_user", f"{base}-default")
        self.jobs: dict[str, JobNames] = {
            job.name: JobNames(suffix, base, job.name, (manifest.path, f"jobs[{index}].name"))
            for index, job in enumerate(manifest.jobs if manifest else ())}

    def _bucket_prefix(self, value: str) -> str:
        if len(value) > BUCKET_PREFIX_LIMIT:
            raise ConfigError(self._variable, self._given,
                              f"it makes the bucket prefix {value!r} ({len(value)} characters) "
                              f"but bucket_prefix allows {BUCKET_PREFIX_LIMIT}")
        return _check(self._given, "s3_bucket", value, _UNIQUE_ID_EXAMPLE, self._variable)

    def app_secret_prefix_of(self, name: str) -> str:
        """The name prefix of the application secret ``name``: Terraform completes it once,
        so a redeploy never meets the name a deleted secret keeps for its recovery window."""
        return _check(self._given, "secret", f"{self.app_secret_prefix}{name}-",
                      _UNIQUE_ID_EXAMPLE, self._variable)

    def alarm(self, key: str) -> str:
        """Name of the CloudWatch alarm ``key`` (the keys are lib.monitoring's)."""
        return _check(self._given, "generic", f"{self.prefix}-{key}", variable=self._variable)


class JobNames:  # pylint: disable=too-few-public-methods
    """The names of one scheduled job's resources; a job name that makes one too long is a
    manifest error naming the job (``where``: the manifest's path and the job's key)."""

    def __init__(self, suffix: str, base: str, job: str, where: tuple[str, str]) -> None:
        def name(kind: str, value: str) -> str:
            try:
                return _check(suffix, kind, value)
            except ConfigError as error:
                rule = _RULES[kind]
                raise ManifestError(*where,
                                    f"{job!r} makes {value!r} ({len(value)} characters) with "
                                    f"ENVIRONMENT_SUFFIX={suffix!r}, but {rule.what} allow "
                                    f"{rule.limit}") from error
        self.schedule = name("schedule", f"{base}-{job}")
        self.family = name("generic", f"{base}-job-{job}")
        self.role = name("iam_role", f"{base}-job-{job}")
