"""CloudFront distributions as a data plane: every enabled distribution serves its site.

``Distributions.reconcile()`` (``emulator.runtime.edge`` calls it after each CreateDistribution,
UpdateDistribution and DeleteDistribution, and every second) gives each enabled distribution
of moto a loopback address of its own (``network.Addresses``, kind ``distribution``), its
``dxxxx.cloudfront.net`` domain and its aliases in the hosts file (not a wildcard alias: a
hosts file cannot hold one), and two listeners there: HTTPS on 443 with a certificate of the
runtime's CA for the domain and every alias, and HTTP on 80. A disabled or deleted
distribution stops listening and leaves the hosts file.

A request is answered from moto's state as it arrives (the next request after an
UpdateDistribution sees it), as CloudFront does:

- the distribution is the one whose domain or alias is the request's Host (an exact alias
  before a wildcard one, ``*`` standing for one label); none: 403, CloudFront's "Bad request";
- WAF: a ``WebACLId`` whose web ACL's default action is Block answers 403 (or the block's
  custom response code); the web ACL's rules are NOT evaluated (the managed rule groups and
  the rate rule exist only as configuration here), so a request is allowed unless the
  default action blocks it;
- the cache behaviour: the first ordered behaviour whose ``PathPattern`` (case-sensitive,
  ``*`` and ``?``, the leading ``/`` optional) matches the path, else the default one; on
  HTTP, ``redirect-to-https`` answers 301 to the same URL on https, ``https-only`` 403;
  a method outside ``AllowedMethods`` is 403;
- the origin: its ``CustomHeaders`` set (a viewer's header of the same name replaced),
  ``Host`` the origin's domain name unless the origin request policy forwards the viewer's
  (``emulator.runtime.cloudfront_policies``: also what else of the request is forwarded, and
  the response headers policy), ``X-Forwarded-For`` with the viewer's address appended,
  ``Via`` and ``X-Amz-Cf-Id``, ``User-Agent: Amazon CloudFront`` unless the viewer's is
  forwarded, the ``OriginPath`` before the path, ``DefaultRootObject`` for ``/``. A
  ``VpcOriginConfig`` goes to its VPC origin (``emulator.moto_ext.cloudfront_vpc_origin``):
  its endpoint's load balancer's address (``emulator.runtime.balancers``) and its
  ``OriginProtocolPolicy``, ``HTTPPort`` / ``HTTPSPort`` and TLS versions; a
  ``CustomOriginConfig`` goes to its domain name through the hosts file, likewise. Over TLS
  the origin's certificate must chain to the runtime's CA and name either the origin's
  domain name or the Host header CloudFront sends, which is also the SNI: "The origin's
  SSL/TLS certificate must include a domain name that matches either the Origin domain ...
  or the Host header of the origin request" ("HTTP 502 status code (Bad Gateway)",
  https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/http-502-bad-gateway.html).
  The VPC origins guide names no other check, so a VPC origin is verified the same way; no
  certificate names a load balancer's ``*.elb.amazonaws.com`` name, hence the stack forwards
  the viewer's Host (an alias its certificate covers) to an HTTPS origin.
  ``ConnectionAttempts`` connections are tried, each within ``ConnectionTimeout``, and the
  answer awaited for the origin read timeout; an origin that cannot be reached (no such VPC
  origin or load balancer, a name the hosts file does not have, a refused connection, a TLS
  failure) is 502, "CloudFront wasn't able to connect to the origin"; a timeout 504;
- the answer: the origin's, with ``Via``, ``X-Cache`` (``Miss from cloudfront``, or ``Error
  from cloudfront`` for a status of 400 and above) and ``X-Amz-Cf-Id``. Nothing is cached.

Not modelled: S3 origins and origin groups (502), Lambda@Edge and CloudFront Functions,
custom error responses, geo restriction, signed URLs, compression, HTTP/2 and HTTP/3, the
viewer TLS policy. Exposes ``Distributions`` (``reconcile``, ``status``, ``stop``).
"""
from __future__ import annotations

import errno
import functools
import hashlib
import secrets
import ssl
import threading
from dataclasses import dataclass, field
from typing import Any

from moto.cloudfront.models import cloudfront_backends
from moto.wafv2.models import wafv2_backends

from emulator.moto_ext.cloudfront_vpc_origin import vpc_origins
from emulator.runtime.balancers import Balancers
from emulator.runtime.cloudfront_policies import (forwarding, response_headers, select_cookies,
                                                  select_query)
