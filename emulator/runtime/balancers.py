"""Application Load Balancers as a data plane: every ALB moto knows serves its listeners.

``Balancers.reconcile()`` (``emulator.runtime.edge`` calls it after each ELBv2 call that adds,
changes or removes a load balancer or a listener, and every second) gives each Application
Load Balancer of moto (any account, any region) a loopback address of its own
(``network.Addresses``, kind ``balancer``), its DNS name in the hosts file, and a
``proxy.Listener`` per listener on that address and the listener's port: HTTP, or HTTPS with
a certificate the runtime's CA issues for the names of the listener's ACM certificates (their
domain and alternative names: what the load balancer would present; an ACM certificate's
private key cannot be had, so ``SslPolicy`` counts only as "TLS on"), or for the load
balancer's DNS name when no ACM certificate of the listener is known (an IAM certificate, a
deleted one). As in AWS, then, no certificate names ``*.elb.amazonaws.com``: CloudFront
reaches an HTTPS listener only with a Host its certificate covers
(``emulator.runtime.distributions``). A listener whose port or protocol changes is closed and
opened again; a deleted one is closed: the next connection is refused.

Each request is read against moto's state as it arrives (rules, actions, target groups,
target health), so what an API call changed applies to the next request. Rules, redirects
and fixed responses: ``emulator.runtime.alb_rules``. ``forward`` picks a target group (by
weight, for a ``ForwardConfig``), then a target round robin among the group's ``healthy``
targets as DescribeTargetHealth reports them (the runtime's health checks,
``emulator.runtime.health``), and proxies the request (HTTP, or HTTPS without verifying the
target's certificate, as ALB does) with what ALB adds ("HTTP headers and Application Load
Balancers", https://docs.aws.amazon.com/elasticloadbalancing/latest/application/x-forwarded-headers.html):
``X-Forwarded-For`` (the client's address appended; the load balancer attribute
``routing.http.xff_header_processing.mode`` ``append``/``preserve``/``remove`` honoured),
``X-Forwarded-Proto`` and ``X-Forwarded-Port`` (the listener's), ``X-Amzn-Trace-Id`` when
absent; with ``routing.http.drop_invalid_header_fields.enabled`` header names other than
letters, digits and hyphens are dropped. "If a target group contains only unhealthy registered
targets, the load balancer routes requests to all those targets" (fail open: "Health checks
for your target groups"); with no healthy target otherwise (none registered, all of them
still ``initial`` or ``draining``) it answers 503 ("HTTP 503: Service unavailable",
https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-troubleshooting.html);
a target that refuses or drops the connection 502; no connection within 10 seconds or no
answer within the load balancer's idle timeout (``idle_timeout.timeout_seconds``, 60 s by
default) 504. Targets of type ``ip`` are reached at their address, ``instance`` at the
instance's private address (nothing runs there unless something listens on it).

Not modelled: Network and Gateway Load Balancers (not served), security groups and the
internal / internet-facing scheme (only the runtime's own clients reach these loopback
addresses), stickiness, slow start and the other routing algorithms, HTTP/2, access logs.
Exposes ``Balancers`` (``reconcile``, ``address_of``, ``status``, ``stop``).
"""
from __future__ import annotations

import dataclasses
import errno
import functools
import hashlib
import itertools
import random
import re
import secrets
import ssl
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from moto.acm.models import acm_backends
from moto.elbv2.models import elbv2_backends

from emulator.runtime.alb_rules import (elb_page, final_action, first_match, fixed_response,
                                        not_modelled, redirect)
from emulator.runtime.network import Network
from emulator.runtime.proxy import (Headers, Listener, Request, Response, UpstreamError,
                                    end_to_end, header, say, send, without)

CONNECT_SECONDS = 10.0  # "before the connection timeout expired (10 seconds)": HTTP 504
DEFAULT_IDLE_SECONDS = 60.0
VALID_NAME = re.compile(r"[A-Za-z0-9-]+")
PROTOCOLS = ("HTTP", "HTTPS")
RELOCATIONS = 8  # addresses tried when another process holds the listener's port


def routable(described: list[Any]) -> list[tuple[str, int]]:
    """The (target id, port) pairs a request may go to, from DescribeTargetHealth's answers:
    the healthy ones; all of them when every registered target is unhealthy (fail open);
    else none."""
    healthy = sorted((str(d.instance_id), int(d.port)) for d in described if d.status == "healthy")
    if healthy:
        return healthy
    unhealthy = sorted((str(d.instance_id), int(d.port)) for d in described
                       if d.status == "unhealthy")
    return unhealthy if unhealthy and len(unhealthy) == len(described) else []


def certificate_names(account: str, arns: list[str]) -> list[str]:
    """The names (domain and alternative names) of the ACM certificates among ``arns``."""
    names: list[str] = []
    for arn in arns:
        parts = arn.split(":")
        if len(parts) < 6 or parts[2] != "acm":
            continue
        try:
            bundle = acm_backends[account][parts[3]].get_certificate(arn)
        except Exception:  # pylint: disable=broad-exception-caught
            continue  # moto's CertificateNotFound: a deleted certificate names nothing
        names.extend([str(bundle.common_name), *(str(name) for name in bundle.sans)])
    return names


