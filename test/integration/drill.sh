#!/usr/bin/env bash
# Restore drills on a real cluster: a healthy repository's drill passes and info shows it (the
# row count of pgbench_accounts the primary's); a damaged btree index in the backed-up cluster
# fails the drill naming the index; a WAL segment missing from the archive fails it naming the
# segment; drill-path inside pg1-path or the repository is refused; the scratch directory is
# gone after every drill, and a drill killed with -9 (its server left running) is cleaned up by
# the next one, which a second drill at the same time is refused.
set -u
SUITE=drill
START=$SECONDS
stamp() { echo "# $((SECONDS - START)) s: $1"; }
TEST_BACKREST_BIN=${TEST_BACKREST_BIN:-$(dirname "$0")/../../build/backrest}
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_daemon.sh"
it_setup
trap 'stop_daemon; mountpoint -q "$IT_TMP/small" 2>/dev/null && umount "$IT_TMP/small"; it_finish' EXIT

DRILL=$IT_TMP/drill
SCRATCH=$DRILL/backrest-drill-main
# A drill's server left running by a failure of this suite is stopped by it_finish.
IT_SERVERS+=("$SCRATCH/data")
it_primary 57400 "start-fast=y" "drill-port=57401" "drill-path=$DRILL"
as_pg mkdir -p "$DRILL"

note() { printf '%s\n' "$OUT" | grep -E 'drill|ERROR' | head -4 | sed 's/^/    # /'; }
scratch_gone() {  # name
    expect_eq "$1: scratch directory removed" "$(test -e "$SCRATCH" && echo present || echo absent)" absent
}
last_drill() {  # jq filter on the newest drill of info --output=json
    br info --output=json | jq -r ".[0].drill[-1] | $1"
}
pgbench_at() { as_pg "$PGBIN/pgbench" -h "$IT_TMP" -p 57400 -U postgres "$@" bench >/dev/null 2>&1; }
# Every segment written so far archived: check switches WAL and waits for it.
archived() { must br check; }

must psql_at 57400 "CREATE DATABASE bench"
must pgbench_at -i -s 2
stamp "backup"
must br backup --type=full
stamp "backup done"
# After the backup: rows only the archive's WAL holds, and enough segments that recovery takes
# several restore_command calls.
as_pg "$PGBIN/psql" -X -h "$IT_TMP" -p 57400 -U postgres -d bench -Atq -c \
    "INSERT INTO pgbench_accounts SELECT aid, 1, 0, '' FROM generate_series(200001, 200777) aid" >/dev/null
for i in 1 2 3; do
    as_pg "$PGBIN/psql" -X -h "$IT_TMP" -p 57400 -U postgres -d bench -Atq -c \
        "UPDATE pgbench_accounts SET abalance = abalance + $i WHERE aid % 7 = 0" >/dev/null
    psql_at 57400 "SELECT pg_switch_wal()" >/dev/null
done
archived
PRIMARY_ROWS=$(as_pg "$PGBIN/psql" -X -h "$IT_TMP" -p 57400 -U postgres -d bench -Atq -c "SELECT count(*) FROM pgbench_accounts")

stamp "Refusals"
# --- Refusals: nothing restored, nothing recorded. ---
expect_exit "drill-path inside pg1-path refused" 21 "$BR" --config="$CONF" --stanza=main --drill-path="$DATA/drill" drill
expect_contains "drill-path inside pg1-path: the message names both" "$OUT" "option 'drill-path' ('$DATA/drill') is inside pg1-path ('$DATA')"
expect_exit "drill-path equal to the repository refused" 21 "$BR" --config="$CONF" --stanza=main --drill-path="$IT_TMP/repo" drill
expect_contains "drill-path the repository: named" "$OUT" "the same directory as repo1-path"
# A drill-path too small for the backup: refused by the size check, naming both sizes.
if [ "$(id -u)" -eq 0 ]; then
    as_pg mkdir -p "$IT_TMP/small"
    if mount -t tmpfs -o size=16m,uid="$(id -u postgres)",mode=0700 tmpfs "$IT_TMP/small"; then
        expect_exit "drill-path too small refused" 26 "$BR" --config="$CONF" --stanza=main --drill-path="$IT_TMP/small" drill
        expect_contains "drill-path too small: says what it has and needs" "$OUT" "free; a drill of backup"
        expect_eq "drill-path too small: nothing left in it" "$(ls -A "$IT_TMP/small" | grep -v '\.lock$' | wc -l)" 0
        umount "$IT_TMP/small"
    else
        fail "setup: unable to mount a tmpfs for the size check"
    fi
