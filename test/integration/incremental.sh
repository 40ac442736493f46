#!/usr/bin/env bash
# Differential and incremental backups and delta restore: a chain full → incr → diff → incr
# with writes between, each point restored (--type=immediate) and compared; unchanged files
# are referenced, not stored again; a delta restore over a damaged copy repairs only what differs.
# The full is taken with checksum-type=sha256 and the rest with the default (XXH3-128): the
# chain mixes both kinds of file checksum, as after a DBA changes the setting.
set -u
SUITE=incremental
TEST_BACKREST_BIN=${TEST_BACKREST_BIN:-$(dirname "$0")/../../build/backrest}
source "$(dirname "$0")/lib.sh"
it_setup

it_primary 55430 'process-max=2'
must as_pg "$PGBIN/pgbench" -h "$IT_TMP" -p $PORT -U postgres -i -s 5 -q postgres
must psql_at $PORT "CREATE TABLE marker (id int primary key, note text)"

SNAPSHOT_SQL="SELECT (SELECT md5(string_agg(aid || ':' || abalance, ',' ORDER BY aid)) FROM pgbench_accounts) || ' ' ||
  (SELECT count(*) FROM pgbench_history) || ' ' ||
  (SELECT count(*) || ':' || md5(coalesce(string_agg(id || ':' || note, ',' ORDER BY id), '')) FROM marker)"
snapshot() { psql_at "$1" "$SNAPSHOT_SQL"; }
latest_label() { br info --output=json | grep -o '"label":"[0-9FDI_-]*"' | tail -1 | cut -d'"' -f4; }
repo_bytes() { du -sb "$IT_TMP/repo/backup/main/$1" | cut -f1; }

declare -A SNAP
backup_point() {  # type [option...]
    local type=$1
    shift
    expect_exit "backup --type=$type $*" 0 "$BR" --config="$CONF" --stanza=main backup --type="$type" "$@" --start-fast
    LABEL=$(latest_label)
    SNAP[$LABEL]=$(snapshot $PORT)
    LABELS+=("$LABEL")
}
LABELS=()
backup_point full --checksum-type=sha256
FULL=$LABEL
sleep 1.1  # files changed from here on have mtimes after the full backup started
must as_pg "$PGBIN/pgbench" -h "$IT_TMP" -p $PORT -U postgres -c 2 -t 200 -n postgres
must psql_at $PORT "INSERT INTO marker SELECT g, 'incr1' FROM generate_series(1, 100) g"
backup_point incr
INCR1=$LABEL
expect_contains "incr label depends on the full" "$INCR1" "${FULL}_"
expect_eq "incr label ends in I" "${INCR1: -1}" "I"
must psql_at $PORT "INSERT INTO marker SELECT g, 'diff' FROM generate_series(101, 200) g"
backup_point diff
DIFF=$LABEL
expect_eq "diff label ends in D" "${DIFF: -1}" "D"
must as_pg "$PGBIN/pgbench" -h "$IT_TMP" -p $PORT -U postgres -c 2 -t 200 -n postgres
backup_point incr
INCR2=$LABEL

# Unchanged files are referenced: an incremental stores only the files that changed.
# Files a backup stores itself (in files of their own or in bundles): its manifest's entries
# without a reference.
repo_files() {
    local manifest=$IT_TMP/repo/backup/main/$1/backup.manifest
    echo $(($(grep -o '"repo-size":' "$manifest" | wc -l) - $(grep -o '"reference":' "$manifest" | wc -l)))
}
FULL_FILES=$(repo_files "$FULL")
INCR_FILES=$(repo_files "$INCR2")
expect_eq "incr stores under a tenth of the full's files ($INCR_FILES of $FULL_FILES)" \
    "$((INCR_FILES * 10 < FULL_FILES))" "1"
expect_eq "incr stores fewer bytes than the full" "$(($(repo_bytes "$INCR2") < $(repo_bytes "$FULL")))" "1"
PRIOR=$(sed -n 's/.*"prior":"\([0-9FDI_-]*\)".*/\1/p' "$IT_TMP/repo/backup/main/$INCR2/backup.manifest" | head -1)
expect_eq "incr's prior is the diff" "$PRIOR" "$DIFF"
REFS=$(grep -o "\"reference\":\"$FULL\"" "$IT_TMP/repo/backup/main/$INCR2/backup.manifest" | wc -l)
expect_eq "incr references files of the full" "$((REFS > 100))" "1"

