"""Physical names: derived from the suffix, within their AWS limits."""
from __future__ import annotations

import pytest

from lib.config import ConfigError, load_settings
from lib.naming import Names


def names_for(suffix: str, region: str = "us-east-1") -> Names:
    return Names(load_settings({"ENVIRONMENT_SUFFIX": suffix, "AWS_REGION": region}))


def test_names_of_dev() -> None:
    names = names_for("dev")
    assert names.alb == "tap-dev-alb"
    assert names.target_group == "tap-dev-web"
    assert names.db_cluster == "tap-dev-aurora"
    assert names.cache == "tap-dev-cache"
    assert names.waf_log_group == "aws-waf-logs-tap-dev"
    assert names.alb_log_bucket == "tap-dev-alb-logs-<account>-us-east-1"
    assert names.with_account(names.alb_log_bucket, "111122223333") == \
        "tap-dev-alb-logs-111122223333-us-east-1"


def test_names_differ_per_environment() -> None:
    dev, prod = vars(names_for("dev")), vars(names_for("prod"))
    assert all(dev[key] != prod[key] for key in dev)


def test_longest_suffix_fits_every_limit() -> None:
    names = names_for("a" * 20, region="ap-southeast-7")
    assert len(names.alb) <= 32 and len(names.target_group) <= 32
    assert len(names.cache) <= 40
    assert len(names.with_account(names.alb_log_bucket, "123456789012")) <= 63


def test_name_over_its_limit_is_a_config_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("lib.naming.PROJECT", "a-much-longer-project-prefix")
    with pytest.raises(ConfigError) as raised:
        names_for("a" * 20)
    assert raised.value.variable == "ENVIRONMENT_SUFFIX"
    assert "32 characters" in str(raised.value)
