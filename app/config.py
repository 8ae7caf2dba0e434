"""The application's settings, read once from the environment and validated.

The platform's contract is the set of environment variables below (each default is
declared once, here). ``load_settings`` serves the web service, ``load_job_settings`` the
scheduled job (no cache) and ``load_release_settings`` the release command (the admin
login and the owner role). A missing or invalid variable raises ``ConfigError`` naming it; entry points wrap
themselves in ``config_errors_exit``, which prints that one line and exits 2 (no traceback).

| variable | default | meaning |
| --- | --- | --- |
| ``PORT`` | 8000 | gunicorn binds ``0.0.0.0:$PORT`` |
| ``WEB_CONCURRENCY`` | 2 | gunicorn worker processes (1-32) |
| ``DB_HOST`` | required | the cluster's writer endpoint |
| ``DB_PORT`` / ``DB_NAME`` | 5432 / ``tap`` | |
| ``DB_USERNAME`` | ``tap_app`` | the application's own role |
| ``DB_AUTH`` | ``iam`` | ``iam`` (a fresh RDS auth token per connection) or ``password`` |
| ``DB_PASSWORD`` | required with ``DB_AUTH=password`` | local development only |
| ``AWS_REGION`` | required with ``DB_AUTH=iam`` | the region the tokens are signed for |
| ``DB_SSLMODE`` | ``verify-full`` | or ``verify-ca``; nothing weaker |
| ``DB_SSLROOTCERT`` | ``/srv/certs/ca-bundle.pem`` | CA bundle (RDS CAs + Debian's) |
| ``REDIS_HOST`` | required by the service | the serverless cache's endpoint |
| ``REDIS_PORT`` | 6379 | |
| ``REDIS_TLS`` | ``true`` | ``false`` only for a local plain Redis |
| ``REDIS_CA_FILE`` | ``/srv/certs/ca-bundle.pem`` | CA bundle for the cache's certificate |
| ``REDIS_CLUSTER`` | ``true`` | cluster protocol (ElastiCache Serverless); ``false``: one node |
| ``REDIS_USERNAME`` / ``REDIS_PASSWORD`` | unset | both or none: an ElastiCache user of the cache's |
| | | user group (RBAC); the client authenticates with ``AUTH username password`` |
| ``REDIS_KEY_PREFIX`` | unset | every key the application uses starts with it (e.g. ``tap:pr12:``, |
| | | the key pattern ``~tap:pr12:*`` of that user's access string) |
| ``DB_ADMIN_USERNAME`` | required by the release | the master user, or the schema owner itself |
| ``DB_ADMIN_AUTH`` | ``password`` | ``password`` (``DB_ADMIN_PASSWORD``) or ``iam`` (RDS IAM tokens, |
| | | signed for ``AWS_REGION``, as ``DB_AUTH=iam``) |
| ``DB_ADMIN_PASSWORD`` | required with ``DB_ADMIN_AUTH=password`` | the admin's password |
| ``DB_OWNER_ROLE`` | ``tap_owner`` | the role that owns the schema; used as it is when it exists |
| ``APP_GREETING`` | ``Hello from TAP`` | feature text served on ``/`` |
| ``APP_REVISION`` | unset | the revision ``/readyz`` reports (else the image digest) |
| ``APP_SIGNING_KEY`` | unset | a secret (ECS ``secrets``): signs each new message's receipt |
"""
from __future__ import annotations

import os
import re
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field

DEFAULT_PORT = 8000
DEFAULT_WORKERS = 2
MAX_WORKERS = 32
DEFAULT_DB_PORT = 5432
DEFAULT_DB_NAME = "tap"
DEFAULT_DB_USERNAME = "tap_app"
DB_AUTH_MODES = ("iam", "password")
# Aurora enforces TLS (rds.force_ssl=1) and IAM authentication requires it; both modes
# verify the server certificate against DB_SSLROOTCERT, verify-full also its host name.
DB_SSLMODES = ("verify-full", "verify-ca")
DEFAULT_CA_BUNDLE = "/srv/certs/ca-bundle.pem"
DEFAULT_REDIS_PORT = 6379
DEFAULT_OWNER_ROLE = "tap_owner"
DEFAULT_GREETING = "Hello from TAP"
MAX_GREETING = 200

