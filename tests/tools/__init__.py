"""Tests of the developer tools: the security scan (tools/scan.py, with its enforcement on
checkov's JSON output) and the graph labeller (tools/graph.py)."""
