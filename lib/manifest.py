"""The application manifest (``app.toml``): what an application team declares, validated.

``read_manifest(path)`` parses a TOML file into a frozen ``Manifest`` or raises
``ManifestError``, whose message is one line naming the file, the key and what is allowed.
``manifest_path(environ)`` says which file applies: ``APP_MANIFEST`` when set, else
``app.toml`` in the working directory when it exists, else none (today's defaults hold).

The keys, with their defaults (docs/reference/manifest.md lists them, docs/application.md
explains them):

- ``[service]``: ``image`` (the platform's default image), ``port`` (80),
  ``health_check_path`` ("/", liveness only: the load balancer checks it),
  ``command`` (the image's own), ``health_check_command`` (none: no container health check),
  ``readonly_root_filesystem`` (true), ``writable_paths`` (["/tmp"] when the root is read-only:
  task-storage volumes). The environment variables CONTAINER_IMAGE, CONTAINER_PORT and
  HEALTH_CHECK_PATH override the first three (CI deploys an image by digest that way).
- ``[environment]``: NAME = "value", plain strings; the names the platform sets are refused.
- ``[secrets]``: NAME = { description = "..." }: one Secrets Manager secret per name and
  environment, whose value is set with ``make secret-set``; the same names rules.
- ``[release]``: ``command``, ``timeout_seconds`` (600, 60 to 3600): runs once per deploy that
  changes the task definition, before the new revision takes traffic.
- ``[[jobs]]``: ``name`` (lowercase letters, digits, hyphens; the names made from it must fit
  their AWS limits: lib/naming.py checks them), ``schedule`` (an EventBridge
  Scheduler expression: ``cron(...)``, ``rate(...)`` or ``at(...)``), ``command``, and
  ``timezone`` (UTC).

Nothing here imports jsii: main.py validates the manifest before the bindings load.
"""
from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

DEFAULT_MANIFEST = "app.toml"
RELEASE_TIMEOUT_RANGE = (60, 3600)
DEFAULT_RELEASE_TIMEOUT = 600
DEFAULT_WRITABLE_PATHS = ("/tmp",)
# Names the platform sets in the container (lib/container.py) or that ECS and the AWS SDKs
# own: an application's own variable of such a name would be overwritten or would mislead.
RESERVED_PREFIXES = ("DB_", "REDIS_", "AWS_", "ECS_")
RESERVED_NAMES = frozenset({"PORT"})
_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,254}$")
_JOB_NAME_RE = re.compile(r"^[a-z][a-z0-9-]{0,61}[a-z0-9]$")
_ABSOLUTE_PATH_RE = re.compile(r"^/[A-Za-z0-9._/-]{1,254}$")
_TIMEZONE_RE = re.compile(r"^(UTC|[A-Z][A-Za-z_]+(/[A-Za-z0-9_+-]+){1,2})$")
# Every key of the manifest: (table, key, default, meaning). The keys the reader accepts
# (``_KEYS``) and docs/reference/manifest.md (tools/docs.py) both come from here.
MANIFEST_KEYS: tuple[tuple[str, str, str, str], ...] = (
    ("service", "image", "CONTAINER_IMAGE, else the platform's default image",
     "the image; `ecr:<repository>:<tag>` is this account's ECR in the stack's region; "
     "CONTAINER_IMAGE wins (CI deploys an image by digest)"),
    ("service", "port", "80", "the container's port (PORT in its environment); CONTAINER_PORT "
     "wins"),
    ("service", "health_check_path", "/", "the load balancer's health check: liveness only, "
     "no dependency (an idle Aurora must be able to pause); HEALTH_CHECK_PATH wins"),
    ("service", "command", "the image's", "the command, exec form (a list of strings)"),
    ("service", "health_check_command", "none", "the container health check (exec form, run "
     "every 30 s, 5 s timeout, 3 retries, 15 s start period: keep the image's HEALTHCHECK the "
     "same)"),
    ("service", "readonly_root_filesystem", "true", "a read-only root file system"),
    ("service", "writable_paths", '["/tmp"]', "with a read-only root: the paths that get a "
     "writable task-storage volume (ECS Exec's own paths are added where exec is on)"),
    ("environment", "NAME", "none", "plain values, strings; names the platform sets (DB_*, "
     "REDIS_*, AWS_*, ECS_*, PORT) are refused"),
    ("secrets", "NAME", "none", "`{ description = \"...\" }`: one Secrets Manager secret per "
     "name and environment, its value set with `make secret-set`; a deploy stops while one "
     "has no value"),
    ("secret", "description", "\"<NAME> of the application\"", "the secret's description"),
    ("release", "command", "required in [release]", "runs once per deploy that changes the "
     "task definition, in the new revision, before the service switches to it; with the "
     "master credentials (DB_ADMIN_USERNAME, DB_ADMIN_PASSWORD) the service never gets"),
    ("release", "timeout_seconds", "600", "60 to 3600: after it the release task is stopped "
     "and the deploy fails"),
    ("jobs", "name", "required", "2-63 lowercase letters, digits and hyphens; the names made "
     "from it must fit AWS's limits"),
    ("jobs", "schedule", "required", "an EventBridge Scheduler expression: cron(...), rate(...) "
     "or at(...)"),
    ("jobs", "command", "required", "the job's command, in the service's image and settings"),
    ("jobs", "timezone", "UTC", "the schedule's IANA time zone"),
)
_KEYS = {
    "": {"service", "environment", "secrets", "release", "jobs"},
    **{table: {key for owner, key, _, _ in MANIFEST_KEYS if owner == table}
       for table in ("service", "release", "jobs", "secret")},
}


