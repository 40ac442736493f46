#!/usr/bin/env bash
# What one synchronous archive-get (a restore_command call) costs on S3 (radosgw): the driver logs
# each request at debug level, and they are counted. A segment present: archive.info, a listing by
# the segment's own name, the segment (pgBackRest's three); a segment not archived: the first two.
# No backup.info, no .copy, unless the main archive.info is damaged (its .copy then serves, the
# damage named in a warning). An encrypted stanza costs the same. The bytes served are checked
# against the SHA-256 the stored name carries, and against pg_wal.
# The same counts on Azure (Azurite): 3 and 2.
# Ports: radosgw 57500 (monitor 57501), the cluster 57502, Azurite 57503.
set -u
SUITE=archive_get_requests
TEST_BACKREST_BIN=${TEST_BACKREST_BIN:-$(dirname "$0")/../../build/backrest}
source "$(dirname "$0")/lib.sh"
it_setup

RGW_SH=$(cd "$(dirname "$0")/../../scripts/test-servers" && pwd)/radosgw.sh
RGW_DIR=$IT_TMP/rgw
AZURITE=$(cd "$(dirname "$0")/../../scripts/test-servers" && pwd)/azurite.sh
AZ_DIR=$IT_TMP/azurite
trap 'bash "$RGW_SH" stop "$RGW_DIR" >/dev/null 2>&1; bash "$AZURITE" stop "$AZ_DIR" >/dev/null 2>&1; it_finish' EXIT
must bash "$RGW_SH" start "$RGW_DIR" 57500
# shellcheck disable=SC1091
. "$RGW_DIR/env"
cp "$S3_CA" "$IT_TMP/ca.pem"
chmod 0644 "$IT_TMP/ca.pem"

aws_s3() {
    AWS_ACCESS_KEY_ID=$S3_KEY AWS_SECRET_ACCESS_KEY=$S3_SECRET AWS_DEFAULT_REGION=$S3_REGION \
        /usr/bin/aws --endpoint-url "https://127.0.0.1:$S3_PORT" --ca-bundle "$IT_TMP/ca.pem" "$@"
}
keys() { aws_s3 s3 ls --recursive "s3://$S3_BUCKET/$1" 2>/dev/null | awk '{print $4}' | sort; }

s3_conf() {  # file prefix [more lines...]
    local file=$1 prefix=$2
    shift 2
    {
        printf '[global]\nrepo1-type=s3\nrepo1-path=%s\nrepo1-s3-bucket=%s\nrepo1-s3-endpoint=%s\n' \
            "$prefix" "$S3_BUCKET" "$S3_ENDPOINT"
        printf 'repo1-storage-port=%s\nrepo1-s3-uri-style=path\nrepo1-s3-region=%s\n' "$S3_PORT" "$S3_REGION"
        printf 'repo1-storage-ca-file=%s\nrepo1-s3-key=%s\nrepo1-s3-key-secret=%s\n' \
            "$IT_TMP/ca.pem" "$S3_KEY" "$S3_SECRET"
        printf 'lock-path=%s\nlog-level-console=warn\n' "$IT_TMP/lock"
        local line
        for line in "$@"; do printf '%s\n' "$line"; done
        pg1_stanza
    } | it_conf "$file" 0600
}

PORT=57502
DATA=$IT_TMP/primary
CONF=$IT_TMP/backrest.conf
ENC_CONF=$IT_TMP/backrest-enc.conf
s3_conf "$CONF" /plain
s3_conf "$ENC_CONF" /enc repo1-cipher-type=aes-256-gcm "repo1-cipher-pass=$(openssl rand -hex 16)"
pg_archiving "$DATA" $PORT "$(archive_push_to "$BR" "$CONF" main)"
must as_pg "$BR" --config="$CONF" --stanza=main stanza-create
must as_pg "$BR" --config="$ENC_CONF" --stanza=main stanza-create

# Two segments archived, each served as its own (the listing's prefix ends in "-": ...01 never
# lists ...010, test/unit/storage_contract_test.cpp).
SEG=$(psql_at $PORT "SELECT pg_walfile_name(pg_current_wal_lsn())")
must psql_at $PORT "CREATE TABLE t AS SELECT generate_series(1, 1000) AS id"
must psql_at $PORT "SELECT pg_switch_wal()"
must psql_at $PORT "INSERT INTO t VALUES (0)"
must psql_at $PORT "SELECT pg_switch_wal()"
NEXT=$(psql_at $PORT "SELECT pg_walfile_name(pg_current_wal_lsn() - 1)")
for _ in $(seq 120); do
    [[ "$(psql_at $PORT "SELECT last_archived_wal FROM pg_stat_archiver")" < "$NEXT" ]] || break
    sleep 0.5
done
must cp "$DATA/pg_wal/$SEG" "$IT_TMP/seg.orig"
must as_pg "$BR" --config="$ENC_CONF" --stanza=main archive-push "$DATA/pg_wal/$SEG"
STORED_KEY=$(keys plain/archive/main/ | grep "/$SEG-" | head -1)
expect_contains "the segment is archived on S3" "$STORED_KEY" "$SEG-"
STORED_SHA=$(sed -E "s|.*/$SEG-([0-9a-f]{64}).*|\1|" <<<"$STORED_KEY")

