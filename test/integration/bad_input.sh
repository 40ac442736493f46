#!/usr/bin/env bash
# Bad input and concurrent use: each refusal is asserted by its exit code and message, and
# nothing is lost or overwritten.
set -u
SUITE=bad_input
TEST_BACKREST_BIN=${TEST_BACKREST_BIN:-$(dirname "$0")/../../build/backrest}
source "$(dirname "$0")/lib.sh"
it_setup

it_primary 55420 'archive-timeout=60'
must as_pg "$PGBIN/pgbench" -h "$IT_TMP" -p $PORT -U postgres -i -s 2 -q postgres
must br backup --start-fast
LABEL=$(br info --output=json | sed -n 's/.*"label":"\([0-9F-]*\)".*/\1/p')

# --- options -------------------------------------------------------------------------------
expect_exit "missing stanza is refused" 21 "$BR" --config="$CONF" backup
expect_contains "the message names the option" "$OUT" "option 'stanza' is required"
expect_exit "unknown option is refused" 21 "$BR" --config="$CONF" --stanza=main --no-such-option=1 info
expect_contains "the message names it" "$OUT" "no-such-option"
expect_exit "invalid process-max is refused" 21 "$BR" --config="$CONF" --stanza=main --process-max=zero backup
expect_contains "the message names option and value" "$OUT" "'zero' for option 'process-max'"
expect_exit "unknown command" 41 "$BR" --config="$CONF" frobnicate

# A pgbackrest.conf carried over with options backrest does not implement yet: those that change
# how the repository is protected, where it is or what is kept are refused before anything is
# written (once, a cipher pass was only warned about and the repository written in plaintext).
BACKUPS_BEFORE=$(ls "$IT_TMP/repo/backup/main")
for carried in 'repo1-cipher-type=aes-256-cbc
repo1-cipher-pass=secret-pass' 'repo1-host=backup1' 'pg2-host=db2' \
    'archive-copy=y' 'repo5-path=/elsewhere' 'repo2-host=backup2' 'pg3-path=/other'; do
    { echo '[global]'; echo "$carried"; tail -n +2 "$CONF"; } >"$IT_TMP/carried.conf"
    chmod 0644 "$IT_TMP/carried.conf"
    name=$(head -1 <<<"$carried" | cut -d= -f1)
    expect_exit "backup with pgBackRest's $name is refused" 21 "$BR" --config="$IT_TMP/carried.conf" --stanza=main backup
    expect_contains "the message names $name" "$OUT" "option '$name'"
    [[ "$OUT" == *secret-pass* ]] && fail "the cipher pass is echoed" "$OUT"
done
expect_eq "no backup was written by a refused command" "$(ls "$IT_TMP/repo/backup/main")" "$BACKUPS_BEFORE"
{ printf '[global]\nlog-timestamp=n\nrepo1-cipher-type=none\n'; tail -n +2 "$CONF"; } >"$IT_TMP/harmless.conf"
chmod 0644 "$IT_TMP/harmless.conf"
expect_exit "harmless pgBackRest options are only warned about" 0 "$BR" --config="$IT_TMP/harmless.conf" --stanza=main info
expect_contains "the warning names the option" "$OUT" "ignoring pgBackRest option 'log-timestamp'"

# --- restore target ------------------------------------------------------------------------
as_pg mkdir -p "$IT_TMP/notempty"
as_pg touch "$IT_TMP/notempty/somefile"
expect_exit "restore into a non-empty directory is refused" 34 "$BR" --config="$CONF" --stanza=main \
    --pg1-path="$IT_TMP/notempty" restore
expect_contains "the message names the directory" "$OUT" "'$IT_TMP/notempty' is not empty"
expect_eq "the directory is untouched" "$(ls "$IT_TMP/notempty")" "somefile"
expect_exit "restore of an unknown set is refused" 35 "$BR" --config="$CONF" --stanza=main \
    --pg1-path="$IT_TMP/r-unknown" --set=20000101-000000F restore
expect_contains "the message lists the sets" "$OUT" "$LABEL"
expect_exit "time target without --target is refused" 21 "$BR" --config="$CONF" --stanza=main \
    --pg1-path="$IT_TMP/r-notarget" --type=time restore