from emulator.runtime.network import Network
from emulator.runtime.proxy import (Headers, Listener, Request, Response, UpstreamError,
                                    end_to_end, say, send, wildcard, without)

PORTS = {80: False, 443: True}  # port: TLS
RELOCATIONS = 8  # addresses tried when another process holds a port
DEFAULT_READ_TIMEOUT = 30
NOT_CONNECTED = "CloudFront wasn't able to connect to the origin."
TIMED_OUT = ("CloudFront attempted to establish a connection with the origin, but either the "
             "attempt failed or the origin closed the connection.")
BAD_REQUEST = ("Bad request. We can't connect to the server for this app or website at this "
               "time. There might be too much traffic or a configuration error.")
METHOD_NOT_ALLOWED = ("This distribution is not configured to allow the HTTP request method "
                      "that was used for this request. The distribution supports only "
                      "cachable requests.")
TLS_VERSIONS = {"TLSv1": ssl.TLSVersion.TLSv1, "TLSv1.1": ssl.TLSVersion.TLSv1_1,
                "TLSv1.2": ssl.TLSVersion.TLSv1_2}
REWRITTEN = ("Host", "X-Forwarded-For", "Via", "X-Amz-Cf-Id", "Cookie")


def request_id() -> str:
    return secrets.token_urlsafe(42)


def error_page(status: int, message: str, cf_id: str) -> Response:
    """An answer of CloudFront itself: its "The request could not be satisfied" page."""
    body = ('<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 4.01 Transitional//EN" '
            '"http://www.w3.org/TR/html4/loose.dtd">\n<HTML><HEAD><META HTTP-EQUIV="Content-Type" '
            'CONTENT="text/html; charset=iso-8859-1">\n<TITLE>ERROR: The request could not be '
            f'satisfied</TITLE>\n</HEAD><BODY>\n<H1>{status} ERROR</H1>\n<H2>The request could '
            f'not be satisfied.</H2>\n<HR noshade size="1px">\n{message}\n<BR clear="all">\n'
            '<HR noshade size="1px">\n<PRE>\nGenerated by cloudfront (CloudFront)\n'
            f'Request ID: {cf_id}\n</PRE>\n<ADDRESS>\n</ADDRESS>\n</BODY></HTML>')
    return Response(status=status, body=body.encode(), headers=[
        ("Server", "CloudFront"), ("Content-Type", "text/html"),
        ("X-Cache", "Error from cloudfront"), ("X-Amz-Cf-Id", cf_id)])


def redirect_page(location: str, cf_id: str) -> Response:
    body = ("<html>\r\n<head><title>301 Moved Permanently</title></head>\r\n<body>\r\n"
            "<center><h1>301 Moved Permanently</h1></center>\r\n<hr><center>CloudFront</center>"
            "\r\n</body>\r\n</html>\r\n")
    return Response(status=301, body=body.encode(), headers=[
        ("Server", "CloudFront"), ("Content-Type", "text/html"), ("Location", location),
        ("X-Cache", "Redirect from cloudfront"), ("X-Amz-Cf-Id", cf_id)])


def name_matches(pattern: str, name: str) -> bool:
    """A certificate's or an alias's name against a host name (``*`` is one whole label)."""
    pattern, name = pattern.lower(), name.lower()
    if pattern.startswith("*."):
        return "." in name and name.split(".", 1)[1] == pattern[2:] and bool(name.split(".")[0])
    return pattern == name


def certificate_problem(names: set[str], certificate: dict[str, Any]) -> str | None:
    """Why ``certificate`` (a verified peer certificate) does not do for ``names``."""
    found = [value for kind, value in certificate.get("subjectAltName", ()) if kind == "DNS"]
    if any(name_matches(pattern, name) for pattern in found for name in names):
        return None
    return f"the certificate names {found}, none of {sorted(names)}"


def behaviour_for(config: Any, path: str) -> Any:
    """The cache behaviour of ``path``: the first ordered one that matches, else the default."""
    for behaviour in (config.CacheBehaviors or {}).get("Items") or []:
        pattern = behaviour.path_pattern if behaviour.path_pattern.startswith("/") \
            else f"/{behaviour.path_pattern}"
        if wildcard(pattern, False).fullmatch(path):
            return behaviour
    return config.DefaultCacheBehavior


def enabled(distribution: Any) -> bool:
    return str(distribution.distribution_config.Enabled).lower() == "true"


def aliases(distribution: Any) -> list[str]:
    return [str(alias).lower() for alias in
            (distribution.distribution_config.Aliases or {}).get("Items") or []]


