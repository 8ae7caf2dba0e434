"""Settings: defaults, profiles, overrides and every validation error."""
from __future__ import annotations

import dataclasses

import pytest

from lib.config import (
    DEFAULT_CONTAINER_IMAGE, EPHEMERAL, NAT_NONE, NAT_PER_AZ, NAT_SINGLE, PRODUCTION, PROFILES,
    STANDARD, ConfigError, load_settings, profile_name_for,
)

ACM = "arn:aws:acm:{region}:123456789012:certificate/0123abcd-0123-4567-89ab-0123456789ab"


def test_defaults() -> None:
    settings = load_settings({})
    assert settings.environment_suffix == "dev"
    assert settings.aws_region == "us-east-1"
    assert settings.profile.name == STANDARD
    assert settings.stack_name == "TapStackdev"
    assert settings.state_bucket is None
    assert settings.state_bucket_region == "us-east-1"
    assert (settings.repository, settings.commit_author) == ("unknown", "unknown")
    assert settings.create_nat_gateway is None
    assert settings.alarm_email is None
    assert settings.container_image == DEFAULT_CONTAINER_IMAGE
    assert settings.container_port == 80
    assert settings.health_check_path == "/"
    assert settings.cpu_architecture == "X86_64"
    assert not settings.domain_names
    assert settings.az_count == 3


@pytest.mark.parametrize("suffix,profile", [
    ("pr4892", EPHEMERAL), ("pr1", EPHEMERAL), ("prod", PRODUCTION), ("production", PRODUCTION),
    ("dev", STANDARD), ("stage", STANDARD), ("pr", STANDARD), ("pr12a", STANDARD),
    ("prodx", STANDARD), ("preview", STANDARD), ("qa", STANDARD),
])
def test_profile_matches_the_whole_suffix(suffix: str, profile: str) -> None:
    assert profile_name_for(suffix) == profile
    assert load_settings({"ENVIRONMENT_SUFFIX": suffix}).profile is PROFILES[profile]


@pytest.mark.parametrize("suffix,override,expected", [
    ("pr4892", "", NAT_NONE), ("dev", "", NAT_SINGLE), ("prod", "", NAT_PER_AZ),
    ("pr4892", "true", NAT_SINGLE), ("dev", "false", NAT_NONE), ("prod", "TRUE", NAT_PER_AZ),
    ("prod", "false", NAT_NONE), ("dev", "yes", NAT_SINGLE),
])
def test_nat_override(suffix: str, override: str, expected: str) -> None:
    settings = load_settings({"ENVIRONMENT_SUFFIX": suffix, "CREATE_NAT_GATEWAY": override})
    assert settings.nat_mode == expected
    assert settings.tasks_in_public_subnets is (expected == NAT_NONE)


def test_two_az_region() -> None:
    assert load_settings({"AWS_REGION": "us-west-1"}).az_count == 2
    assert load_settings({"AWS_REGION": "eu-west-1"}).az_count == 3


def test_profiles_are_ordered_by_safety() -> None:
    eph, std, prod = PROFILES[EPHEMERAL], PROFILES[STANDARD], PROFILES[PRODUCTION]
    assert eph.log_retention_days < std.log_retention_days < prod.log_retention_days
    assert eph.secret_recovery_window_days == 0 < std.secret_recovery_window_days
    assert prod.deletion_protection and not eph.deletion_protection
    assert eph.skip_final_snapshot and not prod.skip_final_snapshot
    assert eph.db_min_acu == 0 and eph.db_auto_pause_seconds > 0
    assert prod.db_instance_count >= 2


def test_settings_are_immutable() -> None:
    settings = load_settings({})
    with pytest.raises(dataclasses.FrozenInstanceError):
        settings.aws_region = "eu-west-1"  # type: ignore[misc]


def test_optional_values_are_read() -> None:
    settings = load_settings({
        "TERRAFORM_STATE_BUCKET": "my-state.bucket-1", "TERRAFORM_STATE_BUCKET_REGION": "eu-west-1",
        "REPOSITORY": "org/repo", "COMMIT_AUTHOR": "Jane Doe",
        "ALARM_EMAIL": "ops+tap@example.com",
        "CONTAINER_IMAGE": "123456789012.dkr.ecr.us-east-1.amazonaws.com/web:1.2",
        "CONTAINER_PORT": "8080", "HEALTH_CHECK_PATH": "/healthz", "CPU_ARCHITECTURE": "ARM64",
        "CERTIFICATE_ARN": ACM.format(region="us-east-1"),
        "EDGE_CERTIFICATE_ARN": ACM.format(region="us-east-1"),
        "DOMAIN_NAMES": "app.example.com, www.example.com", "DB_ENGINE_VERSION": "16.8",
        "CACHE_ENGINE": "redis", "VPC_CIDR": "10.20.0.0/16",
    })
    assert settings.state_bucket == "my-state.bucket-1"
    assert settings.state_bucket_region == "eu-west-1"
    assert settings.repository == "org/repo"
    assert settings.commit_author == "Jane Doe"
    assert settings.alarm_email == "ops+tap@example.com"
    assert settings.container_image.endswith("/web:1.2")
    assert settings.container_port == 8080
    assert settings.health_check_path == "/healthz"
    assert settings.cpu_architecture == "ARM64"
    assert settings.domain_names == ("app.example.com", "www.example.com")
    assert settings.db_engine_version == "16.8"
    assert settings.cache_engine == "redis"
    assert settings.vpc_cidr == "10.20.0.0/16"


