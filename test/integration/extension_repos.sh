#!/usr/bin/env bash
# The extension with two repositories: backrest_backup(repo => 2) backs up into repo2 alone
# (backrest_status() and backrest_info() name it, the CLI's info finds it in repo2 only, restore
# --repo=2 starts and has the rows), an unconfigured repo3 is refused naming it; backrest_info()
# with repo2 unreadable lists repo1's backups and a row naming repo2 with its error;
# backrest_expire(set => label) expires the backup in the repository holding it, a label in none
# is an error naming both.
set -u
SUITE=extension_repos
TEST_BACKREST_BIN=${TEST_BACKREST_BIN:-$(dirname "$0")/../../build/backrest}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
source "$(dirname "$0")/lib.sh"
it_setup

PORT=57363
DATA=$IT_TMP/primary
CONF=$IT_TMP/backrest.conf
SOCKDIR=$IT_TMP/sock
R1=$IT_TMP/repo
R2=$IT_TMP/repo2

cleanup() {
    ext_stop_all "$SOCKDIR"
    [ -d "$R2/backup/main" ] && chmod 0750 "$R2/backup/main"
    it_finish
}
trap cleanup EXIT

ext_install extension

cat >"$CONF" <<CONF
[global]
repo1-path=$R1
repo2-path=$R2
lock-path=$IT_TMP/lock
spool-path=$IT_TMP/spool
process-max=2
log-level-console=warn

[main]
pg1-path=$DATA
pg1-socket-path=$IT_TMP
pg1-port=$PORT
CONF
chmod 0644 "$CONF"
as_pg mkdir -p "$R1" "$R2"

pg_init "$DATA" $PORT
ext_conf "$DATA" main "$CONF" "$SOCKDIR" \
    'log_min_messages = log'
pg_start "$DATA"
must psql_at $PORT "CREATE EXTENSION backrest"
for i in $(seq 1 100); do psql_at $PORT "SELECT backrest_stanza_create()" >/dev/null 2>&1 && break; sleep 0.2; done
expect_eq "the stanza is in both repositories" \
    "$(test -s "$R1/archive/main/archive.info" && test -s "$R2/archive/main/archive.info" && echo yes)" "yes"
must psql_at $PORT "CREATE TABLE marker (id int primary key, note text)"
must psql_at $PORT "INSERT INTO marker SELECT g, md5(g::text) FROM generate_series(1, 1000) g"

backups_in() { ls "$1/backup/main" 2>/dev/null | grep -E '^[0-9]{8}-[0-9]{6}F$' | tr '\n' ' '; }

# --- backrest_backup(repo => 2) ----------------------------------------------------------------
L2=$(psql_at $PORT "SELECT backrest_backup('full', true, 2)")
[ -n "$L2" ] && pass "backrest_backup('full', true, 2) returned a label ($L2)" || fail "backup into repo2" "$(tail -20 "$DATA.log")"
expect_eq "the backup is in repo2" "$(test -s "$R2/backup/main/$L2/backup.manifest" && echo yes)" "yes"
expect_eq "and not in repo1" "$(test -e "$R1/backup/main/$L2" && echo present)" ""
expect_eq "backrest_status() names repo2" "$(psql_at $PORT "SELECT state || ' ' || repo FROM backrest_status() WHERE label = '$L2'")" "done repo2"
expect_eq "backrest_info() names repo2" "$(psql_at $PORT "SELECT repo FROM backrest_info() WHERE label = '$L2'")" "repo2"
expect_contains "the server log names repo2" "$(cat "$DATA.log")" "backrest: backup $L2 committed in repo2"
OUT=$(as_pg "$BR" --config="$CONF" --stanza=main --repo=2 info 2>&1)
expect_contains "info --repo=2 lists it" "$OUT" "$L2"
OUT=$(as_pg "$BR" --config="$CONF" --stanza=main --repo=1 info 2>&1)
expect_eq "info --repo=1 does not" "$(printf '%s' "$OUT" | grep -c "$L2")" "0"

