#!/usr/bin/env bash
# Recovery of >= 2 GB of archived WAL, the same WAL in the same run: backrest archive-get
# synchronous, backrest with archive-async (read-ahead into spool-path), and pgBackRest 2.45 with
# archive-async (its own spool), each restoring its own full backup taken before the WAL was
# written and replaying to the end. Both repositories use zst level 3, process-max 2 and a
# 128 MiB archive-get queue. Times are from pg_ctl start to the end of recovery (promotion);
# modes alternate within each run. Not part of make check (minutes of I/O).
# With --s3 both repositories are buckets (one per tool) of Ceph's radosgw on 127.0.0.1 over TLS
# (scripts/test-servers/radosgw.sh, memstore sized for the two archives); pgBackRest 2.45 runs
# with repo1-storage-verify-tls=n there (it does not match an IP address against the
# certificate's subjectAltName; backrest verifies it through repo1-storage-ca-file).
#   usage: bench/recovery_async.sh [--s3] [segments=144] [runs=1]
#   ports: BENCH_PORT (default 57210) and +1; with --s3 BENCH_S3_PORT (default 56460) and +1
set -u
S3=0
if [ "${1:-}" == "--s3" ]; then S3=1; shift; fi
SUITE=bench-recovery-async
[ $S3 -eq 1 ] && SUITE=bench-recovery-async-s3
SEGMENTS=${1:-144}
RUNS=${2:-1}
TEST_BACKREST_BIN=${TEST_BACKREST_BIN:-$(dirname "$0")/../build/backrest}
source "$(dirname "$0")/../test/integration/lib.sh"
command -v pgbackrest >/dev/null || { echo "bench: pgbackrest is not installed" >&2; exit 1; }
it_setup

PORT=${BENCH_PORT:-57210}
DATA=$IT_TMP/primary
CONF=$IT_TMP/backrest.conf
PGBR_CONF=$IT_TMP/pgbackrest.conf
if [ $S3 -eq 0 ]; then
    CONF_MODE=0644
    BR_REPO="repo1-path=$IT_TMP/repo-backrest"
    PGBR_REPO="repo1-path=$IT_TMP/repo-pgbackrest"
    archive_bytes() { du -sb "$IT_TMP/repo-$1/archive" | cut -f1; }  # tool
    WHERE="posix"
else
    RGW_SH=$(cd "$(dirname "$0")/../scripts/test-servers" && pwd)/radosgw.sh
    RGW_DIR=$IT_TMP/rgw
    trap 'bash "$RGW_SH" stop "$RGW_DIR" >/dev/null 2>&1; it_finish' EXIT
    # Objects live in the OSD's memory: both archives (~15 % of the WAL each at zst 3 here, a
    # whole segment each at worst) and both backups.
    export RGW_MEMSTORE_BYTES=$((2 * 1073741824 + SEGMENTS * 16777216 * 2))
    must bash "$RGW_SH" start "$RGW_DIR" "${BENCH_S3_PORT:-56460}"
    # shellcheck disable=SC1091
    . "$RGW_DIR/env"
    install -m 0644 "$S3_CA" "$IT_TMP/ca.pem"
    aws_s3() {
        AWS_ACCESS_KEY_ID=$S3_KEY AWS_SECRET_ACCESS_KEY=$S3_SECRET AWS_DEFAULT_REGION=$S3_REGION \
            /usr/bin/aws --endpoint-url "https://127.0.0.1:$S3_PORT" --ca-bundle "$IT_TMP/ca.pem" "$@"
    }
    must aws_s3 s3api create-bucket --bucket br-recovery
    must aws_s3 s3api create-bucket --bucket pgbr-recovery
    s3_lines() {  # bucket prefix
        printf 'repo1-type=s3\nrepo1-path=%s\nrepo1-s3-bucket=%s\nrepo1-s3-endpoint=127.0.0.1\n' "$2" "$1"
        printf 'repo1-s3-region=%s\nrepo1-s3-uri-style=path\nrepo1-storage-port=%s\n' "$S3_REGION" "$S3_PORT"
        printf 'repo1-s3-key=%s\nrepo1-s3-key-secret=%s\n' "$S3_KEY" "$S3_SECRET"
    }
    CONF_MODE=0600  # the secret: readable by postgres only
    BR_REPO="$(s3_lines br-recovery /backrest)
