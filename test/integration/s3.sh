#!/usr/bin/env bash
# repo1-type=s3 on a real S3 server: Ceph's radosgw (scripts/test-servers/radosgw.sh, TLS with a
# self-signed certificate verified through repo1-storage-ca-file). stanza-create, check, full,
# diff and incr backups, archive-push from archive_command, archive-get, restores (full, delta)
# started and their rows compared, info, verify, expire; `aws` reads back what backrest wrote and
# the bytes match; faults: a wrong secret, radosgw killed mid-backup and mid-archive-push; no
# secret in any output or in `ps`. pgBackRest 2.45 against the same server once.
# Ports: radosgw 55860 (monitor 55861), clusters 55862-55865. A posix repo1 beside the bucket as
# repo2 (several repositories).
set -u
SUITE=s3
TEST_BACKREST_BIN=${TEST_BACKREST_BIN:-$(dirname "$0")/../../build/backrest}
source "$(dirname "$0")/lib.sh"
it_setup

RGW_SH=$(cd "$(dirname "$0")/../../scripts/test-servers" && pwd)/radosgw.sh
RGW_DIR=$IT_TMP/rgw
trap 'bash "$RGW_SH" stop "$RGW_DIR" >/dev/null 2>&1; it_finish' EXIT
must bash "$RGW_SH" start "$RGW_DIR" 55860
# shellcheck disable=SC1091
. "$RGW_DIR/env"
cp "$S3_CA" "$IT_TMP/ca.pem"
chmod 0644 "$IT_TMP/ca.pem"

# Every command's output is kept here too: the secret must appear in none of it.
ALL_OUT=$IT_TMP/all-output.log
keep() { printf '%s\n' "$OUT" >>"$ALL_OUT"; }

# The independent client: Debian's awscli v2 (not a pyenv shim that may shadow it).
aws_s3() {
    AWS_ACCESS_KEY_ID=$S3_KEY AWS_SECRET_ACCESS_KEY=$S3_SECRET AWS_DEFAULT_REGION=$S3_REGION \
        /usr/bin/aws --endpoint-url "https://127.0.0.1:$S3_PORT" --ca-bundle "$IT_TMP/ca.pem" "$@"
}
keys() { aws_s3 s3 ls --recursive "s3://$S3_BUCKET/$1" 2>/dev/null | awk '{print $4}' | sort; }

s3_conf() {  # file prefix secret [more lines...]
    local file=$1 prefix=$2 secret=$3
    shift 3
    {
        printf '[global]\nrepo1-type=s3\nrepo1-path=%s\nrepo1-s3-bucket=%s\nrepo1-s3-endpoint=%s\n' \
            "$prefix" "$S3_BUCKET" "$S3_ENDPOINT"
        printf 'repo1-storage-port=%s\nrepo1-s3-uri-style=path\nrepo1-s3-region=%s\n' "$S3_PORT" "$S3_REGION"
        printf 'repo1-storage-verify-tls=y\nrepo1-storage-ca-file=%s\n' "$IT_TMP/ca.pem"
        printf 'repo1-s3-key=%s\n' "$S3_KEY"
        [ -n "$secret" ] && printf 'repo1-s3-key-secret=%s\n' "$secret"
        printf 'lock-path=%s\nlog-level-console=warn\nprocess-max=2\n' "$IT_TMP/lock"
        local line
        for line in "$@"; do printf '%s\n' "$line"; done
        pg1_stanza
    } | it_conf "$file" 0600  # holds the secret: readable by postgres only
}

PORT=55862
DATA=$IT_TMP/primary
CONF=$IT_TMP/backrest.conf
s3_conf "$CONF" /repo "$S3_SECRET"
pg_archiving "$DATA" $PORT "$(archive_push_to "$BR" "$CONF" main)"

# ---- A wrong secret: refused before anything is written ----
BAD_SECRET="wrong-$(openssl rand -hex 12)"
s3_conf "$IT_TMP/bad.conf" /repo "$BAD_SECRET"
expect_exit "stanza-create with a wrong secret fails as RepoAuthError" 45 \
    "$BR" --config="$IT_TMP/bad.conf" --stanza=main stanza-create
