#!/usr/bin/env bash
# compress-type=lz4 beside zst in one repository: a full in zst, then compress-type changed to lz4
# in the config file; a diff, an incr and a block incremental taken while pgbench writes; WAL
# archived in both. The lz4 files are lz4 frames the `lz4` tool reads; a PITR restore across the
# mixed chain and the WAL is started and its rows compared; a delta restore and verify pass; one
# flipped byte in a stored lz4 file fails verify and restore, naming the file.
set -u
SUITE=lz4
TEST_BACKREST_BIN=${TEST_BACKREST_BIN:-$(dirname "$0")/../../build/backrest}
source "$(dirname "$0")/lib.sh"
it_setup

it_primary 57150 process-max=2 log-level-console=warn
REPO=$IT_TMP/repo
must as_pg "$PGBIN/pgbench" -h "$IT_TMP" -p $PORT -U postgres -i -s 3 -q postgres
must psql_at $PORT "CREATE TABLE marker (id int primary key, note text)"
ACCOUNTS=$(psql_at $PORT "SELECT pg_relation_filepath('pgbench_accounts')")

SNAPSHOT_SQL="SELECT (SELECT md5(string_agg(aid || ':' || abalance, ',' ORDER BY aid)) FROM pgbench_accounts) || ' ' ||
  (SELECT count(*) || ':' || coalesce(sum(delta), 0) FROM pgbench_history) || ' ' ||
  (SELECT count(*) || ':' || md5(coalesce(string_agg(id || ':' || note, ',' ORDER BY id), '')) FROM marker)"
snapshot() { psql_at "$1" "$SNAPSHOT_SQL"; }
latest_label() { br info --output=json | grep -o '"label":"[0-9FDI_-]*"' | tail -1 | cut -d'"' -f4; }
manifest_compress() { grep -o '"compress-type":"[a-z0-9]*"' "$REPO/backup/main/$1/backup.manifest" | cut -d'"' -f4; }
flip_byte() {  # file offset: xor one byte with 0xff
    local old
    old=$(od -An -tu1 -j "$2" -N1 "$1" | tr -d ' ')
    printf "\\x$(printf '%02x' $((old ^ 255)))" | dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}
# pgbench in the background while a backup runs.
PGBENCH=
pgbench_start() {
    "${PG_EXEC[@]}" "$PGBIN/pgbench" -h "$IT_TMP" -p $PORT -U postgres -c 2 -T 600 -n postgres >/dev/null 2>&1 &
    PGBENCH=$!
    sleep 1
}
pgbench_stop() {
    [ -n "$PGBENCH" ] && kill "$PGBENCH" 2>/dev/null
    wait "$PGBENCH" 2>/dev/null
    PGBENCH=
}
trap 'pgbench_stop; it_finish' EXIT

# --- a full in zst (the default) --------------------------------------------------------------
expect_exit "full backup in zst" 0 "$BR" --config="$CONF" --stanza=main backup --type=full --start-fast
FULL=$(latest_label)
expect_eq "the full's manifest records zst" "$(manifest_compress "$FULL")" "zst"
must psql_at $PORT "INSERT INTO marker SELECT g, 'zst' FROM generate_series(1, 100) g"
must psql_at $PORT "SELECT pg_switch_wal()"
must br check

# --- compress-type=lz4 in the config file from here on: backups and archive-push --------------
sed -i 's/^\[global\]$/[global]\ncompress-type=lz4/' "$CONF"
expect_contains "the config file now says lz4" "$(cat "$CONF")" "compress-type=lz4"
pgbench_start
expect_exit "diff backup in lz4 under pgbench" 0 "$BR" --config="$CONF" --stanza=main backup --type=diff --start-fast
DIFF=$(latest_label)
must psql_at $PORT "INSERT INTO marker SELECT g, 'diff' FROM generate_series(101, 200) g"
expect_exit "incr backup in lz4 under pgbench" 0 "$BR" --config="$CONF" --stanza=main backup --type=incr --start-fast
INCR=$(latest_label)
expect_exit "block incremental in lz4 under pgbench" 0 "$BR" --config="$CONF" --stanza=main backup --type=incr \
    --start-fast --repo1-block
