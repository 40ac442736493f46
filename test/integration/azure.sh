#!/usr/bin/env bash
# A repository in Azure Blob Storage (repo1-type=azure) on Azurite 3.35.0, started here over TLS on
# 127.0.0.1: stanza-create, check, full/diff/incr backups, archive_command pushes, restores (full,
# delta) started and compared, archive-get, info, verify, expire; `az` reads what backrest wrote
# and the bytes match; a wrong key, a SAS token, Azurite killed mid-backup; the key never in
# output, `ps` or restore_command; pgBackRest 2.45 on the same Azurite.
set -u
SUITE=azure
TEST_BACKREST_BIN=${TEST_BACKREST_BIN:-$(dirname "$0")/../../build/backrest}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
source "$(dirname "$0")/lib.sh"
it_setup

AZ_PORT=55880
PORT=55881
RESTORE_PORT=55882
AZ_DIR=$IT_TMP/azurite
AZURITE="$ROOT/scripts/test-servers/azurite.sh"
# Azurite stops with the suite, whatever ends it.
trap '"$AZURITE" stop "$AZ_DIR"; it_finish' EXIT
must "$AZURITE" start "$AZ_DIR" $AZ_PORT
source "$AZ_DIR/azurite.env"
chmod 0755 "$AZ_DIR"

# azure-cli (Debian's) trusts the self-signed certificate through requests' CA bundle; its own
# configuration stays in the suite's temp area (no telemetry, no first-run survey).
export AZURE_CONFIG_DIR=$IT_TMP/az-config
mkdir -p "$AZURE_CONFIG_DIR"
printf '[core]\ncollect_telemetry = no\nfirst_run = no\n[output]\nshow_survey_link = no\n' >"$AZURE_CONFIG_DIR/config"
# The connection string (it holds the key) goes in the environment, not in az's argv, where ps shows it.
az_cli() {
    REQUESTS_CA_BUNDLE=$AZURITE_CA_FILE AZURE_STORAGE_CONNECTION_STRING=$AZURITE_CONNECTION_STRING az "$@" \
        --only-show-errors
}
# azurite.sh made the container; az sees it.
expect_eq "az sees the container" "$(az_cli storage container exists --name "$AZURITE_CONTAINER" -o tsv)" "True"

PREFIX=it-$(basename "$IT_TMP")
# Every blob name under the suite's prefix, one a line, sorted.
blobs() {
    az_cli storage blob list --container-name "$AZURITE_CONTAINER" --prefix "$PREFIX/${1:-}" --num-results '*' \
        --query '[].name' -o tsv | sort
}

it_primary $PORT "repo1-type=azure" "repo1-azure-account=$AZURITE_ACCOUNT" "repo1-azure-container=$AZURITE_CONTAINER" \
    "repo1-azure-key=$AZURITE_KEY" "repo1-azure-uri-style=path" "repo1-storage-host=127.0.0.1" \
    "repo1-storage-port=$AZ_PORT" "repo1-storage-ca-file=$AZURITE_CA_FILE" "repo1-storage-upload-chunk-size=1MiB" \
    "process-max=2" "log-level-console=warn"
# The key is a secret: the file holding it is readable by its owner only.
sed -i "s|^repo1-path=.*|repo1-path=/$PREFIX|" "$CONF"
chown postgres:postgres "$CONF"
chmod 0600 "$CONF"
# Counted from /proc in bash itself: a grep or ps given the key would find its own command line.
# mapfile reads each command line without a process per entry: a `tr` forked for each of ~200
# processes took 46 s on this machine under load (20), against 0.2 s this way.
processes_with_key() {
    local f n=0 args
    for f in /proc/[0-9]*/cmdline; do
        mapfile -d '' args 2>/dev/null <"$f" || continue
        [[ "${args[*]}" == *"$AZURITE_KEY"* ]] && n=$((n + 1))
    done
    echo $n
}
ALL_OUTPUT=""
keep() { ALL_OUTPUT+="$OUT"$'\n'; }