# PostgreSQL identifiers the release command creates: lowercase, unquoted, at most 63 bytes.
_IDENTIFIER = re.compile(r"[a-z_][a-z0-9_]{0,62}")
# A DNS name or an IPv4 address (the endpoints AWS gives are DNS names).
_HOST = re.compile(r"[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?")
_REGION = re.compile(r"[a-z]{2}(-[a-z]+)+-\d{1,2}")
_REVISION = re.compile(r"[A-Za-z0-9._:@/+-]{1,128}")
_BOOLEANS = {"true": True, "false": False}
# An ElastiCache user name (the Redis ACL user name): no spaces, nothing a shell or the ACL
# syntax would read otherwise.
_CACHE_USER = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,127}")
# Redis AUTH takes any bytes, ElastiCache passwords are 16 to 128 printable characters
# (AWS, CreateUser: "Passwords length must be between 16-128 characters").
_CACHE_PASSWORD = re.compile(r"[!-~]{16,128}")
# A key prefix holds no glob characters (it is also the ACL key pattern's stem) and no
# braces (a hash tag in the prefix would move every key into one slot of its choosing).
_KEY_PREFIX = re.compile(r"[A-Za-z0-9_.:-]{1,64}")


class ConfigError(ValueError):
    """A variable is missing or invalid; the message names it and says what is allowed."""

    def __init__(self, name: str, problem: str) -> None:
        super().__init__(f"{name}: {problem}")
        self.name = name


@dataclass(frozen=True, kw_only=True)
class DatabaseSettings:
    """Where PostgreSQL listens and how its certificate is verified."""

    host: str
    port: int = DEFAULT_DB_PORT
    name: str = DEFAULT_DB_NAME
    sslmode: str = "verify-full"
    sslrootcert: str = DEFAULT_CA_BUNDLE


@dataclass(frozen=True, kw_only=True)
class Login:
    """A database role and how it authenticates.

    ``auth`` is ``iam`` (tokens signed for ``region``) or ``password`` (``password``).
    """

    username: str
    auth: str = "iam"
    region: str | None = None
    password: str | None = field(default=None, repr=False)


@dataclass(frozen=True, kw_only=True)
class CacheSettings:
    """Where the cache listens, and whether it speaks TLS and the cluster protocol."""

    host: str
    port: int = DEFAULT_REDIS_PORT
    tls: bool = True
    ca_file: str = DEFAULT_CA_BUNDLE
    cluster: bool = True
    username: str | None = None  # REDIS_USERNAME: None, the default user (no AUTH)
    password: str | None = field(default=None, repr=False)
    key_prefix: str = ""  # REDIS_KEY_PREFIX


@dataclass(frozen=True, kw_only=True)
class JobSettings:
    """What a scheduled job needs: the database and the application's login."""

    database: DatabaseSettings
    login: Login


@dataclass(frozen=True, kw_only=True)
class Settings:
    """Everything the web service reads from its environment."""

    port: int = DEFAULT_PORT
    workers: int = DEFAULT_WORKERS
    database: DatabaseSettings
    login: Login
    cache: CacheSettings
    greeting: str = DEFAULT_GREETING
    revision: str | None = None
    signing_key: str | None = None  # APP_SIGNING_KEY: None, no receipts


@dataclass(frozen=True, kw_only=True)
class ReleaseSettings:
    """The release command's settings: the admin login, the owner role and the application
    role it provisions."""

    database: DatabaseSettings
    admin: Login
    app_username: str = DEFAULT_DB_USERNAME
    owner_role: str = DEFAULT_OWNER_ROLE


