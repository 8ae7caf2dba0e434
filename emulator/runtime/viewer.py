"""A viewer of the emulated site: HTTP(S) requests to the runtime's distributions and load
balancers by their names, as a browser on the internet would make them.

``fetch(url, runtime_dir=...)`` resolves the URL's host name through the runtime's hosts file
(``<runtime dir>/hosts``: the names of ``emulator.runtime.edge``), connects to that address
and port with the name as Host and, for https, as SNI, verifying the server's certificate
against the runtime's CA (``<runtime dir>/tls/ca.pem``) for that name; redirects are not
followed. For the harness and the tests, in any process.
"""
from __future__ import annotations

import ssl
import urllib.parse
from pathlib import Path

from emulator.runtime.proxy import Request, Response, send

USER_AGENT = "tap-emulator-viewer"


def resolve(hosts_file: Path, name: str) -> str | None:
    """The address of ``name`` in a hosts file, or None."""
    for line in hosts_file.read_text(encoding="utf-8").splitlines():
        fields = line.split()
        if len(fields) >= 2 and name.lower() in (field.lower() for field in fields[1:]):
            return fields[0]
    return None


def fetch(url: str, *, runtime_dir: Path,  # pylint: disable=too-many-arguments
          method: str = "GET", headers: list[tuple[str, str]] | None = None,
          body: bytes = b"", timeout: float = 30.0) -> Response:
    """One request to ``url``; the whole answer. LookupError when the hosts file does not
    name its host; ``proxy.UpstreamError`` when the connection or TLS fails."""
    parts = urllib.parse.urlsplit(url)
    host = parts.hostname or ""
    address = resolve(runtime_dir / "hosts", host)
    if address is None:
        raise LookupError(f"{host} is not in {runtime_dir / 'hosts'}")
    tls = None
    if parts.scheme == "https":
        tls = ssl.create_default_context(cafile=str(runtime_dir / "tls" / "ca.pem"))
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    given = headers or []
    defaults = [(name, value) for name, value in
                (("Host", parts.netloc), ("User-Agent", USER_AGENT), ("Accept", "*/*"))
                if name.lower() not in {key.lower() for key, _ in given}]
    return send(address, parts.port or (443 if tls else 80),
                Request(method=method, target=target, headers=defaults + given, body=body),
                tls=tls, server_hostname=host if tls else None, connect_timeout=timeout,
                read_timeout=timeout)