# Labels are per repository and per second: a backup into repo1 in the same second as repo2's
# would have the same label (as `backup --repo=all` gives on purpose), and the checks below
# tell the two backups apart by label.
sleep 1.1
L1=$(psql_at $PORT "SELECT backrest_backup('full', true)")
expect_eq "backrest_backup() without repo: repo1" "$(psql_at $PORT "SELECT repo FROM backrest_status() WHERE label = '$L1'")" "repo1"
expect_eq "repo1 holds it" "$(backups_in "$R1")" "$L1 "
expect_eq "repo2 still holds its own only" "$(backups_in "$R2")" "$L2 "

OUT=$(psql_at $PORT "SELECT backrest_backup('full', true, 3)" 2>&1)
expect_contains "repo => 3 (not configured) is refused naming it" "$OUT" \
    "repo3 is not configured (no repo3-* option is set in the daemon's configuration); the configured repositories are repo1, repo2"
OUT=$(psql_at $PORT "SELECT backrest_backup('full', true, 5)" 2>&1)
expect_contains "repo => 5 is refused" "$OUT" "invalid repository 5"
expect_eq "no backup came of either" "$(backups_in "$R1")|$(backups_in "$R2")" "$L1 |$L2 "

# Rows after the backups, archived (archive_library stores each segment in both).
must psql_at $PORT "INSERT INTO marker VALUES (1001, 'after the backups')"
SEG=$(psql_at $PORT "SELECT pg_walfile_name(pg_current_wal_insert_lsn())")
must psql_at $PORT "SELECT pg_switch_wal()"
for i in $(seq 1 240); do
    [ -n "$(find "$R2/archive/main" -name "$SEG-*" 2>/dev/null)" ] && break
    sleep 0.25
done
expect_eq "the last segment ($SEG) reached repo2" "$(find "$R2/archive/main" -name "$SEG-*" | wc -l)" "1"
EXPECTED=$(psql_at $PORT "SELECT count(*) || ':' || md5(string_agg(id || note, ',' ORDER BY id)) FROM marker")

# restore --repo=2: repo2's backup and WAL.
RESTORED=$IT_TMP/restored
expect_exit "restore --repo=2" 0 "$BR" --config="$CONF" --stanza=main --repo=2 --pg1-path="$RESTORED" restore --target-action=promote
expect_contains "restore took repo2's backup" "$OUT" "$L2"
sed -i "s/^port = .*/port = 57364/; s/^archive_mode = .*/archive_mode = off/; /^shared_preload_libraries/d; /^archive_library/d; /^backrest\./d" "$RESTORED/postgresql.conf"
rm -f "$RESTORED/postgresql.auto.conf.tmp"
pg_start "$RESTORED"
if wait_promoted 57364; then pass "restored from repo2: recovery ended"; else fail "restored from repo2: promoted" "$(tail -20 "$RESTORED.log")"; fi
expect_eq "restored from repo2: the rows, the last one too" \
    "$(psql_at 57364 "SELECT count(*) || ':' || md5(string_agg(id || note, ',' ORDER BY id)) FROM marker")" "$EXPECTED"
pg_stop "$RESTORED"

