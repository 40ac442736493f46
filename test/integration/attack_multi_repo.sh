#!/usr/bin/env bash
# Several repositories (repo1-* .. repo4-*, --repo=N) attacked from outside, as a DBA's first
# month would. repo1 is plain, repo2 encrypted (its passphrase in the config file, repo2-only);
# compress-type=none, so a stored segment holds the table's bytes unless it is encrypted.
#   1. options given for one repository only: repo2's encryption never leaks to repo1 nor repo1's
#      plaintext to repo2; a wrong PGBACKREST_REPO2_CIPHER_PASS in the environment is named as
#      repo2's and does not touch repo1; a restore run with it in its environment warns, naming
#      repo2, that the restored server's restore_command will not see it;
#   2. archive-get's choice: repo1 holding ANOTHER cluster's segment under the same name, or
#      unreadable, is passed over for repo2's copy; a segment in neither is exit 1, but never 1
#      when one could not be read; a restore with repo1's archive unreadable stops recovery
#      (it cannot know what repo1 holds) saying how to go on, and with --repo=2 in restore_command
#      recovers every row from repo2;
#   3. archive-push with repo2 full (a small tmpfs): PostgreSQL keeps the segment (.ready), repo1
#      has it, nothing half-written in repo2, and after the fix both hold it; kill -9 of a push
#      once repo1 has the segment, then the retry: one copy in each, the bytes of pg_wal;
#   4. retention per repository: repo2-retention-full=1 (backup's own expire, then expire of
#      every repository, then --repo=2 with --repo1-retention-full=1) never expires repo1's
#      backups or the WAL they need; expire --set of repo1's backup without --repo expires it
#      there and is no failure of repo2;
#   5. expire, verify and info with repo2 unreadable: each names repo2 and exits non-zero; repo1's
#      expire is done all the same (a cron job's expire must not stop at the first repository);
#      info shows repo1's backups beside repo2's error;
#   6. --repo=0, --repo=5, --repo=x, and restore --repo=1 --set=<a backup in repo2 only>: refused
#      naming the option or the backup, nothing written.
# Defects found and fixed: 1 (the warning about a passphrase from the environment looked at
# repo1's only, and named repo2's as repo1's), 2 (the error that stops recovery did not say how
# to resume or end it with the other repository), 4 (a repository with fewer backups than its
# retention expired all WAL before its first backup; pgBackRest keeps it: "too soon"; expire
# --set without --repo failed on every repository not holding the set), 5 (info
# with one repository unreadable printed nothing of the others). In the unit tests: two spellings
# of one directory (/r/., a symlink) counted as two repositories.
# Ports 57310-57319.
set -u
SUITE=attack_multi_repo
TEST_BACKREST_BIN=${TEST_BACKREST_BIN:-$(dirname "$0")/../../build/backrest}
source "$(dirname "$0")/lib.sh"
it_setup

R1=$IT_TMP/repo
R2=$IT_TMP/repo2
SMALL=$R2/archive/main/15-1/0000000100000000
HOLDER=
trap 'for d in "${IT_SERVERS[@]}"; do [ -f "$d/postmaster.pid" ] && as_pg "$PGBIN/pg_ctl" -D "$d" -m immediate -w stop >/dev/null 2>&1; done
      [ -n "$HOLDER" ] && kill -9 "$HOLDER" 2>/dev/null
      chmod -R u+rwx "$IT_TMP" 2>/dev/null
      mountpoint -q "$SMALL" 2>/dev/null && umount -l "$SMALL"; it_finish' EXIT

it_primary_without_stanza 57310 "repo2-path=$R2" "repo2-cipher-type=aes-256-gcm" \
    "repo2-cipher-pass=attack-multi-repo-secret" "repo1-retention-full=2" "repo2-retention-full=1" \
    "repo2-bundle=n" "compress-type=none" "log-level-console=warn"
chown postgres:postgres "$CONF"
chmod 0600 "$CONF"
as_pg mkdir -p "$R2"
must br stanza-create

