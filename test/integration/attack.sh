#!/usr/bin/env bash
# Attacks on the data-loss fixes from outside, on real clusters: each scenario is a way a restore
# could end in a cluster that starts with wrong data, and must end in a clear error instead.
#
# A live data directory under another path (a bind mount): the /proc scan compared paths only,
# so a restore into a directory of the running cluster under that path went ahead, and a
# --delta into the data directory itself was answered "remove its postmaster.pid".
#
# Two restores at once into one directory: nothing kept the second out; both wrote into it
# (the same backup "resumed" from the first's marker, or another one with --delta).
#
# A bad copy set aside (<segment>-<sha>.bad-<time>) counted as an archived segment by the gap
# check: the only copy of a segment set aside, restore went ahead and recovery stopped there.
#
# restore --config relative: restore_command carried it as given, and PostgreSQL runs it in the
# data directory, where it names another file or none: the restored cluster could not recover.
#
# --target-timeline in a form PostgreSQL reads differently from backrest (hex, a leading zero,
# which strtoul base 0 reads as octal): backrest checked the archive along another timeline than
# the one PostgreSQL then followed, so a gap on the followed timeline went unseen and recovery
# promoted at the gap, without the WAL after it.
set -u
SUITE=attack
TEST_BACKREST_BIN=${TEST_BACKREST_BIN:-$(dirname "$0")/../../build/backrest}
source "$(dirname "$0")/lib.sh"
it_setup
if [ "$(id -u)" -ne 0 ]; then
    fail "setup: the attack suite runs as root (it bind-mounts a live data directory)"
    exit 1
fi
# The bind mount of the live data directory is undone whatever happens, before the temp area
# (holding that data directory) is removed.
ALIAS=$IT_TMP/alias
attack_finish() {
    mountpoint -q "$ALIAS" 2>/dev/null && { umount "$ALIAS" || umount -l "$ALIAS"; }
    it_finish
}
trap attack_finish EXIT

it_primary 55800
ARCHIVE=$IT_TMP/repo/archive/main/15-1
as_pg mkdir -p "$IT_TMP/aside"

# A restored copy promoted with archiving into the stanza (a drill, a failover): a new timeline.
promote_archiving() {  # name port
    local dir=$IT_TMP/restore-$1
    sed -i "s/^port = .*/port = $2/; s|--stanza=main archive-push|--stanza=main --pg1-path=$dir archive-push|" \
        "$dir/postgresql.conf"
    pg_start "$dir"
    wait_promoted "$2" || fail "$1: recovery did not finish" "$(tail -20 "$dir.log")"
}
wait_archived() {  # segment
    for _ in $(seq 1 120); do
        ls "$ARCHIVE/${1:0:16}/" 2>/dev/null | grep -v '\.tmp$' | grep -q "^$1-" && return 0  # not a push in flight
        sleep 0.5
    done
    return 1
}

must psql_at 55800 "CREATE TABLE t (id int); INSERT INTO t SELECT generate_series(1, 100)"
expect_exit "backup" 0 "$BR" --config="$CONF" --stanza=main backup --type=full --start-fast
must br check

# --- a live data directory under another path ----------------------------------------------
# The running primary's data directory bind-mounted at $ALIAS: the same directory under a path
# the /proc scan's path comparison does not know. A restore into it, or into a directory of it,
# must be refused as into the live cluster, and the message must not send the user to delete the
# postmaster.pid of a running server.
as_pg mkdir -p "$ALIAS"
must mount --bind "$DATA" "$ALIAS"
TWOPHASE_BEFORE=$(ls -A "$DATA/pg_twophase" | wc -l)
expect_exit "restore --delta into the live data directory under another path" 40 \
    "$BR" --config="$CONF" --stanza=main --pg1-path="$ALIAS" restore --delta
expect_contains "... names the running PostgreSQL" "$OUT" "PostgreSQL is running on data directory '$ALIAS'"
expect_eq "... does not tell to remove the live server's postmaster.pid" \
    "$([[ "$OUT" == *"remove '$ALIAS/postmaster.pid'"* ]] && echo advises-removal || echo no)" "no"
expect_exit "restore into an empty directory of the live cluster, under another path" 40 \
    "$BR" --config="$CONF" --stanza=main --pg1-path="$ALIAS/pg_twophase" restore
expect_contains "... names the live data directory it is inside" "$OUT" "is inside '$DATA', the data directory"
expect_eq "... nothing written into the live cluster's pg_twophase" \
    "$(ls -A "$DATA/pg_twophase" | wc -l)" "$TWOPHASE_BEFORE"
must umount "$ALIAS"
expect_eq "the primary still answers, with its rows" "$(psql_at 55800 'SELECT count(*) FROM t')" "100"

