#!/usr/bin/env bash
# Full backup of a real PostgreSQL 15 cluster (pgbench data, a second tablespace), then
# restores to latest, to a time, to a named restore point and to an xid; each restored
# cluster is started and its data compared with what it was at that point; pg_checksums
# passes on every restored directory.
set -u
SUITE=backup_restore
TEST_BACKREST_BIN=${TEST_BACKREST_BIN:-$(dirname "$0")/../../build/backrest}
source "$(dirname "$0")/lib.sh"
it_setup

as_pg mkdir -p "$IT_TMP/ts1"
it_primary 55410 process-max=2 log-level-console=warn
expect_exit "check archives a segment" 0 "$BR" --config="$CONF" --stanza=main check
expect_contains "check reports the stanza" "$OUT" "stanza 'main' OK"

must as_pg "$PGBIN/pgbench" -h "$IT_TMP" -p $PORT -U postgres -i -s 10 -q postgres
must psql_at $PORT "CREATE TABLESPACE ts1 LOCATION '$IT_TMP/ts1'"
must psql_at $PORT "CREATE TABLE ts_table (id int primary key, v text) TABLESPACE ts1;
    INSERT INTO ts_table SELECT g, md5(g::text) FROM generate_series(1, 20000) g;
    CREATE TABLE marker (id int primary key, note text);"

# The state compared after each restore: row counts and md5 over ordered contents.
SNAPSHOT_SQL="SELECT (SELECT count(*) FROM pgbench_accounts) || ' ' ||
  (SELECT md5(string_agg(aid || ':' || abalance, ',' ORDER BY aid)) FROM pgbench_accounts) || ' ' ||
  (SELECT count(*) FROM pgbench_history) || ' ' ||
  (SELECT count(*) || ':' || md5(coalesce(string_agg(id || ':' || note, ',' ORDER BY id), '')) FROM marker) || ' ' ||
  (SELECT count(*) || ':' || md5(coalesce(string_agg(id || ':' || v, ',' ORDER BY id), '')) FROM ts_table)"
snapshot() { psql_at "$1" "$SNAPSHOT_SQL"; }

expect_exit "full backup" 0 "$BR" --config="$CONF" --stanza=main backup --type=full --start-fast
expect_contains "backup prints a summary" "$OUT" "full,"
LABEL=$(br info --output=json | sed -n 's/.*"label":"\([0-9F-]*\)".*/\1/p')
expect_eq "info lists the backup" "$(printf '%s' "$LABEL" | wc -c)" "16"
# pgbench_accounts (~128 MiB) is stored as independent zstd frames of 8 MiB, which the restores
# below decompress in parallel: the manifest holds one compressed size per frame.
ACCOUNTS=$(psql_at $PORT "SELECT pg_relation_filepath('pgbench_accounts')")
ACCOUNTS_SIZE=$(psql_at $PORT "SELECT pg_relation_size('pgbench_accounts')")
FRAMES=$(sed 's/{/\n/g' "$IT_TMP/repo/backup/main/$LABEL/backup.manifest" | grep "\"name\":\"pg_data/$ACCOUNTS\"" |
    grep -o '"frame-bytes":8388608,"frames":\[[0-9,]*\]' | tr -cd , | wc -c)  # one comma per frame
expect_eq "the largest table is stored as one frame per 8 MiB" "$FRAMES" \
    "$(( (ACCOUNTS_SIZE + 8388607) / 8388608 ))"

# Point A: a committed batch, then a timestamp strictly between A and everything after it.
must psql_at $PORT "INSERT INTO marker SELECT g, 'A' FROM generate_series(1, 100) g"
sleep 1.1
TIME_TARGET=$(psql_at $PORT "SELECT clock_timestamp()")
SNAP_TIME=$(snapshot $PORT)
sleep 1.1

