#!/usr/bin/env bash
# Two repositories (repo1-path, repo2-path), as pgBackRest has them: stanza-create and check work
# on both, archive_command = backrest archive-push puts each segment in both and fails, naming
# repo2, while repo2 cannot take it; backup --repo=2; info lists both; a WAL segment damaged or
# missing in repo1 is read from repo2 by recovery; restore --set picks the repository holding the
# set; a plain repo1 beside an encrypted repo2 each use their own key; the daemon's archive-push
# (archive_library) stores in both and fails naming repo2, its info lists both; an unconfigured --repo=3,
# a repo5-* option and two repositories in one place are refused.
set -u
SUITE=multi_repo
TEST_BACKREST_BIN=${TEST_BACKREST_BIN:-$(dirname "$0")/../../build/backrest}
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_daemon.sh"
it_setup
trap 'stop_daemon; it_finish' EXIT

R1=$IT_TMP/repo
R2=$IT_TMP/repo2
it_primary_without_stanza 57260 "repo2-path=$R2" "repo2-retention-full=2" "log-level-console=warn"
as_pg mkdir -p "$R2"

rows() { psql_at "$1" "SELECT phase || ':' || count(*) || ':' || sum(id) FROM t GROUP BY phase ORDER BY phase" | tr '\n' ' '; }
# The stored copies of a segment in a repository (file names without the checksum).
stored() {  # repo segment
    find "$1/archive/main" -name "$2-*" 2>/dev/null | wc -l
}
# Switches to a new WAL segment and returns the name of the one it closed (a write first: a
# switch at the start of a segment closes nothing).
switch_wal() {
    local seg
    psql_at 57260 "INSERT INTO w VALUES (1)" >/dev/null
    seg=$(psql_at 57260 "SELECT pg_walfile_name(pg_current_wal_insert_lsn())")
    psql_at 57260 "SELECT pg_switch_wal()" >/dev/null
    printf '%s' "$seg"
}
# Waits (at most 60 s) until PostgreSQL reports `segment` archived.
wait_archived() {  # segment
    local i
    for i in $(seq 1 240); do
        [ "$(psql_at 57260 "SELECT last_archived_wal FROM pg_stat_archiver")" \> "$1" ] && return 0
        [ "$(psql_at 57260 "SELECT last_archived_wal FROM pg_stat_archiver")" == "$1" ] && return 0
        sleep 0.25
    done
    return 1
}

# --- options ----------------------------------------------------------------------------------
expect_exit "stanza-create creates the stanza in both repositories" 0 "$BR" --config="$CONF" --stanza=main stanza-create
expect_eq "repo1 has archive.info" "$(test -s "$R1/archive/main/archive.info" && echo yes)" "yes"
expect_eq "repo2 has archive.info" "$(test -s "$R2/archive/main/archive.info" && echo yes)" "yes"
expect_eq "repo2 has backup.info" "$(test -s "$R2/backup/main/backup.info" && echo yes)" "yes"
expect_exit "--repo=3 (not configured) is refused" 21 "$BR" --config="$CONF" --stanza=main --repo=3 info
expect_contains "the message names repo3 and the configured ones" "$OUT" "repo3 is not configured (no repo3-* option is set); the configured repositories are repo1, repo2"
expect_exit "a repo5-* option is refused" 21 "$BR" --config="$CONF" --stanza=main --repo5-path="$IT_TMP/r5" info
expect_contains "the message names repo5-path" "$OUT" "option 'repo5-path'"
expect_exit "two repositories in one directory are refused" 21 "$BR" --config="$CONF" --stanza=main --repo2-path="$R1/" info
expect_contains "the message names both" "$OUT" "repo1 and repo2 are the same repository"

# --- archive-push: every segment in both ------------------------------------------------------
expect_exit "archive-push --repo=1 is refused (a segment goes to every repository)" 21 \
    "$BR" --config="$CONF" --stanza=main --repo=1 archive-push "$DATA/pg_wal/000000010000000000000001"
