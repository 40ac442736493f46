#!/usr/bin/env bash
# Restore falls back to the next repository (issue 21): repo1's newer backup damaged (a stored
# file's bytes flipped; a stored file removed; the manifest and its copy damaged) → restore
# without --repo warns naming repo1, the backup and the file, restores repo2's older backup over
# what the failed attempt wrote, says so in its summary, and the cluster started from it has
# every row of the primary. The restored directory is byte for byte a plain restore of repo2's
# backup (no file of repo1's backup survives). --repo=1 fails naming the file; --set of repo1's
# label does not fall back; a target error does not fall back; both repositories damaged is an
# error naming both, and the directory keeps its restore marker and cannot start; run again once
# repo2 is repaired, it completes. A fallback killed -9 mid-way (blocked on a FIFO in repo2) is
# completed by running the restore again.
set -u
SUITE=restore_fallback
TEST_BACKREST_BIN=${TEST_BACKREST_BIN:-$(dirname "$0")/../../build/backrest}
source "$(dirname "$0")/lib.sh"
it_setup

R1=$IT_TMP/repo
R2=$IT_TMP/repo2
it_primary_without_stanza 57330 "repo2-path=$R2" "log-level-console=warn"
as_pg mkdir -p "$R2"
must br stanza-create

rows() { psql_at "$1" "SELECT phase || ':' || count(*) || ':' || sum(id) FROM t GROUP BY phase ORDER BY phase" | tr '\n' ' '; }
tables() { psql_at "$1" "SELECT string_agg(relname, ',' ORDER BY relname) FROM pg_class WHERE relname LIKE 'only%'"; }

# repo2's backup first (older), then rows and a table only repo1's backup has, then repo1's.
# Sizes make the order of a restore (largest file first, process-max 1) known: t (10 MB in
# repo1's backup, 5 MB in repo2's), only_in_repo1 (3.3 MB), then u (2.6 MB, above the 2 MiB
# bundle limit: a stored file of its own), the one damaged: the failed attempt has written the
# first two when it meets it.
must psql_at 57330 "CREATE TABLE t (id serial, phase text, pad text); INSERT INTO t (phase, pad) SELECT 'a', repeat('x', 200) FROM generate_series(1, 20000)"
must psql_at 57330 "CREATE TABLE u AS SELECT g AS id, repeat('u', 200) AS pad FROM generate_series(1, 10000) g"
must br --repo=2 backup --type=full --start-fast
LABEL2=$(ls "$R2/backup/main" | grep -E '^[0-9]{8}-[0-9]{6}F$' | tail -1)
must psql_at 57330 "CREATE TABLE only_in_repo1 AS SELECT g AS id, repeat('o', 200) AS pad FROM generate_series(1, 13000) g; INSERT INTO t (phase, pad) SELECT 'b', repeat('y', 200) FROM generate_series(1, 20000)"
sleep 1.1  # labels have a resolution of one second
must br backup --type=full --start-fast
LABEL1=$(ls "$R1/backup/main" | grep -E '^[0-9]{8}-[0-9]{6}F$' | tail -1)
must test -n "$LABEL1" -a -n "$LABEL2" -a "$LABEL1" != "$LABEL2"
# Rows after both backups: only WAL replay brings them.
must psql_at 57330 "INSERT INTO t (phase, pad) SELECT 'c', repeat('z', 200) FROM generate_series(1, 5000)"
END_LSN=$(psql_at 57330 "SELECT pg_current_wal_insert_lsn()")
must psql_at 57330 "SELECT pg_switch_wal()"
for i in $(seq 1 240); do
    [ "$(psql_at 57330 "SELECT last_archived_wal >= pg_walfile_name('$END_LSN') FROM pg_stat_archiver")" == "t" ] && break
    sleep 0.25
done
EXPECTED_ROWS=$(rows 57330)
expect_contains "setup: the primary has the rows of all three phases" "$EXPECTED_ROWS" "c:5000:"