# Point B: pgbench traffic, then one transaction whose xid we keep.
must as_pg "$PGBIN/pgbench" -h "$IT_TMP" -p $PORT -U postgres -c 2 -t 300 -n postgres
XID=$(psql_at $PORT "BEGIN; INSERT INTO marker SELECT g, 'B' FROM generate_series(101, 200) g; SELECT txid_current(); COMMIT;")
SNAP_XID=$(snapshot $PORT)

# Point C: more changes, then a named restore point.
must psql_at $PORT "UPDATE ts_table SET v = 'C' WHERE id <= 500; INSERT INTO marker SELECT g, 'C' FROM generate_series(201, 300) g"
must psql_at $PORT "SELECT pg_create_restore_point('before_d')"
SNAP_NAME=$(snapshot $PORT)

# Point D: the latest state, archived.
must as_pg "$PGBIN/pgbench" -h "$IT_TMP" -p $PORT -U postgres -c 2 -t 200 -n postgres
must psql_at $PORT "DELETE FROM marker WHERE id <= 50; UPDATE ts_table SET v = 'D' WHERE id > 19000"
SNAP_LATEST=$(snapshot $PORT)
must br check

distinct=$(printf '%s\n' "$SNAP_TIME" "$SNAP_XID" "$SNAP_NAME" "$SNAP_LATEST" | sort -u | wc -l)
expect_eq "the four recorded states differ" "$distinct" "4"

# Restores a point into a new directory (tablespace remapped next to it), starts it, compares,
# stops it and runs pg_checksums. Archiving is off in restored clusters: they must not push
# their new timeline into the stanza the primary still uses.
restore_and_compare() {  # name port expected-snapshot restore-args...
    local name=$1 port=$2 want=$3
    shift 3
    local dir=$IT_TMP/restore-$name
    expect_exit "restore $name" 0 "$BR" --config="$CONF" --stanza=main --pg1-path="$dir" restore "$@"
    [ "$RC" -eq 0 ] || return
    sed -i "s/^port = .*/port = $port/; s/^archive_mode = .*/archive_mode = off/" "$dir/postgresql.conf"
    pg_start "$dir"
    if ! wait_promoted "$port"; then
        fail "restore $name: recovery did not finish" "$(tail -20 "$dir.log")"
        return
    fi
    expect_eq "restore $name: data equals the state at that point" "$(snapshot "$port")" "$want"
    pg_stop "$dir"
    expect_exit "restore $name: pg_checksums --check" 0 "$PGBIN/pg_checksums" --check -D "$dir"
}

restore_and_compare time 55411 "$SNAP_TIME" --type=time "--target=$TIME_TARGET" --target-action=promote \
    --tablespace-map=ts1="$IT_TMP/ts-time"
restore_and_compare xid 55412 "$SNAP_XID" --type=xid --target="$XID" --target-action=promote \
    --tablespace-map-all="$IT_TMP/ts-xid"
restore_and_compare name 55413 "$SNAP_NAME" --type=name --target=before_d --target-action=promote \
    --tablespace-map=ts1="$IT_TMP/ts-name"
LINK=$(readlink "$IT_TMP/restore-xid/pg_tblspc/"* 2>/dev/null)
expect_eq "tablespace-map-all remaps by name" "$LINK" "$IT_TMP/ts-xid/ts1"

# Latest, at the original tablespace location: the primary is stopped and its tablespace
# moved away, as after losing the server.
pg_stop "$DATA"
as_pg mv "$IT_TMP/ts1" "$IT_TMP/ts1.lost"
restore_and_compare latest 55414 "$SNAP_LATEST" --process-max=1
LINK=$(readlink "$IT_TMP/restore-latest/pg_tblspc/"* 2>/dev/null)
expect_eq "tablespace link recreated at its original location" "$LINK" "$IT_TMP/ts1"
expect_contains "restore_command written" "$(cat "$IT_TMP/restore-latest/postgresql.auto.conf")" \
    "archive-get %f \"%p\""
