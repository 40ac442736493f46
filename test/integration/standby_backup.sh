#!/usr/bin/env bash
# Backup from a streaming standby (backup-standby): the backup starts and stops on the primary,
# the relation files come from a standby made with pg_basebackup -R once it has replayed to the
# start. Under pgbench load on the primary, the backup restored and compared row for row; which
# server each kind of file came from, by bytes; prefer falls back to the primary when the standby
# is down, y refuses; a paused standby times out naming it; a standby promoted while the backup
# waits for it ends the backup with no backup listed.
set -u
SUITE=standby_backup
TEST_BACKREST_BIN=${TEST_BACKREST_BIN:-$(dirname "$0")/../../build/backrest}
source "$(dirname "$0")/lib.sh"
it_setup

it_primary 57220 "log-level-console=info" "process-max=2"
STANDBY=$IT_TMP/standby
SPORT=57221
pg2=(--pg2-path="$STANDBY" --pg2-socket-path="$IT_TMP" --pg2-port=$SPORT)
backups() { br info --output=json | grep -o '"label":"[^"]*"' | wc -l; }

must as_pg "$PGBIN/pgbench" -h "$IT_TMP" -p 57220 -U postgres -i -s 5 -q postgres
must as_pg "$PGBIN/pg_basebackup" -h "$IT_TMP" -p 57220 -U postgres -D "$STANDBY" -R -X stream -c fast
sed -i "s/^port = .*/port = $SPORT/" "$STANDBY/postgresql.conf"
echo "hot_standby = on" >>"$STANDBY/postgresql.conf"
# Files of one server only, to see by their bytes where the backup read each kind of file.
DBDIR=base/$(psql_at 57220 "SELECT oid FROM pg_database WHERE datname = 'postgres'")
for d in "$DATA" "$STANDBY"; do
    side=$([ "$d" == "$DATA" ] && echo primary || echo standby)
    as_pg sh -c "echo $side >'$d/$DBDIR/backrest_marker' && echo $side >'$d/backrest_marker'"
done
pg_start "$STANDBY"
expect_eq "the standby is in recovery" "$(psql_at $SPORT 'SELECT pg_is_in_recovery()')" "t"

# Options: y needs pg2.
expect_exit "backup-standby=y without pg2-path" 21 "$BR" --config="$CONF" --stanza=main backup --backup-standby=y
expect_contains "the refusal names pg2-path" "$OUT" "'pg2-path' is not set"
expect_exit "backup-standby=maybe is refused" 21 "$BR" --config="$CONF" --stanza=main backup --backup-standby=maybe
expect_contains "the refusal names the option" "$OUT" "backup-standby"
expect_exit "pg3-path is still refused" 21 "$BR" --config="$CONF" --stanza=main backup --pg3-path=/x

# Under load on the primary: the backup from the standby, then the primary's rows at a restore
# point after the load, restored from that backup.
"${PG_EXEC[@]}" "$PGBIN/pgbench" -h "$IT_TMP" -p 57220 -U postgres -c 2 -T 600 -n postgres >/dev/null 2>&1 &
BENCH=$!
expect_exit "backup --backup-standby (under pgbench load)" 0 "$BR" --config="$CONF" --stanza=main backup \
    --backup-standby "${pg2[@]}" --start-fast
expect_contains "the backup says it copies from the standby" "$OUT" "files from the standby pg2"
LOAD_TX=$(psql_at 57220 "SELECT count(*) FROM pgbench_history")
kill "$BENCH"
wait "$BENCH" 2>/dev/null
[ "$LOAD_TX" -gt 0 ] && pass "pgbench wrote during the backup ($LOAD_TX transactions)" || fail "pgbench wrote during the backup"
DIGEST="SELECT (SELECT count(*) || ':' || sum(abalance) FROM pgbench_accounts) || '/' || (SELECT count(*) || ':' || sum(delta) FROM pgbench_history) || '/' || (SELECT sum(bbalance) FROM pgbench_branches)"
WANT=$(psql_at 57220 "$DIGEST")
must psql_at 57220 "SELECT pg_create_restore_point('after_load')"
SEG=$(psql_at 57220 "SELECT pg_walfile_name(pg_switch_wal())")
for i in $(seq 1 240); do
    [ "$(psql_at 57220 "SELECT last_archived_wal >= '$SEG' FROM pg_stat_archiver")" == "t" ] && break
    sleep 0.5
done