repo1-storage-ca-file=$IT_TMP/ca.pem"
    PGBR_REPO="$(s3_lines pgbr-recovery /pgbackrest)
repo1-storage-verify-tls=n"
    archive_bytes() {  # tool
        case $1 in backrest) set -- br-recovery/backrest ;; pgbackrest) set -- pgbr-recovery/pgbackrest ;; esac
        aws_s3 s3 ls --recursive --summarize "s3://$1/archive/" | awk '/Total Size:/ {print $3}'
    }
    WHERE="radosgw (TLS, 127.0.0.1:$S3_PORT)"
fi
PGBR="pgbackrest --config=$PGBR_CONF --stanza=bench"
pg_archiving "$DATA" $PORT "$BR --config=$CONF --stanza=bench archive-push %p && $PGBR archive-push %p" \
    "max_wal_size = 4GB" "checkpoint_timeout = 30min" "autovacuum = off"
it_conf "$CONF" $CONF_MODE <<CONF
[global]
$BR_REPO
lock-path=$IT_TMP/lock
spool-path=$IT_TMP/spool-backrest
process-max=2
archive-get-queue-max=128MiB
compress-type=zst
compress-level=3
log-level-console=warn

[bench]
$(pg1_lines)
CONF
it_conf "$PGBR_CONF" $CONF_MODE <<CONF
[global]
$PGBR_REPO
lock-path=$IT_TMP/lock-pgbackrest
log-path=$IT_TMP/log-pgbackrest
spool-path=$IT_TMP/spool-pgbackrest
process-max=2
archive-get-queue-max=128MiB
compress-type=zst
compress-level=3
start-fast=y
log-level-console=warn
log-level-file=off

[global:archive-get]
archive-async=y

[bench]
pg1-path=$DATA
pg1-socket-path=$IT_TMP
pg1-port=$PORT
CONF
as_pg mkdir -p "$IT_TMP/spool-backrest" "$IT_TMP/spool-pgbackrest" "$IT_TMP/log-pgbackrest"
must as_pg "$BR" --config="$CONF" --stanza=bench stanza-create
must as_pg $PGBR stanza-create
must as_pg "$BR" --config="$CONF" --stanza=bench backup --type=full --start-fast
must as_pg $PGBR backup --type=full

# The WAL: a 256 MB table (pgbench -s 16) updated whole, again and again, until `SEGMENTS`
# segments were written after the backups; vacuum keeps the table from growing.
must as_pg "$PGBIN/pgbench" -h "$IT_TMP" -p $PORT -U postgres -i -s 16 -q postgres
START_LSN=$(psql_at $PORT "SELECT pg_current_wal_lsn()")
round=0
while :; do
    written=$(psql_at $PORT "SELECT (pg_current_wal_lsn() - '$START_LSN'::pg_lsn)::bigint / 16777216")
    [ "$written" -ge "$SEGMENTS" ] && break
    round=$((round + 1))
    must psql_at $PORT "UPDATE pgbench_accounts SET abalance = abalance + $round"
    must psql_at $PORT "VACUUM pgbench_accounts"
done
must psql_at $PORT "CHECKPOINT"
# Each segment is pushed by both tools in turn (about 1 s on radosgw): the archiver lags the
# writes, and check's own segment would wait behind the backlog past archive-timeout.
for _ in $(seq 1 3600); do
    compgen -G "$DATA/pg_wal/archive_status/*.ready" >/dev/null || break
    sleep 0.5
