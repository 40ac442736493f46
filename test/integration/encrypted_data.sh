#!/usr/bin/env bash
# Encrypted data path (issue 18): every data byte of an encrypted repository (files, frames of a
# large file, bundle members, WAL segments) is sealed under the repository key and bound to where
# it belongs. A full backup restores exactly; no stored file is zstd, none of an uncompressed
# backup holds backup_label or postgresql.conf text; two swapped files, a flipped byte in a
# frame, a flipped byte in a bundle member and a segment's bytes under another segment's name
# each fail by name (restore exit 37, verify counts it as a damaged file, archive-get refuses it)
# instead of restoring wrong bytes.
#
# The repository is encrypted with repo1-cipher-type=aes-256-gcm and the passphrase from
# BACKREST_REPO1_CIPHER_PASS. BRTEST_DATA_KEY set instead: a build whose worker/context.cpp
# takes a fixed key from it (the data path tried before the options existed).
set -u
SUITE=encrypted_data
TEST_BACKREST_BIN=${TEST_BACKREST_BIN:-$(dirname "$0")/../../build/backrest}
source "$(dirname "$0")/lib.sh"
it_setup

CIPHER=()
if [ -z "${BRTEST_DATA_KEY:-}" ]; then
    CIPHER=("repo1-cipher-type=aes-256-gcm")
    export BACKREST_REPO1_CIPHER_PASS="correct horse battery staple 18"
fi
REPO=$IT_TMP/repo
it_primary 56030 "process-max=2" "repo1-bundle=y" "${CIPHER[@]}"
flip_byte() {  # file offset: xor one byte with 0xff
    local old
    old=$(od -An -tu1 -j "$2" -N1 "$1" | tr -d ' ')
    printf "\\x$(printf '%02x' $((old ^ 255)))" | dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}
fsize() { stat -c %s "$1"; }
table_sum() { psql_at "$1" "SELECT count(*), sum(abalance), md5(string_agg(aid::text || filler, ',' ORDER BY aid)) FROM pgbench_accounts"; }

# pgbench_accounts at scale 4 is ~52 MB: stored as 8 MiB frames.
must as_pg "$PGBIN/pgbench" -h "$IT_TMP" -p $PORT -U postgres -i -s 4 -q postgres
must psql_at $PORT "UPDATE pgbench_accounts SET abalance = aid % 1000 WHERE aid % 7 = 0"
WANT=$(table_sum $PORT)
must br backup --type=full --start-fast
F=$(ls "$REPO/backup/main" | grep -E '^[0-9]{8}-[0-9]{6}F$' | head -1)
B=$REPO/backup/main/$F
ACCOUNTS=$(psql_at $PORT "SELECT pg_relation_filepath('pgbench_accounts')")
BIG=$B/pg_data/$ACCOUNTS.zst

# Round trip.
restore full 0
cat >>"$IT_TMP/restore-full/postgresql.conf" <<CONF
port = 56031
archive_mode = off
CONF
must as_pg touch "$IT_TMP/restore-full/recovery.signal"
pg_start "$IT_TMP/restore-full"
wait_promoted 56031
expect_eq "restored table equals the original" "$(table_sum 56031)" "$WANT"
pg_stop "$IT_TMP/restore-full"

# Nothing readable: no stored data file or segment is zstd, none holds backup_label's text.
# The manifest is sealed too: a framed file is told by its units, one "BRS1" header per frame.
# pgbench_accounts (~52 MB) by its name: compressed, another file can be the larger.
expect_eq "the large file is stored as frames (several sealed units)" \
    "$([ "$(grep -ao BRS1 "$BIG" | wc -l)" -gt 1 ] && echo yes)" "yes"
