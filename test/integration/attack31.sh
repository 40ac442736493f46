#!/usr/bin/env bash
# Attacks on what m31 added, from outside: backup --repo=all (kill -9 at several moments, two at
# once, repo2 read-only mid-run, process-max 1 vs 4 on many small files and a few large ones,
# files growing and truncated during the run), drill (symlinked drill-path into pg1-path, an
# encrypted repository, kill -9 mid-recovery, restore into the drill's own directory, a backup
# at the same time), backrest.schedule values that never or too often fire, and the daemon's
# metrics-listen endpoint (garbage, many idle connections, kill -9 while serving). Every check
# asserts the correct behaviour: a failing check is a defect. Every command runs under timeout:
# exit 124 is a HANG.
set -u
SUITE=attack31
START=$SECONDS
stamp() { echo "# $((SECONDS - START)) s: $1"; }
TEST_BACKREST_BIN=${TEST_BACKREST_BIN:-$(dirname "$0")/../../build/backrest}
source "$(dirname "$0")/lib.sh"
it_setup
if [ "$(id -u)" -ne 0 ]; then
    fail "setup: attack31 runs as root (it preloads the extension)"
    exit 1
fi

PORT=57440
DRILLPORT=57441
HTTP=57442
URL=http://127.0.0.1:$HTTP/metrics
DATA=$IT_TMP/primary
CONF=$IT_TMP/backrest.conf
SOCKDIR=$IT_TMP/sock
DRILL=$IT_TMP/drill
SCRATCH=$DRILL/backrest-drill-main
LOCK=$IT_TMP/lock/main-backup.lock
IT_SERVERS+=("$SCRATCH/data" "$IT_TMP/restore-r1" "$IT_TMP/restore-r2")
BG=()
daemon_pids() { pgrep -f "backrest serve .*--socket-path=$SOCKDIR( |\$)"; }
cleanup() {
    local p d
    for p in "${BG[@]}"; do kill -9 "$p" 2>/dev/null; done
    chmod -R u+w "$IT_TMP/repo2" 2>/dev/null
    for d in "${IT_SERVERS[@]}"; do
        [ -f "$d/postmaster.pid" ] && as_pg "$PGBIN/pg_ctl" -D "$d" -m immediate -w stop >/dev/null 2>&1
    done
    for _ in $(seq 1 20); do [ -z "$(daemon_pids)" ] && break; sleep 0.1; done
    for p in $(daemon_pids); do kill -9 "$p" 2>/dev/null; done
    it_finish
}
trap cleanup EXIT

it_conf "$CONF" 0600 <<CONF
[global]
repo1-path=$IT_TMP/repo
repo1-bundle=y
repo2-path=$IT_TMP/repo2
repo2-cipher-type=aes-256-gcm
repo2-cipher-pass=attack31-secret-passphrase
lock-path=$IT_TMP/lock
spool-path=$IT_TMP/spool
start-fast=y
drill-port=$DRILLPORT
drill-path=$DRILL
metrics-listen=127.0.0.1:$HTTP

[main]
pg1-path=$DATA
pg1-socket-path=$IT_TMP
pg1-port=$PORT
CONF
as_pg mkdir -p "$DRILL" "$SOCKDIR"
chmod 0700 "$SOCKDIR"
pg_init "$DATA" $PORT
# The schedule values below are about parsing and next runs: a catch-up run of one (a 29 February
# entry with no backup since the last one) would hold the stanza lock the later checks need.
ext_conf "$DATA" main "$CONF" "$SOCKDIR" \
    'backrest.schedule_catchup = off' \
    'autovacuum = off'
pg_start "$DATA"
must psql_at $PORT "CREATE EXTENSION backrest"
must br stanza-create
# A segment switched now is archived (pg_stat_archiver reaches it) within `seconds`.
wait_archived() {  # seconds
    local seg i last
    psql_at $PORT "CREATE TABLE IF NOT EXISTS walgen(i int); INSERT INTO walgen VALUES (1)" >/dev/null
    seg=$(psql_at $PORT "SELECT pg_walfile_name(pg_switch_wal())")
    for i in $(seq 1 $(($1 * 2))); do
        last=$(psql_at $PORT "SELECT coalesce(last_archived_wal, '') FROM pg_stat_archiver")
        [[ "$last" == "$seg" || "$last" > "$seg" ]] && return 0
        sleep 0.5
    done
    return 1
}
# The daemon started with the server, before the CLI created the stanza (and repo2's key).
if wait_archived 30; then pass "daemon started before stanza-create: WAL archived into both repositories (encrypted repo2)"; else
    fail "daemon started before stanza-create: WAL not archived into the encrypted repo2" \
        "$(grep -E 'archiving WAL file' "$DATA.log" | tail -1)"
    # Work around for the rest of the suite: a new daemon (the launcher's) opens repo2's key.
    for p in $(daemon_pids); do kill -9 "$p"; done
    wait_archived 90 || { fail "setup: no archiving even after a daemon restart" "$(tail -5 "$DATA.log")"; exit 1; }