R=$IT_TMP/restore-standby
restore standby 0 --type=name --target=after_load --target-action=promote
expect_eq "restored: the relation directory's files are the standby's" "$(cat "$R/$DBDIR/backrest_marker" 2>&1)" "standby"
expect_eq "restored: the data directory's own files are the primary's" "$(cat "$R/backrest_marker" 2>&1)" "primary"
expect_eq "restored: no standby.signal (the standby's own)" "$(test -e "$R/standby.signal" && echo present || echo absent)" "absent"
expect_eq "restored: no primary_conninfo (the standby's postgresql.auto.conf)" \
    "$(grep -c primary_conninfo "$R/postgresql.auto.conf")" "0"
sed -i "s/^port = .*/port = 57222/; s/^archive_mode = .*/archive_mode = off/" "$R/postgresql.conf"
pg_start "$R"
if wait_promoted 57222; then
    pass "restored from the standby's backup: recovery reached the restore point"
    expect_eq "restored rows equal the primary's at the restore point" "$(psql_at 57222 "$DIGEST")" "$WANT"
    expect_eq "restored: amcheck-free sanity, every account readable" \
        "$(psql_at 57222 "SELECT count(*) FROM pgbench_accounts WHERE aid > 0")" "500000"
else
    fail "restored from the standby's backup: recovery reached the restore point" "$(tail -20 "$R.log")"
fi
pg_stop "$R"

# pg1 the standby, pg2 the primary: backrest finds which is which, as pgBackRest does.
expect_exit "backup with pg1 the standby and pg2 the primary" 0 "$BR" --config="$CONF" --stanza=main backup \
    --backup-standby=y --pg1-path="$STANDBY" --pg1-port=$SPORT --pg2-path="$DATA" --pg2-port=57220 \
    --pg2-socket-path="$IT_TMP" --type=incr --start-fast
expect_contains "pg2 is taken as the primary" "$OUT" "primary pg2"

# A standby of another cluster (its own initdb, held in recovery by standby.signal alone): an
# error naming both system identifiers, with y and with prefer alike.
OTHER=$IT_TMP/other
pg_init "$OTHER" 57224
as_pg touch "$OTHER/standby.signal"
# A standby needs the settings its control file recorded at initdb (max_wal_senders 10).
echo "max_wal_senders = 10" >>"$OTHER/postgresql.conf"
pg_start "$OTHER"
for mode in y prefer; do
    expect_exit "backup-standby=$mode with a standby of another cluster" 31 "$BR" --config="$CONF" --stanza=main \
        backup --backup-standby=$mode --pg2-path="$OTHER" --pg2-socket-path="$IT_TMP" --pg2-port=57224 --start-fast
    expect_contains "$mode: the error says they are not one cluster" "$OUT" \
        "runs cluster $(psql_at 57224 "SELECT system_identifier FROM pg_control_system()") but the primary pg1"
done
pg_stop "$OTHER"

# The standby down: prefer backs up from the primary with a warning naming pg2; y refuses.
pg_stop "$STANDBY"
BEFORE=$(backups)
expect_exit "backup-standby=prefer with the standby down" 0 "$BR" --config="$CONF" --stanza=main backup \
    --backup-standby=prefer "${pg2[@]}" --type=incr --start-fast
expect_contains "prefer warns, naming pg2" "$OUT" "WARN: backup: backup-standby=prefer: the standby pg2 ($STANDBY, port $SPORT) is not usable"
expect_eq "prefer: the backup is listed" "$(backups)" "$((BEFORE + 1))"
expect_exit "backup-standby=y with the standby down" 31 "$BR" --config="$CONF" --stanza=main backup \
    --backup-standby=y "${pg2[@]}" --type=incr
expect_contains "y: the error names pg2" "$OUT" "backup-standby=y but the standby pg2 ($STANDBY, port $SPORT) is not usable: cannot connect"
expect_eq "y: no backup added" "$(backups)" "$((BEFORE + 1))"

# Replay paused: the backup waits for the standby until archive-timeout, naming it.
pg_start "$STANDBY"
must psql_at $SPORT "SELECT pg_wal_replay_pause()"
must psql_at 57220 "INSERT INTO pgbench_history (tid, bid, aid, delta, mtime) VALUES (1, 1, 1, 7, now())"
BEFORE=$(backups)
expect_exit "backup from a paused standby" 33 "$BR" --config="$CONF" --stanza=main backup \
    --backup-standby=y "${pg2[@]}" --archive-timeout=3 --start-fast
expect_contains "the timeout names the standby" "$OUT" "the standby pg2 (socket $IT_TMP port $SPORT) did not reach the backup's start LSN"
expect_contains "the timeout says replay is paused" "$OUT" "its WAL replay is paused"
expect_eq "paused: no backup added" "$(backups)" "$BEFORE"

