#!/usr/bin/env bash
# The extension on a real preloaded cluster (archive_library = 'backrest', async archiving):
# WAL archived without a gap under pgbench load, a backup taken from SQL during that load and
# restored (latest and to a time), the daemon killed while archiving and while backing up, a
# restarted launcher adopting the running daemon, backrest_cancel(), and a fast shutdown under
# load archiving its last segment. Prints "# measure:" lines (archive rate, .ready backlog);
# they are figures for reading, never asserted.
set -u
SUITE=extension
TEST_BACKREST_BIN=${TEST_BACKREST_BIN:-$(dirname "$0")/../../build/backrest}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
source "$(dirname "$0")/lib.sh"
it_setup

PORT=55480
DATA=$IT_TMP/primary
CONF=$IT_TMP/backrest.conf
SOCKDIR=$IT_TMP/sock
ARCHIVE=$IT_TMP/repo/archive/main/15-1
PGBENCH_PID=

# The daemon started by this suite's cluster (its command line names our socket directory).
daemon_pids() { pgrep -f "backrest serve .*--socket-path=$SOCKDIR( |\$)"; }
daemon_pid() { daemon_pids | head -1; }

# Background jobs first, then the clusters, then any daemon still there (it exits by itself
# once its postmaster is gone; this only guarantees it).
cleanup() {
    [ -n "$PGBENCH_PID" ] && kill "$PGBENCH_PID" 2>/dev/null
    local d pid
    for d in "${IT_SERVERS[@]}"; do
        [ -f "$d/postmaster.pid" ] && as_pg "$PGBIN/pg_ctl" -D "$d" -m immediate -w stop >/dev/null 2>&1
    done
    for _ in $(seq 1 20); do [ -z "$(daemon_pids)" ] && break; sleep 0.1; done
    for pid in $(daemon_pids); do kill -9 "$pid" 2>/dev/null; done
    it_finish
}
trap cleanup EXIT

if [ "$(id -u)" -ne 0 ]; then
    fail "setup: the extension suite runs as root (it installs the extension into the server)"
    exit 1
fi
PKGLIB=$(pg_config --pkglibdir)
if [ ! -f "$PKGLIB/backrest.so" ] || [ "$ROOT/extension/backrest.so" -nt "$PKGLIB/backrest.so" ]; then
    must make --no-print-directory -C "$ROOT/extension" install
fi

cat >"$CONF" <<CONF
[global]
repo1-path=$IT_TMP/repo
lock-path=$IT_TMP/lock
spool-path=$IT_TMP/spool
process-max=2

[main]
pg1-path=$DATA
pg1-socket-path=$IT_TMP
pg1-port=$PORT
CONF
chmod 0644 "$CONF"

pg_init "$DATA" $PORT
ext_conf "$DATA" main "$CONF" "$SOCKDIR" \
    'log_min_messages = log' \
    'backrest.archive_async = on'
pg_start "$DATA"
must psql_at $PORT "CREATE EXTENSION backrest"
must psql_at $PORT "SELECT backrest_stanza_create()"
must as_pg "$PGBIN/pgbench" -h "$IT_TMP" -p $PORT -U postgres -i -s 10 -q postgres
must psql_at $PORT "CREATE TABLE marker (id int primary key, note text)"

SNAPSHOT_SQL="SELECT (SELECT md5(string_agg(aid || ':' || abalance, ',' ORDER BY aid)) FROM pgbench_accounts) || ' ' ||
  (SELECT sum(bbalance) FROM pgbench_branches) || ' ' || (SELECT sum(tbalance) FROM pgbench_tellers) || ' ' ||
  (SELECT count(*) FROM pgbench_history) || ' ' ||
  (SELECT count(*) || ':' || md5(coalesce(string_agg(id || ':' || note, ',' ORDER BY id), '')) FROM marker)"
snapshot() { psql_at "$1" "$SNAPSHOT_SQL"; }