class ManifestError(ValueError):
    """A manifest that cannot be used; ``str()`` is the one-line message."""

    def __init__(self, path: str, key: str, allowed: str) -> None:
        super().__init__(f"{path}: {key}: {allowed}" if key else f"{path}: {allowed}")
        self.key = key


@dataclass(frozen=True)
class Job:
    """One scheduled task."""

    name: str
    schedule: str
    command: tuple[str, ...]
    timezone: str = "UTC"


@dataclass(frozen=True)
class Release:
    """The command that runs once per deploy, before the new revision takes traffic."""

    command: tuple[str, ...]
    timeout_seconds: int = DEFAULT_RELEASE_TIMEOUT


@dataclass(frozen=True)
class Manifest:  # pylint: disable=too-many-instance-attributes
    """A validated ``app.toml``; ``None`` fields mean the platform's default."""

    path: str
    image: str | None = None
    port: int | None = None
    health_check_path: str | None = None
    command: tuple[str, ...] | None = None
    health_check_command: tuple[str, ...] | None = None
    readonly_root_filesystem: bool = True
    writable_paths: tuple[str, ...] = DEFAULT_WRITABLE_PATHS
    environment: Mapping[str, str] = field(default_factory=dict)
    secrets: Mapping[str, str] = field(default_factory=dict)  # name -> description
    release: Release | None = None
    jobs: tuple[Job, ...] = ()


def manifest_path(environ: Mapping[str, str], cwd: Path | None = None) -> str | None:
    """The manifest that applies: APP_MANIFEST, else ./app.toml when present, else None."""
    given = environ.get("APP_MANIFEST", "")
    if given:
        return given
    default = (cwd or Path.cwd()) / DEFAULT_MANIFEST
    return DEFAULT_MANIFEST if default.is_file() else None