T_FILE=pg_data/$(psql_at 57330 "SELECT pg_relation_filepath('t')")
O_FILE=pg_data/$(psql_at 57330 "SELECT pg_relation_filepath('only_in_repo1')")
U_FILE=pg_data/$(psql_at 57330 "SELECT pg_relation_filepath('u')")
STORED=$(ls "$R1/backup/main/$LABEL1/$U_FILE"* 2>/dev/null | head -1)
must test -s "$STORED"
cp -a "$R1/backup/main/$LABEL1" "$IT_TMP/pristine1"
heal_repo1() { rm -rf "${R1:?}/backup/main/$LABEL1" && cp -a "$IT_TMP/pristine1" "$R1/backup/main/$LABEL1"; }
flip() {  # file: 64 bytes in its middle inverted
    local size off
    size=$(stat -c %s "$1")
    off=$((size / 2))
    dd if="$1" bs=1 skip="$off" count=64 status=none | perl -pe '$_ = ~$_' |
        dd of="$1" bs=1 seek="$off" conv=notrunc status=none
}

# Starts a restored directory on `port` without archiving, waits for the end of recovery and
# compares its rows with the primary's at the end of WAL; stops it.
start_and_compare() {  # name dir port
    sed -i "s/^port = .*/port = $3/; s/^archive_mode = .*/archive_mode = off/" "$2/postgresql.conf"
    pg_start "$2"
    if wait_promoted "$3"; then
        pass "$1: recovery reached the end of the archive"
        expect_eq "$1: every row of the primary at the end of WAL" "$(rows "$3")" "$EXPECTED_ROWS"
        expect_eq "$1: the table made after repo2's backup was replayed" "$(tables "$3")" "only_in_repo1"
    else
        fail "$1: recovery reached the end of the archive" "$(tail -20 "$2.log")"
    fi
    pg_stop "$2"
}

# A plain restore of repo2's backup: what every fallback must equal, byte for byte.
REFERENCE=$IT_TMP/reference
expect_exit "reference: restore --repo=2" 0 "$BR" --config="$CONF" --stanza=main --repo=2 \
    --pg1-path="$REFERENCE" restore --target-action=promote
same_as_reference() {  # name dir
    local d
    # The reference was restored with --repo=2: its restore_command names repo2 alone.
    d=$(diff -r -x postgresql.auto.conf "$REFERENCE" "$2" 2>&1)
    expect_eq "$1: every file is repo2's backup's, nothing else is there" "$d" ""
    expect_eq "$1: postgresql.auto.conf is repo2's backup's, its restore_command every repository's" \
        "$(sed 's/ --repo=2//' "$REFERENCE/postgresql.auto.conf")" "$(cat "$2/postgresql.auto.conf")"
}

# --- a stored file's bytes flipped in repo1 ----------------------------------------------------
flip "$STORED"
PARTIAL=$IT_TMP/restore-flipped
expect_exit "restore --repo=1 of the damaged backup fails" 28 "$BR" --config="$CONF" --stanza=main --repo=1 \
    --pg1-path="$PARTIAL" restore --process-max=1 --target-action=promote
