#!/usr/bin/env bash
# archive-push-queue-max (issue 21): with the repository unwritable, WAL queues in pg_wal until the
# limit, then each next segment is dropped with an ERROR naming it, the queue and the limit, and
# reported archived, so PostgreSQL keeps running and pg_wal stops growing. info and check say
# point-in-time recovery cannot cross the gap (from the records waiting in pg_wal, then from the
# repository once it takes writes again); archiving resumes; a backup taken after the drop
# restores exactly. The same through archive_library (the daemon).
set -u
SUITE=push_queue_max
TEST_BACKREST_BIN=${TEST_BACKREST_BIN:-$(dirname "$0")/../../build/backrest}
source "$(dirname "$0")/lib.sh"
it_setup

LIMIT_SEGMENTS=3  # 48MiB of 16MiB segments
it_primary 57240 "archive-push-queue-max=48MiB"
ARCHIVE=$IT_TMP/repo/archive/main
ready_count() { ls "$1/pg_wal/archive_status" | grep -c '\.ready$'; }
pending_count() { ls "$1/pg_wal/archive_status" | grep -c '\.backrest-dropped$'; }
# One new segment with content: a row, then a switch.
new_segment() {  # port
    psql_at "$1" "INSERT INTO t SELECT generate_series(1, 100); SELECT pg_switch_wal()" >/dev/null
}
# Waits (up to 90 s) until pg_wal holds at most `n` ready segments.
wait_ready_at_most() {  # datadir n
    for _ in $(seq 1 450); do
        [ "$(ready_count "$1")" -le "$2" ] && return 0
        sleep 0.2
    done
    return 1
}
rows_md5() { psql_at "$1" "SELECT count(*) || ':' || md5(string_agg(i::text, ',' ORDER BY i)) FROM t"; }

must psql_at $PORT "CREATE TABLE t (i int)"
must br backup --type=full --start-fast
B1=$(br info --output=json | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["backup"][-1]["label"])')
expect_exit "check passes before anything is dropped" 0 "$BR" --config="$CONF" --stanza=main check
OUT=$(br info --output=json)
expect_eq "info: nothing dropped (archive[].dropped is null)" \
    "$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])[0]["archive"][0]["dropped"])' "$OUT")" "None"

# ---- the repository refuses writes: WAL queues, then is dropped at the limit -------------------
# The segment after the last one archived: the oldest waiting, so the first to be dropped.
next_segment() { python3 -c 'import sys; n=sys.argv[1]; print(n[:16] + "%08X" % (int(n[16:], 16) + 1))' "$1"; }
# Drops so far, as the server log says (the source the records must agree with).
drops_logged() { grep -c "ERROR: $2: dropped WAL segment" "$1.log"; }
first_dropped() { grep -o "ERROR: $2: dropped WAL segment [0-9A-F]*" "$1.log" | head -1 | awk '{print $NF}'; }
FIRST=$(next_segment "$(psql_at $PORT "SELECT last_archived_wal FROM pg_stat_archiver")")
chmod -R a-w "$ARCHIVE"
for _ in $(seq 1 8); do new_segment $PORT; sleep 0.3; done
wait_ready_at_most "$DATA" $LIMIT_SEGMENTS
expect_eq "pg_wal keeps at most the limit's segments ready (8 switched)" \
    "$([ "$(ready_count "$DATA")" -le $LIMIT_SEGMENTS ] && echo yes || echo "no: $(ready_count "$DATA")")" "yes"
LOG=$(cat "$DATA.log")
expect_eq "the first ERROR names the oldest waiting segment" "$(first_dropped "$DATA" archive-push)" "$FIRST"
expect_contains "the ERROR says what it costs" "$LOG" \
    "ERROR: archive-push: dropped WAL segment $FIRST without archiving it: the archive queue in pg_wal is"
expect_contains "... and that PITR cannot go past it" "$LOG" \
    "PostgreSQL is told it was archived, so point-in-time recovery cannot go past $FIRST until a new backup is taken"
