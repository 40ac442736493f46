#!/usr/bin/env bash
# Issue 20's pgBackRest commands attacked as a DBA's first month would: stanza names that name
# another directory (stop, start, log files), repo-get paths that leave the repository, a missing
# file, an encrypted repository, stop --force against a running backup (lock released, the next
# backup runs and nothing is left half-made), stanza-delete against a running backup, two at once
# and next to a stanza whose name starts with its own. Each ends in a typed error naming what is
# wrong, with the exit code of src/common/error.h, and nothing lost. Ports 57180-57199.
set -u
SUITE=attack20
TEST_BACKREST_BIN=${TEST_BACKREST_BIN:-$(dirname "$0")/../../build/backrest}
source "$(dirname "$0")/lib.sh"
it_setup

BG=
trap '[ -n "$BG" ] && kill -9 "$BG" 2>/dev/null; it_finish' EXIT

it_primary 57180
LOCK=$IT_TMP/lock
REPO=$IT_TMP/repo
# Two more stanzas of the same cluster: 'main2' starts with 'main', 'two' is deleted twice at once.
{
    printf '\n[main2]\n'
    pg1_lines
    printf '\n[two]\n'
    pg1_lines
} >>"$CONF"
must br backup --type=full --start-fast
must as_pg "$BR" --config="$CONF" --stanza=main2 stanza-create
must as_pg "$BR" --config="$CONF" --stanza=two stanza-create

# ---- a stanza name that names another directory ------------------------------------------------
# stop wrote <lock-path>/../x.stop and every command its log to <log-path>/../x-<command>.log.
as_pg mkdir -p "$IT_TMP/log"
for bad in '../x' 'a/b' '..' '.hidden'; do
    for command in stop start stanza-delete info; do
        expect_exit "$command --stanza=$bad refused" 21 "$BR" --config="$CONF" --stanza="$bad" \
            --log-path="$IT_TMP/log" --log-level-file=info $command
        expect_contains "... naming the stanza" "$OUT" "[021] OptionError: invalid stanza name '$bad'"
    done
done
OUT=$(as_pg env PGBACKREST_STANZA=../x "$BR" --config="$CONF" --log-path="$IT_TMP/log" stop 2>&1)
expect_contains "PGBACKREST_STANZA=../x refused too" "$OUT" "invalid stanza name '../x'"
expect_eq "no stop file and no log outside lock-path and log-path" \
    "$(ls "$IT_TMP" | grep -c '^x\.stop$\|^x-.*\.log$\|^\.\.-')" "0"
expect_eq "no stop file at all" "$(ls "$LOCK" | grep -c '\.stop$')" "0"

# ---- repo-get: paths that leave the repository, a missing file, a directory ----------------------
as_pg sh -c "echo outside-secret >'$IT_TMP/outside.txt'"
for path in "../outside.txt" "archive/../../outside.txt" "$REPO/../outside.txt" "$REPO/archive/../.."; do
    expect_exit "repo-get $path refused" 41 "$BR" --config="$CONF" repo-get "$path"
    expect_contains "... as leaving the repository" "$OUT" \
        "[041] CommandError: path '$path' leaves the repository ('..')"
    expect_eq "... and nothing of the file printed" "$(grep -c outside-secret <<<"$OUT")" "0"
    expect_exit "repo-ls $path refused" 41 "$BR" --config="$CONF" repo-ls "$path"
    expect_contains "... as leaving the repository" "$OUT" \
        "[041] CommandError: path '$path' leaves the repository ('..')"
    expect_eq "... and nothing outside listed" "$(grep -cx 'outside.txt' <<<"$OUT")" "0"
done
expect_exit "repo-get of an absolute path outside the repository" 41 "$BR" --config="$CONF" \
    repo-get "$IT_TMP/outside.txt"
expect_contains "... names the base path" "$OUT" "is not in base path '$REPO'"
expect_exit "repo-get of a missing file" 23 "$BR" --config="$CONF" repo-get archive/main/none.info
expect_contains "... names the file" "$OUT" "[023] FileMissingError"
expect_contains "... with its full path" "$OUT" "$REPO/archive/main/none.info"
expect_exit "repo-get --ignore-missing of a missing file: 1, as pgBackRest" 1 "$BR" --config="$CONF" \
    repo-get --ignore-missing archive/main/none.info
expect_exit "repo-get of a directory" 25 "$BR" --config="$CONF" repo-get archive/main
expect_exit "repo-get with the wrong --stanza for the path" 21 "$BR" --config="$CONF" --stanza=main2 \
    repo-get archive/main/archive.info
expect_exit "repo-ls --filter with a bad regex" 21 "$BR" --config="$CONF" repo-ls --filter='(a' archive
expect_contains "... names the option and the regex" "$OUT" "option 'filter': '(a' is not a valid regular expression"

