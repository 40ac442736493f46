#!/usr/bin/env bash
# zst level 3 (backrest's default) against lz4 level 1 (pgBackRest's lz4 default) on one pgbench
# cluster: full backup time, repository size, restore time, in alternating runs (zst, lz4, zst,
# lz4, ...) so that load on the machine falls on both alike. Prints one line per run and the
# median of each. usage: bench/compress_types.sh [scale=50] [runs=3] [process-max=2]
set -u
SUITE=bench-compress
SCALE=${1:-50}
RUNS=${2:-3}
PMAX=${3:-2}
TEST_BACKREST_BIN=${TEST_BACKREST_BIN:-$(dirname "$0")/../build/backrest}
source "$(dirname "$0")/../test/integration/lib.sh"
it_setup

PORT=57155
DATA=$IT_TMP/primary
CONF=$IT_TMP/backrest.conf
pg_archiving "$DATA" $PORT "$BR --config=$CONF --stanza=zst archive-push %p && $BR --config=$CONF --stanza=lz4 archive-push %p"
it_conf "$CONF" 0644 <<CONF
[global]
lock-path=$IT_TMP/lock
process-max=$PMAX
log-level-console=warn
$(pg1_lines)

[zst]
repo1-path=$IT_TMP/repo-zst
compress-type=zst
compress-level=3

[lz4]
repo1-path=$IT_TMP/repo-lz4
compress-type=lz4
compress-level=1
CONF
must as_pg "$BR" --config="$CONF" --stanza=zst stanza-create
must as_pg "$BR" --config="$CONF" --stanza=lz4 stanza-create
must as_pg "$PGBIN/pgbench" -h "$IT_TMP" -p $PORT -U postgres -i -s "$SCALE" -q postgres
must psql_at $PORT "CHECKPOINT"
echo "# cluster: $(du -sb "$DATA" | cut -f1) bytes (pgbench -s $SCALE), process-max $PMAX"

median() { sort -n | awk '{a[NR]=$1} END {printf "%.2f\n", (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
for run in $(seq 1 "$RUNS"); do
    for type in zst lz4; do
        start=$(date +%s.%N)
        must as_pg "$BR" --config="$CONF" --stanza=$type backup --type=full --start-fast
        backup=$(echo "$(date +%s.%N) - $start" | bc)
        label=$(ls "$IT_TMP/repo-$type/backup/$type" | grep F$ | tail -1)
        size=$(du -sb "$IT_TMP/repo-$type/backup/$type/$label" | cut -f1)
        rm -rf "$IT_TMP/restore"
        start=$(date +%s.%N)
        must as_pg "$BR" --config="$CONF" --stanza=$type --pg1-path="$IT_TMP/restore" --set="$label" restore
        restore=$(echo "$(date +%s.%N) - $start" | bc)
        echo "$type run $run: backup $backup s, repository $size bytes, restore $restore s"
        echo "$backup" >>"$IT_TMP/$type.backup"
        echo "$restore" >>"$IT_TMP/$type.restore"
        echo "$size" >>"$IT_TMP/$type.size"
    done
done
for type in zst lz4; do
    echo "median $type: backup $(median <"$IT_TMP/$type.backup") s, repository $(median <"$IT_TMP/$type.size") bytes, restore $(median <"$IT_TMP/$type.restore") s"
done
