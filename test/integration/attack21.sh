#!/usr/bin/env bash
# Issue 21's standby backup, async archive-get and archive-push-queue-max attacked from outside, as
# a DBA's first month would:
#   1. spool copies damaged in the middle (valid header and size) planted for every segment a
#      running recovery needs: never replayed, recovery reaches the end with the primary's rows;
#   2. the spool on a file system too small for two segments: recovery still completes; a spool
#      directory postgres cannot write: recovery stops (exit > 125) naming it;
#   3. a backup from a standby of a cluster with a tablespace (the standby's tablespace elsewhere
#      on this host), restored with --tablespace-map: the tablespace's bytes are the standby's,
#      rows equal the primary's;
#   4. pg2 the same cluster's standby on another timeline, or a standby of a copy of the primary
#      started as a primary (same system identifier and timeline, its own WAL): refused naming
#      pg2, nothing written (the second was backed up as the primary's);
#   5. archive-push's drop record written but PostgreSQL never told (the push answered failure),
#      then the segment archived for real: info, check and verify must not claim a gap.
# Defects found on main and fixed: 1 (PostgreSQL took the damaged copy's bad CRC for the end of
# WAL and promoted with the backup's rows only), 4 (the fork's standby was backed up; a refused
# backup left its directory), 5 (info and check claimed the gap, check exited 35).
# Ports 57290-57299.
set -u
SUITE=attack21
TEST_BACKREST_BIN=${TEST_BACKREST_BIN:-$(dirname "$0")/../../build/backrest}
source "$(dirname "$0")/lib.sh"
it_setup

HOLDER=
SMALL=$IT_TMP/smallspool
FULL=$IT_TMP/fullspool
# it_finish removes IT_TMP: the small file system is unmounted first.
trap 'for d in "${IT_SERVERS[@]}"; do [ -f "$d/postmaster.pid" ] && as_pg "$PGBIN/pg_ctl" -D "$d" -m immediate -w stop >/dev/null 2>&1; done
      [ -n "$HOLDER" ] && kill "$HOLDER" $(pgrep -P "$HOLDER") 2>/dev/null
      pkill -f -- "--spool-path=$FULL" 2>/dev/null
      for m in "$SMALL" "$FULL"; do mountpoint -q "$m" 2>/dev/null && umount -l "$m"; done; it_finish' EXIT

it_primary 57290 "log-level-console=warn" "process-max=2"
REPO=$IT_TMP/repo
ARCHIVE=$REPO/archive/main/15-1
LOCK=$IT_TMP/lock/main-archive-get.lock
fingerprint() {  # port
    psql_at "$1" "SELECT count(*) || ':' || md5(string_agg(id || phase, ',' ORDER BY id, phase)) FROM t"
}
wait_archived() {  # port segment
    local i
    for i in $(seq 1 240); do
        [ "$(psql_at "$1" "SELECT coalesce(last_archived_wal >= '$2', false) FROM pg_stat_archiver")" == "t" ] && return 0
        sleep 0.5
    done
    return 1
}
backups() { br info --output=json | grep -o '"label":"[^"]*"' | wc -l; }

must psql_at 57290 "CREATE TABLE t (id int, phase text)"
must br backup --type=full --start-fast
for i in $(seq 1 12); do
    must psql_at 57290 "INSERT INTO t SELECT $i, md5(g::text) FROM generate_series(1, 300) g"
    LAST=$(psql_at 57290 "SELECT pg_walfile_name(pg_switch_wal())")
done
wait_archived 57290 "$LAST" || fail "setup: the primary archived $LAST"
PRIMARY=$(fingerprint 57290)

# ---- 1. damaged spool copies while recovery runs -----------------------------------------------
# take() checked the header (cluster, address) and the size, not the bytes after: a copy damaged
# past the header (disk, a stray write) was handed to PostgreSQL, which takes a record whose CRC
# fails for the end of WAL, ends recovery there and promotes with older data. Every segment the
# recovery needs is planted damaged at byte 64 (its first record); the fetcher is kept out
# (its lock held) so the plants stay until recovery asks.
SPOOL=$IT_TMP/spool
ASYNC=(--archive-async=y "--spool-path=$SPOOL" --archive-get-queue-max=64MiB)
IN=$SPOOL/archive/main/in
R1=$IT_TMP/damaged
expect_exit "restore for the damaged spool" 0 "$BR" --config="$CONF" --stanza=main --pg1-path="$R1" restore \
    "${ASYNC[@]}" --log-level-console=warn --target-action=promote
