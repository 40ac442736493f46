#!/usr/bin/env bash
# backrest_drill() and `drill` entries of backrest.schedule on a real preloaded primary: an unset
# drill-path is the SQL call's error naming it; a drill of a healthy backup is a job that
# backrest_status() shows running (its id, its phase) and then done, and backrest_info() shows
# as the backup's drill; a second backrest_drill() while one runs is refused naming it, and one
# while a CLI drill holds drill-path is refused naming the holder; a damaged file in the backup
# fails the job naming the file (wait => true raises it); backrest_cancel() ends a drill, which
# cleans up after itself and is recorded as terminated; a schedule `drill: * * * * *` runs a
# drill, never two at once (a drill held past its next due minute runs the next one once, after
# it), and a reload that removes the entry stops it.
set -u
SUITE=drill_sql
START=$SECONDS
stamp() { echo "# $((SECONDS - START)) s: $1"; }
TEST_BACKREST_BIN=${TEST_BACKREST_BIN:-$(dirname "$0")/../../build/backrest}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
source "$(dirname "$0")/lib.sh"
it_setup

PORT=57480
DRILL_PORT=57481
DATA=$IT_TMP/primary
CONF=$IT_TMP/backrest.conf
SOCKDIR=$IT_TMP/sock
DRILL=$IT_TMP/drill
SCRATCH=$DRILL/backrest-drill-main
# A drill's server left running by a failure of this suite is stopped with the others.
IT_SERVERS+=("$SCRATCH/data")
HOLDER=
STOPPED=

# The daemon's drill processes of this suite (their command line names its config file).
drill_pids() { pgrep -f -- "--config=$CONF --stanza=main --pg1-path=$DATA --log-level-console=info.* drill\$"; }
cleanup() {
    local pid
    [ -n "$STOPPED" ] && kill -CONT "$STOPPED" 2>/dev/null
    [ -n "$HOLDER" ] && kill $(pgrep -P "$HOLDER") "$HOLDER" 2>/dev/null
    ext_stop_all "$SOCKDIR"
    for pid in $(drill_pids); do kill -9 "$pid" 2>/dev/null; done
    it_finish
}
trap cleanup EXIT

ext_install drill_sql

# No drill-path yet: the first assertion is about that.
write_conf() {  # [global line ...]
    {
        printf '[global]\nrepo1-path=%s\nlock-path=%s\nspool-path=%s\nstart-fast=y\n' \
            "$IT_TMP/repo" "$IT_TMP/lock" "$IT_TMP/spool"
        for line in "$@"; do printf '%s\n' "$line"; done
        printf '\n[main]\npg1-path=%s\npg1-socket-path=%s\npg1-port=%s\n' "$DATA" "$IT_TMP" $PORT
    } >"$CONF"
    chmod 0644 "$CONF"
}
write_conf

pg_init "$DATA" $PORT
ext_conf "$DATA" main "$CONF" "$SOCKDIR" \
    'log_min_messages = log' \
    "timezone = 'UTC'"
pg_start "$DATA"
must psql_at $PORT "CREATE EXTENSION backrest"
must psql_at $PORT "SELECT backrest_stanza_create()"
must as_pg "$PGBIN/pgbench" -h "$IT_TMP" -p $PORT -U postgres -i -s 1 -q postgres

sql() { psql_at $PORT "$1"; }
# The SQL call's error (psql's stderr) and status: OUT, RC.
sql_err() {
    OUT=$(as_pg "$PGBIN/psql" -X -h "$IT_TMP" -p $PORT -U postgres -d postgres -Atq -v ON_ERROR_STOP=1 -c "$1" 2>&1)
    RC=$?
}
# Waits until `sql` returns `want` (up to `seconds`); prints the last value.
wait_for() {  # seconds want sql
    local seconds=$1 want=$2 query=$3 got=
    for _ in $(seq 1 $((seconds * 2))); do
        got=$(sql "$query" 2>/dev/null)
        [ "$got" == "$want" ] && break
        sleep 0.5
    done
    echo "$got"
}
job() {  # id column
    sql "SELECT $2 FROM backrest_status() WHERE label = '$1'"
}
drill_jobs() { sql "SELECT count(*) FROM backrest_status() WHERE type = 'drill'"; }

stamp "backup"
B1=$(sql "SELECT backrest_backup('full', wait => true)")
expect_contains "setup: a full backup" "$B1" "F"

# --- drill-path unset: the SQL call's error names the option; the job is failed with it ---
sql_err "SELECT backrest_drill()"
expect_eq "drill-path unset: the call fails" "$([ $RC -ne 0 ] && echo failed)" failed
expect_contains "drill-path unset: the error names drill-path" "$OUT" "drill failed to start: option 'drill-path' is required"
expect_eq "drill-path unset: the job is failed naming it" \
    "$(sql "SELECT state || ': ' || (error LIKE '%option ''drill-path'' is required%') FROM backrest_status() WHERE type = 'drill'")" \
    "failed: true"
