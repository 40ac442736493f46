#!/usr/bin/env bash
# The per-driver scenarios (lib_drivers.sh) and failure modes (lib_driver_faults.sh) against a
# posix repository: proves the library on the driver every build has. "Stopping the server" is
# taking the repository directory's permissions away from postgres (chmod 000), and giving them
# back. The S3, Azure and SFTP suites run the same two functions against their servers.
set -u
SUITE=drivers_posix
TEST_BACKREST_BIN=${TEST_BACKREST_BIN:-$(dirname "$0")/../../build/backrest}
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_drivers.sh"
it_setup
if [ "$(id -u)" -ne 0 ]; then
    fail "setup: the drivers suites run as root (the extension's daemon, the server's permissions)"
    exit 1
fi

REPO=$IT_TMP/repo
printf 'repo1-path=%s\n' "$REPO" >"$IT_TMP/repo-posix.lines"
as_pg mkdir -p "$REPO"

posix_stop() { chmod 000 "$REPO"; }
posix_start() { chmod 0750 "$REPO"; }

DRV_PORT=55920 driver_scenarios posix "$IT_TMP/repo-posix.lines"
DRV_PORT=55920 driver_faults posix "$IT_TMP/repo-posix.lines" posix_stop posix_start
