"""Resources whose address changed in a refactor, and the ``moved`` blocks that carry them.

A resource's Terraform address comes from its construct path (cdktf's ``makeUniqueId``: the
path's ids joined with ``_`` and an 8-character hash of the path). A resource whose path
changes would be destroyed and created again; ``MOVES`` lists every such path, new -> old,
and ``carry_moves(stack)`` gives each resource found at a new path a ``moved`` block from its
old address (``move_from_id``), so that Terraform moves its state instead. Keep entries for as
long as environments of an older version may be upgraded (``make e2e-upgrade``).

The tier re-cut (the load balancer out of the application tier, the VPC origin into the edge,
every security-group rule into the firewall) moved these. The ephemeral profile's one key per
region (docs/decisions/shared-pr-environments.md) carries the data key and the edge's key: a
live pull-request environment keeps its database and cache (their key does not change) and its
other keys go.
"""
from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from constructs import IConstruct

_LOAD_BALANCER = ("alb", "alb-logs", "alb-logs-lifecycle", "alb-logs-ownership",
                  "alb-logs-policy", "alb-logs-public-access", "alb-logs-encryption",
                  "origin-verify", "origin-verify-version", "http", "https",
                  "origin-verify-rule", "web")
_APP_RULES = ("alb-to-tasks", "tasks-https-out", "alb-from-vpc-origin", "alb-from-cloudfront",
              "tasks-from-alb")
_DATA_RULES = ("tasks-to-db", "tasks-to-cache", "db-from-tasks", "cache-from-tasks")

MOVES: dict[str, str] = {
    **{f"lb/{key}": f"app/{key}" for key in _LOAD_BALANCER},
    "edge/vpc-origin": "app/vpc-origin",
    **{f"firewall/{key}": f"app/{key}" for key in _APP_RULES},
    **{f"firewall/{key}": f"data/{key}" for key in _DATA_RULES},
    **{f"key/{part}": f"data/key/{part}" for part in ("key", "alias")},
    **{f"global-key/{part}": f"edge/logs-key/{part}" for part in ("key", "alias")},
}
_HASH_CHARACTERS = 8


def logical_id(path: str) -> str:
    """The logical id cdktf gives the resource at ``path`` (below the stack): its ids
    joined with ``_``, leaving out an id its predecessor ends with (``key/key``,
    ``logs-key/key``), then the path's MD5, 8 hex digits (cdktf's ``makeUniqueId``)."""
    components = path.split("/")
    if len(components) == 1:
        return components[0]
    human: list[str] = []
    for part in components:
        if not human or not human[-1].endswith(part):
            human.append(part)
    digest = hashlib.md5("/".join(components).encode(), usedforsecurity=False).hexdigest()
    return "_".join(human) + "_" + digest[:_HASH_CHARACTERS].upper()


def carry_moves(stack: IConstruct) -> dict[str, str]:
    """A ``moved`` block for every resource of ``stack`` at a path of ``MOVES``; returns
    them, new address by old."""
    from cdktf import TerraformResource  # pylint: disable=import-outside-toplevel

    carried = {}
    for node in stack.node.find_all():
        if not isinstance(node, TerraformResource):
            continue
        path = node.node.path.split("/", 1)[1]
        if path in MOVES:
            old = f"{node.terraform_resource_type}.{logical_id(MOVES[path])}"
            node.move_from_id(old)
            carried[old] = f"{node.terraform_resource_type}.{logical_id(path)}"
    return carried