# --- backrest_info() with repo2 unreadable -----------------------------------------------------
chmod 000 "$R2/backup/main"
OUT=$(psql_at $PORT "SELECT coalesce(label, '-') || '|' || repo || '|' || coalesce(error, '-') FROM backrest_info() ORDER BY repo" 2>&1)
expect_contains "backrest_info(): repo1's backup is listed" "$OUT" "$L1|repo1|-"
expect_contains "backrest_info(): a row names repo2 and its error" "$OUT" "-|repo2|repo2 ($R2): "
expect_eq "backrest_info(): repo2's backup is not listed" "$(printf '%s' "$OUT" | grep -c "$L2")" "0"
chmod 000 "$R1/backup/main"
OUT=$(psql_at $PORT "SELECT * FROM backrest_info()" 2>&1)
expect_contains "backrest_info() with every repository unreadable is an error" "$OUT" "ERROR:"
chmod 0750 "$R1/backup/main" "$R2/backup/main"
expect_eq "backrest_info() readable again: both backups, no error" \
    "$(psql_at $PORT "SELECT string_agg(label || ':' || repo, ' ' ORDER BY label) || ' ' || count(error) FROM backrest_info()")" \
    "$(printf '%s\n%s\n' "$L2:repo2" "$L1:repo1" | sort | tr '\n' ' ')0"

# --- backrest_expire(set => label) in the repository holding it ---------------------------------
L2B=$(psql_at $PORT "SELECT backrest_backup('full', true, 2)")
expect_eq "a second backup into repo2" "$(backups_in "$R2")" "$L2 $L2B "
OUT=$(psql_at $PORT "SELECT backrest_expire(set => '$L2')" 2>&1)
expect_contains "backrest_expire(set => repo2's label) answers for repo2" "$OUT" "repo2: "
expect_eq "repo2 lost that backup" "$(backups_in "$R2")" "$L2B "
expect_eq "repo1 kept its own" "$(backups_in "$R1")" "$L1 "
OUT=$(psql_at $PORT "SELECT backrest_expire(set => '20200101-000000F')" 2>&1)
expect_contains "a label in no repository is an error naming both" "$OUT" \
    "backup set 20200101-000000F is in no repository (repo1, repo2)"

# --- an encrypted repository whose stanza the CLI creates after the daemon started -------------
# The daemon opened repo3 with no stanza, so with no key. Its first push there fails; it then
# restarts (the launcher starts it again at once) and opens the key, and the archiver's retry
# stores the segment in every repository (a found defect: it failed until a manual restart).
R3=$IT_TMP/repo3
as_pg mkdir -p "$R3"
cat >>"$CONF" <<CONF
repo3-path=$R3
repo3-cipher-type=aes-256-gcm
repo3-cipher-pass=extension-repos-secret
CONF
python3 - "$CONF" <<'PY'
import sys
p = sys.argv[1]
lines = open(p).read().splitlines()
g = [l for l in lines if l.startswith("repo3-")]
rest = [l for l in lines if not l.startswith("repo3-")]
i = rest.index("[main]")
open(p, "w").write("\n".join(rest[:i - 1] + g + [""] + rest[i:]) + "\n")
PY
chown postgres "$CONF"
chmod 0600 "$CONF"  # it holds a passphrase now
must as_pg "$PGBIN/pg_ctl" -D "$DATA" -l "$DATA.log" -w -t 120 -m fast restart
from=$(wc -l <"$DATA.log")
must as_pg "$BR" --config="$CONF" --stanza=main stanza-create
SEG=$(psql_at $PORT "SELECT pg_walfile_name(pg_current_wal_insert_lsn())")
psql_at $PORT "INSERT INTO marker VALUES (5001, 'repo3'); SELECT pg_switch_wal()" >/dev/null
for _ in $(seq 1 120); do
    [ -n "$(ls "$R3/archive/main/15-1/0000000100000000/$SEG"* 2>/dev/null)" ] && break
    sleep 0.5
done
expect_eq "encrypted repo3 created after the daemon started: the segment reaches it" \
    "$(ls "$R3/archive/main/15-1/0000000100000000/" 2>/dev/null | grep -c "^$SEG")" 1
expect_contains "the daemon said why it restarted" "$(tail -n +"$from" "$DATA.log")" \
    "has an encrypted stanza created after this daemon started: restarting to open its key"
expect_eq "... and the segment is in repo1 too" \
    "$(ls "$R1/archive/main/15-1/0000000100000000/" | grep -c "^$SEG")" 1