expect_eq "drill-path unset: nothing created" "$(test -e "$DRILL" && echo present || echo absent)" absent

write_conf "drill-path=$DRILL" "drill-port=$DRILL_PORT"
as_pg mkdir -p "$DRILL"

# --- Bad arguments are refused before any job starts ---
sql_err "SELECT backrest_drill(repo => 5)"
expect_contains "repo 5 refused" "$OUT" "invalid repository 5"
sql_err "SELECT backrest_drill(type => 'standby')"
expect_contains "type standby refused by the drill, as the CLI" "$OUT" "drill --type=standby cannot be checked"

# --- A CLI drill holding drill-path: refused at once naming the holder, no hang ---
"${PG_EXEC[@]}" flock -o "$SCRATCH.lock" sleep 600 &
HOLDER=$!
for _ in $(seq 1 50); do as_pg flock -n "$SCRATCH.lock" true 2>/dev/null || break; sleep 0.1; done
sql_err "SELECT backrest_drill()"
expect_contains "drill-path held: the call names the other drill" "$OUT" "another drill of this stanza is running in '$DRILL' (flock, pid $HOLDER)"
# flock's child (sleep) too: it would keep this shell's other descriptors open.
kill $(pgrep -P "$HOLDER") "$HOLDER" 2>/dev/null
wait "$HOLDER" 2>/dev/null
HOLDER=

stamp "a healthy drill"
# --- A healthy backup: the job runs, is shown running (held with SIGSTOP, so that what is
# asserted while it runs cannot be missed), a second drill is refused naming it, then passes ---
# set => B1: a backup taken while this drill is held must not become the one it drills.
ID=$(sql "SELECT backrest_drill(set => '$B1')")
expect_eq "backrest_drill() returns the drill's id" "$(grep -cE '^[0-9]{8}-[0-9]{9}$' <<<"$ID")" 1
STOPPED=$(drill_pids | head -1)
[ -n "$STOPPED" ] && kill -STOP "$STOPPED"
expect_eq "the drill is one process of the daemon, not of the postmaster" \
    "$(ps -o ppid= -p "$STOPPED" | tr -d ' ')" "$(pgrep -f "backrest serve .*--socket-path=$SOCKDIR" | head -1)"
expect_eq "while it runs: backrest_status() shows it running" "$(job "$ID" "type || ' ' || state")" "drill running"
expect_eq "while it runs: its phase is one of the drill's" \
    "$(job "$ID" "phase IN ('plan', 'restore', 'start', 'recovery', 'checks', 'stop')")" t
sql_err "SELECT backrest_drill()"
expect_contains "a second drill is refused naming the first" "$OUT" "a drill is already running: $ID"
# A drill only reads the repository: a backup may run meanwhile.
B2=$(sql "SELECT backrest_backup('full', wait => true)")
expect_contains "a backup runs beside the drill" "$B2" "F"
kill -CONT "$STOPPED"
STOPPED=
expect_eq "the drill ends passed" "$(wait_for 180 done "SELECT state FROM backrest_status() WHERE label = '$ID'")" done
expect_eq "its phase ends done, no error" "$(job "$ID" "phase || ' ' || coalesce(error, 'none')")" "done none"
expect_eq "backrest_info(): the drilled backup's drill passed, after the job started" \
    "$(sql "SELECT drill_result || ' ' || (drill_time >= (SELECT started FROM backrest_status() WHERE label = '$ID') - interval '1 s') FROM backrest_info() WHERE label = '$B1'")" \
    "passed true"
expect_eq "the scratch directory is gone" "$(test -e "$SCRATCH" && echo present || echo absent)" absent

