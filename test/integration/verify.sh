#!/usr/bin/env bash
# verify: a whole repository passes; a flipped byte in a stored file, a missing, truncated or
# absent-between-backups WAL segment and a damaged backup.info are each reported by name (and
# exit 28 for the problems, 0 for the warnings); verify changes nothing in the repository.
set -u
SUITE=verify
TEST_BACKREST_BIN=${TEST_BACKREST_BIN:-$(dirname "$0")/../../build/backrest}
source "$(dirname "$0")/lib.sh"
it_setup

REPO=$IT_TMP/repo
labels() { br info --output=json | grep -o '"label":"[0-9FDI_-]*"' | cut -d'"' -f4 | tr '\n' ' '; }
manifest_key() { grep -o "\"$2\":\"[^\"]*\"" "$REPO/backup/main/$1/backup.manifest" | head -1 | cut -d'"' -f4; }
wal_file() { find "$REPO/archive/main" -name "$1-*" ! -name '*.tmp' | head -1; }  # not a push in flight
next_segment() { printf '%s%08X' "${1:0:16}" $((16#${1:16:8} + 1)); }
repo_state() { find "$REPO" -printf '%p %s %T@ %m\n' | sort | md5sum; }
flip_byte() {  # file offset: xor one byte with 0xff
    local old
    old=$(od -An -tu1 -j "$2" -N1 "$1" | tr -d ' ')
    printf "\\x$(printf '%02x' $((old ^ 255)))" | dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}

it_primary 55460
must as_pg "$PGBIN/pgbench" -h "$IT_TMP" -p $PORT -U postgres -i -s 2 -q postgres
must br backup --type=full --start-fast
must as_pg "$PGBIN/pgbench" -h "$IT_TMP" -p $PORT -U postgres -c 2 -t 100 -n postgres
must psql_at $PORT "SELECT pg_switch_wal()"
must psql_at $PORT "CREATE TABLE t AS SELECT 1 AS x; SELECT pg_switch_wal()"
must br backup --type=incr --start-fast
must br check
read -r F I <<<"$(labels)"
expect_eq "a full and an incr" "$(labels | wc -w)" "2"

# A whole repository.
expect_exit "verify a whole repository" 0 "$BR" --config="$CONF" --stanza=main --process-max=4 verify
expect_contains "summary names 2 backups and no problem" "$OUT" "verify: 2 backups ("
expect_contains "summary: 0 problems" "$OUT" "WAL files checked: 0 problems"
expect_exit "verify --output=json" 0 "$BR" --config="$CONF" --stanza=main --output=json verify
expect_contains "json has problems 0" "$OUT" '"problems":0'
expect_contains "json names the full" "$OUT" "{\"bytes\":"
expect_contains "json has the stanza" "$OUT" '"stanza":"main"'

# A flipped byte in a file the full stores in a bundle (repo1-bundle, the default) and the incr
# references: verify reads the file's range of the bundle.
read -r SIZE NAME <<<"$(sed 's/{/\n/g' "$REPO/backup/main/$I/backup.manifest" | grep "\"reference\":\"$F\"" |
    grep '"bundle-id":' | sed -n 's/.*"name":"\([^"]*\)".*"size":\([0-9]*\).*/\2 \1/p' | sort -n | tail -1)"
ENTRY=$(sed 's/{/\n/g' "$REPO/backup/main/$F/backup.manifest" | grep "\"name\":\"$NAME\"")
BUNDLE=$(sed -n 's/.*"bundle-id":\([0-9]*\).*/\1/p' <<<"$ENTRY")
AT=$(sed -n 's/.*"bundle-offset":\([0-9]*\).*/\1/p' <<<"$ENTRY")
LENGTH=$(sed -n 's/.*"repo-size":\([0-9]*\).*/\1/p' <<<"$ENTRY")
STORED=$REPO/backup/main/$F/bundle/$BUNDLE
if [ -z "$NAME" ] || [ -z "$BUNDLE" ] || [ ! -f "$STORED" ]; then
    fail "setup: a bundled file of $F referenced by $I" "name '$NAME', bundle '$BUNDLE'"
    exit 1
fi
cp -p "$STORED" "$IT_TMP/saved-file"
flip_byte "$STORED" $((AT + LENGTH / 2))
expect_exit "verify finds the flipped byte" 28 "$BR" --config="$CONF" --stanza=main verify
expect_contains "the full's file is named" "$OUT" "backup $F: file '$NAME' is damaged"
expect_contains "with its range of the bundle" "$OUT" "$STORED, bytes $AT-$((AT + LENGTH))"
expect_contains "the incr's reference is named" "$OUT" "backup $I: file '$NAME' (stored in backup $F) is damaged"
expect_contains "the typed error counts both" "$OUT" "[028] ChecksumError: verify: 2 problems found in stanza 'main'"
expect_exit "verify --set=incr" 28 "$BR" --config="$CONF" --stanza=main --set="$I" verify
expect_contains "--set=incr reports the referenced file" "$OUT" "backup $I: file '$NAME' (stored in backup $F) is damaged"
expect_contains "--set=incr checks one backup" "$OUT" "verify: 1 backup ("
expect_eq "--set=incr says nothing about the full's own entry" "$(grep -c "^backup $F:" <<<"$OUT")" "0"
expect_exit "verify --output=json with the damage" 28 "$BR" --config="$CONF" --stanza=main --output=json verify
expect_contains "json counts the problems" "$OUT" '"problems":2'
expect_contains "json error names the file" "$OUT" "\"errors\":[\"file '$NAME' is damaged"
cp -p "$IT_TMP/saved-file" "$STORED"

# WAL: a segment inside the full's wal-start..wal-stop is gone.
WAL_START=$(manifest_key "$F" wal-start)
WAL_STOP=$(manifest_key "$F" wal-stop)
I_START=$(manifest_key "$I" wal-start)
SEG_FILE=$(wal_file "$WAL_START")
mv "$SEG_FILE" "$IT_TMP/saved-wal"
expect_exit "verify finds a segment the full needs missing" 28 "$BR" --config="$CONF" --stanza=main verify
expect_contains "the full and the segment are named" "$OUT" \
    "backup $F: WAL segment $WAL_START is missing from archive 15-1 (the backup needs $WAL_START to $WAL_STOP"
expect_contains "the gap is reported too" "$OUT" "warning: WAL gap: $WAL_START missing in archive 15-1"
mv "$IT_TMP/saved-wal" "$SEG_FILE"

# A segment between the backups is gone: no backup is damaged, but PITR cannot cross it.
BETWEEN=$(next_segment "$WAL_STOP")
if [[ "$BETWEEN" < "$I_START" ]] && [ -n "$(wal_file "$BETWEEN")" ]; then
    SEG_FILE=$(wal_file "$BETWEEN")
    mv "$SEG_FILE" "$IT_TMP/saved-wal"
    expect_exit "a gap between backups is a warning" 0 "$BR" --config="$CONF" --stanza=main verify
    expect_contains "the gap names the segment" "$OUT" "warning: WAL gap: $BETWEEN missing in archive 15-1"
    expect_contains "the summary counts the warning" "$OUT" "0 problems, 1 warning"
    expect_exit "json lists the gap" 0 "$BR" --config="$CONF" --stanza=main --output=json verify
    expect_contains "json gaps" "$OUT" "\"gaps\":[\"WAL gap: $BETWEEN missing"
    mv "$IT_TMP/saved-wal" "$SEG_FILE"
else
    fail "setup: a segment between $WAL_STOP and $I_START" "next is $BETWEEN"
fi

# A truncated segment (the incr's wal-start).
SEG_FILE=$(wal_file "$I_START")
cp -p "$SEG_FILE" "$IT_TMP/saved-wal"
truncate -s 100 "$SEG_FILE"
expect_exit "verify finds a truncated segment" 28 "$BR" --config="$CONF" --stanza=main verify
expect_contains "the archive error names the segment" "$OUT" "archive 15-1: WAL file $I_START is damaged"
expect_contains "the backup needing it says so" "$OUT" "backup $I: WAL segment $I_START, which the backup needs, is damaged"
# --set checks one backup and the WAL a restore of it can replay: from its wal-start on.
expect_exit "--set=full still reads the WAL after it" 28 "$BR" --config="$CONF" --stanza=main --set="$F" verify
expect_contains "--set=full names the segment" "$OUT" "archive 15-1: WAL file $I_START is damaged"
expect_contains "--set=full checks one backup" "$OUT" "verify: 1 backup ("
expect_eq "--set=full says nothing about the incr" "$(grep -c "^backup $I:" <<<"$OUT")" "0"
cp -p "$IT_TMP/saved-wal" "$SEG_FILE"

# A damaged backup.info main copy: the .copy is good, a warning.
cp -p "$REPO/backup/main/backup.info" "$IT_TMP/saved-info"
sed -i 's/"format":1/"format":2/' "$REPO/backup/main/backup.info"
expect_exit "verify with a damaged backup.info" 0 "$BR" --config="$CONF" --stanza=main verify
expect_contains "the damaged copy is reported" "$OUT" "warning: '$REPO/backup/main/backup.info' is damaged"
expect_contains "and the good copy used" "$OUT" "the other copy is good and is used"
expect_contains "still verifies both backups" "$OUT" "verify: 2 backups ("
cp -p "$IT_TMP/saved-info" "$REPO/backup/main/backup.info"

# Bad input.
expect_exit "--set of an unknown backup" 35 "$BR" --config="$CONF" --stanza=main --set=20000101-000000F verify
expect_contains "it lists the backups" "$OUT" "backup set '20000101-000000F' does not exist in stanza 'main' (available: $F, $I)"
expect_exit "a parameter" 41 "$BR" --config="$CONF" --stanza=main verify extra
expect_exit "an unknown stanza" 39 "$BR" --config="$CONF" --stanza=nope verify
expect_exit "--output=xml" 21 "$BR" --config="$CONF" --stanza=main --output=xml verify

BEFORE=$(repo_state)
expect_exit "a whole repository again" 0 "$BR" --config="$CONF" --stanza=main verify
expect_eq "verify changed nothing in the repository" "$(repo_state)" "$BEFORE"

# A file stored as frames (pgbench_accounts, ~26 MiB: four 8 MiB frames) is read back one job
# per frame: a flipped byte in its third frame is found and the frame named.
ACCOUNTS=$(psql_at $PORT "SELECT pg_relation_filepath('pgbench_accounts')")
STORED=$REPO/backup/main/$F/pg_data/$ACCOUNTS.zst
FRAMES=$(sed 's/{/\n/g' "$REPO/backup/main/$F/backup.manifest" | grep "\"name\":\"pg_data/$ACCOUNTS\"" |
    sed -n 's/.*"frames":\[\([0-9,]*\)\].*/\1/p')
IFS=, read -r C0 C1 C2 _ <<<"$FRAMES"
if [ -z "${C2:-}" ]; then fail "setup: pgbench_accounts of $F is stored as frames" "frames '$FRAMES'"; else
    flip_byte "$STORED" $((C0 + C1 + C2 / 2))
    expect_exit "verify --process-max=2 finds damage in a frame" 28 "$BR" --config="$CONF" --stanza=main \
        --set="$F" --process-max=2 verify
    expect_contains "the file and its frame are named" "$OUT" "file 'pg_data/$ACCOUNTS' of backup $F is damaged in the repository ('$STORED'): frame 2 of 4:"
    expect_contains "one problem" "$OUT" "verify: 1 problem found"
fi