keep
expect_contains "wrong secret: the error names the repository" "$OUT" "s3://$S3_BUCKET"
expect_contains "wrong secret: the error says the server refused the credentials" "$OUT" "SignatureDoesNotMatch"
expect_eq "wrong secret: the secret is not in the message" "$(grep -c -- "$BAD_SECRET" <<<"$OUT")" "0"
expect_eq "wrong secret: nothing written (aws lists no object)" "$(keys repo/ | wc -l)" "0"

# ---- stanza-create, check, backups ----
expect_exit "stanza-create" 0 "$BR" --config="$CONF" --stanza=main stanza-create
keep
expect_exit "check (archives a segment through archive_command)" 0 "$BR" --config="$CONF" --stanza=main check
keep
must as_pg "$PGBIN/pgbench" -h "$IT_TMP" -p $PORT -U postgres -i -s 5 -q postgres
must psql_at $PORT "CREATE TABLE marker (id int primary key, note text); INSERT INTO marker VALUES (1, 'full')"
SNAPSHOT_SQL="SELECT (SELECT count(*) || ':' || md5(string_agg(aid || ':' || abalance, ',' ORDER BY aid))
  FROM pgbench_accounts) || ' ' || (SELECT count(*) || ':' || md5(string_agg(id || ':' || note, ',' ORDER BY id)) FROM marker)"
snapshot() { psql_at "$1" "$SNAPSHOT_SQL"; }

expect_exit "full backup to S3" 0 "$BR" --config="$CONF" --stanza=main backup --type=full --start-fast
keep
must psql_at $PORT "INSERT INTO marker VALUES (2, 'diff'); UPDATE pgbench_accounts SET abalance = abalance + 1 WHERE aid % 10 = 0"
expect_exit "diff backup to S3" 0 "$BR" --config="$CONF" --stanza=main backup --type=diff --start-fast
keep
must psql_at $PORT "INSERT INTO marker VALUES (3, 'incr'); UPDATE pgbench_accounts SET abalance = abalance + 2 WHERE aid % 7 = 0"
expect_exit "incr backup to S3" 0 "$BR" --config="$CONF" --stanza=main backup --type=incr --start-fast
keep
AT_INCR=$(snapshot $PORT)
expect_exit "info" 0 "$BR" --config="$CONF" --stanza=main info
keep
expect_eq "info lists a full, a diff and an incr" \
    "$(grep -cE '^ *(full|diff|incr) backup:' <<<"$OUT")" "3"
expect_exit "verify the S3 repository" 0 "$BR" --config="$CONF" --stanza=main verify
keep

# ---- aws reads what backrest wrote: the same bytes ----
as_pg mkdir -p "$IT_TMP/aws"
aws_s3 s3 cp "s3://$S3_BUCKET/repo/backup/main/backup.info" "$IT_TMP/aws/backup.info" >/dev/null 2>&1
expect_exit "info --output=json" 0 "$BR" --config="$CONF" --stanza=main info --output=json
LABELS_BR=$(grep -o '"label":"[^"]*"' <<<"$OUT" | sort)
LABELS_AWS=$(grep -o '"label":"[^"]*"' "$IT_TMP/aws/backup.info" 2>/dev/null | sort)
expect_eq "aws fetches backup.info: it lists 3 backups" "$(grep -c label <<<"$LABELS_AWS")" "3"
expect_eq "aws's backup.info names the backups backrest's info names" "$LABELS_AWS" "$LABELS_BR"
# A segment archived just now, while it is still in pg_wal: decompressed, the same bytes.
SEG=$(psql_at $PORT "SELECT pg_walfile_name(pg_current_wal_lsn())")
# Two statements: one -c would be one transaction, its commit written after the switch.
must psql_at $PORT "INSERT INTO marker VALUES (4, 'switch')"
must psql_at $PORT "SELECT pg_switch_wal()"
for _ in $(seq 60); do
    [ "$(psql_at $PORT "SELECT last_archived_wal FROM pg_stat_archiver")" == "$SEG" ] && break
    sleep 0.5
