#!/usr/bin/env bash
# An encrypted repository in its first month, from outside: kill -9 of backups and of
# stanza-rekey at random points, two rekeys at once, a rekey while a backup runs, the old
# passphrase after a rekey, the repository copied elsewhere, a config file readable by others,
# an empty passphrase, a passphrase with spaces, quotes and non-ASCII characters, and the daemon
# (the extension, already installed on this machine: nothing is installed here) archiving into an
# encrypted repository. After each: exactly one passphrase works, every backup listed restores.
# Ports 56015-56019 (the posix suite encryption.sh uses 56010-56014).
set -u
SUITE=encryption_attack
TEST_BACKREST_BIN=${TEST_BACKREST_BIN:-$(dirname "$0")/../../build/backrest}
source "$(dirname "$0")/lib.sh"
it_setup
source "$(dirname "$0")/lib_encryption.sh"

PORT=56015
DATA=$IT_TMP/primary
CONF=$IT_TMP/backrest.conf
REPO=$IT_TMP/repo
P0='attack-pass-0-4d1c'
# The config file holds the cipher type; the passphrase comes from the environment, so that each
# command can be given the old or the new one.
it_conf "$CONF" 0640 <<CONF
[global]
repo1-path=$REPO
lock-path=$IT_TMP/lock
process-max=2
log-level-console=warn
repo1-cipher-type=aes-256-gcm

[main]
$(pg1_lines)
CONF
# backrest as postgres with passphrase $1 (and BACKREST_REPO1_CIPHER_PASS_NEW=$NEWPASS when set).
brp() {  # passphrase args...
    local p=$1
    shift
    as_pg env BACKREST_REPO1_CIPHER_PASS="$p" ${NEWPASS:+BACKREST_REPO1_CIPHER_PASS_NEW="$NEWPASS"} \
        "$BR" --config="$CONF" --stanza=main "$@"
}
# Whether passphrase $1 opens the repository (info exits 0).
opens() { brp "$1" info >/dev/null 2>&1 && echo yes || echo no; }
rekey() {  # old new
    OUT=$(NEWPASS=$2 brp "$1" stanza-rekey 2>&1)
    RC=$?
    keep
}
labels() { brp "$1" info --output=json | grep -o '"label":"[0-9FDI_-]*"' | cut -d'"' -f4 | tr '\n' ' '; }

# The archiver pushes with the passphrase of a file of its own, rewritten at each rekey.
PUSHCONF=$IT_TMP/push.conf
push_pass() {  # passphrase
    { sed '/^\[main\]/,$d' "$CONF"; printf 'repo1-cipher-pass=%s\n\n' "$1"; sed -n '/^\[main\]/,$p' "$CONF"; } |
        it_conf "$PUSHCONF.new" 0640
    mv "$PUSHCONF.new" "$PUSHCONF"
}
push_pass "$P0"
pg_archiving "$DATA" $PORT "$(archive_push_to "$BR" "$PUSHCONF" main)"
OUT=$(brp "$P0" stanza-create 2>&1)
RC=$?
keep
expect_eq "stanza-create with the passphrase from the environment (exit)" "$RC" "0"
must as_pg "$PGBIN/pgbench" -h "$IT_TMP" -p $PORT -U postgres -i -s 2 -q postgres
must psql_at $PORT "CREATE TABLE marker (id int primary key, note text)"
SNAPSHOT_SQL="SELECT (SELECT count(*) || ':' || md5(string_agg(aid || ':' || abalance, ',' ORDER BY aid)) FROM pgbench_accounts)
  || ' ' || (SELECT count(*) || ':' || md5(coalesce(string_agg(id || ':' || note, ',' ORDER BY id), '')) FROM marker)"
snapshot() { psql_at "$1" "$SNAPSHOT_SQL"; }
OUT=$(brp "$P0" backup --type=full --start-fast 2>&1)
RC=$?
keep
expect_eq "full backup (exit)" "$RC" "0"
FULL=$(labels "$P0" | cut -d' ' -f1)
SNAP_FULL=$(snapshot $PORT)

