#!/usr/bin/env bash
# Restore checks the backup, the target and the archive before it writes anything: a time or
# LSN target picks the newest backup that ended before it (or is refused with --set naming the
# one that can reach it), malformed targets are refused naming 'target', a segment missing from
# the backup's own WAL refuses the restore even with --force, and a gap after the backup refuses
# it unless --force (then PostgreSQL stops at the gap). Nothing is written when refused.
set -u
SUITE=restore_preflight
TEST_BACKREST_BIN=${TEST_BACKREST_BIN:-$(dirname "$0")/../../build/backrest}
source "$(dirname "$0")/lib.sh"
it_setup

it_primary 55760 "process-max=2"
ARCHIVE=$IT_TMP/repo/archive/main/15-1

# Starts a restored cluster on its own port and waits for it to finish recovery.
start_restored() {  # name port
    local dir=$IT_TMP/restore-$1
    if [ ! -f "$dir/PG_VERSION" ]; then
        fail "restore $1: nothing restored to start"
        return 1
    fi
    sed -i "s/^port = .*/port = $2/; s/^archive_mode = .*/archive_mode = off/" "$dir/postgresql.conf"
    pg_start "$dir"
    if ! wait_promoted "$2"; then
        fail "restore $1: recovery did not finish" "$(tail -20 "$dir.log")"
        return 1
    fi
}
rows() { psql_at "$1" "SELECT count(*) FROM t"; }
backup_field() {  # label python-expression-on-b
    br info --output=json | python3 -c "
import json, sys
for b in json.load(sys.stdin)[0]['backup']:
    if b['label'] == '$1': print($2)"
}