def forwarded_headers(attributes: dict[str, Any], request: Request) -> Headers:
    """The request's headers as the load balancer sends them to a target."""
    headers = [(key, value) for key, value in end_to_end(request.headers)
               if attributes.get("routing.http.drop_invalid_header_fields.enabled") != "true"
               or VALID_NAME.fullmatch(key)]
    headers = without(headers, "X-Forwarded-Proto", "X-Forwarded-Port")
    mode = attributes.get("routing.http.xff_header_processing.mode") or "append"
    if mode != "preserve":
        prior = header(headers, "X-Forwarded-For")
        headers = without(headers, "X-Forwarded-For")
        if mode == "append":
            headers.append(("X-Forwarded-For",
                            f"{prior}, {request.client}" if prior else request.client))
    headers += [("X-Forwarded-Proto", request.scheme), ("X-Forwarded-Port", str(request.port))]
    if header(headers, "X-Amzn-Trace-Id") is None:  # "Request tracing for your ALB"
        headers.append(("X-Amzn-Trace-Id", f"Root=1-{int(time.time()):08x}-"
                                            f"{secrets.token_hex(12)}"))
    return headers


@dataclass(eq=False)
class _Port:
    port: int
    tls: bool
    listener: Listener | None
    error: str | None = None
    in_use: bool = False  # the address and port are another process's


@dataclass(eq=False)
class _Balancer:  # pylint: disable=too-many-instance-attributes
    arn: str
    account: str
    region: str
    name: str
    dns_name: str
    address: str
    ports: dict[int, _Port] = field(default_factory=dict)

    def backend(self) -> Any:
        return elbv2_backends[self.account][self.region]

    def moto_balancer(self) -> Any:
        return self.backend().load_balancers.get(self.arn)

    def moto_listener(self, port: int) -> Any:
        balancer = self.moto_balancer()
        if balancer is None:
            return None
        return next((item for item in list(balancer.listeners.values())
                     if int(item.port) == port and item.protocol in PROTOCOLS), None)


