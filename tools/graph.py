#!/usr/bin/env python
"""Makes ``terraform graph`` output readable: construct paths as labels, one box per tier.

Usage: ``tools/graph.py STACK_JSON < terraform.dot > labelled.dot`` (``scripts/graph.sh``).
Nodes are named by Terraform address (``aws_vpc.network_vpc_4E8F0223``); the label becomes
the construct path and the type (``network/vpc`` over ``aws_vpc``), and the nodes of each
top-level construct (network, data, lb, app, edge, firewall, monitoring; with a manifest also
app-secrets, release and jobs) are drawn in one cluster.
"""
from __future__ import annotations

import json
import re
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

NODE = re.compile(r'^\s*"(?P<address>[^"]+)" \[label="[^"]*"\];\s*$')


def paths(document: dict[str, Any]) -> dict[str, str]:
    """Construct path below the stack, by Terraform address."""
    found = {}
    for kind, prefix in (("resource", ""), ("data", "data.")):
        for rtype, blocks in document.get(kind, {}).items():
            for logical_id, block in blocks.items():
                path = block.get("//", {}).get("metadata", {}).get("path", logical_id)
                found[f"{prefix}{rtype}.{logical_id}"] = path.split("/", 1)[-1]
    return found


def relabel(dot: str, document: dict[str, Any]) -> str:
    """The graph with readable labels and one cluster per top-level construct."""
    by_address = paths(document)
    clusters: dict[str, list[str]] = defaultdict(list)
    lines = []
    for line in dot.splitlines():
        match = NODE.match(line)
        if match is None:
            lines.append(line)
            continue
        address = match["address"]
        path = by_address.get(address, address)
        rtype = address.removeprefix("data.").split(".", 1)[0]
        label = f"{path}\\n{'data ' if address.startswith('data.') else ''}{rtype}"
        tier = path.split("/", 1)[0] if "/" in path else "stack"
        clusters[tier].append(f'    "{address}" [label="{label}"];')
    end = max(i for i, line in enumerate(lines) if line.strip() == "}")
    body = []
    for tier in sorted(clusters):
        body += [f'  subgraph "cluster_{tier}" {{', f'    label = "{tier}";',
                 '    style = "rounded";', *clusters[tier], "  }"]
    return "\n".join(lines[:end] + body + lines[end:]) + "\n"


def main(argv: list[str]) -> int:
    document = json.loads(Path(argv[1]).read_text(encoding="utf-8"))
    sys.stdout.write(relabel(sys.stdin.read(), document))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