fi
T() { timeout "${TMO:-300}" "$@"; }
tbr() { as_pg timeout "${TMO:-300}" "$BR" --config="$CONF" --stanza=main "$@"; }
BRT=(timeout 300 "$BR" --config="$CONF" --stanza=main)
# A background command as postgres whose pid is the backrest process itself.
bg() {  # out-file args...
    local out=$1
    shift
    "${PG_EXEC[@]}" "$BR" --config="$CONF" --stanza=main "$@" >"$out" 2>&1 &
    BGPID=$!
    BG+=("$BGPID")
}
bench() { as_pg "$PGBIN/psql" -X -h "$IT_TMP" -p $PORT -U postgres -d bench -Atq -v ON_ERROR_STOP=1 -c "$1"; }
hang_report() {  # pid
    gdb -p "$1" -batch -ex 'thread apply all bt' 2>/dev/null | grep -E '^#|^Thread' | head -40
}
# Waits for a background pid (up to 300 s): its exit status in WRC, 124 (and a backtrace) if hung.
wait_bg() {  # pid
    local i
    for i in $(seq 1 3000); do
        kill -0 "$1" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$1" 2>/dev/null; then
        fail "HANG: pid $1 still running after 300 s" "$(hang_report "$1")"
        kill -9 "$1"
    fi
    wait "$1"
    WRC=$?
}
labels() {  # repo: the labels info lists for it
    tbr --repo="$1" info --output=json | jq -r '.[0].backup[].label' | tr '\n' ' '
}

stamp "data: bench (pgbench -s 3) and 600 small tables"
must psql_at $PORT "CREATE DATABASE bench"
must as_pg "$PGBIN/pgbench" -h "$IT_TMP" -p $PORT -U postgres -i -s 3 -q bench
must bench "DO \$\$ BEGIN FOR i IN 1..600 LOOP EXECUTE format('CREATE TABLE small_%s AS SELECT g, md5(g::text) FROM generate_series(1, %s) g', i, i); END LOOP; END \$\$"
must bench "CREATE TABLE big AS SELECT g, repeat(md5(g::text), 4) AS pad FROM generate_series(1, 400000) g"

# ---- malformed options -------------------------------------------------------------------------
stamp "malformed options"
expect_exit "--repo=all for restore refused" 21 timeout 60 "$BR" --config="$CONF" --stanza=main --repo=all --pg1-path="$IT_TMP/x" restore
expect_contains "--repo=all for restore: names the option" "$OUT" "'all' is only for backup"
expect_exit "--repo=0 backup refused" 21 timeout 60 "$BR" --config="$CONF" --stanza=main --repo=0 backup
expect_contains "--repo=0: names repo" "$OUT" "repo"
expect_exit "--repo=ALL backup refused or accepted, never a crash" 21 timeout 60 "$BR" --config="$CONF" --stanza=main --repo=ALL backup
expect_exit "--drill-port=abc refused" 21 timeout 60 "$BR" --config="$CONF" --stanza=main --drill-port=abc drill
expect_contains "--drill-port=abc: names drill-port" "$OUT" "drill-port"
expect_exit "--drill-port=70000 refused" 21 timeout 60 "$BR" --config="$CONF" --stanza=main --drill-port=70000 drill
expect_contains "--drill-port=70000: names drill-port" "$OUT" "drill-port"
expect_exit "--drill-path= (empty) refused" 21 timeout 60 "$BR" --config="$CONF" --stanza=main --drill-path= drill
expect_exit "--drill-path relative refused" 21 timeout 60 "$BR" --config="$CONF" --stanza=main --drill-path=drill drill
expect_exit "--process-max=0 --repo=all refused" 21 timeout 60 "$BR" --config="$CONF" --stanza=main --process-max=0 --repo=all backup
expect_contains "--process-max=0: names process-max" "$OUT" "process-max"
for bad in "127.0.0.1:99999" "127.0.0.1:" "nohost:x" "[::1"; do
    expect_exit "serve --metrics-listen=$bad refused" 21 timeout 20 "$BR" --config="$CONF" --stanza=main \
        --socket-path="$IT_TMP/badsock" --metrics-listen="$bad" serve
    expect_contains "metrics-listen=$bad: named" "$OUT" "metrics-listen"
