#!/usr/bin/env bash
# Restore safety on real clusters: a restore run as root leaves every file it writes to the
# cluster's owner (so point-in-time recovery honours its target); no restore, delta or not,
# writes into or removes from a directory a running PostgreSQL uses (its data directory or a
# tablespace); a restore killed midway, or stopped by a full disk, completes when run again.
set -u
SUITE=restore_safety
TEST_BACKREST_BIN=${TEST_BACKREST_BIN:-$(dirname "$0")/../../build/backrest}
source "$(dirname "$0")/lib.sh"
it_setup
if [ "$(id -u)" -ne 0 ]; then
    fail "setup: the restore_safety suite runs as root (it restores as root and mounts a tmpfs)"
    exit 1
fi

# A tmpfs mounted by the suite is unmounted whatever happens, after the cluster on it stopped.
SMALL=$IT_TMP/small
safety_finish() {
    if mountpoint -q "$SMALL" 2>/dev/null; then
        [ -f "$SMALL/data/postmaster.pid" ] && as_pg "$PGBIN/pg_ctl" -D "$SMALL/data" -m immediate -w stop >/dev/null 2>&1
        umount "$SMALL" || umount -l "$SMALL"
    fi
    it_finish
}
trap safety_finish EXIT

note() { printf '%s\n' "$OUT" | head -3 | sed 's/^/    # /'; }  # the message a user sees

# Starts a restored cluster on its own port without archiving; a failure is counted, not fatal.
start_restored() {  # name dir port
    as_pg sed -i "s/^port = .*/port = $3/; s/^archive_mode = on/archive_mode = off/" "$2/postgresql.conf"
    IT_SERVERS+=("$2")
    if ! as_pg "$PGBIN/pg_ctl" -D "$2" -l "$2.log" -w -t 120 start >/dev/null 2>&1; then
        fail "$1: the restored cluster does not start" "$(tail -5 "$2.log" 2>&1)"
        return 1
    fi
    wait_promoted "$3" || fail "$1: recovery did not finish" "$(tail -20 "$2.log")"
}

as_pg mkdir -p "$IT_TMP/ts1"
it_primary 55740 'process-max=1' 'log-level-console=warn'
must as_pg "$PGBIN/pgbench" -h "$IT_TMP" -p $PORT -U postgres -i -s 20 -q postgres
must psql_at $PORT "CREATE TABLESPACE ts1 LOCATION '$IT_TMP/ts1'"
must psql_at $PORT "CREATE TABLE ts_table (id int primary key, v text) TABLESPACE ts1;
    INSERT INTO ts_table SELECT g, md5(g::text) FROM generate_series(1, 5000) g;
    CREATE TABLE dropme (id int);
    INSERT INTO dropme SELECT generate_series(1, 777);"
ACCOUNTS="SELECT sum(abalance) || ' ' || count(*) FROM pgbench_accounts"
WANT_ACCOUNTS=$(psql_at $PORT "$ACCOUNTS")
expect_exit "full backup" 0 "$BR" --config="$CONF" --stanza=main backup --type=full --start-fast
FIRST=$(br info --output=json | sed -n 's/.*"label":"\([0-9F-]*\)".*/\1/p')

# The point in time to recover to lies between the backup and a DROP TABLE; the WAL of the DROP
# is archived so recovery must stop at the target, not merely run out of WAL.
sleep 1
TARGET=$(psql_at $PORT "SELECT now()")
sleep 1
must psql_at $PORT "DROP TABLE dropme"
SEGMENT=$(psql_at $PORT "SELECT pg_walfile_name(pg_current_wal_lsn())")
must psql_at $PORT "SELECT pg_switch_wal()"
for _ in $(seq 1 120); do
    [[ "$(psql_at $PORT "SELECT coalesce(last_archived_wal, '') FROM pg_stat_archiver")" > "$SEGMENT" ||
        "$(psql_at $PORT "SELECT coalesce(last_archived_wal, '') FROM pg_stat_archiver")" == "$SEGMENT" ]] && break
    sleep 0.5
