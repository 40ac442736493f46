#!/usr/bin/env bash
# backup --repo=all: one run into both repositories. A full backup under pgbench load lands in
# both under one label; the bytes read (rchar) with two repositories stay near one repository's
# (each large file read once); an incremental backup whose prior differs per repository (a
# repo1-only full in between); each repository restored alone and compared row for row with the
# primary; repo2 unwritable: exit non-zero naming repo2, repo1's backup complete and restorable,
# repo2's next backup starts clean; a malformed --repo, and --repo=all for another command, refused.
set -u
SUITE=backup_all_repos
TEST_BACKREST_BIN=${TEST_BACKREST_BIN:-$(dirname "$0")/../../build/backrest}
source "$(dirname "$0")/lib.sh"
it_setup

R1=$IT_TMP/repo
R2=$IT_TMP/repo2
it_primary_without_stanza 57340 "repo2-path=$R2" "process-max=2" "log-level-console=warn"
as_pg mkdir -p "$R2"
must br stanza-create

rows() { psql_at "$1" "SELECT count(*) || ':' || sum(abalance) || ':' || (SELECT md5(string_agg(aid || ':' || abalance, ',' ORDER BY aid)) FROM pgbench_accounts) || ':' || (SELECT count(*) FROM marks) FROM pgbench_accounts"; }
labels() { ls "$1/backup/main" | grep -E '^[0-9]{8}-[0-9]{6}F(_[0-9]{8}-[0-9]{6}[DI])?$'; }
# Bytes the command read (its rchar: every read(2), from the data directory and the repository),
# measured by the shell that waited for it (a reaped child's I/O counts in its parent's).
RCHAR=0
measured() {  # name expected-exit args...
    local name=$1 want=$2
    shift 2
    OUT=$(as_pg bash -c '"$@"; rc=$?; echo "rchar-of-run $(awk "/^rchar/ {print \$2}" /proc/$$/io)"; exit $rc' \
        backup "$BR" --config="$CONF" --stanza=main "$@" 2>&1)
    RC=$?
    RCHAR=$(printf '%s\n' "$OUT" | awk '/^rchar-of-run/ {print $2}')
    if [ "$RC" -eq "$want" ]; then pass "$name (exit $RC)"; else fail "$name" "expected exit $want, got $RC: $OUT"; fi
}
# Switches WAL and waits (at most 60 s) until the segment it closed is archived (a write first:
# a switch at the start of a segment, as right after a backup, closes nothing).
archive_now() {
    local seg i
    psql_at 57340 "INSERT INTO w VALUES (1)" >/dev/null
    seg=$(psql_at 57340 "SELECT pg_walfile_name(pg_current_wal_insert_lsn())")
    psql_at 57340 "SELECT pg_switch_wal()" >/dev/null
    for i in $(seq 1 240); do
        [ "$(psql_at 57340 "SELECT last_archived_wal >= '$seg' FROM pg_stat_archiver")" == "t" ] && return 0
        sleep 0.25
    done
    fail "setup: $seg archived" "$(tail -5 "$DATA.log")"
}
# Restores `label` (or the latest) of repository `repo` to a cluster on `port` and compares its
# rows with the primary's.
restore_and_compare() {  # name repo port [--set=label]
    local name=$1 repo=$2 port=$3 dir=$IT_TMP/restore-$1
    shift 3
    expect_exit "restore --repo=$repo ($name)" 0 "$BR" --config="$CONF" --stanza=main --repo="$repo" \
        --pg1-path="$dir" restore --target-action=promote "$@"
    sed -i "s/^port = .*/port = $port/; s/^archive_mode = .*/archive_mode = off/" "$dir/postgresql.conf"
    pg_start "$dir"
    if wait_promoted "$port"; then
        expect_eq "$name: the restored rows are the primary's" "$(rows "$port")" "$(rows 57340)"
    else
        fail "$name: recovery reached the end of the archive" "$(tail -20 "$dir.log")"
    fi
    pg_stop "$dir"
}

# --- bad input ----------------------------------------------------------------------------------
expect_exit "--repo=all,2 is refused" 21 "$BR" --config="$CONF" --stanza=main --repo=all,2 backup
expect_contains "the refusal names the option and its values" "$OUT" "option 'repo'"
expect_contains "... and what it takes" "$OUT" "all"
expect_exit "--repo=0 is refused" 21 "$BR" --config="$CONF" --stanza=main --repo=0 backup
expect_contains "the refusal names the option" "$OUT" "option 'repo'"
expect_exit "--repo=all for info is refused" 21 "$BR" --config="$CONF" --stanza=main --repo=all info
expect_contains "the refusal says all is for backup" "$OUT" "option 'repo': 'all' is only for backup"
expect_exit "--repo=all for restore is refused" 21 "$BR" --config="$CONF" --stanza=main --repo=all \
    --pg1-path="$IT_TMP/restore-none" restore
expect_eq "nothing restored" "$(test -e "$IT_TMP/restore-none" && echo exists || echo absent)" "absent"

