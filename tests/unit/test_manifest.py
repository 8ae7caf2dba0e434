"""The application manifest (lib/manifest.py): what is accepted, and every refusal as one line
naming the file, the key and what is allowed, through main.py (exit 2, nothing written)."""
from __future__ import annotations

from pathlib import Path

import pytest

import main
from lib.config import load_settings
from lib.manifest import ManifestError, manifest_path, schedule_problem

FULL = Path(__file__).parent / "manifests" / "full.toml"


def write(tmp_path: Path, text: str) -> str:
    path = tmp_path / "app.toml"
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_the_full_manifest_is_read_with_every_key() -> None:
    manifest = load_settings({"APP_MANIFEST": str(FULL)}).manifest
    assert manifest is not None
    assert (manifest.image, manifest.port, manifest.health_check_path) == (
        "123456789012.dkr.ecr.us-east-1.amazonaws.com/tap/app:1.0.0", 8000, "/healthz")
    assert manifest.command == ("gunicorn", "--config", "app/gunicorn.conf.py",
                                "app.wsgi:application")
    assert manifest.health_check_command == ("python", "-m", "app.healthcheck")
    assert manifest.readonly_root_filesystem is True and manifest.writable_paths == ("/tmp",)
    assert manifest.environment == {"FEATURE_FLAGS": "beta", "APP_GREETING": "hello"}
    assert manifest.secrets == {"STRIPE_API_KEY": "payments",
                                "SIGNING_KEY": "SIGNING_KEY of the application"}
    assert manifest.release is not None
    assert (manifest.release.command, manifest.release.timeout_seconds) == (
        ("python", "-m", "app.migrate"), 600)
    assert [(job.name, job.schedule, job.timezone) for job in manifest.jobs] == [
        ("nightly-report", "cron(0 3 * * ? *)", "UTC"),
        ("cleanup", "rate(6 hours)", "Europe/Paris")]


def test_the_environment_wins_over_the_manifest() -> None:
    digest = "sha256:" + "a" * 64
    image = f"123456789012.dkr.ecr.us-east-1.amazonaws.com/tap/app@{digest}"
    settings = load_settings({"APP_MANIFEST": str(FULL), "CONTAINER_IMAGE": image,
                              "CONTAINER_PORT": "9000", "HEALTH_CHECK_PATH": "/live"})
    assert (settings.container_image, settings.container_port, settings.health_check_path) == \
        (image, 9000, "/live")
    settings = load_settings({"APP_MANIFEST": str(FULL)})
    assert (settings.container_port, settings.health_check_path) == (8000, "/healthz")


def test_no_manifest_keeps_the_defaults(tmp_path: Path) -> None:
    assert manifest_path({}, cwd=tmp_path) is None
    settings = load_settings({})
    assert settings.manifest is None
    assert (settings.container_image, settings.container_port, settings.health_check_path) == \
        ("public.ecr.aws/nginx/nginx:1.27-alpine", 80, "/")
    (tmp_path / "app.toml").write_text("", encoding="utf-8")
    assert manifest_path({}, cwd=tmp_path) == "app.toml"
    assert manifest_path({"APP_MANIFEST": "x.toml"}, cwd=tmp_path) == "x.toml"


