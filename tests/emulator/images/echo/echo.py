"""The task runner's test application: prints lines, answers HTTP, or exits with a code.

Environment: ``ECHO_LINES`` (lines printed at start, separated by ``|``), ``EXIT_CODE`` (set:
print the lines and exit with it, no server), ``PORT`` (the server's, on 0.0.0.0). Paths:
``/healthz`` (200, or ``HEALTHZ_STATUS``), ``/`` (the task's ``REVISION`` and address),
``/whoami`` (GetCallerIdentity with the task's credentials, and their access key id; the
first credentials it used are kept), ``/whoami-first`` (GetCallerIdentity signed with those
first credentials, or the error code AWS answered),
``/digest/<NAME>`` (SHA-256 of an environment variable). SIGTERM ends it with exit 0.
"""
from __future__ import annotations

import hashlib
import json
import os
import signal
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

FIRST: list[Any] = []  # the first credentials /whoami used


class Handler(BaseHTTPRequestHandler):
    """The test paths."""

    def do_GET(self) -> None:  # pylint: disable=invalid-name
        status, body = 200, {}
        if self.path == "/healthz":
            status = int(os.environ.get("HEALTHZ_STATUS", "200"))
            body = {"healthy": status == 200}
        elif self.path == "/":
            body = {"revision": os.environ.get("REVISION", ""),
                    "address": self.connection.getsockname()[0]}
        elif self.path in ("/whoami", "/whoami-first"):
            body = whoami(first=self.path == "/whoami-first")
        elif self.path.startswith("/digest/"):
            value = os.environ.get(self.path.split("/", 2)[2])
            body = {"sha256": None if value is None else
                    hashlib.sha256(value.encode()).hexdigest()}
        else:
            status = 404
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: object) -> None:  # pylint: disable=redefined-builtin
        print(f"echo: {self.command} {self.path}", flush=True)


def whoami(first: bool) -> dict[str, str]:
    """GetCallerIdentity with the task's credentials (or the first ones it used)."""
    # boto3 only where /opt/venv maps to a virtualenv that has it (the tests map theirs).
    import boto3  # pylint: disable=import-outside-toplevel
    from botocore.exceptions import ClientError  # pylint: disable=import-outside-toplevel
    session = boto3.session.Session()
    credentials = FIRST[0] if first else session.get_credentials().get_frozen_credentials()
    if not FIRST:
        FIRST.append(credentials)
    client = session.client("sts", aws_access_key_id=credentials.access_key,
                            aws_secret_access_key=credentials.secret_key,
                            aws_session_token=credentials.token)
    try:
        identity = client.get_caller_identity()
    except ClientError as error:
        return {"Error": error.response["Error"]["Code"]}
    return {"Arn": identity["Arn"], "AccessKeyId": credentials.access_key}


def main() -> int:
    for line in filter(None, os.environ.get("ECHO_LINES", "").split("|")):
        print(line, flush=True)
    if "EXIT_CODE" in os.environ:
        return int(os.environ["EXIT_CODE"])
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    server = ThreadingHTTPServer(("0.0.0.0", int(os.environ.get("PORT", "8080"))), Handler)
    print(f"echo: listening on {server.server_address[0]}:{server.server_address[1]}",
          flush=True)
    server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
