#!/usr/bin/env bash
# Installs the servers that app/tests start as stand-ins for Aurora PostgreSQL and
# ElastiCache Serverless: Debian's postgresql-15 and redis-server, at the versions pinned
# below, with apt-get, and only when a package is missing or at another version (a second
# run changes nothing). Used by `make app-test`.
#
# Installing needs root (CI runs as root); without it, the script names the packages and
# the command to run, and exits 1. Services are not started by the install (a temporary
# policy-rc.d when the machine has none): the tests start their own servers on free ports.
# A pin that the Debian mirror no longer serves (a security update replaced it) fails
# with apt-cache's candidate named: update the pin here.
set -euo pipefail

# Debian 12's point-release versions (bookworm/main). redis-server depends on redis-tools
# of exactly its own version, and apt would otherwise take the security archive's newer one.
PINS=(
  "postgresql-15=15.18-0+deb12u1"
  "redis-tools=5:7.0.15-1~deb12u7"
  "redis-server=5:7.0.15-1~deb12u7"
)

wanted=()
for pin in "${PINS[@]}"; do
  name=${pin%%=*}
  version=${pin#*=}
  have=$(dpkg-query -W -f='${db:Status-Status} ${Version}' "$name" 2>/dev/null || true)
  if [[ "$have" != "installed $version" ]]; then
    wanted+=("$pin")
  fi
done

if [[ ${#wanted[@]} -eq 0 ]]; then
  echo "install-standins: ${PINS[*]} already installed"
  exit 0
fi

if [[ $(id -u) -ne 0 ]]; then
  echo "install-standins: needs root to install ${wanted[*]}:" \
       "run 'sudo apt-get install -y ${wanted[*]}' (Debian 12), then make app-test again" >&2
  exit 1
fi

export DEBIAN_FRONTEND=noninteractive
# Debian's postgresql-common creates and starts a default cluster on install unless told
# not to; the tests make their own with initdb.
if [[ ! -e /etc/postgresql-common/createcluster.conf ]]; then
  mkdir -p /etc/postgresql-common
  echo "create_main_cluster = false" > /etc/postgresql-common/createcluster.conf
fi
# Debian's convention (invoke-rc.d): exit status 101 from policy-rc.d forbids starting a
# service from a package's scripts.
if [[ ! -e /usr/sbin/policy-rc.d ]]; then
  printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
  chmod 755 /usr/sbin/policy-rc.d
  trap 'rm -f /usr/sbin/policy-rc.d' EXIT
fi

apt-get update -qq
for pin in "${wanted[@]}"; do
  name=${pin%%=*}
  version=${pin#*=}
  if ! apt-cache madison "$name" | awk -F'|' '{gsub(/ /, "", $2); print $2}' | grep -qxF "$version"; then
    candidate=$(apt-cache policy "$name" | awk '/Candidate:/ {print $2}')
    echo "install-standins: $name $version is not offered by the configured Debian mirror" \
         "(candidate: ${candidate:-none}); update the pin in $0" >&2
    exit 1
  fi
done
apt-get install -y -qq --no-install-recommends \
  -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold "${wanted[@]}"
echo "install-standins: installed ${wanted[*]}"