# Checksums: the full recorded SHA-256s; the incr records XXH3-128 for what it stored and keeps
# the full's SHA-256 for what it references; verify reads every file back by its own kind.
manifest_of() { cat "$IT_TMP/repo/backup/main/$1/backup.manifest"; }
count_keys() { manifest_of "$1" | grep -oE "\"$2\":\"[0-9a-f]{$3}\"" | wc -l; }  # label key hex-digits
expect_eq "the full records only SHA-256 checksums" "$(count_keys "$FULL" xxh3 32)" "0"
expect_eq "the full records a SHA-256 for each of its files" "$(count_keys "$FULL" sha256 64)" "$(manifest_of "$FULL" | grep -o '"repo-size"' | wc -l)"
expect_eq "the incr records XXH3-128 for the files it stored ($INCR_FILES)" "$(($(count_keys "$INCR2" xxh3 32) >= INCR_FILES))" "1"
expect_eq "the incr keeps the full's SHA-256 for the files it references" "$(($(count_keys "$INCR2" sha256 64) >= REFS))" "1"
expect_exit "verify the mixed chain" 0 "$BR" --config="$CONF" --stanza=main verify
expect_contains "verify read every file back and found nothing wrong" "$OUT" "checked: 0 problems"

port=55431
for label in "${LABELS[@]}"; do
    dir=$IT_TMP/restore-$label
    expect_exit "restore $label" 0 "$BR" --config="$CONF" --stanza=main --pg1-path="$dir" --set="$label" \
        --type=immediate --target-action=promote restore
    sed -i "s/^port = .*/port = $port/; s/^archive_mode = .*/archive_mode = off/" "$dir/postgresql.conf"
    pg_start "$dir"
    if wait_promoted $port; then
        expect_eq "restore $label: data equals the state at that backup" "$(snapshot $port)" "${SNAP[$label]}"
    else
        fail "restore $label: recovery did not finish" "$(tail -20 "$dir.log")"
    fi
    pg_stop "$dir"
    port=$((port + 1))
done

# Delta restore over the restored copy of the last incr: damage it, then --delta repairs it.
dir=$IT_TMP/restore-$INCR2
REL=$(psql_at $PORT "SELECT pg_relation_filepath('pgbench_accounts')")
as_pg dd if=/dev/urandom of="$dir/$REL" bs=8192 count=2 seek=3 conv=notrunc status=none
as_pg rm -f "$dir/PG_VERSION.bak" "$dir/$(psql_at $PORT "SELECT pg_relation_filepath('pgbench_branches')")"
as_pg touch "$dir/base/stray-file"
# Copies of another size are patched too: the primary key's file cut short (stored as frames),
# pgbench_tellers' file with three pages of garbage appended (stored as one stream).
PKEY=$(psql_at $PORT "SELECT pg_relation_filepath('pgbench_accounts_pkey')")
TELLERS=$(psql_at $PORT "SELECT pg_relation_filepath('pgbench_tellers')")
as_pg truncate -s 1M "$dir/$PKEY"
as_pg dd if=/dev/urandom of="$dir/$TELLERS" bs=8192 count=3 oflag=append conv=notrunc status=none
expect_exit "restore --delta over a damaged copy" 0 "$BR" --config="$CONF" --stanza=main --pg1-path="$dir" \
    --set="$INCR2" --type=immediate --target-action=promote --delta --log-level-console=info restore
KEPT=$(printf '%s' "$OUT" | sed -n 's/.*kept \([0-9]*\) matching files.*/\1/p')
expect_eq "delta kept the matching files (${KEPT:-0} kept)" "$((${KEPT:-0} > 500))" "1"
PATCHED=$(printf '%s' "$OUT" | sed -n 's/.*patching \([0-9]*\) changed ones.*/\1/p')
expect_eq "the damaged, cut and extended files were patched in place, not rewritten (${PATCHED:-0} patched)" \
    "$((${PATCHED:-0} >= 3))" "1"
expect_eq "the stray file is gone" "$(test -e "$dir/base/stray-file" && echo present || echo absent)" "absent"
sed -i "s/^port = .*/port = $((port - 1))/; s/^archive_mode = .*/archive_mode = off/" "$dir/postgresql.conf"
pg_start "$dir"
if wait_promoted "$((port - 1))"; then
    expect_eq "delta-restored data equals the backup's state" "$(snapshot $((port - 1)))" "${SNAP[$INCR2]}"
else
    fail "delta restore: recovery did not finish" "$(tail -20 "$dir.log")"