# Promoted while the backup waits for it: a clear error, no backup listed.
"${PG_EXEC[@]}" "$BR" --config="$CONF" --stanza=main backup --backup-standby=y "${pg2[@]}" --archive-timeout=120 \
    --start-fast >"$IT_TMP/promoted.out" 2>&1 &
BACKUP=$!
waiting=0
for i in $(seq 1 600); do
    [ "$(psql_at $SPORT "SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%pg_last_wal_replay_lsn() >=%' AND pid <> pg_backend_pid()")" != "0" ] && { waiting=1; break; }
    sleep 0.1
done
expect_eq "the backup waits for the paused standby" "$waiting" "1"
must psql_at $SPORT "SELECT pg_promote()"
wait "$BACKUP"
RC=$?
expect_eq "promoted mid-backup: exit status" "$RC" "31"
expect_contains "promoted mid-backup: the error says so" "$(cat "$IT_TMP/promoted.out")" \
    "the standby pg2 (socket $IT_TMP port $SPORT) was promoted"
expect_eq "promoted mid-backup: no backup added" "$(backups)" "$BEFORE"

pg_stop "$STANDBY"  # promoted: it would archive its timeline 2 into the stanza

# Promoted during the copy: a second standby, the backup stopped (SIGSTOP) once it copies, the
# standby promoted, the backup resumed: the check after the copy refuses it, no backup listed.
STANDBY2=$IT_TMP/standby2
must as_pg "$PGBIN/pg_basebackup" -h "$IT_TMP" -p 57220 -U postgres -D "$STANDBY2" -R -X stream -c fast
sed -i "s/^port = .*/port = 57223/" "$STANDBY2/postgresql.conf"
pg_start "$STANDBY2"
# The standby's backrest session: its last query says where the backup is.
last_query() { psql_at 57223 "SELECT state || ':' || query FROM pg_stat_activity WHERE application_name = 'backrest' AND pid <> pg_backend_pid()"; }
copy_from_standby2() {  # output-file [option ...]
    local out=$1
    shift
    "${PG_EXEC[@]}" "$BR" --config="$CONF" --stanza=main backup --backup-standby=y --pg2-path="$STANDBY2" \
        --pg2-socket-path="$IT_TMP" --pg2-port=57223 --start-fast "$@" >"$out" 2>&1 &
    BACKUP=$!
}
wait_copying() {
    local i
    for i in $(seq 1 1200); do
        [[ "$(last_query)" == idle:*redo_lsn* ]] && return 0
        sleep 0.05
    done
    return 1
}
# kill -9 while copying from the standby: nothing listed; the next backup from it completes.
copy_from_standby2 "$IT_TMP/killed.out" --compress-level=19 --process-max=1
wait_copying && pass "kill -9: the backup copies from the standby" || fail "kill -9: the backup copies from the standby" "$(cat "$IT_TMP/killed.out")"
kill -9 "$BACKUP"
wait "$BACKUP" 2>/dev/null
expect_eq "kill -9: no backup added" "$(backups)" "$BEFORE"
expect_exit "after kill -9: the next backup from the standby" 0 "$BR" --config="$CONF" --stanza=main backup \
    --backup-standby=y --pg2-path="$STANDBY2" --pg2-socket-path="$IT_TMP" --pg2-port=57223 --start-fast
expect_contains "after kill -9: it copied from the standby" "$OUT" "files from the standby pg2"
BEFORE=$((BEFORE + 1))
expect_eq "after kill -9: the backup is listed" "$(backups)" "$BEFORE"

copy_from_standby2 "$IT_TMP/promoted-copy.out" --compress-level=19 --process-max=1
copying=0
wait_copying && copying=1
kill -STOP "$BACKUP"
# Stopped after the replay wait's last query and before the check after the copy.
expect_eq "the backup was stopped while copying from the standby" "$copying:$([[ "$(last_query)" == idle:*redo_lsn* ]] && echo copying)" "1:copying"
must psql_at 57223 "SELECT pg_promote()"
kill -CONT "$BACKUP"
wait "$BACKUP"
RC=$?
expect_eq "promoted during the copy: exit status" "$RC" "31"
expect_contains "promoted during the copy: the error names the standby and says the backup is not kept" \
    "$(cat "$IT_TMP/promoted-copy.out")" \
    "the standby pg2 (socket $IT_TMP port 57223) was promoted during the backup (it is no longer in recovery): its files may hold changes the primary's WAL does not; the backup is not kept"
expect_eq "promoted during the copy: no backup added" "$(backups)" "$BEFORE"
