"""The container health check: ``python -m app.healthcheck``.

GET ``http://127.0.0.1:$PORT/healthz`` with a 3 second timeout; exit 0 on a 200, 1
otherwise (a one-line reason on standard error). Standard library only, and ``app``
imports nothing at import time, so the check costs one interpreter start. The same
command, interval, timeout, retries and start period are in the task definition's
``healthCheck`` and in the Dockerfile's ``HEALTHCHECK``.
"""
from __future__ import annotations

import os
import sys
import urllib.error
import urllib.request
from collections.abc import Mapping

TIMEOUT_SECONDS = 3.0
DEFAULT_PORT = "8000"


def check(environ: Mapping[str, str]) -> tuple[bool, str]:
    port = environ.get("PORT") or DEFAULT_PORT
    if not port.isdigit() or not 1 <= int(port) <= 65535:
        return False, f"PORT {port!r} is not a port"
    url = f"http://127.0.0.1:{port}/healthz"
    # No proxy from the environment (HTTP_PROXY) for a loopback address.
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(url, timeout=TIMEOUT_SECONDS) as response:
            status = response.status
    except urllib.error.HTTPError as error:
        status = error.code
    except OSError as error:
        return False, f"{url}: {error}"
    return status == 200, f"{url}: HTTP {status}"


def main() -> int:
    healthy, detail = check(os.environ)
    if not healthy:
        print(f"healthcheck: {detail}", file=sys.stderr)
    return 0 if healthy else 1


if __name__ == "__main__":
    sys.exit(main())
