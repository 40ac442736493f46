#!/usr/bin/env bash
# Block-level incremental (repo1-block): the same cluster is backed up into two stanzas, one with
# --repo1-block and one without; after ~1 % of pgbench_accounts' pages change, the block
# incremental stores at most 5 % of what the file-level one stores. A chain full → incr → incr
# (blocks from three backups) restores exactly, passes pg_checksums and verify; a flipped byte in
# the full's blocks fails verify and restore by name.
set -u
SUITE=block_incremental
TEST_BACKREST_BIN=${TEST_BACKREST_BIN:-$(dirname "$0")/../../build/backrest}
source "$(dirname "$0")/lib.sh"
it_setup

PORT=55490
DATA=$IT_TMP/primary
CONF=$IT_TMP/backrest.conf
it_conf "$CONF" 0644 <<CONF
[global]
lock-path=$IT_TMP/lock
process-max=2
$(pg1_lines)

[block]
repo1-path=$IT_TMP/repo-block

[file]
repo1-path=$IT_TMP/repo-file
CONF
br() { local stanza=$1; shift; as_pg "$BR" --config="$CONF" --stanza="$stanza" "$@"; }

pg_archiving "$DATA" $PORT "$(archive_push_to "$BR" "$CONF" block file)" "autovacuum = off"
must br block stanza-create
must br file stanza-create
must as_pg "$PGBIN/pgbench" -h "$IT_TMP" -p $PORT -U postgres -i -s 10 -q postgres
# The two stanzas must see the same changes: no autovacuum (above), and hint bits set and written
# now rather than by whatever reads the catalogs between the two full backups.
must psql_at $PORT "VACUUM"
must psql_at $PORT "CHECKPOINT"
sleep 1.1  # ... and in an earlier second than the full backups start (see BackupJob::reusable)
ACCOUNTS=$(psql_at $PORT "SELECT pg_relation_filepath('pgbench_accounts')")
PKEY=$(psql_at $PORT "SELECT pg_relation_filepath('pgbench_accounts_pkey')")

SNAPSHOT_SQL="SELECT (SELECT md5(string_agg(aid || ':' || abalance, ',' ORDER BY aid)) FROM pgbench_accounts) || ' ' ||
  (SELECT count(*) || ':' || coalesce(sum(delta), 0) FROM pgbench_history) || ' ' ||
  (SELECT md5(string_agg(tid || ':' || tbalance, ',' ORDER BY tid)) FROM pgbench_tellers)"
snapshot() { psql_at "$1" "$SNAPSHOT_SQL"; }
latest_label() { br "$1" info --output=json | grep -o '"label":"[0-9FDI_-]*"' | tail -1 | cut -d'"' -f4; }
# Bytes a backup stored for its files (`info`'s repository delta: pgBackRest's meaning since issue 20;
# repository size is what a restore of it reads).
repo_size() {
    br "$1" info --output=json | python3 -c "
import json, sys
for b in json.load(sys.stdin)[0]['backup']:
    if b['label'] == '$2': print(b['info']['repository']['delta'])"
}
dir_bytes() { du -sb "$IT_TMP/repo-$1/backup/$1/$2" | cut -f1; }
flip_byte() {  # file offset: xor one byte with 0xff
    local old
    old=$(od -An -tu1 -j "$2" -N1 "$1" | tr -d ' ')
    printf "\\x$(printf '%02x' $((old ^ 255)))" | dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}

expect_exit "full backup with --repo1-block" 0 "$BR" --config="$CONF" --stanza=block backup --type=full \
    --start-fast --repo1-block
FULL=$(latest_label block)
expect_exit "full backup without it" 0 "$BR" --config="$CONF" --stanza=file backup --type=full --start-fast
SNAP_FULL=$(snapshot $PORT)
BLOCKS_FULL=$IT_TMP/repo-block/backup/block/$FULL/pg_data/$ACCOUNTS.blocks.zst
expect_eq "the full stores pgbench_accounts as blocks" \
    "$(test -s "$BLOCKS_FULL" && test -s "${BLOCKS_FULL%.blocks.zst}.blockmap" && echo yes)" "yes"
expect_eq "and not whole" "$(test -e "$IT_TMP/repo-block/backup/block/$FULL/pg_data/$ACCOUNTS.zst" && echo whole)" ""
sleep 1.1  # files changed from here on have mtimes after both full backups started

