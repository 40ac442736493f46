#!/usr/bin/env bash
# An encrypted repository (repo1-cipher-type=aes-256-gcm) on each object store and on SFTP:
# S3 (Ceph's radosgw), Azure (Azurite) and SFTP (OpenSSH's sshd), the servers the other suites
# start (scripts/test-servers). One cluster archives into all three; on each: stanza-create, full
# and incr backups, restore started and its rows compared, verify, archive-get giving the bytes
# PostgreSQL wrote; an object read back by the store's own client is a sealed unit, not zstd.
# Ports: radosgw 56020 (+1 monitor), Azurite 56022, sshd 56023, clusters 56024-56027.
set -u
SUITE=encryption_stores
TEST_BACKREST_BIN=${TEST_BACKREST_BIN:-$(dirname "$0")/../../build/backrest}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
source "$(dirname "$0")/lib.sh"
it_setup
source "$(dirname "$0")/lib_encryption.sh"

RGW_SH=$ROOT/scripts/test-servers/radosgw.sh
AZURITE=$ROOT/scripts/test-servers/azurite.sh
SSHD=$ROOT/scripts/test-servers/sshd.sh
trap 'bash "$RGW_SH" stop "$IT_TMP/rgw" >/dev/null 2>&1; "$AZURITE" stop "$IT_TMP/azurite" >/dev/null 2>&1;
      bash "$SSHD" stop "$IT_TMP/sshd" >/dev/null 2>&1; it_finish' EXIT
must bash "$RGW_SH" start "$IT_TMP/rgw" 56020
# shellcheck disable=SC1091
. "$IT_TMP/rgw/env"
cp "$S3_CA" "$IT_TMP/s3-ca.pem"
chmod 0644 "$IT_TMP/s3-ca.pem"
must "$AZURITE" start "$IT_TMP/azurite" 56022
# shellcheck disable=SC1091
source "$IT_TMP/azurite/azurite.env"
chmod 0755 "$IT_TMP/azurite"
must bash "$SSHD" start "$IT_TMP/sshd" 56023
# shellcheck disable=SC1091
source "$IT_TMP/sshd/sshd.env"

PORT=56024
DATA=$IT_TMP/primary
PASS='stores-Passphrase-0c93f1'
PREFIX=enc-$(basename "$IT_TMP")
STORES=(s3 azure sftp)
conf_of() { echo "$IT_TMP/backrest-$1.conf"; }
store_lines() {  # store: its repo1 lines
    case $1 in
    s3)
        printf 'repo1-type=s3\nrepo1-path=/%s\nrepo1-s3-bucket=%s\nrepo1-s3-endpoint=%s\n' "$PREFIX" "$S3_BUCKET" "$S3_ENDPOINT"
        printf 'repo1-storage-port=%s\nrepo1-s3-uri-style=path\nrepo1-s3-region=%s\n' "$S3_PORT" "$S3_REGION"
        printf 'repo1-storage-ca-file=%s\nrepo1-s3-key=%s\nrepo1-s3-key-secret=%s\n' "$IT_TMP/s3-ca.pem" "$S3_KEY" "$S3_SECRET"
        ;;
    azure)
        printf 'repo1-type=azure\nrepo1-path=/%s\nrepo1-azure-account=%s\nrepo1-azure-container=%s\n' \
            "$PREFIX" "$AZURITE_ACCOUNT" "$AZURITE_CONTAINER"
        printf 'repo1-azure-key=%s\nrepo1-azure-uri-style=path\nrepo1-storage-host=127.0.0.1\n' "$AZURITE_KEY"
        printf 'repo1-storage-port=56022\nrepo1-storage-ca-file=%s\n' "$AZURITE_CA_FILE"
        ;;
    sftp)
        printf 'repo1-type=sftp\nrepo1-path=%s\nrepo1-sftp-host=%s\nrepo1-sftp-host-port=%s\n' \
            "$SFTP_ROOT/repo" "$SFTP_HOST" "$SFTP_PORT"
        printf 'repo1-sftp-host-user=%s\nrepo1-sftp-private-key-file=%s\nrepo1-sftp-known-host=%s\n' \
            "$SFTP_USER" "$SFTP_PRIVATE_KEY" "$SFTP_KNOWN_HOSTS"
        ;;
    esac
}
for s in "${STORES[@]}"; do
    {
        printf '[global]\n'
        store_lines "$s"
        printf 'lock-path=%s\nprocess-max=2\nlog-level-console=warn\n' "$IT_TMP/lock-$s"
        printf 'repo1-cipher-type=aes-256-gcm\nrepo1-cipher-pass=%s\n' "$PASS"
        pg1_stanza
    } | it_conf "$(conf_of "$s")" 0600