expect_exit "stanza-create on Azure" 0 "$BR" --config="$CONF" --stanza=main stanza-create
keep
expect_exit "check pushes a segment through archive_command" 0 "$BR" --config="$CONF" --stanza=main check
keep
expect_contains "check reports the stanza" "$OUT" "stanza 'main' OK"

must as_pg "$PGBIN/pgbench" -h "$IT_TMP" -p $PORT -U postgres -i -s 5 -q postgres
must psql_at $PORT "CREATE TABLE marker (id int primary key, note text)"
SNAPSHOT_SQL="SELECT (SELECT count(*) || ':' || md5(string_agg(aid || ':' || abalance, ',' ORDER BY aid)) FROM pgbench_accounts)
  || ' ' || (SELECT count(*) || ':' || md5(coalesce(string_agg(id || ':' || note, ',' ORDER BY id), '')) FROM marker)"
snapshot() { psql_at "$1" "$SNAPSHOT_SQL"; }

expect_exit "full backup to Azure" 0 "$BR" --config="$CONF" --stanza=main backup --type=full --start-fast
keep
must psql_at $PORT "INSERT INTO marker SELECT g, 'diff' FROM generate_series(1, 100) g"
expect_exit "diff backup to Azure" 0 "$BR" --config="$CONF" --stanza=main backup --type=diff --start-fast
keep
must as_pg "$PGBIN/pgbench" -h "$IT_TMP" -p $PORT -U postgres -c 2 -t 200 -n postgres
must psql_at $PORT "INSERT INTO marker SELECT g, 'incr' FROM generate_series(101, 200) g"
expect_exit "incr backup to Azure" 0 "$BR" --config="$CONF" --stanza=main backup --type=incr --start-fast
keep
SNAP=$(snapshot $PORT)
# A segment archived through archive_command, still in pg_wal: the reference bytes.
SEG=$(psql_at $PORT "SELECT pg_walfile_name(pg_current_wal_lsn())")
must psql_at $PORT "SELECT pg_switch_wal()"
for _ in $(seq 1 120); do
    [ "$(psql_at $PORT "SELECT last_archived_wal FROM pg_stat_archiver")" \> "$SEG" ] ||
        [ "$(psql_at $PORT "SELECT last_archived_wal FROM pg_stat_archiver")" == "$SEG" ] && break
    sleep 0.5
done
cp "$DATA/pg_wal/$SEG" "$IT_TMP/seg.orig"

expect_exit "info lists three backups" 0 "$BR" --config="$CONF" --stanza=main info --output=json
keep
expect_eq "info: full, diff and incr" "$(printf '%s' "$OUT" | grep -o '"type":"[a-z]*"' | tr '\n' ' ')" \
    '"type":"full" "type":"diff" "type":"incr" '
FULL=$(printf '%s' "$OUT" | grep -o '"label":"[0-9]*-[0-9]*F"' | head -1 | cut -d'"' -f4)

# An independent client reads the repository: the archived segment, decompressed, is the
# segment PostgreSQL wrote; backrest's archive-get gives the same bytes.
# One listing (azure-cli takes seconds a call): what stanza-create, backup and archive-push wrote.
LISTING=$(blobs)
expect_contains "az lists archive.info" "$LISTING" "$PREFIX/archive/main/archive.info"
expect_contains "az lists the full backup's manifest" "$LISTING" "$PREFIX/backup/main/$FULL/backup.manifest"
BLOB=$(printf '%s\n' "$LISTING" | grep "/$SEG-" | head -1)
expect_contains "az lists the archived segment" "$BLOB" "$SEG"
must az_cli storage blob download --container-name "$AZURITE_CONTAINER" --name "$BLOB" --file "$IT_TMP/seg.blob"
case "$BLOB" in
*.zst) zstd -q -d -c "$IT_TMP/seg.blob" >"$IT_TMP/seg.az" ;;
*) cp "$IT_TMP/seg.blob" "$IT_TMP/seg.az" ;;
esac
expect_eq "az download of the segment: bytes match pg_wal" "$(cmp "$IT_TMP/seg.az" "$IT_TMP/seg.orig" && echo same)" same
expect_exit "archive-get from Azure" 0 "$BR" --config="$CONF" --stanza=main archive-get "$SEG" "$IT_TMP/seg.get"
keep
expect_eq "archive-get: bytes match pg_wal" "$(cmp "$IT_TMP/seg.get" "$IT_TMP/seg.orig" && echo same)" same
must az_cli storage blob download --container-name "$AZURITE_CONTAINER" --name "$PREFIX/backup/main/backup.info" \
    --file "$IT_TMP/backup.info.az"
