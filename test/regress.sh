#!/usr/bin/env bash
# Runs the extension's pg_regress suite (sql/backrest.sql against expected/backrest.out) on a
# temporary instance with backrest preloaded, archiving through it and a private repository.
# Usage: test/regress.sh [build dir]. Needs root: it installs the extension into the server
# and runs the instance as postgres. Ends with "regress: N passed, N failed" and appends
# "N M" to $IT_RESULTS when set (test/run-all.sh sums the suites that way).
set -u
BUILD=${1:-build}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
case "$BUILD" in /*) ;; *) BUILD="$ROOT/$BUILD" ;; esac
PG_CONFIG=${PG_CONFIG:-pg_config}
PORT=${REGRESS_PORT:-55470}
# The daemon binary: test/run-all.sh exports TEST_BACKREST_BIN; else the build directory's.
BIN=${TEST_BACKREST_BIN:-$BUILD/backrest}

report() {  # passed failed
    echo "regress: $1 passed, $2 failed"
    [ -n "${IT_RESULTS:-}" ] && echo "$1 $2" >>"$IT_RESULTS"
    [ "$2" -eq 0 ]
}

if [ "$(id -u)" -ne 0 ]; then
    echo "regress: must run as root: it installs the extension into $($PG_CONFIG --pkglibdir) and runs" \
         "the temporary instance as the postgres user"
    report 0 1
    exit 1
fi
if [ ! -x "$BIN" ]; then
    echo "regress: $BIN is missing: build the worker first (make worker)"
    report 0 1
    exit 1
fi
PG_REGRESS="$(dirname "$($PG_CONFIG --pgxs)")/../test/regress/pg_regress"
if [ ! -x "$PG_REGRESS" ]; then
    echo "regress: $PG_REGRESS is missing (install postgresql-server-dev-15)"
    report 0 1
    exit 1
fi

if ! make --no-print-directory -C extension PG_CONFIG="$PG_CONFIG" install >/dev/null; then
    echo "regress: installing the extension failed (make -C extension install)"
    report 0 1
    exit 1
fi

TMP=$(mktemp -d /tmp/backrest-regress.XXXXXX)
cleanup() {
    if [ -n "${REGRESS_KEEP:-}" ]; then echo "# kept $TMP"; else rm -rf "$TMP"; fi
}
trap cleanup EXIT
chmod 0755 "$TMP"
mkdir -p "$TMP/bin" "$TMP/repo" "$TMP/lock" "$TMP/out" "$TMP/input"
# postgres must be able to read the suite and run the binary whatever the checkout's permissions.
cp -r sql expected "$TMP/input/"
cp "$BIN" "$TMP/bin/backrest"
chmod 0755 "$TMP/bin/backrest"
cat >"$TMP/backrest.conf" <<CONF
[global]
repo1-path=$TMP/repo
lock-path=$TMP/lock
spool-path=$TMP/spool
CONF
cat >"$TMP/regress.conf" <<CONF
shared_preload_libraries = 'backrest'
archive_mode = on
archive_library = 'backrest'
backrest.stanza = 'regress'
backrest.config = '$TMP/backrest.conf'
backrest.worker_path = '$TMP/bin/backrest'
backrest.socket_directory = '$TMP/sock'
unix_socket_directories = '$TMP'
listen_addresses = ''
CONF
chown -R postgres:postgres "$TMP"

log="$TMP/pg_regress.log"
runuser -u postgres -- "$PG_REGRESS" --temp-instance="$TMP/instance" --temp-config="$TMP/regress.conf" \
    --inputdir="$TMP/input" --outputdir="$TMP/out" --bindir="$($PG_CONFIG --bindir)" --port="$PORT" \
    backrest 2>&1 | tee "$log"
status=${PIPESTATUS[0]}

passed=$(grep -cE '\.\.\. ok|^ok [0-9]' "$log")
failed=$(grep -cE '\.\.\. FAILED|\.\.\. failed|^not ok [0-9]' "$log")
# pg_regress failing before any test ran (instance did not start...) is still a failure.
if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then failed=1; fi
if [ "$failed" -ne 0 ]; then
    [ -f "$TMP/out/regression.diffs" ] && cat "$TMP/out/regression.diffs"
    if [ -f "$TMP/out/log/postmaster.log" ]; then
        echo "== last lines of the server log"
        tail -n 60 "$TMP/out/log/postmaster.log"
    fi
fi
report "$passed" "$failed"