done
push=""
for s in "${STORES[@]}"; do push="$push${push:+ && }$(archive_push_to "$BR" "$(conf_of "$s")" main)"; done
pg_archiving "$DATA" $PORT "$push"
for s in "${STORES[@]}"; do
    expect_exit_k "$s: stanza-create (encrypted)" 0 "$BR" --config="$(conf_of "$s")" --stanza=main stanza-create
done
must as_pg "$PGBIN/pgbench" -h "$IT_TMP" -p $PORT -U postgres -i -s 2 -q postgres
must psql_at $PORT "CREATE TABLE marker (id int primary key, note text)"
SNAPSHOT_SQL="SELECT (SELECT count(*) || ':' || md5(string_agg(aid || ':' || abalance, ',' ORDER BY aid)) FROM pgbench_accounts)
  || ' ' || (SELECT count(*) || ':' || md5(coalesce(string_agg(id || ':' || note, ',' ORDER BY id), '')) FROM marker)"
snapshot() { psql_at "$1" "$SNAPSHOT_SQL"; }

for s in "${STORES[@]}"; do
    expect_exit_k "$s: full backup" 0 "$BR" --config="$(conf_of "$s")" --stanza=main backup --type=full --start-fast
done
must as_pg "$PGBIN/pgbench" -h "$IT_TMP" -p $PORT -U postgres -c 2 -t 200 -n postgres
must psql_at $PORT "INSERT INTO marker SELECT g, 'incr' FROM generate_series(1, 100) g"
for s in "${STORES[@]}"; do
    expect_exit_k "$s: incr backup" 0 "$BR" --config="$(conf_of "$s")" --stanza=main backup --type=incr --start-fast
done
SNAP=$(snapshot $PORT)
SEG=$(psql_at $PORT "SELECT pg_walfile_name(pg_current_wal_lsn())")
must psql_at $PORT "SELECT pg_switch_wal()"
for _ in $(seq 1 240); do
    LAST=$(psql_at $PORT "SELECT last_archived_wal FROM pg_stat_archiver")
    [[ "$LAST" > "$SEG" || "$LAST" == "$SEG" ]] && break
    sleep 0.5
done
cp "$DATA/pg_wal/$SEG" "$IT_TMP/seg.orig"

rport=56025
for s in "${STORES[@]}"; do
    c=$(conf_of "$s")
    expect_exit_k "$s: archive-get" 0 "$BR" --config="$c" --stanza=main archive-get "$SEG" "$IT_TMP/seg.$s"
    expect_eq "$s: archive-get gives the bytes PostgreSQL wrote" \
        "$(cmp "$IT_TMP/seg.$s" "$IT_TMP/seg.orig" && echo same)" same
    expect_exit_k "$s: verify" 0 "$BR" --config="$c" --stanza=main verify
    expect_contains "$s: verify counts 2 backups" "$OUT" "verify: 2 backups"
    R=$IT_TMP/restore-$s
    expect_exit_k "$s: restore" 0 "$BR" --config="$c" --stanza=main --pg1-path="$R" restore
    if [ "$RC" -eq 0 ]; then
        printf 'port = %s\narchive_mode = off\n' $rport >>"$R/postgresql.conf"
        pg_start "$R"
        if wait_promoted $rport; then
            expect_eq "$s: restored rows equal" "$(snapshot $rport)" "$SNAP"
        else
            fail "$s: recovery did not finish" "$(tail -20 "$R.log")"
        fi
        pg_stop "$R"
    fi
    rport=$((rport + 1))
