"""``pam_verify.py URL CLUSTER_ARN``: PostgreSQL's PAM check of an RDS IAM token, asked of the
emulator.

PostgreSQL authenticates the members of ``rds_iam`` through PAM (``pg_hba.conf``: ``pam
pamservice=...``); the PAM service runs this script (through ``pam_exec_token.so``, see
``pam_exec_token.c``) with the token the client sent as its password on standard input and
the login name in ``PAM_USER``. It POSTs ``{"cluster", "user", "token"}`` to the emulator's
``/_tap/runtime/rds-iam/verify`` (``rds_iam.py`` decides and logs why) and exits 0 only when
the answer is an allow; any other answer or failure exits 1, with one line on standard error
(which lands in the PostgreSQL server's log).

It runs as the ``postgres`` OS user under Debian's ``/usr/bin/python3``: standard library
only, nothing from the repository's virtual environment.
"""
from __future__ import annotations

import json
import os
import sys
import urllib.request

PATH = "/_tap/runtime/rds-iam/verify"
TIMEOUT = 15


def main(argv: list[str]) -> int:
    if len(argv) != 3:
        print("usage: pam_verify.py EMULATOR_URL CLUSTER_ARN", file=sys.stderr)
        return 1
    url, cluster = argv[1], argv[2]
    token = sys.stdin.read().rstrip("\0\r\n")
    user = os.environ.get("PAM_USER", "")
    request = urllib.request.Request(
        url.rstrip("/") + PATH, method="POST",
        data=json.dumps({"cluster": cluster, "user": user, "token": token}).encode(),
        headers={"Content-Type": "application/json"})
    # The emulator is on the loopback: never through a proxy the environment may name.
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(request, timeout=TIMEOUT) as answer:
            decision = json.load(answer)
    except (OSError, ValueError) as error:
        print(f"pam_verify: {url}{PATH} did not answer: {error}", file=sys.stderr)
        return 1
    if decision.get("allowed") is True:
        return 0
    print(f"pam_verify: {user}: {decision.get('reason', decision)}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