# ---- repo-get on an encrypted repository: a WAL segment comes out decrypted, still zstd ----------
ECONF=$IT_TMP/enc.conf
{
    printf '[global]\nrepo1-path=%s\nlock-path=%s\nrepo1-cipher-type=aes-256-gcm\n' "$IT_TMP/erepo" "$LOCK"
    printf 'repo1-cipher-pass=attack20-passphrase\n\n[enc]\n'
    pg1_lines
} | it_conf "$ECONF" 0600
must as_pg "$BR" --config="$ECONF" --stanza=enc stanza-create
SEG=$(psql_at $PORT "SELECT pg_walfile_name(pg_current_wal_lsn())")
must psql_at $PORT "SELECT pg_switch_wal()"
as_pg mkdir -p "$IT_TMP/wal"
must as_pg cp "$DATA/pg_wal/$SEG" "$IT_TMP/wal/$SEG"
must as_pg "$BR" --config="$ECONF" --stanza=enc archive-push "$IT_TMP/wal/$SEG"
STORED=$(cd "$IT_TMP/erepo" && find archive/enc -name "$SEG-*" | head -1)
expect_eq "the segment is stored encrypted (not zstd on disk)" \
    "$(as_pg zstd -dc "$IT_TMP/erepo/$STORED" >/dev/null 2>&1 && echo zstd || echo sealed)" "sealed"
as_pg "$BR" --config="$ECONF" --stanza=enc repo-get "$STORED" >"$IT_TMP/seg.zst" 2>"$IT_TMP/seg.err"
expect_eq "repo-get decrypts it to the original segment (zstd)" \
    "$(zstd -dc "$IT_TMP/seg.zst" 2>/dev/null | cmp - "$IT_TMP/wal/$SEG" && echo same)" "same"
as_pg "$BR" --config="$ECONF" --stanza=enc repo-get --raw "$STORED" >"$IT_TMP/seg.raw"
expect_eq "repo-get --raw gives the stored bytes" \
    "$(cmp "$IT_TMP/seg.raw" "$IT_TMP/erepo/$STORED" && echo same)" "same"
expect_exit "repo-get with the wrong passphrase" 37 env BACKREST_REPO1_CIPHER_PASS=wrong \
    "$BR" --config="$ECONF" --stanza=enc repo-get "$STORED"

# ---- stop --force against a running backup ------------------------------------------------------
# The backup waits for its last WAL (archive_command fails), holding the lock, its files copied.
must psql_at $PORT "ALTER SYSTEM SET archive_command = 'false'"
must psql_at $PORT "SELECT pg_reload_conf()"
clear_stanza_lock "$LOCK/main-backup.lock"
"${PG_EXEC[@]}" "$BR" --config="$CONF" --stanza=main backup --type=full --start-fast --archive-timeout=300 \
    >"$IT_TMP/bg.log" 2>&1 &
BG=$!
if wait_stanza_lock_held "$LOCK/main-backup.lock"; then
    # stanza-delete while it runs: refused on the lock, nothing removed (stop without --force
    # lets it run, as pgBackRest's).
    expect_exit "stop (no --force) while a backup runs" 0 "$BR" --config="$CONF" --stanza=main stop
    expect_exit "start --stanza while the host is stopped too" 0 "$BR" --config="$CONF" stop
    expect_exit "... start --stanza" 0 "$BR" --config="$CONF" --stanza=main start
    expect_contains "... says all stanzas remain stopped" "$OUT" \
        "all stanzas remain stopped by $LOCK/all.stop: run 'backrest start' without --stanza"
    must as_pg "$BR" --config="$CONF" start
    must as_pg "$BR" --config="$CONF" --stanza=main stop
    sleep 0.5
    expect_eq "... the backup still runs" "$(kill -0 "$BG" 2>/dev/null && echo running)" "running"
    expect_exit "stanza-delete --force while the backup holds its lock" 29 "$BR" --config="$CONF" \
        --stanza=main --force stanza-delete
    expect_contains "... says which lock" "$OUT" "LockAcquireError"
    expect_eq "... nothing removed" "$(ls "$REPO/backup/main" "$REPO/archive/main" | grep -c '\.info$')" "2"
    # The stop file exists already: pgBackRest 2.45 then only warns and the backup runs on.
    expect_exit "stop --force after stop" 0 "$BR" --config="$CONF" --stanza=main --force --log-level-console=info stop
    expect_contains "... says the stop file exists" "$OUT" "stop file already exists for stanza main"
    expect_contains "... and still ends the backup's process" "$OUT" "sent term signal to process $BG"
    for _ in $(seq 1 50); do kill -0 "$BG" 2>/dev/null || break; sleep 0.1; done
    expect_eq "the backup ended" "$(kill -0 "$BG" 2>/dev/null && echo running || echo ended)" "ended"
    expect_eq "its lock is free" "$(flock -n "$LOCK/main-backup.lock" true && echo free)" "free"
else
    fail "the background backup never took its lock" "$(cat "$IT_TMP/bg.log")"