done

# ---- schedule values: refused naming them, never a launcher that spins or hangs -----------------
stamp "schedule values"
for _ in $(seq 1 100); do [ -S "$SOCKDIR/backrest.sock" ] && break; sleep 0.1; done
sched_refused() {  # value needle
    local out
    out=$(timeout 30 runuser -u postgres -- "$PGBIN/psql" -X -h "$IT_TMP" -p $PORT -U postgres -d postgres -Atq \
        -v ON_ERROR_STOP=1 -c "ALTER SYSTEM SET backrest.schedule = '$1'" 2>&1)
    local rc=$?
    if [ $rc -eq 124 ]; then fail "HANG: ALTER SYSTEM SET backrest.schedule = '$1'"; return; fi
    if [ $rc -ne 0 ] && [[ "$out" == *backrest.schedule* ]] && [[ "$out" == *"$2"* ]]; then
        pass "schedule '$1' refused naming it ($2)"
    else
        fail "schedule '$1' should be refused naming '$2'" "exit $rc: $out"
        psql_at $PORT "ALTER SYSTEM RESET backrest.schedule" >/dev/null 2>&1
    fi
}
sched_refused 'full */0 * * * *' "0"
# A day that never comes (Feb 30, Apr 31): refused naming it, or accepted and shown as never due;
# never a launcher that loops looking for it.
for never in 'full 0 1 30 2 *' 'full 0 1 31 4 *'; do
    out=$(timeout 30 runuser -u postgres -- "$PGBIN/psql" -X -h "$IT_TMP" -p $PORT -U postgres -d postgres -Atq \
        -v ON_ERROR_STOP=1 -c "ALTER SYSTEM SET backrest.schedule = '$never'" -c "SELECT pg_reload_conf()" 2>&1)
    rc=$?
    sleep 2
    got=$(timeout 20 runuser -u postgres -- "$PGBIN/psql" -X -h "$IT_TMP" -p $PORT -U postgres -d postgres -Atq \
        -c "SELECT coalesce(next_run::text, 'never') || ' ' || state FROM backrest_schedule()" 2>&1)
    rc2=$?
    if [ $rc -ne 0 ] && [[ "$out" == *backrest.schedule* ]]; then pass "schedule '$never' refused naming it"
    elif [ $rc -eq 0 ] && [ $rc2 -eq 0 ] && [[ "$got" == never* ]]; then pass "schedule '$never' accepted, never due"
    else fail "schedule '$never': refused, or shown never due" "set: exit $rc: $out
backrest_schedule(): exit $rc2: $got"; fi
    expect_eq "schedule '$never': the launcher still serves (backrest_info answers)" \
        "$(timeout 30 runuser -u postgres -- "$PGBIN/psql" -X -h "$IT_TMP" -p $PORT -U postgres -Atqc 'SELECT count(*) >= 0 FROM backrest_info()' 2>&1)" t
    psql_at $PORT "ALTER SYSTEM RESET backrest.schedule" >/dev/null 2>&1
    psql_at $PORT "SELECT pg_reload_conf()" >/dev/null 2>&1
done
sched_refused 'full 0-59/100 * * * *' "100"
sched_refused 'full 5-1 * * * *' "5-1"
sched_refused 'full 0 1 * * * extra' "extra"
sched_refused 'full' "full"
sched_refused 'incr -1 * * * *' "-1"
# Feb 29 is valid (it exists) and must not loop looking for it.
must psql_at $PORT "ALTER SYSTEM SET backrest.schedule = 'full 0 3 29 2 *'"
must psql_at $PORT "SELECT pg_reload_conf()"
sleep 2
NEXT=$(timeout 30 runuser -u postgres -- "$PGBIN/psql" -X -h "$IT_TMP" -p $PORT -U postgres -d postgres -Atq \
    -c "SELECT to_char(next_run AT TIME ZONE 'UTC', 'MM-DD') FROM backrest_schedule()" 2>&1)
expect_eq "schedule Feb 29: next run is on a Feb 29" "$NEXT" "02-29"
expect_eq "schedule Feb 29: the server answers" "$(timeout 20 runuser -u postgres -- "$PGBIN/psql" -X -h "$IT_TMP" -p $PORT -U postgres -Atqc 'SELECT 1' 2>&1)" 1
must psql_at $PORT "ALTER SYSTEM RESET backrest.schedule"
must psql_at $PORT "SELECT pg_reload_conf()"

