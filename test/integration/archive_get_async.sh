#!/usr/bin/env bash
# archive-get with archive-async: recovery of 45+ segments served from the spool the fetcher fills
# ahead (data equal to the primary's, the spool empty and the fetcher gone afterwards); the
# fetcher killed with -9 in mid-recovery (recovery still completes, its leftovers cleaned); a
# segment of another cluster planted in the spool is never served; a damaged segment in the
# repository stops recovery (no promotion with older data) with a message naming it.
set -u
SUITE=archive_get_async
TEST_BACKREST_BIN=${TEST_BACKREST_BIN:-$(dirname "$0")/../../build/backrest}
source "$(dirname "$0")/lib.sh"
it_setup

it_primary 57200 "log-level-console=warn" "process-max=2"
SPOOL=$IT_TMP/spool
ASYNC=(--archive-async=y "--spool-path=$SPOOL" --archive-get-queue-max=64MiB)
ARCHIVE=$IT_TMP/repo/archive/main/15-1
LOCK=$IT_TMP/lock/main-archive-get.lock

fingerprint() {  # port
    psql_at "$1" "SELECT (SELECT md5(string_agg(aid || ':' || abalance, ',' ORDER BY aid)) FROM pgbench_accounts)
        || ' ' || (SELECT count(*) || ':' || md5(string_agg(id || phase, ',' ORDER BY id, phase)) FROM t)"
}
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
# A restore with the async options into $IT_TMP/<name>, listening on `port`, not archiving.
restore_async() {  # name port [restore args...]
    local name=$1 port=$2
    shift 2
    expect_exit "restore $name" 0 "$BR" --config="$CONF" --stanza=main --pg1-path="$IT_TMP/$name" restore \
        "${ASYNC[@]}" --log-level-console=info "$@"
    sed -i "s/^port = .*/port = $port/; s/^archive_mode = .*/archive_mode = off/" "$IT_TMP/$name/postgresql.conf"
}

# A backup, then WAL: pgbench's data and 45 segments switched with rows in each, all archived.
must psql_at 57200 "CREATE TABLE t (id int, phase text)"
expect_exit "full backup" 0 "$BR" --config="$CONF" --stanza=main backup --type=full --start-fast
must as_pg "$PGBIN/pgbench" -h "$IT_TMP" -p 57200 -U postgres -i -s 4 -q postgres
for i in $(seq 1 45); do
    must psql_at 57200 "INSERT INTO t SELECT $i, md5(g::text) FROM generate_series(1, 500) g"
    [ "$i" -eq 25 ] && must psql_at 57200 "SELECT pg_create_restore_point('mid')"
    must psql_at 57200 "UPDATE pgbench_accounts SET abalance = abalance + $i WHERE aid % 97 = $i"
    must psql_at 57200 "SELECT pg_switch_wal()"
done
must br check
PRIMARY=$(fingerprint 57200)
SEGMENTS=$(ls "$ARCHIVE"/0000000100000000/ | grep -c '^0000000100000000000000[0-9A-F][0-9A-F]-')
[ "$SEGMENTS" -ge 45 ] && pass "45+ segments archived ($SEGMENTS)" || fail "45+ segments archived" "$SEGMENTS"

# 1. Recovery to the end through the spool.
restore_async plain 57201 --target-action=promote
RESTORE_COMMAND=$(grep '^restore_command' "$IT_TMP/plain/postgresql.auto.conf")
expect_contains "restore_command asks for the read-ahead" "$RESTORE_COMMAND" "--archive-async=y"
expect_contains "restore_command has the queue size" "$RESTORE_COMMAND" "--archive-get-queue-max=67108864"
expect_contains "restore_command has the spool" "$RESTORE_COMMAND" "--spool-path=$SPOOL"
pg_start "$IT_TMP/plain"
if wait_promoted 57201; then pass "plain: recovery ended and promoted"; else fail "plain: promoted" "$(tail -20 "$IT_TMP/plain.log")"; fi
expect_eq "plain: data equal to the primary's" "$(fingerprint 57201)" "$PRIMARY"
SERVED=$(grep -c "restored to .* from the spool" "$IT_TMP/plain.log")
[ "$SERVED" -ge 30 ] && pass "plain: most segments served from the spool ($SERVED)" ||
    fail "plain: most segments served from the spool" "$SERVED; $(grep archive-get "$IT_TMP/plain.log" | tail -5)"