# A restore given the passphrase only in its environment writes a restore_command that will not
# see it (the server's environment is not this command's): it says so.
OUT=$(brp "$P0" --pg1-path="$IT_TMP/restore-envpass" restore --set="$FULL" --type=immediate 2>&1)
expect_contains "a restore with the passphrase only in its environment warns restore_command will not see it" \
    "$OUT" "repo1-cipher-pass comes from this command's environment (BACKREST_REPO1_CIPHER_PASS or PGBACKREST_REPO1_CIPHER_PASS)"
expect_eq "... and the warning does not hold the passphrase" "$(grep -c -F "$P0" <<<"$OUT")" "0"
rm -rf "$IT_TMP/restore-envpass"

# Restores a backup with a passphrase, starts it, compares; name must be unique.
restore_check() {  # name port passphrase set want
    local dir=$IT_TMP/restore-$1
    # From the config file holding the passphrase: restore_command names it, and the restored
    # server's archive-get has no BACKREST_REPO1_CIPHER_PASS.
    push_pass "$3"
    OUT=$(as_pg "$BR" --config="$PUSHCONF" --stanza=main --pg1-path="$dir" restore --set="$4" --type=immediate \
        --target-action=promote 2>&1)
    RC=$?
    keep
    expect_eq "restore $1 (exit)" "$RC" "0"
    [ "$RC" -eq 0 ] || return
    printf 'port = %s\narchive_mode = off\n' "$2" >>"$dir/postgresql.conf"
    pg_start "$dir"
    if wait_promoted "$2"; then
        expect_eq "restore $1: rows equal" "$(snapshot "$2")" "$5"
    else
        fail "restore $1: recovery did not finish" "$(tail -20 "$dir.log")"
    fi
    pg_stop "$dir"
    rm -rf "$dir"
}

# --- kill -9 of a backup at random points ----------------------------------------------------
for round in 1 2 3 4 5; do
    must psql_at $PORT "INSERT INTO marker VALUES ($round, 'killed backup $round')"
    touch "$IT_TMP/mark"
"${PG_EXEC[@]}" env BACKREST_REPO1_CIPHER_PASS="$P0" "$BR" --config="$CONF" --stanza=main backup --type=full \
        --start-fast >/dev/null 2>&1 &
    BPID=$!
    sleep "0.$((RANDOM % 10))$((RANDOM % 10))"
    sleep $((RANDOM % 3))
    kill -9 $BPID 2>/dev/null
    wait $BPID 2>/dev/null
done
expect_eq "after 5 backups killed: the passphrase still opens the repository" "$(opens "$P0")" "yes"
# A full after them resumes the last one killed (its stored files are resealed under the new label).
OUT=$(brp "$P0" backup --type=full --start-fast --log-level-console=info 2>&1)
RC=$?
keep
expect_eq "after 5 backups killed: the next full succeeds (exit)" "$RC" "0"
echo "# the full after the killed ones: $(grep -o 'resuming interrupted backup [^)]*)' <<<"$OUT" || echo 'did not resume')"
SNAP_AFTER_KILLS=$(snapshot $PORT)
AFTER_KILLS=$(labels "$P0" | tr ' ' '\n' | grep . | tail -1)
OUT=$(brp "$P0" verify 2>&1)
RC=$?
keep
expect_eq "after the killed backups: verify (exit)" "$RC" "0"
restore_check after-kills 56016 "$P0" "$AFTER_KILLS" "$SNAP_AFTER_KILLS"

# A full killed once its resume journal and some files are stored: the next full (resuming it
# when it can, resealing the stored files under its own label) restores with the rows.
must as_pg sh -c "head -c 67108864 /dev/urandom >'$DATA/random.bin'"
must psql_at $PORT "INSERT INTO marker VALUES (100, 'before the resumed full')"
touch "$IT_TMP/mark"
"${PG_EXEC[@]}" env BACKREST_REPO1_CIPHER_PASS="$P0" "$BR" --config="$CONF" --stanza=main backup --type=full \
    --start-fast --process-max=1 >/dev/null 2>&1 &