# ---- backup --repo=all: two at once --------------------------------------------------------------
stamp "two backup --repo=all at once"
clear_stanza_lock "$LOCK"
bg "$IT_TMP/b1.out" --repo=all backup --type=full
B1=$BGPID
if wait_stanza_lock_held "$LOCK"; then
    expect_exit "second backup --repo=all while the first runs: refused on the lock" 29 timeout 120 \
        "$BR" --config="$CONF" --stanza=main --repo=all backup --type=full
    expect_contains "second backup: says it is the lock" "$OUT" "lock"
else
    fail "setup: first backup never held the lock" "$(cat "$IT_TMP/b1.out")"
fi
wait_bg $B1
expect_eq "first backup --repo=all completes (exit)" "$WRC" 0
[ "$WRC" -ne 0 ] && head -5 "$IT_TMP/b1.out"
FULL1=$(labels 1 | awk '{print $NF}')
expect_eq "the full backup has the same label in both repositories" "$(labels 2 | awk '{print $NF}')" "$FULL1"

# ---- kill -9 backup --repo=all at several moments ----------------------------------------------
for delay in 0.3 1 1.7; do
    stamp "kill -9 backup --repo=all after $delay s"
    before1=$(labels 1)
    before2=$(labels 2)
    clear_stanza_lock "$LOCK"
    bg "$IT_TMP/k.out" --repo=all --process-max=2 backup --type=full
    K=$BGPID
    sleep "$delay"
    if kill -9 $K 2>/dev/null; then
        wait $K 2>/dev/null
        # Killed before it was recorded: not listed. Killed after (expire, summary): listed, and
        # then it must verify.
        for r in 1 2; do
            if [ "$r" -eq 1 ]; then was=$before1; else was=$before2; fi
            now=$(labels $r)
            if [ "$now" == "$was" ]; then pass "kill -9 at $delay s: repo$r lists no new backup"; else
                new=$(echo "$now" | awk '{print $NF}')
                expect_exit "kill -9 at $delay s: repo$r lists $new, which verifies" 0 "${BRT[@]}" --repo=$r --set="$new" verify
            fi
        done
    else
        wait $K
        expect_eq "ended before the kill at $delay s: exit" "$?" 0
        expect_eq "ended before the kill at $delay s: the same new label in both" "$(labels 2 | awk '{print $NF}')" "$(labels 1 | awk '{print $NF}')"
    fi
    expect_eq "kill -9 at $delay s: no backup left running in PostgreSQL" \
        "$(psql_at $PORT "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend' AND state <> 'idle' AND pid <> pg_backend_pid() AND query ILIKE '%backup%'")" 0
done
stamp "backup --repo=all after the kills"
expect_exit "backup --repo=all after three kill -9 completes" 0 "${BRT[@]}" --repo=all backup --type=full
AFTERKILL=$(labels 1 | awk '{print $NF}')
expect_eq "after the kills: both repositories have the new backup" "$(labels 2 | awk '{print $NF}')" "$AFTERKILL"

# ---- process-max 1 vs 4 on many small files and a few large ones -------------------------------
for pm in 1 4; do
    stamp "backup --repo=all --process-max=$pm"
    t0=$SECONDS
    expect_exit "backup --repo=all --process-max=$pm --type=full (600 small tables, big ones): no hang" 0 \
        "${BRT[@]}" --repo=all --process-max=$pm backup --type=full
    echo "# measure: --repo=all --process-max=$pm: $((SECONDS - t0)) s"
done

# A small window (8 x buffer-size = 128 KiB) and repositories laid out differently (repo1 block
# incremental, repo2 unbundled): readers wait for each other often; they must never wait forever.
for pm in 1 4; do
    stamp "backup --repo=all --buffer-size=16KiB --repo1-block=y --repo2-bundle=n --process-max=$pm"
    expect_exit "small window, different layouts, process-max=$pm: full completes" 0 \
        "${BRT[@]}" --repo=all --process-max=$pm --buffer-size=16KiB --repo1-block=y --repo2-bundle=n backup --type=full
    must bench "UPDATE big SET pad = pad WHERE g % 50 = 0"
    expect_exit "small window, different layouts, process-max=$pm: incr completes" 0 \
        "${BRT[@]}" --repo=all --process-max=$pm --buffer-size=16KiB --repo1-block=y --repo2-bundle=n backup --type=incr