sed -i "s/^port = .*/port = 57291/; s/^archive_mode = .*/archive_mode = off/" "$R1/postgresql.conf"
as_pg touch "$LOCK"
"${PG_EXEC[@]}" flock -o "$LOCK" sleep 600 &
HOLDER=$!
for i in $(seq 1 100); do flock -n "$LOCK" true || break; sleep 0.1; done
# The first ask claims the spool for this cluster (it empties a spool it does not own).
as_pg bash -c "cd '$R1' && '$BR' --config='$CONF' --stanza=main ${ASYNC[*]} archive-get 00000001000000000000FFFF pg_wal/probe" >/dev/null 2>&1
as_pg mkdir -p "$IT_TMP/good"
as_pg "$BR" --config="$CONF" --stanza=main archive-get "$LAST" "$IT_TMP/good/$LAST" >/dev/null 2>&1
# By hand first: a copy cut short is not served.
SEG=$LAST
head -c 8388608 "$IT_TMP/good/$SEG" >"$IN/$SEG"
chown postgres:postgres "$IN/$SEG"
OUT=$(as_pg bash -c "cd '$R1' && '$BR' --config='$CONF' --stanza=main ${ASYNC[*]} --log-level-console=warn archive-get $SEG pg_wal/RECOVERYXLOG" 2>&1)
expect_contains "a spool copy cut short is refused by name" "$OUT" "WAL segment $SEG in the spool ('$IN/$SEG') has 8388608 bytes"
expect_eq "... and the repository's bytes served" "$(cmp "$R1/pg_wal/RECOVERYXLOG" "$IT_TMP/good/$SEG" && echo same)" "same"
rm -f "$R1/pg_wal/RECOVERYXLOG"
PLANTED=0
# The segments after the backup's: a damaged one of these ends recovery early, in silence.
STOP=$(br info --output=json | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["backup"][-1]["archive"]["stop"])')
for f in $(ls "$ARCHIVE/0000000100000000" | grep -E '^[0-9A-F]{24}-' | cut -c1-24 | awk -v s="$STOP" '$1 > s'); do
    as_pg "$BR" --config="$CONF" --stanza=main archive-get "$f" "$IT_TMP/good/$f" >/dev/null 2>&1 || continue
    cp "$IT_TMP/good/$f" "$IN/$f"
    printf 'damaged!' | dd of="$IN/$f" bs=1 seek=64 conv=notrunc 2>/dev/null
    # The repository's checksum beside it, as the fetcher publishes it: damaged after the fetch.
    sha256sum "$IT_TMP/good/$f" | cut -c1-64 | tr -d '\n' >"$IN/$f.sha256"
    chown postgres:postgres "$IN/$f" "$IN/$f.sha256"
    PLANTED=$((PLANTED + 1))
done
[ "$PLANTED" -ge 12 ] && pass "damaged copies planted in the spool ($PLANTED)" || fail "damaged copies planted" "$PLANTED"
IT_SERVERS+=("$R1")
as_pg "$PGBIN/pg_ctl" -D "$R1" -l "$R1.log" -w -t 120 start >/dev/null 2>&1
if wait_promoted 57291; then pass "damaged spool: recovery ended and promoted"; else fail "damaged spool: promoted" "$(tail -20 "$R1.log")"; fi
expect_eq "damaged spool: rows equal the primary's (no WAL lost to a damaged copy)" "$(fingerprint 57291)" "$PRIMARY"
expect_eq "damaged spool: no record taken for the end of WAL" "$(grep -c 'incorrect resource manager data checksum\|invalid record length\|invalid magic number' "$R1.log")" "0"
expect_contains "damaged spool: each copy refused by name" "$(cat "$R1.log")" \
    "WAL segment $LAST in the spool ('$IN/$LAST') does not match the repository's checksum"