done
STORED_KEY=$(keys repo/archive/main/ | grep "/$SEG-" | head -1)
expect_contains "aws lists the archived segment" "$STORED_KEY" "$SEG-"
aws_s3 s3 cp "s3://$S3_BUCKET/$STORED_KEY" "$IT_TMP/aws/seg.zst" >/dev/null 2>&1
zstd -q -d -f "$IT_TMP/aws/seg.zst" -o "$IT_TMP/aws/seg" 2>/dev/null
expect_eq "archived segment fetched by aws, decompressed, equals pg_wal/$SEG" \
    "$(cmp "$IT_TMP/aws/seg" "$DATA/pg_wal/$SEG" >/dev/null 2>&1 && echo same || echo differs)" "same"
as_pg mkdir -p "$IT_TMP/get"
expect_exit "archive-get of $SEG" 0 "$BR" --config="$CONF" --stanza=main archive-get "$SEG" "$IT_TMP/get/$SEG"
expect_eq "archive-get gives pg_wal/$SEG's bytes" \
    "$(cmp "$IT_TMP/get/$SEG" "$DATA/pg_wal/$SEG" >/dev/null 2>&1 && echo same || echo differs)" "same"
expect_exit "archive-get of a segment never archived" 1 "$BR" --config="$CONF" --stanza=main archive-get \
    0000000100000000000000FE "$IT_TMP/get/x"

# ---- Restores from S3, started and compared ----
AT_END=$(snapshot $PORT)
restore full 0 --type=immediate --target-action=promote --archive-mode=off
keep
REST=$IT_TMP/restore-full
printf 'port = 55863\n' >>"$REST/postgresql.conf"
pg_start "$REST"
wait_promoted 55863
expect_eq "restore full: the incr's rows" "$(snapshot 55863)" "$AT_INCR"
pg_stop "$REST"
restore full 0 --delta --archive-mode=off
keep
# The delta restore put back the backed-up postgresql.conf (the primary's port).
printf 'port = 55863\n' >>"$REST/postgresql.conf"
pg_start "$REST"
wait_promoted 55863
expect_eq "delta restore to the end of the archive: every row" "$(snapshot 55863)" "$AT_END"
pg_stop "$REST"

# ---- radosgw killed mid-backup: a clear error, then the next backup works ----
must as_pg "$PGBIN/pgbench" -h "$IT_TMP" -p $PORT -U postgres -i -s 20 -q postgres
BEFORE=$(br info --output=json | grep -o '"label":"[^"]*"' | wc -l)
# Uncompressed, so that the copy lasts long enough (seconds) to be cut.
as_pg "$BR" --config="$CONF" --stanza=main backup --type=full --start-fast --compress-type=none \
    >"$IT_TMP/killed.out" 2>&1 &
