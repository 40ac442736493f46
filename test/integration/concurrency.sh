#!/usr/bin/env bash
# Readers and writers of one repository at the same time, and who may write it: verify and
# restore keep the backups (and WAL) they read from an expire running beside them, a restore of a
# backup being expired or gone gets a BackupSet error and leaves its target untouched, commands
# that write the repository refuse to run as a user other than its owner (and write nothing),
# and check refuses a pg1-path that is not the server's data directory.
set -u
SUITE=concurrency
TEST_BACKREST_BIN=${TEST_BACKREST_BIN:-$(dirname "$0")/../../build/backrest}
source "$(dirname "$0")/lib.sh"
it_setup

it_primary 55720
REPO=$IT_TMP/repo
LOCK=$IT_TMP/lock
labels() { br info --output=json | grep -o '"label":"[0-9FDI_-]*"' | cut -d'"' -f4 | tr '\n' ' '; }
# Every path, size, mode, owner and content checksum of the repository.
repo_state() {
    (cd "$REPO" && find . -printf '%p %s %m %u\n' | sort && find . -type f -print0 | sort -z | xargs -0 md5sum) |
        md5sum
}
wal_count() { find "$REPO/archive/main" -type f -name '0*' | wc -l; }
# Waits (up to 20 s) until someone holds `file`'s lock (an exclusive attempt fails).
wait_held() {  # file
    local i
    for i in $(seq 1 200); do
        [ -e "$1" ] && ! flock -n -x "$1" true 2>/dev/null && return 0
        sleep 0.01
    done
    return 1
}
# Holds a lock on `file` from the test (as postgres, as a backrest process would): sets HOLDER.
hold() {  # -s|-x file
    "${PG_EXEC[@]}" flock "$1" "$2" sleep 600 &
    HOLDER=$!
    HELD=$2
    wait_held "$2" || fail "setup: the test holds $2"
}
# Waits (up to 20 s) until process `pid` has a file of a backup of the repository open.
wait_reading() {  # pid
    local i
    for i in $(seq 1 2000); do
        ls -l "/proc/$1/fd" 2>/dev/null | grep -q "$REPO/backup/main/.*/" && return 0
        sleep 0.01
    done
    return 1
}
# flock's child (sleep) shares its open lock file: both go.
release() {
    kill $(cat "/proc/$HOLDER/task/$HOLDER/children" 2>/dev/null) "$HOLDER" 2>/dev/null
    wait "$HOLDER" 2>/dev/null
    local i
    for i in $(seq 1 500); do
        flock -n -x "$HELD" true 2>/dev/null && return 0
        sleep 0.01
    done
    fail "setup: the test released $HELD"
}
pgbench() { as_pg "$PGBIN/pgbench" -h "$IT_TMP" -p "$PORT" -U postgres "$@"; }

# Four full backups with WAL between them, large enough that verify takes a while.
must pgbench -i -s 5 -q postgres
for i in 1 2 3 4; do
    must pgbench -n -c 2 -t 200 postgres
    must psql_at "$PORT" "SELECT pg_switch_wal()"
    must br backup --type=full --start-fast
done
read -r F1 F2 F3 F4 <<<"$(labels)"
expect_eq "four full backups" "$(labels | wc -w)" "4"

# --- 1. verify in the background, expire with a lower retention at the same time ------------
WAL_BEFORE=$(wal_count)
"${PG_EXEC[@]}" "$BR" --config="$CONF" --stanza=main --process-max=1 verify >"$IT_TMP/verify.out" 2>&1 &
VERIFY=$!
wait_reading "$VERIFY" || fail "setup: verify reads the backups"
# Stopped (SIGSTOP) while expire runs, so that it is mid-read whatever the machine's speed.
kill -STOP "$VERIFY"
if ! flock -n -x "$LOCK/main-$F1.read.lock" true 2>/dev/null; then pass "verify holds a read lock on $F1"; else
    fail "verify holds a read lock on $F1" "$(ls -la "$LOCK" 2>&1)"; fi
expect_exit "expire --repo1-retention-full=2 beside verify" 0 "$BR" --config="$CONF" --stanza=main \
    --repo1-retention-full=2 expire
