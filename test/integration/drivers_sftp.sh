#!/usr/bin/env bash
# The per-driver scenarios and failure modes (lib_drivers.sh, lib_driver_faults.sh) against an
# SFTP repository on OpenSSH's sshd (scripts/test-servers/sshd.sh, key login on 127.0.0.1). The
# listing after every step is the server's own filesystem (the repository's directory under the
# SFTP user's root). "Stopping the server" kills sshd and every session; starting it again
# brings it back on the same port and host key.
set -u
SUITE=drivers_sftp
TEST_BACKREST_BIN=${TEST_BACKREST_BIN:-$(dirname "$0")/../../build/backrest}
HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/lib.sh"
source "$HERE/lib_drivers.sh"
it_setup
SSHD=$HERE/../../scripts/test-servers/sshd.sh
SSHD_DIR=$IT_TMP/sshd
SSHD_PORT=55917
trap 'bash "$SSHD" stop "$SSHD_DIR" >/dev/null 2>&1; it_finish' EXIT
if ! bash "$SSHD" start "$SSHD_DIR" "$SSHD_PORT" >"$IT_TMP/sshd.out" 2>&1; then
    fail "setup: sshd starts" "$(tail -5 "$IT_TMP/sshd.out")"
    exit 1
fi
source "$SSHD_DIR/sshd.env"
REPO=$SFTP_ROOT/drivers
cat >"$IT_TMP/repo-sftp.lines" <<LINES
repo1-type=sftp
repo1-path=$REPO
repo1-sftp-host=$SFTP_HOST
repo1-sftp-host-port=$SFTP_PORT
repo1-sftp-host-user=$SFTP_USER
repo1-sftp-private-key-file=$SFTP_PRIVATE_KEY
repo1-sftp-known-host=$SFTP_KNOWN_HOSTS
LINES

repo_list_all() {
    [ -d "$REPO" ] || return 0
    (cd "$REPO" && find . -type f | sed 's|^\./||')
}
sftp_stop() { bash "$SSHD" stop "$SSHD_DIR" >/dev/null 2>&1; }
sftp_start() { bash "$SSHD" start "$SSHD_DIR" "$SSHD_PORT" >>"$IT_TMP/sshd.out" 2>&1; }

DRV_PORT=55910 driver_scenarios sftp "$IT_TMP/repo-sftp.lines"
DRV_PORT=55910 driver_faults sftp "$IT_TMP/repo-sftp.lines" sftp_stop sftp_start