BPID=$!
for _ in $(seq 1 300); do
    [ -n "$(find "$REPO/backup/main" -name 'backup.resume*' 2>/dev/null)" ] &&
        [ "$(find "$REPO/backup/main" -newer "$IT_TMP/mark" -type f -path '*/pg_data/*' 2>/dev/null | wc -l)" -gt 100 ] && break
    sleep 0.05
done
kill -9 $BPID 2>/dev/null
wait $BPID 2>/dev/null
OUT=$(brp "$P0" backup --type=full --start-fast --log-level-console=info 2>&1)
RC=$?
keep
expect_eq "the full after a killed one (exit)" "$RC" "0"
# Whether it resumed depends on where the kill fell (the trigger above is not yet reliable: with
# bundles most files are not under pg_data/); the restore below checks the rows either way.
echo "# the full after a killed one: $(grep -o 'resuming interrupted backup [^)]*)' <<<"$OUT" || echo 'did not resume')"
RESUMED=$(labels "$P0" | tr ' ' '\n' | grep . | tail -1)
as_pg rm -f "$DATA/random.bin"
restore_check resumed 56016 "$P0" "$RESUMED" "$(snapshot $PORT)"
push_pass "$P0"

# --- the old passphrase after a rekey --------------------------------------------------------
P1='attack-pass-1-88e0'
rekey "$P0" "$P1"
expect_eq "stanza-rekey P0 -> P1 (exit)" "$RC" "0"
expect_eq "after the rekey: the new passphrase opens" "$(opens "$P1")" "yes"
expect_eq "after the rekey: the old one does not" "$(opens "$P0")" "no"
BEFORE=$(listing "$REPO")
OUT=$(brp "$P0" --pg1-path="$IT_TMP/restore-old" restore 2>&1)
RC=$?
keep
expect_eq "restore with the old passphrase fails (exit != 0)" "$([ "$RC" -ne 0 ] && echo failed)" "failed"
expect_contains "restore with the old passphrase: the error names the option" "$OUT" "repo1-cipher-pass"
expect_eq "restore with the old passphrase: nothing restored" "$(test -e "$IT_TMP/restore-old" && echo exists)" ""
OUT=$(brp "$P0" backup --type=incr --start-fast 2>&1)
RC=$?
keep
expect_eq "backup with the old passphrase fails (exit != 0)" "$([ "$RC" -ne 0 ] && echo failed)" "failed"
expect_eq "the old passphrase wrote nothing" "$(listing "$REPO")" "$BEFORE"
push_pass "$P1"
restore_check old-full-new-pass 56016 "$P1" "$FULL" "$SNAP_FULL"

# --- kill -9 of stanza-rekey at random points --------------------------------------------------
CUR=$P1
for round in $(seq 1 10); do
    NEW="attack-pass-k$round-$RANDOM"
    "${PG_EXEC[@]}" env BACKREST_REPO1_CIPHER_PASS="$CUR" BACKREST_REPO1_CIPHER_PASS_NEW="$NEW" "$BR" \
        --config="$CONF" --stanza=main stanza-rekey >/dev/null 2>&1 &
    KPID=$!
    sleep "0.$((RANDOM % 3))$((RANDOM % 10))"
    kill -9 $KPID 2>/dev/null
    wait $KPID 2>/dev/null
    O=$(opens "$CUR")
    N=$(opens "$NEW")
    if [ "$O$N" == "yesno" ] || [ "$O$N" == "noyes" ]; then
        pass "rekey killed (round $round): exactly one passphrase opens (old $O, new $N)"
    else
        fail "rekey killed (round $round): exactly one passphrase opens" "old $O, new $N"
    fi
    # A second rekey with the working one finishes the job.
    if [ "$O" == yes ]; then
        rekey "$CUR" "$NEW"
        expect_eq "round $round: a second rekey from the old passphrase (exit)" "$RC" "0"
    else
        rekey "$NEW" "$NEW-b"
        expect_eq "round $round: a rekey from the new passphrase (exit)" "$RC" "0"
        NEW=$NEW-b
    fi
    expect_eq "round $round: the final passphrase opens" "$(opens "$NEW")" "yes"
    CUR=$NEW