# Switches to a new WAL segment and prints the name of the one it closed.
switch_wal() {
    local seg
    psql_at 57310 "INSERT INTO w VALUES (1)" >/dev/null
    seg=$(psql_at 57310 "SELECT pg_walfile_name(pg_current_wal_insert_lsn())")
    psql_at 57310 "SELECT pg_switch_wal()" >/dev/null
    printf '%s' "$seg"
}
wait_archived() {  # segment
    local i
    for i in $(seq 1 240); do
        [ "$(psql_at 57310 "SELECT coalesce(last_archived_wal >= '$1', false) FROM pg_stat_archiver")" == "t" ] && return 0
        sleep 0.25
    done
    return 1
}
stored() { find "$1/archive/main" -name "$2-*" 2>/dev/null | wc -l; }  # repo segment
full_backups() { ls "$1/backup/main" 2>/dev/null | grep -cE '^[0-9]{8}-[0-9]{6}F$'; }
rows() { psql_at "$1" "SELECT count(*) || ':' || md5(string_agg(id::text || v, ',' ORDER BY id)) FROM t"; }

must psql_at 57310 "CREATE TABLE w (x int); CREATE TABLE t (id int, v text)"
FIRST=$(switch_wal)
wait_archived "$FIRST" || fail "setup: $FIRST archived" "$(tail -5 "$DATA.log")"

# ---- 1. options of one repository stay with it ------------------------------------------------
# 1a. A marker in a table, archived uncompressed: repo1 (plain) holds its bytes, repo2 (encrypted
# by repo2-cipher-* alone) must not: repo1's plain settings taken for repo2 would expose the data.
must psql_at 57310 "INSERT INTO t SELECT g, 'MARKER-attack-multi-repo-' || g FROM generate_series(1, 200) g"
MARKED=$(switch_wal)
wait_archived "$MARKED" || fail "setup: $MARKED archived" "$(tail -5 "$DATA.log")"
expect_eq "1a: repo1 (plain) stores $MARKED with the marker readable" \
    "$(grep -qa 'MARKER-attack-multi-repo' "$(find "$R1/archive/main" -name "$MARKED-*")" && echo found)" "found"
expect_eq "1a: repo2 (aes-256-gcm) never holds the marker in clear" \
    "$(grep -rla 'MARKER-attack-multi-repo' "$R2" | wc -l)" "0"
expect_exit "1a: archive-get --repo=2 decrypts $MARKED" 0 "$BR" --config="$CONF" --stanza=main --repo=2 \
    archive-get "$MARKED" "$IT_TMP/marked2"
expect_exit "1a: archive-get --repo=1 reads $MARKED" 0 "$BR" --config="$CONF" --stanza=main --repo=1 \
    archive-get "$MARKED" "$IT_TMP/marked1"
expect_eq "1a: both copies are the same bytes" "$(cmp "$IT_TMP/marked1" "$IT_TMP/marked2" 2>&1 && echo same)" "same"

# 1b. A wrong repo2 passphrase in the environment (it outranks the file): named as repo2's,
# nothing of repo1 changed, and repo1 alone still works.
OUT=$(as_pg env PGBACKREST_REPO2_CIPHER_PASS=wrong-pass "$BR" --config="$CONF" --stanza=main --repo=2 \
    archive-get "$MARKED" "$IT_TMP/wrongpass" 2>&1)
RC=$?
expect_eq "1b: archive-get --repo=2 with a wrong PGBACKREST_REPO2_CIPHER_PASS fails, not 'absent'" \
    "$([ $RC -gt 1 ] && echo failed || echo "exit $RC")" "failed"
expect_contains "1b: the error names repo2's passphrase" "$OUT" "repo2-cipher-pass does not open the key"
OUT=$(as_pg env PGBACKREST_REPO2_CIPHER_PASS=wrong-pass "$BR" --config="$CONF" --stanza=main --repo=1 \
    archive-get "$MARKED" "$IT_TMP/wrongpass1" 2>&1)