done

# (a) As root: point-in-time restore; everything restore wrote belongs to postgres.
R=$IT_TMP/as-root/time
OUT=$("$BR" --config="$CONF" --stanza=main --pg1-path="$R" restore --type=time "--target=$TARGET" \
    --target-action=promote --tablespace-map=ts1="$IT_TMP/ts-time" 2>&1)
RC=$?
expect_eq "restore --type=time as root (exit $RC)" "$RC" "0"
[ "$RC" -ne 0 ] && printf '%s\n' "$OUT" | head -5 | sed 's/^/    # /'
for f in "" /postgresql.auto.conf /recovery.signal /tablespace_map /PG_VERSION /global/pg_control /base/1 \
    /pg_tblspc; do
    expect_eq "as root: '$R$f' belongs to postgres" "$(stat -c %U "$R$f" 2>&1)" "postgres"
done
expect_eq "as root: created pg1-path is postgres's, mode 0700" "$(stat -c '%U %a' "$R" 2>&1)" "postgres 700"
expect_eq "as root: the parent root created for pg1-path is postgres's" "$(stat -c %U "$IT_TMP/as-root" 2>&1)" \
    "postgres"
expect_eq "as root: restored tablespace files are postgres's" \
    "$(find "$IT_TMP/ts-time" ! -user postgres | head -3)" ""
start_restored "as root" "$R" 55741
expect_eq "as root: the table dropped after the target is back with its rows" \
    "$(psql_at 55741 'SELECT count(*) FROM dropme' 2>&1)" "777"
pg_stop "$R"

R=$IT_TMP/as-root/standby
OUT=$("$BR" --config="$CONF" --stanza=main --pg1-path="$R" restore --type=standby \
    --tablespace-map=ts1="$IT_TMP/ts-standby" 2>&1)
RC=$?
expect_eq "restore --type=standby as root (exit $RC)" "$RC" "0"
expect_eq "as root: standby.signal belongs to postgres" "$(stat -c '%U %a' "$R/standby.signal" 2>&1)" "postgres 600"
expect_eq "as root: postgresql.auto.conf belongs to postgres" "$(stat -c %U "$R/postgresql.auto.conf" 2>&1)" \
    "postgres"

# (b) Issue 16 defect 5: a table created in ts1 after the backup, while the primary runs.
must psql_at $PORT "CREATE TABLE newt (id int) TABLESPACE ts1; INSERT INTO newt SELECT generate_series(1, 4321)"
NEWT=$(readlink -f "$DATA/$(psql_at $PORT "SELECT pg_relation_filepath('newt')")")
PID=$(head -1 "$DATA/postmaster.pid")
expect_contains "newt's file is in ts1" "$NEWT" "$IT_TMP/ts1/"
for delta in "" --delta; do
    expect_exit "restore $delta to a new pg1-path, ts1 at the live original's location: refused" 40 \
        "$BR" --config="$CONF" --stanza=main --pg1-path="$IT_TMP/r-new" restore $delta
    expect_contains "restore $delta: names the tablespace directory" "$OUT" "'$IT_TMP/ts1'"
    note
    expect_contains "restore $delta: names the live cluster and its pid" "$OUT" "'$DATA' (pid $PID)"
    expect_contains "restore $delta: the hint is --tablespace-map" "$OUT" "--tablespace-map=ts1=/new/path"
    [[ "$OUT" == *"--delta"* ]] && fail "restore $delta: no --delta hint" "$OUT"
    expect_eq "restore $delta: the live table's file is still there" "$([ -f "$NEWT" ] && echo present)" present
    expect_eq "restore $delta: the running cluster still reads newt" \
        "$(psql_at $PORT 'SELECT count(*) FROM newt' 2>&1)" "4321"
    expect_eq "restore $delta: nothing was written to the new pg1-path" "$(ls -A "$IT_TMP/r-new" 2>/dev/null)" ""