expect_contains "it names the queue and the limit" "$LOG" \
    "more than archive-push-queue-max 48.0 MiB (50331648 bytes)"
DROPPED=$(drops_logged "$DATA" archive-push)
expect_eq "at least 8 - $LIMIT_SEGMENTS segments were dropped" "$([ "$DROPPED" -ge 5 ] && echo yes || echo "no: $DROPPED")" "yes"
expect_eq "PostgreSQL was told the first dropped segment was archived" \
    "$(psql_at $PORT "SELECT last_archived_wal >= '$FIRST' FROM pg_stat_archiver")" "t"
expect_eq "nothing dropped reached the repository" "$(find "$ARCHIVE" -name "$FIRST-*" | wc -l)" "0"
expect_eq "each drop's record waits in pg_wal/archive_status" "$(pending_count "$DATA")" "$DROPPED"
expect_exit "the primary keeps accepting writes" 0 "$PGBIN/psql" -X -h "$IT_TMP" -p $PORT -U postgres -Atqc "INSERT INTO t VALUES (0)"

# info and check on the database host see the waiting records.
expect_exit "check fails: PITR is broken" 35 "$BR" --config="$CONF" --stanza=main --archive-timeout=5 check
DROPPED=$(drops_logged "$DATA" archive-push)  # check's own switch queued one more
expect_contains "check says why" "$OUT" "$DROPPED WAL segments ($FIRST to"
expect_contains "check says what to do" "$OUT" "dropped by archive-push-queue-max and no backup taken since: point-in-time recovery cannot go past $FIRST; take a backup"
expect_exit "info (text)" 0 "$BR" --config="$CONF" --stanza=main info
expect_contains "info: the gap" "$OUT" "wal dropped (archive-push-queue-max): $DROPPED segments, $FIRST to"
expect_contains "info: no backup since" "$OUT" "no backup since: point-in-time recovery cannot go past $FIRST until a new backup"
expect_contains "info: the backup before the drop stops before it" "$OUT" "warning: WAL from $FIRST was dropped (archive-push-queue-max): recovery from this backup stops before it"

# ---- the repository takes writes again: archiving resumes, the records are carried over --------
chmod -R u+w "$ARCHIVE"
new_segment $PORT
wait_ready_at_most "$DATA" 0
expect_eq "archiving resumed: no segment left ready" "$(ready_count "$DATA")" "0"
# The queue was still at the limit when the repository came back: pgBackRest's rule (measure,
# then push) may drop one more before the first push succeeds. The log stays the reference.
DROPPED=$(drops_logged "$DATA" archive-push)
expect_eq "the records left pg_wal" "$(pending_count "$DATA")" "0"
expect_eq "the records are in the repository" "$(ls "$ARCHIVE/dropped" | grep -c '^15-1-')" "$DROPPED"
# From the repository alone (no pg1-path: as on another host).
printf '[global]\nrepo1-path=%s\n' "$IT_TMP/repo" >"$IT_TMP/repo-only.conf"
chmod 0644 "$IT_TMP/repo-only.conf"
OUT=$(as_pg "$BR" --config="$IT_TMP/repo-only.conf" --stanza=main info --output=json 2>&1)
expect_eq "info JSON: archive[].dropped" \
    "$(python3 -c 'import json,sys; d=json.loads(sys.argv[1])[0]["archive"][0]["dropped"]; print(d["count"], d["first"], d["backup-after"])' "$OUT")" \
    "$DROPPED $FIRST None"
expect_eq "info JSON: backup[].wal-dropped of the backup before" \
    "$(python3 -c 'import json,sys; b=json.loads(sys.argv[1])[0]["backup"][0]; print(b["label"], b["wal-dropped"]["first"], b["wal-dropped"]["inside-backup"])' "$OUT")" \
    "$B1 $FIRST False"