done
push_pass "$CUR"
OUT=$(brp "$CUR" verify 2>&1)
RC=$?
keep
expect_eq "after 10 killed rekeys: verify with the final passphrase (exit)" "$RC" "0"
# Every info copy holds the same generation: the one kept has the highest.
restore_check after-rekeys 56016 "$CUR" "$FULL" "$SNAP_FULL"

# --- two rekeys at once ----------------------------------------------------------------------
A="attack-pass-A-$RANDOM"
B="attack-pass-B-$RANDOM"
( NEWPASS=$A brp "$CUR" stanza-rekey >"$IT_TMP/rekeyA.out" 2>&1; echo $? >"$IT_TMP/rekeyA.rc" ) &
( NEWPASS=$B brp "$CUR" stanza-rekey >"$IT_TMP/rekeyB.out" 2>&1; echo $? >"$IT_TMP/rekeyB.rc" ) &
wait
cat "$IT_TMP/rekeyA.out" "$IT_TMP/rekeyB.out" >>"$ALL_OUTPUT_FILE"
RA=$(cat "$IT_TMP/rekeyA.rc")
RB=$(cat "$IT_TMP/rekeyB.rc")
OA=$(opens "$A")
OB=$(opens "$B")
OC=$(opens "$CUR")
echo "# two rekeys at once: exits $RA and $RB; opens: A $OA, B $OB, old $OC"
expect_eq "two rekeys at once: exactly one passphrase opens" "$(printf '%s\n' "$OA" "$OB" "$OC" | grep -c yes)" "1"
expect_eq "two rekeys at once: the old one no longer opens" "$OC" "no"
if [ "$RA" -eq 0 ] && [ "$RB" -eq 0 ]; then
    fail "two rekeys at once: both reported success, one passphrase was lost" \
        "A exit 0 opens $OA; B exit 0 opens $OB: $(cat "$IT_TMP/rekeyA.out" "$IT_TMP/rekeyB.out")"
else
    pass "two rekeys at once: one reported failure ($RA, $RB)"
    WIN=$([ "$RA" -eq 0 ] && echo "$A" || echo "$B")
    expect_eq "two rekeys at once: the one that reported success is the one that opens" "$(opens "$WIN")" "yes"
    LOSER=$([ "$RA" -eq 0 ] && cat "$IT_TMP/rekeyB.out" || cat "$IT_TMP/rekeyA.out")
    echo "# the refused rekey said: $(head -3 <<<"$LOSER")"
fi
for c in "$A" "$B" "$CUR"; do [ "$(opens "$c")" == yes ] && CUR=$c; done
push_pass "$CUR"

# --- a rekey while a backup runs ---------------------------------------------------------------
# 128 MiB that do not compress keep the backup busy for seconds.
must as_pg sh -c "head -c 134217728 /dev/urandom >'$DATA/random.bin'"
clear_stanza_lock "$IT_TMP/lock/main-backup.lock"
"${PG_EXEC[@]}" env BACKREST_REPO1_CIPHER_PASS="$CUR" "$BR" --config="$CONF" --stanza=main backup --type=full \
    --start-fast >"$IT_TMP/during.out" 2>&1 &
BPID=$!
wait_stanza_lock_held "$IT_TMP/lock/main-backup.lock" || fail "setup: the backup holds the stanza lock"
D="attack-pass-D-$RANDOM"
rekey "$CUR" "$D"
REKEY_RC=$RC
REKEY_OUT=$OUT
wait $BPID
BRC=$?
cat "$IT_TMP/during.out" >>"$ALL_OUTPUT_FILE"
echo "# rekey during a backup: rekey exit $REKEY_RC ($(head -2 <<<"$REKEY_OUT")), backup exit $BRC"
expect_eq "the backup during the rekey completes (exit)" "$BRC" "0"
if [ "$REKEY_RC" -eq 0 ]; then
    expect_eq "rekey during a backup succeeded: the new passphrase opens" "$(opens "$D")" "yes"
    expect_eq "rekey during a backup succeeded: the old one does not" "$(opens "$CUR")" "no"
    CUR=$D