done
# A tablespace remapped into the live data directory: refused, the live cluster named.
expect_exit "a tablespace mapped inside a running cluster's data directory: refused" 40 \
    "$BR" --config="$CONF" --stanza=main --pg1-path="$IT_TMP/r-inside" restore --tablespace-map=ts1="$DATA/ts-in"
expect_contains "names the live data directory" "$OUT" "'$DATA' (pid $PID)"
note
expect_eq "nothing created inside the live data directory" "$(ls -d "$DATA/ts-in" 2>/dev/null)" ""
# A tablespace mapped onto pg1-path itself: both would be restored into one directory.
expect_exit "a tablespace mapped onto pg1-path: refused" 21 \
    "$BR" --config="$CONF" --stanza=main --pg1-path="$IT_TMP/r-same" restore --tablespace-map=ts1="$IT_TMP/r-same/"
expect_contains "it names both targets and the directory" "$OUT" "pg_data and pg_tblspc/"
expect_eq "nothing was created" "$(ls -d "$IT_TMP/r-same" 2>/dev/null)" ""
# The same restore with a new tablespace location works.
expect_exit "restore to a new pg1-path with --tablespace-map=ts1=<new>" 0 \
    "$BR" --config="$CONF" --stanza=main --pg1-path="$IT_TMP/r-new" restore --tablespace-map=ts1="$IT_TMP/ts-new"
start_restored r-new "$IT_TMP/r-new" 55742
expect_eq "r-new reads its tablespace table" "$(psql_at 55742 'SELECT count(*) FROM ts_table' 2>&1)" "5000"
pg_stop "$IT_TMP/r-new"
# A non-empty tablespace directory that no running server uses and no unfinished restore of this
# backup owns (r-new's, stopped): refused, the hint names --tablespace-map.
expect_exit "a non-empty tablespace directory of another (stopped) cluster: refused" 34 \
    "$BR" --config="$CONF" --stanza=main --pg1-path="$IT_TMP/r-other" restore --tablespace-map=ts1="$IT_TMP/ts-new"
note
expect_contains "its hint is --tablespace-map" "$OUT" "--tablespace-map=ts1=/new/path"
[[ "$OUT" == *"--delta"* ]] && fail "a non-empty tablespace directory: no --delta hint" "$OUT"
# --delta into the running primary's own data directory.
expect_exit "restore --delta into a running cluster's pg1-path: refused" 40 "$BR" --config="$CONF" --stanza=main restore --delta
expect_contains "names the live postmaster's pid" "$OUT" "pid $PID"
note
expect_eq "the running cluster still reads newt after it" "$(psql_at $PORT 'SELECT count(*) FROM newt' 2>&1)" "4321"
# A stale postmaster.pid (its pid is not running): refused, saying so and what to do.
DEAD=$(bash -c 'echo $$')
printf '%s\n%s\n' "$DEAD" "$IT_TMP/r-new" | as_pg tee "$IT_TMP/r-new/postmaster.pid" >/dev/null
expect_exit "restore --delta over a stale postmaster.pid: refused" 40 \
    "$BR" --config="$CONF" --stanza=main --pg1-path="$IT_TMP/r-new" restore --delta --tablespace-map=ts1="$IT_TMP/ts-new"
expect_contains "says the pid is not running and to remove the file" "$OUT" \
    "names pid $DEAD, which is not running"
expect_contains "names the file to remove" "$OUT" "remove '$IT_TMP/r-new/postmaster.pid'"
note

