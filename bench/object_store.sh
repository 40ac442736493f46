# shellcheck shell=bash
# shellcheck source-path=SCRIPTDIR
# Full backup and restore to an S3 server (Ceph's radosgw on 127.0.0.1, over TLS): backrest and
# pgBackRest 2.45 to the same server, same data, same run, at process-max 4; beside them the
# server's own limit, the same bytes moved by `aws s3 cp` with 4 requests in flight. Sourced by
# bench/run after sections.sh. pgBackRest 2.45 runs with repo1-storage-verify-tls=n: it does not
# match an IP address against the certificate's subjectAltName (backrest, curl and aws do).

S3_PMAX=4
S3_TOOLS=(backrest-s3 pgbackrest-s3)

# The server, two buckets (one per tool) and each tool's configuration.
s3_setup() {
    local port=${BENCH_S3_PORT:-56460}
    S3_DIR=$W/radosgw
    "$ROOT/scripts/test-servers/radosgw.sh" start "$S3_DIR" "$port" >"$W/radosgw.out" 2>&1 || {
        log "radosgw did not start: $(tail -3 "$W/radosgw.out"); object store rows skipped"
        return 1
    }
    # shellcheck disable=SC1091
    . "$S3_DIR/env"
    export AWS_ACCESS_KEY_ID=$S3_KEY AWS_SECRET_ACCESS_KEY=$S3_SECRET AWS_DEFAULT_REGION=$S3_REGION
    export AWS_CA_BUNDLE=$S3_CA
    AWS=(/usr/bin/aws --endpoint-url "https://127.0.0.1:$S3_PORT")
    local b
    for b in br-bench pgbr-bench limit-bench; do
        "${AWS[@]}" s3api create-bucket --bucket "$b" >/dev/null 2>&1 || { log "create-bucket $b failed"; return 1; }
    done
    /usr/bin/aws configure set default.s3.max_concurrent_requests "$S3_PMAX"
    /usr/bin/aws configure set default.s3.multipart_chunksize 16MB
    install -m 0644 "$S3_CA" "$W/s3-ca.pem"
    cat >"$W/br-s3.conf" <<EOF
[global]
repo1-type=s3
repo1-path=/backrest
repo1-s3-bucket=br-bench
repo1-s3-endpoint=127.0.0.1
repo1-s3-region=$S3_REGION
repo1-s3-uri-style=path
repo1-storage-port=$S3_PORT
repo1-storage-ca-file=$W/s3-ca.pem
repo1-s3-key=$S3_KEY
repo1-s3-key-secret=$S3_SECRET
lock-path=$W/br-lock
spool-path=$W/br-spool
compress-type=zst
compress-level=3
process-max=$S3_PMAX
repo1-retention-full=9999
EOF
    cat >"$W/pgbr-s3.conf" <<EOF
[global]
repo1-type=s3
repo1-path=/pgbackrest
repo1-s3-bucket=pgbr-bench
repo1-s3-endpoint=127.0.0.1
repo1-s3-region=$S3_REGION
repo1-s3-uri-style=path
repo1-storage-port=$S3_PORT
repo1-storage-verify-tls=n
repo1-s3-key=$S3_KEY
repo1-s3-key-secret=$S3_SECRET
lock-path=$W/pgbr-lock
log-path=$W/pgbr-log
spool-path=$W/pgbr-spool
log-level-console=warn
log-level-file=off
compress-type=zst
compress-level=3
process-max=$S3_PMAX
repo1-retention-full=9999

[bench]
pg1-path=$PGDATA
pg1-socket-path=$SOCK
pg1-port=$PORT
EOF
    chmod 0600 "$W/br-s3.conf" "$W/pgbr-s3.conf"
    chown postgres:postgres "$W/br-s3.conf" "$W/pgbr-s3.conf" "$W/s3-ca.pem"
    install -d -o postgres -g postgres "$W/br-spool"
    as_pg "$BR" --config="$W/br-s3.conf" --stanza=bench --pg1-path="$PGDATA" stanza-create >"$W/br-s3-stanza.out" 2>&1 || {
        log "backrest stanza-create on S3 failed: $(tail -3 "$W/br-s3-stanza.out")"
        return 1
    }
    as_pg pgbackrest --config="$W/pgbr-s3.conf" --stanza=bench stanza-create >"$W/pgbr-s3-stanza.out" 2>&1 || {
        log "pgbackrest stanza-create on S3 failed: $(tail -3 "$W/pgbr-s3-stanza.out")"
        return 1
    }
    # The daemon archives into the S3 repository from now on: a restore checks that the WAL its
    # backup needs is in the repository it restores from.
    cp "$W/br-s3.conf" "$W/br-s3-daemon.conf"
    chown postgres:postgres "$W/br-s3-daemon.conf"
    set_daemon s3-daemon off
}

s3_labels() {  # tool
    case $1 in
    backrest-s3) as_pg "$BR" --config="$W/br-s3.conf" --stanza=bench info --output=json ;;
    pgbackrest-s3) as_pg pgbackrest --config="$W/pgbr-s3.conf" --stanza=bench info --output=json ;;
    esac 2>/dev/null | python3 -c 'import json,sys; [print(b["label"]) for s in json.load(sys.stdin) for b in s.get("backup", [])]'
}