def viewer_refusal(behaviour: Any, request: Request, cf_id: str) -> Response | None:
    """The behaviour's answer to a viewer it does not serve: plain HTTP where it wants
    HTTPS, or a method it does not allow."""
    if request.scheme == "http" and behaviour.viewer_protocol_policy == "redirect-to-https":
        return redirect_page(f"https://{request.host()}{request.target}", cf_id)
    if request.scheme == "http" and behaviour.viewer_protocol_policy == "https-only":
        return error_page(403, BAD_REQUEST, cf_id)
    if request.method not in behaviour.allowed_methods.items:
        return error_page(403, METHOD_NOT_ALLOWED, cf_id)
    return None


def web_acl_block(account: str, web_acl_id: str, cf_id: str) -> Response | None:
    """The answer of a web ACL whose default action is Block (its rules are not evaluated)."""
    if not web_acl_id:
        return None
    for backend in list(wafv2_backends[account].values()):
        acl = backend.wacls.get(web_acl_id)
        if acl is not None:
            block = (acl.default_action or {}).get("Block")
            if block is None:
                return None
            code = int((block.get("CustomResponse") or {}).get("ResponseCode") or 403)
            return error_page(code, "Request blocked.", cf_id)
    return None


@dataclass(frozen=True)
class _Endpoint:
    address: str
    port: int
    protocols: tuple[str, ...] | None  # TLS versions; None: plain HTTP
    read_timeout: float


@dataclass(eq=False)
class _Served:
    arn: str
    address: str
    names: set[str] = field(default_factory=set)
    listeners: dict[int, Listener] = field(default_factory=dict)
    errors: dict[int, str] = field(default_factory=dict)


