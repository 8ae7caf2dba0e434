#!/usr/bin/env bash
# Renders the dependency graph of one synthesized stack (a directory holding cdk.tf.json) to
# an SVG: `terraform init -backend=false` offline (providers from TF_CLI_CONFIG_FILE's mirror),
# `terraform graph`, labels by construct path and one box per tier (tools/graph.py), then
# graphviz's `dot`, installed with apt-get when it is missing. `terraform graph` wants an
# initialized backend, so it reads a copy of the stack without its backend block (a remote
# backend cannot be initialized offline; the graph does not depend on state).
# Usage: graph.sh STACK_DIR OUTPUT.svg   (PYTHON: the interpreter for tools/graph.py)
set -euo pipefail
dir=${1:?usage: graph.sh STACK_DIR OUTPUT.svg}
out=${2:?usage: graph.sh STACK_DIR OUTPUT.svg}
command -v terraform >/dev/null || { echo "graph: terraform is not on the PATH" >&2; exit 1; }
[ -f "$dir/cdk.tf.json" ] || { echo "graph: $dir/cdk.tf.json is missing" >&2; exit 1; }
[ -f "${TF_CLI_CONFIG_FILE:-}" ] || {
  echo "graph: TF_CLI_CONFIG_FILE (${TF_CLI_CONFIG_FILE:-unset}) does not exist" >&2; exit 1; }
if ! command -v dot >/dev/null; then
  [ "$(id -u)" = 0 ] || { echo "graph: graphviz (dot) is missing; install it as root" >&2; exit 1; }
  echo "graph: installing graphviz" >&2
  apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq graphviz >/dev/null
fi
python=${PYTHON:-python3}
root=$(cd "$(dirname "$0")/.." && pwd)
work="$dir/graph"
mkdir -p "$work"
"$python" -c 'import json, sys
document = json.load(open(sys.argv[1]))
document.get("terraform", {}).pop("backend", None)
json.dump(document, open(sys.argv[2], "w"), indent=1)' "$dir/cdk.tf.json" "$work/cdk.tf.json"
(cd "$work" && terraform init -backend=false -input=false -no-color >init.log 2>&1) || {
  cat "$work/init.log" >&2; echo "graph: terraform init failed in $work" >&2; exit 1; }
(cd "$work" && terraform graph) | "$python" "$root/tools/graph.py" "$work/cdk.tf.json" >"$work/graph.dot"
mkdir -p "$(dirname "$out")"
dot -Tsvg "$work/graph.dot" -o "$out.tmp"
mv "$out.tmp" "$out"
echo "graph: $out ($(grep -c -- '->' "$work/graph.dot") edges)"
