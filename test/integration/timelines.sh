#!/usr/bin/env bash
# Timelines in one archive: a drill's promoted copy pushes timeline 2 into the stanza while the
# primary goes on archiving timeline 1; a restore to a restore point made on timeline 1 after the
# branch must still reach it (restore pins recovery_target_timeline), and info/check name the side
# branch. restore --archive-mode=off keeps a restored copy from archiving at all. After a failover
# (a copy promoted, the old primary dead), a restore to latest follows the new timeline.
set -u
SUITE=timelines
TEST_BACKREST_BIN=${TEST_BACKREST_BIN:-$(dirname "$0")/../../build/backrest}
source "$(dirname "$0")/lib.sh"
it_setup

it_primary 55780 "log-level-console=warn"
REPO=$IT_TMP/repo
ARCHIVE_ID_DIR=$REPO/archive/main/15-1
rows() { psql_at "$1" "SELECT phase || ':' || count(*) FROM t GROUP BY phase ORDER BY phase" | tr '\n' ' '; }
# A copy keeps the primary's archive_command and config file (whose pg1-path is the primary's):
# archive-push reads the WAL of the cluster that runs it (%p is relative to its data directory).
own_archiving() {  # datadir port
    sed -i "s/^port = .*/port = $2/" "$1/postgresql.conf"
}
history_files() { ls "$ARCHIVE_ID_DIR" 2>/dev/null | grep '\.history-' | cut -c1-16 | tr '\n' ' '; }

must psql_at 55780 "CREATE TABLE t (id serial, phase text); INSERT INTO t (phase) SELECT 'a' FROM generate_series(1, 10)"
expect_exit "full backup" 0 "$BR" --config="$CONF" --stanza=main backup --type=full --start-fast
must psql_at 55780 "INSERT INTO t (phase) SELECT 'b' FROM generate_series(1, 10)"
must br check

# The drill: the backup restored to a copy that archives into the same stanza, promoted at the
# end of the archive: timeline 2 and its segments reach the stanza.
DRILL=$IT_TMP/drill
expect_exit "drill: restore" 0 "$BR" --config="$CONF" --stanza=main --pg1-path="$DRILL" restore --target-action=promote
own_archiving "$DRILL" 55781
pg_start "$DRILL"
wait_promoted 55781 || fail "drill: copy did not promote" "$(tail -20 "$DRILL.log")"
must psql_at 55781 "INSERT INTO t (phase) SELECT 'drill' FROM generate_series(1, 10)"
must br --pg1-path="$DRILL" --pg1-port=55781 check
pg_stop "$DRILL"
expect_eq "drill: timeline 2 archived" "$(history_files)" "00000002.history "

# The primary goes on: a restore point after the branch, rows on each side of it, all archived.
sleep 1.5  # the archive's times have a resolution of one second
must psql_at 55780 "INSERT INTO t (phase) SELECT 'c' FROM generate_series(1, 10)"
must psql_at 55780 "SELECT pg_create_restore_point('after_drill')"
must psql_at 55780 "INSERT INTO t (phase) SELECT 'd' FROM generate_series(1, 10)"
expect_exit "check after the drill" 0 "$BR" --config="$CONF" --stanza=main check
expect_contains "check warns about the side branch" "$OUT" "timeline 2 branched off timeline 1 at"
expect_exit "info after the drill" 0 "$BR" --config="$CONF" --stanza=main info
expect_contains "info warns about the side branch" "$OUT" "timeline 2 branched off timeline 1 at"
expect_exit "info json after the drill" 0 "$BR" --config="$CONF" --stanza=main info --output=json
expect_contains "info json lists the side branch" "$OUT" '"side-branches":[{"archived-to":"00000002'
expect_contains "info json names both timelines" "$OUT" '"parent":1,"parent-archived-to":"00000001'

# The restore to the restore point: PostgreSQL's default recovery_target_timeline 'latest' would
# follow timeline 2 and never see after_drill.
NAMED=$IT_TMP/named
expect_exit "restore to after_drill" 0 "$BR" --config="$CONF" --stanza=main --pg1-path="$NAMED" restore \
    --type=name --target=after_drill --target-action=promote
expect_contains "restore says which timeline it follows" "$OUT" "following timeline 1: timeline 2 branched off it at"
expect_contains "restore pins the original timeline" "$(cat "$NAMED/postgresql.auto.conf" 2>/dev/null)" \
    "recovery_target_timeline = '1'"
sed -i "s/^port = .*/port = 55782/; s/^archive_mode = .*/archive_mode = off/" "$NAMED/postgresql.conf"
pg_start "$NAMED"
if wait_promoted 55782; then
    pass "restore to after_drill: recovery reached the target"
    expect_eq "restore to after_drill: rows up to the restore point, none of the drill's" "$(rows 55782)" "a:10 b:10 c:10 "