class Distributions:
    """The runtime's CloudFront distributions, by ARN."""

    def __init__(self, network: Network, balancers: Balancers) -> None:
        self.network, self.balancers = network, balancers
        self._lock = threading.RLock()
        self._tls_lock = threading.Lock()
        self._served: dict[str, _Served] = {}
        self._contexts: dict[tuple[str, ...], ssl.SSLContext] = {}  # viewer side, by names
        self._origin_contexts: dict[tuple[str, ...], ssl.SSLContext] = {}  # by TLS versions
        self._via = f"1.1 {secrets.token_hex(16)}.cloudfront.net (CloudFront)"

    @staticmethod
    def _all() -> list[tuple[Any, Any]]:
        """(backend, distribution) of every account and partition."""
        return [(backend, distribution)
                for partitions in list(cloudfront_backends.values())
                for backend in list(partitions.values())
                for distribution in list(backend.distributions.values())]

    def reconcile(self) -> None:
        """Serve every enabled distribution of moto, and no other."""
        with self._lock:
            seen = set()
            for _, distribution in self._all():
                if enabled(distribution):
                    seen.add(distribution.arn)
                    self._reconcile_one(distribution)
            for arn in [arn for arn in self._served if arn not in seen]:
                self._remove(arn)

    def _reconcile_one(self, distribution: Any) -> None:
        served = self._served.get(distribution.arn)
        if served is None:
            served = self._listen(distribution)
            self._served[distribution.arn] = served
        names = {name for name in [distribution.domain_name, *aliases(distribution)]
                 if "*" not in name}
        self._forget(served, served.names - names)
        for name in names - served.names:
            self.network.hosts.set(name, served.address)
        served.names = names

    def _listen(self, distribution: Any) -> _Served:
        """An address and its two listeners; an address where another process (another
        emulator's runtime) holds a port is left out of the pool and the next one tried."""
        for _ in range(RELOCATIONS):
            served, in_use = _Served(distribution.arn,
                                     self.network.addresses.take("distribution")), False
            for port, tls in PORTS.items():
                listener = Listener(served.address, port, self._serve,
                                    functools.partial(self._context, served) if tls else None)
                try:
                    served.listeners[port] = listener.start()
                except OSError as error:  # in use, or ports below 1024 without root
                    say(f"distribution {distribution.distribution_id}: cannot listen on "
                        f"{served.address}:{port}: {error}")
                    served.errors[port] = str(error)
                    in_use = in_use or error.errno == errno.EADDRINUSE
            if not in_use:
                break
            for listener in served.listeners.values():
                listener.stop()
            served.listeners.clear()
        return served

    def _remove(self, arn: str) -> None:
        served = self._served.pop(arn)
        for listener in served.listeners.values():
            listener.stop()
        self._forget(served, served.names)
        self.network.addresses.give_back("distribution", served.address)

    def _forget(self, served: _Served, names: set[str]) -> None:
        """Take ``names`` out of the hosts file, unless another distribution has one now."""
        for name in names:
            if self.network.hosts.lookup(name) == served.address:
                self.network.hosts.remove(name)

    def stop(self) -> None:
        with self._lock:
            for arn in list(self._served):
                self._remove(arn)

    def status(self) -> list[dict[str, Any]]:
        with self._lock:
            served = dict(self._served)
        found = {distribution.arn: distribution for _, distribution in self._all()}
        return [{"id": found[arn].distribution_id, "arn": arn,
                 "domainName": found[arn].domain_name, "aliases": aliases(found[arn]),
                 "address": entry.address,
                 "ports": {"http": 80, "https": 443},
                 "serving": sorted(entry.listeners), "errors": entry.errors}
                for arn, entry in served.items() if arn in found]

    def _context(self, served: _Served) -> ssl.SSLContext:
        """The viewer TLS context: a certificate for the domain and every alias."""
        distribution = next((d for _, d in self._all() if d.arn == served.arn), None)
        names = [] if distribution is None else \
            list(dict.fromkeys([distribution.domain_name, *aliases(distribution)]))
        names = names or [served.address]
        with self._tls_lock:
            context = self._contexts.get(tuple(names))
            if context is None:
                digest = hashlib.sha256("\n".join(names).encode()).hexdigest()[:12]
                certificate, key = self.network.authority.issue(f"cloudfront-{digest}", names)
                context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
                context.load_cert_chain(certificate, key)
                self._contexts[tuple(names)] = context
            return context

    def _find(self, host: str) -> tuple[Any, Any] | None:
        candidates = [(backend, distribution) for backend, distribution in self._all()
                      if enabled(distribution)]
        for backend, distribution in candidates:
            if host in (distribution.domain_name, *aliases(distribution)):
                return backend, distribution
        return next(((backend, distribution) for backend, distribution in candidates
                     if any("*" in alias and name_matches(alias, host)
                            for alias in aliases(distribution))), None)

    # --- a request -----------------------------------------------------------------------

    def _serve(self, request: Request) -> Response:
        cf_id = request_id()
        found = self._find(request.host())
        if found is None:
            return error_page(403, BAD_REQUEST, cf_id)
        backend, distribution = found
        config = distribution.distribution_config
        behaviour = behaviour_for(config, request.path)
        refused = web_acl_block(backend.account_id, config.WebACLId, cf_id) or \
            viewer_refusal(behaviour, request, cf_id)
        if refused is not None:
            return refused
        origin = next((item for item in config.Origins["Items"]
                       if item.id == behaviour.target_origin_id), None)  # else an origin group
        endpoint = None if origin is None else self._endpoint(backend, origin, request.scheme)
        if endpoint is None:
            return error_page(502, NOT_CONNECTED, cf_id)
        served = self._served.get(distribution.arn)
        return self._fetch(origin, behaviour, endpoint, request, cf_id,
                           source=None if served is None else served.address,
                           root_object=str(config.DefaultRootObject or ""))

    def _endpoint(self, backend: Any, origin: Any, scheme: str) -> _Endpoint | None:
        """Where the origin is, or None when CloudFront could not reach it."""
        vpc = getattr(origin, "vpc_origin_config", None)
        custom = getattr(origin, "custom_origin_config", None)
        if vpc:
            vpc_origin = vpc_origins(backend).get(vpc.get("VpcOriginId"))
            if vpc_origin is None:
                return None
            config = vpc_origin["VpcOriginEndpointConfig"]
            address = self.balancers.address_of(str(config.get("Arn")))
            policy, http_port, https_port = (config.get("OriginProtocolPolicy"),
                                             config.get("HTTPPort"), config.get("HTTPSPort"))
            protocols = (config.get("OriginSslProtocols") or {}).get("Items") or []
            read_timeout = vpc.get("OriginReadTimeout")
        elif custom is not None:
            address = self.network.hosts.lookup(origin.domain_name)
            policy, http_port, https_port = (custom.origin_protocol_policy, custom.http_port,
                                             custom.https_port)
            protocols = custom.origin_ssl_protocols.get("Items") or []
            read_timeout = custom.origin_read_timeout
        else:
            return None  # S3 origins are not served
        if address is None:
            return None
        https = policy == "https-only" or (policy == "match-viewer" and scheme == "https")
        return _Endpoint(address, int(https_port or 443) if https else int(http_port or 80),
                         tuple(str(p) for p in protocols) if https else None,
                         float(read_timeout or DEFAULT_READ_TIMEOUT))

    def _origin_tls(self, protocols: tuple[str, ...]) -> ssl.SSLContext:
        with self._tls_lock:
            context = self._origin_contexts.get(protocols)
            if context is None:
                context = self._origin_contexts[protocols] = self._new_origin_tls(protocols)
            return context

    def _new_origin_tls(self, protocols: tuple[str, ...]) -> ssl.SSLContext:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False  # either of two names will do: certificate_problem
        context.verify_mode = ssl.CERT_REQUIRED
        context.load_verify_locations(cafile=str(self.network.authority.bundle))
        versions = [TLS_VERSIONS[name] for name in protocols if name in TLS_VERSIONS]
        if versions:
            context.minimum_version, context.maximum_version = min(versions), max(versions)
        return context

    def _fetch(self, origin: Any, behaviour: Any,  # pylint: disable=too-many-arguments
               endpoint: _Endpoint, request: Request, cf_id: str, *, source: str | None,
               root_object: str) -> Response:
        spec = forwarding(behaviour)
        viewer_host = (request.header("Host") or "").strip()
        host = viewer_host if spec.forwards("Host") and viewer_host else origin.domain_name
        path = f"/{root_object}" if root_object and request.path == "/" else request.path
        query = select_query(request.query, spec.query)
        headers = self._origin_headers(origin, spec, request, host, cf_id)
        sent = Request(method=request.method, headers=headers, body=request.body,
                       target=f"{origin.origin_path or ''}{path}" + (f"?{query}" if query else ""))
        tls = None if endpoint.protocols is None else self._origin_tls(endpoint.protocols)
        server_name = (host.rsplit(":", 1)[0] if host.count(":") == 1 else host).lower()
        try:
            answer = self._attempts(origin, endpoint, sent, tls, server_name, source)
        except UpstreamError as error:
            say(f"{request.method} {request.target} via origin {origin.id}: {error}")
            return error_page(504 if error.timed_out else 502,
                              TIMED_OUT if error.timed_out else NOT_CONNECTED, cf_id)
        headers = response_headers(behaviour, end_to_end(answer.headers)) + [
            ("Via", self._via),
            ("X-Cache", "Error from cloudfront" if answer.status >= 400 else
             "Miss from cloudfront"),
            ("X-Amz-Cf-Id", cf_id)]
        return Response(status=answer.status, headers=headers, body=answer.body)

    @staticmethod
    def _attempts(origin: Any, endpoint: _Endpoint,  # pylint: disable=too-many-arguments
                  sent: Request, tls: ssl.SSLContext | None, server_name: str,
                  source: str | None) -> Response:
        """``sent`` to the origin: up to ``ConnectionAttempts`` connections, each within
        ``ConnectionTimeout``; the last failure is raised."""
        attempts, failures = max(1, int(origin.connection_attempts or 3)), 0
        while True:
            try:
                return send(endpoint.address, endpoint.port, sent, tls=tls,
                            server_hostname=server_name if tls else None,
                            check=functools.partial(certificate_problem,
                                                    {origin.domain_name.lower(), server_name}),
                            connect_timeout=float(origin.connection_timeout or 10),
                            read_timeout=endpoint.read_timeout, source=source)
            except UpstreamError as error:
                failures += 1
                if error.kind not in ("refused", "connect-timeout") or failures >= attempts:
                    raise

    def _origin_headers(self, origin: Any, spec: Any, request: Request, host: str,
                        cf_id: str) -> Headers:
        viewer = end_to_end(request.headers)
        headers = [(name, value) for name, value in without(viewer, *REWRITTEN)
                   if spec.forwards(name)]
        cookie = select_cookies(request.header("Cookie"), spec.cookies)
        prior = request.header("X-Forwarded-For")
        headers += [("Host", host),
                    ("X-Forwarded-For", f"{prior}, {request.client}" if prior
                     else request.client),
                    ("Via", self._via), ("X-Amz-Cf-Id", cf_id)]
        if cookie is not None:
            headers.append(("Cookie", cookie))
        if not spec.forwards("User-Agent"):
            headers.append(("User-Agent", "Amazon CloudFront"))
        custom = [(str(item["HeaderName"]), str(item["HeaderValue"]))
                  for item in (origin.custom_headers or {}).get("Items") or []]
        return without(headers, *(name for name, _ in custom)) + custom