pg_stop "$R1"
# A spool directory postgres cannot write (root's): archive-get stops recovery (exit > 125, never
# 1, which would end it), naming the directory, and writes nothing to %p.
mkdir -p "$IT_TMP/root-spool"
chmod 0755 "$IT_TMP/root-spool"
OUT=$(as_pg bash -c "cd '$R1' && '$BR' --config='$CONF' --stanza=main --archive-async=y --spool-path='$IT_TMP/root-spool' archive-get $LAST pg_wal/RECOVERYXLOG" 2>&1)
RC=$?
expect_eq "an unwritable spool: archive-get stops recovery (exit > 125)" "$([ $RC -gt 125 ] && echo yes || echo "no: $RC")" "yes"
expect_contains "... naming the spool directory" "$OUT" "$IT_TMP/root-spool/archive/main/in"
expect_eq "... nothing written to %p" "$(test -e "$R1/pg_wal/RECOVERYXLOG" && echo written)" ""
kill "$HOLDER" $(pgrep -P "$HOLDER") 2>/dev/null
wait "$HOLDER" 2>/dev/null
HOLDER=
rm -rf "$SPOOL"

# ---- 2. a spool too small for the read-ahead -----------------------------------------------------
# A 20 MiB tmpfs holds one segment: the fetcher's next write fails (ENOSPC). Recovery must
# neither stop nor end early: a segment the fetcher could not spool is fetched directly.
as_pg mkdir -p "$SMALL"
if mount -t tmpfs -o size=20m,uid=$(id -u postgres),gid=$(id -g postgres),mode=0700 tmpfs "$SMALL" 2>/dev/null; then
    R2=$IT_TMP/small
    expect_exit "restore with the spool on a 20 MiB file system" 0 "$BR" --config="$CONF" --stanza=main \
        --pg1-path="$R2" restore --archive-async=y "--spool-path=$SMALL" --archive-get-queue-max=64MiB \
        --log-level-console=warn --target-action=promote
    sed -i "s/^port = .*/port = 57292/; s/^archive_mode = .*/archive_mode = off/" "$R2/postgresql.conf"
    pg_start "$R2"
    if wait_promoted 57292; then pass "small spool: recovery ended and promoted"; else fail "small spool: promoted" "$(tail -20 "$R2.log")"; fi
    expect_eq "small spool: rows equal the primary's" "$(fingerprint 57292)" "$PRIMARY"
    expect_eq "small spool: PostgreSQL never saw a failed restore_command" \
        "$(grep -c 'could not restore file\|restore_command.*failed\|FATAL' "$R2.log")" "0"
    pg_stop "$R2"
    for i in $(seq 1 240); do [ -z "$(pgrep -f -- "--spool-path=$SMALL")" ] && break; sleep 0.5; done
    expect_eq "small spool: the fetcher ended and left it empty" "$(find "$SMALL" -type f | wc -l)" "0"
else
    echo "# skipped the small spool: tmpfs cannot be mounted here"
fi

# ---- 2b. a spool with no byte free ---------------------------------------------------------------
# CI met it: the fetcher's next segment filled the spool just as archive-get wrote its record of
# the segment asked for; that write's ENOSPC stopped recovery. The record is a hint: archive-get
# must warn and fetch directly. And a fetcher that cannot even record a failed fetch must stop
# and empty the spool (an exception on its fetching thread aborted it, leaving its files).
as_pg mkdir -p "$FULL"
if mount -t tmpfs -o size=20m,uid=$(id -u postgres),gid=$(id -g postgres),mode=0700 tmpfs "$FULL" 2>/dev/null; then
    R3=$IT_TMP/fullrestore
    FIN=$FULL/archive/main/in
    expect_exit "restore for the full spool" 0 "$BR" --config="$CONF" --stanza=main --pg1-path="$R3" restore \
        --log-level-console=warn
    FULL_GET=("$BR" --config="$CONF" --stanza=main --archive-async=y "--spool-path=$FULL")
    # The spool is claimed and the segment after the first read ahead, then the rest filled.
    SEG2=000000010000000000000002 SEG3=000000010000000000000003 SEG5=000000010000000000000005
    OUT=$(cd "$R3" && as_pg "${FULL_GET[@]}" --archive-get-queue-max=16MiB archive-get $SEG2 pg_wal/RECOVERYXLOG 2>&1)
    expect_eq "full spool: the first segment is served" "$?:$(test -s "$R3/pg_wal/RECOVERYXLOG" && echo written)" "0:written"
    for i in $(seq 1 240); do [ -f "$FIN/$SEG3" ] && break; sleep 0.25; done
    expect_eq "full spool: the next one was read ahead" "$(test -f "$FIN/$SEG3" && echo yes)" "yes"
    pkill -9 -f -- "--spool-path=$FULL"
    as_pg dd if=/dev/zero of="$FULL/filler" bs=64k >/dev/null 2>&1
    expect_eq "full spool: no byte free" "$(df --output=avail -B1 "$FULL" | tail -1 | tr -d ' ')" "0"
    rm -f "$R3/pg_wal/RECOVERYXLOG"
    OUT=$(cd "$R3" && as_pg "${FULL_GET[@]}" --archive-get-queue-max=64MiB archive-get $SEG5 pg_wal/RECOVERYXLOG 2>&1)
    RC=$?
    expect_eq "full spool: a segment not spooled is still served (exit 0)" "$RC" "0"
    expect_contains "... with a warning naming the asked record" "$OUT" "did not take the record of WAL segment $SEG5"
    SYNC=$(cd "$R3" && as_pg "$BR" --config="$CONF" --stanza=main archive-get $SEG5 pg_wal/REFERENCE 2>&1 && sha256sum < "$R3/pg_wal/REFERENCE")
    expect_eq "... its bytes are the archive's" "$(sha256sum < "$R3/pg_wal/RECOVERYXLOG")" "$SYNC"
    # The fetcher started for it reads ahead 6 and 7, cannot write them nor their failure: it
    # stops and empties the spool, which frees it.
    for i in $(seq 1 240); do [ -z "$(pgrep -f -- "--spool-path=$FULL")" ] && break; sleep 0.25; done
    expect_eq "full spool: the fetcher that could not record a failure ended" "$(pgrep -f -- "--spool-path=$FULL")" ""
    expect_eq "... and emptied the spool" "$(find "$FULL/archive" -type f 2>/dev/null | wc -l)" "0"
    expect_eq "... no core file left" "$(find "$R3" "$FULL" -name 'core*' | wc -l)" "0"
    umount -l "$FULL"