else
    expect_contains "rekey during a backup refused: the error names the lock" "$REKEY_OUT" "lock"
    expect_eq "rekey refused: the old passphrase opens" "$(opens "$CUR")" "yes"
    expect_eq "rekey refused: the new one does not" "$(opens "$D")" "no"
fi
as_pg rm -f "$DATA/random.bin"
push_pass "$CUR"
DURING=$(labels "$CUR" | tr ' ' '\n' | grep . | tail -1)
expect_eq "the backup taken during the rekey is listed" "$([ "$DURING" \> "$AFTER_KILLS" ] && echo listed)" "listed"
OUT=$(brp "$CUR" verify 2>&1)
RC=$?
keep
expect_eq "after the rekey during a backup: verify (exit)" "$RC" "0"

# --- the repository copied elsewhere -----------------------------------------------------------
cp -a "$REPO" "$IT_TMP/repo-copy"
sed "s|^repo1-path=.*|repo1-path=$IT_TMP/repo-copy|" "$PUSHCONF" | it_conf "$IT_TMP/copy.conf" 0640
OUT=$(as_pg env BACKREST_REPO1_CIPHER_PASS="$CUR" "$BR" --config="$IT_TMP/copy.conf" --stanza=main verify 2>&1)
RC=$?
keep
expect_eq "a copy of the repository elsewhere: verify (exit)" "$RC" "0"
OUT=$(as_pg env BACKREST_REPO1_CIPHER_PASS="$CUR" "$BR" --config="$IT_TMP/copy.conf" --stanza=main \
    --pg1-path="$IT_TMP/restore-copy" restore --set="$FULL" --type=immediate --target-action=promote 2>&1)
RC=$?
keep
expect_eq "a copy of the repository elsewhere: restore of the first full (exit)" "$RC" "0"
if [ "$RC" -eq 0 ]; then
    printf 'port = 56017\narchive_mode = off\n' >>"$IT_TMP/restore-copy/postgresql.conf"
    pg_start "$IT_TMP/restore-copy"
    wait_promoted 56017 && expect_eq "restored from the copy: rows equal" "$(snapshot 56017)" "$SNAP_FULL"
    pg_stop "$IT_TMP/restore-copy"
fi

# --- config files: readable by others, an empty passphrase, an odd one -------------------------
conf_with() {  # file mode passphrase-line repo
    {
        printf '[global]\nrepo1-path=%s\nlock-path=%s\nrepo1-cipher-type=aes-256-gcm\n%s\n' "$4" "$IT_TMP/lock" "$3"
        pg1_stanza
    } | it_conf "$1" "$2"
}
conf_with "$IT_TMP/open.conf" 0644 "repo1-cipher-pass=$CUR" "$REPO"
expect_exit_k "config file mode 0644 holding the passphrase: refused" 22 "$BR" --config="$IT_TMP/open.conf" \
    --stanza=main info
expect_contains "the error names the file" "$OUT" "$IT_TMP/open.conf"
expect_contains "the error says what to do" "$OUT" "chmod 640"
conf_with "$IT_TMP/open.conf" 0604 "repo1-cipher-pass=$CUR" "$REPO"
expect_exit_k "config file mode 0604 (others read, group not): refused" 22 "$BR" --config="$IT_TMP/open.conf" \
    --stanza=main info
conf_with "$IT_TMP/open.conf" 0640 "repo1-cipher-pass=$CUR" "$REPO"
expect_exit_k "config file mode 0640: accepted" 0 "$BR" --config="$IT_TMP/open.conf" --stanza=main info