fi
kill -9 "$BG" 2>/dev/null
BG=
must psql_at $PORT "ALTER SYSTEM RESET archive_command"
must psql_at $PORT "SELECT pg_reload_conf()"
expect_exit "start" 0 "$BR" --config="$CONF" --stanza=main start
expect_exit "the next backup runs" 0 "$BR" --config="$CONF" --stanza=main backup --type=full --start-fast
LABELS=$(as_pg "$BR" --config="$CONF" --stanza=main --output=json info |
    python3 -c 'import json,sys; print("\n".join(b["label"] for b in json.load(sys.stdin)[0]["backup"]))')
expect_eq "two backups listed" "$(grep -c . <<<"$LABELS")" "2"
DIRS=$(ls "$REPO/backup/main" | grep -v '^backup\.info' | grep -v '^backup\.history$' | grep -v '^latest$')
expect_eq "no partial backup left beside them" "$DIRS" "$LABELS"
expect_exit "the backups verify" 0 "$BR" --config="$CONF" --stanza=main verify

# ---- two stanza-deletes at once -----------------------------------------------------------------
# Five rounds: CI met the second one reading the stanza's files before the first deleted them and
# its stop file after (exit 38, "stop file does not exist"). Each must end done (0: nothing left to
# delete) or on the first's lock (29).
for round in 1 2 3 4 5; do
    [ $round -gt 1 ] && must as_pg "$BR" --config="$CONF" --stanza=two stanza-create
    must as_pg "$BR" --config="$CONF" --stanza=two stop
    as_pg "$BR" --config="$CONF" --stanza=two --force stanza-delete >"$IT_TMP/d1.log" 2>&1 &
    P1=$!
    as_pg "$BR" --config="$CONF" --stanza=two --force stanza-delete >"$IT_TMP/d2.log" 2>&1 &
    P2=$!
    wait $P1
    R1=$?
    wait $P2
    R2=$?
    BAD=$(for r in $R1 $R2; do [ $r -eq 0 ] || [ $r -eq 29 ] || echo "exit $r"; done)
    [ -n "$BAD" ] && break
done
expect_eq "two stanza-deletes at once (5 rounds): each ends done (0) or on the lock (29)" \
    "$BAD${BAD:+: $(cat "$IT_TMP/d1.log" "$IT_TMP/d2.log")}" ""
expect_eq "... at least one did it" "$( ([ $R1 -eq 0 ] || [ $R2 -eq 0 ]) && echo yes)" "yes"
expect_eq "... 'two' is gone" "$(ls "$REPO/archive" "$REPO/backup" | grep -c '^two$')" "0"
expect_eq "... main's info files are all there" \
    "$(ls "$REPO/archive/main" "$REPO/backup/main" | grep -c '\.info\(\.copy\)\?$')" "4"

# ---- stop for one stanza does not stop another; deleting 'main' leaves 'main2' -------------------
must br stop
expect_exit "main2 is not stopped by main's stop" 0 "$BR" --config="$CONF" --stanza=main2 expire
MAIN2=$(cd "$REPO" && find archive/main2 backup/main2 -type f | sort)
expect_exit "stanza-delete main (--force: PostgreSQL runs)" 0 "$BR" --config="$CONF" --stanza=main --force stanza-delete
expect_eq "main is gone" "$(ls "$REPO/archive" "$REPO/backup" | grep -c '^main$')" "0"
expect_eq "main2 is untouched" "$(cd "$REPO" && find archive/main2 backup/main2 -type f | sort)" "$MAIN2"
expect_exit "main2's info still reads" 0 "$BR" --config="$CONF" --stanza=main2 info
expect_eq "main's stop file went with it" "$(ls "$LOCK" | grep -c '^main\.stop$')" "0"

# ---- links the repository's owner plants in lock-path and log-path, then root runs a command -----
# root followed them: stop created the named file and gave it to postgres, the log appended to it.
if [ "$(id -u)" -eq 0 ]; then
    as_pg ln -s "$IT_TMP/planted-by-stop" "$LOCK/main2.stop"
    OUT=$("$BR" --config="$CONF" --stanza=main2 --log-level-console=warn stop 2>&1)
    expect_contains "root's stop: a link in lock-path counts as the stop file" "$OUT" \
        "stop file already exists for stanza main2"
    expect_eq "... and the file it names is not created" "$(test -e "$IT_TMP/planted-by-stop" && echo created)" ""
    must as_pg "$BR" --config="$CONF" --stanza=main2 start
    as_pg ln -s "$IT_TMP/planted-by-log" "$IT_TMP/log/main2-info.log"
    OUT=$("$BR" --config="$CONF" --stanza=main2 --log-path="$IT_TMP/log" --log-level-file=info info 2>&1)
    expect_contains "root's log file is not opened through a link" "$OUT" \
        "unable to open log file '$IT_TMP/log/main2-info.log' (log-path): Too many levels of symbolic links"
    expect_eq "... and the file it names is not created" "$(test -e "$IT_TMP/planted-by-log" && echo created)" ""
else
    echo "# skipped the planted links: needs root"
fi
