"""Physical names: derived from the suffix, within their AWS limits."""
from __future__ import annotations

import pytest

from lib.config import ConfigError, load_platform_settings, load_settings
from lib.naming import Names
from tests.unit.variants import GIVEN_NETWORK


def names_for(suffix: str, region: str = "us-east-1") -> Names:
    return Names(load_settings({"ENVIRONMENT_SUFFIX": suffix, "AWS_REGION": region}))


def test_names_of_dev() -> None:
    names = names_for("dev")
    assert names.alb == "tap-dev-alb"
    assert names.target_group == "tap-dev-tg80"
    assert names.db_parameter_group == "tap-dev-aurora-pg16"
    assert names.db_cluster == "tap-dev-aurora"
    assert names.cache == "tap-dev-cache"
    assert names.container_insights_log_group == \
        "/aws/ecs/containerinsights/tap-dev-cluster/performance"


def test_names_aws_keeps_after_delete_are_prefixes() -> None:
    names = names_for("dev")
    assert names.alb_log_bucket_prefix == "tap-dev-alb-logs-"
    assert names.edge_log_bucket_prefix == "aws-waf-logs-tapdev-"
    assert names.origin_verify_secret_prefix == "tap/dev/origin-verify-"
    assert names.cache_secret_prefix == "tap/dev/redis-connection-"
    assert names.db_final_snapshot_prefix == "tap-dev-aurora-final-"


def test_names_differ_per_environment() -> None:
    dev, prod = vars(names_for("dev")), vars(names_for("prod"))
    assert dev.pop("jobs") == prod.pop("jobs") == {}  # no manifest: no jobs
    assert dev.pop("_variable") == prod.pop("_variable") == "ENVIRONMENT_SUFFIX"
    assert all(dev[key] != prod[key] for key in dev)


def test_longest_suffix_fits_every_limit() -> None:
    names = names_for("a" * 20, region="ap-southeast-7")
    assert len(names.alb) <= 32 and len(names.target_group) <= 32
    assert len(names.cache) <= 40
    # Terraform appends 26 characters to a bucket_prefix (at most 37) and 8 to the snapshot's.
    assert len(names.alb_log_bucket_prefix) <= 37 and len(names.edge_log_bucket_prefix) <= 37
    assert len(names.alb_log_bucket_prefix) + 26 <= 63
    assert len(names.db_final_snapshot_prefix) + 8 <= 63


def test_bucket_prefix_over_its_limit_is_a_config_error() -> None:
    # pylint: disable=protected-access
    names = names_for("dev")
    assert names._bucket_prefix("a" * 37) == "a" * 37
    with pytest.raises(ConfigError) as raised:
        names._bucket_prefix("a" * 38)
    assert raised.value.variable == "ENVIRONMENT_SUFFIX"
    assert "(38 characters) but bucket_prefix allows 37" in str(raised.value)


def test_name_over_its_limit_is_a_config_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("lib.naming.PROJECT", "a-much-longer-project-prefix")
    with pytest.raises(ConfigError) as raised:
        names_for("a" * 20)
    assert raised.value.variable == "ENVIRONMENT_SUFFIX"
    assert "32 characters" in str(raised.value)


def test_an_environment_s_names_in_the_shared_pieces() -> None:
    names = names_for("pr4892")
    assert (names.shared_database, names.shared_owner_role, names.shared_app_role) == (
        "tap_pr4892", "tap_pr4892_owner", "tap_pr4892_app")
    assert (names.cache_user, names.cache_key_prefix) == ("tap-pr4892", "tap:pr4892:")
    assert names.cache_user_secret_prefix == "tap/pr4892/cache-user-"


def test_the_shared_stack_s_names_name_shared_platform() -> None:
    names = Names(load_platform_settings({"SHARED_PLATFORM": "main", **GIVEN_NETWORK}))
    assert (names.prefix, names.alb, names.web_acl, names.db_cluster, names.cache) == (
        "tap-shared-main", "tap-shared-main-alb", "tap-shared-main-edge",
        "tap-shared-main-aurora", "tap-shared-main-cache")
    assert (names.cache_user_group, names.cache_default_user) == (
        "tap-shared-main-users", "tap-shared-main-default")
    assert names.edge_log_bucket_prefix == "aws-waf-logs-tapshared-main-"
    assert names.alarm("alb-5xx") == "tap-shared-main-alb-5xx"
    # The longest name (12 characters) fits every limit; a limit it passes names the variable.
    assert Names(load_platform_settings({"SHARED_PLATFORM": "a" * 12, **GIVEN_NETWORK})).alb == \
        "tap-shared-aaaaaaaaaaaa-alb"


def test_a_shared_stack_name_over_a_limit_names_shared_platform(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("lib.naming.PROJECT", "a-much-longer-project-prefix")
    with pytest.raises(ConfigError) as raised:
        Names(load_platform_settings({"SHARED_PLATFORM": "main", **GIVEN_NETWORK}))
    assert raised.value.variable == "SHARED_PLATFORM"
    assert str(raised.value).startswith("SHARED_PLATFORM='main' is invalid: it makes ")