as_pg mkdir -p "$IT_TMP/get"
# archive-get as restore_command runs it: in the data directory (whose pg_control names the
# system the WAL must belong to), with the driver's requests logged.
get() {  # conf segment destination
    OUT=$(cd "$DATA" && as_pg "$BR" --config="$1" --stanza=main --log-level-console=debug \
        archive-get "$2" "$3" 2>&1)
    RC=$?
    REQUESTS=$(grep "S3 request:" <<<"$OUT")
}
requests() { grep -c "S3 request:" <<<"$REQUESTS"; }
requests_az() { grep -c "Azure request:" <<<"$REQUESTS"; }

# ---- A present segment: 3 requests ----
get "$CONF" "$SEG" "$IT_TMP/get/a"
expect_eq "present segment: exit 0" "$RC" "0"
expect_eq "present segment: 3 requests" "$(requests)" "3"
expect_eq "present segment: GET archive.info first" "$(sed -n 1p <<<"$REQUESTS" | grep -c "GET 's3://$S3_BUCKET/plain/archive/main/archive.info'")" "1"
expect_contains "present segment: the listing is by the segment's name" "$(sed -n 2p <<<"$REQUESTS")" \
    "(list prefix 'plain/archive/main/15-1/${SEG:0:16}/$SEG-')"
expect_contains "present segment: then the segment itself" "$(sed -n 3p <<<"$REQUESTS")" "GET 's3://$S3_BUCKET/$STORED_KEY'"
expect_eq "present segment: no backup.info read" "$(grep -c backup.info <<<"$REQUESTS")" "0"
expect_eq "present segment: the bytes have the SHA-256 of the stored name" \
    "$(sha256sum "$IT_TMP/get/a" 2>/dev/null | cut -c1-64)" "$STORED_SHA"
expect_eq "present segment: the bytes are pg_wal's" \
    "$(cmp "$IT_TMP/get/a" "$IT_TMP/seg.orig" >/dev/null 2>&1 && echo same || echo differs)" "same"

# ---- A segment never archived: 2 requests, exit 1 ----
get "$CONF" 0000000100000000000000FE "$IT_TMP/get/b"
expect_eq "missing segment: exit 1" "$RC" "1"
expect_eq "missing segment: 2 requests (archive.info, the listing)" "$(requests)" "2"
expect_eq "missing segment: nothing written" "$(ls "$IT_TMP/get" | grep -c '^b')" "0"

# ---- The neighbour by prefix: its own copy, 3 requests ----
get "$CONF" "$NEXT" "$IT_TMP/get/c"
expect_eq "next segment $NEXT: exit 0, 3 requests" "$RC $(requests)" "0 3"
expect_eq "next segment: not the first segment's bytes" \
    "$(cmp "$IT_TMP/get/c" "$IT_TMP/seg.orig" >/dev/null 2>&1 && echo same || echo differs)" "differs"

# ---- Encrypted stanza: the key from archive.info alone, still 3 requests ----
get "$ENC_CONF" "$SEG" "$IT_TMP/get/d"
expect_eq "encrypted: exit 0" "$RC" "0"
expect_eq "encrypted: 3 requests" "$(requests)" "3"
expect_eq "encrypted: no backup.info read" "$(grep -c backup.info <<<"$REQUESTS")" "0"
expect_eq "encrypted: the bytes are pg_wal's" \
    "$(cmp "$IT_TMP/get/d" "$IT_TMP/seg.orig" >/dev/null 2>&1 && echo same || echo differs)" "same"
s3_conf "$IT_TMP/wrong-pass.conf" /enc repo1-cipher-type=aes-256-gcm repo1-cipher-pass=not-the-pass
get "$IT_TMP/wrong-pass.conf" "$SEG" "$IT_TMP/get/e"
expect_eq "encrypted, wrong passphrase: recovery aborts (exit > 125)" "$([ "$RC" -gt 125 ] && echo abort || echo "exit $RC")" "abort"
expect_contains "encrypted, wrong passphrase: named" "$OUT" "repo1-cipher-pass does not open the key"
s3_conf "$IT_TMP/no-cipher.conf" /enc
get "$IT_TMP/no-cipher.conf" "$SEG" "$IT_TMP/get/f"
expect_eq "encrypted, read without cipher settings: recovery aborts" "$([ "$RC" -gt 125 ] && echo abort || echo "exit $RC")" "abort"
expect_contains "encrypted, read without cipher settings: named" "$OUT" "is encrypted with aes-256-gcm"

# ---- archive.info damaged: its .copy serves, the damage is a warning ----
must aws_s3 s3 cp "s3://$S3_BUCKET/plain/archive/main/archive.info" "$IT_TMP/archive.info"
sed 's/"db-history"/"db-histori"/' "$IT_TMP/archive.info" >"$IT_TMP/archive.info.bad"
must aws_s3 s3 cp "$IT_TMP/archive.info.bad" "s3://$S3_BUCKET/plain/archive/main/archive.info"
get "$CONF" "$SEG" "$IT_TMP/get/g"
expect_eq "damaged archive.info: exit 0" "$RC" "0"
expect_contains "damaged archive.info: a warning names it" "$OUT" "WARN"
expect_contains "damaged archive.info: the warning names the file" "$(grep WARN <<<"$OUT")" \
    "s3://$S3_BUCKET/plain/archive/main/archive.info'"
