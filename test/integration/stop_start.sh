#!/usr/bin/env bash
# stop / start and stanza-delete, as pgBackRest 2.45's: a stop file in lock-path makes backup,
# archive-push (WAL stays in pg_wal, archived once started again), archive-get (recovery stops:
# exit 255), expire and stanza-create refuse with LockAcquireError (29) naming the file; stop --force
# ends a running backup; stanza-delete needs the stop and PostgreSQL down (unless --force),
# removes only its stanza, and finishes when run again after an interruption.
set -u
SUITE=stop_start
TEST_BACKREST_BIN=${TEST_BACKREST_BIN:-$(dirname "$0")/../../build/backrest}
source "$(dirname "$0")/lib.sh"
it_setup

BG=
trap '[ -n "$BG" ] && kill -9 "$BG" 2>/dev/null; it_finish' EXIT

it_primary 57100
LOCK=$IT_TMP/lock
ARCHIVE=$IT_TMP/repo/archive/main
must br backup --type=full --start-fast
seg_count() { find "$ARCHIVE" -name '0000000*-*' | wc -l; }
ready_count() { ls "$DATA/pg_wal/archive_status" | grep -c '\.ready$'; }

# ---- stop for one stanza -----------------------------------------------------------------------
expect_exit "stop --stanza" 0 "$BR" --config="$CONF" --stanza=main stop
expect_eq "the stop file is <lock-path>/main.stop" "$(ls "$LOCK" | grep -c '^main\.stop$')" "1"
expect_exit "stop again: a warning, not an error" 0 "$BR" --config="$CONF" --stanza=main --log-level-console=warn stop
expect_contains "it says the stop file exists" "$OUT" "stop file already exists for stanza main"

expect_exit "backup refused while stopped" 29 "$BR" --config="$CONF" --stanza=main backup --type=full --start-fast
expect_contains "the error names the stop file" "$OUT" "[029] LockAcquireError: backup: stop file exists for stanza main ($LOCK/main.stop)"
expect_exit "expire refused while stopped" 29 "$BR" --config="$CONF" --stanza=main expire
expect_exit "stanza-create refused while stopped" 29 "$BR" --config="$CONF" --stanza=main stanza-create
expect_exit "archive-get stops recovery while stopped (255, not 'not found')" 255 \
    "$BR" --config="$CONF" --stanza=main archive-get 000000010000000000000001 "$IT_TMP/x"
expect_contains "archive-get says why" "$OUT" "LockAcquireError: archive-get: stop file exists"
OUT=$(as_pg "$BR" --config="$CONF" --stanza=other expire 2>&1)
expect_eq "another stanza is not stopped" "$(grep -c "stop file exists" <<<"$OUT")" "0"
expect_exit "info still runs" 0 "$BR" --config="$CONF" --stanza=main info
expect_exit "repo-ls still runs" 0 "$BR" --config="$CONF" --stanza=main repo-ls archive/main

# archive-push refused: PostgreSQL keeps the segment (.ready) and retries; nothing is lost.
BEFORE=$(seg_count)
must psql_at $PORT "CREATE TABLE t AS SELECT generate_series(1, 1000) AS i"
SEG=$(psql_at $PORT "SELECT pg_walfile_name(pg_current_wal_lsn())")
must psql_at $PORT "SELECT pg_switch_wal()"
for _ in $(seq 1 100); do
    [ "$(psql_at $PORT "SELECT failed_count > 0 FROM pg_stat_archiver")" = t ] && break
    sleep 0.2
done
expect_eq "the archiver's pushes fail while stopped" "$(psql_at $PORT "SELECT failed_count > 0 AND last_failed_wal = '$SEG' FROM pg_stat_archiver")" "t"
expect_eq "the segment stays ready in pg_wal" "$(ls "$DATA/pg_wal/archive_status" | grep -c "^$SEG\.ready$")" "1"
expect_eq "no segment reached the repository" "$(seg_count)" "$BEFORE"
expect_contains "the server log names the stop file" "$(cat "$DATA.log")" "stop file exists for stanza main"

expect_exit "start --stanza" 0 "$BR" --config="$CONF" --stanza=main start
expect_eq "the stop file is gone" "$(ls "$LOCK" | grep -c '\.stop$')" "0"
# A new segment wakes the archiver, which otherwise waits a minute after failures.
must psql_at $PORT "INSERT INTO t SELECT generate_series(1, 1000)"
must psql_at $PORT "SELECT pg_switch_wal()"
for _ in $(seq 1 150); do
    [ "$(psql_at $PORT "SELECT last_archived_wal >= '$SEG' FROM pg_stat_archiver")" = t ] && break
    sleep 0.2