BLOCK1=$(latest_label)
expect_exit "second block incremental in lz4 under pgbench" 0 "$BR" --config="$CONF" --stanza=main backup \
    --type=incr --start-fast --repo1-block
BLOCK2=$(latest_label)
pgbench_stop
expect_eq "five backups" "$(printf '%s\n' "$FULL" "$DIFF" "$INCR" "$BLOCK1" "$BLOCK2" | sort -u | wc -l)" "5"
for label in "$DIFF" "$INCR" "$BLOCK1" "$BLOCK2"; do
    expect_eq "manifest of $label records lz4" "$(manifest_compress "$label")" "lz4"
done
expect_eq "the diff's files are .lz4, none .zst" \
    "$(find "$REPO/backup/main/$DIFF" -name '*.lz4' | grep -c .) $(find "$REPO/backup/main/$DIFF" -name '*.zst' | grep -c .)" \
    "$(find "$REPO/backup/main/$DIFF" -name '*.lz4' | grep -c .) 0"
expect_eq "the full's files stay .zst" "$(find "$REPO/backup/main/$FULL" -name '*.lz4' | grep -c .)" "0"
expect_eq "the block incrementals store lz4 blocks" \
    "$(find "$REPO/backup/main/$BLOCK1" "$REPO/backup/main/$BLOCK2" -name '*.blocks.lz4' | grep -c . | awk '{print ($1 > 0)}')" "1"
# A file over 8 MiB is stored as independent lz4 frames, with their sizes in the manifest.
ACC_DIFF=$(sed 's/{/\n/g' "$REPO/backup/main/$DIFF/backup.manifest" | grep "\"name\":\"pg_data/$ACCOUNTS\"")
expect_contains "pgbench_accounts is stored in the diff as 8 MiB frames" "$ACC_DIFF" '"frame-bytes":8388608,"frames":['
# What the lz4 tool makes of them: pgBackRest's format, readable without backrest.
bad=0
while read -r f; do lz4 -t -q "$f" >/dev/null 2>&1 || { bad=$((bad + 1)); echo "# lz4 -t fails: $f"; }; done \
    < <(find "$REPO/backup/main/$DIFF" "$REPO/backup/main/$BLOCK1" -name '*.lz4')
expect_eq "every stored lz4 file passes lz4 -t" "$bad" "0"
expect_eq "the lz4 tool restores pgbench_accounts' frames whole" \
    "$(lz4 -dc "$REPO/backup/main/$DIFF/pg_data/$ACCOUNTS.lz4" | wc -c)" \
    "$(printf '%s' "$ACC_DIFF" | sed -n 's/.*"size":\([0-9]*\).*/\1/p')"

# --- WAL: archived in both codecs, read back by archive-get -----------------------------------
must psql_at $PORT "INSERT INTO marker SELECT g, 'A' FROM generate_series(201, 300) g"
sleep 1.1
TIME_TARGET=$(psql_at $PORT "SELECT clock_timestamp()")
SNAP_TIME=$(snapshot $PORT)
sleep 1.1
must psql_at $PORT "INSERT INTO marker SELECT g, 'B' FROM generate_series(301, 400) g; DELETE FROM marker WHERE id <= 50"
must br check
ARCHIVE=$(find "$REPO/archive/main" -name '0000000*-*' -type f)
expect_eq "WAL archived before the change is zst, after it lz4" \
    "$(printf '%s\n' "$ARCHIVE" | grep -c '\.zst$' | awk '{print ($1 > 0)}') $(printf '%s\n' "$ARCHIVE" | grep -c '\.lz4$' | awk '{print ($1 > 0)}')" "1 1"
