#!/usr/bin/env bash
# archive-get with archive-async over two repositories: the fetcher takes each segment from the
# first repository having it verified. repo1 lacks some segments and holds a copy of another
# damaged at byte 64 (its page header intact: the copy that, served, once ended recovery early);
# recovery reaches the end of the WAL (the primary's last rows restored), the damaged copy named
# in a warning, the spool empty and the fetcher gone after; restore's check of the archive counts
# repo2's segments (restore --repo=1 refuses the gap). A segment damaged in repo1 and absent
# from repo2 stops recovery, naming both, and never promotes. repo1's segments unreadable: each
# served from repo2 with a warning, recovery stops at the end of repo2's WAL (repo1 may hold the
# next) saying to add --repo=2, and ends there once it is added.
set -u
SUITE=archive_get_async_repos
TEST_BACKREST_BIN=${TEST_BACKREST_BIN:-$(dirname "$0")/../../build/backrest}
source "$(dirname "$0")/lib.sh"
it_setup

R1=$IT_TMP/repo
R2=$IT_TMP/repo2
SPOOL=$IT_TMP/spool
# compress-type=none: the stored copy is the segment's bytes, so the damage leaves its header whole.
it_primary_without_stanza 57360 "repo2-path=$R2" "compress-type=none" "process-max=2" "log-level-console=warn"
as_pg mkdir -p "$R2"
must br stanza-create
ASYNC=(--archive-async=y "--spool-path=$SPOOL" --archive-get-queue-max=64MiB)

rows() { psql_at "$1" "SELECT count(*) || ':' || md5(string_agg(id || phase, ',' ORDER BY id, phase)) FROM t"; }
fetchers() { pgrep -f -- "--spool-path=$SPOOL" | tr '\n' ' '; }
wait_no_fetcher() {
    local i
    for i in $(seq 1 240); do
        [ -z "$(fetchers)" ] && return 0
        sleep 0.5
    done
    return 1
}
spool_files() { find "$SPOOL" -type f 2>/dev/null | sed "s|$SPOOL/||" | sort | tr '\n' ' '; }
stored() { find "$1/archive/main" -name "$2-*" 2>/dev/null; }  # repo segment
restore_async() {  # name port [restore args...]
    local name=$1 port=$2
    shift 2
    expect_exit "restore $name" 0 "$BR" --config="$CONF" --stanza=main --pg1-path="$IT_TMP/$name" restore \
        "${ASYNC[@]}" --log-level-console=info "$@"
    sed -i "s/^port = .*/port = $port/; s/^archive_mode = .*/archive_mode = off/" "$IT_TMP/$name/postgresql.conf"
}

# A backup into repo1, then 12 segments with rows in each, archived into both repositories.
must psql_at 57360 "CREATE TABLE t (id int, phase text)"
expect_exit "full backup into repo1" 0 "$BR" --config="$CONF" --stanza=main backup --type=full --start-fast
SEGS=()
for i in $(seq 1 12); do
    must psql_at 57360 "INSERT INTO t SELECT $i, md5(g::text) FROM generate_series(1, 300) g"
    SEGS+=("$(psql_at 57360 "SELECT pg_walfile_name(pg_current_wal_insert_lsn())")")
    must psql_at 57360 "SELECT pg_switch_wal()"
done
must psql_at 57360 "INSERT INTO t SELECT 99, 'last'"
LAST=$(psql_at 57360 "SELECT pg_walfile_name(pg_current_wal_insert_lsn())")
must psql_at 57360 "SELECT pg_switch_wal()"
for i in $(seq 1 240); do
    [ -n "$(stored "$R2" "$LAST")" ] && [ -n "$(stored "$R1" "$LAST")" ] && break
    sleep 0.25
done
expect_eq "the last segment ($LAST) is in both repositories" "$(stored "$R1" "$LAST" | wc -l) $(stored "$R2" "$LAST" | wc -l)" "1 1"
PRIMARY=$(rows 57360)
pg_stop "$DATA"