expect_eq "damaged archive.info: 4 requests (its .copy read too)" "$(requests)" "4"
expect_eq "damaged archive.info: the bytes are pg_wal's" \
    "$(cmp "$IT_TMP/get/g" "$IT_TMP/seg.orig" >/dev/null 2>&1 && echo same || echo differs)" "same"
# Both damaged: recovery aborts (exit > 125), it is not the end of the archive.
must aws_s3 s3 cp "$IT_TMP/archive.info.bad" "s3://$S3_BUCKET/plain/archive/main/archive.info.copy"
get "$CONF" "$SEG" "$IT_TMP/get/h"
expect_eq "both archive.info copies damaged: recovery aborts (exit > 125)" "$([ "$RC" -gt 125 ] && echo abort || echo "exit $RC")" "abort"
expect_contains "both damaged: the error names archive.info" "$OUT" "archive/main/archive.info"
expect_eq "both damaged: nothing written" "$(ls "$IT_TMP/get" | grep -c '^h')" "0"
must aws_s3 s3 cp "$IT_TMP/archive.info" "s3://$S3_BUCKET/plain/archive/main/archive.info"
must aws_s3 s3 cp "$IT_TMP/archive.info" "s3://$S3_BUCKET/plain/archive/main/archive.info.copy"

# ---- A damaged stored segment: named, recovery aborts ----
must aws_s3 s3 cp "s3://$S3_BUCKET/$STORED_KEY" "$IT_TMP/seg.zst"
head -c 4096 "$IT_TMP/seg.zst" >"$IT_TMP/seg.short.zst"
must aws_s3 s3 cp "$IT_TMP/seg.short.zst" "s3://$S3_BUCKET/$STORED_KEY"
get "$CONF" "$SEG" "$IT_TMP/get/i"
expect_eq "damaged stored segment: recovery aborts (exit > 125)" "$([ "$RC" -gt 125 ] && echo abort || echo "exit $RC")" "abort"
expect_contains "damaged stored segment: the error names the segment" "$OUT" "$SEG"
expect_eq "damaged stored segment: nothing written" "$(ls "$IT_TMP/get" | grep -c '^i')" "0"
must aws_s3 s3 cp "$IT_TMP/seg.zst" "s3://$S3_BUCKET/$STORED_KEY"

# ---- Azure: the same 3 requests, 2 for a missing segment ----
must bash "$AZURITE" start "$AZ_DIR" 57503
# shellcheck disable=SC1091
source "$AZ_DIR/azurite.env"
chmod 0755 "$AZ_DIR"
AZ_CONF=$IT_TMP/backrest-azure.conf
{
    printf '[global]\nrepo1-type=azure\nrepo1-path=/azget\nrepo1-azure-account=%s\n' "$AZURITE_ACCOUNT"
    printf 'repo1-azure-container=%s\nrepo1-azure-key=%s\nrepo1-azure-uri-style=path\n' "$AZURITE_CONTAINER" "$AZURITE_KEY"
    printf 'repo1-storage-host=127.0.0.1\nrepo1-storage-port=57503\nrepo1-storage-ca-file=%s\n' "$AZURITE_CA_FILE"
    printf 'lock-path=%s\nlog-level-console=warn\n' "$IT_TMP/lock"
    pg1_stanza
} | it_conf "$AZ_CONF" 0600
must as_pg "$BR" --config="$AZ_CONF" --stanza=main stanza-create
as_pg mkdir -p "$IT_TMP/wal"
must install -m 0644 "$IT_TMP/seg.orig" "$IT_TMP/wal/$SEG"
must as_pg "$BR" --config="$AZ_CONF" --stanza=main archive-push "$IT_TMP/wal/$SEG"
get "$AZ_CONF" "$SEG" "$IT_TMP/get/j"
REQUESTS=$(grep "Azure request:" <<<"$OUT")
expect_eq "Azure, present segment: exit 0, 3 requests" "$RC $(requests_az)" "0 3"
expect_contains "Azure: the listing is by the segment's name" "$(sed -n 2p <<<"$REQUESTS")" \
    "List Blobs 'azure://$AZURITE_CONTAINER/azget/archive/main/15-1/${SEG:0:16}/$SEG-'"
expect_eq "Azure, present segment: the bytes are pg_wal's" \
    "$(cmp "$IT_TMP/get/j" "$IT_TMP/seg.orig" >/dev/null 2>&1 && echo same || echo differs)" "same"
get "$AZ_CONF" 0000000100000000000000FE "$IT_TMP/get/k"
REQUESTS=$(grep "Azure request:" <<<"$OUT")
expect_eq "Azure, missing segment: exit 1, 2 requests" "$RC $(requests_az)" "1 2"

pg_stop "$DATA"
