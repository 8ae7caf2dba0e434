"""Unit tests of app.config: defaults, validation messages naming the variable, exit 2."""
from __future__ import annotations

from pathlib import Path

import pytest

from app.config import (
    CacheSettings,
    ConfigError,
    DatabaseSettings,
    Login,
    Settings,
    config_errors_exit,
    load_job_settings,
    load_release_settings,
    load_settings,
)


@pytest.fixture(name="bundle")
def bundle_fixture(tmp_path: Path) -> str:
    path = tmp_path / "bundle.pem"
    path.write_text("certificates\n", encoding="ascii")
    return str(path)


@pytest.fixture(name="minimal")
def minimal_fixture(bundle: str) -> dict[str, str]:
    """The fewest variables the service starts with: the endpoints, the region, the CAs."""
    return {"DB_HOST": "db.example.internal", "REDIS_HOST": "cache.example.internal",
            "AWS_REGION": "eu-west-1", "DB_SSLROOTCERT": bundle, "REDIS_CA_FILE": bundle}


def test_defaults(minimal: dict[str, str], bundle: str) -> None:
    assert load_settings(minimal) == Settings(
        port=8000, workers=2,
        database=DatabaseSettings(host="db.example.internal", port=5432, name="tap",
                                  sslmode="verify-full", sslrootcert=bundle),
        login=Login(username="tap_app", auth="iam", region="eu-west-1", password=None),
        cache=CacheSettings(host="cache.example.internal", port=6379, tls=True,
                            ca_file=bundle, cluster=True),
        greeting="Hello from TAP", revision=None)


def test_every_variable(bundle: str) -> None:
    settings = load_settings({
        "PORT": "9000", "WEB_CONCURRENCY": "3", "DB_HOST": "10.0.1.5", "DB_PORT": "6432",
        "DB_NAME": "guestbook", "DB_USERNAME": "gb_app", "DB_AUTH": "password",
        "DB_PASSWORD": "s3cret", "DB_SSLMODE": "verify-ca", "DB_SSLROOTCERT": bundle,
        "REDIS_HOST": "localhost", "REDIS_PORT": "6380", "REDIS_TLS": "false",
        "REDIS_CLUSTER": "false", "APP_GREETING": "Bonjour", "APP_REVISION": "v1.2.3+abc"})
    assert settings == Settings(
        port=9000, workers=3,
        database=DatabaseSettings(host="10.0.1.5", port=6432, name="guestbook",
                                  sslmode="verify-ca", sslrootcert=bundle),
        login=Login(username="gb_app", auth="password", region=None, password="s3cret"),
        cache=CacheSettings(host="localhost", port=6380, tls=False, ca_file="", cluster=False),
        greeting="Bonjour", revision="v1.2.3+abc")
    assert "s3cret" not in repr(settings)


