"""The emulator's runtime: what makes an environment on the emulator run, not only exist.

moto (with ``emulator.moto_ext``) keeps the control plane: resources, their settings and
states. The runtime adds the data plane, in the emulator's own process, when
``python -m emulator --runtime-dir DIR`` asks for it:

- ``network``: loopback addresses, the VPC's names (a hosts file) and a CA of its own;
- ``databases``: a real PostgreSQL per Aurora cluster, TLS only, its master password the
  RDS-managed secret's (and kept so across rotation), IAM authentication for the members of
  ``rds_iam``;
- ``caches``: a real Valkey/Redis per ElastiCache Serverless cache, TLS only;
- ``tasks``: ECS tasks run as local processes with what ECS would give them (environment,
  secrets, the task role's credentials, logs to CloudWatch Logs), registered in their target
  group and health-checked as the load balancer would; scheduled jobs fired on request;
- ``edge``: Application Load Balancers and CloudFront distributions serve HTTP(S) on
  addresses of their own (the site answers at its CloudFront domain).

``Runtime(url, state_dir)`` starts them; ``stop()`` stops every process they started.
"""
from __future__ import annotations

from pathlib import Path

from emulator.runtime.caches import Caches
from emulator.runtime.control import Control
from emulator.runtime.databases import Databases
from emulator.runtime.edge import Edge
from emulator.runtime.network import Network
from emulator.runtime.standins import StandIns
from emulator.runtime.tasks import TaskRunner


class Runtime:
    """The runtime of one emulator at ``url``, its state (sockets, data, logs) in
    ``state_dir``."""

    def __init__(self, url: str, state_dir: Path, control: Control) -> None:
        self.url = url
        self.control = control  # components register their /_tap/runtime/ endpoints here
        self.network = Network(state_dir)
        self.state_dir = state_dir
        self.components: list[object] = []

    def start(self) -> Runtime:
        """Start the components, in order; returns the runtime."""
        self.components.append(databases := Databases(self).start())
        self.components.append(caches := Caches(self).start())
        self.components.append(StandIns(self.control, databases, caches))
        self.components.append(TaskRunner(url=self.url, control=self.control,
                                          network=self.network, state_dir=self.state_dir).start())
        self.components.append(Edge(self.control, self.network).start())
        return self

    def stop(self) -> None:
        """Stop every component, the last started first."""
        for component in reversed(self.components):
            component.stop()  # type: ignore[attr-defined]
        self.components.clear()
