#!/usr/bin/env bash
# backup-standby refuses a standby of a fork: a copy of the primary started as a primary keeps
# its system identifier and timeline 1 and writes its own WAL; a standby of that copy, caught up
# past the backup's start (and not past the primary's flushed WAL), passes every identity check
# but the comparison of WAL bytes before the start. The backup ends naming pg2 and the segment
# that differs, and no backup is listed.
set -u
SUITE=standby_fork
TEST_BACKREST_BIN=${TEST_BACKREST_BIN:-$(dirname "$0")/../../build/backrest}
source "$(dirname "$0")/lib.sh"
it_setup

it_primary 57365 "log-level-console=info" "process-max=2"
FORK=$IT_TMP/fork
STANDBY=$IT_TMP/standby
lsn() { psql_at "$1" "SELECT pg_current_wal_insert_lsn()"; }
backups() { br info --output=json | grep -o '"label":"[^"]*"' | wc -l; }
# WAL of `bytes` on the server at `port`, flushed (the commit after it flushes it too).
write_wal() {  # port bytes
    must psql_at "$1" "SELECT pg_logical_emit_message(false, 'fork', repeat('x', $2))"
    must psql_at "$1" "INSERT INTO t VALUES ($2)"
}
must psql_at 57365 "CREATE TABLE t (n bigint)"

# The fork: a copy of the primary started alone (no standby.signal), not archiving.
must as_pg "$PGBIN/pg_basebackup" -h "$IT_TMP" -p 57365 -U postgres -D "$FORK" -X stream -c fast
sed -i "s/^port = .*/port = 57366/; s/^archive_mode = .*/archive_mode = off/" "$FORK/postgresql.conf"
pg_start "$FORK"
expect_eq "the fork is a primary" "$(psql_at 57366 'SELECT pg_is_in_recovery()')" "f"
expect_eq "the fork has the primary's system identifier" \
    "$(as_pg "$PGBIN/pg_controldata" "$FORK" | grep 'system identifier')" \
    "$(as_pg "$PGBIN/pg_controldata" "$DATA" | grep 'system identifier')"
# A standby of the fork (its base backup switches the fork to a new segment), with a slot: the
# fork keeps the WAL it has not streamed yet.
must as_pg "$PGBIN/pg_basebackup" -h "$IT_TMP" -p 57366 -U postgres -D "$STANDBY" -R -C -S pg2 -X stream -c fast
sed -i "s/^port = .*/port = 57367/" "$STANDBY/postgresql.conf"
pg_start "$STANDBY"
expect_eq "pg2 is a standby" "$(psql_at 57367 'SELECT pg_is_in_recovery()')" "t"
expect_eq "pg2 is on timeline 1, as the primary" \
    "$(psql_at 57367 'SELECT timeline_id FROM pg_control_checkpoint()')" \
    "$(psql_at 57365 'SELECT timeline_id FROM pg_control_checkpoint()')"

# 1. pg2 replayed past the end of the primary's WAL (the fork's base backup for pg2 switched it
# to a later segment than the primary's): refused on the LSNs alone.
BEFORE=$(backups)
expect_exit "backup from pg2 replayed past the primary's WAL" 31 "$BR" --config="$CONF" --stanza=main backup --backup-standby=y \
    --pg2-path="$STANDBY" --pg2-socket-path="$IT_TMP" --pg2-port=57367 --start-fast --archive-timeout=60
expect_contains "past the end: the error names pg2 and the primary's end of WAL" "$OUT" \
    "the standby pg2 (socket $IT_TMP port 57367) does not replay the primary pg1's WAL: it replayed to"
expect_contains "past the end: the reason" "$OUT" "past the end of the primary's WAL"
expect_eq "past the end: no backup listed" "$(backups)" "$BEFORE"

# 2. The primary's WAL ahead of the fork's: the backup's start (pg_backup_start switches to a new
# segment) is past the end of what pg2 replayed until the fork is made to write up to 4 KiB past
# it, not past the primary's flushed WAL, so only the bytes of the start's segment tell.
for i in $(seq 1 10); do
    [ "$(psql_at 57365 "SELECT pg_walfile_name('$(lsn 57365)') < pg_walfile_name('$(lsn 57366)')")" == t ] || break
    must psql_at 57365 "SELECT pg_switch_wal()"
    must psql_at 57365 "INSERT INTO t VALUES (0)"
done
write_wal 57365 2000000
[ "$(psql_at 57365 "SELECT pg_walfile_name('$(lsn 57365)') = pg_walfile_name('$(lsn 57366)')")" == t ] &&
    [ "$(psql_at 57365 "SELECT '$(lsn 57365)'::pg_lsn > '$(lsn 57366)'::pg_lsn")" == t ] &&
    pass "the primary's WAL is ahead of the fork's in one segment" ||
    fail "the primary's WAL is ahead of the fork's in one segment" "$(lsn 57365) $(lsn 57366)"
REDO=$(psql_at 57365 "SELECT redo_lsn FROM pg_control_checkpoint()")
"${PG_EXEC[@]}" "$BR" --config="$CONF" --stanza=main backup --backup-standby=y --pg2-path="$STANDBY" \
    --pg2-socket-path="$IT_TMP" --pg2-port=57367 --start-fast --archive-timeout=30 >"$IT_TMP/backup.out" 2>&1 &
BACKUP=$!
# The backup's start LSN is the redo point of the checkpoint pg_backup_start made.
START=
for i in $(seq 1 200); do
    START=$(psql_at 57365 "SELECT redo_lsn FROM pg_control_checkpoint()")
    [ "$START" != "$REDO" ] && break
    sleep 0.1
done
[ "$START" != "$REDO" ] && pass "the backup started on the primary ($START)" || fail "the backup started" "$(cat "$IT_TMP/backup.out")"
# The primary writes on past the start; the fork (and so pg2) to 4 KiB past it, with a checkpoint
# there for pg2's restartpoint.
write_wal 57365 500000
write_wal 57366 $(($(psql_at 57366 "SELECT ('$START'::pg_lsn - pg_current_wal_insert_lsn())::bigint") + 4096))
must psql_at 57366 "CHECKPOINT"
wait "$BACKUP"
RC=$?
OUT=$(cat "$IT_TMP/backup.out")
expect_eq "the backup from a standby of a fork fails (DbMismatch)" "$RC" "31"
expect_contains "the error names pg2 and the WAL segment whose bytes differ" "$OUT" \
    "the standby pg2 (socket $IT_TMP port 57367) does not replay the primary pg1's WAL: its copy of WAL segment"
expect_contains "the error names pg2's copy of the segment" "$OUT" "('$STANDBY/pg_wal/"
expect_contains "the error says what to do" "$OUT" "point pg2-* at a standby of the primary"
expect_eq "no backup listed" "$(backups)" "$BEFORE"
expect_eq "the primary is not left in backup mode" \
    "$(psql_at 57365 "SELECT pg_backup_start('probe', true) IS NOT NULL; SELECT 1 FROM pg_backup_stop(false)" 2>&1 | tail -1)" "1"