s3_bucket_bytes() {  # bucket prefix
    "${AWS[@]}" s3 ls --recursive --summarize "s3://$1/$2" 2>/dev/null | awk '/Total Size:/ {print $3}'
}

bench_object_store() {
    local run tool label before
    s3_setup || { record "section=failure" "of=s3" "tool=setup" "what=radosgw or stanza-create" "error=see log"; return 0; }
    declare -gA S3_LAST
    for run in $(seq 0 "$RUNS"); do
        for tool in $(rotated "$run" "${S3_TOOLS[@]}"); do
            log "full backup to S3: $tool process-max $S3_PMAX run $run"
            case $tool in
            backrest-s3) CMD=("$BR" --config="$W/br-s3.conf" --stanza=bench --pg1-path="$PGDATA" --pg1-socket-path="$SOCK"
                              --pg1-port="$PORT" backup --type=full --start-fast --archive-check=n) ;;
            pgbackrest-s3) CMD=(pgbackrest --config="$W/pgbr-s3.conf" --stanza=bench backup --type=full --start-fast
                                --no-archive-check) ;;
            esac
            [[ $run == 1 ]] && record_cmd "s3-full $tool process-max $S3_PMAX"
            before=$(s3_labels "$tool")
            if ! timed "${CMD[@]}"; then
                record_failure s3-full "$tool" "run $run"
                continue
            fi
            label=$(comm -13 <(echo "$before" | sort) <(s3_labels "$tool" | sort) | tail -1)
            S3_LAST[$tool]=$label
            record "section=s3-full" "tool=$tool" "pmax=$S3_PMAX" "run=$run" "wall=$T_WALL" \
                "cpu=$(calc "$T_CPU + $T_SERVER")" "rss_kb=$T_RSS" "label=$label" "load=$(loadavg)"
        done
    done
    # What each tool stored, as the server counts it.
    record "section=s3-size" "tool=backrest-s3" "bytes=$(s3_bucket_bytes br-bench backrest/backup)"
    record "section=s3-size" "tool=pgbackrest-s3" "bytes=$(s3_bucket_bytes pgbr-bench pgbackrest/backup)"
    for run in $(seq 0 "$RUNS"); do
        for tool in $(rotated "$run" "${S3_TOOLS[@]}"); do
            [[ -n ${S3_LAST[$tool]:-} ]] || continue
            local dir=$W/restore-$tool
            set_aside "$dir"
            install -d -m 0700 -o postgres -g postgres "$dir"
            log "full restore from S3: $tool process-max $S3_PMAX run $run"
            case $tool in
            backrest-s3) CMD=("$BR" --config="$W/br-s3.conf" --stanza=bench --pg1-path="$dir" restore
                              --set="${S3_LAST[$tool]}") ;;
            pgbackrest-s3) CMD=(pgbackrest --config="$W/pgbr-s3.conf" --stanza=bench --pg1-path="$dir" restore
                                --set="${S3_LAST[$tool]}") ;;
            esac
            [[ $run == 1 ]] && record_cmd "s3-restore $tool process-max $S3_PMAX"
            if ! timed "${CMD[@]}"; then
                record_failure s3-restore "$tool" "run $run"
                continue
            fi
            record "section=s3-restore" "tool=$tool" "pmax=$S3_PMAX" "run=$run" "wall=$T_WALL" "cpu=$T_CPU" \
                "rss_kb=$T_RSS" "restored_bytes=$(du -sb "$dir" | cut -f1)" "load=$(loadavg)"
        done
    done
    set_aside "$W/restore-backrest-s3"
    set_aside "$W/restore-pgbackrest-s3"
    # The server's limit: a zstd-3 tar of the data directory (about a backup's bytes) up and down
    # with aws s3 cp, 4 requests in flight, 16 MiB parts.
    tar -C "$PGDATA" --exclude=./pg_wal -cf - . 2>/dev/null | zstd -q -3 -T"$NPROC" -c >"$W/s3-sample.tar.zst"
    local bytes t0
    bytes=$(stat -c %s "$W/s3-sample.tar.zst")
    for run in $(seq 1 "$RUNS"); do
        t0=$(now_ns)
        "${AWS[@]}" s3 cp --only-show-errors "$W/s3-sample.tar.zst" s3://limit-bench/sample.tar.zst
        record "section=s3-limit" "what=put" "run=$run" "bytes=$bytes" "wall=$(secs_since "$t0")"
        t0=$(now_ns)
        "${AWS[@]}" s3 cp --only-show-errors s3://limit-bench/sample.tar.zst "$W/s3-sample.back"
        record "section=s3-limit" "what=get" "run=$run" "bytes=$bytes" "wall=$(secs_since "$t0")"
        rm -f "$W/s3-sample.back"
    done
    rm -f "$W/s3-sample.tar.zst"
    set_daemon l3-p2 off
    "$ROOT/scripts/test-servers/radosgw.sh" stop "$S3_DIR" >/dev/null 2>&1 || true
}