class _Environment:
    """Typed, validated reads of one environment mapping; an empty value counts as unset."""

    def __init__(self, environ: Mapping[str, str]) -> None:
        self._environ = environ

    def get(self, name: str) -> str | None:
        value = self._environ.get(name, "")
        return value if value != "" else None

    def required(self, name: str, pattern: re.Pattern[str], what: str) -> str:
        value = self.get(name)
        if value is None:
            raise ConfigError(name, f"required, not set ({what})")
        return self.matching(name, value, pattern, what)

    def optional(self, name: str, default: str, pattern: re.Pattern[str], what: str) -> str:
        value = self.get(name)
        return default if value is None else self.matching(name, value, pattern, what)

    @staticmethod
    def matching(name: str, value: str, pattern: re.Pattern[str], what: str) -> str:
        if not pattern.fullmatch(value):
            raise ConfigError(name, f"{value!r} is not {what}")
        return value

    def integer(self, name: str, default: int, low: int, high: int) -> int:
        value = self.get(name)
        if value is None:
            return default
        if not value.isdigit() or not low <= int(value) <= high:
            raise ConfigError(name, f"{value!r} is not an integer from {low} to {high}")
        return int(value)

    def choice(self, name: str, default: str, allowed: tuple[str, ...]) -> str:
        value = self.get(name)
        if value is None:
            return default
        if value not in allowed:
            raise ConfigError(name, f"{value!r} is not one of {', '.join(allowed)}")
        return value

    def boolean(self, name: str, default: bool) -> bool:
        value = self.get(name)
        if value is None:
            return default
        if value not in _BOOLEANS:
            raise ConfigError(name, f"{value!r} is not true or false")
        return _BOOLEANS[value]

    def readable_file(self, name: str, default: str) -> str:
        path = self.get(name) or default
        if not os.path.isfile(path) or not os.access(path, os.R_OK):
            raise ConfigError(name, f"{path!r} is not a readable file")
        return path


def _database(env: _Environment) -> DatabaseSettings:
    return DatabaseSettings(
        host=env.required("DB_HOST", _HOST, "a host name"),
        port=env.integer("DB_PORT", DEFAULT_DB_PORT, 1, 65535),
        name=env.optional("DB_NAME", DEFAULT_DB_NAME, _IDENTIFIER, "a lowercase identifier"),
        sslmode=env.choice("DB_SSLMODE", "verify-full", DB_SSLMODES),
        sslrootcert=env.readable_file("DB_SSLROOTCERT", DEFAULT_CA_BUNDLE),
    )


def _app_username(env: _Environment) -> str:
    return env.optional("DB_USERNAME", DEFAULT_DB_USERNAME, _IDENTIFIER, "a lowercase identifier")


def _login(env: _Environment) -> Login:
    username = _app_username(env)
    auth = env.choice("DB_AUTH", "iam", DB_AUTH_MODES)
    if auth == "iam":
        region = env.required("AWS_REGION", _REGION, "an AWS region such as us-east-1")
        return Login(username=username, auth=auth, region=region)
    password = env.get("DB_PASSWORD")
    if password is None:
        raise ConfigError("DB_PASSWORD", "required with DB_AUTH=password, not set")
    return Login(username=username, auth=auth, password=password)


def _cache(env: _Environment) -> CacheSettings:
    tls = env.boolean("REDIS_TLS", True)
    host = env.required("REDIS_HOST", _HOST, "a host name")
    username, password = env.get("REDIS_USERNAME"), env.get("REDIS_PASSWORD")
    if username is not None:
        env.matching("REDIS_USERNAME", username, _CACHE_USER,
                      "a user name (letters, digits, ._-)")
        if password is None:
            raise ConfigError("REDIS_PASSWORD", "required with REDIS_USERNAME, not set")
        if not _CACHE_PASSWORD.fullmatch(password):
            # The value is a secret: never in the message.
            raise ConfigError("REDIS_PASSWORD", "must be 16 to 128 printable ASCII characters")
    elif password is not None:
        raise ConfigError("REDIS_USERNAME", "required with REDIS_PASSWORD, not set")
    prefix = env.get("REDIS_KEY_PREFIX")
    return CacheSettings(
        host=host,
        port=env.integer("REDIS_PORT", DEFAULT_REDIS_PORT, 1, 65535),
        tls=tls,
        ca_file=env.readable_file("REDIS_CA_FILE", DEFAULT_CA_BUNDLE) if tls else "",
        cluster=env.boolean("REDIS_CLUSTER", True),
        username=username,
        password=password,
        key_prefix="" if prefix is None else env.matching(
            "REDIS_KEY_PREFIX", prefix, _KEY_PREFIX,
            "a key prefix (1 to 64 letters, digits, ._:-)"),
    )