@pytest.mark.parametrize(("name", "value", "message"), [
    ("DB_HOST", None, "DB_HOST: required, not set (a host name)"),
    ("DB_HOST", "", "DB_HOST: required, not set (a host name)"),
    ("DB_HOST", "db host", "DB_HOST: 'db host' is not a host name"),
    ("REDIS_HOST", None, "REDIS_HOST: required, not set (a host name)"),
    ("AWS_REGION", None, "AWS_REGION: required, not set (an AWS region such as us-east-1)"),
    ("AWS_REGION", "US-EAST-1", "AWS_REGION: 'US-EAST-1' is not an AWS region such as us-east-1"),
    ("PORT", "0", "PORT: '0' is not an integer from 1 to 65535"),
    ("PORT", "80a", "PORT: '80a' is not an integer from 1 to 65535"),
    ("DB_PORT", "65536", "DB_PORT: '65536' is not an integer from 1 to 65535"),
    ("REDIS_PORT", "-1", "REDIS_PORT: '-1' is not an integer from 1 to 65535"),
    ("WEB_CONCURRENCY", "33", "WEB_CONCURRENCY: '33' is not an integer from 1 to 32"),
    ("DB_NAME", "Tap", "DB_NAME: 'Tap' is not a lowercase identifier"),
    ("DB_USERNAME", "tap-app", "DB_USERNAME: 'tap-app' is not a lowercase identifier"),
    ("DB_AUTH", "kerberos", "DB_AUTH: 'kerberos' is not one of iam, password"),
    ("DB_SSLMODE", "require", "DB_SSLMODE: 'require' is not one of verify-full, verify-ca"),
    ("DB_SSLROOTCERT", "/nonexistent/ca.pem",
     "DB_SSLROOTCERT: '/nonexistent/ca.pem' is not a readable file"),
    ("REDIS_CA_FILE", "/nonexistent/ca.pem",
     "REDIS_CA_FILE: '/nonexistent/ca.pem' is not a readable file"),
    ("REDIS_TLS", "yes", "REDIS_TLS: 'yes' is not true or false"),
    ("REDIS_CLUSTER", "1", "REDIS_CLUSTER: '1' is not true or false"),
    ("APP_GREETING", "x" * 201, "APP_GREETING: must be printable text of at most 200 characters"),
    ("APP_GREETING", "a\nb", "APP_GREETING: must be printable text of at most 200 characters"),
    ("APP_REVISION", "v1 2", "APP_REVISION: 'v1 2' is not a revision (letters, digits, ._:@/+-)"),
])
def test_invalid_variable_is_named(minimal: dict[str, str], name: str, value: str | None,
                                   message: str) -> None:
    environ = {key: val for key, val in minimal.items() if key != name}
    if value is not None:
        environ[name] = value
    with pytest.raises(ConfigError) as caught:
        load_settings(environ)
    assert str(caught.value) == message
    assert caught.value.name == name


def test_password_auth_needs_a_password(minimal: dict[str, str]) -> None:
    with pytest.raises(ConfigError, match="^DB_PASSWORD: required with DB_AUTH=password"):
        load_settings({**minimal, "DB_AUTH": "password"})


def test_password_auth_needs_no_region(minimal: dict[str, str]) -> None:
    environ = {key: val for key, val in minimal.items() if key != "AWS_REGION"}
    settings = load_settings({**environ, "DB_AUTH": "password", "DB_PASSWORD": "pw"})
    assert settings.login == Login(username="tap_app", auth="password", password="pw")


def test_job_settings_need_no_cache(minimal: dict[str, str], bundle: str) -> None:
    environ = {key: val for key, val in minimal.items() if not key.startswith("REDIS_")}
    settings = load_job_settings(environ)
    assert settings.database == DatabaseSettings(host="db.example.internal", sslrootcert=bundle)
    assert settings.login == Login(username="tap_app", auth="iam", region="eu-west-1")


def test_release_settings(bundle: str) -> None:
    settings = load_release_settings({"DB_HOST": "db", "DB_SSLROOTCERT": bundle,
                                      "DB_ADMIN_USERNAME": "tapadmin",
                                      "DB_ADMIN_PASSWORD": "master-pw"})
    assert settings.admin == Login(username="tapadmin", auth="password", password="master-pw")
    assert settings.app_username == "tap_app"
    assert settings.database == DatabaseSettings(host="db", sslrootcert=bundle)