# --- a full backup into both, under load ----------------------------------------------------------
must as_pg "$PGBIN/pgbench" -h "$IT_TMP" -p 57340 -U postgres -i -s 8 -q postgres
must psql_at 57340 "CREATE TABLE w (x int); CREATE TABLE marks (phase text); INSERT INTO marks VALUES ('a')"
as_pg "$PGBIN/pgbench" -h "$IT_TMP" -p 57340 -U postgres -c 2 -T 4 -n postgres >/dev/null 2>&1 &
LOAD=$!
measured "backup --repo=all --type=full under pgbench load" 0 backup --repo=all --type=full --start-fast
RCHAR_ALL=$RCHAR
wait "$LOAD"
FULL=$(labels "$R1" | tail -1)
expect_eq "repo1 and repo2 hold the backup under one label" "$(labels "$R2" | tail -1)" "$FULL"
expect_contains "a summary line for repo1" "$OUT" "repo1 ($R1): backup $FULL: full"
expect_contains "a summary line for repo2" "$OUT" "repo2 ($R2): backup $FULL: full"
B1=$(as_pg "$BR" --config="$CONF" --stanza=main --repo=1 repo-get "backup/main/$FULL/pg_data/backup_label.zst" | zstd -dc 2>&1)
B2=$(as_pg "$BR" --config="$CONF" --stanza=main --repo=2 repo-get "backup/main/$FULL/pg_data/backup_label.zst" | zstd -dc 2>&1)
expect_contains "repo1's backup_label is pg_backup_stop's" "$B1" "LABEL: backrest $FULL"
expect_eq "one pg_backup_start for both: repo2's backup_label is repo1's" "$B2" "$B1"
expect_exit "info" 0 "$BR" --config="$CONF" --stanza=main info
expect_eq "info lists the backup in both repositories" "$(printf '%s\n' "$OUT" | grep -c "full backup: $FULL")" "2"

# --- bytes read: two repositories ~ one ---------------------------------------------------------
sleep 1  # a label of its own second
measured "backup --repo=1 --type=full (repo1 alone)" 0 backup --repo=1 --type=full --start-fast
RCHAR_ONE=$RCHAR
FULL1=$(labels "$R1" | tail -1)
DATA_BYTES=$(du -sb --exclude=pg_wal "$DATA" | cut -f1)
echo "# bytes read: repo1 alone $RCHAR_ONE, both repositories $RCHAR_ALL (data directory $DATA_BYTES)"
if [ -n "$RCHAR_ONE" ] && [ -n "$RCHAR_ALL" ] && [ "$RCHAR_ONE" -gt $((DATA_BYTES / 2)) ] &&
    [ "$RCHAR_ALL" -lt $((RCHAR_ONE * 11 / 10)) ]; then
    pass "two repositories read less than 1.1 times one repository's bytes ($RCHAR_ALL vs $RCHAR_ONE)"
else
    fail "two repositories read less than 1.1 times one repository's bytes" "both $RCHAR_ALL, one $RCHAR_ONE, data $DATA_BYTES"
fi

# --- an incremental into both: each repository's own prior ----------------------------------------
must psql_at 57340 "UPDATE pgbench_accounts SET abalance = abalance + 7 WHERE aid % 50 = 3; INSERT INTO marks VALUES ('b')"
measured "backup --repo=all --type=incr" 0 backup --repo=all --type=incr --start-fast
INCR1=$(labels "$R1" | tail -1)
INCR2=$(labels "$R2" | tail -1)
expect_eq "repo1's incremental follows repo1's latest full" "${INCR1%%_*}" "$FULL1"
expect_eq "repo2's incremental follows repo2's full" "${INCR2%%_*}" "$FULL"
expect_eq "one label time in both" "${INCR1#*_}" "${INCR2#*_}"
expect_contains "repo1's summary" "$OUT" "repo1 ($R1): backup $INCR1: incr"
expect_contains "repo2's summary" "$OUT" "repo2 ($R2): backup $INCR2: incr"
must psql_at 57340 "INSERT INTO marks VALUES ('c')"
archive_now
restore_and_compare incr-repo1 1 57341
restore_and_compare incr-repo2 2 57342

# --- repo2 unwritable: repo1's backup completes, the command fails naming repo2 -------------------
chmod 0555 "$R2/backup/main"
must psql_at 57340 "UPDATE pgbench_accounts SET abalance = abalance - 1 WHERE aid % 40 = 1; INSERT INTO marks VALUES ('d')"
expect_exit "backup --repo=all with repo2 unwritable fails" 26 "$BR" --config="$CONF" --stanza=main \
    --repo=all backup --type=full --start-fast