done
# ---- files growing and truncated during --repo=all, then restore of each repository --------------
stamp "files growing / truncated during backup --repo=all"
( for i in $(seq 1 40); do
    bench "INSERT INTO big SELECT g, repeat('x', 128) FROM generate_series(1, 20000) g;
           TRUNCATE small_$i; DROP TABLE small_$((i + 100)); CREATE TABLE grow_$i AS SELECT g FROM generate_series(1, 50000) g" >/dev/null 2>&1
  done ) &
LOADPID=$!
BG+=("$LOADPID")
expect_exit "backup --repo=all --process-max=4 under growth/truncation completes" 0 "${BRT[@]}" --repo=all --process-max=4 backup --type=incr
wait $LOADPID
must bench "CHECKPOINT"
must br check
ROWS_BIG=$(bench "SELECT count(*) FROM big")
ROWS_SMALL=$(bench "SELECT sum(n) FROM (SELECT (xpath('/row/c/text()', query_to_xml(format('SELECT count(*) AS c FROM %I', tablename), false, true, '')))[1]::text::bigint AS n FROM pg_tables WHERE schemaname = 'public' AND (tablename LIKE 'small_%' OR tablename LIKE 'grow_%')) s")
for r in 1 2; do
    stamp "restore repo$r and compare"
    RD=$IT_TMP/restore-r$r
    expect_exit "restore --repo=$r of the incr taken under load" 0 "${BRT[@]}" --repo=$r --pg1-path="$RD" restore --archive-mode=off
    cat >>"$RD/postgresql.conf" <<CONF
port = $((57450 + r))
shared_preload_libraries = ''
archive_library = ''
archive_mode = off
CONF
    as_pg "$PGBIN/pg_ctl" -D "$RD" -l "$RD.log" -w -t 120 start >/dev/null 2>&1
    if wait_promoted $((57450 + r)); then
        rq() { as_pg "$PGBIN/psql" -X -h "$IT_TMP" -p $((57450 + r)) -U postgres -d bench -Atq -c "$1"; }
        expect_eq "repo$r restore: big has every row" "$(rq "SELECT count(*) FROM big")" "$ROWS_BIG"
        expect_eq "repo$r restore: small/grow tables have every row" "$(rq "SELECT sum(n) FROM (SELECT (xpath('/row/c/text()', query_to_xml(format('SELECT count(*) AS c FROM %I', tablename), false, true, '')))[1]::text::bigint AS n FROM pg_tables WHERE schemaname = 'public' AND (tablename LIKE 'small_%' OR tablename LIKE 'grow_%')) s")" "$ROWS_SMALL"
        expect_eq "repo$r restore: pgbench_accounts has its 300000 rows" \
            "$(rq "SELECT count(*) FROM pgbench_accounts")" "300000"
    else
        fail "repo$r restore did not promote" "$(tail -5 "$RD.log")"
    fi
    pg_stop "$RD"
done

# ---- repo2 read-only mid-run ---------------------------------------------------------------------
stamp "repo2 read-only mid-run"
before2=$(labels 2)
clear_stanza_lock "$LOCK"
bg "$IT_TMP/ro.out" --repo=all --process-max=2 backup --type=full
RO=$BGPID
wait_stanza_lock_held "$LOCK"
sleep 1
chmod -R a-w "$IT_TMP/repo2/backup"
wait_bg $RO
chmod -R u+w "$IT_TMP/repo2/backup"
ROOUT=$(cat "$IT_TMP/ro.out")
if [ "$WRC" -ne 0 ] && [ "$WRC" -ne 124 ]; then pass "repo2 read-only mid-run: backup fails (exit $WRC)"; else
    fail "repo2 read-only mid-run: expected a failure" "exit $WRC: $ROOUT"; fi
expect_contains "repo2 read-only: the error names repo2" "$ROOUT" "repo2 ("
expect_contains "repo2 read-only: says repo1 has the backup" "$ROOUT" "complete in repo1"
expect_eq "repo2 read-only: repo2 lists no new backup" "$(labels 2)" "$before2"
expect_exit "after repo2 is writable again: backup --repo=all completes" 0 "${BRT[@]}" --repo=all backup --type=incr