expect_contains "az reads backup.info naming the full backup" "$(cat "$IT_TMP/backup.info.az")" "$FULL"

expect_exit "verify the Azure repository" 0 "$BR" --config="$CONF" --stanza=main verify
keep

# Restore (latest), start, compare; then stop and restore again in delta mode.
restore full 0
keep
R=$IT_TMP/restore-full
# Started only when restored (a failed restore is already counted, and there is nothing to start).
if [ "$RC" -eq 0 ]; then
    printf 'port = %s\narchive_mode = off\n' $RESTORE_PORT >>"$R/postgresql.conf"
    expect_eq "restore_command holds no key" "$(grep -c -F "$AZURITE_KEY" "$R/postgresql.auto.conf")" 0
    pg_start "$R"
    wait_promoted $RESTORE_PORT
    expect_eq "restored from Azure: rows equal" "$(snapshot $RESTORE_PORT)" "$SNAP"
    pg_stop "$R"
    as_pg rm -f "$R/base/"*/"$(psql_at $PORT "SELECT relfilenode FROM pg_class WHERE relname='marker'")"
    expect_exit "delta restore from Azure" 0 "$BR" --config="$CONF" --stanza=main --pg1-path="$R" restore --delta
    keep
    # The delta restore put back the backup's postgresql.conf (the primary's port).
    printf 'port = %s\narchive_mode = off\n' $RESTORE_PORT >>"$R/postgresql.conf"
    pg_start "$R"
    wait_promoted $RESTORE_PORT
    expect_eq "delta-restored from Azure: rows equal" "$(snapshot $RESTORE_PORT)" "$SNAP"
    pg_stop "$R"
fi

# A wrong key: refused, naming the account and container, and nothing written.
OUT=$(as_pg env BACKREST_REPO1_AZURE_KEY=d3Jvbmcta2V5LXdyb25nLWtleQ== "$BR" --config="$CONF" --stanza=main backup \
    --type=full --start-fast 2>&1)
RC=$?
expect_eq "wrong key: RepoAuthError exit" "$RC" 45
expect_contains "wrong key: names account and container" "$OUT" "account 'devstoreaccount1' for container 'backrest'"
expect_eq "wrong key: nothing written" "$(blobs)" "$LISTING"

# A SAS token made by az, from the environment.
SAS=$(az_cli storage container generate-sas --name "$AZURITE_CONTAINER" --permissions racwdl \
    --expiry 2035-01-01T00:00Z -o tsv)
OUT=$(as_pg env BACKREST_REPO1_AZURE_KEY="$SAS" "$BR" --config="$CONF" --stanza=main --repo1-azure-key-type=sas \
    info 2>&1)
