"""HTTP/1.1 plumbing shared by the runtime's edge: the load balancers
(``emulator.runtime.balancers``) and the CloudFront distributions
(``emulator.runtime.distributions``) listen, read a whole request, answer it, and send
requests on to their targets and origins.

- ``Request`` / ``Response``: a request or an answer read whole (small JSON bodies: nothing is
  streamed), headers as ``(name, value)`` pairs in their order and case;
- ``Listener``: a socket on one (address, port), plain or TLS (the TLS context is asked for
  at each connection, so a new certificate applies to the next handshake), serving each
  request on a thread of its own with ``handler(request)``; a handler that returns None closes
  the connection without answering (a listener that is going away);
- ``send``: one request to (address, port), optionally over TLS, optionally from a source
  address; what fails is an ``UpstreamError`` whose ``kind`` says how (refused, connect or read
  timeout, TLS, closed), so that each caller answers as its AWS service does;
- ``end_to_end``: the headers a proxy passes on (hop-by-hop ones dropped: RFC 9110 7.6.1);
- ``wildcard``: the ``*`` / ``?`` patterns of listener rules and cache behaviours.

HTTP/1.1 only (no HTTP/2 or HTTP/3 towards viewers); request bodies may be chunked, answers
always carry a Content-Length.
"""
from __future__ import annotations

import functools
import http.client
import re
import socket
import ssl
import sys
import threading
import traceback
from dataclasses import dataclass, field
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable

Headers = list[tuple[str, str]]
# RFC 9110 7.6.1 (Connection), plus the de-facto Keep-Alive and Proxy-Connection.
HOP_BY_HOP = frozenset(("connection", "keep-alive", "proxy-authenticate", "proxy-authorization",
                        "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade"))
FRAMING = frozenset(("content-length", "transfer-encoding", "connection"))
HANDSHAKE_SECONDS = 10.0
IDLE_SECONDS = 60.0  # an idle keep-alive connection is closed after this (ALB's default)
LINE_LIMIT = 65537


def say(message: str) -> None:
    print(f"edge: {message}", file=sys.stderr, flush=True)


def header(headers: Headers, name: str) -> str | None:
    """The first value of ``name`` (case-insensitive), or None."""
    wanted = name.lower()
    return next((value for key, value in headers if key.lower() == wanted), None)


def without(headers: Headers, *names: str) -> Headers:
    """``headers`` without any of ``names`` (case-insensitive)."""
    dropped = {name.lower() for name in names}
    return [(key, value) for key, value in headers if key.lower() not in dropped]


def end_to_end(headers: Headers) -> Headers:
    """The headers a proxy forwards: no hop-by-hop header, none that the Connection header
    names (the Content-Length is recomputed where the message is written)."""
    named = {token.strip().lower() for key, value in headers if key.lower() == "connection"
             for token in value.split(",")}
    return [(key, value) for key, value in headers
            if key.lower() not in HOP_BY_HOP and key.lower() not in named]


@functools.lru_cache(maxsize=512)
def wildcard(pattern: str, ignore_case: bool, escapes: bool = False) -> re.Pattern[str]:
    """``pattern`` as a regular expression matched whole: ``*`` is any run of characters,
    ``?`` exactly one; with ``escapes`` a backslash makes the next character literal."""
    parts, index = [], 0
    while index < len(pattern):
        char = pattern[index]
        if escapes and char == "\\" and index + 1 < len(pattern):
            parts.append(re.escape(pattern[index + 1]))
            index += 2
            continue
        parts.append(".*" if char == "*" else "." if char == "?" else re.escape(char))
        index += 1
    return re.compile("".join(parts), re.DOTALL | (re.IGNORECASE if ignore_case else 0))


