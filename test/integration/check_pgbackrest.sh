#!/usr/bin/env bash
# check_pgbackrest (the Nagios plugin of Debian's check-pgbackrest, 2.3) run unchanged against
# backrest with --command: its retention and archives services OK on a healthy repository,
# CRITICAL for a backup whose directory is gone or too few fulls, WARNING for a WAL gap before the
# latest backup and CRITICAL for one after its start (as against pgBackRest: the verdict is
# check_pgbackrest's own, from info's archive start/stop), and OK after a timeline switch (it reads
# <tl>.history through repo-ls and repo-get). Also what it relies on, checked directly: version
# with version-format=pgbackrest, repo-ls's JSON (--recurse, --repo), repo-get's bytes (stored,
# decrypted when sealed, never decompressed), and archive-get's "not in the archive" logged as a
# completion, not an abort.
set -u
SUITE=check_pgbackrest
TEST_BACKREST_BIN=${TEST_BACKREST_BIN:-$(dirname "$0")/../../build/backrest}
source "$(dirname "$0")/lib.sh"
it_setup

CHECK=$(command -v check_pgbackrest || echo /usr/bin/check_pgbackrest)
if [ ! -x "$CHECK" ]; then
    fail "setup: check_pgbackrest is not installed (scripts/install-deps.sh: check-pgbackrest)"
    exit 1
fi
nagios() {  # name expected-exit service [args...]
    local name=$1 want=$2 service=$3
    shift 3
    expect_exit "$name" "$want" "$CHECK" --command="$BR" --config="$CONF" --stanza=main \
        --service="$service" --output=human "$@"
}
json_keys() { python3 -c 'import json,sys; d=json.load(sys.stdin); print(" ".join(sorted(d)))'; }

# check_pgbackrest runs `<command> version --config=<its --config>` before each repo-ls and
# repo-get, strips "pgBackRest " and compares the rest with 2.33: the config file says how
# backrest names itself there.
it_primary 57140 "version-format=pgbackrest"
REPO=$IT_TMP/repo
ARCHIVE_ID=$REPO/archive/main/15-1
work() {
    must psql_at $PORT "CREATE TABLE IF NOT EXISTS t (i int); INSERT INTO t SELECT generate_series(1, 1000)"
    must psql_at $PORT "SELECT pg_switch_wal()"
}
must br backup --type=full --start-fast
work
work
must br backup --type=incr --start-fast
work
must br check
FULL=$(ls "$REPO/backup/main" | grep 'F$' | head -1)

# ---- version -----------------------------------------------------------------------------------
expect_exit "version --config with version-format=pgbackrest" 0 "$BR" version --config="$CONF"
expect_eq "prints the pgBackRest release backrest implements" "$OUT" "pgBackRest 2.45"
expect_exit "version --output=num" 0 "$BR" version --config="$CONF" --output=num
expect_eq "as pgBackRest's number" "$OUT" "2045000"
expect_exit "version without it" 0 "$BR" version --config=/dev/null
expect_contains "backrest's own line, unchanged" "$OUT" "backrest 0."
expect_exit "BACKREST_VERSION_FORMAT" 0 env BACKREST_VERSION_FORMAT=pgbackrest "$BR" version --config=/dev/null
expect_eq "the environment sets it too" "$OUT" "pgBackRest 2.45"
expect_exit "an unknown version-format" 21 "$BR" version --config=/dev/null --version-format=pgBackRest
expect_contains "is refused by name" "$OUT" "version-format"

# ---- repo-ls -----------------------------------------------------------------------------------
expect_exit "repo-ls backup/main --output=json --repo=1" 0 "$BR" --config="$CONF" --stanza=main \
    repo-ls backup/main --output=json --log-level-console=error --repo=1
expect_contains "the full backup is a path" "$OUT" "\"$FULL\":{\"type\":\"path\"}"
expect_contains "the path itself is '.'" "$OUT" '{".":{"type":"path"}'
expect_contains "backup.info is a file with size and time" "$OUT" '"backup.info":{"type":"file","size":'
expect_exit "repo-ls --recurse of the archive id" 0 "$BR" --config="$CONF" --stanza=main \
    repo-ls archive/main/15-1 --output=json --recurse
SEG_KEY=$(python3 -c 'import json,sys; d=json.loads(sys.argv[1]); print(sorted(k for k in d if k.endswith(".zst"))[0])' "$OUT")
SEG_FILE=$ARCHIVE_ID/$SEG_KEY
expect_eq "segments are listed by their path below the archive id" "$([ -f "$SEG_FILE" ] && echo yes)" "yes"
expect_eq "with their stored size and mtime" \
    "$(python3 -c 'import json,sys; e=json.loads(sys.argv[1])[sys.argv[2]]; print(e["type"], e["size"], e["time"])' "$OUT" "$SEG_KEY")" \
    "file $(stat -c '%s %Y' "$SEG_FILE")"