stamp "a damaged file"
# --- A damaged file in the backup: the job fails naming it (wait => true raises it) ---
VICTIM=$(find "$IT_TMP/repo/backup/main/$B2/pg_data/base" -type f -printf '%s %p\n' | sort -n | tail -1 | cut -d' ' -f2)
VICTIM_NAME=${VICTIM#"$IT_TMP/repo/backup/main/$B2/"}
VICTIM_NAME=${VICTIM_NAME%.zst}
VICTIM_NAME=${VICTIM_NAME%.lz4}
SIZE=$(stat -c %s "$VICTIM")
OFFSET=$((SIZE / 2))
BYTE=$(dd if="$VICTIM" bs=1 skip=$OFFSET count=1 2>/dev/null | od -An -tu1 | tr -d ' ')
printf "$(printf '\\%03o' $(((BYTE + 1) % 256)))" | dd of="$VICTIM" bs=1 seek=$OFFSET conv=notrunc 2>/dev/null
sql_err "SELECT backrest_drill(set => '$B2', wait => true)"
expect_eq "damaged file: wait => true raises the drill's error" "$([ $RC -ne 0 ] && echo failed)" failed
expect_contains "damaged file: the error names the file" "$OUT" "file '$VICTIM_NAME' of backup $B2 is damaged"
DAMAGED=$(sql "SELECT label FROM backrest_status() WHERE type = 'drill' ORDER BY started DESC LIMIT 1")
expect_eq "damaged file: the job is failed, in the restore phase, naming the file" \
    "$(job "$DAMAGED" "state || ' ' || phase || ' ' || (error LIKE '%file ''$VICTIM_NAME'' of backup $B2 is damaged%')")" \
    "failed restore true"
expect_eq "damaged file: backrest_info() shows the failed drill" \
    "$(sql "SELECT drill_result FROM backrest_info() WHERE label = '$B2'")" failed

stamp "a cancelled drill"
# --- backrest_cancel() of a running drill: the job ends cancelled, and the drill (a process of
# the daemon's) stops its server and removes its directory by itself ---
C=$(sql "SELECT backrest_drill(set => '$B1')")
expect_eq "backrest_cancel() of the drill" "$(sql "SELECT backrest_cancel('$C')")" t
expect_eq "the cancelled drill's job" "$(wait_for 30 cancelled "SELECT state FROM backrest_status() WHERE label = '$C'")" cancelled
for _ in $(seq 1 120); do [ -z "$(drill_pids)" ] && break; sleep 0.5; done
expect_eq "the cancelled drill's process has ended" "$(drill_pids | wc -l)" 0
expect_eq "the cancelled drill's directory is removed" "$(test -e "$SCRATCH" && echo present || echo absent)" absent
expect_eq "the cancelled drill is recorded as terminated" \
    "$(as_pg "$BR" --config="$CONF" --stanza=main info --output=json | jq -r --arg id "$C" '.[0].drill[] | select(.id == $id) | .error' | grep -c 'terminated on signal')" 1

stamp "the schedule"
# --- drill entries in backrest.schedule ---
B3=$(sql "SELECT backrest_backup('full', wait => true)")  # the newest backup is healthy again
BEFORE=$(drill_jobs)
sql "ALTER SYSTEM SET backrest.schedule = 'drill: * * * * *'" >/dev/null
sql "SELECT pg_reload_conf()" >/dev/null
expect_eq "the schedule shows the drill entry" \
    "$(wait_for 10 "drill * * * * *" "SELECT type || ' ' || schedule FROM backrest_schedule()")" "drill * * * * *"
# The first run: within the next minute.
expect_eq "a scheduled drill started" "$(wait_for 90 $((BEFORE + 1)) "SELECT count(*) FROM backrest_status() WHERE type = 'drill'")" $((BEFORE + 1))
newest_drill() { sql "SELECT label FROM backrest_status() WHERE type = 'drill' ORDER BY started DESC LIMIT 1"; }
wait_for 30 t "SELECT label IS NOT NULL FROM backrest_status() WHERE type = 'drill' ORDER BY started DESC LIMIT 1" >/dev/null
S1=$(newest_drill)
STOPPED=$(drill_pids | head -1)
[ -n "$STOPPED" ] && kill -STOP "$STOPPED"
expect_eq "backrest_schedule(): the entry is running, its last label the drill" \
    "$(sql "SELECT state || ' ' || last_label FROM backrest_schedule()")" "running $S1"
# Held past the next due minute: never a second drill at once.
MINUTE=$(date -u +%M)
while [ "$(date -u +%M)" == "$MINUTE" ]; do sleep 1; done
sleep 3
expect_eq "past its next due time: still one drill, no second" "$(($(drill_jobs) - BEFORE))" 1
kill -CONT "$STOPPED"
STOPPED=
expect_eq "the scheduled drill ends passed" "$(wait_for 180 done "SELECT state FROM backrest_status() WHERE label = '$S1'")" done
# The run due meanwhile starts once, after it.
expect_eq "the due run then starts, once" "$(wait_for 30 $((BEFORE + 2)) "SELECT count(*) FROM backrest_status() WHERE type = 'drill'")" $((BEFORE + 2))
expect_eq "server log: the scheduled drill's outcome" "$(grep -c "backrest schedule: drill $S1 done" "$DATA.log")" 1
# --- A reload that removes the entry stops the schedule: no drill after the one running ---
sql "ALTER SYSTEM SET backrest.schedule = ''" >/dev/null
sql "SELECT pg_reload_conf()" >/dev/null
expect_eq "the reload empties backrest_schedule()" "$(wait_for 10 0 "SELECT count(*) FROM backrest_schedule()")" 0
wait_for 30 t "SELECT label IS NOT NULL FROM backrest_status() WHERE type = 'drill' ORDER BY started DESC LIMIT 1" >/dev/null
S2=$(newest_drill)
expect_eq "the last scheduled drill ends" "$(wait_for 180 done "SELECT state FROM backrest_status() WHERE label = '$S2'")" done
MINUTE=$(date -u +%M)
while [ "$(date -u +%M)" == "$MINUTE" ]; do sleep 1; done
sleep 5
expect_eq "after the next minute: no drill started" "$(($(drill_jobs) - BEFORE))" 2
expect_eq "backrest_info(): the newest backup's drill passed" \
    "$(sql "SELECT drill_result FROM backrest_info() WHERE label = '$B3'")" passed
stamp "done"