SEG=$(printf '%s\n' "$ARCHIVE" | grep '\.lz4$' | grep -v '\.backup-' | sort | tail -1)
SEG_NAME=$(basename "$SEG")
SEG_SHA=$(printf '%s' "$SEG_NAME" | sed 's/^[0-9A-F]*-\([0-9a-f]*\)\.lz4$/\1/')
expect_eq "repo-get of an lz4 segment, decompressed by the lz4 tool, has the SHA-256 of its name" \
    "$(br repo-get "${SEG#"$REPO/"}" | lz4 -dc | sha256sum | cut -d' ' -f1)" "$SEG_SHA"
expect_exit "archive-get of an lz4 segment" 0 "$BR" --config="$CONF" --stanza=main archive-get \
    "${SEG_NAME%%-*}" "$IT_TMP/got-segment"
expect_eq "archive-get restores its bytes" "$(sha256sum <"$IT_TMP/got-segment" | cut -d' ' -f1)" "$SEG_SHA"

expect_exit "verify the mixed repository" 0 "$BR" --config="$CONF" --stanza=main verify

# --- PITR across the mixed chain (zst full, lz4 diff/incr/blocks) and lz4 WAL -----------------
dir=$IT_TMP/restore-pitr
expect_exit "PITR restore to a time after the last backup" 0 "$BR" --config="$CONF" --stanza=main \
    --pg1-path="$dir" --type=time "--target=$TIME_TARGET" --target-action=promote restore
sed -i "s/^port = .*/port = 57151/; s/^archive_mode = .*/archive_mode = off/" "$dir/postgresql.conf"
pg_start "$dir"
if wait_promoted 57151; then
    expect_eq "PITR: rows equal the state at the target time" "$(snapshot 57151)" "$SNAP_TIME"
else
    fail "PITR: recovery did not finish" "$(tail -20 "$dir.log")"
fi
pg_stop "$dir"
expect_exit "PITR: pg_checksums --check" 0 "$PGBIN/pg_checksums" --check -D "$dir"

# A delta restore of the incr over it: framed lz4 files compared page by page, blocks fetched.
as_pg dd if=/dev/urandom of="$dir/$ACCOUNTS" bs=8192 count=2 seek=100 conv=notrunc status=none
expect_exit "delta restore of the incr over the PITR copy" 0 "$BR" --config="$CONF" --stanza=main \
    --pg1-path="$dir" --set="$INCR" --type=immediate --target-action=promote --delta restore
sed -i "s/^port = .*/port = 57152/; s/^archive_mode = .*/archive_mode = off/" "$dir/postgresql.conf"
pg_start "$dir"
if wait_promoted 57152; then
    expect_eq "delta restore: the incr's rows are there" \
        "$(psql_at 57152 "SELECT count(*) FROM marker WHERE note IN ('zst', 'diff')")" "200"
else
    fail "delta restore: recovery did not finish" "$(tail -20 "$dir.log")"
fi
pg_stop "$dir"
expect_exit "delta restore: pg_checksums --check" 0 "$PGBIN/pg_checksums" --check -D "$dir"

# --- one flipped byte in a stored lz4 file ----------------------------------------------------
DAMAGED=$REPO/backup/main/$DIFF/pg_data/$ACCOUNTS.lz4
flip_byte "$DAMAGED" $(($(stat -c %s "$DAMAGED") / 3))
expect_exit "verify finds the flipped byte" 28 "$BR" --config="$CONF" --stanza=main verify
expect_contains "naming the file and the backup" "$OUT" "backup $DIFF: file 'pg_data/$ACCOUNTS' is damaged"
expect_exit "restore of the diff refuses it" 28 "$BR" --config="$CONF" --stanza=main \
    --pg1-path="$IT_TMP/restore-damaged" --set="$DIFF" restore
expect_contains "naming the file and the backup" "$OUT" "file 'pg_data/$ACCOUNTS' of backup $DIFF is damaged"
