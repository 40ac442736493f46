# shellcheck shell=bash
# shellcheck source-path=SCRIPTDIR
# The measured sections of bench/run, in the order it runs them. Each records raw runs with
# `record`; bench/report.py turns them into tables. Sourced by bench/run after lib.sh.

# A tar of the data directory without pg_wal, for the limits (kept until bench_restore ends).
sample_tar() {
    tar -C "$PGDATA" --exclude=./pg_wal -cf "$W/sample.tar" . 2>/dev/null
    cat "$W/sample.tar" >/dev/null  # in the cache, as the data directory is for the tools
}

# Machine limits: how fast this machine can read the data directory, compress it and hash it,
# and (for restores) decompress it and write it to disk.
# Everything from a warm page cache, like the tools.
bench_limits() {
    log "limits: read, zstd, sha256"
    local files=$W/datafiles run t0 l th
    find "$PGDATA" -path "$PGDATA/pg_wal" -prune -o -type f -print0 >"$files"
    xargs -0 cat <"$files" >/dev/null 2>&1  # warm-up
    for run in $(seq 1 "$RUNS"); do
        t0=$(now_ns)
        xargs -0 cat <"$files" >/dev/null 2>&1
        record "section=limit" "what=read" "run=$run" "bytes=$PGDATA_BYTES" "wall=$(secs_since "$t0")"
    done
    # A tar of the whole data directory (a part would be a biased sample: at scale 200 the first
    # GiB is pgbench_accounts alone, which compresses 10:1), compressed from the cache.
    sample_tar
    local sample_bytes
    sample_bytes=$(stat -c %s "$W/sample.tar")
    for l in "${LEVELS[@]}"; do
        for th in 1 "$NPROC"; do
            zstd -q -"$l" -T"$th" -c "$W/sample.tar" >/dev/null  # warm-up
            for run in $(seq 1 "$RUNS"); do
                t0=$(now_ns)
                zstd -q -"$l" -T"$th" -c "$W/sample.tar" >/dev/null
                record "section=limit" "what=zstd" "level=$l" "threads=$th" "run=$run" "bytes=$sample_bytes" "wall=$(secs_since "$t0")"
            done
        done
    done
    local ratio
    ratio=$(zstd -q -3 -T"$NPROC" -c "$W/sample.tar" | wc -c)
    record "section=limit" "what=zstd-size" "level=3" "bytes=$sample_bytes" "compressed=$ratio"
    # A restore's limits: zstd decompression (one thread: zstd has no parallel decompression,
    # a restore at process-max N runs N of them) and writing the bytes durably to this disk.
    zstd -q -3 -c "$W/sample.tar" >"$W/sample.tar.zst"
    zstd -q -d -c "$W/sample.tar.zst" >/dev/null  # warm-up
    for run in $(seq 1 "$RUNS"); do
        t0=$(now_ns)
        zstd -q -d -c "$W/sample.tar.zst" >/dev/null
        record "section=limit" "what=unzstd" "threads=1" "run=$run" "bytes=$sample_bytes" "wall=$(secs_since "$t0")"
        time_writes limit "run=$run"
    done
    rm -f "$files"  # sample.tar(.zst) stay for the paired limit runs of bench_full and bench_restore
    # One core's SHA-256 (OpenSSL, SHA-NI when the CPU has it), in 1000s of bytes per second.
    local k
    k=$(openssl speed -evp sha256 -bytes 1048576 -seconds 2 2>/dev/null | awk '$1 == "sha256" { sub("k", "", $NF); print $NF }')
    record "section=limit" "what=sha256" "threads=1" "bytes_per_s=$(calc "${k:-0} * 1000")" \
        "sha_ni=$(grep -qw sha_ni /proc/cpuinfo && echo yes || echo no)"
}