conf_with "$IT_TMP/empty.conf" 0640 "repo1-cipher-pass=" "$IT_TMP/repo-empty"
expect_fail "an empty passphrase: stanza-create refused" "$BR" --config="$IT_TMP/empty.conf" --stanza=main stanza-create
expect_contains "an empty passphrase: the error names the option" "$OUT" "repo1-cipher-pass"
expect_eq "an empty passphrase: no repository written" "$(find "$IT_TMP/repo-empty" -type f 2>/dev/null | wc -l)" "0"
OUT=$(as_pg env BACKREST_REPO1_CIPHER_PASS= "$BR" --config="$CONF" --stanza=main --repo1-path="$IT_TMP/repo-empty" \
    stanza-create 2>&1)
RC=$?
keep
expect_eq "an empty passphrase from the environment: refused" "$([ "$RC" -ne 0 ] && echo refused)" "refused"
expect_eq "an empty passphrase from the environment: no repository written" \
    "$(find "$IT_TMP/repo-empty" -type f 2>/dev/null | wc -l)" "0"

# Spaces inside, quotes, '=', '#', ';' and non-ASCII: the config file and the environment must
# mean the same passphrase (a '#' taken for a comment would silently shorten it).
ODD="pa ss \"dq\" 'sq' =x #h ;s ü€😀 end"
conf_with "$IT_TMP/odd.conf" 0640 "repo1-cipher-pass=$ODD" "$IT_TMP/repo-odd"
expect_exit_k "an odd passphrase in the config file: stanza-create" 0 "$BR" --config="$IT_TMP/odd.conf" \
    --stanza=main stanza-create
OUT=$(as_pg env BACKREST_REPO1_CIPHER_PASS="$ODD" "$BR" --config="$CONF" --stanza=main --repo1-path="$IT_TMP/repo-odd" \
    info 2>&1)
RC=$?
keep
expect_eq "the same odd passphrase from the environment opens it (exit)" "$RC" "0"
OUT=$(as_pg env BACKREST_REPO1_CIPHER_PASS="pa ss \"dq\" 'sq' =x" "$BR" --config="$CONF" --stanza=main \
    --repo1-path="$IT_TMP/repo-odd" info 2>&1)
RC=$?
keep
expect_eq "the odd passphrase cut at '#' does not open it" "$([ "$RC" -ne 0 ] && echo refused)" "refused"
OUT=$(as_pg env BACKREST_REPO1_CIPHER_PASS="$ODD" BACKREST_REPO1_CIPHER_PASS_NEW="$ODD 2" "$BR" --config="$CONF" \
    --stanza=main --repo1-path="$IT_TMP/repo-odd" stanza-rekey 2>&1)
RC=$?
keep
expect_eq "rekey from the odd passphrase (exit)" "$RC" "0"
conf_with "$IT_TMP/odd.conf" 0640 "repo1-cipher-pass=$ODD 2" "$IT_TMP/repo-odd"
expect_exit_k "the new odd passphrase from the config file opens it" 0 "$BR" --config="$IT_TMP/odd.conf" \
    --stanza=main info

# --- the daemon (the extension) archiving into an encrypted repository ---------------------------
# The extension installed on this machine with this tree's worker: CREATE EXTENSION, stanza-create
# and archiving through the daemon; segments read back by archive-get.
PKGLIB=$(pg_config --pkglibdir)
if [ -f "$PKGLIB/backrest.so" ]; then
    DPORT=56018
    DDATA=$IT_TMP/daemon
    DCONF=$IT_TMP/daemon.conf
    SOCKDIR=$IT_TMP/sock
    as_pg mkdir -p "$SOCKDIR"
    chmod 0700 "$SOCKDIR"
    DPASS='daemon-pass-77ab'
    it_conf "$DCONF" 0640 <<CONF
[global]
repo1-path=$IT_TMP/repo-daemon
lock-path=$IT_TMP/lock-daemon
spool-path=$IT_TMP/spool
process-max=2
repo1-cipher-type=aes-256-gcm
repo1-cipher-pass=$DPASS