done
expect_eq "after start the kept segment is archived" "$(find "$ARCHIVE" -name "$SEG-*" | wc -l)" "1"
expect_exit "start again: a warning" 0 "$BR" --config="$CONF" --stanza=main --log-level-console=warn start
expect_contains "it says there is no stop file" "$OUT" "stop file does not exist for stanza main"
expect_exit "backup runs again" 0 "$BR" --config="$CONF" --stanza=main backup --type=incr --start-fast

# ---- stop for all stanzas ----------------------------------------------------------------------
expect_exit "stop (all stanzas)" 0 "$BR" --config="$CONF" stop
expect_eq "the stop file is <lock-path>/all.stop" "$(ls "$LOCK" | grep -c '^all\.stop$')" "1"
expect_exit "backup refused" 29 "$BR" --config="$CONF" --stanza=main backup --type=incr --start-fast
expect_contains "for all stanzas" "$OUT" "stop file exists for all stanzas ($LOCK/all.stop); run 'backrest start'"
expect_exit "start --stanza does not lift the host's stop" 0 "$BR" --config="$CONF" --stanza=main start
expect_exit "still refused" 29 "$BR" --config="$CONF" --stanza=main expire
expect_exit "start (all stanzas)" 0 "$BR" --config="$CONF" start
expect_exit "expire runs again" 0 "$BR" --config="$CONF" --stanza=main expire

# ---- stop --force ends a running backup --------------------------------------------------------
# Its WAL cannot be archived (archive_command fails): the backup waits for it, holding its lock.
must psql_at $PORT "ALTER SYSTEM SET archive_command = 'false'"
must psql_at $PORT "SELECT pg_reload_conf()"
clear_stanza_lock "$LOCK/main-backup.lock"
"${PG_EXEC[@]}" "$BR" --config="$CONF" --stanza=main backup --type=incr --start-fast --archive-timeout=300 \
    >"$IT_TMP/bg.log" 2>&1 &
BG=$!
if wait_stanza_lock_held "$LOCK/main-backup.lock"; then
    expect_exit "stop --force" 0 "$BR" --config="$CONF" --stanza=main --force --log-level-console=info stop
    expect_contains "it names the backup's process" "$OUT" "sent term signal to process $BG"
    for _ in $(seq 1 50); do kill -0 "$BG" 2>/dev/null || break; sleep 0.1; done
    expect_eq "the backup ended" "$(kill -0 "$BG" 2>/dev/null && echo running || echo ended)" "ended"
else
    fail "the background backup never took its lock" "$(cat "$IT_TMP/bg.log")"
fi
kill -9 "$BG" 2>/dev/null
BG=
must psql_at $PORT "ALTER SYSTEM RESET archive_command"
must psql_at $PORT "SELECT pg_reload_conf()"
expect_exit "start after stop --force" 0 "$BR" --config="$CONF" --stanza=main start