else
    fail "restore to after_drill: recovery reached the target" "$(grep -E 'FATAL|LOG:  recovery' "$NAMED.log" | tail -5)"
fi
NOT_REACHED=$(grep -c "recovery ended before configured recovery target was reached" "$NAMED.log")
expect_eq "restore to after_drill: no 'recovery ended before configured recovery target'" "$NOT_REACHED" "0"
pg_stop "$NAMED"

# --archive-mode=off: the restored copy never archives, not even its new timeline.
expect_exit "restore --archive-mode=off with --type=preserve is refused" 21 "$BR" --config="$CONF" --stanza=main \
    --pg1-path="$IT_TMP/refused" restore --type=preserve --archive-mode=off
expect_contains "the refusal names the option and the type" "$OUT" "option 'archive-mode=off' cannot be used with --type=preserve"
QUIET=$IT_TMP/quiet
expect_exit "restore --archive-mode=off" 0 "$BR" --config="$CONF" --stanza=main --pg1-path="$QUIET" restore \
    --archive-mode=off --target-action=promote
expect_contains "archive_mode off written" "$(cat "$QUIET/postgresql.auto.conf" 2>/dev/null)" "archive_mode = 'off'"
sed -i "s/^port = .*/port = 55783/" "$QUIET/postgresql.conf"
BEFORE=$(history_files)
pg_start "$QUIET"
if wait_promoted 55783; then
    expect_eq "archive-mode=off: SHOW archive_mode" "$(psql_at 55783 'SHOW archive_mode')" "off"
    must psql_at 55783 "INSERT INTO t (phase) SELECT 'quiet' FROM generate_series(1, 10); SELECT pg_switch_wal()"
    sleep 2
    TLI=$(psql_at 55783 "SELECT timeline_id FROM pg_control_checkpoint()")
    expect_eq "archive-mode=off: promoted to a new timeline" "$((TLI > 1))" "1"
    expect_eq "archive-mode=off: no timeline file pushed after the promotion" "$(history_files)" "$BEFORE"
    expect_eq "archive-mode=off: none of its segments pushed" \
        "$(find "$ARCHIVE_ID_DIR" -name "$(printf '%08X' "$TLI")*" | wc -l)" "0"
else
    fail "archive-mode=off: copy did not promote" "$(tail -20 "$QUIET.log")"
fi
pg_stop "$QUIET"

# A failover: a copy promoted at after_drill (timeline 1 was archived past it) archives into the
# stanza, the old primary is dead; a restore to latest must follow the new timeline, never come
# up on the dead primary's.
NEW=$IT_TMP/new-primary
expect_exit "failover: restore the new primary" 0 "$BR" --config="$CONF" --stanza=main --pg1-path="$NEW" restore \
    --type=name --target=after_drill --target-action=promote
own_archiving "$NEW" 55784
# The old primary archives a segment wholly past after_drill before it dies (whether the WAL
# written so far reached one depends on timing): timeline 3 is then a side branch, and the
# restore must follow it because it is the one archived last.
must br check
must br check
pg_stop "$DATA"
sleep 1.5
pg_start "$NEW"
wait_promoted 55784 || fail "failover: new primary did not promote" "$(tail -20 "$NEW.log")"
NEW_TLI=$(psql_at 55784 "SELECT timeline_id FROM pg_control_checkpoint()")
must psql_at 55784 "INSERT INTO t (phase) SELECT 'new' FROM generate_series(1, 10)"
must br --pg1-path="$NEW" --pg1-port=55784 check
pg_stop "$NEW"
LATEST=$IT_TMP/latest
expect_exit "failover: restore to latest" 0 "$BR" --config="$CONF" --stanza=main --pg1-path="$LATEST" restore \
    --archive-mode=off --target-action=promote
expect_contains "failover: restore says it follows the new timeline" "$OUT" "following timeline $NEW_TLI: it branched off timeline 1 at"
sed -i "s/^port = .*/port = 55785/" "$LATEST/postgresql.conf"
pg_start "$LATEST"
if wait_promoted 55785; then
    expect_eq "failover: restore to latest has the new primary's rows" "$(rows 55785)" "a:10 b:10 c:10 new:10 "
else
    fail "failover: restore to latest did not promote" "$(tail -20 "$LATEST.log")"
fi
expect_exit "info after the failover" 0 "$BR" --config="$CONF" --stanza=main info
expect_contains "info names the failover's timeline as a branch of 1" "$OUT" "timeline $NEW_TLI branched off timeline 1 at"