# ~1 % of pgbench_accounts' pages: one row in every 6000 is on a different page.
PAGES=$(psql_at $PORT "SELECT pg_relation_size('pgbench_accounts') / 8192")
CHANGED=$(psql_at $PORT "SELECT count(DISTINCT (ctid::text::point)[0]) FROM pgbench_accounts WHERE aid % 6000 = 0")
must psql_at $PORT "UPDATE pgbench_accounts SET abalance = abalance + 1 WHERE aid % 6000 = 0"
must psql_at $PORT "CHECKPOINT"
echo "# measure: pgbench_accounts pages changed: $CHANGED of $PAGES ($(awk "BEGIN{printf \"%.2f\", 100*$CHANGED/$PAGES}") %)"

expect_exit "incr with --repo1-block" 0 "$BR" --config="$CONF" --stanza=block backup --type=incr --start-fast \
    --repo1-block --log-level-console=info
expect_contains "it reports the blocks it stored" "$OUT" "files stored as blocks"
INCR1=$(latest_label block)
SNAP1=$(snapshot $PORT)
expect_exit "incr without it" 0 "$BR" --config="$CONF" --stanza=file backup --type=incr --start-fast
FILE_INCR=$(latest_label file)

BLOCK_SIZE=$(repo_size block "$INCR1")
FILE_SIZE=$(repo_size file "$FILE_INCR")
echo "# measure: block incr stored $BLOCK_SIZE bytes, file-level incr $FILE_SIZE bytes ($(awk "BEGIN{printf \"%.2f\", 100*$BLOCK_SIZE/$FILE_SIZE}") %)"
echo "# measure: backup directories incl. manifests: block incr $(dir_bytes block "$INCR1") bytes, file-level incr $(dir_bytes file "$FILE_INCR") bytes"
expect_eq "block incr stores at most 5 % of the file-level incr ($BLOCK_SIZE vs $FILE_SIZE bytes)" \
    "$((BLOCK_SIZE * 100 <= FILE_SIZE * 5))" "1"
ACC_INCR=$(grep -o "{[^}]*\"name\":\"pg_data/$ACCOUNTS\"[^}]*}" "$IT_TMP/repo-block/backup/block/$INCR1/backup.manifest")
expect_contains "pgbench_accounts is block-stored in the incr" "$ACC_INCR" '"block-size":8192'
expect_contains "with its page checksums validated" "$ACC_INCR" '"page-checked":true'
ACC_REPO=$(printf '%s' "$ACC_INCR" | sed -n 's/.*"repo-size":\([0-9]*\).*/\1/p')
ACC_FULL=$(stat -c %s "$BLOCKS_FULL")
expect_eq "and stores under 5 % of its blocks again ($ACC_REPO of $ACC_FULL bytes)" \
    "$((ACC_REPO * 100 < ACC_FULL * 5))" "1"

# A second incremental: random pgbench updates; files now take blocks from three backups.
must as_pg "$PGBIN/pgbench" -h "$IT_TMP" -p $PORT -U postgres -c 2 -t 300 -n postgres
expect_exit "second incr with --repo1-block" 0 "$BR" --config="$CONF" --stanza=block backup --type=incr \
    --start-fast --repo1-block
INCR2=$(latest_label block)
SNAP2=$(snapshot $PORT)
# The index's pages changed by the first incr mostly stay as they were (the table's do not: reads
# since have set hint bits on them), so its map now names the full and both incrementals.
HOLDERS=$(grep -aoE "${FULL}(_[0-9]{8}-[0-9]{6}I)?" "$IT_TMP/repo-block/backup/block/$INCR2/pg_data/$PKEY.blockmap" |
    sort -u | wc -l)
expect_eq "pgbench_accounts_pkey in the second incr takes blocks from 3 backups" "$HOLDERS" "3"
# Without --repo1-block, a changed file is stored whole again; unchanged ones keep their blocks.
must as_pg "$PGBIN/pgbench" -h "$IT_TMP" -p $PORT -U postgres -c 1 -t 50 -n postgres
expect_exit "incr without --repo1-block after block backups" 0 "$BR" --config="$CONF" --stanza=block backup \
    --type=incr --start-fast
