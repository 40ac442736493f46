#!/usr/bin/env bash
# Repository code uses only what an object store offers (issue 17): no rename, no directories, no
# fsync of a path. A streamed WAL segment is gathered in spool-path and written to the repository
# whole, under its final name, once complete; a daemon killed mid-segment leaves its spool file,
# which the next one removes, and nothing in the repository. After streamed WAL, a backup killed
# and resumed, and expire, a posix repository holds no temporary file.
set -u
SUITE=object_store_ready
TEST_BACKREST_BIN=${TEST_BACKREST_BIN:-$(dirname "$0")/../../build/backrest}
SRC=$(cd "$(dirname "$0")/../.." && pwd)
source "$(dirname "$0")/lib.sh"
it_setup

# --- the code: nothing outside the data directory's writers uses a posix-only operation -------
# (worker/restore*.cpp write the data directory, which stays on PosixStorage; the spool is local.
# src/command/backup holds the backup's orchestration, moved out of src/repo in issue 19.)
HITS=$(cd "$SRC" && grep -nE '(\.|->)(move|pathCreate|pathSync)\(' src/repo/*.cpp src/command/*/*.cpp \
    worker/*.cpp |
    grep -vE '^worker/restore[a-z_]*\.cpp:')
expect_eq "no repository code calls move, pathCreate or pathSync" "$HITS" ""
# Made, not handed in: the data directory's PosixStorage is passed to the patching writers. The
# local directories aside: the stream's spool (wal_spool), archive-get's spool (wal_get_spool)
# and pg_wal/archive_status, where a drop record waits for the repository (wal_dropped).
HITS=$(cd "$SRC" && grep -nE 'PosixStorage(>|\{| +[A-Za-z_][A-Za-z0-9_]*[({])' src/repo/*.cpp \
    src/command/*/*.cpp |
    grep -vE '^src/repo/(wal_spool|wal_get_spool|wal_dropped)\.cpp:')
expect_eq "no repository code makes a PosixStorage of its own (the local spools and pg_wal aside)" "$HITS" ""

# --- a cluster, and a daemon streaming its WAL ------------------------------------------------
SPOOL=$IT_TMP/spool
it_primary 55820 "spool-path=$SPOOL"
must br stanza-create
SOCKDIR=$IT_TMP/sock
DAEMON=""
start_daemon() {  # log
    # setpriv execs the daemon as postgres in this very process, so $! is the daemon itself.
    setpriv --reuid=postgres --regid=postgres --init-groups -- "$BR" --config="$CONF" --stanza=main \
        --socket-path="$SOCKDIR" --archive-async=y --log-level-console=info serve >"$1" 2>&1 &
    DAEMON=$!
    for _ in $(seq 1 200); do grep -q 'WAL stream: started' "$1" 2>/dev/null && return 0; sleep 0.05; done
    fail "the daemon's WAL stream starts" "$(cat "$1")"
}
trap '[ -n "$DAEMON" ] && kill -9 $DAEMON 2>/dev/null; it_finish' EXIT
repo_temporaries() { find "$IT_TMP/repo" \( -name '*.tmp' -o -name '*.stream.*' \) -printf '%P\n' | sort; }
spooled() { find "$SPOOL" -maxdepth 1 -type f -printf '%f\n' 2>/dev/null | sort; }

start_daemon "$IT_TMP/daemon1.log"
must psql_at $PORT "CREATE TABLE t AS SELECT g, md5(g::text) AS h FROM generate_series(1, 20000) g"
# The stream writes what the server flushed: wait until the spool has the segment's bytes.
SEG=$(psql_at $PORT "SELECT pg_walfile_name(pg_current_wal_flush_lsn())")
for _ in $(seq 1 100); do [ -n "$(spooled)" ] && [ "$(stat -c %s "$SPOOL/$(spooled | head -1)")" -gt 0 ] && break; sleep 0.05; done
FIRST=$(spooled)
expect_contains "the segment being streamed is in spool-path" "$FIRST" "main-$SEG.stream.$DAEMON."
expect_eq "and nothing of it is in the repository" "$(repo_temporaries)" ""
expect_eq "nor is the segment stored yet" "$(find "$IT_TMP/repo/archive" -name "$SEG-*" | wc -l)" "0"