expect_eq "1b: --repo=1 does not need repo2's passphrase" "$?" "0"
# A restore run with repo2's passphrase in its environment: the restored server's restore_command
# will not have it, and recovery would stop when it looks in repo2. Warned of, naming repo2.
expect_exit "1b: backup for the restore" 0 "$BR" --config="$CONF" --stanza=main backup --type=full --start-fast
expect_eq "1b: one backup of repo1-retention-full=2: too soon to expire WAL ($FIRST stays)" "$(stored "$R1" "$FIRST")" "1"
OUT=$(as_pg env PGBACKREST_REPO2_CIPHER_PASS=attack-multi-repo-secret "$BR" --config="$CONF" --stanza=main \
    --pg1-path="$IT_TMP/restore-envpass" restore 2>&1)
expect_contains "1b: restore warns that repo2's passphrase comes from its environment" "$OUT" \
    "repo2-cipher-pass comes from this command's environment (BACKREST_REPO2_CIPHER_PASS or PGBACKREST_REPO2_CIPHER_PASS)"
expect_eq "1b: restore_command holds no passphrase" "$(grep -c attack-multi-repo-secret "$IT_TMP/restore-envpass/postgresql.auto.conf")" "0"
sleep 1.1  # a label per second

# ---- 2. archive-get: which repository serves ----------------------------------------------------
# 2a. repo1's copy of FIRST replaced by another cluster's segment of the same name (two clusters
# sharing a repository path by mistake): never served; repo2's copy is.
OTHER=$IT_TMP/other
pg_init "$OTHER" 57311
OTHER_SEG=$(ls "$OTHER/pg_wal" | grep '^[0-9A-F]\{24\}$' | head -1)
must as_pg "$BR" --config="$CONF" --stanza=other --pg1-path="$OTHER" --repo1-path="$R1" stanza-create
must as_pg "$BR" --config="$CONF" --stanza=other --pg1-path="$OTHER" archive-push "$OTHER/pg_wal/$OTHER_SEG"
PLANT=$(find "$R1/archive/other" -name "$OTHER_SEG-*")
MAIN1=$(find "$R1/archive/main" -name "$FIRST-*")
if [ "$OTHER_SEG" == "$FIRST" ] && [ -n "$PLANT" ] && [ -n "$MAIN1" ]; then
    rm -f "$MAIN1"
    cp "$PLANT" "$(dirname "$MAIN1")/"
    chown postgres:postgres "$(dirname "$MAIN1")"/*
    OUT=$(as_pg "$BR" --config="$CONF" --stanza=main --repo=1 archive-get "$FIRST" "$IT_TMP/first1" 2>&1)
    RC=$?
    expect_eq "2a: archive-get --repo=1 of the other cluster's $FIRST is refused (not 0, not 1)" \
        "$([ $RC -gt 1 ] && echo refused || echo "exit $RC")" "refused"
    expect_exit "2a: archive-get $FIRST (no --repo) serves repo2's" 0 "$BR" --config="$CONF" --stanza=main \
        archive-get "$FIRST" "$IT_TMP/first"
    expect_contains "2a: the warning names repo1" "$OUT" "repo1 ($R1)"
    expect_exit "2a: repo2's copy" 0 "$BR" --config="$CONF" --stanza=main --repo=2 archive-get "$FIRST" "$IT_TMP/first2"
    expect_eq "2a: the segment served is repo2's (main's), not the other cluster's" \
        "$(cmp -s "$IT_TMP/first" "$IT_TMP/first2" && ! cmp -s "$IT_TMP/first" "$OTHER/pg_wal/$OTHER_SEG" && echo main)" "main"
else
    fail "setup: 2a needs the other cluster's first segment named $FIRST" "$OTHER_SEG $PLANT $MAIN1"
fi

# 2b. A segment in neither repository: 1 (recovery ends there). repo1 unreadable and the segment
# in neither: not 1, as repo1 may hold it.
expect_exit "2b: a segment in no repository is exit 1" 1 "$BR" --config="$CONF" --stanza=main \
    archive-get 0000000100000000000000FE "$IT_TMP/none"
chmod 000 "$R1/archive/main"
OUT=$(as_pg "$BR" --config="$CONF" --stanza=main archive-get 0000000100000000000000FE "$IT_TMP/none" 2>&1)
RC=$?
expect_eq "2b: repo1 unreadable, repo2 without it: recovery stops (exit > 1)" \
    "$([ $RC -gt 1 ] && echo stopped || echo "exit $RC")" "stopped"
expect_contains "2b: the error names repo1" "$OUT" "repo1 ($R1)"
expect_exit "2b: repo1 unreadable, $FIRST in repo2: served" 0 "$BR" --config="$CONF" --stanza=main \
    archive-get "$FIRST" "$IT_TMP/first-r1down"
expect_eq "2b: the bytes are repo2's" "$(cmp "$IT_TMP/first-r1down" "$IT_TMP/first2" 2>&1 && echo same)" "same"
chmod 750 "$R1/archive/main"

# 2c. A restore of repo1's newest backup, then repo1's archive unreadable before the server starts:
# recovery must not end (a history file or segment in repo1 may be unseen); it stops naming repo1
# and saying what to do. With --repo=2 in restore_command it reads repo2's WAL to the end.
must br backup --type=full --start-fast
sleep 1.1  # a label per second
must psql_at 57310 "INSERT INTO t SELECT 5000 + g, 'after' FROM generate_series(1, 300) g"
LAST=$(switch_wal)
wait_archived "$LAST" || fail "setup: $LAST archived" "$(tail -5 "$DATA.log")"
EXPECTED=$(rows 57310)
RESTORED=$IT_TMP/restore-r1archive
expect_exit "2c: restore (repo1's backup)" 0 "$BR" --config="$CONF" --stanza=main --pg1-path="$RESTORED" \
    --log-level-console=info restore --target-action=promote
expect_contains "2c: restore reads repo1" "$OUT" "restore: from repo1 ($R1)"
sed -i "s/^port = .*/port = 57312/; s/^archive_mode = .*/archive_mode = off/" "$RESTORED/postgresql.conf"
chmod 000 "$R1/archive/main"
IT_SERVERS+=("$RESTORED")
as_pg "$PGBIN/pg_ctl" -D "$RESTORED" -l "$RESTORED.log" -w -t 120 start >/dev/null 2>&1
for i in $(seq 1 240); do [ -f "$RESTORED/postmaster.pid" ] || break; sleep 0.5; done
expect_eq "2c: recovery stops rather than end without knowing what repo1 holds" \
    "$(test -f "$RESTORED/postmaster.pid" && echo running || echo stopped)" "stopped"