STORED=$(find "$B/pg_data" "$B/bundle" "$REPO/archive/main" -type f ! -name '*.info*' | wc -l)
ZSTD_OK=0
while read -r f; do zstd -q -t "$f" >/dev/null 2>&1 && ZSTD_OK=$((ZSTD_OK + 1)); done < <(find "$B/pg_data" "$B/bundle" "$REPO/archive/main" -type f -name '*.zst')
expect_eq "none of $STORED stored data files is a zstd stream" "$ZSTD_OK" "0"
# zstd codes literals too, so text is looked for in a backup taken with --compress-type=none:
# its files are then sealed plain bytes.
must br backup --type=full --start-fast --compress-type=none
N=$(ls "$REPO/backup/main" | grep -E '^[0-9]{8}-[0-9]{6}F$' | tail -1)
expect_eq "a second, uncompressed, full backup" "$([ "$N" != "$F" ] && echo yes)" "yes"
expect_eq "no stored file of it holds backup_label or PG_VERSION text" \
    "$(grep -rlaE 'START WAL LOCATION|CHECKPOINT LOCATION|shared_buffers' "$REPO/backup/main/$N/pg_data" "$REPO/backup/main/$N/bundle" | wc -l)" "0"

# Two relation files of the database swapped: the first restored reads another's bytes.
DB=$(dirname "$ACCOUNTS")
read -r A1 A2 < <(find "$B/pg_data/$DB" -maxdepth 1 -name '*.zst' -size +8k -printf '%s %p\n' | sort -n | head -2 | awk '{print $2}' | tr '\n' ' ')
cp "$A1" "$IT_TMP/a1" && cp "$A2" "$IT_TMP/a2"
cp "$IT_TMP/a2" "$A1" && cp "$IT_TMP/a1" "$A2"
restore swapped 37 --process-max=1 --set="$F"
expect_contains "swapped: named as not opening" "$OUT" "does not open with the repository key"
expect_contains "swapped: says swapped or moved" "$OUT" "swapped or moved"
cp "$IT_TMP/a1" "$A1" && cp "$IT_TMP/a2" "$A2"

# A flipped byte in frame 1 of the large file: restore names the file and the frame.
cp "$BIG" "$IT_TMP/big"
flip_byte "$BIG" $(( $(fsize "$BIG") / 6 + 100 ))
restore frame 37 --set="$F"
expect_contains "frame: names the file" "$OUT" "file 'pg_data/$ACCOUNTS' of backup $F does not open"
expect_contains "frame: names the frame" "$OUT" "frame 1 of"
expect_exit "verify reports the damaged frame" 28 "$BR" --config="$CONF" --stanza=main verify
expect_contains "verify: the file, as damaged" "$OUT" "file 'pg_data/$ACCOUNTS' is damaged"
expect_contains "verify: does not authenticate" "$OUT" "does not authenticate"
cp "$IT_TMP/big" "$BIG"

# A flipped byte in a bundle member: verify counts it as that file's problem and goes on.
BUNDLE=$B/bundle/1
cp "$BUNDLE" "$IT_TMP/bundle"
flip_byte "$BUNDLE" $(( $(fsize "$BUNDLE") / 2 ))
expect_exit "verify reports the bundle member" 28 "$BR" --config="$CONF" --stanza=main verify
expect_contains "verify: names the bundle range" "$OUT" "/bundle/1, bytes "
expect_contains "verify: does not authenticate (bundle)" "$OUT" "does not authenticate"
expect_contains "verify: counted as one problem, WAL checked too" "$OUT" "WAL files checked: 1 problem"
cp "$IT_TMP/bundle" "$BUNDLE"
expect_exit "verify passes once repaired" 0 "$BR" --config="$CONF" --stanza=main verify

# A segment's stored bytes under another segment's name: archive-get refuses it by name.
mapfile -t SEGS < <(find "$REPO/archive/main" -type f -name '0000000100000000000000*' ! -name '*.backup*' | sort | head -2)
S1=$(basename "${SEGS[0]}"); S1=${S1%%-*}
cp "${SEGS[0]}" "$IT_TMP/seg1" && cp "${SEGS[1]}" "${SEGS[0]}"
expect_exit "archive-get of a segment holding another's bytes aborts" 255 "$BR" --config="$CONF" --stanza=main \
    archive-get "$S1" "$IT_TMP/got-$S1"
