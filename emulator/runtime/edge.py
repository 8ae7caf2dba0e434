"""The runtime's edge: the site answers at its CloudFront domain, through its load balancer.

``Edge`` (a component of ``emulator.runtime.Runtime``) serves moto's Application Load
Balancers (``emulator.runtime.balancers``) and CloudFront distributions
(``emulator.runtime.distributions``) on loopback addresses of their own, their names in the
runtime's hosts file, and keeps what listens in step with moto: right after each ELBv2 or
CloudFront call that adds, changes or removes a load balancer, a listener or a distribution
(moto's backend methods are wrapped: the socket is bound, or closed, before the API call
answers), and every second besides (state changed any other way, e.g. moto's reset).
Requests are read against moto's state as they arrive, so rules, actions, target health,
origins and VPC origins apply to the next request after the API call that changed them.

Endpoint: ``GET /_tap/runtime/edge``: every distribution (id, domain name, aliases, address,
ports) and load balancer (ARN, name, DNS name, address, listeners), the CA bundle a client
verifies against and the hosts file that resolves their names. A client connects to the
address with the name as Host and SNI (``emulator.runtime.viewer.fetch`` does).

Listening on 80 and 443 (and a listener's port below 1024) needs root or
CAP_NET_BIND_SERVICE, as the emulator has in CI and here; without, the listing shows each
listener's error. An address where another process (another emulator's runtime) already
holds a port is skipped for the next one.
"""
from __future__ import annotations

import functools
import threading
import traceback
from typing import Any, Callable

from moto.cloudfront.models import CloudFrontBackend
from moto.elbv2.models import ELBv2Backend

from emulator.runtime.balancers import Balancers
from emulator.runtime.control import Control
from emulator.runtime.distributions import Distributions
from emulator.runtime.network import Network
from emulator.runtime.proxy import say

TICK_SECONDS = 1.0
MARKER = "tap_edge_reconciles"  # this module's own: other extensions wrap these methods too
HOOKED = {
    ELBv2Backend: ("create_load_balancer", "delete_load_balancer", "create_listener",
                   "modify_listener", "delete_listener"),
    CloudFrontBackend: ("create_distribution", "create_distribution_with_tags",
                        "update_distribution", "delete_distribution"),
}
_STATE: dict[str, Any] = {"edge": None}


def _reconciling(method: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(method)
    def wrapped(self: Any, *args: Any, **kwargs: Any) -> Any:
        result = method(self, *args, **kwargs)
        edge = _STATE["edge"]
        if edge is not None:
            edge.reconcile()
        return result
    setattr(wrapped, MARKER, True)
    return wrapped


def install_hooks() -> None:
    """Reconcile after each moto call that changes what listens (once per process)."""
    for backend, names in HOOKED.items():
        for name in names:
            method = getattr(backend, name)
            if not getattr(method, MARKER, False):
                setattr(backend, name, _reconciling(method))


class Edge:
    """Load balancers and distributions, served while the runtime runs."""

    def __init__(self, control: Control, network: Network) -> None:
        self.control, self.network = control, network
        self.balancers = Balancers(network)
        self.distributions = Distributions(network, self.balancers)
        self._lock = threading.Lock()
        self._closing = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> Edge:
        install_hooks()
        _STATE["edge"] = self
        self.reconcile()
        self.control.route("GET", "edge", self.status)
        self._thread = threading.Thread(target=self._loop, daemon=True, name="edge")
        self._thread.start()
        return self

    def reconcile(self) -> None:
        """Listen for what moto has now; an error is reported, never raised into the API
        call that triggered it."""
        with self._lock:
            if self._closing.is_set():
                return
            try:
                self.balancers.reconcile()
                self.distributions.reconcile()
            except Exception:  # pylint: disable=broad-exception-caught
                say(f"reconcile failed (continuing):\n{traceback.format_exc()}")

    def _loop(self) -> None:
        while not self._closing.wait(TICK_SECONDS):
            self.reconcile()

    def status(self, _body: Any, _query: dict[str, str]) -> tuple[int, Any]:
        """``GET edge``."""
        return 200, {"caBundle": str(self.network.authority.bundle),
                     "hostsFile": str(self.network.hosts.path),
                     "distributions": self.distributions.status(),
                     "loadBalancers": self.balancers.status()}

    def stop(self) -> None:
        """Close every listener and give back every address."""
        if _STATE["edge"] is self:
            _STATE["edge"] = None
        with self._lock:
            self._closing.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self.distributions.stop()
        self.balancers.stop()