@dataclass(frozen=True, kw_only=True)
class Request:
    """A request as received (or as sent on)."""

    method: str
    target: str  # the request target: path and query, as received
    headers: Headers
    body: bytes = b""
    client: str = ""  # the peer's address
    scheme: str = "http"  # of the listener that received it
    port: int = 80  # of the listener that received it

    @property
    def path(self) -> str:
        return self.target.split("?", 1)[0]

    @property
    def query(self) -> str:
        return self.target.split("?", 1)[1] if "?" in self.target else ""

    def header(self, name: str) -> str | None:
        return header(self.headers, name)

    def host(self) -> str:
        """The Host header's name, without a port, lower case ('' without one)."""
        value = (self.header("Host") or "").strip().lower()
        if value.startswith("["):  # an IPv6 literal
            return value.split("]", 1)[0] + "]"
        return value.rsplit(":", 1)[0] if value.count(":") == 1 else value


@dataclass(frozen=True, kw_only=True)
class Response:
    """A whole answer."""

    status: int
    headers: Headers = field(default_factory=list)
    body: bytes = b""

    def header(self, name: str) -> str | None:
        return header(self.headers, name)


class UpstreamError(Exception):
    """A request that got no answer; ``kind``: ``refused`` (the connection failed),
    ``connect-timeout``, ``tls`` (handshake or certificate), ``read-timeout`` or ``closed``
    (the peer closed or reset the connection, or answered something that is not HTTP)."""

    def __init__(self, kind: str, detail: str) -> None:
        super().__init__(f"{kind}: {detail}")
        self.kind = kind
        self.detail = detail

    @property
    def timed_out(self) -> bool:
        return self.kind in ("connect-timeout", "read-timeout")


CertificateCheck = Callable[[dict[str, Any]], "str | None"]


def _connect(address: str, port: int, *, tls: ssl.SSLContext | None,
             server_hostname: str | None, check: CertificateCheck | None,
             connect_timeout: float, source: str | None) -> socket.socket:
    try:
        sock = socket.create_connection((address, port), timeout=connect_timeout,
                                        source_address=(source, 0) if source else None)
    except (socket.timeout, TimeoutError) as error:
        raise UpstreamError("connect-timeout", f"{address}:{port}: {error}") from error
    except OSError as error:
        raise UpstreamError("refused", f"{address}:{port}: {error}") from error
    if tls is None:
        return sock
    try:
        secured = tls.wrap_socket(sock, server_hostname=server_hostname)
    except (socket.timeout, TimeoutError) as error:
        sock.close()
        raise UpstreamError("connect-timeout", f"TLS handshake with {address}:{port}") from error
    except OSError as error:  # ssl.SSLError is one
        sock.close()
        raise UpstreamError("tls", f"{address}:{port}: {error}") from error
    problem = check(secured.getpeercert() or {}) if check is not None else None
    if problem is not None:
        secured.close()
        raise UpstreamError("tls", f"{address}:{port}: {problem}")
    return secured


def send(address: str, port: int, request: Request, *,  # pylint: disable=too-many-arguments
         tls: ssl.SSLContext | None = None, server_hostname: str | None = None,
         check: CertificateCheck | None = None, connect_timeout: float = 10.0,
         read_timeout: float = 30.0, source: str | None = None) -> Response:
    """``request`` (method, target, headers, body) to ``address:port``, over TLS when ``tls``
    is given (SNI ``server_hostname``; ``check(peer certificate)`` returns why it is not
    acceptable, or None), from ``source`` when given; the whole answer, or UpstreamError."""
    sock = _connect(address, port, tls=tls, server_hostname=server_hostname, check=check,
                    connect_timeout=connect_timeout, source=source)
    connection = http.client.HTTPConnection(address, port, timeout=read_timeout)
    sock.settimeout(read_timeout)
    connection.sock = sock
    try:
        connection.putrequest(request.method, request.target, skip_host=True,
                              skip_accept_encoding=True)
        # The body is sent whole: its framing is this request's, and a 100-continue was answered.
        for name, value in without(request.headers, "content-length", "transfer-encoding",
                                   "expect"):
            connection.putheader(name, value)
        if request.body or request.method in ("POST", "PUT", "PATCH"):
            connection.putheader("Content-Length", str(len(request.body)))
        connection.endheaders(request.body or None)
        answer = connection.getresponse()
        body = answer.read()
        return Response(status=answer.status, headers=list(answer.getheaders()), body=body)
    except (socket.timeout, TimeoutError) as error:
        raise UpstreamError("read-timeout", f"{address}:{port}: no answer within "
                                            f"{read_timeout:g} s") from error
    except (OSError, http.client.HTTPException, ValueError) as error:
        raise UpstreamError("closed", f"{address}:{port}: {error!r}") from error
    finally:
        connection.close()