BACKUP_PID=$!
# Copying: pg_backup_start has returned (its query is the backup's connection's last one).
for _ in $(seq 300); do
    [ "$(psql_at $PORT "SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%FROM pg_backup_start(%'
        AND pid <> pg_backend_pid()")" -gt 0 ] && break
    sleep 0.1
done
sleep 1
PS_DURING=$(ps -eo args)
must bash "$RGW_SH" kill-rgw "$RGW_DIR"
wait $BACKUP_PID
RC=$?
OUT=$(cat "$IT_TMP/killed.out")
keep
expect_eq "backup with radosgw killed fails (exit 44 NetworkError)" "$RC" "44"
expect_contains "the error names the S3 object being written" "$OUT" "s3://$S3_BUCKET/repo/"
must bash "$RGW_SH" start-rgw "$RGW_DIR"
expect_eq "the killed backup is not listed as a backup" \
    "$(br info --output=json | grep -o '"label":"[^"]*"' | wc -l)" "$BEFORE"
expect_exit "backup after radosgw is back" 0 "$BR" --config="$CONF" --stanza=main backup --type=full --start-fast
keep
expect_exit "verify after the fault" 0 "$BR" --config="$CONF" --stanza=main verify
keep

# ---- radosgw killed mid-archive-push: archive_command fails, then succeeds ----
must bash "$RGW_SH" stop-rgw "$RGW_DIR"
FAILED_BEFORE=$(psql_at $PORT "SELECT failed_count FROM pg_stat_archiver")
SEG2=$(psql_at $PORT "SELECT pg_walfile_name(pg_current_wal_lsn())")
must psql_at $PORT "INSERT INTO marker VALUES (5, 'while down')"
must psql_at $PORT "SELECT pg_switch_wal()"
for _ in $(seq 60); do
    [ "$(psql_at $PORT "SELECT failed_count FROM pg_stat_archiver")" -gt "$FAILED_BEFORE" ] && break
    sleep 0.5
done
expect_eq "archive_command fails while radosgw is down" \
    "$(psql_at $PORT "SELECT failed_count > $FAILED_BEFORE AND last_failed_wal = '$SEG2' FROM pg_stat_archiver")" "t"
expect_exit "archive-push by hand while radosgw is down: NetworkError" 44 \
    "$BR" --config="$CONF" --stanza=main archive-push "$DATA/pg_wal/$SEG2"
keep
# (Its first request reads an info file: every command learns whether the repository is encrypted.)
expect_contains "archive-push names the S3 object it could not reach" "$OUT" \
    "NetworkError: GET 's3://$S3_BUCKET/repo/"
must bash "$RGW_SH" start-rgw "$RGW_DIR"
for _ in $(seq 120); do
    [ "$(psql_at $PORT "SELECT last_archived_wal FROM pg_stat_archiver")" == "$SEG2" ] && break
    sleep 0.5
done
expect_eq "archive_command succeeds once radosgw is back" \
    "$(psql_at $PORT "SELECT last_archived_wal FROM pg_stat_archiver")" "$SEG2"

# ---- expire ----
FIRST=$(br info --output=json | grep -o '"label":"[0-9]*-[0-9]*F"' | head -1 | cut -d'"' -f4)
expect_exit "expire keeping one full" 0 "$BR" --config="$CONF" --stanza=main --repo1-retention-full=1 expire
keep
expect_eq "expire removed the first full's objects (aws lists none)" \
    "$(keys "repo/backup/main/$FIRST/" | wc -l)" "0"

# ---- No secret anywhere ----
expect_eq "the secret is in no command output" "$(grep -c -- "$S3_SECRET" "$ALL_OUT")" "0"
expect_eq "the secret is in no process's arguments (ps during a backup)" "$(grep -c -- "$S3_SECRET" <<<"$PS_DURING")" "0"
expect_eq "the secret is not in the server log" "$(grep -c -- "$S3_SECRET" "$DATA.log")" "0"
s3_conf "$IT_TMP/nosecret.conf" /repo ""
expect_exit "no secret anywhere: an OptionError naming repo1-s3-key-secret" 21 \
    "$BR" --config="$IT_TMP/nosecret.conf" --stanza=main info
keep
expect_contains "the missing secret's message names the option" "$OUT" "repo1-s3-key-secret"
expect_exit "pgBackRest's spelling PGBACKREST_REPO1_S3_KEY_SECRET is read (issue 20)" 0 \
    env PGBACKREST_REPO1_S3_KEY_SECRET="$S3_SECRET" "$BR" --config="$IT_TMP/nosecret.conf" --stanza=main info
keep
expect_contains "... info through it lists the backups" "$OUT" "full backup:"
expect_exit "the secret from BACKREST_REPO1_S3_KEY_SECRET" 0 \
    env BACKREST_REPO1_S3_KEY_SECRET="$S3_SECRET" "$BR" --config="$IT_TMP/nosecret.conf" --stanza=main info
keep
expect_contains "info through the secret from the environment lists the backups" "$OUT" "full backup:"

# ---- Several repositories: a posix repo1 and this bucket as repo2 (issue 21) ----
# Its own cluster and stanza: every segment in both, a backup in the bucket only, repo1's copy
# of a segment the restore needs damaged: recovery takes the bucket's, the rows are the primary's.
DATA2=$IT_TMP/two
CONF2=$IT_TMP/two.conf
{
    printf '[global]\nrepo1-path=%s\n' "$IT_TMP/repo-two"
    printf 'repo2-type=s3\nrepo2-path=/two\nrepo2-s3-bucket=%s\nrepo2-s3-endpoint=%s\n' "$S3_BUCKET" "$S3_ENDPOINT"
    printf 'repo2-storage-port=%s\nrepo2-s3-uri-style=path\nrepo2-s3-region=%s\n' "$S3_PORT" "$S3_REGION"
    printf 'repo2-storage-ca-file=%s\nrepo2-s3-key=%s\nrepo2-s3-key-secret=%s\n' "$IT_TMP/ca.pem" "$S3_KEY" "$S3_SECRET"
    printf 'lock-path=%s\nlog-level-console=warn\n\n[two]\n' "$IT_TMP/lock"
    printf 'pg1-path=%s\npg1-socket-path=%s\npg1-port=55864\n' "$DATA2" "$IT_TMP"
} | it_conf "$CONF2" 0600
pg_archiving "$DATA2" 55864 "$(archive_push_to "$BR" "$CONF2" two)"
br2() { as_pg "$BR" --config="$CONF2" --stanza=two "$@"; }
expect_exit "two repositories: stanza-create in both" 0 "$BR" --config="$CONF2" --stanza=two stanza-create
keep
expect_eq "two repositories: the bucket has the stanza's info files" \
    "$(keys two/ | grep -cE '^two/(backup/two/backup|archive/two/archive)\.info$')" "2"
must as_pg "$PGBIN/pgbench" -h "$IT_TMP" -p 55864 -U postgres -i -s 2 -q postgres
expect_exit "two repositories: check (a segment archived into both)" 0 "$BR" --config="$CONF2" --stanza=two check
keep
expect_exit "two repositories: backup --repo=2 (the bucket)" 0 "$BR" --config="$CONF2" --stanza=two \
    --repo=2 backup --type=full --start-fast
keep
TWO_LABEL=$(br2 --repo=2 info --output=json | grep -o '"label":"[^"]*"' | head -1 | cut -d'"' -f4)
expect_eq "two repositories: the backup's manifest is in the bucket" \
    "$(keys two/backup/two/ | grep -cx "two/backup/two/$TWO_LABEL/backup.manifest")" "1"
expect_eq "two repositories: repo1 holds no backup" "$(ls "$IT_TMP/repo-two/backup/two" | grep -c '^2')" "0"
must as_pg "$PGBIN/pgbench" -h "$IT_TMP" -p 55864 -U postgres -c 2 -t 200 -n postgres
must psql_at 55864 "CREATE TABLE after_backup AS SELECT g AS id FROM generate_series(1, 5000) g"
TWO_END=$(psql_at 55864 "SELECT (SELECT md5(string_agg(aid || ':' || abalance, ',' ORDER BY aid)) FROM pgbench_accounts) || ' ' || (SELECT count(*) FROM after_backup)")
TWO_SEG=$(psql_at 55864 "SELECT pg_walfile_name(pg_current_wal_lsn())")
must psql_at 55864 "SELECT pg_switch_wal()"
for _ in $(seq 1 60); do
    [ -n "$(find "$IT_TMP/repo-two/archive/two" -name "$TWO_SEG-*")" ] &&
        [ -n "$(keys two/archive/two/ | grep "/$TWO_SEG-")" ] && break
    sleep 1
done
expect_eq "two repositories: the last segment is in repo1 and in the bucket" \
    "$(find "$IT_TMP/repo-two/archive/two" -name "$TWO_SEG-*" | wc -l) $(keys two/archive/two/ | grep -c "/$TWO_SEG-")" "1 1"
# repo1's copy of the last segment damaged: archive-get must not serve it, nor end recovery.
TWO_FILE=$(find "$IT_TMP/repo-two/archive/two" -name "$TWO_SEG-*")
printf 'X' | dd of="$TWO_FILE" bs=1 seek=200 conv=notrunc status=none
REST2=$IT_TMP/restore-two
expect_exit "two repositories: restore without --repo (the bucket's backup)" 0 "$BR" --config="$CONF2" \
    --stanza=two --pg1-path="$REST2" restore
keep
sed -i "s/^port = .*/port = 55865/; s/^archive_mode = .*/archive_mode = off/" "$REST2/postgresql.conf"
printf 'port = 55865\n' >>"$REST2/postgresql.conf"
pg_start "$REST2"
if wait_promoted 55865; then
    expect_eq "two repositories: the restore has the primary's rows at the end of WAL" \
        "$(psql_at 55865 "SELECT (SELECT md5(string_agg(aid || ':' || abalance, ',' ORDER BY aid)) FROM pgbench_accounts) || ' ' || (SELECT count(*) FROM after_backup)")" "$TWO_END"
else
    fail "two repositories: the restore did not finish recovery" "$(tail -20 "$REST2.log" 2>/dev/null)"
fi
expect_contains "two repositories: archive-get named repo1's damaged copy and took the bucket's" \
    "$(cat "$REST2.log" 2>/dev/null)" "archive-get: repo1 ($IT_TMP/repo-two): "
pg_stop "$REST2"
expect_exit "two repositories: verify finds repo1's damaged segment" 28 "$BR" --config="$CONF2" \
    --stanza=two verify
keep
expect_contains "... naming the segment" "$OUT" "$TWO_SEG"
pg_stop "$DATA2"

# ---- pgBackRest 2.45 against the same radosgw ----
if command -v pgbackrest >/dev/null; then
    PGBR_CONF=$IT_TMP/pgbackrest.conf
    it_conf "$PGBR_CONF" 0600 <<EOF
[global]
repo1-type=s3
repo1-path=/pgbackrest
repo1-s3-bucket=$S3_BUCKET
repo1-s3-endpoint=$S3_ENDPOINT
repo1-s3-region=$S3_REGION
repo1-storage-port=$S3_PORT
repo1-s3-uri-style=path
repo1-storage-verify-tls=n
repo1-s3-key=$S3_KEY
repo1-s3-key-secret=$S3_SECRET
lock-path=$IT_TMP/pgbr-lock
log-path=$IT_TMP/pgbr-log
log-level-console=warn
archive-check=n
start-fast=y

[main]
$(pg1_lines)
EOF
    expect_exit "pgBackRest 2.45: stanza-create on radosgw" 0 pgbackrest --config="$PGBR_CONF" --stanza=main stanza-create
    expect_exit "pgBackRest 2.45: full backup on radosgw" 0 pgbackrest --config="$PGBR_CONF" --stanza=main \
        backup --type=full
    expect_eq "pgBackRest's backup.info is in the bucket" "$(keys pgbackrest/backup/main/ | grep -cx pgbackrest/backup/main/backup.info)" "1"
else
    fail "pgBackRest 2.45 is not installed (scripts/install-deps.sh)"
fi

# ---- A bucket over its quota: a clear error, and no backup taken for good ----
# Last: every write to the bucket fails from here on.
RGW_ADMIN=(radosgw-admin -c "$RGW_DIR/ceph.conf" -n client.admin)
COUNT_BEFORE=$(br info --output=json | grep -o '"label":"[^"]*"' | wc -l)
must "${RGW_ADMIN[@]}" quota set --quota-scope=bucket --uid=backrest --max-size=4194304
must "${RGW_ADMIN[@]}" quota enable --quota-scope=bucket --uid=backrest
expect_exit "backup into a bucket over its quota fails as RepoStorageError" 46 \
    "$BR" --config="$CONF" --stanza=main backup --type=full --start-fast
keep
expect_contains "the error says the quota is exceeded" "$OUT" "out of quota (S3 error QuotaExceeded"
expect_eq "over quota: no backup listed" "$(br info --output=json | grep -o '"label":"[^"]*"' | wc -l)" "$COUNT_BEFORE"
expect_eq "over quota: the secret is in no output" "$(grep -c -- "$S3_SECRET" "$ALL_OUT")" "0"