expect_eq "plain: no spooled copy refused" "$(grep -c 'in the spool' "$IT_TMP/plain.log")" "0"
pg_stop "$IT_TMP/plain"
if wait_no_fetcher; then pass "plain: the fetcher stopped once idle"; else fail "plain: the fetcher stopped" "$(fetchers)"; fi
expect_eq "plain: the spool is empty" "$(spool_files)" ""

# 2. Paused at a restore point mid-way (the fetcher has read ahead), the fetcher killed with -9,
# a write cut short left in the spool; restarted without the target, recovery reaches the end.
restore_async killed 57202 --type=name --target=mid --target-action=pause
pg_start "$IT_TMP/killed"
PAUSED=
for i in $(seq 1 240); do
    [ "$(psql_at 57202 'SELECT pg_get_wal_replay_pause_state()' 2>/dev/null)" == "paused" ] && PAUSED=y && break
    sleep 0.5
done
expect_eq "killed: paused at the restore point" "$PAUSED" "y"
PIDS=$(fetchers)
[ -n "$PIDS" ] && pass "killed: a fetcher runs at the pause ($PIDS)" || fail "killed: a fetcher runs at the pause"
[ -n "$PIDS" ] && kill -9 $PIDS
sleep 0.2
expect_eq "killed: the fetcher is gone" "$(fetchers)" ""
IN=$SPOOL/archive/main/in
ASKED=$(cat "$IN/asked" 2>/dev/null)
[ -n "$ASKED" ] && pass "killed: the spool records the asked segment ($ASKED)" || fail "killed: spool has asked" "$(spool_files)"
READY=$(ls "$IN" | grep -c '^[0-9A-F]\{24\}$')
[ "$READY" -ge 1 ] && pass "killed: segments were read ahead ($READY)" || fail "killed: segments were read ahead" "$(spool_files)"
NEXT=$(ls "$IN" | grep '^[0-9A-F]\{24\}$' | tail -1)
head -c 5000 "$IN/$NEXT" >"$IN/$NEXT.tmp"
chown postgres:postgres "$IN/$NEXT.tmp"
pg_stop "$IT_TMP/killed"
sed -i "/^recovery_target_name/d; /^recovery_target_action/d" "$IT_TMP/killed/postgresql.auto.conf"
pg_start "$IT_TMP/killed"
if wait_promoted 57202; then pass "killed: recovery resumed to the end"; else fail "killed: recovery resumed" "$(tail -20 "$IT_TMP/killed.log")"; fi
expect_eq "killed: data equal to the primary's" "$(fingerprint 57202)" "$PRIMARY"
pg_stop "$IT_TMP/killed"
if wait_no_fetcher; then pass "killed: the new fetcher stopped"; else fail "killed: the new fetcher stopped" "$(fetchers)"; fi
expect_eq "killed: the spool is empty (the cut-short write too)" "$(spool_files)" ""

# 3. Another cluster's segment planted in the spool under the name recovery asks next: refused
# and fetched from the repository. The fetcher is kept out (its lock held) so the plant stays.
OTHER=$IT_TMP/other
pg_init "$OTHER" 57203
pg_start "$OTHER"
must psql_at 57203 "SELECT pg_switch_wal()"
OTHER_SEG=$(ls "$OTHER/pg_wal" | grep '^[0-9A-F]\{24\}$' | head -1)
cp "$OTHER/pg_wal/$OTHER_SEG" "$IT_TMP/other-segment"
OTHER_ID=$(as_pg "$PGBIN/pg_controldata" "$OTHER" | awk '/Database system identifier/ {print $4}')
pg_stop "$OTHER"
restore_async planted 57204
SEG=$(ls "$ARCHIVE"/0000000100000000/ | grep '^0000000100000000000000[0-9A-F][0-9A-F]-' | sed -n 20p | cut -c1-24)
as_pg mkdir -p "$IT_TMP/lock"
# flock -o: the lock is flock's own, released when it is killed (not its sleeping child's).
as_pg touch "$LOCK"
"${PG_EXEC[@]}" flock -o "$LOCK" sleep 600 &
HOLDER=$!
for i in $(seq 1 100); do
    flock -n "$LOCK" true || break
    sleep 0.1
