#!/usr/bin/env bash
# `make demo`: the main job, as README's first quick start does it, on a throwaway cluster. The
# database protects itself: backrest preloaded, WAL archived through archive_library, the stanza
# and a full backup made from SQL (`SELECT backrest_backup()`). Then a mistake, and the CLI
# restores the moment before it into a new directory, starts that copy and shows the data matches.
# Needs `make install` first (the server loads the installed extension).
set -euo pipefail

BACKREST=${BACKREST:-$(command -v backrest || echo /usr/local/bin/backrest)}
PGBIN=$(pg_config --bindir 2>/dev/null || echo /usr/lib/postgresql/15/bin)
PORT=55499 COPY_PORT=55498
DEMO=$(mktemp -d /tmp/backrest-demo.XXXXXX)
chmod 0755 "$DEMO"
as_pg() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
[ "$(id -u)" -eq 0 ] && chown postgres:postgres "$DEMO"
SOCKDIR=$DEMO/sock

# Every server this script started stops, even after a failed step: both clusters, then the
# daemon their launcher started (it leaves with its postmaster; this only makes sure). The
# daemon is found by the socket directory on its command line, which names this demo alone.
# After a failure the server logs are shown first: the directory holding them goes.
cleanup() {
    local rc=$? d pid log
    set +e
    if [ "$rc" -ne 0 ]; then
        for log in "$DEMO"/*.log; do
            [ -f "$log" ] && { echo "--- last lines of $log" >&2; tail -20 "$log" >&2; }
        done
    fi
    for d in "$DEMO/data" "$DEMO/restored"; do
        [ -f "$d/postmaster.pid" ] && as_pg "$PGBIN/pg_ctl" -D "$d" -m fast -w stop >/dev/null 2>&1
    done
    for _ in $(seq 1 20); do pgrep -f -- "--socket-path=$SOCKDIR" >/dev/null || break; sleep 0.1; done
    for pid in $(pgrep -f -- "--socket-path=$SOCKDIR"); do kill -9 "$pid" 2>/dev/null; done
    rm -rf "$DEMO"
}
trap cleanup EXIT
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
psql_at() { as_pg "$PGBIN/psql" -X -h "$DEMO" -p "$1" -U postgres -d postgres -Atq -v ON_ERROR_STOP=1 -c "$2"; }
# Shown as a DBA would type it, with psql's table output.
sql() {
    printf '\033[2mpostgres=# %s\033[0m\n' "$1"
    as_pg "$PGBIN/psql" -X -h "$DEMO" -p $PORT -U postgres -d postgres -q -v ON_ERROR_STOP=1 -c "$1"
}
accounts() { psql_at "$1" "SELECT count(*) || ' accounts, balance sum ' || sum(abalance) FROM pgbench_accounts"; }

cat >"$DEMO/backrest.conf" <<CONF
[global]
repo1-path=$DEMO/repo
lock-path=$DEMO/lock
spool-path=$DEMO/spool
process-max=2
repo1-retention-full=2

[demo]
pg1-path=$DEMO/data
pg1-socket-path=$DEMO
pg1-port=$PORT
CONF
chmod 0644 "$DEMO/backrest.conf"

step "A PostgreSQL 15 cluster in $DEMO/data with backrest preloaded"
as_pg "$PGBIN/initdb" -D "$DEMO/data" --data-checksums -A trust -U postgres >/dev/null
cat >"$DEMO/backrest.pg.conf" <<CONF
shared_preload_libraries = 'backrest'
archive_mode = on
archive_library = 'backrest'
backrest.stanza = 'demo'
backrest.archive_async = on
backrest.config = '$DEMO/backrest.conf'
backrest.worker_path = '$BACKREST'
backrest.socket_directory = '$SOCKDIR'
CONF
cat "$DEMO/backrest.pg.conf"
printf "port = %s\nlisten_addresses = ''\nunix_socket_directories = '%s'\n" $PORT "$DEMO" >>"$DEMO/data/postgresql.conf"
cat "$DEMO/backrest.pg.conf" >>"$DEMO/data/postgresql.conf"
as_pg "$PGBIN/pg_ctl" -D "$DEMO/data" -l "$DEMO/data.log" -w start >/dev/null

step "The stanza and pgbench data"
sql "CREATE EXTENSION backrest"
sql "SELECT backrest_stanza_create()"
as_pg "$PGBIN/pgbench" -h "$DEMO" -p $PORT -U postgres -i -s 10 -q postgres 2>&1 | tail -1

step "A full backup from SQL"
sql "SELECT backrest_backup(wait => true)"
sql "SELECT label, type, state, files_done, pg_size_pretty(bytes_done) AS bytes, finished - started AS took
       FROM backrest_status()"

step "Some work, then a mistake"
as_pg "$PGBIN/pgbench" -h "$DEMO" -p $PORT -U postgres -c 2 -t 500 -n postgres | grep -E "^(number of transactions actually|tps)"
BEFORE=$(accounts $PORT)
sleep 1
TARGET=$(psql_at $PORT "SELECT clock_timestamp()")
sleep 1
psql_at $PORT "DELETE FROM pgbench_accounts WHERE aid % 3 = 0"
echo "before the mistake: $BEFORE"
echo "after the mistake:  $(accounts $PORT)"
# The restore below replays WAL up to the target: wait until the segment holding it is archived
# (segment names of one timeline sort in WAL order).
SEGMENT=$(psql_at $PORT "SELECT pg_walfile_name(pg_switch_wal())")
archived() { [[ ! "$(psql_at $PORT "SELECT coalesce(last_archived, '') FROM backrest_archive_status()")" < "$SEGMENT" ]]; }
for _ in $(seq 1 120); do archived && break; sleep 0.5; done
if ! archived; then
    echo "DEMO FAILED: WAL segment $SEGMENT was not archived within 60 s" >&2
    exit 1
fi
sql "SELECT last_archived, pending, async, stream FROM backrest_archive_status()"
sql "SELECT label, type, stop_time, pg_size_pretty(size) AS size, pg_size_pretty(repo_size) AS stored
       FROM backrest_info()"

step "The CLI restores the moment before the mistake into $DEMO/restored"
# --archive-mode=off: the copy must not push its own new timeline into the stanza.
echo "\$ backrest --stanza=demo --pg1-path=$DEMO/restored restore --type=time --target='$TARGET' --target-action=promote --archive-mode=off"
as_pg "$BACKREST" --config="$DEMO/backrest.conf" --stanza=demo --pg1-path="$DEMO/restored" restore \
    --type=time "--target=$TARGET" --target-action=promote --archive-mode=off
# The copy runs beside the original: a port of its own, and no stanza, so it starts no daemon.
printf "port = %s\nbackrest.stanza = ''\n" $COPY_PORT >>"$DEMO/restored/postgresql.conf"
as_pg "$PGBIN/pg_ctl" -D "$DEMO/restored" -l "$DEMO/restored.log" -w start >/dev/null
for _ in $(seq 1 120); do
    [ "$(psql_at $COPY_PORT 'SELECT pg_is_in_recovery()' 2>/dev/null)" == "f" ] && break
    sleep 0.5
done
AFTER=$(accounts $COPY_PORT)
echo "restored cluster:   $AFTER"
if [ "$AFTER" != "$BEFORE" ]; then
    echo "DEMO FAILED: the restored data differs from the data before the mistake" >&2
    exit 1
fi
echo "The restored cluster has exactly the data from before the mistake."

step "backrest info"
as_pg "$BACKREST" --config="$DEMO/backrest.conf" --stanza=demo info