# --- two restores at once into the same directory ------------------------------------------
# A restore of B1 is under way (stopped with SIGSTOP right after its marker appeared, so the
# timing is fixed). The same restore run again meanwhile took the marker for an unfinished one
# and "resumed" it; a restore of B2 with --delta, as the refusal of a restore without it
# advises, went over it. Both wrote into the directory A was writing: one must be refused.
must psql_at 55800 "CREATE TABLE big AS SELECT g AS id, repeat('x', 200) AS pad FROM generate_series(1, 300000) g"
expect_exit "backup B1" 0 "$BR" --config="$CONF" --stanza=main backup --type=full --start-fast
B1=$(br info --output=json | python3 -c "import json,sys; print(json.load(sys.stdin)[0]['backup'][-1]['label'])")
must psql_at 55800 "INSERT INTO t SELECT generate_series(101, 150); UPDATE big SET pad = repeat('y', 200)"
sleep 1.1  # B2's label differs from B1's
expect_exit "backup B2" 0 "$BR" --config="$CONF" --stanza=main backup --type=full --start-fast
B2=$(br info --output=json | python3 -c "import json,sys; print(json.load(sys.stdin)[0]['backup'][-1]['label'])")
TWICE=$IT_TMP/restore-twice
"${PG_EXEC[@]}" "$BR" --config="$CONF" --stanza=main --pg1-path="$TWICE" restore --set="$B1" \
    --type=immediate --target-action=promote --archive-mode=off >"$IT_TMP/twice-a.out" 2>&1 &
PA=$!
for _ in $(seq 1 2000); do [ -f "$TWICE/backrest.restore" ] && break; sleep 0.005; done
kill -STOP "$PA"
expect_exit "the same restore run again while the first is under way: refused" 29 \
    "$BR" --config="$CONF" --stanza=main --pg1-path="$TWICE" restore --set="$B1" \
    --type=immediate --target-action=promote --archive-mode=off
expect_contains "... naming the directory another restore is writing" "$OUT" "another restore is writing into '$TWICE'"
expect_exit "restore --delta of another backup over a restore under way: refused" 29 \
    "$BR" --config="$CONF" --stanza=main --pg1-path="$TWICE" restore --set="$B2" --delta \
    --type=immediate --target-action=promote --archive-mode=off
expect_contains "... naming the directory" "$OUT" "another restore is writing into '$TWICE'"
kill -CONT "$PA"
wait "$PA"
expect_eq "the first restore completes (exit)" "$?" "0"
sed -i "s/^port = .*/port = 55803/" "$TWICE/postgresql.conf"
pg_start "$TWICE"
wait_promoted 55803 || fail "two restores at once: recovery did not finish" "$(tail -20 "$TWICE.log")"
expect_eq "... and the copy holds exactly B1 (rows of t, pad of big)" \
    "$(psql_at 55803 "SELECT (SELECT count(*) FROM t) || ' ' || (SELECT string_agg(DISTINCT left(pad, 1), '') FROM big)")" "100 x"
pg_stop "$TWICE"
rm -rf "$TWICE"

# --- a bad copy set aside is not an archived segment ----------------------------------------
# The only copy of a segment renamed aside as <name>-<sha>.bad-<time> (what archive-push does with
# a bad copy, and what a warning tells the operator to do): archive-get ignores it, so recovery
# would stop there; restore must see the gap instead of counting the set-aside file as archived.
must psql_at 55800 "INSERT INTO t SELECT generate_series(101, 110)"
BADSEG=$(psql_at 55800 "SELECT pg_walfile_name(pg_current_wal_lsn())")
must psql_at 55800 "SELECT pg_switch_wal()"
must psql_at 55800 "INSERT INTO t SELECT generate_series(111, 120)"
must br check
BADSEG_FILE=$(ls "$ARCHIVE/${BADSEG:0:16}/" | grep "^$BADSEG-")
must mv "$ARCHIVE/${BADSEG:0:16}/$BADSEG_FILE" "$ARCHIVE/${BADSEG:0:16}/$BADSEG_FILE.bad-1764900000"
expect_exit "archive-get: the set-aside copy is not archived" 1 "$BR" --config="$CONF" --stanza=main \
    archive-get "$BADSEG" "$IT_TMP/aside/got"
restore set-aside 23
expect_contains "a set-aside copy: the gap is refused naming the segment" "$OUT" "WAL segment $BADSEG is missing"
absent set-aside
must mv "$ARCHIVE/${BADSEG:0:16}/$BADSEG_FILE.bad-1764900000" "$ARCHIVE/${BADSEG:0:16}/$BADSEG_FILE"
restore set-aside-back 0
expect_contains "the segment back: the restore goes ahead" "$OUT" "restore"
rm -rf "$IT_TMP/restore-set-aside-back"

# --- relative paths in the restore_command --------------------------------------------------
# restore --config=backrest.conf (relative to where restore ran): PostgreSQL runs restore_command
# in the restored data directory, where 'backrest.conf' is another file (or none), so recovery
# could not read the archive at all. (A relative --repo1-path is refused already.)
REL=$IT_TMP/restore-relative
OUT=$(cd "$IT_TMP" && as_pg "$BR" --config=backrest.conf --stanza=main --pg1-path="$REL" \
    restore --type=immediate --target-action=promote 2>&1)