fi
pg_stop "$dir"
expect_exit "delta restore: pg_checksums --check" 0 "$PGBIN/pg_checksums" --check -D "$dir"

# --delta refuses a non-empty directory that is not a data directory.
as_pg mkdir -p "$IT_TMP/not-pgdata"
as_pg touch "$IT_TMP/not-pgdata/precious"
expect_exit "delta refuses a directory without PG_VERSION" 34 "$BR" --config="$CONF" --stanza=main \
    --pg1-path="$IT_TMP/not-pgdata" --delta restore
expect_eq "and leaves it alone" "$(ls "$IT_TMP/not-pgdata")" "precious"

# Waits (up to 2 minutes) until the running backup has journaled more than 12 files: JOURNAL.
wait_for_journal() {
    JOURNAL=""
    for i in $(seq 1 6000); do
        JOURNAL=$(find "$IT_TMP/repo/backup/main" -name backup.resume 2>/dev/null | head -1)
        [ -n "$JOURNAL" ] && [ "$(cat "$JOURNAL"* | wc -l)" -gt 12 ] && break
        sleep 0.02
    done
}

# Resume: a full backup killed with SIGKILL half-way is resumed by the next full backup, whose
# files taken over are verified against the journal; the result restores exactly.
# (A high compression level slows the first attempt so it can be caught mid-copy. Resume takes
# files stored on their own, not bundled ones: the killed backup bundles nothing, so it has
# journaled enough files to count when it is killed; the next one bundles its small files and
# takes over the large ones.)
"${PG_EXEC[@]}" "$BR" --config="$CONF" --stanza=main backup --type=full \
    --start-fast --process-max=1 --compress-level=12 --repo1-bundle=n >/dev/null 2>&1 &
KILLED=$!
wait_for_journal
kill -9 $KILLED 2>/dev/null
wait $KILLED 2>/dev/null
JOURNALED=$(($(cat "$JOURNAL"* | wc -l) - 1))
expect_eq "the killed backup journaled files ($JOURNALED)" "$((JOURNALED > 10))" "1"
expect_exit "the next full backup resumes it" 0 "$BR" --config="$CONF" --stanza=main backup --type=full \
    --start-fast --log-level-console=info
expect_contains "it says so" "$OUT" "resuming interrupted backup"
TAKEN=$(printf '%s' "$OUT" | sed -n 's/.* \([0-9]*\) files taken from interrupted backup.*/\1/p')
expect_eq "files were taken over, not copied again (${TAKEN:-0})" "$((${TAKEN:-0} > 0))" "1"
RESUMED=$(latest_label)
SNAP_RESUMED=$(snapshot $PORT)
expect_eq "no incomplete backup is left" "$(find "$IT_TMP/repo/backup/main" -name "backup.resume*" | wc -l)" "0"
dir=$IT_TMP/restore-resumed
expect_exit "restore the resumed backup" 0 "$BR" --config="$CONF" --stanza=main --pg1-path="$dir" --set="$RESUMED" \
    --type=immediate --target-action=promote restore
sed -i "s/^port = .*/port = 55439/; s/^archive_mode = .*/archive_mode = off/" "$dir/postgresql.conf"
pg_start "$dir"
if wait_promoted 55439; then
    expect_eq "resumed backup restores exactly" "$(snapshot 55439)" "$SNAP_RESUMED"
else
    fail "resumed backup: recovery did not finish" "$(tail -20 "$dir.log")"
fi
pg_stop "$dir"

# SIGTERM (and SIGINT, SIGHUP) mid-copy: the backup stops within a buffer and exits 63 naming the
# signal, as pgBackRest's does; the stanza lock is released, what was stored stays and the next
# full backup resumes it.
"${PG_EXEC[@]}" "$BR" --config="$CONF" --stanza=main backup --type=full \
    --start-fast --process-max=1 --compress-level=12 --repo1-bundle=n >"$IT_TMP/term.out" 2>&1 &
TERMED=$!
wait_for_journal
kill -TERM $TERMED
wait $TERMED
TERM_RC=$?
expect_eq "a backup sent SIGTERM mid-copy exits 63" "$TERM_RC" "63"
expect_contains "... naming the signal and the backup" "$(cat "$IT_TMP/term.out")" ": terminated on signal SIGTERM; what it stored stays"
expect_exit "the next full backup resumes it" 0 "$BR" --config="$CONF" --stanza=main backup --type=full \
    --start-fast --log-level-console=info
expect_contains "it says so" "$OUT" "resuming interrupted backup"