done
must as_pg "$BR" --config="$CONF" --stanza=bench check
must as_pg $PGBR check
WAL_BYTES=$(psql_at $PORT "SELECT (pg_current_wal_lsn() - '$START_LSN'::pg_lsn)::bigint")
EXPECTED=$(psql_at $PORT "SELECT sum(abalance) FROM pgbench_accounts")
pg_stop "$DATA"
echo "# WAL after the backups: $WAL_BYTES bytes ($((WAL_BYTES / 16777216)) segments of 16 MiB);" \
    "repositories ($WHERE): backrest $(archive_bytes backrest) bytes," \
    "pgBackRest $(archive_bytes pgbackrest) bytes of archive"

# Promotion, polled every 0.5 s as wait_promoted does, but for up to an hour: a synchronous
# recovery from an object store takes longer than wait_promoted's 2 minutes.
wait_recovered() {  # port
    local i
    for i in $(seq 1 7200); do
        [ "$(psql_at "$1" 'SELECT pg_is_in_recovery()' 2>/dev/null)" == "f" ] && return 0
        sleep 0.5
    done
    return 1
}

# One recovery: restore (not timed), then pg_ctl start to promotion (timed), then the data
# checked against the primary's and the copy removed.
recover() {  # mode run
    local mode=$1 run=$2 dir=$IT_TMP/restore start end secs sum
    rm -rf "$dir"
    case $mode in
    backrest-sync) must as_pg "$BR" --config="$CONF" --stanza=bench --pg1-path="$dir" restore --target-action=promote ;;
    backrest-async) must as_pg "$BR" --config="$CONF" --stanza=bench --pg1-path="$dir" restore --target-action=promote --archive-async=y ;;
    pgbackrest-async)
        must as_pg pgbackrest --config="$PGBR_CONF" --stanza=bench --pg1-path="$dir" restore ;;  # promotes at the end (its default)
    esac
    sed -i "s/^port = .*/port = $((PORT + 1))/; s/^archive_mode = .*/archive_mode = off/" "$dir/postgresql.conf"
    sync
    start=$(date +%s.%N)
    pg_start "$dir"
    wait_recovered $((PORT + 1)) || { echo "bench: $mode did not promote: $(tail -5 "$dir.log")" >&2; exit 1; }
    end=$(date +%s.%N)
    secs=$(echo "$end - $start" | bc)
    sum=$(psql_at $((PORT + 1)) "SELECT sum(abalance) FROM pgbench_accounts")
    pg_stop "$dir"
    [ "$sum" == "$EXPECTED" ] || { echo "bench: $mode recovered other data ($sum, expected $EXPECTED)" >&2; exit 1; }
    echo "$mode run $run: recovery $secs s ($(echo "$WAL_BYTES / $secs / 1048576" | bc) MiB/s of WAL)"
    echo "$secs" >>"$IT_TMP/$mode.times"
}

MODES=(backrest-sync backrest-async pgbackrest-async)
for run in $(seq 1 "$RUNS"); do
    for mode in "${MODES[@]}"; do recover "$mode" "$run"; done
    MODES=("${MODES[@]:1}" "${MODES[0]}")  # rotate: each mode leads once in three runs
done
median() { sort -n | awk '{a[NR]=$1} END {printf "%.2f\n", (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
SYNC=$(median <"$IT_TMP/backrest-sync.times")
ASYNC=$(median <"$IT_TMP/backrest-async.times")
PGBR_ASYNC=$(median <"$IT_TMP/pgbackrest-async.times")
echo "median of $RUNS: backrest sync $SYNC s, backrest async $ASYNC s, pgBackRest async $PGBR_ASYNC s"
echo "ratios: backrest sync / async $(echo "scale=2; $SYNC / $ASYNC" | bc)," \
    "pgBackRest async / backrest async $(echo "scale=2; $PGBR_ASYNC / $ASYNC" | bc)"