RC=$?
expect_eq "restore with a relative --config (exit)" "$RC" 0
RESTORE_CMD=$(grep -h "^restore_command" "$REL/postgresql.auto.conf" | tail -1)
expect_contains "restore_command names the config file by its absolute path" "$RESTORE_CMD" "--config=$CONF "
CMD=$(printf '%s' "$RESTORE_CMD" | sed "s/^restore_command = '//; s/'\$//; s/''/'/g")
CMD=${CMD//%f/$BADSEG}
CMD=${CMD//%p/pg_wal\/RECOVERYXLOG}
OUT=$(cd "$REL" && as_pg bash -c "$CMD" 2>&1)
RC=$?
expect_eq "that restore_command, run in the restored directory as PostgreSQL does, finds $BADSEG" "$RC" "0"
[ "$RC" -eq 0 ] || printf '%s\n' "$OUT" | head -5 | sed 's/^/    # /'
OUT=$(cd "$IT_TMP" && as_pg "$BR" --config="$CONF" --stanza=main --repo1-path=repo --pg1-path="$IT_TMP/restore-relrepo" \
    restore 2>&1)
expect_contains "a relative --repo1-path is refused naming it" "$OUT" "option 'repo1-path' must be an absolute path"
absent relrepo
rm -rf "$REL"

# Timeline 2: a copy of the backup promoted, archiving; a gap on it, with WAL archived after.
restore tl2 0
promote_archiving tl2 55801
must psql_at 55801 "SELECT pg_switch_wal()"
must psql_at 55801 "INSERT INTO t SELECT generate_series(1001, 1010)"
GAP2=$(psql_at 55801 "SELECT pg_walfile_name(pg_current_wal_lsn())")
must psql_at 55801 "SELECT pg_switch_wal()"
must psql_at 55801 "INSERT INTO t SELECT generate_series(1011, 1020)"
NEXT2=$(psql_at 55801 "SELECT pg_walfile_name(pg_current_wal_lsn())")
must psql_at 55801 "SELECT pg_switch_wal()"
wait_archived "$NEXT2" || fail "timeline 2: $NEXT2 not archived"
pg_stop "$IT_TMP/restore-tl2"
# Timeline 3: another copy, on timeline 1, promoted archiving: the latest timeline, and whole.
restore tl3 0 --target-timeline=current
promote_archiving tl3 55802
must psql_at 55802 "SELECT pg_switch_wal()"
pg_stop "$IT_TMP/restore-tl3"
expect_eq "timelines 2 and 3 archived" \
    "$(ls "$ARCHIVE" | grep -c '^0000000[23].history-') ${GAP2:0:8}" "2 00000002"
GAP2_FILE=$(ls "$ARCHIVE/${GAP2:0:16}/" | grep "^$GAP2-")
mv "$ARCHIVE/${GAP2:0:16}/$GAP2_FILE" "$IT_TMP/aside/"

restore tl-2 23 --target-timeline=2
expect_contains "--target-timeline=2: the gap on timeline 2 refused" "$OUT" "WAL segment $GAP2 is missing"
absent tl-2
# PostgreSQL reads recovery_target_timeline with strtoul(.., 0): 0x2 is timeline 2, 010 is 8.
for form in 0x2 0X2 " 2" +2 010 02 0 -1 4294967296 99999999999999999999 Latest two ""; do
    name=form-$(printf '%s' "$form" | tr -c 'a-zA-Z0-9' '_')
    OUT=$(as_pg "$BR" --config="$CONF" --stanza=main --pg1-path="$IT_TMP/restore-$name" restore \
        "--target-timeline=$form" 2>&1)
    RC=$?
    setting=$(grep -h "^recovery_target_timeline" "$IT_TMP/restore-$name/postgresql.auto.conf" 2>/dev/null | tail -1)
    case "$form" in
    0x2 | 0X2)
        # Either refused, or written as timeline 2 and then checked along it (the gap refuses it).
        expect_eq "--target-timeline='$form': the gap on timeline 2 refused (exit)" "$RC" 23
        expect_contains "--target-timeline='$form': the gap on timeline 2 named" "$OUT" "WAL segment $GAP2 is missing"
        ;;
    *)
        expect_eq "--target-timeline='$form': refused as an option error (exit)" "$RC" 21
        expect_contains "--target-timeline='$form': the message names the option" "$OUT" "option 'target-timeline'"
        ;;
    esac
    expect_eq "--target-timeline='$form': nothing written ($setting)" \
        "$(test -e "$IT_TMP/restore-$name" && echo exists || echo absent)" "absent"
done
# The same setting through --recovery-option: read the same way.
restore ro-hex 23 --recovery-option=recovery_target_timeline=0x2
expect_contains "--recovery-option=recovery_target_timeline=0x2: the gap on timeline 2 named" "$OUT" \
    "WAL segment $GAP2 is missing"
absent ro-hex
restore ro-octal 21 --recovery-option=recovery_target_timeline=010
expect_contains "--recovery-option=recovery_target_timeline=010: refused naming the option" "$OUT" \
    "option 'recovery-option=recovery_target_timeline'"
absent ro-octal
mv "$IT_TMP/aside/$GAP2_FILE" "$ARCHIVE/${GAP2:0:16}/"