expect_exit "check still fails until a backup" 35 "$BR" --config="$CONF" --stanza=main check
expect_exit "verify: the gap is a warning, as any missing WAL" 0 "$BR" --config="$CONF" --stanza=main verify
expect_contains "verify names the gap from the first dropped segment" "$OUT" "warning: WAL gap: $FIRST to"
expect_contains "verify says the gap was dropped by the limit" "$OUT" "of its segments dropped by archive-push-queue-max, recorded in $IT_TMP/repo/archive/main/dropped"
# A restore from the backup before the drop cannot reach the end of the archive: refused, never a
# cluster that ends recovery at the gap and promotes with older data.
restore before-drop 23 --set="$B1"
expect_contains "the refusal names the gap and the drop" "$OUT" "WAL segment $FIRST is missing from archive 15-1, though"
expect_contains "... and that it cannot be put back" "$OUT" "(archive-push-queue-max dropped it: it cannot be put back; restore a backup taken after the drop)"
absent before-drop

# ---- a backup after the drop restores whole ----------------------------------------------------
must br backup --type=full --start-fast
B2=$(br info --output=json | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["backup"][-1]["label"])')
expect_exit "check passes again" 0 "$BR" --config="$CONF" --stanza=main check
expect_exit "info (text) after the backup" 0 "$BR" --config="$CONF" --stanza=main info
expect_contains "info: restores from the new backup on are whole" "$OUT" "restores from backup $B2 on recover whole"
OUT=$(br info --output=json)
expect_eq "info JSON: the new backup is whole, backup-after names it" \
    "$(python3 -c 'import json,sys; s=json.loads(sys.argv[1])[0]; print(s["backup"][-1]["wal-dropped"], s["archive"][0]["dropped"]["backup-after"])' "$OUT")" \
    "None $B2"
must psql_at $PORT "INSERT INTO t SELECT generate_series(1000, 1100)"
must psql_at $PORT "SELECT pg_switch_wal()"
wait_ready_at_most "$DATA" 0
WANT=$(rows_md5 $PORT)
restore latest 0 --set="$B2"
RPORT=57241
if [ "$RC" -eq 0 ]; then
    sed -i -e "s/^port = .*/port = $RPORT/" "$IT_TMP/restore-latest/postgresql.conf"
    echo "archive_mode = off" >>"$IT_TMP/restore-latest/postgresql.conf"
    pg_start "$IT_TMP/restore-latest"
    wait_promoted $RPORT || fail "the restored cluster never finished recovery"
    expect_eq "the restore from the backup after the drop has every row" "$(rows_md5 $RPORT)" "$WANT"
    pg_stop "$IT_TMP/restore-latest"
fi

# ---- another cluster pushing into this stanza by mistake: its drops never reach the stanza ------
# Its pushes fail (system identifier), its WAL queues and is dropped at the limit, but the record
# stays in its own pg_wal: a repository of another cluster never receives it.
ODATA=$IT_TMP/other
OPORT=57243
pg_archiving "$ODATA" $OPORT "$(archive_push_to "$BR" "$CONF" main)"
must psql_at $OPORT "CREATE TABLE t (i int)"
RECORDS_BEFORE=$(ls "$ARCHIVE/dropped" | wc -l)
for _ in $(seq 1 6); do new_segment $OPORT; sleep 0.3; done
wait_ready_at_most "$ODATA" $LIMIT_SEGMENTS
expect_contains "the other cluster's pushes are refused" "$(cat "$ODATA.log")" "DbMismatchError"
ODROPPED=$(drops_logged "$ODATA" archive-push)
expect_eq "the other cluster dropped past the limit" "$([ "$ODROPPED" -ge 1 ] && echo yes || echo no)" "yes"
expect_eq "its records stay in its own pg_wal" "$(pending_count "$ODATA")" "$ODROPPED"
expect_eq "the stanza's records are unchanged" "$(ls "$ARCHIVE/dropped" | wc -l)" "$RECORDS_BEFORE"
pg_stop "$ODATA"