# Full backups: every tool, every compression level and process-max, one untimed warm-up per
# tool and setting (run 0), then RUNS timed runs with the tools in rotated order.
FULL_TOOLS=(backrest-sql backrest-cli pgbackrest pg_basebackup)
bench_full() {
    local l p run tool
    PHASE=full
    for l in "${LEVELS[@]}"; do
        for p in "${PMAXES[@]}"; do
            set_daemon "l$l-p$p" off
            for run in $(seq 0 "$RUNS"); do
                for tool in $(rotated "$run" "${FULL_TOOLS[@]}"); do
                    log "full backup: $tool level $l process-max $p run $run"
                    run_backup full "$tool" "$l" "$p" "$run"
                done
                # The compression limit again, right after the backups it is compared with: on a
                # shared machine the speed drifts between the limits section and this one.
                if ((run > 0)) && [[ -f $W/sample.tar ]]; then
                    local th=$((p < NPROC ? p : NPROC)) t0
                    t0=$(now_ns)
                    zstd -q -"$l" -T"$th" -c "$W/sample.tar" >/dev/null
                    record "section=limit-paired" "what=zstd" "level=$l" "threads=$th" "pmax=$p" "run=$run" \
                        "bytes=$(stat -c %s "$W/sample.tar")" "wall=$(secs_since "$t0")"
                    # The stricter limit (issue 22): one core's zstd, times the cores the backup
                    # may use; zstd -T2 loses some of its second core to its own overhead.
                    if ((th > 1)); then
                        t0=$(now_ns)
                        zstd -q -"$l" -T1 -c "$W/sample.tar" >/dev/null
                        record "section=limit-paired" "what=zstd" "level=$l" "threads=1" "pmax=$p" "run=$run" \
                            "bytes=$(stat -c %s "$W/sample.tar")" "wall=$(secs_since "$t0")"
                    fi
                fi
            done
            record "section=daemon" "phase=full" "config=l$l-p$p" "async=off" "hwm_kb=$(proc_hwm_kb "$DAEMON_PID")"
        done
    done
    set_daemon l3-p2 off
    PHASE=restore
}

# A restore's limits again, right after a round of full restores (as bench_full does for zstd):
# the disk's write rate on this shared machine varies by 2x within minutes.
paired_restore_limits() {  # pmax run
    [[ -f $W/sample.tar && -f $W/sample.tar.zst ]] || return 0
    local t0 bytes
    bytes=$(stat -c %s "$W/sample.tar")
    t0=$(now_ns)
    zstd -q -d -c "$W/sample.tar.zst" >/dev/null
    record "section=limit-paired" "what=unzstd" "threads=1" "pmax=$1" "run=$2" "bytes=$bytes" "wall=$(secs_since "$t0")"
    time_writes limit-paired "pmax=$1" "run=$2"
}

# The disk's durable write rate, two ways, since neither is always the faster on a shared
# virtual disk: through the page cache in 8 MiB writes with one fsync at the end (dirty pages
# pile up and get throttled; issue 22's restore limit is this one), and O_DIRECT in 8 MiB writes
# (no page cache). The tar|zstd limits take the better one.
time_writes() {  # section key=value...
    local section=$1 t0 bytes
    shift
    bytes=$(stat -c %s "$W/sample.tar")
    t0=$(now_ns)
    dd if="$W/sample.tar" of="$W/write-test" bs=8M conv=fsync status=none
    record "section=$section" "what=write" "$@" "bytes=$bytes" "wall=$(secs_since "$t0")"
    rm -f "$W/write-test"
    t0=$(now_ns)
    dd if="$W/sample.tar" of="$W/write-test" bs=8M oflag=direct conv=fsync status=none
    record "section=$section" "what=write-direct" "$@" "bytes=$bytes" "wall=$(secs_since "$t0")"
    rm -f "$W/write-test"
}

