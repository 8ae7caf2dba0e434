"""Client of the emulator's fault hook (``FaultInjector`` in emulator/server.py).

``arm(url, "CreateServerlessCache", code="ServerlessCacheQuotaForCustomerExceededFault")``
makes the next CreateServerlessCache fail with that AWS error; ``arm(url, "CreateDBCluster",
delay_seconds=20)`` holds the next CreateDBCluster 20 s before moto answers it (to stop
a deploy mid-apply at a known point). ``fired(url)`` lists the faults that applied, with
``fired_at`` and the request; ``clear(url)`` disarms and forgets all of them.
"""
from __future__ import annotations

import json
import urllib.request
from typing import Any

from emulator.server import FAULTS_PATH


def _request(endpoint_url: str, method: str, body: dict[str, Any] | None = None
             ) -> dict[str, Any]:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(f"{endpoint_url.rstrip('/')}{FAULTS_PATH}", data=data,
                                     method=method,
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())  # type: ignore[no-any-return]


def arm(endpoint_url: str, action: str | None, *, code: str | None = None,
        message: str | None = None, status: int = 400, delay_seconds: float = 0.0,
        times: int = 1, **match: str) -> dict[str, Any]:
    """Arm a fault for the next ``times`` requests of ``action``; ``match`` narrows or
    replaces it: ``service`` (SigV4 scope name), ``method`` and ``path`` (a regex on the
    path, for REST APIs such as S3). Returns the armed fault, with its ``id``. Raises
    urllib.error.HTTPError (400) when the emulator rejects the fault."""
    spec = {"action": action, "code": code, "message": message, "status": status,
            "delay_seconds": delay_seconds, "times": times, **match}
    return _request(endpoint_url, "POST",  # type: ignore[no-any-return]
                    {key: value for key, value in spec.items() if value is not None})["fault"]


def fired(endpoint_url: str) -> list[dict[str, Any]]:
    """The faults that applied so far, oldest first, each with ``fired_at`` (ISO 8601)."""
    return _request(endpoint_url, "GET")["fired"]  # type: ignore[no-any-return]


def armed(endpoint_url: str) -> list[dict[str, Any]]:
    """The faults still armed, with the ``times`` they have left."""
    return _request(endpoint_url, "GET")["armed"]  # type: ignore[no-any-return]


def clear(endpoint_url: str) -> None:
    """Disarm every fault and forget the fired ones."""
    _request(endpoint_url, "DELETE")