expect_contains "2c: the server log names repo1's failure" "$(cat "$RESTORED.log")" "1 of 2 repositories failed: repo1 ($R1)"
expect_contains "2c: ... and says how to end recovery with repo2's WAL" "$(cat "$RESTORED.log")" \
    "if repo1 is lost for good, add --repo=2 to restore_command"
# The DBA does so: recovery reads every segment from repo2 and ends where repo2's WAL ends.
sed -i "s/ archive-get / --repo=2 archive-get /" "$RESTORED/postgresql.auto.conf"
as_pg "$PGBIN/pg_ctl" -D "$RESTORED" -l "$RESTORED.log" -w -t 120 start >/dev/null 2>&1
if wait_promoted 57312; then
    pass "2c: with --repo=2 recovery reached the end of repo2's WAL"
    expect_eq "2c: every row, from repo2's WAL" "$(rows 57312)" "$EXPECTED"
else
    fail "2c: with --repo=2 recovery reached the end of repo2's WAL" "$(grep restore_command "$RESTORED/postgresql.auto.conf")
$(tail -20 "$RESTORED.log")"
fi
pg_stop "$RESTORED"
chmod 750 "$R1/archive/main"

# ---- 3. archive-push with one repository full or killed ----------------------------------------
# 3a. repo2's segment directory on a 2 MiB file system: a 16 MiB segment does not fit.
if mount -t tmpfs -o size=2m,uid=$(id -u postgres),gid=$(id -g postgres),mode=0750 tmpfs "$SMALL" 2>/dev/null; then
    must psql_at 57310 "INSERT INTO t SELECT 9000 + g, 'full' FROM generate_series(1, 100) g"
    FULL=$(switch_wal)
    for i in $(seq 1 240); do
        [ "$(psql_at 57310 "SELECT last_failed_wal FROM pg_stat_archiver")" == "$FULL" ] && break
        sleep 0.25
    done
    expect_eq "3a: PostgreSQL sees the push of $FULL fail" "$(psql_at 57310 "SELECT last_failed_wal FROM pg_stat_archiver")" "$FULL"
    expect_eq "3a: $FULL stays ready in pg_wal" "$(test -e "$DATA/pg_wal/archive_status/$FULL.ready" && echo ready)" "ready"
    expect_eq "3a: repo1 took $FULL" "$(stored "$R1" "$FULL")" "1"
    OUT=$(cd "$DATA" && as_pg "$BR" --config="$CONF" --stanza=main archive-push "pg_wal/$FULL" 2>&1)
    expect_contains "3a: the error names repo2 and the full disk" "$OUT" "1 of 2 repositories failed: repo2 ($R2)"
    expect_contains "3a: ... and says why" "$OUT" "No space left on device"
    expect_eq "3a: nothing half-written on the full file system" "$(find "$SMALL" -type f | wc -l)" "0"
    umount "$SMALL"
    wait_archived "$FULL" || fail "3a: archived once repo2 has room" "$(tail -5 "$DATA.log")"
    expect_eq "3a: after the fix repo2 holds $FULL once" "$(stored "$R2" "$FULL")" "1"
    expect_eq "3a: and repo1 once" "$(stored "$R1" "$FULL")" "1"
    expect_exit "3a: repo2's copy reads back" 0 "$BR" --config="$CONF" --stanza=main --repo=2 archive-get "$FULL" "$IT_TMP/full2"
    expect_eq "3a: the bytes of pg_wal" "$(cmp "$IT_TMP/full2" "$DATA/pg_wal/$FULL" 2>&1 && echo same)" "same"
