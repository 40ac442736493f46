#!/usr/bin/env bash
# `make demo`: the whole product on a throwaway cluster. Creates a cluster with pgbench data and
# WAL archiving to a backrest repository, takes a full backup, changes data, restores to the
# moment before the change into a new directory, starts it and shows the data matches.
set -euo pipefail

BACKREST=${BACKREST:-$(command -v backrest || echo /usr/local/bin/backrest)}
PGBIN=$(pg_config --bindir 2>/dev/null || echo /usr/lib/postgresql/15/bin)
DEMO=$(mktemp -d /tmp/backrest-demo.XXXXXX)
chmod 0755 "$DEMO"
as_pg() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
[ "$(id -u)" -eq 0 ] && chown postgres:postgres "$DEMO"
cleanup() {
    for d in "$DEMO/data" "$DEMO/restored"; do
        [ -f "$d/postmaster.pid" ] && as_pg "$PGBIN/pg_ctl" -D "$d" -m fast -w stop >/dev/null 2>&1 || true
    done
    rm -rf "$DEMO"
}
trap cleanup EXIT
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
psql_at() { as_pg "$PGBIN/psql" -X -h "$DEMO" -p "$1" -U postgres -d postgres -Atq -c "$2"; }

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
pg1-port=55499
CONF
chmod 0644 "$DEMO/backrest.conf"
br() { as_pg "$BACKREST" --config="$DEMO/backrest.conf" --stanza=demo "$@"; }

step "A PostgreSQL 15 cluster in $DEMO/data, archiving WAL with backrest"
as_pg "$PGBIN/initdb" -D "$DEMO/data" --data-checksums -A trust -U postgres >/dev/null
cat >>"$DEMO/data/postgresql.conf" <<CONF
port = 55499
listen_addresses = ''
unix_socket_directories = '$DEMO'
archive_mode = on
archive_command = '$BACKREST --config=$DEMO/backrest.conf --stanza=demo archive-push %p'
CONF
as_pg "$PGBIN/pg_ctl" -D "$DEMO/data" -l "$DEMO/data.log" -w start >/dev/null
echo "archive_command = '$BACKREST --config=$DEMO/backrest.conf --stanza=demo archive-push %p'"

step "pgbench -i -s 10"
as_pg "$PGBIN/pgbench" -h "$DEMO" -p 55499 -U postgres -i -s 10 -q postgres 2>&1 | tail -1

step "backrest stanza-create, check, backup"
br stanza-create
br check
br backup --type=full --start-fast

step "Some work, then a mistake"
as_pg "$PGBIN/pgbench" -h "$DEMO" -p 55499 -U postgres -c 2 -t 500 -n postgres | grep -E "^(number of transactions actually|tps)"
BEFORE=$(psql_at 55499 "SELECT count(*) || ' accounts, balance sum ' || sum(abalance) FROM pgbench_accounts")
sleep 1
TARGET=$(psql_at 55499 "SELECT clock_timestamp()")
sleep 1
psql_at 55499 "DELETE FROM pgbench_accounts WHERE aid % 3 = 0"
echo "before the mistake: $BEFORE"
echo "after the mistake:  $(psql_at 55499 "SELECT count(*) || ' accounts, balance sum ' || sum(abalance) FROM pgbench_accounts")"
br check >/dev/null

step "backrest restore --type=time --target='$TARGET' into $DEMO/restored"
# --archive-mode=off: the copy must not push its own new timeline into the stanza.
br --pg1-path="$DEMO/restored" restore --type=time "--target=$TARGET" --target-action=promote --archive-mode=off
sed -i "s/^port = .*/port = 55498/" "$DEMO/restored/postgresql.conf"
as_pg "$PGBIN/pg_ctl" -D "$DEMO/restored" -l "$DEMO/restored.log" -w start >/dev/null
for i in $(seq 1 120); do
    [ "$(psql_at 55498 'SELECT pg_is_in_recovery()' 2>/dev/null)" == "f" ] && break
    sleep 0.5
done
AFTER=$(psql_at 55498 "SELECT count(*) || ' accounts, balance sum ' || sum(abalance) FROM pgbench_accounts")
echo "restored cluster:   $AFTER"
if [ "$AFTER" != "$BEFORE" ]; then
    echo "DEMO FAILED: the restored data differs from the data before the mistake" >&2
    exit 1
fi
echo "The restored cluster has exactly the data from before the mistake."

step "backrest info"
br info
