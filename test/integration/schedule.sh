#!/usr/bin/env bash
# backrest.schedule run by the launcher (extension/schedule.h) on a real preloaded primary and
# its streaming standby: a bad schedule refused naming its entry; a missed run not taken with
# backrest.schedule_catchup = off and taken once when it is turned on; no catch-up after a
# restart when the newest backup covers the schedule; a schedule every minute taking one backup
# per minute, in its minute, changed and emptied by a reload; a run due while another backup
# runs waiting for it (never two at once) and then taken once; the standby running nothing.
set -u
SUITE=schedule
TEST_BACKREST_BIN=${TEST_BACKREST_BIN:-$(dirname "$0")/../../build/backrest}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
source "$(dirname "$0")/lib.sh"
it_setup

PORT=57420
STANDBY_PORT=57421
DATA=$IT_TMP/primary
STANDBY=$IT_TMP/standby
CONF=$IT_TMP/backrest.conf
SOCKDIR=$IT_TMP/sock
STANDBY_SOCKDIR=$IT_TMP/sock-standby
STOPPED_PID=

cleanup() {
    [ -n "$STOPPED_PID" ] && kill -CONT "$STOPPED_PID" 2>/dev/null
    ext_stop_all "$IT_TMP/sock"
    it_finish
}
trap cleanup EXIT

ext_install schedule

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
    "timezone = 'UTC'"
pg_start "$DATA"
must psql_at $PORT "CREATE EXTENSION backrest"
must psql_at $PORT "SELECT backrest_stanza_create()"
must as_pg "$PGBIN/pgbench" -h "$IT_TMP" -p $PORT -U postgres -i -s 1 -q postgres