else
    echo "# skipped 3a: tmpfs cannot be mounted here"
fi

# 3b. kill -9 of archive-push once repo1 has the segment (it then writes repo2's), then the retry.
# PostgreSQL's archiver is kept off this segment (archive_command fails meanwhile).
must psql_at 57310 "ALTER SYSTEM SET archive_command = '/bin/false'"
must psql_at 57310 "SELECT pg_reload_conf()"
KILLED=$(switch_wal)
"${PG_EXEC[@]}" "$BR" --config="$CONF" --stanza=main archive-push "$DATA/pg_wal/$KILLED" >/dev/null 2>&1 &
HOLDER=$!
for i in $(seq 1 2000); do [ "$(stored "$R1" "$KILLED")" == "1" ] && break; sleep 0.005; done
kill -9 "$HOLDER" 2>/dev/null
wait "$HOLDER" 2>/dev/null
HOLDER=
expect_eq "3b: repo1 had $KILLED when the push was killed" "$(stored "$R1" "$KILLED")" "1"
expect_eq "3b: repo2 holds at most one copy, complete or none" "$(stored "$R2" "$KILLED" | sed 's/^[01]$/ok/')" "ok"
expect_exit "3b: the retry" 0 "$BR" --config="$CONF" --stanza=main archive-push "$DATA/pg_wal/$KILLED"
expect_eq "3b: one copy in repo1" "$(stored "$R1" "$KILLED")" "1"
expect_eq "3b: one copy in repo2" "$(stored "$R2" "$KILLED")" "1"
for n in 1 2; do
    expect_exit "3b: archive-get --repo=$n" 0 "$BR" --config="$CONF" --stanza=main --repo=$n archive-get "$KILLED" "$IT_TMP/killed$n"
    expect_eq "3b: repo$n's copy is the bytes of pg_wal" "$(cmp "$IT_TMP/killed$n" "$DATA/pg_wal/$KILLED" 2>&1 && echo same)" "same"