expect_contains "the error names repo2" "$OUT" "1 of 2 repositories failed: repo2 ($R2)"
expect_contains "... and says repo1 has the backup" "$OUT" "the backup is complete in repo1"
chmod 0755 "$R2/backup/main"
LAST1=$(labels "$R1" | tail -1)
expect_eq "repo1 has a new full backup" "$(test "$LAST1" \> "$INCR1" && test "${LAST1: -1}" == F && echo yes)" "yes"
expect_eq "repo2 lists no new backup" "$(labels "$R2" | tail -1)" "$INCR2"
expect_exit "info --repo=1" 0 "$BR" --config="$CONF" --stanza=main --repo=1 info
expect_contains "info lists repo1's new backup" "$OUT" "full backup: $LAST1"
must psql_at 57340 "INSERT INTO marks VALUES ('e')"
archive_now
restore_and_compare after-failure-repo1 1 57343 --set="$LAST1"
# repo=all in [global:backup]: a plain `backup` goes to both.
printf '[global:backup]\nrepo=all\n' >>"$CONF"
expect_exit "the next backup (repo=all in [global:backup]) succeeds in both" 0 "$BR" --config="$CONF" \
    --stanza=main backup --type=full --start-fast
expect_contains "a summary line for repo2" "$OUT" "repo2 ($R2): backup"
NEXT=$(labels "$R2" | tail -1)
expect_eq "repo2's next backup is listed, under repo1's label" "$(labels "$R1" | tail -1)" "$NEXT"
expect_exit "verify both" 0 "$BR" --config="$CONF" --stanza=main verify

# --- kill -9 mid-run: nothing listed that is not whole, the next run completes in both ------------
BEFORE=$(labels "$R2" | tail -1)
"${PG_EXEC[@]}" "$BR" --config="$CONF" --stanza=main --repo=all backup --type=full --start-fast >/dev/null 2>&1 &
KILLED=$!
sleep 0.4
kill -9 "$KILLED" 2>/dev/null
wait "$KILLED" 2>/dev/null
expect_exit "after kill -9, backup --repo=all succeeds in both" 0 "$BR" --config="$CONF" --stanza=main \
    --repo=all backup --type=full --start-fast
AFTER=$(labels "$R1" | tail -1)
expect_eq "both list the new backup under one label" "$(labels "$R2" | tail -1)" "$AFTER"
expect_eq "no other new directory stays in repo2 (the killed run's was resumed or removed)" \
    "$(labels "$R2" | awk -v b="$BEFORE" '$0 > b' | tr '\n' ' ')" "$AFTER "
expect_exit "verify both after the kill" 0 "$BR" --config="$CONF" --stanza=main verify

# --- a repository full mid-copy: the others complete, it resumes once it has room ----------------
# repo3 on a 4 MiB tmpfs (the backup needs ~10 MiB): its copy fails with ENOSPC while repo1's and
# repo2's go on from the same reads. Its WAL is not archived (archive_command names repo1 and
# repo2), hence --no-archive-check. Needs root and a tmpfs mount; skipped (said) without.
R3=$IT_TMP/repo3
as_pg mkdir -p "$R3"
if [ "$(id -u)" -eq 0 ] && mount -t tmpfs -o size=4m,mode=0755 tmpfs "$R3" 2>/dev/null; then
    trap 'umount "$R3" 2>/dev/null; it_finish' EXIT
    chown postgres:postgres "$R3"
    R3OPT=(--repo3-path="$R3")
    expect_exit "stanza-create in repo3" 0 "$BR" --config="$CONF" --stanza=main "${R3OPT[@]}" stanza-create
    must psql_at 57340 "UPDATE pgbench_accounts SET abalance = abalance + 2 WHERE aid % 30 = 2; INSERT INTO marks VALUES ('f')"
    expect_exit "backup --repo=all with repo3 filling up mid-copy fails" 26 timeout 300 "$BR" --config="$CONF" \
        --stanza=main "${R3OPT[@]}" --repo=all backup --type=full --start-fast --no-archive-check
    expect_contains "the error names repo3" "$OUT" "1 of 3 repositories failed: repo3 ($R3)"
    expect_contains "... and says repo1 and repo2 have the backup" "$OUT" "the backup is complete in repo1, repo2"
    expect_contains "repo3 failed while copying" "$OUT" "copy failed in repo3"
    DONE=$(labels "$R1" | tail -1)
    expect_eq "repo2 holds repo1's new backup" "$(labels "$R2" | tail -1)" "$DONE"
    expect_exit "info --repo=3" 0 "$BR" --config="$CONF" --stanza=main "${R3OPT[@]}" --repo=3 info
    expect_contains "repo3 lists no backup" "$OUT" "status: error (no valid backups)"
    expect_eq "repo3 keeps the interrupted backup's directory" "$(labels "$R3")" "$DONE"
    archive_now
    restore_and_compare full-beside-repo3 2 57344 --set="$DONE"
    mount -o remount,size=64m "$R3"
    expect_exit "once repo3 has room, backup --repo=all succeeds in all three" 0 timeout 300 "$BR" \
        --config="$CONF" --stanza=main "${R3OPT[@]}" --repo=all --log-level-console=info backup \
        --type=full --start-fast --no-archive-check
    expect_contains "repo3 took the files its interrupted backup stored" "$OUT" "taken from interrupted backup $DONE"
    NEW=$(labels "$R1" | tail -1)
    expect_eq "repo3 holds the new backup alone (the interrupted one is gone)" "$(labels "$R3" | tr '\n' ' ')" "$NEW "
    umount "$R3"
else
    echo "# skipped: a repository filling up mid-copy (needs root and a tmpfs mount)"
fi
