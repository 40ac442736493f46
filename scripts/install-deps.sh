#!/usr/bin/env bash
# Installs every build, test and benchmark dependency of backrest with apt-get,
# only when something is missing, so `make demo` and `make check` work on a fresh Debian 12.
set -euo pipefail

packages=(
  build-essential pkg-config clang-format lcov
  postgresql-15 postgresql-client-15 postgresql-contrib postgresql-server-dev-15
  libpq-dev libzstd-dev liblz4-dev libxxhash-dev libsimdjson-dev libssl-dev libfmt-dev nlohmann-json3-dev
  libgtest-dev googletest
  # the metrics suite: curl scrapes the endpoint, prometheus_client parses what it got (issue 23)
  curl python3-prometheus-client
  # the drill suite reads info --output=json with jq (issue 23)
  jq
  zstd lz4 pgbackrest python3 socat  # the zstd and lz4 tools check stored files independently of backrest
  # libfaketime: a week of backups and time retention without touching the clock (issue 20)
  faketime
  # the monitoring a pgBackRest user runs, driven against backrest with --command (issue 20)
  check-pgbackrest
  libcurl4-openssl-dev libpugixml-dev libssh2-1-dev
  # the storage servers the drivers are tested on, and the independent clients that read
  # what backrest wrote (issue 17): Ceph's radosgw for S3, Azurite (npm) for Azure, sshd for SFTP
  ceph-mon ceph-osd radosgw awscli azure-cli openssh-server openssh-client openssl
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  SUDO=sudo
else
  SUDO=
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