done

# What each store holds, read with its own client: sealed units, no zstd, no segment text.
aws_s3() {
    AWS_ACCESS_KEY_ID=$S3_KEY AWS_SECRET_ACCESS_KEY=$S3_SECRET AWS_DEFAULT_REGION=$S3_REGION \
        /usr/bin/aws --endpoint-url "https://127.0.0.1:$S3_PORT" --ca-bundle "$IT_TMP/s3-ca.pem" "$@"
}
OBJ=$(aws_s3 s3 ls --recursive "s3://$S3_BUCKET/$PREFIX/archive/main/" 2>/dev/null | awk '{print $4}' | grep "/$SEG-" | head -1)
aws_s3 s3 cp --only-show-errors "s3://$S3_BUCKET/$OBJ" "$IT_TMP/s3.obj" 2>/dev/null
expect_eq "s3: the archived segment read by aws is a sealed unit" "$(head -c 4 "$IT_TMP/s3.obj" 2>/dev/null)" "BRS1"
OBJ=$(aws_s3 s3 ls --recursive "s3://$S3_BUCKET/$PREFIX/backup/main/" 2>/dev/null | awk '{print $4}' |
    grep '/backup.manifest$' | head -1)
aws_s3 s3 cp --only-show-errors "s3://$S3_BUCKET/$OBJ" "$IT_TMP/s3.manifest" 2>/dev/null
expect_eq "s3: a manifest read by aws is a sealed unit" "$(head -c 4 "$IT_TMP/s3.manifest" 2>/dev/null)" "BRS1"
export AZURE_CONFIG_DIR=$IT_TMP/az-config
mkdir -p "$AZURE_CONFIG_DIR"
printf '[core]\ncollect_telemetry = no\nfirst_run = no\n[output]\nshow_survey_link = no\n' >"$AZURE_CONFIG_DIR/config"
az_cli() {
    REQUESTS_CA_BUNDLE=$AZURITE_CA_FILE AZURE_STORAGE_CONNECTION_STRING=$AZURITE_CONNECTION_STRING az "$@" \
        --only-show-errors
}
BLOB=$(az_cli storage blob list --container-name "$AZURITE_CONTAINER" --prefix "$PREFIX/archive/main/" \
    --num-results '*' --query '[].name' -o tsv | grep "/$SEG-" | head -1)
az_cli storage blob download --container-name "$AZURITE_CONTAINER" --name "$BLOB" --file "$IT_TMP/az.obj" >/dev/null
expect_eq "azure: the archived segment read by az is a sealed unit" "$(head -c 4 "$IT_TMP/az.obj" 2>/dev/null)" "BRS1"
SFTP_FILES=$(find "$SFTP_ROOT/repo" -type f ! -name '*.info' ! -name '*.info.copy')
expect_eq "sftp: every file but the info files is a sealed unit" \
    "$(while read -r f; do [ "$(head -c 4 "$f")" == BRS1 ] || echo "$f"; done <<<"$SFTP_FILES")" ""
expect_eq "sftp: files were stored" "$([ "$(wc -l <<<"$SFTP_FILES")" -gt 10 ] && echo many)" "many"

expect_eq "the passphrase is in no output" "$(grep -c -F "$PASS" "$ALL_OUTPUT_FILE")" "0"
expect_eq "the passphrase is in no PostgreSQL log" "$(cat "$IT_TMP"/*.log 2>/dev/null | grep -c -F "$PASS")" "0"