expect_contains "the refusal names the option" "$OUT" "option 'repo' is not accepted by archive-push"
must psql_at 57260 "CREATE TABLE w (x int); CREATE TABLE t (id serial, phase text); INSERT INTO t (phase) SELECT 'a' FROM generate_series(1, 1000)"
expect_exit "check checks both repositories" 0 "$BR" --config="$CONF" --stanza=main check
expect_contains "check says whose part is whose" "$OUT" "repo2 ($R2):"
SEG=$(switch_wal)
wait_archived "$SEG" || fail "setup: $SEG archived" "$(tail -5 "$DATA.log")"
expect_eq "segment $SEG is in repo1" "$(stored "$R1" "$SEG")" "1"
expect_eq "segment $SEG is in repo2" "$(stored "$R2" "$SEG")" "1"

# --- backups: repo1 by default, repo2 with --repo=2 ---------------------------------------------
expect_exit "backup --repo=2" 0 "$BR" --config="$CONF" --stanza=main --repo=2 backup --type=full --start-fast
LABEL2=$(ls "$R2/backup/main" | grep -E '^[0-9]{8}-[0-9]{6}F$' | tail -1)
expect_eq "the backup is in repo2" "$(test -n "$LABEL2" && test -s "$R2/backup/main/$LABEL2/backup.manifest" && echo yes)" "yes"
expect_eq "repo1 holds no backup yet" "$(ls "$R1/backup/main" | grep -cE '^[0-9]{8}-')" "0"
must psql_at 57260 "INSERT INTO t (phase) SELECT 'b' FROM generate_series(1, 1000)"
sleep 1.1  # labels have a resolution of one second: repo1's backup gets a label of its own
expect_exit "backup (repo1, the default)" 0 "$BR" --config="$CONF" --stanza=main backup --type=full --start-fast
LABEL1=$(ls "$R1/backup/main" | grep -E '^[0-9]{8}-[0-9]{6}F$' | tail -1)
expect_eq "the default backup is in repo1" "$(test -n "$LABEL1" && test -s "$R1/backup/main/$LABEL1/backup.manifest" && echo yes)" "yes"
expect_eq "repo2 still holds one backup" "$(ls "$R2/backup/main" | grep -cE '^[0-9]{8}-')" "1"