# Restores. Full: into an empty directory. Delta: over the directory restored from the same
# backup (nothing to do), then after ~1 % of pgbench_accounts' pages changed and a new full
# backup by each tool, over the directory restored from the previous one (reset, untimed, by a
# delta restore of the previous backup before each run). backrest-block and pgbackrest-block:
# the same data backed up with repo1-block (pgBackRest: with repo1-bundle, which it requires),
# each into a repository of its own; their delta restores work block by block.
RESTORE_TOOLS=(backrest backrest-block pgbackrest pgbackrest-block)
bench_restore() {
    local p run tool
    # --restore-full-only: the full restores of file-stored backups alone (issue 22's rows).
    ((RESTORE_FULL_ONLY)) && RESTORE_TOOLS=(backrest pgbackrest)
    log "restore: reference full backups (untimed)"
    declare -gA B1 B2
    run_backup reference backrest-sql 3 2 1 || { log "no backrest reference backup: restore skipped"; return; }
    B1[backrest]=$(newest_label "$BR_REPO")
    run_backup reference pgbackrest 3 2 1 || { log "no pgBackRest reference backup: restore skipped"; return; }
    B1[pgbackrest]=$(newest_label "$PGBR_REPO")
    local block
    for block in backrest-block pgbackrest-block; do
        ((RESTORE_FULL_ONLY)) && break
        run_backup reference "$block" 3 2 1 && B1[$block]=$(newest_label "$(repo_of "$block")")
    done
    for p in "${PMAXES[@]}"; do
        for run in $(seq 0 "$RUNS"); do
            for tool in $(rotated "$run" "${RESTORE_TOOLS[@]}"); do
                [[ -n ${B1[$tool]:-} ]] || continue
                log "full restore: $tool process-max $p run $run"
                run_restore restore-full "$tool" "$p" "$run" "$W/restore-$tool" --set="${B1[$tool]}"
            done
            ((run > 0)) && paired_restore_limits "$p" "$run"
        done
    done
    rm -f "$W/sample.tar" "$W/sample.tar.zst"
    ((RESTORE_FULL_ONLY)) && return
    # The directories now hold the reference backups.
    for run in $(seq 0 "$RUNS"); do
        for tool in $(rotated "$run" "${RESTORE_TOOLS[@]}"); do
            [[ -n ${B1[$tool]:-} ]] || continue
            log "delta restore, nothing changed: $tool run $run"
            run_restore restore-delta-same "$tool" 2 "$run" "$W/restore-$tool" --delta --set="${B1[$tool]}"
        done
    done

    log "changing ~1 % of pgbench_accounts (the rows of every 100th page)"
    local rows pages
    pages=$(psql_at "SELECT relpages FROM pg_class WHERE relname = 'pgbench_accounts'")
    rows=$(psql_at "WITH u AS (UPDATE pgbench_accounts SET abalance = abalance + 1
                    WHERE ((ctid::text::point)[0])::bigint % 100 = 0 RETURNING 1) SELECT count(*) FROM u")
    psql_at CHECKPOINT >/dev/null
    record "section=change" "heap_pages=$pages" "rows_updated=$rows" \
        "rows_total=$(psql_at "SELECT count(*) FROM pgbench_accounts")"
    run_backup reference backrest-sql 3 2 2 && B2[backrest]=$(newest_label "$BR_REPO")
    run_backup reference pgbackrest 3 2 2 && B2[pgbackrest]=$(newest_label "$PGBR_REPO")
    for block in backrest-block pgbackrest-block; do
        [[ -n ${B1[$block]:-} ]] && run_backup reference "$block" 3 2 2 && B2[$block]=$(newest_label "$(repo_of "$block")")
    done
    for run in $(seq 0 "$RUNS"); do
        for tool in $(rotated "$run" "${RESTORE_TOOLS[@]}"); do
            [[ -n ${B2[$tool]:-} ]] || continue
            log "delta restore, ~1 % changed: $tool run $run"
            cmd_restore "$tool" 2 "$W/restore-$tool" --delta --set="${B1[$tool]}"
            timed "${CMD[@]}" || { record_failure restore-delta-reset "$tool" "run $run"; continue; }
            run_restore restore-delta-1pct "$tool" 2 "$run" "$W/restore-$tool" --delta --set="${B2[$tool]}"
        done
    done
    set_aside "$W/restore-pgbackrest"
    set_aside "$W/restore-pgbackrest-block"
    # Sanity: backrest's delta results equal a full restore of the same backup, byte for byte.
    for tool in backrest backrest-block; do
        [[ -n ${B2[$tool]:-} ]] || continue
        local check=$W/restore-check out
        install -d -m 0700 -o postgres -g postgres "$check"
        cmd_restore "$tool" 2 "$check" --set="${B2[$tool]}"
        if timed "${CMD[@]}"; then
            out=$(diff -rq "$W/restore-$tool" "$check" 2>&1 | head -5)
            record "section=sanity" "what=$tool delta restore of ${B2[$tool]} equals its full restore" \
                "result=${out:-identical}"
        else
            record_failure sanity "$tool" "full restore for the delta check"
        fi
        set_aside "$check"
        set_aside "$W/restore-$tool"
    done
}