class Balancers:
    """The runtime's Application Load Balancers, by ARN."""

    def __init__(self, network: Network) -> None:
        self.network = network
        self._lock = threading.RLock()
        self._contexts_lock = threading.Lock()
        self._balancers: dict[str, _Balancer] = {}
        self._turns: dict[str, itertools.count[int]] = {}
        self._contexts: dict[tuple[str, ...], ssl.SSLContext] = {}
        # Towards HTTPS targets: ALB does not verify their certificates.
        self._targets_tls = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        self._targets_tls.check_hostname = False
        self._targets_tls.verify_mode = ssl.CERT_NONE

    def reconcile(self) -> None:
        """Serve every Application Load Balancer and listener of moto, and no other."""
        with self._lock:
            seen = set()
            for account, regions in list(elbv2_backends.items()):
                for region, backend in list(regions.items()):
                    for balancer in list(backend.load_balancers.values()):
                        if balancer.type == "application":
                            seen.add(balancer.arn)
                            self._reconcile_one(account, region, balancer)
            for arn in [arn for arn in self._balancers if arn not in seen]:
                self._remove(arn)

    def _reconcile_one(self, account: str, region: str, balancer: Any) -> None:
        entry = self._balancers.get(balancer.arn)
        if entry is None:
            entry = _Balancer(balancer.arn, account, region, balancer.name, balancer.dns_name,
                              self.network.addresses.take("balancer"))
            self._balancers[balancer.arn] = entry
            self.network.hosts.set(entry.dns_name, entry.address)
        wanted = {int(item.port): item.protocol == "HTTPS"
                  for item in list(balancer.listeners.values()) if item.protocol in PROTOCOLS}
        for port, served in list(entry.ports.items()):
            if wanted.get(port) != served.tls:
                if served.listener is not None:
                    served.listener.stop()
                del entry.ports[port]
        for port, tls in wanted.items():
            if port not in entry.ports:
                entry.ports[port] = self._open(entry, port, tls)
        for _ in range(RELOCATIONS):
            if not any(served.in_use for served in entry.ports.values()):
                break
            self._relocate(entry, wanted)

    def _relocate(self, entry: _Balancer, wanted: dict[int, bool]) -> None:
        """Another process (another emulator's runtime) holds a port on this address: move
        the load balancer to the next address, leaving that one out of the pool."""
        for served in entry.ports.values():
            if served.listener is not None:
                served.listener.stop()
        taken, entry.address = entry.address, self.network.addresses.take("balancer")
        say(f"load balancer {entry.name}: {taken} is in use elsewhere, moved to {entry.address}")
        self.network.hosts.set(entry.dns_name, entry.address)
        entry.ports = {port: self._open(entry, port, tls) for port, tls in wanted.items()}

    def _open(self, entry: _Balancer, port: int, tls: bool) -> _Port:
        listener = Listener(entry.address, port, functools.partial(self._serve, entry, port),
                            functools.partial(self._context, entry, port) if tls else None)
        try:
            return _Port(port, tls, listener.start())
        except OSError as error:  # in use, or a port below 1024 without root
            say(f"load balancer {entry.name}: cannot listen on {entry.address}:{port}: {error}")
            return _Port(port, tls, None, str(error), error.errno == errno.EADDRINUSE)

    def _remove(self, arn: str) -> None:
        entry = self._balancers.pop(arn)
        for served in entry.ports.values():
            if served.listener is not None:
                served.listener.stop()
        if self.network.hosts.lookup(entry.dns_name) == entry.address:
            self.network.hosts.remove(entry.dns_name)
        self.network.addresses.give_back("balancer", entry.address)

    def stop(self) -> None:
        with self._lock:
            for arn in list(self._balancers):
                self._remove(arn)

    def address_of(self, arn: str) -> str | None:
        """The address of the load balancer ``arn``, if the runtime serves it."""
        entry = self._balancers.get(arn)
        return None if entry is None else entry.address

    def status(self) -> list[dict[str, Any]]:
        with self._lock:
            entries = list(self._balancers.values())
        return [{"arn": entry.arn, "name": entry.name, "dnsName": entry.dns_name,
                 "address": entry.address,
                 "listeners": [{"port": port, "protocol": "HTTPS" if served.tls else "HTTP",
                                "serving": served.listener is not None, "error": served.error}
                               for port, served in sorted(entry.ports.items())]}
                for entry in entries]

    # --- a connection, a request ---------------------------------------------------------

    def _context(self, entry: _Balancer, port: int) -> ssl.SSLContext:
        """The TLS context of a new connection: a certificate for the names of the listener's
        ACM certificates (else the load balancer's DNS name), issued once per set of names."""
        listener = entry.moto_listener(port)
        arns = [str(arn) for arn in (getattr(listener, "certificates", None) or [])]
        names = list(dict.fromkeys(certificate_names(entry.account, arns))) or [entry.dns_name]
        with self._contexts_lock:
            context = self._contexts.get(tuple(names))
            if context is None:
                digest = hashlib.sha256("\n".join(names).encode()).hexdigest()[:12]
                certificate, key = self.network.authority.issue(f"alb-{entry.name}-{digest}",
                                                                names)
                context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
                context.load_cert_chain(certificate, key)
                self._contexts[tuple(names)] = context
            return context

    def _serve(self, entry: _Balancer, port: int, request: Request) -> Response | None:
        listener, balancer = entry.moto_listener(port), entry.moto_balancer()
        if listener is None or balancer is None:
            return None  # deleted under way: closed, as the socket is about to be
        rule = first_match(listener, request)
        action, problem = final_action(list(rule.actions))
        if action is None:
            return not_modelled(str(problem))
        if action.type == "redirect":
            return redirect(action.data.get("RedirectConfig") or {}, request)
        if action.type == "fixed-response":
            return fixed_response(action.data.get("FixedResponseConfig") or {})
        return self._forward(entry.backend(), balancer, action.data, request)

    def _forward(self, backend: Any, balancer: Any, data: dict[str, Any], request: Request
                 ) -> Response:
        group = self._group(backend, data)
        if group is None:
            return elb_page(503)
        targets = routable(backend.describe_target_health(group.arn, []))
        if not targets:
            return elb_page(503)
        turn = next(self._turns.setdefault(group.arn, itertools.count()))
        target_id, port = targets[turn % len(targets)]
        address = self._target_address(backend, group, target_id)
        if address is None:
            return elb_page(502)
        attributes = dict(balancer.attrs)
        try:
            answer = send(address, port, dataclasses.replace(
                request, headers=forwarded_headers(attributes, request)),
                tls=self._targets_tls if group.protocol == "HTTPS" else None,
                connect_timeout=CONNECT_SECONDS,
                read_timeout=float(attributes.get("idle_timeout.timeout_seconds")
                                   or DEFAULT_IDLE_SECONDS))
        except UpstreamError as error:
            return elb_page(504 if error.timed_out else 502)
        return Response(status=answer.status, headers=end_to_end(answer.headers),
                        body=answer.body)

    @staticmethod
    def _group(backend: Any, data: dict[str, Any]) -> Any:
        """The target group a forward action sends this request to (weighted)."""
        if data.get("ForwardConfig"):
            weighted = [(str(item["TargetGroupArn"]), int(item.get("Weight", 1)))
                        for item in data["ForwardConfig"].get("TargetGroups") or []]
        else:
            weighted = [(str(data.get("TargetGroupArn")), 1)]
        weighted = [(arn, weight) for arn, weight in weighted if weight > 0]
        if not weighted:
            return None
        arn = random.choices([arn for arn, _ in weighted],  # nosec B311: not security
                             weights=[weight for _, weight in weighted])[0]
        return backend.target_groups.get(arn)

    @staticmethod
    def _target_address(backend: Any, group: Any, target_id: str) -> str | None:
        if group.target_type == "ip":
            return target_id
        if group.target_type == "instance":
            instance = backend.ec2_backend.get_instance_by_id(target_id)
            return None if instance is None else instance.private_ip
        return None  # lambda and alb targets are not served