expect_contains "the message names the option" "$OUT" "option 'target' is required"

# --- archive-push identity -----------------------------------------------------------------
SEGMENT=$(cd "$DATA/pg_wal" && ls | grep -E '^[0-9A-F]{24}$' | sort | tail -1)
expect_exit "archive-push to a stanza that does not exist is refused" 39 \
    bash -c "cd '$DATA' && '$BR' --config='$CONF' --stanza=nosuch archive-push pg_wal/$SEGMENT"
expect_contains "the message says to run stanza-create" "$OUT" "stanza-create"

OTHER=$IT_TMP/other
pg_init "$OTHER" 55421
must as_pg "$BR" --config="$CONF" --stanza=other --pg1-path="$OTHER" stanza-create
expect_exit "archive-push into another cluster's stanza is refused" 31 \
    bash -c "cd '$DATA' && '$BR' --config='$CONF' --stanza=other archive-push pg_wal/$SEGMENT"
expect_contains "the message names both system ids" "$OUT" "does not match stanza 'other'"
OTHER_FILES=$(find "$IT_TMP/repo/archive/other" -type f | wc -l)
expect_eq "nothing was written into the other stanza's archive" "$OTHER_FILES" "2"
expect_exit "stanza-create of another cluster over an existing stanza is refused" 31 \
    "$BR" --config="$CONF" --stanza=main --pg1-path="$OTHER" stanza-create

# A segment already archived, pushed again with different bytes: refused, the original kept.
must psql_at $PORT "SELECT pg_switch_wal()"
must br check
ARCHIVED=$(find "$IT_TMP/repo/archive/main" -name '0*-*.zst' | sort | head -1)
ARCHIVED_NAME=$(basename "$ARCHIVED" | cut -c1-24)
BEFORE=$(sha256sum "$ARCHIVED" | cut -d' ' -f1)
as_pg mkdir -p "$IT_TMP/fake/pg_wal"
CURRENT=$(cd "$DATA/pg_wal" && ls | grep -E '^[0-9A-F]{24}$' | sort | tail -1)
as_pg cp "$DATA/pg_wal/$CURRENT" "$IT_TMP/fake/pg_wal/$ARCHIVED_NAME"
as_pg cp -r "$DATA/global" "$DATA/PG_VERSION" "$IT_TMP/fake/"
expect_exit "archive-push of a different segment under an archived name is refused" 32 \
    bash -c "cd '$IT_TMP/fake' && '$BR' --config='$CONF' --stanza=main --pg1-path='$IT_TMP/fake' archive-push pg_wal/$ARCHIVED_NAME"
expect_contains "the message says it refuses to overwrite" "$OUT" "refusing to overwrite"
expect_eq "the archived segment is unchanged" "$(sha256sum "$ARCHIVED" | cut -d' ' -f1)" "$BEFORE"

# --- archive-get ---------------------------------------------------------------------------
expect_exit "archive-get of a segment not in the archive exits 1" 1 \
    "$BR" --config="$CONF" --stanza=main archive-get 0000000100000099000000FF "$IT_TMP/fake/RECOVERYXLOG"
expect_exit "archive-get of an archived segment" 0 \
    "$BR" --config="$CONF" --stanza=main archive-get "$ARCHIVED_NAME" "$IT_TMP/fake/RECOVERYXLOG"
expect_eq "archive-get wrote the original bytes" \
    "$(zstd -dc "$ARCHIVED" | sha256sum | cut -d' ' -f1)" "$(sha256sum "$IT_TMP/fake/RECOVERYXLOG" | cut -d' ' -f1)"

