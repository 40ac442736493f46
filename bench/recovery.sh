# shellcheck shell=bash
# Recovery of archived WAL (issue 21): bench/recovery_async.sh run from bench/run, its rows
# recorded for bench/report.py. Sections `recovery` (posix repositories) and `recovery_s3` (both
# repositories in buckets of Ceph's radosgw on 127.0.0.1 over TLS); neither is part of `all`:
# each writes >= 2 GB of WAL and recovers it three ways per run (at 144 segments and 3 runs:
# posix ~6 min, S3 ~13 min on 2 shared cores). The script builds its own cluster (ports PORT+2 and +3) and, for
# S3, its own radosgw (BENCH_S3_PORT, default 56460, and +1). Sourced by bench/run.

bench_recovery() {  # posix|s3
    local where=$1 out=$W/recovery-$1.out flag=() line cmd
    [[ $where == s3 ]] && flag=(--s3)
    cmd="bench/recovery_async.sh ${flag[*]}${flag[*]:+ }$RECOVERY_SEGMENTS $RUNS"
    log "recovery of archived WAL ($where): $cmd"
    record "section=command" "what=recovery-$where" "cmd=$cmd"
    if ! BENCH_PORT=$((PORT + 2)) BENCH_S3_PORT=${BENCH_S3_PORT:-56460} TEST_BACKREST_BIN=$BR \
        bash "$HERE/recovery_async.sh" "${flag[@]}" "$RECOVERY_SEGMENTS" "$RUNS" >"$out" 2>&1; then
        T_ERR=$(tail -5 "$out" | tr '\n' ' ')
        log "FAILED: $cmd :: $T_ERR"
        record_failure "recovery-$where" recovery_async.sh "$RECOVERY_SEGMENTS segments, $RUNS runs"
    fi
    local wal_re='^# WAL after the backups: ([0-9]+) bytes \(([0-9]+) segments.*backrest ([0-9]+) bytes, pgBackRest ([0-9]+) bytes'
    local run_re='^([a-z-]+) run ([0-9]+): recovery ([0-9.]+) s'
    while IFS= read -r line; do
        if [[ $line =~ $wal_re ]]; then
            record "section=recovery-wal" "where=$where" "wal_bytes=${BASH_REMATCH[1]}" "segments=${BASH_REMATCH[2]}" \
                "backrest_archive_bytes=${BASH_REMATCH[3]}" "pgbackrest_archive_bytes=${BASH_REMATCH[4]}"
        elif [[ $line =~ $run_re ]]; then
            record "section=recovery" "where=$where" "tool=${BASH_REMATCH[1]}" "run=${BASH_REMATCH[2]}" \
                "wall=${BASH_REMATCH[3]}" "load=$(loadavg)"
        fi
    done <"$out"
}