RC=$?
expect_eq "SAS token: info exit" "$RC" 0
expect_contains "SAS token: info lists the full backup" "$OUT" "$FULL"
ALL_OUTPUT+="$OUT"$'\n'
expect_eq "SAS token never in output" "$(printf '%s' "$OUT" | grep -c -F "${SAS##*sig=}")" 0

# Azurite killed mid-backup: a clear network error; restarted (data kept on disk), the next
# backup succeeds. The key never shows in ps while the backup runs.
# 256 MiB that do not compress keep the backup uploading for seconds (97 MiB of pgbench data take
# 1.7 s here, too short to be sure of stopping Azurite in the middle).
must as_pg sh -c "head -c 268435456 /dev/urandom >'$DATA/random.bin'"
BACKUPS_BEFORE=$(br info --output=json | grep -o '"label"' | wc -l)
"${PG_EXEC[@]}" "$BR" --config="$CONF" --stanza=main backup --type=full --start-fast >"$IT_TMP/killed.out" 2>&1 &
BPID=$!
# Stopped once 32 MiB of it reached Azurite's files on disk: the upload is under way. Only the
# quick key count runs between that and the stop: a step there that outlasts the rest of the
# upload (the count forking a process per /proc entry once took 45 s, the backup 34 s) lets the
# backup finish before Azurite stops, and this step then proves nothing.
STORED_BEFORE=$(du -sb "$AZ_DIR/data" | cut -f1)
for _ in $(seq 1 300); do
    [ $(($(du -sb "$AZ_DIR/data" | cut -f1) - STORED_BEFORE)) -gt 33554432 ] && break
    sleep 0.1
done
expect_eq "no process shows the key in its command line" "$(processes_with_key)" 0
# Read before the stop (a finished backup not yet waited for is a zombie, "Z").
BACKUP_STATE=$(cut -d' ' -f3 "/proc/$BPID/stat" 2>/dev/null)
"$AZURITE" stop "$AZ_DIR"
wait $BPID
RC=$?
expect_eq "the backup was still running when Azurite stopped" \
    "$([ -n "$BACKUP_STATE" ] && [ "$BACKUP_STATE" != Z ] && echo yes || echo "no (state '$BACKUP_STATE')")" yes
OUT=$(cat "$IT_TMP/killed.out")
keep
expect_eq "Azurite killed mid-backup: NetworkError exit" "$RC" 44
expect_contains "Azurite killed mid-backup: names the request" "$OUT" "azure://"
must "$AZURITE" start "$AZ_DIR" $AZ_PORT
expect_eq "the interrupted backup is not listed" "$(br info --output=json | grep -o '"label"' | wc -l)" \
    "$BACKUPS_BEFORE"
expect_exit "after restart the next backup succeeds" 0 "$BR" --config="$CONF" --stanza=main backup --type=full \
    --start-fast
keep
as_pg rm -f "$DATA/random.bin"

# expire keeps one full backup: the older fulls' blobs are gone.
expect_exit "expire to one full" 0 "$BR" --config="$CONF" --stanza=main expire --repo1-retention-full=1
keep
expect_eq "expire removed the first full's blobs" "$([ -n "$FULL" ] && blobs "backup/main/$FULL/" | wc -l)" 0
expect_exit "info after expire" 0 "$BR" --config="$CONF" --stanza=main info
keep
expect_eq "the key never appeared in any output" "$(printf '%s' "$ALL_OUTPUT" | grep -c -F "$AZURITE_KEY")" 0

# pgBackRest 2.45 against the same Azurite, in its own prefix.
if command -v pgbackrest >/dev/null; then
    PGB=$IT_TMP/pgbackrest.conf
    cat >"$PGB" <<PGBCONF
[global]
repo1-type=azure
repo1-path=/$PREFIX-pgbackrest
repo1-azure-account=$AZURITE_ACCOUNT
repo1-azure-container=$AZURITE_CONTAINER
repo1-azure-key=$AZURITE_KEY
repo1-azure-uri-style=path
repo1-storage-host=127.0.0.1
repo1-storage-port=$AZ_PORT
repo1-storage-verify-tls=n
lock-path=$IT_TMP/pgb-lock
log-path=$IT_TMP/pgb-log
log-level-console=warn
start-fast=y
archive-check=n

[main]
pg1-path=$DATA
pg1-socket-path=$IT_TMP
pg1-port=$PORT
PGBCONF
    chown postgres:postgres "$PGB"
    chmod 0600 "$PGB"
    expect_exit "pgBackRest 2.45 stanza-create on the same Azurite" 0 pgbackrest --config="$PGB" --stanza=main \
        stanza-create
    expect_exit "pgBackRest 2.45 full backup on the same Azurite" 0 pgbackrest --config="$PGB" --stanza=main backup \
        --type=full
    PGB_LISTING=$(az_cli storage blob list --container-name "$AZURITE_CONTAINER" \
        --prefix "$PREFIX-pgbackrest/backup/main/" --query '[].name' -o tsv)
    expect_contains "pgBackRest's backup.info is in the container" "$PGB_LISTING" "backup.info"
fi