sql() { psql_at $PORT "$1"; }
set_schedule() {  # value [catchup]
    sql "ALTER SYSTEM SET backrest.schedule = '$1'" >/dev/null
    [ $# -ge 2 ] && sql "ALTER SYSTEM SET backrest.schedule_catchup = $2" >/dev/null
    sql "SELECT pg_reload_conf()" >/dev/null
}
backup_count() { sql "SELECT count(*) FROM backrest_info()"; }
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
# Waits until the server log has `text` after line `from` (up to `seconds`); true when found.
wait_log() {  # seconds from text
    for _ in $(seq 1 $(($1 * 2))); do
        tail -n +"$2" "$DATA.log" | grep -qF "$3" && return 0
        sleep 0.5
    done
    return 1
}
log_lines() { wc -l <"$DATA.log"; }
# Sleeps into the next minute if fewer than `margin` seconds are left in this one, so that a
# step that must finish within one minute has time to.
not_near_minute_end() {  # margin
    local s
    s=$(date -u +%-S)
    [ $((60 - s)) -lt "$1" ] && sleep $((61 - s))
}

# --- a bad schedule is refused naming its entry, and the one in force stays ---
out=$(as_pg "$PGBIN/psql" -X -h "$IT_TMP" -p $PORT -U postgres -d postgres -Atq \
    -c "ALTER SYSTEM SET backrest.schedule = 'full 0 1 * * sun; weekly 0 1 * * *'" 2>&1)
expect_contains "bad schedule: refused naming the entry" "$out" \
    "backrest.schedule entry 2 'weekly 0 1 * * *': 'weekly' is not a backup type (use full, diff, incr, drill)"
out=$(as_pg "$PGBIN/psql" -X -h "$IT_TMP" -p $PORT -U postgres -d postgres -Atq \
    -c "ALTER SYSTEM SET backrest.schedule = 'incr 61 * * * *'" 2>&1)
expect_contains "bad schedule: the field named" "$out" "minute field '61' is out of range 0-59"
out=$(as_pg "$PGBIN/psql" -X -h "$IT_TMP" -p $PORT -U postgres -d postgres -Atq \
    -c "ALTER SYSTEM SET backrest.schedule = 'full 0 3 30 2 *'" 2>&1)
expect_contains "bad schedule: a day that never comes" "$out" \
    "cron expression '0 3 30 2 *' never matches: none of its months has such a day"
expect_eq "bad schedule: nothing scheduled" "$(sql "SELECT count(*) FROM backrest_schedule()")" 0

# --- a missed run: not taken with catch-up off, taken once when it is turned on ---
# The yearly entry's last due time (1 January 00:00 UTC) has no full backup after it.
YEAR=$(date -u +%Y)
from=$(log_lines)
set_schedule 'full 0 0 1 1 *' off
expect_eq "catch-up off: the missed run is shown" \
    "$(wait_for 60 missed "SELECT last_result FROM backrest_schedule()")" missed
expect_eq "catch-up off: what was missed" "$(sql "SELECT last_detail FROM backrest_schedule()")" \
    "the run due at $YEAR-01-01 00:00 UTC (backrest.schedule_catchup is off)"
expect_eq "catch-up off: next run" "$(sql "SELECT next_run FROM backrest_schedule()")" \
    "$((YEAR + 1))-01-01 00:00:00+00"
expect_eq "catch-up off: no backup started" "$(sql "SELECT count(*) FROM backrest_status()")" 0
if wait_log 5 "$from" "was missed and is not taken (backrest.schedule_catchup is off)"; then
    pass "catch-up off: the log says the run was missed"
else
    fail "catch-up off: the log says the run was missed"
fi
set_schedule 'full 0 0 1 1 *' on
expect_eq "catch-up on: the missed run is taken" \
    "$(wait_for 120 done "SELECT last_result FROM backrest_schedule()")" done
expect_eq "catch-up on: as a catch-up" "$(sql "SELECT last_detail FROM backrest_schedule()")" \
    "catch-up of the run due at $YEAR-01-01 00:00 UTC"
expect_eq "catch-up on: one full backup" "$(sql "SELECT string_agg(type, ',') FROM backrest_info()")" full
CATCHUP_LABEL=$(sql "SELECT label FROM backrest_info()")
expect_eq "catch-up on: backrest_schedule names it" "$(sql "SELECT last_label FROM backrest_schedule()")" \
    "$CATCHUP_LABEL"

# --- after a restart, the newest full covers the entry: no second catch-up ---
from=$(log_lines)
must as_pg "$PGBIN/pg_ctl" -D "$DATA" -l "$DATA.log" -w -t 120 -m fast restart
if wait_log 60 "$from" "catch-up check: no run was missed"; then
    pass "restart: the catch-up check found nothing missed"
else
    fail "restart: the catch-up check found nothing missed"
fi
expect_eq "restart: still one backup" "$(backup_count)" 1
expect_eq "restart: the entry waits" "$(sql "SELECT state || ' ' || coalesce(last_result, '-') FROM backrest_schedule()")" \
    "waiting -"

# --- a streaming standby with the same schedule runs none of it ---
must as_pg "$PGBIN/pg_basebackup" -h "$IT_TMP" -p $PORT -U postgres -D "$STANDBY" -R -X stream -c fast
cat >>"$STANDBY/postgresql.conf" <<CONF
port = $STANDBY_PORT
backrest.socket_directory = '$STANDBY_SOCKDIR'
CONF
pg_start "$STANDBY"
sb() { as_pg "$PGBIN/psql" -X -h "$IT_TMP" -p $STANDBY_PORT -U postgres -d postgres -Atq -c "$1"; }

# --- every minute: one backup per minute, in its minute; the reload took it at once ---
# A minute after the newest backup's end, so that this minute's run is missed (a catch-up).
LAST_STOP=$(sql "SELECT extract(epoch from max(stop_time))::bigint FROM backrest_info()")
while [ "$(date -u +%s)" -lt $(( (LAST_STOP / 60 + 1) * 60 )) ]; do sleep 1; done
not_near_minute_end 25
T0=$(date -u +%s)
from=$(log_lines)
set_schedule 'incr * * * * *'
sb "ALTER SYSTEM SET backrest.schedule = 'incr * * * * *'" >/dev/null
sb "SELECT pg_reload_conf()" >/dev/null
B1=$(( (T0 / 60 + 1) * 60 ))
expect_eq "every minute: the reload took it" \
    "$(wait_for 30 "incr * * * * *" "SELECT type || ' ' || schedule FROM backrest_schedule()")" \
    "incr * * * * *"
if wait_log 30 "$from" "backrest schedule: no incr backup ended since"; then
    pass "every minute: this minute's run is caught up"
else
    fail "every minute: this minute's run is caught up"
fi
got=$(wait_for 150 "done $B1" "SELECT last_result || ' ' || extract(epoch from date_trunc('minute', last_run))::bigint FROM backrest_schedule()")
expect_eq "every minute: the next minute's run started in it and is done" "$got" "done $B1"
S1_START=$(sql "SELECT extract(epoch from max(start_time))::bigint FROM backrest_info()")
if [ "$S1_START" -ge "$B1" ] && [ "$S1_START" -lt $((B1 + 60)) ]; then
    pass "every minute: its backup started in its minute"
else
    fail "every minute: its backup started in its minute ($S1_START, minute $B1)"
fi
expect_eq "every minute: the catch-up and one run, both incr" \
    "$(sql "SELECT count(*) || ' ' || string_agg(DISTINCT type, ',') FROM backrest_info() WHERE start_time >= to_timestamp($T0)")" \
    "2 incr"

# --- a run due while another backup runs waits for it, and is taken once ---
# The checkpointer stopped holds the manual backup in pg_backup_start (a fast checkpoint).
CKPT=$(sql "SELECT pid FROM pg_stat_activity WHERE backend_type = 'checkpointer'")
kill -STOP "$CKPT"
STOPPED_PID=$CKPT
LABEL=$(sql "SELECT backrest_backup('full')")
expect_eq "busy: the run comes due and waits" \
    "$(wait_for 90 due "SELECT state FROM backrest_schedule()")" due
expect_eq "busy: one backup running, not two" \
    "$(sql "SELECT count(*) || ' ' || string_agg(label, ',') FROM backrest_status() WHERE state IN ('starting', 'running')")" \
    "1 $LABEL"
if wait_log 10 "$from" "the incr backup that is due waits: a backup is already running: $LABEL"; then
    pass "busy: the log says the run waits for $LABEL"
else
    fail "busy: the log says the run waits for $LABEL"
fi
kill -CONT "$CKPT"
STOPPED_PID=
expect_eq "busy: the manual backup ends" \
    "$(wait_for 120 done "SELECT state FROM backrest_status() WHERE label = '$LABEL'")" done
got=$(wait_for 120 "done" "SELECT last_result FROM backrest_schedule() WHERE last_label IS DISTINCT FROM '$LABEL' AND last_run >= (SELECT finished FROM backrest_status() WHERE label = '$LABEL') - interval '1 second'")
expect_eq "busy: the waiting run taken after it" "$got" done

# --- emptied by a reload: nothing scheduled any more ---
set_schedule ''
expect_eq "reload: schedule emptied" "$(wait_for 30 0 "SELECT count(*) FROM backrest_schedule()")" 0
SINCE="FROM backrest_info() WHERE start_time >= to_timestamp($T0)"
expect_eq "busy: catch-up, run, manual, the waited run" \
    "$(sql "SELECT string_agg(type, ',' ORDER BY start_time) FROM (SELECT type, start_time $SINCE ORDER BY start_time LIMIT 4) s")" \
    "incr,incr,full,incr"
# A fifth backup (if the next minute came before the reload) is that minute's, never a double.
expect_eq "busy: the waited run was not doubled" \
    "$(sql "SELECT count(*) FROM (SELECT start_time, row_number() OVER (ORDER BY start_time) AS n $SINCE) s WHERE n = 5 AND date_trunc('minute', start_time) <= (SELECT date_trunc('minute', max(start_time)) FROM (SELECT start_time $SINCE ORDER BY start_time LIMIT 4) f)")" 0
ORDERED=$(sql "SELECT bool_and(start_time >= prev_stop) FROM (SELECT start_time, lag(stop_time) OVER (ORDER BY start_time) AS prev_stop FROM backrest_info()) s WHERE prev_stop IS NOT NULL")
expect_eq "busy: no two backups overlapped" "$ORDERED" t

# --- the standby ran none of it ---
expect_eq "standby: the entry is not run there" "$(sb "SELECT state || ' ' || schedule FROM backrest_schedule()")" \
    "standby * * * * *"
expect_contains "standby: it says why" "$(sb "SELECT note FROM backrest_schedule()")" \
    "this server is in recovery (a standby): the schedule runs once it is promoted"
expect_eq "standby: no backup job started there" "$(sb "SELECT count(*) FROM backrest_status()")" 0

# --- kill -9 of a scheduled backup: after the crash restart, the missed run is taken again ---
# An entry due this very minute, in a minute after the newest backup ended (so nothing covers
# it); its run is held in pg_backup_start (checkpointer stopped).
LAST_STOP=$(sql "SELECT extract(epoch from max(stop_time))::bigint FROM backrest_info()")
while [ "$(date -u +%s)" -lt $(( (LAST_STOP / 60 + 1) * 60 )) ]; do sleep 1; done
not_near_minute_end 30
HM=$(date -u +"%-M %-H")
from=$(log_lines)
CKPT=$(sql "SELECT pid FROM pg_stat_activity WHERE backend_type = 'checkpointer'")
kill -STOP "$CKPT"
STOPPED_PID=$CKPT
set_schedule "full $HM * * *"
expect_eq "kill -9: the run due this minute is taken (a catch-up)" \
    "$(wait_for 60 running "SELECT last_result FROM backrest_schedule()")" running
KILLED_LABEL=
for _ in $(seq 1 60); do
    KILLED_LABEL=$(sql "SELECT coalesce(max(label), '') FROM backrest_status() WHERE state = 'running'")
    [ -n "$KILLED_LABEL" ] && break
    sleep 0.5
done
WORKER=$(sql "SELECT pid FROM backrest_status() WHERE label = '$KILLED_LABEL'")
kill -CONT "$CKPT"
STOPPED_PID=
kill -9 "$WORKER"
if wait_log 90 "$from" "all server processes terminated; reinitializing"; then
    pass "kill -9: the server restarted after the crash"
else
    fail "kill -9: the server restarted after the crash"
fi
got=$(wait_for 180 done "SELECT last_result FROM backrest_schedule()")
expect_eq "kill -9: the run is taken again after the restart" "$got" done
NEW_LABEL=$(sql "SELECT last_label FROM backrest_schedule()")
expect_eq "kill -9: a new full backup, listed" \
    "$(sql "SELECT type FROM backrest_info() WHERE label = '$NEW_LABEL'")" full
expect_eq "kill -9: the killed one is not listed" \
    "$(sql "SELECT count(*) FROM backrest_info() WHERE label = '$KILLED_LABEL'")" 0
expect_eq "kill -9: the catch-up was decided twice (before and after the crash)" \
    "$(tail -n +"$from" "$DATA.log" | grep -c "backrest schedule: no full backup ended since")" 2
set_schedule ''
