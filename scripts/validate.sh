#!/usr/bin/env bash
# terraform init -backend=false + validate for each synthesized profile given as arguments
# (directories holding cdk.tf.json). Fails, saying which, when Terraform or the provider
# mirror is missing: it never passes silently.
set -euo pipefail
command -v terraform >/dev/null || { echo "validate: terraform is not on the PATH" >&2; exit 1; }
[ -f "${TF_CLI_CONFIG_FILE:-}" ] || { echo "validate: TF_CLI_CONFIG_FILE (${TF_CLI_CONFIG_FILE:-unset}) does not exist" >&2; exit 1; }
grep -q filesystem_mirror "$TF_CLI_CONFIG_FILE" || [ -n "${TF_ALLOW_REGISTRY:-}" ] || {
  echo "validate: no provider mirror found (set TF_PROVIDER_MIRROR, or TF_ALLOW_REGISTRY=1 to download)" >&2; exit 1; }
for dir in "$@"; do
  [ -f "$dir/cdk.tf.json" ] || { echo "validate: $dir/cdk.tf.json is missing" >&2; exit 1; }
  (cd "$dir" && terraform init -backend=false -input=false -no-color >init.log 2>&1) || {
    cat "$dir/init.log" >&2; echo "validate: terraform init failed in $dir" >&2; exit 1; }
  (cd "$dir" && terraform validate -no-color) || { echo "validate: $dir is not valid" >&2; exit 1; }
done
