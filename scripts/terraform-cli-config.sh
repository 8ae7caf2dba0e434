#!/usr/bin/env bash
# Writes a Terraform CLI configuration to $1 that installs registry.terraform.io/hashicorp/*
# from a local filesystem mirror when one is found, and from the registry otherwise.
# The mirror root is TF_PROVIDER_MIRROR when set, else detected (the directory that holds
# registry.terraform.io/hashicorp/aws/<version>). Prints the mirror used, or "registry".
set -euo pipefail
out=${1:?usage: terraform-cli-config.sh OUTPUT [PLUGIN_CACHE_DIR]}
cache=${2:-}
version=${TF_AWS_PROVIDER_VERSION:-5.100.0}
mirror=${TF_PROVIDER_MIRROR:-}
if [ -z "$mirror" ]; then
  for candidate in /opt/tf-plugins "$HOME/.terraform.d/plugins" /usr/local/share/terraform/plugins \
                   /usr/share/terraform/plugins; do
    if [ -d "$candidate/registry.terraform.io/hashicorp/aws/$version" ]; then mirror=$candidate; break; fi
  done
fi
if [ -z "$mirror" ]; then
  found=$(find / -maxdepth 6 -path "*registry.terraform.io/hashicorp/aws/$version" -print -quit 2>/dev/null || true)
  [ -n "$found" ] && mirror=${found%/registry.terraform.io/hashicorp/aws/$version}
fi
if [ -n "$mirror" ] && [ ! -d "$mirror/registry.terraform.io/hashicorp/aws/$version" ]; then
  echo "TF_PROVIDER_MIRROR=$mirror holds no registry.terraform.io/hashicorp/aws/$version" >&2
  exit 1
fi
mkdir -p "$(dirname "$out")"
{
  if [ -n "$cache" ]; then
    mkdir -p "$cache"
    echo "plugin_cache_dir = \"$cache\""
  fi
  echo "provider_installation {"
  if [ -n "$mirror" ]; then
    echo "  filesystem_mirror {"
    echo "    path    = \"$mirror\""
    echo "    include = [\"registry.terraform.io/hashicorp/*\"]"
    echo "  }"
    echo "  direct {"
    echo "    exclude = [\"registry.terraform.io/hashicorp/*\"]"
    echo "  }"
  else
    echo "  direct {}"
  fi
  echo "}"
} >"$out.tmp"
mv "$out.tmp" "$out"
echo "${mirror:-registry}"