@pytest.mark.parametrize("text,key,allowed", [
    ("[service\n", "", "is not valid TOML"),
    ("colour = 1\n", "colour", "unknown key; allowed: environment, jobs, release, secrets, service"),
    ("[service]\nimage = 'Not An Image'\n", "service.image", "is not a container image reference"),
    ("[service]\nport = 0\n", "service.port", "0 is not an integer from 1 to 65535"),
    ("[service]\nport = true\n", "service.port", "True is not an integer from 1 to 65535"),
    ("[service]\nhealth_check_path = 'healthz'\n", "service.health_check_path",
     "is not an HTTP path starting with /"),
    ("[service]\ncommand = 'gunicorn app'\n", "service.command",
     "is not a non-empty list of non-empty strings"),
    ("[service]\ncommand = ['gunicorn', 1]\n", "service.command",
     "is not a non-empty list of non-empty strings"),
    ("[service]\ncommand = []\n", "service.command", "is not a non-empty list"),
    ("[service]\nwidth = 3\n", "service.width", "unknown key; allowed: command,"),
    ("[service]\nreadonly_root_filesystem = 'yes'\n", "service.readonly_root_filesystem",
     "is not true or false"),
    ("[service]\nwritable_paths = ['tmp']\n", "service.writable_paths", "an absolute path"),
    ("[environment]\nDB_HOST = 'x'\n", "environment.DB_HOST", "is set by the platform"),
    ("[environment]\nREDIS_URL = 'x'\n", "environment.REDIS_URL", "is set by the platform"),
    ("[environment]\nAWS_PROFILE = 'x'\n", "environment.AWS_PROFILE", "is set by the platform"),
    ("[environment]\nPORT = '80'\n", "environment.PORT", "is set by the platform"),
    ("[environment]\n'1ST' = 'x'\n", "environment.1ST", "is not a valid environment variable"),
    ("[environment]\nLIMIT = 10\n", "environment.LIMIT", "is not a string (quote numbers"),
    ("[secrets]\nDB_PASSWORD = {}\n", "secrets.DB_PASSWORD", "is set by the platform"),
    ("[secrets]\nKEY = 'x'\n", "secrets.KEY", "is not a table"),
    ("[secrets]\nKEY = { note = 'x' }\n", "secrets.KEY.note", "unknown key; allowed: description"),
    ("[environment]\nKEY = 'x'\n[secrets]\nKEY = {}\n", "secrets.KEY", "is also in [environment]"),
    ("[release]\ntimeout_seconds = 600\n", "release.command", "is required in [release]"),
    ("[release]\ncommand = ['migrate']\ntimeout_seconds = 30\n", "release.timeout_seconds",
     "30 is not an integer from 60 to 3600"),
    ("[release]\ncommand = ['migrate']\ntimeout_seconds = 7200\n", "release.timeout_seconds",
     "7200 is not an integer from 60 to 3600"),
    ("[[jobs]]\nname = 'x-'\nschedule = 'rate(1 day)'\ncommand = ['a']\n", "jobs[0].name",
     "2-63 lowercase letters"),
    ("[[jobs]]\nname = 'report'\nschedule = 'cron(0 3 * * * *)'\ncommand = ['a']\n",
     "jobs[0].schedule", "exactly one of day-of-month and day-of-week must be ?"),
    ("[[jobs]]\nname = 'report'\nschedule = 'cron(0 3 * *)'\ncommand = ['a']\n",
     "jobs[0].schedule", "cron needs 6 fields"),
    ("[[jobs]]\nname = 'report'\nschedule = 'rate(1 hours)'\ncommand = ['a']\n",
     "jobs[0].schedule", "write rate(1 unit) and rate(N units)"),
    ("[[jobs]]\nname = 'report'\nschedule = 'daily'\ncommand = ['a']\n", "jobs[0].schedule",
     "use cron(...), rate(...) or at(...)"),
    ("[[jobs]]\nname = 'report'\nschedule = 'rate(1 day)'\n", "jobs[0].command",
     "is required in [[jobs]]"),
    ("[[jobs]]\nname = 'a1'\nschedule = 'rate(1 day)'\ncommand = ['a']\n"
     "[[jobs]]\nname = 'a1'\nschedule = 'rate(2 days)'\ncommand = ['b']\n", "jobs[1].name",
     "is used by another job"),
    ("[[jobs]]\nname = 'report'\nschedule = 'rate(1 day)'\ncommand = ['a']\ntimezone = 'Mars'\n",
     "jobs[0].timezone", "an IANA time zone"),
])
def test_bad_manifests_are_one_line_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                           text: str, key: str, allowed: str) -> None:
    path = write(tmp_path, text)
    outdir = tmp_path / "out"
    assert main.main({"APP_MANIFEST": path, "CDKTF_OUTDIR": str(outdir)}) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and "Traceback" not in error
    assert error.startswith(f"error: {path}: {key}: " if key else f"error: {path}: ")
    assert allowed in error
    assert not outdir.exists()
    with pytest.raises(ManifestError) as raised:
        load_settings({"APP_MANIFEST": path})
    assert raised.value.key == key


def test_a_missing_manifest_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ManifestError, match="no such file"):
        load_settings({"APP_MANIFEST": str(tmp_path / "nope.toml")})


def test_a_job_name_that_makes_a_name_too_long(tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    name = "j" * 40
    path = write(tmp_path, f"[[jobs]]\nname = '{name}'\nschedule = 'rate(1 day)'\n"
                           "command = ['a']\n")
    assert main.main({"APP_MANIFEST": path, "ENVIRONMENT_SUFFIX": "dev",
                      "CDKTF_OUTDIR": str(tmp_path / "ok")}) == 0
    capsys.readouterr()
    assert main.main({"APP_MANIFEST": path, "ENVIRONMENT_SUFFIX": "a" * 20,
                      "CDKTF_OUTDIR": str(tmp_path / "out")}) == 2
    error = capsys.readouterr().err
    assert error.startswith(f"error: {path}: jobs[0].name: '{name}' makes 'tap-{'a' * 20}-{name}' "
                            "(65 characters) with ENVIRONMENT_SUFFIX=")
    assert error.endswith("but EventBridge Scheduler names allow 64\n")


@pytest.mark.parametrize("expression", [
    "cron(0 3 * * ? *)", "cron(0/15 * * * ? *)", "cron(0 9 ? * MON-FRI *)", "cron(0 18 L * ? *)",
    "cron(0 10 ? * 6#3 *)", "cron(15 10 ? * 6L 2026-2030)", "rate(1 minute)", "rate(5 minutes)",
    "rate(1 day)", "at(2026-12-31T23:00:00)"])
def test_expressions_scheduler_accepts(expression: str) -> None:
    assert schedule_problem(expression) is None


@pytest.mark.parametrize("expression", [
    "cron(60 3 * * ? *)", "cron(0 24 * * ? *)", "cron(0 3 32 * ? *)", "cron(0 3 * 13 ? *)",
    "cron(0 3 ? * 8 *)", "cron(0 3 1 * 2 *)", "rate(0 minutes)", "rate(2 minute)",
    "rate(1 week)", "at(2026-13-01T00:00:00)", "cron(0 3 * * ? 1969)", "0 3 * * *"])
def test_expressions_scheduler_refuses(expression: str) -> None:
    assert schedule_problem(expression) is not None