# ---- drill ---------------------------------------------------------------------------------------
stamp "drill-path symlinks"
ln -s "$DATA" "$IT_TMP/drill-link"
ln -s "$DATA/base" "$IT_TMP/drill-link-base"
as_pg mkdir -p "$IT_TMP/linkparent"
ln -s "$IT_TMP/repo" "$IT_TMP/linkparent/r"
expect_exit "drill-path a symlink to pg1-path refused" 21 "${BRT[@]}" --drill-path="$IT_TMP/drill-link" drill
expect_contains "drill-path symlink to pg1-path: named" "$OUT" "drill-path"
expect_exit "drill-path a symlink into pg1-path refused" 21 "${BRT[@]}" --drill-path="$IT_TMP/drill-link-base" drill
expect_contains "drill-path symlink into pg1-path: named" "$OUT" "drill-path"
expect_exit "drill-path a symlink to repo1 refused" 21 "${BRT[@]}" --drill-path="$IT_TMP/linkparent/r" drill
expect_eq "symlinked drill-path: the data directory has no drill directory" \
    "$(ls "$DATA" "$DATA/base" "$IT_TMP/repo" | grep -c backrest-drill)" 0
expect_eq "symlinked drill-path: the cluster still answers" "$(psql_at $PORT 'SELECT 1')" 1

stamp "drill of the encrypted repository"
expect_exit "drill --repo=2 (encrypted) passes" 0 "${BRT[@]}" --repo=2 drill
echo "$OUT" | grep -E 'ERROR|WARN' | head -3 | sed 's/^/    # /'
expect_eq "drill --repo=2: info shows it passed" "$(tbr --repo=2 info --output=json | jq -r '.[0].drill[-1].result')" passed

stamp "drill killed -9 mid-recovery"
bg "$IT_TMP/d1.out" --repo=1 drill
D1=$BGPID
for _ in $(seq 1 600); do [ -f "$SCRATCH/data/postmaster.pid" ] && break; kill -0 $D1 2>/dev/null || break; sleep 0.1; done
if [ -f "$SCRATCH/data/postmaster.pid" ]; then
    kill -9 $D1
    wait $D1 2>/dev/null
    pass "drill reached its server start and was killed -9"
else
    wait $D1
    fail "setup: the drill's server never started" "$(cat "$IT_TMP/d1.out")"
fi
NDRILL=$(tbr --repo=1 info --output=json | jq '.[0].drill | length')
expect_exit "the next drill after kill -9 passes (cleans up the left server)" 0 "${BRT[@]}" --repo=1 drill
expect_contains "the next drill warns about what it cleaned" "$OUT" "WARN"
expect_eq "the killed drill recorded nothing; the next one recorded once" \
    "$(tbr --repo=1 info --output=json | jq '.[0].drill | length')" "$((NDRILL + 1))"
expect_eq "no server left on drill-port" "$(test -S "$SCRATCH/.s.PGSQL.$DRILLPORT" && echo left || echo none)" none

stamp "restore into the drill's directory while the drill runs"
bg "$IT_TMP/d2.out" --repo=1 drill
D2=$BGPID
for _ in $(seq 1 600); do [ -f "$SCRATCH/data/postmaster.pid" ] && break; kill -0 $D2 2>/dev/null || break; sleep 0.1; done
OUTR=$(as_pg timeout 120 "$BR" --config="$CONF" --stanza=main --repo=1 --pg1-path="$SCRATCH/data" --delta restore 2>&1)
RCR=$?
if [ $RCR -ne 0 ] && [ $RCR -ne 124 ]; then pass "restore into the running drill's data refused (exit $RCR)"; else
    fail "restore into the running drill's data directory should be refused" "exit $RCR: $OUTR"; fi
wait_bg $D2
expect_eq "the drill beside the refused restore passes" "$WRC" 0
[ "$WRC" -ne 0 ] && grep -E 'ERROR|fail' "$IT_TMP/d2.out" | head -5 | sed 's/^/    # /'

stamp "drill while backup --repo=all and expire run"
bg "$IT_TMP/d3.out" --repo=1 drill
D3=$BGPID
sleep 1
bg "$IT_TMP/b3.out" --repo=all backup --type=incr
B3=$BGPID
wait_bg $B3
expect_eq "backup --repo=all during a drill completes" "$WRC" 0
[ "$WRC" -ne 0 ] && head -5 "$IT_TMP/b3.out" | sed 's/^/    # /'
OUTE=$(as_pg timeout 120 "$BR" --config="$CONF" --stanza=main --repo=1 expire --repo1-retention-full=1 2>&1)
echo "# expire during the drill: exit $? $(echo "$OUTE" | grep -E 'ERROR|WARN' | head -2)"
wait_bg $D3
expect_eq "drill during backup and expire: passes" "$WRC" 0
[ "$WRC" -ne 0 ] && grep -E 'ERROR|fail' "$IT_TMP/d3.out" | head -5 | sed 's/^/    # /'
expect_eq "after the drills: scratch directory gone" "$(test -e "$SCRATCH" && echo present || echo absent)" absent