# ---- the daemon (extension: archive_library = 'backrest') respects the stop -----------------------
# Uses the installed extension with this build's worker (the stop check is the worker's).
if [ "$(id -u)" -eq 0 ] && [ -f "$(pg_config --pkglibdir)/backrest.so" ]; then
    DDATA=$IT_TMP/daemon
    DCONF=$IT_TMP/daemon.conf
    DSOCK=$IT_TMP/dsock
    DPORT=57102
    printf '[global]\nrepo1-path=%s\nlock-path=%s\nspool-path=%s\n\n[dmn]\npg1-path=%s\npg1-socket-path=%s\npg1-port=%s\n' \
        "$IT_TMP/drepo" "$LOCK" "$IT_TMP/dspool" "$DDATA" "$IT_TMP" "$DPORT" >"$DCONF"
    chmod 0644 "$DCONF"
    pg_init "$DDATA" $DPORT
    ext_conf "$DDATA" dmn "$DCONF" "$DSOCK" \
        'backrest.archive_async = on'
    pg_start "$DDATA"
    must psql_at $DPORT "CREATE EXTENSION backrest"
    must psql_at $DPORT "SELECT backrest_stanza_create()"
    dseg_count() { find "$IT_TMP/drepo/archive/dmn" -name '0000000*-*' | wc -l; }
    expect_exit "stop --stanza=dmn" 0 "$BR" --config="$DCONF" --stanza=dmn stop
    sleep 1  # the read-ahead's last pass (every 50 ms) has ended
    DBEFORE=$(dseg_count)
    must psql_at $DPORT "CREATE TABLE t AS SELECT generate_series(1, 1000) AS i"
    DSEG=$(psql_at $DPORT "SELECT pg_walfile_name(pg_current_wal_lsn())")
    must psql_at $DPORT "SELECT pg_switch_wal()"
    for _ in $(seq 1 100); do
        [ "$(psql_at $DPORT "SELECT failed_count > 0 FROM pg_stat_archiver")" = t ] && break
        sleep 0.2
    done
    expect_eq "daemon: archive_library fails while stopped" "$(psql_at $DPORT "SELECT failed_count > 0 AND last_failed_wal = '$DSEG' FROM pg_stat_archiver")" "t"
    expect_eq "daemon: the segment stays ready in pg_wal" "$(ls "$DDATA/pg_wal/archive_status" | grep -c "^$DSEG\.ready$")" "1"
    expect_eq "daemon: no segment reached the repository" "$(dseg_count)" "$DBEFORE"
    expect_contains "daemon: the server log names the stop file" "$(cat "$DDATA.log")" "stop file exists for stanza dmn ($LOCK/dmn.stop)"
    OUT=$(psql_at $DPORT "SELECT backrest_backup()" 2>&1)
    expect_contains "daemon: backrest_backup() refused" "$OUT" "stop file exists for stanza dmn"
    expect_exit "start --stanza=dmn" 0 "$BR" --config="$DCONF" --stanza=dmn start
    must psql_at $DPORT "INSERT INTO t SELECT generate_series(1, 1000)"
    must psql_at $DPORT "SELECT pg_switch_wal()"
    for _ in $(seq 1 150); do
        [ "$(find "$IT_TMP/drepo/archive/dmn" -name "$DSEG-*" | wc -l)" = 1 ] && break
        sleep 0.2
    done
    expect_eq "daemon: after start the kept segment is archived" "$(find "$IT_TMP/drepo/archive/dmn" -name "$DSEG-*" | wc -l)" "1"
    pg_stop "$DDATA"
else
    echo "# skipped the daemon's stop: needs root and the extension installed"
fi

# ---- stanza-delete -----------------------------------------------------------------------------
# Another stanza whose name starts with this one's: a delete by prefix must never reach it.
as_pg mkdir -p "$IT_TMP/repo/archive/main-2/15-1" "$IT_TMP/repo/backup/main-2"
as_pg cp "$ARCHIVE/archive.info" "$IT_TMP/repo/archive/main-2/archive.info"
as_pg cp "$IT_TMP/repo/backup/main/backup.info" "$IT_TMP/repo/backup/main-2/backup.info"

expect_exit "stanza-delete without stop" 23 "$BR" --config="$CONF" --stanza=main stanza-delete
expect_contains "it asks for stop" "$OUT" "stop file does not exist for stanza 'main' ($LOCK/main.stop); run 'backrest stop --stanza=main'"
must br stop
expect_exit "stanza-delete with PostgreSQL running" 40 "$BR" --config="$CONF" --stanza=main stanza-delete
expect_contains "it names postmaster.pid" "$OUT" "$DATA/postmaster.pid exists - looks like PostgreSQL is running"
expect_eq "nothing was removed" "$(ls "$ARCHIVE" | grep -c '^archive\.info$')" "1"

# Interrupted after the info files went (kill -9 there): the stanza is unusable, and a new run
# finishes the job.
pg_stop "$DATA"
as_pg rm -f "$ARCHIVE/archive.info" "$ARCHIVE/archive.info.copy"
expect_exit "stanza-delete after an interruption" 0 "$BR" --config="$CONF" --stanza=main stanza-delete
expect_eq "archive/main and backup/main are gone" \
    "$(ls "$IT_TMP/repo/archive" "$IT_TMP/repo/backup" | grep -c '^main$')" "0"
expect_eq "main-2 is untouched" \
    "$(find "$IT_TMP/repo/archive/main-2" "$IT_TMP/repo/backup/main-2" -type f | wc -l)" "2"
expect_eq "the stop file is removed" "$(ls "$LOCK" | grep -c '\.stop$')" "0"
expect_exit "stanza-delete of a deleted stanza does nothing" 0 "$BR" --config="$CONF" --stanza=main stanza-delete
expect_exit "info: the stanza is gone" 0 "$BR" --config="$CONF" --stanza=main --output=json info
expect_contains "missing stanza path" "$OUT" '"status":{"code":'

# --force deletes while PostgreSQL runs (the stop is still required).
pg_start "$DATA"
must br stanza-create
must br stop
expect_exit "stanza-delete --force with PostgreSQL running" 0 "$BR" --config="$CONF" --stanza=main --force stanza-delete
expect_eq "the stanza is gone" "$(ls "$IT_TMP/repo/archive" | grep -c '^main$')" "0"