# --- info: both, labelled ---------------------------------------------------------------------
expect_exit "info" 0 "$BR" --config="$CONF" --stanza=main info
expect_contains "info labels repo1" "$OUT" "repo1 ($R1):"
expect_contains "info labels repo2" "$OUT" "repo2 ($R2):"
expect_contains "info lists repo2's backup" "$OUT" "$LABEL2"
expect_exit "info --output=json" 0 "$BR" --config="$CONF" --stanza=main info --output=json
JSON_SUMMARY=$(python3 -c '
import json, sys
stanzas = json.loads(sys.stdin.read())
s = stanzas[0]
print(len(stanzas), " ".join(b["label"] + ":" + str(b["database"]["repo-key"]) for b in s["backup"]),
      " ".join(str(r["key"]) for r in s["repo"]), s["status"]["code"])' <<<"$OUT" 2>&1)
expect_eq "info json: one stanza, each backup with its repo-key, both repositories, status ok" \
    "$JSON_SUMMARY" "1 $LABEL2:2 $LABEL1:1 1 2 0"
expect_exit "info --repo=2 lists repo2 alone" 0 "$BR" --config="$CONF" --stanza=main --repo=2 info
expect_eq "info --repo=2 shows no repo1 backup" "$(grep -c "$LABEL1" <<<"$OUT")" "0"

# --- annotate: the repository that holds the backup --------------------------------------------
expect_exit "annotate repo2's backup (no --repo)" 0 "$BR" --config="$CONF" --stanza=main annotate --set="$LABEL2" --annotation=kept=yes
expect_contains "annotate reports the annotation" "$OUT" "annotate: backup $LABEL2 has 1 annotation"
expect_exit "info --repo=2 --set shows it" 0 "$BR" --config="$CONF" --stanza=main --repo=2 info --set="$LABEL2" --output=json
expect_contains "the annotation is in repo2's backup" "$OUT" '"annotation":{"kept":"yes"}'
expect_exit "annotate of a backup in no repository" 35 "$BR" --config="$CONF" --stanza=main annotate --set=20200101-000000F --annotation=a=b
expect_contains "the error names the label and both repositories" "$OUT" "backup set 20200101-000000F is in no repository (repo1, repo2)"

# --- recovery reads from repo2 what repo1 lost --------------------------------------------------
must psql_at 57260 "INSERT INTO t (phase) SELECT 'c' FROM generate_series(1, 1000)"
DAMAGED=$(switch_wal)
must psql_at 57260 "INSERT INTO t (phase) SELECT 'd' FROM generate_series(1, 1000)"
REMOVED=$(switch_wal)
wait_archived "$REMOVED" || fail "setup: $REMOVED archived" "$(tail -5 "$DATA.log")"
EXPECTED_ROWS=$(rows 57260)
D1=$(find "$R1/archive/main" -name "$DAMAGED-*")
printf 'damaged!' | dd of="$D1" bs=1 seek=200 conv=notrunc status=none
rm -f "$(find "$R1/archive/main" -name "$REMOVED-*")"
expect_exit "archive-get --repo=1 of the damaged segment fails (recovery would stop)" 255 \
    "$BR" --config="$CONF" --stanza=main --repo=1 archive-get "$DAMAGED" "$IT_TMP/got1"
expect_exit "archive-get --repo=1 of the removed segment: not in the archive" 1 \
    "$BR" --config="$CONF" --stanza=main --repo=1 archive-get "$REMOVED" "$IT_TMP/got2"
expect_exit "archive-get of the damaged segment takes repo2's" 0 \
    "$BR" --config="$CONF" --stanza=main archive-get "$DAMAGED" "$IT_TMP/got3"
expect_contains "the warning names repo1" "$OUT" "archive-get: repo1 ($R1):"
expect_eq "the segment got is the one PostgreSQL wrote" "$(cmp "$IT_TMP/got3" "$DATA/pg_wal/$DAMAGED" 2>&1 && echo same)" "same"

RESTORED=$IT_TMP/restore-latest
expect_exit "restore (no --repo, no --set)" 0 "$BR" --config="$CONF" --stanza=main --pg1-path="$RESTORED" restore --target-action=promote
expect_contains "restore took repo1, the first with a backup" "$OUT" "$LABEL1"
sed -i "s/^port = .*/port = 57261/; s/^archive_mode = .*/archive_mode = off/" "$RESTORED/postgresql.conf"
pg_start "$RESTORED"
if wait_promoted 57261; then
    pass "restore: recovery reached the end of the archive"
    expect_eq "restore: every row, read from repo2's WAL where repo1's was lost" "$(rows 57261)" "$EXPECTED_ROWS"
else
    fail "restore: recovery reached the end of the archive" "$(tail -20 "$RESTORED.log")"
fi
expect_contains "recovery warned about repo1's damaged segment" "$(cat "$RESTORED.log")" "repo1 ($R1)"
pg_stop "$RESTORED"

# restore --set of repo2's backup, no --repo: the repository that holds it.
FROM2=$IT_TMP/restore-set2
expect_exit "restore --set=<repo2's backup>" 0 "$BR" --config="$CONF" --stanza=main --log-level-console=info \
    --pg1-path="$FROM2" restore --set="$LABEL2" --target-action=promote
expect_contains "restore says it reads repo2" "$OUT" "restore: from repo2 ($R2)"
sed -i "s/^port = .*/port = 57262/; s/^archive_mode = .*/archive_mode = off/" "$FROM2/postgresql.conf"
pg_start "$FROM2"
if wait_promoted 57262; then
    pass "restore --set from repo2: recovery reached the end"
    expect_eq "restore --set from repo2: every row" "$(rows 57262)" "$EXPECTED_ROWS"
else
    fail "restore --set from repo2: recovery reached the end" "$(tail -20 "$FROM2.log")"
fi
pg_stop "$FROM2"
expect_exit "restore --repo=1 --set=<repo2's backup> is refused" 35 "$BR" --config="$CONF" --stanza=main \
    --repo=1 --pg1-path="$IT_TMP/restore-none" restore --set="$LABEL2"
expect_eq "nothing written by the refused restore" "$(test -e "$IT_TMP/restore-none" && echo exists || echo absent)" "absent"

# --- repo2 cannot take WAL: archive-push fails naming it, repo1 has the segment ----------------
chmod 000 "$R2/archive/main"
must psql_at 57260 "INSERT INTO t (phase) SELECT 'e' FROM generate_series(1, 10)"
BLOCKED=$(switch_wal)
for i in $(seq 1 240); do
    [ "$(psql_at 57260 "SELECT last_failed_wal FROM pg_stat_archiver")" == "$BLOCKED" ] && break
    sleep 0.25
done
expect_eq "PostgreSQL sees the push of $BLOCKED fail" "$(psql_at 57260 "SELECT last_failed_wal FROM pg_stat_archiver")" "$BLOCKED"
expect_eq "repo1 took $BLOCKED" "$(stored "$R1" "$BLOCKED")" "1"
OUT=$(cd "$DATA" && as_pg "$BR" --config="$CONF" --stanza=main archive-push "pg_wal/$BLOCKED" 2>&1)
RC=$?
expect_eq "archive-push by hand fails too" "$([ $RC -ne 0 ] && echo failed)" "failed"
expect_contains "the error names repo2" "$OUT" "1 of 2 repositories failed: repo2 ($R2)"
chmod 750 "$R2/archive/main"
wait_archived "$BLOCKED" || fail "archived once repo2 is writable again" "$(tail -5 "$DATA.log")"
expect_eq "after the fix $BLOCKED is in repo2" "$(stored "$R2" "$BLOCKED")" "1"
expect_eq "and still once in repo1" "$(stored "$R1" "$BLOCKED")" "1"

# --- repo1 unreadable: restore takes repo2's backup, with a warning naming repo1 ----------------
LAST=$(switch_wal)
wait_archived "$LAST" || fail "setup: $LAST archived" "$(tail -5 "$DATA.log")"
NOW_ROWS=$(rows 57260)
chmod 000 "$R1/backup/main"
R1DOWN=$IT_TMP/restore-r1down
expect_exit "restore with repo1 unreadable" 0 "$BR" --config="$CONF" --stanza=main --log-level-console=info \
    --pg1-path="$R1DOWN" restore --target-action=promote
expect_contains "the warning names repo1" "$OUT" "WARN: restore: repo1 ($R1):"
expect_contains "restore reads repo2" "$OUT" "restore: from repo2 ($R2)"
chmod 750 "$R1/backup/main"
sed -i "s/^port = .*/port = 57263/; s/^archive_mode = .*/archive_mode = off/" "$R1DOWN/postgresql.conf"
pg_start "$R1DOWN"
if wait_promoted 57263; then
    pass "restore from repo2: recovery reached the end"
    expect_eq "restore from repo2: every row" "$(rows 57263)" "$NOW_ROWS"
else
    fail "restore from repo2: recovery reached the end" "$(tail -20 "$R1DOWN.log")"
fi
pg_stop "$R1DOWN"

# --- expire and verify work on each repository ----------------------------------------------
expect_exit "expire (both repositories)" 0 "$BR" --config="$CONF" --stanza=main expire
expect_exit "verify --repo=2" 0 "$BR" --config="$CONF" --stanza=main --repo=2 verify
expect_exit "verify (both) fails on repo1's damaged segment" 28 "$BR" --config="$CONF" --stanza=main verify
expect_contains "verify names repo1 as the one that failed" "$OUT" "verify: 1 of 2 repositories failed: repo1 ($R1)"

# --- a plain repo1 and an encrypted repo2: each repository with its own key ---------------------
E1=$IT_TMP/enc1
E2=$IT_TMP/enc2
as_pg mkdir -p "$E1" "$E2"
CONF_ENC=$IT_TMP/enc.conf
{
    printf '[global]\nrepo1-path=%s\nrepo2-path=%s\nrepo2-cipher-type=aes-256-gcm\n' "$E1" "$E2"
    printf 'repo2-cipher-pass=multi-repo-secret\nlock-path=%s\nlog-level-console=warn\n' "$IT_TMP/lock"
    printf '\n[enc]\n'
    pg1_lines
} | it_conf "$CONF_ENC" 0600
expect_exit "stanza-create: plain repo1, encrypted repo2" 0 "$BR" --config="$CONF_ENC" --stanza=enc stanza-create
# From here the cluster archives into both stanzas (main's two repositories, then enc's two).
must psql_at 57260 "ALTER SYSTEM SET archive_command = '$(archive_push_to "$BR" "$CONF" main) && $(archive_push_to "$BR" "$CONF_ENC" enc)'"
must psql_at 57260 "SELECT pg_reload_conf()"
ENC_SEG=$(switch_wal)
wait_archived "$ENC_SEG" || fail "setup: $ENC_SEG archived" "$(tail -5 "$DATA.log")"
OUT=$(cd "$DATA" && as_pg "$BR" --config="$CONF_ENC" --stanza=enc archive-push "pg_wal/$ENC_SEG" 2>&1)
expect_eq "archive-push into both (one encrypted)" "$?" "0"
expect_eq "$ENC_SEG is in the plain repo1" "$(find "$E1/archive/enc" -name "$ENC_SEG-*" | wc -l)" "1"
ENC2=$(find "$E2/archive/enc" -name "$ENC_SEG-*")
expect_eq "$ENC_SEG is in the encrypted repo2" "$(test -s "$ENC2" && echo yes)" "yes"
# What archive-get gives from each: the bytes in pg_wal, through each one's own codec and key.
expect_exit "archive-get --repo=2 (encrypted)" 0 "$BR" --config="$CONF_ENC" --stanza=enc --repo=2 archive-get "$ENC_SEG" "$IT_TMP/enc-got2"
expect_eq "repo2's copy decrypts to the segment" "$(cmp "$IT_TMP/enc-got2" "$DATA/pg_wal/$ENC_SEG" 2>&1 && echo same)" "same"
rm -f "$(find "$E1/archive/enc" -name "$ENC_SEG-*")"
expect_exit "archive-get with repo1's copy gone reads the encrypted repo2" 0 "$BR" --config="$CONF_ENC" --stanza=enc archive-get "$ENC_SEG" "$IT_TMP/enc-got"
expect_eq "the same bytes" "$(cmp "$IT_TMP/enc-got" "$DATA/pg_wal/$ENC_SEG" 2>&1 && echo same)" "same"
expect_exit "backup --repo=2 into the encrypted repository" 0 "$BR" --config="$CONF_ENC" --stanza=enc --repo=2 backup --type=full --start-fast
expect_exit "info of both (each opened with its own key)" 0 "$BR" --config="$CONF_ENC" --stanza=enc info --output=json
CIPHERS=$(python3 -c '
import json, sys
s = json.loads(sys.stdin.read())[0]
print(" ".join(str(r["key"]) + ":" + r["cipher"] for r in s["repo"]), len(s["backup"]))' <<<"$OUT" 2>&1)
expect_eq "info json: repo1 none, repo2 aes-256-gcm, one backup" "$CIPHERS" "1:none 2:aes-256-gcm 1"

# --- two pushes of one segment at once: each exits 0, each repository holds one copy ----------
TWICE=$(switch_wal)
wait_archived "$TWICE" || fail "setup: $TWICE archived" "$(tail -5 "$DATA.log")"
rm -f "$(find "$R1/archive/main" -name "$TWICE-*")" "$(find "$R2/archive/main" -name "$TWICE-*")"
(cd "$DATA" && as_pg "$BR" --config="$CONF" --stanza=main archive-push "pg_wal/$TWICE" >"$IT_TMP/twice1.out" 2>&1) &
P1=$!
(cd "$DATA" && as_pg "$BR" --config="$CONF" --stanza=main archive-push "pg_wal/$TWICE" >"$IT_TMP/twice2.out" 2>&1) &
P2=$!
wait $P1
RC1=$?
wait $P2
RC2=$?
expect_eq "two archive-push of $TWICE at once both succeed" "$RC1 $RC2" "0 0"
expect_eq "repo1 holds one copy of $TWICE" "$(stored "$R1" "$TWICE")" "1"
expect_eq "repo2 holds one copy of $TWICE" "$(stored "$R2" "$TWICE")" "1"
expect_exit "the copy in repo2 reads back as the segment" 0 "$BR" --config="$CONF" --stanza=main --repo=2 archive-get "$TWICE" "$IT_TMP/twice.got"
expect_eq "the same bytes as pg_wal" "$(cmp "$IT_TMP/twice.got" "$DATA/pg_wal/$TWICE" 2>&1 && echo same)" "same"

# --- the daemon (archive_library's path): every segment in both, acknowledged only then ---------
SOCK=$IT_TMP/sock/backrest.sock
if ! start_daemon "$IT_TMP/daemon.log" --config="$CONF" --stanza=main --socket-path="$IT_TMP/sock"; then
    fail "setup: the daemon listens on $SOCK" "$(cat "$IT_TMP/daemon.log")"
    exit 1
fi
DSEG=$(switch_wal)
wait_archived "$DSEG" || fail "setup: $DSEG archived" "$(tail -5 "$DATA.log")"
rm -f "$(find "$R1/archive/main" -name "$DSEG-*")" "$(find "$R2/archive/main" -name "$DSEG-*")"
OUT=$(daemon_call "{\"type\":\"archive-push\",\"id\":1,\"path\":\"$DATA/pg_wal/$DSEG\"}")
expect_contains "daemon archive-push of $DSEG" "$OUT" '"result":"stored"'
expect_eq "daemon: $DSEG is in repo1" "$(stored "$R1" "$DSEG")" "1"
expect_eq "daemon: $DSEG is in repo2" "$(stored "$R2" "$DSEG")" "1"
rm -f "$(find "$R1/archive/main" -name "$DSEG-*")"
chmod 000 "$R2/archive/main"
OUT=$(daemon_call "{\"type\":\"archive-push\",\"id\":2,\"path\":\"$DATA/pg_wal/$DSEG\"}")
expect_contains "daemon archive-push with repo2 unwritable is an error" "$OUT" '"error":{"code":'
expect_contains "the error names repo2" "$OUT" "$DSEG not stored in every repository: repo2 ($R2)"
expect_eq "daemon: repo1 took $DSEG all the same" "$(stored "$R1" "$DSEG")" "1"
chmod 750 "$R2/archive/main"
OUT=$(daemon_call "{\"type\":\"archive-push\",\"id\":3,\"path\":\"$DATA/pg_wal/$DSEG\"}")
expect_contains "daemon archive-push once repo2 is writable" "$OUT" '"ok":true'
OUT=$(daemon_call '{"type":"info","id":4}')
expect_contains "daemon info lists repo2's backup with its repo-key" "$OUT" "\"label\":\"$LABEL2\""
KEYS=$(python3 -c '
import json, sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("id") == 4:
        print(" ".join(sorted(set(str(b["database"]["repo-key"]) for b in m["backups"]))))' <<<"$OUT" 2>&1)
expect_eq "daemon info: backups of repo1 and repo2" "$KEYS" "1 2"
OUT=$(daemon_call '{"type":"stanza-create","id":5}')
expect_contains "daemon stanza-create answers for repo2 too" "$OUT" "; repo2: stanza 'main' already exists"
stop_daemon