class _Reader:
    """Reads one manifest's values, raising ManifestError with the file's name."""

    def __init__(self, path: str) -> None:
        self.path = path

    def fail(self, key: str, allowed: str) -> ManifestError:
        return ManifestError(self.path, key, allowed)

    def table(self, value: Any, key: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(key, "a table ([" + key + "])")
        return value

    def known(self, table: dict[str, Any], kind: str, where: str) -> None:
        unknown = sorted(set(table) - _KEYS[kind])
        if unknown:
            label = f"{where}.{unknown[0]}" if where else unknown[0]
            raise self.fail(label, "unknown key; allowed: " + ", ".join(sorted(_KEYS[kind])))

    def string(self, value: Any, key: str, pattern: re.Pattern[str], allowed: str) -> str:
        if not isinstance(value, str) or not pattern.match(value):
            raise self.fail(key, f"{value!r} is not {allowed}")
        return value

    def integer(self, value: Any, key: str, low: int, high: int) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise self.fail(key, f"{value!r} is not an integer from {low} to {high}")
        return value

    def boolean(self, value: Any, key: str) -> bool:
        if not isinstance(value, bool):
            raise self.fail(key, f"{value!r} is not true or false")
        return value

    def command(self, value: Any, key: str) -> tuple[str, ...]:
        if not isinstance(value, list) or not value or not all(
                isinstance(part, str) and part for part in value):
            raise self.fail(key, f"{value!r} is not a non-empty list of non-empty strings "
                                 '(exec form, e.g. ["python", "-m", "app.migrate"])')
        return tuple(value)

    def variable_name(self, name: str, key: str) -> str:
        if not _NAME_RE.match(name):
            raise self.fail(key, f"{name!r} is not a valid environment variable name "
                                 "(letters, digits and _, not starting with a digit)")
        if name in RESERVED_NAMES or name.startswith(RESERVED_PREFIXES):
            raise self.fail(key, f"{name!r} is set by the platform; names starting with "
                                 f"{', '.join(RESERVED_PREFIXES)} and {', '.join(sorted(RESERVED_NAMES))} "
                                 "are reserved")
        return name


def read_manifest(path: str, image_pattern: re.Pattern[str], path_pattern: re.Pattern[str]
                  ) -> Manifest:
    """Parse and validate the manifest at ``path``; the image reference and the HTTP path are
    checked with the settings' own patterns (lib.config). Raises ManifestError."""
    reader = _Reader(path)
    try:
        with open(path, "rb") as handle:
            document = tomllib.load(handle)
    except FileNotFoundError:
        raise reader.fail("", "no such file (APP_MANIFEST names a file that does not exist)") \
            from None
    except OSError as error:
        raise reader.fail("", f"cannot be read: {error.strerror}") from None
    except tomllib.TOMLDecodeError as error:
        raise reader.fail("", f"is not valid TOML: {error}") from None
    reader.known(document, "", "")
    service = _service(reader, reader.table(document.get("service", {}), "service"),
                       image_pattern, path_pattern)
    environment = _environment(reader, reader.table(document.get("environment", {}),
                                                    "environment"))
    secrets = _secrets(reader, reader.table(document.get("secrets", {}), "secrets"))
    both = sorted(set(environment) & set(secrets))
    if both:
        raise reader.fail(f"secrets.{both[0]}", "is also in [environment]; a name is either a "
                                                "plain value or a secret")
    release = None
    if "release" in document:
        release = _release(reader, reader.table(document["release"], "release"))
    return Manifest(path=path, **service, environment=environment, secrets=secrets,
                    release=release, jobs=_jobs(reader, document.get("jobs", [])))


def _service(reader: _Reader, table: dict[str, Any], image_pattern: re.Pattern[str],
             path_pattern: re.Pattern[str]) -> dict[str, Any]:
    reader.known(table, "service", "service")
    values: dict[str, Any] = {}
    if "image" in table:
        values["image"] = reader.string(table["image"], "service.image", image_pattern,
                                        "a container image reference such as "
                                        "123456789012.dkr.ecr.us-east-1.amazonaws.com/app:1.0")
    if "port" in table:
        values["port"] = reader.integer(table["port"], "service.port", 1, 65535)
    if "health_check_path" in table:
        values["health_check_path"] = reader.string(
            table["health_check_path"], "service.health_check_path", path_pattern,
            "an HTTP path starting with / (at most 1024 characters)")
    for key in ("command", "health_check_command"):
        if key in table:
            values[key] = reader.command(table[key], f"service.{key}")
    if "readonly_root_filesystem" in table:
        values["readonly_root_filesystem"] = reader.boolean(
            table["readonly_root_filesystem"], "service.readonly_root_filesystem")
    if "writable_paths" in table:
        paths = table["writable_paths"]
        if not isinstance(paths, list) or len(paths) > 10 or len(set(map(str, paths))) != len(
                paths):
            raise reader.fail("service.writable_paths", f"{paths!r} is not a list of up to 10 "
                                                        "distinct absolute paths")
        values["writable_paths"] = tuple(
            reader.string(item, "service.writable_paths", _ABSOLUTE_PATH_RE,
                          "an absolute path such as /tmp") for item in paths)
    return values


def _environment(reader: _Reader, table: dict[str, Any]) -> dict[str, str]:
    result = {}
    for name, value in table.items():
        key = f"environment.{name}"
        reader.variable_name(name, key)
        if not isinstance(value, str):
            raise reader.fail(key, f"{value!r} is not a string (quote numbers and booleans: "
                                   "the container receives strings)")
        result[name] = value
    return result


def _secrets(reader: _Reader, table: dict[str, Any]) -> dict[str, str]:
    result = {}
    for name, value in table.items():
        key = f"secrets.{name}"
        reader.variable_name(name, key)
        if not isinstance(value, dict):
            raise reader.fail(key, f'{value!r} is not a table such as {{ description = "..." }}')
        spec = value
        reader.known(spec, "secret", key)
        description = spec.get("description", f"{name} of the application")
        if not isinstance(description, str) or not 1 <= len(description) <= 2048:
            raise reader.fail(f"{key}.description", "a string of 1 to 2048 characters")
        result[name] = description
    return result


def _release(reader: _Reader, table: dict[str, Any]) -> Release:
    reader.known(table, "release", "release")
    if "command" not in table:
        raise reader.fail("release.command", "is required in [release]")
    low, high = RELEASE_TIMEOUT_RANGE
    return Release(command=reader.command(table["command"], "release.command"),
                   timeout_seconds=reader.integer(table.get("timeout_seconds",
                                                            DEFAULT_RELEASE_TIMEOUT),
                                                  "release.timeout_seconds", low, high))


def _jobs(reader: _Reader, entries: Any) -> tuple[Job, ...]:
    if not isinstance(entries, list):
        raise reader.fail("jobs", "an array of tables ([[jobs]])")
    jobs: list[Job] = []
    for index, entry in enumerate(entries):
        where = f"jobs[{index}]"
        table = reader.table(entry, where)
        reader.known(table, "jobs", where)
        for required in ("name", "schedule", "command"):
            if required not in table:
                raise reader.fail(f"{where}.{required}", "is required in [[jobs]]")
        name = reader.string(table["name"], f"{where}.name", _JOB_NAME_RE,
                             "2-63 lowercase letters, digits and hyphens, starting with a "
                             "letter and not ending with a hyphen")
        if any(job.name == name for job in jobs):
            raise reader.fail(f"{where}.name", f"{name!r} is used by another job")
        schedule = table["schedule"]
        problem = schedule_problem(schedule) if isinstance(schedule, str) else "not a string"
        if problem:
            raise reader.fail(f"{where}.schedule", f"{schedule!r} is not an EventBridge "
                                                   f"Scheduler expression ({problem})")
        timezone = reader.string(table.get("timezone", "UTC"), f"{where}.timezone",
                                 _TIMEZONE_RE, "an IANA time zone such as UTC or Europe/Paris")
        jobs.append(Job(name=name, schedule=schedule,
                        command=reader.command(table["command"], f"{where}.command"),
                        timezone=timezone))
    return tuple(jobs)


# -- EventBridge Scheduler expressions ---------------------------------------------------
# "Schedule types on EventBridge Scheduler": at(yyyy-mm-ddThh:mm:ss), rate(value unit) with
# unit minutes | hours | days (singular for 1), cron(minutes hours day-of-month month
# day-of-week year), where one of day-of-month and day-of-week must be "?".
_AT_RE = re.compile(r"^at\((\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})\)$")
_RATE_RE = re.compile(r"^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$")
_MONTHS = "JAN|FEB|MAR|APR|MAY|JUN|JUL|AUG|SEP|OCT|NOV|DEC"
_DAYS = "SUN|MON|TUE|WED|THU|FRI|SAT"
_CRON_FIELDS = (  # name, low, high, names, extra characters allowed
    ("minutes", 0, 59, "", ""),
    ("hours", 0, 23, "", ""),
    ("day-of-month", 1, 31, "", "?LW"),
    ("month", 1, 12, _MONTHS, ""),
    ("day-of-week", 1, 7, _DAYS, "?L#"),
    ("year", 1970, 2199, "", ""),
)


def schedule_problem(  # pylint: disable=too-many-return-statements  # one per refusal
        expression: str) -> str | None:
    """Why EventBridge Scheduler would refuse ``expression``, or None when it is valid."""
    at = _AT_RE.match(expression)
    if at:
        month, day, hour, minute, second = (int(part) for part in at.groups()[1:])
        if not (1 <= month <= 12 and 1 <= day <= 31 and hour <= 23 and minute <= 59
                and second <= 59):
            return "at() needs a valid date and time"
        return None
    rate = _RATE_RE.match(expression)
    if rate:
        value, unit = int(rate.group(1)), rate.group(2)
        if value < 1:
            return "a rate needs a positive value"
        if (value == 1) != (not unit.endswith("s")):
            return "write rate(1 unit) and rate(N units)"
        return None
    if expression.startswith("cron(") and expression.endswith(")"):
        return _cron_problem(expression[5:-1].split(" "))
    return "use cron(...), rate(...) or at(...)"


def _cron_problem(parts: list[str]) -> str | None:
    if len(parts) != len(_CRON_FIELDS):
        return "cron needs 6 fields: minutes hours day-of-month month day-of-week year"
    for part, (name, low, high, names, extra) in zip(parts, _CRON_FIELDS):
        if not _cron_field_ok(part, low, high, names, extra):
            return f"bad {name} field {part!r}"
    if (parts[2] == "?") == (parts[4] == "?"):
        return "exactly one of day-of-month and day-of-week must be ?"
    return None


def _cron_field_ok(  # pylint: disable=too-many-return-statements  # one per refusal
        part: str, low: int, high: int, names: str, extra: str) -> bool:
    if part in ("*", "?"):
        return part == "*" or "?" in extra
    value = rf"(\d{{1,4}}|{names})" if names else r"(\d{1,4})"
    single = rf"{value}(-{value})?(/\d{{1,4}})?"
    if "L" in extra:
        single += r"|L|\d{1,2}L|\d{1,2}W|LW" if "W" in extra else r"|L|\d{1,2}L"
    if "#" in extra:
        single += rf"|{value}#[1-5]"
    for item in part.split(","):
        if item.startswith("*/"):
            item = item[2:]
            if not item.isdigit() or int(item) < 1:
                return False
            continue
        if not re.fullmatch(single, item):
            return False
        numbers = [int(number) for number in re.findall(r"\d+", item.split("/")[0].split("#")[0])]
        if any(not low <= number <= high for number in numbers if not item.endswith(("L", "W"))):
            return False
    return True