Handler = Callable[[Request], "Response | None"]


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self, listener: Listener) -> None:
        self.listener = listener
        super().__init__((listener.address, listener.port), _Handler)

    def finish_request(self, request: Any, client_address: Any) -> None:
        context = self.listener.tls
        if context is None:
            super().finish_request(request, client_address)
            return
        # The handshake runs on the connection's own thread, never on the accepting one.
        request.settimeout(HANDSHAKE_SECONDS)
        try:
            secured = context().wrap_socket(request, server_side=True)
        except OSError:
            return  # a failed handshake: the client sees its own TLS error
        try:
            self.RequestHandlerClass(secured, client_address, self)
        finally:
            secured.close()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = IDLE_SECONDS
    server: _Server

    def _serve(self) -> None:
        listener = self.server.listener
        try:
            body = self._body()
        except ValueError:
            self.send_error(400, "Bad Request")
            return
        request = Request(method=self.command, target=self.path, headers=list(self.headers.items()),
                          body=body, client=self.client_address[0],
                          scheme="https" if listener.tls is not None else "http",
                          port=listener.port)
        try:
            response = listener.handler(request)
        except Exception:  # pylint: disable=broad-exception-caught
            say(f"{listener.address}:{listener.port} failed on {self.command} {self.path}:\n"
                f"{traceback.format_exc()}")
            response = Response(status=500, headers=[("Content-Type", "text/plain")],
                                body=b"the emulator failed on this request\n")
        if response is None:
            self.close_connection = True
            return
        self._write(response)

    do_GET = do_HEAD = do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = _serve

    def _body(self) -> bytes:
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            parts = []
            while True:
                size = int(self.rfile.readline(LINE_LIMIT).split(b";", 1)[0].strip(), 16)
                if size == 0:
                    while self.rfile.readline(LINE_LIMIT) not in (b"\r\n", b"\n", b""):
                        continue  # trailer fields: dropped
                    return b"".join(parts)
                parts.append(self.rfile.read(size))
                self.rfile.readline(LINE_LIMIT)
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _write(self, response: Response) -> None:
        self.send_response_only(response.status)
        headers = [(key, value) for key, value in response.headers if key.lower() not in FRAMING]
        if header(headers, "Date") is None:
            headers.append(("Date", formatdate(usegmt=True)))
        for name, value in headers:
            self.send_header(name, value)
        # A HEAD answer has no body but says how long the GET's would be.
        length = response.header("Content-Length") if self.command == "HEAD" else None
        self.send_header("Content-Length", length or str(len(response.body)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(response.body)

    def log_message(self, format: str, *args: Any) -> None:  # pylint: disable=redefined-builtin
        return  # no access log: the emulator's standard error is for what went wrong


class Listener:
    """A socket serving HTTP (``tls`` None) or HTTPS (``tls()`` gives the context of each new
    connection) on ``address:port``; ``start()`` binds it (OSError when it cannot)."""

    def __init__(self, address: str, port: int, handler: Handler,
                 tls: Callable[[], ssl.SSLContext] | None = None) -> None:
        self.address, self.port, self.handler, self.tls = address, port, handler, tls
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> Listener:
        self._server = _Server(self)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True,
                                        kwargs={"poll_interval": 0.2},
                                        name=f"listener {self.address}:{self.port}")
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop accepting and close the socket (requests under way finish on their threads)."""
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