# B1 with 100 rows; a time T (and LSN) between B1 and B2; B2 with 200 rows.
must psql_at 55760 "CREATE TABLE t (id int); INSERT INTO t SELECT generate_series(1, 100)"
expect_exit "backup B1" 0 "$BR" --config="$CONF" --stanza=main backup --type=full --start-fast
B1=$(br info --output=json | python3 -c "import json,sys; print(json.load(sys.stdin)[0]['backup'][-1]['label'])")
sleep 1.5
TIME_T=$(psql_at 55760 "SELECT clock_timestamp()")
LSN_T=$(psql_at 55760 "SELECT pg_current_wal_lsn()")
sleep 1.5
must psql_at 55760 "INSERT INTO t SELECT generate_series(101, 200)"
sleep 1.1  # B2's label differs from B1's (one per second)
expect_exit "backup B2" 0 "$BR" --config="$CONF" --stanza=main backup --type=full --start-fast
B2=$(br info --output=json | python3 -c "import json,sys; print(json.load(sys.stdin)[0]['backup'][-1]['label'])")
expect_eq "two backups" "$(printf '%s %s' "${#B1}" "${#B2}")" "16 16"

# More WAL after B2: three batches of 10 rows, each in its own segment.
XID1=$(psql_at 55760 "BEGIN; INSERT INTO t SELECT generate_series(201, 210); SELECT txid_current(); COMMIT;")
LSN1=$(psql_at 55760 "SELECT pg_current_wal_lsn()")
must psql_at 55760 "SELECT pg_switch_wal()"
must psql_at 55760 "INSERT INTO t SELECT generate_series(211, 220)"
# After the commit (a -c of several statements is one transaction, whose write position would
# still be the segment start, which pg_walfile_name gives as the segment before).
GAP=$(psql_at 55760 "SELECT pg_walfile_name(pg_current_wal_lsn())")
must psql_at 55760 "SELECT pg_switch_wal()"
must psql_at 55760 "INSERT INTO t SELECT generate_series(221, 230)"
must br check  # switches and waits: every segment above is archived
expect_eq "the primary has 230 rows" "$(rows 55760)" "230"

# --- targets ---------------------------------------------------------------------------------
restore time-b1 0 --type=time "--target=$TIME_T" --target-action=promote
expect_contains "time target without --set: B1 is chosen, and said so" "$OUT" \
    "backup $B1 is the newest that ended before the recovery target time"
expect_contains "time target without --set: B1 is restored" "$OUT" "restore $B1:"
if start_restored time-b1 55761; then
    expect_eq "time target: the rows of time T (100)" "$(rows 55761)" "100"
    pg_stop "$IT_TMP/restore-time-b1"
fi

restore time-set-b2 35 --set="$B2" --type=time "--target=$TIME_T"
expect_contains "--set=B2 before T: refused naming B1" "$OUT" "Restore backup $B1 instead (--set=$B1)"
expect_contains "--set=B2 before T: says why" "$OUT" "recovery cannot stop before the backup is consistent"
absent time-set-b2

restore time-too-early 35 --type=time "--target=2001-01-01 00:00:00+00"
expect_contains "a time before every backup: refused naming the oldest" "$OUT" \
    "no backup of stanza 'main' ended before the recovery target time '2001-01-01 00:00:00+00': the oldest, $B1"
absent time-too-early

restore lsn-b1 0 --type=lsn "--target=$LSN_T" --target-action=promote
expect_contains "LSN target without --set: B1 is chosen" "$OUT" "restore $B1:"
restore lsn-set-b2 35 --set="$B2" --type=lsn "--target=$LSN_T"
expect_contains "--set=B2 with an LSN before its end: refused naming B1" "$OUT" "Restore backup $B1 instead"
absent lsn-set-b2

restore bad-time 21 --type=time "--target=2026-13-45 25:00:00"
expect_contains "malformed time: refused naming 'target'" "$OUT" \
    "invalid value '2026-13-45 25:00:00' for option 'target' with --type=time"
absent bad-time
restore bad-time-word 21 --type=time --target=yesterday
expect_contains "a word for a time: refused with the expected form" "$OUT" "expected YYYY-MM-DD HH:MM:SS"
absent bad-time-word
restore bad-xid 21 --type=xid --target=12ab
expect_contains "malformed xid: refused naming 'target'" "$OUT" "invalid value '12ab' for option 'target' with --type=xid"
absent bad-xid
restore bad-lsn 21 --type=lsn --target=0/XYZ
expect_contains "malformed LSN: refused naming 'target'" "$OUT" "invalid value '0/XYZ' for option 'target' with --type=lsn"
absent bad-lsn
restore long-name 21 --type=name "--target=$(printf 'n%.0s' $(seq 1 64))"
expect_contains "a restore point name of 64 bytes: refused" "$OUT" "have at most 63"
absent long-name

# --- a gap after the backup ------------------------------------------------------------------
GAP_FILE=$(ls "$ARCHIVE/${GAP:0:16}/" | grep "^$GAP-")
expect_eq "the gap segment is archived once" "$(printf '%s\n' "$GAP_FILE" | grep -c .)" "1"
mkdir -p "$IT_TMP/aside"
mv "$ARCHIVE/${GAP:0:16}/$GAP_FILE" "$IT_TMP/aside/"

restore gap-latest 23
expect_contains "gap, latest: refused naming the missing segment" "$OUT" \
    "WAL segment $GAP is missing from archive 15-1"
expect_contains "gap, latest: says where recovery would stop and what --force does" "$OUT" \
    "to the end of the archive would stop at $GAP and end there"
absent gap-latest

restore gap-xid 23 --type=xid --target="$XID1"
expect_contains "gap, xid target: refused, --force offered for a target before it" "$OUT" \
    "if the target is before that WAL, restore anyway with --force"
absent gap-xid

restore gap-lsn-before 0 --type=lsn --target="$LSN1" --target-action=promote
expect_contains "gap, LSN target before the gap: restored (only WAL up to the target is needed)" "$OUT" \
    "restore $B2:"

restore gap-force 0 --force
expect_contains "gap, --force: the missing segment is named as where recovery stops" "$OUT" \
    "restore --force: WAL segment $GAP is missing from archive 15-1"
if start_restored gap-force 55762; then
    expect_eq "gap, --force: PostgreSQL stopped at the gap (210 rows, not 230)" "$(rows 55762)" "210"
    pg_stop "$IT_TMP/restore-gap-force"
fi

# --delta over the stopped copy, the gap still there: refused, the directory unchanged.
state() { find "$IT_TMP/restore-gap-force" -printf '%p %s %T@\n' | sort | md5sum; }
BEFORE=$(state)
restore gap-force 23 --delta
expect_contains "gap, --delta over a copy: refused naming the segment" "$OUT" "WAL segment $GAP is missing"
expect_eq "gap, --delta over a copy: nothing in it changed (names, sizes, times)" "$(state)" "$BEFORE"
expect_eq "gap, --delta over a copy: pg_control is still there" \
    "$(test -f "$IT_TMP/restore-gap-force/global/pg_control" && echo present)" "present"

mv "$IT_TMP/aside/$GAP_FILE" "$ARCHIVE/${GAP:0:16}/"
restore whole 0
if start_restored whole 55763; then
    expect_eq "segment back: the restore reaches the end (230 rows)" "$(rows 55763)" "230"
    pg_stop "$IT_TMP/restore-whole"
fi

# --- a segment of the backup's own WAL -------------------------------------------------------
OWN=$(backup_field "$B2" "b['archive']['start']")
OWN_FILE=$(ls "$ARCHIVE/${OWN:0:16}/" | grep "^$OWN-")
mv "$ARCHIVE/${OWN:0:16}/$OWN_FILE" "$IT_TMP/aside/"
restore own-missing 23
expect_contains "own WAL missing: refused naming the segment" "$OUT" "WAL segment $OWN is missing from archive 15-1"
expect_contains "own WAL missing: says it can never become consistent" "$OUT" "could never start"
absent own-missing
restore own-missing-force 23 --force
expect_contains "own WAL missing: --force does not override" "$OUT" "--force does not change that"
absent own-missing-force
restore own-missing-immediate 23 --type=immediate
absent own-missing-immediate
mv "$IT_TMP/aside/$OWN_FILE" "$ARCHIVE/${OWN:0:16}/"

expect_exit "help restore says what --force does" 0 "$BR" help restore
expect_contains "help restore: --force and the archive" "$OUT" "restore although a WAL segment is missing"

# --- a later timeline ------------------------------------------------------------------------
# B2 restored and promoted with archiving on (into the same stanza, as a new primary would):
# timeline 2 branches after B2, and its history file and segments are archived.
TL2=$IT_TMP/restore-tl2
restore tl2 0
# archive-push reads %p (relative) from pg1-path: this cluster's.
sed -i "s/^port = .*/port = 55764/; s|--stanza=main archive-push|--stanza=main --pg1-path=$TL2 archive-push|" \
    "$TL2/postgresql.conf"
pg_start "$TL2"
wait_promoted 55764 || fail "timeline 2: recovery did not finish" "$(tail -20 "$TL2.log")"
must psql_at 55764 "SELECT pg_switch_wal()"  # the gap below is past the switch segment
must psql_at 55764 "INSERT INTO t SELECT generate_series(1001, 1010)"
GAP2=$(psql_at 55764 "SELECT pg_walfile_name(pg_current_wal_lsn())")
must psql_at 55764 "SELECT pg_switch_wal()"
must psql_at 55764 "INSERT INTO t SELECT generate_series(1011, 1020)"
NEXT2=$(psql_at 55764 "SELECT pg_walfile_name(pg_current_wal_lsn())")
must psql_at 55764 "SELECT pg_switch_wal()"
for _ in $(seq 1 120); do
    ls "$ARCHIVE/${NEXT2:0:16}/" 2>/dev/null | grep -q "^$NEXT2-" && break
    sleep 0.5
done
pg_stop "$TL2"
expect_eq "timeline 2: its history and segments are archived" \
    "$(ls "$ARCHIVE" | grep -c '^00000002.history-') ${GAP2:0:8} $(ls "$ARCHIVE/${NEXT2:0:16}/" | grep -c "^$NEXT2-")" \
    "1 00000002 1"

restore tl-latest 0
expect_contains "timeline 2 whole: B2 restores to latest across the branch" "$OUT" "restore $B2:"
GAP2_FILE=$(ls "$ARCHIVE/${GAP2:0:16}/" | grep "^$GAP2-")
mv "$ARCHIVE/${GAP2:0:16}/$GAP2_FILE" "$IT_TMP/aside/"
restore tl-gap 23
expect_contains "a gap on timeline 2: refused naming the timeline 2 segment" "$OUT" \
    "WAL segment $GAP2 is missing from archive 15-1, though $NEXT2 after it is archived"
absent tl-gap
restore tl-current 0 --target-timeline=current
expect_contains "--target-timeline=current: timeline 1 alone is read, and it is whole" "$OUT" "restore $B2:"
mv "$IT_TMP/aside/$GAP2_FILE" "$ARCHIVE/${GAP2:0:16}/"