EXPIRE_OUT=$OUT
kill -CONT "$VERIFY"
wait "$VERIFY"
VERIFY_RC=$?
expect_eq "verify beside expire: exit 0, no false problem" "$VERIFY_RC $(grep -c 'missing' "$IT_TMP/verify.out")" "0 0"
expect_contains "verify: 4 backups, 0 problems" "$(cat "$IT_TMP/verify.out")" "verify: 4 backups ("
expect_contains "expire names $F1 as kept (in use by verify)" "$EXPIRE_OUT" "backup $F1 is in use (verify, pid $VERIFY)"
expect_contains "expire names $F2 as kept" "$EXPIRE_OUT" "backup $F2 is in use (verify, pid $VERIFY)"
expect_contains "expire says the next expire removes them" "$EXPIRE_OUT" "the next expire will remove"
expect_contains "expire says it left WAL verify reads" "$EXPIRE_OUT" "WAL is being read (verify, pid $VERIFY)"
expect_eq "the backups verify read are still listed" "$(labels)" "$F1 $F2 $F3 $F4 "
expect_eq "no WAL removed under verify" "$(wal_count)" "$WAL_BEFORE"
expect_exit "expire again afterwards" 0 "$BR" --config="$CONF" --stanza=main --repo1-retention-full=2 expire
expect_contains "it removes them" "$OUT" "expired backups $F1, $F2"
expect_contains "and their WAL" "$OUT" "expired "
expect_eq "two backups left" "$(labels)" "$F3 $F4 "
[ ! -d "$REPO/backup/main/$F1" ] && pass "$F1's directory is gone" || fail "$F1's directory is gone"

# --- 2. restore while expire holds the backup, and after it is gone --------------------------
TARGET=$IT_TMP/restored
as_pg mkdir -m 0700 "$TARGET"
hold -x "$LOCK/main-$F3.read.lock"
expect_exit "restore of a backup being expired" 35 "$BR" --config="$CONF" --stanza=main --set="$F3" \
    --pg1-path="$TARGET" restore
expect_contains "it says the backup is being expired, by whom, and what else is there" "$OUT" \
    "backup $F3 is being expired (flock, pid $HOLDER); restore another backup (available: $F4)"
expect_eq "the target directory is untouched" "$(ls -A "$TARGET" | wc -l)" "0"
release
expect_exit "restore of a backup that was expired" 35 "$BR" --config="$CONF" --stanza=main --set="$F1" \
    --pg1-path="$TARGET" restore
expect_contains "it says it was expired and what is available" "$OUT" "backup $F1 is not in stanza 'main': it was expired, or never made; available: $F3, $F4"
expect_eq "the target directory is still untouched" "$(ls -A "$TARGET" | wc -l)" "0"

# A restore in progress keeps its backup from an expire at the same time (the backup and its WAL).
# A small restore can finish between the moment its lock is seen and the SIGSTOP (a fresh-clone
# CI run on a loaded machine did): then it is run again, into an emptied target.
held=n
for attempt in 1 2 3 4 5; do
    find "$TARGET" -mindepth 1 -delete
    "${PG_EXEC[@]}" "$BR" --config="$CONF" --stanza=main --set="$F3" --pg1-path="$TARGET" --process-max=1 restore \
        >"$IT_TMP/restore.out" 2>&1 &
    RESTORE=$!
    if wait_held "$LOCK/main-$F3.read.lock" && kill -STOP "$RESTORE" 2>/dev/null &&
        ! flock -n -x "$LOCK/main-$F3.read.lock" true; then
        held=y
        break
    fi
    kill -CONT "$RESTORE" 2>/dev/null
    wait "$RESTORE"
done
[ "$held" == y ] || fail "setup: restore holds its read lock (stopped while expire runs), in 5 attempts"
expect_exit "expire --set=$F3 beside its restore" 0 "$BR" --config="$CONF" --stanza=main --set="$F3" expire
kill -CONT "$RESTORE"
expect_contains "expire keeps the backup restore reads" "$OUT" "backup $F3 is in use (restore, pid $RESTORE)"
wait "$RESTORE"
expect_eq "the restore beside expire succeeds" "$? $(grep -c "restore $F3:" "$IT_TMP/restore.out")" "0 1"
expect_eq "$F3 is still listed" "$(labels)" "$F3 $F4 "
rm -rf "$TARGET"

# A reader's shared lock, taken from the test, is honoured by expire the same way.
hold -s "$LOCK/main-$F3.read.lock"
expect_exit "expire --set=$F3 while a reader holds it" 0 "$BR" --config="$CONF" --stanza=main --set="$F3" expire
expect_contains "expire names the reader" "$OUT" "backup $F3 is in use (flock, pid $HOLDER)"
release
expect_exit "expire --set=$F3 once it is free" 0 "$BR" --config="$CONF" --stanza=main --set="$F3" expire
expect_contains "it is removed" "$OUT" "expired backup $F3"

# An incremental backup reads its full: a restore or verify of it stops at / skips a full being
# expired, and a reader of the incremental keeps its full from expire.
must pgbench -n -c 2 -t 100 postgres
must br backup --type=incr --start-fast
I4=$(labels | awk '{print $2}')
as_pg mkdir -m 0700 "$TARGET"
hold -x "$LOCK/main-$F4.read.lock"
expect_exit "restore of an incr whose full is being expired" 35 "$BR" --config="$CONF" --stanza=main \
    --set="$I4" --pg1-path="$TARGET" restore