@pytest.mark.parametrize(("environ", "message"), [
    ({}, "DB_ADMIN_USERNAME: required, not set (the master user's name)"),
    ({"DB_ADMIN_USERNAME": "tapadmin"},
     "DB_ADMIN_PASSWORD: required, not set (the master user's password)"),
    ({"DB_ADMIN_USERNAME": "tap_app", "DB_ADMIN_PASSWORD": "pw"},
     "DB_USERNAME: 'tap_app' must differ from DB_ADMIN_USERNAME"),
])
def test_release_settings_refused(bundle: str, environ: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_release_settings({"DB_HOST": "db", "DB_SSLROOTCERT": bundle, **environ})
    assert str(caught.value) == message


def test_config_errors_exit_prints_one_line_and_exits_2(
        capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught, config_errors_exit("tap-app"):
        load_settings({})
    assert caught.value.code == 2
    captured = capsys.readouterr()
    assert captured.err == "tap-app: configuration error: DB_HOST: required, not set (a host name)\n"
    assert captured.out == ""


def test_cache_user_and_key_prefix(minimal: dict[str, str], bundle: str) -> None:
    settings = load_settings({**minimal, "REDIS_USERNAME": "tap-pr12",
                              "REDIS_PASSWORD": "p" * 32, "REDIS_KEY_PREFIX": "tap:pr12:"})
    assert settings.cache == CacheSettings(
        host="cache.example.internal", port=6379, tls=True, ca_file=bundle, cluster=True,
        username="tap-pr12", password="p" * 32, key_prefix="tap:pr12:")
    assert "p" * 32 not in repr(settings)
    assert load_settings(minimal).cache.key_prefix == ""


@pytest.mark.parametrize(("environ", "name", "message"), [
    ({"REDIS_USERNAME": "tap-pr12"}, "REDIS_PASSWORD",
     "REDIS_PASSWORD: required with REDIS_USERNAME, not set"),
    ({"REDIS_PASSWORD": "p" * 32}, "REDIS_USERNAME",
     "REDIS_USERNAME: required with REDIS_PASSWORD, not set"),
    ({"REDIS_USERNAME": "tap pr12", "REDIS_PASSWORD": "p" * 32}, "REDIS_USERNAME",
     "REDIS_USERNAME: 'tap pr12' is not a user name (letters, digits, ._-)"),
    ({"REDIS_USERNAME": "tap-pr12", "REDIS_PASSWORD": "short-secret"}, "REDIS_PASSWORD",
     "REDIS_PASSWORD: must be 16 to 128 printable ASCII characters"),
    ({"REDIS_KEY_PREFIX": "tap:*"}, "REDIS_KEY_PREFIX",
     "REDIS_KEY_PREFIX: 'tap:*' is not a key prefix (1 to 64 letters, digits, ._:-)"),
    ({"REDIS_KEY_PREFIX": "{tap}:"}, "REDIS_KEY_PREFIX",
     "REDIS_KEY_PREFIX: '{tap}:' is not a key prefix (1 to 64 letters, digits, ._:-)"),
])
def test_cache_user_and_key_prefix_refused(minimal: dict[str, str], environ: dict[str, str],
                                           name: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings({**minimal, **environ})
    assert (str(caught.value), caught.value.name) == (message, name)
    assert "short-secret" not in str(caught.value)


def test_release_settings_as_the_owner_with_iam(bundle: str) -> None:
    settings = load_release_settings({
        "DB_HOST": "db", "DB_SSLROOTCERT": bundle, "DB_NAME": "tap_pr12",
        "DB_USERNAME": "tap_pr12_app", "DB_ADMIN_USERNAME": "tap_pr12_owner",
        "DB_ADMIN_AUTH": "iam", "AWS_REGION": "eu-west-1", "DB_OWNER_ROLE": "tap_pr12_owner"})
    assert settings.admin == Login(username="tap_pr12_owner", auth="iam", region="eu-west-1")
    assert (settings.owner_role, settings.app_username) == ("tap_pr12_owner", "tap_pr12_app")
    assert load_release_settings({"DB_HOST": "db", "DB_SSLROOTCERT": bundle,
                                  "DB_ADMIN_USERNAME": "tapadmin",
                                  "DB_ADMIN_PASSWORD": "pw"}).owner_role == "tap_owner"


@pytest.mark.parametrize(("environ", "message"), [
    ({"DB_ADMIN_USERNAME": "o", "DB_ADMIN_AUTH": "iam"},
     "AWS_REGION: required, not set (an AWS region such as us-east-1)"),
    ({"DB_ADMIN_USERNAME": "o", "DB_ADMIN_AUTH": "kerberos"},
     "DB_ADMIN_AUTH: 'kerberos' is not one of iam, password"),
    ({"DB_ADMIN_USERNAME": "o", "DB_ADMIN_PASSWORD": "pw", "DB_OWNER_ROLE": "Owner"},
     "DB_OWNER_ROLE: 'Owner' is not a lowercase identifier"),
    ({"DB_ADMIN_USERNAME": "o", "DB_ADMIN_PASSWORD": "pw", "DB_OWNER_ROLE": "tap_app"},
     "DB_OWNER_ROLE: 'tap_app' must differ from DB_USERNAME"),
])
def test_release_owner_settings_refused(bundle: str, environ: dict[str, str],
                                        message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_release_settings({"DB_HOST": "db", "DB_SSLROOTCERT": bundle, **environ})
    assert str(caught.value) == message