@pytest.mark.parametrize("variable,value", [
    ("ENVIRONMENT_SUFFIX", "Dev"),
    ("ENVIRONMENT_SUFFIX", "my-env"),
    ("ENVIRONMENT_SUFFIX", "1dev"),
    ("ENVIRONMENT_SUFFIX", "a" * 21),
    ("AWS_REGION", "us-east-9"),
    ("AWS_REGION", "US-EAST-1"),
    ("TERRAFORM_STATE_BUCKET", "Bad_Bucket"),
    ("TERRAFORM_STATE_BUCKET", "ab"),
    ("TERRAFORM_STATE_BUCKET_REGION", "mars-1"),
    ("REPOSITORY", "bad;repo"),
    ("COMMIT_AUTHOR", "x" * 257),
    ("CREATE_NAT_GATEWAY", "maybe"),
    ("ALARM_EMAIL", "not-an-email"),
    ("CONTAINER_IMAGE", "Nginx Latest"),
    ("CONTAINER_PORT", "0"),
    ("CONTAINER_PORT", "70000"),
    ("CONTAINER_PORT", "http"),
    ("HEALTH_CHECK_PATH", "health"),
    ("CPU_ARCHITECTURE", "arm64"),
    ("CERTIFICATE_ARN", "arn:aws:acm:us-east-1:123:certificate/x"),
    ("CERTIFICATE_ARN", ACM.format(region="eu-west-1")),
    ("EDGE_CERTIFICATE_ARN", ACM.format(region="eu-west-1")),
    ("DOMAIN_NAMES", "Bad Name"),
    ("DB_ENGINE_VERSION", "16"),
    ("DB_ENGINE_VERSION", "sixteen"),
    ("CACHE_ENGINE", "memcached"),
    ("VPC_CIDR", "10.0.0.0/8"),
    ("VPC_CIDR", "8.8.0.0/16"),
    ("VPC_CIDR", "not-a-cidr"),
])
def test_invalid_values_name_variable_and_value(variable: str, value: str) -> None:
    with pytest.raises(ConfigError) as raised:
        load_settings({variable: value})
    message = str(raised.value)
    assert raised.value.variable == variable
    assert message.startswith(f"{variable}={value!r} is invalid: ")
    assert "\n" not in message


def test_https_origin_needs_the_viewer_domain_names() -> None:
    with pytest.raises(ConfigError) as raised:
        load_settings({"CERTIFICATE_ARN": ACM.format(region="us-east-1")})
    assert raised.value.variable == "CERTIFICATE_ARN"
    assert "needs DOMAIN_NAMES (with HOSTED_ZONE_ID or EDGE_CERTIFICATE_ARN)" in str(raised.value)


def test_domain_names_need_a_viewer_certificate() -> None:
    with pytest.raises(ConfigError, match="needs a viewer certificate: HOSTED_ZONE_ID"):
        load_settings({"DOMAIN_NAMES": "app.example.com"})
    with pytest.raises(ConfigError, match="EDGE_CERTIFICATE_ARN=.* needs DOMAIN_NAMES"):
        load_settings({"EDGE_CERTIFICATE_ARN": ACM.format(region="us-east-1")})


def test_hosted_zone_makes_the_certificate() -> None:
    settings = load_settings({"DOMAIN_NAMES": "example.com,www.example.com",
                              "HOSTED_ZONE_ID": "Z0123456789ABCDEFGHIJ"})
    assert settings.hosted_zone_id == "Z0123456789ABCDEFGHIJ"
    assert settings.edge_certificate_arn is None
    assert settings.domain_names == ("example.com", "www.example.com")


@pytest.mark.parametrize("environ,variable,message", [
    ({"HOSTED_ZONE_ID": "z123", "DOMAIN_NAMES": "a.example.com"}, "HOSTED_ZONE_ID",
     "a Route 53 hosted zone id (up to 32 uppercase letters or digits, "
     "e.g. Z0123456789ABCDEFGHIJ)"),
    ({"HOSTED_ZONE_ID": "Z0123456789ABC"}, "HOSTED_ZONE_ID",
     "needs DOMAIN_NAMES, the names to serve in that zone"),
    ({"HOSTED_ZONE_ID": "Z0123456789ABC", "DOMAIN_NAMES": "a.example.com",
      "EDGE_CERTIFICATE_ARN": ACM.format(region="us-east-1")}, "HOSTED_ZONE_ID",
     "HOSTED_ZONE_ID (the stack makes the certificate) and EDGE_CERTIFICATE_ARN (your own) "
     "exclude each other: set one"),
])
def test_impossible_domain_combinations(environ: dict[str, str], variable: str,
                                        message: str) -> None:
    with pytest.raises(ConfigError) as raised:
        load_settings(environ)
    assert str(raised.value) == f"{variable}={environ[variable]!r} is invalid: {message}"


def test_private_origin_where_vpc_origins_are_offered() -> None:
    assert load_settings({}).private_origin
    assert load_settings({"AWS_REGION": "us-west-1"}).private_origin
    assert not load_settings({"AWS_REGION": "ap-southeast-6"}).private_origin
