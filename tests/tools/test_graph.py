"""tools/graph.py: construct paths as labels, one cluster per tier, edges untouched."""
from __future__ import annotations

from tools import graph

DOT = """digraph G {
  rankdir = "RL";
  node [shape = rect, fontname = "sans-serif"];
  "aws_vpc.network_vpc_4E8F0223" [label="aws_vpc.network_vpc_4E8F0223"];
  "data.aws_caller_identity.caller" [label="data.aws_caller_identity.caller"];
  "aws_subnet.network_public-0_A4E682E0" [label="aws_subnet.network_public-0_A4E682E0"];
  "aws_subnet.network_public-0_A4E682E0" -> "aws_vpc.network_vpc_4E8F0223";
}
"""
STACK = {
    "resource": {
        "aws_vpc": {"network_vpc_4E8F0223": {"//": {"metadata": {"path": "TapStackdev/network/vpc"}}}},
        "aws_subnet": {"network_public-0_A4E682E0": {
            "//": {"metadata": {"path": "TapStackdev/network/public-0"}}}},
    },
    "data": {"aws_caller_identity": {"caller": {"//": {"metadata": {"path": "TapStackdev/caller"}}}}},
}


def test_labels_are_construct_paths_grouped_by_tier() -> None:
    lines = graph.relabel(DOT, STACK).splitlines()
    assert lines[:3] == DOT.splitlines()[:3]
    assert '  "aws_subnet.network_public-0_A4E682E0" -> "aws_vpc.network_vpc_4E8F0223";' in lines
    network = lines.index('  subgraph "cluster_network" {')
    assert lines[network + 1:network + 5] == [
        '    label = "network";', '    style = "rounded";',
        '    "aws_vpc.network_vpc_4E8F0223" [label="network/vpc\\naws_vpc"];',
        '    "aws_subnet.network_public-0_A4E682E0" [label="network/public-0\\naws_subnet"];']
    stack = lines.index('  subgraph "cluster_stack" {')
    assert lines[stack + 3] == \
        '    "data.aws_caller_identity.caller" [label="caller\\ndata aws_caller_identity"];'
    assert lines[-1] == "}" and sum(line.strip() == "}" for line in lines) == 3


def test_paths_cover_resources_and_data_sources() -> None:
    assert graph.paths(STACK) == {"aws_vpc.network_vpc_4E8F0223": "network/vpc",
                                  "aws_subnet.network_public-0_A4E682E0": "network/public-0",
                                  "data.aws_caller_identity.caller": "caller"}