# --- concurrent backups and the archive wait -----------------------------------------------
# With archiving broken, a backup copies its files and then waits for its WAL: it holds the
# lock long enough for a second backup to meet it.
must psql_at $PORT "ALTER SYSTEM SET archive_command = 'false'"
must psql_at $PORT "SELECT pg_reload_conf()"
clear_stanza_lock "$IT_TMP/lock/main-backup.lock"
as_pg "$BR" --config="$CONF" --stanza=main backup --start-fast >"$IT_TMP/first.out" 2>&1 &
FIRST=$!
wait_stanza_lock_held "$IT_TMP/lock/main-backup.lock" || fail "setup: the backup holds the stanza lock"
expect_exit "a second concurrent backup is refused" 29 "$BR" --config="$CONF" --stanza=main backup
expect_contains "the message names the stanza and the lock" "$OUT" "unable to acquire backup lock for stanza 'main'"
must psql_at $PORT "ALTER SYSTEM RESET archive_command"
must psql_at $PORT "SELECT pg_reload_conf()"
wait $FIRST
expect_eq "the first backup completes once its WAL is archived" "$?" "0"

must psql_at $PORT "ALTER SYSTEM SET archive_command = 'false'"
must psql_at $PORT "SELECT pg_reload_conf()"
expect_exit "a backup whose WAL is not archived in time fails" 33 "$BR" --config="$CONF" --stanza=main \
    backup --start-fast --archive-timeout=3
expect_contains "the message names the missing segment" "$OUT" "was not archived within archive-timeout"
COUNT=$(br info --output=json | grep -o '"label"' | wc -l)
expect_eq "the failed backup is not listed" "$COUNT" "2"
MANIFESTS=$(find "$IT_TMP/repo/backup/main" -name backup.manifest | wc -l)
expect_eq "the failed backup left no manifest" "$MANIFESTS" "2"
must psql_at $PORT "ALTER SYSTEM RESET archive_command"
must psql_at $PORT "SELECT pg_reload_conf()"

# --- damage in the repository --------------------------------------------------------------
# pgbench_accounts' file in the first backup gets one byte flipped in its middle. (Named, not
# taken as the largest stored file: compressed, the primary key's index can be the larger.)
VICTIM=$IT_TMP/repo/backup/main/$LABEL/pg_data/$(psql_at $PORT "SELECT pg_relation_filepath('pgbench_accounts')").zst
VICTIM_NAME=${VICTIM#"$IT_TMP/repo/backup/main/$LABEL/"}
VICTIM_NAME=${VICTIM_NAME%.zst}
SIZE=$(stat -c %s "$VICTIM")
OFFSET=$((SIZE / 2))
BYTE=$(dd if="$VICTIM" bs=1 skip=$OFFSET count=1 2>/dev/null | od -An -tu1 | tr -d ' ')
printf "$(printf '\\%03o' $(((BYTE + 1) % 256)))" | dd of="$VICTIM" bs=1 seek=$OFFSET conv=notrunc 2>/dev/null
expect_exit "restore of a damaged backup fails" 28 "$BR" --config="$CONF" --stanza=main \
    --pg1-path="$IT_TMP/r-damaged" --set="$LABEL" restore
expect_contains "the message names the damaged file" "$OUT" "file '$VICTIM_NAME' of backup $LABEL is damaged"
# pgbench_accounts (~26 MiB) is stored as four 8 MiB frames: the message
# says which one is damaged.
expect_eq "the message names the frame" "$(grep -Eo 'frame [0-9] of 4: ' <<<"$OUT" | head -1 | cut -c1-6)" "frame "
expect_eq "the damaged file was not left in the restored directory" \
    "$(test -e "$IT_TMP/r-damaged/${VICTIM_NAME#pg_data/}" && echo present || echo absent)" "absent"
expect_eq "no pg_control: the half-restored directory cannot start" \
    "$(test -e "$IT_TMP/r-damaged/global/pg_control" && echo present || echo absent)" "absent"

# A damaged manifest is caught by its checksum, and its .copy serves the restore.
LATEST=$(br info --output=json | grep -o '"label":"[0-9F-]*"' | tail -1 | cut -d'"' -f4)
sed -i 's/"type":"full"/"type":"fuli"/' "$IT_TMP/repo/backup/main/$LATEST/backup.manifest"
expect_exit "restore with a damaged manifest uses its copy" 0 "$BR" --config="$CONF" --stanza=main \
    --pg1-path="$IT_TMP/r-copy" --log-level-console=warn restore
expect_contains "the damage is reported" "$OUT" "backup.manifest' is damaged: checksum"