# repo1 loses two segments and holds a copy of a third damaged at byte 64.
MISSING1=${SEGS[3]}
MISSING2=${SEGS[4]}
DAMAGED=${SEGS[7]}
rm -f "$(stored "$R1" "$MISSING1")" "$(stored "$R1" "$MISSING2")"
D1=$(stored "$R1" "$DAMAGED")
printf 'damaged!' | dd of="$D1" bs=1 seek=64 conv=notrunc status=none
expect_exit "archive-get --repo=1 of the damaged segment fails" 255 \
    "$BR" --config="$CONF" --stanza=main --repo=1 archive-get "$DAMAGED" "$IT_TMP/probe"
# restore's check of the archive: with --repo=1 (restore_command reads repo1 alone) the lost
# segment is a gap; without, repo2 holds it, and restore_command reads repo2 too.
expect_exit "restore --repo=1: the segment repo1 lost stops it" 23 "$BR" --config="$CONF" --stanza=main --repo=1 \
    --pg1-path="$IT_TMP/repo1-only" restore
expect_contains "restore --repo=1 names the lost segment" "$OUT" "WAL segment $MISSING1 is missing from archive 15-1"
expect_eq "restore --repo=1 wrote nothing" "$(test -e "$IT_TMP/repo1-only" && echo present)" ""

# 1. Recovery to the end with the read-ahead: every segment from the first repository having it.
restore_async two 57361 --target-action=promote
expect_contains "restore_command asks for the read-ahead" "$(grep '^restore_command' "$IT_TMP/two/postgresql.auto.conf")" "--archive-async=y"
pg_start "$IT_TMP/two"
if wait_promoted 57361; then pass "two: recovery ended and promoted"; else fail "two: promoted" "$(tail -20 "$IT_TMP/two.log")"; fi
expect_eq "two: every row of the primary, its last ones too" "$(rows 57361)" "$PRIMARY"
expect_eq "two: the last row is there" "$(psql_at 57361 "SELECT phase FROM t WHERE id = 99")" "last"
LOG=$(cat "$IT_TMP/two.log")
SERVED=$(grep -c "restored to .* from the spool" "$IT_TMP/two.log")
[ "$SERVED" -ge 8 ] && pass "two: segments served from the spool ($SERVED)" ||
    fail "two: segments served from the spool" "$SERVED; $(grep archive-get "$IT_TMP/two.log" | tail -5)"
for seg in "$MISSING1" "$MISSING2" "$DAMAGED"; do
    expect_contains "two: $seg served from the spool" "$LOG" "archive-get: $seg restored to"
done
expect_contains "two: the warning names repo1 and the damaged segment" "$LOG" "archive-get: repo1 ($R1):"
expect_contains "two: the warning says where the segment came from" "$LOG" \
    "WAL segment $DAMAGED was taken from the next repository having it, repo2 ($R2)"
expect_eq "two: no spooled copy refused" "$(grep -c 'in the spool (' "$IT_TMP/two.log")" "0"
pg_stop "$IT_TMP/two"
if wait_no_fetcher; then pass "two: the fetcher stopped once idle"; else fail "two: the fetcher stopped" "$(fetchers)"; fi
expect_eq "two: the spool is empty" "$(spool_files)" ""

# 2. A segment damaged in repo1 and in no other repository (removed from repo2 after the restore):
# recovery stops, naming both, and the cluster never promotes with the older data.
IT_SERVERS+=("$IT_TMP/stops")
restore_async stops 57362 --target-action=promote
D2=$(stored "$R2" "$DAMAGED")
must cp -p "$D2" "$IT_TMP/repo2-copy"
rm -f "$D2"
as_pg "$PGBIN/pg_ctl" -D "$IT_TMP/stops" -l "$IT_TMP/stops.log" start >/dev/null 2>&1
STOPPED=
for i in $(seq 1 240); do
    [ ! -f "$IT_TMP/stops/postmaster.pid" ] && STOPPED=y && break
    sleep 0.5