done
must psql_at 57310 "ALTER SYSTEM RESET archive_command"
must psql_at 57310 "SELECT pg_reload_conf()"
wait_archived "$KILLED" || fail "3b: PostgreSQL archives $KILLED (already in both)" "$(tail -5 "$DATA.log")"

# ---- 4. retention per repository ------------------------------------------------------------
# 4. repo2-retention-full=1 must expire repo2 alone (a leak into repo1 is data loss). Two full backups
# in each; backup's own expire and then a plain expire (every repository).
for i in 1 2; do
    must psql_at 57310 "INSERT INTO t SELECT 1000 * $i + g, 'b$i' FROM generate_series(1, 100) g"
    must br backup --type=full --start-fast
    sleep 1.1  # a label per second
    must br --repo=2 backup --type=full --start-fast
    sleep 1.1
done
expect_eq "4: repo1 (retention-full=2) keeps both full backups" "$(full_backups "$R1")" "2"
expect_eq "4: repo2 (retention-full=1) keeps one" "$(full_backups "$R2")" "1"
# repo2-bundle=n is repo2's alone (repo1 keeps the default, y); repo2's backups, uncompressed,
# never hold the table's bytes in clear.
NEWEST1=$(ls "$R1/backup/main" | grep -E '^[0-9]{8}-[0-9]{6}F$' | tail -1)
NEWEST2=$(ls "$R2/backup/main" | grep -E '^[0-9]{8}-[0-9]{6}F$' | tail -1)
expect_eq "4: repo1's backup is bundled (repo1-bundle's default)" "$(find "$R1/backup/main/$NEWEST1/bundle" -type f 2>/dev/null | wc -l | sed 's/^[1-9][0-9]*$/some/')" "some"
expect_eq "4: repo2's backup is not (repo2-bundle=n)" "$(find "$R2/backup/main/$NEWEST2/bundle" -type f 2>/dev/null | wc -l)" "0"
expect_eq "4: repo1's backup holds the table's bytes (plain)" "$(grep -rlaq 'MARKER-attack-multi-repo' "$R1/backup/main/$NEWEST1" && echo found)" "found"
expect_eq "4: repo2's backup never holds them in clear" "$(grep -rla 'MARKER-attack-multi-repo' "$R2" | wc -l)" "0"
expect_exit "4: expire on every repository" 0 "$BR" --config="$CONF" --stanza=main expire
expect_eq "4: repo1 still keeps both after repo2's expire" "$(full_backups "$R1")" "2"
START1=$(br --repo=1 info --output=json | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["backup"][0]["archive"]["start"])')
expect_eq "4: repo1 keeps the WAL its oldest backup needs ($START1)" "$(stored "$R1" "$START1")" "1"
expect_eq "4: repo2 expired it (older than its one backup)" "$(stored "$R2" "$START1")" "0"
# repo1's option on the command line with --repo=2: it does not reach repo2.
expect_exit "4: --repo=2 expire --repo1-retention-full=1" 0 "$BR" --config="$CONF" --stanza=main --repo=2 \
    expire --repo1-retention-full=1
expect_eq "4: repo1 untouched by an expire of repo2" "$(full_backups "$R1")" "2"
expect_eq "4: repo2 still one" "$(full_backups "$R2")" "1"
# expire --set of a backup repo1 alone holds, without --repo: expired there, no failure of repo2
# (which does not hold it); a label in neither is refused naming both.
SET1=$(ls "$R1/backup/main" | grep -E '^[0-9]{8}-[0-9]{6}F$' | head -1)
expect_exit "4: expire --set=<repo1's oldest> (no --repo)" 0 "$BR" --config="$CONF" --stanza=main expire --set="$SET1"
expect_eq "4: it is gone from repo1" "$(test -e "$R1/backup/main/$SET1" && echo kept || echo gone)" "gone"
expect_eq "4: repo2 keeps its one" "$(full_backups "$R2")" "1"
expect_exit "4: expire --set=<a label in no repository>" 35 "$BR" --config="$CONF" --stanza=main expire --set=20200101-000000F
expect_contains "4: the error names the label and both repositories" "$OUT" "backup set 20200101-000000F is in no repository (repo1, repo2)"