# (c) A restore killed midway, run again: the same command, then (after a second kill) --delta.
killed_restore() {  # dir [extra args]: starts a restore, kills it -9 once it wrote 40 MiB
    local dir=$1
    shift
    "${PG_EXEC[@]}" "$BR" --config="$CONF" --stanza=main --pg1-path="$dir" restore \
        --tablespace-map=ts1="$dir-ts" "$@" >"$dir.out" 2>&1 &
    local pid=$! i
    for i in $(seq 1 2000); do
        [ "$(du -sm "$dir" 2>/dev/null | cut -f1)" -ge 40 ] 2>/dev/null && break
        sleep 0.01
    done
    kill -9 $pid
    wait $pid 2>/dev/null
    if [ -f "$dir/global/pg_control" ]; then fail "$dir: the restore finished before it was killed"; fi
}
K=$IT_TMP/r-kill
killed_restore "$K"
expect_eq "killed restore left no pg_control" "$(ls "$K/global/pg_control" 2>/dev/null)" ""
expect_exit "the same restore command again completes it" 0 \
    "$BR" --config="$CONF" --stanza=main --pg1-path="$K" restore --tablespace-map=ts1="$K-ts"
expect_contains "it says it resumed" "$OUT" "resum"
note
expect_eq "no restore marker is left" "$(ls "$K/backrest.restore" 2>/dev/null)" ""
start_restored r-kill "$K" 55743
expect_eq "resumed restore: pgbench_accounts equals the original" "$(psql_at 55743 "$ACCOUNTS" 2>&1)" "$WANT_ACCOUNTS"
pg_stop "$K"
expect_exit "resumed restore: pg_checksums --check" 0 "$PGBIN/pg_checksums" --check -D "$K"

K=$IT_TMP/r-kill2
killed_restore "$K"
expect_exit "after a second kill, --delta completes it" 0 \
    "$BR" --config="$CONF" --stanza=main --pg1-path="$K" restore --delta --tablespace-map=ts1="$K-ts"
start_restored r-kill2 "$K" 55744
expect_eq "delta-resumed restore: pgbench_accounts equals the original" "$(psql_at 55744 "$ACCOUNTS" 2>&1)" \
    "$WANT_ACCOUNTS"
pg_stop "$K"

# A marker of another backup: refused without --delta.
must br backup --type=full --start-fast
K=$IT_TMP/r-kill3
killed_restore "$K" --set="$FIRST"
expect_exit "over an unfinished restore of another backup: refused without --delta" 34 \
    "$BR" --config="$CONF" --stanza=main --pg1-path="$K" restore --tablespace-map=ts1="$K-ts"
expect_contains "names the other backup and --delta" "$OUT" "unfinished restore of backup"
note
expect_exit "with --delta, the latest backup is restored over it" 0 \
    "$BR" --config="$CONF" --stanza=main --pg1-path="$K" restore --delta --tablespace-map=ts1="$K-ts"
expect_eq "and its marker is gone" "$(ls "$K/backrest.restore" 2>/dev/null)" ""

# (d) A full disk: a 40 MiB tmpfs.
as_pg mkdir -p "$SMALL"
if ! mount -t tmpfs -o size=40m tmpfs "$SMALL" 2>/dev/null; then
    echo "# skip - full disk: mount -t tmpfs is not permitted here"
else
    chown postgres:postgres "$SMALL"
    expect_exit "restore into a 40 MiB tmpfs fails" 26 \
        "$BR" --config="$CONF" --stanza=main --pg1-path="$SMALL/data" restore --tablespace-map=ts1="$IT_TMP/ts-small"
    expect_contains "names 'No space left'" "$OUT" "No space left"
    expect_contains "names the file" "$OUT" "$SMALL/data/"
    note
    expect_eq "no pg_control after the full disk" "$(ls "$SMALL/data/global/pg_control" 2>/dev/null)" ""
    must mount -o remount,size=1g "$SMALL"
    expect_exit "after making space, the same command completes" 0 \
        "$BR" --config="$CONF" --stanza=main --pg1-path="$SMALL/data" restore --tablespace-map=ts1="$IT_TMP/ts-small"
    start_restored small "$SMALL/data" 55745
    expect_eq "full-disk restore, completed: pgbench_accounts equals the original" \
        "$(psql_at 55745 "$ACCOUNTS" 2>&1)" "$WANT_ACCOUNTS"
    pg_stop "$SMALL/data"
fi