expect_contains "--repo=1: the error names the file" "$OUT" "$U_FILE"
expect_contains "--repo=1: the error names the backup" "$OUT" "$LABEL1"
expect_eq "--repo=1: no fallback was tried" "$(grep -c 'repo2' <<<"$OUT")" "0"
expect_eq "--repo=1: the restore marker remains" "$(test -s "$PARTIAL/backrest.restore" && echo kept)" "kept"
expect_eq "--repo=1: no pg_control" "$(test -e "$PARTIAL/global/pg_control" && echo present || echo absent)" "absent"
# What the failed attempt wrote, which the fallback must remove or replace: repo1's t (other
# bytes than repo2's) and only_in_repo1 (not in repo2's backup at all).
P_T=$(stat -c %s "$PARTIAL/${T_FILE#pg_data/}" 2>/dev/null || echo 0)
R_T=$(stat -c %s "$REFERENCE/${T_FILE#pg_data/}")
expect_eq "--repo=1: the failed attempt wrote repo1's t (larger than repo2's)" "$([ "$P_T" -gt "$R_T" ] && echo yes || echo "no: $P_T vs $R_T")" "yes"
expect_eq "--repo=1: the failed attempt wrote only_in_repo1" "$(test -s "$PARTIAL/${O_FILE#pg_data/}" && echo written)" "written"
expect_eq "--repo=1: u was not finished" "$(cmp -s "$PARTIAL/${U_FILE#pg_data/}" "$REFERENCE/${U_FILE#pg_data/}" && echo same || echo not)" "not"
# Two more files as a failed attempt may leave them: one repo2's backup does not have, and
# PG_VERSION with the backup's size and time but other bytes (--force alone would keep it).
as_pg sh -c "echo 'left by the failed attempt' >'$PARTIAL/base/stray_file'"
as_pg cp -p "$REFERENCE/PG_VERSION" "$PARTIAL/PG_VERSION"
PGVER_BEFORE=$(cat "$REFERENCE/PG_VERSION")
printf 'x' | as_pg dd of="$PARTIAL/PG_VERSION" bs=1 seek=0 conv=notrunc status=none
as_pg touch -r "$REFERENCE/PG_VERSION" "$PARTIAL/PG_VERSION"
expect_eq "setup: PG_VERSION differs with the same size and time" "$(cmp -s "$PARTIAL/PG_VERSION" "$REFERENCE/PG_VERSION" && echo same || echo differs):$(stat -c %s:%Y "$PARTIAL/PG_VERSION")" "differs:$(stat -c %s:%Y "$REFERENCE/PG_VERSION")"
expect_exit "restore without --repo over the failed attempt falls back to repo2" 0 "$BR" --config="$CONF" \
    --stanza=main --pg1-path="$PARTIAL" restore --process-max=1 --force --target-action=promote
expect_contains "the warning names repo1" "$OUT" "WARN: restore: repo1 ($R1):"
expect_contains "the warning names the file" "$(grep WARN <<<"$OUT")" "$U_FILE"
expect_contains "the warning names the backup" "$(grep WARN <<<"$OUT")" "$LABEL1"
expect_contains "the summary restores repo2's backup" "$(tail -1 <<<"$OUT")" "restore $LABEL2:"
expect_contains "the summary says it fell back" "$(tail -1 <<<"$OUT")" "restored from repo2 ($R2) after repo1 failed"
expect_eq "the restore marker is gone" "$(test -e "$PARTIAL/backrest.restore" && echo kept || echo gone)" "gone"
expect_eq "PG_VERSION has its bytes again (compared by checksum despite --force)" "$(cat "$PARTIAL/PG_VERSION")" "$PGVER_BEFORE"
same_as_reference "flipped" "$PARTIAL"
start_and_compare "flipped" "$PARTIAL" 57331

# --- a stored file removed from repo1 ----------------------------------------------------------
heal_repo1
rm -f "$STORED"
REMOVED=$IT_TMP/restore-removed
expect_exit "restore --repo=1 with a stored file removed fails" 23 "$BR" --config="$CONF" --stanza=main --repo=1 \
    --pg1-path="$IT_TMP/restore-removed1" restore
expect_contains "--repo=1: the error names the missing file" "$OUT" "$U_FILE"
expect_exit "restore without --repo with a stored file removed falls back to repo2" 0 "$BR" --config="$CONF" \
    --stanza=main --pg1-path="$REMOVED" restore --target-action=promote
expect_contains "the warning names repo1 and the file" "$(grep "WARN: restore: repo1 ($R1)" <<<"$OUT")" "$U_FILE"
expect_contains "the summary says it fell back" "$(tail -1 <<<"$OUT")" "restore $LABEL2:"
same_as_reference "removed" "$REMOVED"
start_and_compare "removed" "$REMOVED" 57332

# --- the manifest and its copy damaged in repo1 -------------------------------------------------
heal_repo1
flip "$R1/backup/main/$LABEL1/backup.manifest"
flip "$R1/backup/main/$LABEL1/backup.manifest.copy"
MANIFEST=$IT_TMP/restore-manifest
expect_exit "restore --repo=1 with both manifests damaged fails" 28 "$BR" --config="$CONF" --stanza=main --repo=1 \
    --pg1-path="$IT_TMP/restore-manifest1" restore
expect_contains "--repo=1: the error names the manifest" "$OUT" "backup.manifest"
expect_exit "restore without --repo with the manifests damaged falls back to repo2" 0 "$BR" --config="$CONF" \
    --stanza=main --pg1-path="$MANIFEST" restore --target-action=promote
expect_contains "the warning names repo1 and the manifest" "$(grep "WARN: restore: repo1 ($R1)" <<<"$OUT")" "$LABEL1/backup.manifest"
expect_contains "the summary says it fell back" "$(tail -1 <<<"$OUT")" "after repo1 failed"
same_as_reference "manifest" "$MANIFEST"
start_and_compare "manifest" "$MANIFEST" 57333

# --- no fallback: --set of repo1's label, a target error -----------------------------------------
heal_repo1
flip "$STORED"
expect_exit "restore --set=<repo1's label> does not fall back (repo2 does not hold it)" 28 "$BR" --config="$CONF" \
    --stanza=main --pg1-path="$IT_TMP/restore-set1" restore --set="$LABEL1"
expect_contains "the error names repo1's failure" "$OUT" "repo1 ($R1): "
expect_contains "the error says repo2 holds no such backup" "$OUT" "repo2 ($R2) holds no backup $LABEL1"
expect_eq "--set: the marker remains" "$(test -s "$IT_TMP/restore-set1/backrest.restore" && echo kept)" "kept"
as_pg mkdir -p "$IT_TMP/restore-notempty"
as_pg touch "$IT_TMP/restore-notempty/somefile"
expect_exit "a non-empty target is refused without trying repo2" 34 "$BR" --config="$CONF" --stanza=main \
    --log-level-console=info --pg1-path="$IT_TMP/restore-notempty" restore
expect_eq "the target error tried no other repository" "$(grep -c 'repo2' <<<"$OUT")" "0"
# An empty target its user cannot write (root's, 0755): the target's fault, not repo1's.
if [ "$(id -u)" -eq 0 ]; then
    mkdir -m 0755 "$IT_TMP/restore-readonly"
    expect_exit "a target postgres cannot write is refused without trying repo2" 24 "$BR" --config="$CONF" \
        --stanza=main --log-level-console=info --pg1-path="$IT_TMP/restore-readonly" restore
    expect_contains "the error names the target" "$OUT" "$IT_TMP/restore-readonly"
    expect_eq "the write error tried no other repository" "$(grep -c 'repo2' <<<"$OUT")" "0"
fi

# --- both repositories damaged -------------------------------------------------------------------
STORED2=$(ls "$R2/backup/main/$LABEL2/$U_FILE"* 2>/dev/null | head -1)
must test -s "$STORED2"
cp -a "$STORED2" "$IT_TMP/stored2.save"
flip "$STORED2"
BOTH=$IT_TMP/restore-both
expect_exit "restore with both repositories damaged fails" 28 "$BR" --config="$CONF" --stanza=main \
    --pg1-path="$BOTH" restore --target-action=promote
expect_contains "the error names repo1's failure" "$OUT" "repo1 ($R1): "
expect_contains "the error names repo2's failure" "$OUT" "repo2 ($R2): "
expect_contains "the error names repo2's file" "$(tail -1 <<<"$OUT")" "$LABEL2/$U_FILE"
expect_contains "the error says the directory is unfinished" "$OUT" "holds an unfinished restore"
expect_eq "both: the restore marker remains" "$(test -s "$BOTH/backrest.restore" && echo kept)" "kept"
expect_eq "both: no pg_control" "$(test -e "$BOTH/global/pg_control" && echo present || echo absent)" "absent"
[ -f "$BOTH/postgresql.conf" ] && sed -i "s/^port = .*/port = 57334/; s/^archive_mode = .*/archive_mode = off/" "$BOTH/postgresql.conf"
IT_SERVERS+=("$BOTH")
expect_exit "both: PostgreSQL does not start the directory" 1 "$PGBIN/pg_ctl" -D "$BOTH" -l "$BOTH.log" -w -t 30 start
# (Largest file first: the directory may not have PG_VERSION or postgresql.conf yet either.)
expect_eq "both: pg_ctl says it cannot start the directory" \
    "$(grep -cE 'could not start server|is not a database cluster directory' <<<"$OUT")" "1"
expect_eq "both: no server runs on it" "$(test -e "$BOTH/postmaster.pid" && echo running || echo none)" "none"

# Once repo2 is repaired, running the restore again completes it from repo2.
cp -a "$IT_TMP/stored2.save" "$STORED2"
expect_exit "after repo2 is repaired, the restore run again completes from repo2" 0 "$BR" --config="$CONF" \
    --stanza=main --pg1-path="$BOTH" restore --target-action=promote
expect_contains "its summary says it fell back" "$(tail -1 <<<"$OUT")" "restored from repo2 ($R2) after repo1 failed"
same_as_reference "repaired" "$BOTH"

# --- kill -9 during the fallback ----------------------------------------------------------------
# repo1's u is still damaged; repo2's u is a FIFO no one writes: the fallback blocks on it after
# repo1's attempt failed and repo2's began (its marker names repo2's backup). Killed there, the
# directory cannot start; run again, repo1 fails again and repo2 completes over both attempts.
mv "$STORED2" "$IT_TMP/stored2.real"
mkfifo -m 0640 "$STORED2"
chown postgres:postgres "$STORED2" 2>/dev/null
KILLED=$IT_TMP/restore-killed
"${PG_EXEC[@]}" "$BR" --config="$CONF" --stanza=main --pg1-path="$KILLED" restore --process-max=1 \
    --target-action=promote >"$IT_TMP/killed.out" 2>&1 &
KPID=$!
for i in $(seq 1 240); do
    grep -qs "label=$LABEL2" "$KILLED/backrest.restore" && break
    sleep 0.25
done
expect_eq "kill -9: the fallback to repo2 had begun" "$(grep -s '^label=' "$KILLED/backrest.restore")" "label=$LABEL2"
# Blocked opening or reading the FIFO (one of its threads waits in the kernel's pipe code).
blocked() { cat /proc/"$KPID"/task/*/wchan 2>/dev/null | tr '\0' '\n' | grep -qE 'fifo|pipe|wait_for_partner'; }
for i in $(seq 1 240); do
    blocked && break
    sleep 0.25
done
expect_eq "kill -9: the restore was still running, blocked on repo2's u" \
    "$(blocked && kill -0 "$KPID" 2>/dev/null && echo blocked || cat "$IT_TMP/killed.out" /proc/"$KPID"/task/*/wchan 2>&1)" "blocked"
kill -9 "$KPID" 2>/dev/null
wait "$KPID" 2>/dev/null
rm -f "$STORED2"
mv "$IT_TMP/stored2.real" "$STORED2"
expect_eq "kill -9: the marker remains, no pg_control" \
    "$(test -s "$KILLED/backrest.restore" && echo kept):$(test -e "$KILLED/global/pg_control" && echo present || echo absent)" "kept:absent"
expect_exit "kill -9: run again, the restore completes from repo2" 0 "$BR" --config="$CONF" --stanza=main \
    --pg1-path="$KILLED" restore --target-action=promote
expect_contains "kill -9: repo1 failed again and was named" "$OUT" "WARN: restore: repo1 ($R1):"
expect_contains "kill -9: its summary says it fell back" "$(tail -1 <<<"$OUT")" "restored from repo2 ($R2) after repo1 failed"
same_as_reference "killed" "$KILLED"
start_and_compare "killed" "$KILLED" 57335