fi
# A read-only drill-path: an error naming it.
as_pg mkdir -p "$IT_TMP/readonly"
chmod 0555 "$IT_TMP/readonly"
expect_exit "read-only drill-path refused" 24 "$BR" --config="$CONF" --stanza=main --drill-path="$IT_TMP/readonly" drill
expect_contains "read-only drill-path: named" "$OUT" "$IT_TMP/readonly"
expect_exit "drill --type=standby refused" 21 "$BR" --config="$CONF" --stanza=main --type=standby drill
# The size check is a phase of a drill that ran: recorded, the only one so far.
expect_eq "refused drills: only the size check recorded" "$(br info --output=json | jq '.[0].drill | length')" "$([ "$(id -u)" -eq 0 ] && echo 1 || echo 0)"
if [ "$(id -u)" -eq 0 ]; then
    OUT=$("$BR" --config="$CONF" --stanza=main drill 2>&1)
    RC=$?
    expect_eq "drill as root refused (exit 21)" "$RC" 21
    expect_contains "drill as root: says why" "$OUT" "refusing to run as root"
fi

stamp "A healthy repository"
# --- A healthy repository: the drill passes and recovers every archived row. ---
expect_exit "healthy drill passes" 0 "$BR" --config="$CONF" --stanza=main drill
note
expect_contains "healthy drill: reached the end of the archive" "$OUT" "end of archive"
scratch_gone "healthy drill"
expect_eq "info json: drill passed" "$(last_drill .result)" passed
expect_eq "info json: pgbench_accounts rows equal the primary's ($PRIMARY_ROWS)" \
    "$(last_drill '."row-count"[] | select(.database == "bench" and .table == "public.pgbench_accounts") | .rows')" "$PRIMARY_ROWS"
expect_eq "info json: the backup drilled" "$(last_drill .backup.label)" "$(br info --output=json | jq -r '.[0].backup[-1].label')"
expect_eq "info json: end of archive reached" "$(last_drill '.target.reached."end-of-archive"')" true
expect_eq "info json: btree indexes checked (pgbench's 3 and the catalogs')" "$(last_drill '.checks."btree-indexes" > 3')" true
replayed=$(last_drill .wal.replayed)
expect_eq "info json: WAL segments replayed counted (>= 4: the backup's and 3 switches)" "$([ "$replayed" -ge 4 ] && echo yes || echo "no: $replayed")" yes
expect_eq "info json: every phase timed" "$(last_drill '.duration | keys | sort | join(",")')" "checks,plan,recovery,restore,start,stop"
OUT=$(br info)
expect_contains "info text: the drill shown" "$OUT" "last drill:"
expect_contains "info text: passed" "$OUT" "passed"
expect_contains "info text: the row count shown" "$OUT" "bench public.pgbench_accounts: $PRIMARY_ROWS rows"

stamp "Two drills at once refused; a drill killed with -9 cleaned up by the next. ---"
# --- Two drills at once refused; a drill killed with -9 cleaned up by the next. ---
"${PG_EXEC[@]}" "$BR" --config="$CONF" --stanza=main drill >"$IT_TMP/drill-a.out" 2>&1 &
DRILL_A=$!
for i in $(seq 1 3000); do
    [ -f "$SCRATCH/data/postmaster.pid" ] && break
    kill -0 $DRILL_A 2>/dev/null || break
    sleep 0.01
done
kill -STOP $DRILL_A 2>/dev/null
if [ -d "$SCRATCH/data" ]; then
    expect_exit "a second drill while one runs refused" 29 "$BR" --config="$CONF" --stanza=main drill
    expect_contains "second drill: says another drill runs" "$OUT" "another drill of this stanza is running"
    kill -9 $DRILL_A
    wait $DRILL_A 2>/dev/null
    expect_eq "killed drill: its scratch directory left behind" "$(test -d "$SCRATCH" && echo left)" left
    expect_exit "the drill after a killed one passes" 0 "$BR" --config="$CONF" --stanza=main drill
    expect_contains "the drill after a killed one: removed the leftover" "$OUT" "left by an earlier drill that did not finish"
    scratch_gone "drill after a killed one"
    expect_eq "no server of the killed drill left running" "$(pgrep -f "$SCRATCH/data" >/dev/null && echo running || echo none)" none
