# shellcheck shell=bash disable=SC2034  # T_* and other globals are read by bench/run and sections.sh
# WAL archiving section of bench/run: per-segment latency, throughput and backlog under
# pgbench -c 4, for archive_library = 'backrest' (sync and async) and for pgBackRest's
# archive-push as archive_command (sync and async). Sourced by sections.sh.

WAL_MODES=(backrest-sync backrest-async pgbackrest-sync pgbackrest-async)

archiver_pid() { psql_at "SELECT pid FROM pg_stat_activity WHERE backend_type = 'archiver'"; }
wal_lat_log() { echo "$W/wal-lat-$1.log"; }

cmd_wal() {  # mode: sets CMD_WAL_LIB, CMD_WAL_CMD and CMD_WAL_ASYNC
    local pgbr="pgbackrest --config=$PGBR_CONF --stanza=bench"
    CMD_WAL_LIB="" CMD_WAL_CMD="" CMD_WAL_ASYNC=off
    case $1 in
    backrest-sync) CMD_WAL_LIB=backrest ;;
    backrest-async) CMD_WAL_LIB=backrest CMD_WAL_ASYNC=on ;;
    pgbackrest-sync) CMD_WAL_CMD="$W/bin/archive_push_timed.sh $(wal_lat_log "$1") %f $pgbr archive-push %p" ;;
    pgbackrest-async) CMD_WAL_CMD="$W/bin/archive_push_timed.sh $(wal_lat_log "$1") %f $pgbr --archive-async=y --process-max=2 archive-push %p" ;;
    esac
}

# Switches archiving to a mode, then proves it: one switched segment must be archived through
# that mode's path (its log line, or its wrapper's record) before anything is measured.
wal_mode() {  # mode
    local mode=$1 old_arch seg i off
    cmd_wal "$mode"
    old_arch=$(archiver_pid)
    local old_lib
    old_lib=$(psql_at "SHOW archive_library")
    psql_at "ALTER SYSTEM SET archive_library = '$CMD_WAL_LIB'" >/dev/null
    psql_at "ALTER SYSTEM SET archive_command = '$CMD_WAL_CMD'" >/dev/null
    if [[ $CMD_WAL_ASYNC != "${DAEMON_ASYNC:-off}" ]]; then set_daemon "$DAEMON_CONF" "$CMD_WAL_ASYNC"
    else psql_at "SELECT pg_reload_conf()" >/dev/null; fi
    # A new archive_library restarts the archiver; the postmaster starts the new one on its
    # next loop, which a connection wakes.
    if [[ $old_lib != "$CMD_WAL_LIB" ]]; then
        for i in $(seq 1 300); do
            local now
            now=$(archiver_pid)
            [[ -n $now && $now != "$old_arch" ]] && break
            sleep 0.2
        done
    fi
    sleep 0.5
    off=$(stat -c %s "$W/postgres.log")
    psql_at "SET client_min_messages = warning; CREATE TABLE IF NOT EXISTS bench_probe (x int); INSERT INTO bench_probe VALUES (1)" >/dev/null
    seg=$(psql_at "SELECT pg_walfile_name(pg_current_wal_lsn())")
    psql_at "SELECT pg_switch_wal()" >/dev/null
    for i in $(seq 1 600); do
        case $mode in
        backrest*) tail -c +$((off + 1)) "$W/postgres.log" | grep -q "archived WAL file \"$seg\"" && return 0 ;;
        pgbackrest*) grep -q "^$seg " "$(wal_lat_log "$mode")" 2>/dev/null && return 0 ;;
        esac
        sleep 0.2
    done
    T_ERR="probe segment $seg not archived through $mode within 120 s (archive_library='$CMD_WAL_LIB')"
    record_failure wal "$mode" "switching to $mode"
    return 1
}

# Samples, every second, the .ready backlog and (pgBackRest async, every 0.5 s) the CPU of
# pgBackRest's async pushers: they detach, so no parent ever collects their CPU time.
wal_sampler() {  # mode
    local p tick=0
    while :; do
        ((tick++ % 2 == 0)) && echo "ready $(ready_count)"
        if [[ $1 == pgbackrest-async ]]; then
            for p in $(pgrep -f "pgbackrest .*archive-push:async"); do
                grep -qF "$PGBR_CONF" "/proc/$p/cmdline" 2>/dev/null && echo "cpu $p $(proc_cpu "$p" own)"
            done
        fi
        sleep 0.5
    done
}