else
    echo "# skipped the full spool: tmpfs cannot be mounted here"
fi

# ---- 3. a standby backup of a cluster with a tablespace ----------------------------------------
# The standby, on this host, keeps the tablespace elsewhere (pg_basebackup --tablespace-mapping):
# the backup must read the tablespace's contents through the standby's own pg_tblspc link and
# record the primary's location; the restore maps it to a third place.
TS=$IT_TMP/ts-primary
TSS=$IT_TMP/ts-standby
TSR=$IT_TMP/ts-restore
STANDBY=$IT_TMP/standby
as_pg mkdir -p "$TS"
must psql_at 57290 "CREATE TABLESPACE ts LOCATION '$TS'"
must psql_at 57290 "CREATE TABLE tt (id int, v text) TABLESPACE ts"
must psql_at 57290 "INSERT INTO tt SELECT g, md5(g::text) FROM generate_series(1, 20000) g"
must psql_at 57290 "CREATE INDEX tt_id ON tt (id) TABLESPACE ts"
must as_pg "$PGBIN/pg_basebackup" -h "$IT_TMP" -p 57290 -U postgres -D "$STANDBY" -R -X stream -c fast \
    "--tablespace-mapping=$TS=$TSS"
sed -i "s/^port = .*/port = 57293/" "$STANDBY/postgresql.conf"
echo "hot_standby = on" >>"$STANDBY/postgresql.conf"
TSOID=$(psql_at 57290 "SELECT oid FROM pg_tablespace WHERE spcname = 'ts'")
DBOID=$(psql_at 57290 "SELECT oid FROM pg_database WHERE datname = 'postgres'")
TSDB=$(cd "$TS" && ls -d PG_15_*)/$DBOID
# A file of each server's own in the tablespace: which one the backup read, by its bytes.
as_pg sh -c "echo primary >'$TS/$TSDB/backrest_marker'"
as_pg sh -c "echo standby >'$TSS/$TSDB/backrest_marker'"
pg_start "$STANDBY"
expect_eq "the standby's tablespace link is its own" "$(readlink "$STANDBY/pg_tblspc/$TSOID")" "$TSS"
must psql_at 57290 "UPDATE tt SET v = v || 'x' WHERE id % 7 = 0"
expect_exit "backup from the standby with a tablespace" 0 "$BR" --config="$CONF" --stanza=main backup \
    --backup-standby=y --pg2-path="$STANDBY" --pg2-socket-path="$IT_TMP" --pg2-port=57293 --start-fast \
    --log-level-console=info