INCR3=$(latest_label block)
SNAP3=$(snapshot $PORT)

port=55491
for label in "$INCR1" "$INCR2" "$INCR3"; do
    case $label in "$INCR1") want=$SNAP1 ;; "$INCR2") want=$SNAP2 ;; *) want=$SNAP3 ;; esac
    dir=$IT_TMP/restore-$port
    expect_exit "restore $label" 0 "$BR" --config="$CONF" --stanza=block --pg1-path="$dir" --set="$label" \
        --type=immediate --target-action=promote restore
    sed -i "s/^port = .*/port = $port/; s/^archive_mode = .*/archive_mode = off/" "$dir/postgresql.conf"
    pg_start "$dir"
    if wait_promoted $port; then
        expect_eq "restore $label: data equals the state at that backup" "$(snapshot $port)" "$want"
    else
        fail "restore $label: recovery did not finish" "$(tail -20 "$dir.log")"
    fi
    pg_stop "$dir"
    expect_exit "restore $label: pg_checksums --check" 0 "$PGBIN/pg_checksums" --check -D "$dir"
    port=$((port + 1))
done
expect_eq "the full's data was not the incr's" "$([ "$SNAP_FULL" != "$SNAP1" ] && echo differs)" "differs"

# --delta over the restored second incr: block-stored files are compared block by block with the
# backup's block checksums; only differing blocks are fetched and written. Two pages damaged and
# the index cut short by 40 pages (the restored cluster also ran, so some other blocks differ).
dir=$IT_TMP/restore-55492
as_pg dd if=/dev/urandom of="$dir/$ACCOUNTS" bs=8192 count=1 seek=10 conv=notrunc status=none
as_pg dd if=/dev/urandom of="$dir/$ACCOUNTS" bs=8192 count=1 seek=900 conv=notrunc status=none
as_pg truncate -s $(($(stat -c %s "$dir/$PKEY") - 40 * 8192)) "$dir/$PKEY"
expect_exit "restore --delta of the second incr" 0 "$BR" --config="$CONF" --stanza=block --pg1-path="$dir" \
    --set="$INCR2" --type=immediate --target-action=promote --delta restore
if [[ "$OUT" =~ block-stored\ files\ compared\ block\ by\ block:\ ([0-9]+)\ blocks\ compared,\ ([0-9]+)\ restored ]]; then
    COMPARED=${BASH_REMATCH[1]} RESTORED=${BASH_REMATCH[2]}
    expect_eq "delta restore fetched the damaged and missing blocks, and few others ($RESTORED of $COMPARED)" \
        "$((RESTORED >= 42 && RESTORED * 10 < COMPARED))" "1"
else
    fail "delta restore reports its block comparison" "$OUT"
fi
sed -i "s/^port = .*/port = 55495/; s/^archive_mode = .*/archive_mode = off/" "$dir/postgresql.conf"
pg_start "$dir"
if wait_promoted 55495; then
    expect_eq "delta-restored data equals the second incr's state" "$(snapshot 55495)" "$SNAP2"
else
    fail "delta restore: recovery did not finish" "$(tail -20 "$dir.log")"
fi
pg_stop "$dir"

expect_exit "verify the block repository" 0 "$BR" --config="$CONF" --stanza=block verify

# Damage in the full's blocks: every backup using them fails verify, and restore refuses.
flip_byte "$BLOCKS_FULL" $(($(stat -c %s "$BLOCKS_FULL") / 2))
expect_exit "verify finds the flipped byte" 28 "$BR" --config="$CONF" --stanza=block verify
expect_contains "naming the file in the full" "$OUT" "backup $FULL: file 'pg_data/$ACCOUNTS' is damaged"
expect_contains "and in the incrementals using its blocks" "$OUT" "backup $INCR2: file 'pg_data/$ACCOUNTS' is damaged"
expect_contains "and the backup holding the block" "$OUT" "is in backup $FULL"
expect_exit "restore of the second incr refuses the damaged block" 28 "$BR" --config="$CONF" --stanza=block \
    --pg1-path="$IT_TMP/restore-damaged" --set="$INCR2" restore
expect_contains "with a checksum error naming file and backups" "$OUT" \
    "file 'pg_data/$ACCOUNTS' of backup $INCR2 is damaged in the repository: block"