else
    kill -9 $DRILL_A 2>/dev/null
    fail "kill -9 mid-drill: the drill ended before it could be stopped" "$(cat "$IT_TMP/drill-a.out")"
fi

stamp "A WAL segment missing from the archive"
# A SIGTERM mid-drill: the drill stops its server, removes its directory, records the drill and
# exits 63. (Stopped first so that the signal lands while it runs, whatever the machine's speed.)
"${PG_EXEC[@]}" "$BR" --config="$CONF" --stanza=main drill >"$IT_TMP/drill-t.out" 2>&1 &
DRILL_T=$!
for i in $(seq 1 3000); do
    [ -f "$SCRATCH/data/postmaster.pid" ] && break
    kill -0 $DRILL_T 2>/dev/null || break
    sleep 0.01
done
kill -STOP $DRILL_T 2>/dev/null
if [ -d "$SCRATCH/data" ]; then
    kill -TERM $DRILL_T
    kill -CONT $DRILL_T
    wait $DRILL_T
    expect_eq "SIGTERM mid-drill: exit 63" "$?" 63
    expect_contains "SIGTERM mid-drill: says so" "$(cat "$IT_TMP/drill-t.out")" "terminated on signal SIGTERM"
    scratch_gone "SIGTERM mid-drill"
    expect_eq "SIGTERM mid-drill: its server stopped" "$(pgrep -f "$SCRATCH/data" >/dev/null && echo running || echo none)" none
    expect_eq "SIGTERM mid-drill: recorded as failed" "$(last_drill .result)" failed
else
    kill -9 $DRILL_T 2>/dev/null
    fail "SIGTERM mid-drill: the drill ended before it could be stopped" "$(cat "$IT_TMP/drill-t.out")"
fi

