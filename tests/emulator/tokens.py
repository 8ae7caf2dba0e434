"""RDS IAM auth tokens for the tests: as boto3 makes them, or signed at another time, for
another lifetime, or tampered with, to prove the stand-ins refuse what RDS refuses."""
from __future__ import annotations

import datetime
from typing import Any
from unittest import mock

import boto3
from botocore.auth import SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

REGION = "us-east-1"


def credentials(assumed: dict[str, Any]) -> Credentials:
    """botocore credentials from an AssumeRole answer's ``Credentials``."""
    return Credentials(assumed["AccessKeyId"], assumed["SecretAccessKey"],
                       assumed.get("SessionToken"))


def token(keys: Credentials, host: str, port: int, user: str, *,
          at: datetime.datetime | None = None) -> str:
    """``generate_db_auth_token`` of boto3 with ``keys`` (signed ``at`` that time if given)."""
    client = boto3.client("rds", region_name=REGION, aws_access_key_id=keys.access_key,
                          aws_secret_access_key=keys.secret_key,
                          aws_session_token=keys.token)
    if at is None:
        return str(client.generate_db_auth_token(host, port, user))
    with mock.patch("botocore.auth.get_current_datetime", return_value=at):
        return str(client.generate_db_auth_token(host, port, user))


def token_expiring_in(keys: Credentials, host: str, port: int, user: str,
                      expires: int) -> str:
    """A token signed by hand with botocore's query signer for ``expires`` seconds."""
    request = AWSRequest(method="GET",
                         url=f"https://{host}:{port}/?Action=connect&DBUser={user}")
    SigV4QueryAuth(keys, "rds-db", REGION, expires=expires).add_auth(request)
    return str(request.url)[len("https://"):]


def tampered(text: str) -> str:
    """The token with the last character of its signature changed."""
    return text[:-1] + ("0" if text[-1] != "0" else "1")