expect_contains "... it copied from the standby" "$OUT" "files from the standby pg2"
TDIGEST="SELECT count(*) || ':' || md5(string_agg(id || v, ',' ORDER BY id)) FROM tt"
WANT_TT=$(psql_at 57290 "$TDIGEST")
SEG=$(psql_at 57290 "SELECT pg_walfile_name(pg_switch_wal())")
wait_archived 57290 "$SEG" || fail "setup: the primary archived $SEG"
MANIFEST=$(ls -d "$REPO/backup/main"/*F | tail -1)/backup.manifest
expect_contains "the manifest records the primary's tablespace location" "$(as_pg "$BR" --config="$CONF" --stanza=main repo-get "backup/main/$(basename "$(dirname "$MANIFEST")")/backup.manifest" 2>&1)" "$TS"
R3=$IT_TMP/restore-ts
expect_exit "restore with --tablespace-map" 0 "$BR" --config="$CONF" --stanza=main --pg1-path="$R3" restore \
    "--tablespace-map=ts=$TSR" --target-action=promote
expect_eq "restored: the tablespace link points at the mapped place" "$(readlink "$R3/pg_tblspc/$TSOID")" "$TSR"
expect_eq "restored: the tablespace's files are the standby's" "$(cat "$TSR/$TSDB/backrest_marker" 2>&1)" "standby"
expect_eq "restored: the primary's tablespace untouched" "$(cat "$TS/$TSDB/backrest_marker")" "primary"
expect_eq "restored: the standby's tablespace untouched" "$(cat "$TSS/$TSDB/backrest_marker")" "standby"
sed -i "s/^port = .*/port = 57294/; s/^archive_mode = .*/archive_mode = off/" "$R3/postgresql.conf"
pg_start "$R3"
if wait_promoted 57294; then
    pass "restored from the standby's backup with a tablespace: promoted"
    expect_eq "restored: the tablespace's rows equal the primary's" "$(psql_at 57294 "$TDIGEST")" "$WANT_TT"
    expect_eq "restored: the index in the tablespace agrees" \
        "$(psql_at 57294 "SET enable_seqscan = off; SELECT count(*) FROM tt WHERE id BETWEEN 100 AND 199")" "100"
    expect_eq "restored: the table lives in the mapped tablespace" \
        "$(psql_at 57294 "SELECT pg_tablespace_location(oid) FROM pg_tablespace WHERE spcname = 'ts'")" "$TSR"
else
    fail "restored from the standby's backup with a tablespace: promoted" "$(tail -20 "$R3.log")"
fi
pg_stop "$R3"

# ---- 4. pg2 the same cluster's standby on another timeline, or of a fork ------------------------
# 4a. A standby of the primary promoted (timeline 2, not archiving), and a standby of that one:
# same system identifier, in recovery, past the primary's LSN. It does not follow pg1: refused
# naming pg2 and both timelines, nothing of the attempt left in the repository.
# 4b. A copy of the primary started as a primary (pg_basebackup without -R: crash recovery from
# its backup_label, no new timeline) writes its own WAL on timeline 1; a standby of it has the
# primary's system identifier AND timeline. The backup took its files as the primary's (found
# here; fixed: the standby's WAL before the start must be the primary's, byte for byte).
fork_standby() {  # name fork-port standby-port promote(y/n)
    local fork=$IT_TMP/$1 standby=$IT_TMP/$1-standby
    local mapping=(--tablespace-mapping="$TS=$IT_TMP/ts-$1")
    # -X fetch: one sender (the primary allows two, the standby holds one).
    must as_pg "$PGBIN/pg_basebackup" -h "$IT_TMP" -p 57290 -U postgres -D "$fork" -X fetch -c fast \
        "${mapping[@]}" $([ "$4" == y ] && echo -R)
    sed -i "s/^port = .*/port = $2/; s/^archive_mode = .*/archive_mode = off/" "$fork/postgresql.conf"
    pg_start "$fork"
    if [ "$4" == y ]; then
        must psql_at "$2" "SELECT pg_promote()"
        for i in $(seq 1 100); do [ "$(psql_at "$2" 'SELECT pg_is_in_recovery()')" == "f" ] && break; sleep 0.1; done
    fi
    # Ahead of the primary: its standby replays past the backup's start.
    for i in $(seq 1 6); do must psql_at "$2" "INSERT INTO t VALUES (-$i, 'fork'); SELECT pg_switch_wal()"; done
    must as_pg "$PGBIN/pg_basebackup" -h "$IT_TMP" -p "$2" -U postgres -D "$standby" -R -X stream -c fast \
        --tablespace-mapping="$IT_TMP/ts-$1=$IT_TMP/ts-$1-standby"
    sed -i "s/^port = .*/port = $3/" "$standby/postgresql.conf"
    pg_start "$standby"
}
refused_fork_backup() {  # name standby-port expected-message
    local before files
    before=$(backups)
    files=$(cd "$REPO" && find . -type f | grep -v '/archive/' | sort)
    for mode in y prefer; do
        expect_exit "$1: backup-standby=$mode refused" 31 "$BR" --config="$CONF" --stanza=main backup \
            --backup-standby=$mode --pg2-path="$IT_TMP/$1-standby" --pg2-socket-path="$IT_TMP" --pg2-port="$2" \
            --start-fast --archive-timeout=20
        expect_contains "... naming pg2 and why" "$OUT" "$3"
    done
    expect_eq "$1: no backup added" "$(backups)" "$before"
    expect_eq "$1: nothing left in the repository's backup directory" \
        "$(cd "$REPO" && find . -type f | grep -v '/archive/' | sort)" "$files"
}
fork_standby promoted 57295 57296 y
expect_eq "4a: pg2 is in recovery on timeline 2" \
    "$(psql_at 57296 'SELECT pg_is_in_recovery()::text || (SELECT timeline_id FROM pg_control_checkpoint())')" "true2"
refused_fork_backup promoted 57296 \
    "the standby pg2 (socket $IT_TMP port 57296) is on timeline 2 but the backup started on the primary's timeline 1"
pg_stop "$IT_TMP/promoted-standby"
pg_stop "$IT_TMP/promoted"
fork_standby fork 57295 57296 n
expect_eq "4b: pg2 is in recovery on timeline 1, the primary's system identifier" \
    "$(psql_at 57296 'SELECT pg_is_in_recovery()::text || (SELECT timeline_id FROM pg_control_checkpoint()) || (SELECT system_identifier FROM pg_control_system())')" \
    "true1$(psql_at 57290 'SELECT system_identifier FROM pg_control_system()')"
refused_fork_backup fork 57296 "the standby pg2 (socket $IT_TMP port 57296) does not replay the primary pg1's WAL"
expect_contains "... and says it forked" "$OUT" "it follows another server whose history forked from the primary's"
pg_stop "$IT_TMP/fork-standby"
pg_stop "$IT_TMP/fork"
# The true standby still backs up after the check (its WAL is the primary's).
expect_exit "the primary's own standby still backs up" 0 "$BR" --config="$CONF" --stanza=main backup \
    --backup-standby=y --pg2-path="$STANDBY" --pg2-socket-path="$IT_TMP" --pg2-port=57293 --start-fast --type=incr
expect_eq "... without a warning that the WAL could not be compared" "$(grep -c 'cannot be compared' <<<"$OUT")" "0"
pg_stop "$STANDBY"

# ---- 5. a drop record for a segment PostgreSQL then archived -----------------------------------
# archive-push writes the drop record before it answers; when PostgreSQL never gets the answer
# (the push killed, the server crashed, here: the archive_command fails after it), the segment
# stays ready and is pushed for real once the queue is under the limit. The record of a drop that
# never happened must not make info, check and verify claim a gap, nor refuse a restore.
DDATA=$IT_TMP/drop
DCONF=$IT_TMP/drop.conf
printf '[global]\nrepo1-path=%s\nlock-path=%s\nlog-level-console=warn\n\n[drop]\npg1-path=%s\npg1-socket-path=%s\npg1-port=57297\n' \
    "$IT_TMP/drepo" "$IT_TMP/lock" "$DDATA" "$IT_TMP" >"$DCONF"
chmod 0644 "$DCONF"
dbr() { as_pg "$BR" --config="$DCONF" --stanza=drop "$@"; }
pg_archiving "$DDATA" 57297 "$BR --config=$DCONF --stanza=drop archive-push %p"
must dbr stanza-create
must psql_at 57297 "CREATE TABLE t (i int)"
must dbr backup --type=full --start-fast
B1=$(dbr info --output=json | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["backup"][-1]["label"])')
must psql_at 57297 "ALTER SYSTEM SET archive_command = 'false'"
must psql_at 57297 "SELECT pg_reload_conf()"
for i in $(seq 1 5); do must psql_at 57297 "INSERT INTO t SELECT generate_series(1, 100); SELECT pg_switch_wal()"; done
FIRST=$(ls "$DDATA/pg_wal/archive_status" | grep -E '^[0-9A-F]{24}\.ready$' | sort | head -1 | cut -c1-24)
# 5 segments ready (80 MiB) over a 48 MiB limit: the push drops the first, then fails anyway.
must psql_at 57297 "ALTER SYSTEM SET archive_command = '$BR --config=$DCONF --stanza=drop --archive-push-queue-max=48MiB archive-push %p; exit 1'"
must psql_at 57297 "SELECT pg_reload_conf()"
for i in $(seq 1 240); do [ -e "$IT_TMP/drepo/archive/drop/dropped/15-1-$FIRST" ] && break; sleep 0.25; done
expect_eq "the drop record of $FIRST is written" "$(ls "$IT_TMP/drepo/archive/drop/dropped" 2>/dev/null)" "15-1-$FIRST"
# The DBA raises the limit: the same segment is now pushed for real, and everything after it.
must psql_at 57297 "ALTER SYSTEM SET archive_command = '$BR --config=$DCONF --stanza=drop --archive-push-queue-max=1GiB archive-push %p'"
must psql_at 57297 "SELECT pg_reload_conf()"
DLAST=$(psql_at 57297 "SELECT pg_walfile_name(pg_switch_wal())")
wait_archived 57297 "$DLAST" || fail "setup: the drop cluster archived $DLAST" "$(tail -5 "$DDATA.log")"
expect_eq "$FIRST is in the repository" "$(find "$IT_TMP/drepo/archive/drop" -name "$FIRST-*" | wc -l)" "1"
OUT=$(dbr info --output=json 2>&1)
expect_eq "info JSON: nothing dropped" \
    "$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])[0]["archive"][0]["dropped"])' "$OUT" 2>&1)" "None"
expect_exit "info (text)" 0 "$BR" --config="$DCONF" --stanza=drop info
expect_eq "info (text) claims no drop" "$(grep -c 'dropped' <<<"$OUT")" "0"
expect_exit "check passes: nothing is missing" 0 "$BR" --config="$DCONF" --stanza=drop check
expect_exit "verify" 0 "$BR" --config="$DCONF" --stanza=drop verify
expect_eq "verify claims no gap" "$(grep -c 'gap\|dropped' <<<"$OUT")" "0"
WANT=$(psql_at 57297 "SELECT count(*) FROM t")
R5=$IT_TMP/restore-drop
expect_exit "restore from the backup before the would-be gap" 0 "$BR" --config="$DCONF" --stanza=drop \
    --pg1-path="$R5" restore --set="$B1" --target-action=promote
if [ "$RC" -eq 0 ]; then
    sed -i "s/^port = .*/port = 57298/; s/^archive_mode = .*/archive_mode = off/" "$R5/postgresql.conf"
    pg_start "$R5"
    wait_promoted 57298 || fail "the restore never finished recovery" "$(tail -10 "$R5.log")"
    expect_eq "restored through $FIRST: every row" "$(psql_at 57298 "SELECT count(*) FROM t")" "$WANT"
    pg_stop "$R5"
fi
# A drop that did happen is still reported: the record of a segment the repository lacks.
must psql_at 57297 "ALTER SYSTEM SET archive_command = 'false'"
must psql_at 57297 "SELECT pg_reload_conf()"
for i in $(seq 1 5); do must psql_at 57297 "INSERT INTO t SELECT generate_series(1, 100); SELECT pg_switch_wal()"; done
REAL=$(ls "$DDATA/pg_wal/archive_status" | grep -E '^[0-9A-F]{24}\.ready$' | sort | head -1 | cut -c1-24)
must psql_at 57297 "ALTER SYSTEM SET archive_command = '$BR --config=$DCONF --stanza=drop --archive-push-queue-max=48MiB archive-push %p'"
must psql_at 57297 "SELECT pg_reload_conf()"
wait_archived 57297 "$REAL" || fail "setup: the drop cluster passed $REAL"
OUT=$(dbr info --output=json 2>&1)
expect_eq "a real drop is reported from its first segment" \
    "$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])[0]["archive"][0]["dropped"]["first"])' "$OUT" 2>&1)" "$REAL"
expect_exit "check fails on the real drop" 35 "$BR" --config="$DCONF" --stanza=drop check
pg_stop "$DDATA"