def _greeting(env: _Environment) -> str:
    greeting = env.get("APP_GREETING") or DEFAULT_GREETING
    if len(greeting) > MAX_GREETING or not greeting.isprintable():
        raise ConfigError("APP_GREETING", f"must be printable text of at most {MAX_GREETING} "
                                          "characters")
    return greeting


def load_settings(environ: Mapping[str, str]) -> Settings:
    """The web service's settings; raises ConfigError naming the first bad variable."""
    env = _Environment(environ)
    revision = env.get("APP_REVISION")
    return Settings(
        port=env.integer("PORT", DEFAULT_PORT, 1, 65535),
        workers=env.integer("WEB_CONCURRENCY", DEFAULT_WORKERS, 1, MAX_WORKERS),
        database=_database(env),
        login=_login(env),
        cache=_cache(env),
        greeting=_greeting(env),
        revision=None if revision is None else env.matching(
            "APP_REVISION", revision, _REVISION, "a revision (letters, digits, ._:@/+-)"),
        signing_key=env.get("APP_SIGNING_KEY") or None,
    )


def load_job_settings(environ: Mapping[str, str]) -> JobSettings:
    """A scheduled job's settings (the database only); raises ConfigError."""
    env = _Environment(environ)
    return JobSettings(database=_database(env), login=_login(env))


def _admin(env: _Environment) -> Login:
    """The release's login: the master user (with its password, today's default) or the
    schema owner the platform made (``DB_ADMIN_AUTH=iam``: RDS IAM tokens as the app's)."""
    username = env.required("DB_ADMIN_USERNAME", _IDENTIFIER,
                            "the master user's name")
    auth = env.choice("DB_ADMIN_AUTH", "password", DB_AUTH_MODES)
    if auth == "iam":
        region = env.required("AWS_REGION", _REGION, "an AWS region such as us-east-1")
        return Login(username=username, auth=auth, region=region)
    password = env.get("DB_ADMIN_PASSWORD")
    if password is None:
        raise ConfigError("DB_ADMIN_PASSWORD", "required, not set (the master user's password)")
    return Login(username=username, auth=auth, password=password)


def load_release_settings(environ: Mapping[str, str]) -> ReleaseSettings:
    """The release command's settings (the admin login, the owner, the app's role)."""
    env = _Environment(environ)
    database = _database(env)
    admin = _admin(env)
    app_username = _app_username(env)
    if app_username == admin.username:
        raise ConfigError("DB_USERNAME", f"{app_username!r} must differ from DB_ADMIN_USERNAME")
    owner = env.optional("DB_OWNER_ROLE", DEFAULT_OWNER_ROLE, _IDENTIFIER,
                         "a lowercase identifier")
    if owner == app_username:
        raise ConfigError("DB_OWNER_ROLE", f"{owner!r} must differ from DB_USERNAME")
    return ReleaseSettings(database=database, admin=admin, app_username=app_username,
                           owner_role=owner)


@contextmanager
def config_errors_exit(program: str) -> Iterator[None]:
    """Turn a ConfigError into one line on standard error and exit status 2."""
    try:
        yield
    except ConfigError as error:
        print(f"{program}: configuration error: {error}", file=sys.stderr)
        raise SystemExit(2) from None