# ---- the daemon (archive_library = 'backrest') drops the same way ------------------------------
if [ "$(id -u)" -eq 0 ] && [ -f "$(pg_config --pkglibdir)/backrest.so" ]; then
    DDATA=$IT_TMP/daemon
    DCONF=$IT_TMP/daemon.conf
    DPORT=57242
    DARCHIVE=$IT_TMP/drepo/archive/dmn
    printf '[global]\nrepo1-path=%s\nlock-path=%s\nspool-path=%s\narchive-push-queue-max=48MiB\n\n[dmn]\npg1-path=%s\npg1-socket-path=%s\npg1-port=%s\n' \
        "$IT_TMP/drepo" "$IT_TMP/lock" "$IT_TMP/dspool" "$DDATA" "$IT_TMP" "$DPORT" >"$DCONF"
    chmod 0644 "$DCONF"
    pg_init "$DDATA" $DPORT
    ext_conf "$DDATA" dmn "$DCONF" "$IT_TMP/dsock"
    pg_start "$DDATA"
    must psql_at $DPORT "CREATE EXTENSION backrest"
    must psql_at $DPORT "SELECT backrest_stanza_create()"
    must psql_at $DPORT "CREATE TABLE t (i int)"
    new_segment $DPORT
    wait_ready_at_most "$DDATA" 0
    DFIRST=$(next_segment "$(psql_at $DPORT "SELECT last_archived_wal FROM pg_stat_archiver")")
    chmod -R a-w "$DARCHIVE"
    for _ in $(seq 1 8); do new_segment $DPORT; sleep 0.3; done
    wait_ready_at_most "$DDATA" $LIMIT_SEGMENTS
    expect_eq "daemon: pg_wal keeps at most the limit's segments ready" \
        "$([ "$(ready_count "$DDATA")" -le $LIMIT_SEGMENTS ] && echo yes || echo "no: $(ready_count "$DDATA")")" "yes"
    expect_eq "daemon: the first ERROR names the oldest waiting segment" "$(first_dropped "$DDATA" serve)" "$DFIRST"
    expect_contains "daemon: the ERROR names the queue and the limit" "$(cat "$DDATA.log")" \
        "ERROR: serve: dropped WAL segment $DFIRST without archiving it: the archive queue in pg_wal is"
    expect_eq "daemon: every ERROR is past the limit" \
        "$(grep "ERROR: serve: dropped" "$DDATA.log" | grep -vcE "is [0-9.]+ MiB \(([6-9][0-9]{7}|[0-9]{9,}) bytes\), more than archive-push-queue-max 48.0 MiB \(50331648 bytes\)")" "0"
    DDROPPED=$(drops_logged "$DDATA" serve)
    expect_eq "daemon: the records wait in pg_wal" "$(pending_count "$DDATA")" "$DDROPPED"
    expect_eq "daemon: PostgreSQL was told the dropped segment was archived" \
        "$(psql_at $DPORT "SELECT last_archived_wal >= '$DFIRST' FROM pg_stat_archiver")" "t"
    chmod -R u+w "$DARCHIVE"
    new_segment $DPORT
    wait_ready_at_most "$DDATA" 0
    expect_eq "daemon: archiving resumed" "$(ready_count "$DDATA")" "0"
    DDROPPED=$(drops_logged "$DDATA" serve)
    expect_eq "daemon: the records are in the repository" "$(ls "$DARCHIVE/dropped" 2>/dev/null | grep -c '^15-1-')" "$DDROPPED"
    OUT=$(as_pg "$BR" --config="$DCONF" --stanza=dmn info --output=json 2>&1)
    expect_eq "daemon: info JSON counts the drops from $DFIRST" \
        "$(python3 -c 'import json,sys; d=json.loads(sys.argv[1])[0]["archive"][0]["dropped"]; print(d["count"], d["first"])' "$OUT")" \
        "$DDROPPED $DFIRST"
    pg_stop "$DDATA"
else
    fail "the daemon part needs root and the installed extension"
fi