# ---- 5. expire, verify, info with repo2 unreadable ------------------------------------------------
# Three full backups in repo1 (kept by --repo1-retention-full=3; the file says 2): expire must
# still remove repo1's oldest, and fail naming repo2, so a cron job's mail says repo2 was not
# expired.
must br backup --type=full --start-fast --repo1-retention-full=3
sleep 1.1  # a label per second
must br backup --type=full --start-fast --repo1-retention-full=3
chmod 000 "$R2"
OLDEST1=$(ls "$R1/backup/main" | grep -E '^[0-9]{8}-[0-9]{6}F$' | head -1)
OUT=$(as_pg "$BR" --config="$CONF" --stanza=main expire 2>&1)
RC=$?
expect_eq "5: expire with repo2 unreadable exits non-zero" "$([ $RC -ne 0 ] && echo failed || echo "exit 0")" "failed"
expect_contains "5: expire names repo2" "$OUT" "1 of 2 repositories failed: repo2 ($R2)"
expect_eq "5: repo1's expire was done (retention 2)" "$(full_backups "$R1")" "2"
expect_eq "5: repo1's oldest ($OLDEST1) is gone" "$(test -e "$R1/backup/main/$OLDEST1" && echo kept || echo gone)" "gone"
OUT=$(as_pg "$BR" --config="$CONF" --stanza=main verify 2>&1)
RC=$?
expect_eq "5: verify with repo2 unreadable exits non-zero" "$([ $RC -ne 0 ] && echo failed || echo "exit 0")" "failed"
expect_contains "5: verify names repo2" "$OUT" "repo2 ($R2)"
OUT=$(as_pg "$BR" --config="$CONF" --stanza=main info 2>&1)
RC=$?
expect_eq "5: info with repo2 unreadable exits non-zero" "$([ $RC -ne 0 ] && echo failed || echo "exit 0")" "failed"
expect_contains "5: info names repo2" "$OUT" "repo2 ($R2)"
expect_contains "5: info still lists repo1's backups" "$OUT" "$(ls "$R1/backup/main" | grep -E '^[0-9]{8}-[0-9]{6}F$' | tail -1)"
expect_contains "5: info shows repo2's error under its name" "$OUT" "status: error (other): unable to open"
JSON=$(as_pg "$BR" --config="$CONF" --stanza=main info --output=json 2>/dev/null)
SUMMARY=$(python3 -c '
import json, sys
s = json.loads(sys.stdin.read())[0]
print(s["status"]["code"], " ".join(str(r["key"]) + ":" + str(r.get("status", {}).get("code", 0)) for r in s["repo"]),
      len(s["backup"]) > 0)' <<<"$JSON" 2>&1)
expect_eq "5: info json: status 4 (different across repos), repo2 status 99, repo1's backups" "$SUMMARY" "4 1:0 2:99 True"
chmod 750 "$R2"

# ---- 6. --repo out of range, --set in the other repository -------------------------------------
for bad in 0 5 x; do
    expect_exit "6: --repo=$bad is refused" 21 "$BR" --config="$CONF" --stanza=main --repo=$bad info
    expect_contains "6: the message names the option 'repo' and its value" "$OUT" "invalid value '$bad' for option 'repo'"
done
LABEL2=$(ls "$R2/backup/main" | grep -E '^[0-9]{8}-[0-9]{6}F$' | tail -1)
expect_exit "6: restore --repo=1 --set=<repo2's backup>" 35 "$BR" --config="$CONF" --stanza=main --repo=1 \
    --pg1-path="$IT_TMP/restore-wrongrepo" restore --set="$LABEL2"
expect_contains "6: the message names the backup" "$OUT" "$LABEL2"
expect_eq "6: nothing written" "$(test -e "$IT_TMP/restore-wrongrepo" && echo exists || echo absent)" "absent"