# ---- the SQL side: backrest_backup(repo => N), backrest_expire(set => ...), backrest_info() ------
stamp "SQL functions with bad arguments"
sqlq() { timeout 120 runuser -u postgres -- "$PGBIN/psql" -X -h "$IT_TMP" -p $PORT -U postgres -d postgres -Atq -v ON_ERROR_STOP=1 -c "$1" 2>&1; }
for bad in 0 5 3 -1; do
    out=$(sqlq "SELECT backrest_backup('incr', true, $bad)")
    rc=$?
    if [ $rc -ne 0 ] && [ $rc -ne 124 ] && [[ "$out" == *repo* ]]; then pass "backrest_backup(repo => $bad) refused naming repo"; else
        fail "backrest_backup(repo => $bad) should be refused naming repo" "exit $rc: $out"; fi
done
out=$(sqlq "SELECT backrest_backup('incr', true, 2)")
expect_eq "backrest_backup(repo => 2, wait) ends (exit)" "$?" 0
LAB2=$(labels 2 | awk '{print $NF}')
expect_contains "backrest_backup(repo => 2): repo2 lists the label it returned" "$out" "$LAB2"
B1BEFORE=$(labels 1)
B2BEFORE=$(labels 2)
for bad in "'nosuchlabel'" "''" "'20261206-000000F'"; do
    out=$(sqlq "SELECT backrest_expire(false, $bad)")
    rc=$?
    if [ $rc -ne 0 ] && [ $rc -ne 124 ]; then pass "backrest_expire(set => $bad) refused"; else
        fail "backrest_expire(set => $bad) should be refused" "exit $rc: $out"; fi
done
expect_eq "bad expire sets: repo1 lost nothing" "$(labels 1)" "$B1BEFORE"
expect_eq "bad expire sets: repo2 lost nothing" "$(labels 2)" "$B2BEFORE"
N1=$(labels 1 | wc -w)
chmod 000 "$IT_TMP/repo2"
out=$(sqlq "SELECT coalesce(repo, '-') || '|' || (error IS NOT NULL) FROM backrest_info() ORDER BY 1")
rc=$?
chmod 0750 "$IT_TMP/repo2"
expect_eq "backrest_info() with repo2 unreadable: answers" "$rc" 0
expect_eq "backrest_info() with repo2 unreadable: repo1's backups listed" "$(printf '%s\n' "$out" | grep -c '^repo1|false')" "$N1"
expect_contains "backrest_info() with repo2 unreadable: an error row for repo2" "$out" "repo2|true"
OUTU=$(as_pg timeout 300 "$BR" --config="$CONF" --stanza=main --repo=all --repo2-path="$IT_TMP/nowhere" backup --type=incr 2>&1)
RCU=$?
if [ $RCU -ne 0 ] && [ $RCU -ne 124 ]; then pass "backup --repo=all, repo2 missing: fails (exit $RCU)"; else fail "backup --repo=all, repo2 missing: should fail" "exit $RCU: $OUTU"; fi
expect_contains "backup --repo=all, repo2 missing: names repo2" "$OUTU" "repo2 ("
expect_eq "backup --repo=all, repo2 missing: nothing created there" "$(test -e "$IT_TMP/nowhere" && echo created || echo absent)" absent
expect_eq "backup --repo=all, repo2 missing: repo1 has the new backup" "$(labels 1 | wc -w)" "$((N1 + 1))"

# ---- a scheduled backup while a CLI backup holds the stanza lock ----------------------------------
stamp "scheduled backup vs a CLI backup holding the lock"
while [ "$(date +%S)" -lt 56 ]; do sleep 0.5; done
clear_stanza_lock "$LOCK"
bg "$IT_TMP/cli.out" --repo=all --process-max=1 --compress-level=9 backup --type=full
CLI=$BGPID
wait_stanza_lock_held "$LOCK"
must psql_at $PORT "ALTER SYSTEM SET backrest.schedule = 'incr * * * * *'"
must psql_at $PORT "SELECT pg_reload_conf()"
wait_bg $CLI
expect_eq "the CLI backup holding the lock completes" "$WRC" 0
r=""
for _ in $(seq 1 180); do
    r=$(psql_at $PORT "SELECT coalesce(last_result, '') || ' ' || coalesce(last_detail, '') FROM backrest_schedule()" 2>&1)
    [[ "$r" == done* || "$r" == failed* ]] && break
    sleep 0.5