# Incremental backups after the same pgbench work: pgbench, then each tool's incr (rotated),
# file-level and block-level (repo1-block; each in its own repository, after its block fulls).
bench_incr() {
    local run tool tps
    PHASE=incr
    set_daemon l3-p2 off
    for run in $(seq 0 "$RUNS"); do
        as_pg "$PGBIN/pgbench" -n -t 2000 -c 2 -h "$SOCK" -p "$PORT" postgres >"$W/pgbench.out" 2>&1 ||
            { log "pgbench failed: $(tail -3 "$W/pgbench.out")"; return; }
        tps=$(awk '/^tps/ { print $3; exit }' "$W/pgbench.out")
        record "section=incr-pgbench" "run=$run" "tps=$tps"
        for tool in $(rotated "$run" backrest-cli backrest-block pgbackrest pgbackrest-block); do
            log "incremental backup: $tool run $run"
            run_backup incr "$tool" 3 2 "$run"
        done
    done
}

# shellcheck source=wal.sh
source "$HERE/wal.sh"

# The manifest at scale: one million synthetic files, built, saved and loaded by
# build/manifest-scale (bench/manifest_scale.cpp), which prints its own timings and peak RSS.
bench_manifest() {
    local out run
    log "manifest of 1000000 files"
    for run in $(seq 1 "$RUNS"); do
        out=$("$ROOT/build/manifest-scale" 1000000 2>&1 | tail -1)
        if [[ $out =~ build\ ([0-9.]+)\ s,\ save\ ([0-9.]+)\ s,\ load\ ([0-9.]+)\ s.*peak\ RSS\ ([0-9]+)\ MiB ]]; then
            record "section=manifest" "run=$run" "files=1000000" "build=${BASH_REMATCH[1]}" "save=${BASH_REMATCH[2]}" \
                "load=${BASH_REMATCH[3]}" "rss_mib=${BASH_REMATCH[4]}"
        else
            T_ERR=$out
            record_failure manifest manifest-scale "1000000 files"
        fi
    done
}

# Compression levels: a full backup by the CLI at process-max 1 next to `zstd -L -T1` over a tar of
# the same data directory, level by level, alternating which goes first. A level whose backup is
# far slower than zstd itself is a defect of ours (issue 16: level 12 took 40x level 11, while
# zstd -12 took 1.5x zstd -11; each file's compression context was sized for an input of unknown
# size). One run each: level 19 alone is minutes per tool at scale 50.
BENCH_LEVELS=(1 3 9 12 19)
bench_levels() {
    local l order tool t0 bytes
    # The restore section removed the tar of the limits section: the same again.
    [[ -f $W/sample.tar ]] || sample_tar
    bytes=$(stat -c %s "$W/sample.tar")
    for l in "${BENCH_LEVELS[@]}"; do
        order="backrest-cli zstd"
        ((l % 2)) || order="zstd backrest-cli"
        for tool in $order; do
            log "levels: $tool level $l"
            if [[ $tool == zstd ]]; then
                t0=$(now_ns)
                zstd -q -"$l" -T1 -c "$W/sample.tar" >"$W/level.zst"
                record "section=levels" "tool=zstd" "level=$l" "wall=$(secs_since "$t0")" "bytes=$bytes" \
                    "compressed=$(stat -c %s "$W/level.zst")"
                rm -f "$W/level.zst"
            else
                cmd_full backrest-cli 3 1
                CMD=("${CMD[@]/--compress-level=3/--compress-level=$l}")
                record_cmd "levels backrest-cli level $l process-max 1"
                timed "${CMD[@]}" || { record_failure levels backrest-cli "level $l"; continue; }
                local label
                label=$(newest_label "$BR_REPO")
                record "section=levels" "tool=backrest-cli" "level=$l" "wall=$T_WALL" "cpu=$T_CPU" \
                    "bytes=$PGDATA_BYTES" "compressed=$(du -sb "$BR_REPO/backup/bench/$label" | cut -f1)"
            fi
        done
    done
    rm -f "$W/sample.tar"
}