expect_exit "repo-ls text, descending" 0 "$BR" --config="$CONF" repo-ls "$REPO/archive/main" --sort=desc
expect_eq "names one a line, z to a" "$(tr '\n' ' ' <<<"$OUT")" "archive.info.copy archive.info 15-1 "
expect_exit "repo-ls --filter" 0 "$BR" --config="$CONF" repo-ls backup/main --filter='^backup\.info$'
expect_eq "only the match" "$OUT" "backup.info"
expect_exit "repo-ls of a path outside the repository" 41 "$BR" --config="$CONF" repo-ls /etc

# ---- repo-get ----------------------------------------------------------------------------------
as_pg "$BR" --config="$CONF" --stanza=main repo-get archive/main/archive.info >"$IT_TMP/got" 2>&1
expect_eq "repo-get archive.info: the stored bytes" "$(cmp "$IT_TMP/got" "$REPO/archive/main/archive.info" && echo same)" "same"
as_pg "$BR" --config="$CONF" --stanza=main repo-get "archive/main/15-1/$SEG_KEY" >"$IT_TMP/got" 2>&1
expect_eq "repo-get of a .zst segment is not decompressed" "$(cmp "$IT_TMP/got" "$SEG_FILE" && echo same)" "same"
expect_exit "repo-get of a missing file" 23 "$BR" --config="$CONF" repo-get archive/main/nothing
expect_exit "repo-get --ignore-missing of a missing file" 1 "$BR" --config="$CONF" repo-get archive/main/nothing --ignore-missing
expect_exit "repo-get with another stanza than the path's" 21 "$BR" --config="$CONF" --stanza=other repo-get archive/main/archive.info

# An encrypted repository: repo-get opens the sealed segment (decrypted, still zstd).
CONF2=$IT_TMP/encrypted.conf
printf '[global]\nrepo1-path=%s\nlock-path=%s\nrepo1-cipher-type=aes-256-gcm\nrepo1-cipher-pass=secret-pass\n\n[main]\npg1-path=%s\npg1-socket-path=%s\npg1-port=%s\n' \
    "$IT_TMP/repo2" "$IT_TMP/lock2" "$DATA" "$IT_TMP" "$PORT" >"$CONF2"
chmod 0600 "$CONF2"; chown postgres "$CONF2" 2>/dev/null
must as_pg "$BR" --config="$CONF2" --stanza=main stanza-create
must psql_at $PORT "INSERT INTO t SELECT generate_series(1, 1000)"
PUSHED=$(psql_at $PORT "SELECT pg_walfile_name(pg_current_wal_lsn())")
must psql_at $PORT "SELECT pg_switch_wal()"
must as_pg "$BR" --config="$CONF2" --stanza=main archive-push "$DATA/pg_wal/$PUSHED"
SEALED=$(cd "$IT_TMP/repo2" && find archive -name "$PUSHED-*")
as_pg "$BR" --config="$CONF2" --stanza=main repo-get "$SEALED" >"$IT_TMP/got" 2>"$IT_TMP/got.err"
expect_eq "repo-get decrypts: the segment's zstd stream" "$(zstd -dc "$IT_TMP/got" | cmp - "$DATA/pg_wal/$PUSHED" && echo same)" "same"
as_pg "$BR" --config="$CONF2" --stanza=main repo-get --raw "$SEALED" >"$IT_TMP/got" 2>&1
expect_eq "repo-get --raw: the sealed bytes" "$(cmp "$IT_TMP/got" "$IT_TMP/repo2/$SEALED" && echo same)" "same"

# ---- check_pgbackrest on a healthy repository --------------------------------------------------
nagios "retention: healthy" 0 retention --retention-full=1
expect_contains "retention OK" "$OUT" "BACKUPS_RETENTION"
expect_contains "retention counts the backups" "$OUT" "full=1"
nagios "retention: too few fulls is CRITICAL" 2 retention --retention-full=2
expect_contains "says why" "$OUT" "not enough full backups: 2 required"
nagios "archives: healthy" 0 archives
expect_contains "archives OK" "$OUT" "unique WAL archived"

# ---- a WAL gap ---------------------------------------------------------------------------------
# A segment between the full's stop and the latest backup's start: WARNING; one after the latest
# backup's start: CRITICAL. The verdicts check_pgbackrest 2.3 gives against pgBackRest 2.45 in the
# same two cases (a full, WAL, an incr, one .gz segment moved out of its archive id: exit 1
# "wrong sequence, 1 missing file(s)", then exit 2), run by hand beside this suite. Never a backup's start segment: check_pgbackrest takes its .backup
# history file (same first 24 characters) for the segment, as it does on pgBackRest's.
segs() { find "$ARCHIVE_ID" -name '0000000*.zst' -printf '%f\n' | cut -c1-24 | sort -u; }
INFO_JSON=$(as_pg "$BR" --config="$CONF" --stanza=main info --output=json)
backup_wal() { python3 -c 'import json,sys; print(json.loads(sys.argv[1])[0]["backup"][int(sys.argv[2])]["archive"][sys.argv[3]])' "$INFO_JSON" "$@"; }
FULL_STOP=$(backup_wal 0 stop)
INCR_START=$(backup_wal -1 start)
GAP=$(segs | awk -v a="$FULL_STOP" -v b="$INCR_START" '($0 "") > a && ($0 "") < b' | head -1)
as_pg mv "$ARCHIVE_ID/${GAP:0:16}/$GAP"-* "$IT_TMP/"
nagios "archives: a segment missing before the latest backup is WARNING" 1 archives
expect_contains "names the gap" "$OUT" "wrong sequence, 1 missing file(s) ($GAP / $GAP)"
as_pg mv "$IT_TMP/$GAP"-* "$ARCHIVE_ID/${GAP:0:16}/"
CRIT=$(segs | awk -v b="$INCR_START" '($0 "") > b' | head -1)
as_pg mv "$ARCHIVE_ID/${CRIT:0:16}/$CRIT"-* "$IT_TMP/"
nagios "archives: a segment after the latest backup's start missing is CRITICAL" 2 archives
expect_contains "names it" "$OUT" "wrong sequence, 1 missing file(s) ($CRIT / $CRIT)"
as_pg mv "$IT_TMP/$CRIT"-* "$ARCHIVE_ID/${CRIT:0:16}/"
nagios "archives: healthy again" 0 archives