done
echo "# first scheduled run beside the CLI backup: $r"
if [[ "$r" == done* ]] || [[ "$r" == failed*lock* ]]; then pass "scheduled run beside the CLI backup: done, or failed naming the lock"; else
    fail "scheduled run beside the CLI backup: done, or failed naming the lock" "$r"; fi
LAST=$(psql_at $PORT "SELECT last_run FROM backrest_schedule()")
ok=0
for _ in $(seq 1 180); do
    r=$(psql_at $PORT "SELECT coalesce(last_result, '') || ' ' || (last_run > '$LAST') FROM backrest_schedule()" 2>&1)
    [[ "$r" == "done true" ]] && { ok=1; break; }
    sleep 0.5
done
expect_eq "the next minute's scheduled backup is done" "$ok" 1
must psql_at $PORT "ALTER SYSTEM RESET backrest.schedule"
must psql_at $PORT "SELECT pg_reload_conf()"

# ---- the metrics endpoint ------------------------------------------------------------------------
stamp "metrics endpoint"
for _ in $(seq 1 60); do curl -sf -o /dev/null --max-time 5 "$URL" && break; sleep 0.5; done
expect_eq "endpoint answers" "$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 "$URL")" 200
GARB=$(head -c 20000 /dev/urandom | timeout 15 socat -t 10 - TCP:127.0.0.1:$HTTP 2>&1 | head -c 200 | tr -d '\0')
echo "# garbage answered: $(printf '%s' "$GARB" | head -1 | cut -c1-60)"
expect_eq "after 20 KB of garbage: endpoint answers" "$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 "$URL")" 200
RESP=$(printf 'GET /metrics HTTP/1.1\r\nHost: x\r\nX: \0\r\n\r\n' | timeout 10 socat -t 8 - TCP:127.0.0.1:$HTTP 2>&1 | head -1 | tr -d '\r')
echo "# header with a NUL: $RESP"
RESP=$(printf 'GET /%s HTTP/1.1\r\n\r\n' "$(head -c 9000 /dev/zero | tr '\0' a)" | timeout 10 socat -t 8 - TCP:127.0.0.1:$HTTP 2>&1 | head -1 | tr -d '\r')
expect_contains "a 9 KB request line: 431 or 414" "$RESP" "HTTP/1.1 4"
# Twenty idle connections, then a scrape: within a Prometheus scrape timeout (10 s)?
IDLE=()
for i in $(seq 1 20); do
    sleep 30 | socat - TCP:127.0.0.1:$HTTP >/dev/null 2>&1 &
    IDLE+=($!)
    BG+=($!)
done
sleep 0.5
CODE=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 "$URL")
expect_eq "with 20 idle connections open, a scrape answers within 10 s" "$CODE" 200
SEG=$(psql_at $PORT "SELECT pg_walfile_name(pg_switch_wal())")
ok=0
for _ in $(seq 1 60); do
    [ "$(psql_at $PORT "SELECT last_archived_wal FROM pg_stat_archiver")" \> "$SEG" ] || \
        [ "$(psql_at $PORT "SELECT last_archived_wal FROM pg_stat_archiver")" == "$SEG" ] && { ok=1; break; }
    sleep 0.5
done
expect_eq "with 20 idle connections: archiving goes on" "$ok" 1
for p in "${IDLE[@]}"; do pkill -P "$p" 2>/dev/null; kill "$p" 2>/dev/null; done

# kill -9 the daemon while clients are scraping: the launcher's new daemon listens again.
CURLS=()
for i in $(seq 1 8); do ( for _ in $(seq 1 20); do curl -s -o /dev/null --max-time 3 "$URL"; done ) & CURLS+=($!); BG+=($!); done
sleep 0.3
OLD=$(daemon_pids | head -1)
kill -9 "$OLD" 2>/dev/null
for p in "${CURLS[@]}"; do wait "$p" 2>/dev/null; done
okk=0
for _ in $(seq 1 60); do curl -sf -o /dev/null --max-time 5 "$URL" && { okk=1; break; }; sleep 0.5; done
expect_eq "after kill -9 mid-scrape: the new daemon answers on the port" "$okk" 1
[ $okk -eq 0 ] && grep -i metrics "$DATA.log" | tail -3 | sed 's/^/    # /'
expect_exit "after kill -9 of the daemon: backrest metrics runs" 0 "${BRT[@]}" metrics
expect_contains "backrest metrics: the daemon is up" "$OUT" "backrest_daemon_up 1"

stamp "done"