# Killed mid-segment: its spool file stays, the repository has nothing half-written.
kill -9 $DAEMON
wait $DAEMON 2>/dev/null
DAEMON=""
expect_eq "a daemon killed mid-segment leaves its spool file" "$(spooled)" "$FIRST"
expect_eq "and nothing in the repository" "$(repo_temporaries)" ""
start_daemon "$IT_TMP/daemon2.log"
for _ in $(seq 1 100); do grep -q 'removed spool file' "$IT_TMP/daemon2.log" && break; sleep 0.05; done
expect_contains "the next daemon removes it, naming it" "$(cat "$IT_TMP/daemon2.log")" \
    "removed spool file '$SPOOL/$FIRST', left by a WAL stream that ended with its process"
expect_eq "the dead daemon's spool file is gone" "$([ -e "$SPOOL/$FIRST" ] && echo present || echo gone)" "gone"

# Segments completed by the stream are stored whole, under their checksum, and the spool empties.
must psql_at $PORT "INSERT INTO t SELECT g, md5(g::text) FROM generate_series(1, 20000) g"
STREAMED=$(psql_at $PORT "SELECT pg_walfile_name(pg_current_wal_flush_lsn())")
must psql_at $PORT "SELECT pg_switch_wal()"
for _ in $(seq 1 200); do [ -n "$(find "$IT_TMP/repo/archive" -name "$STREAMED-*.zst")" ] && break; sleep 0.05; done
expect_eq "the streamed segment $STREAMED is stored once, named by its checksum" \
    "$(find "$IT_TMP/repo/archive" -name "$STREAMED-*" -printf '%f\n' | grep -cE "^$STREAMED-[0-9a-f]{64}\.zst$")" "1"
expect_eq "the spool holds only the segment now streaming" "$(spooled | grep -vc "\.stream\.$DAEMON\." | tr -d ' ')" "0"
expect_eq "archive-get gives back its bytes" \
    "$(br archive-get "$STREAMED" "$IT_TMP/got" >/dev/null && cmp -s "$IT_TMP/got" "$DATA/pg_wal/$STREAMED" && echo same)" "same"

# --- backup killed and resumed, then expire --------------------------------------------------
must as_pg "$PGBIN/pgbench" -h "$IT_TMP" -p $PORT -U postgres -i -s 3 -q postgres
# Flushed, and a second older than the backup's start: files a resume may take over.
must psql_at $PORT "CHECKPOINT"
sleep 1.1
"${PG_EXEC[@]}" "$BR" --config="$CONF" --stanza=main backup --type=full \
    --start-fast --process-max=1 --compress-level=12 --repo1-bundle=n >/dev/null 2>&1 &
KILLED=$!
JOURNAL=""
for _ in $(seq 1 6000); do
    JOURNAL=$(find "$IT_TMP/repo/backup/main" -name backup.resume 2>/dev/null | head -1)
    [ -n "$JOURNAL" ] && [ "$(cat "$JOURNAL"* | wc -l)" -gt 12 ] && break
    sleep 0.02
done
kill -9 $KILLED 2>/dev/null
wait $KILLED 2>/dev/null
OUT=$(br backup --type=full --start-fast --log-level-console=info 2>&1)
expect_contains "the next full backup resumes the killed one" "$OUT" "resuming interrupted backup"
TAKEN=$(printf '%s' "$OUT" | sed -n 's/.* \([0-9]*\) files taken from interrupted backup.*/\1/p')
expect_eq "it takes files over (${TAKEN:-0}), copied as they are verified" "$((${TAKEN:-0} > 0))" "1"
expect_eq "one backup directory: the killed one went whole" \
    "$(find "$IT_TMP/repo/backup/main" -mindepth 1 -maxdepth 1 -type d -name '2*' | wc -l)" "1"
must psql_at $PORT "SELECT pg_switch_wal()"
must br backup --type=full --start-fast
must br expire --repo1-retention-full=1
expect_eq "expire keeps one backup" "$(find "$IT_TMP/repo/backup/main" -mindepth 1 -maxdepth 1 -type d -name '2*' | wc -l)" "1"
expect_exit "verify finds every file good" 0 "$BR" --config="$CONF" --stanza=main verify

expect_eq "after streamed WAL, a resumed backup and expire: no temporary file in the repository" \
    "$(repo_temporaries)" ""