expect_contains "it names the full, its expirer and the incr" "$OUT" \
    "backup $F4 is being expired (flock, pid $HOLDER), and backup $I4 needs it"
expect_eq "the target directory is untouched" "$(ls -A "$TARGET" | wc -l)" "0"
expect_exit "verify while the full is being expired" 0 "$BR" --config="$CONF" --stanza=main verify
expect_contains "verify skips the full" "$OUT" "backup $F4 is being expired (flock, pid $HOLDER): not verified"
expect_contains "and the incr that needs it" "$OUT" \
    "backup $I4 depends on backup $F4, which is being expired (flock, pid $HOLDER): not verified"
release
hold -s "$LOCK/main-$I4.read.lock"
expect_exit "expire --set=$F4 while the incr is read" 0 "$BR" --config="$CONF" --stanza=main --set="$F4" expire
expect_contains "the incr is kept" "$OUT" "backup $I4 is in use (flock, pid $HOLDER)"
expect_contains "and its full with it" "$OUT" "backup $F4 is kept with a backup of its chain that is in use"
release
expect_eq "both still listed" "$(labels)" "$F4 $I4 "
rm -rf "$TARGET"

# --- 3. commands that write the repository, as root against a postgres-owned repository -------
must br check  # the archiver is idle from here: nothing but the commands below could change the repository
SEG=$(psql_at "$PORT" "SELECT pg_walfile_name(pg_current_wal_lsn())")
BEFORE=$(repo_state)
root_br() { OUT=$("$BR" --config="$CONF" --stanza=main "$@" 2>&1); RC=$?; }
mkdir -m 0700 "$IT_TMP/rootsock"
# "name|arguments": serve (the daemon) would run until stopped, so it gets 10 s.
for entry in "backup|--pg1-user=postgres --type=full --start-fast backup" "expire|--repo1-retention-full=1 expire" \
    "stanza-create|stanza-create" "archive-push|--pg1-path=$DATA archive-push $DATA/pg_wal/$SEG" \
    "serve|--pg1-path=$DATA --socket-path=$IT_TMP/rootsock serve"; do
    name=${entry%%|*}
    # shellcheck disable=SC2086
    OUT=$(timeout 10 "$BR" --config="$CONF" --stanza=main ${entry#*|} 2>&1)
    RC=$?
    expect_eq "$name as root: refused (exit 43)" "$RC" "43"
    expect_contains "$name as root: names the command, repository, owner and user" "$OUT" \
        "$name: repository '$REPO' belongs to user 'postgres', not 'root'"
    expect_contains "$name as root: says how to run it" "$OUT" "sudo -u postgres backrest"
done
expect_eq "the repository is unchanged (listing, owners, checksums)" "$(repo_state)" "$BEFORE"
expect_eq "no root-owned file in the repository" "$(find "$REPO" -user root | wc -l)" "0"
# Reading commands still work as root; a root reader's lock files stay usable by postgres.
rm -rf "$LOCK"
root_br info
expect_eq "info as root works" "$RC" "0"
root_br verify
expect_eq "verify as root works (creates the lock directory)" "$RC $(stat -c %U "$LOCK")" "0 postgres"
expect_exit "then expire as postgres uses the same lock files" 0 "$BR" --config="$CONF" --stanza=main expire
# A lock directory left root-owned (mode 0700) by an older run: a clear error naming it.
mkdir -m 0700 "$IT_TMP/rootlocks"
expect_exit "a lock directory postgres cannot enter: refused" 24 "$BR" --config="$CONF" --stanza=main \
    --lock-path="$IT_TMP/rootlocks" verify
expect_contains "the error names the lock directory and its owner" "$OUT" "lock directory '$IT_TMP/rootlocks'"

# --- 4. check validates pg1-path against the server -------------------------------------------
expect_exit "check --pg1-path=/nonexistent" 21 "$BR" --config="$CONF" --stanza=main --pg1-path=/nonexistent check
expect_contains "it names pg1-path and the server's data directory" "$OUT" \
    "option 'pg1-path' is '/nonexistent' but the server"
expect_contains "the server's data directory is named" "$OUT" "runs on data directory '$DATA'"
as_pg mkdir -p "$IT_TMP/other/global"
expect_exit "check with another existing directory" 21 "$BR" --config="$CONF" --stanza=main \
    --pg1-path="$IT_TMP/other" check
as_pg ln -s "$DATA" "$IT_TMP/datalink"
expect_exit "check through a link to the data directory" 0 "$BR" --config="$CONF" --stanza=main \
    --pg1-path="$IT_TMP/datalink" check
expect_exit "check with the right pg1-path" 0 "$BR" --config="$CONF" --stanza=main check