done
as_pg bash -c "cd '$IT_TMP/planted' && '$BR' --config='$CONF' --stanza=main ${ASYNC[*]} archive-get 00000001000000000000FFFF pg_wal/probe" >/dev/null 2>&1
cp "$IT_TMP/other-segment" "$IN/$SEG"
chown postgres:postgres "$IN/$SEG"
OUT=$(as_pg bash -c "cd '$IT_TMP/planted' && '$BR' --config='$CONF' --stanza=main ${ASYNC[*]} archive-get $SEG pg_wal/RECOVERYXLOG" 2>&1)
expect_eq "planted: archive-get serves the segment (exit)" "$?" "0"
expect_contains "planted: the foreign copy is refused by name" "$OUT" \
    "WAL segment $SEG in the spool ('$IN/$SEG') belongs to the cluster with system identifier $OTHER_ID"
as_pg bash -c "cd '$IT_TMP/planted' && '$BR' --config='$CONF' --stanza=main archive-get $SEG pg_wal/SYNC" >/dev/null 2>&1
if cmp -s "$IT_TMP/planted/pg_wal/RECOVERYXLOG" "$IT_TMP/planted/pg_wal/SYNC"; then
    pass "planted: the served bytes are the repository's"
else
    fail "planted: the served bytes are the repository's"
fi
expect_eq "planted: the foreign copy is gone from the spool" "$(test -e "$IN/$SEG" && echo present)" ""
SLEEPER=$(pgrep -P "$HOLDER")
kill "$HOLDER" $SLEEPER 2>/dev/null
wait "$HOLDER" 2>/dev/null
rm -rf "$SPOOL/archive"

# 4. A damaged segment in the repository: recovery stops before it, naming it; never promotes.
DAMAGED=$(ls "$ARCHIVE"/0000000100000000/ | grep '^0000000100000000000000[0-9A-F][0-9A-F]-' | tail -8 | head -1)
DAMAGED_SEG=${DAMAGED:0:24}
SIZE=$(stat -c %s "$ARCHIVE/0000000100000000/$DAMAGED")
printf 'damaged!' | dd of="$ARCHIVE/0000000100000000/$DAMAGED" bs=1 seek=$((SIZE / 2)) conv=notrunc 2>/dev/null
restore_async damaged 57205 --target-action=promote
IT_SERVERS+=("$IT_TMP/damaged")
as_pg "$PGBIN/pg_ctl" -D "$IT_TMP/damaged" -l "$IT_TMP/damaged.log" start >/dev/null 2>&1
STOPPED=
for i in $(seq 1 240); do
    [ ! -f "$IT_TMP/damaged/postmaster.pid" ] && STOPPED=y && break
    sleep 0.5
done
expect_eq "damaged: the server stopped recovery" "$STOPPED" "y"
expect_contains "damaged: the error names the segment" "$(grep 'ERROR' "$IT_TMP/damaged.log")" "WAL file $DAMAGED_SEG"
expect_eq "damaged: no new timeline selected (never promoted)" "$(grep -c 'selected new timeline ID' "$IT_TMP/damaged.log")" "0"
expect_contains "damaged: the cluster is still in archive recovery" \
    "$(as_pg "$PGBIN/pg_controldata" "$IT_TMP/damaged" | grep 'cluster state')" "in archive recovery"
if wait_no_fetcher; then pass "damaged: the fetcher stopped"; else fail "damaged: the fetcher stopped" "$(fetchers)"; fi
expect_eq "damaged: the spool is empty" "$(spool_files)" ""