# --- A WAL segment missing from the archive: the drill fails naming it. ---
ARCHIVE_ID=$(br info --output=json | jq -r '.[0].archive[0].id')
STOP_SEG=$(br info --output=json | jq -r '.[0].backup[-1].archive.stop')
NEXT_SEG=$(printf '%s%08X' "${STOP_SEG:0:16}" $((16#${STOP_SEG:16:8} + 1)))
SEG_FILE=$(ls "$IT_TMP/repo/archive/main/$ARCHIVE_ID/${NEXT_SEG:0:16}/" 2>/dev/null | grep "^$NEXT_SEG-")
if [ -z "$STOP_SEG" ] || [ -z "$SEG_FILE" ]; then
    fail "setup: the segment after backup stop segment '$STOP_SEG' is not in the archive"
    exit 1
fi
as_pg mv "$IT_TMP/repo/archive/main/$ARCHIVE_ID/${NEXT_SEG:0:16}/$SEG_FILE" "$IT_TMP/$SEG_FILE"
expect_exit "drill with segment $NEXT_SEG missing fails" 23 "$BR" --config="$CONF" --stanza=main drill
note
expect_contains "missing segment: named" "$OUT" "$NEXT_SEG"
scratch_gone "missing-segment drill"
expect_eq "info json: the failed drill recorded" "$(last_drill .result)" failed
expect_contains "info json: the failure names the segment" "$(last_drill .error)" "$NEXT_SEG"
MISSING_ID=$(last_drill .id)
expect_eq "info json: the failed drill names its backup" "$(last_drill .backup.label)" "$(br info --output=json | jq -r '.[0].backup[-1].label')"
OUT=$(br info)
expect_contains "info text: the failed drill shown" "$OUT" "FAILED in plan"
# --force restores anyway (as restore's): recovery ends at the gap and promotes, and the drill's
# end-of-archive check fails it.
expect_exit "drill --force with $NEXT_SEG missing fails after recovery" 23 "$BR" --config="$CONF" --stanza=main --force drill
note
expect_contains "drill --force: recovery did not reach the end of the archive" "$OUT" "recovery did not reach the end of the archive"
expect_contains "drill --force: names the missing segment" "$OUT" "segment $NEXT_SEG is missing or unreadable"
expect_eq "drill --force: failed in recovery" "$(last_drill '."failed-phase"')" recovery
scratch_gone "drill --force with a missing segment"
MISSING_ID=$(last_drill .id)
as_pg mv "$IT_TMP/$SEG_FILE" "$IT_TMP/repo/archive/main/$ARCHIVE_ID/${NEXT_SEG:0:16}/$SEG_FILE"

stamp "A damaged btree index in the backed-up cluster"
# --- A damaged btree index in the backed-up cluster: amcheck names it. Checksums off, so the
# damage reaches amcheck as the page's bytes (with checksums on, reading the page fails first).
# Replay must not rewrite the damaged page: nothing may touch the index after the damage (no
# autovacuum of the table; its dead rows vacuumed now), or a full-page image in the backup's WAL
# would restore the page.
as_pg "$PGBIN/psql" -X -h "$IT_TMP" -p 57400 -U postgres -d bench -Atq -c "VACUUM pgbench_accounts" >/dev/null
as_pg "$PGBIN/psql" -X -h "$IT_TMP" -p 57400 -U postgres -d bench -Atq -c \
    "ALTER TABLE pgbench_accounts SET (autovacuum_enabled = false)" >/dev/null
IDX_FILE=$(as_pg "$PGBIN/psql" -X -h "$IT_TMP" -p 57400 -U postgres -d bench -Atq -c "SELECT pg_relation_filepath('pgbench_accounts_pkey')")
pg_stop "$DATA"
must as_pg "$PGBIN/pg_checksums" --disable -D "$DATA"
# Block 1 is the first leaf page: the 64 bytes of tuples (keys and headers) just before its
# 16-byte special area overwritten; a page's tuples always end there, however full it is.
as_pg python3 -c "
import sys
with open(sys.argv[1], 'r+b') as f:
    f.seek(8192 + 8192 - 16 - 64)
    f.write(b'\xff' * 64)
" "$DATA/$IDX_FILE"
pg_start "$DATA"
must br backup --type=full
archived
expect_exit "drill of a backup with a damaged index fails" 28 "$BR" --config="$CONF" --stanza=main drill
note
expect_contains "damaged index: named with its check" "$OUT" 'database "bench", relation public.pgbench_accounts_pkey: bt_index_check'
scratch_gone "damaged-index drill"
expect_eq "info json: the failure names the index" \
    "$(last_drill '.failures[] | select(.check == "bt_index_check") | .relation')" public.pgbench_accounts_pkey
ROOT_FIRST=""
[ "$(id -u)" -eq 0 ] && ROOT_FIRST="failed,"  # the size check's
expect_eq "info json: the drills kept, oldest first" "$(br info --output=json | jq -r '[.[0].drill[].result] | join(",")')" \
    "${ROOT_FIRST}passed,passed,failed,failed,failed,failed"

# --- metrics: the newest drill (failed) as backrest_drill_* series, as info has it ---
OUT=$(br metrics)
expect_contains "metrics: the newest drill failed" "$OUT" 'backrest_drill_last_success{stanza="main",repo="repo1"} 0'
DRILL_SECONDS=$(br info --output=json | jq -r '.[0].drill[-1].timestamp | .stop - .start')
expect_contains "metrics: its duration as info has it" "$OUT" \
    "backrest_drill_last_duration_seconds{stanza=\"main\",repo=\"repo1\"} $DRILL_SECONDS"

# --- The daemon's info (backrest_info()): each backup with its newest drill. ---
stamp "daemon info"
SOCK=$IT_TMP/sock/backrest.sock
as_pg mkdir -m 0700 "$IT_TMP/sock"
if start_daemon "$IT_TMP/daemon.log" --config="$CONF" --stanza=main --socket-path="$IT_TMP/sock"; then
    OUT=$(daemon_call '{"type":"info","id":1}' | grep '"id":1')
    expect_eq "daemon info: the damaged backup's newest drill failed" "$(printf '%s' "$OUT" | jq -r '.backups[-1].drill.result')" failed
    expect_eq "daemon info: the first backup's newest drill is the missing-segment one" \
        "$(printf '%s' "$OUT" | jq -r '.backups[0].drill | .id + " " + .result')" "$MISSING_ID failed"
    expect_eq "daemon info: the drill's end given" "$(printf '%s' "$OUT" | jq -r '.backups[-1].drill.stop > 0')" true
else
    fail "setup: the daemon did not start" "$(cat "$IT_TMP/daemon.log")"
fi