wal_run() {  # mode run seconds
    local mode=$1 run=$2 secs=$3 off arch0 fail0 lsn0 a a0 d0 t0 t_end tps lat drained=yes
    wait_archived 600 || log "WARNING: .ready files left before $mode run $run"
    # Every run starts right after a checkpoint, so each mode sees the same full-page writes.
    psql_at CHECKPOINT >/dev/null
    off=$(stat -c %s "$W/postgres.log")
    : >"$(wal_lat_log "$mode")" 2>/dev/null
    chown postgres: "$(wal_lat_log "$mode")" 2>/dev/null
    read -r arch0 fail0 < <(psql_at "SELECT archived_count, failed_count FROM pg_stat_archiver" | tr '|' ' ')
    lsn0=$(psql_at "SELECT pg_current_wal_lsn()")
    a=$(archiver_pid)
    a0=$(calc "$(proc_cpu "$a" own) + $(proc_cpu "$a" children)")
    d0=$(proc_cpu "$DAEMON_PID" own)
    wal_sampler "$mode" >"$W/sampler.out" 2>/dev/null &
    SAMPLER_PID=$!
    t0=$(now_ns)
    as_pg "$PGBIN/pgbench" -n -c 4 -T "$secs" -h "$SOCK" -p "$PORT" postgres >"$W/pgbench.out" 2>&1 ||
        log "pgbench failed: $(tail -3 "$W/pgbench.out")"
    t_end=$(secs_since "$t0")
    psql_at "SELECT pg_switch_wal()" >/dev/null
    wait_archived 600 || drained=no
    local dur
    dur=$(secs_since "$t0")
    kill "$SAMPLER_PID" 2>/dev/null
    wait "$SAMPLER_PID" 2>/dev/null
    SAMPLER_PID=""
    local arch1 fail1 wal_bytes cpu_arch cpu_daemon=0 cpu_async max_ready
    read -r arch1 fail1 < <(psql_at "SELECT archived_count, failed_count FROM pg_stat_archiver" | tr '|' ' ')
    wal_bytes=$(psql_at "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '$lsn0')")
    cpu_arch=$(calc "$(proc_cpu "$a" own) + $(proc_cpu "$a" children) - $a0")
    [[ $mode == backrest* ]] && cpu_daemon=$(calc "$(proc_cpu "$DAEMON_PID" own) - $d0")
    cpu_async=$(awk '$1 == "cpu" { last[$2] = $3 } END { s = 0; for (p in last) s += last[p]; printf "%.2f", s }' "$W/sampler.out")
    max_ready=$(awk '$1 == "ready" && $2 > m { m = $2 } END { print m + 0 }' "$W/sampler.out")
    tps=$(awk '/^tps/ { print $3; exit }' "$W/pgbench.out")
    local how=""
    case $mode in
    backrest*) lat=$(tail -c +$((off + 1)) "$W/postgres.log" |
                     sed -n 's/.*backrest: archived WAL file "[0-9A-F]*" in \([0-9.]*\) ms.*/\1/p' | paste -sd,)
               # How the daemon had each segment: streamed, stream-completed, pushed-ahead, stored, already-present.
               how=$(tail -c +$((off + 1)) "$W/postgres.log" |
                     sed -n 's/.*backrest: archived WAL file "[0-9A-F]*" in [0-9.]* ms (\([a-z-]*\)).*/\1/p' |
                     sort | uniq -c | awk '{ printf "%s%s:%s", (NR > 1 ? "," : ""), $2, $1 }') ;;
    pgbackrest*) lat=$(awk '$4 == 0 { printf "%.3f\n", ($3 - $2) / 1e6 }' "$(wal_lat_log "$mode")" | paste -sd,) ;;
    esac
    record "section=wal" "mode=$mode" "run=$run" "seconds=$secs" "pgbench_s=$t_end" "duration=$dur" \
        "drained=$drained" "segments=$((arch1 - arch0))" "failures=$((fail1 - fail0))" "wal_bytes=$wal_bytes" \
        "max_ready=$max_ready" "tps=$tps" "cpu_archiver=$cpu_arch" "cpu_daemon=$cpu_daemon" \
        "cpu_async=$cpu_async" "cpu=$(calc "$cpu_arch + $cpu_daemon + $cpu_async")" "lat_ms=$lat" "how=$how" "load=$(loadavg)"
}

bench_wal() {
    local run mode
    PHASE=wal
    # The extension logs each segment's archive callback time at DEBUG1.
    psql_at "ALTER SYSTEM SET log_min_messages = debug1" >/dev/null
    for run in $(seq 0 "$RUNS"); do
        for mode in $(rotated "$run" "${WAL_MODES[@]}"); do
            log "WAL archiving: $mode run $run"
            wal_mode "$mode" || continue
            cmd_wal "$mode"
            [[ $run == 1 ]] && record "section=command" "what=wal $mode" \
                "cmd=archive_library = '$CMD_WAL_LIB', archive_command = '$CMD_WAL_CMD', backrest.archive_async = $CMD_WAL_ASYNC; load: pgbench -n -c 4 -T $WAL_SECONDS"
            if [[ $run == 0 ]]; then wal_run "$mode" 0 "$WAL_WARMUP_SECONDS"; else wal_run "$mode" "$run" "$WAL_SECONDS"; fi
        done
    done
    psql_at "ALTER SYSTEM RESET log_min_messages" >/dev/null
    psql_at "SELECT pg_reload_conf()" >/dev/null
}