[main]
pg1-path=$DDATA
pg1-socket-path=$IT_TMP
pg1-port=$DPORT
CONF
    pg_init "$DDATA" $DPORT
    ext_conf "$DDATA" main "$DCONF" "$SOCKDIR" \
        'backrest.archive_async = on'
    pg_start "$DDATA"
    must psql_at $DPORT "CREATE EXTENSION backrest"
    OUT=$(psql_at $DPORT "SELECT backrest_stanza_create()" 2>&1)
    RC=$?
    keep
    # A new encrypted stanza created through SQL: the daemon makes its key, then restarts (the
    # launcher starts it again) to archive with it. Before: CryptoError "runs from the command line".
    expect_eq "daemon: backrest_stanza_create() makes a new encrypted stanza (exit)" "$RC" "0"
    expect_contains "... and says the daemon restarts to open its key" "$OUT" \
        "the daemon restarts to open the stanza's new key"
    expect_eq "daemon: its archive.info is encrypted (an envelope line, then a sealed unit)" \
        "$(head -c 16 "$IT_TMP/repo-daemon/archive/main/archive.info")" '{"key-envelope":'
    expect_exit_k "daemon: the CLI opens the stanza the daemon made with the passphrase" 0 "$BR" \
        --config="$DCONF" --stanza=main info
    must psql_at $DPORT "CREATE TABLE t AS SELECT g FROM generate_series(1, 100000) g"
    DSEG=$(psql_at $DPORT "SELECT pg_walfile_name(pg_current_wal_lsn())")
    must psql_at $DPORT "SELECT pg_switch_wal()"
    cp "$DDATA/pg_wal/$DSEG" "$IT_TMP/dseg.orig"
    for _ in $(seq 1 120); do
        compgen -G "$IT_TMP/repo-daemon/archive/main/*/${DSEG:0:16}/$DSEG-*" >/dev/null && break
        sleep 0.5
    done
    STORED=$(compgen -G "$IT_TMP/repo-daemon/archive/main/*/${DSEG:0:16}/$DSEG-*" | head -1)
    expect_eq "daemon: the segment is archived" "$([ -n "$STORED" ] && echo archived)" "archived"
    expect_eq "daemon: the archived segment is a sealed unit" "$(head -c 4 "$STORED" 2>/dev/null)" "BRS1"
    expect_exit_k "daemon: archive-get of the segment it archived" 0 "$BR" --config="$DCONF" --stanza=main \
        archive-get "$DSEG" "$IT_TMP/dseg.get"
    expect_eq "daemon: archive-get gives the bytes PostgreSQL wrote" \
        "$(cmp "$IT_TMP/dseg.get" "$IT_TMP/dseg.orig" && echo same)" same
    OUT=$(psql_at $DPORT "SELECT backrest_backup(wait => true)" 2>&1)
    RC=$?
    keep
    expect_eq "daemon: backrest_backup() into the encrypted repository (exit)" "$RC" "0"
    [ "$RC" -eq 0 ] || echo "# backrest_backup(): $OUT"
    expect_exit_k "daemon: verify the repository it wrote" 0 "$BR" --config="$DCONF" --stanza=main verify
    expect_eq "daemon: the passphrase is not in the server log" "$(grep -c -F "$DPASS" "$DDATA.log")" "0"
    pg_stop "$DDATA"
else
    fail "the extension is not installed on this machine (this suite installs nothing): daemon not tested"
fi

expect_eq "no passphrase in any output" \
    "$(grep -c -F -e "$P0" -e "$P1" -e "$CUR" -e "$ODD" -e 'daemon-pass-77ab' "$ALL_OUTPUT_FILE")" "0"
expect_eq "no passphrase in any PostgreSQL log" \
    "$(cat "$IT_TMP"/*.log | grep -c -F -e "$P0" -e "$P1" -e "$CUR" -e 'daemon-pass-77ab')" "0"