expect_contains "archive-get names the segment" "$OUT" "WAL file $S1 cannot be read from the repository"
expect_contains "archive-get: does not authenticate" "$OUT" "does not authenticate"
expect_eq "archive-get wrote nothing" "$(test -e "$IT_TMP/got-$S1" && echo exists || echo absent)" "absent"
cp "$IT_TMP/seg1" "${SEGS[0]}"
expect_exit "archive-get once repaired" 0 "$BR" --config="$CONF" --stanza=main archive-get "$S1" "$IT_TMP/got-$S1"

# Resume: a resumed file's sealed bytes are bound to the killed backup's label; the next full
# reseals them for its own (nothing decompressed) while it takes them over. A full killed once
# its first (sealed) journal batch is written is resumed, and the resumed backup restores exactly.
# (zstd level 19 on one process keeps the killed backup copying for seconds. A file written in
# or after the second a backup starts is never taken over: autovacuum is off, everything vacuumed
# and checkpointed a second before, so the large framed file, copied first and alone in the
# first batch, can be.)
must psql_at $PORT "ALTER SYSTEM SET autovacuum = off"
must psql_at $PORT "SELECT pg_reload_conf()"
must psql_at $PORT "VACUUM"
must psql_at $PORT "CHECKPOINT"
sleep 1.2
"${PG_EXEC[@]}" "$BR" --config="$CONF" --stanza=main backup --type=full --start-fast --process-max=1 \
    --compress-level=19 --repo1-bundle=n >/dev/null 2>&1 &
KILLED=$!
# No short deadline: on a loaded machine the first file alone takes minutes at level 19.
WAIT_UNTIL=$((SECONDS + 600))
while [ $SECONDS -lt $WAIT_UNTIL ]; do
    compgen -G "$REPO/backup/main/*/backup.resume.0" >/dev/null && break
    kill -0 $KILLED 2>/dev/null || break
    sleep 0.02
done
kill -9 $KILLED 2>/dev/null
wait $KILLED 2>/dev/null
BATCH=$(compgen -G "$REPO/backup/main/*/backup.resume.0" | head -1)
expect_eq "the killed backup left a sealed journal batch" "$(head -c 4 "$BATCH" 2>/dev/null)" "BRS1"
expect_exit "the next full backup resumes it" 0 "$BR" --config="$CONF" --stanza=main backup --type=full \
    --start-fast --log-level-console=info
expect_contains "it says so" "$OUT" "resuming interrupted backup"
TAKEN=$(printf '%s' "$OUT" | sed -n 's/.* \([0-9]*\) files taken from interrupted backup.*/\1/p')
expect_eq "files were taken over, resealed, not copied again (${TAKEN:-0})" "$((${TAKEN:-0} > 0))" "1"
[ "${TAKEN:-0}" -gt 0 ] || printf '%s\n' "$OUT" | grep -i "resum\|taken\|journal" | head -20 | sed 's/^/    # /'
RESUMED=$(ls "$REPO/backup/main" | grep -E '^[0-9]{8}-[0-9]{6}F$' | tail -1)
expect_exit "verify the resumed backup" 0 "$BR" --config="$CONF" --stanza=main verify --set="$RESUMED"
restore resumed 0 --set="$RESUMED" --type=immediate --target-action=promote
printf 'port = 56031\narchive_mode = off\n' >>"$IT_TMP/restore-resumed/postgresql.conf"
pg_start "$IT_TMP/restore-resumed"
if wait_promoted 56031; then
    expect_eq "the resumed backup restores exactly" "$(table_sum 56031)" "$WANT"
else
    fail "resumed backup: recovery did not finish" "$(tail -20 "$IT_TMP/restore-resumed.log")"
fi
pg_stop "$IT_TMP/restore-resumed"