# Polls `command` every 0.2 s for up to `seconds`; a bound for correctness, not a timing check.
wait_until() {  # seconds command...
    local deadline=$((SECONDS + $1))
    shift
    until "$@"; do
        [ "$SECONDS" -ge "$deadline" ] && return 1
        sleep 0.2
    done
}

pgbench_start() {  # seconds
    "${PG_EXEC[@]}" "$PGBIN/pgbench" -h "$IT_TMP" -p $PORT -U postgres -n -c 4 -T "$1" postgres \
        >"$IT_TMP/pgbench.$1.out" 2>&1 &
    PGBENCH_PID=$!
}
pgbench_wait() {
    wait "$PGBENCH_PID" 2>/dev/null
    PGBENCH_PID=
}

# --- WAL segment names (16 MiB segments: 256 per xlogid) -------------------------------------
next_segment() {  # name
    local tli=${1:0:8} log=$((16#${1:8:8})) seg=$((16#${1:16:8}))
    seg=$((seg + 1))
    if [ "$seg" -eq 256 ]; then
        seg=0
        log=$((log + 1))
    fi
    printf '%s%08X%08X' "$tli" "$log" "$seg"
}
archived_segments() {
    find "$ARCHIVE" -type f -printf '%f\n' 2>/dev/null | grep -oE '^[0-9A-F]{24}-' | cut -c1-24 | sort -u
}
segment_archived() { compgen -G "$ARCHIVE/${1:0:16}/$1-*" >/dev/null; }
ready_count() { find "$DATA/pg_wal/archive_status" -name '*.ready' 2>/dev/null | wc -l; }
daemon_answers() { psql_at $PORT "SELECT pending FROM backrest_archive_status()" >/dev/null 2>&1; }
nothing_pending() { [ "$(psql_at $PORT "SELECT pending FROM backrest_archive_status()" 2>/dev/null)" == "0" ]; }

# Ends the current segment and waits until it is in the repository and no .ready file is left.
switch_and_drain() {  # name
    local seg
    seg=$(psql_at $PORT "SELECT pg_walfile_name(pg_switch_wal())")
    if wait_until 90 segment_archived "$seg" && wait_until 90 nothing_pending; then
        pass "$1: the switched segment $seg is archived and nothing is pending"
    else
        fail "$1: segment $seg archived and nothing pending" \
            "$(psql_at $PORT "SELECT * FROM backrest_archive_status()" 2>&1; tail -20 "$DATA.log")"
    fi
}

# Every segment from `from` to the last one archived is in the repository.
expect_continuous() {  # name from
    local list last s missing="" n=0
    list=$(archived_segments)
    last=$(tail -1 <<<"$list")
    s=$2
    if [[ -z "$last" || "$last" < "$s" ]]; then
        fail "$1: archived WAL reaches $s" "last archived: ${last:-none}"
        return
    fi
    while :; do
        grep -qx "$s" <<<"$list" || missing+="$s "
        [ "$s" == "$last" ] && break
        s=$(next_segment "$s")
        n=$((n + 1))
        [ "$n" -gt 100000 ] && break
    done
    expect_eq "$1: no segment missing from $2 to $last ($((n + 1)) segments)" "$missing" ""
}

# --- 1 + 2: archiving under load, a backup taken during it ----------------------------------
# The archive callback logs how the daemon had each segment at DEBUG1.
must psql_at $PORT "ALTER SYSTEM SET log_min_messages = debug1"
must psql_at $PORT "SELECT pg_reload_conf()"
LOAD_LOG_FROM=$(($(wc -l <"$DATA.log") + 1))
SEG_BEFORE=$(archived_segments | wc -l)
LSN_BEFORE=$(psql_at $PORT "SELECT pg_current_wal_lsn()")
LOAD_SECONDS=20
pgbench_start $LOAD_SECONDS
LOAD_START=$SECONDS
sleep 3
psql_at $PORT "SELECT backrest_backup(wait => true)" >"$IT_TMP/backup1.out" 2>&1 &
BACKUP_JOB=$!
MAX_READY=0
while kill -0 "$PGBENCH_PID" 2>/dev/null; do
    r=$(ready_count)
    [ "$r" -gt "$MAX_READY" ] && MAX_READY=$r
    sleep 1
done
pgbench_wait
LOAD_ELAPSED=$((SECONDS - LOAD_START))
SEG_AFTER=$(archived_segments | wc -l)
WAL_MB=$(psql_at $PORT "SELECT round((pg_current_wal_lsn() - '$LSN_BEFORE'::pg_lsn) / 1048576)")
wait "$BACKUP_JOB"
BACKUP_RC=$?
L1=$(cat "$IT_TMP/backup1.out")
expect_eq "backrest_backup(wait => true) during pgbench load succeeds ($L1)" "$BACKUP_RC" "0"
expect_eq "it returns a full backup's label" "$([[ "$L1" =~ ^[0-9]{8}-[0-9]{6}F$ ]] && echo yes)" "yes"
expect_eq "backrest_status() shows it done" \
    "$(psql_at $PORT "SELECT state FROM backrest_status() WHERE label = '$L1'")" "done"
# The backup worker sends pg_database with pg_backup_start's answer: info --set lists the
# databases by name, as for a backup the CLI took (pgBackRest's database-ref).
SET_JSON=$(as_pg "$BR" --config="$CONF" --stanza=main --set="$L1" --output=json info 2>"$IT_TMP/info-set.err")
expect_eq "... database-ref names the cluster's databases (without the templates), with their oids" \
    "$(python3 -c 'import json,sys; print(" ".join(d["name"] + ":" + str(d["oid"]) for d in json.loads(sys.argv[1])[0]["backup"][0]["database-ref"]))' "$SET_JSON" 2>&1)" \
    "$(psql_at $PORT "SELECT string_agg(datname || ':' || oid, ' ' ORDER BY datname) FROM pg_database WHERE NOT datistemplate")"
WAL_START=$(psql_at $PORT "SELECT wal_start FROM backrest_info() WHERE label = '$L1'")
expect_eq "backrest_info() lists it with its first WAL segment" "${#WAL_START}" "24"
echo "# measure: pgbench -c 4 for ${LOAD_ELAPSED} s (archive_async on, a backup running): ${WAL_MB} MiB of WAL," \
    "$((SEG_AFTER - SEG_BEFORE)) segments archived during the run" \
    "($(awk -v n=$((SEG_AFTER - SEG_BEFORE)) -v s="$LOAD_ELAPSED" 'BEGIN { printf "%.2f", n / s }') segments/s)," \
    "at most $MAX_READY .ready files waiting (sampled each second)"
DRAIN_START=$EPOCHREALTIME
switch_and_drain "after the load"
echo "# measure: the switched segment archived and nothing pending" \
    "$(awk -v a="$DRAIN_START" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }') s after the load ended"
expect_continuous "archive after the load" "$WAL_START"
expect_eq "no archive failure reported" \
    "$(psql_at $PORT "SELECT coalesce(last_failure, 'none') FROM backrest_archive_status()")" "none"

# archive_async: the daemon also streams WAL as it is written (a replication connection) and
# stores each segment from the stream as its last byte is flushed; the archiver finds it durable.
expect_eq "the daemon streams WAL over a replication connection" \
    "$(psql_at $PORT "SELECT count(*) FROM pg_stat_replication WHERE application_name = 'backrest-wal-stream'")" "1"
STREAM=$(psql_at $PORT "SELECT stream || ' / ' || streamed FROM backrest_archive_status()")
if [[ "$STREAM" =~ ^streaming\ [0-9A-F]{24}\ /\ ([0-9]+)$ ]] && [ "${BASH_REMATCH[1]}" -gt 0 ]; then
    pass "backrest_archive_status() shows the stream and the segments stored from it ($STREAM)"
else
    fail "backrest_archive_status() shows the stream and segments stored from it" "$STREAM"
fi
must psql_at $PORT "ALTER SYSTEM RESET log_min_messages"
must psql_at $PORT "SELECT pg_reload_conf()"
# The archiver asks for a segment before the walsender sends its last bytes: the daemon completes
# the streamed segment from pg_wal ("stream-completed") rather than waiting for them, and the
# stream's late bytes, compared with pg_wal's, never differ.
HOW=$(tail -n +"$LOAD_LOG_FROM" "$DATA.log" |
    sed -n 's/.*backrest: archived WAL file "[0-9A-F]*" in [0-9.]* ms (\([a-z-]*\)).*/\1/p' | sort | uniq -c |
    awk '{ printf "%s%s:%s", (NR > 1 ? " " : ""), $2, $1 }')
if [[ " $HOW" =~ \ stream-completed:([0-9]+) ]] && [ "${BASH_REMATCH[1]}" -gt 0 ]; then
    pass "under load, segments are completed from pg_wal as the archiver asks ($HOW)"
else
    fail "under load, segments are completed from pg_wal as the archiver asks" "$HOW"
fi
expect_eq "the stream's bytes never differed from pg_wal's" \
    "$(tail -n +"$LOAD_LOG_FROM" "$DATA.log" | grep -c "differs from pg_wal's file")" "0"
# What the repository holds is byte for byte the file in pg_wal (still there until the next
# checkpoint recycles it).
LASTSEG=$(psql_at $PORT "SELECT last_archived FROM backrest_archive_status()")
expect_exit "archive-get of the last archived segment $LASTSEG" 0 \
    "$BR" --config="$CONF" --stanza=main archive-get "$LASTSEG" "$IT_TMP/got-$LASTSEG"
expect_eq "... equals pg_wal/$LASTSEG byte for byte" \
    "$(cmp "$IT_TMP/got-$LASTSEG" "$DATA/pg_wal/$LASTSEG" >/dev/null 2>&1 && echo same)" "same"

# A time target between two known commits, after the backup.
must psql_at $PORT "INSERT INTO marker SELECT g, 'before the target' FROM generate_series(1, 100) g"
sleep 1.1
TIME_TARGET=$(psql_at $PORT "SELECT clock_timestamp()")
SNAP_TIME=$(snapshot $PORT)
sleep 1.1
must psql_at $PORT "INSERT INTO marker SELECT g, 'after the target' FROM generate_series(101, 200) g"

# --- 3: the daemon killed while archiving under load ----------------------------------------
D1=$(daemon_pid)
pgbench_start 12
sleep 3
kill -9 "$D1"
new_daemon_answers() {
    local d
    d=$(daemon_pid)
    [ -n "$d" ] && [ "$d" != "$D1" ] && daemon_answers
}
if wait_until 20 new_daemon_answers; then
    D2=$(daemon_pid)
    pass "after kill -9 of the daemon (pid $D1) the launcher starts a new one (pid $D2) that answers"
else
    D2=
    fail "a new daemon answers after kill -9" "$(grep -i backrest "$DATA.log" | tail -20)"
fi
pgbench_wait
switch_and_drain "after the kill under load"
expect_continuous "archive across the daemon's kill" "$WAL_START"
stale_streams() { find "$ARCHIVE" -name "*.stream.$D1.tmp" | wc -l; }
no_stale_streams() { [ "$(stale_streams)" -eq 0 ]; }
wait_until 20 no_stale_streams
expect_eq "the killed daemon's unfinished streamed segment is not left in the archive" "$(stale_streams)" "0"

# --- a launcher started again adopts the running daemon -------------------------------------
PM=$(head -1 "$DATA/postmaster.pid")
LAUNCHER=$(pgrep -P "$PM" -f 'backrest launcher')
# pg_terminate_backend() does not reach a background worker without a database connection
# (it is not in the proc array); SIGTERM is what it would send.
kill -TERM "$LAUNCHER"
adopted() { grep -q "adopting running backrest daemon (pid $D2)" "$DATA.log"; }
if [ -n "$D2" ] && wait_until 30 adopted; then
    pass "the restarted launcher adopts the daemon (pid $D2)"
else
    fail "the restarted launcher adopts the daemon" "$(grep -i backrest "$DATA.log" | tail -20)"
fi
expect_eq "the daemon was not restarted" "$(daemon_pids | tr '\n' ' ')" "${D2:-?} "
expect_eq "the launcher is running again" "$(pgrep -P "$PM" -f 'backrest launcher' | grep -vc "^$LAUNCHER\$")" "1"

# --- 4: the daemon killed during a backup ---------------------------------------------------
# A table of poorly compressible rows makes the copy last long enough to be caught in flight.
must psql_at $PORT "CREATE TABLE bulk AS SELECT g AS id, md5(g::text) || md5((g * 7)::text) AS v
    FROM generate_series(1, 1500000) g"
L4=$(psql_at $PORT "SELECT backrest_backup()")
# In the copy, with progress reported and bytes still to go.
copying() {
    [ "$(psql_at $PORT "SELECT state = 'running' AND phase = 'copy' AND bytes_total > 0 AND bytes_done < bytes_total
        FROM backrest_status() WHERE label = '$L4'")" == "t" ]
}
if wait_until 60 copying; then
    # The worker waits for the daemon on its latch with a wait event (issue 19), not in poll().
    worker_wait() { psql_at $PORT "SELECT wait_event_type || ':' || wait_event FROM pg_stat_activity
        WHERE backend_type = 'backrest backup'"; }
    worker_waits_on_extension() { [ "$(worker_wait)" == "Extension:Extension" ]; }
    if wait_until 5 worker_waits_on_extension; then
        pass "the backup worker waits for the daemon as wait event Extension:Extension"
    else
        fail "the backup worker waits for the daemon as wait event Extension:Extension" "$(worker_wait)"
    fi
    PROGRESS=$(psql_at $PORT "SELECT bytes_done || ' of ' || bytes_total FROM backrest_status() WHERE label = '$L4'")
    D3=$(daemon_pid)
    kill -9 "$D3"
    ended() { [ "$(psql_at $PORT "SELECT state FROM backrest_status() WHERE label = '$L4'")" != "running" ]; }
    wait_until 60 ended
    STATUS=$(psql_at $PORT "SELECT state || '|' || coalesce(error, '') FROM backrest_status() WHERE label = '$L4'")
    expect_eq "backup $L4, its daemon killed during the copy ($PROGRESS bytes), is failed" "${STATUS%%|*}" "failed"
    ERROR=${STATUS#*|}
    if [ -n "$ERROR" ]; then pass "with its error: $ERROR"; else fail "the failed backup shows an error"; fi
    expect_eq "no manifest for $L4" "$(test -e "$IT_TMP/repo/backup/main/$L4/backup.manifest" && echo present || echo absent)" "absent"
    wait_until 20 daemon_answers
    expect_eq "backrest_info() does not list it" \
        "$(psql_at $PORT "SELECT count(*) FROM backrest_info() WHERE label = '$L4'" 2>&1)" "0"
else
    fail "backup $L4 reaches the copy phase" "$(psql_at $PORT "SELECT * FROM backrest_status()")"
fi
L5=$(psql_at $PORT "SELECT backrest_backup(wait => true)" 2>&1)
expect_eq "the next backup succeeds ($L5)" "$(psql_at $PORT "SELECT state FROM backrest_status() WHERE label = '$L5'" 2>&1)" "done"
expect_eq "... and is in the repository" "$(test -e "$IT_TMP/repo/backup/main/$L5/backup.manifest" && echo present)" "present"

# --- 5: backrest_cancel() -------------------------------------------------------------------
# Started early in a second, so that the retry right after the cancel (what a user does) falls
# in the same second as the cancelled backup's label, as it mostly does anyway.
while [ "$(date +%N | cut -c1)" != "0" ]; do sleep 0.02; done
L6=$(psql_at $PORT "SELECT backrest_backup()")
expect_eq "backrest_cancel('$L6') of the running backup" "$(psql_at $PORT "SELECT backrest_cancel('$L6')")" "t"
cancel_ended() { [ "$(psql_at $PORT "SELECT state FROM backrest_status() WHERE label = '$L6'")" != "running" ]; }
wait_until 60 cancel_ended
expect_eq "it ends cancelled" "$(psql_at $PORT "SELECT state FROM backrest_status() WHERE label = '$L6'")" "cancelled"
expect_eq "no manifest for $L6" "$(test -e "$IT_TMP/repo/backup/main/$L6/backup.manifest" && echo present || echo absent)" "absent"
L7=$(psql_at $PORT "SELECT backrest_backup(wait => true)" 2>&1)
expect_eq "the lock is released: the next backup is not refused for it" "$(grep -ci 'lock' <<<"$L7")" "0"
expect_eq "the next backup succeeds ($L7)" "$([[ "$L7" =~ ^[0-9]{8}-[0-9]{6}F$ ]] && echo yes)" "yes"

# --- 2 (end): restore the backup taken under load, to the time target and to the latest -----
must psql_at $PORT "DROP TABLE bulk"
SNAP_LATEST=$(snapshot $PORT)
switch_and_drain "before the restores"
expect_continuous "archive at the end" "$WAL_START"
expect_eq "the time target and the latest state differ" "$([ "$SNAP_TIME" != "$SNAP_LATEST" ] && echo yes)" "yes"

restore_and_compare() {  # name port expected-snapshot restore-args...
    local name=$1 port=$2 want=$3
    shift 3
    local dir=$IT_TMP/restore-$name
    expect_exit "restore $L1 ($name)" 0 "$BR" --config="$CONF" --stanza=main --pg1-path="$dir" --set="$L1" restore "$@"
    [ "$RC" -eq 0 ] || return
    # A plain cluster: no backrest daemon, no archiving into the stanza the primary uses.
    sed -i -e "s/^port = .*/port = $port/" -e "s/^archive_mode = .*/archive_mode = off/" \
        -e '/^shared_preload_libraries/d' -e '/^archive_library/d' -e '/^backrest\./d' "$dir/postgresql.conf"
    pg_start "$dir"
    if wait_promoted "$port"; then
        expect_eq "restore $name: data equals the state at that point" "$(snapshot "$port")" "$want"
    else
        fail "restore $name: recovery did not finish" "$(tail -20 "$dir.log")"
    fi
    pg_stop "$dir"
}
restore_and_compare time 55481 "$SNAP_TIME" --type=time "--target=$TIME_TARGET" --target-action=promote
restore_and_compare latest 55482 "$SNAP_LATEST"

# --- fast shutdown under load: the archiver's last round still has the daemon ---------------
pgbench_start 60
sleep 3
LOG_LINES=$(wc -l <"$DATA.log")
must as_pg "$PGBIN/pg_ctl" -D "$DATA" -m fast -w -t 120 stop
pgbench_wait
REDO=$(as_pg "$PGBIN/pg_controldata" "$DATA" | sed -n "s/^Latest checkpoint's REDO WAL file: *//p")
LAST=$(archived_segments | tail -1)
expect_eq "the shutdown archived the last segment before the shutdown checkpoint's ($REDO)" \
    "$(next_segment "$LAST")" "$REDO"
expect_eq "no .ready file is left" "$(ready_count)" "0"
expect_eq "no archive failure logged during the shutdown" \
    "$(tail -n +"$((LOG_LINES + 1))" "$DATA.log" | grep -c 'archiving WAL file .* failed')" "0"
daemon_gone() { [ -z "$(daemon_pids)" ]; }
if wait_until 10 daemon_gone; then
    pass "the daemon exits after the postmaster"
else
    fail "the daemon exits after the postmaster" "$(daemon_pids)"
fi

# --- backrest_backup() from a standby (backup-standby=y in the daemon's config) -------------
# The daemon on the primary reads the relation files from the standby's data directory once the
# standby has replayed to the start; marker files of one server only show by their bytes which
# server each kind of file came from. Ports 57226-57227 (issue 21's range).
# The daemon's WAL stream holds one WAL sender, pg_basebackup two, then the standby one. The
# daemon reads its config at start: the primary started with backup-standby=y in it.
echo "max_wal_senders = 5" >>"$DATA/postgresql.conf"
STANDBY=$IT_TMP/standby
printf 'pg2-path=%s\npg2-socket-path=%s\npg2-port=57226\nbackup-standby=y\n' "$STANDBY" "$IT_TMP" >>"$CONF"
pg_start "$DATA"
must as_pg "$PGBIN/pg_basebackup" -h "$IT_TMP" -p $PORT -U postgres -D "$STANDBY" -R -X stream -c fast
# A plain standby: no daemon of its own on the primary's socket directory.
sed -i -e "s/^port = .*/port = 57226/" -e '/^shared_preload_libraries/d' -e '/^archive_library/d' \
    -e '/^backrest\./d' "$STANDBY/postgresql.conf"
DBDIR=base/$(psql_at $PORT "SELECT oid FROM pg_database WHERE datname = 'postgres'")
as_pg sh -c "echo primary >'$DATA/$DBDIR/backrest_marker' && echo primary >'$DATA/backrest_marker'"
as_pg sh -c "echo standby >'$STANDBY/$DBDIR/backrest_marker' && echo standby >'$STANDBY/backrest_marker'"
pg_start "$STANDBY"
must psql_at $PORT "INSERT INTO marker VALUES (2100, 'backup from a standby')"
SNAP_STANDBY=$(snapshot $PORT)
L_STANDBY=$(psql_at $PORT "SELECT backrest_backup(wait => true)" 2>&1)
expect_eq "backrest_backup() with backup-standby=y returns a label" "$(printf '%s' "$L_STANDBY" | grep -cE '^[0-9]{8}-[0-9]{6}F$')" "1"
R=$IT_TMP/restore-sql-standby
expect_exit "restore the backup taken from the standby" 0 "$BR" --config="$CONF" --stanza=main --pg1-path="$R" \
    --set="$L_STANDBY" restore --type=immediate --target-action=promote
expect_eq "SQL backup: the relation directory's files are the standby's" "$(cat "$R/$DBDIR/backrest_marker" 2>&1)" "standby"
expect_eq "SQL backup: the data directory's own files are the primary's" "$(cat "$R/backrest_marker" 2>&1)" "primary"
expect_eq "SQL backup: no standby.signal" "$(test -e "$R/standby.signal" && echo present || echo absent)" "absent"
sed -i -e "s/^port = .*/port = 57227/" -e "s/^archive_mode = .*/archive_mode = off/" \
    -e '/^shared_preload_libraries/d' -e '/^archive_library/d' -e '/^backrest\./d' "$R/postgresql.conf"
pg_start "$R"
if wait_promoted 57227; then
    expect_eq "SQL backup from the standby: restored data equals the primary's at the backup" "$(snapshot 57227)" "$SNAP_STANDBY"
else
    fail "SQL backup from the standby: recovery did not finish" "$(tail -20 "$R.log")"
fi
pg_stop "$R"
# The standby down: y makes backrest_backup() fail, naming pg2.
pg_stop "$STANDBY"
OUT=$(psql_at $PORT "SELECT backrest_backup(wait => true)" 2>&1)
expect_contains "backrest_backup() with the standby down: an error naming pg2" "$OUT" \
    "backup-standby=y but the standby pg2 ($STANDBY, port 57226) is not usable"
pg_stop "$DATA"