done
expect_eq "stops: the server stopped recovery" "$STOPPED" "y"
ERRORS=$(grep 'ERROR\|FATAL\|WARNING' "$IT_TMP/stops.log")
expect_contains "stops: the error names repo1's damaged copy" "$ERRORS" "repo1 ($R1): "
expect_contains "stops: the error names the segment" "$ERRORS" "$DAMAGED"
expect_contains "stops: repo2 is said not to have it" "$ERRORS" "is not in repo2"
expect_eq "stops: never promoted" "$(grep -c 'selected new timeline ID' "$IT_TMP/stops.log")" "0"
expect_contains "stops: still in archive recovery" \
    "$(as_pg "$PGBIN/pg_controldata" "$IT_TMP/stops" | grep 'cluster state')" "in archive recovery"
if wait_no_fetcher; then pass "stops: the fetcher stopped"; else fail "stops: the fetcher stopped" "$(fetchers)"; fi
expect_eq "stops: the spool is empty" "$(spool_files)" ""

# 3. repo1's segment directory unreadable (closed to postgres after the restore): each segment
# fails in repo1 and is served from repo2, repo1 named in a warning; at the end of repo2's WAL the
# next segment may be in repo1, so recovery stops (never promotes) saying to add --repo=2, and
# with --repo=2 in restore_command it ends there with every row.
must cp -p "$IT_TMP/repo2-copy" "$D2"
restore_async closed 57370 --target-action=promote
SEGDIR=$(dirname "$D1")
chmod 000 "$SEGDIR"
IT_SERVERS+=("$IT_TMP/closed")
as_pg "$PGBIN/pg_ctl" -D "$IT_TMP/closed" -l "$IT_TMP/closed.log" start >/dev/null 2>&1
STOPPED=
for i in $(seq 1 240); do
    [ ! -f "$IT_TMP/closed/postmaster.pid" ] && STOPPED=y && break
    sleep 0.5
done
LOG=$(cat "$IT_TMP/closed.log")
expect_eq "closed: recovery stopped at the end of repo2's WAL" "$STOPPED" "y"
expect_eq "closed: never promoted" "$(grep -c 'selected new timeline ID' "$IT_TMP/closed.log")" "0"
SERVED=$(grep -c "restored to .* from the spool" "$IT_TMP/closed.log")
[ "$SERVED" -ge 8 ] && pass "closed: segments served from the spool ($SERVED)" || fail "closed: segments served from the spool" "$SERVED"
expect_contains "closed: repo1 named, repo2 as the source" "$LOG" \
    "WAL segment $LAST was taken from the next repository having it, repo2 ($R2)"
expect_contains "closed: the way on is named" "$LOG" "add --repo=2 to restore_command"
sed -i "s|^restore_command = '\(.*\)archive-get|restore_command = '\1--repo=2 archive-get|" "$IT_TMP/closed/postgresql.auto.conf"
expect_contains "closed: restore_command reads repo2 alone" "$(grep '^restore_command' "$IT_TMP/closed/postgresql.auto.conf")" "--repo=2 archive-get"
pg_start "$IT_TMP/closed"
if wait_promoted 57370; then pass "closed: with --repo=2, recovery ended"; else fail "closed: promoted" "$(tail -20 "$IT_TMP/closed.log")"; fi
expect_eq "closed: every row of the primary" "$(rows 57370)" "$PRIMARY"
pg_stop "$IT_TMP/closed"
chmod 0750 "$SEGDIR"
if wait_no_fetcher; then pass "closed: the fetcher stopped"; else fail "closed: the fetcher stopped" "$(fetchers)"; fi
expect_eq "closed: the spool is empty" "$(spool_files)" ""