# ---- a missing backup --------------------------------------------------------------------------
as_pg mv "$REPO/backup/main/$FULL" "$IT_TMP/moved-full"
nagios "retention: a backup's directory missing is CRITICAL" 2 retention
expect_contains "names it" "$OUT" "$FULL directory missing in repo1"
as_pg mv "$IT_TMP/moved-full" "$REPO/backup/main/$FULL"
nagios "retention: healthy again" 0 retention

# ---- archive-get's "not in the archive" in its log file ----------------------------------------
# Exit 1 is PostgreSQL's answer for the end of the archived WAL, not a failure: its log file says
# it completed (as pgBackRest's does), so a log watcher alarming on "aborted" stays quiet.
expect_exit "archive-get of a segment not archived" 1 "$BR" --config="$CONF" --stanza=main \
    --log-path="$IT_TMP/log" archive-get 0000000100000000000000FE "$IT_TMP/never"
LOG=$(cat "$IT_TMP/log/main-archive-get.log" 2>&1)
expect_contains "the log says what happened" "$LOG" "0000000100000000000000FE is not in the archive"
expect_contains "and that it completed, with its status" "$LOG" \
    "archive-get command end: completed successfully with exit status 1"
expect_eq "never 'aborted'" "$(grep -c aborted <<<"$LOG")" "0"

# ---- a timeline switch -------------------------------------------------------------------------
# A failover: the primary stops, the latest backup is restored to a copy that promotes at the end
# of the archive and archives timeline 2 into the same stanza (its archive_command is the
# primary's; archive-push reads %p relative to the copy's own data directory). check_pgbackrest
# then follows the switch through 00000002.history: it looks for /<tl>.history$/ among repo-ls's
# names and reads it with repo-get; backrest stores it as 00000002.history-<sha256>.
pg_stop "$DATA"
COPY=$IT_TMP/copy
expect_exit "restore to a copy that promotes" 0 "$BR" --config="$CONF" --stanza=main \
    --pg1-path="$COPY" restore --target-action=promote
sed -i "s/^port = .*/port = 57141/" "$COPY/postgresql.conf"
pg_start "$COPY"
wait_promoted 57141 || fail "the copy did not promote" "$(tail -20 "$COPY.log")"
must psql_at 57141 "INSERT INTO t SELECT generate_series(1, 1000)"
must br --pg1-path="$COPY" --pg1-port=57141 check
HISTORY=$(cd "$ARCHIVE_ID" && ls | grep '^00000002\.history-')
expect_eq "timeline 2's history file is archived" "${HISTORY:0:17}" "00000002.history-"
expect_exit "repo-ls of the archive id" 0 "$BR" --config="$CONF" --stanza=main \
    repo-ls archive/main/15-1 --output=json --recurse
expect_contains "names it as PostgreSQL and pgBackRest do, with where it is stored" "$OUT" \
    "\"00000002.history\":{\"type\":\"file\",\"size\":$(stat -c %s "$ARCHIVE_ID/$HISTORY"),\"time\":$(stat -c %Y "$ARCHIVE_ID/$HISTORY"),\"stored\":\"$HISTORY\"}"
as_pg "$BR" --config="$CONF" --stanza=main repo-get archive/main/15-1/00000002.history >"$IT_TMP/got" 2>&1
expect_eq "repo-get reads it by that name" "$(cmp "$IT_TMP/got" "$COPY/pg_wal/00000002.history" && echo same)" "same"
nagios "archives: after a timeline switch" 0 archives
expect_contains "archives OK across the switch" "$OUT" "unique WAL archived"
nagios "retention: after a timeline switch" 0 retention --retention-full=1
# Without the history file check_pgbackrest cannot place the switch: what it said before
# repo-ls named history files as it expects.
as_pg mv "$ARCHIVE_ID/$HISTORY" "$IT_TMP/"
nagios "archives: the switch point unknown is CRITICAL" 2 archives
expect_contains "says so" "$OUT" "00000001 boundary WAL not determined"
as_pg mv "$IT_TMP/$HISTORY" "$ARCHIVE_ID/"
nagios "archives: OK again" 0 archives
