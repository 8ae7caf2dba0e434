"""tools/one_off.py's release gate on the secrets, against moto in process: a secret without
a value is refused with both ways to set it; TAP_SECRET_<NAME> gives a first value and never
overwrites one."""
# pylint: disable=redefined-outer-name
from __future__ import annotations

from typing import Any, Iterator

import boto3
import pytest
from moto import mock_aws

from tools import one_off

ENVIRON = {"TAP_REGION": "us-east-1", "TAP_CLUSTER": "tap-dev-cluster"}


@pytest.fixture()
def secretsmanager() -> Iterator[Any]:
    with mock_aws():
        yield boto3.client("secretsmanager", region_name="us-east-1")


def declared(client: Any, *names: str) -> dict[str, str]:
    """Secrets as lib/app_secrets.py declares them: named, no value."""
    return {name: client.create_secret(Name=f"tap/dev/app/{name}-20261205")["ARN"]
            for name in names}


def gate(secrets: dict[str, str], **extra: str) -> tuple[int, list[str]]:
    lines: list[str] = []
    environ = {**ENVIRON, "TAP_SECRETS": ",".join(f"{k}={v}" for k, v in secrets.items()),
               **extra}
    code = one_off.release(environ, session=boto3.session.Session(region_name="us-east-1"),
                           out=lines.append)
    return code, lines


def test_a_secret_without_a_value_stops_the_deploy(secretsmanager: Any) -> None:
    secrets = declared(secretsmanager, "APP_SIGNING_KEY", "STRIPE_API_KEY")
    secretsmanager.put_secret_value(SecretId=secrets["STRIPE_API_KEY"], SecretString="sk")
    code, lines = gate(secrets)
    assert code == 1
    assert lines == [
        "release: the application secret(s) APP_SIGNING_KEY have no value yet, so the service "
        "would not start: set them (make secret-set ENVIRONMENT_SUFFIX=dev "
        "NAME=APP_SIGNING_KEY) and deploy again, or deploy with TAP_SECRET_APP_SIGNING_KEY in "
        "the environment"]


def test_the_deployers_value_is_the_first_value_and_nothing_more(secretsmanager: Any) -> None:
    secrets = declared(secretsmanager, "APP_SIGNING_KEY", "STRIPE_API_KEY")
    secretsmanager.put_secret_value(SecretId=secrets["STRIPE_API_KEY"], SecretString="kept")
    code, lines = gate(secrets, TAP_SECRET_APP_SIGNING_KEY="first",
                       TAP_SECRET_STRIPE_API_KEY="never-used")
    assert code == 0
    assert lines == ["release: APP_SIGNING_KEY had no value: set from TAP_SECRET_APP_SIGNING_KEY",
                     "release: every declared secret has a value: APP_SIGNING_KEY, "
                     "STRIPE_API_KEY"]
    value = secretsmanager.get_secret_value
    assert value(SecretId=secrets["APP_SIGNING_KEY"])["SecretString"] == "first"
    assert value(SecretId=secrets["STRIPE_API_KEY"])["SecretString"] == "kept"


def test_an_empty_seed_is_no_value(secretsmanager: Any) -> None:
    secrets = declared(secretsmanager, "APP_SIGNING_KEY")
    code, lines = gate(secrets, TAP_SECRET_APP_SIGNING_KEY="")
    assert code == 1 and "have no value yet" in lines[0]
